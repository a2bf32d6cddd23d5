//! Acting on what a scan found: the pure parts of `tropescan filter` (remove, downweight, tag)
//! and `tropescan balance`.
//!
//! [`weight`] maps a score to a sampling weight, [`tag`] rewrites a JSONL line with its
//! verdict, [`balance`] plans counterbalancing weights; this module also reads back the
//! verdicts of an earlier `scan -o` from its attribute lines, and names and writes the JSONL
//! documents that non-JSONL inputs become.

pub mod balance;
pub mod tag;
pub mod weight;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::input::{Compression, Document};
use crate::output::record::ATTRIBUTE_PREFIX;
use crate::scan::Label;

/// A verdict as an earlier `scan -o` recorded it in its attribute file.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedVerdict {
    /// The document id.
    pub id: String,
    /// The score, rounded to 5 decimals as written.
    pub score: f64,
    /// The label.
    pub label: Label,
    /// Whether that scan flagged it (with its own threshold and flag labels).
    pub flagged: bool,
}

/// An attribute line that is not one `scan -o` writes.
#[derive(Debug, thiserror::Error)]
#[error("not a tropescan attribute line: {0}")]
pub struct AttributeLineError(String);

/// Reads one dolma attribute line written by `scan -o`: documents with nothing found have
/// `"attributes": {}` (score 0, label `none`).
pub fn parse_attribute_line(line: &[u8]) -> Result<RecordedVerdict, AttributeLineError> {
    #[derive(serde::Deserialize)]
    struct Line {
        id: String,
        attributes: BTreeMap<String, Vec<(u64, u64, f64)>>,
    }
    let parsed: Line =
        serde_json::from_slice(line).map_err(|e| AttributeLineError(e.to_string()))?;
    let mut verdict = RecordedVerdict {
        id: parsed.id,
        score: 0.0,
        label: Label::None,
        flagged: false,
    };
    for (key, spans) in &parsed.attributes {
        let Some(name) = key.strip_prefix(ATTRIBUTE_PREFIX) else {
            continue;
        };
        if name == "score" {
            verdict.score = spans.first().map_or(0.0, |s| s.2);
        } else if name == "flagged" {
            verdict.flagged = true;
        } else if let Some(label) = name.strip_prefix("label__") {
            verdict.label = Label::from_name(label)
                .ok_or_else(|| AttributeLineError(format!("unknown label {label:?}")))?;
        }
    }
    Ok(verdict)
}

/// The name a non-JSONL shard's documents are written under: the shard's file name with its
/// compression extension replaced by `.jsonl` plus the extension of `compression`
/// (`x.warc.wet.gz` -> `x.warc.wet.jsonl.gz`, `films.csv` -> `films.csv.jsonl`).
pub fn jsonl_name(rel: &Path, compression: Compression) -> PathBuf {
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    let stem = [".gz", ".zst", ".zstd"]
        .iter()
        .find(|ext| lower.ends_with(*ext))
        .map_or(name.as_str(), |ext| &name[..name.len() - ext.len()]);
    let ext = match compression {
        Compression::Gzip => ".gz",
        Compression::Zstd => ".zst",
        _ => "",
    };
    rel.with_file_name(format!("{stem}.jsonl{ext}"))
}

/// Appends a document as one JSONL line `{"id", "url", "text"}` (url only when known).
pub fn write_document_json(out: &mut Vec<u8>, doc: &Document<'_>) {
    #[derive(Serialize)]
    struct Plain<'a> {
        id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<&'a str>,
        text: &'a str,
    }
    let plain = Plain {
        id: &doc.id,
        url: doc.url.as_deref(),
        text: &doc.text,
    };
    // Serialising strings into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &plain);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_lines_give_back_the_verdict() {
        let v = parse_attribute_line(
            br#"{"id":"d1","attributes":{"tropescan__rogue_ai__flagged":[[0,9,1.0]],"tropescan__rogue_ai__label__rogue_ai_fiction":[[0,9,1.0]],"tropescan__rogue_ai__score":[[0,9,0.71234]],"tropescan__rogue_ai__takeover":[[1,4,0.3]]}}"#,
        )
        .unwrap();
        assert_eq!(
            v,
            RecordedVerdict {
                id: "d1".into(),
                score: 0.71234,
                label: Label::RogueAiFiction,
                flagged: true
            }
        );
        let none = parse_attribute_line(br#"{"id":"d2","attributes":{}}"#).unwrap();
        assert_eq!(
            (none.score, none.label, none.flagged),
            (0.0, Label::None, false)
        );
        assert!(parse_attribute_line(br#"{"attributes":{}}"#).is_err());
        assert!(parse_attribute_line(b"nope").is_err());
    }

    #[test]
    fn non_jsonl_shards_are_renamed_to_jsonl() {
        let n = |s: &str, c| jsonl_name(Path::new(s), c).display().to_string();
        assert_eq!(
            n("a/x.warc.wet.gz", Compression::Gzip),
            "a/x.warc.wet.jsonl.gz"
        );
        assert_eq!(n("x.warc.GZ", Compression::Gzip), "x.warc.jsonl.gz");
        assert_eq!(n("films.csv", Compression::None), "films.csv.jsonl");
        assert_eq!(n("p.parquet", Compression::None), "p.parquet.jsonl");
        assert_eq!(n("t.txt.zst", Compression::Zstd), "t.txt.jsonl.zst");
    }

    #[test]
    fn documents_become_plain_json_lines() {
        let doc = crate::input::OwnedDocument {
            id: "w1".into(),
            url: Some("http://e".into()),
            text: "a \"b\"\nc".into(),
            ..Default::default()
        };
        let mut out = Vec::new();
        write_document_json(&mut out, &doc.as_document());
        assert_eq!(
            out,
            b"{\"id\":\"w1\",\"url\":\"http://e\",\"text\":\"a \\\"b\\\"\\nc\"}\n".to_vec()
        );
    }
}
