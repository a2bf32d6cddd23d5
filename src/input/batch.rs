//! The two reading stages: [`ShardReader`] cuts a shard into [`Batch`]es of whole records on one
//! thread; [`Batch::parse`] turns a batch into documents on any thread.

use std::io::{BufRead, BufReader, Read};
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
            Source::Stream(r) => {
                let mut raw = buffered(Box::new(CountingReader::new(
                    r,
                    compressed.clone(),
                    progress,
                )));
                let head = raw
                    .fill_buf()
                    .map_err(|e| err(ErrorKind::Io(e.to_string())))?;
                let compression = Compression::detect(head);
                let dec: Box<dyn Read + Send> = codec::decoder(compression, raw)
                    .map_err(|_| err(ErrorKind::UnsupportedCompression(compression.name())))?;
                (
                    compression,
                    Stream::Reader(Box::new(BufReader::with_capacity(256 * 1024, dec))),
                )
            }
        };

        let mut stream = stream;
        let format = match opts.format.or(shard.format_hint) {
            Some(f) => f,
            None => sniff_format(&mut stream),
        };
        let framer: Box<dyn Framer> = match format {
            Format::Jsonl => Box::new(jsonl::LineFramer::new(stream, name.clone(), opts)),
            Format::Warc => Box::new(warc::WarcFramer::new(stream, name.clone(), opts)),
            Format::Csv | Format::Tsv => {
                let delimiter = if format == Format::Tsv { b'\t' } else { b',' };
                Box::new(csv::CsvFramer::new(stream, name.clone(), opts, delimiter)?)
            }
            Format::Parquet => {
                let Stream::Mapped(bytes) = stream else {
                    let why = if shard.is_stdin() {
                        "Parquet cannot be read from standard input; pass the file path"
                    } else {
                        "Parquet files must be uncompressed, seekable files"
                    };
                    return Err(err(ErrorKind::Unsupported(why.into())));
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
        self.stats
    }
}

/// Guesses the format of a stream with no telling extension from its first bytes.
fn sniff_format(stream: &mut Stream) -> Format {
    let head: &[u8] = match stream {
        Stream::Mapped(b) => b.as_slice(),
        Stream::Reader(r) => r.fill_buf().unwrap_or(&[]),
    };
    let head = &head[..head.len().min(4096)];
    let trimmed = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &head[i..])
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
