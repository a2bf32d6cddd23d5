//! The real binary, end to end: `tropescan balance` on hand-written records with hand-computed
//! plans, and on a real `scan -o` of corpus shards.

mod util;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use util::{code, corpus, decompress, run, tropescan};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/balance/scan")
}

fn balance(scan: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    run(tropescan()
        .arg("balance")
        .arg(scan)
        .arg("-o")
        .arg(out)
        .args(extra))
}

/// (id, weight) per line of a weights file.
fn weights(path: &Path) -> Vec<(String, f64)> {
    decompress(path)
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let v: Value = serde_json::from_slice(l).unwrap();
            (
                v["id"].as_str().unwrap().to_string(),
                v["weight"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn plan(out: &Path) -> Value {
    serde_json::from_slice(&fs::read(out.join("plan.json")).unwrap()).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn caps_not_binding_reach_the_target() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let o = balance(&fixture(), &out, &["--target-ratio", "1"]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    // 400 rogue words : 100 benevolent = 4 : 1; factor 4 split as ×0.5 and ×2.
    assert_eq!(
        weights(&out.join("weights/a.jsonl")),
        [
            ("r1".into(), 0.5),
            ("b1".into(), 2.0),
            ("n1".into(), 1.0),
            ("d0".into(), 1.0)
        ]
    );
    assert_eq!(
        weights(&out.join("weights/sub/b.jsonl")),
        [("r2".to_string(), 0.5), ("b2".to_string(), 2.0)]
    );
    let p = plan(&out);
    assert_eq!(
        (p["rogue_words"].as_u64(), p["benevolent_words"].as_u64()),
        (Some(400), Some(100))
    );
    assert!(close(p["current_ratio"].as_f64().unwrap(), 4.0));
    assert!(close(p["achieved_ratio"].as_f64().unwrap(), 1.0));
    assert_eq!(p["missing_benevolent_tokens"].as_f64(), Some(0.0));
    for want in ["4.00 : 1", "1.00 : 1", "520", "0.5000", "2.0000"] {
        assert!(table.contains(want), "table lacks {want}:\n{table}");
    }
}

#[test]
fn caps_binding_say_how_many_benevolent_tokens_are_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let o = balance(
        &fixture(),
        &out,
        &[
            "--target-ratio",
            "1",
            "--max-upsample",
            "1.5",
            "--min-weight",
            "0.5",
        ],
    );
    assert_eq!(code(&o), 0);
    // Both caps bind: 400·0.5 / (100·1.5) = 1.33; reaching 1 needs 200 weighted benevolent
    // words, 150 exist: 50 words, 65 tokens at 1.3 tokens per word.
    let p = plan(&out);
    assert!(close(p["rogue_weight"].as_f64().unwrap(), 0.5));
    assert!(close(p["benevolent_weight"].as_f64().unwrap(), 1.5));
    assert!(close(p["achieved_ratio"].as_f64().unwrap(), 4.0 / 3.0));
    assert!(close(
        p["missing_benevolent_tokens"].as_f64().unwrap(),
        65.0
    ));
    let table = String::from_utf8_lossy(&o.stdout);
    for want in [
        "1.33 : 1",
        "65 (50 words",
        "at --min-weight",
        "at --max-upsample",
    ] {
        assert!(table.contains(want), "table lacks {want}:\n{table}");
    }
    let w = weights(&out.join("weights/a.jsonl"));
    assert_eq!(w[0], ("r1".to_string(), 0.5));
    assert_eq!(w[1], ("b1".to_string(), 1.5));
}

#[test]
fn bad_records_are_reported_and_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let scan = tmp.path().join("scan");
    fs::create_dir_all(scan.join("documents")).unwrap();
    let good = fs::read_to_string(fixture().join("documents/a.jsonl")).unwrap();
    fs::write(
        scan.join("documents/a.jsonl"),
        format!("{good}{{\"id\":\"x\"}}\nnot json\n"),
    )
    .unwrap();
    let out = tmp.path().join("o");
    let o = balance(&scan, &out, &["--target-ratio", "2"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 1, "{err}");
    assert!(
        err.contains("a.jsonl:5") && err.contains("a.jsonl:6"),
        "{err}"
    );
    assert_eq!(weights(&out.join("weights/a.jsonl")).len(), 4);
    assert_eq!(plan(&out)["errors"].as_array().unwrap().len(), 2);
    // 300 : 50 = 6, target 2: ×√3 and ×1/√3.
    assert!(close(
        plan(&out)["benevolent_weight"].as_f64().unwrap(),
        3f64.sqrt()
    ));

    let o = balance(tmp.path(), &out, &["--target-ratio", "1"]);
    assert_eq!(code(&o), 2, "a folder without documents/ is a usage error");
    assert!(String::from_utf8_lossy(&o.stderr).contains("no documents/ folder"));
    let o = balance(&fixture(), &out, &["--target-ratio", "0"]);
    assert_eq!(code(&o), 2);
}

/// A real scan of corpus shards: the weights align with the records, and the achieved ratio
/// recomputed from them is the one the plan reports.
#[test]
fn weights_from_a_real_scan_reach_the_reported_ratio() {
    let Some(root) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let scan = tmp.path().join("scan");
    let o = run(tropescan()
        .args(["scan", "-q", "-o"])
        .arg(&scan)
        .arg(root.join("shards/prose.jsonl.zst"))
        .arg(root.join("shards/wikitext2.warc.wet.gz"))
        .arg(root.join("plots/plots_all.jsonl.zst")));
    assert_eq!(code(&o), 0);
    let out = tmp.path().join("o");
    let o = balance(
        &scan,
        &out,
        &["-q", "--target-ratio", "0.5", "--max-upsample", "3"],
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let p = plan(&out);
    let (mut rogue, mut benevolent, mut w_rogue, mut w_benevolent) = (0u64, 0u64, 0f64, 0f64);
    for (records, weights_file) in [
        ("prose.jsonl.zst", "prose.jsonl.zst"),
        ("wikitext2.warc.wet.gz", "wikitext2.warc.wet.jsonl.gz"),
        ("plots_all.jsonl.zst", "plots_all.jsonl.zst"),
    ] {
        let recs: Vec<Value> = decompress(&scan.join("documents").join(records))
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        let ws = weights(&out.join("weights").join(weights_file));
        assert_eq!(recs.len(), ws.len(), "{records}: one weight per record");
        for (r, (id, w)) in recs.iter().zip(&ws) {
            assert_eq!(r["id"].as_str().unwrap(), id, "{records}: aligned");
            let words = r["words"].as_u64().unwrap();
            let label = r["label"].as_str().unwrap();
            if r["flagged"] == true && label.starts_with("rogue_ai_") {
                rogue += words;
                w_rogue += w * words as f64;
            } else if label == "benevolent_ai" {
                benevolent += words;
                w_benevolent += w * words as f64;
            } else {
                assert_eq!(*w, 1.0, "{records}: other documents keep weight 1");
            }
        }
    }
    assert!(
        rogue > 0 && benevolent > 0,
        "the shards hold both kinds of text"
    );
    assert_eq!(p["rogue_words"].as_u64(), Some(rogue));
    assert_eq!(p["benevolent_words"].as_u64(), Some(benevolent));
    let achieved = w_rogue / w_benevolent;
    assert!(
        (achieved - p["achieved_ratio"].as_f64().unwrap()).abs() < 1e-4,
        "{achieved} vs {}",
        p["achieved_ratio"]
    );
    assert!(
        achieved < rogue as f64 / benevolent as f64,
        "the ratio moved toward the target"
    );
}
