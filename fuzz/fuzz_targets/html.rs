#![no_main]
//! Fuzzes HTML-to-text on arbitrary (lossily decoded) bytes.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let text = tropescan::input::html::html_to_text(&html);
    std::hint::black_box(text.len());
});
