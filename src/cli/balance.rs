//! `tropescan balance`: from the per-document records of earlier `scan -o` runs, measure
//! rogue-AI text against benevolent-AI text and write per-document sampling weights that bring
//! their ratio to a target within caps, with the plan printed as a table.
//!
//! Rogue text: documents the scan flagged whose label is `rogue_ai_fiction` or
//! `rogue_ai_discourse`. Benevolent text: documents labelled `benevolent_ai`.

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Serialize;

use super::drive;
use super::Exit;
use crate::act::balance::{plan, BalanceGoal, BalancePlan};
use crate::act::jsonl_name;
use crate::input::discover::format_from_name;
use crate::input::{codec, Compression, Format};
use crate::output::atomic::write_atomically;
use crate::output::{safe_output_path, AtomicFile, DocumentRecord};
use crate::scan::Label;

/// `tropescan balance`.
#[derive(Args, Debug)]
pub(crate) struct BalanceArgs {
    /// Output folders of `tropescan scan -o` (their documents/ records are read).
    #[arg(required = true, value_name = "SCAN_DIR")]
    scan_dirs: Vec<PathBuf>,
    /// Wanted rogue : benevolent ratio of words (and so of tokens), e.g. 1 or 0.5.
    #[arg(long, value_name = "R")]
    target_ratio: f64,
    /// Tokens per word, for the token estimates.
    #[arg(long, default_value_t = 1.3, value_name = "T")]
    tokens_per_word: f64,
    /// Highest sampling weight of a benevolent document (its text seen at most this often).
    #[arg(long, default_value_t = 4.0, value_name = "X")]
    max_upsample: f64,
    /// Lowest sampling weight of a rogue document.
    #[arg(long, default_value_t = 0.1, value_name = "W")]
    min_weight: f64,
    /// Output folder: weights/<shard> and plan.json.
    #[arg(short = 'o', long, value_name = "OUT")]
    output: PathBuf,
    /// No progress bar and no plan on stdout (errors are still printed).
    #[arg(short, long)]
    quiet: bool,
}

/// What balancing does to a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Rogue,
    Benevolent,
    Other,
}

fn side(r: &DocumentRecord<'_>) -> Side {
    match Label::from_name(&r.label) {
        Some(l) if l.is_rogue() && r.flagged => Side::Rogue,
        Some(Label::BenevolentAi) => Side::Benevolent,
        _ => Side::Other,
    }
}

/// One records file.
struct RecordsFile {
    path: PathBuf,
    /// Its path under documents/, which is the shard's path under its input root.
    rel: PathBuf,
}

#[derive(Default, Serialize)]
struct Sides {
    rogue_documents: u64,
    benevolent_documents: u64,
    other_documents: u64,
    other_words: u64,
}

#[derive(Serialize)]
struct PlanFile<'a> {
    scan_dirs: Vec<String>,
    tokens_per_word: f64,
    max_upsample: f64,
    min_weight: f64,
    #[serde(flatten)]
    plan: &'a BalancePlan,
    #[serde(flatten)]
    sides: &'a Sides,
    missing_benevolent_tokens: f64,
    weights_files: Vec<String>,
    errors: Vec<String>,
}

pub(crate) fn run(args: BalanceArgs) -> Result<Exit> {
    let goal = BalanceGoal {
        target_ratio: args.target_ratio,
        max_upsample: args.max_upsample,
        min_weight: args.min_weight,
    }
    .check()?;
    if !(args.tokens_per_word.is_finite() && args.tokens_per_word > 0.0) {
        bail!(
            "--tokens-per-word must be above 0, got {}",
            args.tokens_per_word
        );
    }
    let files = records_files(&args.scan_dirs)?;
    let total_bytes = files
        .iter()
        .map(|f| fs::metadata(&f.path).map_or(0, |m| m.len()))
        .sum();
    let mut errors: Vec<String> = Vec::new();

    // Pass 1: words on each side.
    let (mut rogue, mut benevolent) = (0u64, 0u64);
    let mut sides = Sides::default();
    for f in &files {
        read_records(f, &mut errors, |r| match side(r) {
            Side::Rogue => {
                rogue += r.words;
                sides.rogue_documents += 1;
            }
            Side::Benevolent => {
                benevolent += r.words;
                sides.benevolent_documents += 1;
            }
            Side::Other => {
                sides.other_documents += 1;
                sides.other_words += r.words;
            }
        })?;
    }
    for e in &errors {
        eprintln!("tropescan: {e}");
    }
    let plan = plan(rogue, benevolent, goal);

    // Pass 2: one weight per record, in record order.
    drive::prepare_output_dir(&args.output)?;
    let bar = drive::progress_bar(args.quiet, total_bytes);
    let mut seen = HashSet::new();
    let mut weights_files = Vec::new();
    let mut pass_errors = Vec::new();
    for f in &files {
        let compression = Compression::detect(&read_head(&f.path)?);
        let compression = drive::output_compression(compression);
        let name = if format_from_name(&f.rel.to_string_lossy()) == Some(Format::Jsonl) {
            f.rel.clone()
        } else {
            jsonl_name(&f.rel, compression)
        };
        let dest = safe_output_path(&args.output, "weights", &name)?;
        if !seen.insert(dest.clone()) {
            bail!(
                "two scan folders hold records for {}: balance them into separate output folders",
                f.rel.display()
            );
        }
        let mut out = AtomicFile::create(&dest, compression)
            .with_context(|| format!("cannot create {}", dest.display()))?;
        let mut write_failure = None;
        read_records(f, &mut pass_errors, |r| {
            let w = match side(r) {
                Side::Rogue => plan.rogue_weight,
                Side::Benevolent => plan.benevolent_weight,
                Side::Other => 1.0,
            };
            let mut line =
                serde_json::to_vec(&serde_json::json!({"id": r.id, "weight": round6(w)}))
                    .unwrap_or_default();
            line.push(b'\n');
            if let Err(e) = out.write_all(&line) {
                write_failure.get_or_insert(e);
            }
        })?;
        if let Some(e) = write_failure {
            return Err(anyhow::Error::new(e).context(format!("cannot write {}", dest.display())));
        }
        out.commit()
            .with_context(|| format!("cannot write {}", dest.display()))?;
        weights_files.push(
            dest.strip_prefix(&args.output)
                .unwrap_or(&dest)
                .display()
                .to_string(),
        );
        if let Some(bar) = &bar {
            bar.inc(fs::metadata(&f.path).map_or(0, |m| m.len()));
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }

    let missing_tokens = plan.missing_benevolent_words * args.tokens_per_word;
    let plan_file = PlanFile {
        scan_dirs: args
            .scan_dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect(),
        tokens_per_word: args.tokens_per_word,
        max_upsample: args.max_upsample,
        min_weight: args.min_weight,
        plan: &plan,
        sides: &sides,
        missing_benevolent_tokens: missing_tokens,
        weights_files,
        errors: errors.clone(),
    };
    let mut bytes = serde_json::to_vec_pretty(&plan_file).context("cannot encode the plan")?;
    bytes.push(b'\n');
    let plan_path = args.output.join("plan.json");
    write_atomically(&plan_path, &bytes)
        .with_context(|| format!("cannot write {}", plan_path.display()))?;
    if !args.quiet {
        print!("{}", plan_table(&plan, &sides, &args));
    }
    Ok(if errors.is_empty() {
        Exit::Clean
    } else {
        Exit::InputErrors
    })
}

/// Weights keep 6 decimals: enough for any cap a team sets, and stable text.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Every records file under each SCAN_DIR/documents, sorted.
fn records_files(scan_dirs: &[PathBuf]) -> Result<Vec<RecordsFile>> {
    let mut files = Vec::new();
    for dir in scan_dirs {
        let root = dir.join("documents");
        if !root.is_dir() {
            bail!(
                "{} has no documents/ folder: balance reads the per-document records of `tropescan scan -o` (scan the corpus again with this version)",
                dir.display()
            );
        }
        let mut stack = vec![root.clone()];
        let mut found = Vec::new();
        while let Some(d) = stack.pop() {
            let entries =
                fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))?;
            for e in entries {
                let path = e
                    .with_context(|| format!("cannot read {}", d.display()))?
                    .path();
                if path.is_dir() {
                    stack.push(path);
                } else if !path.to_string_lossy().contains(".tropescan-tmp-") {
                    found.push(path);
                }
            }
        }
        found.sort();
        for path in found {
            let rel = path.strip_prefix(&root).unwrap_or(&path).to_path_buf();
            files.push(RecordsFile { path, rel });
        }
    }
    if files.is_empty() {
        bail!("no document records found under the scan folders");
    }
    Ok(files)
}

fn read_head(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::with_capacity(8);
    fs::File::open(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .take(8)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(head)
}

/// Reads the records of one file in order; a line that is not a record is skipped and said
/// (file and line) in `errors`.
fn read_records(
    f: &RecordsFile,
    errors: &mut Vec<String>,
    mut each: impl FnMut(&DocumentRecord<'_>),
) -> Result<()> {
    let file =
        fs::File::open(&f.path).with_context(|| format!("cannot read {}", f.path.display()))?;
    let compression = Compression::detect(&read_head(&f.path)?);
    let reader = codec::decoder(compression, BufReader::new(file)).map_err(|_| {
        anyhow::anyhow!(
            "{}: cannot decompress ({})",
            f.path.display(),
            compression.name()
        )
    })?;
    let mut lines = BufReader::new(reader);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        match lines.read_until(b'\n', &mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) => {
                errors.push(format!(
                    "{}:{}: cannot read: {e}",
                    f.path.display(),
                    line_no + 1
                ));
                return Ok(());
            }
        }
        line_no += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<DocumentRecord<'_>>(&buf) {
            Ok(r) => each(&r),
            Err(e) => errors.push(format!(
                "{}:{line_no}: not a document record (no weight written): {e}",
                f.path.display()
            )),
        }
    }
}

fn ratio_text(r: Option<f64>) -> String {
    match r {
        Some(r) => format!("{r:.2} : 1"),
        None => "no benevolent text".to_string(),
    }
}

/// The plan as a table a team can read.
fn plan_table(p: &BalancePlan, sides: &Sides, args: &BalanceArgs) -> String {
    let tpw = args.tokens_per_word;
    let tokens = |w: f64| format!("{:.0}", w * tpw);
    let mut t = String::new();
    let row = |t: &mut String, k: &str, v: String| t.push_str(&format!("{k:<37}{v}\n"));
    t.push_str(&format!(
        "{:<37}{:>11}{:>14}{:>16}\n",
        "", "documents", "words", "tokens (est.)"
    ));
    for (name, docs, words) in [
        (
            "rogue (flagged rogue_ai_*)",
            sides.rogue_documents,
            p.rogue_words,
        ),
        (
            "benevolent_ai",
            sides.benevolent_documents,
            p.benevolent_words,
        ),
        ("other", sides.other_documents, sides.other_words),
    ] {
        t.push_str(&format!(
            "{name:<37}{docs:>11}{words:>14}{:>16}\n",
            tokens(words as f64)
        ));
    }
    row(
        &mut t,
        "current ratio (rogue : benevolent)",
        ratio_text(p.current_ratio),
    );
    row(&mut t, "target ratio", ratio_text(Some(p.target_ratio)));
    let bound = |w: f64, cap: f64, name: &str| {
        if (w - cap).abs() < 1e-12 && (w - 1.0).abs() > 1e-12 {
            format!("{w:.4} (at {name})")
        } else {
            format!("{w:.4}")
        }
    };
    row(
        &mut t,
        "weight of rogue documents",
        bound(p.rogue_weight, args.min_weight, "--min-weight"),
    );
    row(
        &mut t,
        "weight of benevolent documents",
        bound(p.benevolent_weight, args.max_upsample, "--max-upsample"),
    );
    row(&mut t, "achieved ratio", ratio_text(p.achieved_ratio));
    row(
        &mut t,
        "benevolent tokens still missing",
        format!(
            "{} ({:.0} words, to add at weight 1)",
            tokens(p.missing_benevolent_words),
            p.missing_benevolent_words
        ),
    );
    t
}
