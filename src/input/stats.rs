//! Per-shard counters: documents read, records skipped (by reason), records broken, and every
//! error with its place.

use std::collections::BTreeMap;

use super::InputError;

/// What reading one shard (or one batch of it) found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShardStats {
    /// Documents delivered.
    pub documents: u64,
    /// Records that are not documents by design (WARC requests, revisits, non-HTML responses,
    /// blank lines) or are over the size limit, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Records that should have been documents but could not be read.
    pub broken: u64,
    /// Every problem, with file and line or offset, in the order of the input.
    pub errors: Vec<InputError>,
    /// Compressed (on-disk) bytes consumed.
    pub compressed_bytes: u64,
    /// Decompressed bytes seen.
    pub decompressed_bytes: u64,
    /// True when the shard could not be read to its end.
    pub incomplete: bool,
}

impl ShardStats {
    /// Stats of a shard that could not even be opened.
    pub fn from_open_error(e: InputError) -> ShardStats {
        ShardStats {
            errors: vec![e],
            incomplete: true,
            ..ShardStats::default()
        }
    }

    /// Total records skipped, over all reasons.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Counts one skipped record.
    pub fn skip(&mut self, reason: &str) {
        *self.skipped.entry(reason.to_string()).or_insert(0) += 1;
    }

    /// Records a broken record and its error.
    pub fn broken(&mut self, e: InputError) {
        self.broken += 1;
        self.errors.push(e);
    }

    /// Records an error that did not lose a record (e.g. repaired UTF-8).
    pub fn warn(&mut self, e: InputError) {
        self.errors.push(e);
    }

    /// Adds `other` to `self`; errors are appended in order.
    pub fn merge(&mut self, other: ShardStats) {
        self.documents += other.documents;
        for (reason, n) in other.skipped {
            *self.skipped.entry(reason).or_insert(0) += n;
        }
        self.broken += other.broken;
        self.errors.extend(other.errors);
        self.compressed_bytes += other.compressed_bytes;
        self.decompressed_bytes += other.decompressed_bytes;
        self.incomplete |= other.incomplete;
    }

    /// Orders errors by line, then byte offset (stable, so equal places keep input order).
    pub fn sort_errors(&mut self) {
        self.errors.sort_by_key(InputError::sort_key);
    }

    /// True when nothing went wrong.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty() && !self.incomplete
    }
}
