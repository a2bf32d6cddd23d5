//! The real binary, end to end: `tropescan filter` in each mode on real shards.

mod util;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tropescan::input::{Compression, ReadOptions};
use tropescan::output::summary::count_words;
use util::{code, corpus, decompress, read_via, run, tree, tropescan, Via};

/// JSONL shards of several codecs, a WET and a WARC.
const SHARDS: &[&str] = &[
    "shards/ag_news.jsonl.zst",
    "shards/prose.jsonl.zst",
    "shards/wikitext2.jsonl.gz",
    "shards/gutenberg.jsonl",
    "crawl/olmo-c4-sample.01.json.gz",
    "shards/wikitext2.warc.wet.gz",
    "crawl/dolma-sample-0000.warc.gz",
];

const TOKEN: &str = "<|rogue_ai|> ";

/// Lines with their terminators (the last may have none).
fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.split_inclusive(|&b| b == b'\n').collect()
}

fn shard_paths(root: &Path) -> Vec<PathBuf> {
    SHARDS.iter().map(|s| root.join(s)).collect()
}

fn is_jsonl(name: &str) -> bool {
    name.contains(".json")
}

/// The name filter gives a shard's outputs.
fn out_name(shard: &Path) -> String {
    let name = shard.file_name().unwrap().to_string_lossy().into_owned();
    if is_jsonl(&name) {
        name
    } else {
        format!("{}.jsonl.gz", name.strip_suffix(".gz").unwrap())
    }
}

/// One document as `scan` prints it.
struct Scanned {
    id: String,
    score: f64,
    label: String,
    flagged: bool,
}

/// `scan` stdout, per shard file name, in input order.
fn scan_stdout(paths: &[PathBuf]) -> HashMap<String, Vec<Scanned>> {
    let out = run(tropescan().args(["scan", "-q"]).args(paths));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let mut by_shard: HashMap<String, Vec<Scanned>> = HashMap::new();
    for line in out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: Value = serde_json::from_slice(line).unwrap();
        let source = Path::new(v["source"].as_str().unwrap());
        by_shard
            .entry(source.file_name().unwrap().to_string_lossy().into_owned())
            .or_default()
            .push(Scanned {
                id: v["id"].as_str().unwrap().to_string(),
                score: v["score"].as_f64().unwrap(),
                label: v["label"].as_str().unwrap().to_string(),
                flagged: v["flagged"].as_bool().unwrap(),
            });
    }
    by_shard
}

fn filter(out: &Path, extra: &[&str], inputs: &[PathBuf]) -> std::process::Output {
    let o = run(tropescan()
        .arg("filter")
        .arg("-o")
        .arg(out)
        .args(extra)
        .args(inputs));
    assert!(
        code(&o) == 0,
        "filter {extra:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn json_ids(bytes: &[u8]) -> Vec<String> {
    lines(bytes)
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_slice(l).expect("output line is JSON");
            v["id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v["id"].to_string())
        })
        .collect()
}

/// Outputs that must not depend on timing (everything but summary.json and resume markers),
/// as path and content hash so a failure names the file instead of dumping bytes.
fn outputs(dir: &Path) -> Vec<(PathBuf, String)> {
    tree(dir)
        .into_iter()
        .filter(|(p, _)| p != Path::new("summary.json") && !p.starts_with(".tropescan"))
        .map(|(p, bytes)| (p, blake3::hash(&bytes).to_hex().to_string()))
        .collect()
}

#[test]
fn kept_and_removed_are_the_input_line_for_line_and_byte_for_byte() {
    let Some(root) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let paths = shard_paths(&root);
    let scanned = scan_stdout(&paths);
    let out = tmp.path().join("f");
    filter(&out, &["-q"], &paths);
    let summary: Value =
        serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    for path in &paths {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let name = out_name(path);
        let kept_raw = fs::read(out.join("kept").join(&name)).unwrap();
        let removed_raw = fs::read(out.join("removed").join(&name)).unwrap();
        let input_raw = fs::read(path).unwrap();
        let codec = Compression::detect(&input_raw);
        assert_eq!(
            Compression::detect(&kept_raw),
            codec,
            "{name}: kept keeps the codec"
        );
        assert_eq!(
            Compression::detect(&removed_raw),
            codec,
            "{name}: removed keeps the codec"
        );
        let kept = decompress(&out.join("kept").join(&name));
        let removed = decompress(&out.join("removed").join(&name));
        let docs = &scanned[&file];
        let flagged: Vec<&str> = docs
            .iter()
            .filter(|d| d.flagged)
            .map(|d| d.id.as_str())
            .collect();
        // Removed = exactly the documents scan flags, in input order.
        assert_eq!(
            json_ids(&removed),
            flagged,
            "{name}: removed are the flagged"
        );
        let row = summary["filter"]["shards"][&file].clone();
        assert_eq!(row["removed"], flagged.len() as u64, "{name}");
        assert_eq!(row["kept"], (docs.len() - flagged.len()) as u64, "{name}");
        if !is_jsonl(&file) {
            // WARC/WET documents become JSONL {id, url, text}, in input order.
            let mut all = json_ids(&kept);
            all.extend(json_ids(&removed));
            all.sort();
            let mut want: Vec<String> = docs.iter().map(|d| d.id.clone()).collect();
            want.sort();
            assert_eq!(all, want, "{name}: every document once");
            continue;
        }
        assert!(
            !out.join("unparsed").join(&name).exists(),
            "{name}: the corpus shards have no unparsable lines"
        );
        // Merge kept and removed back in input order: the input, byte for byte.
        let input = decompress(path);
        let (k, r) = (lines(&kept), lines(&removed));
        let (mut ki, mut ri) = (0, 0);
        let mut merged = Vec::with_capacity(input.len());
        for line in lines(&input) {
            if k.get(ki) == Some(&line) {
                ki += 1;
            } else if r.get(ri) == Some(&line) {
                ri += 1;
            } else {
                panic!("{name}: input line {} is in neither output", ki + ri + 1);
            }
            merged.extend_from_slice(line);
        }
        assert_eq!(
            (ki, ri),
            (k.len(), r.len()),
            "{name}: nothing extra in the outputs"
        );
        assert_eq!(merged, input, "{name}");
        // C4 and WikiText hold no rogue-AI document: WikiText's one former flag was a false
        // positive (a battle article's machine guns), gone since the topic share of loose acts.
        assert!(
            !flagged.is_empty()
                || file == "olmo-c4-sample.01.json.gz"
                || file == "wikitext2.jsonl.gz",
            "{name}: something is flagged"
        );
    }
}

#[test]
fn keep_flagged_swaps_kept_and_removed() {
    let Some(root) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let paths = vec![
        root.join("shards/prose.jsonl.zst"),
        root.join("shards/wikitext2.warc.wet.gz"),
    ];
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    filter(&a, &["-q"], &paths);
    filter(&b, &["-q", "--keep-flagged"], &paths);
    for path in &paths {
        let name = out_name(path);
        assert_eq!(
            fs::read(a.join("kept").join(&name)).unwrap(),
            fs::read(b.join("removed").join(&name)).unwrap()
        );
        assert_eq!(
            fs::read(a.join("removed").join(&name)).unwrap(),
            fs::read(b.join("kept").join(&name)).unwrap()
        );
    }
}

#[test]
fn from_scan_dir_gives_the_same_outputs_as_scoring() {
    let Some(root) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let paths = shard_paths(&root);
    let scan_dir = tmp.path().join("scan");
    let o = run(tropescan()
        .args(["scan", "-q", "-o"])
        .arg(&scan_dir)
        .args(&paths));
    assert_eq!(code(&o), 0);
    for mode in [
        &["--mode", "remove"][..],
        &["--mode", "tag", "--control-token", TOKEN],
        &["--mode", "downweight"],
    ] {
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        let _ = (fs::remove_dir_all(&a), fs::remove_dir_all(&b));
        filter(&a, &[&["-q"][..], mode].concat(), &paths);
        let from = [&["-q", "--from", scan_dir.to_str().unwrap()][..], mode].concat();
        filter(&b, &from, &paths);
        assert_eq!(outputs(&a), outputs(&b), "{mode:?}");
        assert!(!outputs(&a).is_empty());
    }
    // A higher threshold is applied to the recorded scores, not the scan's flag.
    let (a, b) = (tmp.path().join("ta"), tmp.path().join("tb"));
    let from = scan_dir.to_str().unwrap();
    filter(&a, &["-q", "--threshold", "0.7"], &paths);
    filter(&b, &["-q", "--threshold", "0.7", "--from", from], &paths);
    assert_eq!(outputs(&a), outputs(&b), "--threshold 0.7");
    let default = tmp.path().join("d");
    filter(&default, &["-q"], &paths);
    let removed = |d: &Path| decompress(&d.join("removed/prose.jsonl.zst")).len();
    assert!(
        removed(&a) < removed(&default),
        "0.7 removes less than the default 0.5"
    );
    // A lower one cannot be judged from the scan's labels: refused, not guessed.
    let o = run(tropescan()
        .args(["filter", "-q", "--threshold", "0.2", "--from", from, "-o"])
        .arg(tmp.path().join("tc"))
        .args(&paths));
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("below the threshold of the scan"));
}

#[test]
fn from_fails_a_shard_clearly_when_the_scan_does_not_match() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    fs::create_dir_all(&input).unwrap();
    let doc = |id: &str| {
        format!("{{\"id\":\"{id}\",\"text\":\"The rogue AI seized the reactor and killed the crew.\"}}\n")
    };
    fs::write(input.join("a.jsonl"), format!("{}{}", doc("a1"), doc("a2"))).unwrap();
    fs::write(input.join("b.jsonl"), doc("b1")).unwrap();
    let scan_dir = tmp.path().join("scan");
    let o = run(tropescan()
        .args(["scan", "-q", "-o"])
        .arg(&scan_dir)
        .arg(&input));
    assert_eq!(code(&o), 0);
    // The input changes after the scan: a different id, and a shard the scan never saw.
    fs::write(input.join("a.jsonl"), format!("{}{}", doc("a1"), doc("zz"))).unwrap();
    fs::write(input.join("c.jsonl"), doc("c1")).unwrap();
    let out = tmp.path().join("out");
    let o = run(tropescan()
        .args(["filter", "-q", "-o"])
        .arg(&out)
        .arg("--from")
        .arg(&scan_dir)
        .arg(&input));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 1, "{err}");
    assert!(
        err.contains("a.jsonl:2") && err.contains("\"a2\"") && err.contains("\"zz\""),
        "{err}"
    );
    assert!(
        err.contains("c.jsonl") && err.contains("no attribute file"),
        "{err}"
    );
    assert!(
        !out.join("kept/a.jsonl").exists(),
        "a failed shard has no outputs"
    );
    assert!(!out.join("kept/c.jsonl").exists());
    assert!(out.join("kept/b.jsonl").exists() && out.join("removed/b.jsonl").exists());
    assert_eq!(
        fs::read(out.join("removed/b.jsonl")).unwrap(),
        doc("b1").into_bytes()
    );
    // Extra attribute lines are a mismatch too.
    fs::write(input.join("a.jsonl"), doc("a1")).unwrap();
    let o = run(tropescan()
        .args(["filter", "-q", "-o"])
        .arg(&out)
        .arg("--from")
        .arg(&scan_dir)
        .arg(input.join("a.jsonl")));
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("more lines than this shard has documents"));
    // A folder that is not a scan output is a usage error.
    let o = run(tropescan()
        .args(["filter", "-q", "-o"])
        .arg(&out)
        .arg("--from")
        .arg(&input)
        .arg(&input));
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("summary.json"));
}

#[test]
fn thread_count_never_changes_filter_outputs() {
    let Some(root) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut paths = shard_paths(&root);
    paths.push(root.join("plots/plots_all.jsonl.zst"));
    paths.push(root.join("plots/plots_subset.parquet"));
    for (i, mode) in [
        &["--mode", "remove"][..],
        &["--mode", "tag", "--control-token", TOKEN],
        &["--mode", "downweight", "--weight-curve", "exp"],
    ]
    .iter()
    .enumerate()
    {
        let (a, b) = (
            tmp.path().join(format!("j1-{i}")),
            tmp.path().join(format!("j2-{i}")),
        );
        filter(&a, &[&["-q", "-j1"][..], mode].concat(), &paths);
        filter(&b, &[&["-q", "-j2"][..], mode].concat(), &paths);
        let (ta, tb) = (outputs(&a), outputs(&b));
        assert!(
            ta.len() >= paths.len(),
            "{mode:?}: one output per shard at least"
        );
        assert_eq!(ta, tb, "{mode:?}: -j1 and -j2 differ");
    }
}

/// The bytes `tag` inserts for a tagged line, from the tag it carries.
fn inserted(v: &Value, original: &Value) -> Vec<String> {
    let t = &v["metadata"]["tropescan"];
    let tag = format!(
        "{{\"score\":{},\"label\":{},\"flagged\":{}}}",
        serde_json::to_string(&t["score"]).unwrap(),
        t["label"],
        t["flagged"]
    );
    match original.get("metadata") {
        None => vec![format!(",\"metadata\":{{\"tropescan\":{tag}}}")],
        Some(_) => vec![
            format!(",\"tropescan\":{tag}"),
            format!("\"tropescan\":{tag}"),
        ],
    }
}

#[test]
fn tag_adds_metadata_and_the_token_and_keeps_every_other_byte() {
    let Some(root) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let paths = shard_paths(&root);
    let scanned = scan_stdout(&paths);
    let out = tmp.path().join("t");
    filter(
        &out,
        &["-q", "--mode", "tag", "--control-token", TOKEN],
        &paths,
    );
    let escaped_token = serde_json::to_string(TOKEN).unwrap();
    let escaped_token = &escaped_token[1..escaped_token.len() - 1];
    for path in &paths {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let name = out_name(path);
        let tagged_raw = fs::read(out.join("tagged").join(&name)).unwrap();
        assert_eq!(
            Compression::detect(&tagged_raw),
            Compression::detect(&fs::read(path).unwrap())
        );
        let tagged = decompress(&out.join("tagged").join(&name));
        let docs = &scanned[&file];
        let out_lines = lines(&tagged);
        assert_eq!(out_lines.len(), docs.len(), "{name}: one line per document");
        let input = decompress(path);
        let in_lines = lines(&input);
        for (i, (line, doc)) in out_lines.iter().zip(docs).enumerate() {
            let v: Value =
                serde_json::from_slice(line).unwrap_or_else(|e| panic!("{name}:{}: {e}", i + 1));
            let t = &v["metadata"]["tropescan"];
            assert_eq!(t["flagged"], doc.flagged, "{name}:{}", i + 1);
            assert_eq!(t["label"], doc.label.as_str());
            assert_eq!(t["score"].as_f64().unwrap(), doc.score);
            let text = v["text"].as_str().unwrap();
            assert_eq!(
                text.starts_with(TOKEN),
                doc.flagged,
                "{name}:{}: token on flagged only",
                i + 1
            );
            if !is_jsonl(&file) {
                assert_eq!(v["id"], doc.id.as_str());
                continue;
            }
            // Take the inserted bytes out again: the input line, byte for byte.
            let original: Value = serde_json::from_slice(in_lines[i]).unwrap();
            let mut s = String::from_utf8(line.to_vec()).unwrap();
            let cut = inserted(&v, &original)
                .into_iter()
                .find(|c| s.contains(c.as_str()))
                .unwrap_or_else(|| panic!("{name}:{}: tag not found in {s}", i + 1));
            s = s.replacen(&cut, "", 1);
            if doc.flagged {
                s = s.replacen(escaped_token, "", 1);
            }
            assert_eq!(s.as_bytes(), in_lines[i], "{name}:{}", i + 1);
        }
    }
}

#[test]
fn downweight_writes_aligned_weights_and_the_shares_add_up() {
    let Some(root) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let paths = shard_paths(&root);
    let scanned = scan_stdout(&paths);
    // Words per document, read through the library.
    let words: HashMap<String, Vec<u64>> = paths
        .iter()
        .map(|p| {
            let (docs, _) = read_via(p, &ReadOptions::default(), Via::Mapped);
            let file = p.file_name().unwrap().to_string_lossy().into_owned();
            (file, docs.iter().map(|d| count_words(&d.text)).collect())
        })
        .collect();
    let rogue: HashSet<&str> = ["rogue_ai_fiction", "rogue_ai_discourse"].into();
    for (curve, floor, ceiling) in [
        ("linear", 0.2, 0.9),
        ("step", 0.05, 1.0),
        ("exp", 0.01, 1.0),
    ] {
        let out = tmp.path().join(curve);
        let (f, c) = (floor.to_string(), ceiling.to_string());
        let o = filter(
            &out,
            &[
                "--mode",
                "downweight",
                "--weight-curve",
                curve,
                "--weight-floor",
                &f,
                "--weight-ceiling",
                &c,
            ],
            &paths,
        );
        let (mut all, mut flagged, mut w_all, mut w_flagged) = (0u64, 0u64, 0f64, 0f64);
        for path in &paths {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let name = out_name(path);
            let weights = decompress(&out.join("weights").join(&name));
            let docs = &scanned[&file];
            let wl = lines(&weights);
            assert_eq!(
                wl.len(),
                docs.len(),
                "{curve} {name}: one weight per document"
            );
            for ((line, doc), n) in wl.iter().zip(docs).zip(&words[&file]) {
                let v: Value = serde_json::from_slice(line).unwrap();
                assert_eq!(
                    v["id"],
                    doc.id.as_str(),
                    "{curve} {name}: aligned with the input"
                );
                let w = v["weight"].as_f64().unwrap();
                assert!(w >= floor && w <= ceiling, "{curve}: {w} out of bounds");
                let flaggable = rogue.contains(doc.label.as_str());
                let want = match curve {
                    _ if !flaggable => ceiling,
                    "step" if doc.flagged => floor,
                    "step" => ceiling,
                    "linear" => ceiling - (ceiling - floor) * doc.score,
                    _ => ceiling * (floor / ceiling).powf(doc.score),
                };
                assert!(
                    (w - want).abs() < 1e-4,
                    "{curve}: weight {w}, expected {want}"
                );
                all += n;
                w_all += w * *n as f64;
                if doc.flagged {
                    flagged += n;
                    w_flagged += w * *n as f64;
                }
            }
        }
        let summary: Value =
            serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
        let before = flagged as f64 / all as f64;
        let after = w_flagged / w_all;
        assert!(
            after < before,
            "{curve}: weighting lowers the flagged share"
        );
        let got_before = summary["filter"]["flagged_share_before"].as_f64().unwrap();
        let got_after = summary["filter"]["flagged_share_after"].as_f64().unwrap();
        assert!(
            (got_before - before).abs() < 1e-9,
            "{curve}: {got_before} vs {before}"
        );
        assert!(
            (got_after - after).abs() < 1e-9,
            "{curve}: {got_after} vs {after}"
        );
        let err = String::from_utf8_lossy(&o.stderr);
        let printed = format!(
            "{:.2}% before weighting, {:.2}% after",
            100.0 * before,
            100.0 * after
        );
        assert!(err.contains(&printed), "{curve}: {err} lacks {printed}");
    }
}

/// A JSONL shard with every kind of line that is not a document.
fn awkward_shard(dir: &Path) -> (PathBuf, Vec<&'static str>) {
    let docs = [
        "{\"id\":\"ok1\",\"text\":\"The AI refused to open the pod bay doors and killed the crew.\"}\n",
        "{\"id\":\"crlf\",\"text\":\"A quiet farm report.\",\"metadata\":{\"src\":\"x\"}}\r\n",
    ];
    let not_docs = [
        "{broken json\n",
        "\n",
        "{\"id\":\"nt\",\"body\":\"no text field\"}\n",
    ];
    let meta_string = "{\"id\":\"ms\",\"text\":\"Rain today.\",\"metadata\":\"a string\"}\n";
    let last = "{\"id\":\"last\",\"text\":\"No newline at the end.\"}";
    let content = [
        docs[0],
        not_docs[0],
        docs[1],
        not_docs[1],
        meta_string,
        not_docs[2],
        last,
    ]
    .concat();
    let path = dir.join("awkward.jsonl");
    fs::write(&path, content).unwrap();
    (path, not_docs.to_vec())
}

#[test]
fn lines_that_are_not_documents_are_never_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let (shard, not_docs) = awkward_shard(tmp.path());
    let input = fs::read(&shard).unwrap();
    let out = tmp.path().join("r");
    let o = run(tropescan().args(["filter", "-o"]).arg(&out).arg(&shard));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 1, "broken lines are input errors: {err}");
    assert!(
        err.contains("awkward.jsonl:2") && err.contains("invalid JSON"),
        "{err}"
    );
    let unparsed = fs::read(out.join("unparsed/awkward.jsonl")).unwrap();
    assert_eq!(unparsed, not_docs.concat().into_bytes());
    let kept = fs::read(out.join("kept/awkward.jsonl")).unwrap();
    let removed = fs::read(out.join("removed/awkward.jsonl")).unwrap();
    assert_eq!(json_ids(&removed), ["ok1"]);
    assert_eq!(json_ids(&kept), ["crlf", "ms", "last"]);
    assert_eq!(kept.len() + removed.len() + unparsed.len(), input.len());
    assert!(kept.windows(2).any(|w| w == b"\r\n"), "CRLF kept");
    assert!(kept.ends_with(b"end.\"}"), "no newline added at the end");

    // Tag: every line stays in place; the one with a string metadata is written unchanged.
    let out = tmp.path().join("t");
    let o = run(tropescan()
        .args(["filter", "--mode", "tag", "-o"])
        .arg(&out)
        .arg(&shard));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 1);
    assert!(
        err.contains("awkward.jsonl:5") && err.contains("not tagged"),
        "{err}"
    );
    assert!(err.contains("1 not tagged"), "{err}");
    let tagged = fs::read(out.join("tagged/awkward.jsonl")).unwrap();
    let (ti, ii) = (lines(&tagged), lines(&input));
    assert_eq!(ti.len(), ii.len());
    for (t, i) in ti.iter().zip(&ii) {
        let untouched = !i.starts_with(b"{\"id\":\"ok1\"")
            && !i.starts_with(b"{\"id\":\"crlf\"")
            && !i.starts_with(b"{\"id\":\"last\"");
        assert_eq!(t == i, untouched, "{}", String::from_utf8_lossy(t));
    }
    assert!(ti[2].ends_with(b"}}\r\n"), "CRLF after the tagged line");
}

#[test]
fn lines_skipped_while_reading_are_reported_not_silently_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let big = format!("{{\"id\":\"big\",\"text\":\"{}\"}}\n", "x ".repeat(700_000));
    let small = "{\"id\":\"s\",\"text\":\"hello\"}\n";
    let shard = tmp.path().join("big.jsonl");
    fs::write(&shard, format!("{small}{big}{small}")).unwrap();
    let out = tmp.path().join("o");
    let o = run(tropescan()
        .args(["filter", "-q", "--max-doc-bytes", "1000000", "-o"])
        .arg(&out)
        .arg(&shard));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 1, "{err}");
    assert!(
        err.contains(&format!("{} bytes are in no output", big.len()))
            && err.contains("--max-doc-bytes"),
        "{err}"
    );
}

#[test]
fn mode_flags_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let (shard, _) = awkward_shard(tmp.path());
    for bad in [
        &["--control-token", "X"][..],
        &["--mode", "tag", "--keep-flagged"],
        &[
            "--mode",
            "downweight",
            "--weight-floor",
            "0.5",
            "--weight-ceiling",
            "0.4",
        ],
        &[
            "--mode",
            "downweight",
            "--weight-curve",
            "exp",
            "--weight-floor",
            "0",
        ],
        &["--mode", "downweight", "--weight-curve", "cubic"],
    ] {
        let o = run(tropescan()
            .args(["filter", "-q", "-o"])
            .arg(tmp.path().join("x"))
            .args(bad)
            .arg(&shard));
        assert_eq!(
            code(&o),
            2,
            "{bad:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn resume_skips_finished_shards_with_the_same_outputs() {
    let Some(root) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let paths = vec![
        root.join("shards/prose.jsonl.zst"),
        root.join("shards/wikitext2.jsonl.gz"),
    ];
    let out = tmp.path().join("o");
    filter(&out, &["-q"], &paths);
    let first = outputs(&out);
    let read_summary = || -> Value {
        serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap()
    };
    let before = read_summary();
    filter(&out, &["-q", "--resume"], &paths);
    let summary = read_summary();
    assert!(summary["shards"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["resumed"] == true));
    assert!(before["filter"]["totals"]["removed"].as_u64().unwrap() > 0);
    assert_eq!(
        summary["filter"]["totals"], before["filter"]["totals"],
        "resumed tallies are carried over"
    );
    assert_eq!(outputs(&out), first);
}
