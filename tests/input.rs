//! Input layer, end to end on real shards: document counts against the independent counts in
//! the corpus's COUNTS.tsv, every input path agreeing, and every kind of bad input.

mod util;

use std::fs;
use std::io::Write;
use std::path::Path;

use tropescan::input::{ErrorKind, ReadOptions};
use util::{corpus, options_from_flags, read_all_ways, read_via, Via};

/// Every file in COUNTS.tsv yields exactly the independent reader's document count, the same
/// through the mapped, streamed and one-byte paths.
#[test]
fn counts_match_independent_reader() {
    let Some(root) = corpus() else { return };
    let counts = fs::read_to_string(root.join("COUNTS.tsv")).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in counts
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut cols = line.split('\t');
        let rel = cols.next().unwrap();
        let want: u64 = cols.next().unwrap().trim().parse().unwrap();
        let opts = options_from_flags(cols.next().unwrap_or(""));
        let path = root.join(rel);
        let small = fs::metadata(&path).unwrap().len() < 600_000;
        let (docs, stats) = read_all_ways(&path, &opts, small);
        if stats.documents != want || docs.len() as u64 != want {
            failures.push(format!(
                "{rel}: got {} documents, COUNTS.tsv says {want}",
                stats.documents
            ));
        }
        // resiliparse-clipped.warc.gz is cut off inside its gzip stream (hence the name): its one
        // document is delivered and the truncation reported. Every other file is clean.
        let truncated = rel == "web/resiliparse-clipped.warc.gz";
        if truncated == stats.errors.is_empty() {
            failures.push(format!("{rel}: errors {:?}", stats.errors));
        }
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} rows in COUNTS.tsv");
    assert!(
        failures.is_empty(),
        "count mismatches:\n{}",
        failures.join("\n")
    );
}

/// dolma ids and metadata are taken; C4 lines without ids get `<path>:<line>`.
#[test]
fn ids_urls_dates_from_real_jsonl() {
    let Some(root) = corpus() else { return };
    let (docs, _) = read_via(
        &root.join("web/dolma-cc_en_head-0091.jsonl.gz"),
        &ReadOptions::default(),
        Via::Mapped,
    );
    let d = &docs[0];
    assert!(d.id.starts_with("http"), "dolma id is the URL: {}", d.id);
    assert!(d.url.as_deref().unwrap().starts_with("http"));
    assert!(d.dump.as_deref().unwrap().contains("CC-MAIN-2020-16"));
    assert!(d.date.is_some());

    let path = root.join("crawl/olmo-c4-sample.01.json.gz");
    let (docs, _) = read_via(&path, &ReadOptions::default(), Via::Mapped);
    assert_eq!(docs[2].id, format!("{}:3", path.display()));
    assert_eq!(docs[2].position.line, 3);
    assert!(docs[2].url.is_some() && docs[2].date.is_some());
}

/// Real texts hold U+2028/U+2029 inside JSON strings (raw or escaped): lines are split on the
/// newline byte only.
#[test]
fn unicode_line_separators_do_not_split_documents() {
    let dir = tempfile::tempdir().unwrap();
    let data = "{\"id\":\"a\",\"text\":\"one\u{2028}two\u{2029}three\"}\n{\"id\":\"b\",\"text\":\"x\\u2028y\"}\n";
    let path = write(dir.path(), "u.jsonl", data.as_bytes());
    let (docs, stats) = read_all_ways(&path, &ReadOptions::default(), true);
    assert_eq!(stats.documents, 2);
    assert_eq!(docs[0].text, "one\u{2028}two\u{2029}three");
    assert_eq!(docs[1].text, "x\u{2028}y");
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    fs::write(&p, bytes).unwrap();
    p
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd_bytes(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

/// 2,000 JSONL lines of varied text (incompressible enough that truncation lands mid-stream).
fn lines(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut x: u64 = 0x9E3779B97F4A7C15;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        writeln!(
            out,
            r#"{{"id":"d{i}","text":"document {i} {x:x} {}"}}"#,
            x.wrapping_mul(31)
        )
        .unwrap();
    }
    out
}

fn assert_prefix_delivered(docs: &[tropescan::input::OwnedDocument]) {
    for (i, d) in docs.iter().enumerate() {
        assert_eq!(
            d.id,
            format!("d{i}"),
            "documents before the fault are delivered in order"
        );
    }
}

macro_rules! truncated_codec_test {
    ($name:ident, $ext:expr, $encode:expr) => {
        #[test]
        fn $name() {
            let dir = tempfile::tempdir().unwrap();
            // 20,000 lines: several zstd blocks (128 KiB each), so half a file decodes to
            // something.
            let n = 20_000;
            let full = $encode(&lines(n));
            let cut = &full[..full.len() / 2];
            let path = write(dir.path(), concat!("t.jsonl", $ext), cut);
            for via in [Via::Mapped, Via::Stream, Via::OneByte] {
                let (docs, stats) = read_via(&path, &ReadOptions::default(), via);
                assert!(
                    docs.len() > 100 && docs.len() < n,
                    "{via:?}: {} docs",
                    docs.len()
                );
                assert_prefix_delivered(&docs);
                assert!(stats.incomplete);
                assert_eq!(stats.errors.len(), 1, "{via:?}: {:?}", stats.errors);
                let e = &stats.errors[0];
                assert!(matches!(e.kind(), ErrorKind::Decompress(_)), "{e}");
                assert_eq!(e.line(), Some(docs.len() as u64 + 1), "{e}");
                let shown = e.to_string();
                assert!(shown.contains(&*path.to_string_lossy()), "{shown}");
            }
        }
    };
}

truncated_codec_test!(truncated_gzip_stream, ".gz", gzip);
truncated_codec_test!(truncated_zstd_stream, ".zst", zstd_bytes);

macro_rules! corrupt_middle_test {
    ($name:ident, $ext:expr, $encode:expr) => {
        #[test]
        fn $name() {
            let dir = tempfile::tempdir().unwrap();
            let mut bytes = $encode(&lines(20_000));
            let mid = bytes.len() / 2;
            for b in &mut bytes[mid..mid + 64] {
                *b ^= 0x5a;
            }
            let path = write(dir.path(), concat!("c.jsonl", $ext), &bytes);
            let (docs, stats) = read_via(&path, &ReadOptions::default(), Via::Mapped);
            assert!(!stats.errors.is_empty(), "corruption must be reported");
            assert!(docs.len() < 20_000);
            // Everything delivered is a real, intact line from before the damage, or a line
            // reported as broken: never silently wrong.
            let intact = docs
                .iter()
                .take_while(|d| d.text.starts_with("document "))
                .count();
            assert!(
                intact > 100,
                "documents before the fault are delivered: {intact}"
            );
            assert!(stats.errors[0].to_string().contains("c.jsonl"));
        }
    };
}

corrupt_middle_test!(corrupt_bytes_mid_gzip, ".gz", gzip);
corrupt_middle_test!(corrupt_bytes_mid_zstd, ".zst", zstd_bytes);

#[test]
fn bad_json_lines_are_reported_and_reading_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = Vec::new();
    data.extend_from_slice(b"{\"id\":\"a\",\"text\":\"one\"}\n");
    data.extend_from_slice(b"{\"id\":\"b\",\"text\":\"unterminated}\n");
    data.extend_from_slice(b"{\"id\":\"c\",\"body\":\"no text field\"}\n");
    data.extend_from_slice(b"{\"id\":\"d\",\"text\":42}\n");
    data.extend_from_slice(b"{\"id\":\"e\",\"text\":\"caf\xe9 bad utf8\"}\n");
    data.extend_from_slice(b"\n");
    data.extend_from_slice(b"[1,2,3]\n");
    data.extend_from_slice(b"{\"id\":\"f\",\"text\":\"\"}\n");
    data.extend_from_slice(b"{\"text\":\"last, no id, no newline\"}");
    let path = write(dir.path(), "bad.jsonl", &data);
    for gz in [false, true] {
        let path = if gz {
            write(dir.path(), "bad.jsonl.gz", &gzip(&data))
        } else {
            path.clone()
        };
        let (docs, stats) = read_all_ways(&path, &ReadOptions::default(), true);
        let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        let last = format!("{}:9", path.display());
        assert_eq!(ids, vec!["a", "e", "f", last.as_str()]);
        assert_eq!(
            docs[1].text, "caf\u{fffd} bad utf8",
            "invalid UTF-8 repaired, not dropped"
        );
        assert_eq!(docs[2].text, "", "an empty text is a document");
        assert_eq!(stats.broken, 4);
        assert_eq!(stats.skipped.get("blank_line"), Some(&1));
        let found: Vec<(u64, String)> = stats
            .errors
            .iter()
            .map(|e| {
                (
                    e.line().unwrap(),
                    format!("{:?}", e.kind())
                        .split('(')
                        .next()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect();
        let want: Vec<(u64, String)> = [
            (2, "InvalidJson"),
            (3, "MissingField"),
            (4, "NotAString"),
            (5, "InvalidUtf8"),
            (7, "InvalidJson"),
        ]
        .iter()
        .map(|(l, k)| (*l, k.to_string()))
        .collect();
        assert_eq!(found, want);
        for e in &stats.errors {
            assert!(e.to_string().starts_with(&format!(
                "{}:{}",
                path.display(),
                e.line().unwrap()
            )));
        }
    }
}

#[test]
fn nested_fields_and_custom_paths() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "n.jsonl",
        b"{\"doc\":{\"body\":\"hello\",\"key\":7},\"meta\":{\"url\":\"http://r\"}}\n",
    );
    let opts = ReadOptions {
        text_field: tropescan::input::FieldPath::new("doc.body"),
        id_field: tropescan::input::FieldPath::new("doc.key"),
        ..ReadOptions::default()
    };
    let (docs, stats) = read_all_ways(&path, &opts, true);
    assert!(stats.errors.is_empty());
    assert_eq!(docs[0].text, "hello");
    assert_eq!(docs[0].id, "7");
    assert_eq!(
        docs[0].url.as_deref(),
        Some("http://r"),
        "RedPajama's meta.url"
    );
}

#[test]
fn byte_order_mark_at_the_start_of_a_jsonl_file_is_skipped() {
    // Windows tools and pandas' `utf-8-sig` write one; the first document must not be lost.
    let dir = tempfile::tempdir().unwrap();
    let plain =
        b"\xEF\xBB\xBF{\"id\":\"a\",\"text\":\"first\"}\r\n{\"id\":\"b\",\"text\":\"second\"}\r\n";
    for (name, bytes) in [
        ("bom.jsonl", plain.to_vec()),
        ("bom.jsonl.gz", gzip(plain)),
        ("bom.jsonl.zst", zstd_bytes(plain)),
    ] {
        let path = write(dir.path(), name, &bytes);
        let (docs, stats) = read_all_ways(&path, &ReadOptions::default(), true);
        assert!(stats.errors.is_empty(), "{name}: {:?}", stats.errors);
        let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"], "{name}");
        assert_eq!(docs[0].text, "first");
    }
    // Anywhere else a BOM is not JSON: that line is reported, the others are read.
    let path = write(
        dir.path(),
        "late.jsonl",
        b"{\"id\":\"a\",\"text\":\"x\"}\n\xEF\xBB\xBF{\"id\":\"b\",\"text\":\"y\"}\n",
    );
    let (docs, stats) = read_via(&path, &ReadOptions::default(), Via::Mapped);
    assert_eq!(docs.len(), 1);
    assert_eq!(stats.errors.len(), 1);
    assert!(stats.errors[0].to_string().contains("late.jsonl:2"));
}

#[test]
fn empty_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["e.jsonl", "e.txt", "e.warc"] {
        let path = write(dir.path(), name, b"");
        let (docs, stats) = read_via(&path, &ReadOptions::default(), Via::Mapped);
        assert!(docs.is_empty());
        assert_eq!(stats.errors.len(), 1, "{name}");
        assert!(matches!(stats.errors[0].kind(), ErrorKind::Empty));
        assert!(stats.errors[0].to_string().contains(name));
    }
}

#[test]
fn unreadable_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.jsonl.gz");
    let (docs, stats) = read_via(&path, &ReadOptions::default(), Via::Mapped);
    assert!(docs.is_empty());
    assert!(stats.incomplete);
    assert!(matches!(stats.errors[0].kind(), ErrorKind::Io(_)));
    assert!(stats.errors[0].to_string().contains("missing.jsonl.gz"));
}

/// A few KB that expand to 64 MiB on one line: skipped by the per-document limit, never held.
#[test]
fn decompression_bombs_are_bounded_by_the_document_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut big = b"{\"text\":\"".to_vec();
    big.resize(64 << 20, b'a');
    big.extend_from_slice(b"\"}\n{\"id\":\"after\",\"text\":\"ok\"}\n");
    let opts = ReadOptions {
        max_doc_bytes: 1 << 20,
        ..ReadOptions::default()
    };
    for (name, bytes) in [
        ("bomb.jsonl.gz", gzip(&big)),
        ("bomb.jsonl.zst", zstd_bytes(&big)),
    ] {
        assert!(bytes.len() < 1 << 20, "{name} is small: {}", bytes.len());
        let path = write(dir.path(), name, &bytes);
        let (docs, stats) = read_via(&path, &opts, Via::Stream);
        assert_eq!(stats.skipped.get("oversized"), Some(&1), "{name}");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].id, "after");
        assert_eq!(
            docs[0].position.line, 2,
            "line numbers stay right after a skip"
        );
    }
    // The same with a text file and a plain mapped JSONL.
    let path = write(dir.path(), "bomb.txt.gz", &gzip(&big));
    let (docs, stats) = read_via(&path, &opts, Via::Mapped);
    assert!(docs.is_empty());
    assert_eq!(stats.skipped.get("oversized"), Some(&1));
    let path = write(dir.path(), "big.jsonl", &big);
    let (docs, stats) = read_via(&path, &opts, Via::Mapped);
    assert_eq!((docs.len(), stats.skipped.get("oversized")), (1, Some(&1)));
}

/// Multi-member gzip and multi-frame zstd streams are read to the end.
#[test]
fn multi_member_gzip_and_multi_frame_zstd() {
    let dir = tempfile::tempdir().unwrap();
    let all = lines(300);
    let (a, b) = all.split_at(all.iter().position(|&c| c == b'\n').unwrap() * 100 + 100);
    let cut = a.iter().rposition(|&c| c == b'\n').unwrap() + 1;
    let (a, b2) = all.split_at(cut);
    let _ = b;
    let mut gz = gzip(a);
    gz.extend(gzip(b2));
    let mut zs = zstd_bytes(a);
    zs.extend(zstd_bytes(b2));
    for (name, bytes) in [("m.jsonl.gz", gz), ("m.jsonl.zst", zs)] {
        let path = write(dir.path(), name, &bytes);
        let (docs, stats) = read_all_ways(&path, &ReadOptions::default(), true);
        assert_eq!(docs.len(), 300, "{name}");
        assert!(stats.errors.is_empty());
    }
}

/// Files written with `zstd --long=31` need a 2 GiB window.
#[test]
fn zstd_long_window() {
    let dir = tempfile::tempdir().unwrap();
    let data = lines(500);
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    enc.long_distance_matching(true).unwrap();
    enc.window_log(31).unwrap();
    enc.write_all(&data).unwrap();
    let bytes = enc.finish().unwrap();
    let path = write(dir.path(), "long.jsonl.zst", &bytes);
    let (docs, stats) = read_all_ways(&path, &ReadOptions::default(), false);
    assert_eq!(docs.len(), 500);
    assert!(stats.errors.is_empty(), "{:?}", stats.errors);
}

/// Compression comes from magic bytes, not the extension.
#[test]
fn compression_from_magic_not_extension() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "lying.jsonl", &gzip(&lines(10)));
    let (docs, stats) = read_all_ways(&path, &ReadOptions::default(), true);
    assert_eq!(docs.len(), 10);
    assert!(stats.errors.is_empty());
    let bz = write(dir.path(), "x.jsonl", b"BZh91AY&SY....");
    let (_, stats) = read_via(&bz, &ReadOptions::default(), Via::Mapped);
    assert!(matches!(
        stats.errors[0].kind(),
        ErrorKind::UnsupportedCompression("bzip2")
    ));
}

/// Line numbers of real documents read through the threaded pipeline in many small batches:
/// each is one more than the newlines before the document's offset, whether the shard is
/// mapped (plain) or streamed (.zst), and after a line the framer drops (longer than a batch
/// and `--max-doc-bytes`). The framer leaves counting to whichever thread needs a batch's
/// first line, so this checks the lazy resolution under concurrency.
#[test]
fn line_numbers_through_the_pipeline_in_small_batches() {
    let Some(root) = corpus() else { return };
    let mut data = util::decompress(&root.join("shards/prose.jsonl.zst"));
    // A line the framer must drop in the middle.
    let mid = data.len() / 2;
    let cut = mid + data[mid..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let huge = format!("{{\"text\":\"{}\"}}\n", "x".repeat(1_500_000));
    data.splice(cut..cut, huge.bytes());
    let dir = tempfile::tempdir().unwrap();
    let opts = ReadOptions {
        batch_bytes: 8192,
        max_doc_bytes: 1 << 20,
        ..ReadOptions::default()
    };
    for (name, bytes) in [
        ("lines.jsonl", data.clone()),
        ("lines.jsonl.zst", zstd_bytes(&data)),
    ] {
        let path = write(dir.path(), name, &bytes);
        let shards = vec![tropescan::input::Shard::from_path(&path)];
        for threads in [1, 3] {
            let mut got: Vec<(u64, u64)> = Vec::new();
            let work = |_: usize, batch: &tropescan::input::Batch| {
                let mut v = Vec::new();
                batch.parse(&opts, &mut |d| v.push((d.position.offset, d.position.line)));
                v
            };
            let _ =
                tropescan::pipeline::run(&shards, &opts, threads, None, &|_| false, work, |e| {
                    if let tropescan::pipeline::Event::Batch { result, .. } = e {
                        got.extend(result);
                    }
                    Ok(())
                });
            assert_eq!(got.len(), 302, "{name} -j{threads}: every prose document");
            for (offset, line) in got {
                let before = data[..offset as usize].iter().filter(|&&b| b == b'\n');
                assert_eq!(
                    line,
                    before.count() as u64 + 1,
                    "{name} -j{threads} @{offset}"
                );
            }
        }
    }
}
