//! The matching pass: literal patterns to word-bounded hits.
//!
//! Three automata, chosen so the hot path never lowercases an ASCII document:
//! - `ascii_ci`: all ASCII patterns, `ascii_case_insensitive(true)`, leftmost-longest, DFA.
//!   It runs on the original bytes of every text, ASCII or not (ASCII case folding is exact
//!   for ASCII patterns even inside UTF-8 text).
//! - `exact`: `=`-prefixed patterns, matched with exact case. Bare 2-3 letter acronyms live
//!   here (`AI`, `AGI`, `HAL`): case-insensitive "ai" matched inside "said"/"again" made up
//!   95% of raw matches in an earlier measurement and halved throughput, while uppercase
//!   `AI` is the form English text actually uses. Few patterns, so aho-corasick's prefilter
//!   (memchr/Teddy) skips most of the text.
//! - `unicode_ci`: patterns with non-ASCII letters; runs only when the text is not ASCII,
//!   over a lowercased copy with a byte-offset map back to the original. Only such patterns
//!   can match only in such texts, so ASCII documents never pay for it.
//!
//! Hits from the three are merged leftmost-longest, and a hit counts only if it sits on word
//! boundaries (Unicode alphanumerics and `_` are word characters).

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::lexicon::{Pattern, PatternTable};

/// One word-bounded match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawHit {
    /// Byte offset of the start in the original text.
    pub start: usize,
    /// Byte offset one past the end in the original text.
    pub end: usize,
    /// Category index.
    pub category: u16,
    /// Term index in the pattern table.
    pub term: u32,
    /// Term weight.
    pub weight: f64,
}

/// The compiled automata.
#[derive(Debug, Clone)]
pub struct Matcher {
    ascii_ci: Option<Group>,
    exact: Option<Group>,
    unicode_ci: Option<Group>,
}

#[derive(Debug, Clone)]
struct Group {
    ac: AhoCorasick,
    pats: Vec<(u16, u32, f64)>,
}

/// Automaton construction failed (pattern set too large for any automaton kind).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the matching automaton: {0}")]
pub struct BuildError(String);

fn build_group(pats: &[Pattern], ascii_ci: bool) -> Result<Option<Group>, BuildError> {
    if pats.is_empty() {
        return Ok(None);
    }
    let texts: Vec<&str> = pats.iter().map(|p| p.text.as_str()).collect();
    let mut b = AhoCorasick::builder();
    b.match_kind(MatchKind::LeftmostLongest)
        .ascii_case_insensitive(ascii_ci);
    // A DFA is the fastest search; fall back to automatic choice if the set is too large.
    let ac = match b.kind(Some(AhoCorasickKind::DFA)).build(&texts) {
        Ok(ac) => ac,
        Err(_) => b
            .kind(None)
            .build(&texts)
            .map_err(|e| BuildError(e.to_string()))?,
    };
    Ok(Some(Group {
        ac,
        pats: pats
            .iter()
            .map(|p| (p.category, p.term, p.weight))
            .collect(),
    }))
}

impl Matcher {
    /// Builds the automata from a pattern table.
    pub fn new(table: &PatternTable) -> Result<Matcher, BuildError> {
        Ok(Matcher {
            ascii_ci: build_group(&table.ascii_ci, true)?,
            exact: build_group(&table.exact, false)?,
            unicode_ci: build_group(&table.unicode_ci, false)?,
        })
    }

    /// Only the automaton pass of the ASCII group (no boundary checks); for benchmarks.
    pub fn count_raw_ascii(&self, text: &str) -> usize {
        self.ascii_ci
            .as_ref()
            .map(|g| g.ac.find_iter(text).count())
            .unwrap_or(0)
    }

    /// Finds word-bounded hits, sorted by start, non-overlapping; appends to `out` (cleared).
    pub fn find(&self, text: &str, out: &mut Vec<RawHit>) {
        out.clear();
        if let Some(g) = &self.ascii_ci {
            push_bounded(g, text, text, None, out);
        }
        let before = out.len();
        if let Some(g) = &self.exact {
            push_bounded(g, text, text, None, out);
        }
        if let Some(g) = &self.unicode_ci {
            if !text.is_ascii() {
                let (lower, map) = lowercase_with_map(text);
                push_bounded(g, &lower, text, Some(&map), out);
            }
        }
        if out.len() > before {
            resolve_overlaps(out);
        }
    }
}

fn push_bounded(g: &Group, hay: &str, orig: &str, map: Option<&[usize]>, out: &mut Vec<RawHit>) {
    for m in g.ac.find_iter(hay) {
        if !on_word_boundaries(hay, m.start(), m.end()) {
            continue;
        }
        let Some(&(category, term, weight)) = g.pats.get(m.pattern().as_usize()) else {
            continue;
        };
        let (start, end) = match map {
            None => (m.start(), m.end()),
            Some(map) => (
                map.get(m.start()).copied().unwrap_or(orig.len()),
                map.get(m.end()).copied().unwrap_or(orig.len()),
            ),
        };
        out.push(RawHit {
            start,
            end,
            category,
            term,
            weight,
        });
    }
}

/// Leftmost-longest across groups: sort by (start, longest first), drop overlapped hits.
fn resolve_overlaps(out: &mut Vec<RawHit>) {
    out.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut last_end = 0usize;
    out.retain(|h| {
        if h.start < last_end {
            false
        } else {
            last_end = h.end;
            true
        }
    });
}

#[inline]
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// True when the match does not continue a word on either side. An edge of the pattern that
/// is itself not a word character (e.g. the final `.` of `A.I.`) needs no check.
#[inline]
pub fn on_word_boundaries(hay: &str, start: usize, end: usize) -> bool {
    let bytes = hay.as_bytes();
    let first_word = hay[start..].chars().next().is_some_and(is_word_char);
    if first_word && start > 0 {
        let prev = bytes[start - 1];
        let blocked = if prev.is_ascii() {
            prev.is_ascii_alphanumeric() || prev == b'_'
        } else {
            hay[..start].chars().next_back().is_some_and(is_word_char)
        };
        if blocked {
            return false;
        }
    }
    let last_word = hay[..end].chars().next_back().is_some_and(is_word_char);
    if last_word && end < bytes.len() {
        let next = bytes[end];
        let blocked = if next.is_ascii() {
            next.is_ascii_alphanumeric() || next == b'_'
        } else {
            hay[end..].chars().next().is_some_and(is_word_char)
        };
        if blocked {
            return false;
        }
    }
    true
}

/// Lowercases `text`; `map[i]` is the original byte offset of the char that produced lower
/// byte `i` (plus one trailing entry for the end).
fn lowercase_with_map(text: &str) -> (String, Vec<usize>) {
    let mut lower = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    for (i, c) in text.char_indices() {
        let before = lower.len();
        for l in c.to_lowercase() {
            lower.push(l);
        }
        map.extend(std::iter::repeat(i).take(lower.len() - before));
    }
    map.push(text.len());
    (lower, map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert!(on_word_boundaries("the AI said", 4, 6));
        assert!(!on_word_boundaries("said", 1, 3));
        assert!(!on_word_boundaries("Skynetwork", 0, 6));
        assert!(on_word_boundaries("(Skynet)", 1, 7));
        assert!(!on_word_boundaries("éAI", 2, 4));
        assert!(on_word_boundaries("A.I.s", 0, 4));
    }

    #[test]
    fn lower_map() {
        let (l, m) = lowercase_with_map("ÀB");
        assert_eq!(l, "àb");
        assert_eq!(m, vec![0, 0, 2, 3]);
    }
}
