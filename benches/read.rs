//! Reading throughput: MB/s of decompressed text delivered as documents, against plain
//! decompression of the same bytes (the floor). Built from the shared corpus; it states what it
//! must find (the document count), so a fast wrong reader cannot pass as a speed-up.
//!
//!     cargo bench --bench read

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tropescan::input::{codec, read_shard, Compression, ReadOptions, Shard};
use tropescan::pipeline;

fn corpus() -> Option<PathBuf> {
    let c = std::env::var_os("TROPESCAN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    c.join("COUNTS.tsv").is_file().then_some(c)
}

fn decompressed(path: &Path) -> Vec<u8> {
    let raw = fs::read(path).unwrap();
    let mut out = Vec::new();
    codec::decoder(Compression::detect(&raw), &raw[..])
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn bench(c: &mut Criterion) {
    let Some(root) = corpus() else {
        eprintln!("\n!!! SKIPPED: corpus not found; set TROPESCAN_CORPUS !!!\n");
        return;
    };
    // ~34 MB of real JSONL: film plots, web prose, news.
    let mut jsonl = Vec::new();
    for f in [
        "plots/plots_all.jsonl.zst",
        "shards/prose.jsonl.zst",
        "shards/ag_news.jsonl.zst",
    ] {
        jsonl.extend(decompressed(&root.join(f)));
    }
    let expected_docs = 35171 + 302 + 7600;
    let dir = tempfile::tempdir().unwrap();
    let zst = dir.path().join("bench.jsonl.zst");
    fs::write(&zst, zstd::encode_all(&jsonl[..], 3).unwrap()).unwrap();
    let gz = dir.path().join("bench.jsonl.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(&jsonl).unwrap();
    fs::write(&gz, e.finish().unwrap()).unwrap();
    let plain = dir.path().join("bench.jsonl");
    fs::write(&plain, &jsonl).unwrap();

    let mut g = c.benchmark_group("read");
    g.throughput(Throughput::Bytes(jsonl.len() as u64));
    g.sample_size(20);
    for (name, path) in [("zst", &zst), ("gz", &gz), ("plain", &plain)] {
        let raw = fs::read(path).unwrap();
        if name != "plain" {
            g.bench_function(format!("decompress_only/{name}"), |b| {
                b.iter(|| {
                    let mut d = codec::decoder(Compression::detect(&raw), &raw[..]).unwrap();
                    io::copy(&mut d, &mut io::sink()).unwrap()
                })
            });
        }
        let shard = Shard::from_path(path);
        let opts = ReadOptions::default();
        g.bench_function(format!("read_documents/{name}"), |b| {
            b.iter(|| {
                let mut text_bytes = 0usize;
                let stats = read_shard(&shard, &opts, None, |d| text_bytes += d.text.len());
                assert_eq!(stats.documents, expected_docs as u64);
                text_bytes
            })
        });
        // The scan's own arrangement: decompress and frame on one thread, parse the batches
        // on a second, in order.
        let shards = vec![shard.clone()];
        g.bench_function(format!("read_documents_pipelined_j2/{name}"), |b| {
            b.iter(|| {
                let mut docs = 0u64;
                let work = |_: usize, batch: &tropescan::input::Batch| {
                    let mut n = 0u64;
                    batch.parse(&opts, &mut |_| n += 1);
                    n
                };
                let _ = pipeline::run(&shards, &opts, 2, None, &|_| false, work, |e| {
                    if let pipeline::Event::Batch { result, .. } = e {
                        docs += result;
                    }
                    Ok(())
                });
                assert_eq!(docs, expected_docs as u64);
                docs
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
