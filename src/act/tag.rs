//! Tagging JSONL documents in place: insert `metadata.tropescan` into a JSON line, and
//! optionally prepend a control token to its text, keeping every other byte of the line.
//!
//! The line is never re-serialised (that would reorder keys, change number and escape
//! spellings): a small scanner finds where the top-level members and the `metadata` object
//! start and end, and the new bytes are spliced in.

use std::ops::Range;

/// Why a line could not be tagged. The line is then written unchanged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TagError {
    /// The line is not a JSON object (the reader would not have delivered it).
    #[error("not a JSON object: {0}")]
    NotAnObject(String),
    /// `metadata` exists but is not an object, so `metadata.tropescan` cannot be added.
    #[error("`metadata` is {0}, not an object: cannot add metadata.tropescan")]
    MetadataNotObject(&'static str),
    /// The text field to prefix is missing or not a string.
    #[error("the text field {0:?} is not a string in this line")]
    NoText(String),
}

/// One member of a JSON object: its decoded key, and where its value lies.
#[derive(Debug)]
struct Member {
    key: String,
    value: Range<usize>,
}

/// The members of the object starting at `start` (which must be `{`), and the index of its
/// closing `}`.
fn object_members(b: &[u8], start: usize) -> Result<(Vec<Member>, usize), String> {
    if b.get(start) != Some(&b'{') {
        return Err(format!("expected '{{' at byte {start}"));
    }
    let mut members = Vec::new();
    let mut i = skip_ws(b, start + 1);
    if b.get(i) == Some(&b'}') {
        return Ok((members, i));
    }
    loop {
        let key_end = string_end(b, i)?;
        let key = decode_key(&b[i..key_end])?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return Err(format!("expected ':' at byte {i}"));
        }
        let value_start = skip_ws(b, i + 1);
        let value_end = value_end(b, value_start)?;
        members.push(Member {
            key,
            value: value_start..value_end,
        });
        i = skip_ws(b, value_end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Ok((members, i)),
            _ => return Err(format!("expected ',' or '}}' at byte {i}")),
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The index just past the string starting at `i` (a `"`).
fn string_end(b: &[u8], i: usize) -> Result<usize, String> {
    if b.get(i) != Some(&b'"') {
        return Err(format!("expected a string at byte {i}"));
    }
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Ok(j + 1),
            _ => j += 1,
        }
    }
    Err(format!("unterminated string at byte {i}"))
}

/// The index just past the value starting at `i`.
fn value_end(b: &[u8], i: usize) -> Result<usize, String> {
    match b.get(i) {
        Some(b'"') => string_end(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            Err(format!("unterminated value at byte {i}"))
        }
        Some(_) => {
            // A number or a literal: up to the next delimiter.
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            if j == i {
                Err(format!("expected a value at byte {i}"))
            } else {
                Ok(j)
            }
        }
        None => Err(format!("expected a value at byte {i}")),
    }
}

fn decode_key(quoted: &[u8]) -> Result<String, String> {
    let inner = &quoted[1..quoted.len() - 1];
    if !inner.contains(&b'\\') {
        return String::from_utf8(inner.to_vec()).map_err(|e| e.to_string());
    }
    serde_json::from_slice(quoted).map_err(|e| e.to_string())
}

fn kind_of(value: &[u8]) -> &'static str {
    match value.first() {
        Some(b'"') => "a string",
        Some(b'[') => "an array",
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        _ => "a number",
    }
}

/// Where the value at the dotted `path` lies, if every step is an object member.
fn find_path(b: &[u8], path: &[String]) -> Option<Range<usize>> {
    let mut start = skip_ws(b, 0);
    let mut found = None;
    for part in path {
        let (members, _) = object_members(b, start).ok()?;
        let m = members.into_iter().find(|m| m.key == *part)?;
        start = m.value.start;
        found = Some(m.value);
    }
    found
}

/// What to splice into a line.
#[derive(Clone, Copy, Debug)]
pub struct Tag<'a> {
    /// The serialised value of `metadata.tropescan`, e.g. `{"score":0.8,"label":"..."}`.
    pub value: &'a str,
    /// A control token to put at the start of the text (already chosen for flagged documents
    /// only), as plain text; it is JSON-escaped here.
    pub token: Option<&'a str>,
    /// The dotted path of the text field.
    pub text_path: &'a [String],
}

/// Rewrites one JSON line (without its line terminator): adds or replaces
/// `metadata.tropescan`, and prefixes the text with the token. Every other byte is kept.
pub fn tag_line(line: &[u8], tag: Tag<'_>) -> Result<Vec<u8>, TagError> {
    let top = skip_ws(line, 0);
    let (members, close) = object_members(line, top).map_err(TagError::NotAnObject)?;
    // (position, bytes replaced, new bytes); applied back to front so positions hold.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let entry = format!("\"tropescan\":{}", tag.value);
    match members.iter().find(|m| m.key == "metadata") {
        Some(meta) if line[meta.value.start] == b'{' => {
            let (inner, inner_close) =
                object_members(line, meta.value.start).map_err(TagError::NotAnObject)?;
            if let Some(old) = inner.iter().find(|m| m.key == "tropescan") {
                edits.push((old.value.start, old.value.len(), tag.value.to_string()));
            } else if let Some(last) = inner.last() {
                edits.push((last.value.end, 0, format!(",{entry}")));
            } else {
                edits.push((inner_close, 0, entry));
            }
        }
        Some(meta) => {
            return Err(TagError::MetadataNotObject(kind_of(
                &line[meta.value.clone()],
            )))
        }
        None => {
            let meta = format!("\"metadata\":{{{entry}}}");
            match members.last() {
                Some(last) => edits.push((last.value.end, 0, format!(",{meta}"))),
                None => edits.push((close, 0, meta)),
            }
        }
    }
    if let Some(token) = tag.token {
        let text = find_path(line, tag.text_path)
            .filter(|r| line[r.start] == b'"')
            .ok_or_else(|| TagError::NoText(tag.text_path.join(".")))?;
        let quoted = serde_json::to_string(token).unwrap_or_default();
        let escaped = &quoted[1..quoted.len() - 1];
        edits.push((text.start + 1, 0, escaped.to_string()));
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = line.to_vec();
    for (at, len, bytes) in edits {
        out.splice(at..at + len, bytes.into_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const TAG: &str = r#"{"score":0.5,"label":"rogue_ai_fiction","flagged":true}"#;

    fn text_path() -> Vec<String> {
        vec!["text".to_string()]
    }

    fn tag(line: &str, token: Option<&str>) -> Result<String, TagError> {
        let path = text_path();
        tag_line(
            line.as_bytes(),
            Tag {
                value: TAG,
                token,
                text_path: &path,
            },
        )
        .map(|b| String::from_utf8(b).unwrap())
    }

    macro_rules! tags {
        ($($name:ident: $line:expr, $token:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(tag($line, $token).unwrap(), $want);
            }
        )*};
    }

    tags! {
        no_metadata_adds_it_at_the_end:
            r#"{"id":"a","text":"hi"}"#, None =>
            format!(r#"{{"id":"a","text":"hi","metadata":{{"tropescan":{TAG}}}}}"#);
        existing_metadata_gets_a_member:
            r#"{"text":"hi", "metadata": {"url": "u" } }"#, None =>
            format!(r#"{{"text":"hi", "metadata": {{"url": "u","tropescan":{TAG} }} }}"#);
        empty_metadata:
            r#"{"text":"hi","metadata":{}}"#, None =>
            format!(r#"{{"text":"hi","metadata":{{"tropescan":{TAG}}}}}"#);
        existing_tag_is_replaced:
            r#"{"text":"hi","metadata":{"tropescan":{"score":0.1},"b":[1,"}"]}}"#, None =>
            format!(r#"{{"text":"hi","metadata":{{"tropescan":{TAG},"b":[1,"}}"]}}}}"#);
        token_goes_inside_the_text_string_escaped:
            r#"{"text":"Once \"upon\"","metadata":{"x":1}}"#, Some("<|rogue|>\n") =>
            format!(r#"{{"text":"<|rogue|>\nOnce \"upon\"","metadata":{{"x":1,"tropescan":{TAG}}}}}"#);
        keys_with_escapes_and_nested_braces_in_strings:
            r#"{"a":"{[\"}","metad\u0061ta":{"k":null},"text":"x"}"#, None =>
            format!(r#"{{"a":"{{[\"}}","metad\u0061ta":{{"k":null,"tropescan":{TAG}}},"text":"x"}}"#);
    }

    #[test]
    fn metadata_that_is_not_an_object_is_refused() {
        assert_eq!(
            tag(r#"{"text":"x","metadata":"s"}"#, None),
            Err(TagError::MetadataNotObject("a string"))
        );
        assert_eq!(
            tag(r#"{"text":"x","metadata":null}"#, None),
            Err(TagError::MetadataNotObject("null"))
        );
    }

    #[test]
    fn token_needs_a_string_text() {
        assert!(matches!(
            tag(r#"{"text":5}"#, Some("T")),
            Err(TagError::NoText(_))
        ));
    }

    #[test]
    fn nested_text_path() {
        let path = vec!["doc".to_string(), "body".to_string()];
        let out = tag_line(
            br#"{"doc":{"body":"b"}}"#,
            Tag {
                value: "1",
                token: Some("T "),
                text_path: &path,
            },
        )
        .unwrap();
        assert_eq!(
            out,
            br#"{"doc":{"body":"T b"},"metadata":{"tropescan":1}}"#.to_vec()
        );
    }

    #[test]
    fn removing_the_tag_gives_the_original_value() {
        for line in [
            r#"{"id":1,"text":"a","metadata":{"u":[1,2,{"x":"y"}]}}"#,
            r#"  {"text":"a\u00e9"}  "#,
            r#"{"text":"","metadata":{"tropescan":5}}"#,
        ] {
            let out = tag(line, None).unwrap();
            let mut v: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(
                v["metadata"]["tropescan"],
                serde_json::from_str::<Value>(TAG).unwrap()
            );
            let orig: Value = serde_json::from_str(line).unwrap();
            let meta = v["metadata"].as_object_mut().unwrap();
            meta.remove("tropescan");
            if orig.get("metadata").is_none() {
                v.as_object_mut().unwrap().remove("metadata");
            } else if let Some(old) = orig["metadata"].get("tropescan") {
                v["metadata"]["tropescan"] = old.clone();
            }
            assert_eq!(v, orig, "{line}");
        }
    }
}
