//! The anchors' leading tokens: which parts of a text the anchor automaton must see, and a
//! direct lookup that replaces the automaton where a text chunk is a single token.
//!
//! Exact by construction (tests/matcher_equivalence.rs compares against the whole-text
//! automaton). Terms, with the matcher's premises (checked when the index is built):
//! - A *chunk* is a maximal run of bytes that are not ASCII whitespace. No anchor contains
//!   ASCII whitespace, so leftmost-longest matching over the whole text equals matching each
//!   chunk on its own (same matches, same order).
//! - A *token* is a maximal run of ASCII word bytes `[A-Za-z0-9_]`. Every anchor starts with a
//!   word byte; its *leading token* is its longest prefix of word bytes. A match that passes
//!   the word-boundary check starts at the start of a text token equal to the anchor's
//!   leading token (ASCII case folded), and the byte after that text token is the byte after
//!   the leading token in the anchor (or the anchor ends there).
//!
//! So only tokens that are the leading token of some anchor *and* are followed by a byte
//! some such anchor continues with (`t` then `-` for `t-800`; anything for a one-token anchor
//! like `skynet`) need a look; the rest of the text holds no match that could count. Keying
//! on the next byte too matters: one-letter leading tokens (`t-800`, `x-risk`, `c-3po`) would
//! otherwise send every "don't" and "can't" to the automaton.
//!
//! Most chunks that hold such a token hold only that token plus non-word bytes (`Skynet,`,
//! `(robots)`). There the automaton's answer is known without running it: no anchor can
//! start on a non-word byte, anchors that continue past the token with a word byte cannot fit,
//! so the only match that can pass the boundary check is the token itself, exactly when it is
//! a one-token anchor — unless an anchor is the token plus non-word bytes only (`colossus:`),
//! in which case the automaton decides. Other chunks (`robot's`, `t-800`, URLs) go to the
//! automaton.

use super::bytemask::{block_at, word_mask, WORD};

/// A part of the text the anchor pass must handle, reported in text order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    /// The one-token anchor number `anchor` occurs at `start..end`, alone in its chunk.
    Token {
        start: usize,
        end: usize,
        anchor: u32,
    },
    /// The chunk `start..end` may hold matches: run the automaton over it.
    Chunk { start: usize, end: usize },
}

/// What the anchors with one leading token need.
#[derive(Debug, Clone)]
struct Entry {
    /// The token, ASCII-lowercased.
    token: Box<[u8]>,
    /// The anchor that is exactly this token, if any.
    whole: Option<u32>,
    /// Bytes that follow the token in the other anchors (a 256-bit set).
    next: [u64; 4],
    /// Some anchor is this token followed by non-word bytes only (`colossus:`, `mouth,`).
    non_word_tail: bool,
}

impl Entry {
    /// True when a token with this text followed by `next` (`None`: end of text) can start
    /// a match.
    #[inline(always)]
    fn wanted(&self, next: Option<u8>) -> bool {
        self.whole.is_some()
            || next.is_some_and(|c| self.next[usize::from(c >> 6)] >> (c & 63) & 1 != 0)
    }
}

/// Index of the anchors' leading tokens.
#[derive(Debug, Clone)]
pub(super) struct AnchorTokens {
    /// Prefilter: bit `hash >> (64 - BITS)` set for every leading token.
    bits: Box<[u64]>,
    /// Open addressing over `entries` by bits 24.. of the hash; `EMPTY` ends a probe.
    slots: Box<[u32]>,
    entries: Vec<Entry>,
    /// Longest leading token.
    max_len: usize,
}

/// Prefilter size: 2^16 bits (8 KiB, in L1) for ~950 tokens, so about 1.5% of the tokens
/// that are no anchor's get past it.
const BITS: u32 = 16;
const EMPTY: u32 = u32::MAX;

/// Case-insensitive hash of the token `hay[s..e]` (non-empty, word bytes only): its length,
/// its first and last (up to) eight bytes.
#[inline(always)]
fn token_hash(hay: &[u8], s: usize, e: usize) -> u64 {
    let n = e - s;
    let head = load_folded(hay, s, n.min(8));
    let tail = if n > 8 { load_folded(hay, e - 8, 8) } else { 0 };
    (head ^ tail.rotate_left(31) ^ (n as u64) << 58).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// `k` (1..=8) bytes from `hay[at..]` as a little-endian word, ASCII case folded (`| 0x20`
/// maps each upper-case letter to its lower case and no other word byte onto a word byte).
#[inline(always)]
fn load_folded(hay: &[u8], at: usize, k: usize) -> u64 {
    let keep = u64::MAX >> (64 - 8 * k);
    let word = match hay.get(at..at + 8) {
        Some(w) => u64::from_le_bytes(w.try_into().expect("8 bytes")),
        None => {
            let mut w = [0u8; 8];
            w[..k].copy_from_slice(&hay[at..at + k]);
            u64::from_le_bytes(w)
        }
    };
    (word | 0x2020_2020_2020_2020) & keep
}

impl AnchorTokens {
    /// Builds from the lowercased anchors, numbered by position; `None` if an anchor breaks
    /// the premises (empty, starts with a non-word byte, or holds ASCII whitespace).
    pub(super) fn new(anchors: &[String]) -> Option<AnchorTokens> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut by_token = std::collections::HashMap::new();
        for (i, a) in anchors.iter().enumerate() {
            let b = a.as_bytes();
            if b.is_empty() || !WORD[usize::from(b[0])] || b.iter().any(u8::is_ascii_whitespace) {
                return None;
            }
            let n = b.iter().take_while(|&&c| WORD[usize::from(c)]).count();
            let token = &b[..n];
            let k = *by_token.entry(token.to_vec()).or_insert_with(|| {
                entries.push(Entry {
                    token: token.into(),
                    whole: None,
                    next: [0; 4],
                    non_word_tail: false,
                });
                entries.len() - 1
            });
            let e = &mut entries[k];
            match b.get(n) {
                None => e.whole = Some(u32::try_from(i).ok()?),
                Some(&c) => {
                    e.next[usize::from(c >> 6)] |= 1 << (c & 63);
                    e.non_word_tail |= !b[n..].iter().any(|&c| WORD[usize::from(c)]);
                }
            }
        }
        let mut idx = AnchorTokens {
            bits: vec![0u64; 1 << (BITS - 6)].into_boxed_slice(),
            slots: vec![EMPTY; (entries.len() * 4).next_power_of_two()].into_boxed_slice(),
            entries: Vec::new(),
            max_len: 0,
        };
        for (k, e) in entries.iter().enumerate() {
            let h = token_hash(&e.token, 0, e.token.len());
            let bit = (h >> (64 - BITS)) as usize;
            idx.bits[bit >> 6] |= 1 << (bit & 63);
            let mask = idx.slots.len() - 1;
            let mut slot = (h >> 24) as usize & mask;
            while idx.slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            idx.slots[slot] = u32::try_from(k).ok()?;
            idx.max_len = idx.max_len.max(e.token.len());
        }
        idx.entries = entries;
        Some(idx)
    }

    /// The entry of the text token `hay[s..e]` with hash `h`, if it is a leading token.
    #[inline(always)]
    fn entry(&self, hay: &[u8], s: usize, e: usize, h: u64) -> Option<&Entry> {
        let mask = self.slots.len() - 1;
        let mut slot = (h >> 24) as usize & mask;
        loop {
            let k = *self.slots.get(slot)?;
            let entry = self.entries.get(k as usize)?;
            if entry.token.eq_ignore_ascii_case(&hay[s..e]) {
                return Some(entry);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Calls `f`, in text order, for every part of `hay` that can hold an anchor match on word
    /// boundaries (see the module documentation).
    ///
    /// Per token, only the hash and one bit test run (tokens are ~6 bytes of English text
    /// apart, so every instruction here is ~0.17 per byte); the rest is [`Self::look`].
    #[inline]
    pub(super) fn scan(&self, hay: &[u8], mut f: impl FnMut(Found)) {
        let n = hay.len();
        let mut base = 0;
        // Bit 0: the byte before the block is a word byte.
        let mut prev_word = 0u64;
        // Start of a token that runs on past the previous block.
        let mut pending = None;
        // Tokens starting before this lie in a chunk already reported.
        let mut skip_to = 0;
        while base < n {
            let mask = word_mask(&block_at(hay, base, b' '));
            let next_word = hay
                .get(base + 64)
                .map_or(0, |&c| u64::from(WORD[usize::from(c)]));
            // First and last byte of each token; starts and ends alternate in a block, but
            // for a token running in from the block before (`pending`) or on past this one.
            let mut starts = mask & !(mask << 1 | prev_word);
            let mut ends = mask & !(mask >> 1 | next_word << 63);
            prev_word = mask >> 63;
            if skip_to > base {
                let keep = below(skip_to - base);
                starts &= !keep;
                ends &= !keep;
            }
            if let Some(s) = pending {
                if ends == 0 {
                    base += 64;
                    continue;
                }
                pending = None;
                let block = Bits {
                    base,
                    starts: &mut starts,
                    ends: &mut ends,
                };
                self.token_ending_first(hay, s, block, &mut skip_to, &mut f);
            }
            while starts != 0 {
                let s = base + starts.trailing_zeros() as usize;
                starts &= starts - 1;
                if ends == 0 {
                    pending = Some(s);
                    break;
                }
                let block = Bits {
                    base,
                    starts: &mut starts,
                    ends: &mut ends,
                };
                self.token_ending_first(hay, s, block, &mut skip_to, &mut f);
            }
            base += 64;
        }
        if let Some(s) = pending {
            // A token running to the end of the text.
            self.token(hay, s, n, &mut f);
        }
    }

    /// The token from `s` to the first end bit of the block: takes that bit, and when the
    /// token's chunk was reported, the bits of the tokens inside it and `skip_to`.
    #[inline(always)]
    fn token_ending_first(
        &self,
        hay: &[u8],
        s: usize,
        block: Bits<'_>,
        skip_to: &mut usize,
        f: &mut impl FnMut(Found),
    ) {
        let e = block.base + block.ends.trailing_zeros() as usize + 1;
        *block.ends &= *block.ends - 1;
        if let Some(ce) = self.token(hay, s, e, f) {
            *skip_to = ce;
            let keep = below(ce - block.base);
            *block.starts &= !keep;
            *block.ends &= !keep;
        }
    }

    /// The text token `hay[s..e]`: reports what it needs; returns the end of its chunk when
    /// it reported one (tokens before that are done).
    #[inline(always)]
    fn token(&self, hay: &[u8], s: usize, e: usize, f: &mut impl FnMut(Found)) -> Option<usize> {
        if e - s > self.max_len {
            return None;
        }
        let h = token_hash(hay, s, e);
        let bit = (h >> (64 - BITS)) as usize;
        if self.bits[bit >> 6] >> (bit & 63) & 1 == 0 {
            return None;
        }
        self.look(hay, s, e, h, f)
    }

    /// The rare path of [`Self::token`]: the token passed the prefilter.
    #[inline(never)]
    fn look(
        &self,
        hay: &[u8],
        s: usize,
        e: usize,
        h: u64,
        f: &mut impl FnMut(Found),
    ) -> Option<usize> {
        let entry = self.entry(hay, s, e, h)?;
        if !entry.wanted(hay.get(e).copied()) {
            return None;
        }
        // The chunk around the token, and whether it holds another token.
        let mut alone = true;
        let mut cs = s;
        while cs > 0 && !hay[cs - 1].is_ascii_whitespace() {
            cs -= 1;
            alone &= !WORD[usize::from(hay[cs])];
        }
        let mut ce = e;
        while ce < hay.len() && !hay[ce].is_ascii_whitespace() {
            alone &= !WORD[usize::from(hay[ce])];
            ce += 1;
        }
        if !alone || entry.non_word_tail {
            f(Found::Chunk { start: cs, end: ce });
        } else if let Some(anchor) = entry.whole {
            f(Found::Token {
                start: s,
                end: e,
                anchor,
            });
        }
        Some(ce)
    }
}

/// The token start and end bits left in the block at `base`.
struct Bits<'a> {
    base: usize,
    starts: &'a mut u64,
    ends: &'a mut u64,
}

/// Bits below `k` (all 64 from `k` = 64 on).
#[inline(always)]
fn below(k: usize) -> u64 {
    if k >= 64 {
        u64::MAX
    } else {
        (1u64 << k) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(anchors: &[&str]) -> AnchorTokens {
        let v: Vec<String> = anchors.iter().map(|a| a.to_string()).collect();
        AnchorTokens::new(&v).expect("premises hold")
    }

    fn found(idx: &AnchorTokens, text: &str) -> Vec<Found> {
        let mut v = Vec::new();
        idx.scan(text.as_bytes(), |f| v.push(f));
        v
    }

    #[test]
    fn premises_checked() {
        for bad in ["", "-x", "two words", "tab\tx", "'quoted'"] {
            assert!(AnchorTokens::new(&[bad.to_string()]).is_none(), "{bad:?}");
        }
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
    fn long_tokens_and_block_edges() {
        let long = "superintelligences";
        let idx = index(&[long, "ai_safety"]);
        for pad in 55..70 {
            let text = format!(
                "{} {} {}",
                "z".repeat(pad),
                long.to_uppercase(),
                "AI_Safety"
            );
            let start = pad + 1;
            assert_eq!(
                found(&idx, &text),
                vec![
                    Found::Token {
                        start,
                        end: start + long.len(),
                        anchor: 0
                    },
                    Found::Token {
                        start: start + long.len() + 1,
                        end: text.len(),
                        anchor: 1
                    },
                ],
                "{pad}"
            );
        }
        // Same first and last eight bytes, another middle: no match.
        assert_eq!(found(&idx, "superintalligences"), vec![]);
    }
}
