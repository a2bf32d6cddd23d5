//! Shared driver: reads `data` as a shard of `format` through the public API and forces every
//! field of every document.

use std::io::Cursor;

use tropescan::input::{Format, ReadOptions, ShardReader};

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
    });
    std::hint::black_box((total, stats));
}
