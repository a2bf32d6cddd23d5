#![no_main]
//! Fuzzes the parquet reader: arbitrary bytes read as Format::Parquet.
//!
//! The reader catches the parquet crate's panics on corrupt files by design (they become
//! `InputError`s). libfuzzer-sys installs a panic hook that aborts even on a caught panic, so
//! this target puts a silent hook back: a panic that escapes the reader still reaches
//! libfuzzer-sys's own `catch_unwind` and aborts as a crash.

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use tropescan::input::Format;

#[path = "common.rs"]
mod common;

static HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // Set TROPESCAN_FUZZ_PANICS=1 to see every panic message while reproducing.
    HOOK.call_once(|| {
        let verbose = std::env::var_os("TROPESCAN_FUZZ_PANICS").is_some();
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if verbose {
                default(info)
            }
        }));
    });
    common::drive("fuzz.bin", data.to_vec(), Some(Format::Parquet));
});
