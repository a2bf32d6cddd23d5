//! `explain`: every feature of a text and how much each moved the score, plus the spans.

use std::fmt;

use super::features::{Analysis, Features};
use super::score::{self, Params};
use super::{Evidence, Label, Verdict};

/// One line of the explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// Feature name.
    pub name: &'static str,
    /// The feature value it was computed from.
    pub value: f64,
    /// Its signed contribution to the raw score (before squashing).
    pub raw_delta: f64,
    /// How much the final score would drop (or rise, if negative) without this part.
    pub score_delta: f64,
}

/// The explanation of one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The full verdict (evidence not capped).
    pub verdict: Verdict,
    /// Threshold used.
    pub threshold: f64,
    /// Raw score before squashing.
    pub raw: f64,
    /// Contributions of each part of the score.
    pub contributions: Vec<Contribution>,
    /// (agent span, act span) pairs that formed co-occurrences.
    pub pairs: Vec<(Evidence, Evidence)>,
    /// Hostile-act spans cancelled by negation.
    pub negated: Vec<Evidence>,
}

impl Explanation {
    /// All matched spans (for highlighting).
    pub fn spans(&self) -> &[Evidence] {
        &self.verdict.evidence
    }
}

pub(super) fn build(verdict: Verdict, a: &Analysis, p: &Params, threshold: f64) -> Explanation {
    let f: &Features = &a.features;
    let parts = score::parts(f, p);
    let raw = parts.raw();
    let full = verdict.score;
    let without = |delta: f64| {
        if f.ai_present {
            full - score::squash(raw - delta)
        } else {
            0.0
        }
    };
    let mut contributions = Vec::new();
    let mut push = |name, value: f64, delta: f64| {
        contributions.push(Contribution {
            name,
            value,
            raw_delta: delta,
            score_delta: without(delta),
        })
    };
    push("cooc_sum (entity+act sentences)", f.cooc_sum, parts.cooc);
    push("doom_sum", f.doom_sum, parts.doom);
    push("villain_sum", f.villain_sum, parts.villain);
    push("loose_act_sum", f.loose_act_sum, parts.loose_acts);
    push("counter_sum", f.counter_sum, -parts.counter);
    push("refutation_sum", f.refutation_sum, -parts.refutation);
    push("analysis_frame", f.analysis_frame, -parts.analysis);
    // Map counted-hit indices to evidence indices (evidence lists counted hits in order).
    let mut ev_index = vec![usize::MAX; a.counted.len()];
    let mut j = 0;
    for (i, c) in a.counted.iter().enumerate() {
        if *c {
            ev_index[i] = j;
            j += 1;
        }
    }
    let ev = |i: usize| verdict.evidence.get(ev_index[i]).cloned();
    let pairs = a
        .pairs
        .iter()
        .filter_map(|&(g, t)| Some((ev(g)?, ev(t)?)))
        .collect();
    let negated = a.negated.iter().filter_map(|&i| ev(i)).collect();
    Explanation {
        verdict,
        threshold,
        raw,
        contributions,
        pairs,
        negated,
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = &self.verdict;
        writeln!(
            f,
            "score {:.3} (raw {:.3}) label {} flagged {} threshold {:.2}",
            v.score, self.raw, v.label, v.flagged, self.threshold
        )?;
        let x = &v.features;
        writeln!(
            f,
            "words {} bytes {} distinct_terms {} density {:.2}/kword ai_present {}",
            x.words, x.bytes, x.distinct_terms, x.density_per_kword, x.ai_present
        )?;
        writeln!(
            f,
            "entities {} villains {} acts {} traits {} (negated {}) cooc pairs {} in {} sentences, context-rejected {}",
            x.entity_hits,
            x.villain_hits,
            x.action_hits,
            x.trait_hits,
            x.negated_actions,
            x.cooc_pairs,
            x.cooc_sentences,
            x.context_rejected
        )?;
        writeln!(
            f,
            "agents: pairs through it/they {}, acts on an AI (object) {}, a person's acts far from AI {}",
            x.pronoun_pairs, x.ai_object_acts, x.person_loose_acts
        )?;
        writeln!(
            f,
            "topic: AI mentions {} (+ narrator `I` {}), loose acts by `it` {:.2} of {:.2}",
            x.ai_mentions, x.narrator_mentions, x.loose_pronoun_sum, x.loose_act_sum
        )?;
        writeln!(
            f,
            "frames: fiction {:.2} discourse {:.2} -> {}",
            x.fiction_frame,
            x.discourse_frame,
            if v.label == Label::RogueAiDiscourse {
                "discourse"
            } else {
                "fiction (default)"
            }
        )?;
        writeln!(
            f,
            "{:<34} {:>8} {:>9} {:>9}",
            "part", "value", "raw", "score"
        )?;
        for c in &self.contributions {
            writeln!(
                f,
                "{:<34} {:>8.3} {:>+9.3} {:>+9.3}",
                c.name, c.value, c.raw_delta, c.score_delta
            )?;
        }
        for (g, t) in &self.pairs {
            writeln!(
                f,
                "pair: {} `{}` @{} + {} `{}` @{}",
                g.category, g.term, g.start, t.category, t.term, t.start
            )?;
        }
        for n in &self.negated {
            writeln!(f, "negated: `{}` @{}", n.term, n.start)?;
        }
        Ok(())
    }
}
