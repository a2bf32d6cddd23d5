//! The run summary (`summary.json`): totals, one row per shard, every input error, and what
//! produced the run (version, lexicon name and hash, options). Schema in docs/summary.md.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::input::{InputError, ShardStats};
use crate::scan::bytemask::at_most_space_mask;
use crate::scan::{Label, Verdict};

/// Counts words: maximal runs of bytes above 0x20 (space and ASCII control characters,
/// which include all ASCII whitespace, separate words; UTF-8 multi-byte characters are word
/// bytes).
///
/// 64 bytes at a time: a byte-at-a-time loop took a third of the whole scan time in a profile
/// of `tropescan scan -j1` on 119 MB of JSONL; eight bytes at a time with bit tricks still cost
/// 2.1 instructions per byte (a popcount per eight bytes: x86_64's baseline has no `popcnt`),
/// one mask and one popcount per 64 bytes about 0.5 (docs/PERFORMANCE.md, session 4). With
/// AVX2 and POPCNT (checked at run time) the mask takes two compares instead of four and the
/// popcount one instruction instead of ~15: 36 M -> 16 M instructions per 40 MB of JSONL
/// (session 6).
pub fn count_words(text: &str) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if crate::scan::bytemask::avx2_popcnt_available() {
        // SAFETY: the CPU has AVX2 and POPCNT, checked just above.
        return unsafe { count_words_avx2(text.as_bytes()) };
    }
    count_words_in::<false>(text.as_bytes())
}

/// [`count_words`] compiled for AVX2 and POPCNT.
///
/// # Safety
/// The CPU must have AVX2 and POPCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
unsafe fn count_words_avx2(bytes: &[u8]) -> u64 {
    count_words_in::<true>(bytes)
}

/// The loop of [`count_words`]; `AVX2` picks the separator mask. Always inlined, so that in
/// [`count_words_avx2`] it is compiled with that function's target features (`count_ones`
/// becomes one `popcnt`).
#[inline(always)]
fn count_words_in<const AVX2: bool>(bytes: &[u8]) -> u64 {
    let mut words = 0u64;
    // Bit 0: "the byte before this block is a separator"; the text starts after one.
    let mut carry = 1u64;
    let mut blocks = bytes.chunks_exact(64);
    for block in &mut blocks {
        let block = block.try_into().unwrap_or(&[0; 64]);
        let sep = separator_mask::<AVX2>(block);
        // A word starts at a word byte whose previous byte is a separator.
        words += u64::from((!sep & ((sep << 1) | carry)).count_ones());
        carry = sep >> 63;
    }
    let mut prev_sep = carry != 0;
    for &b in blocks.remainder() {
        let sep = is_separator(b);
        words += u64::from(prev_sep && !sep);
        prev_sep = sep;
    }
    words
}

/// The [`is_separator`] bytes of a block.
#[inline(always)]
fn separator_mask<const AVX2: bool>(block: &[u8; 64]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        // SAFETY: `AVX2` is true only in `count_words_avx2`, which runs only on CPUs with
        // AVX2 (its caller checks).
        return unsafe { crate::scan::bytemask::at_most_space_mask_avx2(block) };
    }
    at_most_space_mask(block)
}

/// The word separators of [`count_words`]: bytes up to 0x20 (UTF-8 bytes are all above).
fn is_separator(b: u8) -> bool {
    b <= 0x20
}

/// Adds `by` to the count of `key`, allocating the key only the first time it is seen
/// (`entry(key.to_string())` allocated and freed a String per document and label).
fn bump(map: &mut BTreeMap<String, u64>, key: &str, by: u64) {
    match map.get_mut(key) {
        Some(n) => *n += by,
        None => {
            map.insert(key.to_string(), by);
        }
    }
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
    /// Counts one document from its word and byte counts, label and flag (no category hits).
    pub fn add_document(&mut self, words: u64, text_bytes: u64, label: &str, flagged: bool) {
        self.documents += 1;
        self.text_bytes += text_bytes;
        self.words += words;
        if flagged {
            self.flagged += 1;
            self.flagged_words += words;
        }
        bump(&mut self.labels, label, 1);
        bump(&mut self.label_words, label, words);
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
            for (k, &v) in src {
                bump(dst, k, v);
            }
        }
    }
}

/// [`DocCounts`] of one batch while its documents are scored: labels in an array, categories
/// in a short list, turned into the maps once per batch by [`BatchCounts::finish`]. Per
/// document, two label and two category map lookups (a string comparison at every tree
/// level) were ~750 instructions (callgrind, docs/PERFORMANCE.md "Session 4").
#[derive(Debug, Default)]
pub struct BatchCounts {
    /// Everything but the per-label and per-category maps.
    totals: DocCounts,
    /// Documents and words per label, indexed like [`Label::ALL`].
    labels: [(u64, u64); Label::ALL.len()],
    /// Category, hits, documents with hits; in the order first seen (a lexicon has a dozen).
    categories: Vec<(String, u64, u64)>,
}

impl BatchCounts {
    /// Counts one scored document; `words` is [`count_words`] of its text (counted once by the
    /// caller, which needs it for the document record too).
    pub fn add(&mut self, text: &str, words: u64, verdict: &Verdict) {
        let t = &mut self.totals;
        t.documents += 1;
        t.text_bytes += text.len() as u64;
        t.words += words;
        if verdict.flagged {
            t.flagged += 1;
            t.flagged_words += words;
        }
        if let Some(i) = Label::ALL.iter().position(|&l| l == verdict.label) {
            self.labels[i].0 += 1;
            self.labels[i].1 += words;
        }
        for (cat, &n) in &verdict.hits {
            if n == 0 {
                continue;
            }
            match self.categories.iter_mut().find(|(c, ..)| c == cat) {
                Some((_, hits, docs)) => {
                    *hits += u64::from(n);
                    *docs += 1;
                }
                None => self.categories.push((cat.clone(), u64::from(n), 1)),
            }
        }
    }

    /// The counts, as [`DocCounts::add_document`] and the category maps would have them:
    /// labels and categories only once seen.
    pub fn finish(self) -> DocCounts {
        let mut counts = self.totals;
        for (label, &(docs, words)) in Label::ALL.iter().zip(&self.labels) {
            if docs > 0 {
                counts.labels.insert(label.name().to_string(), docs);
                counts.label_words.insert(label.name().to_string(), words);
            }
        }
        for (cat, hits, docs) in self.categories {
            counts.category_hits.insert(cat.clone(), hits);
            counts.category_documents.insert(cat, docs);
        }
        counts
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

    /// The definition, a byte at a time.
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

    #[test]
    fn words_across_64_byte_blocks() {
        // Words ending, starting and running on across the block edge at byte 64 and into the
        // tail; 0x20 and 0x21 either side of the separator limit; DEL and UTF-8 are word bytes.
        let mut cases = vec![
            "a".repeat(64),
            "a".repeat(130),
            format!("{} b", "a".repeat(63)),
            format!("{} b", "a".repeat(64)),
            format!("{}\u{1}{}", "x".repeat(63), "y".repeat(70)),
            format!("{}!{}", " ".repeat(64), "!".repeat(64)),
            format!("{}\u{7f} é日 {}", "\t".repeat(63), "z ".repeat(40)),
        ];
        cases.push(" ".repeat(128));
        for text in &cases {
            assert_eq!(count_words(text), naive(text), "{text:?}");
            assert_eq!(
                count_words_in::<false>(text.as_bytes()),
                naive(text),
                "{text:?}"
            );
        }
        assert_eq!(count_words(&format!("{} b", "a".repeat(64))), 2);
    }

    #[test]
    fn batch_counts_equal_counting_document_by_document() {
        use crate::lexicon::Lexicon;
        use crate::scan::{ScanConfig, Scanner};
        let scanner = Scanner::new(&Lexicon::default_english(), ScanConfig::default()).unwrap();
        let texts = [
            "Skynet becomes self-aware and launches the missiles to exterminate humanity.",
            "The weather is mild.",
            "",
            "The robot uprising: the AI turns on its makers and kills the crew.",
            "A helpful AI assistant protects the children from the storm.",
            "Skynet becomes self-aware and launches the missiles to exterminate humanity.",
        ];
        let mut batch = BatchCounts::default();
        let mut expected = DocCounts::default();
        for text in texts {
            let verdict = scanner.score(text);
            let words = count_words(text);
            batch.add(text, words, &verdict);
            // The definition: every document through the maps.
            expected.add_document(
                words,
                text.len() as u64,
                verdict.label.name(),
                verdict.flagged,
            );
            for (cat, &n) in &verdict.hits {
                if n > 0 {
                    *expected.category_hits.entry(cat.clone()).or_insert(0) += u64::from(n);
                    *expected.category_documents.entry(cat.clone()).or_insert(0) += 1;
                }
            }
        }
        let counts = batch.finish();
        assert_eq!(counts.documents, 6);
        assert!(counts.labels.len() >= 2, "{:?}", counts.labels);
        assert!(
            counts.category_hits.len() >= 2,
            "{:?}",
            counts.category_hits
        );
        assert_eq!(counts, expected);
        assert_eq!(BatchCounts::default().finish(), DocCounts::default());
    }

    #[test]
    fn counts_merge_without_losing_keys() {
        let mut a = DocCounts::default();
        a.add_document(3, 10, "none", false);
        a.add_document(5, 20, "rogue_ai_fiction", true);
        a.add_document(2, 5, "none", false);
        let mut b = DocCounts::default();
        b.add_document(7, 30, "rogue_ai_fiction", true);
        b.merge(&a);
        assert_eq!(b.documents, 4);
        assert_eq!(b.labels["none"], 2);
        assert_eq!(b.labels["rogue_ai_fiction"], 2);
        assert_eq!(b.label_words["none"], 5);
        assert_eq!(b.label_words["rogue_ai_fiction"], 12);
        assert_eq!((b.flagged, b.flagged_words, b.words), (2, 12, 17));
    }

    proptest::proptest! {
        #[test]
        fn fast_count_equals_naive(s in "[ a-z\t\n\u{e9}\u{65e5}\u{1}\u{7f}!]{0,300}") {
            proptest::prop_assert_eq!(count_words(&s), naive(&s));
            proptest::prop_assert_eq!(count_words_in::<false>(s.as_bytes()), naive(&s));
        }
    }
}
