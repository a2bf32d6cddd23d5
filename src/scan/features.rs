//! Per-document features from the hits: positions (word and sentence index), context checks
//! for ambiguous names, negation, entity+act co-occurrence, and role sums.

use serde::Serialize;

use super::agent::{self, Subject};
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

/// Computes word and sentence indices of each hit start, and the total word count.
/// Sentences end at `.`, `!`, `?` followed by whitespace, and at blank lines; single newlines
/// do not end sentences because book text hard-wraps lines mid-sentence.
pub fn positions(text: &str, hits: &[RawHit]) -> (Vec<(u32, u32)>, u32) {
    let b = text.as_bytes();
    let mut pos = Vec::with_capacity(hits.len());
    let (mut words, mut sent, mut nl_run) = (0u32, 0u32, 0u8);
    let mut in_word = false;
    let mut hi = 0;
    // The sentence-tracking loop only runs up to the last hit; the rest is counted by the
    // branch-free word counter below (2-3x faster on long hit-sparse books).
    let stop = hits.last().map_or(0, |h| h.start + 1).min(b.len());
    for (i, &c) in b[..stop].iter().enumerate() {
        while hi < hits.len() && hits[hi].start <= i {
            let w = if in_word {
                words.saturating_sub(1)
            } else {
                words
            };
            pos.push((w, sent));
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
    words += count_word_starts(&b[stop..], in_word);
    (pos, words)
}

/// Number of word starts (non-space after space) in `b`; `in_word` = state before `b`.
fn count_word_starts(b: &[u8], in_word: bool) -> u32 {
    let Some(&first) = b.first() else { return 0 };
    let first_starts = u32::from(!in_word && !is_space(first));
    let rest = b
        .windows(2)
        .map(|w| u32::from(is_space(w[0]) & !is_space(w[1])))
        .sum::<u32>();
    first_starts + rest
}

#[inline]
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
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
        Subject::Unknown | Subject::ThingPronoun | Subject::PersonPronoun => false,
    }
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
            *c = near(&pos, i, ctx, |k| match role(k) {
                Role::Entity | Role::Villain | Role::Doom | Role::FrameFiction => true,
                Role::Action => hits[k].weight >= p.strong_act_min,
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
                entity_sum += h.weight;
                // One strong mention, or weak ones adding up ("computers ... machines").
                if h.weight >= p.ai_presence_min || entity_sum >= 2.0 * p.ai_presence_min {
                    f.ai_present = true;
                }
            }
            Role::Villain | Role::VillainContext => {
                f.villain_hits += 1;
                f.villain_sum += h.weight;
                f.ai_present = true;
            }
            Role::Doom | Role::DoomContext => {
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
        let subject = if p.subject_veto || p.pronoun_reach_sentences > 0 {
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
            None if h.weight >= p.loose_act_min => pair.f.loose_act_sum += h.weight,
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
    fn word_and_sentence_positions() {
        let t = "One two. Three four\n\nfive six";
        let (pos, words) = positions(t, &[hit(0), hit(4), hit(9), hit(21)]);
        assert_eq!(words, 6);
        assert_eq!(pos, vec![(0, 0), (1, 0), (2, 1), (4, 2)]);
    }
}
