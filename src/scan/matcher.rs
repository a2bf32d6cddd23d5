//! The matching pass: literal patterns to word-bounded hits.
//!
//! Case-insensitive patterns (all but `=`-prefixed ones) are matched in two steps. One
//! aho-corasick DFA (leftmost-longest, `ascii_case_insensitive`) runs over *anchor words*:
//! the longest word of each pattern. Each anchor occurrence on word boundaries is then
//! verified against the few patterns sharing that anchor, backwards and forwards, with any
//! run of whitespace matching a space (book text hard-wraps lines inside phrases); a pattern
//! is tried only if the first byte of its word before and after the anchor fits the text.
//! Why: the full expanded set (~3,000 patterns) compiled to a 13 MB DFA that missed the CPU
//! caches and ran at 222 MiB/s on the corpus; ~700 anchor words make a DFA that fits in L2.
//! Short or common first words ("a", "the", "not") never become anchors unless a pattern
//! has nothing longer, which keeps candidate counts low.
//!
//! Neither the anchor automaton nor the exact-case one reads the whole text: one pass over
//! the text's tokens (`scan/anchor_tokens.rs`) finds the few short chunks that can hold a
//! match of either, and answers directly where a chunk is a single one-token pattern.
//!
//! - The ASCII-case-insensitive step runs on the original bytes of every text, ASCII or not;
//!   patterns whose non-ASCII characters have no case (`’`, `·`) belong here too.
//! - `exact`: `=`-prefixed patterns, matched with exact case. Bare 2-3 letter acronyms live
//!   here (`AI`, `AGI`, `HAL`): case-insensitive "ai" matched inside "said"/"again" made up
//!   95% of raw matches in an earlier measurement, while uppercase `AI` is the form English
//!   text actually uses. Matched as written (a space matches one space), so `AI will` does
//!   not span a line break.
//! - `unicode_ci`: patterns with non-ASCII *cased* letters; runs only when the text is not
//!   ASCII, over a lowercased copy with a byte-offset map back to the original. The default
//!   lexicon has none, so it never runs.
//!
//! Hits from all of them are merged leftmost-longest, and a hit counts only if it sits on
//! word boundaries (Unicode alphanumerics and `_` are word characters).

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};

use super::anchor_tokens::{AnchorTokens, Found};
use super::bytemask::WORD;
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
    /// Negation cues (lowercased patterns with category, term, weight). Not in any automaton:
    /// "no", "not", "nor", "never" were the most frequent anchors by far (12,600 of 57,300
    /// candidates in Frankenstein), yet they only matter just before a hostile act, so
    /// [`Matcher::negation_before`] looks for them there.
    negations: Vec<(String, u16, u32, f64)>,
    /// Bytes a negation cue can start with (both ASCII cases).
    negation_first: Box<[bool; 256]>,
    /// Every negation cue starts with an ASCII word byte.
    negations_word_led: bool,
    anchored: Option<AnchorGroup>,
    exact: Option<Group>,
    unicode_ci: Option<Group>,
    /// Which parts of a text the anchor and exact-case automata need to see; a group the
    /// index does not cover (or `None`) is searched over the whole text.
    tokens: Option<AnchorTokens>,
}

#[derive(Debug, Clone)]
struct Group {
    ac: AhoCorasick,
    pats: Vec<(u16, u32, f64)>,
}

#[derive(Debug, Clone)]
struct Anchored {
    /// Lowercased pattern bytes before the anchor (ends with a space) and after it.
    prefix: Box<[u8]>,
    suffix: Box<[u8]>,
    /// [`word_key`] of the prefix and of the suffix: checked before verifying.
    prefix_key: u16,
    suffix_key: u16,
    len: usize,
    category: u16,
    term: u32,
    weight: f64,
}

#[derive(Debug, Clone)]
struct AnchorGroup {
    ac: AhoCorasick,
    /// Per anchor: its patterns, longest first.
    buckets: Vec<Vec<Anchored>>,
}

/// A raw match of the anchor or the exact-case automaton: start, end, pattern number.
enum Raw {
    Anchor(usize, usize, usize),
    Exact(usize, usize, usize),
}

/// Automaton construction failed (pattern set too large for any automaton kind).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the matching automaton: {0}")]
pub struct BuildError(String);

fn build_ac(texts: &[&str], ascii_ci: bool) -> Result<AhoCorasick, BuildError> {
    let mut b = AhoCorasick::builder();
    b.match_kind(MatchKind::LeftmostLongest)
        .ascii_case_insensitive(ascii_ci);
    // A DFA is the fastest search; fall back to automatic choice if the set is too large.
    match b.kind(Some(AhoCorasickKind::DFA)).build(texts) {
        Ok(ac) => Ok(ac),
        Err(_) => b
            .kind(None)
            .build(texts)
            .map_err(|e| BuildError(e.to_string())),
    }
}

/// Very common English words: never anchors while a pattern has another word, because every
/// anchor occurrence costs a verification (with "with", "not", "from", "could" as anchors,
/// Frankenstein produced one candidate per 62 bytes).
const COMMON: &[&str] = &[
    "a",
    "about",
    "after",
    "against",
    "all",
    "also",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "back",
    "be",
    "been",
    "before",
    "being",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "down",
    "each",
    "even",
    "every",
    "for",
    "from",
    "had",
    "has",
    "have",
    "he",
    "her",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "like",
    "made",
    "make",
    "many",
    "may",
    "me",
    "might",
    "more",
    "most",
    "must",
    "my",
    "new",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "one",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "own",
    "people",
    "said",
    "same",
    "see",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "time",
    "to",
    "too",
    "two",
    "under",
    "up",
    "upon",
    "us",
    "very",
    "was",
    "way",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "will",
    "with",
    "would",
    "you",
    "your",
    "life",
    "world",
    "human",
    "humans",
    "itself",
    "himself",
    "herself",
    "themselves",
];

/// Byte range of the anchor word: the longest word that is not a very common word (the
/// longest word overall when all are common); first on ties.
fn anchor_of(p: &str) -> (usize, usize) {
    let mut best = (0, 0);
    let mut best_common = true;
    let mut at = 0;
    for w in p.split(' ') {
        let common = COMMON.contains(&w);
        let better = match (best_common, common) {
            (true, false) => true,
            (false, true) => false,
            _ => w.len() > best.1 - best.0,
        };
        if better {
            best = (at, at + w.len());
            best_common = common;
        }
        at += w.len() + 1;
    }
    best
}

/// The anchor group and its anchors (numbered as in the automaton).
fn build_anchored(pats: &[&Pattern]) -> Result<(Option<AnchorGroup>, Vec<String>), BuildError> {
    if pats.is_empty() {
        return Ok((None, Vec::new()));
    }
    let mut anchors: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut buckets: Vec<Vec<Anchored>> = Vec::new();
    for p in pats {
        let text = p.text.to_ascii_lowercase();
        let (a, b) = anchor_of(&text);
        let anchor = text[a..b].to_string();
        let slot = *index.entry(anchor.clone()).or_insert_with(|| {
            anchors.push(anchor);
            buckets.push(Vec::new());
            buckets.len() - 1
        });
        let (prefix, suffix) = (&text.as_bytes()[..a], &text.as_bytes()[b..]);
        buckets[slot].push(Anchored {
            prefix: prefix.into(),
            suffix: suffix.into(),
            prefix_key: word_key(prefix.iter().rev()),
            suffix_key: word_key(suffix.iter()),
            len: text.len(),
            category: p.category,
            term: p.term,
            weight: p.weight,
        });
    }
    for b in &mut buckets {
        b.sort_by_key(|x| std::cmp::Reverse(x.len));
    }
    let texts: Vec<&str> = anchors.iter().map(String::as_str).collect();
    let group = AnchorGroup {
        ac: build_ac(&texts, true)?,
        buckets,
    };
    Ok((Some(group), anchors))
}

/// The anchor words of the case-insensitive patterns (sorted, distinct); for diagnostics.
pub fn anchors_for_debug(table: &PatternTable) -> Vec<String> {
    let mut v: Vec<String> = table
        .ascii_ci
        .iter()
        .map(|p| {
            let (a, b) = anchor_of(&p.text);
            p.text[a..b].to_string()
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// True for a non-ASCII character that has case (so ASCII case folding cannot match it).
fn has_non_ascii_case(p: &str) -> bool {
    p.chars()
        .any(|c| !c.is_ascii() && (c.is_lowercase() || c.is_uppercase()))
}

fn build_group(pats: &[&Pattern], ascii_ci: bool) -> Result<Option<Group>, BuildError> {
    if pats.is_empty() {
        return Ok(None);
    }
    let texts: Vec<&str> = pats.iter().map(|p| p.text.as_str()).collect();
    Ok(Some(Group {
        ac: build_ac(&texts, ascii_ci)?,
        pats: pats
            .iter()
            .map(|p| (p.category, p.term, p.weight))
            .collect(),
    }))
}

impl Matcher {
    /// Builds the automata from a pattern table.
    pub fn new(table: &PatternTable) -> Result<Matcher, BuildError> {
        let (cased, caseless): (Vec<&Pattern>, Vec<&Pattern>) = table
            .unicode_ci
            .iter()
            .partition(|p| has_non_ascii_case(&p.text));
        let is_neg = |p: &&Pattern| {
            table.category_roles.get(p.category as usize) == Some(&crate::lexicon::Role::Negation)
        };
        let negations: Vec<(String, u16, u32, f64)> = table
            .ascii_ci
            .iter()
            .chain(&table.unicode_ci)
            .filter(is_neg)
            .map(|p| (p.text.to_lowercase(), p.category, p.term, p.weight))
            .collect();
        let mut negation_first = Box::new([false; 256]);
        for (pat, ..) in &negations {
            if let Some(&b) = pat.as_bytes().first() {
                negation_first[usize::from(b.to_ascii_lowercase())] = true;
                negation_first[usize::from(b.to_ascii_uppercase())] = true;
            }
        }
        let negations_word_led = negations.iter().all(|(pat, ..)| {
            pat.as_bytes()
                .first()
                .is_some_and(|&b| WORD[usize::from(b)])
        });
        let mut ci: Vec<&Pattern> = table.ascii_ci.iter().filter(|p| !is_neg(p)).collect();
        ci.extend(caseless.into_iter().filter(|p| !is_neg(p)));
        let exact: Vec<&Pattern> = table.exact.iter().collect();
        let exact_texts: Vec<String> = exact.iter().map(|p| p.text.clone()).collect();
        let (anchored, anchors) = build_anchored(&ci)?;
        let tokens = AnchorTokens::new(&anchors, &exact_texts);
        Ok(Matcher {
            negations,
            negation_first,
            negations_word_led,
            anchored,
            exact: build_group(&exact, false)?,
            unicode_ci: build_group(&cased, false)?,
            tokens: (tokens.anchored || tokens.exact).then_some(tokens),
        })
    }

    /// The last negation cue on word boundaries inside `text[from..to]`, as a hit: the one
    /// starting last; of cues starting there, the first in lexicon order.
    ///
    /// One backward pass over the window, trying the cues only where one can start: trying
    /// every cue at every offset cost ~14,600 instructions per call (6% of `Scanner::score`).
    pub fn negation_before(&self, text: &str, from: usize, to: usize) -> Option<RawHit> {
        let bytes = text.get(from..to)?.as_bytes();
        for i in (0..bytes.len()).rev() {
            if !self.negation_first[usize::from(bytes[i])] {
                continue;
            }
            let s = from + i;
            // Inside a word (an ASCII word byte before), no cue that starts with a word
            // byte can pass the boundary check: most candidate bytes are such letters, and
            // trying every cue there was most of this function's cost.
            if self.negations_word_led && s > 0 && WORD[usize::from(text.as_bytes()[s - 1])] {
                continue;
            }
            for (pat, category, term, weight) in &self.negations {
                let n = pat.len();
                if bytes
                    .get(i..i + n)
                    .is_some_and(|b| b.eq_ignore_ascii_case(pat.as_bytes()))
                    && text.is_char_boundary(s)
                    && text.is_char_boundary(s + n)
                    && on_word_boundaries(text, s, s + n)
                {
                    return Some(RawHit {
                        start: s,
                        end: s + n,
                        category: *category,
                        term: *term,
                        weight: *weight,
                    });
                }
            }
        }
        None
    }

    /// The token index, for its tests.
    #[cfg(test)]
    pub(super) fn token_index(&self) -> Option<&AnchorTokens> {
        self.tokens.as_ref()
    }

    /// Only the pass of the anchor and exact-case automata (no verification, no boundary
    /// checks); for benchmarks. Counts the raw matches in the chunks the token index lets
    /// through, plus its direct answers.
    pub fn count_raw_ascii(&self, text: &str) -> usize {
        let mut n = 0;
        self.raw_matches(text, |_| n += 1);
        n
    }

    /// Calls `f` for every raw match of the anchor and exact-case automata that a search
    /// over the whole text would report and that can lie on word boundaries (plus some that
    /// do not), in text order within each group.
    #[inline]
    fn raw_matches(&self, text: &str, mut f: impl FnMut(Raw)) {
        let (anchored, exact) = (self.anchored.as_ref(), self.exact.as_ref());
        if let Some(tokens) = &self.tokens {
            tokens.scan(text.as_bytes(), |found| match found {
                Found::Token { start, end, anchor } => f(Raw::Anchor(start, end, anchor as usize)),
                Found::Chunk { start, end } => {
                    for m in anchored
                        .into_iter()
                        .flat_map(|g| in_span(&g.ac, text, start, end))
                    {
                        f(Raw::Anchor(m.start(), m.end(), m.pattern().as_usize()));
                    }
                }
                Found::ExactToken {
                    start,
                    end,
                    pattern,
                } => f(Raw::Exact(start, end, pattern as usize)),
                Found::ExactChunk { start, end } => {
                    for m in exact
                        .into_iter()
                        .flat_map(|g| in_span(&g.ac, text, start, end))
                    {
                        f(Raw::Exact(m.start(), m.end(), m.pattern().as_usize()));
                    }
                }
            });
        }
        let covered = self
            .tokens
            .as_ref()
            .map_or((false, false), |t| (t.anchored, t.exact));
        if let Some(g) = anchored.filter(|_| !covered.0) {
            for m in g.ac.find_iter(text) {
                f(Raw::Anchor(m.start(), m.end(), m.pattern().as_usize()));
            }
        }
        if let Some(g) = exact.filter(|_| !covered.1) {
            for m in g.ac.find_iter(text) {
                f(Raw::Exact(m.start(), m.end(), m.pattern().as_usize()));
            }
        }
    }

    /// Finds word-bounded hits, sorted by start, non-overlapping; appends to `out` (cleared).
    pub fn find(&self, text: &str, out: &mut Vec<RawHit>) {
        out.clear();
        let hay = text.as_bytes();
        // Exact-case hits go after the anchored ones, as when each group searched the whole
        // text in turn: `resolve_overlaps` keeps the first of two hits with the same span.
        let mut exact_hits = Vec::new();
        self.raw_matches(text, |raw| match raw {
            Raw::Anchor(start, end, anchor) => {
                if let Some(g) = &self.anchored {
                    push_anchor_match(g, text, hay, (start, end, anchor), out);
                }
            }
            Raw::Exact(start, end, pattern) => {
                if let Some(g) = &self.exact {
                    push_bounded_hit(g, text, text, None, (start, end, pattern), &mut exact_hits);
                }
            }
        });
        out.append(&mut exact_hits);
        if let Some(g) = &self.unicode_ci {
            if !text.is_ascii() {
                let (lower, map) = lowercase_with_map(text);
                push_bounded(g, &lower, text, Some(&map), out);
            }
        }
        resolve_overlaps(out);
    }
}

/// No neighbouring word to check (e.g. a pattern starting or ending with its anchor).
const ANY_WORD: u16 = 0;
/// Marks a [`word_key`] that holds a byte.
const SPACED: u16 = 0x100;
/// The text's key when no whitespace separates the anchor from the next byte, or no byte
/// follows the whitespace; equal to no pattern's key.
const NO_WORD: u16 = 0x200;

/// Key of the bytes next to an anchor, read away from it (`bytes`: a pattern's prefix
/// reversed or its suffix, lowercased): `SPACED` with the byte after the separating space
/// (pattern words are split on single spaces, so a non-empty prefix ends and a non-empty
/// suffix starts with one), else [`ANY_WORD`]: no check, for no neighbouring word or any
/// other shape.
fn word_key<'a>(mut bytes: impl Iterator<Item = &'a u8>) -> u16 {
    match (bytes.next(), bytes.next()) {
        (Some(b' '), Some(&c)) if !c.is_ascii_whitespace() => SPACED | u16::from(c),
        _ => ANY_WORD,
    }
}

/// The text's key for the bytes read from `next` on: `SPACED` with the ASCII-lowercased
/// byte after a run of whitespace, or [`NO_WORD`]. A pattern whose key is neither
/// [`ANY_WORD`] nor this cannot verify: `verify_forward`/`verify_backward` match the space
/// against that whole run and then need the byte after it to equal the pattern's, ignoring
/// ASCII case.
#[inline]
fn text_word_key(mut next: impl Iterator<Item = u8>) -> u16 {
    match next.next() {
        Some(c) if c.is_ascii_whitespace() => next
            .find(|c| !c.is_ascii_whitespace())
            .map_or(NO_WORD, |c| SPACED | u16::from(c.to_ascii_lowercase())),
        _ => NO_WORD,
    }
}

/// True when a pattern key admits the text key (see [`text_word_key`]).
#[inline(always)]
fn key_admits(pattern: u16, text: u16) -> bool {
    pattern == ANY_WORD || pattern == text
}

/// Matches `pat` forwards from `i`; a space in `pat` matches a run of ASCII whitespace.
fn verify_forward(hay: &[u8], mut i: usize, pat: &[u8]) -> Option<usize> {
    for &pc in pat {
        if pc == b' ' {
            if !hay.get(i)?.is_ascii_whitespace() {
                return None;
            }
            while hay.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
        } else {
            if !hay.get(i)?.eq_ignore_ascii_case(&pc) {
                return None;
            }
            i += 1;
        }
    }
    Some(i)
}

/// Matches `pat` backwards, ending just before `i`; returns the start.
fn verify_backward(hay: &[u8], mut i: usize, pat: &[u8]) -> Option<usize> {
    for &pc in pat.iter().rev() {
        if pc == b' ' {
            if i == 0 || !hay[i - 1].is_ascii_whitespace() {
                return None;
            }
            while i > 0 && hay[i - 1].is_ascii_whitespace() {
                i -= 1;
            }
        } else {
            if i == 0 || !hay[i - 1].eq_ignore_ascii_case(&pc) {
                return None;
            }
            i -= 1;
        }
    }
    Some(i)
}

/// Verifies the patterns of `anchor` around its occurrence at `start..end`.
#[inline]
fn push_anchor_match(
    g: &AnchorGroup,
    text: &str,
    hay: &[u8],
    (m_start, m_end, anchor): (usize, usize, usize),
    out: &mut Vec<RawHit>,
) {
    if !on_word_boundaries(text, m_start, m_end) {
        return;
    }
    let Some(bucket) = g.buckets.get(anchor) else {
        return;
    };
    // The words just before and after the anchor, once: most patterns of a large bucket
    // (`machine`, `system`, `control` have dozens) fail on them.
    let before = text_word_key(hay[..m_start].iter().rev().copied());
    let after = text_word_key(hay[m_end..].iter().copied());
    for p in bucket {
        if !key_admits(p.prefix_key, before) || !key_admits(p.suffix_key, after) {
            continue;
        }
        let Some(start) = verify_backward(hay, m_start, &p.prefix) else {
            continue;
        };
        let Some(end) = verify_forward(hay, m_end, &p.suffix) else {
            continue;
        };
        if text.is_char_boundary(start)
            && text.is_char_boundary(end)
            && on_word_boundaries(text, start, end)
        {
            out.push(RawHit {
                start,
                end,
                category: p.category,
                term: p.term,
                weight: p.weight,
            });
            return;
        }
    }
}

fn push_bounded(g: &Group, hay: &str, orig: &str, map: Option<&[usize]>, out: &mut Vec<RawHit>) {
    for m in g.ac.find_iter(hay) {
        let raw = (m.start(), m.end(), m.pattern().as_usize());
        push_bounded_hit(g, hay, orig, map, raw, out);
    }
}

/// Keeps the match `start..end` of pattern `pattern` of `g` in `hay` if it lies on word
/// boundaries, at its offsets in `orig` (`map`: from `hay` offsets to `orig` ones).
#[inline]
fn push_bounded_hit(
    g: &Group,
    hay: &str,
    orig: &str,
    map: Option<&[usize]>,
    (m_start, m_end, pattern): (usize, usize, usize),
    out: &mut Vec<RawHit>,
) {
    if !on_word_boundaries(hay, m_start, m_end) {
        return;
    }
    let Some(&(category, term, weight)) = g.pats.get(pattern) else {
        return;
    };
    let (start, end) = match map {
        None => (m_start, m_end),
        Some(map) => (
            map.get(m_start).copied().unwrap_or(orig.len()),
            map.get(m_end).copied().unwrap_or(orig.len()),
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

/// The matches of `ac` in `text[start..end]`, as a whole-text search would report them when no
/// match can cross the ends of the span.
fn in_span<'a>(
    ac: &'a AhoCorasick,
    text: &'a str,
    start: usize,
    end: usize,
) -> aho_corasick::FindIter<'a, 'a> {
    ac.find_iter(Input::new(text).span(start..end))
}

/// Leftmost-longest across groups: sort by (start, longest first), drop overlapped hits.
fn resolve_overlaps(out: &mut Vec<RawHit>) {
    if out.len() < 2 {
        return;
    }
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
    !(start > 0 && word_at(hay, start) && word_before(hay, start)
        || end < hay.len() && word_before(hay, end) && word_at(hay, end))
}

/// True when the char starting at byte `at` of `hay` is a word char. Nearly every byte
/// looked at is ASCII, where the byte table answers without decoding a char (decoding was
/// most of [`on_word_boundaries`]' cost).
#[inline(always)]
fn word_at(hay: &str, at: usize) -> bool {
    match hay.as_bytes().get(at) {
        Some(&b) if b.is_ascii() => WORD[usize::from(b)],
        _ => decoded_word_char(hay[at..].chars().next()),
    }
}

/// True when the char ending at byte `at` of `hay` is a word char.
#[inline(always)]
fn word_before(hay: &str, at: usize) -> bool {
    match at.checked_sub(1).map(|i| hay.as_bytes()[i]) {
        Some(b) if b.is_ascii() => WORD[usize::from(b)],
        _ => decoded_word_char(hay[..at].chars().next_back()),
    }
}

#[cold]
fn decoded_word_char(c: Option<char>) -> bool {
    c.is_some_and(is_word_char)
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
        // Non-ASCII neighbours and edges are decoded: letters are word chars, `—` is not.
        assert!(!on_word_boundaries("AIé", 0, 2));
        assert!(on_word_boundaries("—AI—", 3, 5));
        assert!(!on_word_boundaries("robotério", 0, 5));
        assert!(!on_word_boundaries("xé", 1, 3));
        assert!(on_word_boundaries("x é", 2, 4));
        assert!(!on_word_boundaries("ébot", 0, 2));
    }

    #[test]
    fn word_keys() {
        let key = |s: &str| word_key(s.as_bytes().iter());
        assert_eq!(key(""), ANY_WORD);
        assert_eq!(key(" over"), SPACED | u16::from(b'o'));
        // Shapes the lexicon does not produce are never filtered.
        assert_eq!(key(" "), ANY_WORD);
        assert_eq!(key("  x"), ANY_WORD);
        assert_eq!(key("s will"), ANY_WORD);
        let text = |s: &str| text_word_key(s.bytes());
        assert_eq!(text(" \n\t Over it"), SPACED | u16::from(b'o'));
        assert_eq!(text("s over"), NO_WORD);
        assert_eq!(text(" \n "), NO_WORD);
        assert_eq!(text(""), NO_WORD);
        assert!(key_admits(ANY_WORD, NO_WORD));
        assert!(key_admits(key(" over"), text(" OVER")));
        assert!(!key_admits(key(" over"), text(" under")));
    }

    /// The key check only skips patterns that would fail verification: every pattern side
    /// below that verifies against a text, forwards or backwards, is admitted by its key.
    #[test]
    fn word_keys_agree_with_verification() {
        let pats = ["", " over", " the world", " x", " ", "  x", " é"];
        let texts = [
            "",
            " over",
            "  \n Over the",
            "over",
            " the\tworld",
            " x",
            "\t",
            " é",
            " É",
        ];
        let mut verified = 0;
        for p in pats {
            let fwd = word_key(p.as_bytes().iter());
            // As a prefix: the pattern bytes before the anchor, keyed as `build_anchored` does.
            let prefix: Vec<u8> = p.bytes().rev().collect();
            let bwd = word_key(prefix.iter().rev());
            for t in texts {
                let ok = verify_forward(t.as_bytes(), 0, p.as_bytes()).is_some();
                verified += usize::from(ok);
                assert!(
                    !ok || key_admits(fwd, text_word_key(t.bytes())),
                    "{p:?} {t:?}"
                );
                let rt: Vec<u8> = t.bytes().rev().collect();
                assert_eq!(
                    text_word_key(rt.iter().rev().copied()),
                    text_word_key(t.bytes())
                );
                let ok = verify_backward(&rt, rt.len(), &prefix).is_some();
                verified += usize::from(ok);
                assert!(
                    !ok || key_admits(bwd, text_word_key(t.bytes())),
                    "{p:?} {t:?}"
                );
            }
        }
        // Not vacuous: many of the pairs verify.
        assert!(verified >= 20, "{verified}");
    }

    /// The negation cue before a point is the last one on word boundaries: cues inside
    /// words ("knot", "snow", "uncannot") are skipped, also with the in-word shortcut turned
    /// off, and a cue after a non-ASCII letter is decoded.
    #[test]
    fn negation_cues_on_word_boundaries_only() {
        let m =
            Matcher::new(&crate::lexicon::Lexicon::default_english().compile()).expect("matcher");
        assert!(m.negations_word_led, "the default cues start with letters");
        let mut slow = m.clone();
        slow.negations_word_led = false;
        fn cue<'t>(m: &Matcher, t: &'t str) -> Option<&'t str> {
            m.negation_before(t, 0, t.len()).map(|h| &t[h.start..h.end])
        }
        for m in [&m, &slow] {
            assert_eq!(
                cue(m, "It did not kill. A knot, snow, uncannot"),
                Some("not")
            );
            assert_eq!(cue(m, "a knot uncannot snowball"), None);
            assert_eq!(cue(m, "énot never"), Some("never"));
            assert_eq!(cue(m, "énot"), None);
            assert_eq!(cue(m, "Never"), Some("Never"));
        }
    }

    /// The token index answers exactly as searching the whole text with each automaton,
    /// on the shapes where chunking could go wrong: a longer exact match that fails its
    /// boundary hides a shorter one (`AI couldn't` has no `AI` hit), exact patterns with a
    /// space, case variants, chunks at block edges, non-ASCII neighbours.
    #[test]
    fn token_index_equals_whole_text_search() {
        let indexed =
            Matcher::new(&crate::lexicon::Lexicon::default_english().compile()).expect("matcher");
        let coverage = indexed.tokens.as_ref().map(|t| (t.anchored, t.exact));
        assert_eq!(coverage, Some((true, true)));
        let mut whole = indexed.clone();
        whole.tokens = None;
        // The token pass on SSE2 block masks, where `indexed` takes AVX2 if the CPU has it.
        let mut sse2 = indexed.clone();
        sse2.tokens = sse2.tokens.map(AnchorTokens::sse2_only);
        let texts = [
            "The AI couldn't stop. AI could not; AI could, AIs will, AIs willingly.",
            "AI will\nAI  will AI\twill xAI will éAI AIé A.I. A.I.s (A.I.) A.I.-made",
            "T-X, T-1000 and T-800; the MU-TH-UR 6000; M-5 unit; Mother, mother, MOTHER.",
            "Data and DATA, JARVIS and Jarvis: HAL 9000, HAL's, HALO, the AGI/ASI takeover.",
            "Skynet, Colossus: The Forbin Project, the robot's uprising; robots will rise up.",
        ];
        let mut checked = 0;
        for t in texts {
            // Every offset of the text against the 64-byte blocks of the token pass.
            for pad in 0..70 {
                let text = format!("{}{t}", " ".repeat(pad));
                let (mut a, mut b) = (Vec::new(), Vec::new());
                indexed.find(&text, &mut a);
                whole.find(&text, &mut b);
                assert_eq!(a, b, "{text:?}");
                sse2.find(&text, &mut b);
                assert_eq!(a, b, "{text:?}");
                checked += a.len();
            }
        }
        // Not vacuous: the texts hold many hits of both groups.
        assert!(checked >= 70 * 25, "{checked}");
        let mut hits = Vec::new();
        indexed.find("The AI couldn't. The AI could.", &mut hits);
        let spans: Vec<(usize, usize)> = hits.iter().map(|h| (h.start, h.end)).collect();
        assert_eq!(spans, vec![(21, 29)]);
    }

    #[test]
    fn lower_map() {
        let (l, m) = lowercase_with_map("ÀB");
        assert_eq!(l, "àb");
        assert_eq!(m, vec![0, 0, 2, 3]);
    }
}
