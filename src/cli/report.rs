//! `tropescan report`: read one or more `scan -o` runs, merge their counts, and write
//! report.json, report.md, report.html (and sample.jsonl with `--sample`) under OUT.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use rayon::prelude::*;

use super::Exit;
use crate::input::{read_shard, FieldPath, Format, ReadOptions, Shard};
use crate::output::atomic::write_atomically;
use crate::report::aggregate::{Aggregate, AggregateOptions};
use crate::report::labels::{self, LabelIndex, LabelMatches};
use crate::report::model::{InputCounts, RunConfig};
use crate::report::read::{count_shard, open_run, ReportError, ScanRun, ShardInput};
use crate::report::{html, markdown, sample, Report, ReportOptions};

/// `tropescan report`.
#[derive(Args, Debug)]
pub(crate) struct ReportArgs {
    /// Output folders of `tropescan scan -o` (runs made with the same lexicon and options).
    #[arg(required = true, value_name = "SCAN_DIR")]
    pub runs: Vec<PathBuf>,
    /// Write report.json, report.md, report.html (and sample.jsonl) under OUT.
    #[arg(short = 'o', long, value_name = "OUT")]
    pub output: PathBuf,
    /// Draw N flagged and N unflagged documents at random into OUT/sample.jsonl for hand labels.
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// Seed of the sample and of the example snippets.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub seed: u64,
    /// Hand labels (sample.jsonl with human_label filled in, or TSV id<TAB>label): report
    /// precision and recall.
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Least documents a domain needs to be ranked by flagged share.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub min_domain_docs: u64,
    /// Rows in the top-domain and top-term lists.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub top: usize,
    /// Flagged example snippets shown in the report.
    #[arg(long, default_value_t = 24, value_name = "N")]
    pub examples: usize,
    /// Threads [default: all cores].
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
    /// No summary line on stderr (errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,
}

fn run_config(run: &ScanRun) -> RunConfig {
    let s = &run.summary;
    RunConfig {
        tropescan_version: s.tropescan_version.clone(),
        lexicon: s.lexicon.clone(),
        threshold: s.threshold,
        flag_labels: s.flag_labels.clone(),
    }
}

/// The read options a run was made with, from its summary (to read sampled texts again).
fn read_options(run: &ScanRun) -> ReadOptions {
    let o = &run.summary.options;
    let text = |k: &str| o.get(k).and_then(|v| v.as_str()).map(FieldPath::new);
    let mut opts = ReadOptions {
        format: o
            .get("format")
            .and_then(|v| v.as_str())
            .and_then(Format::from_name),
        url_field: text("url_field"),
        ..ReadOptions::default()
    };
    if let Some(f) = text("text_field") {
        opts.text_field = f;
    }
    if let Some(f) = text("id_field") {
        opts.id_field = f;
    }
    if let Some(n) = o.get("max_doc_bytes").and_then(|v| v.as_u64()) {
        opts.max_doc_bytes = n as usize;
    }
    opts
}

pub(crate) fn run(args: ReportArgs) -> Result<Exit> {
    let mut problems = 0u64;
    let mut runs = Vec::new();
    for dir in &args.runs {
        match open_run(dir) {
            Ok(r) => runs.push(r),
            Err(e) => {
                eprintln!("tropescan: {e}");
                problems += 1;
            }
        }
    }
    let Some(first) = runs.first() else {
        eprintln!("tropescan: no scan run could be read");
        return Ok(Exit::Usage);
    };
    let config = run_config(first);
    for r in &runs[1..] {
        if run_config(r) != config {
            bail!(
                "{} and {} were made with different versions, lexicons, thresholds or flag labels; their counts cannot be merged",
                first.dir.display(),
                r.dir.display()
            );
        }
    }

    let label_file = match &args.labels {
        Some(path) => {
            let text = fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let parsed =
                labels::parse_label_file(&path.display().to_string(), &text, &config.flag_labels);
            for e in &parsed.errors {
                eprintln!("tropescan: {e}");
            }
            problems += parsed.errors.len() as u64;
            Some(parsed)
        }
        None => None,
    };
    let unlabelled = label_file.as_ref().map_or(0, |f| f.unlabelled);
    let label_index = label_file.map(|f| LabelIndex::new(f.labels));

    let mut shards: Vec<(usize, ShardInput)> = Vec::new();
    let mut inputs = InputCounts::default();
    for (i, r) in runs.iter().enumerate() {
        let t = &r.summary.totals;
        inputs.shards += t.shards;
        inputs.skipped += t.skipped;
        inputs.broken += t.broken;
        inputs.input_errors += t.errors;
        match r.shards() {
            Ok(list) => shards.extend(list.into_iter().map(|s| (i, s))),
            Err(e) => {
                eprintln!("tropescan: {e}");
                problems += 1;
            }
        }
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (run, s) in &shards {
        if let Some(other) = seen.insert(&s.source, *run) {
            if other != *run {
                eprintln!(
                    "tropescan: warning: {} is in {} and {}: its documents are counted twice",
                    s.source,
                    runs[other].dir.display(),
                    runs[*run].dir.display()
                );
            }
        }
    }

    let options = AggregateOptions {
        seed: args.seed,
        sample: args.sample.unwrap_or(0),
        examples: args.examples,
    };
    let threads = super::args::thread_count(args.threads);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start threads")?;
    // Merging is order-free, so the pool may combine shards in any grouping; only the error
    // messages are put back in shard order.
    type Partial = (Aggregate, LabelMatches, Vec<(usize, ReportError)>);
    let empty = || -> Partial {
        (
            Aggregate::new(options.clone()),
            LabelMatches::new(),
            Vec::new(),
        )
    };
    let (aggregate, matches, mut errors) = pool.install(|| {
        shards
            .par_iter()
            .enumerate()
            .map(|(i, (_, shard))| {
                let r = count_shard(shard, &options, label_index.as_ref());
                let errors = r.errors.into_iter().map(|e| (i, e)).collect();
                (r.aggregate, r.matches, errors)
            })
            .reduce(empty, |mut a: Partial, b: Partial| {
                a.0.merge(&b.0);
                labels::merge_matches(&mut a.1, &b.1);
                a.2.extend(b.2);
                a
            })
    });
    errors.sort_by_key(|(i, _)| *i);
    for (_, e) in &errors {
        eprintln!("tropescan: {e}");
    }
    inputs.report_errors = errors.len() as u64;
    problems += errors.len() as u64;

    let label_evaluation = label_index.as_ref().map(|idx| {
        let flagged = aggregate.total.flagged.documents;
        labels::evaluate(
            idx,
            &matches,
            unlabelled,
            flagged,
            aggregate.total.all.documents - flagged,
        )
    });
    let report_options = ReportOptions {
        top: args.top,
        min_domain_docs: args.min_domain_docs,
        sample: args.sample.map(|n| (n, args.seed)),
    };
    let report = Report::build(
        &aggregate,
        config,
        inputs,
        &report_options,
        label_evaluation,
    );

    let out = &args.output;
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut json = serde_json::to_vec_pretty(&report).context("cannot encode the report")?;
    json.push(b'\n');
    write(out, "report.json", &json)?;
    write(out, "report.md", markdown::render(&report).as_bytes())?;
    write(out, "report.html", html::render(&report).as_bytes())?;
    if args.sample.is_some() {
        let source_options: BTreeMap<&str, ReadOptions> = shards
            .iter()
            .map(|(run, s)| (s.source.as_str(), read_options(&runs[*run])))
            .collect();
        let (texts, missing) = sample_texts(&aggregate, &source_options);
        problems += missing;
        write(
            out,
            "sample.jsonl",
            &sample::sample_lines(&aggregate, &texts),
        )?;
    }

    if !args.quiet {
        eprintln!(
            "tropescan: report of {} in {} from {}: {} flagged ({}); written to {}",
            super::plural(report.documents, "document", "documents"),
            super::plural(report.shards.len() as u64, "shard", "shards"),
            super::plural(runs.len() as u64, "run", "runs"),
            report.flagged.documents.count,
            crate::report::interval_text(&report.flagged.documents),
            out.display()
        );
    }
    Ok(if problems > 0 {
        Exit::InputErrors
    } else {
        Exit::Clean
    })
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(name);
    write_atomically(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Reads the sampled documents' texts again from their shards. Returns the texts by (shard,
/// index) and how many shards could not give them (each reported on stderr).
fn sample_texts(
    agg: &Aggregate,
    options: &BTreeMap<&str, ReadOptions>,
) -> (HashMap<(String, u64), String>, u64) {
    let mut texts = HashMap::new();
    let mut missing = 0;
    let ids: HashMap<(&str, u64), &str> = sample::sampled(agg)
        .into_iter()
        .map(|s| ((s.source.as_str(), s.index), &*s.record.id))
        .collect();
    for (source, wanted) in sample::wanted(agg) {
        let path = Path::new(&source);
        if source == crate::input::STDIN_NAME || !path.is_file() {
            eprintln!("tropescan: {source}: cannot read the shard again: sampled documents from it have no text");
            missing += 1;
            continue;
        }
        let opts = options.get(source.as_str()).cloned().unwrap_or_default();
        let mut index = 0u64;
        let mut changed = false;
        read_shard(&Shard::from_path(path), &opts, None, |doc| {
            if wanted.contains(&index) {
                if ids.get(&(source.as_str(), index)) == Some(&&*doc.id) {
                    texts.insert((source.clone(), index), doc.text.to_string());
                } else {
                    changed = true;
                }
            }
            index += 1;
        });
        // Documents the scan could not read were never records, so indices agree even for a
        // shard with errors; a different id means the file changed since.
        if changed {
            eprintln!("tropescan: {source}: the shard differs from the scanned one: some sampled documents have no text");
            missing += 1;
        }
    }
    (texts, missing)
}
