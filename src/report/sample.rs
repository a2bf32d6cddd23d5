//! `report --sample N --seed S`: the `sample.jsonl` of documents to label by hand. Format in
//! docs/report.md; the same file, with `human_label` filled in, goes back in with `--labels`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::aggregate::{Aggregate, Sampled};
use crate::output::document_record::Snippet;

/// Most code points of a document's text copied into the sample (longer texts are cut and
/// marked `text_truncated`).
pub const SAMPLE_TEXT_CHARS: usize = 20_000;

#[derive(Serialize)]
struct SampleLine<'a> {
    id: &'a str,
    source: &'a str,
    /// 1-based number of the document in its shard.
    document: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
    score: f64,
    label: &'a str,
    flagged: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<&'a Snippet<'static>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    text_truncated: bool,
    human_label: &'static str,
}

/// The sampled documents, flagged and unflagged together, in sample-key order (random, so a
/// labeller does not meet all flagged documents in one block).
pub fn sampled(agg: &Aggregate) -> Vec<&Sampled> {
    let mut all: Vec<_> = agg
        .sample_flagged
        .kept
        .iter()
        .chain(&agg.sample_unflagged.kept)
        .collect();
    all.sort_by(|a, b| a.0.cmp(b.0));
    all.into_iter().map(|(_, s)| s).collect()
}

/// The documents whose text the sample needs: shard path -> 0-based indices.
pub fn wanted(agg: &Aggregate) -> BTreeMap<String, BTreeSet<u64>> {
    let mut out: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for s in sampled(agg) {
        out.entry(s.source.clone()).or_default().insert(s.index);
    }
    out
}

/// Cuts `text` to [`SAMPLE_TEXT_CHARS`] code points; true when it was cut.
pub fn cut_text(text: &str) -> (&str, bool) {
    match text.char_indices().nth(SAMPLE_TEXT_CHARS) {
        Some((i, _)) => (&text[..i], true),
        None => (text, false),
    }
}

/// The lines of `sample.jsonl`. `texts` holds the texts found by (shard, index); a document
/// whose shard could not be read again has no `text` (flagged ones still have their snippet).
pub fn sample_lines(agg: &Aggregate, texts: &HashMap<(String, u64), String>) -> Vec<u8> {
    let mut out = Vec::new();
    for s in sampled(agg) {
        let r = &s.record;
        let (text, text_truncated) = match texts.get(&(s.source.clone(), s.index)) {
            Some(t) => {
                let (t, cut) = cut_text(t);
                (Some(t), cut)
            }
            None => (None, false),
        };
        let line = SampleLine {
            id: &r.id,
            source: &s.source,
            document: s.index + 1,
            url: r.url.as_deref(),
            domain: r.domain.as_deref(),
            score: r.score,
            label: &r.label,
            flagged: r.flagged,
            snippet: r.snippet.as_ref(),
            text,
            text_truncated,
            human_label: "",
        };
        let _ = serde_json::to_writer(&mut out, &line);
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_cut_on_code_points() {
        let long = "é".repeat(SAMPLE_TEXT_CHARS + 5);
        let (t, cut) = cut_text(&long);
        assert!(cut);
        assert_eq!(t.chars().count(), SAMPLE_TEXT_CHARS);
        assert_eq!(cut_text("short"), ("short", false));
    }
}
