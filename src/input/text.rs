//! Plain text: the whole file is one document, its id the path.

use std::borrow::Cow;
use std::io::Read;
use std::sync::Arc;

use super::batch::{BatchKind, Framer, Stream};
use super::{ErrorKind, InputError, OwnedDocument, Position, ReadOptions, ShardStats};

/// Yields the single document of a text file.
pub(crate) struct TextFramer {
    stream: Option<Stream>,
    shard: Arc<str>,
    max_doc_bytes: usize,
}

impl TextFramer {
    pub(crate) fn new(stream: Stream, shard: Arc<str>, opts: &ReadOptions) -> TextFramer {
        TextFramer {
            stream: Some(stream),
            shard,
            max_doc_bytes: opts.max_doc_bytes,
        }
    }
}

impl Framer for TextFramer {
    fn next_batch(&mut self, stats: &mut ShardStats) -> Option<BatchKind> {
        let stream = self.stream.take()?;
        let limit = self.max_doc_bytes as u64;
        let mut bytes = Vec::new();
        let mut reader = stream.into_reader();
        // Read one byte past the limit to tell "at the limit" from "over it", never more.
        let read = (&mut reader).take(limit + 1).read_to_end(&mut bytes);
        stats.decompressed_bytes += bytes.len() as u64;
        if let Err(e) = read {
            stats.incomplete = true;
            stats.broken(
                InputError::new(&*self.shard, ErrorKind::Decompress(e.to_string()))
                    .at_offset(bytes.len() as u64),
            );
            return None;
        }
        if bytes.is_empty() {
            // Nothing to score; `ShardReader::finish` reports the empty file.
            return None;
        }
        if bytes.len() as u64 > limit {
            // Drain the rest so the byte counters are right, without holding it.
            let rest = std::io::copy(&mut reader, &mut std::io::sink()).unwrap_or(0);
            stats.decompressed_bytes += rest;
            stats.skip("oversized");
            return None;
        }
        let text = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to() as u64;
                stats.warn(InputError::new(&*self.shard, ErrorKind::InvalidUtf8).at_offset(valid));
                match String::from_utf8_lossy(e.as_bytes()) {
                    Cow::Owned(s) => s,
                    Cow::Borrowed(s) => s.to_string(),
                }
            }
        };
        // A UTF-8 byte-order mark is not text.
        let text = match text.strip_prefix('\u{feff}') {
            Some(t) => t.to_string(),
            None => text,
        };
        Some(BatchKind::Docs(vec![OwnedDocument {
            id: self.shard.to_string(),
            url: None,
            text,
            date: None,
            dump: None,
            position: Position { line: 1, offset: 0 },
        }]))
    }
}
