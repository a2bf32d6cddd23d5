//! Per-document records: the JSON line printed on stdout and the dolma attribute line.
//!
//! Field names here are a public contract (other tools read them): `source`, `id`, `url`,
//! `score`, `label`, `flagged`, `hits`, `evidence`; attribute keys `tropescan__rogue_ai__*`.

use std::borrow::Cow;

use serde::Serialize;

use super::json::{push_bool, push_counts, push_escaped, push_f64, push_str, push_u64};
use crate::input::Document;
use crate::scan::Verdict;

/// The prefix of every dolma attribute key: `<tagger>__<attribute set>__`.
pub const ATTRIBUTE_PREFIX: &str = "tropescan__rogue_ai__";

/// Rounds a score to 5 decimals, as dolma does.
pub fn round5(x: f64) -> f64 {
    (x * 100_000.0).round() / 100_000.0
}

/// Keeps a dolma key part to `[A-Za-z0-9_]`.
pub fn sanitize_key(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Converts sorted-or-not byte offsets into code-point offsets, in place.
///
/// ASCII text (the common case) needs no work; otherwise one pass over the text.
pub fn byte_to_char_offsets(text: &str, offsets: &mut [usize]) {
    if text.is_ascii() {
        return;
    }
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_by_key(|&i| offsets[i]);
    let mut chars = 0usize;
    let mut byte = 0usize;
    for i in order {
        let target = offsets[i].min(text.len());
        if target > byte {
            chars += text[byte..target].chars().count();
            byte = target;
        }
        offsets[i] = chars;
    }
}

/// The length of `text` in code points.
pub fn char_len(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

/// The code-point `(start, end)` of every evidence span, in evidence order.
fn char_spans(text: &str, verdict: &Verdict) -> Vec<(usize, usize)> {
    let mut offsets: Vec<usize> = verdict
        .evidence
        .iter()
        .flat_map(|e| [e.start, e.end])
        .collect();
    byte_to_char_offsets(text, &mut offsets);
    offsets.chunks(2).map(|c| (c[0], c[1])).collect()
}

/// What goes into each stdout line.
#[derive(Clone, Copy, Debug, Default)]
pub struct DocumentLineOptions {
    /// Add the matched spans.
    pub evidence: bool,
}

/// One matched span as written in a stdout line (`--evidence`) and returned by the Python
/// binding: byte and code-point offsets, category, term, rounded weight.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Span<'a> {
    /// Byte offset of the start in the text.
    pub start: usize,
    /// Byte offset one past the end.
    pub end: usize,
    /// Code-point offset of the start.
    pub char_start: usize,
    /// Code-point offset one past the end.
    pub char_end: usize,
    /// Category name.
    pub category: &'a str,
    /// Term as written in the lexicon.
    pub term: &'a str,
    /// Term weight, rounded to 5 decimals.
    pub weight: f64,
}

/// The evidence of `verdict` as output spans, in evidence order.
pub fn evidence_spans<'a>(text: &str, verdict: &'a Verdict) -> Vec<Span<'a>> {
    verdict
        .evidence
        .iter()
        .zip(char_spans(text, verdict))
        .map(|(e, (char_start, char_end))| Span {
            start: e.start,
            end: e.end,
            char_start,
            char_end,
            category: &e.category,
            term: &e.term,
            weight: round5(e.weight),
        })
        .collect()
}

/// Writes the stdout JSON lines of one shard's documents. The shard path is escaped once for
/// all its lines.
#[derive(Clone, Debug)]
pub struct DocumentLines {
    /// `{"source":"<path>","id":`, the start of every line.
    head: Vec<u8>,
    opts: DocumentLineOptions,
}

impl DocumentLines {
    /// Lines for the documents of the shard `source`.
    pub fn new(source: &str, opts: DocumentLineOptions) -> DocumentLines {
        let mut head = b"{\"source\":".to_vec();
        push_str(&mut head, source);
        head.extend_from_slice(b",\"id\":");
        DocumentLines { head, opts }
    }

    /// Appends one stdout JSON line (with its newline) for a document to `out`:
    /// `{"source", "id", "url" (when known), "score", "label", "flagged", "hits", "evidence"
    /// (with `--evidence`)}`.
    pub fn write(&self, out: &mut Vec<u8>, doc: &Document<'_>, verdict: &Verdict) {
        out.extend_from_slice(&self.head);
        push_str(out, &doc.id);
        if let Some(url) = doc.url.as_deref() {
            out.extend_from_slice(b",\"url\":");
            push_str(out, url);
        }
        out.extend_from_slice(b",\"score\":");
        push_f64(out, round5(verdict.score));
        out.extend_from_slice(b",\"label\":");
        push_str(out, verdict.label.name());
        out.extend_from_slice(b",\"flagged\":");
        push_bool(out, verdict.flagged);
        out.extend_from_slice(b",\"hits\":");
        push_counts(out, &verdict.hits);
        if self.opts.evidence {
            out.extend_from_slice(b",\"evidence\":[");
            for (i, span) in evidence_spans(&doc.text, verdict).iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_span(out, span);
            }
            out.push(b']');
        }
        out.extend_from_slice(b"}\n");
    }
}

/// Appends one `--evidence` span object, fields in [`Span`]'s order.
fn push_span(out: &mut Vec<u8>, span: &Span<'_>) {
    out.extend_from_slice(b"{\"start\":");
    push_u64(out, span.start as u64);
    out.extend_from_slice(b",\"end\":");
    push_u64(out, span.end as u64);
    out.extend_from_slice(b",\"char_start\":");
    push_u64(out, span.char_start as u64);
    out.extend_from_slice(b",\"char_end\":");
    push_u64(out, span.char_end as u64);
    out.extend_from_slice(b",\"category\":");
    push_str(out, span.category);
    out.extend_from_slice(b",\"term\":");
    push_str(out, span.term);
    out.extend_from_slice(b",\"weight\":");
    push_f64(out, span.weight);
    out.push(b'}');
}

/// [`sanitize_key`] without a copy when the name is already a valid key part (the lexicon's
/// category names are).
fn sanitized(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(sanitize_key(s))
    }
}

/// Appends one dolma attribute line for a document to `out`: every document gets a line, with
/// `"attributes": {}` when nothing matched. Spans are code-point offsets, end exclusive.
/// Attributes are sorted by name, spans of one attribute in evidence order. `chars` is
/// [`char_len`] of the text (the document record counts it too).
pub fn write_attribute_line(
    out: &mut Vec<u8>,
    doc: &Document<'_>,
    verdict: &Verdict,
    chars: usize,
) {
    out.extend_from_slice(b"{\"id\":");
    push_str(out, &doc.id);
    out.extend_from_slice(b",\"attributes\":{");
    if !verdict.evidence.is_empty() || verdict.score > 0.0 {
        let whole = chars;
        // As many code points as bytes: ASCII, byte offsets are code-point offsets.
        let converted = (chars != doc.text.len()).then(|| char_spans(&doc.text, verdict));
        // (key after the prefix, span): sorted by key below, stably, so each attribute's spans
        // stay in the order they were added (a category sanitised to `score` would follow the
        // score span, as in the map this replaced).
        let mut attrs: Vec<(Cow<'_, str>, (usize, usize, f64))> =
            Vec::with_capacity(3 + verdict.evidence.len());
        attrs.push((Cow::Borrowed("score"), (0, whole, round5(verdict.score))));
        // Flagged-ness depends on the label and the threshold of this run: spell it out so a
        // dolma filter needs no knowledge of either.
        if verdict.flagged {
            attrs.push((Cow::Borrowed("flagged"), (0, whole, 1.0)));
        }
        attrs.push((
            Cow::Owned(format!("label__{}", verdict.label.name())),
            (0, whole, 1.0),
        ));
        for (k, e) in verdict.evidence.iter().enumerate() {
            let (start, end) = converted.as_ref().map_or((e.start, e.end), |c| c[k]);
            attrs.push((sanitized(&e.category), (start, end, round5(e.weight))));
        }
        attrs.sort_by(|a, b| a.0.cmp(&b.0));
        for (i, (key, (start, end, value))) in attrs.iter().enumerate() {
            let opens = i == 0 || attrs[i - 1].0 != *key;
            if opens {
                if i > 0 {
                    out.extend_from_slice(b"],");
                }
                out.push(b'"');
                out.extend_from_slice(ATTRIBUTE_PREFIX.as_bytes());
                push_escaped(out, key);
                out.extend_from_slice(b"\":[");
            } else {
                out.push(b',');
            }
            out.push(b'[');
            push_u64(out, *start as u64);
            out.push(b',');
            push_u64(out, *end as u64);
            out.push(b',');
            push_f64(out, *value);
            out.push(b']');
        }
        out.push(b']');
    }
    out.extend_from_slice(b"}}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_offsets_count_code_points() {
        let text = "héllo wörld AI";
        let mut offs = vec![text.find("AI").unwrap(), text.len(), 0];
        byte_to_char_offsets(text, &mut offs);
        assert_eq!(offs, vec![12, 14, 0]);
        assert_eq!(char_len(text), 14);
    }

    #[test]
    fn keys_are_sanitized_and_scores_rounded() {
        assert_eq!(sanitize_key("frame-fiction.x"), "frame_fiction_x");
        assert_eq!(sanitized("frame-fiction.x"), "frame_fiction_x");
        assert!(matches!(sanitized("entity_ai"), Cow::Borrowed("entity_ai")));
        assert_eq!(sanitized("é"), sanitize_key("é"));
        assert_eq!(round5(0.123456789), 0.12346);
    }

    /// The serde structs the hand-written lines replaced, kept as the reference they must
    /// match byte for byte.
    mod reference {
        use std::collections::BTreeMap;

        use serde::Serialize;

        use super::super::*;

        #[derive(Serialize)]
        struct DocumentLine<'a> {
            source: &'a str,
            id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            url: Option<&'a str>,
            score: f64,
            label: &'static str,
            flagged: bool,
            hits: &'a BTreeMap<String, u32>,
            #[serde(skip_serializing_if = "Option::is_none")]
            evidence: Option<Vec<Span<'a>>>,
        }

        pub fn document_line(
            source: &str,
            doc: &Document<'_>,
            v: &Verdict,
            evidence: bool,
        ) -> Vec<u8> {
            let line = DocumentLine {
                source,
                id: &doc.id,
                url: doc.url.as_deref(),
                score: round5(v.score),
                label: v.label.name(),
                flagged: v.flagged,
                hits: &v.hits,
                evidence: evidence.then(|| evidence_spans(&doc.text, v)),
            };
            let mut out = serde_json::to_vec(&line).unwrap();
            out.push(b'\n');
            out
        }

        #[derive(Serialize)]
        struct AttributeLine<'a> {
            id: &'a str,
            attributes: BTreeMap<String, Vec<(usize, usize, f64)>>,
        }

        pub fn attribute_line(doc: &Document<'_>, verdict: &Verdict) -> Vec<u8> {
            let mut attributes = BTreeMap::new();
            if !verdict.evidence.is_empty() || verdict.score > 0.0 {
                let whole = char_len(&doc.text);
                attributes.insert(
                    format!("{ATTRIBUTE_PREFIX}score"),
                    vec![(0, whole, round5(verdict.score))],
                );
                if verdict.flagged {
                    attributes.insert(format!("{ATTRIBUTE_PREFIX}flagged"), vec![(0, whole, 1.0)]);
                }
                attributes.insert(
                    format!("{ATTRIBUTE_PREFIX}label__{}", verdict.label.name()),
                    vec![(0, whole, 1.0)],
                );
                for (e, (start, end)) in verdict.evidence.iter().zip(char_spans(&doc.text, verdict))
                {
                    attributes
                        .entry(format!("{ATTRIBUTE_PREFIX}{}", sanitize_key(&e.category)))
                        .or_insert_with(Vec::new)
                        .push((start, end, round5(e.weight)));
                }
            }
            let line = AttributeLine {
                id: &doc.id,
                attributes,
            };
            let mut out = serde_json::to_vec(&line).unwrap();
            out.push(b'\n');
            out
        }
    }

    /// The fixture shard's documents, then hand-made ones: non-ASCII text before and between
    /// hits, ids and URLs that need escaping, no URL, nothing matched.
    fn documents() -> Vec<Document<'static>> {
        use crate::input::{read_shard, ReadOptions, Shard};
        let shard = Shard::from_path(std::path::Path::new("tests/data/sample.jsonl.zst"));
        let mut docs = Vec::new();
        let stats = read_shard(&shard, &ReadOptions::default(), None, |doc| {
            docs.push(Document {
                id: doc.id.to_string().into(),
                url: doc.url.as_deref().map(|u| u.to_string().into()),
                text: doc.text.to_string().into(),
                date: None,
                dump: None,
                position: Default::default(),
                raw: &[],
            });
        });
        assert_eq!(stats.documents, 20);
        let made = [
            ("q\"uote\\d\u{1}", Some("https://x.example/\"a\""), "Ünïcödé — Skynet becomes self-aware and launches the missiles; the robots rebel, the AI will exterminate humanity. Skynet wins."),
            ("plain", None, "The weather today is mild."),
            ("日本", Some("u"), "日本語 text: the rogue AI HAL 9000 kills the crew\tand\nthe machine turns on its makers."),
        ];
        for (id, url, text) in made {
            docs.push(Document {
                id: id.into(),
                url: url.map(Into::into),
                text: text.into(),
                date: None,
                dump: None,
                position: Default::default(),
                raw: &[],
            });
        }
        docs
    }

    #[test]
    fn hand_written_lines_match_serde() {
        use crate::lexicon::Lexicon;
        use crate::scan::{ScanConfig, Scanner};
        let scanner = Scanner::new(&Lexicon::default_english(), ScanConfig::default()).unwrap();
        let mut with_evidence = 0;
        for doc in documents() {
            let verdict = scanner.score(&doc.text);
            with_evidence += usize::from(!verdict.evidence.is_empty());
            for evidence in [false, true] {
                let source = "shards/a \"b\".jsonl";
                let mut line = Vec::new();
                DocumentLines::new(source, DocumentLineOptions { evidence })
                    .write(&mut line, &doc, &verdict);
                assert_eq!(
                    String::from_utf8(line).unwrap(),
                    String::from_utf8(reference::document_line(source, &doc, &verdict, evidence))
                        .unwrap()
                );
            }
            let mut line = Vec::new();
            write_attribute_line(&mut line, &doc, &verdict, char_len(&doc.text));
            assert_eq!(
                String::from_utf8(line).unwrap(),
                String::from_utf8(reference::attribute_line(&doc, &verdict)).unwrap()
            );
        }
        assert!(
            with_evidence >= 10,
            "only {with_evidence} documents with evidence"
        );
    }
}
