//! CSV/TSV rows -> documents: one document per data row of a file with a header row.
//!
//! This module owns finding the text, id and URL columns from the header, streaming rows with the
//! `csv` crate (quoted multi-line fields, ragged rows, invalid UTF-8) and cutting them into
//! batches of owned documents of about `batch_bytes` of text.
//!
//! The `csv` crate holds a whole row in memory before handing it over, and an unterminated
//! quote turns the rest of the file into one field. So the stream is read through a
//! [`RowLimit`] that fails once the current row has run more than [`ROW_SLACK`] bytes past
//! `max_doc_bytes`: the shard is then reported broken and the rest is not read, since where
//! the row ends cannot be known without the quote state.

use std::borrow::Cow;
use std::io::{self, BufRead, Read};
use std::sync::Arc;

use super::batch::{BatchKind, Framer, Stream};
use super::{find_column, ErrorKind, InputError, OwnedDocument, Position, ReadOptions, ShardStats};

/// How far past `max_doc_bytes` a row may run before reading stops: room for the other
/// columns and the `csv` crate's read-ahead buffer.
const ROW_SLACK: u64 = 64 * 1024;

/// Fails a read once the row being parsed has run past its limit, so a huge row (or an
/// unterminated quote) cannot make the `csv` crate buffer the whole stream.
struct RowLimit {
    inner: Box<dyn BufRead + Send>,
    /// Bytes handed to the `csv` crate so far.
    read: u64,
    /// Byte offset where the current row starts (the crate's `position().byte()`).
    row_start: u64,
    /// Line where the current row starts.
    row_line: u64,
    /// Most bytes a row may take, read-ahead included.
    limit: u64,
    /// Set once the limit was hit.
    tripped: bool,
}

impl Read for RowLimit {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read.saturating_sub(self.row_start) > self.limit {
            self.tripped = true;
            return Err(io::Error::other("row too long"));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Streams the rows of a CSV/TSV shard as batches of documents.
pub(crate) struct CsvFramer {
    reader: csv::Reader<RowLimit>,
    shard: Arc<str>,
    columns: Columns,
    header_len: usize,
    /// Kaggle exports written by pandas with an unnamed index column sometimes have one more
    /// header name (an empty one, first) than fields per row; such rows are read shifted by one.
    unnamed_index: bool,
    record: csv::ByteRecord,
    batch_bytes: usize,
    max_doc_bytes: usize,
    /// Decompressed bytes already counted into the stats.
    counted: u64,
    done: bool,
}

/// Header indexes of the columns a document is made of.
struct Columns {
    text: usize,
    text_name: String,
    id: Option<usize>,
    url: Option<usize>,
}

impl CsvFramer {
    /// Reads the header row and finds the columns; fails when the text column is absent or the
    /// header cannot be read.
    pub(crate) fn new(
        stream: Stream,
        shard: Arc<str>,
        opts: &ReadOptions,
        delimiter: u8,
    ) -> Result<CsvFramer, InputError> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            // Kaggle files have ragged rows; the text column is read by index when present.
            .flexible(true)
            // Records end at `\n` only: with the default (any of `\r`, `\n`, `\r\n`) the
            // crate reports a CRLF record's start one byte and one line early, at the `\n` left
            // over from the previous record. The `\r` is stripped from the last field instead.
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(RowLimit {
                inner: stream.into_reader(),
                read: 0,
                row_start: 0,
                row_line: 1,
                limit: (opts.max_doc_bytes as u64).saturating_add(ROW_SLACK),
                tripped: false,
            });
        let header = match reader.byte_headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                let limit = reader.get_ref().limit;
                return Err(if reader.get_ref().tripped {
                    row_too_long(&shard, 1, limit)
                } else {
                    csv_error(&shard, &e, 1)
                });
            }
        };
        let names: Vec<String> = (0..header.len())
            .filter_map(|i| field(&header, i))
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect();

        let text_name = opts.text_field.as_str();
        let text = find_column(&names, text_name).ok_or_else(|| {
            InputError::new(
                &*shard,
                ErrorKind::MissingColumn {
                    column: text_name.to_string(),
                    columns: names.clone(),
                },
            )
        })?;
        let id = find_column(&names, opts.id_field.as_str());
        let url = match &opts.url_field {
            Some(f) => find_column(&names, f.as_str()),
            None => find_column(&names, "url"),
        };
        let unnamed_index = names.len() > 1 && names[0].trim().is_empty();
        Ok(CsvFramer {
            reader,
            shard,
            columns: Columns {
                text,
                text_name: names[text].clone(),
                id,
                url,
            },
            header_len: names.len(),
            unnamed_index,
            record: csv::ByteRecord::new(),
            batch_bytes: opts.batch_bytes.max(1),
            max_doc_bytes: opts.max_doc_bytes,
            counted: 0,
            done: false,
        })
    }

    /// Adds the bytes consumed since the last call to the decompressed-byte counter.
    fn count_bytes(&mut self, stats: &mut ShardStats) {
        let now = self.reader.position().byte();
        stats.decompressed_bytes += now.saturating_sub(self.counted);
        self.counted = now;
    }

    /// Turns the current record into a document, or records why it cannot be one.
    fn document(&self, stats: &mut ShardStats) -> Option<OwnedDocument> {
        let rec = &self.record;
        let (line, offset) = rec
            .position()
            .map(|p| (p.line(), p.byte()))
            .unwrap_or((0, 0));
        if rec.len() == 1 && rec.get(0) == Some(b"\r") {
            // A blank CRLF line (see the terminator in `new`); the crate skips blank LF lines.
            return None;
        }
        let shift = usize::from(self.unnamed_index && rec.len() + 1 == self.header_len);
        let cell = |idx: usize| idx.checked_sub(shift).and_then(|i| field(rec, i));

        let Some(text) = cell(self.columns.text) else {
            stats.broken(
                InputError::new(
                    &*self.shard,
                    ErrorKind::Csv(format!(
                        "row has {} fields; the header has {} and the text column {:?} is field {}",
                        rec.len(),
                        self.header_len,
                        self.columns.text_name,
                        self.columns.text + 1
                    )),
                )
                .at_line(line)
                .at_offset(offset),
            );
            return None;
        };
        if text.len() > self.max_doc_bytes {
            stats.skip("oversized");
            return None;
        }

        let mut bad_utf8 = false;
        let mut decode = |b: &[u8]| match String::from_utf8_lossy(b) {
            Cow::Borrowed(s) => s.to_string(),
            Cow::Owned(s) => {
                bad_utf8 = true;
                s
            }
        };
        let text = decode(text);
        let id = self
            .columns
            .id
            .and_then(cell)
            .filter(|v| !v.is_empty())
            .map(&mut decode)
            .unwrap_or_else(|| format!("{}:{}", self.shard, line));
        let url = self
            .columns
            .url
            .and_then(cell)
            .filter(|v| !v.is_empty())
            .map(&mut decode);
        if bad_utf8 {
            stats.warn(
                InputError::new(&*self.shard, ErrorKind::InvalidUtf8)
                    .at_line(line)
                    .at_offset(offset),
            );
        }
        Some(OwnedDocument {
            id,
            url,
            text,
            date: None,
            dump: None,
            position: Position { line, offset },
        })
    }
}

impl Framer for CsvFramer {
    fn next_batch(&mut self, stats: &mut ShardStats) -> Option<BatchKind> {
        if self.done {
            return None;
        }
        let mut docs = Vec::new();
        let mut text_bytes = 0usize;
        while text_bytes < self.batch_bytes {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {
                    let next_row = self.reader.position().clone();
                    let limits = self.reader.get_mut();
                    limits.row_start = next_row.byte();
                    limits.row_line = next_row.line();
                    if let Some(doc) = self.document(stats) {
                        // The fixed part stands for the document's own overhead, so that a file
                        // of empty cells still comes in bounded batches.
                        text_bytes += doc.text.len() + doc.id.len() + 64;
                        docs.push(doc);
                    }
                }
                Ok(false) => {
                    self.done = true;
                    break;
                }
                Err(e) => {
                    // The rest of the stream is unreadable (truncated or corrupt compressed
                    // data): keep what came before and stop.
                    let line = self.reader.position().line();
                    stats.incomplete = true;
                    let limits = self.reader.get_ref();
                    stats.broken(if limits.tripped {
                        row_too_long(&self.shard, limits.row_line, limits.limit)
                    } else {
                        csv_error(&self.shard, &e, line)
                    });
                    self.done = true;
                    break;
                }
            }
        }
        self.count_bytes(stats);
        if docs.is_empty() && self.done {
            None
        } else {
            Some(BatchKind::Docs(docs))
        }
    }
}

/// A field of a record, without the `\r` of a CRLF line ending on the last one.
fn field(rec: &csv::ByteRecord, i: usize) -> Option<&[u8]> {
    let f = rec.get(i)?;
    if i + 1 == rec.len() {
        Some(f.strip_suffix(b"\r").unwrap_or(f))
    } else {
        Some(f)
    }
}

/// The error for a row cut off by [`RowLimit`].
fn row_too_long(shard: &str, line: u64, limit: u64) -> InputError {
    InputError::new(
        shard,
        ErrorKind::Csv(format!(
            "row starting at line {line} runs past {limit} bytes (an unterminated quote?); \
             the rest of the file is not read"
        )),
    )
    .at_line(line)
}

/// Converts a `csv` error; I/O errors are the decompressor's, so they are reported as such.
fn csv_error(shard: &str, e: &csv::Error, fallback_line: u64) -> InputError {
    let line = e.position().map(|p| p.line()).unwrap_or(fallback_line);
    let kind = match e.kind() {
        csv::ErrorKind::Io(io) => ErrorKind::Decompress(io.to_string()),
        _ => ErrorKind::Csv(e.to_string()),
    };
    InputError::new(shard, kind).at_line(line)
}
