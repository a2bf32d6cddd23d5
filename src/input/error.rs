//! Input errors: what went wrong, in which file, at which line or byte offset.

use std::fmt;

/// What went wrong while reading a shard.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be opened or read.
    Io(String),
    /// The compressed stream is corrupt or truncated.
    Decompress(String),
    /// The compression format is known but not supported (e.g. bzip2).
    UnsupportedCompression(&'static str),
    /// A JSON line could not be parsed.
    InvalidJson(String),
    /// A required field is absent.
    MissingField(String),
    /// A field is present but not a string.
    NotAString(String),
    /// Invalid UTF-8 was replaced by U+FFFD; the document was still delivered.
    InvalidUtf8,
    /// A WARC record is malformed (bad header, wrong Content-Length, bad chunking, ...).
    Warc(String),
    /// A CSV/TSV row could not be read.
    Csv(String),
    /// The text column of a CSV/TSV or Parquet file does not exist.
    MissingColumn {
        /// The column asked for.
        column: String,
        /// The columns the file has.
        columns: Vec<String>,
    },
    /// A Parquet file could not be read.
    Parquet(String),
    /// The shard holds no bytes at all (after decompression).
    Empty,
    /// The input cannot be read in this way (e.g. Parquet from standard input).
    Unsupported(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Io(m) => write!(f, "cannot read: {m}"),
            ErrorKind::Decompress(m) => write!(f, "corrupt or truncated compressed stream: {m}"),
            ErrorKind::UnsupportedCompression(c) => {
                write!(f, "{c} compression is not supported (use gzip or zstd)")
            }
            ErrorKind::InvalidJson(m) => write!(f, "invalid JSON: {m}"),
            ErrorKind::MissingField(name) => write!(f, "field {name:?} is missing"),
            ErrorKind::NotAString(name) => write!(f, "field {name:?} is not a string"),
            ErrorKind::InvalidUtf8 => {
                write!(f, "invalid UTF-8 replaced with U+FFFD (document kept)")
            }
            ErrorKind::Warc(m) => write!(f, "malformed WARC record: {m}"),
            ErrorKind::Csv(m) => write!(f, "bad CSV row: {m}"),
            ErrorKind::MissingColumn { column, columns } => write!(
                f,
                "no column {column:?}; the columns are: {}",
                columns
                    .iter()
                    .map(|c| format!("{c:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ErrorKind::Parquet(m) => write!(f, "cannot read Parquet: {m}"),
            ErrorKind::Empty => write!(f, "the file is empty"),
            ErrorKind::Unsupported(m) => write!(f, "{m}"),
        }
    }
}

/// An error in one shard, with the place it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    path: String,
    line: Option<u64>,
    offset: Option<u64>,
    kind: ErrorKind,
}

impl InputError {
    /// An error concerning the whole file.
    pub fn new(path: impl Into<String>, kind: ErrorKind) -> InputError {
        InputError {
            path: path.into(),
            line: None,
            offset: None,
            kind,
        }
    }

    /// Sets the 1-based line number.
    pub fn at_line(mut self, line: u64) -> InputError {
        self.line = Some(line);
        self
    }

    /// Sets the byte offset in the decompressed stream.
    pub fn at_offset(mut self, offset: u64) -> InputError {
        self.offset = Some(offset);
        self
    }

    /// The shard's path as given.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The 1-based line number, where the format has lines.
    pub fn line(&self) -> Option<u64> {
        self.line
    }

    /// The byte offset in the decompressed stream, where known.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The message without the location.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }

    /// A key that orders errors by where they happened.
    pub(crate) fn sort_key(&self) -> (u64, u64) {
        (self.line.unwrap_or(0), self.offset.unwrap_or(0))
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        match (self.line, self.offset) {
            (Some(line), Some(offset)) => write!(f, ":{line} (byte {offset})")?,
            (Some(line), None) => write!(f, ":{line}")?,
            (None, Some(offset)) => write!(f, ": byte {offset}")?,
            (None, None) => {}
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for InputError {}
