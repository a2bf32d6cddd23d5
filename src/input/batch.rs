//! The two reading stages: [`ShardReader`] cuts a shard into [`Batch`]es of whole records on one
//! thread; [`Batch::parse`] turns a batch into documents on any thread.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::codec::{self, Compression};
use super::source::{buffered, CountingReader, SharedBytes, SharedReader, Source};
use super::{
    csv, jsonl, parquet, text, warc, Document, ErrorKind, Format, InputError, OwnedDocument,
    ReadOptions, Shard, ShardStats,
};

/// The decompressed bytes of a shard, as the framers see them.
pub(crate) enum Stream {
    /// An uncompressed file mapped into memory: batches borrow from it without copying.
    Mapped(Arc<SharedBytes>),
    /// Everything else.
    Reader(Box<dyn BufRead + Send>),
}

/// Cuts a decompressed stream into batches of whole records. One per shard, on one thread.
pub(crate) trait Framer: Send {
    /// The next batch, or `None` at the end. Skips and errors go to `stats`.
    fn next_batch(&mut self, stats: &mut ShardStats) -> Option<BatchKind>;
}

/// The records of one batch, by format.
pub(crate) enum BatchKind {
    Lines(jsonl::LineBatch),
    Warc(warc::RecordBatch),
    Docs(Vec<OwnedDocument>),
}

/// A run of whole records from one shard. `Send`, so it can be parsed on another thread.
pub struct Batch {
    seq: u64,
    shard: Arc<str>,
    kind: BatchKind,
}

impl Batch {
    /// The batch's sequence number within its shard, from 0.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// For JSONL, the batch's raw bytes (whole lines with their terminators, including lines
    /// that are not documents) and their offset in the decompressed stream; `None` for
    /// other formats. Lets `filter` copy every input byte to some output.
    pub fn raw_lines(&self) -> Option<(&[u8], u64)> {
        match &self.kind {
            BatchKind::Lines(b) => Some((b.bytes(), b.start_offset())),
            _ => None,
        }
    }

    /// Parses the batch, handing each document to `sink` in input order.
    pub fn parse(&self, opts: &ReadOptions, sink: &mut dyn FnMut(&Document<'_>)) -> ShardStats {
        let mut stats = ShardStats::default();
        match &self.kind {
            BatchKind::Lines(b) => jsonl::parse_lines(b, &self.shard, opts, sink, &mut stats),
            BatchKind::Warc(b) => warc::parse_records(b, &self.shard, opts, sink, &mut stats),
            BatchKind::Docs(docs) => {
                for d in docs {
                    sink(&d.as_document());
                    stats.documents += 1;
                }
            }
        }
        stats
    }
}

/// Reads one shard as a sequence of batches.
pub struct ShardReader {
    shard: Arc<str>,
    framer: Option<Box<dyn Framer>>,
    stats: ShardStats,
    compressed: Arc<AtomicU64>,
    seq: u64,
    format: Format,
    compression: Compression,
}

impl ShardReader {
    /// Opens a shard: maps or streams it, detects compression and format, and sets up the
    /// framer. Fails only when the shard cannot be read at all.
    pub fn open(
        shard: &Shard,
        opts: &ReadOptions,
        progress: Option<Arc<AtomicU64>>,
    ) -> Result<ShardReader, InputError> {
        let name = shard.name.clone();
        let err = |kind| InputError::new(&*name, kind);
        let source = Source::open(&shard.path).map_err(|e| err(ErrorKind::Io(e.to_string())))?;
        let compressed = Arc::new(AtomicU64::new(0));

        // Plain mapped files: no decoder, batches share the map.
        let (compression, stream) = match source {
            Source::Bytes(bytes) => {
                let compression = Compression::detect(bytes.as_slice());
                if compression == Compression::None {
                    if let Some(p) = &progress {
                        // Mapped plain bytes are "read" as they are framed; count them up front
                        // so progress matches the size on disk.
                        p.fetch_add(bytes.as_slice().len() as u64, Ordering::Relaxed);
                    }
                    compressed.store(bytes.as_slice().len() as u64, Ordering::Relaxed);
                    (compression, Stream::Mapped(bytes))
                } else {
                    let counted =
                        CountingReader::new(SharedReader::new(bytes), compressed.clone(), progress);
                    let dec = codec::decoder(compression, counted)
                        .map_err(|_| err(ErrorKind::UnsupportedCompression(compression.name())))?;
                    (
                        compression,
                        Stream::Reader(Box::new(BufReader::with_capacity(256 * 1024, dec))),
                    )
                }
            }
            Source::Stream(r) => decode_stream(&name, r, compressed.clone(), progress)?,
        };

        Self::with_stream(shard, name, stream, compression, compressed, opts)
    }

    /// Reads a shard from any byte stream (compressed or not), e.g. an object-store download.
    /// `name` is used in messages and default ids; `format` as if given by `--format` (detected
    /// from `name`'s extension, then the content, when `None`).
    pub fn from_reader(
        name: &str,
        reader: Box<dyn Read + Send>,
        format: Option<Format>,
        opts: &ReadOptions,
    ) -> Result<ShardReader, InputError> {
        let mut shard = Shard::from_path(std::path::Path::new(name));
        shard.format_hint = format.or(shard.format_hint);
        let name: Arc<str> = name.into();
        let compressed = Arc::new(AtomicU64::new(0));
        let (compression, stream) = decode_stream(&name, reader, compressed.clone(), None)?;
        Self::with_stream(&shard, name, stream, compression, compressed, opts)
    }

    fn with_stream(
        shard: &Shard,
        name: Arc<str>,
        mut stream: Stream,
        compression: Compression,
        compressed: Arc<AtomicU64>,
        opts: &ReadOptions,
    ) -> Result<ShardReader, InputError> {
        let err = |kind| InputError::new(&*name, kind);
        let format = match opts.format.or(shard.format_hint) {
            Some(f) => f,
            None => sniff_format(&mut stream),
        };
        let framer: Box<dyn Framer> = match format {
            Format::Jsonl => Box::new(jsonl::LineFramer::new(stream, name.clone(), opts)),
            Format::Warc => Box::new(warc::WarcFramer::new(stream, name.clone(), opts)),
            Format::Csv | Format::Tsv => {
                let delimiter = match format {
                    Format::Tsv => b'\t',
                    _ => csv_delimiter(&peek_head(&mut stream)),
                };
                Box::new(csv::CsvFramer::new(stream, name.clone(), opts, delimiter)?)
            }
            Format::Parquet => {
                let bytes = match stream {
                    Stream::Mapped(bytes) => bytes,
                    // Parquet needs random access (the footer is at the end): spool a stream
                    // to an anonymous temporary file on disk and map that, never to memory.
                    Stream::Reader(r) => spool_to_map(r).map_err(|e| {
                        err(ErrorKind::Io(format!(
                            "cannot spool Parquet stream to a temporary file: {e}"
                        )))
                    })?,
                };
                Box::new(parquet::ParquetFramer::new(bytes, name.clone(), opts)?)
            }
            Format::Text => Box::new(text::TextFramer::new(stream, name.clone(), opts)),
        };
        Ok(ShardReader {
            shard: name,
            framer: Some(framer),
            stats: ShardStats::default(),
            compressed,
            seq: 0,
            format,
            compression,
        })
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The compression detected.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The next batch, or `None` when the shard is exhausted (or could not be read further;
    /// the reason is in the stats).
    pub fn next_batch(&mut self) -> Option<Batch> {
        let framer = self.framer.as_mut()?;
        match framer.next_batch(&mut self.stats) {
            Some(kind) => {
                let seq = self.seq;
                self.seq += 1;
                Some(Batch {
                    seq,
                    shard: self.shard.clone(),
                    kind,
                })
            }
            None => {
                self.framer = None;
                None
            }
        }
    }

    /// The framing-stage counters (skips, framing errors, bytes). Merge each batch's
    /// [`Batch::parse`] stats into these for the shard's total.
    pub fn finish(mut self) -> ShardStats {
        self.framer = None;
        self.stats.compressed_bytes = self.compressed.load(Ordering::Relaxed);
        if self.stats.decompressed_bytes == 0
            && self.stats.errors.is_empty()
            && self.format != Format::Parquet
        {
            // An empty shard is almost always a failed upstream write: say so.
            self.stats
                .warn(InputError::new(&*self.shard, ErrorKind::Empty).at_offset(0));
        }
        self.stats
    }

    /// Reads every remaining batch on this thread, handing documents to `sink`; returns the
    /// shard's complete stats.
    pub fn drain(mut self, opts: &ReadOptions, sink: &mut dyn FnMut(&Document<'_>)) -> ShardStats {
        let mut parsed = ShardStats::default();
        while let Some(batch) = self.next_batch() {
            parsed.merge(batch.parse(opts, sink));
        }
        let mut stats = self.finish();
        stats.merge(parsed);
        stats.sort_errors();
        stats
    }
}

/// Detects the compression of a stream from its first bytes and wraps it in the decoder.
fn decode_stream(
    name: &str,
    reader: Box<dyn Read + Send>,
    compressed: Arc<AtomicU64>,
    progress: Option<Arc<AtomicU64>>,
) -> Result<(Compression, Stream), InputError> {
    let err = |kind| InputError::new(name, kind);
    let counted = CountingReader::new(reader, compressed, progress);
    // A pipe may hand over a single byte per read: gather enough for the magic numbers.
    let (head, rest) = peek(counted, 8).map_err(|e| err(ErrorKind::Io(e.to_string())))?;
    let compression = Compression::detect(&head);
    let raw = buffered(Box::new(io::Cursor::new(head).chain(rest)));
    let dec: Box<dyn Read + Send> = codec::decoder(compression, raw)
        .map_err(|_| err(ErrorKind::UnsupportedCompression(compression.name())))?;
    Ok((
        compression,
        Stream::Reader(Box::new(BufReader::with_capacity(256 * 1024, dec))),
    ))
}

/// Copies a stream into an anonymous temporary file and maps it.
fn spool_to_map(mut r: Box<dyn BufRead + Send>) -> io::Result<Arc<SharedBytes>> {
    let mut file = tempfile::tempfile()?;
    let n = io::copy(&mut r, &mut file)?;
    if n == 0 {
        return Ok(Arc::new(SharedBytes::Owned(Vec::new())));
    }
    // SAFETY: the file is anonymous (already unlinked) and owned by this process alone, so
    // nothing else can change it under the map.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    Ok(Arc::new(SharedBytes::Mapped(map)))
}

/// Reads up to `n` bytes from the start of `r` (fewer only at end of stream), returning them
/// and the reader positioned after them.
fn peek<R: Read>(mut r: R, n: usize) -> io::Result<(Vec<u8>, R)> {
    let mut head = vec![0u8; n];
    let mut filled = 0;
    while filled < n {
        match r.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(filled);
    Ok((head, r))
}

/// Guesses the format of a stream with no telling extension from its first bytes.
fn sniff_format(stream: &mut Stream) -> Format {
    sniff_bytes(&peek_head(stream))
}

/// The first 4 KiB of `stream`, which still yields them afterwards.
fn peek_head(stream: &mut Stream) -> Vec<u8> {
    match stream {
        Stream::Mapped(b) => b.as_slice()[..b.as_slice().len().min(4096)].to_vec(),
        Stream::Reader(r) => {
            let inner = std::mem::replace(r, Box::new(io::empty()));
            let (head, rest) = match peek(inner, 4096) {
                Ok(x) => x,
                // The error will surface again on the first real read.
                Err(_) => (Vec::new(), Box::new(io::empty()) as Box<dyn BufRead + Send>),
            };
            *r = Box::new(BufReader::new(io::Cursor::new(head.clone()).chain(rest)));
            head
        }
    }
}

/// The field delimiter of a `.csv` file from its header line: `;` (spreadsheets in locales
/// with a decimal comma write it) or `|` when the header has no comma outside quotes but has
/// one of those; otherwise `,`. Only the header is looked at: it holds no free text, so a
/// separator in it is the delimiter.
fn csv_delimiter(head: &[u8]) -> u8 {
    let line = super::strip_bom(head)
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'|' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    match counts {
        [0, semi, pipe] if semi > 0 && semi >= pipe => b';',
        [0, _, pipe] if pipe > 0 => b'|',
        _ => b',',
    }
}

fn sniff_bytes(head: &[u8]) -> Format {
    // A UTF-8 byte-order mark (`utf-8-sig` writers) comes before the first `{` or `WARC/`.
    let trimmed = super::strip_bom(head);
    let trimmed = trimmed
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &trimmed[i..])
        .unwrap_or(&[]);
    if trimmed.starts_with(b"WARC/") {
        Format::Warc
    } else if trimmed.starts_with(b"{") {
        Format::Jsonl
    } else if head.starts_with(b"PAR1") {
        Format::Parquet
    } else {
        Format::Text
    }
}

impl Stream {
    /// The stream as a buffered reader, for framers that parse sequentially.
    pub(crate) fn into_reader(self) -> Box<dyn BufRead + Send> {
        match self {
            Stream::Mapped(b) => Box::new(SharedReader::new(b)),
            Stream::Reader(r) => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_bom_removes_only_a_leading_utf8_mark() {
        use crate::input::strip_bom;
        assert_eq!(strip_bom(b"\xEF\xBB\xBF{}"), b"{}");
        assert_eq!(strip_bom(b"{}\xEF\xBB\xBF"), b"{}\xEF\xBB\xBF");
        assert_eq!(strip_bom(b"\xEF\xBB{}"), b"\xEF\xBB{}");
        assert_eq!(strip_bom(b""), b"");
    }

    #[test]
    fn csv_delimiter_from_the_header_line() {
        assert_eq!(csv_delimiter(b"id,text\n1;2,a;b\n"), b',');
        assert_eq!(csv_delimiter(b"id;text;url\n1;\"a, b\";u\n"), b';');
        assert_eq!(csv_delimiter(b"\xEF\xBB\xBFid;text\n"), b';');
        assert_eq!(csv_delimiter(b"id|text\n"), b'|');
        // A comma outside quotes wins; separators inside quoted names do not count.
        assert_eq!(csv_delimiter(b"\"a;b\",text\n"), b',');
        assert_eq!(csv_delimiter(b"\"a,b\";text\n"), b';');
        // One column, or nothing: the default.
        assert_eq!(csv_delimiter(b"text\nThe AI; it lied\n"), b',');
        assert_eq!(csv_delimiter(b""), b',');
    }

    #[test]
    fn sniffs_formats_from_the_first_bytes() {
        assert_eq!(sniff_bytes(b"{\"id\":1}"), Format::Jsonl);
        assert_eq!(sniff_bytes(b"\n  {\"id\":1}"), Format::Jsonl);
        assert_eq!(sniff_bytes(b"\xEF\xBB\xBF{\"id\":1}"), Format::Jsonl);
        assert_eq!(sniff_bytes(b"WARC/1.0\r\n"), Format::Warc);
        assert_eq!(sniff_bytes(b"\xEF\xBB\xBFWARC/1.0\r\n"), Format::Warc);
        assert_eq!(sniff_bytes(b"PAR1\x15"), Format::Parquet);
        assert_eq!(sniff_bytes(b"Once upon a time"), Format::Text);
        assert_eq!(sniff_bytes(b"\xEF\xBB\xBFOnce"), Format::Text);
        assert_eq!(sniff_bytes(b""), Format::Text);
    }
}
