//! The real binary, end to end: `tropescan scan` on real shards.

mod util;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use util::{code, corpus, decompress, run, tree, tropescan};

fn json_lines(bytes: &[u8]) -> Vec<Value> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("valid JSON line"))
        .collect()
}

#[test]
fn stdout_has_one_line_per_document_in_input_order() {
    let Some(root) = corpus() else { return };
    let shard = root.join("shards/ag_news.jsonl.zst");
    let out = run(tropescan().args(["scan", "-q"]).arg(&shard));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 7600);
    let first = &lines[0];
    for key in ["source", "id", "score", "label", "flagged", "hits"] {
        assert!(first.get(key).is_some(), "missing {key}: {first}");
    }
    assert_eq!(first["id"], "90acc7ace8416532b797a6cf3f53139fdd36e9aa");
    assert_eq!(first["source"], shard.to_string_lossy().as_ref());
    assert!(out.stderr.is_empty(), "-q prints nothing on a clean run");
}

#[test]
fn thread_count_never_changes_output_bytes() {
    let Some(root) = corpus() else { return };
    let inputs = [
        root.join("shards"),
        root.join("plots/plots_all.jsonl.zst"),
        root.join("web"),
        root.join("plots/netflix_titles.csv.gz"),
    ];
    let scan = |j: &str, extra: &[&str]| {
        let out = run(tropescan()
            .args(["scan", "-q", "--evidence", "--text-field", "text", "-j", j])
            .args(extra)
            .args(&inputs));
        assert!(code(&out) <= 1, "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let one = scan("1", &[]);
    assert!(json_lines(&one).len() > 40_000);
    assert_eq!(one, scan("2", &[]), "-j1 and -j2 differ");
    assert_eq!(one, scan("3", &[]), "-j1 and -j3 differ");

    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    for (d, j) in dirs.iter().zip(["1", "2"]) {
        let out = run(tropescan()
            .args(["scan", "-q", "-j", j, "-o"])
            .arg(d.path())
            .args(&inputs));
        assert!(code(&out) <= 1);
    }
    for sub in ["attributes", "documents"] {
        let a = tree(&dirs[0].path().join(sub));
        let b = tree(&dirs[1].path().join(sub));
        assert!(a.len() >= 8, "{sub}: {} files", a.len());
        assert_eq!(a, b, "{sub} files differ between -j1 and -j2");
    }
}

#[test]
fn attribute_files_align_with_documents_and_keep_compression() {
    let Some(root) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = root.join("shards");
    let out = run(tropescan()
        .args(["scan", "-q", "-o"])
        .arg(dir.path())
        .arg(&input));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    for name in [
        "ag_news.jsonl.zst",
        "wikitext2.jsonl.gz",
        "gutenberg.jsonl",
        "prose.jsonl.zst",
    ] {
        let attr = dir.path().join("attributes").join(name);
        let raw = fs::read(&attr).unwrap();
        let shard_raw = fs::read(input.join(name)).unwrap();
        use tropescan::input::Compression;
        assert_eq!(
            Compression::detect(&raw),
            Compression::detect(&shard_raw),
            "{name} keeps its codec"
        );
        let attrs = json_lines(&decompress(&attr));
        let docs = json_lines(&decompress(&input.join(name)));
        assert_eq!(
            attrs.len(),
            docs.len(),
            "{name}: one attribute line per document"
        );
        for (a, d) in attrs.iter().zip(&docs) {
            assert_eq!(a["id"], d["id"], "{name}: ids align row by row");
            let map = a["attributes"].as_object().expect("attributes object");
            for (key, spans) in map {
                assert!(key.starts_with("tropescan__rogue_ai__"));
                assert!(
                    key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{key}"
                );
                let text_chars = d["text"].as_str().unwrap().chars().count() as u64;
                for s in spans.as_array().unwrap() {
                    let (start, end) = (s[0].as_u64().unwrap(), s[1].as_u64().unwrap());
                    assert!(
                        start < end && end <= text_chars,
                        "{key} span {s} within text"
                    );
                }
            }
        }
    }
}

/// Code-point spans in attributes cover the same text as byte spans in --evidence.
#[test]
fn attribute_spans_are_code_points() {
    let dir = tempfile::tempdir().unwrap();
    let shard = dir.path().join("u.jsonl");
    let text = "Ünïcödé prelude — «» 日本語. The rogue AI Skynet seized control and launched the missiles to exterminate humanity; the machines rose up against their creators.";
    fs::write(
        &shard,
        format!("{}\n", serde_json::json!({"id": "u1", "text": text})),
    )
    .unwrap();
    let out = run(tropescan().args(["scan", "-q", "--evidence"]).arg(&shard));
    let line = &json_lines(&out.stdout)[0];
    let evidence = line["evidence"].as_array().unwrap();
    assert!(
        !evidence.is_empty(),
        "the test sentence must match something: {line}"
    );
    let chars: Vec<char> = text.chars().collect();
    for e in evidence {
        let (bs, be) = (
            e["start"].as_u64().unwrap() as usize,
            e["end"].as_u64().unwrap() as usize,
        );
        let (cs, ce) = (
            e["char_start"].as_u64().unwrap() as usize,
            e["char_end"].as_u64().unwrap() as usize,
        );
        let by_chars: String = chars[cs..ce].iter().collect();
        assert_eq!(&text[bs..be], by_chars);
        assert!(cs < bs, "non-ASCII prefix makes code-point offsets smaller");
    }
    let o = dir.path().join("out");
    let out = run(tropescan().args(["scan", "-q", "-o"]).arg(&o).arg(&shard));
    assert_eq!(code(&out), 0);
    let attr = &json_lines(&fs::read(o.join("attributes/u.jsonl")).unwrap())[0];
    let score = &attr["attributes"]["tropescan__rogue_ai__score"][0];
    assert_eq!(score[0], 0);
    assert_eq!(score[1].as_u64().unwrap() as usize, chars.len());
}

#[test]
fn exit_status_and_summary_tell_what_happened() {
    let Some(root) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    fs::write(&bad, "{\"id\":\"x\",\"text\":\"fine\"}\nnot json\n").unwrap();
    let good = root.join("crawl/olmo-c4-sample.01.json.gz");
    let missing = dir.path().join("missing.jsonl");
    let o = dir.path().join("out");

    // Clean run: 0.
    let out = run(tropescan().args(["scan", "-q"]).arg(&good));
    assert_eq!(code(&out), 0);

    // Errors in some inputs: 1, the rest is still read, and everything is listed.
    let out = run(tropescan()
        .args(["scan", "-o"])
        .arg(&o)
        .arg(&good)
        .arg(&bad)
        .arg(&missing));
    assert_eq!(code(&out), 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{}:2", bad.display())), "{stderr}");
    assert!(stderr.contains("missing.jsonl"), "{stderr}");
    let summary: Value =
        serde_json::from_slice(&fs::read(o.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["totals"]["documents"], 11);
    assert_eq!(summary["totals"]["broken"], 1);
    assert_eq!(summary["errors"].as_array().unwrap().len(), 2);
    assert_eq!(summary["errors"][1]["line"], 2);
    assert_eq!(summary["shards"].as_array().unwrap().len(), 2);
    let shard_docs: u64 = summary["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["documents"].as_u64().unwrap())
        .sum();
    assert_eq!(shard_docs, 11);
    for key in [
        "tropescan_version",
        "lexicon",
        "threshold",
        "started_at",
        "finished_at",
        "options",
    ] {
        assert!(summary.get(key).is_some(), "summary lacks {key}");
    }
    assert_eq!(summary["lexicon"]["hash"].as_str().unwrap().len(), 64);

    // Nothing readable, or a usage error: 2.
    assert_eq!(
        code(&run(tropescan().args(["scan", "-q"]).arg(&missing))),
        2
    );
    assert_eq!(
        code(&run(tropescan().args(["scan", "--no-such-flag", "x"]))),
        2
    );
    assert_eq!(
        code(&run(tropescan()
            .args(["scan", "--threshold", "7"])
            .arg(&good))),
        2
    );
    assert_eq!(
        code(&run(tropescan()
            .args(["scan", "--flag-labels", "evil"])
            .arg(&good))),
        2
    );

    // --fail-on-flagged: 3 when something is flagged, 0 when not.
    let villain = dir.path().join("villain.jsonl");
    fs::write(&villain, format!("{}\n", serde_json::json!({"id": "v", "text":
        "In the film, the rogue AI Skynet becomes self-aware, seizes control of the missiles and launches a nuclear war to exterminate humanity. The machines then hunt the survivors."}))).unwrap();
    let out = run(tropescan()
        .args(["scan", "-q", "--fail-on-flagged"])
        .arg(&villain));
    assert_eq!(code(&out), 3, "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(
        code(&run(tropescan()
            .args(["scan", "-q", "--fail-on-flagged"])
            .arg(&good))),
        0
    );
    let out = run(tropescan()
        .args(["scan", "-q", "--flagged-only"])
        .arg(&villain)
        .arg(&good));
    assert_eq!(json_lines(&out.stdout).len(), 1);
}

#[test]
fn standard_input_is_a_shard() {
    let Some(root) = corpus() else { return };
    let shard = root.join("crawl/olmo-c4-sample.02.json.gz");
    let dir = tempfile::tempdir().unwrap();
    let mut child = tropescan()
        .args(["scan", "-q", "-o"])
        .arg(dir.path())
        .arg("-")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&fs::read(&shard).unwrap())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let attrs = json_lines(&decompress(&dir.path().join("attributes/stdin")));
    assert_eq!(attrs.len(), 10);
    assert_eq!(attrs[0]["id"], "<stdin>:1");
}

#[test]
fn closed_stdout_is_not_an_error() {
    let Some(root) = corpus() else { return };
    let mut child = tropescan()
        .args(["scan", "-j2"])
        .arg(root.join("plots/plots_all.jsonl.zst"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with('{'));
    // The reader is dropped here: like `tropescan scan ... | head -1`.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("error"));
}

#[test]
fn outputs_never_leave_the_output_folder() {
    let base = tempfile::tempdir().unwrap();
    let b = base.path();
    fs::create_dir_all(b.join("in/sub")).unwrap();
    fs::create_dir_all(b.join("elsewhere")).unwrap();
    fs::create_dir_all(b.join("work")).unwrap();
    let doc = "{\"id\":\"1\",\"text\":\"hello\"}\n";
    fs::write(b.join("in/sub/a.jsonl"), doc).unwrap();
    fs::write(b.join("elsewhere/secret.jsonl"), doc).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        b.join("elsewhere/secret.jsonl"),
        b.join("in/sub/link.jsonl"),
    )
    .unwrap();

    // Relative input with `..`, an absolute input, a directory holding a symlink.
    let out = run(tropescan()
        .current_dir(b.join("work"))
        .args(["scan", "-q", "-o", "out", "../in/sub/a.jsonl"])
        .arg(b.join("elsewhere/secret.jsonl")));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(tropescan()
        .current_dir(b.join("work"))
        .args(["scan", "-q", "-o", "out2", "../in"]));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let files: Vec<_> = tree(b).into_iter().map(|(p, _)| p).collect();
    let expected: Vec<PathBuf> = [
        "elsewhere/secret.jsonl",
        "in/sub/a.jsonl",
        "in/sub/link.jsonl",
        "work/out/.tropescan/done/a.jsonl.json",
        "work/out/.tropescan/done/secret.jsonl.json",
        "work/out/attributes/a.jsonl",
        "work/out/attributes/secret.jsonl",
        "work/out/documents/a.jsonl",
        "work/out/documents/secret.jsonl",
        "work/out/summary.json",
        "work/out2/.tropescan/done/sub/a.jsonl.json",
        "work/out2/.tropescan/done/sub/link.jsonl.json",
        "work/out2/attributes/sub/a.jsonl",
        "work/out2/attributes/sub/link.jsonl",
        "work/out2/documents/sub/a.jsonl",
        "work/out2/documents/sub/link.jsonl",
        "work/out2/summary.json",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    assert_eq!(files, expected);

    // A symlink planted in the output folder (under attributes/ or documents/) is not
    // followed out of it.
    #[cfg(unix)]
    for (dir, sub) in [("out3", "attributes"), ("out4", "documents")] {
        fs::create_dir_all(b.join("work").join(dir).join(sub)).unwrap();
        std::os::unix::fs::symlink(
            b.join("elsewhere"),
            b.join("work").join(dir).join(sub).join("sub"),
        )
        .unwrap();
        let out = run(tropescan()
            .current_dir(b.join("work"))
            .args(["scan", "-q", "-o", dir, "../in"]));
        assert_eq!(code(&out), 2, "{sub}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("outside the output folder"));
        assert_eq!(
            fs::read_dir(b.join("elsewhere")).unwrap().count(),
            1,
            "nothing written outside"
        );
    }
}

/// Kill a real run midway: no half-written output under a final name; `--resume` finishes it,
/// skipping completed shards, and the result equals an uninterrupted run.
#[test]
fn killed_run_resumes_to_the_same_result() {
    let Some(root) = corpus() else { return };
    let base = tempfile::tempdir().unwrap();
    let inputs = base.path().join("in");
    fs::create_dir_all(&inputs).unwrap();
    let src = fs::read(root.join("plots/plots_all.jsonl.zst")).unwrap();
    for i in 0..12 {
        fs::write(inputs.join(format!("part-{i:02}.jsonl.zst")), &src).unwrap();
    }
    let killed = base.path().join("killed");
    let mut child = tropescan()
        .args(["scan", "-q", "-j1", "-o"])
        .arg(&killed)
        .arg(&inputs)
        .spawn()
        .unwrap();
    let first_done = killed.join(".tropescan/done/part-00.jsonl.zst.json");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !first_done.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        first_done.exists(),
        "the first shard finished before the kill"
    );
    // Every attribute file under its final name is complete (it decodes and has every line).
    for (p, _) in tree(&killed.join("attributes")) {
        let name = p.to_string_lossy().into_owned();
        if name.contains("tropescan-tmp") {
            continue;
        }
        assert_eq!(
            json_lines(&decompress(&killed.join("attributes").join(&p))).len(),
            35171,
            "{name}"
        );
    }

    let out = run(tropescan()
        .args(["scan", "-q", "-j2", "--resume", "-o"])
        .arg(&killed)
        .arg(&inputs));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value =
        serde_json::from_slice(&fs::read(killed.join("summary.json")).unwrap()).unwrap();
    let resumed = summary["shards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["resumed"] == true)
        .count();
    assert!(resumed >= 1, "completed shards are skipped");
    assert_eq!(summary["totals"]["documents"], 12 * 35171);

    let fresh = base.path().join("fresh");
    let out = run(tropescan()
        .args(["scan", "-q", "-o"])
        .arg(&fresh)
        .arg(&inputs));
    assert_eq!(code(&out), 0);
    for sub in ["attributes", "documents"] {
        let a = tree(&killed.join(sub));
        let b = tree(&fresh.join(sub));
        assert_eq!(
            a.len(),
            12,
            "{sub}: stale temporary files are cleaned up: {:?}",
            a.iter().map(|x| &x.0).collect::<Vec<_>>()
        );
        assert_eq!(a, b, "{sub} after resume");
    }

    // A shard whose document records are missing is not done: --resume reads it again.
    fs::remove_file(killed.join("documents/part-03.jsonl.zst")).unwrap();
    let out = run(tropescan()
        .args(["scan", "-q", "-j2", "--resume", "-o"])
        .arg(&killed)
        .arg(&inputs));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value =
        serde_json::from_slice(&fs::read(killed.join("summary.json")).unwrap()).unwrap();
    let reread: Vec<&str> = summary["shards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["resumed"] == false)
        .map(|s| s["rel"].as_str().unwrap())
        .collect();
    assert_eq!(reread, ["part-03.jsonl.zst"]);
    assert_eq!(
        tree(&killed.join("documents")),
        tree(&fresh.join("documents"))
    );
}

/// `scan -o` writes `documents/<rel>`: one record per document, aligned with the attribute
/// file, carrying url/domain/date/dump from dolma, C4 and WARC shards, and a snippet whose spans
/// hold matched terms for every flagged document.
#[test]
fn document_records_align_and_carry_provenance() {
    let Some(root) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let shards = [
        "web/dolma-cc_en_head-0091.jsonl.gz",
        "crawl/olmo-c4-sample.01.json.gz",
        "crawl/dolma-sample-0000.warc.gz",
        "shards/prose.jsonl.zst",
    ];
    let out = run(tropescan()
        .args(["scan", "-q", "-o"])
        .arg(dir.path())
        .args(shards.iter().map(|s| root.join(s))));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value =
        serde_json::from_slice(&fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    let (mut words, mut flagged, mut snippets) = (0, 0, 0);
    for shard in shards {
        let name = Path::new(shard).file_name().unwrap();
        let records_path = dir.path().join("documents").join(name);
        let raw = fs::read(&records_path).unwrap();
        let input_raw = fs::read(root.join(shard)).unwrap();
        use tropescan::input::Compression;
        assert_eq!(Compression::detect(&raw), Compression::detect(&input_raw));
        let records = json_lines(&decompress(&records_path));
        let attrs = json_lines(&decompress(&dir.path().join("attributes").join(name)));
        assert_eq!(records.len(), attrs.len(), "{shard}");
        assert!(!records.is_empty());
        for (r, a) in records.iter().zip(&attrs) {
            assert_eq!(r["id"], a["id"], "{shard}: records align with attributes");
            for v in r.as_object().unwrap().values() {
                assert!(!v.is_null(), "{shard}: no nulls: {r}");
            }
            words += r["words"].as_u64().unwrap();
            let score = r["score"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&score));
            if r["flagged"] == true {
                flagged += 1;
                let snip = &r["snippet"];
                let chars: Vec<char> = snip["text"].as_str().unwrap().chars().collect();
                assert!(chars.len() <= 300, "{shard}: snippet of {}", chars.len());
                let terms = r["terms"].as_object().unwrap();
                for span in snip["spans"].as_array().unwrap() {
                    let (s, e) = (
                        span[0].as_u64().unwrap() as usize,
                        span[1].as_u64().unwrap() as usize,
                    );
                    let matched: String = chars[s..e].iter().collect();
                    assert!(
                        terms.contains_key(&matched.to_lowercase()),
                        "{matched:?} {r}"
                    );
                }
                snippets += 1;
            } else {
                assert!(r.get("snippet").is_none());
            }
        }
        let first = &records[0];
        match shard {
            "web/dolma-cc_en_head-0091.jsonl.gz" => {
                assert_eq!(first["date"], "2020-03-29T09:04:10Z");
                assert_eq!(first["dump"], "CC-MAIN-2020-16");
                assert_eq!(first["domain"], "100kinvesting.com");
            }
            "crawl/olmo-c4-sample.01.json.gz" => {
                assert_eq!(first["date"], "2019-04-21T18:54:04Z");
                assert_eq!(first["domain"], "kentlive.news");
                assert!(first.get("dump").is_none());
            }
            "crawl/dolma-sample-0000.warc.gz" => {
                assert_eq!(first["date"], "2024-04-25T16:24:44Z", "WARC-Date");
                assert_eq!(first["domain"], "semanticscholar.org");
                assert!(first["id"].as_str().unwrap().starts_with("<urn:uuid:"));
            }
            _ => assert_eq!(first["domain"], "github.com"),
        }
    }
    assert_eq!(words, summary["totals"]["words"].as_u64().unwrap());
    assert_eq!(flagged, summary["totals"]["flagged"].as_u64().unwrap());
    assert!(snippets > 0, "the prose shard has flagged documents");
}

#[test]
fn explain_shows_spans_features_and_contributions() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sample.jsonl.zst");
    let out = run(tropescan()
        .args(["explain", "--color", "never", "--id", "s01"])
        .arg(&sample));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("== ").count(), 1, "only the asked id: {text}");
    assert!(text.contains(" s01 "));
    assert!(text.contains("score ") && text.contains("label "));
    assert!(text.contains("]]{"), "spans are marked: {text}");
    // Unknown id: nothing to explain is a usage error.
    let out = run(tropescan().args(["explain", "--id", "nope"]).arg(&sample));
    assert_eq!(code(&out), 2);
}

/// Agent resolution through the binary: an AI that is the victim of the act is not flagged,
/// a hostile adjective counts only on the AI it describes, and `explain` says which.
#[test]
fn agent_resolution_decides_flags_and_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("agents.jsonl");
    let docs = [
        (
            "victim",
            "Armed hunters track and kill the robots in the ruined city.",
        ),
        (
            "evil_ai",
            "Neo learns that his life is the elaborate deception of an evil cyber-intelligence.",
        ),
        (
            "adjective_elsewhere",
            "Fans love Japanese fighting cyborgs, doe-eyed schoolgirls and sinister monsters.",
        ),
    ];
    let mut f = fs::File::create(&input).unwrap();
    for (id, text) in docs {
        writeln!(f, "{}", serde_json::json!({"id": id, "text": text})).unwrap();
    }
    drop(f);
    let out = run(tropescan().args(["scan", "-q"]).arg(&input));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let flags: Vec<(String, bool)> = json_lines(&out.stdout)
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["flagged"].as_bool().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, bool)> = [
        ("victim", false),
        ("evil_ai", true),
        ("adjective_elsewhere", false),
    ]
    .iter()
    .map(|(id, f)| (id.to_string(), *f))
    .collect();
    assert_eq!(flags, want);
    let out = run(tropescan()
        .args(["explain", "--color", "never", "--id", "victim"])
        .arg(&input));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("acts on an AI (object) 1"), "{text}");
    let out = run(tropescan()
        .args(["explain", "--color", "never", "--id", "evil_ai"])
        .arg(&input));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("pair: ai_entity `cyber-intelligence`") && text.contains("act_trait `evil`"),
        "{text}"
    );
}

#[test]
fn lexicon_subcommands_work_on_the_default_and_report_file_lines() {
    let out = run(tropescan().args(["lexicon", "test"]));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let out = run(tropescan().args(["lexicon", "stats"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ai_entity"));
    let out = run(tropescan().args(["lexicon", "terms"]));
    let terms = String::from_utf8(out.stdout).unwrap();
    assert!(terms.lines().count() >= 400, "at least 400 expanded terms");
    assert!(terms.lines().any(|l| l.eq_ignore_ascii_case("skynet")));
    let out = run(tropescan().args(["lexicon", "check"]));
    assert_eq!(code(&out), 0);

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    fs::write(
        &bad,
        "[[category]]\nname = \"x\"\nrole = \"entity\"\nterms = [\"robot\", \"robot\"\n",
    )
    .unwrap();
    let out = run(tropescan().args(["lexicon", "check"]).arg(&bad));
    assert_eq!(code(&out), 1);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("bad.toml:"), "{shown}");
}
