//! Raw command-line flags (clap derive) and the checks that turn them into configuration.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use super::Exit;
use crate::input::{FieldPath, Format, ReadOptions};
use crate::lexicon::Lexicon;
use crate::scan::{Label, ScanConfig, Scanner};

/// Scan LLM pretraining corpora for rogue-AI / AI-villain narratives.
#[derive(Parser, Debug)]
#[command(name = "tropescan", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Score every document of the inputs; JSON lines on stdout, or dolma attributes with -o.
    Scan(ScanArgs),
    /// Show documents with their matched spans highlighted and how each feature moved the score.
    Explain(super::explain::ExplainArgs),
    /// Inspect and validate lexicons: test, stats, check, terms.
    Lexicon(super::lexicon::LexiconArgs),
    /// Act on verdicts: split into kept/removed, write sampling weights, or tag documents.
    Filter(super::filter::FilterArgs),
    /// Weights that bring rogue-AI text to a target ratio against benevolent-AI text.
    Balance(super::balance::BalanceArgs),
    /// Prevalence with intervals, breakdowns and charts from `scan -o` runs (JSON, Markdown, HTML).
    Report(super::report::ReportArgs),
}

/// Where documents come from and how to read them.
#[derive(Args, Debug, Clone)]
pub(crate) struct InputArgs {
    /// Files or directories (recursed in sorted order); `-` reads standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Force the format instead of detecting it: jsonl, warc, wet, wat, csv, tsv, parquet, text.
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub format: Option<Format>,
    /// The text field (JSONL: a dotted path such as `content` or `doc.text`; CSV/Parquet: a column).
    #[arg(long, default_value = "text", value_name = "FIELD")]
    pub text_field: String,
    /// The id field; documents without one get `<shard path>:<line>`.
    #[arg(long, default_value = "id", value_name = "FIELD")]
    pub id_field: String,
    /// The URL field [default: `url`, then `metadata.url`].
    #[arg(long, value_name = "FIELD")]
    pub url_field: Option<String>,
    /// Skip (and count) documents larger than this many bytes.
    #[arg(long, default_value_t = crate::input::DEFAULT_MAX_DOC_BYTES, value_name = "BYTES")]
    pub max_doc_bytes: usize,
}

impl InputArgs {
    pub(crate) fn read_options(&self) -> Result<ReadOptions> {
        if self.max_doc_bytes == 0 {
            bail!("--max-doc-bytes must be at least 1");
        }
        Ok(ReadOptions {
            format: self.format,
            text_field: FieldPath::new(&self.text_field),
            id_field: FieldPath::new(&self.id_field),
            url_field: self.url_field.as_deref().map(FieldPath::new),
            max_doc_bytes: self.max_doc_bytes,
            ..ReadOptions::default()
        })
    }
}

fn parse_format(s: &str) -> std::result::Result<Format, String> {
    Format::from_name(s).ok_or_else(|| {
        format!("unknown format {s:?}; expected jsonl, warc, wet, wat, csv, tsv, parquet or text")
    })
}

/// Which lexicon and how to flag.
#[derive(Args, Debug, Clone)]
pub(crate) struct ScoringArgs {
    /// Use this lexicon file instead of the embedded default (repeatable).
    #[arg(long, value_name = "FILE")]
    pub lexicon: Vec<PathBuf>,
    /// Add this lexicon file to the lexicon in use (repeatable).
    #[arg(long, value_name = "FILE")]
    pub add_lexicon: Vec<PathBuf>,
    /// Flag documents scoring at least this [default: the lexicon's threshold].
    #[arg(long, value_name = "SCORE")]
    pub threshold: Option<f64>,
    /// Labels that can be flagged, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "rogue_ai_fiction,rogue_ai_discourse",
        value_name = "LABELS"
    )]
    pub flag_labels: Vec<String>,
}

impl ScoringArgs {
    pub(crate) fn lexicon(&self) -> Result<Lexicon> {
        Lexicon::load(&self.lexicon, &self.add_lexicon).context("cannot load the lexicon")
    }

    pub(crate) fn scanner(&self, lexicon: &Lexicon) -> Result<Scanner> {
        if let Some(t) = self.threshold {
            if !(0.0..=1.0).contains(&t) {
                bail!("--threshold must be between 0 and 1, got {t}");
            }
        }
        Ok(Scanner::new(
            lexicon,
            ScanConfig {
                threshold: self.threshold,
                flag_labels: self.labels()?,
            },
        )?)
    }

    /// The checked `--flag-labels`.
    pub(crate) fn labels(&self) -> Result<Vec<Label>> {
        Label::parse_list(&self.flag_labels).context("bad --flag-labels")
    }
}

/// `tropescan scan`.
#[derive(Args, Debug)]
pub(crate) struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub scoring: ScoringArgs,
    /// Write dolma attribute files and summary.json under DIR instead of JSON lines on stdout.
    #[arg(short = 'o', long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// With -o: skip shards whose outputs an earlier run with the same options completed.
    #[arg(long, requires = "output")]
    pub resume: bool,
    /// Print only flagged documents.
    #[arg(long)]
    pub flagged_only: bool,
    /// Add the matched spans (byte and code-point offsets) to each line.
    #[arg(long)]
    pub evidence: bool,
    /// Threads [default: all cores].
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress bar and no summary on stderr (errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,
    /// Exit with status 3 when any document is flagged (for CI-style gates).
    #[arg(long)]
    pub fail_on_flagged: bool,
}

/// `-j N`, or every core the process may use.
pub(crate) fn thread_count(requested: Option<usize>) -> usize {
    requested
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

pub(crate) fn dispatch(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Scan(args) => super::scan::run(args),
        Command::Explain(args) => super::explain::run(args),
        Command::Lexicon(args) => super::lexicon::run(args),
        Command::Filter(args) => super::filter::run(args),
        Command::Balance(args) => super::balance::run(args),
        Command::Report(args) => super::report::run(args),
    }
}
