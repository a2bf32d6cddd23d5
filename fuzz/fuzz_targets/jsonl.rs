#![no_main]
//! Fuzzes the jsonl reader: arbitrary bytes read as Format::Jsonl.

use libfuzzer_sys::fuzz_target;
use tropescan::input::Format;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::drive("fuzz.bin", data.to_vec(), Some(Format::Jsonl));
});
