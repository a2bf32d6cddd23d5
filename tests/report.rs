//! `tropescan report` end to end: scan real shards to temporary folders, report on them, and
//! check the numbers, the merge property, sampling, hand labels, escaping, and that the HTML
//! renders in headless Chromium.

mod util;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use util::{code, corpus, run, tropescan};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/report")
        .join(name)
}

/// `tropescan scan -q -o DIR INPUT...`, asserting it ran.
fn scan(dir: &Path, inputs: &[PathBuf]) {
    let out = run(tropescan().args(["scan", "-q", "-o"]).arg(dir).args(inputs));
    assert!(code(&out) <= 1, "{}", String::from_utf8_lossy(&out.stderr));
}

/// `tropescan report RUN... -o OUT EXTRA...`: the exit code and stderr.
fn report(runs: &[&Path], out: &Path, extra: &[&str]) -> (i32, String) {
    let o = run(tropescan()
        .arg("report")
        .args(runs)
        .arg("-o")
        .arg(out)
        .args(["-q"])
        .args(extra));
    (code(&o), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn lines(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const RUN_A: [&str; 3] = [
    "web/dolma-cc_en_head-0091.jsonl.gz",
    "crawl/olmo-c4-sample.01.json.gz",
    "crawl/dolma-sample-0000.warc.gz",
];
const RUN_B: [&str; 3] = [
    "shards/prose.jsonl.zst",
    "web/dolma-cc_en_head-0174.jsonl.gz",
    "plots/plots_subset.parquet",
];

/// Runs scanned separately on disjoint shards merge into exactly the report of one run over all
/// of them, in either order and with any thread count.
#[test]
fn reports_of_separate_runs_merge_exactly() {
    let Some(root) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let paths = |names: &[&str]| -> Vec<PathBuf> { names.iter().map(|n| root.join(n)).collect() };
    let (a, b, all) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("all"),
    );
    scan(&a, &paths(&RUN_A));
    scan(&b, &paths(&RUN_B));
    scan(&all, &paths(&[RUN_A, RUN_B].concat()));

    let sample = ["--sample", "6", "--seed", "11"];
    let outs: Vec<PathBuf> = ["ab", "ba", "all", "all-j1"]
        .iter()
        .map(|n| tmp.path().join(format!("report-{n}")))
        .collect();
    let ran = [
        report(&[&a, &b], &outs[0], &sample),
        report(&[&b, &a], &outs[1], &sample),
        report(&[&all], &outs[2], &sample),
        report(&[&all], &outs[3], &[&sample[..], &["-j1"]].concat()),
    ];
    for (c, err) in &ran {
        assert_eq!(*c, 0, "{err}");
    }
    for file in ["report.json", "report.md", "report.html", "sample.jsonl"] {
        let first = fs::read(outs[0].join(file)).unwrap();
        for o in &outs[1..] {
            assert!(
                first == fs::read(o.join(file)).unwrap(),
                "{file} differs between {} and {}",
                outs[0].display(),
                o.display()
            );
        }
    }

    // The numbers agree with what the scans counted.
    let r = json(&outs[0].join("report.json"));
    let summary = json(&all.join("summary.json"));
    let totals = &summary["totals"];
    assert_eq!(r["documents"], totals["documents"]);
    assert_eq!(r["words"], totals["words"]);
    assert_eq!(r["flagged"]["documents"]["count"], totals["flagged"]);
    assert_eq!(r["flagged"]["words"]["count"], totals["flagged_words"]);
    for (label, n) in totals["labels"].as_object().unwrap() {
        assert_eq!(&r["labels"][label]["documents"]["count"], n, "{label}");
    }
    assert_eq!(r["inputs"]["shards"], 6);
    assert_eq!(r["shards"].as_array().unwrap().len(), 6);
    let shard_docs: u64 = r["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["documents"].as_u64().unwrap())
        .sum();
    assert_eq!(shard_docs, totals["documents"].as_u64().unwrap());
    // The histogram is exact at thresholds: at the run's threshold (0.5) it gives the flagged
    // count; below it, documents the run did not flag count too (what --threshold 0.3 would
    // flag); prevalence falls as the threshold rises.
    let at: Vec<u64> = r["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["documents"]["count"].as_u64().unwrap())
        .collect();
    assert_eq!(at.len(), 4);
    assert_eq!(r["thresholds"][1]["threshold"], 0.5);
    assert_eq!(at[1], totals["flagged"].as_u64().unwrap());
    assert!(at.windows(2).all(|w| w[0] >= w[1]), "{at:?}");
    let between: u64 = r["score_histogram"]["documents"].as_array().unwrap()[30..50]
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(between > 0, "the corpus has scores in [0.3, 0.5)");
    assert_eq!(at[0], at[1] + between, "{at:?}");
    let hist: u64 = r["score_histogram"]["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(hist, totals["documents"].as_u64().unwrap());
    // Every share lies within its interval.
    let f = &r["flagged"]["documents"];
    let (share, low, high) = (
        f["share"].as_f64().unwrap(),
        f["low"].as_f64().unwrap(),
        f["high"].as_f64().unwrap(),
    );
    assert!(low < share && share < high, "{f}");
    // Dumps and years come from dolma's cc_segment, C4's date and WARC-Date.
    let names = |key: &str| -> Vec<String> {
        r[key]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        names("dumps").contains(&"CC-MAIN-2020-16".to_string()),
        "{:?}",
        names("dumps")
    );
    for year in ["2019", "2020", "2024"] {
        assert!(names("years").contains(&year.to_string()), "{year}");
    }
    let top = r["domains"]["top_by_flagged"].as_array().unwrap();
    assert_eq!(
        top[0]["name"], "github.com",
        "prose.jsonl.zst is GitHub prose"
    );
    for d in r["domains"]["top_by_rate"].as_array().unwrap() {
        assert!(d["documents"].as_u64().unwrap() >= 20);
    }
    assert!(r["terms"].as_array().unwrap().len() <= 50);
    assert!(!r["examples"].as_array().unwrap().is_empty());

    // The sample: 6 flagged and 6 unflagged, with text read back from the shards, unlabelled.
    let sample = lines(&outs[0].join("sample.jsonl"));
    assert_eq!(sample.len(), 12);
    assert_eq!(sample.iter().filter(|s| s["flagged"] == true).count(), 6);
    for s in &sample {
        assert_eq!(s["human_label"], "");
        assert!(s["text"].as_str().is_some_and(|t| !t.is_empty()), "{s}");
        assert_eq!(s["flagged"] == true, s.get("snippet").is_some());
    }
    // Another seed draws another sample.
    let other = tmp.path().join("report-seed");
    assert_eq!(
        report(&[&all], &other, &["--sample", "6", "--seed", "12"]).0,
        0
    );
    assert_ne!(
        fs::read(other.join("sample.jsonl")).unwrap(),
        fs::read(outs[0].join("sample.jsonl")).unwrap()
    );
}

/// Hand labels in TSV and in the sample's own JSONL give the precision and recall computed by
/// hand in src/report/labels.rs: 4 flagged and 8 unflagged documents; labelled: 3 of 4
/// flagged positive, 1 of 4 unflagged positive.
#[test]
fn hand_labels_give_precision_and_recall() {
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = tmp.path().join("run");
    scan(&run_dir, &[fixture("hostile.jsonl")]);
    let out = tmp.path().join("tsv");
    let labels = fixture("labels.tsv");
    let (c, err) = report(&[&run_dir], &out, &["--labels", labels.to_str().unwrap()]);
    assert_eq!(c, 0, "{err}");
    let check = |r: &Value| {
        let l = &r["label_evaluation"];
        assert_eq!(l["true_positives"], 3, "{l}");
        assert_eq!(l["false_positives"], 1);
        assert_eq!(l["false_negatives"], 1);
        assert_eq!(l["true_negatives"], 3);
        assert_eq!(l["precision"]["share"], 0.75);
        assert_eq!(l["precision"]["low"], 0.300642);
        assert_eq!(l["precision"]["high"], 0.954413);
        assert_eq!(l["recall_in_labelled"]["share"], 0.75);
        assert_eq!(l["recall"]["value"], 0.6);
        assert_eq!(l["recall"]["low"], 0.14878);
        assert_eq!(l["recall"]["high"], 0.927917);
    };
    let r = json(&out.join("report.json"));
    check(&r);
    let l = &r["label_evaluation"];
    assert_eq!(l["unmatched"], 1, "zz is in no run");
    assert_eq!(l["unlabelled"], 1, "n6 has an empty label");
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("- precision: 3 of 4 = 75.0% [30.1%, 95.4%]"),
        "{md}"
    );

    // The same labels written into the sample file (JSONL) give the same numbers.
    let drawn = tmp.path().join("drawn");
    assert_eq!(report(&[&run_dir], &drawn, &["--sample", "10"]).0, 0);
    let tsv: Vec<(String, String)> = fs::read_to_string(&labels)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let (id, label) = l.split_once('\t').unwrap();
            (id.to_string(), label.to_string())
        })
        .collect();
    let mut filled = String::new();
    let sample = lines(&drawn.join("sample.jsonl"));
    assert_eq!(
        sample.len(),
        4 + 8,
        "every document: fewer than 10 per stratum"
    );
    for mut s in sample {
        if let Some((_, label)) = tsv.iter().find(|(id, _)| s["id"] == id.as_str()) {
            s["human_label"] = Value::String(label.clone());
        }
        filled.push_str(&s.to_string());
        filled.push('\n');
    }
    let jsonl = tmp.path().join("labels.jsonl");
    fs::write(&jsonl, filled).unwrap();
    let out2 = tmp.path().join("jsonl");
    let (c, err) = report(&[&run_dir], &out2, &["--labels", jsonl.to_str().unwrap()]);
    assert_eq!(c, 0, "{err}");
    check(&json(&out2.join("report.json")));
}

/// Document text, ids and URLs holding markup are escaped in report.html; matched terms are
/// marked.
#[test]
fn html_escapes_hostile_text() {
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = tmp.path().join("run");
    scan(&run_dir, &[fixture("hostile.jsonl")]);
    let out = tmp.path().join("out");
    let (c, err) = report(&[&run_dir], &out, &[]);
    assert_eq!(c, 0, "{err}");
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        !html.to_lowercase().contains("<script"),
        "raw <script> in the page"
    );
    assert!(!html.contains("<b>f4</b>"));
    assert!(
        html.contains("&lt;b&gt;f4&lt;/b&gt;"),
        "the id is shown, escaped"
    );
    assert!(html.contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;"));
    assert!(
        html.contains("&quot;&gt;&lt;script&gt;x&lt;/script&gt;"),
        "URL escaped"
    );
    assert!(html.contains("<mark>"), "matched terms highlighted");
    assert!(html.contains("Content-Security-Policy"));
    assert!(!html.contains("http-equiv=\"refresh\"") && !html.contains("<img src=\"http"));
    let r = json(&out.join("report.json"));
    assert_eq!(
        r["examples"].as_array().unwrap().len(),
        4,
        "all four flagged documents"
    );
}

/// Bad runs do not stop the report: a missing folder, a corrupt record line and a missing
/// records file are each named on stderr and counted; exit 1. Runs made with different
/// thresholds cannot be merged (exit 2).
#[test]
fn bad_runs_are_reported_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good");
    scan(&good, &[fixture("hostile.jsonl")]);
    let records = good.join("documents/hostile.jsonl");
    let text = fs::read_to_string(&records).unwrap();
    let mut broken: Vec<&str> = text.lines().collect();
    broken[2] = "{not json";
    fs::write(&records, broken.join("\n") + "\n").unwrap();
    let missing = tmp.path().join("nowhere");
    let out = tmp.path().join("out");
    let (c, err) = report(&[&good, &missing], &out, &[]);
    assert_eq!(c, 1, "{err}");
    assert!(err.contains("nowhere/summary.json"), "{err}");
    assert!(
        err.contains("documents/hostile.jsonl:3: not a document record"),
        "{err}"
    );
    let r = json(&out.join("report.json"));
    assert_eq!(r["documents"], 11, "the other records are counted");
    assert_eq!(r["inputs"]["report_errors"], 1, "the bad line");

    fs::remove_file(&records).unwrap();
    let (c, err) = report(&[&good], &out, &[]);
    assert_eq!(c, 1);
    assert!(
        err.contains("documents/hostile.jsonl: missing: rescan"),
        "{err}"
    );

    let (c, _) = report(&[&missing], &out, &[]);
    assert_eq!(c, 2, "nothing readable");

    let strict = tmp.path().join("strict");
    let o = run(tropescan()
        .args(["scan", "-q", "--threshold", "0.7", "-o"])
        .arg(&strict)
        .arg(fixture("hostile.jsonl")));
    assert_eq!(code(&o), 0);
    let g2 = tmp.path().join("good2");
    scan(&g2, &[fixture("hostile.jsonl")]);
    let (c, err) = report(&[&g2, &strict], &out, &[]);
    assert_eq!(c, 2);
    assert!(err.contains("cannot be merged"), "{err}");
}

/// Finds Chromium: `$CHROMIUM`, else `chromium` or `chromium-browser` on the PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| [d.join("chromium"), d.join("chromium-browser")])
        .find(|p| p.is_file())
}

/// Runs `cmd` to its end, reading its output as it comes (a DOM dump is larger than a pipe
/// buffer); kills it and fails after `limit`, so a hung browser cannot hang the suite.
fn output_within(mut cmd: Command, limit: Duration) -> Output {
    use std::io::Read;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Pixels of an RGB(A) PNG close to `rgb`.
fn count_colour(png_path: &Path, rgb: [u8; 3]) -> (u32, u32, usize, usize) {
    let decoder = png::Decoder::new(fs::File::open(png_path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let pixels = &buf[..info.buffer_size()];
    let mut matching = 0;
    let mut distinct = std::collections::HashSet::new();
    for px in pixels.chunks(channels) {
        if px[..3].iter().zip(rgb).all(|(&a, b)| a.abs_diff(b) <= 12) {
            matching += 1;
        }
        if distinct.len() < 1000 {
            distinct.insert([px[0], px[1], px[2]]);
        }
    }
    (info.width, info.height, matching, distinct.len())
}

/// The report page opened in headless Chromium: the charts are in the rendered DOM with bars
/// of non-zero width, and the screenshot (kept at target/report-screenshot.png) shows bars in
/// the chart colours. Skips loudly without Chromium, except under CI, where it fails.
#[test]
fn report_renders_in_headless_chromium() {
    let Some(root) = corpus() else { return };
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium is required under CI (.ci/run installs Debian's chromium)"
        );
        eprintln!("\n\n!!! SKIPPED: chromium not found (install it or set CHROMIUM) !!!\n");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = tmp.path().join("run");
    scan(
        &run_dir,
        &[
            root.join("shards/prose.jsonl.zst"),
            root.join("web"),
            root.join("crawl/olmo-c4-sample.01.json.gz"),
        ],
    );
    let out = tmp.path().join("out");
    let (c, err) = report(&[&run_dir], &out, &[]);
    assert_eq!(c, 0, "{err}");
    let page = format!("file://{}", out.join("report.html").display());
    let headless = |extra: &[&str]| {
        let mut cmd = Command::new(&browser);
        cmd.args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--window-size=1200,2000",
        ])
        .args(extra)
        .arg(&page)
        .env("HOME", tmp.path());
        output_within(cmd, Duration::from_secs(180))
    };

    let dom = headless(&["--dump-dom"]);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    for id in ["histogram", "labels", "thresholds", "domains", "terms"] {
        assert!(
            dom.contains(&format!("<svg id=\"{id}\"")),
            "chart {id} missing"
        );
    }
    let wide_bars = dom
        .split("<rect class=\"bar")
        .skip(1)
        .filter(|r| {
            r.split("width=\"")
                .nth(1)
                .and_then(|w| w.split('"').next())
                .and_then(|w| w.parse::<f64>().ok())
                .is_some_and(|w| w > 0.0)
        })
        .count();
    assert!(wide_bars >= 20, "only {wide_bars} bars with a width");
    assert!(dom.contains("<mark>"), "example snippets with marked terms");

    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/report-screenshot.png");
    let _ = fs::remove_file(&shot);
    let arg = format!("--screenshot={}", shot.display());
    let o = headless(&[&arg]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (w, h, blue, colours) = count_colour(&shot, [0x4a, 0x78, 0xb5]);
    assert_eq!((w, h), (1200, 2000));
    assert!(colours > 50, "a page, not a flat image: {colours} colours");
    assert!(blue > 2000, "chart bars drawn: {blue} bar-coloured pixels");
    let (_, _, red, _) = count_colour(&shot, [0xb5, 0x46, 0x2f]);
    assert!(red > 200, "flagged histogram bars drawn: {red} pixels");
}

/// The repository's own hand-labelled set (tests/data/labelled/labels.tsv: shard, id or `#N`,
/// tropescan label name) reads as a label file: every one of its 365 rows finds its document.
#[test]
fn repository_label_file_joins_every_row() {
    let Some(root) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = tmp.path().join("run");
    let dirs = [
        "shards",
        "plots/plots_all.jsonl.zst",
        "fiction",
        "crawl",
        "web",
    ];
    scan(
        &run_dir,
        &dirs.iter().map(|d| root.join(d)).collect::<Vec<_>>(),
    );
    let out = tmp.path().join("out");
    let labels = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/labelled/labels.tsv");
    let (c, err) = report(&[&run_dir], &out, &["--labels", labels.to_str().unwrap()]);
    assert_eq!(c, 0, "{err}");
    let l = &json(&out.join("report.json"))["label_evaluation"];
    assert_eq!(l["labels"], 365, "{l}");
    assert_eq!(l["unmatched"], 0, "{l}");
    assert_eq!(l["ambiguous"], 0, "{l}");
    let judged: u64 = [
        "true_positives",
        "false_positives",
        "false_negatives",
        "true_negatives",
    ]
    .iter()
    .map(|k| l[k].as_u64().unwrap())
    .sum();
    assert_eq!(judged, 365);
}
