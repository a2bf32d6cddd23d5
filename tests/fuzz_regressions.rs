//! Regression tests for faults found (or shown possible) by fuzzing the readers; see
//! docs/FUZZING.md. Each test is named after what it guards.

use std::io::{self, Cursor, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tropescan::input::{Document, ErrorKind, Format, ReadOptions, ShardReader, ShardStats};

/// Counts the bytes the reader pulled from its source.
struct Counted(Cursor<Vec<u8>>, Arc<AtomicU64>);

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        self.1.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads `data` as `format`, returning the texts, the stats and the bytes pulled from the source.
fn read(data: Vec<u8>, format: Format, opts: &ReadOptions) -> (Vec<String>, ShardStats, u64) {
    let pulled = Arc::new(AtomicU64::new(0));
    let src = Counted(Cursor::new(data), pulled.clone());
    let reader = ShardReader::from_reader("r.bin", Box::new(src), Some(format), opts).unwrap();
    let mut texts = Vec::new();
    let stats = reader.drain(opts, &mut |d: &Document<'_>| texts.push(d.text.to_string()));
    (texts, stats, pulled.load(Ordering::Relaxed))
}

const MAX_DOC: usize = 64 * 1024;

fn opts() -> ReadOptions {
    ReadOptions {
        max_doc_bytes: MAX_DOC,
        batch_bytes: 4096,
        ..Default::default()
    }
}

/// An unterminated quote makes the rest of a CSV file one field; the `csv` crate used to
/// buffer all of it (a multi-GB file, or a zstd bomb, meant an out-of-memory abort).
#[test]
fn csv_unterminated_quote_does_not_buffer_the_whole_stream() {
    let total = 16 << 20;
    for (format, header) in [
        (Format::Csv, &b"id,text\n1,fine\n2,\""[..]),
        (Format::Tsv, &b"id\ttext\n1\tfine\n2\t\""[..]),
    ] {
        let mut data = header.to_vec();
        data.resize(total, b'a');
        let (texts, stats, pulled) = read(data, format, &opts());
        assert_eq!(texts, ["fine"], "{format:?}");
        assert!(
            pulled < 4 << 20,
            "{format:?}: read {pulled} of {total} bytes to find the end of one row"
        );
        assert!(stats.incomplete);
        assert_eq!(stats.broken, 1);
        let err = &stats.errors[0];
        assert!(matches!(err.kind(), ErrorKind::Csv(_)), "{err:?}");
        assert!(err.message().contains("line 3"), "{}", err.message());
    }
}

/// The same for a header row with no end.
#[test]
fn csv_endless_header_is_an_error_not_a_buffer() {
    let mut data = b"text,\"".to_vec();
    data.resize(16 << 20, b'h');
    let pulled = Arc::new(AtomicU64::new(0));
    let src = Counted(Cursor::new(data), pulled.clone());
    let err = ShardReader::from_reader("r.csv", Box::new(src), Some(Format::Csv), &opts())
        .err()
        .expect("an endless header is an error");
    assert!(matches!(err.kind(), ErrorKind::Csv(_)), "{err:?}");
    assert!(pulled.load(Ordering::Relaxed) < 4 << 20);
}

/// Rows near the limit are still read, and the rows after them too.
#[test]
fn csv_rows_near_the_limit_are_kept_or_skipped_not_cut() {
    let big = "b".repeat(MAX_DOC);
    let over = "o".repeat(MAX_DOC + 1);
    let data = format!("text,id\n\"{big}\",1\n{over},2\nlast,3\n").into_bytes();
    let (texts, stats, _) = read(data, Format::Csv, &opts());
    assert_eq!(texts.len(), 2);
    assert_eq!(texts[0], big);
    assert_eq!(texts[1], "last");
    assert_eq!(stats.skipped.get("oversized"), Some(&1));
    assert!(!stats.incomplete, "{:?}", stats.errors);
}

/// Wraps a Thrift footer in a Parquet file.
fn parquet_with_footer(footer: &[u8]) -> Vec<u8> {
    let mut file = b"PAR1".to_vec();
    file.extend_from_slice(footer);
    file.extend_from_slice(&(footer.len() as u32).to_le_bytes());
    file.extend_from_slice(b"PAR1");
    file
}

/// Reads a Parquet file that must be rejected quickly as a corrupt footer.
fn assert_footer_rejected_quickly(file: Vec<u8>) {
    let started = std::time::Instant::now();
    let res = ShardReader::from_reader("p.parquet", Box::new(Cursor::new(file)), None, &opts());
    let err = res.err().expect("a corrupt footer is an error");
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(err.kind(), ErrorKind::Parquet(_)), "{err:?}");
    assert!(
        err.message().contains("Thrift elements"),
        "{}",
        err.message()
    );
}

/// A Parquet footer with unknown fields holding `list<bool>` of 2^31 - 1 elements: the parquet
/// crate skips bool list elements without consuming bytes, so it spun for minutes (found by the
/// `parquet` fuzz target as a >10 s timeout). Such footers are now rejected up front.
#[test]
fn parquet_footer_with_huge_bool_list_is_rejected_quickly() {
    let mut footer = Vec::new();
    for field_id in 100u8..108 {
        // Long-form field header (delta 0, type list), zigzag field id, list header (size in
        // a varint, element type bool), size 2^31 - 1.
        footer.extend_from_slice(&[0x09, field_id * 2, 0x01, 0xf1, 0xff, 0xff, 0xff, 0xff, 0x07]);
    }
    footer.push(0); // End of struct.
    assert_footer_rejected_quickly(parquet_with_footer(&footer));
}

/// The same with every count small but nested: a list of 200 lists of 200 lists of 2^20
/// bools (the second fuzz finding) costs a few hundred bytes and 2^35 steps.
#[test]
fn parquet_footer_with_nested_bool_lists_is_rejected_quickly() {
    let mut footer = vec![0x09, 200, 0x01]; // Field 100, a list.
    footer.extend_from_slice(&[0xf9, 200, 0x01]); // 200 lists.
    for _ in 0..200 {
        footer.extend_from_slice(&[0xf9, 200, 0x01]); // of 200 lists
        footer.extend_from_slice(&[0xf1, 0x80, 0x80, 0x40]); // of 2^20 bools (one shown).
    }
    footer.push(0);
    assert_footer_rejected_quickly(parquet_with_footer(&footer));
}
