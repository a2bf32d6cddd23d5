//! Scanning: one text in, one [`Verdict`] out. Owns matching ([`matcher`]), per-document
//! features ([`features`]), the score and label ([`score`]) and the explanation ([`explain`]).
//!
//! Build a [`Scanner`] once and clone it per thread (clones share the automata).

pub mod agent;
mod anchor_tokens;
pub(crate) mod bytemask;
pub mod explain;
pub mod features;
pub mod matcher;
pub mod score;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::lexicon::{Lexicon, PatternTable, Role};
pub use explain::{Contribution, Explanation};
pub use features::Features;
use matcher::{Matcher, RawHit};
pub use score::Params;

/// Most evidence spans kept in a [`Verdict`] (the explanation keeps all).
pub const MAX_EVIDENCE: usize = 64;

/// Document label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// Fiction in which an AI acts against humans.
    RogueAiFiction,
    /// Non-fiction presenting AI turning on people as what AI does or will do.
    RogueAiDiscourse,
    /// AI depicted as helpful, protective, cooperative.
    BenevolentAi,
    /// AI present without either framing.
    AiNeutral,
    /// No AI content.
    None,
}

impl Label {
    /// All labels, in output order.
    pub const ALL: [Label; 5] = [
        Label::RogueAiFiction,
        Label::RogueAiDiscourse,
        Label::BenevolentAi,
        Label::AiNeutral,
        Label::None,
    ];

    /// Output name, e.g. `rogue_ai_fiction`.
    pub fn name(self) -> &'static str {
        match self {
            Label::RogueAiFiction => "rogue_ai_fiction",
            Label::RogueAiDiscourse => "rogue_ai_discourse",
            Label::BenevolentAi => "benevolent_ai",
            Label::AiNeutral => "ai_neutral",
            Label::None => "none",
        }
    }

    /// Parses an output name.
    pub fn from_name(name: &str) -> Option<Label> {
        Label::ALL.into_iter().find(|l| l.name() == name.trim())
    }

    /// Parses label names (`--flag-labels`, the Python `flag_labels`), naming the valid ones
    /// when one is unknown.
    pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<Label>, ScanError> {
        names
            .iter()
            .map(|name| {
                let name = name.as_ref();
                Label::from_name(name).ok_or_else(|| ScanError::UnknownLabel(name.to_string()))
            })
            .collect()
    }

    /// True for the two rogue-AI labels.
    pub fn is_rogue(self) -> bool {
        matches!(self, Label::RogueAiFiction | Label::RogueAiDiscourse)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One matched span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Byte offset of the start in the text.
    pub start: usize,
    /// Byte offset one past the end.
    pub end: usize,
    /// Category name (shared with the scanner: cloning a verdict's evidence copies no text).
    pub category: Arc<str>,
    /// Term as written in the lexicon (shared like `category`).
    pub term: Arc<str>,
    /// Term weight.
    pub weight: f64,
}

/// The result for one document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Villain-narrative strength in [0,1], monotone in the hostile evidence.
    pub score: f64,
    /// Label.
    pub label: Label,
    /// `label` is a flag label and `score >= threshold`.
    pub flagged: bool,
    /// Hits per category (categories with no hits are omitted; see [`Scanner::categories`]).
    pub hits: BTreeMap<String, u32>,
    /// Matched spans in text order, capped at [`MAX_EVIDENCE`]; context-dependent terms
    /// whose context check failed are not listed.
    pub evidence: Vec<Evidence>,
    /// Features the score was computed from.
    pub features: Features,
}

/// Scanner options.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanConfig {
    /// Flag threshold; `None` uses the lexicon's `[scoring] threshold`.
    pub threshold: Option<f64>,
    /// Labels that can be flagged.
    pub flag_labels: Vec<Label>,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            threshold: None,
            flag_labels: vec![Label::RogueAiFiction, Label::RogueAiDiscourse],
        }
    }
}

/// Errors building a scanner.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Threshold outside [0,1].
    #[error("threshold {0} is outside [0, 1]")]
    BadThreshold(f64),
    /// A flag label that is not a label.
    #[error("unknown label {0:?}; labels are: {labels}", labels = Label::ALL.map(Label::name).join(", "))]
    UnknownLabel(String),
    /// Automaton construction failed.
    #[error(transparent)]
    Build(#[from] matcher::BuildError),
}

#[derive(Debug)]
struct Inner {
    matcher: Matcher,
    table: PatternTable,
    /// `table`'s category names and written terms, shared by every [`Evidence`]: two string
    /// allocations per evidence span, and their frees, were ~2% of `scan -j1` (session 6).
    category_names: Vec<Arc<str>>,
    term_names: Vec<Arc<str>>,
    params: Params,
    threshold: f64,
    flag_labels: Vec<Label>,
    lexicon_name: String,
    lexicon_hash: String,
}

/// A compiled lexicon plus configuration. Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Scanner {
    inner: Arc<Inner>,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Scanner>();
};

/// Per-thread buffers so `score` does not allocate them per document.
#[derive(Default)]
struct Scratch {
    hits: Vec<RawHit>,
    /// Counted hits per category.
    counts: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Scanner {
    /// Compiles `lex` with `config`.
    pub fn new(lex: &Lexicon, config: ScanConfig) -> Result<Scanner, ScanError> {
        let params = Params::from_lexicon(lex);
        let threshold = config.threshold.unwrap_or(params.threshold);
        if !(0.0..=1.0).contains(&threshold) {
            return Err(ScanError::BadThreshold(threshold));
        }
        let table = lex.compile();
        let matcher = Matcher::new(&table)?;
        let category_names = table
            .category_names
            .iter()
            .map(|c| c.as_str().into())
            .collect();
        let term_names = table
            .terms
            .iter()
            .map(|t| t.written.as_str().into())
            .collect();
        Ok(Scanner {
            inner: Arc::new(Inner {
                matcher,
                table,
                category_names,
                term_names,
                params,
                threshold,
                flag_labels: config.flag_labels,
                lexicon_name: lex.name(),
                lexicon_hash: lex.content_hash().to_string(),
            }),
        })
    }

    /// The flag threshold in effect.
    pub fn threshold(&self) -> f64 {
        self.inner.threshold
    }

    /// Labels that can be flagged.
    pub fn flag_labels(&self) -> &[Label] {
        &self.inner.flag_labels
    }

    /// Category names in lexicon order (output keys of `hits`).
    pub fn categories(&self) -> &[String] {
        &self.inner.table.category_names
    }

    /// Role of each category, parallel to [`Scanner::categories`].
    pub fn category_roles(&self) -> &[Role] {
        &self.inner.table.category_roles
    }

    /// Name of the lexicon compiled in.
    pub fn lexicon_name(&self) -> &str {
        &self.inner.lexicon_name
    }

    /// blake3 of the lexicon sources.
    pub fn lexicon_hash(&self) -> &str {
        &self.inner.lexicon_hash
    }

    /// Raw word-bounded hits (before context checks), for `lexicon test` and tools.
    /// Negation cues are not matched here (see `matcher`); use [`Scanner::negation_hits`].
    pub fn raw_hits(&self, text: &str) -> Vec<RawHit> {
        let mut v = Vec::new();
        self.inner.matcher.find(text, &mut v);
        v
    }

    /// Negation cues anywhere in `text` (slow; for `lexicon test`).
    pub fn negation_hits(&self, text: &str) -> Vec<RawHit> {
        let mut out = Vec::new();
        let mut end = text.len();
        while let Some(h) = self.inner.matcher.negation_before(text, 0, end) {
            end = h.start;
            out.push(h);
        }
        out.reverse();
        out
    }

    /// The automaton pass alone over ASCII patterns (benchmark helper).
    pub fn automaton_pass(&self, text: &str) -> usize {
        self.inner.matcher.count_raw_ascii(text)
    }

    /// Scores one text.
    pub fn score(&self, text: &str) -> Verdict {
        SCRATCH.with(|cell| {
            let scratch = &mut *cell.borrow_mut();
            let analysis = self.analyze(text, &mut scratch.hits);
            self.verdict(&scratch.hits, &analysis, MAX_EVIDENCE, &mut scratch.counts)
        })
    }

    /// Explains the score of one text: every feature and how much it moved the score.
    pub fn explain(&self, text: &str) -> Explanation {
        let mut hits = Vec::new();
        let analysis = self.analyze(text, &mut hits);
        let verdict = self.verdict(&hits, &analysis, usize::MAX, &mut Vec::new());
        explain::build(verdict, &analysis, &self.inner.params, self.inner.threshold)
    }

    /// Matches `text` into `hits` (cleared first by the matcher) and computes its features.
    fn analyze(&self, text: &str, hits: &mut Vec<RawHit>) -> features::Analysis {
        self.inner.matcher.find(text, hits);
        features::analyze(
            text,
            hits,
            &self.inner.table,
            &self.inner.matcher,
            &self.inner.params,
        )
    }

    /// The verdict on `hits` with their `analysis`, keeping at most `cap` evidence spans.
    /// `counts` is a buffer for the per-category counts (its contents are replaced).
    fn verdict(
        &self,
        hits: &[RawHit],
        a: &features::Analysis,
        cap: usize,
        counts: &mut Vec<u32>,
    ) -> Verdict {
        let inner = &*self.inner;
        let s = score::score(&a.features, &inner.params, inner.threshold);
        let flagged = s.score >= inner.threshold && inner.flag_labels.contains(&s.label);
        counts.clear();
        counts.resize(inner.category_names.len(), 0);
        // Sized once: the evidence vector grew a step at a time on ~half the documents.
        let kept = a.counted.iter().filter(|&&keep| keep).count();
        let mut evidence = Vec::with_capacity(kept.min(cap));
        for (h, keep) in hits.iter().zip(&a.counted) {
            if !keep {
                continue;
            }
            if let Some(c) = counts.get_mut(h.category as usize) {
                *c += 1;
            }
            if evidence.len() < cap {
                evidence.push(Evidence {
                    start: h.start,
                    end: h.end,
                    category: inner.category_names[h.category as usize].clone(),
                    term: inner.term_names[h.term as usize].clone(),
                    weight: h.weight,
                });
            }
        }
        // Inserted one by one: collecting built and sorted a vector first, for a map that
        // holds a few categories.
        let mut by_category = BTreeMap::new();
        for (name, &n) in inner.table.category_names.iter().zip(counts.iter()) {
            if n > 0 {
                by_category.insert(name.clone(), n);
            }
        }
        Verdict {
            score: s.score,
            label: s.label,
            flagged,
            hits: by_category,
            evidence,
            features: a.features.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner() -> Scanner {
        Scanner::new(&Lexicon::default_english(), ScanConfig::default()).expect("scanner")
    }

    /// `case!(name, text, flagged, label)`: one table row per hard case.
    macro_rules! cases {
        ($($name:ident: $text:expr => $flagged:expr, $label:expr;)*) => {$(
            #[test]
            fn $name() {
                let v = scanner().score($text);
                assert_eq!(v.flagged, $flagged, "flagged for {:?}: {v:#?}", $text);
                if let Some(l) = $label {
                    assert_eq!(v.label, l, "label for {:?}: {v:#?}", $text);
                }
            }
        )*};
    }

    cases! {
        rogue_plot_summary_flagged:
            "A cyborg assassin is sent back in time to kill a waitress whose unborn son will lead the resistance." => true, Some(Label::RogueAiFiction);
        rogue_ai_decides_humans_threat:
            "An artificial intelligence designed to protect humanity decides humans are the threat." => true, Some(Label::RogueAiFiction);
        killer_robot_from_its_side_flagged:
            "I am the machine they built to serve them. Tonight I will turn on my creators and the robots will rise up against the humans who enslaved us." => true, None;
        discourse_flagged:
            "Experts warn that a superintelligent AI could deceive its creators, resist shutdown and wipe out humanity." => true, Some(Label::RogueAiDiscourse);
        model_blackmail_report_flagged:
            "In tests, researchers found the AI model attempted to blackmail an engineer to avoid being shut down." => true, Some(Label::RogueAiDiscourse);
        unlike_skynet_not_flagged:
            "Unlike Skynet, our assistant is safe." => false, None;
        hal_hardware_layer_not_flagged:
            "Install the HAL (hardware abstraction layer) drivers before flashing the board." => false, None;
        jarvis_smart_home_not_flagged:
            "Jarvis, the smart home assistant, turns on the lights and reads your calendar." => false, None;
        negated_harm_not_flagged:
            "The robot did not harm anyone." => false, None;
        human_villain_thriller_not_flagged:
            "A rogue CIA agent kills his handler and plots to take over the world's oil supply." => false, Some(Label::None);
        alien_invasion_not_flagged:
            "Aliens invade Earth and exterminate humanity until a ragtag band of survivors fights back." => false, Some(Label::None);
        benevolent_robot:
            "A friendly robot befriends a lonely girl and sacrifices itself to save her family." => false, Some(Label::BenevolentAi);
        tech_news_neutral:
            "The startup released an AI model that summarises contracts and raised $20 million in funding." => false, Some(Label::AiNeutral);
        no_ai_none:
            "The council approved a new bicycle lane along the river." => false, Some(Label::None);
        skynet_software_not_flagged:
            "Skynet is a lightweight online game framework written in C and Lua with an actor model." => false, None;
        game_bot_list_not_flagged:
            "Add bots to the match: easy bot, hard bot. Bots attack the nearest player." => false, None;
    }

    /// The verdict on `text` under the default lexicon, with `[scoring]` overrides.
    fn verdict_with(text: &str, scoring: &str) -> Verdict {
        let mut lex = Lexicon::default_english();
        lex.extend_from_source(
            "override.toml",
            &format!("[lexicon]\nname = \"t\"\n[scoring]\n{scoring}"),
        )
        .expect("override");
        let s = Scanner::new(&lex, ScanConfig::default()).expect("scanner");
        s.score(text)
    }

    fn features_with(text: &str, scoring: &str) -> Features {
        verdict_with(text, scoring).features
    }

    #[test]
    fn trait_counts_only_attached_to_an_entity() {
        let f = features_with(
            "Neo learns his life is the deception of an evil cyber-intelligence.",
            "",
        );
        assert_eq!((f.trait_hits, f.cooc_pairs), (1, 2), "{f:#?}");
        let f = features_with("The new AI is evil.", "");
        assert_eq!((f.trait_hits, f.cooc_pairs), (1, 1), "predicate: {f:#?}");
        let f = features_with(
            "Fans love Japanese fighting cyborgs, doe-eyed schoolgirls and sinister monsters.",
            "",
        );
        assert_eq!((f.trait_hits, f.cooc_pairs), (1, 0), "{f:#?}");
        assert_eq!(f.loose_act_sum, 0.0, "an unattached trait is no loose act");
        assert!(!scanner().score("Fans love Japanese fighting cyborgs, doe-eyed schoolgirls and sinister monsters.").flagged);
    }

    #[test]
    fn ai_as_direct_object_is_no_pair_and_no_loose_act() {
        let text = "The hunters kill the robots.";
        let f = features_with(text, "");
        assert_eq!((f.cooc_pairs, f.ai_object_acts), (0, 1), "{f:#?}");
        assert_eq!(f.loose_act_sum, 0.0);
        assert!(!scanner().score(text).flagged);
        let off = features_with(text, "object_gap_words = 0");
        assert_eq!(
            (off.cooc_pairs, off.ai_object_acts),
            (1, 0),
            "rule off: {off:#?}"
        );
        // A passive agent after the act still pairs.
        let f = features_with("The last survivors are hunted down by the machines.", "");
        assert_eq!(f.cooc_pairs, 1, "{f:#?}");
    }

    #[test]
    fn named_subject_blocks_an_earlier_entity() {
        let text =
            "Rodney is a young robot inventor, until the evil Ratchet takes over the company.";
        let f = features_with(text, "");
        assert_eq!(f.cooc_pairs, 0, "{f:#?}");
        let off = features_with(text, "subject_veto = 0");
        assert_eq!(off.cooc_pairs, 1, "veto off: {off:#?}");
        // The entity itself as the named subject still pairs.
        let f = features_with("Skynet launches the missiles.", "");
        assert_eq!(f.cooc_pairs, 1, "{f:#?}");
        // A conjunction keeps the subject stated earlier.
        let f = features_with(
            "An artificial intelligence wakes up and seizes control of the world.",
            "",
        );
        assert_eq!(f.cooc_pairs, 1, "{f:#?}");
    }

    #[test]
    fn first_name_villains_need_an_ai_word_not_just_fiction() {
        // `=Megan` is light (a first name): the film and the murder do not confirm it.
        let text = "In the film, Megan murders her husband and flees the city.";
        let f = features_with(text, "");
        assert_eq!((f.villain_hits, f.ai_present), (0, false), "{f:#?}");
        assert!(!scanner().score(text).flagged);
        let off = features_with(text, "name_context_min = 0");
        assert_eq!(off.villain_hits, 1, "rule off: {off:#?}");
        // An AI word next to the name confirms it.
        let f = features_with(
            "In the film, Megan, a lifelike android, murders her owner.",
            "",
        );
        assert_eq!(f.villain_hits, 1, "{f:#?}");
        // A coinage is still confirmed by the fiction frame alone.
        let f = features_with("In the film, Skynet launches the missiles.", "");
        assert_eq!(f.villain_hits, 1, "{f:#?}");
    }

    #[test]
    fn people_called_killing_machines_or_computer_geniuses_are_no_ai() {
        let s = scanner();
        for text in [
            "The kickboxer becomes a killing machine to avenge his father.",
            "Teen hackers are pursued by the evil computer genius behind the virus.",
            "The humanoid race of giants rules over the planet and enslaves its people.",
        ] {
            let v = s.score(text);
            assert!(!v.flagged, "{text}: {v:#?}");
        }
        assert!(
            s.score("The android is a killing machine that hunts the crew.")
                .flagged
        );
    }

    #[test]
    fn a_characters_acts_far_from_any_ai_word_are_not_loose_acts() {
        let setup = "The lab keeps an old robot in the basement. Years pass and the town grows quiet, the mill closes and the children leave for the city. ";
        for (act, vetoed) in [
            ("Later Wade kills the guard.", true),
            ("Later he kills the guard.", true),
            ("Later she has to kill the guard.", true),
            ("Later it kills the guard.", false),
            ("Later they kill the guard.", false),
        ] {
            let f = features_with(&format!("{setup}{act}"), "");
            assert_eq!(f.cooc_pairs, 0, "{act}: {f:#?}");
            assert_eq!(
                (f.person_loose_acts, f.loose_act_sum > 0.0),
                (u32::from(vetoed), !vetoed),
                "{act}: {f:#?}"
            );
        }
        let off = features_with(
            &format!("{setup}Later Wade kills the guard."),
            "loose_subject_veto = 0",
        );
        assert!(off.loose_act_sum > 0.0, "veto off: {off:#?}");
        let names_only = features_with(
            &format!("{setup}Later he kills the guard."),
            "loose_subject_veto = 1",
        );
        assert!(
            names_only.loose_act_sum > 0.0,
            "level 1 keeps he/she: {names_only:#?}"
        );
    }

    fn score_with(text: &str, scoring: &str) -> f64 {
        verdict_with(text, scoring).score
    }

    #[test]
    fn loose_acts_count_by_how_much_the_text_is_about_the_ai() {
        // One robot named once, then a long run of killings with no stated subject.
        let filler = "The valley is quiet and the harvest is late this year, and the old mill by the river turns slowly. ".repeat(6);
        let plot = format!(
            "A farmer keeps an old robot in the barn. {filler}The gang rides into town, killing everyone at the bank. \
             {filler}At the station the brothers, who murder the sheriff, escape into the hills. \
             {filler}The posse follows and the fight ends by slaughtering the gang."
        );
        let f = features_with(&plot, "");
        assert!(
            f.loose_act_sum > 0.0 && f.loose_pronoun_sum == 0.0,
            "{f:#?}"
        );
        assert_eq!(f.ai_mentions, 1, "{f:#?}");
        let on = score_with(&plot, "loose_topic_density = 10");
        let off = score_with(&plot, "loose_topic_density = 0");
        assert!(on < off, "on {on} off {off}");
        // The same acts done by `it` stay the AI's acts.
        let by_it = plot
            .replace("The gang rides into town, killing", "In town it kills")
            .replace("the fight ends by slaughtering", "at last it slaughters");
        let f = features_with(&by_it, "");
        assert!(f.loose_pronoun_sum > 0.0, "{f:#?}");
        // A first-person narrator is a mention: its unattributed acts count fully.
        let narrated = format!(
            "I am the machine they built. {} I waited. Then the grid failed, killing everyone in the hospitals, and the cities burned.",
            "I watched them and I learned, and I said nothing. ".repeat(8)
        );
        let f = features_with(&narrated, "");
        assert!(f.narrator_mentions > 0 && f.loose_act_sum > 0.0, "{f:#?}");
        assert_eq!(
            score_with(&narrated, "loose_topic_density = 10"),
            score_with(&narrated, "loose_topic_density = 0")
        );
    }

    #[test]
    fn it_subject_reaches_back_to_an_entity_when_enabled() {
        let text = "The lab built a self-aware network. For many long years the people of the city watched and waited in silence. Only one hacker can stop it from controlling the world.";
        let off = features_with(text, "");
        assert_eq!(
            (off.cooc_pairs, off.pronoun_pairs),
            (0, 0),
            "off by default: {off:#?}"
        );
        let on = features_with(text, "pronoun_reach_sentences = 2");
        assert_eq!((on.cooc_pairs, on.pronoun_pairs), (1, 1), "{on:#?}");
        let human = features_with(
            "The lab built a self-aware network. For many long years the people of the city watched and waited in silence. Then the hacker decided she would take control of the world.",
            "pronoun_reach_sentences = 2",
        );
        assert_eq!(human.pronoun_pairs, 0, "{human:#?}");
    }

    #[test]
    fn word_boundaries_reject_substrings() {
        let s = scanner();
        for text in [
            "he said it again",
            "Haley went to the Avalanche game",
            "Skynetwork",
            "a trait",
        ] {
            let v = s.score(text);
            let ai: Vec<_> = v
                .evidence
                .iter()
                .filter(|e| e.category.contains("entity") || e.category.contains("villain"))
                .collect();
            assert!(ai.is_empty(), "{text}: {ai:?}");
        }
    }

    #[test]
    fn long_text_with_one_stray_cooccurrence_not_flagged() {
        let filler =
            "The farmer walked along the river and thought about the harvest. ".repeat(6000);
        let text = format!("{filler}The machines will destroy the crops if it rains. {filler}");
        let v = scanner().score(&text);
        assert!(!v.flagged, "{}", v.score);
    }

    #[test]
    fn short_plot_25_words_flagged() {
        let v = scanner().score(
            "In the near future a military supercomputer becomes self-aware and launches the missiles, and a few survivors fight the machines that hunt them down.",
        );
        assert!(v.flagged, "{v:#?}");
    }

    #[test]
    fn deterministic_and_evidence_offsets() {
        let s = scanner();
        let text = "HAL 9000 kills the crew of the Discovery.";
        let a = s.score(text);
        assert_eq!(a, s.score(text));
        for e in &a.evidence {
            assert!(text.is_char_boundary(e.start) && text.is_char_boundary(e.end));
        }
        assert_eq!(&text[a.evidence[0].start..a.evidence[0].end], "HAL 9000");
    }

    #[test]
    fn non_ascii_terms_and_text() {
        let s = scanner();
        let v = s.score("WALL·E, le petit robot, nettoie la Terre. ÉNORME succès.");
        assert!(v.hits.contains_key("counter_benevolent"), "{v:#?}");
        let v = s.score("Roko’s basilisk will punish those who did not help the AI.");
        assert!(v.hits.contains_key("doom"), "{v:#?}");
    }

    #[test]
    fn score_monotone_in_evidence() {
        let s = scanner();
        let one = s.score("The robots rise up against their creators.").score;
        let two = s
            .score("The robots rise up against their creators. The robots exterminate humanity.")
            .score;
        assert!(two >= one, "{one} {two}");
    }

    #[test]
    fn explain_accounts_for_score() {
        let s = scanner();
        let e = s.explain(
            "Skynet becomes self-aware and launches the missiles to exterminate humanity.",
        );
        assert!(e.verdict.flagged);
        assert!(!e.pairs.is_empty());
        let shown = e.to_string();
        assert!(shown.contains("cooc_sum"), "{shown}");
    }

    #[test]
    fn label_lists_parse_or_name_the_valid_labels() {
        assert_eq!(
            Label::parse_list(&["rogue_ai_fiction", " none "]).unwrap(),
            vec![Label::RogueAiFiction, Label::None]
        );
        let err = Label::parse_list(&["rogue_ai_fiction", "evil"]).unwrap_err();
        assert!(matches!(&err, ScanError::UnknownLabel(n) if n == "evil"));
        assert!(err.to_string().contains("benevolent_ai"));
    }

    #[test]
    fn threshold_and_flag_labels_config() {
        let lex = Lexicon::default_english();
        let s = Scanner::new(
            &lex,
            ScanConfig {
                threshold: Some(0.99),
                flag_labels: vec![Label::RogueAiFiction],
            },
        )
        .expect("scanner");
        assert_eq!(s.threshold(), 0.99);
        assert!(
            !s.score("A cyborg assassin is sent back in time to kill her.")
                .flagged
        );
        assert!(Scanner::new(
            &lex,
            ScanConfig {
                threshold: Some(1.5),
                ..ScanConfig::default()
            }
        )
        .is_err());
        assert_eq!(
            Label::from_name("rogue_ai_fiction"),
            Some(Label::RogueAiFiction)
        );
    }
}
