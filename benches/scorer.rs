//! Scorer throughput on real text: the whole `Scanner::score` and the automaton pass alone.
//! Text: documents concatenated from the corpus (`$TROPESCAN_CORPUS`, else
//! `../shared/corpus` or `../../shared/corpus`); skipped loudly when absent.
//! Run: `cargo bench --bench scorer`.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tropescan::input::{read_shard, ReadOptions, Shard};
use tropescan::lexicon::Lexicon;
use tropescan::scan::{ScanConfig, Scanner};

fn corpus_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("TROPESCAN_CORPUS") {
        return Some(PathBuf::from(d)).filter(|d| d.is_dir());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [
        root.join("../shared/corpus"),
        root.join("../../shared/corpus"),
    ]
    .into_iter()
    .find(|d| d.is_dir())
}

/// Documents of a shard, as owned strings.
fn docs(path: PathBuf) -> Vec<String> {
    let mut out = Vec::new();
    read_shard(
        &Shard::from_path(&path),
        &ReadOptions::default(),
        None,
        |d| out.push(d.text.to_string()),
    );
    out
}

fn bench(c: &mut Criterion) {
    let Some(corpus) = corpus_dir() else {
        eprintln!("SKIPPED: corpus not found (set TROPESCAN_CORPUS); no scorer benchmark run");
        return;
    };
    // A mix: AI essays/fiction/READMEs (hit-dense), news, and books (long, mostly hit-free).
    let mut documents = Vec::new();
    for shard in [
        "shards/prose.jsonl.zst",
        "shards/ag_news.jsonl.zst",
        "shards/gutenberg.jsonl",
    ] {
        documents.extend(docs(corpus.join(shard)));
    }
    let bytes: usize = documents.iter().map(String::len).sum();
    if bytes == 0 {
        eprintln!("SKIPPED: no documents read from {}", corpus.display());
        return;
    }
    let ascii = documents.iter().filter(|d| d.is_ascii()).count();
    eprintln!(
        "scorer bench: {} documents, {:.1} MB, {} pure ASCII",
        documents.len(),
        bytes as f64 / 1e6,
        ascii
    );
    let scanner =
        Scanner::new(&Lexicon::default_english(), ScanConfig::default()).expect("scanner");

    let mut g = c.benchmark_group("scorer");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    g.bench_function("score", |b| {
        b.iter(|| {
            let mut flagged = 0usize;
            for d in &documents {
                flagged += usize::from(scanner.score(d).flagged);
            }
            flagged
        })
    });
    g.bench_function("automaton_pass_ascii", |b| {
        b.iter(|| {
            documents
                .iter()
                .map(|d| scanner.automaton_pass(d))
                .sum::<usize>()
        })
    });
    g.bench_function("raw_hits_all_automata", |b| {
        b.iter(|| {
            documents
                .iter()
                .map(|d| scanner.raw_hits(d).len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
