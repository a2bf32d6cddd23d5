//! WARC, WET and WAT records -> documents.
//!
//! This module owns the WARC container format in both reading stages:
//!
//! - [`WarcFramer`] (one thread) reads records from the decompressed stream: version line,
//!   header fields, `Content-Length` bytes of block, `\r\n\r\n` terminator. It keeps only the
//!   records that can be documents, `response` (WARC) and `conversion` (WET), and counts every
//!   other record as skipped (`warc_request`, `warc_warcinfo`, `warc_metadata`,
//!   `warc_revisit`, `warc_resource`, ...), so a WAT file yields no documents. `resource`
//!   records are skipped on purpose: crawlers use them for logs and screenshots, and warcio
//!   (whose counts we match) does not count them as pages either. Blocks over
//!   `max_doc_bytes` are read through without being held (`oversized`).
//! - [`parse_records`] (any thread) turns the kept records into documents: WET text as is;
//!   for responses the HTTP head is parsed, non-HTML payloads are skipped (`non_html`),
//!   chunked transfer coding and gzip/deflate/br/zstd content coding are undone, the charset is
//!   decoded ([`super::charset`]) and the HTML converted to text ([`super::html`]). HTTP
//!   status is not looked at: redirect and error pages with HTML bodies are documents too,
//!   as in the reference counts. A document's id is the WARC-Record-ID as written
//!   (`<urn:uuid:...>`), or `<shard>@<offset>` when the record has none; url and date are
//!   WARC-Target-URI and WARC-Date; the position is the byte offset of the record.
//!
//! Faults never stop the shard and never panic. Every error names the shard and the byte
//! offset (in the decompressed stream) of the record concerned:
//! - garbage where a version line should be: one error, then lines are skipped until one
//!   starting with `WARC/<digit>`;
//! - a block not followed by its terminator (the `Content-Length` is wrong): the record is
//!   still delivered (its bytes are what the header promised), the error is recorded, and
//!   reading resumes at the next version line;
//! - a stream that ends inside a record (truncated file, or a decompression error): the
//!   partial record is still delivered when it is a document with some bytes (a clipped page
//!   is mostly text worth scanning), the error is recorded and the shard marked incomplete;
//! - bad chunked transfer coding: the page is delivered with what de-chunked plus the rest
//!   of the bytes as they are, and a warning (see [`dechunk`]);
//! - a corrupt gzip/deflate/brotli/zstd payload: what decoded is delivered, with a warning; a
//!   binary payload that cannot be decoded at all (another coding, garbage) is a broken record.

use std::borrow::Cow;
use std::io::{self, BufRead, Read};
use std::ops::Range;
use std::sync::Arc;

use super::batch::{BatchKind, Framer, Stream};
use super::charset::{content_type_charset, decode_html, find_ci};
use super::html::html_to_text;
use super::{Document, ErrorKind, InputError, Position, ReadOptions, ShardStats};

/// Longest header line kept; the rest of a longer line is read and dropped.
const MAX_LINE: usize = 64 * 1024;
/// Largest WARC header block accepted before the record is called garbage.
const MAX_HEADER_BYTES: u64 = 1 << 20;
/// How much of a payload is sniffed for `<html` when there is no Content-Type.
const SNIFF_BYTES: usize = 1024;

/// The record types that become documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// An HTTP response: HTML payloads become documents.
    Response,
    /// A WET `conversion` record: the block is the text.
    Conversion,
}

/// One kept record; its block is `data[block]` in the batch.
struct Record {
    kind: Kind,
    offset: u64,
    id: Option<Box<str>>,
    url: Option<Box<str>>,
    date: Option<Box<str>>,
    block: Range<usize>,
    /// The stream ended inside the block (already reported by the framer).
    truncated: bool,
}

/// Kept records of one batch, their blocks back to back in one buffer.
pub(crate) struct RecordBatch {
    data: Vec<u8>,
    records: Vec<Record>,
}

/// Reads WARC records from a decompressed stream and groups the kept ones into batches.
pub(crate) struct WarcFramer {
    reader: Box<dyn BufRead + Send>,
    shard: Arc<str>,
    batch_bytes: usize,
    max_doc_bytes: usize,
    /// Decompressed bytes consumed so far.
    offset: u64,
    /// Decompressed bytes already added to the stats.
    reported: u64,
    /// Skipping lines after a fault; further garbage is not reported again.
    resyncing: bool,
    done: bool,
    line: Vec<u8>,
}

/// Whether to go on reading records.
enum Flow {
    Continue,
    End,
}

/// The header fields we use, first occurrence of each.
#[derive(Default)]
struct Headers {
    ty: Option<String>,
    id: Option<String>,
    url: Option<String>,
    date: Option<String>,
    length: Option<String>,
}

impl WarcFramer {
    pub(crate) fn new(stream: Stream, shard: Arc<str>, opts: &ReadOptions) -> WarcFramer {
        WarcFramer {
            // Mapped files are copied record by record too: HTML to text dominates the cost,
            // and one code path keeps the fault handling identical for files and streams.
            reader: stream.into_reader(),
            shard,
            batch_bytes: opts.batch_bytes.max(1),
            max_doc_bytes: opts.max_doc_bytes,
            offset: 0,
            reported: 0,
            resyncing: false,
            done: false,
            line: Vec::new(),
        }
    }

    fn error(&self, kind: ErrorKind, offset: u64) -> InputError {
        InputError::new(&*self.shard, kind).at_offset(offset)
    }

    /// The decoder (or the file) failed: nothing after this point can be trusted.
    fn read_failed(&mut self, e: &io::Error, stats: &mut ShardStats) -> Flow {
        stats.warn(self.error(ErrorKind::Decompress(e.to_string()), self.offset));
        stats.incomplete = true;
        Flow::End
    }

    fn read_line(&mut self) -> io::Result<(u64, bool)> {
        let r = read_line(&mut *self.reader, &mut self.line, MAX_LINE);
        if let Ok((n, _)) = r {
            self.offset += n;
        }
        r
    }

    /// Reads one record, appending it to `batch` when it is kept.
    fn next_record(&mut self, batch: &mut RecordBatch, stats: &mut ShardStats) -> Flow {
        // Find the version line, skipping blank lines (and garbage, reported once).
        let start = loop {
            let start = self.offset;
            let (n, newline) = match self.read_line() {
                Ok(r) => r,
                Err(e) => return self.read_failed(&e, stats),
            };
            if n == 0 {
                return Flow::End;
            }
            let line = trim_eol(&self.line);
            if line.iter().all(u8::is_ascii_whitespace) {
                if !newline {
                    return Flow::End;
                }
                continue;
            }
            if is_version_line(line) {
                break start;
            }
            if !self.resyncing {
                let msg = format!(
                    "expected a WARC version line (WARC/1.0), found {:?}; skipping to the next record",
                    preview(line)
                );
                stats.warn(self.error(ErrorKind::Warc(msg), start));
                self.resyncing = true;
            }
        };
        self.resyncing = false;

        // Header fields up to the empty line.
        let mut h = Headers::default();
        loop {
            let (n, newline) = match self.read_line() {
                Ok(r) => r,
                Err(e) => return self.read_failed(&e, stats),
            };
            if n == 0 || !newline {
                let e = self.error(
                    ErrorKind::Warc(
                        "truncated record: the stream ends inside the WARC header".into(),
                    ),
                    start,
                );
                stats.warn(e);
                stats.incomplete = true;
                return Flow::End;
            }
            if self.offset - start > MAX_HEADER_BYTES {
                let msg = "WARC header longer than 1 MiB; skipping to the next record".into();
                stats.warn(self.error(ErrorKind::Warc(msg), start));
                self.resyncing = true;
                return Flow::Continue;
            }
            let line = trim_eol(&self.line);
            if line.is_empty() {
                break;
            }
            // Folded continuation lines only ever extend fields we do not use.
            if line[0] == b' ' || line[0] == b'\t' {
                continue;
            }
            let Some(colon) = memchr::memchr(b':', line) else {
                continue;
            };
            let name = line[..colon].trim_ascii();
            let value = line[colon + 1..].trim_ascii();
            let slot = if name.eq_ignore_ascii_case(b"WARC-Type") {
                &mut h.ty
            } else if name.eq_ignore_ascii_case(b"WARC-Record-ID") {
                &mut h.id
            } else if name.eq_ignore_ascii_case(b"WARC-Target-URI") {
                &mut h.url
            } else if name.eq_ignore_ascii_case(b"WARC-Date") {
                &mut h.date
            } else if name.eq_ignore_ascii_case(b"Content-Length") {
                &mut h.length
            } else {
                continue;
            };
            // Repeated fields: the first one wins (WARC allows some to repeat).
            if slot.is_none() {
                *slot = Some(String::from_utf8_lossy(value).into_owned());
            }
        }

        let kind = match h.ty.as_deref() {
            Some(t) if t.eq_ignore_ascii_case("response") => Some(Kind::Response),
            Some(t) if t.eq_ignore_ascii_case("conversion") => Some(Kind::Conversion),
            _ => None,
        };
        let Some(length) = h.length.as_deref().and_then(|l| l.parse::<u64>().ok()) else {
            let msg = match &h.length {
                Some(l) => format!(
                    "invalid Content-Length {:?}; skipping to the next record",
                    l
                ),
                None => "no Content-Length; skipping to the next record".to_string(),
            };
            let e = self.error(ErrorKind::Warc(msg), start);
            if kind.is_some() {
                stats.broken(e);
            } else {
                stats.warn(e);
            }
            self.resyncing = true;
            return Flow::Continue;
        };

        // The block: kept, or read through.
        let keep = match kind {
            None => {
                stats.skip(&skip_reason(h.ty.as_deref()));
                None
            }
            Some(_) if length > self.max_doc_bytes as u64 => {
                stats.skip("oversized");
                None
            }
            Some(k) => Some(k),
        };
        let block_start = batch.data.len();
        let (got, failure) = match keep {
            Some(_) => copy_bytes(&mut *self.reader, length, &mut batch.data),
            None => skip_bytes(&mut *self.reader, length),
        };
        self.offset += got;
        let truncated = got < length;
        if let Some(kind) = keep {
            if !truncated || got > 0 {
                batch.records.push(Record {
                    kind,
                    offset: start,
                    id: h.id.map(String::into_boxed_str),
                    url: h.url.map(|u| strip_angle(&u).into()),
                    date: h.date.map(String::into_boxed_str),
                    block: block_start..batch.data.len(),
                    truncated,
                });
            }
        }
        if truncated {
            let e = match failure {
                Some(e) => self.error(ErrorKind::Decompress(e.to_string()), self.offset),
                None => self.error(
                    ErrorKind::Warc(format!(
                        "truncated record: the stream ends {got} bytes into a block of {length} bytes"
                    )),
                    start,
                ),
            };
            if keep.is_some() && got == 0 {
                stats.broken(e);
            } else {
                stats.warn(e);
            }
            stats.incomplete = true;
            return Flow::End;
        }

        // The terminator: two newlines, or the end of the stream.
        let block_end = self.offset;
        match read_terminator(&mut *self.reader) {
            Ok((n, ok)) => {
                self.offset += n;
                if !ok {
                    let msg = format!(
                        "record not followed by \\r\\n\\r\\n at byte {block_end}: its Content-Length \
                         ({length}) is probably wrong; skipping to the next record"
                    );
                    stats.warn(self.error(ErrorKind::Warc(msg), start));
                    self.resyncing = true;
                }
                Flow::Continue
            }
            Err(e) => self.read_failed(&e, stats),
        }
    }
}

impl Framer for WarcFramer {
    fn next_batch(&mut self, stats: &mut ShardStats) -> Option<BatchKind> {
        let mut batch = RecordBatch {
            data: Vec::new(),
            records: Vec::new(),
        };
        while !self.done && batch.data.len() < self.batch_bytes {
            if let Flow::End = self.next_record(&mut batch, stats) {
                self.done = true;
            }
        }
        stats.decompressed_bytes += self.offset - self.reported;
        self.reported = self.offset;
        if batch.records.is_empty() {
            None
        } else {
            Some(BatchKind::Warc(batch))
        }
    }
}

/// Turns the records of a batch into documents, in order.
pub(crate) fn parse_records(
    batch: &RecordBatch,
    shard: &str,
    opts: &ReadOptions,
    sink: &mut dyn FnMut(&Document<'_>),
    stats: &mut ShardStats,
) {
    for rec in &batch.records {
        let block = batch.data.get(rec.block.clone()).unwrap_or_default();
        let at = |kind| InputError::new(shard, kind).at_offset(rec.offset);
        let text: Cow<'_, str> = match rec.kind {
            Kind::Conversion => match String::from_utf8_lossy(block) {
                Cow::Borrowed(s) => Cow::Borrowed(s),
                Cow::Owned(s) => {
                    stats.warn(at(ErrorKind::InvalidUtf8));
                    Cow::Owned(s)
                }
            },
            Kind::Response => {
                match response_text(block, rec.truncated, opts, &mut |k| stats.warn(at(k))) {
                    Ok(t) => Cow::Owned(t),
                    Err(NotText::Skip(reason)) => {
                        stats.skip(reason);
                        continue;
                    }
                    Err(NotText::Broken(kind)) => {
                        stats.broken(at(kind));
                        continue;
                    }
                }
            }
        };
        let id = match &rec.id {
            Some(id) => Cow::Borrowed(&**id),
            None => Cow::Owned(format!("{shard}@{}", rec.offset)),
        };
        sink(&Document {
            id,
            url: rec.url.as_deref().map(Cow::Borrowed),
            text,
            date: rec.date.as_deref().map(Cow::Borrowed),
            dump: None,
            position: Position {
                line: 0,
                offset: rec.offset,
            },
            raw: &[],
        });
        stats.documents += 1;
    }
}

/// Why a response is not a document.
enum NotText {
    /// Not a page by design (`non_html`) or too large (`oversized`).
    Skip(&'static str),
    /// A page that cannot be read.
    Broken(ErrorKind),
}

/// The HTTP head of a response: the fields we use.
#[derive(Default)]
struct HttpHead<'a> {
    content_type: Option<&'a [u8]>,
    transfer_encoding: Option<&'a [u8]>,
    content_encoding: Option<&'a [u8]>,
}

/// The text of an HTTP response block, or the reason it is not a document. Repairable faults
/// (bad chunking, corrupt content coding, invalid UTF-8) go to `warn`; the page is kept.
fn response_text(
    block: &[u8],
    truncated: bool,
    opts: &ReadOptions,
    warn: &mut dyn FnMut(ErrorKind),
) -> Result<String, NotText> {
    let (head, payload) = split_http(block);
    let is_html = match head.content_type {
        Some(ct) => {
            let media = ct
                .split(|&b| b == b';')
                .next()
                .unwrap_or_default()
                .trim_ascii();
            media.eq_ignore_ascii_case(b"text/html")
                || media.eq_ignore_ascii_case(b"application/xhtml+xml")
        }
        None => {
            let head = &payload[..payload.len().min(SNIFF_BYTES)];
            find_ci(head, b"<html").is_some() || find_ci(head, b"<!doctype html").is_some()
        }
    };
    if !is_html {
        return Err(NotText::Skip("non_html"));
    }

    let mut payload = Cow::Borrowed(payload);
    if head
        .transfer_encoding
        .is_some_and(|te| find_ci(te, b"chunked").is_some())
    {
        let (body, fault) = dechunk(&payload);
        if let Some(fault) = fault {
            if !truncated {
                warn(ErrorKind::Warc(fault));
            }
        }
        payload = Cow::Owned(body);
    }
    if let Some(ce) = head.content_encoding {
        payload = match content_decode(&payload, ce, opts.max_doc_bytes) {
            Decoded::AsIs => payload,
            Decoded::Done(body, fault) => {
                // A cut record is reported once, by the framer.
                if let Some(fault) = fault.filter(|_| !truncated) {
                    warn(ErrorKind::Warc(fault));
                }
                Cow::Owned(body)
            }
            Decoded::TooLarge => return Err(NotText::Skip("oversized")),
            Decoded::Unsupported => {
                let msg = format!(
                    "cannot undo Content-Encoding {} (unsupported or corrupt); page dropped",
                    String::from_utf8_lossy(ce.trim_ascii())
                );
                return Err(NotText::Broken(ErrorKind::Warc(msg)));
            }
        };
    }

    let (html, had_errors) =
        decode_html(&payload, head.content_type.and_then(content_type_charset));
    if had_errors {
        warn(ErrorKind::InvalidUtf8);
    }
    Ok(html_to_text(&html))
}

/// Splits an HTTP response block into head fields and payload. A block that does not start
/// with `HTTP/` is all payload. Tolerates bare-LF line ends; the first of a repeated field
/// wins.
fn split_http(block: &[u8]) -> (HttpHead<'_>, &[u8]) {
    let mut head = HttpHead::default();
    if !block.starts_with(b"HTTP/") {
        return (head, block);
    }
    let mut pos = 0;
    let mut first = true;
    while pos < block.len() {
        let Some(nl) = memchr::memchr(b'\n', &block[pos..]) else {
            // No end of head: there is no payload.
            return (head, &[]);
        };
        let line = trim_eol(&block[pos..pos + nl + 1]);
        pos += nl + 1;
        if line.is_empty() {
            return (head, &block[pos..]);
        }
        if std::mem::take(&mut first) {
            continue; // The status line.
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        let value = line[colon + 1..].trim_ascii();
        let slot = if name.eq_ignore_ascii_case(b"Content-Type") {
            &mut head.content_type
        } else if name.eq_ignore_ascii_case(b"Transfer-Encoding") {
            &mut head.transfer_encoding
        } else if name.eq_ignore_ascii_case(b"Content-Encoding") {
            &mut head.content_encoding
        } else {
            continue;
        };
        if slot.is_none() {
            *slot = Some(value);
        }
    }
    (head, &[])
}

/// Undoes HTTP chunked transfer coding.
///
/// Crawlers often store the payload already de-chunked but keep the header, so a payload
/// whose first line is not a chunk size is taken as is (as warcio does). A fault after good
/// chunks keeps what was de-chunked plus the rest of the bytes unchanged: the text is what
/// matters to a scanner, and a stray size line costs less than a lost page. The fault is
/// returned for the caller to report; the document is delivered.
fn dechunk(payload: &[u8]) -> (Vec<u8>, Option<String>) {
    let mut out = Vec::with_capacity(payload.len());
    let mut pos = 0;
    let mut first = true;
    loop {
        let Some(nl) = memchr::memchr(b'\n', &payload[pos..]) else {
            if pos >= payload.len() {
                return (out, None); // Ended without the last chunk; nothing lost.
            }
            return bad_chunk(out, payload, pos, first, "chunk size line without end");
        };
        let line = trim_eol(&payload[pos..pos + nl + 1]);
        let size_hex = line
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        let size = match std::str::from_utf8(size_hex)
            .ok()
            .filter(|s| !s.is_empty() && s.len() <= 15)
            .and_then(|s| usize::from_str_radix(s, 16).ok())
        {
            Some(s) => s,
            None => {
                if line.is_empty() && !first {
                    pos += nl + 1; // An extra blank line between chunks.
                    continue;
                }
                return bad_chunk(out, payload, pos, first, "invalid chunk size");
            }
        };
        let data = pos + nl + 1;
        if size == 0 {
            return (out, None);
        }
        let end = data.saturating_add(size);
        if end > payload.len() {
            out.extend_from_slice(&payload[data..]);
            return (
                out,
                Some(format!(
                    "chunked payload: a chunk of {size} bytes runs past the end of the record"
                )),
            );
        }
        out.extend_from_slice(&payload[data..end]);
        pos = end;
        // The CRLF after the chunk data; tolerate LF or nothing.
        if payload[pos..].starts_with(b"\r\n") {
            pos += 2;
        } else if payload[pos..].starts_with(b"\n") {
            pos += 1;
        }
        first = false;
    }
}

fn bad_chunk(
    mut out: Vec<u8>,
    payload: &[u8],
    pos: usize,
    first: bool,
    why: &str,
) -> (Vec<u8>, Option<String>) {
    if first {
        return (payload.to_vec(), None);
    }
    out.extend_from_slice(&payload[pos..]);
    let msg = format!(
        "bad chunked encoding at payload byte {pos} ({why}); rest of the payload kept as is"
    );
    (out, Some(msg))
}

/// The result of undoing a Content-Encoding.
enum Decoded {
    /// Not encoded after all: the payload is text.
    AsIs,
    /// Decoded (with a fault message if the stream broke; what decoded is kept).
    Done(Vec<u8>, Option<String>),
    /// Inflates to more than the document limit (a decompression bomb or a huge page).
    TooLarge,
    /// Binary, and encoded with something we do not decode (`compress`, ...) or corrupt.
    Unsupported,
}

/// Undoes gzip, deflate, brotli or zstd content coding when the payload really is encoded:
/// many crawlers store the decoded payload but keep the header, so the bytes decide. A
/// text-like payload is taken as is whatever the header says; a binary one we cannot decode
/// (another coding, a corrupt stream) is [`Decoded::Unsupported`], since its "text" would be
/// noise.
fn content_decode(payload: &[u8], encoding: &[u8], limit: usize) -> Decoded {
    let enc = encoding.trim_ascii();
    let gzip = enc.eq_ignore_ascii_case(b"gzip") || enc.eq_ignore_ascii_case(b"x-gzip");
    let textlike = !looks_binary(payload);
    let reader: Box<dyn Read + '_> = if gzip && payload.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(payload))
    } else if is_identity(enc) {
        return Decoded::AsIs;
    } else if enc.eq_ignore_ascii_case(b"br") {
        // What browsers ask for first: archives they record (Webrecorder, wget with
        // `Accept-Encoding: br`) store such bodies. Brotli has no magic number and a short
        // stream may hold no control byte, so even a text-like payload is tried; it is kept
        // as is unless it decodes completely.
        Box::new(brotli_decompressor::Decompressor::new(payload, 64 * 1024))
    } else if enc.eq_ignore_ascii_case(b"zstd") && payload.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        match zstd::stream::read::Decoder::with_buffer(payload) {
            Ok(d) => Box::new(d),
            Err(_) => return Decoded::Unsupported,
        }
    } else if textlike {
        return Decoded::AsIs;
    } else if enc.eq_ignore_ascii_case(b"deflate") {
        // "deflate" is zlib by the RFC, raw deflate in practice as often as not.
        let zlib = payload.len() >= 2
            && payload[0] & 0x0f == 8
            && (u16::from(payload[0]) << 8 | u16::from(payload[1])) % 31 == 0;
        if zlib {
            Box::new(flate2::read::ZlibDecoder::new(payload))
        } else {
            Box::new(flate2::read::DeflateDecoder::new(payload))
        }
    } else {
        return Decoded::Unsupported;
    };
    let mut out = Vec::new();
    let res = reader.take(limit as u64 + 1).read_to_end(&mut out);
    if out.len() > limit {
        return Decoded::TooLarge;
    }
    match res {
        Ok(_) => Decoded::Done(out, None),
        Err(_) if textlike => Decoded::AsIs,
        Err(_) if out.is_empty() => Decoded::Unsupported,
        Err(e) => Decoded::Done(
            out,
            Some(format!(
                "corrupt {} Content-Encoding ({e}); kept what decoded",
                String::from_utf8_lossy(enc)
            )),
        ),
    }
}

fn is_identity(enc: &[u8]) -> bool {
    enc.is_empty() || enc.eq_ignore_ascii_case(b"identity") || enc.eq_ignore_ascii_case(b"none")
}

/// A payload that is not text. Text in any ASCII-compatible encoding (UTF-8, EUC-JP, GBK,
/// windows-1251, ...) has high bytes aplenty but almost no C0 control bytes besides tab, line
/// ends, form feed and escape; compressed data has about one in ten.
fn looks_binary(payload: &[u8]) -> bool {
    let head = &payload[..payload.len().min(256)];
    let controls = head
        .iter()
        .filter(|&&b| matches!(b, 0x00..=0x08 | 0x0e..=0x1a | 0x1c..=0x1f))
        .count();
    controls >= 2
}

/// Reads one line (up to and including `\n`) into `buf`, keeping at most `limit` bytes.
/// Returns the bytes consumed and whether a newline ended the line.
fn read_line(r: &mut dyn BufRead, buf: &mut Vec<u8>, limit: usize) -> io::Result<(u64, bool)> {
    buf.clear();
    let mut consumed = 0u64;
    loop {
        let data = match r.fill_buf() {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if data.is_empty() {
            return Ok((consumed, false));
        }
        let (take, found) = match memchr::memchr(b'\n', data) {
            Some(i) => (i + 1, true),
            None => (data.len(), false),
        };
        let room = limit.saturating_sub(buf.len());
        buf.extend_from_slice(&data[..take.min(room)]);
        r.consume(take);
        consumed += take as u64;
        if found {
            return Ok((consumed, true));
        }
    }
}

/// Copies up to `n` bytes into `out`. Returns how many, and the error that stopped it early.
fn copy_bytes(r: &mut dyn BufRead, n: u64, out: &mut Vec<u8>) -> (u64, Option<io::Error>) {
    // Reserve what the header promises, within reason: a lying header must not allocate.
    out.reserve(n.min(1 << 20) as usize);
    pass_bytes(r, n, |d| out.extend_from_slice(d))
}

/// Reads through `n` bytes without keeping them.
fn skip_bytes(r: &mut dyn BufRead, n: u64) -> (u64, Option<io::Error>) {
    pass_bytes(r, n, |_| {})
}

fn pass_bytes(r: &mut dyn BufRead, n: u64, mut f: impl FnMut(&[u8])) -> (u64, Option<io::Error>) {
    let mut done = 0u64;
    while done < n {
        let data = match r.fill_buf() {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return (done, Some(e)),
        };
        if data.is_empty() {
            break;
        }
        let take = data
            .len()
            .min(usize::try_from(n - done).unwrap_or(usize::MAX));
        f(&data[..take]);
        r.consume(take);
        done += take as u64;
    }
    (done, None)
}

/// Consumes the record terminator. Returns the bytes consumed and whether it was right:
/// `\r\n\r\n` or `\n\n`, or the end of the stream after part of one. Mixed line ends
/// (`\n\r\n`) mean the block ran on by a byte or two: its Content-Length is wrong.
fn read_terminator(r: &mut dyn BufRead) -> io::Result<(u64, bool)> {
    let mut consumed = 0u64;
    let mut line_ends = 0;
    let mut crlf = None;
    while line_ends < 2 {
        let Some(b) = peek(r)? else {
            return Ok((consumed, true));
        };
        let this_crlf = match b {
            b'\n' => {
                r.consume(1);
                consumed += 1;
                false
            }
            b'\r' => {
                r.consume(1);
                consumed += 1;
                match peek(r)? {
                    Some(b'\n') => {
                        r.consume(1);
                        consumed += 1;
                        true
                    }
                    None => return Ok((consumed, true)),
                    Some(_) => return Ok((consumed, false)),
                }
            }
            _ => return Ok((consumed, false)),
        };
        if *crlf.get_or_insert(this_crlf) != this_crlf {
            return Ok((consumed, false));
        }
        line_ends += 1;
    }
    Ok((consumed, true))
}

fn peek(r: &mut dyn BufRead) -> io::Result<Option<u8>> {
    loop {
        match r.fill_buf() {
            Ok(d) => return Ok(d.first().copied()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// `WARC/` then a digit: `WARC/1.0`, `WARC/1.1`, and ClueWeb's `WARC/0.18`.
fn is_version_line(line: &[u8]) -> bool {
    line.starts_with(b"WARC/") && line.get(5).is_some_and(u8::is_ascii_digit)
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// WARC/0.17-0.18 writers put the target URI in angle brackets.
fn strip_angle(url: &str) -> &str {
    url.strip_prefix('<')
        .and_then(|u| u.strip_suffix('>'))
        .unwrap_or(url)
}

/// The skip reason for a record type: `warc_<type>` for sane type names.
fn skip_reason(ty: Option<&str>) -> String {
    match ty {
        None | Some("") => "warc_untyped".to_string(),
        Some(t)
            if t.len() <= 32
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            format!("warc_{}", t.to_ascii_lowercase())
        }
        Some(_) => "warc_other".to_string(),
    }
}

/// The start of a bad line, for messages.
fn preview(line: &[u8]) -> String {
    let cut = &line[..line.len().min(40)];
    let mut s = String::from_utf8_lossy(cut).into_owned();
    if line.len() > 40 {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use std::io::BufReader;

    use super::*;

    /// Frames and parses `data` read through a reader with the given buffer size.
    fn run(
        data: &[u8],
        buf: usize,
        opts: &ReadOptions,
    ) -> (Vec<super::super::OwnedDocument>, ShardStats) {
        let stream = Stream::Reader(Box::new(BufReader::with_capacity(
            buf,
            io::Cursor::new(data.to_vec()),
        )));
        let mut framer = WarcFramer::new(stream, Arc::from("t.warc"), opts);
        let mut stats = ShardStats::default();
        let mut docs = Vec::new();
        while let Some(BatchKind::Warc(b)) = framer.next_batch(&mut stats) {
            let mut parsed = ShardStats::default();
            parse_records(
                &b,
                "t.warc",
                opts,
                &mut |d| docs.push(d.to_owned_document()),
                &mut parsed,
            );
            stats.merge(parsed);
        }
        stats.sort_errors();
        (docs, stats)
    }

    fn record(ty: &str, extra: &str, block: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "WARC/1.0\r\nWARC-Type: {ty}\r\nWARC-Record-ID: <urn:uuid:{ty}>\r\n{extra}Content-Length: {}\r\n\r\n",
            block.len()
        )
        .into_bytes();
        r.extend_from_slice(block);
        r.extend_from_slice(b"\r\n\r\n");
        r
    }

    fn sample() -> Vec<u8> {
        let mut d = record("warcinfo", "", b"software: test\r\n");
        d.extend(record("request", "", b"GET / HTTP/1.1\r\n\r\n"));
        d.extend(record(
            "response",
            "WARC-Target-URI: http://a/\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>world</b></p>",
        ));
        d.extend(record(
            "response",
            "",
            b"HTTP/1.1 200 OK\nContent-Type: image/png\n\n\x89PNG",
        ));
        d.extend(record(
            "response",
            "",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html; charset=windows-1251\r\n\r\n5\r\n<p>\xcf\xf0\r\n4\r\n\xe8\xe2\xe5\xf2\r\n0\r\n\r\n",
        ));
        d.extend(record(
            "conversion",
            "WARC-Target-URI: http://c/\r\n",
            b"plain text",
        ));
        d.extend(record("revisit", "", b""));
        d
    }

    #[test]
    fn reads_records_at_any_buffer_size() {
        let data = sample();
        for buf in [1, 2, 7, 64, 1 << 16] {
            let (docs, stats) = run(&data, buf, &ReadOptions::default());
            assert!(stats.is_clean(), "{:?}", stats.errors);
            let texts: Vec<_> = docs.iter().map(|d| d.text.as_str()).collect();
            assert_eq!(texts, ["Hello world", "Привет", "plain text"]);
            assert_eq!(docs[0].url.as_deref(), Some("http://a/"));
            assert_eq!(docs[0].id, "<urn:uuid:response>");
            assert_eq!(docs[0].date.as_deref(), Some("2024-01-01T00:00:00Z"));
            assert_eq!(stats.skipped["warc_request"], 1);
            assert_eq!(stats.skipped["warc_warcinfo"], 1);
            assert_eq!(stats.skipped["warc_revisit"], 1);
            assert_eq!(stats.skipped["non_html"], 1);
            assert_eq!(stats.decompressed_bytes, data.len() as u64);
        }
    }

    #[test]
    fn small_batches_keep_order() {
        let data = sample();
        let opts = ReadOptions {
            batch_bytes: 1,
            ..ReadOptions::default()
        };
        let (docs, _) = run(&data, 3, &opts);
        assert_eq!(docs.len(), 3);
        assert!(docs
            .windows(2)
            .all(|w| w[0].position.offset < w[1].position.offset));
    }

    #[test]
    fn oversized_is_skipped() {
        let opts = ReadOptions {
            max_doc_bytes: 10,
            ..ReadOptions::default()
        };
        let (docs, stats) = run(&sample(), 1, &opts);
        assert_eq!(docs.len(), 1); // only the 10-byte conversion
        assert_eq!(stats.skipped["oversized"], 3);
    }

    #[test]
    fn dechunking() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"),
            (b"abcde".to_vec(), None)
        );
        // Not chunked after all: taken as is.
        assert_eq!(dechunk(b"<html>"), (b"<html>".to_vec(), None));
        let (body, fault) = dechunk(b"3\r\nabc\r\nzz\r\nrest");
        assert_eq!(body, b"abczz\r\nrest");
        assert!(fault.is_some());
    }

    #[test]
    fn bad_chunking_keeps_the_page_and_warns() {
        let block =
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n\
            9\r\n<p>Hello \r\nzz\r\nworld</p>";
        let (docs, stats) = run(&record("response", "", block), 5, &ReadOptions::default());
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].text, "Hello zz world");
        assert_eq!(stats.broken, 0);
        assert_eq!(stats.errors.len(), 1);
        assert!(stats.errors[0].message().contains("chunked"));
        assert_eq!(stats.errors[0].offset(), Some(0));
    }

    #[test]
    fn html_sniffed_without_content_type() {
        let mut data = record(
            "response",
            "",
            b"HTTP/1.0 200 OK\r\n\r\n<!-- x --><!DOCTYPE html><p>sniffed</p>",
        );
        data.extend(record(
            "response",
            "",
            b"HTTP/1.0 200 OK\r\n\r\nUser-agent: *\nDisallow: /",
        ));
        data.extend(record(
            "response",
            "",
            b"HTTP/1.0 404 Not Found\r\nContent-Type: TEXT/HTML\r\n\r\n<p>gone</p>",
        ));
        let (docs, stats) = run(&data, 64, &ReadOptions::default());
        let texts: Vec<_> = docs.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(texts, ["sniffed", "gone"]);
        assert_eq!(stats.skipped["non_html"], 1);
    }

    #[test]
    fn content_encoding_gzip() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"<p>zipped</p>").unwrap();
        let gz = enc.finish().unwrap();
        let mut block =
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: text/html\r\n\r\n"
                .to_vec();
        block.extend_from_slice(&gz);
        let (docs, stats) = run(&record("response", "", &block), 16, &ReadOptions::default());
        assert!(stats.is_clean());
        assert_eq!(docs[0].text, "zipped");
        // A bomb over the limit is skipped.
        let opts = ReadOptions {
            max_doc_bytes: 5 + block.len(),
            ..ReadOptions::default()
        };
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![b' '; 1 << 20]).unwrap();
        let mut block =
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: text/html\r\n\r\n"
                .to_vec();
        block.extend_from_slice(&enc.finish().unwrap());
        let (docs, stats) = run(&record("response", "", &block), 16, &opts);
        assert!(docs.is_empty());
        assert_eq!(stats.skipped["oversized"], 1);
    }

    #[test]
    fn content_encoding_brotli_and_zstd() {
        use std::io::Write;
        let html = b"<p>squeezed by a browser</p>";
        let mut br = brotli::CompressorWriter::new(Vec::new(), 4096, 5, 22);
        br.write_all(html).unwrap();
        let br = br.into_inner();
        let zst = zstd::encode_all(&html[..], 3).unwrap();
        let mut data = Vec::new();
        for (coding, body) in [("br", &br), ("zstd", &zst)] {
            let mut block = format!(
                "HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nContent-Type: text/html\r\n\r\n"
            )
            .into_bytes();
            block.extend_from_slice(body);
            data.extend(record("response", "", &block));
        }
        let (docs, stats) = run(&data, 16, &ReadOptions::default());
        assert!(stats.is_clean(), "{:?}", stats.errors);
        let texts: Vec<_> = docs.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(texts, ["squeezed by a browser", "squeezed by a browser"]);
        // A truncated brotli body keeps what decoded, with a warning.
        let page: String = (0..400)
            .map(|i| format!("<p>line {i} of the page</p>"))
            .collect();
        let mut br = brotli::CompressorWriter::new(Vec::new(), 4096, 5, 22);
        br.write_all(page.as_bytes()).unwrap();
        let br = br.into_inner();
        let mut block =
            b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Type: text/html\r\n\r\n".to_vec();
        block.extend_from_slice(&br[..br.len() / 2]);
        let (docs, stats) = run(&record("response", "", &block), 16, &ReadOptions::default());
        assert_eq!(stats.errors.len(), 1, "{:?}", stats.errors);
        assert!(
            stats.errors[0].message().contains("corrupt br"),
            "{:?}",
            stats.errors
        );
        assert!(
            docs[0].text.starts_with("line 0 of the page"),
            "{}",
            docs[0].text
        );
    }

    #[test]
    fn undecodable_content_encoding_is_broken() {
        let mut block =
            b"HTTP/1.1 200 OK\r\nContent-Encoding: compress\r\nContent-Type: text/html\r\n\r\n"
                .to_vec();
        block.extend((0..200u8).map(|i| i.wrapping_mul(37)));
        let mut data = record("response", "", &block);
        // The same header on a payload stored decoded is fine.
        data.extend(record(
            "response",
            "",
            b"HTTP/1.1 200 OK\r\nContent-Encoding: compress\r\nContent-Type: text/html\r\n\r\n<p>plain</p>",
        ));
        // Garbage under a coding we do decode is broken as well.
        let mut garbage =
            b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Type: text/html\r\n\r\n".to_vec();
        garbage.extend((0..200u8).map(|i| i.wrapping_mul(37)));
        data.extend(record("response", "", &garbage));
        let (docs, stats) = run(&data, 7, &ReadOptions::default());
        let texts: Vec<_> = docs.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(texts, ["plain"], "{:?}", stats.errors);
        assert_eq!(stats.broken, 2);
        assert!(stats.errors[0]
            .message()
            .contains("Content-Encoding compress"));
        assert!(stats.errors[1].message().contains("Content-Encoding br"));
    }

    #[test]
    fn wrong_content_length_resyncs() {
        let mut data = record("conversion", "", b"first");
        let mut bad = record("conversion", "", b"second doc");
        // Claim 3 bytes fewer than the block holds.
        let at = bad
            .windows(18)
            .position(|w| w == b"Content-Length: 10")
            .unwrap();
        bad[at + 16..at + 18].copy_from_slice(b"07");
        let bad_offset = data.len() as u64;
        data.extend(bad);
        data.extend(record("conversion", "", b"third"));
        for buf in [1, 4096] {
            let (docs, stats) = run(&data, buf, &ReadOptions::default());
            let texts: Vec<_> = docs.iter().map(|d| d.text.as_str()).collect();
            assert_eq!(texts, ["first", "second ", "third"]);
            assert_eq!(stats.errors.len(), 1, "{:?}", stats.errors);
            assert_eq!(stats.errors[0].offset(), Some(bad_offset));
            assert!(stats.errors[0].message().contains("Content-Length"));
            assert!(!stats.incomplete);
        }
    }

    #[test]
    fn garbage_between_records() {
        let mut data = record("conversion", "", b"one");
        let garbage_at = data.len() as u64;
        data.extend_from_slice(b"this is not a record\r\nnor this\r\n\r\n");
        data.extend(record("conversion", "", b"two"));
        data.extend_from_slice(b"\r\n\r\n\n"); // extra blank lines are fine
        data.extend(record("conversion", "", b"three"));
        let (docs, stats) = run(&data, 1, &ReadOptions::default());
        assert_eq!(docs.len(), 3);
        assert_eq!(stats.errors.len(), 1);
        assert_eq!(stats.errors[0].offset(), Some(garbage_at));
    }

    #[test]
    fn truncated_stream() {
        let mut data = record("conversion", "", b"one");
        let cut_at = data.len() as u64;
        data.extend(record("conversion", "", b"two is longer"));
        data.truncate(data.len() - 10);
        let (docs, stats) = run(&data, 1, &ReadOptions::default());
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].text, "two is ");
        assert!(stats.incomplete);
        assert_eq!(stats.errors.len(), 1);
        assert_eq!(stats.errors[0].offset(), Some(cut_at));
        assert!(stats.errors[0].message().contains("truncated"));
        // Cut inside the header: the complete record before it still comes out.
        let mut data = record("conversion", "", b"one");
        data.extend_from_slice(b"WARC/1.0\r\nWARC-Type: conv");
        let (docs, stats) = run(&data, 1, &ReadOptions::default());
        assert_eq!(docs.len(), 1);
        assert!(stats.incomplete);
    }

    #[test]
    fn invalid_utf8_in_wet_is_repaired() {
        let (docs, stats) = run(
            &record("conversion", "", b"ok \xff"),
            8,
            &ReadOptions::default(),
        );
        assert_eq!(docs[0].text, "ok \u{fffd}");
        assert_eq!(stats.errors[0].kind(), &ErrorKind::InvalidUtf8);
    }

    #[test]
    fn missing_content_length() {
        let mut data = b"WARC/1.0\r\nWARC-Type: conversion\r\n\r\nabc\r\n\r\n".to_vec();
        data.extend(record("conversion", "", b"next"));
        let (docs, stats) = run(&data, 1, &ReadOptions::default());
        assert_eq!(docs.len(), 1);
        assert_eq!(stats.broken, 1);
    }

    /// Every WARC file of the shared corpus, decompressed and fed through a 1-byte buffer,
    /// gives the same documents and stats as through a large one.
    #[test]
    fn corpus_through_one_byte_buffers() {
        let root = std::env::var_os("TROPESCAN_CORPUS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
            });
        let Ok(counts) = std::fs::read_to_string(root.join("COUNTS.tsv")) else {
            eprintln!("\n*** SKIPPED: corpus not found (set TROPESCAN_CORPUS) ***\n");
            return;
        };
        let mut files: Vec<String> = counts
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split('\t').next())
            .filter(|p| p.contains(".warc"))
            .map(str::to_string)
            .collect();
        for m in [
            "warcio-example-trunc.warc",
            "warcio-example-wrong-chunks.warc.gz",
            "warcio-example-bad-non-chunked.warc.gz",
            "iawc-mutliple-headers.warc",
        ] {
            files.push(format!("crawl/malformed/{m}"));
        }
        for f in &files {
            let raw = std::fs::read(root.join(f)).unwrap();
            let mut data = Vec::new();
            if f.ends_with(".gz") {
                // Up to the decoder's error, as the framer would see it.
                let _ = flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut data);
            } else {
                data = raw;
            }
            let (big, big_stats) = run(&data, 1 << 16, &ReadOptions::default());
            let (small, small_stats) = run(&data, 1, &ReadOptions::default());
            assert_eq!(big, small, "{f}");
            assert_eq!(big_stats, small_stats, "{f}");
            assert!(!big.is_empty() || f.ends_with(".wat.gz"), "{f}");
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..2048), buf in 1usize..64) {
            let _ = run(&data, buf, &ReadOptions::default());
        }

        #[test]
        fn mutated_records_never_panic(cut in 0usize..600, flip in 0usize..600, byte in proptest::num::u8::ANY) {
            let mut data = sample();
            if flip < data.len() { data[flip] = byte; }
            data.truncate(cut.min(data.len()));
            let _ = run(&data, 3, &ReadOptions { max_doc_bytes: 100, ..ReadOptions::default() });
        }
    }
}
