//! Driving shards through the pipeline for the commands that read whole corpora (`scan`,
//! `filter`): finding the shards, preparing the output folder, `--resume` markers, the progress
//! bar, one summary row and error list per shard, and the exit status.
//!
//! Each command brings the per-batch work (run on the pool) and a [`ShardSink`] that writes its
//! own outputs from the results, which arrive in input order on one thread.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Exit;
use crate::input::{
    discover, Batch, Compression, Format, InputError, ReadOptions, Shard, ShardStats,
};
use crate::output::atomic::write_atomically;
use crate::output::summary::{ErrorRow, ShardRow, Summary, Totals};
use crate::output::{safe_output_path, DocCounts};
use crate::pipeline::{self, Event, Stop};

/// The marker written next to a finished shard's outputs, read back by `--resume`.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct DoneMarker {
    pub config: String,
    pub row: ShardRow,
    pub errors: Vec<ErrorRow>,
    /// What the command needs to carry a resumed shard over (absent for `scan`).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub extra: serde_json::Value,
}

/// Why a sink stopped the run.
pub(crate) enum Halt {
    /// The reader went away (stdout closed, like `| head`): stop, but not a failure.
    Quiet,
    /// An output could not be written.
    Failed(anyhow::Error),
}

/// What a command does with the results of each shard, called in input order on one thread.
pub(crate) trait ShardSink<P> {
    /// The shard was opened (it was readable): create its outputs.
    fn start(&mut self, index: usize, format: Format, compression: Compression)
        -> Result<(), Halt>;
    /// One batch's results; returns the batch's document counts.
    fn batch(&mut self, index: usize, payload: P) -> Result<DocCounts, Halt>;
    /// The shard ended (also when it could not be opened). The sink may add errors to `stats`;
    /// it returns `Some(extra)` when it committed outputs, and the driver then writes the
    /// `--resume` marker carrying `extra`.
    fn end(
        &mut self,
        index: usize,
        stats: &mut ShardStats,
    ) -> Result<Option<serde_json::Value>, Halt>;
    /// A shard was carried over from an earlier run by `--resume`.
    fn resumed(&mut self, _index: usize, _marker: &DoneMarker) {}
}

/// What one batch produced: the parse counters and the command's payload.
pub(crate) struct Parsed<P> {
    pub stats: ShardStats,
    pub payload: P,
}

/// The run as a whole: what every shard gave.
pub(crate) struct Driven {
    /// One row per shard that was read or resumed, in input order.
    pub rows: Vec<ShardRow>,
    /// Every shard's errors, in input order.
    pub errors: Vec<ErrorRow>,
    /// A sink stopped the run early.
    pub stopped_early: bool,
    /// A sink failed to write an output.
    pub failure: Option<anyhow::Error>,
}

/// How to drive one run.
pub(crate) struct Drive<'a> {
    pub shards: &'a [Shard],
    pub read_opts: &'a ReadOptions,
    pub threads: usize,
    pub quiet: bool,
    pub started: Instant,
    /// Shards carried over by `--resume`.
    pub resumed: &'a BTreeMap<usize, DoneMarker>,
    /// Where each shard's `--resume` marker goes (`None` without an output folder).
    pub markers: Option<&'a [PathBuf]>,
    /// The key stored in the markers.
    pub config_key: &'a str,
}

impl Drive<'_> {
    /// Runs `work` on every batch of every shard (in parallel) and hands the results to `sink`
    /// in input order.
    pub(crate) fn run<P: Send>(
        &self,
        work: impl Fn(usize, &Batch) -> Parsed<P> + Sync,
        sink: &mut dyn ShardSink<P>,
    ) -> Driven {
        let shards = self.shards;
        let total_bytes: u64 = shards.iter().map(|s| s.size).sum();
        let progress = Arc::new(AtomicU64::new(0));
        let bar = progress_bar(self.quiet, total_bytes);

        let mut rows: Vec<Option<ShardRow>> = vec![None; shards.len()];
        let mut shard_errors: Vec<Vec<ErrorRow>> = vec![Vec::new(); shards.len()];
        let mut current: Option<(ShardRow, ShardStats)> = None;
        let mut failure: Option<anyhow::Error> = None;
        let mut docs_done = 0u64;
        let mut flagged_done = 0u64;
        let mut halt = |h: Halt| {
            if let Halt::Failed(e) = h {
                failure = Some(e);
            }
            Stop
        };

        let skip = |i: usize| self.resumed.contains_key(&i);
        let outcome = pipeline::run(
            shards,
            self.read_opts,
            self.threads,
            Some(progress.clone()),
            &skip,
            work,
            |event| -> std::result::Result<(), Stop> {
                match event {
                    Event::ShardSkipped { index } => {
                        if let Some(m) = self.resumed.get(&index) {
                            let mut row = m.row.clone();
                            row.resumed = true;
                            progress.fetch_add(shards[index].size, Ordering::Relaxed);
                            rows[index] = Some(row);
                            shard_errors[index].clone_from(&m.errors);
                            sink.resumed(index, m);
                        }
                    }
                    Event::ShardStart { index, opened } => {
                        let shard = &shards[index];
                        let mut row = ShardRow {
                            path: shard.name.to_string(),
                            rel: shard.rel.display().to_string(),
                            ..ShardRow::default()
                        };
                        if let Some((format, compression)) = opened {
                            row.format = format.name().to_string();
                            row.compression = compression.name().to_string();
                            sink.start(index, format, compression).map_err(&mut halt)?;
                        }
                        current = Some((row, ShardStats::default()));
                    }
                    Event::Batch { index, result } => {
                        let Some((row, stats)) = current.as_mut() else {
                            return Ok(());
                        };
                        let counts = sink.batch(index, result.payload).map_err(&mut halt)?;
                        docs_done += counts.documents;
                        flagged_done += counts.flagged;
                        row.counts.merge(&counts);
                        stats.merge(result.stats);
                        if let Some(bar) = &bar {
                            bar.set_position(progress.load(Ordering::Relaxed));
                            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
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
                        let Some((mut row, parsed)) = current.take() else {
                            return Ok(());
                        };
                        let mut stats = framing;
                        stats.merge(parsed);
                        let committed = sink.end(index, &mut stats).map_err(&mut halt)?;
                        stats.sort_errors();
                        row.set_stats(&stats);
                        row.flagged = row.counts.flagged;
                        row.seconds = elapsed.as_secs_f64();
                        for e in &stats.errors {
                            print_error(bar.as_ref(), e);
                        }
                        let errors: Vec<ErrorRow> =
                            stats.errors.iter().map(ErrorRow::from).collect();
                        if let (Some(extra), Some(markers)) = (committed, self.markers) {
                            let marker = DoneMarker {
                                config: self.config_key.to_string(),
                                row: row.clone(),
                                errors: errors.clone(),
                                extra,
                            };
                            let bytes = serde_json::to_vec(&marker).unwrap_or_default();
                            if let Err(e) = write_atomically(&markers[index], &bytes) {
                                return Err(halt(Halt::Failed(
                                    anyhow::Error::new(e).context("cannot write the resume marker"),
                                )));
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
        Driven {
            rows: rows.into_iter().flatten().collect(),
            errors: shard_errors.into_iter().flatten().collect(),
            stopped_early: outcome.is_err(),
            failure,
        }
    }
}

impl Driven {
    /// The run's summary: `head` says what produced the run (version, lexicon, threshold,
    /// options); the shard rows, every error and the totals are filled in here.
    pub(crate) fn summary(
        self,
        head: Summary,
        started_at: SystemTime,
        started: Instant,
        discovery_errors: &[InputError],
    ) -> Summary {
        let mut summary = Summary {
            tropescan_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: humantime::format_rfc3339_seconds(started_at).to_string(),
            finished_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            seconds: started.elapsed().as_secs_f64(),
            shards: self.rows,
            errors: discovery_errors.iter().map(ErrorRow::from).collect(),
            ..head
        };
        summary.errors.extend(self.errors);
        summary.compute_totals(discovery_errors.len() as u64);
        summary
    }
}

/// Writes `value` as pretty JSON (with a final newline) to `dir/summary.json`, atomically.
pub(crate) fn write_summary(dir: &Path, value: &impl serde::Serialize) -> Result<()> {
    let path = dir.join("summary.json");
    let mut bytes = serde_json::to_vec_pretty(value).context("cannot encode summary")?;
    bytes.push(b'\n');
    write_atomically(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))
}

fn print_error(bar: Option<&ProgressBar>, e: &InputError) {
    if let Some(bar) = bar {
        bar.suspend(|| eprintln!("tropescan: {e}"));
    } else {
        eprintln!("tropescan: {e}");
    }
}

/// Finds the shards of the inputs, printing what could not be found. `None` when nothing at
/// all can be read (the caller exits with a usage error).
pub(crate) fn discover_shards(inputs: &[PathBuf]) -> Result<Option<(Vec<Shard>, Vec<InputError>)>> {
    let (shards, discovery_errors) = discover(inputs);
    for e in &discovery_errors {
        eprintln!("tropescan: {e}");
    }
    if shards.is_empty() {
        eprintln!("tropescan: no input could be read");
        return Ok(None);
    }
    if shards.iter().filter(|s| s.is_stdin()).count() > 1 {
        bail!("standard input (-) can be given only once");
    }
    Ok(Some((shards, discovery_errors)))
}

/// Creates the output folder and removes what a killed run left behind there.
pub(crate) fn prepare_output_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output folder {}", dir.display()))?;
    remove_stale_temp_files(dir);
    Ok(())
}

/// Where each shard's output goes under `dir/sub`; refuses collisions and escapes.
pub(crate) fn output_paths(dir: &Path, sub: &str, shards: &[Shard]) -> Result<Vec<PathBuf>> {
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

/// Outputs keep the shard's compression; formats we cannot write fall back to plain.
pub(crate) fn output_compression(c: Compression) -> Compression {
    match c {
        Compression::Gzip | Compression::Zstd => c,
        _ => Compression::None,
    }
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

/// The `--resume` marker of the output `output` (a path under `dir/sub`).
pub(crate) fn marker_path(dir: &Path, sub: &str, output: &Path) -> PathBuf {
    let rel = output.strip_prefix(dir.join(sub)).unwrap_or(output);
    let mut p = dir.join(".tropescan").join("done").join(rel);
    let name = p
        .file_name()
        .map(|n| format!("{}.json", n.to_string_lossy()))
        .unwrap_or_else(|| "shard.json".into());
    p.set_file_name(name);
    p
}

/// The shards an earlier run finished cleanly with the same configuration, by index; `complete`
/// says whether a marker's outputs are all still there.
pub(crate) fn resumable(
    markers: &[PathBuf],
    config_key: &str,
    complete: impl Fn(usize, &DoneMarker) -> bool,
) -> BTreeMap<usize, DoneMarker> {
    let mut resumed = BTreeMap::new();
    for (i, path) in markers.iter().enumerate() {
        let Some(m) = fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<DoneMarker>(&b).ok())
        else {
            continue;
        };
        if m.config == config_key && m.row.errors == 0 && !m.row.incomplete && complete(i, &m) {
            resumed.insert(i, m);
        }
    }
    resumed
}

/// The exit status of a finished run.
pub(crate) fn exit_status(rows: &[ShardRow], totals: &Totals, fail_on_flagged: bool) -> Exit {
    let readable = rows.iter().any(|r| !r.format.is_empty());
    if !readable {
        Exit::Usage
    } else if fail_on_flagged && totals.counts.flagged > 0 {
        Exit::Flagged
    } else if totals.errors > 0 || totals.shards_with_errors > 0 {
        Exit::InputErrors
    } else {
        Exit::Clean
    }
}

/// A progress bar over `total` bytes on stderr, unless quiet or stderr is not a terminal.
pub(crate) fn progress_bar(quiet: bool, total: u64) -> Option<ProgressBar> {
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
