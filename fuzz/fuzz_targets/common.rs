//! Shared driver: reads `data` as a shard of `format` through the public API and forces every
//! field of every document.

use std::io::Cursor;

use tropescan::input::{Compression, Format, ReadOptions, ShardReader};

pub fn options() -> ReadOptions {
    ReadOptions {
        // Small limits: the per-document limit is exercised, and a decompression bomb cannot
        // exhaust memory through a legitimately large document.
        max_doc_bytes: 1 << 20,
        batch_bytes: 4096,
        ..Default::default()
    }
}

pub fn drive(name: &str, data: Vec<u8>, format: Option<Format>) {
    let opts = options();
    // For uncompressed JSONL the line of each document is known independently: one more than
    // the newlines before its offset. The framer leaves line numbers to the parsers, so check.
    let plain_lines = (format == Some(Format::Jsonl)
        && Compression::detect(&data) == Compression::None)
        .then(|| data.clone());
    let Ok(reader) = ShardReader::from_reader(name, Box::new(Cursor::new(data)), format, &opts)
    else {
        return;
    };
    let mut total = 0usize;
    let stats = reader.drain(&opts, &mut |doc| {
        total = total
            .wrapping_add(doc.text.len())
            .wrapping_add(doc.id.len())
            .wrapping_add(doc.url.as_ref().map_or(0, |u| u.len()))
            .wrapping_add(doc.date.as_ref().map_or(0, |d| d.len()))
            .wrapping_add(doc.dump.as_ref().map_or(0, |d| d.len()))
            .wrapping_add(doc.raw.len());
        assert!(doc.text.len() <= opts.max_doc_bytes * 4 + 16);
        if let Some(plain) = &plain_lines {
            let at = doc.position.offset as usize;
            let newlines = plain[..at].iter().filter(|&&b| b == b'\n').count() as u64;
            assert_eq!(
                doc.position.line,
                newlines + 1,
                "line of the document at byte {at}"
            );
        }
    });
    std::hint::black_box((total, stats));
}
