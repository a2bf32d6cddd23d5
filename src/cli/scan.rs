//! `tropescan scan`: read shards, score every document, write JSON lines or dolma attributes
//! plus a summary, and say by the exit code how it went.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::ScanArgs;
use super::Exit;
use crate::input::{discover, Batch, Compression, Format, ReadOptions, Shard, ShardStats};
use crate::output::atomic::write_atomically;
use crate::output::document_record::write_document_record;
use crate::output::record::{write_attribute_line, write_document_line, DocumentLineOptions};
use crate::output::summary::{ErrorRow, LexiconInfo, ShardRow, Summary};
use crate::output::{safe_output_path, AtomicFile, DocCounts};
use crate::pipeline::{self, Event, Stop};
use crate::scan::Scanner;

/// What one batch produced.
struct BatchOutput {
    stdout: Vec<u8>,
    attributes: Vec<u8>,
    /// Lines of the `documents/` record sidecar.
    documents: Vec<u8>,
    counts: DocCounts,
    stats: ShardStats,
}

/// The two files `-o` writes per shard: dolma attributes and the document records.
struct ShardFiles {
    attributes: AtomicFile,
    documents: AtomicFile,
}

impl ShardFiles {
    fn create(attributes: &Path, documents: &Path, compression: Compression) -> Result<Self> {
        let create = |p: &Path| {
            AtomicFile::create(p, compression)
                .with_context(|| format!("cannot create {}", p.display()))
        };
        Ok(ShardFiles {
            attributes: create(attributes)?,
            documents: create(documents)?,
        })
    }

    fn write(&mut self, attributes: &[u8], documents: &[u8]) -> Result<()> {
        for (f, bytes) in [
            (&mut self.attributes, attributes),
            (&mut self.documents, documents),
        ] {
            f.write_all(bytes)
                .with_context(|| format!("cannot write {}", f.dest().display()))?;
        }
        Ok(())
    }

    /// Commits both; the resume marker is written only after this succeeds.
    fn commit(self) -> Result<()> {
        for f in [self.attributes, self.documents] {
            let dest = f.dest().to_path_buf();
            f.commit()
                .with_context(|| format!("cannot write {}", dest.display()))?;
        }
        Ok(())
    }
}

/// The marker written next to a finished shard's outputs, read back by `--resume`.
#[derive(serde::Serialize, serde::Deserialize)]
struct DoneMarker {
    config: String,
    row: ShardRow,
    errors: Vec<ErrorRow>,
}

pub(crate) fn run(args: ScanArgs) -> Result<Exit> {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let read_opts = args.input.read_options()?;
    let lexicon = args.scoring.lexicon()?;
    let scanner = args.scoring.scanner(&lexicon)?;
    let threads = super::args::thread_count(args.threads);

    let (shards, discovery_errors) = discover(&args.input.inputs);
    for e in &discovery_errors {
        eprintln!("tropescan: {e}");
    }
    if shards.is_empty() {
        eprintln!("tropescan: no input could be read");
        return Ok(Exit::Usage);
    }
    if shards.iter().filter(|s| s.is_stdin()).count() > 1 {
        bail!("standard input (-) can be given only once");
    }

    let config_key = config_key(&args, &read_opts, &lexicon, &scanner);
    let out_dir = match &args.output {
        Some(dir) => {
            fs::create_dir_all(dir)
                .with_context(|| format!("cannot create output folder {}", dir.display()))?;
            remove_stale_temp_files(dir);
            Some(dir.clone())
        }
        None => None,
    };
    let attribute_paths = match &out_dir {
        Some(dir) => Some(output_paths(dir, "attributes", &shards)?),
        None => None,
    };
    let document_paths = match &out_dir {
        Some(dir) => Some(output_paths(dir, "documents", &shards)?),
        None => None,
    };

    // --resume: carry over shards whose outputs and marker are complete and match this config.
    let mut resumed: BTreeMap<usize, DoneMarker> = BTreeMap::new();
    if let (true, Some(dir), Some(paths), Some(docs)) =
        (args.resume, &out_dir, &attribute_paths, &document_paths)
    {
        for (i, (attr, records)) in paths.iter().zip(docs).enumerate() {
            if let Some(m) = read_marker(&marker_path(dir, attr)) {
                if m.config == config_key
                    && attr.exists()
                    && records.exists()
                    && m.row.errors == 0
                    && !m.row.incomplete
                {
                    resumed.insert(i, m);
                }
            }
        }
    }

    let total_bytes: u64 = shards.iter().map(|s| s.size).sum();
    let progress = Arc::new(AtomicU64::new(0));
    let bar = progress_bar(args.quiet, total_bytes);

    let line_opts = DocumentLineOptions {
        evidence: args.evidence,
    };
    let to_stdout = out_dir.is_none();
    let flagged_only = args.flagged_only;
    let shard_names: Vec<Arc<str>> = shards.iter().map(|s| s.name.clone()).collect();
    let work = |index: usize, batch: &Batch| -> BatchOutput {
        score_batch(
            batch,
            &read_opts,
            &scanner,
            &shard_names[index],
            to_stdout,
            flagged_only,
            line_opts,
        )
    };

    let mut stdout = io::BufWriter::with_capacity(256 * 1024, io::stdout().lock());
    let mut rows: Vec<Option<ShardRow>> = vec![None; shards.len()];
    let mut shard_errors: Vec<Vec<ErrorRow>> = vec![Vec::new(); shards.len()];
    let mut current: Option<(usize, ShardRow, ShardStats, Option<ShardFiles>)> = None;
    let mut output_failure: Option<anyhow::Error> = None;
    let mut docs_done = 0u64;
    let mut flagged_done = 0u64;

    let skip = |i: usize| resumed.contains_key(&i);
    let outcome = pipeline::run(
        &shards,
        &read_opts,
        threads,
        Some(progress.clone()),
        &skip,
        work,
        |event| -> std::result::Result<(), Stop> {
            match event {
                Event::ShardSkipped { index } => {
                    if let Some(m) = resumed.get(&index) {
                        let mut row = m.row.clone();
                        row.resumed = true;
                        progress.fetch_add(shards[index].size, Ordering::Relaxed);
                        rows[index] = Some(row);
                        shard_errors[index].clone_from(&m.errors);
                    }
                }
                Event::ShardStart { index, opened } => {
                    let shard = &shards[index];
                    let mut row = ShardRow {
                        path: shard.name.to_string(),
                        rel: shard.rel.display().to_string(),
                        ..ShardRow::default()
                    };
                    let mut file = None;
                    if let Some((format, compression)) = opened {
                        row.format = format.name().to_string();
                        row.compression = compression.name().to_string();
                        if let (Some(attrs), Some(docs)) = (&attribute_paths, &document_paths) {
                            let codec = output_compression(compression);
                            match ShardFiles::create(&attrs[index], &docs[index], codec) {
                                Ok(f) => file = Some(f),
                                Err(e) => {
                                    output_failure = Some(e);
                                    return Err(Stop);
                                }
                            }
                        }
                    }
                    current = Some((index, row, ShardStats::default(), file));
                }
                Event::Batch { result, .. } => {
                    let Some((_, row, stats, file)) = current.as_mut() else {
                        return Ok(());
                    };
                    docs_done += result.counts.documents;
                    flagged_done += result.counts.flagged;
                    row.counts.merge(&result.counts);
                    stats.merge(result.stats);
                    if to_stdout {
                        if let Err(e) = stdout.write_all(&result.stdout) {
                            if e.kind() != io::ErrorKind::BrokenPipe {
                                output_failure =
                                    Some(anyhow::Error::new(e).context("cannot write to stdout"));
                            }
                            return Err(Stop);
                        }
                    }
                    if let Some(f) = file.as_mut() {
                        if let Err(e) = f.write(&result.attributes, &result.documents) {
                            output_failure = Some(e);
                            return Err(Stop);
                        }
                    }
                    if let Some(bar) = &bar {
                        bar.set_position(progress.load(Ordering::Relaxed));
                        let secs = started.elapsed().as_secs_f64().max(1e-3);
                        bar.set_message(format!(
                            "{docs_done} docs ({:.0}/s), {flagged_done} flagged",
                            docs_done as f64 / secs
                        ));
                    }
                }
                Event::ShardEnd {
                    index,
                    stats: framing,
                    elapsed,
                } => {
                    let Some((_, mut row, parsed, file)) = current.take() else {
                        return Ok(());
                    };
                    let mut stats = framing;
                    stats.merge(parsed);
                    stats.sort_errors();
                    row.set_stats(&stats);
                    row.flagged = row.counts.flagged;
                    row.seconds = elapsed.as_secs_f64();
                    for e in &stats.errors {
                        if let Some(bar) = &bar {
                            bar.suspend(|| eprintln!("tropescan: {e}"));
                        } else {
                            eprintln!("tropescan: {e}");
                        }
                    }
                    let errors: Vec<ErrorRow> = stats.errors.iter().map(ErrorRow::from).collect();
                    if let Some(f) = file {
                        let dest = f.attributes.dest().to_path_buf();
                        if let Err(e) = f.commit() {
                            output_failure = Some(e);
                            return Err(Stop);
                        }
                        if let Some(dir) = &out_dir {
                            let marker = DoneMarker {
                                config: config_key.clone(),
                                row: row.clone(),
                                errors: errors.clone(),
                            };
                            let bytes = serde_json::to_vec(&marker).unwrap_or_default();
                            if let Err(e) = write_atomically(&marker_path(dir, &dest), &bytes) {
                                output_failure = Some(
                                    anyhow::Error::new(e).context("cannot write the resume marker"),
                                );
                                return Err(Stop);
                            }
                        }
                    }
                    rows[index] = Some(row);
                    shard_errors[index] = errors;
                }
            }
            Ok(())
        },
    );
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Err(e) = stdout.flush() {
        if e.kind() != io::ErrorKind::BrokenPipe {
            return Err(anyhow::Error::new(e).context("cannot write to stdout"));
        }
    }
    if let Some(e) = output_failure {
        return Err(e);
    }
    let stopped_early = outcome.is_err();

    let mut summary = Summary {
        tropescan_version: env!("CARGO_PKG_VERSION").to_string(),
        lexicon: LexiconInfo {
            name: lexicon.name().to_string(),
            hash: lexicon.content_hash().to_string(),
        },
        threshold: scanner.threshold(),
        flag_labels: args.scoring.flag_labels.clone(),
        options: options_record(&args, &read_opts),
        started_at: humantime::format_rfc3339_seconds(started_at).to_string(),
        finished_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        seconds: started.elapsed().as_secs_f64(),
        shards: rows.into_iter().flatten().collect(),
        errors: discovery_errors.iter().map(ErrorRow::from).collect(),
        ..Summary::default()
    };
    summary.errors.extend(shard_errors.into_iter().flatten());
    summary.compute_totals(discovery_errors.len() as u64);
    if let Some(dir) = &out_dir {
        let mut bytes = serde_json::to_vec_pretty(&summary).context("cannot encode summary")?;
        bytes.push(b'\n');
        write_atomically(&dir.join("summary.json"), &bytes)
            .with_context(|| format!("cannot write {}", dir.join("summary.json").display()))?;
    }
    if !args.quiet && !stopped_early {
        print_summary(&summary);
    }

    if stopped_early {
        // Only a closed stdout stops a run without an error (like `| head`): not a failure.
        return Ok(Exit::Clean);
    }
    let t = &summary.totals;
    let readable = summary.shards.iter().any(|r| !r.format.is_empty());
    Ok(if !readable {
        Exit::Usage
    } else if args.fail_on_flagged && t.counts.flagged > 0 {
        Exit::Flagged
    } else if t.errors > 0 || t.shards_with_errors > 0 {
        Exit::InputErrors
    } else {
        Exit::Clean
    })
}

/// Parses and scores one batch: the work each pool thread does.
fn score_batch(
    batch: &Batch,
    read_opts: &ReadOptions,
    scanner: &Scanner,
    source: &str,
    to_stdout: bool,
    flagged_only: bool,
    line_opts: DocumentLineOptions,
) -> BatchOutput {
    let mut out = BatchOutput {
        stdout: Vec::new(),
        attributes: Vec::new(),
        documents: Vec::new(),
        counts: DocCounts::default(),
        stats: ShardStats::default(),
    };
    let stats = batch.parse(read_opts, &mut |doc| {
        let verdict = scanner.score(&doc.text);
        out.counts.add(&doc.text, &verdict);
        if to_stdout {
            if !flagged_only || verdict.flagged {
                write_document_line(&mut out.stdout, source, doc, &verdict, line_opts);
            }
        } else {
            write_attribute_line(&mut out.attributes, doc, &verdict);
            write_document_record(&mut out.documents, doc, &verdict);
        }
    });
    out.stats = stats;
    out
}

/// Attribute files keep the shard's compression; formats we cannot write fall back to plain.
fn output_compression(c: Compression) -> Compression {
    match c {
        Compression::Gzip | Compression::Zstd => c,
        _ => Compression::None,
    }
}

/// Where each shard's output file under `dir/sub` goes; refuses collisions and escapes.
fn output_paths(dir: &Path, sub: &str, shards: &[Shard]) -> Result<Vec<PathBuf>> {
    let mut seen = HashSet::new();
    let mut paths = Vec::with_capacity(shards.len());
    for shard in shards {
        let path = safe_output_path(dir, sub, &shard.rel)?;
        if !seen.insert(path.clone()) {
            bail!(
                "two inputs would write the same output {} (pass their common folder instead of the files)",
                path.display()
            );
        }
        paths.push(path);
    }
    Ok(paths)
}

/// Removes temporary files a killed run left behind (they never carry a final name).
fn remove_stale_temp_files(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(entry.path());
            } else if entry
                .file_name()
                .to_string_lossy()
                .contains(".tropescan-tmp-")
            {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

fn marker_path(dir: &Path, attribute_path: &Path) -> PathBuf {
    let rel = attribute_path
        .strip_prefix(dir.join("attributes"))
        .unwrap_or(attribute_path);
    let mut p = dir.join(".tropescan").join("done").join(rel);
    let name = p
        .file_name()
        .map(|n| format!("{}.json", n.to_string_lossy()))
        .unwrap_or_else(|| "shard.json".into());
    p.set_file_name(name);
    p
}

fn read_marker(path: &Path) -> Option<DoneMarker> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

/// A key that changes whenever anything that shapes a shard's outputs changes.
fn config_key(
    args: &ScanArgs,
    read_opts: &ReadOptions,
    lexicon: &crate::lexicon::Lexicon,
    scanner: &Scanner,
) -> String {
    let text = format!(
        "v={} lexicon={} threshold={} flag={:?} format={:?} text={} id={} url={:?} max={}",
        env!("CARGO_PKG_VERSION"),
        lexicon.content_hash(),
        scanner.threshold(),
        args.scoring.flag_labels,
        read_opts.format.map(Format::name),
        read_opts.text_field.as_str(),
        read_opts.id_field.as_str(),
        read_opts.url_field.as_ref().map(|f| f.as_str().to_string()),
        read_opts.max_doc_bytes,
    );
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

fn options_record(args: &ScanArgs, read_opts: &ReadOptions) -> BTreeMap<String, serde_json::Value> {
    use serde_json::json;
    let mut m = BTreeMap::new();
    m.insert("format".into(), json!(read_opts.format.map(Format::name)));
    m.insert("text_field".into(), json!(read_opts.text_field.as_str()));
    m.insert("id_field".into(), json!(read_opts.id_field.as_str()));
    m.insert(
        "url_field".into(),
        json!(read_opts.url_field.as_ref().map(|f| f.as_str())),
    );
    m.insert("max_doc_bytes".into(), json!(read_opts.max_doc_bytes));
    m.insert(
        "lexicon_files".into(),
        json!(args
            .scoring
            .lexicon
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()),
    );
    m.insert(
        "add_lexicon_files".into(),
        json!(args
            .scoring
            .add_lexicon
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()),
    );
    m.insert(
        "inputs".into(),
        json!(args
            .input
            .inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()),
    );
    m
}

fn progress_bar(quiet: bool, total: u64) -> Option<ProgressBar> {
    if quiet || !io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{bar:30} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {msg} ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

fn print_summary(s: &Summary) {
    let t = &s.totals;
    let pct = if t.counts.documents > 0 {
        100.0 * t.counts.flagged as f64 / t.counts.documents as f64
    } else {
        0.0
    };
    eprintln!(
        "tropescan: {} documents in {} shards ({:.1} MB of text) in {:.2}s: {} flagged ({pct:.2}%), {} skipped, {} broken, {} errors",
        t.counts.documents,
        t.shards,
        t.counts.text_bytes as f64 / 1e6,
        s.seconds,
        t.counts.flagged,
        t.skipped,
        t.broken,
        t.errors,
    );
}
