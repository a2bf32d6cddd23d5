//! Reads one shard with the library's reader and prints what it found: a fixed workload for
//! instruction counting (`valgrind --tool=callgrind`), which is repeatable where timings on a
//! busy machine are not. See docs/PERFORMANCE.md.
//!
//!     cargo run --release --example readbench -- SHARD

use tropescan::input::{read_shard, ReadOptions, Shard};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: readbench SHARD");
        std::process::exit(2);
    };
    let shard = Shard::from_path(std::path::Path::new(&path));
    let mut text_bytes = 0usize;
    let stats = read_shard(&shard, &ReadOptions::default(), None, |d| {
        text_bytes += d.text.len()
    });
    println!("{} documents, {text_bytes} text bytes", stats.documents);
}
