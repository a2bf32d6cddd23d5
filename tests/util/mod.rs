//! Shared helpers for the integration tests: the corpus location, reading a shard through every
//! input path, and running the real binary.
#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tropescan::input::{
    read_shard, Format, OwnedDocument, ReadOptions, Shard, ShardReader, ShardStats,
};

/// The shared corpus: `$TROPESCAN_CORPUS`, else `../shared/corpus` next to the repository.
/// Prints a loud notice and returns `None` when it is absent (tests then skip; they never pass
/// silently on a machine that has it).
pub fn corpus() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("TROPESCAN_CORPUS").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")),
    ];
    for c in candidates.into_iter().flatten() {
        if c.join("COUNTS.tsv").is_file() {
            return Some(c);
        }
    }
    // Straight to the stderr handle: `eprintln!` is captured (hidden) for passing tests.
    let _ = writeln!(
        io::stderr(),
        "\n\n!!! SKIPPED: corpus not found (set TROPESCAN_CORPUS or place it at ../shared/corpus) !!!\n"
    );
    None
}

/// Reads at most one byte per call: exercises every buffer boundary of the readers.
pub struct OneByte<R>(pub R);

impl<R: Read> Read for OneByte<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.0.read(&mut buf[..1])
    }
}

/// How a test feeds a shard to the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// `read_shard` on the path: memory-mapped.
    Mapped,
    /// A plain `File` stream, as standard input would be.
    Stream,
    /// One byte per read call.
    OneByte,
}

/// Reads a whole shard through one input path.
pub fn read_via(path: &Path, opts: &ReadOptions, via: Via) -> (Vec<OwnedDocument>, ShardStats) {
    let mut docs = Vec::new();
    let stats = match via {
        Via::Mapped => read_shard(&Shard::from_path(path), opts, None, |d| {
            docs.push(d.to_owned_document())
        }),
        Via::Stream | Via::OneByte => {
            let file = File::open(path).expect("open fixture");
            let reader: Box<dyn Read + Send> = if via == Via::Stream {
                Box::new(file)
            } else {
                Box::new(OneByte(file))
            };
            let name = path.to_string_lossy();
            match ShardReader::from_reader(&name, reader, None, opts) {
                Ok(r) => r.drain(opts, &mut |d| docs.push(d.to_owned_document())),
                Err(e) => ShardStats::from_open_error(e),
            }
        }
    };
    (docs, stats)
}

/// Reads a shard through every input path, asserts they agree on documents and counters, and
/// returns the result.
pub fn read_all_ways(
    path: &Path,
    opts: &ReadOptions,
    one_byte: bool,
) -> (Vec<OwnedDocument>, ShardStats) {
    let (docs, mut stats) = read_via(path, opts, Via::Mapped);
    let mut ways = vec![Via::Stream];
    if one_byte {
        ways.push(Via::OneByte);
    }
    for via in ways {
        let (d2, mut s2) = read_via(path, opts, via);
        assert_eq!(
            d2.len(),
            docs.len(),
            "{}: document count differs via {via:?}",
            path.display()
        );
        for (a, b) in docs.iter().zip(&d2) {
            assert_eq!(a, b, "{}: document differs via {via:?}", path.display());
        }
        // Byte counters differ by design (mapped plain files are counted up front).
        s2.compressed_bytes = stats.compressed_bytes;
        stats.decompressed_bytes = s2.decompressed_bytes.max(stats.decompressed_bytes);
        s2.decompressed_bytes = stats.decompressed_bytes;
        assert_eq!(
            stats.documents,
            s2.documents,
            "{}: via {via:?}",
            path.display()
        );
        assert_eq!(stats.skipped, s2.skipped, "{}: via {via:?}", path.display());
        assert_eq!(stats.broken, s2.broken, "{}: via {via:?}", path.display());
        let m1: Vec<String> = stats.errors.iter().map(|e| e.message()).collect();
        let m2: Vec<String> = s2.errors.iter().map(|e| e.message()).collect();
        assert_eq!(
            m1.len(),
            m2.len(),
            "{}: errors differ via {via:?}: {m1:?} vs {m2:?}",
            path.display()
        );
    }
    (docs, stats)
}

/// Options as the scan flags in COUNTS.tsv give them (`--text-field X`).
pub fn options_from_flags(flags: &str) -> ReadOptions {
    let mut opts = ReadOptions::default();
    let words: Vec<&str> = flags.split_whitespace().collect();
    let mut i = 0;
    while i < words.len() {
        match words[i] {
            "--text-field" => opts.text_field = tropescan::input::FieldPath::new(words[i + 1]),
            "--id-field" => opts.id_field = tropescan::input::FieldPath::new(words[i + 1]),
            "--format" => opts.format = Format::from_name(words[i + 1]),
            other => panic!("COUNTS.tsv uses an option the tests do not know: {other}"),
        }
        i += 2;
    }
    opts
}

/// The `tropescan` binary built for these tests.
pub fn tropescan() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tropescan"));
    c.stdin(Stdio::null());
    c
}

/// Runs a command, returning its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run tropescan")
}

/// The exit code of an output.
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// A file's bytes, decompressed (gzip and zstd detected by magic bytes).
pub fn decompress(path: &Path) -> Vec<u8> {
    let raw = fs::read(path).unwrap();
    let mut out = Vec::new();
    tropescan::input::codec::decoder(tropescan::input::Compression::detect(&raw), &raw[..])
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Every file under `dir`, relative, sorted, with its bytes.
pub fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}
