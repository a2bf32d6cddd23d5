//! WARC/WET/WAT reading through the public API, on the real crawl files of the shared corpus
//! (counts from warcio in COUNTS.tsv), the malformed WARCs, and small hand-made faults.
//!
//! The corpus is found through `$TROPESCAN_CORPUS`, else `<crate>/../shared/corpus`; when it
//! is absent the corpus tests print `SKIPPED: corpus not found` and pass.

mod util;

use std::io::Write;
use std::path::Path;

use tropescan::input::{read_shard, ErrorKind, OwnedDocument, ReadOptions, Shard, ShardStats};
use util::corpus;

fn read(path: &Path) -> (Vec<OwnedDocument>, ShardStats) {
    let mut docs = Vec::new();
    let stats = read_shard(
        &Shard::from_path(path),
        &ReadOptions::default(),
        None,
        |d| docs.push(d.to_owned_document()),
    );
    (docs, stats)
}

fn read_rel(rel: &str) -> Option<(Vec<OwnedDocument>, ShardStats)> {
    Some(read(&corpus()?.join(rel)))
}

fn is_warc_path(p: &str) -> bool {
    p.contains(".warc")
}

#[test]
fn counts_match_warcio() {
    let Some(root) = corpus() else { return };
    let counts = std::fs::read_to_string(root.join("COUNTS.tsv")).expect("COUNTS.tsv");
    let mut checked = 0;
    for line in counts.lines().filter(|l| !l.starts_with('#')) {
        let mut cols = line.split('\t');
        let (Some(path), Some(n)) = (cols.next(), cols.next()) else {
            continue;
        };
        if !is_warc_path(path) {
            continue;
        }
        let want: u64 = n.parse().expect("count");
        let (docs, stats) = read(&root.join(path));
        eprintln!(
            "{path}: {} documents (warcio {want}), skipped {:?}",
            stats.documents, stats.skipped
        );
        assert_eq!(stats.documents, want, "{path}: {:?}", stats.errors);
        assert_eq!(docs.len() as u64, want);
        // Only the clipped file is broken; everything else reads clean.
        if path != "web/resiliparse-clipped.warc.gz" {
            assert!(stats.is_clean(), "{path}: {:?}", stats.errors);
        }
        checked += 1;
    }
    assert_eq!(checked, 12, "WARC/WET/WAT rows in COUNTS.tsv");
}

#[test]
fn wat_has_no_documents() {
    let Some((docs, stats)) = read_rel("crawl/cc-whirlwind-whirlwind.warc.wat.gz") else {
        return;
    };
    assert!(docs.is_empty());
    assert_eq!(stats.skipped.get("warc_metadata"), Some(&1));
    assert_eq!(stats.skipped.get("warc_warcinfo"), Some(&1));
}

#[test]
fn wet_conversion_records() {
    let Some((docs, _)) = read_rel("shards/wikitext2.warc.wet.gz") else {
        return;
    };
    assert_eq!(docs.len(), 62);
    for d in &docs {
        assert!(
            d.url
                .as_deref()
                .is_some_and(|u| u.contains("wikipedia.org")),
            "{:?}",
            d.url
        );
        assert!(d.id.starts_with("<urn:uuid:"), "{}", d.id);
        assert!(d.date.is_some());
        assert!(d.text.len() > 100);
    }
    // WET text is taken as is: WikiText headings survive.
    assert!(docs[0].text.contains(" = "));
}

fn doc<'a>(docs: &'a [OwnedDocument], url: &str) -> &'a OwnedDocument {
    docs.iter()
        .find(|d| d.url.as_deref() == Some(url))
        .unwrap_or_else(|| panic!("no document for {url}"))
}

fn assert_clean_text(text: &str) {
    assert!(!text.contains('\u{fffd}'), "U+FFFD in {text:.300}");
    for mojibake in ["Ð", "Ñ", "Ã", "â€"] {
        assert!(
            !text.contains(mojibake),
            "mojibake {mojibake:?} in {text:.300}"
        );
    }
}

#[test]
fn legacy_charsets_are_decoded() {
    let Some((docs, stats)) = read_rel("web/resiliparse-warcfile.warc.gz") else {
        return;
    };
    assert!(stats.is_clean(), "{:?}", stats.errors);
    // windows-1251 (HTTP header).
    let ru = doc(&docs, "http://01spb.ru/company/");
    assert!(
        ru.text
            .starts_with("О компании - Стратегия пожарной безопасности"),
        "{:.200}",
        ru.text
    );
    assert!(ru.text.contains("Заказать звонок"));
    assert_clean_text(&ru.text);
    // gb2312 (HTTP header), decoded as GBK.
    let cn = doc(&docs, "http://0760.jxtdw.com/area/sanxiang/");
    assert!(cn.text.contains("三乡招聘"), "{:.200}", cn.text);
    assert!(cn.text.contains("关于我们"));
    assert_clean_text(&cn.text);
    let cn2 = doc(&docs, "http://037426.cn/");
    assert!(cn2.text.contains("视频"));
    assert_clean_text(&cn2.text);

    // EUC-JP, and a gzip Content-Encoding header on a payload stored decoded.
    let Some((docs, stats)) = read_rel("web/resiliparse-clueweb-quirk.warc.gz") else {
        return;
    };
    assert!(stats.is_clean(), "{:?}", stats.errors);
    assert_eq!(docs.len(), 29);
    for d in &docs {
        assert_clean_text(&d.text);
        assert!(
            d.text.contains("吉田カバン") || d.text.contains("吉田かばん"),
            "{:.200}",
            d.text
        );
    }
    let jp = doc(
        &docs,
        "http://www.uraharajuku.st/shopdetail/001005000005/019/000/order/",
    );
    assert!(jp
        .text
        .starts_with("ブラウニー ブリーフケース【ヘッドポーター HEADPORTER 吉田かばん】"));
    // WARC/0.18 headers are taken as they are.
    assert_eq!(jp.date.as_deref(), Some("2008-10-294T05:21:46-0700"));
}

#[test]
fn chunked_response_is_dechunked() {
    let Some((docs, stats)) = read_rel("crawl/warcio-example-iana.org-chunked.warc") else {
        return;
    };
    assert!(stats.is_clean(), "{:?}", stats.errors);
    assert_eq!(docs.len(), 1);
    let t = &docs[0].text;
    assert!(t.starts_with("Internet Assigned Numbers Authority"));
    assert!(t.contains("The global coordination of the DNS Root, IP addressing, and other Internet protocol resources"));
    assert!(!t.contains("\r"));
    // No chunk-size lines left in the text (the chunks are a few hundred hex bytes long).
    for line in t.lines() {
        let l = line.trim();
        assert!(
            l.is_empty() || l.len() > 4 || !l.bytes().all(|b| b.is_ascii_hexdigit()),
            "chunk size line {l:?}"
        );
    }
}

#[test]
fn revisit_skipped_and_headers_taken() {
    let Some((docs, stats)) = read_rel("crawl/warcio-example.warc.gz") else {
        return;
    };
    assert!(stats.is_clean(), "{:?}", stats.errors);
    assert_eq!(stats.skipped.get("warc_revisit"), Some(&1));
    assert_eq!(stats.skipped.get("warc_request"), Some(&2));
    assert_eq!(stats.skipped.get("warc_warcinfo"), Some(&2));
    assert_eq!(docs.len(), 1);
    let d = &docs[0];
    assert_eq!(d.id, "<urn:uuid:a9c51e3e-0221-11e7-bf66-0242ac120005>");
    assert_eq!(d.url.as_deref(), Some("http://example.com/"));
    assert_eq!(d.date.as_deref(), Some("2017-03-06T04:02:06Z"));
    assert_eq!(d.position.offset, 1197);
    // The payload is gzip Content-Encoding.
    assert!(d
        .text
        .contains("This domain is established to be used for illustrative examples"));
}

#[test]
fn http_status_is_not_a_filter_but_content_type_is() {
    // 16 responses: 9 redirects with HTML bodies (kept, as warcio counts), 7 x 200 of which
    // robots.txt, three images and an XML file are not HTML.
    let Some((docs, stats)) = read_rel("crawl/iawc-IAH-urls-wget.warc.gz") else {
        return;
    };
    assert_eq!(docs.len(), 11);
    assert_eq!(stats.skipped.get("non_html"), Some(&5));
    assert_eq!(stats.skipped.get("warc_resource"), Some(&3));
}

#[test]
fn clipped_file_delivers_the_partial_page() {
    // The gzip stream ends 12 KB into an 88 KB record: the page up to there is delivered, the
    // decompression error is recorded with its offset, the shard is marked incomplete.
    let Some((docs, stats)) = read_rel("web/resiliparse-clipped.warc.gz") else {
        return;
    };
    assert_eq!(docs.len(), 1);
    assert!(docs[0].text.contains("Chance The Rapper"));
    assert!(stats.incomplete);
    assert_eq!(stats.errors.len(), 1);
    let e = &stats.errors[0];
    assert!(matches!(e.kind(), ErrorKind::Decompress(_)), "{e}");
    assert_eq!(e.offset(), Some(75657));
    assert!(
        e.to_string()
            .contains("resiliparse-clipped.warc.gz: byte 75657"),
        "{e}"
    );
}

// The four malformed WARCs.

#[test]
fn malformed_wrong_content_length() {
    // The response's Content-Length is 2 bytes short: the block is followed by "\0\0" instead
    // of the terminator. The page is delivered (its gzip payload lacks the last 2 trailer
    // bytes, so that is reported too), then reading resumes at the request record.
    let Some((docs, stats)) = read_rel("crawl/malformed/warcio-example-trunc.warc") else {
        return;
    };
    assert_eq!(docs.len(), 1);
    assert!(docs[0].text.contains("This domain is established"));
    assert_eq!(stats.skipped.get("warc_request"), Some(&1));
    assert_eq!(stats.skipped.get("warc_warcinfo"), Some(&2));
    assert!(!stats.incomplete);
    let e = stats
        .errors
        .iter()
        .find(|e| e.message().contains("Content-Length"))
        .expect("Content-Length error");
    assert_eq!(e.offset(), Some(1197));
    assert!(e.path().ends_with("warcio-example-trunc.warc"));
    assert!(
        e.to_string()
            .contains("warcio-example-trunc.warc: byte 1197"),
        "{e}"
    );
}

#[test]
fn malformed_wrong_chunks() {
    // gzip members split mid-record (warcio gives up after the response); the stream reads
    // fine as one, but the block runs one byte past its Content-Length ("\n\r\n\r\n" follows).
    let Some((docs, stats)) = read_rel("crawl/malformed/warcio-example-wrong-chunks.warc.gz")
    else {
        return;
    };
    assert_eq!(docs.len(), 1);
    assert!(docs[0].text.contains("Example Domain"));
    assert_eq!(
        stats.skipped.get("warc_request"),
        Some(&1),
        "resumed after the fault"
    );
    assert_eq!(stats.errors.len(), 1, "{:?}", stats.errors);
    let e = &stats.errors[0];
    assert_eq!(e.offset(), Some(0));
    assert!(e.message().contains("Content-Length"), "{e}");
    assert!(!stats.incomplete);
}

#[test]
fn malformed_one_gzip_member_for_all_records() {
    // warcio refuses it ("non-chunked gzip file"); a multi-member decoder reads it like any
    // other stream: nothing is wrong with the records themselves.
    let Some((docs, stats)) = read_rel("crawl/malformed/warcio-example-bad-non-chunked.warc.gz")
    else {
        return;
    };
    assert!(stats.is_clean(), "{:?}", stats.errors);
    assert_eq!(docs.len(), 1);
    assert_eq!(stats.skipped.get("warc_revisit"), Some(&1));
    assert!(docs[0].text.contains("Example Domain"));
}

#[test]
fn malformed_repeated_headers() {
    // Repeated WARC-Protocol fields are legal WARC; lower-case HTTP fields and a status line
    // with no reason phrase are tolerated. First occurrence wins; nothing to report.
    let Some((docs, stats)) = read_rel("crawl/malformed/iawc-mutliple-headers.warc") else {
        return;
    };
    assert!(stats.is_clean(), "{:?}", stats.errors);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].text, "Test");
    assert_eq!(
        docs[0].url.as_deref(),
        Some("https://www.example.com/index.html/")
    );
}

// Hand-made faults, written to a temporary directory.

fn record(ty: &str, block: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "WARC/1.1\r\nWARC-Type: {ty}\r\nWARC-Record-ID: <urn:uuid:{}>\r\nContent-Length: {}\r\n\r\n",
        block.len(),
        block.len()
    )
    .into_bytes();
    r.extend_from_slice(block);
    r.extend_from_slice(b"\r\n\r\n");
    r
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn read_bytes(name: &str, data: &[u8]) -> (Vec<OwnedDocument>, ShardStats) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, data).unwrap();
    read(&path)
}

#[test]
fn fixture_wrong_content_length() {
    let mut data = record("conversion", b"first document");
    let at = data.len() as u64;
    let mut bad = record("conversion", b"second document, longer than it says");
    let pos = bad
        .windows(18)
        .position(|w| w == b"Content-Length: 36")
        .unwrap();
    bad[pos + 16..pos + 18].copy_from_slice(b"20");
    data.extend(bad);
    data.extend(record("conversion", b"third document"));
    for (name, bytes) in [("a.warc", data.clone()), ("a.warc.gz", gzip(&data))] {
        let (docs, stats) = read_bytes(name, &bytes);
        let texts: Vec<_> = docs.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(
            texts,
            ["first document", "second document, lon", "third document"],
            "{name}"
        );
        assert_eq!(stats.errors.len(), 1);
        assert_eq!(stats.errors[0].offset(), Some(at));
        assert!(stats.errors[0]
            .to_string()
            .contains(&format!("{name}: byte {at}")));
    }
}

#[test]
fn fixture_truncated_gzip_member() {
    // Three records, one gzip member each; the last member is cut in half.
    let recs = [
        record("conversion", b"one"),
        record("conversion", b"two"),
        record("conversion", &b"three ".repeat(2000)),
    ];
    let mut data = Vec::new();
    for r in &recs[..2] {
        data.extend(gzip(r));
    }
    let last = gzip(&recs[2]);
    data.extend_from_slice(&last[..last.len() / 2]);
    let (docs, stats) = read_bytes("cut.warc.gz", &data);
    assert!(stats.incomplete);
    assert_eq!(docs[0].text, "one");
    assert_eq!(docs[1].text, "two");
    // Whatever decoded of the third record before the cut is delivered.
    assert!(docs.len() <= 3);
    assert_eq!(stats.errors.len(), 1, "{:?}", stats.errors);
    assert!(matches!(stats.errors[0].kind(), ErrorKind::Decompress(_)));
    assert!(stats.errors[0].offset().unwrap() >= (recs[0].len() + recs[1].len()) as u64);
}

#[test]
fn fixture_garbage_between_records() {
    let mut data = record("conversion", b"one");
    let at = data.len() as u64;
    data.extend_from_slice(b"<html>stray bytes\r\n\x00\x01\x02 binary\r\nWARC/ not a version\r\n");
    data.extend(record(
        "response",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>two</p>",
    ));
    let (docs, stats) = read_bytes("g.warc", &data);
    let texts: Vec<_> = docs.iter().map(|d| d.text.as_str()).collect();
    assert_eq!(texts, ["one", "two"]);
    assert_eq!(stats.errors.len(), 1);
    assert_eq!(stats.errors[0].offset(), Some(at));
    assert!(stats.errors[0].message().contains("version line"));
}

#[test]
fn fixture_empty_and_non_warc() {
    // An empty shard is reported (almost always a failed upstream write), never a crash.
    let (docs, stats) = read_bytes("empty.warc", b"");
    assert!(docs.is_empty());
    assert_eq!(stats.errors.len(), 1);
    assert!(matches!(stats.errors[0].kind(), ErrorKind::Empty));
    let (docs, stats) = read_bytes("junk.warc", b"just some text\nwith lines\n");
    assert!(docs.is_empty());
    assert_eq!(stats.errors.len(), 1);
}
