//! `tropescan scan`: read shards, score every document, write JSON lines or dolma attributes
//! plus a summary, and say by the exit code how it went.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use anyhow::Result;

use super::args::ScanArgs;
use super::drive::{self, Halt, Parsed, ShardSink};
use super::Exit;
use crate::input::{Batch, Compression, Format, ReadOptions, ShardStats};
use crate::output::record::{write_attribute_line, DocumentLineOptions, DocumentLines};
use crate::output::summary::{count_words, BatchCounts, LexiconInfo, Summary};
use crate::output::{AtomicFile, DocCounts, DocumentRecord};
use crate::scan::Scanner;

/// What one batch produced.
struct BatchOutput {
    stdout: Vec<u8>,
    attributes: Vec<u8>,
    /// Lines of the `documents/` record sidecar.
    documents: Vec<u8>,
    counts: DocCounts,
}

/// The two files `-o` writes per shard: dolma attributes and the document records.
struct ShardFiles {
    attributes: AtomicFile,
    documents: AtomicFile,
}

fn write_failure(e: std::io::Error, f: &AtomicFile) -> Halt {
    Halt::Failed(anyhow::Error::new(e).context(format!("cannot write {}", f.dest().display())))
}

pub(crate) fn run(args: ScanArgs) -> Result<Exit> {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let read_opts = args.input.read_options()?;
    let lexicon = args.scoring.lexicon()?;
    let scanner = args.scoring.scanner(&lexicon)?;
    let threads = super::args::thread_count(args.threads);

    let Some((shards, discovery_errors)) = drive::discover_shards(&args.input.inputs)? else {
        return Ok(Exit::Usage);
    };

    let config_key = config_key(&args, &read_opts, &lexicon, &scanner);
    let out_dir = match &args.output {
        Some(dir) => {
            drive::prepare_output_dir(dir)?;
            Some(dir.clone())
        }
        None => None,
    };
    let attribute_paths = match &out_dir {
        Some(dir) => Some(drive::output_paths(dir, "attributes", &shards)?),
        None => None,
    };
    let document_paths = match &out_dir {
        Some(dir) => Some(drive::output_paths(dir, "documents", &shards)?),
        None => None,
    };
    let markers: Option<Vec<PathBuf>> = match (&out_dir, &attribute_paths) {
        (Some(dir), Some(paths)) => Some(
            paths
                .iter()
                .map(|p| drive::marker_path(dir, "attributes", p))
                .collect(),
        ),
        _ => None,
    };

    // --resume: carry over shards whose outputs and marker are complete and match this config.
    let resumed = match (args.resume, &markers, &attribute_paths, &document_paths) {
        (true, Some(markers), Some(attrs), Some(docs)) => {
            drive::resumable(markers, &config_key, |i, _| {
                attrs[i].exists() && docs[i].exists()
            })
        }
        _ => BTreeMap::new(),
    };

    let line_opts = DocumentLineOptions {
        evidence: args.evidence,
    };
    let to_stdout = out_dir.is_none();
    let flagged_only = args.flagged_only;
    let shard_names: Vec<Arc<str>> = shards.iter().map(|s| s.name.clone()).collect();
    let work = |index: usize, batch: &Batch| -> Parsed<BatchOutput> {
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

    let mut sink = ScanSink {
        // Each batch's lines arrive as one buffer ending in a newline, which the stdout lock's
        // line writer hands straight to the file: a BufWriter here only copied every batch
        // once more (6 M instructions per 40 MB).
        stdout: io::stdout().lock(),
        to_stdout,
        attribute_paths: attribute_paths.as_deref(),
        document_paths: document_paths.as_deref(),
        files: None,
    };
    let mut driven = drive::Drive {
        shards: &shards,
        read_opts: &read_opts,
        threads,
        quiet: args.quiet,
        started,
        resumed: &resumed,
        markers: markers.as_deref(),
        config_key: &config_key,
    }
    .run(work, &mut sink);
    if let Err(e) = sink.stdout.flush() {
        if e.kind() != io::ErrorKind::BrokenPipe {
            return Err(anyhow::Error::new(e).context("cannot write to stdout"));
        }
    }
    if let Some(e) = driven.failure.take() {
        return Err(e);
    }
    let stopped_early = driven.stopped_early;

    let head = Summary {
        lexicon: LexiconInfo {
            name: lexicon.name().to_string(),
            hash: lexicon.content_hash().to_string(),
        },
        threshold: scanner.threshold(),
        flag_labels: args.scoring.flag_labels.clone(),
        options: options_record(&args, &read_opts),
        ..Summary::default()
    };
    let summary = driven.summary(head, started_at, started, &discovery_errors);
    if let Some(dir) = &out_dir {
        drive::write_summary(dir, &summary)?;
    }
    if !args.quiet && !stopped_early {
        print_summary(&summary);
    }

    if stopped_early {
        // Only a closed stdout stops a run without an error (like `| head`): not a failure.
        return Ok(Exit::Clean);
    }
    Ok(drive::exit_status(
        &summary.shards,
        &summary.totals,
        args.fail_on_flagged,
    ))
}

/// Writes scan's outputs: JSON lines on stdout, or one attribute file per shard.
struct ScanSink<'a, W: Write> {
    stdout: W,
    to_stdout: bool,
    attribute_paths: Option<&'a [PathBuf]>,
    document_paths: Option<&'a [PathBuf]>,
    files: Option<ShardFiles>,
}

impl<W: Write> ShardSink<BatchOutput> for ScanSink<'_, W> {
    fn start(&mut self, index: usize, _: Format, compression: Compression) -> Result<(), Halt> {
        if let (Some(attrs), Some(docs)) = (self.attribute_paths, self.document_paths) {
            let codec = drive::output_compression(compression);
            let create = |p: &PathBuf| {
                AtomicFile::create(p, codec).map_err(|e| {
                    Halt::Failed(
                        anyhow::Error::new(e).context(format!("cannot create {}", p.display())),
                    )
                })
            };
            self.files = Some(ShardFiles {
                attributes: create(&attrs[index])?,
                documents: create(&docs[index])?,
            });
        }
        Ok(())
    }

    fn batch(&mut self, _: usize, result: BatchOutput) -> Result<DocCounts, Halt> {
        if self.to_stdout {
            if let Err(e) = self.stdout.write_all(&result.stdout) {
                if e.kind() != io::ErrorKind::BrokenPipe {
                    return Err(Halt::Failed(
                        anyhow::Error::new(e).context("cannot write to stdout"),
                    ));
                }
                return Err(Halt::Quiet);
            }
        }
        if let Some(f) = self.files.as_mut() {
            for (file, bytes) in [
                (&mut f.attributes, &result.attributes),
                (&mut f.documents, &result.documents),
            ] {
                file.write_all(bytes).map_err(|e| write_failure(e, file))?;
            }
        }
        Ok(result.counts)
    }

    fn end(&mut self, _: usize, _: &mut ShardStats) -> Result<Option<serde_json::Value>, Halt> {
        let Some(f) = self.files.take() else {
            return Ok(None);
        };
        // Both files, then (in the driver) the resume marker.
        for file in [f.attributes, f.documents] {
            let dest = file.dest().to_path_buf();
            file.commit().map_err(|e| {
                Halt::Failed(
                    anyhow::Error::new(e).context(format!("cannot write {}", dest.display())),
                )
            })?;
        }
        Ok(Some(serde_json::Value::Null))
    }
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
) -> Parsed<BatchOutput> {
    // Each output is about a fifth of the JSONL it comes from (stdout lines, attribute lines
    // and document records alike, on the e2e corpus): sized up front, the buffers are not
    // regrown and copied while a batch is scored (a realloc memcpy of ~18 M instructions per
    // 40 MB in a `scan -o` profile).
    let expected = read_opts.batch_bytes / 4;
    let sized = |used: bool| Vec::with_capacity(if used { expected } else { 0 });
    let mut out = BatchOutput {
        stdout: sized(to_stdout && !flagged_only),
        attributes: sized(!to_stdout),
        documents: sized(!to_stdout),
        counts: DocCounts::default(),
    };
    let mut counts = BatchCounts::default();
    let lines = DocumentLines::new(source, line_opts);
    let stats = batch.parse(read_opts, &mut |doc| {
        let verdict = scanner.score(&doc.text);
        // Counted once for the summary and the document record.
        let words = count_words(&doc.text);
        counts.add(&doc.text, words, &verdict);
        if to_stdout {
            if !flagged_only || verdict.flagged {
                lines.write(&mut out.stdout, doc, &verdict);
            }
        } else {
            let record = DocumentRecord::new(doc, &verdict, words);
            // The record counts the code points; the attribute line needs them too.
            write_attribute_line(&mut out.attributes, doc, &verdict, record.chars as usize);
            record.write_line(&mut out.documents);
        }
    });
    out.counts = counts.finish();
    Parsed {
        stats,
        payload: out,
    }
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

fn print_summary(s: &Summary) {
    let t = &s.totals;
    let pct = if t.counts.documents > 0 {
        100.0 * t.counts.flagged as f64 / t.counts.documents as f64
    } else {
        0.0
    };
    eprintln!(
        "tropescan: {} in {} ({:.1} MB of text) in {:.2}s: {} flagged ({pct:.2}%), {} skipped, {} broken, {}",
        super::plural(t.counts.documents, "document", "documents"),
        super::plural(t.shards, "shard", "shards"),
        t.counts.text_bytes as f64 / 1e6,
        s.seconds,
        t.counts.flagged,
        t.skipped,
        t.broken,
        super::plural(t.errors, "error", "errors"),
    );
}
