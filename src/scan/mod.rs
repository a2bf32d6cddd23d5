//! Scoring: document text -> verdict. (Placeholder until the scorer lands.)

use std::collections::BTreeMap;

use crate::lexicon::Lexicon;

/// A document's label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Label {
    /// Rogue-AI fiction.
    RogueAiFiction,
    /// Rogue-AI discourse.
    RogueAiDiscourse,
    /// Benevolent AI.
    BenevolentAi,
    /// AI without framing.
    AiNeutral,
    /// No AI content.
    None,
}

impl Label {
    /// The label's name.
    pub fn name(self) -> &'static str {
        match self {
            Label::RogueAiFiction => "rogue_ai_fiction",
            Label::RogueAiDiscourse => "rogue_ai_discourse",
            Label::BenevolentAi => "benevolent_ai",
            Label::AiNeutral => "ai_neutral",
            Label::None => "none",
        }
    }
    /// Parses a label name.
    pub fn from_name(name: &str) -> Option<Label> {
        Label::all().into_iter().find(|l| l.name() == name)
    }
    /// All labels.
    pub fn all() -> [Label; 5] {
        [
            Label::RogueAiFiction,
            Label::RogueAiDiscourse,
            Label::BenevolentAi,
            Label::AiNeutral,
            Label::None,
        ]
    }
}

/// A matched span.
#[derive(Clone, Debug)]
pub struct Evidence {
    /// Byte start.
    pub start: usize,
    /// Byte end (exclusive).
    pub end: usize,
    /// Category name.
    pub category: String,
    /// The term matched.
    pub term: String,
    /// Its weight.
    pub weight: f64,
}

/// The result of scoring one document.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// Score in [0, 1].
    pub score: f64,
    /// Label.
    pub label: Label,
    /// Flagged.
    pub flagged: bool,
    /// Hits per category.
    pub hits: BTreeMap<String, u32>,
    /// Evidence spans.
    pub evidence: Vec<Evidence>,
}

/// Scanner options.
#[derive(Clone, Debug, Default)]
pub struct ScanConfig {
    /// Threshold; None = lexicon default.
    pub threshold: Option<f64>,
    /// Labels that can be flagged.
    pub flag_labels: Vec<Label>,
}

/// Scanner error.
#[derive(Debug, thiserror::Error)]
#[error("scanner error")]
pub struct ScanError;

/// Scores documents.
#[derive(Clone, Debug)]
pub struct Scanner {
    threshold: f64,
}

impl Scanner {
    /// Builds a scanner.
    pub fn new(_lex: &Lexicon, cfg: ScanConfig) -> Result<Scanner, ScanError> {
        Ok(Scanner {
            threshold: cfg.threshold.unwrap_or(0.5),
        })
    }
    /// The threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }
    /// Scores a text.
    pub fn score(&self, text: &str) -> Verdict {
        let mut hits = BTreeMap::new();
        let mut evidence = Vec::new();
        if let Some(i) = text.find("Skynet") {
            hits.insert("villain".to_string(), 1);
            evidence.push(Evidence {
                start: i,
                end: i + 6,
                category: "villain".into(),
                term: "skynet".into(),
                weight: 1.0,
            });
        }
        let score = if hits.is_empty() { 0.0 } else { 0.9 };
        Verdict {
            score,
            label: if hits.is_empty() {
                Label::None
            } else {
                Label::RogueAiFiction
            },
            flagged: score >= self.threshold,
            hits,
            evidence,
        }
    }
}
