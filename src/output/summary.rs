//! The run summary (`summary.json`): totals, one row per shard, every input error, and what
//! produced the run (version, lexicon name and hash, options). Schema in docs/summary.md.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::input::{InputError, ShardStats};
use crate::scan::Verdict;

/// Counts words: maximal runs of bytes above 0x20 (space and ASCII control characters,
/// which include all ASCII whitespace, separate words; UTF-8 multi-byte characters are word
/// bytes).
///
/// Eight bytes at a time with bit tricks: a byte-at-a-time loop took a third of the whole scan
/// time in a profile of `tropescan scan -j1` on 119 MB of JSONL.
pub fn count_words(text: &str) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let bytes = text.as_bytes();
    let mut words = 0u64;
    // High bit of each byte set where that byte is a separator; starts "after a separator".
    let mut prev_sep_top = 0x80u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        // Exact per-byte "b < 0x21": adding 0x5f to the low 7 bits sets bit 7 iff b >= 0x21;
        // bytes with bit 7 set (UTF-8) are never separators.
        let sep = !(((w & !HI) + 0x5f * LO) | w) & HI;
        let prev = (sep << 8) | prev_sep_top;
        words += u64::from((!sep & HI & prev).count_ones());
        prev_sep_top = (sep >> 56) & 0x80;
    }
    let mut prev_sep = prev_sep_top != 0;
    for &b in chunks.remainder() {
        let sep = b < 0x21;
        words += u64::from(prev_sep && !sep);
        prev_sep = sep;
    }
    words
}

/// Document-level counters, mergeable in any order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DocCounts {
    /// Documents scored.
    pub documents: u64,
    /// Bytes of text scored.
    pub text_bytes: u64,
    /// Words of text scored.
    pub words: u64,
    /// Flagged documents.
    pub flagged: u64,
    /// Words in flagged documents.
    pub flagged_words: u64,
    /// Documents per label.
    pub labels: BTreeMap<String, u64>,
    /// Words per label.
    pub label_words: BTreeMap<String, u64>,
    /// Matched terms per category, over all documents.
    pub category_hits: BTreeMap<String, u64>,
    /// Documents with at least one hit, per category.
    pub category_documents: BTreeMap<String, u64>,
}

impl DocCounts {
    /// Counts one scored document.
    pub fn add(&mut self, text: &str, verdict: &Verdict) {
        self.add_document(
            count_words(text),
            text.len() as u64,
            verdict.label.name(),
            verdict.flagged,
        );
        for (cat, n) in &verdict.hits {
            if *n > 0 {
                *self.category_hits.entry(cat.clone()).or_insert(0) += u64::from(*n);
                *self.category_documents.entry(cat.clone()).or_insert(0) += 1;
            }
        }
    }

    /// Counts one document from its word and byte counts, label and flag (no category hits).
    pub fn add_document(&mut self, words: u64, text_bytes: u64, label: &str, flagged: bool) {
        self.documents += 1;
        self.text_bytes += text_bytes;
        self.words += words;
        if flagged {
            self.flagged += 1;
            self.flagged_words += words;
        }
        *self.labels.entry(label.to_string()).or_insert(0) += 1;
        *self.label_words.entry(label.to_string()).or_insert(0) += words;
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &DocCounts) {
        self.documents += other.documents;
        self.text_bytes += other.text_bytes;
        self.words += other.words;
        self.flagged += other.flagged;
        self.flagged_words += other.flagged_words;
        for (dst, src) in [
            (&mut self.labels, &other.labels),
            (&mut self.label_words, &other.label_words),
            (&mut self.category_hits, &other.category_hits),
            (&mut self.category_documents, &other.category_documents),
        ] {
            for (k, v) in src {
                *dst.entry(k.clone()).or_insert(0) += v;
            }
        }
    }
}

/// One input error, as recorded in the summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorRow {
    /// The shard.
    pub path: String,
    /// 1-based line, where the format has lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Byte offset in the decompressed stream, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// What went wrong.
    pub message: String,
}

impl From<&InputError> for ErrorRow {
    fn from(e: &InputError) -> ErrorRow {
        ErrorRow {
            path: e.path().to_string(),
            line: e.line(),
            offset: e.offset(),
            message: e.message(),
        }
    }
}

/// One shard's row in the summary.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ShardRow {
    /// The shard path as given.
    pub path: String,
    /// The path relative to its input root (outputs mirror it).
    pub rel: String,
    /// Detected format (empty if it could not be opened).
    pub format: String,
    /// Detected compression.
    pub compression: String,
    /// Documents read and scored.
    pub documents: u64,
    /// Flagged documents.
    pub flagged: u64,
    /// Records skipped (not documents, or over the size limit).
    pub skipped: u64,
    /// Records skipped, by reason.
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// Records that could not be read.
    pub broken: u64,
    /// Number of errors (listed in the summary's `errors`).
    pub errors: u64,
    /// True when the shard could not be read to its end.
    pub incomplete: bool,
    /// Compressed bytes read.
    pub compressed_bytes: u64,
    /// Decompressed bytes seen.
    pub decompressed_bytes: u64,
    /// Wall-clock seconds spent reading and scoring the shard.
    pub seconds: f64,
    /// True when this row was carried over from an earlier run by `--resume`.
    pub resumed: bool,
    /// Document-level counts.
    pub counts: DocCounts,
}

impl ShardRow {
    /// Fills the input-side counters from a shard's stats.
    pub fn set_stats(&mut self, stats: &ShardStats) {
        self.documents = stats.documents;
        self.skipped = stats.skipped_total();
        self.skipped_by_reason = stats.skipped.clone();
        self.broken = stats.broken;
        self.errors = stats.errors.len() as u64;
        self.incomplete = stats.incomplete;
        self.compressed_bytes = stats.compressed_bytes;
        self.decompressed_bytes = stats.decompressed_bytes;
    }
}

/// The lexicon that produced a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LexiconInfo {
    /// Its name.
    pub name: String,
    /// blake3 of its source texts.
    pub hash: String,
}

/// Totals over all shards.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Shards in the run (including resumed ones).
    pub shards: u64,
    /// Shards with at least one error.
    pub shards_with_errors: u64,
    /// Records skipped.
    pub skipped: u64,
    /// Records that could not be read.
    pub broken: u64,
    /// Errors.
    pub errors: u64,
    /// Compressed bytes read.
    pub compressed_bytes: u64,
    /// Document-level counts.
    #[serde(flatten)]
    pub counts: DocCounts,
}

/// The whole `summary.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// tropescan's version.
    pub tropescan_version: String,
    /// The lexicon.
    pub lexicon: LexiconInfo,
    /// The flagging threshold.
    pub threshold: f64,
    /// Labels that can be flagged.
    pub flag_labels: Vec<String>,
    /// The options that shape the output (input fields, limits), for reproducing the run.
    pub options: BTreeMap<String, serde_json::Value>,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended (RFC 3339, UTC).
    pub finished_at: String,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Totals.
    pub totals: Totals,
    /// One row per shard, in input order.
    pub shards: Vec<ShardRow>,
    /// Every input error, in input order.
    pub errors: Vec<ErrorRow>,
}

impl Summary {
    /// Recomputes the totals from the shard rows.
    pub fn compute_totals(&mut self, extra_errors: u64) {
        let mut t = Totals {
            shards: self.shards.len() as u64,
            errors: extra_errors,
            ..Totals::default()
        };
        for row in &self.shards {
            if row.errors > 0 || row.incomplete {
                t.shards_with_errors += 1;
            }
            t.skipped += row.skipped;
            t.broken += row.broken;
            t.errors += row.errors;
            t.compressed_bytes += row.compressed_bytes;
            t.counts.merge(&row.counts);
        }
        self.totals = t;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(text: &str) -> u64 {
        let mut words = 0;
        let mut in_word = false;
        for &b in text.as_bytes() {
            let sep = b < 0x21;
            if !sep && !in_word {
                words += 1;
            }
            in_word = !sep;
        }
        words
    }

    #[test]
    fn words_are_runs_between_separators() {
        assert_eq!(count_words(""), 0);
        assert_eq!(count_words("  a  b\tc\n"), 3);
        assert_eq!(count_words("héllo wörld"), 2);
        assert_eq!(
            count_words("one two three four five six seven eight nine"),
            9
        );
        assert_eq!(count_words("abcdefgh ijklmnop"), 2);
        assert_eq!(count_words("abcdefg hijklmnop"), 2);
    }

    proptest::proptest! {
        #[test]
        fn fast_count_equals_naive(s in "[ a-z\t\n\u{e9}\u{65e5}\u{1}!]{0,80}") {
            proptest::prop_assert_eq!(count_words(&s), naive(&s));
        }
    }
}
