//! The fast path of JSONL field extraction: one validating skim over a JSON line that takes the
//! plan's fields (text, id, url, ...) and only checks the rest.
//!
//! Why: serde_json scans strings eight bytes at a time and makes a visitor call per key and
//! value; that made taking five fields from a crawl line cost as much as zstd decompressing
//! it (issue #2's goal is reading within 20% of decompression). Here strings are scanned 64
//! bytes at a time with SSE2 masks (`scan/bytemask.rs`), keys are compared in place, and
//! unwanted values are validated without being built.
//!
//! The skim is exact or it declines. It returns `None` for any line it does not fully handle,
//! and the caller then runs the serde_json path, which also writes every error message. It
//! declines on: whitespace other than a space between tokens (tabs and CRs, rare in JSONL),
//! raw control bytes in strings (JSON forbids them; the string scan stops on them), escaped
//! keys, `\u` surrogates that are not a high-low pair, a wanted number that is not a plain
//! integer of at most 18 digits, nesting deeper than [`MAX_DEPTH`], and anything that is not
//! valid JSON. For a line it accepts it fills exactly the values serde_json's path fills (a
//! differential test in `jsonl.rs` compares them).

use std::borrow::Cow;

use super::jsonl::{Captured, JsonPlan};
use crate::scan::bytemask::find_string_stop;

/// Deeper nesting goes to serde_json (its own limit is 128).
const MAX_DEPTH: usize = 64;

/// Takes the plan's fields from `line` into `values` (indexed like the plan's paths, all
/// `None` on entry). `None`: not handled here; `values` may then hold partial results.
pub(super) fn skim<'de>(
    line: &'de str,
    plan: &JsonPlan,
    values: &mut [Option<Captured<'de>>],
) -> Option<()> {
    let mut s = Skim { s: line, i: 0 };
    s.spaces();
    if s.peek()? != b'{' {
        return None;
    }
    s.object(plan, 0, plan.all_live(), values)?;
    s.spaces();
    (s.i == line.len()).then_some(())
}

/// A cursor over one line.
struct Skim<'de> {
    s: &'de str,
    i: usize,
}

impl<'de> Skim<'de> {
    fn bytes(&self) -> &'de [u8] {
        self.s.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    /// Skips spaces; other JSON whitespace (tab, CR) makes the next token fail: declined.
    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    /// After `"` (consumed): skips to past the closing quote, validating escapes. Returns the
    /// content's byte range and whether it holds an escape. Inlined: it runs for every key
    /// and string value, and the call's register saving cost as much as a short key's scan.
    #[inline(always)]
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        let b = self.bytes();
        let start = self.i;
        let mut escaped = false;
        loop {
            self.i = find_string_stop(b, self.i)?;
            match b[self.i] {
                b'"' => {
                    self.i += 1;
                    return Some((start, self.i - 1, escaped));
                }
                b'\\' => {
                    escaped = true;
                    self.i += escape_len(&b[self.i..])?;
                }
                // A raw control byte, which JSON forbids in strings.
                _ => return None,
            }
        }
    }

    /// A string value (after its `"`), borrowed when it has no escapes.
    fn string_value(&mut self) -> Option<Cow<'de, str>> {
        let (start, end, escaped) = self.string()?;
        let raw = &self.s[start..end];
        Some(if escaped {
            Cow::Owned(unescape(raw))
        } else {
            Cow::Borrowed(raw)
        })
    }

    /// A number (first byte not consumed); returns its text and whether it is an integer.
    fn number(&mut self) -> Option<(&'de str, bool)> {
        let b = self.bytes();
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.i += 1;
            integer = false;
            self.one_or_more_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            integer = false;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            self.one_or_more_digits()?;
        }
        // serde_json rejects a digit right after a leading zero ("01") and so do we: the
        // next byte must then end the value.
        if b.get(self.i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        Some((&self.s[start..self.i], integer))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
    }

    fn one_or_more_digits(&mut self) -> Option<()> {
        if !self.peek()?.is_ascii_digit() {
            return None;
        }
        self.digits();
        Some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.bytes().get(self.i..end)? == word).then(|| self.i = end)
    }

    /// Validates and skips any value (first byte not consumed).
    fn skip(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => {
                self.i += 1;
                self.string().map(drop)
            }
            b'{' => self.members(b'{', b'}', |s| {
                s.key()?;
                s.skip(depth + 1)
            }),
            b'[' => self.members(b'[', b']', |s| s.skip(depth + 1)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    /// A key with its colon and the spaces around it; keys with escapes are declined.
    fn key(&mut self) -> Option<&'de str> {
        self.expect(b'"')?;
        let (start, end, escaped) = self.string()?;
        if escaped {
            return None;
        }
        self.spaces();
        self.expect(b':')?;
        self.spaces();
        Some(&self.s[start..end])
    }

    /// An object or array: `open`, then `member` (which reads one key and value, or one
    /// element) for each member, separated by commas, then `close`.
    #[inline(always)]
    fn members(
        &mut self,
        open: u8,
        close: u8,
        mut member: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.expect(open)?;
        self.spaces();
        if self.peek()? == close {
            self.i += 1;
            return Some(());
        }
        loop {
            member(self)?;
            self.spaces();
            match self.next()? {
                b',' => self.spaces(),
                c if c == close => return Some(()),
                _ => return None,
            }
        }
    }

    /// An object on the plan's paths (at its `{`), as serde's `ObjectSeed` walks it.
    fn object(
        &mut self,
        plan: &JsonPlan,
        depth: usize,
        live: u64,
        values: &mut [Option<Captured<'de>>],
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.members(b'{', b'}', |s| {
            let key = s.key()?;
            let (matching, leaves) = plan.match_key(depth, live, key);
            if matching == 0 {
                s.skip(depth + 1)
            } else if leaves != 0 {
                let v = s.leaf(depth + 1)?;
                super::jsonl::store(&mut *values, leaves, v);
                Some(())
            } else if s.peek()? == b'{' {
                s.object(plan, depth + 1, matching, &mut *values)
            } else {
                // serde_json parses this value (as a non-object it is then ignored): a
                // number must be one it can hold exactly.
                s.wanted_scalar_or_skip(depth + 1)
            }
        })
    }

    /// A value serde_json would deserialize rather than ignore, when it is not an object.
    fn wanted_scalar_or_skip(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'-' | b'0'..=b'9' => self.plain_integer().map(drop),
            _ => self.skip(depth),
        }
    }

    /// A number that is an integer serde_json holds as `u64`/`i64` and prints back unchanged.
    fn plain_integer(&mut self) -> Option<&'de str> {
        let (text, integer) = self.number()?;
        let digits = text.strip_prefix('-').unwrap_or(text);
        (integer && digits.len() <= 18 && text != "-0").then_some(text)
    }

    /// A wanted value, as serde's `LeafSeed` captures it.
    fn leaf(&mut self, depth: usize) -> Option<Captured<'de>> {
        Some(match self.peek()? {
            b'"' => {
                self.i += 1;
                Captured::Str(self.string_value()?)
            }
            b'{' => {
                self.skip(depth)?;
                Captured::Other("an object")
            }
            b'[' => {
                self.skip(depth)?;
                Captured::Other("an array")
            }
            b't' | b'f' => {
                self.skip(depth)?;
                Captured::Other("a boolean")
            }
            b'n' => {
                self.skip(depth)?;
                Captured::Other("null")
            }
            _ => Captured::Number(self.plain_integer()?.to_string()),
        })
    }
}

/// Length of the escape at the start of `b` (which starts with `\`), if valid and handled:
/// `\u` surrogates only as a high-low pair.
fn escape_len(b: &[u8]) -> Option<usize> {
    match *b.get(1)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(2),
        b'u' => {
            let cp = hex4(b.get(2..6)?)?;
            match cp {
                0xD800..=0xDBFF => {
                    if b.get(6..8)? != b"\\u" {
                        return None;
                    }
                    matches!(hex4(b.get(8..12)?)?, 0xDC00..=0xDFFF).then_some(12)
                }
                0xDC00..=0xDFFF => None,
                _ => Some(6),
            }
        }
        _ => None,
    }
}

/// Four hex digits.
fn hex4(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        let d = char::from(c).to_digit(16)?;
        Some(acc << 4 | d)
    })
}

/// Decodes the escapes of a string [`Skim::string`] validated.
fn unescape(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'\\', &b[i..]) {
        out.push_str(&raw[i..i + k]);
        i += k;
        let n = escape_len(&b[i..]).expect("validated escape");
        let c = match b[i + 1] {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(&b[i + 2..i + 6]).expect("validated");
                let cp = if n == 12 {
                    let lo = hex4(&b[i + 8..i + 12]).expect("validated");
                    0x10000 + ((hi - 0xD800) << 10 | (lo - 0xDC00))
                } else {
                    hi
                };
                char::from_u32(cp).expect("surrogates were paired")
            }
            c => char::from(c),
        };
        out.push(c);
        i += n;
    }
    out.push_str(&raw[i..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::ReadOptions;

    #[test]
    fn escapes_decode_like_json() {
        assert_eq!(unescape(r#"a\nb\"c\\d\/e\tf"#), "a\nb\"c\\d/e\tf");
        assert_eq!(unescape(r"\u00e9\u2028x"), "é\u{2028}x");
        assert_eq!(unescape(r"\ud83d\ude00!"), "😀!");
        assert_eq!(unescape(r"\b\f\r"), "\u{8}\u{c}\r");
    }

    #[test]
    fn escape_lengths_and_declined_surrogates() {
        assert_eq!(escape_len(br"\n"), Some(2));
        assert_eq!(escape_len(br"\u0041"), Some(6));
        assert_eq!(escape_len(br"\ud83d\ude00"), Some(12));
        assert_eq!(escape_len(br"\ud83d"), None);
        assert_eq!(escape_len(br"\ude00"), None);
        assert_eq!(escape_len(br"\ud83d\u0041"), None);
        assert_eq!(escape_len(br"\x"), None);
        assert_eq!(escape_len(br"\u00g0"), None);
    }

    fn skimmed(line: &str) -> Option<Vec<Option<String>>> {
        let plan = JsonPlan::new(&ReadOptions::default());
        let mut values = plan.empty_values();
        skim(line, &plan, &mut values)?;
        Some(
            values
                .iter()
                .map(|v| v.as_ref().map(|c| format!("{c:?}")))
                .collect(),
        )
    }

    #[test]
    fn declines_what_it_does_not_handle() {
        for line in [
            "{\"text\":\"a\"}\t",
            "{\"text\":\"raw\ttab\"}",
            "{\"text\":\"a\",\t\"id\":\"b\"}",
            "{\"id\":\"a\u{1}\",\"text\":\"a\"}",
            r#"{"te\u0078t":"a"}"#,
            r#"{"id":1.5,"text":"a"}"#,
            r#"{"id":-0,"text":"a"}"#,
            r#"{"id":1234567890123456789,"text":"a"}"#,
            r#"{"text":"\ud800"}"#,
            r#"{"text":"a",}"#,
            r#"{"text":"a"} x"#,
            r#"{"n":01,"text":"a"}"#,
            r#"{"n":[1,],"text":"a"}"#,
            r#"{"n":tru,"text":"a"}"#,
            r#"["text"]"#,
            r#"{"text":"a""#,
        ] {
            assert_eq!(skimmed(line), None, "{line}");
        }
    }

    #[test]
    fn takes_the_fields_serde_takes() {
        let v =
            skimmed(r#" {"id":-42,"metadata":{"url":"u"},"n":[1e5,{"a":null}],"text":"x\ny"} "#)
                .expect("handled");
        assert!(v.iter().flatten().any(|s| s.contains("-42")), "{v:?}");
        assert!(v.iter().flatten().any(|s| s.contains("\"u\"")), "{v:?}");
        assert!(v.iter().flatten().any(|s| s.contains(r#""x\ny""#)), "{v:?}");
    }
}
