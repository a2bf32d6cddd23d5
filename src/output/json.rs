//! JSON written by hand into a byte buffer, for the lines written once per document (stdout
//! lines, attribute lines, document records): the exact bytes serde_json's compact writer
//! gives, without a serializer call per field and the escaping of constant keys.
//!
//! Why: serde_json serialisation of those lines (struct fields, map entries, its escape loop
//! run on every key) was ~4,000 instructions per document of a `scan -o` run (callgrind,
//! docs/PERFORMANCE.md "Session 4"). Strings are escaped as serde_json escapes them, numbers go
//! through serde_json's own formatter, so the output does not change; tests compare against
//! serde_json.

use serde_json::ser::{CompactFormatter, Formatter};

use crate::scan::bytemask::find_string_stop;

/// serde_json's escape of each byte: 0 for none, `u` for `\u00XX`, else the escape letter.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b'u';
        b += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Appends `s` as a JSON string (quoted and escaped).
pub(crate) fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    push_escaped(out, s);
    out.push(b'"');
}

/// Appends the escaped contents of `s`, without quotes (to write a string in pieces).
///
/// Strings that need no escaping (ids, URLs and names rarely do) are found with the byte
/// masks the JSONL reader uses for the same byte set (`"`, `\\`, below 0x20) and copied
/// whole: a byte loop over the escape table was 62 M instructions of a `scan -o` run over
/// 40 MB.
pub(crate) fn push_escaped(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    let Some(first) = find_string_stop(bytes, 0) else {
        out.extend_from_slice(bytes);
        return;
    };
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        let esc = ESCAPE[usize::from(b)];
        if esc == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if esc == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', esc]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends an unsigned integer.
pub(crate) fn push_u64(out: &mut Vec<u8>, n: u64) {
    // Writing into a Vec cannot fail.
    let _ = CompactFormatter.write_u64(out, n);
}

/// Appends a float as serde_json does: its shortest round-trip form, `null` when not finite.
pub(crate) fn push_f64(out: &mut Vec<u8>, x: f64) {
    if x.is_finite() {
        let _ = CompactFormatter.write_f64(out, x);
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Appends `true` or `false`.
pub(crate) fn push_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

/// Appends `{"k":n,...}` for a map of counts (its keys escaped, in the map's order).
pub(crate) fn push_counts<'a>(
    out: &mut Vec<u8>,
    map: impl IntoIterator<Item = (&'a String, &'a u32)>,
) {
    out.push(b'{');
    for (i, (k, &n)) in map.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, k);
        out.push(b':');
        push_u64(out, u64::from(n));
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_str(s: &str) -> Vec<u8> {
        serde_json::to_vec(s).unwrap()
    }

    #[test]
    fn strings_escape_like_serde_json() {
        let every_byte: String = (0u8..128).map(char::from).collect();
        for s in [
            "",
            "plain",
            "quote \" and backslash \\ and slash /",
            "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f} \u{7f}",
            "héllo 日本 🤖",
            every_byte.as_str(),
        ] {
            let mut out = Vec::new();
            push_str(&mut out, s);
            assert_eq!(out, serde_str(s), "{s:?}");
        }
    }

    #[test]
    fn numbers_like_serde_json() {
        for x in [
            0.0,
            -0.0,
            1.0,
            0.5,
            0.12346,
            1e-7,
            123456789.0,
            1e300,
            f64::NAN,
            f64::INFINITY,
        ] {
            let mut out = Vec::new();
            push_f64(&mut out, x);
            assert_eq!(out, serde_json::to_vec(&x).unwrap(), "{x}");
        }
        for n in [0u64, 7, 1234567890123, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(out, serde_json::to_vec(&n).unwrap());
        }
        let mut out = Vec::new();
        push_bool(&mut out, true);
        push_bool(&mut out, false);
        assert_eq!(out, b"truefalse");
    }

    #[test]
    fn count_maps_like_serde_json() {
        let map: std::collections::BTreeMap<String, u32> =
            [("a\"b".to_string(), 3), ("entity".to_string(), 12)].into();
        let mut out = Vec::new();
        push_counts(&mut out, &map);
        assert_eq!(out, serde_json::to_vec(&map).unwrap());
        let mut out = Vec::new();
        push_counts(&mut out, &std::collections::BTreeMap::new());
        assert_eq!(out, b"{}");
    }

    #[test]
    fn escapes_found_in_every_position_of_a_word() {
        for special in ['"', '\\', '\u{0}', '\u{1f}', '\n'] {
            for at in 0..20 {
                let mut s: String = "abcdefghijklmnopqrs".into();
                s.insert(at, special);
                let mut out = Vec::new();
                push_str(&mut out, &s);
                assert_eq!(out, serde_str(&s), "{s:?}");
            }
        }
        // Bytes next to the special ones, which need no escaping.
        for b in [0x20u8, 0x21, 0x23, 0x5b, 0x5d, 0x7f] {
            assert_eq!(find_string_stop(&[b; 8], 0), None, "{b:#x}");
        }
        assert_eq!(find_string_stop(b"abcdefg\x1f", 0), Some(7));
    }

    proptest::proptest! {
        #[test]
        fn any_string_escapes_like_serde_json(s in "\\PC*|[\\x00-\\x7f]{0,40}") {
            let mut out = Vec::new();
            push_str(&mut out, &s);
            proptest::prop_assert_eq!(out, serde_str(&s));
        }
    }
}
