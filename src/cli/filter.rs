//! `tropescan filter`: act on verdicts shard by shard — split documents into kept/ and removed/,
//! write per-document sampling weights (`--mode downweight`), or tag documents in place
//! (`--mode tag`) — scoring on the fly or reusing an earlier `scan -o` (`--from`).
//!
//! JSONL shards are copied line by line from their raw bytes, so kept + removed (+ unparsed)
//! is the input, byte for byte; other formats become JSONL documents `{id, url, text}`.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Instant, SystemTime};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

use super::args::{InputArgs, ScoringArgs};
use super::drive::{self, DoneMarker, Halt, Parsed, ShardSink};
use super::Exit;
use crate::act::tag::{tag_line, Tag};
use crate::act::weight::{WeightCurve, WeightedShare, Weighting};
use crate::act::{jsonl_name, parse_attribute_line, write_document_json};
use crate::input::codec;
use crate::input::{
    Batch, Compression, ErrorKind, Format, InputError, ReadOptions, Shard, ShardStats,
};
use crate::output::record::round5;
use crate::output::summary::{count_words, LexiconInfo, Summary};
use crate::output::{safe_output_path, AtomicFile, DocCounts};
use crate::scan::{Label, Scanner};

/// What `filter` does with each document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    /// Split documents into DIR/kept/ and DIR/removed/.
    Remove,
    /// Write DIR/weights/: one `{"id", "weight"}` per document.
    Downweight,
    /// Write DIR/tagged/: every document with `metadata.tropescan` added.
    Tag,
}

/// `tropescan filter`.
#[derive(Args, Debug)]
pub(crate) struct FilterArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    scoring: ScoringArgs,
    /// Output folder.
    #[arg(short = 'o', long, value_name = "DIR")]
    output: PathBuf,
    /// Reuse the verdicts of an earlier `scan -o SCAN_DIR` of the same inputs instead of scoring
    /// (lexicon options are then unused; the threshold defaults to the scan's).
    #[arg(long, value_name = "SCAN_DIR")]
    from: Option<PathBuf>,
    /// remove: kept/ and removed/; downweight: weights/; tag: tagged/.
    #[arg(long, value_enum, default_value = "remove")]
    mode: Mode,
    /// remove: keep the flagged documents and remove the rest (extract a trope corpus).
    #[arg(long)]
    keep_flagged: bool,
    /// downweight: how the weight falls with the score: linear, step or exp.
    #[arg(long, default_value = "linear", value_name = "CURVE", value_parser = WeightCurve::from_str)]
    weight_curve: WeightCurve,
    /// downweight: the lowest weight (score 1, or flagged with `step`).
    #[arg(long, default_value_t = 0.1, value_name = "W")]
    weight_floor: f64,
    /// downweight: the highest weight (score 0, unflagged with `step`, labels that are never flagged).
    #[arg(long, default_value_t = 1.0, value_name = "W")]
    weight_ceiling: f64,
    /// tag: put TOKEN at the start of the text of flagged documents (conditional pretraining).
    #[arg(long, value_name = "TOKEN")]
    control_token: Option<String>,
    /// Skip shards whose outputs an earlier run with the same options completed.
    #[arg(long)]
    resume: bool,
    /// Threads [default: all cores].
    #[arg(short = 'j', long, value_name = "N")]
    threads: Option<usize>,
    /// No progress bar and no summary on stderr (errors are still printed).
    #[arg(short, long)]
    quiet: bool,
}

/// What a document is judged by.
#[derive(Clone, Copy, Debug)]
struct Judgement {
    score: f64,
    label: Label,
    flagged: bool,
}

/// One line of output-to-be: its end in the batch's bytes, and its document if it is one.
struct Line {
    end: usize,
    doc: Option<DocLine>,
}

struct DocLine {
    id: String,
    /// 1-based line in the shard (0 for formats without lines).
    line: u64,
    words: u64,
    text_bytes: u64,
    /// The line's length without its terminator.
    content_len: usize,
    /// The verdict when scoring on the fly.
    judged: Option<Judgement>,
}

/// One batch, as whole JSONL lines: the input's own bytes for JSONL, converted documents
/// otherwise.
struct FilterBatch {
    bytes: Vec<u8>,
    lines: Vec<Line>,
}

/// Per-shard (and total) counts, also carried in the `--resume` marker.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Tally {
    documents: u64,
    words: u64,
    kept: u64,
    kept_words: u64,
    removed: u64,
    removed_words: u64,
    /// Lines that are not documents (blank, invalid JSON, no text, oversized): copied to
    /// unparsed/ (remove), unchanged in place (tag), or without a weight (downweight).
    unparsed_lines: u64,
    tagged: u64,
    tagged_flagged: u64,
    /// Documents that could not be tagged (metadata not an object): written unchanged.
    untagged: u64,
    share: WeightedShare,
    /// The files written, relative to the output folder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    outputs: Vec<String>,
}

impl Tally {
    fn merge(&mut self, o: &Tally) {
        self.documents += o.documents;
        self.words += o.words;
        self.kept += o.kept;
        self.kept_words += o.kept_words;
        self.removed += o.removed;
        self.removed_words += o.removed_words;
        self.unparsed_lines += o.unparsed_lines;
        self.tagged += o.tagged;
        self.tagged_flagged += o.tagged_flagged;
        self.untagged += o.untagged;
        self.share.merge(&o.share);
    }
}

/// The filter part of summary.json.
#[derive(Serialize)]
struct FilterReport {
    mode: Mode,
    from: Option<String>,
    keep_flagged: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    control_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weighting: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flagged_share_before: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flagged_share_after: Option<f64>,
    totals: Tally,
    shards: BTreeMap<String, Tally>,
}

#[derive(Serialize)]
struct FilterSummary {
    #[serde(flatten)]
    run: Summary,
    filter: FilterReport,
}

/// How documents are judged: on the fly, or from an earlier scan's attribute files.
enum Source {
    Scanner(Scanner),
    Recorded {
        dir: PathBuf,
        /// The scan used the same threshold and flag labels: take its `flagged` as written
        /// (exact), instead of recomputing it from the score rounded to 5 decimals.
        same_rule: bool,
    },
}

pub(crate) fn run(args: FilterArgs) -> Result<Exit> {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let read_opts = args.input.read_options()?;
    check_mode_flags(&args)?;
    let weighting = Weighting::new(args.weight_curve, args.weight_floor, args.weight_ceiling)
        .context("bad --weight-floor/--weight-ceiling")?;
    let flag_labels = args.scoring.labels()?;

    let (source, threshold, lexicon_info) = match &args.from {
        None => {
            let lexicon = args.scoring.lexicon()?;
            let scanner = args.scoring.scanner(&lexicon)?;
            let info = LexiconInfo {
                name: lexicon.name().to_string(),
                hash: lexicon.content_hash().to_string(),
            };
            let t = scanner.threshold();
            (Source::Scanner(scanner), t, info)
        }
        Some(dir) => {
            let summary = read_scan_summary(dir)?;
            let threshold = args.scoring.threshold.unwrap_or(summary.threshold);
            if !(0.0..=1.0).contains(&threshold) {
                bail!("--threshold must be between 0 and 1, got {threshold}");
            }
            // The rogue labels themselves depend on the threshold (a document under it is
            // labelled benevolent or neutral): a scan cannot say what a lower one would flag.
            if threshold < summary.threshold {
                bail!(
                    "--threshold {threshold} is below the threshold of the scan in {} ({}): documents under that were not given a rogue label, so --from cannot flag them; scan again with --threshold {threshold}, or filter without --from",
                    dir.display(),
                    summary.threshold
                );
            }
            let theirs: HashSet<&str> = summary.flag_labels.iter().map(|s| s.trim()).collect();
            let ours: HashSet<&str> = flag_labels.iter().map(|l| l.name()).collect();
            let same_rule = threshold == summary.threshold && theirs == ours;
            let source = Source::Recorded {
                dir: dir.clone(),
                same_rule,
            };
            (source, threshold, summary.lexicon)
        }
    };

    let threads = super::args::thread_count(args.threads);
    let Some((shards, discovery_errors)) = drive::discover_shards(&args.input.inputs)? else {
        return Ok(Exit::Usage);
    };
    let dir = args.output.clone();
    drive::prepare_output_dir(&dir)?;
    // Checks every shard's place under the output folder up front (escapes, collisions).
    let bases = drive::output_paths(&dir, "kept", &shards)?;
    let markers: Vec<PathBuf> = bases
        .iter()
        .map(|p| drive::marker_path(&dir, "kept", p))
        .collect();
    let config_key = config_key(&args, &read_opts, threshold, &lexicon_info, &flag_labels);
    let resumed = if args.resume {
        drive::resumable(&markers, &config_key, |_, m| outputs_exist(&dir, m))
    } else {
        BTreeMap::new()
    };

    let scanner = match &source {
        Source::Scanner(s) => Some(s),
        Source::Recorded { .. } => None,
    };
    let work = |_: usize, batch: &Batch| parse_batch(batch, &read_opts, scanner);
    let mut sink = FilterSink {
        args: &args,
        source: &source,
        threshold,
        flag_labels: &flag_labels,
        weighting,
        text_path: read_opts.text_field.parts().to_vec(),
        plain_text_path: vec!["text".to_string()],
        dir: &dir,
        shards: &shards,
        written: HashSet::new(),
        current: None,
        tallies: vec![None; shards.len()],
    };
    let mut driven = drive::Drive {
        shards: &shards,
        read_opts: &read_opts,
        threads,
        quiet: args.quiet,
        started,
        resumed: &resumed,
        markers: Some(&markers),
        config_key: &config_key,
    }
    .run(work, &mut sink);
    if let Some(e) = driven.failure.take() {
        return Err(e);
    }

    let mut totals = Tally::default();
    let mut per_shard = BTreeMap::new();
    for (shard, tally) in shards.iter().zip(&sink.tallies) {
        if let Some(t) = tally {
            totals.merge(t);
            per_shard.insert(shard.rel.display().to_string(), t.clone());
        }
    }
    let downweight = args.mode == Mode::Downweight;
    let head = Summary {
        lexicon: lexicon_info,
        threshold,
        flag_labels: flag_labels.iter().map(|l| l.name().to_string()).collect(),
        ..Summary::default()
    };
    let run = driven.summary(head, started_at, started, &discovery_errors);
    let summary = FilterSummary {
        filter: FilterReport {
            mode: args.mode,
            from: args.from.as_ref().map(|p| p.display().to_string()),
            keep_flagged: args.keep_flagged,
            control_token: args.control_token.clone(),
            weighting: downweight.then(|| {
                serde_json::json!({
                    "curve": format!("{:?}", args.weight_curve).to_lowercase(),
                    "floor": args.weight_floor,
                    "ceiling": args.weight_ceiling,
                })
            }),
            flagged_share_before: downweight.then(|| totals.share.before()),
            flagged_share_after: downweight.then(|| totals.share.after()),
            totals,
            shards: per_shard,
        },
        run,
    };
    drive::write_summary(&dir, &summary)?;
    if !args.quiet {
        print_summary(&summary);
    }
    Ok(drive::exit_status(
        &summary.run.shards,
        &summary.run.totals,
        false,
    ))
}

fn check_mode_flags(args: &FilterArgs) -> Result<()> {
    if args.keep_flagged && args.mode != Mode::Remove {
        bail!("--keep-flagged applies to --mode remove only");
    }
    if args.control_token.is_some() && args.mode != Mode::Tag {
        bail!("--control-token applies to --mode tag only");
    }
    if args.control_token.as_deref() == Some("") {
        bail!("--control-token must not be empty");
    }
    Ok(())
}

fn read_scan_summary(dir: &Path) -> Result<Summary> {
    let path = dir.join("summary.json");
    let bytes = fs::read(&path).with_context(|| {
        format!(
            "--from {}: cannot read {} (is it the output folder of `tropescan scan -o`?)",
            dir.display(),
            path.display()
        )
    })?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("--from: {} is not a scan summary", path.display()))
}

fn outputs_exist(dir: &Path, m: &DoneMarker) -> bool {
    let Ok(tally) = serde_json::from_value::<Tally>(m.extra.clone()) else {
        return false;
    };
    !tally.outputs.is_empty() && tally.outputs.iter().all(|o| dir.join(o).exists())
}

/// A key that changes whenever anything that shapes a shard's outputs changes.
fn config_key(
    args: &FilterArgs,
    read_opts: &ReadOptions,
    threshold: f64,
    lexicon: &LexiconInfo,
    flag_labels: &[Label],
) -> String {
    let text = format!(
        "filter v={} lexicon={} threshold={threshold} flag={:?} format={:?} text={} id={} url={:?} max={} from={:?} mode={:?} keep={} curve={:?} floor={} ceiling={} token={:?}",
        env!("CARGO_PKG_VERSION"),
        lexicon.hash,
        flag_labels,
        read_opts.format.map(Format::name),
        read_opts.text_field.as_str(),
        read_opts.id_field.as_str(),
        read_opts.url_field.as_ref().map(|f| f.as_str().to_string()),
        read_opts.max_doc_bytes,
        args.from,
        args.mode,
        args.keep_flagged,
        args.weight_curve,
        args.weight_floor,
        args.weight_ceiling,
        args.control_token,
    );
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// Parses one batch (and scores it, without `--from`): the work each pool thread does.
fn parse_batch(
    batch: &Batch,
    read_opts: &ReadOptions,
    scanner: Option<&Scanner>,
) -> Parsed<FilterBatch> {
    let raw = batch.raw_lines();
    let mut docs: Vec<(u64, DocLine)> = Vec::new();
    let mut converted = Vec::new();
    let mut lines = Vec::new();
    let stats = batch.parse(read_opts, &mut |doc| {
        let judged = scanner.map(|s| {
            let v = s.score(&doc.text);
            Judgement {
                // As written everywhere (and read back by --from): 5 decimals.
                score: round5(v.score),
                label: v.label,
                flagged: v.flagged,
            }
        });
        let mut d = DocLine {
            id: doc.id.to_string(),
            line: doc.position.line,
            words: count_words(&doc.text),
            text_bytes: doc.text.len() as u64,
            content_len: 0,
            judged,
        };
        if raw.is_some() {
            docs.push((doc.position.offset, d));
        } else {
            let start = converted.len();
            write_document_json(&mut converted, doc);
            d.content_len = converted.len() - start - 1;
            lines.push(Line {
                end: converted.len(),
                doc: Some(d),
            });
        }
    });
    let bytes = match raw {
        Some((data, start_offset)) => {
            lines = pair_lines(data, start_offset, docs);
            data.to_vec()
        }
        None => converted,
    };
    Parsed {
        stats,
        payload: FilterBatch { bytes, lines },
    }
}

/// Cuts a batch's raw JSONL bytes into lines (terminators included) and gives each line the
/// document that starts at its offset, if any; lines without one are not documents.
fn pair_lines(data: &[u8], start_offset: u64, docs: Vec<(u64, DocLine)>) -> Vec<Line> {
    let mut docs = docs.into_iter().peekable();
    let mut lines = Vec::new();
    let mut start = 0usize;
    while start < data.len() {
        let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i + 1);
        let mut content = &data[start..end];
        content = content.strip_suffix(b"\n").unwrap_or(content);
        content = content.strip_suffix(b"\r").unwrap_or(content);
        let offset = start_offset + start as u64;
        let doc = match docs.peek() {
            Some((o, _)) if *o == offset => docs.next().map(|(_, mut d)| {
                d.content_len = content.len();
                d
            }),
            _ => None,
        };
        lines.push(Line { end, doc });
        start = end;
    }
    lines
}

/// Reads an earlier scan's attribute file alongside a shard.
struct RecordedReader {
    path: PathBuf,
    lines: Box<dyn BufRead>,
    line_no: u64,
}

impl RecordedReader {
    fn open(path: PathBuf) -> std::result::Result<RecordedReader, String> {
        let bytes = fs::read(&path).map_err(|e| {
            format!(
                "--from: no attribute file {} ({e}); --from needs a `scan -o` of the same inputs",
                path.display()
            )
        })?;
        let compression = Compression::detect(&bytes);
        let reader = codec::decoder(compression, std::io::Cursor::new(bytes))
            .map_err(|_| format!("--from: cannot decompress {}", path.display()))?;
        Ok(RecordedReader {
            path,
            lines: Box::new(BufReader::new(reader)),
            line_no: 0,
        })
    }

    /// The next non-empty line, `None` at the end.
    fn next_line(&mut self) -> std::result::Result<Option<Vec<u8>>, String> {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = self
                .lines
                .read_until(b'\n', &mut buf)
                .map_err(|e| format!("--from: cannot read {}: {e}", self.path.display()))?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            if !buf.iter().all(u8::is_ascii_whitespace) {
                return Ok(Some(buf));
            }
        }
    }
}

/// The outputs of the shard being written.
struct ShardOut {
    /// The shard as named in messages.
    name: String,
    /// Its outputs' path under each output subfolder.
    out_name: PathBuf,
    jsonl: bool,
    compression: Compression,
    kept: Option<AtomicFile>,
    removed: Option<AtomicFile>,
    unparsed: Option<AtomicFile>,
    tagged: Option<AtomicFile>,
    weights: Option<AtomicFile>,
    recorded: Option<RecordedReader>,
    /// Why this shard's outputs are not committed (an `--from` mismatch).
    failure: Option<InputError>,
    /// Errors that did not fail the shard (lines that could not be tagged).
    warnings: Vec<InputError>,
    copied_bytes: u64,
    tally: Tally,
}

struct FilterSink<'a> {
    args: &'a FilterArgs,
    source: &'a Source,
    threshold: f64,
    flag_labels: &'a [Label],
    weighting: Weighting,
    text_path: Vec<String>,
    /// The text path of documents converted to JSONL by [`write_document_json`].
    plain_text_path: Vec<String>,
    dir: &'a Path,
    shards: &'a [Shard],
    written: HashSet<PathBuf>,
    current: Option<ShardOut>,
    tallies: Vec<Option<Tally>>,
}

fn failed(e: std::io::Error, path: &Path) -> Halt {
    Halt::Failed(anyhow::Error::new(e).context(format!("cannot write {}", path.display())))
}

impl FilterSink<'_> {
    fn create(
        &mut self,
        sub: &str,
        name: &Path,
        compression: Compression,
    ) -> Result<AtomicFile, Halt> {
        let dest = safe_output_path(self.dir, sub, name)
            .map_err(|e| Halt::Failed(anyhow::Error::new(e)))?;
        if !self.written.insert(dest.clone()) {
            return Err(Halt::Failed(anyhow::anyhow!(
                "two inputs would write the same output {} (pass their common folder instead of the files)",
                dest.display()
            )));
        }
        AtomicFile::create(&dest, compression).map_err(|e| failed(e, &dest))
    }

    /// The verdict of a document: on the fly, or the next line of the attribute file.
    fn judge(&self, out: &mut ShardOut, doc: &DocLine) -> Option<Judgement> {
        if let Some(j) = doc.judged {
            return Some(j);
        }
        let Source::Recorded { same_rule, .. } = self.source else {
            return None;
        };
        let reader = out.recorded.as_mut()?;
        let fail = |msg: String| {
            InputError::new(out.name.clone(), ErrorKind::Unsupported(msg)).at_line(doc.line)
        };
        let line = match reader.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => {
                out.failure = Some(fail(format!(
                    "--from: {} ends after {} lines, before this document ({}): the scan was of other input or options",
                    reader.path.display(),
                    reader.line_no,
                    doc.id
                )));
                return None;
            }
            Err(msg) => {
                out.failure = Some(fail(msg));
                return None;
            }
        };
        let recorded = match parse_attribute_line(&line) {
            Ok(r) => r,
            Err(e) => {
                out.failure = Some(fail(format!(
                    "--from: {}:{}: {e}",
                    reader.path.display(),
                    reader.line_no
                )));
                return None;
            }
        };
        if recorded.id != doc.id {
            out.failure = Some(fail(format!(
                "--from: {}:{} is for document {:?} but this document is {:?}: the scan was of other input or options",
                reader.path.display(),
                reader.line_no,
                recorded.id,
                doc.id
            )));
            return None;
        }
        let flagged = if *same_rule {
            recorded.flagged
        } else {
            recorded.score >= self.threshold && self.flag_labels.contains(&recorded.label)
        };
        Some(Judgement {
            score: recorded.score,
            label: recorded.label,
            flagged,
        })
    }

    fn write_line(
        &self,
        out: &mut ShardOut,
        line: &[u8],
        doc: Option<&DocLine>,
        judged: Option<Judgement>,
        counts: &mut DocCounts,
    ) -> Result<(), Halt> {
        let (Some(doc), Some(j)) = (doc, judged) else {
            // Not a document: never lost, never mixed into a result.
            out.tally.unparsed_lines += 1;
            return match self.args.mode {
                Mode::Remove => {
                    if out.unparsed.is_none() {
                        let dest = safe_output_path(self.dir, "unparsed", &out.out_name)
                            .map_err(|e| Halt::Failed(anyhow::Error::new(e)))?;
                        out.unparsed = Some(
                            AtomicFile::create(&dest, out.compression)
                                .map_err(|e| failed(e, &dest))?,
                        );
                    }
                    out.copied_bytes += line.len() as u64;
                    write_to(out.unparsed.as_mut(), line)
                }
                Mode::Tag => {
                    out.copied_bytes += line.len() as u64;
                    write_to(out.tagged.as_mut(), line)
                }
                Mode::Downweight => Ok(()),
            };
        };
        counts.add_document(doc.words, doc.text_bytes, j.label.name(), j.flagged);
        out.tally.documents += 1;
        out.tally.words += doc.words;
        match self.args.mode {
            Mode::Remove => {
                out.copied_bytes += line.len() as u64;
                if j.flagged != self.args.keep_flagged {
                    out.tally.removed += 1;
                    out.tally.removed_words += doc.words;
                    write_to(out.removed.as_mut(), line)
                } else {
                    out.tally.kept += 1;
                    out.tally.kept_words += doc.words;
                    write_to(out.kept.as_mut(), line)
                }
            }
            Mode::Downweight => {
                let flaggable = self.flag_labels.contains(&j.label);
                let w = round5(self.weighting.weight(j.score, flaggable, j.flagged));
                out.tally.share.add(doc.words, w, j.flagged);
                let mut buf = serde_json::to_vec(&serde_json::json!({"id": doc.id, "weight": w}))
                    .unwrap_or_default();
                buf.push(b'\n');
                write_to(out.weights.as_mut(), &buf)
            }
            Mode::Tag => {
                out.copied_bytes += line.len() as u64;
                let value = format!(
                    "{{\"score\":{},\"label\":\"{}\",\"flagged\":{}}}",
                    serde_json::to_string(&round5(j.score)).unwrap_or_default(),
                    j.label.name(),
                    j.flagged
                );
                let token = self.args.control_token.as_deref().filter(|_| j.flagged);
                let (content, terminator) = line.split_at(doc.content_len);
                let tag = Tag {
                    value: &value,
                    token,
                    text_path: if out.jsonl {
                        &self.text_path
                    } else {
                        &self.plain_text_path
                    },
                };
                match tag_line(content, tag) {
                    Ok(mut tagged) => {
                        out.tally.tagged += 1;
                        if j.flagged {
                            out.tally.tagged_flagged += 1;
                        }
                        tagged.extend_from_slice(terminator);
                        write_to(out.tagged.as_mut(), &tagged)
                    }
                    Err(e) => {
                        out.tally.untagged += 1;
                        out.warnings.push(
                            InputError::new(
                                out.name.clone(),
                                ErrorKind::Unsupported(format!(
                                    "document {:?} not tagged (written unchanged): {e}",
                                    doc.id
                                )),
                            )
                            .at_line(doc.line),
                        );
                        write_to(out.tagged.as_mut(), line)
                    }
                }
            }
        }
    }
}

fn write_to(file: Option<&mut AtomicFile>, bytes: &[u8]) -> Result<(), Halt> {
    match file {
        Some(f) => f.write_all(bytes).map_err(|e| failed(e, f.dest())),
        None => Ok(()),
    }
}

impl ShardSink<FilterBatch> for FilterSink<'_> {
    fn start(
        &mut self,
        index: usize,
        format: Format,
        compression: Compression,
    ) -> Result<(), Halt> {
        let shard = &self.shards[index];
        let compression = drive::output_compression(compression);
        let jsonl = format == Format::Jsonl;
        let name = if jsonl {
            shard.rel.clone()
        } else {
            jsonl_name(&shard.rel, compression)
        };
        let mut out = ShardOut {
            name: shard.name.to_string(),
            out_name: name.clone(),
            jsonl,
            compression,
            kept: None,
            removed: None,
            unparsed: None,
            tagged: None,
            weights: None,
            recorded: None,
            failure: None,
            warnings: Vec::new(),
            copied_bytes: 0,
            tally: Tally::default(),
        };
        match self.args.mode {
            Mode::Remove => {
                out.kept = Some(self.create("kept", &name, compression)?);
                out.removed = Some(self.create("removed", &name, compression)?);
            }
            Mode::Tag => out.tagged = Some(self.create("tagged", &name, compression)?),
            Mode::Downweight => out.weights = Some(self.create("weights", &name, compression)?),
        }
        if let Source::Recorded { dir, .. } = self.source {
            let opened = safe_output_path(dir, "attributes", &shard.rel)
                .map_err(|e| e.to_string())
                .and_then(RecordedReader::open);
            match opened {
                Ok(r) => out.recorded = Some(r),
                Err(msg) => {
                    out.failure = Some(InputError::new(
                        out.name.clone(),
                        ErrorKind::Unsupported(msg),
                    ))
                }
            }
        }
        self.current = Some(out);
        Ok(())
    }

    fn batch(&mut self, _: usize, batch: FilterBatch) -> Result<DocCounts, Halt> {
        let mut counts = DocCounts::default();
        let Some(mut out) = self.current.take() else {
            return Ok(counts);
        };
        let mut start = 0usize;
        for line in &batch.lines {
            if out.failure.is_some() {
                break;
            }
            let bytes = &batch.bytes[start..line.end];
            start = line.end;
            let judged = match &line.doc {
                Some(d) => self.judge(&mut out, d),
                None => None,
            };
            if line.doc.is_some() && judged.is_none() {
                break;
            }
            self.write_line(&mut out, bytes, line.doc.as_ref(), judged, &mut counts)?;
        }
        self.current = Some(out);
        Ok(counts)
    }

    fn end(
        &mut self,
        index: usize,
        stats: &mut ShardStats,
    ) -> Result<Option<serde_json::Value>, Halt> {
        let Some(mut out) = self.current.take() else {
            return Ok(None);
        };
        if out.failure.is_none() {
            if let Some(reader) = out.recorded.as_mut() {
                match reader.next_line() {
                    Ok(None) => {}
                    Ok(Some(_)) => {
                        out.failure = Some(InputError::new(
                            out.name.clone(),
                            ErrorKind::Unsupported(format!(
                                "--from: {} has more lines than this shard has documents ({}): the scan was of other input or options",
                                reader.path.display(),
                                out.tally.documents
                            )),
                        ))
                    }
                    Err(msg) => {
                        out.failure =
                            Some(InputError::new(out.name.clone(), ErrorKind::Unsupported(msg)))
                    }
                }
            }
        }
        for w in out.warnings.drain(..) {
            stats.warn(w);
        }
        if let Some(f) = out.failure.take() {
            // The outputs are dropped uncommitted: nothing half-judged appears.
            stats.warn(f);
            stats.incomplete = true;
            return Ok(None);
        }
        // Every input byte of a JSONL shard must be in some output.
        let copies = out.jsonl && self.args.mode != Mode::Downweight;
        if copies && !stats.incomplete && out.copied_bytes != stats.decompressed_bytes {
            stats.warn(InputError::new(
                out.name.clone(),
                ErrorKind::Unsupported(format!(
                    "{} bytes are in no output: lines longer than --max-doc-bytes ({}) are skipped while reading; raise it to copy them",
                    stats.decompressed_bytes.saturating_sub(out.copied_bytes),
                    self.args.input.max_doc_bytes
                )),
            ));
        }
        let mut outputs = Vec::new();
        for f in [out.kept, out.removed, out.unparsed, out.tagged, out.weights]
            .into_iter()
            .flatten()
        {
            let dest = f.dest().to_path_buf();
            f.commit().map_err(|e| failed(e, &dest))?;
            let rel = dest.strip_prefix(self.dir).unwrap_or(&dest);
            outputs.push(rel.display().to_string());
        }
        out.tally.outputs = outputs;
        let extra = serde_json::to_value(&out.tally).unwrap_or_default();
        self.tallies[index] = Some(out.tally);
        Ok(Some(extra))
    }

    fn resumed(&mut self, index: usize, marker: &DoneMarker) {
        self.tallies[index] = serde_json::from_value(marker.extra.clone()).ok();
    }
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

fn print_summary(s: &FilterSummary) {
    let t = &s.run.totals;
    let f = &s.filter.totals;
    let head = format!(
        "tropescan filter: {} in {} in {:.2}s, {} flagged",
        super::plural(f.documents, "document", "documents"),
        super::plural(t.shards, "shard", "shards"),
        s.run.seconds,
        t.counts.flagged
    );
    let detail = match s.filter.mode {
        Mode::Remove => format!(
            "{} kept ({} words), {} removed ({} words), {} lines that are not documents in unparsed/",
            f.kept, f.kept_words, f.removed, f.removed_words, f.unparsed_lines
        ),
        Mode::Downweight => format!(
            "flagged share of words {} before weighting, {} after",
            pct(f.share.before()),
            pct(f.share.after())
        ),
        Mode::Tag => format!(
            "{} tagged ({} flagged{}), {} not tagged, {} lines that are not documents copied unchanged",
            f.tagged,
            f.tagged_flagged,
            if s.filter.control_token.is_some() {
                ", with the control token"
            } else {
                ""
            },
            f.untagged,
            f.unparsed_lines
        ),
    };
    eprintln!("{head}: {detail}; {} errors", t.errors);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str) -> DocLine {
        DocLine {
            id: id.to_string(),
            line: 0,
            words: 1,
            text_bytes: 1,
            content_len: 0,
            judged: None,
        }
    }

    #[test]
    fn every_line_is_kept_and_documents_find_their_line() {
        // At stream offset 100: a document, a blank line, a CRLF document, a broken line,
        // and a last document without a newline.
        let data = b"{\"a\":1}\n\n{\"b\":2}\r\nbroken\n{\"c\":3}";
        let docs = vec![(100, doc("a")), (109, doc("b")), (125, doc("c"))];
        let lines = pair_lines(data, 100, docs);
        let ends: Vec<usize> = lines.iter().map(|l| l.end).collect();
        assert_eq!(ends, [8, 9, 18, 25, 32]);
        let ids: Vec<Option<&str>> = lines
            .iter()
            .map(|l| l.doc.as_ref().map(|d| d.id.as_str()))
            .collect();
        assert_eq!(ids, [Some("a"), None, Some("b"), None, Some("c")]);
        let lens: Vec<usize> = lines
            .iter()
            .filter_map(|l| l.doc.as_ref())
            .map(|d| d.content_len)
            .collect();
        assert_eq!(
            lens,
            [7, 7, 7],
            "terminators (LF, CRLF, none) are not content"
        );
    }
}
