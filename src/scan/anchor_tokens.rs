//! The leading tokens of the matcher's two literal groups in one index — the
//! case-insensitive anchors and the exact-case patterns — and one pass over a text's tokens
//! that tells each group which parts of the text it must search, answering directly where a
//! part is a single token.
//!
//! Exact by construction (tests/matcher_equivalence.rs compares against whole-text
//! automata). Terms, with the matcher's premises (checked when the index is built; a group
//! that breaks them is left out and searched whole):
//! - A *token* is a maximal run of ASCII word bytes `[A-Za-z0-9_]`. Every pattern of an
//!   indexed group (anchor or exact-case pattern) starts with a word byte; its *leading
//!   token* is its longest prefix of word bytes. A match that passes the word-boundary check
//!   starts at the start of a text token equal to the pattern's leading token (ASCII case
//!   folded for anchors, exact for exact-case patterns), and the byte after that text token
//!   is the byte after the leading token in the pattern (or the pattern ends there).
//! - A *chunk* is a run of text that no match of its group can cross, so leftmost-longest
//!   matching over the whole text equals matching each chunk on its own (same matches, same
//!   order). Anchors hold no ASCII whitespace: their chunks are maximal runs of
//!   non-whitespace bytes. Exact-case patterns may hold a space (`AI will`), so their chunks
//!   are maximal runs in which every two neighbouring bytes are neighbours somewhere in an
//!   exact-case pattern (a *link*: `I `, ` w`, `ll`, but not `e ` or ` i`); a match cannot
//!   cross two bytes that are not a link. Links keep these chunks short: `AI will`, `AI `.
//!
//! So only tokens that are a leading token of the group *and* are followed by a byte some
//! such pattern continues with (`t` then `-` for `t-800`; anything for a one-token pattern
//! like `skynet`) need a look; the rest of the text holds no match that could count. Keying
//! on the next byte too matters: one-letter leading tokens (`t-800`, `x-risk`, `A.I.`) would
//! otherwise send every "don't", "can't" and "a" to the automaton. One hash per token serves
//! both groups (it folds case; an exact-case lookup compares the bytes afterwards): a second
//! token pass for the exact group cost more than the automaton it replaced
//! (docs/PERFORMANCE.md, session 3b).
//!
//! Most chunks that hold such a token hold only that token plus non-word bytes (`Skynet,`,
//! `(robots)`, `AI `). There the automaton's answer is known without running it: no pattern
//! can start on a non-word byte, patterns that continue past the token with a word byte
//! cannot fit, so the only match that can pass the boundary check is the token itself,
//! exactly when it is a one-token pattern — unless a pattern is the token plus non-word bytes
//! only (`colossus:`, `mouth,`), in which case the automaton decides. Other chunks
//! (`robot's`, `t-800`, `AI will`, URLs) go to the automaton of their group.

use std::num::NonZeroU64;

use super::bytemask::{self, avx2_available, word_mask, Block, WORD};

/// A part of the text a group must handle, reported in text order within each group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    /// The one-token anchor number `anchor` occurs at `start..end`, alone in its chunk.
    Token {
        start: usize,
        end: usize,
        anchor: u32,
    },
    /// The chunk `start..end` may hold anchor matches: run the anchor automaton over it.
    Chunk { start: usize, end: usize },
    /// The one-token exact-case pattern number `pattern` occurs at `start..end`, alone in
    /// its chunk.
    ExactToken {
        start: usize,
        end: usize,
        pattern: u32,
    },
    /// The chunk `start..end` may hold exact-case matches: run the exact automaton over it.
    ExactChunk { start: usize, end: usize },
}

/// What the patterns of one group with one leading token need.
#[derive(Debug, Clone, Default)]
struct Lead {
    /// The pattern that is exactly this token, if any.
    whole: Option<u32>,
    /// Bytes that follow the token in the other patterns (a 256-bit set).
    next: [u64; 4],
    /// Some pattern is this token followed by non-word bytes only (`colossus:`, `mouth,`).
    non_word_tail: bool,
}

impl Lead {
    /// Adds the pattern number `i`, whose leading token ends before `tail`.
    fn add(&mut self, i: u32, tail: &[u8]) {
        match tail.first() {
            None => self.whole = Some(i),
            Some(&c) => {
                self.next[usize::from(c >> 6)] |= 1 << (c & 63);
                self.non_word_tail |= !tail.iter().any(|&c| WORD[usize::from(c)]);
            }
        }
    }

    /// True when a token with this text followed by `next` (`None`: end of text) can start
    /// a match.
    #[inline(always)]
    fn wanted(&self, next: Option<u8>) -> bool {
        self.whole.is_some() || next.is_some_and(|c| in_set(&self.next, c))
    }

    /// The bytes after which a token can start one of these patterns: every byte when one
    /// pattern is the token alone.
    fn followers(&self) -> [u64; 4] {
        match self.whole {
            Some(_) => [u64::MAX; 4],
            None => self.next,
        }
    }
}

/// True when byte `c` is in the 256-bit set `set`.
#[inline(always)]
fn in_set(set: &[u64; 4], c: u8) -> bool {
    set[usize::from(c >> 6)] >> (c & 63) & 1 != 0
}

/// One leading token, ASCII case folded, and what each group needs of it.
#[derive(Debug, Clone)]
struct Entry {
    /// The token, ASCII-lowercased.
    token: Box<[u8]>,
    /// Its [`TokenWords`] (folded).
    words: TokenWords,
    /// The anchors with this leading token.
    anchored: Option<Lead>,
    /// The exact-case patterns with this leading token, by the token's exact bytes
    /// (`JARVIS`, `Jarvis`) and their [`TokenWords`] (not folded).
    exact: Vec<(Box<[u8]>, TokenWords, Lead)>,
    /// The bytes after which some group wants the token ([`Lead::followers`] of all its
    /// leads), and whether one wants it at the end of the text: one check turns away the
    /// common words that lead a pattern only before a given byte (`a` of `A.I.`, `can` of
    /// `can't`) before either group is asked.
    followers: [u64; 4],
    at_end: bool,
}

/// Index of the leading tokens of both groups.
#[derive(Debug, Clone)]
pub(super) struct AnchorTokens {
    /// Prefilter: bit `hash >> (64 - BITS)` set for the [`prefilter_word`] of every leading
    /// token before each class of bytes a group wants after it.
    bits: Box<[u64; 1 << (BITS - 6)]>,
    /// Open addressing over `entries` by the top `slot_bits` of the hash; `EMPTY` ends a
    /// probe.
    slots: Box<[u32]>,
    slot_bits: u32,
    entries: Vec<Entry>,
    /// Links of the exact-case patterns: bit `a << 8 | b` set when byte `b` follows byte
    /// `a` in one of them.
    links: Box<[u64]>,
    /// Longest leading token (a longer token crossing a block edge needs no hash).
    max_len: usize,
    /// The anchors are indexed (they hold the premises).
    pub(super) anchored: bool,
    /// The exact-case patterns are indexed.
    pub(super) exact: bool,
    /// The token pass classifies blocks with AVX2 (the CPU has it), else with SSE2.
    avx2: bool,
}

/// Prefilter size: 2^16 bits (8 KiB, in L1) for ~1,000 tokens, so about 1.5% of the tokens
/// that are no pattern's get past it.
const BITS: u32 = 16;
const EMPTY: u32 = u32::MAX;

/// A token's first and last (up to) eight bytes as little-endian words (the last is 0 for
/// tokens of up to eight bytes). With the length they are the whole token up to 16 bytes,
/// so comparing them replaces comparing bytes there.
type TokenWords = [u64; 2];

/// OR-ed into loaded words to fold ASCII case: `| 0x20` maps each upper-case letter to its
/// lower case and no other word byte onto a word byte.
const FOLD: u64 = 0x2020_2020_2020_2020;

/// The [`TokenWords`] of the token `hay[s..e]` (non-empty, word bytes only), each byte OR-ed
/// with `fold`'s (`FOLD` or 0).
#[inline(always)]
fn token_words(hay: &[u8], s: usize, e: usize, fold: u64) -> TokenWords {
    let n = e - s;
    let head = load(hay, s, n.min(8), fold);
    let tail = if n > 8 { load(hay, e - 8, 8, fold) } else { 0 };
    [head, tail]
}

/// True when the text token `text` (word bytes only) with words `words` equals `token`
/// with words `token_words`: ignoring ASCII case (`folded`, words folded) or exactly.
#[inline(always)]
fn same_token(
    text: &[u8],
    words: TokenWords,
    token: &[u8],
    token_words: TokenWords,
    folded: bool,
) -> bool {
    text.len() == token.len()
        && words == token_words
        && (text.len() <= 16
            || if folded {
                text.eq_ignore_ascii_case(token)
            } else {
                text == token
            })
}

/// Hash of a token by its first (up to) eight bytes, folded: its [`TokenWords`]' head.
/// Only the head, so the token pass hashes a token with one multiplication and no length
/// check; tokens sharing their first eight bytes (`superintelligent`, `superintelligence`)
/// share a hash, and the entry lookup tells them apart. Its top bits depend on every byte
/// of the head: the prefilter and the slots take those.
#[inline(always)]
fn token_hash(head: u64) -> u64 {
    head.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Bytes of text the token pass reads for one block: the block, plus eight for the first
/// word of a token starting on its last byte, which also holds the byte after the block.
const WINDOW: usize = 64 + 8;

/// The bit of the byte after a short token that the prefilter takes in with the token: set
/// for the bytes short leading tokens continue with (`.` of `A.I.`, `-` of `t-800`, `'`
/// of `can't`), clear for space, tab and LF. So the most frequent prefilter pass, "a"
/// before a space (34,480 of the 170,641 leading-token occurrences in the bench text, 117 of
/// them before `.`), is turned away in the token loop at no cost there: the bit is kept by
/// the same mask that keeps the token's bytes (docs/PERFORMANCE.md, session 7).
const NEXT_CLASS: u8 = 0x04;

/// Tokens of up to this many bytes are prefiltered with [`NEXT_CLASS`] of the next byte.
/// Only short ones: a leading token of any length that is a pattern by itself needs both
/// classes' bits, and the longer ones (975 of the default lexicon's 1,009 leading tokens)
/// would double the prefilter's load and its false passes for a gain only at the short ones.
const CLASSED_LEN: usize = 3;

/// `KEEP[k]` for a token of `k + 1` bytes: `[prefilter, fold, head]`. `head` keeps the
/// first `k + 1` bytes of a little-endian word (all eight from `k = 7` on): the bytes of the
/// token in its first word; `fold` is those bytes of [`FOLD`]; `prefilter` is `head` plus
/// [`NEXT_CLASS`] of the byte after the token when `k < CLASSED_LEN`. A table lookup, where
/// the shift pair it replaces cost ~5 instructions a token, and the folding bits beside it
/// so that no register holds `FOLD` (docs/PERFORMANCE.md, session 5).
const KEEP: [[u64; 3]; 64] = {
    let mut t = [[u64::MAX, FOLD, u64::MAX]; 64];
    let mut k = 0;
    while k < 7 {
        let keep = u64::MAX >> (56 - 8 * k);
        let class = if k < CLASSED_LEN {
            (NEXT_CLASS as u64) << (8 * (k + 1))
        } else {
            0
        };
        t[k] = [keep | class, keep & FOLD, keep];
        k += 1;
    }
    t
};

/// The first word of the token `window[i..=j]` (`i <= j < 64`), folded: what
/// [`token_words`] gives as its head, read from the window without a bounds check on the
/// text.
#[inline(always)]
fn first_word(window: &[u8; WINDOW], i: usize, j: usize) -> u64 {
    let word = u64::from_le_bytes(window[i..i + 8].try_into().expect("8 bytes"));
    let [_, fold, keep] = KEEP[j.wrapping_sub(i) & 63];
    word & keep | fold
}

/// [`first_word`] with the [`NEXT_CLASS`] bit of the byte after a short token (the window
/// holds that byte in the same load): the word the token loop hashes for the prefilter,
/// equal to [`prefilter_word`] of the head.
#[inline(always)]
fn first_word_classed(window: &[u8; WINDOW], i: usize, j: usize) -> u64 {
    let word = u64::from_le_bytes(window[i..i + 8].try_into().expect("8 bytes"));
    let [keep, fold, _] = KEEP[j.wrapping_sub(i) & 63];
    word & keep | fold
}

/// The word a token with folded head `head`, `len` bytes, followed by `next` (a space at
/// the end of the text, as in the token pass's padded window) is prefiltered by: the head,
/// plus the next byte's [`NEXT_CLASS`] bit when the token has at most [`CLASSED_LEN`] bytes.
#[inline(always)]
fn prefilter_word(head: u64, len: usize, next: u8) -> u64 {
    match len <= CLASSED_LEN {
        true => head | u64::from(next & NEXT_CLASS) << (8 * len),
        false => head,
    }
}

/// `k` (1..=8) bytes from `hay[at..]` as a little-endian word, each OR-ed with `fold`'s.
#[inline(always)]
fn load(hay: &[u8], at: usize, k: usize, fold: u64) -> u64 {
    let keep = u64::MAX >> (64 - 8 * k);
    let word = match hay.get(at..at + 8) {
        Some(w) => u64::from_le_bytes(w.try_into().expect("8 bytes")),
        None => {
            let mut w = [0u8; 8];
            w[..k].copy_from_slice(&hay[at..at + k]);
            u64::from_le_bytes(w)
        }
    };
    (word | fold) & keep
}

/// Length of the leading token of `p`, or `None` when `p` does not start with a word byte.
fn leading_token_len(p: &[u8]) -> Option<usize> {
    let n = p.iter().take_while(|&&c| WORD[usize::from(c)]).count();
    (n > 0).then_some(n)
}

/// The chunk around the token `hay[s..e]`: the widest range holding it in which `joined`
/// holds for every two neighbouring bytes; and whether the range holds no other word byte.
#[inline]
fn chunk_around(
    hay: &[u8],
    s: usize,
    e: usize,
    joined: impl Fn(u8, u8) -> bool,
) -> (usize, usize, bool) {
    let mut alone = true;
    let mut cs = s;
    while cs > 0 && joined(hay[cs - 1], hay[cs]) {
        cs -= 1;
        alone &= !WORD[usize::from(hay[cs])];
    }
    let mut ce = e;
    while ce < hay.len() && joined(hay[ce - 1], hay[ce]) {
        alone &= !WORD[usize::from(hay[ce])];
        ce += 1;
    }
    (cs, ce, alone)
}

/// A text token `hay[s..e]` that passed the prefilter: its folded first word (the head of
/// its [`TokenWords`]) and hash.
struct TextToken {
    s: usize,
    e: usize,
    head: u64,
    h: u64,
}

/// Where each group's reported chunks end: tokens starting before lie in a chunk already
/// reported (whose search covers them).
#[derive(Default)]
struct Done {
    anchored: usize,
    exact: usize,
}

/// Where the token pass stands between two blocks.
#[derive(Default)]
struct Walk {
    /// Bit 0: the byte before the block is a word byte.
    prev_word: u64,
    /// Start of a token that runs on past the previous block.
    pending: Option<usize>,
    done: Done,
}

impl AnchorTokens {
    /// Builds from the lowercased anchors and the exact-case patterns, each numbered by
    /// position. A group is indexed only if all its patterns hold the premises: anchors must
    /// start with a word byte and hold no ASCII whitespace, exact-case patterns must start
    /// with a word byte.
    pub(super) fn new(anchors: &[String], exact: &[String]) -> AnchorTokens {
        let anchored = !anchors.is_empty()
            && anchors.len() < EMPTY as usize
            && anchors.iter().all(|a| {
                leading_token_len(a.as_bytes()).is_some()
                    && !a.bytes().any(|c| c.is_ascii_whitespace())
            });
        let exact_ok = !exact.is_empty()
            && exact.len() < EMPTY as usize
            && exact
                .iter()
                .all(|p| leading_token_len(p.as_bytes()).is_some());
        let mut entries: Vec<Entry> = Vec::new();
        let mut by_token = std::collections::HashMap::new();
        let mut entry_of = |token: &[u8]| -> usize {
            let folded = token.to_ascii_lowercase();
            *by_token.entry(folded.clone()).or_insert_with(|| {
                entries.push(Entry {
                    words: token_words(&folded, 0, folded.len(), FOLD),
                    token: folded.into(),
                    anchored: None,
                    exact: Vec::new(),
                    followers: [0; 4],
                    at_end: false,
                });
                entries.len() - 1
            })
        };
        let mut slots_of_anchors = Vec::new();
        if anchored {
            for (i, a) in anchors.iter().enumerate() {
                let b = a.as_bytes();
                let n = leading_token_len(b).unwrap_or(0);
                slots_of_anchors.push((entry_of(&b[..n]), i as u32, n));
            }
        }
        let mut slots_of_exact = Vec::new();
        let mut links = vec![0u64; 1 << (16 - 6)].into_boxed_slice();
        if exact_ok {
            for (i, p) in exact.iter().enumerate() {
                let b = p.as_bytes();
                let n = leading_token_len(b).unwrap_or(0);
                slots_of_exact.push((entry_of(&b[..n]), i as u32, n));
                for w in b.windows(2) {
                    let l = usize::from(w[0]) << 8 | usize::from(w[1]);
                    links[l >> 6] |= 1 << (l & 63);
                }
            }
        }
        for (k, i, n) in slots_of_anchors {
            let tail = &anchors[i as usize].as_bytes()[n..];
            entries[k]
                .anchored
                .get_or_insert_with(Lead::default)
                .add(i, tail);
        }
        for (k, i, n) in slots_of_exact {
            let b = exact[i as usize].as_bytes();
            let variants = &mut entries[k].exact;
            let v = match variants.iter().position(|(t, ..)| **t == b[..n]) {
                Some(v) => v,
                None => {
                    variants.push((b[..n].into(), token_words(b, 0, n, 0), Lead::default()));
                    variants.len() - 1
                }
            };
            variants[v].2.add(i, &b[n..]);
        }
        for e in &mut entries {
            for lead in e
                .anchored
                .iter()
                .chain(e.exact.iter().map(|(.., lead)| lead))
            {
                for (f, l) in e.followers.iter_mut().zip(lead.followers()) {
                    *f |= l;
                }
                e.at_end |= lead.whole.is_some();
            }
        }
        let slots = (entries.len() * 4).next_power_of_two();
        let mut idx = AnchorTokens {
            bits: Box::new([0u64; 1 << (BITS - 6)]),
            slots: vec![EMPTY; slots].into_boxed_slice(),
            slot_bits: slots.trailing_zeros(),
            entries: Vec::new(),
            links,
            max_len: 0,
            anchored,
            exact: exact_ok,
            avx2: avx2_available(),
        };
        for (k, e) in entries.iter().enumerate() {
            // One prefilter bit per class of the bytes some group wants after the token
            // (both classes when one wants any byte; class 0, a space's, at the end of the
            // text): every token a group wants passes (test `prefilter_passes_every_follower`).
            for class in [0, NEXT_CLASS] {
                let wanted =
                    (0..=255u8).any(|c| c & NEXT_CLASS == class && in_set(&e.followers, c));
                if wanted || (class == 0 && e.at_end) {
                    let h = token_hash(prefilter_word(e.words[0], e.token.len(), class));
                    let bit = (h >> (64 - BITS)) as usize;
                    idx.bits[bit >> 6] |= 1 << (bit & 63);
                }
            }
            let h = token_hash(e.words[0]);
            let mask = idx.slots.len() - 1;
            let mut slot = idx.slot(h);
            while idx.slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            idx.slots[slot] = k as u32;
            idx.max_len = idx.max_len.max(e.token.len());
        }
        idx.entries = entries;
        idx
    }

    /// This index with the token pass on SSE2 masks even where AVX2 is available: the
    /// tests run both and compare.
    #[cfg(test)]
    pub(super) fn sse2_only(mut self) -> AnchorTokens {
        self.avx2 = false;
        self
    }

    /// The first slot of hash `h`: its top bits, the ones every byte of the head reaches.
    #[inline(always)]
    fn slot(&self, h: u64) -> usize {
        h.rotate_left(self.slot_bits) as usize & (self.slots.len() - 1)
    }

    /// True when hash `h` has its prefilter bit set: the token may be a leading token.
    #[inline(always)]
    fn passes(&self, h: u64) -> bool {
        let bit = (h >> (64 - BITS)) as usize;
        self.bits[bit >> 6] >> (bit & 63) & 1 != 0
    }

    /// True when byte `b` follows byte `a` in some exact-case pattern.
    #[inline(always)]
    fn linked(&self, a: u8, b: u8) -> bool {
        let l = usize::from(a) << 8 | usize::from(b);
        self.links[l >> 6] >> (l & 63) & 1 != 0
    }

    /// The entry of the text token `text` with folded words `words` and hash `h`, if it
    /// is a leading token.
    #[inline(always)]
    fn entry(&self, text: &[u8], words: TokenWords, h: u64) -> Option<&Entry> {
        let mask = self.slots.len() - 1;
        let mut slot = self.slot(h);
        loop {
            let k = *self.slots.get(slot)?;
            let entry = self.entries.get(k as usize)?;
            if same_token(text, words, &entry.token, entry.words, true) {
                return Some(entry);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Calls `f`, in text order for each group, for every part of `hay` that can hold a
    /// match on word boundaries of an indexed group (see the module documentation).
    pub(super) fn scan(&self, hay: &[u8], f: impl FnMut(Found)) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU has AVX2, BMI1 and BMI2
            // (`avx2_available`).
            return unsafe { self.scan_avx2(hay, f) };
        }
        self.scan_with(hay, f, word_mask);
    }

    /// [`Self::scan`] compiled for AVX2, with AVX2 block masks, and for BMI1 (`blsr`, `tzcnt`:
    /// one instruction each to clear and find the lowest set bit) and BMI2.
    ///
    /// # Safety
    /// The CPU must have AVX2, BMI1 and BMI2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,bmi1,bmi2")]
    unsafe fn scan_avx2(&self, hay: &[u8], f: impl FnMut(Found)) {
        // SAFETY: this function runs only on a CPU with AVX2 (the caller's contract).
        self.scan_with(hay, f, |block| unsafe { bytemask::word_mask_avx2(block) });
    }

    /// The token pass, 64 bytes at a time, with `mask_of` giving the word bytes of a
    /// block.
    #[inline(always)]
    fn scan_with(&self, hay: &[u8], mut f: impl FnMut(Found), mask_of: impl Fn(&Block) -> u64) {
        let mut walk = Walk::default();
        let mut base = 0;
        while let Some(window) = hay.get(base..base + WINDOW) {
            let window = window.try_into().expect("WINDOW bytes");
            self.block(hay, window, base, &mut walk, &mut f, &mask_of);
            base += 64;
        }
        // The last one or two blocks, padded with spaces: no word bytes, so every token
        // ends in the text and none is left pending.
        while let Some(rest) = hay.get(base..).filter(|r| !r.is_empty()) {
            let mut window = [b' '; WINDOW];
            window[..rest.len()].copy_from_slice(rest);
            self.block(hay, &window, base, &mut walk, &mut f, &mask_of);
            base += 64;
        }
        debug_assert!(walk.pending.is_none());
    }

    /// The tokens of the block `hay[base..base + 64]`, read through `window` (the text from
    /// `base` on, padded past its end; see [`WINDOW`]).
    ///
    /// Per token, this runs two bit scans, one load, one multiplication and one bit test
    /// (tokens are ~6 bytes of English text apart, so every instruction here is ~0.17 per
    /// byte); the rest is [`Self::look`].
    #[inline(always)]
    fn block(
        &self,
        hay: &[u8],
        window: &[u8; WINDOW],
        base: usize,
        walk: &mut Walk,
        f: &mut impl FnMut(Found),
        mask_of: &impl Fn(&Block) -> u64,
    ) {
        let mask = mask_of(window[..64].try_into().expect("64 bytes"));
        let next_word = u64::from(WORD[usize::from(window[64])]);
        // First and last byte of each token; starts and ends alternate in a block, but for
        // a token running in from the block before (`pending`) or on past this one.
        let mut starts = mask & !(mask << 1 | walk.prev_word);
        let mut ends = mask & !(mask >> 1 | next_word << 63);
        walk.prev_word = mask >> 63;
        if let Some(s) = walk.pending {
            let Some(end) = NonZeroU64::new(ends) else {
                return;
            };
            ends &= ends - 1;
            walk.pending = None;
            let e = base + end.trailing_zeros() as usize + 1;
            self.token(hay, s, e, &mut walk.done, f);
        }
        // A token that runs on past the block (its last byte and the next are word bytes)
        // starts at the last start bit: it waits for the next block, and every other start
        // has its end here, so the loop below needs no check for a missing end.
        if mask >> 63 & next_word != 0 {
            if let Some(last) = NonZeroU64::new(starts) {
                let k = 63 - last.leading_zeros();
                starts ^= 1 << k;
                walk.pending = Some(base + k as usize);
            }
        }
        // Tokens that pass the prefilter are collected without a branch and looked up
        // after the loop: which ~10% of tokens pass is unpredictable, and a mispredicted
        // branch per passing token cost more than the store (docs/PERFORMANCE.md, session 6).
        // A block holds at most 32 tokens (each is followed by a non-word byte).
        let mut passed = [0u8; 32];
        let mut n = 0;
        // `NonZeroU64::trailing_zeros`: one bit scan, no check for zero.
        while let Some(start) = NonZeroU64::new(starts) {
            starts &= starts - 1;
            debug_assert!(ends != 0, "a start without its end");
            let (i, j) = (start.trailing_zeros(), ends.trailing_zeros());
            ends &= ends.wrapping_sub(1);
            let h = token_hash(first_word_classed(window, i as usize, j as usize));
            passed[n & 31] = i as u8;
            n += usize::from(self.passes(h));
        }
        for &i in &passed[..n.min(32)] {
            // The token's last byte: the last word byte of the run from its start, at
            // most the block's last (the token running past the block is not among these).
            let i = usize::from(i & 63);
            let len = ((!mask >> i).trailing_zeros() as usize).min(64 - i);
            let j = i + len - 1;
            let head = first_word(window, i, j);
            let token = TextToken {
                s: base + i,
                e: base + j + 1,
                head,
                h: token_hash(head),
            };
            self.look(hay, token, &mut walk.done, f);
        }
    }

    /// A text token `hay[s..e]` that crosses a block edge: the prefilter, then
    /// [`Self::look`] for the few that pass.
    #[inline]
    fn token(&self, hay: &[u8], s: usize, e: usize, done: &mut Done, f: &mut impl FnMut(Found)) {
        if e - s > self.max_len {
            return;
        }
        let head = load(hay, s, (e - s).min(8), FOLD);
        let next = hay.get(e).copied().unwrap_or(b' ');
        if self.passes(token_hash(prefilter_word(head, e - s, next))) {
            let h = token_hash(head);
            self.look_apart(hay, TextToken { s, e, head, h }, done, f);
        }
    }

    /// [`Self::look`] kept out of line, for the rare tokens that cross a block edge.
    #[inline(never)]
    fn look_apart(&self, hay: &[u8], token: TextToken, done: &mut Done, f: &mut impl FnMut(Found)) {
        self.look(hay, token, done, f);
    }

    /// The rare path of the token pass: the token passed the prefilter. Reports its chunk
    /// (or the token alone) to each group it can start a match of, unless a chunk of that
    /// group reported before holds it.
    #[inline(always)]
    fn look(&self, hay: &[u8], token: TextToken, done: &mut Done, f: &mut impl FnMut(Found)) {
        let TextToken { s, e, head, h } = token;
        let text = &hay[s..e];
        let tail = if e - s > 8 {
            load(hay, e - 8, 8, FOLD)
        } else {
            0
        };
        let words = [head, tail];
        let Some(entry) = self.entry(text, words, h) else {
            return;
        };
        let next = hay.get(e).copied();
        if !next.map_or(entry.at_end, |c| in_set(&entry.followers, c)) {
            return;
        }
        if let Some(lead) = &entry.anchored {
            if s >= done.anchored && lead.wanted(next) {
                let joined = |a: u8, b: u8| !a.is_ascii_whitespace() && !b.is_ascii_whitespace();
                done.anchored = report(hay, (s, e), lead, joined, false, f);
            }
        }
        if s < done.exact || entry.exact.is_empty() {
            return;
        }
        let exact_words = token_words(hay, s, e, 0);
        let Some((.., lead)) = entry
            .exact
            .iter()
            .find(|(t, w, _)| same_token(text, exact_words, t, *w, false))
        else {
            return;
        };
        if lead.wanted(next) {
            done.exact = report(hay, (s, e), lead, |a, b| self.linked(a, b), true, f);
        }
    }
}

/// Reports what one group needs of the token `hay[s..e]`, which can start one of its
/// matches (of the exact-case group if `exact`): its chunk (`joined` tells which neighbouring
/// bytes share one), or the token alone as the one-token pattern `lead.whole` when the
/// chunk holds no other word byte. Returns the end of the chunk.
#[inline]
fn report(
    hay: &[u8],
    (s, e): (usize, usize),
    lead: &Lead,
    joined: impl Fn(u8, u8) -> bool,
    exact: bool,
    f: &mut impl FnMut(Found),
) -> usize {
    let (start, end, alone) = chunk_around(hay, s, e, joined);
    if !alone || lead.non_word_tail {
        f(match exact {
            false => Found::Chunk { start, end },
            true => Found::ExactChunk { start, end },
        });
    } else if let Some(n) = lead.whole {
        f(match exact {
            false => Found::Token {
                start: s,
                end: e,
                anchor: n,
            },
            true => Found::ExactToken {
                start: s,
                end: e,
                pattern: n,
            },
        });
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|a| a.to_string()).collect()
    }

    fn index(anchors: &[&str]) -> AnchorTokens {
        let idx = AnchorTokens::new(&strings(anchors), &[]);
        assert!(idx.anchored, "premises hold");
        idx
    }

    fn both(anchors: &[&str], exact: &[&str]) -> AnchorTokens {
        let idx = AnchorTokens::new(&strings(anchors), &strings(exact));
        assert!(idx.anchored && idx.exact, "premises hold");
        idx
    }

    /// What the token pass reports for `text`, the same on SSE2 and (where the CPU has it)
    /// AVX2 masks.
    fn found(idx: &AnchorTokens, text: &str) -> Vec<Found> {
        let mut v = Vec::new();
        idx.scan(text.as_bytes(), |f| v.push(f));
        let mut sse2 = Vec::new();
        idx.clone()
            .sse2_only()
            .scan(text.as_bytes(), |f| sse2.push(f));
        assert_eq!(v, sse2, "{text:?}");
        v
    }

    #[test]
    fn keep_masks_the_bytes_of_short_tokens() {
        assert_eq!(KEEP[0], [0x04FF, 0x20, 0xFF]);
        assert_eq!(KEEP[2], [0x0400_0000 | 0xFF_FFFF, 0x20_2020, 0xFF_FFFF]);
        assert_eq!(KEEP[3][0], 0xFFFF_FFFF);
        assert_eq!(KEEP[6][2], 0x00FF_FFFF_FFFF_FFFF);
        assert!(KEEP[7..].iter().all(|&k| k == [u64::MAX, FOLD, u64::MAX]));
        for (k, &[prefilter, fold, keep]) in KEEP.iter().enumerate() {
            assert_eq!(keep.count_ones() as usize, 8 * (k + 1).min(8), "{k}");
            assert_eq!(fold, keep & FOLD);
            let class = prefilter & !keep;
            match k < CLASSED_LEN {
                true => assert_eq!(class, u64::from(NEXT_CLASS) << (8 * (k + 1)), "{k}"),
                false => assert_eq!(class, 0, "{k}"),
            }
        }
    }

    /// Whitespace after a short token falls in one class, the punctuation one-letter
    /// leading tokens continue with in the other.
    #[test]
    fn next_class_splits_whitespace_from_joiners() {
        for c in [b' ', b'\t', b'\n'] {
            assert_eq!(c & NEXT_CLASS, 0, "{c}");
        }
        for c in [b'.', b'-', b'\''] {
            assert_eq!(c & NEXT_CLASS, NEXT_CLASS, "{c}");
        }
        let head = |t: &[u8]| token_words(t, 0, t.len(), FOLD)[0];
        assert_eq!(prefilter_word(head(b"a"), 1, b' '), head(b"a"));
        assert_eq!(prefilter_word(head(b"A"), 1, b'.'), head(b"a") | 0x0400);
        assert_eq!(
            prefilter_word(head(b"can"), 3, b'-'),
            head(b"can") | 0x0400_0000
        );
        assert_eq!(prefilter_word(head(b"robot"), 5, b'-'), head(b"robot"));
    }

    /// The token loop rejects a short token before bytes of the other class than those its
    /// patterns continue with, and never a token a group wants.
    #[test]
    fn prefilter_turns_away_short_tokens_before_other_bytes() {
        let idx = both(&["t-800", "robot", "ai"], &["A.I."]);
        let passes = |t: &[u8], next: u8| {
            let head = token_words(t, 0, t.len(), FOLD)[0];
            idx.passes(token_hash(prefilter_word(head, t.len(), next)))
        };
        assert!(passes(b"a", b'.') && passes(b"A", b','));
        assert!(!passes(b"a", b' ') && !passes(b"a", b'\n'));
        assert!(passes(b"t", b'-') && !passes(b"t", b' '));
        // A pattern by itself is wanted before any byte and at the end (a space there).
        assert!(passes(b"AI", b' ') && passes(b"ai", b'-'));
        assert!(passes(b"robot", b' ') && passes(b"robot", b'.'));
    }

    /// No false negative by construction: with the default lexicon, every leading token
    /// passes the prefilter before every byte some group wants after it, and at the end
    /// of the text when one wants it there.
    #[test]
    fn prefilter_passes_every_follower() {
        let m = crate::scan::matcher::Matcher::new(
            &crate::lexicon::Lexicon::default_english().compile(),
        )
        .expect("matcher");
        let idx = m.token_index().expect("indexed");
        let mut checked = 0;
        for e in &idx.entries {
            for c in (0..=255u8).filter(|&c| in_set(&e.followers, c)) {
                let h = token_hash(prefilter_word(e.words[0], e.token.len(), c));
                assert!(idx.passes(h), "{:?} before {c}", e.token);
                checked += 1;
            }
            if e.at_end {
                let h = token_hash(prefilter_word(e.words[0], e.token.len(), b' '));
                assert!(idx.passes(h), "{:?} at the end", e.token);
            }
        }
        assert!(idx.entries.len() > 500 && checked > 500 * 256, "{checked}");
    }

    /// The block loop's first word of a token equals the head of its [`TokenWords`], which
    /// the index is built on, wherever the token lies in its window.
    #[test]
    fn first_word_is_the_token_head() {
        let text = b"x Robot_9 SUPERINTELLIGENCE a AI_ t-8 A.I. zz";
        for pad in 0..64 {
            let mut hay = vec![b' '; pad];
            hay.extend_from_slice(text);
            let mut window = [b'.'; WINDOW];
            let n = hay.len().min(WINDOW);
            window[..n].copy_from_slice(&hay[..n]);
            let mut s = 0;
            while s < 64 && s < hay.len() {
                let len = hay[s..]
                    .iter()
                    .take_while(|&&c| WORD[usize::from(c)])
                    .count();
                if len > 0 && (s == 0 || !WORD[usize::from(hay[s - 1])]) {
                    let e = s + len;
                    let head = token_words(&hay, s, e, FOLD)[0];
                    assert_eq!(first_word(&window, s, e - 1), head, "{pad} {s}");
                    let next = hay.get(e).copied().unwrap_or(b'.');
                    let classed = prefilter_word(head, len, next);
                    assert_eq!(first_word_classed(&window, s, e - 1), classed, "{pad} {s}");
                }
                s += len.max(1);
            }
        }
        // Case folds into the hash; the bytes after a short token do not.
        let hash_of = |t: &[u8]| token_hash(token_words(t, 0, t.len(), FOLD)[0]);
        assert_eq!(hash_of(b"SkyNet"), hash_of(b"skynet"));
        assert_ne!(hash_of(b"skynet"), hash_of(b"skynes"));
        let mut window = [b' '; WINDOW];
        window[..8].copy_from_slice(b"AI:robot");
        assert_eq!(token_hash(first_word(&window, 0, 1)), hash_of(b"ai"));
    }

    #[test]
    fn premises_checked() {
        for bad in ["", "-x", "two words", "tab\tx", "'quoted'"] {
            let idx = AnchorTokens::new(&strings(&[bad]), &strings(&["AI"]));
            assert!(!idx.anchored && idx.exact, "{bad:?}");
        }
        // Exact-case patterns may hold whitespace, but must start with a word byte.
        assert!(AnchorTokens::new(&[], &strings(&["AI will", "a\tb"])).exact);
        for bad in ["", "-x", " AI", ".NET"] {
            let idx = AnchorTokens::new(&strings(&["robot"]), &strings(&["AI", bad]));
            assert!(idx.anchored && !idx.exact, "{bad:?}");
        }
        let none = AnchorTokens::new(&[], &[]);
        assert!(!none.anchored && !none.exact);
        assert_eq!(found(&none, "robot AI"), vec![]);
    }

    #[test]
    fn token_words_compare_whole_tokens() {
        let same = |text: &str, token: &str, folded: bool| {
            let fold = if folded { FOLD } else { 0 };
            let (t, k) = (text.as_bytes(), token.as_bytes());
            let words = token_words(t, 0, t.len(), fold);
            same_token(t, words, k, token_words(k, 0, k.len(), fold), folded)
        };
        assert!(same("SkyNet", "skynet", true));
        assert!(!same("SkyNet", "skynet", false));
        assert!(same("JARVIS", "JARVIS", false));
        assert!(!same("skynets", "skynet", true));
        assert!(!same("A_I", "a_i", false));
        assert!(same("A_I", "a_i", true));
        assert!(same("a_b", "A_B", true));
        assert!(!same("a_b", "a_c", true));
        // 9 to 16 bytes: head and tail words overlap and cover every byte.
        assert!(same("Superintelligent", "superintelligent", true));
        assert!(!same("superintalligent", "superintelligent", true));
        assert!(!same("Superintelligent", "superintelligent", false));
        // Longer: the middle bytes are compared one by one.
        assert!(same("SuperIntelligences", "superintelligences", true));
        assert!(!same("superintalligences", "superintelligences", true));
        assert!(!same("SuperIntelligences", "superintelligences", false));
        assert!(same("superintelligences", "superintelligences", false));
    }

    #[test]
    fn chunks_around_tokens() {
        let not_space = |a: u8, b: u8| !a.is_ascii_whitespace() && !b.is_ascii_whitespace();
        assert_eq!(chunk_around(b"(robots) x", 1, 7, not_space), (0, 8, true));
        assert_eq!(
            chunk_around(b"a robot's arm", 2, 7, not_space),
            (2, 9, false)
        );
        assert_eq!(chunk_around(b"robot", 0, 5, not_space), (0, 5, true));
        assert_eq!(chunk_around(b"x-robot", 2, 7, not_space), (0, 7, false));
        // Any rule for joining neighbours: here, only `-` joins.
        let dash = |a: u8, b: u8| a == b'-' || b == b'-';
        assert_eq!(chunk_around(b"T-X, MU-TH", 0, 1, dash), (0, 3, false));
        assert_eq!(chunk_around(b"T-X, MU-TH", 5, 7, dash), (5, 9, false));
        assert_eq!(chunk_around(b"-AI--", 1, 3, dash), (0, 5, true));
    }

    #[test]
    fn single_token_chunks_are_looked_up() {
        let idx = index(&["skynet", "robots", "t-800"]);
        assert_eq!(
            found(&idx, "The SKYNET, (robots) and robotsx."),
            vec![
                Found::Token {
                    start: 4,
                    end: 10,
                    anchor: 0
                },
                Found::Token {
                    start: 13,
                    end: 19,
                    anchor: 1
                },
            ]
        );
    }

    #[test]
    fn next_byte_keys_one_letter_tokens() {
        let idx = index(&["t-800", "x-risk"]);
        // "don't" has the token "t" followed by a space, not "-": nothing to do.
        assert_eq!(found(&idx, "don't can't won't x"), vec![]);
        assert_eq!(
            found(&idx, "a T-800 unit"),
            vec![Found::Chunk { start: 2, end: 7 }]
        );
        // At the very end of the text no byte follows.
        assert_eq!(found(&idx, "t"), vec![]);
    }

    #[test]
    fn chunks_with_more_tokens_or_non_word_tails_go_to_the_automaton() {
        let idx = index(&["robot", "colossus:", "colossus"]);
        assert_eq!(
            found(&idx, "the robot's arm"),
            vec![Found::Chunk { start: 4, end: 11 }]
        );
        assert_eq!(
            found(&idx, "x-robot"),
            vec![Found::Chunk { start: 0, end: 7 }]
        );
        assert_eq!(
            found(&idx, "Colossus, then"),
            vec![Found::Chunk { start: 0, end: 9 }]
        );
    }

    #[test]
    fn exact_case_tokens_and_chunks() {
        let idx = both(
            &["robot"],
            &["AI", "AI will", "A.I.", "T-X", "Data", "DATA"],
        );
        // `I ` and ` w` are links (from `AI will`), `e ` and ` i` are not.
        assert_eq!(
            found(&idx, "the AI is"),
            vec![Found::ExactToken {
                start: 4,
                end: 6,
                pattern: 0
            }]
        );
        // Exact case: `ai`, `Ai` and `Will` do not count.
        assert_eq!(found(&idx, "the ai is; Ai"), vec![]);
        assert_eq!(
            found(&idx, "AI Will, AI will."),
            vec![
                Found::ExactToken {
                    start: 0,
                    end: 2,
                    pattern: 0
                },
                Found::ExactChunk { start: 9, end: 16 },
            ]
        );
        // "a" and "A" followed by anything but `.` need no look.
        assert_eq!(found(&idx, "a cat. A dog."), vec![]);
        assert_eq!(
            found(&idx, "(A.I.) T-X"),
            vec![
                Found::ExactChunk { start: 1, end: 5 },
                Found::ExactChunk { start: 7, end: 10 },
            ]
        );
        // `. ` is no link: `A.I.` and `AI` are chunks of their own.
        assert_eq!(
            found(&idx, "A.I. AI"),
            vec![
                Found::ExactChunk { start: 0, end: 4 },
                Found::ExactToken {
                    start: 5,
                    end: 7,
                    pattern: 0
                },
            ]
        );
        // A chunk's search covers the tokens inside it: `X` in `T-X` is not reported again.
        let tx = both(&["robot"], &["T-X", "X"]);
        assert_eq!(
            found(&tx, "T-X X"),
            vec![
                Found::ExactChunk { start: 0, end: 3 },
                Found::ExactToken {
                    start: 4,
                    end: 5,
                    pattern: 1
                },
            ]
        );
        // Each case variant of a token is its own pattern.
        assert_eq!(
            found(&idx, "Data DATA data"),
            vec![
                Found::ExactToken {
                    start: 0,
                    end: 4,
                    pattern: 4
                },
                Found::ExactToken {
                    start: 5,
                    end: 9,
                    pattern: 5
                },
            ]
        );
    }

    #[test]
    fn one_token_serves_both_groups() {
        let idx = both(&["data", "robot"], &["Data", "AI"]);
        assert_eq!(
            found(&idx, "robot/AI Data"),
            vec![
                Found::Chunk { start: 0, end: 8 },
                Found::ExactToken {
                    start: 6,
                    end: 8,
                    pattern: 1
                },
                Found::Token {
                    start: 9,
                    end: 13,
                    anchor: 0
                },
                Found::ExactToken {
                    start: 9,
                    end: 13,
                    pattern: 0
                },
            ]
        );
    }

    /// A token that leads patterns only before given bytes (`a` of `A.I.`, `t` of `t-800`)
    /// is reported before those bytes, in any position of a block, and nowhere else; a
    /// token that is a pattern by itself is reported before any byte and at the end.
    #[test]
    fn tokens_are_wanted_only_before_their_followers() {
        let idx = both(&["t-800", "robot"], &["A.I."]);
        for pad in 0..70 {
            let text = format!("{}a A.I. t t-800 a, robot", " ".repeat(pad));
            let starts: Vec<usize> = found(&idx, &text)
                .into_iter()
                .map(|f| match f {
                    Found::Chunk { start, .. }
                    | Found::ExactChunk { start, .. }
                    | Found::Token { start, .. }
                    | Found::ExactToken { start, .. } => start - pad,
                })
                .collect();
            assert_eq!(starts, vec![2, 9, 18], "pad {pad}");
        }
        assert_eq!(found(&idx, "a t"), vec![]);
        assert_eq!(
            found(&idx, "robot"),
            vec![Found::Token {
                start: 0,
                end: 5,
                anchor: 1
            }]
        );
    }

    proptest::proptest! {
        /// On any text of tokens, separators and padding, the token pass (SSE2 and AVX2,
        /// compared in `found`) reports a one-token chunk exactly where a token of the index
        /// stands alone between whitespace.
        #[test]
        fn token_pass_on_random_text(
            words in proptest::collection::vec(
                proptest::sample::select(vec![
                    "Skynet", "skynet,", "robot", "robots", "(robots)", "the", "a", "AI",
                    "t-800", "don't", "superintelligences", "x", "\n", "é", "_", "9",
                ]),
                0..60,
            ),
            gaps in proptest::collection::vec(0usize..3, 60),
        ) {
            let idx = both(&["skynet", "robots", "t-800", "superintelligences"], &["AI"]);
            let mut text = String::new();
            for (w, g) in words.iter().zip(&gaps) {
                text.push_str(w);
                text.push_str(&" ".repeat(g + 1));
            }
            let tokens = found(&idx, &text)
                .into_iter()
                .filter_map(|f| match f {
                    Found::Token { start, end, .. } | Found::ExactToken { start, end, .. } => {
                        Some(text[start..end].to_string())
                    }
                    _ => None,
                })
                .collect::<Vec<_>>();
            let alone = |w: &str| {
                let t = w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_');
                let one_token = !t.is_empty()
                    && t.bytes().all(|c| WORD[usize::from(c)])
                    && w.bytes().filter(|&c| WORD[usize::from(c)]).count() == t.len();
                (one_token
                    && (["skynet", "robots", "superintelligences"]
                        .contains(&t.to_ascii_lowercase().as_str())
                        || t == "AI"))
                    .then(|| t.to_string())
            };
            let expected: Vec<String> = words.iter().filter_map(|w| alone(w)).collect();
            proptest::prop_assert_eq!(tokens, expected);
        }
    }

    #[test]
    fn long_tokens_and_block_edges() {
        let long = "superintelligences";
        let idx = both(&[long, "ai_safety"], &["AI will"]);
        for pad in 55..70 {
            let text = format!(
                "{} {} {} AI will",
                "z".repeat(pad),
                long.to_uppercase(),
                "AI_Safety"
            );
            let start = pad + 1;
            let safety = start + long.len() + 1;
            assert_eq!(
                found(&idx, &text),
                vec![
                    Found::Token {
                        start,
                        end: start + long.len(),
                        anchor: 0
                    },
                    Found::Token {
                        start: safety,
                        end: safety + 9,
                        anchor: 1
                    },
                    Found::ExactChunk {
                        start: safety + 10,
                        end: text.len()
                    },
                ],
                "{pad}"
            );
        }
        // Same first and last eight bytes, another middle: no match.
        assert_eq!(found(&idx, "superintalligences"), vec![]);
    }
}
