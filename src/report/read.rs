//! Reading scan runs: a run's `summary.json`, and each shard's `documents/` records counted
//! into an [`Aggregate`]. Bad files never stop the report: each fault is a [`ReportError`]
//! naming the file and line, and the rest is counted.

use std::fs;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use super::aggregate::{Aggregate, AggregateOptions};
use super::labels::{LabelIndex, LabelMatches};
use crate::input::{codec, Compression};
use crate::output::{safe_output_path, DocumentRecord, Summary};

/// A problem with a scan run's files.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `summary.json` is not a tropescan summary.
    #[error("{}: not a tropescan summary: {message}", path.display())]
    Summary {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A line of a documents file is not a record.
    #[error("{}:{line}: not a document record: {message}", path.display())]
    Record {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// Why.
        message: String,
    },
    /// A documents file has another number of records than the summary says.
    #[error("{}: {found} records, but summary.json counts {expected} documents", path.display())]
    Count {
        /// The file.
        path: PathBuf,
        /// Documents in the summary row.
        expected: u64,
        /// Records read.
        found: u64,
    },
    /// A shard has no records file: the run was made by a tropescan without `documents/`.
    #[error("{}: missing: rescan this shard with a tropescan that writes documents/ (`scan --resume -o` rereads only what is missing)", path.display())]
    MissingRecords {
        /// The file.
        path: PathBuf,
    },
    /// A shard's `rel` would lead outside the run folder.
    #[error(transparent)]
    Path(#[from] crate::output::PathError),
}

/// One scan run (`tropescan scan -o DIR`).
#[derive(Debug, Clone)]
pub struct ScanRun {
    /// Its folder.
    pub dir: PathBuf,
    /// Its summary.
    pub summary: Summary,
}

/// Reads `DIR/summary.json`.
pub fn open_run(dir: &Path) -> Result<ScanRun, ReportError> {
    let path = dir.join("summary.json");
    let bytes = fs::read(&path).map_err(|source| ReportError::Io {
        path: path.clone(),
        source,
    })?;
    let summary = serde_json::from_slice(&bytes).map_err(|e| ReportError::Summary {
        path,
        message: e.to_string(),
    })?;
    Ok(ScanRun {
        dir: dir.to_path_buf(),
        summary,
    })
}

/// One shard of a run, to be counted.
#[derive(Debug, Clone)]
pub struct ShardInput {
    /// The shard path as the scan recorded it.
    pub source: String,
    /// Its path relative to its input root.
    pub rel: String,
    /// Its format; empty when the scan could not open it (then it has no records).
    pub format: String,
    /// Documents the summary counts.
    pub documents: u64,
    /// Its `documents/` file.
    pub records: PathBuf,
}

impl ScanRun {
    /// The run's shards, in summary order.
    pub fn shards(&self) -> Result<Vec<ShardInput>, ReportError> {
        self.summary
            .shards
            .iter()
            .map(|row| {
                Ok(ShardInput {
                    source: row.path.clone(),
                    rel: row.rel.clone(),
                    format: row.format.clone(),
                    documents: row.counts.documents,
                    records: safe_output_path(&self.dir, "documents", Path::new(&row.rel))?,
                })
            })
            .collect()
    }
}

/// What counting one shard gave.
#[derive(Debug)]
pub struct ShardResult {
    /// Its counters.
    pub aggregate: Aggregate,
    /// Its matches with the hand labels.
    pub matches: LabelMatches,
    /// Faults met.
    pub errors: Vec<ReportError>,
}

/// Counts the records of one shard.
pub fn count_shard(
    shard: &ShardInput,
    options: &AggregateOptions,
    labels: Option<&LabelIndex>,
) -> ShardResult {
    let mut out = ShardResult {
        aggregate: Aggregate::new(options.clone()),
        matches: LabelMatches::new(),
        errors: Vec::new(),
    };
    out.aggregate
        .add_shard(&shard.source, &shard.rel, &shard.format);
    if shard.format.is_empty() {
        return out;
    }
    let path = &shard.records;
    let io_err = |source| ReportError::Io {
        path: path.clone(),
        source,
    };
    let raw = match fs::read(path) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            out.errors
                .push(ReportError::MissingRecords { path: path.clone() });
            return out;
        }
        Err(e) => {
            out.errors.push(io_err(e));
            return out;
        }
    };
    let mut reader = match codec::decoder(Compression::detect(&raw), &raw[..]) {
        Ok(r) => std::io::BufReader::with_capacity(256 * 1024, r),
        Err(e) => {
            out.errors.push(io_err(e));
            return out;
        }
    };
    let mut line = Vec::new();
    let mut index = 0u64;
    let mut line_no = 0u64;
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                out.errors.push(io_err(e));
                break;
            }
        }
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<DocumentRecord>(&line) {
            Ok(record) => {
                out.aggregate.add(&shard.source, index, &record);
                if let Some(labels) = labels {
                    let number = labels.has_numbers().then_some(index + 1);
                    for i in labels.matching(&shard.source, &record.id, number) {
                        let e = out.matches.entry(i).or_insert((0, false));
                        e.0 += 1;
                        e.1 = record.flagged;
                    }
                }
            }
            Err(e) => out.errors.push(ReportError::Record {
                path: path.clone(),
                line: line_no,
                message: e.to_string(),
            }),
        }
        // A broken line still stands for a document: later indices stay aligned with the shard.
        index += 1;
    }
    if index != shard.documents {
        out.errors.push(ReportError::Count {
            path: path.clone(),
            expected: shard.documents,
            found: index,
        });
    }
    out
}
