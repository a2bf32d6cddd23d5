//! Parquet rows -> documents: one document per row, as FineWeb and Hugging Face datasets ship.
//!
//! This module owns reading a mapped Parquet file with the `parquet` crate's Arrow reader,
//! zero-copy over the map, projecting only the text, id and URL columns, one row group at a time
//! in batches of [`ROWS_PER_BATCH`] rows so memory stays bounded, and turning every fault of a
//! corrupt or truncated file (including the parquet crate's panics) into an [`InputError`].

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use bytes::Bytes;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;

use super::batch::{BatchKind, Framer};
use super::source::SharedBytes;
use super::{find_column, ErrorKind, InputError, OwnedDocument, Position, ReadOptions, ShardStats};

/// Rows decoded at a time: small enough that 1024 long documents stay in memory comfortably.
const ROWS_PER_BATCH: usize = 1024;

/// Lets `bytes::Bytes` own the shard's map, so the parquet reader slices it without copying.
struct MappedOwner(Arc<SharedBytes>);

impl AsRef<[u8]> for MappedOwner {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

/// How a wanted column is decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ColumnKind {
    Str,
    Int,
}

/// A projected column: its name in the file and how to read it.
#[derive(Clone, Debug)]
struct Column {
    name: String,
    kind: ColumnKind,
}

/// Streams the rows of a Parquet shard as batches of documents.
pub(crate) struct ParquetFramer {
    bytes: Bytes,
    meta: ArrowReaderMetadata,
    shard: Arc<str>,
    mask: ProjectionMask,
    /// Parquet leaf columns under the projected roots, for the decompressed-byte counter.
    leaves: Vec<usize>,
    text: Column,
    id: Option<Column>,
    url: Option<Column>,
    /// The next row group to open.
    next_group: usize,
    /// The reader of the current row group.
    reader: Option<ParquetRecordBatchReader>,
    /// Index (0-based, in the file) of the next row the current reader yields.
    next_row: u64,
    /// Index of the first row after the current row group.
    group_end: u64,
    /// Warnings found while opening, reported with the first batch.
    pending: Vec<InputError>,
    batch_bytes: usize,
    max_doc_bytes: usize,
}

impl ParquetFramer {
    /// Reads the footer and finds the columns; fails when the file is not Parquet, is corrupt,
    /// or has no usable text column.
    pub(crate) fn new(
        bytes: Arc<SharedBytes>,
        shard: Arc<str>,
        opts: &ReadOptions,
    ) -> Result<ParquetFramer, InputError> {
        let err = |m: String| InputError::new(&*shard, ErrorKind::Parquet(m));
        let all = bytes.as_slice();
        if all.len() < 12 || !all.starts_with(b"PAR1") {
            return Err(err("not a Parquet file (no PAR1 magic at the start)".into()));
        }
        if !all.ends_with(b"PAR1") {
            return Err(err(
                "truncated Parquet file (no PAR1 magic at the end; encrypted files are not \
                 supported)"
                    .into(),
            ));
        }
        if let Err(m) = check_footer_counts(all) {
            return Err(err(format!("corrupt footer: {m}")));
        }
        let bytes = Bytes::from_owner(MappedOwner(bytes));

        // The parquet crate can panic on corrupt footers (bad thrift lengths, bad offsets)
        // instead of returning an error; a bad shard must never stop the run, so catch it.
        let meta = catch_unwind(AssertUnwindSafe(|| {
            ArrowReaderMetadata::load(&bytes, ArrowReaderOptions::new())
        }))
        .map_err(|p| err(format!("corrupt footer: {}", panic_message(&p))))?
        .map_err(|e| err(e.to_string()))?;

        let schema = meta.schema().clone();
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let text_name = opts.text_field.as_str();
        let Some(text_idx) = find_column(&names, text_name) else {
            return Err(InputError::new(
                &*shard,
                ErrorKind::MissingColumn {
                    column: text_name.to_string(),
                    columns: names,
                },
            ));
        };
        let text_field = schema.field(text_idx);
        if column_kind(text_field.data_type()) != Some(ColumnKind::Str) {
            return Err(err(format!(
                "text column {:?} has type {}; it must be a string column",
                text_field.name(),
                text_field.data_type()
            )));
        }

        let mut pending = Vec::new();
        let mut optional = |wanted: &str, what: &str, ints: bool| -> Option<(usize, Column)> {
            let idx = find_column(&names, wanted)?;
            let field = schema.field(idx);
            match column_kind(field.data_type()) {
                Some(ColumnKind::Int) if !ints => None,
                Some(kind) => Some((
                    idx,
                    Column {
                        name: field.name().clone(),
                        kind,
                    },
                )),
                None => {
                    // Not fatal: the document is still readable, it just gets a made-up id.
                    pending.push(err(format!(
                        "{what} column {:?} has type {} and is ignored",
                        field.name(),
                        field.data_type()
                    )));
                    None
                }
            }
        };
        let id = optional(opts.id_field.as_str(), "id", true);
        let url = match &opts.url_field {
            Some(f) => optional(f.as_str(), "url", false),
            None => optional("url", "url", false),
        };

        // The Arrow schema's top-level fields are the Parquet schema's root fields, in order.
        let mut roots = vec![text_idx];
        roots.extend(id.as_ref().map(|c| c.0));
        roots.extend(url.as_ref().map(|c| c.0));
        let descr = meta.parquet_schema();
        let leaves = (0..descr.num_columns())
            .filter(|&leaf| roots.contains(&descr.get_column_root_idx(leaf)))
            .collect();
        let mask = ProjectionMask::roots(descr, roots.iter().copied());

        Ok(ParquetFramer {
            bytes,
            meta,
            shard,
            mask,
            leaves,
            text: Column {
                name: text_field.name().clone(),
                kind: ColumnKind::Str,
            },
            id: id.map(|c| c.1),
            url: url.map(|c| c.1),
            next_group: 0,
            reader: None,
            next_row: 0,
            group_end: 0,
            pending,
            batch_bytes: opts.batch_bytes.max(1),
            max_doc_bytes: opts.max_doc_bytes,
        })
    }

    fn error(&self, m: String) -> InputError {
        InputError::new(&*self.shard, ErrorKind::Parquet(m))
    }

    /// Opens the next row group; `false` when there is none left.
    fn open_group(&mut self, stats: &mut ShardStats) -> bool {
        loop {
            let metadata = self.meta.metadata().clone();
            let Some(group) = metadata.row_groups().get(self.next_group) else {
                return false;
            };
            let index = self.next_group;
            self.next_group += 1;
            let rows = u64::try_from(group.num_rows()).unwrap_or(0);
            self.next_row = self.group_end;
            self.group_end = self.next_row + rows;
            if rows == 0 {
                continue;
            }
            stats.decompressed_bytes += self
                .leaves
                .iter()
                .filter_map(|&leaf| group.columns().get(leaf))
                .map(|c| u64::try_from(c.uncompressed_size()).unwrap_or(0))
                .sum::<u64>();
            let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(
                self.bytes.clone(),
                self.meta.clone(),
            )
            .with_row_groups(vec![index])
            .with_projection(self.mask.clone())
            .with_batch_size(ROWS_PER_BATCH);
            // See `new`: corrupt input can make the parquet crate panic.
            match catch_unwind(AssertUnwindSafe(|| builder.build())) {
                Ok(Ok(reader)) => {
                    self.reader = Some(reader);
                    return true;
                }
                Ok(Err(e)) => self.lose_group(stats, e.to_string()),
                Err(p) => self.lose_group(stats, panic_message(&p)),
            }
        }
    }

    /// Records that the rest of the current row group cannot be read, and moves past it.
    fn lose_group(&mut self, stats: &mut ShardStats, why: String) {
        let lost = self.group_end.saturating_sub(self.next_row);
        let e = self.error(format!(
            "row group {} unreadable from row {} ({lost} rows lost): {why}",
            self.next_group.saturating_sub(1),
            self.next_row + 1
        ));
        stats.errors.push(e);
        stats.broken += lost;
        stats.incomplete = true;
        self.reader = None;
        self.next_row = self.group_end;
    }

    /// Turns one record batch into documents.
    fn convert(
        &mut self,
        batch: &RecordBatch,
        docs: &mut Vec<OwnedDocument>,
        stats: &mut ShardStats,
    ) -> usize {
        let mut bytes = 0;
        let column = |c: &Column| batch.column_by_name(&c.name).map(Arc::clone);
        let Some(text) = column(&self.text) else {
            // The projection asked for it, so this means a reader bug, not bad input.
            let e = self.error(format!(
                "text column {:?} missing from a batch",
                self.text.name
            ));
            stats.broken += batch.num_rows() as u64;
            stats.errors.push(e);
            self.next_row += batch.num_rows() as u64;
            return 0;
        };
        let id = self
            .id
            .clone()
            .and_then(|c| column(&c).map(|a| (c.kind, a)));
        let url = self
            .url
            .clone()
            .and_then(|c| column(&c).map(|a| (c.kind, a)));
        let text = Cells::new(text.as_ref(), ColumnKind::Str);
        let id = id.as_ref().map(|(k, a)| Cells::new(a.as_ref(), *k));
        let url = url.as_ref().map(|(k, a)| Cells::new(a.as_ref(), *k));
        for i in 0..batch.num_rows() {
            let row = self.next_row;
            self.next_row += 1;
            let Some(t) = text.str_at(i) else {
                stats.broken(self.error(format!(
                    "row {}: text column {:?} is null",
                    row + 1,
                    self.text.name
                )));
                continue;
            };
            if t.len() > self.max_doc_bytes {
                stats.skip("oversized");
                continue;
            }
            let id = id
                .as_ref()
                .and_then(|c| c.text_at(i))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| format!("{}:{}", self.shard, row + 1));
            let url = url
                .as_ref()
                .and_then(|c| c.text_at(i))
                .filter(|s| !s.is_empty());
            bytes += t.len() + id.len() + 64;
            docs.push(OwnedDocument {
                id,
                url,
                text: t.to_string(),
                date: None,
                dump: None,
                position: Position {
                    line: 0,
                    offset: row,
                },
            });
        }
        bytes
    }
}

impl Framer for ParquetFramer {
    fn next_batch(&mut self, stats: &mut ShardStats) -> Option<BatchKind> {
        stats.errors.append(&mut self.pending);
        let mut docs = Vec::new();
        let mut bytes = 0;
        while bytes < self.batch_bytes {
            if self.reader.is_none() && !self.open_group(stats) {
                break;
            }
            let Some(reader) = self.reader.as_mut() else {
                break;
            };
            // See `new`: corrupt pages can make the parquet crate panic.
            match catch_unwind(AssertUnwindSafe(|| reader.next())) {
                Ok(Some(Ok(batch))) => bytes += self.convert(&batch, &mut docs, stats),
                Ok(Some(Err(e))) => self.lose_group(stats, e.to_string()),
                Ok(None) => {
                    if self.next_row < self.group_end {
                        let why = "row group ended early".to_string();
                        self.lose_group(stats, why);
                    }
                    self.reader = None;
                }
                Err(p) => self.lose_group(stats, panic_message(&p)),
            }
        }
        if docs.is_empty() {
            None
        } else {
            Some(BatchKind::Docs(docs))
        }
    }
}

/// How a column of this type is read, or `None` when it cannot be.
fn column_kind(t: &DataType) -> Option<ColumnKind> {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(ColumnKind::Str),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => Some(ColumnKind::Int),
        // pandas categoricals arrive dictionary-encoded.
        DataType::Dictionary(_, v) if column_kind(v) == Some(ColumnKind::Str) => {
            Some(ColumnKind::Str)
        }
        _ => None,
    }
}

/// The cells of one column of one record batch, with dictionary keys resolved once.
struct Cells<'a> {
    array: &'a dyn Array,
    kind: ColumnKind,
    /// For dictionary arrays: each row's index into the values, and the values.
    dict: Option<(Vec<usize>, &'a dyn Array)>,
}

impl<'a> Cells<'a> {
    fn new(array: &'a dyn Array, kind: ColumnKind) -> Cells<'a> {
        let dict = array
            .as_any_dictionary_opt()
            .map(|d| (d.normalized_keys(), d.values().as_ref()));
        Cells { array, kind, dict }
    }

    /// A string cell; `None` when null or not a string.
    fn str_at(&self, i: usize) -> Option<&'a str> {
        if self.array.is_null(i) {
            return None;
        }
        match &self.dict {
            Some((keys, values)) => plain_str(*values, *keys.get(i)?),
            None => plain_str(self.array, i),
        }
    }

    /// A cell of an id or URL column as text.
    fn text_at(&self, i: usize) -> Option<String> {
        match self.kind {
            ColumnKind::Str => self.str_at(i).map(str::to_string),
            ColumnKind::Int => int_value(self.array, i),
        }
    }
}

/// A cell of a plain (not dictionary) string array.
fn plain_str(a: &dyn Array, i: usize) -> Option<&str> {
    if i >= a.len() || a.is_null(i) {
        return None;
    }
    if let Some(s) = a.as_string_opt::<i32>() {
        return Some(s.value(i));
    }
    if let Some(s) = a.as_string_opt::<i64>() {
        return Some(s.value(i));
    }
    a.as_string_view_opt().map(|s| s.value(i))
}

/// An integer cell as text; `None` when null or not an integer.
fn int_value(a: &dyn Array, i: usize) -> Option<String> {
    if a.is_null(i) {
        return None;
    }
    macro_rules! try_int {
        ($($t:ty),*) => {
            $(if let Some(p) = a.as_primitive_opt::<$t>() {
                return Some(p.value(i).to_string());
            })*
        };
    }
    try_int!(
        Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type
    );
    None
}

/// The message of a caught panic.
fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    let msg = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".into());
    format!("the parquet reader panicked: {msg}")
}

/// Bounds the work of reading the Thrift footer before the parquet crate reads it.
///
/// The parquet crate skips unknown list elements of type bool without consuming a byte, so a
/// footer of a few bytes declaring `list<bool>` of 2^31 elements, or lists of such lists,
/// keeps it busy for hours. In Thrift's compact protocol every element takes at least one
/// byte, so a footer holding more elements than bytes is corrupt. This walks the footer the
/// way the crate's skipping does (bool elements take no byte) and rejects it once it has
/// visited more elements than the footer has bytes. Other faults are left to the parquet crate.
fn check_footer_counts(file: &[u8]) -> Result<(), String> {
    let n = file.len();
    let len = u32::from_le_bytes([file[n - 8], file[n - 7], file[n - 6], file[n - 5]]) as usize;
    let Some(start) = (n - 8).checked_sub(len) else {
        return Ok(()); // The parquet crate reports a bad footer length.
    };
    let mut w = ThriftWalk {
        buf: &file[start..n - 8],
        pos: 0,
        budget: len as u64,
    };
    // Deeper than the crate's own limit of 64 below the known fields.
    match w.skip(12, 128) {
        Err(WalkError::Count(c)) => Err(format!(
            "more than {len} Thrift elements in a footer of {len} bytes (a container of {c})"
        )),
        _ => Ok(()),
    }
}

enum WalkError {
    /// More elements than the footer has bytes: the count of the container that went over.
    Count(u64),
    /// Anything else: truncated, unknown type, too deep.
    Other,
}

/// A walk over Thrift compact-protocol values, counting the elements visited.
struct ThriftWalk<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Elements (container elements and struct fields) that may still be visited.
    budget: u64,
}

impl ThriftWalk<'_> {
    fn byte(&mut self) -> Result<u8, WalkError> {
        let b = *self.buf.get(self.pos).ok_or(WalkError::Other)?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, WalkError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(WalkError::Other)
    }

    fn advance(&mut self, k: u64) -> Result<(), WalkError> {
        let left = (self.buf.len() - self.pos) as u64;
        if k > left {
            return Err(WalkError::Other);
        }
        self.pos += k as usize;
        Ok(())
    }

    /// Spends `c` elements of the budget.
    fn count(&mut self, c: u64) -> Result<u64, WalkError> {
        match self.budget.checked_sub(c) {
            Some(left) => {
                self.budget = left;
                Ok(c)
            }
            None => Err(WalkError::Count(c)),
        }
    }

    /// Skips one value of compact type `ty`. Bools (1, 2) take no byte, as in the parquet
    /// crate: a bool struct field's value is in its type, and the crate reads container
    /// elements the same way.
    fn skip(&mut self, ty: u8, depth: u8) -> Result<(), WalkError> {
        if depth == 0 {
            return Err(WalkError::Other);
        }
        match ty {
            1 | 2 => Ok(()),
            3 => self.advance(1),
            4..=6 => self.varint().map(|_| ()),
            7 => self.advance(8),
            8 => {
                let k = self.varint()?;
                self.advance(k)
            }
            9 | 10 => {
                let h = self.byte()?;
                let size = match h >> 4 {
                    15 => self.varint()?,
                    s => u64::from(s),
                };
                for _ in 0..self.count(size)? {
                    self.skip(h & 0x0f, depth - 1)?;
                }
                Ok(())
            }
            11 => {
                let size = self.varint()?;
                if size > 0 {
                    let kv = self.byte()?;
                    for _ in 0..self.count(size)? {
                        self.skip(kv >> 4, depth - 1)?;
                        self.skip(kv & 0x0f, depth - 1)?;
                    }
                }
                Ok(())
            }
            12 => loop {
                let h = self.byte()?;
                if h == 0 {
                    return Ok(());
                }
                self.count(1)?;
                if h >> 4 == 0 {
                    self.varint()?; // A long-form field id.
                }
                self.skip(h & 0x0f, depth - 1)?;
            },
            13 => self.advance(16),
            _ => Err(WalkError::Other),
        }
    }
}
