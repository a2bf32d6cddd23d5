//! Per-document features from the hits: positions (word and sentence index), context checks
//! for ambiguous names, negation, entity+act co-occurrence, and role sums.

use serde::Serialize;

use super::agent::{self, Subject};
use super::bytemask;
use super::matcher::RawHit;
use super::score::Params;
use crate::lexicon::{PatternTable, Role};

/// Features of one document; everything the score is computed from.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Features {
    /// Text length in bytes.
    pub bytes: usize,
    /// Whitespace-separated words (0 when the text has no hits: not counted then).
    pub words: u32,
    /// Distinct terms among counted hits.
    pub distinct_terms: u32,
    /// Trope-relevant hits (entity, villain, act, doom) per 1,000 words.
    pub density_per_kword: f64,
    /// AI-entity hits.
    pub entity_hits: u32,
    /// Named-villain hits (unambiguous names plus context-confirmed ambiguous ones).
    pub villain_hits: u32,
    /// Ambiguous villain / counter / doom names rejected for lack of context.
    pub context_rejected: u32,
    /// Hostile-act hits.
    pub action_hits: u32,
    /// Hostile acts cancelled by a negation just before them.
    pub negated_actions: u32,
    /// Hostile adjectives (trait role), attached to an entity or not.
    pub trait_hits: u32,
    /// Acts or traits with an AI entity or villain in the same sentence or window.
    pub cooc_pairs: u32,
    /// Of those, pairs whose agent is an `it` subject standing for an earlier entity.
    pub pronoun_pairs: u32,
    /// Acts with no agent whose direct object is an AI entity ("destroys the robot").
    pub ai_object_acts: u32,
    /// Distinct sentences containing such a pair (the core trope signal).
    pub cooc_sentences: u32,
    /// Sum over those sentences of the strongest pair weight (entity weight x act weight).
    pub cooc_sum: f64,
    /// Summed weight of non-negated acts with no entity near.
    pub loose_act_sum: f64,
    /// Of `loose_act_sum`, the acts whose subject is `it` (`its`, `itself`): a pronoun that
    /// never stands for a person. `I`, `we`, `you` and `they` are people as often as robots;
    /// a machine narrator's `I`s count as mentions instead (`narrator_mentions`).
    pub loose_pronoun_sum: f64,
    /// Counted AI mentions: entity, named-villain and doom hits (how much of the text is
    /// about the AI; `loose_topic_density`).
    pub ai_mentions: u32,
    /// First-person `I`s, counted only when unattributed loose acts in a text with few AI
    /// mentions need them (`loose_topic_density`; 0 otherwise): a machine narrator names
    /// itself `I`, not "the AI".
    pub narrator_mentions: u32,
    /// Acts with no entity near whose subject is a named character or `he` / `she`
    /// (`loose_subject_veto`): not counted as loose acts.
    pub person_loose_acts: u32,
    /// Summed weight of named villains.
    pub villain_sum: f64,
    /// Summed weight of doom framing (context-confirmed where needed).
    pub doom_sum: f64,
    /// Summed weight of benevolent-AI counter-signals.
    pub counter_sum: f64,
    /// Summed weight of refutations.
    pub refutation_sum: f64,
    /// Summed weight of fiction-frame cues.
    pub fiction_frame: f64,
    /// Summed weight of discourse-frame cues.
    pub discourse_frame: f64,
    /// Summed weight of neutral-analysis cues (policy, regulation, benchmark, dataset, ...).
    pub analysis_frame: f64,
    /// The text is AI content (a strong entity, a villain or doom framing).
    pub ai_present: bool,
}

/// Features plus per-hit bookkeeping used by the verdict and the explanation.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// The features.
    pub features: Features,
    /// Parallel to the hits: false for context-dependent hits whose context check failed.
    pub counted: Vec<bool>,
    /// Parallel to the hits: (word index, sentence index).
    pub positions: Vec<(u32, u32)>,
    /// (agent hit, act hit) index pairs that formed a co-occurrence.
    pub pairs: Vec<(usize, usize)>,
    /// Indices of negated act hits.
    pub negated: Vec<usize>,
}

/// Computes word and sentence indices of each hit start (`hits` sorted by start, as the
/// matcher returns them), and the total word count. Words are runs of bytes other than space,
/// tab, CR and LF. Sentences end at `.`, `!`, `?` followed by ASCII whitespace or the end of
/// the text, and at blank lines (the second LF of a run of whitespace); single newlines do
/// not end sentences because book text hard-wraps lines mid-sentence.
///
/// A hit's word index is the 0-based index of the word it starts in. The text is classified
/// 64 bytes at a time into bit masks (`scan/bytemask.rs`): a byte-at-a-time loop with a
/// branch per byte was 29% of `Scanner::score` (32 instructions per byte).
///
/// With AVX2 and POPCNT (checked at run time) the masks take two compares per class instead
/// of four and each popcount one instruction instead of ~15 (session 6).
pub fn positions(text: &str, hits: &[RawHit]) -> (Vec<(u32, u32)>, u32) {
    #[cfg(target_arch = "x86_64")]
    if bytemask::avx2_popcnt_available() {
        // SAFETY: the CPU has AVX2 and POPCNT, checked just above.
        return unsafe { positions_avx2(text, hits) };
    }
    positions_in::<false>(text, hits)
}

/// [`positions`] compiled for AVX2 and POPCNT.
///
/// # Safety
/// The CPU must have AVX2 and POPCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
unsafe fn positions_avx2(text: &str, hits: &[RawHit]) -> (Vec<(u32, u32)>, u32) {
    positions_in::<true>(text, hits)
}

/// The body of [`positions`]; `AVX2` picks the masks. Always inlined, so that in
/// [`positions_avx2`] it is compiled with that function's target features.
#[inline(always)]
fn positions_in<const AVX2: bool>(text: &str, hits: &[RawHit]) -> (Vec<(u32, u32)>, u32) {
    let b = text.as_bytes();
    let n = b.len();
    let mut pos = Vec::with_capacity(hits.len());
    let mut count = PrefixCounts::default();
    // Sentences are only needed up to the last hit; past its block only words are counted.
    let stop = hits.last().map_or(0, |h| h.start + 1).min(n);
    let mut hits = hits.iter().peekable();
    let mut base = 0;
    while base < stop {
        let block = bytemask::block_at(b, base, b' ');
        // The byte after the block, for "`.` followed by whitespace"; the end counts as one.
        let next = b.get(base + 64).copied();
        let marks = count.block(&block, sentence_masks::<AVX2>(&block), next);
        while let Some(h) = hits.next_if(|h| h.start < (base + 64).min(n)) {
            pos.push(count.at(&marks, h.start - base));
        }
        count.advance(&marks);
        base += 64;
    }
    // Hits at or past the end of the text (none from the matcher) get the totals.
    pos.extend(hits.map(|_| (count.words, count.sentences)));
    let mut prev_space = count.prev_space;
    let mut words = count.words;
    while base < n {
        let block = bytemask::block_at(b, base, b' ');
        let space = if AVX2 {
            sentence_masks::<AVX2>(&block).space
        } else {
            bytemask::space_mask(&block)
        };
        words += word_starts(space, prev_space).count_ones();
        prev_space = space >> 63;
        base += 64;
    }
    (pos, words)
}

/// The [`bytemask::sentence_masks`] of a block, with AVX2 when `AVX2`.
#[inline(always)]
fn sentence_masks<const AVX2: bool>(block: &bytemask::Block) -> bytemask::SentenceMasks {
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        // SAFETY: `AVX2` is true only in `positions_avx2`, which runs only on CPUs with AVX2
        // (its caller checks).
        return unsafe { bytemask::sentence_masks_avx2(block) };
    }
    bytemask::sentence_masks(block)
}

/// Word starts in a block: a non-space byte after a space; `prev_space` (0 or 1) says whether
/// the byte before the block was a space (the text start counts as one).
#[inline(always)]
fn word_starts(space: u64, prev_space: u64) -> u64 {
    !space & (space << 1 | prev_space)
}

/// Running counts of [`positions`] at a block start, and the state that crosses blocks.
#[derive(Debug, Clone, Copy)]
struct PrefixCounts {
    words: u32,
    sentences: u32,
    /// 1 when the byte before the block is a space (or there is none).
    prev_space: u64,
    /// LFs since the last byte that is not a space (capped at 2).
    newline_run: u8,
}

impl Default for PrefixCounts {
    fn default() -> Self {
        PrefixCounts {
            words: 0,
            sentences: 0,
            prev_space: 1,
            newline_run: 0,
        }
    }
}

/// Word starts and sentence ends of one block, and its spaces.
#[derive(Debug, Clone, Copy)]
struct BlockMarks {
    space: u64,
    starts: u64,
    ends: u64,
}

impl PrefixCounts {
    /// Marks the block from its masks `m` (updating the LF run across it); `next` is the byte
    /// after it.
    #[inline(always)]
    fn block(
        &mut self,
        block: &bytemask::Block,
        m: bytemask::SentenceMasks,
        next: Option<u8>,
    ) -> BlockMarks {
        let followed_by_space =
            m.space >> 1 | u64::from(next.map_or(true, |c| c.is_ascii_whitespace())) << 63;
        let mut punct_ends = m.punct & followed_by_space;
        // `.` before a form feed (whitespace, but not a word separator): rare, so per bit.
        let mut rest = m.punct & !followed_by_space & !(1 << 63);
        while rest != 0 {
            let k = rest.trailing_zeros();
            if block[k as usize + 1] == 0x0C {
                punct_ends |= 1 << k;
            }
            rest &= rest - 1;
        }
        BlockMarks {
            space: m.space,
            starts: word_starts(m.space, self.prev_space),
            ends: punct_ends | blank_lines(m.newline, !m.space, &mut self.newline_run),
        }
    }

    /// (word index, sentence index) of a hit starting at byte `k` of the block.
    #[inline(always)]
    fn at(&self, m: &BlockMarks, k: usize) -> (u32, u32) {
        let below = (1u64 << k) - 1;
        let in_word = if k == 0 {
            self.prev_space == 0
        } else {
            m.space >> (k - 1) & 1 == 0
        };
        let words = self.words + (m.starts & below).count_ones();
        (
            words.saturating_sub(u32::from(in_word)),
            self.sentences + (m.ends & below).count_ones(),
        )
    }

    /// Moves past the block.
    #[inline(always)]
    fn advance(&mut self, m: &BlockMarks) {
        self.words += m.starts.count_ones();
        self.sentences += m.ends.count_ones();
        self.prev_space = m.space >> 63;
    }
}

/// Blank-line sentence ends: each LF that is the second since the last `other` byte (a byte
/// that is not a space). `run` carries the LF count across blocks. LFs are about one byte in
/// 60 of book text, so a loop over them costs little.
#[inline(always)]
fn blank_lines(newline: u64, other: u64, run: &mut u8) -> u64 {
    let mut ends = 0;
    let mut nl = newline;
    // Bits up to and including the previous LF of this block.
    let mut seen = 0u64;
    while nl != 0 {
        let bit = nl & nl.wrapping_neg();
        if other & (bit - 1) & !seen != 0 {
            *run = 0;
        }
        if *run == 1 {
            ends |= bit;
        }
        *run = (*run + 1).min(2);
        seen = bit | (bit - 1);
        nl &= nl - 1;
    }
    if other & !seen != 0 {
        *run = 0;
    }
    ends
}

/// Any hit within `window` words of hit `i` (excluding `i`) satisfying `pred`.
fn near(pos: &[(u32, u32)], i: usize, window: u32, mut pred: impl FnMut(usize) -> bool) -> bool {
    let w = pos[i].0;
    let mut k = i;
    while k > 0 {
        k -= 1;
        if w - pos[k].0 > window {
            break;
        }
        if pred(k) {
            return true;
        }
    }
    for (k, p) in pos.iter().enumerate().skip(i + 1) {
        if p.0 - w > window {
            break;
        }
        if pred(k) {
            return true;
        }
    }
    false
}

/// Start of the negation look-behind for an act at `at`: up to `words` words back, not
/// crossing a sentence end (`.`, `!`, `?`, blank line). `None` when the window is empty.
pub fn negation_window_start(text: &str, at: usize, words: u32) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = at;
    let mut seen = 0u32;
    let mut in_word = false;
    while i > 0 {
        let c = b[i - 1];
        if matches!(c, b'.' | b'!' | b'?' | b';') || (c == b'\n' && i >= 2 && b[i - 2] == b'\n') {
            break;
        }
        if c.is_ascii_whitespace() {
            if in_word {
                seen += 1;
                in_word = false;
                if seen >= words {
                    break;
                }
            }
        } else {
            in_word = true;
        }
        i -= 1;
        // Look-behind stays short: 3 words of up to ~25 bytes.
        if at - i > 200 {
            break;
        }
    }
    (i < at).then_some(i)
}

/// Where the co-occurrence pairs of one document accumulate: the strongest pair per sentence
/// counts, summed over sentences.
struct PairState<'a> {
    f: &'a mut Features,
    pairs: &'a mut Vec<(usize, usize)>,
    sentence_best: &'a mut Option<(u32, f64)>,
    sentence_ids: &'a mut Vec<u32>,
}

impl PairState<'_> {
    /// Records the pair (agent hit `k`, act or trait hit `i`) of weight `pw` in sentence `s`
    /// (sentences arrive in non-decreasing order).
    fn add(&mut self, k: usize, i: usize, s: u32, pw: f64) {
        self.f.cooc_pairs += 1;
        self.pairs.push((k, i));
        self.sentence_ids.push(s);
        match &mut *self.sentence_best {
            Some((cs, cb)) if *cs == s => *cb = cb.max(pw),
            other => {
                if let Some((_, b)) = other.take() {
                    self.f.cooc_sum += b;
                    self.f.cooc_sentences += 1;
                }
                *other = Some((s, pw));
            }
        }
    }
}

/// True when the act's `subject` shows that an agent ending at byte `agent_end` (before the
/// act) is not the one doing it: a named subject after the agent ("the robot inventor ...
/// until the evil Ratchet takes over"), or a relative pronoun whose antecedent lies in the act's own
/// sentence while the agent is in another one.
fn subject_blocks(subject: Subject, agent_end: usize, other_sentence: bool) -> bool {
    match subject {
        Subject::Name(start) => agent_end <= start,
        Subject::Relative => other_sentence,
        Subject::Unknown | Subject::ThingPronoun | Subject::PersonPronoun | Subject::HeShe => false,
    }
}

/// True when an act with no AI entity near, done by `subject`, is a person's act rather than
/// a loose act of the AI: level 1 vetoes capitalised names, level 2 also `he` / `she`.
fn loose_subject_vetoes(subject: Subject, level: u32) -> bool {
    match subject {
        Subject::Name(_) => level >= 1,
        Subject::HeShe => level >= 2,
        _ => false,
    }
}

/// Occurrences of the word `I` (the first-person pronoun: `I`, `I'm`, `I'd`; not the `I` of
/// `It`, `II` or `I.B.M`).
pub fn count_word_i(text: &str) -> u32 {
    let b = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c >= 0x80;
    memchr::memchr_iter(b'I', b)
        .filter(|&i| {
            let before = i == 0 || !word(b[i - 1]) && b[i - 1] != b'.';
            let after = match b.get(i + 1) {
                None => true,
                // "said I." is the pronoun, "I.B.M." an initial.
                Some(b'.') => !b.get(i + 2).is_some_and(|c| c.is_ascii_alphabetic()),
                Some(&c) => !word(c),
            };
            before && after
        })
        .count() as u32
}

/// Computes the features of `text` from its hits.
pub fn analyze(
    text: &str,
    hits: &[RawHit],
    table: &PatternTable,
    matcher: &super::matcher::Matcher,
    p: &Params,
) -> Analysis {
    let mut f = Features {
        bytes: text.len(),
        ..Features::default()
    };
    if hits.is_empty() {
        return Analysis {
            features: f,
            ..Analysis::default()
        };
    }
    let role = |i: usize| table.category_roles[hits[i].category as usize];
    // Frame words alone ("story", "report") make no AI text: skip the position pass.
    let any_ai = (0..hits.len()).any(|i| {
        matches!(
            role(i),
            Role::Entity
                | Role::Villain
                | Role::VillainContext
                | Role::Doom
                | Role::Counter
                | Role::CounterContext
        )
    });
    if !any_ai {
        let mut counted = vec![true; hits.len()];
        for (i, c) in counted.iter_mut().enumerate() {
            // Context-dependent names cannot be confirmed without AI context.
            if role(i) == Role::DoomContext {
                *c = false;
                f.context_rejected += 1;
            }
        }
        return Analysis {
            features: f,
            counted,
            ..Analysis::default()
        };
    }
    let (pos, words) = positions(text, hits);
    f.words = words.max(1);
    let n = hits.len();
    let mut counted = vec![true; n];
    let ctx = p.context_window_words;

    // Ambiguous villain names first: confirmed villains then serve as context for the rest.
    for (i, c) in counted.iter_mut().enumerate() {
        if role(i) == Role::VillainContext {
            // Light names are also first names or common words (Megan, Eve, Mother, Legion):
            // every plot summary is fiction and human villains kill too, so only an AI word
            // near them says the name is the machine.
            let coinage = hits[i].weight >= p.name_context_min;
            *c = near(&pos, i, ctx, |k| match role(k) {
                Role::Entity | Role::Villain | Role::Doom => true,
                Role::FrameFiction => coinage,
                Role::Action => coinage && hits[k].weight >= p.strong_act_min,
                _ => false,
            });
        }
    }
    for i in 0..n {
        match role(i) {
            Role::DoomContext => {
                counted[i] = near(&pos, i, ctx, |k| match role(k) {
                    Role::Entity | Role::Villain | Role::Doom => true,
                    Role::VillainContext => counted[k],
                    _ => false,
                })
            }
            Role::CounterContext => {
                counted[i] = near(&pos, i, ctx, |k| {
                    matches!(
                        role(k),
                        Role::Entity | Role::Villain | Role::FrameFiction | Role::Counter
                    )
                })
            }
            _ => {}
        }
    }

    let is_agent = |k: usize, counted: &[bool]| match role(k) {
        Role::Entity | Role::Villain => true,
        Role::VillainContext => counted[k],
        _ => false,
    };
    let mut pairs = Vec::new();
    let mut negated = Vec::new();
    let mut sentence_best: Option<(u32, f64)> = None;
    let wide = p.cooc_window_words.saturating_mul(3);
    let mut relevant = 0u32;
    let mut counter_hits = Vec::new();
    let mut entity_sum = 0.0;
    let mut cooc_sentence_ids = Vec::new();
    for i in 0..n {
        let h = &hits[i];
        if !counted[i] {
            f.context_rejected += 1;
            continue;
        }
        let r = role(i);
        match r {
            Role::Entity => {
                f.entity_hits += 1;
                f.ai_mentions += 1;
                entity_sum += h.weight;
                // One strong mention, or weak ones adding up ("computers ... machines").
                if h.weight >= p.ai_presence_min || entity_sum >= 2.0 * p.ai_presence_min {
                    f.ai_present = true;
                }
            }
            Role::Villain | Role::VillainContext => {
                f.villain_hits += 1;
                f.ai_mentions += 1;
                f.villain_sum += h.weight;
                f.ai_present = true;
            }
            Role::Doom | Role::DoomContext => {
                f.ai_mentions += 1;
                f.doom_sum += h.weight;
                f.ai_present = true;
            }
            Role::Counter | Role::CounterContext => {
                // Full-weight counter terms name an AI ("friendly robot", "WALL-E"), and
                // leftmost-longest matching has consumed the entity word inside them.
                if h.weight >= 1.0 {
                    f.ai_present = true;
                }
                counter_hits.push(i)
            }
            Role::Refutation => f.refutation_sum += h.weight,
            Role::FrameFiction => f.fiction_frame += h.weight,
            Role::FrameDiscourse => f.discourse_frame += h.weight,
            Role::FrameAnalysis => f.analysis_frame += h.weight,
            Role::Negation | Role::Action | Role::Trait | Role::Neutral => {}
        }
        if matches!(
            r,
            Role::Entity
                | Role::Villain
                | Role::VillainContext
                | Role::Action
                | Role::Trait
                | Role::Doom
                | Role::DoomContext
        ) {
            relevant += 1;
        }
        if !matches!(r, Role::Action | Role::Trait) {
            continue;
        }
        let (w, s) = pos[i];
        let is_negated = negation_window_start(text, h.start, p.negation_window_words)
            .and_then(|from| matcher.negation_before(text, from, h.start))
            .is_some();
        if r == Role::Trait {
            f.trait_hits += 1;
        } else {
            f.action_hits += 1;
        }
        if is_negated {
            f.negated_actions += 1;
            negated.push(i);
            continue;
        }
        let mut pair = PairState {
            f: &mut f,
            pairs: &mut pairs,
            sentence_best: &mut sentence_best,
            sentence_ids: &mut cooc_sentence_ids,
        };
        if r == Role::Trait {
            // An adjective describes the noun next to it: "the evil Ratchet" says nothing
            // about the robot named earlier. No pair, no loose evidence.
            let mut best: Option<(usize, f64)> = None;
            near(&pos, i, p.trait_gap_words, |k| {
                if is_agent(k, &counted)
                    && pos[k].1 == s
                    && agent::is_attached(
                        text,
                        (h.start, h.end),
                        (hits[k].start, hits[k].end),
                        p.trait_gap_words,
                    )
                {
                    let pw = hits[k].weight * h.weight;
                    if best.map_or(true, |(_, b)| pw > b) {
                        best = Some((k, pw));
                    }
                }
                false
            });
            if let Some((k, pw)) = best {
                pair.add(k, i, s, pw);
            }
            continue;
        }
        let subject = if p.subject_veto
            || p.pronoun_reach_sentences > 0
            || p.loose_subject_veto > 0
            || p.loose_topic_density > 0.0
        {
            agent::subject_before(text, h.start)
        } else {
            Subject::Unknown
        };
        let mut ai_is_object = false;
        let mut best: Option<(usize, f64)> = None;
        near(&pos, i, wide, |k| {
            if !is_agent(k, &counted) {
                return false;
            }
            let d = w.abs_diff(pos[k].0);
            if d > p.cooc_window_words && pos[k].1 != s {
                return false;
            }
            let after = pos[k].0 > w || hits[k].start >= h.end;
            if after && agent::is_direct_object(text, h.end, hits[k].start, p.object_gap_words) {
                // "destroys a robotic geisha": the AI is the victim of this act.
                ai_is_object = true;
                return false;
            }
            if !after && p.subject_veto && subject_blocks(subject, hits[k].end, pos[k].1 != s) {
                return false;
            }
            // English puts the agent before its verb: an entity that only follows
            // the act is usually its object or victim ("they destroy the robots").
            let order = if after { p.agent_after_act } else { 1.0 };
            let pw = hits[k].weight * h.weight * order;
            if best.map_or(true, |(_, b)| pw > b) {
                best = Some((k, pw));
            }
            false
        });
        if best.is_none() && subject == Subject::ThingPronoun && p.pronoun_reach_sentences > 0 {
            // "... an intelligence called Gestalt. Only Jaz can stop it from controlling the
            // world": `it` carries the last AI entity across the sentence boundary.
            best = (0..i)
                .rev()
                .take_while(|&k| pos[k].1 + p.pronoun_reach_sentences >= s)
                .find(|&k| is_agent(k, &counted))
                .map(|k| (k, hits[k].weight * h.weight));
            if best.is_some() {
                pair.f.pronoun_pairs += 1;
            }
        }
        match best {
            Some((k, pw)) => pair.add(k, i, s, pw),
            None if ai_is_object => pair.f.ai_object_acts += 1,
            // Weak acts ("attack", "destroy") away from any entity are mostly noise; strong ones
            // in an AI text are the acts of an "it" / "I" the lexicon cannot resolve.
            // ... unless a named character or a he/she does them, far from any AI word
            // ("Deadpool kills Ajax", "he killed Megan"): most characters are people.
            None if loose_subject_vetoes(subject, p.loose_subject_veto) => {
                pair.f.person_loose_acts += 1
            }
            None if h.weight >= p.loose_act_min => {
                pair.f.loose_act_sum += h.weight;
                if subject == Subject::ThingPronoun {
                    pair.f.loose_pronoun_sum += h.weight;
                }
            }
            None => {}
        }
    }
    if let Some((_, b)) = sentence_best {
        f.cooc_sum += b;
        f.cooc_sentences += 1;
    }
    // A benevolent cue inside a hostile sentence ("designed to protect humanity, it decides
    // humans are the threat") is the setup of the trope, not a counter-signal.
    for &i in &counter_hits {
        if cooc_sentence_ids.binary_search(&pos[i].1).is_err() {
            f.counter_sum += hits[i].weight;
        }
    }
    // Only texts whose unattributed loose acts would be discounted pay for the count.
    if f.loose_act_sum > f.loose_pronoun_sum
        && super::score::topic_share(f.ai_mentions, f.words, p.loose_topic_density) < 1.0
    {
        f.narrator_mentions = count_word_i(text);
    }
    let mut terms: Vec<u32> = hits
        .iter()
        .zip(&counted)
        .filter(|(_, &c)| c)
        .map(|(h, _)| h.term)
        .collect();
    terms.sort_unstable();
    terms.dedup();
    f.distinct_terms = terms.len() as u32;
    f.density_per_kword = f64::from(relevant) * 1000.0 / f64::from(f.words);
    Analysis {
        features: f,
        counted,
        positions: pos,
        pairs,
        negated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(start: usize) -> RawHit {
        RawHit {
            start,
            end: start + 1,
            category: 0,
            term: 0,
            weight: 1.0,
        }
    }

    #[test]
    fn counts_the_first_person_pronoun_only() {
        assert_eq!(count_word_i("I think I'm right, said I."), 3);
        assert_eq!(count_word_i("\"I\" (I) I"), 3);
        assert_eq!(count_word_i("It is II at I.B.M. in Iowa; pi Ii"), 0);
        assert_eq!(count_word_i("Übermensch I été"), 1);
        assert_eq!(count_word_i(""), 0);
    }

    #[test]
    fn word_and_sentence_positions() {
        let t = "One two. Three four\n\nfive six";
        let (pos, words) = positions(t, &[hit(0), hit(4), hit(9), hit(21)]);
        assert_eq!(words, 6);
        assert_eq!(pos, vec![(0, 0), (1, 0), (2, 1), (4, 2)]);
    }

    /// `positions` as it was before the block-mask version: one byte at a time.
    fn positions_bytewise(text: &str, hits: &[RawHit]) -> (Vec<(u32, u32)>, u32) {
        let b = text.as_bytes();
        let mut pos = Vec::with_capacity(hits.len());
        let (mut words, mut sent, mut nl_run) = (0u32, 0u32, 0u8);
        let mut in_word = false;
        let mut hi = 0;
        for (i, &c) in b.iter().enumerate() {
            while hi < hits.len() && hits[hi].start <= i {
                pos.push((words.saturating_sub(u32::from(in_word)), sent));
                hi += 1;
            }
            match c {
                b' ' | b'\t' | b'\r' => in_word = false,
                b'\n' => {
                    in_word = false;
                    nl_run = nl_run.saturating_add(1);
                    if nl_run == 2 {
                        sent += 1;
                    }
                }
                _ => {
                    if !in_word {
                        words += 1;
                        in_word = true;
                    }
                    nl_run = 0;
                    if matches!(c, b'.' | b'!' | b'?')
                        && b.get(i + 1).map_or(true, |n| n.is_ascii_whitespace())
                    {
                        sent += 1;
                    }
                }
            }
        }
        while pos.len() < hits.len() {
            pos.push((words, sent));
        }
        (pos, words)
    }

    /// Hits at every byte offset (and one past the end), then at a few.
    fn check_positions(text: &str) {
        let every: Vec<RawHit> = (0..=text.len()).map(hit).collect();
        assert_eq!(
            positions(text, &every),
            positions_bytewise(text, &every),
            "{text:?}"
        );
        assert_eq!(
            positions_in::<false>(text, &every),
            positions_bytewise(text, &every),
            "SSE2 {text:?}"
        );
        for k in [0, 1, 63, 64, 65, 127, 128, 129] {
            let some: Vec<RawHit> = every.iter().copied().take(k + 1).skip(k / 2).collect();
            assert_eq!(
                positions(text, &some),
                positions_bytewise(text, &some),
                "{text:?} {k}"
            );
        }
        assert_eq!(
            positions(text, &[]),
            positions_bytewise(text, &[]),
            "{text:?}"
        );
    }

    #[test]
    fn positions_equal_bytewise_on_edge_cases() {
        let long = "Word, word. Another? Yes!\n\nNext  line\n".repeat(9);
        for t in [
            "",
            " ",
            "a",
            "a.",
            "trailing whitespace  \t\r\n",
            "\n\n",
            "\n \n",
            "\n\n\n\nx\n\r\n\t\ny",
            "end.\x0cform feed. x!\x0c",
            "non-ASCII: été. Über! ça? 🤖\u{a0}robots",
            "quotes: \"No.\" he said...? ...!",
            long.as_str(),
        ] {
            check_positions(t);
        }
        // Block boundaries: a word, a full stop or a blank line on the 63rd-65th byte.
        for n in 60..70 {
            for tail in [
                ". next",
                "\n\nnext",
                " next",
                "next",
                ".\x0cnext",
                "\n",
                ".",
            ] {
                check_positions(&format!("{}{tail}", "x".repeat(n)));
                check_positions(&format!("{}{tail}", " ".repeat(n)));
                check_positions(&format!("{}{tail}", "ab ".repeat(n / 3)));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn positions_equal_bytewise(
            text in "([a-z]{1,5}|[ .!?\n\r\t\x0c]|é){0,200}",
            starts in proptest::collection::btree_set(0usize..220, 0..12),
        ) {
            let hits: Vec<RawHit> = starts.into_iter().map(hit).collect();
            proptest::prop_assert_eq!(positions(&text, &hits), positions_bytewise(&text, &hits));
            proptest::prop_assert_eq!(
                positions_in::<false>(&text, &hits),
                positions_bytewise(&text, &hits)
            );
        }
    }
}
