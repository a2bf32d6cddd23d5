//! Splits the cost of reading one shard: decompression alone, decompression + framing into
//! batches (the reader thread's work), and full reading with parsing, each timed N times
//! (min and median printed). A diagnostic for docs/PERFORMANCE.md, not a test.
//!
//!     cargo run --release --example readsplit -- SHARD [N]

use std::io::Read;
use std::time::Instant;

use tropescan::input::{codec, read_shard, Compression, ReadOptions, Shard, ShardReader};
use tropescan::pipeline;

fn time(n: usize, mut f: impl FnMut() -> u64) -> (f64, f64, u64) {
    let mut t = Vec::new();
    let mut out = 0;
    for _ in 0..n {
        let s = Instant::now();
        out = f();
        t.push(s.elapsed().as_secs_f64() * 1e3);
    }
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (t[0], t[n / 2], out)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: readsplit SHARD [N]");
    let n: usize = args.next().map(|s| s.parse().unwrap()).unwrap_or(9);
    // Optional: run only the named measurement (for `/usr/bin/time` CPU accounting).
    let only = args.next();
    let want = |name: &str| only.as_deref().map_or(true, |o| name.starts_with(o));
    let raw = std::fs::read(&path).unwrap();
    let shard = Shard::from_path(std::path::Path::new(&path));
    let opts = ReadOptions::default();
    let report = |name: &str, (min, med, out): (f64, f64, u64)| {
        println!("{name:<28} min {min:7.1} ms  median {med:7.1} ms  ({out})")
    };
    if want("decompress (") {
        report(
            "decompress (256 KiB reads)",
            time(n, || {
                let mut d = codec::decoder(Compression::detect(&raw), &raw[..]).unwrap();
                let mut buf = vec![0u8; 256 * 1024];
                let mut total = 0u64;
                loop {
                    let k = d.read(&mut buf).unwrap();
                    if k == 0 {
                        break total;
                    }
                    total += k as u64;
                }
            }),
        );
    }
    if want("decompress +") {
        report(
            "decompress + frame",
            time(n, || {
                let mut r = ShardReader::open(&shard, &opts, None).unwrap();
                let mut batches = 0;
                while let Some(b) = r.next_batch() {
                    batches += 1;
                    drop(b);
                }
                batches
            }),
        );
    }
    if want("read") {
        report(
            "read 1 thread",
            time(n, || read_shard(&shard, &opts, None, |_| {}).documents),
        );
    }
    for threads in [2, 3] {
        if !want(&format!("pipelined j{threads}")) {
            continue;
        }
        let shards = vec![shard.clone()];
        report(
            &format!("pipelined j{threads}"),
            time(n, || {
                let mut docs = 0u64;
                let work = |_: usize, batch: &tropescan::input::Batch| {
                    let mut k = 0u64;
                    batch.parse(&opts, &mut |_| k += 1);
                    k
                };
                let _ = pipeline::run(&shards, &opts, threads, None, &|_| false, work, |e| {
                    if let pipeline::Event::Batch { result, .. } = e {
                        docs += result;
                    }
                    Ok(())
                });
                docs
            }),
        );
    }
}
