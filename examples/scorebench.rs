//! Runs the scorer over the text of the scorer benchmark (benches/scorer.rs) once: a fixed
//! workload for instruction counting with `valgrind --tool=callgrind`, which is repeatable
//! where timings on a busy machine are not. See docs/PERFORMANCE.md ("Scorer").
//!
//!     cargo build --release --example scorebench
//!     valgrind --tool=callgrind target/release/examples/scorebench score CORPUS_DIR
//!
//! Modes: `read` (only reads the shards: subtract it from the others), `score`
//! (`Scanner::score`), `automaton` (the anchor pass alone), `raw` (every automaton, no features).
//! An optional third argument repeats the pass (for `perf record`). Prints a checksum of the
//! results, so a fast wrong answer shows.

use std::path::Path;

use tropescan::input::{read_shard, ReadOptions, Shard};
use tropescan::lexicon::Lexicon;
use tropescan::scan::{ScanConfig, Scanner};

/// The benchmark's mix, as in benches/scorer.rs.
const SHARDS: [&str; 3] = [
    "shards/prose.jsonl.zst",
    "shards/ag_news.jsonl.zst",
    "shards/gutenberg.jsonl",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(mode), Some(corpus)) = (args.first(), args.get(1)) else {
        eprintln!("usage: scorebench read|score|automaton|raw CORPUS_DIR [REPEAT]");
        std::process::exit(2);
    };
    let mut documents = Vec::new();
    for s in SHARDS {
        let shard = Shard::from_path(&Path::new(corpus).join(s));
        read_shard(&shard, &ReadOptions::default(), None, |d| {
            documents.push(d.text.to_string())
        });
    }
    let scanner =
        Scanner::new(&Lexicon::default_english(), ScanConfig::default()).expect("scanner");
    let bytes: usize = documents.iter().map(String::len).sum();
    let repeat: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(1);
    let check: f64 = (0..repeat).map(|_| pass(mode, &scanner, &documents)).sum();
    println!(
        "{mode}: {} documents, {bytes} bytes, checksum {check}",
        documents.len()
    );
}

/// One pass of `mode` over the documents; its checksum.
fn pass(mode: &str, scanner: &Scanner, documents: &[String]) -> f64 {
    match mode {
        "read" => 0.0,
        "score" => documents.iter().map(|d| scanner.score(d).score).sum(),
        "automaton" => documents
            .iter()
            .map(|d| scanner.automaton_pass(d) as f64)
            .sum(),
        "raw" => documents
            .iter()
            .map(|d| scanner.raw_hits(d).len() as f64)
            .sum(),
        other => {
            eprintln!("unknown mode {other:?}");
            std::process::exit(2);
        }
    }
}
