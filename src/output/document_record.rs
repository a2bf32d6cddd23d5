//! The per-document record sidecar (`DIR/documents/<rel>` of `scan -o`): one JSON line per
//! document with what reports and balancing need and dolma attributes cannot hold (url,
//! domain, date, dump, size, score, label, matched terms, a snippet of flagged documents).
//!
//! The field names are a public contract, documented in docs/outputs.md; `tropescan report`
//! and `tropescan balance` read these lines back through [`DocumentRecord`].

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::json::{push_bool, push_counts, push_f64, push_str, push_u64};
use super::record::{byte_to_char_offsets, char_len, round5};
#[cfg(doc)]
use super::summary::count_words;
use crate::input::Document;
use crate::scan::{Evidence, Verdict};

/// Most code points of text kept in a snippet.
pub const SNIPPET_CHARS: usize = 300;

/// A flagged document's text around its strongest evidence, with the matched spans.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snippet<'a> {
    /// At most [`SNIPPET_CHARS`] code points of the document's text.
    pub text: Cow<'a, str>,
    /// `[start, end)` code-point offsets within `text` of every evidence span it holds whole.
    pub spans: Vec<(usize, usize)>,
}

/// One line of a `documents/` file. Optional fields are omitted when unknown, never null.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentRecord<'a> {
    /// The document id.
    pub id: Cow<'a, str>,
    /// The URL, when the input has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Cow<'a, str>>,
    /// The URL's host, lowercased, without a leading `www.` (see [`url_domain`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The date as the input gives it (WARC-Date, `created`, `date`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Cow<'a, str>>,
    /// The crawl dump (`CC-MAIN-2020-16`; see [`crawl_dump`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dump: Option<Cow<'a, str>>,
    /// Words of the text (as counted in summary.json).
    pub words: u64,
    /// Code points of the text.
    pub chars: u64,
    /// The score, rounded to 5 decimals.
    pub score: f64,
    /// The label.
    pub label: Cow<'a, str>,
    /// Whether the document was flagged.
    pub flagged: bool,
    /// Matched terms per category (categories with hits only).
    #[serde(default)]
    pub hits: BTreeMap<String, u32>,
    /// Matched text, lowercased, per occurrence count (only when something matched).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub terms: BTreeMap<String, u32>,
    /// Flagged documents only: the text around the strongest evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<Snippet<'a>>,
}

impl<'a> DocumentRecord<'a> {
    /// The record of a scored document; `words` is [`count_words`] of its text (the caller
    /// counted them already, for the summary).
    pub fn new(doc: &'a Document<'_>, verdict: &Verdict, words: u64) -> DocumentRecord<'a> {
        let text: &str = &doc.text;
        let url = doc.url.as_deref().map(str::trim).filter(|u| !u.is_empty());
        let mut terms = BTreeMap::new();
        for e in &verdict.evidence {
            if let Some(t) = text.get(e.start..e.end) {
                *terms.entry(t.to_lowercase()).or_insert(0) += 1;
            }
        }
        DocumentRecord {
            id: Cow::Borrowed(&doc.id),
            url: url.map(Cow::Borrowed),
            domain: url.and_then(url_domain),
            date: non_empty(doc.date.as_deref()).map(Cow::Borrowed),
            dump: non_empty(doc.dump.as_deref()).map(|d| Cow::Borrowed(crawl_dump(d))),
            words,
            chars: char_len(text) as u64,
            score: round5(verdict.score),
            label: Cow::Borrowed(verdict.label.name()),
            flagged: verdict.flagged,
            hits: verdict.hits.clone(),
            terms,
            snippet: verdict
                .flagged
                .then(|| snippet(text, &verdict.evidence))
                .flatten(),
        }
    }
}

impl DocumentRecord<'_> {
    /// A copy that borrows nothing.
    pub fn to_static(&self) -> DocumentRecord<'static> {
        let own = |c: &Cow<'_, str>| Cow::Owned(c.to_string());
        DocumentRecord {
            id: own(&self.id),
            url: self.url.as_ref().map(own),
            domain: self.domain.clone(),
            date: self.date.as_ref().map(own),
            dump: self.dump.as_ref().map(own),
            words: self.words,
            chars: self.chars,
            score: self.score,
            label: own(&self.label),
            flagged: self.flagged,
            hits: self.hits.clone(),
            terms: self.terms.clone(),
            snippet: self.snippet.as_ref().map(|s| Snippet {
                text: own(&s.text),
                spans: s.spans.clone(),
            }),
        }
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl DocumentRecord<'_> {
    /// Appends the record as one JSON line (with its newline): the bytes serde_json writes
    /// for it, without serde (see [`super::json`]).
    pub fn write_line(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"id\":");
        push_str(out, &self.id);
        for (key, value) in [
            (&b",\"url\":"[..], self.url.as_deref()),
            (b",\"domain\":", self.domain.as_deref()),
            (b",\"date\":", self.date.as_deref()),
            (b",\"dump\":", self.dump.as_deref()),
        ] {
            if let Some(value) = value {
                out.extend_from_slice(key);
                push_str(out, value);
            }
        }
        out.extend_from_slice(b",\"words\":");
        push_u64(out, self.words);
        out.extend_from_slice(b",\"chars\":");
        push_u64(out, self.chars);
        out.extend_from_slice(b",\"score\":");
        push_f64(out, self.score);
        out.extend_from_slice(b",\"label\":");
        push_str(out, &self.label);
        out.extend_from_slice(b",\"flagged\":");
        push_bool(out, self.flagged);
        out.extend_from_slice(b",\"hits\":");
        push_counts(out, &self.hits);
        if !self.terms.is_empty() {
            out.extend_from_slice(b",\"terms\":");
            push_counts(out, &self.terms);
        }
        if let Some(snippet) = &self.snippet {
            out.extend_from_slice(b",\"snippet\":{\"text\":");
            push_str(out, &snippet.text);
            out.extend_from_slice(b",\"spans\":[");
            for (i, &(start, end)) in snippet.spans.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'[');
                push_u64(out, start as u64);
                out.push(b',');
                push_u64(out, end as u64);
                out.push(b']');
            }
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(b"}\n");
    }
}

/// The host of a URL, lowercased, without userinfo, port or a leading `www.`; `None` when the
/// string has no `scheme://host` shape.
pub fn url_domain(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split_once(']').map(|(h, _)| h)?
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    let host = host.trim_end_matches('.').to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    (!host.is_empty()).then(|| host.to_string())
}

/// The Common Crawl crawl id (`CC-MAIN-2020-16`) inside a dump or segment path such as dolma's
/// `crawl-data/CC-MAIN-2020-16/segments/…/x.warc.wet.gz`; anything else is kept as it is.
pub fn crawl_dump(raw: &str) -> &str {
    let bytes = raw.as_bytes();
    let mut from = 0;
    while let Some(i) = raw[from..].find("CC-MAIN-") {
        let start = from + i;
        let end = start + "CC-MAIN-2020-16".len();
        let shaped = bytes.get(start + 8..end).is_some_and(|t| {
            t.iter().enumerate().all(|(k, b)| {
                if k == 4 {
                    *b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
        });
        if shaped && !bytes.get(end).is_some_and(u8::is_ascii_digit) {
            return &raw[start..end];
        }
        from = start + 1;
    }
    raw
}

/// The text around the strongest evidence span (highest weight, earliest on ties), at most
/// [`SNIPPET_CHARS`] code points, with the evidence spans it holds whole.
fn snippet<'t>(text: &'t str, evidence: &[Evidence]) -> Option<Snippet<'t>> {
    let strongest = evidence
        .iter()
        .reduce(|best, e| if e.weight > best.weight { e } else { best })?;
    let (start, end) = window(text, strongest.start, strongest.end, SNIPPET_CHARS);
    let (start, end) = snap_to_words(text, start, end, strongest.start, strongest.end);
    let mut offsets: Vec<usize> = Vec::new();
    let inside: Vec<&Evidence> = evidence
        .iter()
        .filter(|e| e.start >= start && e.end <= end)
        .collect();
    for e in &inside {
        offsets.push(e.start - start);
        offsets.push(e.end - start);
    }
    let window_text = &text[start..end];
    byte_to_char_offsets(window_text, &mut offsets);
    Some(Snippet {
        text: Cow::Borrowed(window_text),
        spans: offsets.chunks(2).map(|c| (c[0], c[1])).collect(),
    })
}

/// A byte range of at most `max_chars` code points holding `[start, end)` (or its beginning,
/// when the span alone is longer), centred on it where the text allows.
fn window(text: &str, start: usize, end: usize, max_chars: usize) -> (usize, usize) {
    let span_chars = text[start..end].chars().count();
    if span_chars >= max_chars {
        let stop = text[start..]
            .char_indices()
            .nth(max_chars)
            .map_or(text.len(), |(i, _)| start + i);
        return (start, stop);
    }
    let spare = max_chars - span_chars;
    let before_avail = text[..start].chars().rev().take(spare).count();
    let after_avail = text[end..].chars().take(spare).count();
    // Half the spare room on each side; a side that runs out gives its share to the other.
    let mut before = (spare / 2).min(before_avail);
    let after = (spare - before).min(after_avail);
    before = (spare - after).min(before_avail);
    let from = match before {
        0 => start,
        n => text[..start]
            .char_indices()
            .rev()
            .nth(n - 1)
            .map_or(0, |(i, _)| i),
    };
    let to = text[end..]
        .char_indices()
        .nth(after)
        .map_or(text.len(), |(i, _)| end + i);
    (from, to)
}

/// Moves window edges that cut a word to the nearest word edge inside the window, at most 20
/// code points in and never into the span `[start, end)`, so a snippet does not begin with
/// half a word.
fn snap_to_words(text: &str, from: usize, to: usize, start: usize, end: usize) -> (usize, usize) {
    const REACH: usize = 20;
    let mut from = from;
    let cuts_word = |at: usize| {
        let before = text[..at].chars().next_back();
        let after = text[at..].chars().next();
        before.is_some_and(|c| !c.is_whitespace()) && after.is_some_and(|c| !c.is_whitespace())
    };
    if from < start && cuts_word(from) {
        if let Some((i, c)) = text[from..start]
            .char_indices()
            .take(REACH)
            .find(|(_, c)| c.is_whitespace())
        {
            from += i + c.len_utf8();
        }
    }
    let mut to = to;
    if to > end && cuts_word(to) {
        if let Some((i, _)) = text[end..to]
            .char_indices()
            .rev()
            .take(REACH)
            .find(|(_, c)| c.is_whitespace())
        {
            to = end + i;
        }
    }
    (from, to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::Lexicon;
    use crate::output::summary::count_words;
    use crate::scan::{ScanConfig, Scanner};

    #[test]
    fn domains() {
        for (url, want) in [
            ("https://www.Example.com/a?b", Some("example.com")),
            (
                "http://user:pw@news.bbc.co.uk:8080/x",
                Some("news.bbc.co.uk"),
            ),
            ("http://[2001:db8::1]:80/", Some("2001:db8::1")),
            ("https://example.org.", Some("example.org")),
            ("https://wwwx.com#f", Some("wwwx.com")),
            ("example.com/path", None),
            ("urn:uuid:1234", None),
            ("http:///nohost", None),
        ] {
            assert_eq!(url_domain(url).as_deref(), want, "{url}");
        }
    }

    #[test]
    fn dumps() {
        assert_eq!(
            crawl_dump("crawl-data/CC-MAIN-2020-16/segments/1585370494064.21/wet/CC-MAIN-20200329074745-20200329104745-00210.warc.wet.gz"),
            "CC-MAIN-2020-16"
        );
        assert_eq!(crawl_dump("CC-MAIN-2013-20"), "CC-MAIN-2013-20");
        // A segment file name alone (no crawl id in it) is kept as found.
        assert_eq!(
            crawl_dump("CC-MAIN-20200329074745-00210"),
            "CC-MAIN-20200329074745-00210"
        );
        assert_eq!(crawl_dump("my-dump"), "my-dump");
    }

    #[test]
    fn window_is_bounded_and_centred() {
        let text = format!("{}SKYNET{}", "a".repeat(500), "b".repeat(500));
        let (s, e) = window(&text, 500, 506, 300);
        assert_eq!(e - s, 300);
        assert_eq!((s, e), (353, 653));
        // Near the start, the room left over goes after the span.
        let (s, e) = window(&text[490..], 10, 16, 300);
        assert_eq!((s, e), (0, 300));
        // Whole text shorter than the window.
        assert_eq!(window("ab SKYNET cd", 3, 9, 300), (0, 12));
        // Multi-byte text: counts code points, cuts on boundaries.
        let text = format!("{}AI{}", "é".repeat(400), "ü".repeat(400));
        let (s, e) = window(&text, 800, 802, 300);
        assert_eq!(text[s..e].chars().count(), 300);
    }

    #[test]
    fn snippets_start_and_end_on_word_edges() {
        let text = "essentially human, there will be no Skynet here at all, friends";
        let start = text.find("Skynet").unwrap();
        // A window cutting "essentially" and "friends" moves in to the next word edges.
        assert_eq!(
            snap_to_words(text, 1, text.len() - 2, start, start + 6),
            (text.find("human").unwrap(), text.rfind(' ').unwrap())
        );
        // Cuts already on edges stay; the span itself is never cut.
        assert_eq!(
            snap_to_words(text, 0, text.len(), start, start + 6),
            (0, text.len())
        );
        assert_eq!(
            snap_to_words(text, start + 1, start + 5, start, start + 6),
            (start + 1, start + 5)
        );
    }

    #[test]
    fn hand_written_records_match_serde() {
        use crate::input::{read_shard, ReadOptions, Shard};
        let scanner = Scanner::new(&Lexicon::default_english(), ScanConfig::default()).unwrap();
        let shard = Shard::from_path(std::path::Path::new("tests/data/sample.jsonl.zst"));
        let mut snippets = 0;
        let stats = read_shard(&shard, &ReadOptions::default(), None, |doc| {
            // Every optional field, with text that needs escaping, on every other document.
            let odd = doc.position.line % 2 == 1;
            let doc = Document {
                url: odd.then(|| "https://WWW.Ex\"ample.org/a\\b?c".into()),
                date: odd.then(|| "2024-01-01\t".into()),
                dump: odd.then(|| "crawl-data/CC-MAIN-2024-18/x".into()),
                ..doc.clone()
            };
            let verdict = scanner.score(&doc.text);
            let record = DocumentRecord::new(&doc, &verdict, count_words(&doc.text));
            snippets += usize::from(record.snippet.is_some());
            let mut line = Vec::new();
            record.write_line(&mut line);
            let mut by_serde = serde_json::to_vec(&record).unwrap();
            by_serde.push(b'\n');
            assert_eq!(
                String::from_utf8_lossy(&line),
                String::from_utf8_lossy(&by_serde)
            );
        });
        assert_eq!(stats.documents, 20);
        assert!(snippets > 0, "no flagged document with a snippet");
    }

    #[test]
    fn record_of_a_flagged_document() {
        let scanner = Scanner::new(&Lexicon::default_english(), ScanConfig::default()).unwrap();
        let text = "Ünïcödé — Skynet becomes self-aware and launches the missiles to exterminate humanity.";
        let doc = Document {
            id: "d1".into(),
            url: Some("https://WWW.Films.example/skynet".into()),
            text: text.into(),
            date: Some("2024-05-01T00:00:00Z".into()),
            dump: Some("crawl-data/CC-MAIN-2024-18/segments/x".into()),
            position: Default::default(),
            raw: &[],
        };
        let verdict = scanner.score(text);
        assert!(verdict.flagged);
        let mut line = Vec::new();
        DocumentRecord::new(&doc, &verdict, count_words(text)).write_line(&mut line);
        let mut by_serde = serde_json::to_vec(&DocumentRecord::new(&doc, &verdict, 12)).unwrap();
        by_serde.push(b'\n');
        assert_eq!(
            String::from_utf8_lossy(&line),
            String::from_utf8_lossy(&by_serde)
        );
        let r: DocumentRecord = serde_json::from_slice(&line).unwrap();
        assert_eq!(r.domain.as_deref(), Some("films.example"));
        assert_eq!(r.dump.as_deref(), Some("CC-MAIN-2024-18"));
        assert_eq!(r.chars, text.chars().count() as u64);
        assert_eq!(r.words, 12);
        assert!(r.terms.contains_key("skynet"), "{:?}", r.terms);
        let snip = r.snippet.expect("flagged documents carry a snippet");
        let chars: Vec<char> = snip.text.chars().collect();
        assert!(!snip.spans.is_empty());
        for (s, e) in &snip.spans {
            let matched: String = chars[*s..*e].iter().collect();
            assert!(
                r.terms.contains_key(&matched.to_lowercase()),
                "{matched:?} in {:?}",
                r.terms
            );
        }
        // Unknown fields are omitted, never null.
        let plain = Document {
            url: None,
            date: None,
            dump: None,
            ..doc.clone()
        };
        let mut line = Vec::new();
        DocumentRecord::new(&plain, &scanner.score("the weather"), 2).write_line(&mut line);
        let s = String::from_utf8(line).unwrap();
        assert!(
            !s.contains("null") && !s.contains("snippet") && !s.contains("terms"),
            "{s}"
        );
    }
}
