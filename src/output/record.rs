//! Per-document records: the JSON line printed on stdout and the dolma attribute line.
//!
//! Field names here are a public contract (other tools read them): `source`, `id`, `url`,
//! `score`, `label`, `flagged`, `hits`, `evidence`; attribute keys `tropescan__rogue_ai__*`.

use std::collections::BTreeMap;

use serde::Serialize;

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

/// Appends one stdout JSON line (with its newline) for a document to `out`.
pub fn write_document_line(
    out: &mut Vec<u8>,
    source: &str,
    doc: &Document<'_>,
    verdict: &Verdict,
    opts: DocumentLineOptions,
) {
    let evidence = opts.evidence.then(|| evidence_spans(&doc.text, verdict));
    let line = DocumentLine {
        source,
        id: &doc.id,
        url: doc.url.as_deref(),
        score: round5(verdict.score),
        label: verdict.label.name(),
        flagged: verdict.flagged,
        hits: &verdict.hits,
        evidence,
    };
    // Serialising plain structs of strings and numbers into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &line);
    out.push(b'\n');
}

#[derive(Serialize)]
struct AttributeLine<'a> {
    id: &'a str,
    attributes: BTreeMap<String, Vec<(usize, usize, f64)>>,
}

/// Appends one dolma attribute line for a document to `out`: every document gets a line, with
/// `"attributes": {}` when nothing matched. Spans are code-point offsets, end exclusive.
pub fn write_attribute_line(out: &mut Vec<u8>, doc: &Document<'_>, verdict: &Verdict) {
    let mut attributes = BTreeMap::new();
    if !verdict.evidence.is_empty() || verdict.score > 0.0 {
        let whole = char_len(&doc.text);
        attributes.insert(
            format!("{ATTRIBUTE_PREFIX}score"),
            vec![(0, whole, round5(verdict.score))],
        );
        // Flagged-ness depends on the label and the threshold of this run: spell it out so a
        // dolma filter needs no knowledge of either.
        if verdict.flagged {
            attributes.insert(format!("{ATTRIBUTE_PREFIX}flagged"), vec![(0, whole, 1.0)]);
        }
        attributes.insert(
            format!("{ATTRIBUTE_PREFIX}label__{}", verdict.label.name()),
            vec![(0, whole, 1.0)],
        );
        for (e, (start, end)) in verdict.evidence.iter().zip(char_spans(&doc.text, verdict)) {
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
    let _ = serde_json::to_writer(&mut *out, &line);
    out.push(b'\n');
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
        assert_eq!(round5(0.123456789), 0.12346);
    }
}
