//! Character encodings of HTML payloads: which encoding a page is in, and decoding it to UTF-8.
//!
//! The order follows the WHATWG encoding sniffing algorithm, minus the statistical guessing: a
//! byte order mark wins (it cannot be there by accident), then the HTTP `Content-Type`
//! charset, then a `<meta charset>` / `<meta http-equiv="Content-Type">` in the first bytes,
//! then UTF-8. encoding_rs maps labels as browsers do (`gb2312` -> GBK, `latin1` ->
//! windows-1252, ...).

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8};

/// How far into the payload a `<meta>` charset declaration is looked for. Browsers use 1024
/// bytes; long `<head>`s with many tags before the meta are common in crawls, so a little more.
const META_SCAN_BYTES: usize = 2048;

/// Decodes an HTML payload. Returns the text and whether malformed sequences were replaced
/// with U+FFFD.
pub(crate) fn decode_html<'a>(
    payload: &'a [u8],
    http_charset: Option<&[u8]>,
) -> (Cow<'a, str>, bool) {
    let (enc, body) = match Encoding::for_bom(payload) {
        Some((enc, bom_len)) => (enc, &payload[bom_len..]),
        None => {
            let enc = http_charset
                .and_then(usable_label)
                .or_else(|| meta_charset(&payload[..payload.len().min(META_SCAN_BYTES)]))
                .unwrap_or(UTF_8);
            (enc, payload)
        }
    };
    if enc == UTF_8 {
        // The common case: no copy when the bytes are valid.
        return match std::str::from_utf8(body) {
            Ok(s) => (Cow::Borrowed(s), false),
            Err(_) => (String::from_utf8_lossy(body), true),
        };
    }
    enc.decode_without_bom_handling(body)
}

/// The charset parameter of a `Content-Type` value (`text/html; charset="utf-8"`).
pub(crate) fn content_type_charset(value: &[u8]) -> Option<&[u8]> {
    let at = find_ci(value, b"charset")?;
    charset_value(&value[at + b"charset".len()..])
}

/// An encoding for a declared label, ignoring labels a page cannot really be in: UTF-16 in an
/// ASCII-compatible declaration means UTF-8 (as browsers read it), and the "replacement"
/// encoding would turn the whole page into one U+FFFD.
fn usable_label(label: &[u8]) -> Option<&'static Encoding> {
    let enc = Encoding::for_label(label)?;
    if enc == encoding_rs::REPLACEMENT {
        return None;
    }
    Some(enc.output_encoding())
}

/// Looks for `charset=` inside `<meta ...>` tags of the head of a page.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let mut rest = head;
    while let Some(at) = find_ci(rest, b"<meta") {
        let tag = &rest[at + 5..];
        let end = memchr::memchr(b'>', tag).unwrap_or(tag.len());
        let tag_body = &tag[..end];
        if let Some(c) = find_ci(tag_body, b"charset") {
            if let Some(label) = charset_value(&tag_body[c + b"charset".len()..]) {
                if let Some(enc) = usable_label(label) {
                    return Some(enc);
                }
            }
        }
        rest = &tag[end..];
    }
    None
}

/// Parses `  = "label"` (quotes optional) after the word `charset`.
fn charset_value(after: &[u8]) -> Option<&[u8]> {
    let s = trim_start(after);
    let s = trim_start(s.strip_prefix(b"=")?);
    let s = match s.first() {
        Some(b'"') | Some(b'\'') => &s[1..],
        _ => s,
    };
    let end = s
        .iter()
        .position(|&b| {
            matches!(b, b'"' | b'\'' | b';' | b'>' | b'/' | b',') || b.is_ascii_whitespace()
        })
        .unwrap_or(s.len());
    let label = &s[..end];
    (!label.is_empty()).then_some(label)
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &s[n..]
}

/// ASCII case-insensitive search; `needle` must be lower case.
pub(crate) fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let upper = first.to_ascii_uppercase();
    let mut from = 0;
    while let Some(i) = memchr::memchr2(first, upper, &hay[from..]) {
        let at = from + i;
        if hay.len() - at < needle.len() {
            return None;
        }
        if hay[at..at + needle.len()].eq_ignore_ascii_case(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_charset() {
        assert_eq!(
            content_type_charset(b"text/html; charset=UTF-8"),
            Some(&b"UTF-8"[..])
        );
        assert_eq!(
            content_type_charset(b"text/html;Charset=\"gb2312\""),
            Some(&b"gb2312"[..])
        );
        assert_eq!(content_type_charset(b"text/html"), None);
        assert_eq!(content_type_charset(b"text/html; charset="), None);
    }

    #[test]
    fn meta_declarations() {
        let a = b"<html><head><META http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">";
        assert_eq!(meta_charset(a), Some(encoding_rs::WINDOWS_1251));
        let b = b"<meta charset='euc-jp'/>";
        assert_eq!(meta_charset(b), Some(encoding_rs::EUC_JP));
        assert_eq!(meta_charset(b"<meta name=x><p>charset=koi8-r"), None);
        assert_eq!(meta_charset(b"<meta charset=utf-16>"), Some(UTF_8));
    }

    #[test]
    fn decoding_order() {
        // Header beats meta; BOM beats both.
        let page = b"<meta charset=utf-8>\xcf\xf0\xe8\xe2\xe5\xf2";
        assert_eq!(
            decode_html(page, Some(b"windows-1251")).0,
            "<meta charset=utf-8>Привет"
        );
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice("Привет".as_bytes());
        assert_eq!(decode_html(&bom, Some(b"windows-1251")).0, "Привет");
        let (t, bad) = decode_html(b"ok \xff", None);
        assert!(bad);
        assert_eq!(t, "ok \u{fffd}");
        assert_eq!(
            decode_html("ça".as_bytes(), Some(b"no-such-charset")),
            (Cow::Borrowed("ça"), false)
        );
    }
}
