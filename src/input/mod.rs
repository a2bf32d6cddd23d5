//! Input: shard files -> documents.
//!
//! This module owns everything between a path on disk (or standard input) and a stream of
//! [`Document`]s: discovering shards, memory-mapping them, detecting the compression from magic
//! bytes, decompressing in process, and parsing JSONL, WARC/WET/WAT, CSV/TSV, Parquet and plain
//! text. It knows nothing of scores.
//!
//! Reading is split in two stages so the scan pipeline can spread a single large shard over
//! several cores:
//!
//! 1. [`ShardReader::next_batch`] runs on one thread: it decompresses and cuts the stream into
//!    [`Batch`]es of whole records (lines, WARC records, CSV rows, Parquet rows).
//! 2. [`Batch::parse`] runs anywhere: it turns a batch into borrowed [`Document`]s handed to a
//!    callback, and returns the counters of what it saw.
//!
//! [`read_shard`] chains the two for callers that want a plain sequential loop.
//!
//! Bad input never panics and never stops the run: every fault becomes an [`InputError`] naming
//! the file and the line or byte offset, counted in the shard's [`ShardStats`].

mod batch;
mod charset;
pub mod codec;
mod csv;
pub mod discover;
mod error;
pub mod html;
mod json_skim;
mod jsonl;
mod line_numbers;
mod parquet;
mod source;
mod stats;
mod text;
mod warc;

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

pub use batch::{Batch, ShardReader};
pub use codec::Compression;
pub use discover::{discover, Shard};
pub use error::{ErrorKind, InputError};
pub use stats::ShardStats;

/// The default per-document limit: a document larger than this is skipped and counted.
pub const DEFAULT_MAX_DOC_BYTES: usize = 16 * 1024 * 1024;

/// A shard's record format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// One JSON object per line (dolma, RedPajama, C4, FineWeb, datatrove).
    Jsonl,
    /// WARC, WET or WAT: `response` records with HTML bodies and `conversion` records become
    /// documents; every other record type is skipped and counted.
    Warc,
    /// Comma-separated values with a header row: one document per row.
    Csv,
    /// Tab-separated values with a header row: one document per row.
    Tsv,
    /// Apache Parquet: one document per row.
    Parquet,
    /// Plain text: the whole file is one document.
    Text,
}

impl Format {
    /// Parses a `--format` value. `wet` and `wat` are WARC files too.
    pub fn from_name(name: &str) -> Option<Format> {
        Some(match name.to_ascii_lowercase().as_str() {
            "jsonl" | "json" | "ndjson" => Format::Jsonl,
            "warc" | "wet" | "wat" => Format::Warc,
            "csv" => Format::Csv,
            "tsv" => Format::Tsv,
            "parquet" => Format::Parquet,
            "text" | "txt" => Format::Text,
            _ => return None,
        })
    }

    /// The canonical lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Warc => "warc",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Parquet => "parquet",
            Format::Text => "text",
        }
    }
}

/// A dotted path into a JSON object (`metadata.url`), or a column name for CSV and Parquet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldPath {
    raw: String,
    parts: Vec<String>,
}

impl FieldPath {
    /// Splits `raw` on dots.
    pub fn new(raw: &str) -> FieldPath {
        FieldPath {
            raw: raw.to_string(),
            parts: raw.split('.').map(str::to_string).collect(),
        }
    }

    /// The path as the user wrote it (also the CSV/Parquet column name).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The dot-separated parts.
    pub fn parts(&self) -> &[String] {
        &self.parts
    }
}

/// How to read shards. Build one per run and share it.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Force a format instead of detecting it from the extension and content.
    pub format: Option<Format>,
    /// Where the text is (`--text-field`, default `text`).
    pub text_field: FieldPath,
    /// Where the id is (`--id-field`, default `id`).
    pub id_field: FieldPath,
    /// Where the URL is; `None` means `url`, then `metadata.url`.
    pub url_field: Option<FieldPath>,
    /// Documents larger than this many bytes are skipped and counted, never loaded.
    pub max_doc_bytes: usize,
    /// Target size of one batch of raw records in bytes.
    pub batch_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            text_field: FieldPath::new("text"),
            id_field: FieldPath::new("id"),
            url_field: None,
            max_doc_bytes: DEFAULT_MAX_DOC_BYTES,
            // 1 MiB: large enough that per-batch overhead is noise, small enough that two
            // threads' batches stay well inside the memory budget.
            batch_bytes: 1 << 20,
        }
    }
}

/// Where a document starts in its shard: a 1-based line number where the format has lines
/// (JSONL, CSV), and the byte offset in the decompressed stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// 1-based line number, 0 when the format has no lines (WARC, Parquet, text).
    pub line: u64,
    /// Byte offset of the record in the decompressed stream (row index for Parquet).
    pub offset: u64,
}

/// One document, borrowing from its batch where it can.
#[derive(Clone, Debug)]
pub struct Document<'a> {
    /// The document id; `<shard path>:<line>` when the input has none.
    pub id: Cow<'a, str>,
    /// The URL, when known.
    pub url: Option<Cow<'a, str>>,
    /// The text.
    pub text: Cow<'a, str>,
    /// A date when the input gives one (WARC-Date, `created`, `timestamp`).
    pub date: Option<Cow<'a, str>>,
    /// The crawl dump when the input gives one (dolma's `metadata.cc_segment`).
    pub dump: Option<Cow<'a, str>>,
    /// Where the document starts in its shard.
    pub position: Position,
    /// The raw bytes of the record as it stands in the decompressed shard (a JSONL line
    /// without its newline); empty for formats where that makes no sense.
    pub raw: &'a [u8],
}

/// An owned document, for readers whose records cannot be borrowed (CSV, Parquet).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnedDocument {
    /// See [`Document::id`].
    pub id: String,
    /// See [`Document::url`].
    pub url: Option<String>,
    /// See [`Document::text`].
    pub text: String,
    /// See [`Document::date`].
    pub date: Option<String>,
    /// See [`Document::dump`].
    pub dump: Option<String>,
    /// See [`Document::position`].
    pub position: Position,
}

impl OwnedDocument {
    /// A borrowed view.
    pub fn as_document(&self) -> Document<'_> {
        Document {
            id: Cow::Borrowed(&self.id),
            url: self.url.as_deref().map(Cow::Borrowed),
            text: Cow::Borrowed(&self.text),
            date: self.date.as_deref().map(Cow::Borrowed),
            dump: self.dump.as_deref().map(Cow::Borrowed),
            position: self.position,
            raw: &[],
        }
    }
}

impl Document<'_> {
    /// An owned copy.
    pub fn to_owned_document(&self) -> OwnedDocument {
        OwnedDocument {
            id: self.id.to_string(),
            url: self.url.as_ref().map(|u| u.to_string()),
            text: self.text.to_string(),
            date: self.date.as_ref().map(|d| d.to_string()),
            dump: self.dump.as_ref().map(|d| d.to_string()),
            position: self.position,
        }
    }
}

/// Reads one whole shard sequentially, handing every document to `sink`.
///
/// Never fails: a shard that cannot be opened yields stats holding that error.
/// `progress`, when given, is advanced by the compressed bytes consumed.
pub fn read_shard(
    shard: &Shard,
    opts: &ReadOptions,
    progress: Option<Arc<AtomicU64>>,
    mut sink: impl FnMut(&Document<'_>),
) -> ShardStats {
    match ShardReader::open(shard, opts, progress) {
        Ok(reader) => reader.drain(opts, &mut sink),
        Err(e) => ShardStats::from_open_error(e),
    }
}

/// `bytes` without a leading UTF-8 byte-order mark. Files written by Windows tools or as
/// `utf-8-sig` (pandas, Excel exports) start with one.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Finds a CSV header or Parquet column: an exact match first, then ignoring case and
/// surrounding whitespace (Netflix's header is ` show_id`, and users type `description` for
/// `Description`).
pub(crate) fn find_column(names: &[String], wanted: &str) -> Option<usize> {
    names.iter().position(|n| n == wanted).or_else(|| {
        let wanted = wanted.trim();
        names
            .iter()
            .position(|n| n.trim().eq_ignore_ascii_case(wanted))
    })
}

/// Where a shard's display name comes from for standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// Returns the path of a shard as shown in messages and ids.
pub(crate) fn display_path(path: &std::path::Path) -> String {
    if path.as_os_str() == "-" {
        STDIN_NAME.to_string()
    } else {
        path.display().to_string()
    }
}

/// Paths given on the command line.
pub type Inputs = Vec<PathBuf>;
