//! From features to score and label. All numbers come from the lexicon's `[scoring]` table.
//!
//! Each kind of evidence `x` contributes `weight * (1 - exp(-x)) * lenfac(x per 1,000 words)`
//! where `lenfac(d) = d / (d + density_half)`: repeated evidence saturates, and the same
//! evidence counts for less in a longer text, so one stray "machines ... destroy" in a novel
//! scores near zero while a 25-word plot summary with one pair scores fully. Counter-signals
//! and refutations are subtracted; `score = 1 - exp(-max(raw, 0))`.

use super::features::Features;
use super::Label;
use crate::lexicon::Lexicon;

/// Scorer parameters resolved from the lexicon.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Default threshold.
    pub threshold: f64,
    /// Co-occurrence window in words.
    pub cooc_window_words: u32,
    /// Negation window in words.
    pub negation_window_words: u32,
    /// Context window in words.
    pub context_window_words: u32,
    /// Weight of co-occurrence.
    pub cooc_weight: f64,
    /// Weight of doom framing.
    pub doom_weight: f64,
    /// Weight of named villains.
    pub villain_weight: f64,
    /// Weight of loose acts.
    pub act_weight: f64,
    /// Weight of counter-signals.
    pub counter_weight: f64,
    /// Weight of refutations.
    pub refutation_weight: f64,
    /// Density (per 1,000 words) at which the length factor is 0.5.
    pub density_half: f64,
    /// Minimum entity weight that makes a text AI content.
    pub ai_presence_min: f64,
    /// Counter evidence for benevolent_ai.
    pub benevolent_min: f64,
    /// Loose acts lighter than this are ignored.
    pub loose_act_min: f64,
    /// Acts at least this heavy confirm ambiguous villain names.
    pub strong_act_min: f64,
    /// Ambiguous villain names lighter than this need an AI word near them: fiction cues
    /// and strong acts do not confirm them.
    pub name_context_min: f64,
    /// Discourse needs discourse frame > fiction frame x `discourse_ratio` + `discourse_bias`.
    pub discourse_ratio: f64,
    /// See `discourse_ratio`.
    pub discourse_bias: f64,
    /// Weight of neutral-analysis cues (subtracted).
    pub analysis_weight: f64,
    /// Pair weight factor when the entity only follows the act.
    pub agent_after_act: f64,
    /// Most words between a trait and the entity it describes.
    pub trait_gap_words: u32,
    /// Most determiners between an act and an entity that is its object (0 = off).
    pub object_gap_words: u32,
    /// How many sentences back an `it`/`they` subject finds its AI antecedent (0 = off).
    pub pronoun_reach_sentences: u32,
    /// An explicit non-AI subject blocks pairs with entities before it.
    pub subject_veto: bool,
    /// Acts with no entity near are not loose acts when their subject is a name (1) or also
    /// `he` / `she` (2); 0 = off.
    pub loose_subject_veto: u32,
    /// AI mentions per 1,000 words at which loose acts count fully; below it they count in
    /// proportion (0 = off).
    pub loose_topic_density: f64,
}

impl Params {
    /// Reads `[scoring]`; keys are guaranteed present by the lexicon loader.
    pub fn from_lexicon(lex: &Lexicon) -> Params {
        let v = &lex.scoring().values;
        let g = |k: &str| v.get(k).copied().unwrap_or(0.0);
        let words = |k: &str| g(k).max(0.0).round() as u32;
        Params {
            threshold: g("threshold"),
            cooc_window_words: words("cooc_window_words"),
            negation_window_words: words("negation_window_words"),
            context_window_words: words("context_window_words"),
            cooc_weight: g("cooc_weight"),
            doom_weight: g("doom_weight"),
            villain_weight: g("villain_weight"),
            act_weight: g("act_weight"),
            counter_weight: g("counter_weight"),
            refutation_weight: g("refutation_weight"),
            density_half: g("density_half").max(1e-9),
            ai_presence_min: g("ai_presence_min"),
            benevolent_min: g("benevolent_min"),
            loose_act_min: g("loose_act_min"),
            strong_act_min: g("strong_act_min"),
            name_context_min: g("name_context_min"),
            discourse_ratio: g("discourse_ratio"),
            discourse_bias: g("discourse_bias"),
            analysis_weight: g("analysis_weight").max(0.0),
            agent_after_act: g("agent_after_act").clamp(0.0, 1.0),
            trait_gap_words: words("trait_gap_words"),
            object_gap_words: words("object_gap_words"),
            pronoun_reach_sentences: words("pronoun_reach_sentences"),
            subject_veto: g("subject_veto") >= 0.5,
            loose_subject_veto: words("loose_subject_veto"),
            loose_topic_density: g("loose_topic_density").max(0.0),
        }
    }
}

/// The parts the raw score is summed from (positive and negative), in a fixed order.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Parts {
    /// Entity + hostile-act co-occurrence.
    pub cooc: f64,
    /// Doom framing.
    pub doom: f64,
    /// Named villains.
    pub villain: f64,
    /// Hostile acts with no entity near (AI documents only).
    pub loose_acts: f64,
    /// Counter-signals (subtracted).
    pub counter: f64,
    /// Refutations (subtracted).
    pub refutation: f64,
    /// Neutral-analysis cues (subtracted).
    pub analysis: f64,
}

impl Parts {
    /// Sum of positive parts.
    pub fn positive(&self) -> f64 {
        self.cooc + self.doom + self.villain + self.loose_acts
    }
    /// Raw score (positive minus negative).
    pub fn raw(&self) -> f64 {
        self.positive() - self.counter - self.refutation - self.analysis
    }
}

/// Score and label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// Score in [0,1].
    pub score: f64,
    /// Label.
    pub label: Label,
    /// The parts.
    pub parts: Parts,
}

fn saturate(x: f64) -> f64 {
    1.0 - (-x.max(0.0)).exp()
}

fn lenfac(sum: f64, words: u32, half: f64) -> f64 {
    let d = sum * 1000.0 / f64::from(words.max(1));
    d / (d + half)
}

/// How much of a text is about the AI, in [0,1]: its AI mentions per 1,000 words over
/// `full` (1 when `full` is 0). Loose acts have no AI word near them, so they are the AI's
/// only in a text that keeps talking about it: a 700-word action plot that names one droid
/// is full of killings by people, while a machine-narrated story or an AI-risk essay names
/// the machine every few sentences.
pub fn topic_share(mentions: u32, words: u32, full: f64) -> f64 {
    if full <= 0.0 {
        return 1.0;
    }
    let per_kword = f64::from(mentions) * 1000.0 / f64::from(words.max(1));
    (per_kword / full).min(1.0)
}

/// The loose acts that count: those whose subject is `it` (never a person) fully, the rest
/// (no stated subject: "..., killing everyone"; `they`, `we`, `I`) by the [`topic_share`] of
/// the text, where a first-person `I` counts as a mention (the narrator may be the machine).
pub fn topical_loose_sum(f: &Features, full: f64) -> f64 {
    let unattributed = (f.loose_act_sum - f.loose_pronoun_sum).max(0.0);
    let mentions = f.ai_mentions.saturating_add(f.narrator_mentions);
    f.loose_pronoun_sum + unattributed * topic_share(mentions, f.words, full)
}

/// Computes the parts of the raw score.
pub fn parts(f: &Features, p: &Params) -> Parts {
    let part = |w: f64, x: f64| w * saturate(x) * lenfac(x, f.words, p.density_half);
    Parts {
        cooc: part(p.cooc_weight, f.cooc_sum),
        doom: part(p.doom_weight, f.doom_sum),
        villain: part(p.villain_weight, f.villain_sum),
        loose_acts: if f.ai_present {
            part(p.act_weight, topical_loose_sum(f, p.loose_topic_density))
        } else {
            0.0
        },
        counter: part(p.counter_weight, f.counter_sum),
        refutation: p.refutation_weight * saturate(f.refutation_sum),
        // Policy, research and product texts discuss AI risk among many analysis terms; a
        // story or a doom op-ed rarely uses them. Density-scaled like the other parts.
        analysis: part(p.analysis_weight, f.analysis_frame),
    }
}

/// Score in [0,1] from a raw sum.
pub fn squash(raw: f64) -> f64 {
    saturate(raw)
}

/// Scores features and picks the label (`threshold` decides rogue vs not).
pub fn score(f: &Features, p: &Params, threshold: f64) -> Scored {
    let parts = parts(f, p);
    let score = if f.ai_present {
        squash(parts.raw())
    } else {
        0.0
    };
    let label = if !f.ai_present {
        Label::None
    } else if score >= threshold && score > 0.0 {
        // Analysis cues (regulation, benchmark, ...) mark non-fiction as well.
        let discourse = f.discourse_frame + f.analysis_frame;
        if discourse > f.fiction_frame * p.discourse_ratio + p.discourse_bias {
            Label::RogueAiDiscourse
        } else {
            Label::RogueAiFiction
        }
    } else if parts.counter >= p.benevolent_min && parts.counter > parts.positive() {
        Label::BenevolentAi
    } else {
        Label::AiNeutral
    };
    Scored {
        score,
        label,
        parts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_share_is_mentions_per_kword_over_full_capped_at_one() {
        assert_eq!(topic_share(1, 1000, 10.0), 0.1);
        assert_eq!(topic_share(5, 1000, 10.0), 0.5);
        assert_eq!(topic_share(30, 1000, 10.0), 1.0);
        assert_eq!(topic_share(0, 0, 10.0), 0.0);
        assert_eq!(topic_share(0, 1000, 0.0), 1.0, "0 = off");
    }

    #[test]
    fn only_unattributed_loose_acts_are_scaled_by_the_topic_share() {
        let f = Features {
            words: 500,
            loose_act_sum: 3.0,
            loose_pronoun_sum: 1.0,
            ai_mentions: 1,
            ..Features::default()
        };
        // 1 mention in 500 words = 2 per kword: a fifth of the 2.0 unattributed acts.
        assert!((topical_loose_sum(&f, 10.0) - 1.4).abs() < 1e-12);
        assert_eq!(topical_loose_sum(&f, 0.0), 3.0, "off");
        // A narrator's `I`s count as mentions: 10 in 500 words = 20 per kword, all count.
        let narrated = Features {
            narrator_mentions: 9,
            ..f.clone()
        };
        assert_eq!(topical_loose_sum(&narrated, 10.0), 3.0);
    }
}
