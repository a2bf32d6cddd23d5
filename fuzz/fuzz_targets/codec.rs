#![no_main]
//! Fuzzes compression detection, the gzip and zstd decoders and format sniffing (no format given,
//! a name without a telling extension).
//!
//! The first byte selects the framing: even feeds the rest as is (magic bytes and sniffing see
//! arbitrary input); odd wraps it so the decoders see a valid header followed by fuzzed bytes
//! (gzip header or zstd frame header by bit 1, bit 2 appends a valid second member/frame).
//! Bits 3-4 pick the shard name: no telling extension (content sniffing), or `.csv`, `.jsonl`,
//! `.warc`, so every framer also sees decompressed (possibly bomb-sized) streams.

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

/// A minimal gzip member header (no flags, no mtime, OS unknown).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

fn framed(sel: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 16);
    if sel & 2 == 0 {
        out.extend_from_slice(&GZIP_HEADER);
        out.extend_from_slice(body);
    } else {
        // zstd magic, then the fuzzed frame header descriptor and blocks.
        out.extend_from_slice(&[0x28, 0xb5, 0x2f, 0xfd]);
        out.extend_from_slice(body);
    }
    if sel & 4 != 0 {
        // A valid second member/frame of a small JSONL line after the fuzzed one.
        let line: &[u8] = b"{\"text\":\"tail\"}\n";
        if sel & 2 == 0 {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(line).unwrap();
            out.extend_from_slice(&e.finish().unwrap());
        } else {
            out.extend_from_slice(&zstd::bulk::compress(line, 1).unwrap());
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        common::drive("fuzz.bin", Vec::new(), None);
        return;
    };
    let bytes = if sel & 1 == 0 {
        body.to_vec()
    } else {
        framed(sel, body)
    };
    let name = ["fuzz.bin", "fuzz.csv", "fuzz.jsonl", "fuzz.warc"][usize::from(sel >> 3 & 3)];
    common::drive(name, bytes, None);
});
