//! JSONL: one JSON object per line, split on the newline byte only (texts hold U+2028).
//!
//! Only the wanted fields (text, id, url, date, dump) are taken from each line, as borrowed
//! strings where the JSON has no escapes; the rest of the object is skipped without building a
//! `serde_json::Value`.

use std::borrow::Cow;
use std::fmt;
use std::io::{BufRead, Read};
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::batch::{BatchKind, Framer, Stream};
use super::json_skim;
use super::line_numbers::BatchLines;
use super::source::{BufferPool, Chunk, SharedBytes};
use super::{Document, ErrorKind, FieldPath, InputError, Position, ReadOptions, ShardStats};

/// How much one read asks for: the size of the decoder's buffer (`batch.rs`), so reads bypass it.
const READ_CHUNK: usize = 256 * 1024;

/// Idle batch buffers a streamed shard keeps for reuse: a few more than the pipeline lets one
/// reader have in flight, so a steady run allocates none.
const POOLED_BUFFERS: usize = 8;

/// Lines of one batch, with where they start.
pub(crate) struct LineBatch {
    data: Arc<Chunk>,
    lines: Arc<BatchLines>,
    start_offset: u64,
}

impl Drop for LineBatch {
    fn drop(&mut self) {
        // A batch dropped unparsed resolves its line numbers now, so later batches never
        // need a chain of links (and bytes) back to it.
        self.lines.first_line();
        self.lines.count();
    }
}

impl LineBatch {
    /// The batch's bytes, whole lines with their terminators, as in the decompressed stream.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.data.as_slice()
    }

    /// Where the batch starts in the decompressed stream.
    pub(crate) fn start_offset(&self) -> u64 {
        self.start_offset
    }
}

/// Cuts a JSONL stream into batches of whole lines.
pub(crate) struct LineFramer {
    source: LineSource,
    shard: Arc<str>,
    batch_bytes: usize,
    max_doc_bytes: usize,
    /// The last batch cut, to link the next one to.
    last: Option<Arc<BatchLines>>,
    /// Oversized lines dropped since the last batch.
    skipped_lines: u64,
    offset: u64,
    done: bool,
    pool: BufferPool,
}

enum LineSource {
    Mapped(Arc<SharedBytes>),
    Reader(Box<dyn BufRead + Send>, Vec<u8>),
}

impl LineFramer {
    pub(crate) fn new(stream: Stream, shard: Arc<str>, opts: &ReadOptions) -> LineFramer {
        let source = match stream {
            Stream::Mapped(b) => LineSource::Mapped(b),
            Stream::Reader(r) => LineSource::Reader(r, Vec::new()),
        };
        LineFramer {
            source,
            shard,
            batch_bytes: opts.batch_bytes.max(1),
            max_doc_bytes: opts.max_doc_bytes,
            last: None,
            skipped_lines: 0,
            offset: 0,
            done: false,
            pool: BufferPool::new(POOLED_BUFFERS),
        }
    }

    fn emit(&mut self, data: Chunk, stats: &mut ShardStats) -> BatchKind {
        let len = data.as_slice().len() as u64;
        let data = Arc::new(data);
        let lines = BatchLines::new(
            self.last.take(),
            std::mem::take(&mut self.skipped_lines),
            data.clone(),
        );
        self.last = Some(lines.clone());
        let batch = LineBatch {
            data,
            lines,
            start_offset: self.offset,
        };
        self.offset += len;
        stats.decompressed_bytes += len;
        BatchKind::Lines(batch)
    }

    /// The number of the next line to be cut. Resolves every batch so far: for errors only.
    fn next_line(&self) -> u64 {
        let end = self.last.as_ref().map_or(1, |l| l.end_line());
        end + self.skipped_lines
    }

    fn skip_oversized(&mut self, skipped_bytes: u64, stats: &mut ShardStats) {
        stats.skip("oversized");
        self.skipped_lines += 1;
        self.offset += skipped_bytes;
        stats.decompressed_bytes += skipped_bytes;
    }

    fn next_mapped(
        &mut self,
        bytes: &Arc<SharedBytes>,
        stats: &mut ShardStats,
    ) -> Option<BatchKind> {
        let all = bytes.as_slice();
        loop {
            let pos = self.offset as usize;
            if pos >= all.len() {
                return None;
            }
            let end = (pos + self.batch_bytes).min(all.len());
            let cut = match memchr::memrchr(b'\n', &all[pos..end]) {
                Some(i) if end < all.len() => pos + i + 1,
                _ if end == all.len() => end,
                _ => {
                    // The first line is longer than a batch: find its end.
                    let line_end = memchr::memchr(b'\n', &all[end..])
                        .map(|i| end + i + 1)
                        .unwrap_or(all.len());
                    if line_end - pos > self.max_doc_bytes {
                        self.skip_oversized((line_end - pos) as u64, stats);
                        continue;
                    }
                    line_end
                }
            };
            return Some(self.emit(Chunk::Shared(bytes.clone(), pos..cut), stats));
        }
    }

    fn next_streamed(&mut self, stats: &mut ShardStats) -> Option<BatchKind> {
        let LineSource::Reader(reader, carry) = &mut self.source else {
            unreachable!()
        };
        // A full batch is at most a batch, minus one byte, plus one read.
        let mut pooled = self.pool.take(self.batch_bytes + READ_CHUNK);
        // `buf[..filled]` is the batch so far; `buf` may be longer (a reused buffer's old
        // bytes), so reads land in initialised memory without zeroing it first.
        let mut buf = std::mem::take(&mut pooled.data);
        let mut filled = carry.len();
        if buf.len() < filled {
            buf.resize(filled, 0);
        }
        buf[..filled].copy_from_slice(carry);
        carry.clear();
        let mut eof = false;
        let mut failure = None;
        let mut searched = 0;
        let mut direct = true;
        loop {
            // Stop once the buffer holds a full batch that ends a line.
            if filled >= self.batch_bytes {
                if let Some(i) = memchr::memrchr(b'\n', &buf[searched..filled]) {
                    let cut = searched + i + 1;
                    carry.extend_from_slice(&buf[cut..filled]);
                    pooled.data = buf;
                    pooled.len = cut;
                    return Some(self.emit(Chunk::Owned(pooled), stats));
                }
                searched = filled;
                if filled > self.max_doc_bytes {
                    // One line bigger than the limit: drop it without holding it.
                    let mut skipped = filled as u64;
                    let rest = loop {
                        match reader.fill_buf() {
                            Ok([]) => break Vec::new(),
                            Ok(data) => {
                                if let Some(i) = memchr::memchr(b'\n', data) {
                                    let rest = data[i + 1..].to_vec();
                                    skipped += (i + 1) as u64;
                                    let n = data.len();
                                    reader.consume(n);
                                    break rest;
                                }
                                skipped += data.len() as u64;
                                let n = data.len();
                                reader.consume(n);
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                            Err(e) => {
                                failure = Some(e);
                                break Vec::new();
                            }
                        }
                    };
                    stats.skip("oversized");
                    self.skipped_lines += 1;
                    self.offset += skipped;
                    stats.decompressed_bytes += skipped;
                    buf = rest;
                    filled = buf.len();
                    searched = 0;
                    if failure.is_some() {
                        break;
                    }
                    continue;
                }
            }
            if eof {
                break;
            }
            // Read straight into the batch: a read at least as large as the stream's buffer
            // bypasses it, saving a copy of every decompressed byte (7% of a profile). A source
            // that hands over little per read (a pipe) goes through the buffer instead, so the
            // zeroed read area is not paid for a few bytes.
            let got = if direct {
                if buf.len() < filled + READ_CHUNK {
                    buf.resize(filled + READ_CHUNK, 0);
                }
                reader.read(&mut buf[filled..filled + READ_CHUNK])
            } else {
                reader.fill_buf().map(|data| {
                    buf.truncate(filled);
                    buf.extend_from_slice(data);
                    data.len()
                })
            };
            match got {
                Ok(0) => eof = true,
                Ok(n) => {
                    filled += n;
                    if !direct {
                        reader.consume(n);
                    }
                    direct = n >= READ_CHUNK / 4;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
            if eof && filled < self.batch_bytes {
                break;
            }
        }
        buf.truncate(filled);
        if let Some(e) = failure {
            // Deliver the whole lines read before the fault; the partial line is lost.
            self.done = true;
            stats.incomplete = true;
            let keep = memchr::memrchr(b'\n', &buf).map(|i| i + 1).unwrap_or(0);
            let partial = buf.split_off(keep);
            let batch = if buf.is_empty() {
                None
            } else {
                pooled.len = buf.len();
                pooled.data = buf;
                Some(self.emit(Chunk::Owned(pooled), stats))
            };
            let err = InputError::new(&*self.shard, ErrorKind::Decompress(e.to_string()))
                .at_line(self.next_line())
                .at_offset(self.offset);
            if partial.is_empty() {
                stats.warn(err);
            } else {
                stats.broken(err);
            }
            stats.decompressed_bytes += partial.len() as u64;
            return batch;
        }
        self.done = eof;
        if buf.is_empty() {
            None
        } else {
            pooled.len = buf.len();
            pooled.data = buf;
            Some(self.emit(Chunk::Owned(pooled), stats))
        }
    }
}

impl Framer for LineFramer {
    fn next_batch(&mut self, stats: &mut ShardStats) -> Option<BatchKind> {
        if self.done {
            return None;
        }
        let out = match &self.source {
            LineSource::Mapped(b) => {
                let b = b.clone();
                self.next_mapped(&b, stats)
            }
            LineSource::Reader(..) => self.next_streamed(stats),
        };
        if out.is_none() {
            self.done = true;
        }
        out
    }
}

/// Where each wanted value goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Slot {
    Text,
    Id,
    Url,
    Date,
    Dump,
}

/// The field paths to take from each line, in priority order within a slot.
pub(crate) struct JsonPlan {
    paths: Vec<(Vec<String>, Slot)>,
    /// Per depth, which paths a key there can match, by its length and first byte.
    key_filters: Vec<KeyFilter>,
    /// Per [`Slot`], a bit for each of its paths (in priority order: by index).
    slot_paths: [u64; 5],
    text_name: String,
}

impl JsonPlan {
    pub(crate) fn new(opts: &ReadOptions) -> JsonPlan {
        let mut paths: Vec<(Vec<String>, Slot)> = vec![
            (opts.text_field.parts().to_vec(), Slot::Text),
            (opts.id_field.parts().to_vec(), Slot::Id),
        ];
        let mut add = |p: &str, slot| paths.push((FieldPath::new(p).parts().to_vec(), slot));
        match &opts.url_field {
            Some(u) => add(u.as_str(), Slot::Url),
            None => {
                // dolma/C4/FineWeb use `url`; dolma and datatrove also `metadata.url`;
                // RedPajama v1 `meta.url`.
                add("url", Slot::Url);
                add("metadata.url", Slot::Url);
                add("meta.url", Slot::Url);
            }
        }
        // dolma `created`, C4 `timestamp`, FineWeb `date`; datatrove keeps the WARC-Date of its
        // WARC readers under `metadata` (as `date`, `warc_date` or the raw header name).
        for p in [
            "created",
            "timestamp",
            "date",
            "metadata.date",
            "metadata.warc_date",
            "metadata.WARC-Date",
            "meta.timestamp",
        ] {
            add(p, Slot::Date);
        }
        // dolma `metadata.cc_segment`, FineWeb `dump`.
        for p in ["metadata.cc_segment", "dump", "metadata.dump"] {
            add(p, Slot::Dump);
        }
        let depth = paths.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
        let key_filters = (0..depth)
            .map(|d| KeyFilter::new(paths.iter().map(|(parts, _)| parts.get(d))))
            .collect();
        let mut slot_paths = [0u64; 5];
        for (i, (_, slot)) in paths.iter().enumerate() {
            slot_paths[*slot as usize] |= 1 << i;
        }
        JsonPlan {
            paths,
            key_filters,
            slot_paths,
            text_name: opts.text_field.as_str().to_string(),
        }
    }
}

impl JsonPlan {
    /// A line's value table, indexed like the paths, all empty.
    pub(super) fn empty_values<'de>(&self) -> Vec<Option<Captured<'de>>> {
        (0..self.paths.len()).map(|_| None).collect()
    }

    /// A bit per path (the plan has at most a dozen: `JsonPlan::new`).
    pub(super) fn all_live(&self) -> u64 {
        if self.paths.len() >= 64 {
            u64::MAX
        } else {
            (1u64 << self.paths.len()) - 1
        }
    }

    /// Of the `live` paths at `depth`, those that continue through `key` and those that end
    /// there (bit sets by path index).
    #[inline]
    pub(super) fn match_key(&self, depth: usize, live: u64, key: &str) -> (u64, u64) {
        let candidates = match self.key_filters.get(depth) {
            Some(filter) => live & filter.candidates(key.as_bytes()),
            None => 0,
        };
        let (mut matching, mut leaves) = (0u64, 0u64);
        for i in bit_indices(candidates) {
            let parts = &self.paths[i].0;
            if parts[depth] == key {
                matching |= 1 << i;
                if parts.len() == depth + 1 {
                    leaves |= 1 << i;
                }
            }
        }
        (matching, leaves)
    }
}

/// Which paths can match a key at one depth, by the key's length and first byte.
///
/// Why: most keys of a line match no path. The filter it replaces (one bit per key length
/// some path has) let every live path through for any key of such a length ("id", "text",
/// "year", "type", ...), and comparing each of the 15 default paths made `match_key` ~280
/// instructions per key, 5% of `scan -j1` (callgrind, session 6). Two table lookups leave
/// only the paths whose part has the key's length and first byte.
struct KeyFilter {
    /// Per key length (63 stands for 63 and longer), the paths with a part that long here.
    by_length: [u64; 64],
    /// Per first byte, the paths whose part here starts with it.
    by_first_byte: [u64; 256],
}

impl KeyFilter {
    /// `parts` holds, per path in index order, its part at this depth (`None`: the path is
    /// shorter).
    fn new<'a>(parts: impl Iterator<Item = Option<&'a String>>) -> KeyFilter {
        let mut filter = KeyFilter {
            by_length: [0; 64],
            by_first_byte: [0; 256],
        };
        for (i, part) in parts.enumerate() {
            let Some(part) = part else { continue };
            filter.by_length[part.len().min(63)] |= 1 << i;
            if let Some(&b) = part.as_bytes().first() {
                filter.by_first_byte[usize::from(b)] |= 1 << i;
            }
        }
        filter
    }

    /// The paths `key` may match (a superset: the caller compares the strings).
    #[inline]
    fn candidates(&self, key: &[u8]) -> u64 {
        let by_length = self.by_length[key.len().min(63)];
        match key.first() {
            Some(&b) => by_length & self.by_first_byte[usize::from(b)],
            // Only paths with an empty part have length 0; none has a first byte.
            None => by_length,
        }
    }
}

/// Stores a wanted value into the first empty slot of each path in `leaves`: an earlier value
/// for a path wins. Moved into the first slot that wants it; copied only when two paths name
/// the same field (texts are large).
pub(super) fn store<'de>(values: &mut [Option<Captured<'de>>], leaves: u64, v: Captured<'de>) {
    let mut v = Some(v);
    let mut paths = bit_indices(leaves).peekable();
    while let Some(i) = paths.next() {
        if values[i].is_some() {
            continue;
        }
        let more = paths.peek().is_some();
        values[i] = match (&v, more) {
            (Some(c), true) => Some(c.duplicate()),
            _ => v.take(),
        };
    }
}

/// The indices of the set bits of `bits`, lowest first: the paths of a path bit set, in
/// priority order.
fn bit_indices(mut bits: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (bits != 0).then(|| {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            i
        })
    })
}

/// A value taken from a line.
#[derive(Debug, PartialEq)]
pub(super) enum Captured<'de> {
    Str(Cow<'de, str>),
    Number(String),
    Other(&'static str),
}

impl Captured<'_> {
    fn duplicate(&self) -> Self {
        match self {
            Captured::Str(s) => Captured::Str(s.clone()),
            Captured::Number(n) => Captured::Number(n.clone()),
            Captured::Other(t) => Captured::Other(t),
        }
    }
}

/// The values taken from one line, indexed like the plan's paths.
pub(crate) struct Extracted<'de> {
    values: Vec<Option<Captured<'de>>>,
}

impl<'de> Extracted<'de> {
    #[cfg(test)]
    fn first(&self, plan: &JsonPlan, slot: Slot) -> Option<&Captured<'de>> {
        plan.paths
            .iter()
            .zip(&self.values)
            .filter(|((_, s), _)| *s == slot)
            .find_map(|(_, v)| v.as_ref())
    }

    /// Takes the first value captured for `slot` out (texts are large: never copied).
    fn take(&mut self, plan: &JsonPlan, slot: Slot) -> Option<Captured<'de>> {
        bit_indices(plan.slot_paths[slot as usize]).find_map(|i| self.values[i].take())
    }

    /// The value table, emptied, for the next line.
    fn into_table(mut self) -> Vec<Option<Captured<'de>>> {
        self.values.fill_with(|| None);
        self.values
    }

    /// Takes the first value captured for `slot` as a string (numbers are formatted).
    fn string(&mut self, plan: &JsonPlan, slot: Slot) -> Option<Cow<'de, str>> {
        match self.take(plan, slot)? {
            Captured::Str(s) => Some(s),
            Captured::Number(n) => Some(Cow::Owned(n)),
            Captured::Other(_) => None,
        }
    }
}

/// Takes the plan's fields from one JSON line.
pub(crate) fn extract<'de>(
    line: &'de [u8],
    plan: &JsonPlan,
) -> Result<Extracted<'de>, serde_json::Error> {
    extract_into(line, plan, plan.empty_values())
}

/// [`extract`] into `values`, a value table of the plan with every entry empty (a new one, or
/// one an earlier line gave back with [`Extracted::into_table`]).
fn extract_into<'de>(
    line: &'de [u8],
    plan: &JsonPlan,
    mut values: Vec<Option<Captured<'de>>>,
) -> Result<Extracted<'de>, serde_json::Error> {
    // One vectorised UTF-8 check of the whole line lets both paths skip per-string
    // validation (10% of reading); invalid lines take serde's checking path for its error.
    let text = simdutf8::basic::from_utf8(line).ok();
    if let Some(text) = text {
        if json_skim::skim(text, plan, &mut values).is_some() {
            return Ok(Extracted { values });
        }
        // A declined skim may leave values behind.
        values.fill_with(|| None);
    }
    extract_with_serde(line, text, plan, values)
}

/// The serde_json path of [`extract`]: lines the skim declines, and every error message.
/// `text` is `line` when it is valid UTF-8.
fn extract_with_serde<'de>(
    line: &'de [u8],
    text: Option<&'de str>,
    plan: &JsonPlan,
    mut values: Vec<Option<Captured<'de>>>,
) -> Result<Extracted<'de>, serde_json::Error> {
    let live = plan.all_live();
    match text {
        Some(text) => extract_from(
            serde_json::Deserializer::from_str(text),
            plan,
            live,
            &mut values,
        )?,
        None => extract_from(
            serde_json::Deserializer::from_slice(line),
            plan,
            live,
            &mut values,
        )?,
    }
    Ok(Extracted { values })
}

fn extract_from<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    plan: &JsonPlan,
    live: u64,
    values: &mut Vec<Option<Captured<'de>>>,
) -> Result<(), serde_json::Error> {
    ObjectSeed {
        plan,
        depth: 0,
        live,
        values,
        top: true,
    }
    .deserialize(&mut de)?;
    de.end()
}

struct ObjectSeed<'p, 'v, 'de> {
    plan: &'p JsonPlan,
    depth: usize,
    live: u64,
    values: &'v mut Vec<Option<Captured<'de>>>,
    top: bool,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_, '_, 'de> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_, '_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let (matching, leaves) = self.plan.match_key(self.depth, self.live, &key);
            if matching == 0 {
                map.next_value::<IgnoredAny>()?;
            } else if leaves != 0 {
                store(self.values, leaves, map.next_value_seed(LeafSeed)?);
            } else {
                map.next_value_seed(ObjectSeed {
                    plan: self.plan,
                    depth: self.depth + 1,
                    live: matching,
                    values: self.values,
                    top: false,
                })?;
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.top {
            return Err(de::Error::custom("expected a JSON object, found an array"));
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.not_object("a string")
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.not_object("a number")
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.not_object("a number")
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.not_object("a number")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.not_object("a boolean")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.not_object("null")
    }
}

impl ObjectSeed<'_, '_, '_> {
    fn not_object<E: de::Error>(&self, what: &str) -> Result<(), E> {
        if self.top {
            Err(E::custom(format!("expected a JSON object, found {what}")))
        } else {
            Ok(())
        }
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

struct LeafSeed;

impl<'de> DeserializeSeed<'de> for LeafSeed {
    type Value = Captured<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LeafSeed {
    type Value = Captured<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Captured::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Captured::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Captured::Str(Cow::Owned(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Captured::Number(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Captured::Number(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Captured::Number(v.to_string()))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Captured::Other("a boolean"))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Captured::Other("null"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Captured::Other("an object"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Captured::Other("an array"))
    }
}

/// Parses every line of a batch.
pub(crate) fn parse_lines(
    batch: &LineBatch,
    shard: &str,
    opts: &ReadOptions,
    sink: &mut dyn FnMut(&Document<'_>),
    stats: &mut ShardStats,
) {
    let plan = JsonPlan::new(opts);
    let data = batch.data.as_slice();
    let first_line = batch.lines.first_line();
    let mut line_no = first_line;
    let mut start = 0usize;
    // One value table for every line of the batch: a new one per line (allocated, filled
    // with 15 empty entries, dropped, freed) was ~15 M instructions per 40 MB (session 6).
    let mut table = plan.empty_values();
    while start < data.len() {
        let end = memchr::memchr(b'\n', &data[start..])
            .map(|i| start + i)
            .unwrap_or(data.len());
        let mut line = &data[start..end];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let pos = Position {
            line: line_no,
            offset: batch.start_offset + start as u64,
        };
        // A BOM is not JSON: the shard's first document would be lost as an invalid line.
        if pos.offset == 0 {
            line = super::strip_bom(line);
        }
        let line = Line {
            bytes: line,
            pos,
            shard,
        };
        parse_line(&line, opts, &plan, &mut table, sink, stats);
        start = end + 1;
        line_no += 1;
    }
    batch.lines.set_count(line_no - first_line);
}

/// One line of a shard and where it is.
struct Line<'a> {
    bytes: &'a [u8],
    pos: Position,
    shard: &'a str,
}

impl Line<'_> {
    fn error(&self, kind: ErrorKind) -> InputError {
        InputError::new(self.shard, kind)
            .at_line(self.pos.line)
            .at_offset(self.pos.offset)
    }
}

/// Parses one line and hands its document to `sink`. `table` is the batch's value table: taken
/// for the line and given back empty (a line that fails to parse drops it; the next line
/// then makes a new one).
fn parse_line<'de>(
    line: &Line<'de>,
    opts: &ReadOptions,
    plan: &JsonPlan,
    table: &mut Vec<Option<Captured<'de>>>,
    sink: &mut dyn FnMut(&Document<'_>),
    stats: &mut ShardStats,
) {
    let bytes = line.bytes;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        stats.skip("blank_line");
        return;
    }
    if bytes.len() > opts.max_doc_bytes {
        stats.skip("oversized");
        return;
    }
    let values = match std::mem::take(table) {
        t if t.len() == plan.paths.len() => t,
        _ => plan.empty_values(),
    };
    match extract_into(bytes, plan, values) {
        Ok(extracted) => *table = emit(extracted, line, plan, false, sink, stats),
        Err(e) => {
            // serde_json rejects invalid UTF-8 inside strings. Repair it rather than lose the
            // document, and say so.
            if std::str::from_utf8(bytes).is_err() {
                let repaired = String::from_utf8_lossy(bytes).into_owned();
                match extract(repaired.as_bytes(), plan) {
                    Ok(extracted) => {
                        emit(extracted, line, plan, true, sink, stats);
                    }
                    Err(e) => stats.broken(line.error(ErrorKind::InvalidJson(e.to_string()))),
                }
            } else {
                stats.broken(line.error(ErrorKind::InvalidJson(e.to_string())));
            }
        }
    }
}

/// Makes the document of a parsed line (`lossy`: its invalid UTF-8 was repaired) and hands it
/// to `sink`; returns the emptied value table.
fn emit<'x>(
    mut extracted: Extracted<'x>,
    line: &Line<'x>,
    plan: &JsonPlan,
    lossy: bool,
    sink: &mut dyn FnMut(&Document<'_>),
    stats: &mut ShardStats,
) -> Vec<Option<Captured<'x>>> {
    let text = match extracted.take(plan, Slot::Text) {
        Some(Captured::Str(s)) => s,
        Some(_) => {
            stats.broken(line.error(ErrorKind::NotAString(plan.text_name.clone())));
            return extracted.into_table();
        }
        None => {
            stats.broken(line.error(ErrorKind::MissingField(plan.text_name.clone())));
            return extracted.into_table();
        }
    };
    if lossy {
        stats.warn(line.error(ErrorKind::InvalidUtf8));
    }
    let id = extracted
        .string(plan, Slot::Id)
        .unwrap_or_else(|| Cow::Owned(format!("{}:{}", line.shard, line.pos.line)));
    let doc = Document {
        id,
        url: extracted.string(plan, Slot::Url),
        text,
        date: extracted.string(plan, Slot::Date),
        dump: extracted.string(plan, Slot::Dump),
        position: line.pos,
        raw: line.bytes,
    };
    sink(&doc);
    stats.documents += 1;
    extracted.into_table()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> JsonPlan {
        JsonPlan::new(&ReadOptions::default())
    }

    /// The paths of the default plan at `depth` named `key`: the filter's candidates, and
    /// what a plain comparison of every path finds.
    fn key_candidates(depth: usize, key: &str) -> (u64, u64) {
        let plan = plan();
        let filtered = plan.key_filters[depth].candidates(key.as_bytes());
        let compared = plan
            .paths
            .iter()
            .enumerate()
            .filter(|(_, (parts, _))| parts.get(depth).is_some_and(|p| p == key))
            .fold(0u64, |bits, (i, _)| bits | 1 << i);
        (filtered, compared)
    }

    #[test]
    fn key_filter_passes_every_matching_path_and_few_others() {
        for (depth, key) in [
            (0, "text"),
            (0, "id"),
            (0, "url"),
            (0, "metadata"),
            (0, "meta"),
            (1, "url"),
            (1, "WARC-Date"),
            (1, "cc_segment"),
        ] {
            let (filtered, compared) = key_candidates(depth, key);
            assert_ne!(compared, 0, "{key} names a path at depth {depth}");
            assert_eq!(filtered & compared, compared, "{key} at depth {depth}");
        }
        // Keys sharing a length with a path but not its first byte, or the reverse.
        for (depth, key) in [
            (0, "year"),
            (0, "genres"),
            (0, "source"),
            (0, "xd"),
            (1, "d"),
        ] {
            assert_eq!(key_candidates(depth, key), (0, 0), "{key} at depth {depth}");
        }
        // Same length and first byte: a candidate the comparison then rejects.
        let (filtered, compared) = key_candidates(0, "tent");
        assert_eq!((filtered, compared), (key_candidates(0, "text").1, 0));
        // Longer than 63 bytes shares the last length bucket; the empty key matches no path.
        assert_eq!(key_candidates(0, &"m".repeat(70)), (0, 0));
        assert_eq!(key_candidates(0, ""), (0, 0));
    }

    #[test]
    fn takes_borrowed_fields_and_nested_url() {
        let line = br#"{"id":"a1","metadata":{"url":"http://x","cc_segment":"CC-1"},"text":"hi","n":[1,{"a":2}]}"#;
        let p = plan();
        let mut x = extract(line, &p).unwrap();
        assert!(matches!(
            x.first(&p, Slot::Text),
            Some(Captured::Str(Cow::Borrowed("hi")))
        ));
        assert_eq!(x.string(&p, Slot::Url).as_deref(), Some("http://x"));
        assert_eq!(x.string(&p, Slot::Dump).as_deref(), Some("CC-1"));
        assert_eq!(x.string(&p, Slot::Id).as_deref(), Some("a1"));
    }

    #[test]
    fn escaped_text_and_u2028_are_kept() {
        let line = "{\"text\":\"a\\nb\u{2028}c\"}".as_bytes();
        let p = plan();
        let mut x = extract(line, &p).unwrap();
        assert_eq!(x.string(&p, Slot::Text).as_deref(), Some("a\nb\u{2028}c"));
    }

    #[test]
    fn date_and_dump_from_fineweb_and_datatrove_shapes() {
        let p = plan();
        let mut x = extract(
            br#"{"text":"t","dump":"CC-MAIN-2013-20","date":"2013-05-18T05:48:54Z"}"#,
            &p,
        )
        .unwrap();
        assert_eq!(
            x.string(&p, Slot::Date).as_deref(),
            Some("2013-05-18T05:48:54Z")
        );
        assert_eq!(x.string(&p, Slot::Dump).as_deref(), Some("CC-MAIN-2013-20"));
        let mut x = extract(
            br#"{"text":"t","metadata":{"WARC-Date":"2024-01-02T00:00:00Z","dump":"CC-MAIN-2024-10"}}"#,
            &p,
        )
        .unwrap();
        assert_eq!(
            x.string(&p, Slot::Date).as_deref(),
            Some("2024-01-02T00:00:00Z")
        );
        assert_eq!(x.string(&p, Slot::Dump).as_deref(), Some("CC-MAIN-2024-10"));
        // `created` (dolma) wins over a later `metadata.warc_date`.
        let mut x = extract(
            br#"{"metadata":{"warc_date":"2001-01-01"},"created":"2020-03-29T09:04:10Z","text":""}"#,
            &p,
        )
        .unwrap();
        assert_eq!(
            x.string(&p, Slot::Date).as_deref(),
            Some("2020-03-29T09:04:10Z")
        );
    }

    #[test]
    fn numeric_id_becomes_string() {
        let p = plan();
        let mut x = extract(br#"{"id":19995,"text":""}"#, &p).unwrap();
        assert_eq!(x.string(&p, Slot::Id).as_deref(), Some("19995"));
    }

    #[test]
    fn non_object_line_is_an_error() {
        let p = plan();
        assert!(extract(b"[1,2]", &p).is_err());
        assert!(extract(b"\"text\"", &p).is_err());
        assert!(extract(br#"{"text":"a"} x"#, &p).is_err());
    }

    #[test]
    fn a_reused_value_table_gives_what_a_new_one_gives() {
        let p = plan();
        let lines: [&[u8]; 6] = [
            // Two url paths, a date, a dump: values left in the table after the document.
            br#"{"id":"a","url":"u1","metadata":{"url":"u2","dump":"D"},"date":"d","text":"t"}"#,
            br#"{"text":"no id, no url"}"#,
            // The skim takes `url`, then declines at the tab: serde_json reads the line.
            b"{\"url\":\"u3\",\t\"text\":\"tab\"}",
            br#"{"id":7,"text":"numeric id","created":"c"}"#,
            br#"{"id":"escaped","text":"line\nbreak","meta":{"url":"u4"}}"#,
            br#"{"text":"last"}"#,
        ];
        let mut table = p.empty_values();
        for line in lines {
            let fresh = extract(line, &p).expect("fresh");
            let reused = extract_into(line, &p, table).expect("reused");
            assert_eq!(
                reused.values,
                fresh.values,
                "{}",
                String::from_utf8_lossy(line)
            );
            table = reused.into_table();
            assert!(table.iter().all(Option::is_none) && table.len() == p.paths.len());
        }
    }

    /// Where the skim takes a line, serde_json takes the same values from it; where serde_json
    /// rejects a line, the skim declines it. Returns whether the skim took the line.
    fn skim_agrees(line: &[u8]) -> bool {
        let p = plan();
        let text = std::str::from_utf8(line).ok();
        let serde = extract_with_serde(line, text, &p, p.empty_values());
        let Some(text) = text else {
            return false;
        };
        let mut values = p.empty_values();
        match (json_skim::skim(text, &p, &mut values), serde) {
            (Some(()), Ok(x)) => {
                assert_eq!(values, x.values, "{text}");
                true
            }
            (Some(()), Err(e)) => panic!("the skim took a line serde_json rejects ({e}): {text}"),
            (None, _) => false,
        }
    }

    /// JSON text with every non-ASCII character written as `\u` escapes (surrogate pairs
    /// beyond the BMP), as Python's `json.dumps` writes it by default.
    fn ascii_escaped(json: &str) -> String {
        let mut out = String::new();
        for c in json.chars() {
            if c.is_ascii() {
                out.push(c);
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
        out
    }

    #[test]
    fn skim_agrees_with_serde_on_hand_written_lines() {
        let taken = [
            r#"{"id":"a1","metadata":{"url":"http://x","cc_segment":"CC-1"},"text":"hi","n":[1,{"a":2}]}"#,
            r#"{"text":"a\nb\u2028c \ud83d\ude00","id":19995,"url":null}"#,
            r#"{"metadata":{"warc_date":"2001-01-01"},"created":"2020-03-29","text":""}"#,
            r#"{"text":"first","text":"second","id":{"nested":[true,false,null]}}"#,
            r#"{"metadata":"not an object","text":"x","url":["u"]}"#,
            r#" { "text" : "spaced" , "n" : -1.5e-3 } "#,
        ];
        for line in taken {
            assert!(skim_agrees(line.as_bytes()), "declined: {line}");
        }
        for line in [
            r#"{"text":"lone \udc00"}"#,
            r#"{"metadata":{"url":1e400},"text":"x"}"#,
            "{\"text\":\"tab\tinside\"}",
            r#"{"text":"x"}{"text":"y"}"#,
            r#"{"text":"x","#,
            r#"{"id":007,"text":"x"}"#,
        ] {
            assert!(!skim_agrees(line.as_bytes()), "taken: {line}");
        }
    }

    #[test]
    fn skim_agrees_with_serde_on_real_jsonl() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        if !root.is_dir() {
            eprintln!(
                "\n!!! SKIPPED skim_agrees_with_serde_on_real_jsonl: no {} !!!\n",
                root.display()
            );
            return;
        }
        let mut files = Vec::new();
        for dir in ["shards", "plots", "web", "crawl"] {
            if let Ok(rd) = std::fs::read_dir(root.join(dir)) {
                files.extend(rd.flatten().map(|e| e.path()).filter(|p| {
                    let name = p.to_string_lossy();
                    name.ends_with(".jsonl")
                        || name.ends_with(".jsonl.zst")
                        || name.ends_with(".jsonl.gz")
                }));
            }
        }
        files.sort();
        assert!(!files.is_empty(), "no JSONL files under {}", root.display());
        let (mut lines, mut taken) = (0usize, 0usize);
        for f in &files {
            let raw = std::fs::read(f).unwrap();
            let mut data = Vec::new();
            crate::input::codec::decoder(crate::input::Compression::detect(&raw), &raw[..])
                .unwrap()
                .read_to_end(&mut data)
                .unwrap();
            // A few MB per file keeps the test quick.
            for line in data.split(|&b| b == b'\n').take(20_000) {
                if line.is_empty() {
                    continue;
                }
                lines += 1;
                taken += usize::from(skim_agrees(line));
                // Python-style ASCII escaping of the same line: surrogate pairs everywhere.
                if lines % 7 == 0 {
                    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) {
                        let escaped = ascii_escaped(&v.to_string());
                        taken += usize::from(skim_agrees(escaped.as_bytes()));
                        lines += 1;
                    }
                }
            }
        }
        eprintln!(
            "skim took {taken} of {lines} real lines from {} files",
            files.len()
        );
        // The fast path must carry real crawl JSONL, not just be correct when it declines.
        assert!(
            taken * 100 >= lines * 95,
            "skim took only {taken} of {lines} lines"
        );
    }

    mod skim_props {
        use super::*;
        use proptest::prelude::*;

        fn json_value() -> impl Strategy<Value = serde_json::Value> {
            let key = prop_oneof![
                Just("text".to_string()),
                Just("id".to_string()),
                Just("url".to_string()),
                Just("metadata".to_string()),
                Just("date".to_string()),
                "[a-z]{1,6}",
            ];
            let leaf = prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(serde_json::Value::Bool),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<f64>().prop_map(serde_json::Value::from),
                "\\PC{0,12}".prop_map(serde_json::Value::String),
                "[a-z \"\\\\\n\t\u{1F600}é]{0,12}".prop_map(serde_json::Value::String),
            ];
            leaf.prop_recursive(4, 32, 5, move |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                    prop::collection::vec((key.clone(), inner), 0..5)
                        .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
                ]
            })
        }

        /// A JSON object line, optionally ASCII-escaped, with a few bytes overwritten by
        /// JSON-significant ones.
        fn line() -> impl Strategy<Value = Vec<u8>> {
            let edits = prop::collection::vec(
                (
                    any::<prop::sample::Index>(),
                    prop::sample::select(&b"\"\\{}[],: 0-e.u8dD\ta/"[..]),
                ),
                0..3,
            );
            (
                prop::collection::vec(("[a-z]{1,5}|text|id|url|metadata", json_value()), 1..6),
                any::<bool>(),
                edits,
            )
                .prop_map(|(kv, escape, edits)| {
                    let obj = serde_json::Value::Object(kv.into_iter().collect()).to_string();
                    let mut b = if escape { ascii_escaped(&obj) } else { obj }.into_bytes();
                    for (at, c) in edits {
                        let i = at.index(b.len());
                        b[i] = c;
                    }
                    b
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4000))]
            #[test]
            fn skim_never_disagrees_with_serde(line in line()) {
                skim_agrees(&line);
            }
        }
    }
}
