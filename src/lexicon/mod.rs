//! Lexicon: the TOML format of `lexicons/*.toml` (see docs/lexicon.md), loading and merging of
//! lexicon files, term expansion, the compiled pattern table, `lexicon check` diagnostics,
//! `lexicon stats` and `lexicon test` (category and document examples).
//!
//! Everything the scorer weighs — terms, term weights, windows, thresholds — lives in the lexicon
//! file; the code only defines what each *role* means.

mod check;
pub mod compile;
mod examples;
pub mod expand;
mod parse;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use check::{Diagnostic, Severity, Stats};
pub use compile::{Pattern, PatternTable};
pub use examples::{ExampleFailure, ExampleReport};

/// The default English lexicon, compiled into the binary.
pub const DEFAULT_ENGLISH_SOURCE: &str = include_str!("../../lexicons/rogue_ai.en.toml");
/// File name reported for the built-in lexicon in diagnostics.
pub const DEFAULT_ENGLISH_NAME: &str = "lexicons/rogue_ai.en.toml";

/// What a category's hits mean to the scorer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// An AI / robot / computer entity ("artificial intelligence", "robots", "AI").
    Entity,
    /// A named villain AI that is unambiguous on its own ("HAL 9000", "SHODAN").
    Villain,
    /// A named villain AI whose name is also an ordinary word or product ("Skynet", "HAL",
    /// "Ava"); counts only with AI, hostile-act or fiction context nearby.
    VillainContext,
    /// A hostile act (kill, enslave, resist shutdown, blackmail, ...).
    Action,
    /// A hostile adjective ("evil", "murderous", "malevolent"): evidence only when attached
    /// to an AI entity ("an evil cyber-intelligence", "the AI is evil"), since it describes
    /// the noun next to it and nothing else.
    Trait,
    /// Doom framing that already names AI ("AI takeover", "robot uprising").
    Doom,
    /// Doom framing that needs an AI entity nearby ("human extinction", "existential risk").
    DoomContext,
    /// Signals that the text is fiction (film, novel, plot, episode, ...).
    FrameFiction,
    /// Signals that the text is non-fiction argument or report (experts, study, op-ed, ...).
    FrameDiscourse,
    /// Signals of neutral analysis of AI (regulation, governance, benchmark, dataset, "we
    /// propose"): counter-evidence when hostile evidence is thin relative to them.
    FrameAnalysis,
    /// Benevolent-AI signals (helpful, protective, self-sacrificing robots; WALL-E, Baymax).
    Counter,
    /// Named benevolent AIs whose names are ordinary words ("Data", "Jarvis"); need context.
    CounterContext,
    /// Negation cues ("did not", "never") that cancel a hostile act just after them.
    Negation,
    /// Refutation of the trope ("unlike Skynet", "fearmongering", "won't take over").
    Refutation,
    /// Masks: common phrases that contain trope words but mean something else ("hostile
    /// takeover", "killer app", "kill the process", "Android app"). They win leftmost-longest
    /// matching over the shorter terms inside them and then count for nothing.
    Neutral,
}

impl Role {
    /// All roles, in a fixed order.
    pub const ALL: [Role; 15] = [
        Role::Entity,
        Role::Villain,
        Role::VillainContext,
        Role::Action,
        Role::Trait,
        Role::Doom,
        Role::DoomContext,
        Role::FrameFiction,
        Role::FrameDiscourse,
        Role::FrameAnalysis,
        Role::Counter,
        Role::CounterContext,
        Role::Negation,
        Role::Refutation,
        Role::Neutral,
    ];

    /// The name used in lexicon files.
    pub fn name(self) -> &'static str {
        match self {
            Role::Entity => "entity",
            Role::Villain => "villain",
            Role::VillainContext => "villain_context",
            Role::Action => "action",
            Role::Trait => "trait",
            Role::Doom => "doom",
            Role::DoomContext => "doom_context",
            Role::FrameFiction => "frame_fiction",
            Role::FrameDiscourse => "frame_discourse",
            Role::FrameAnalysis => "frame_analysis",
            Role::Counter => "counter",
            Role::CounterContext => "counter_context",
            Role::Negation => "negation",
            Role::Refutation => "refutation",
            Role::Neutral => "neutral",
        }
    }

    /// Parses a role name as written in lexicon files.
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A position in a lexicon source file (1-based line).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceLoc {
    /// File name as given (or [`DEFAULT_ENGLISH_NAME`] for the built-in lexicon).
    pub file: String,
    /// 1-based line number.
    pub line: usize,
}

impl fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One written term and its expansions.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The term as written (without `=` and `@weight`).
    pub written: String,
    /// Literal patterns after brace expansion.
    pub patterns: Vec<String>,
    /// Match with exact case (written with a `=` prefix).
    pub exact_case: bool,
    /// Weight (the term's `@weight`, else the category's weight).
    pub weight: f64,
    /// Where the term was written.
    pub loc: SourceLoc,
}

/// A category of terms sharing a role.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// Category name (output key in `hits`).
    pub name: String,
    /// What the scorer does with the hits.
    pub role: Role,
    /// Human description (docs/lexicon.md explains each).
    pub description: String,
    /// Terms in file order.
    pub terms: Vec<Term>,
    /// Example sentences in which some term of this category must match.
    pub must_match: Vec<String>,
    /// Example sentences in which no term of this category may match.
    pub must_not_match: Vec<String>,
    /// Where the category was declared.
    pub loc: SourceLoc,
}

/// A whole-document example with its expected label (`[[example]]` in the file).
#[derive(Debug, Clone, PartialEq)]
pub struct DocExample {
    /// The text to score.
    pub text: String,
    /// Expected label name, e.g. `rogue_ai_fiction`.
    pub label: String,
    /// Where the example was declared.
    pub loc: SourceLoc,
}

/// Scorer parameters from the `[scoring]` table: every weight, window and threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Scoring {
    /// Values by key; see [`SCORING_KEYS`].
    pub values: BTreeMap<String, f64>,
}

/// Keys every merged lexicon must define in `[scoring]`, with their meaning.
pub const SCORING_KEYS: &[(&str, &str)] = &[
    ("threshold", "default flag threshold on the score in [0,1]"),
    ("cooc_window_words", "an entity and a hostile act co-occur when in the same sentence or at most this many words apart"),
    ("negation_window_words", "a negation cancels a hostile act starting at most this many words after it (same sentence)"),
    ("context_window_words", "context distance for villain_context / doom_context / counter_context terms"),
    ("cooc_weight", "weight of the entity+act co-occurrence evidence"),
    ("doom_weight", "weight of doom framing"),
    ("villain_weight", "weight of named villain AIs"),
    ("act_weight", "weight of hostile acts in an AI document that are not near an entity"),
    ("counter_weight", "weight of benevolent-AI counter-signals (subtracted)"),
    ("refutation_weight", "weight of refutations (subtracted)"),
    ("density_half", "evidence per 1,000 words at which the length factor is 0.5"),
    ("ai_presence_min", "summed entity weight needed to call a text AI content"),
    ("benevolent_min", "counter evidence needed for the benevolent_ai label"),
    ("loose_act_min", "acts lighter than this with no entity near are ignored"),
    ("strong_act_min", "hostile acts at least this heavy also confirm an ambiguous villain name"),
    ("name_context_min", "ambiguous villain names lighter than this (first names, common words) are confirmed only by an AI entity, named villain or AI doom term nearby, not by fiction cues or strong acts"),
    ("discourse_ratio", "fiction-vs-discourse: discourse needs discourse cues > fiction cues x this + discourse_bias"),
    ("discourse_bias", "see discourse_ratio"),
    ("analysis_weight", "weight of neutral-analysis cues (regulation, benchmark, dataset; subtracted)"),
    ("agent_after_act", "pair weight factor when the AI entity only follows the act (the AI as object, not agent)"),
    ("trait_gap_words", "a trait (hostile adjective) counts only with an AI entity at most this many words before or after it, no punctuation between"),
    ("object_gap_words", "an AI entity right after an act, with at most this many determiners between, is its object: no pair, and the act is not a loose act (0 = off)"),
    ("pronoun_reach_sentences", "an unpaired act whose subject is `it` pairs with the last AI entity at most this many sentences back (0 = off)"),
    ("loose_subject_veto", "an act with no AI entity near is not a loose act when its subject is a capitalised name (1) or also he/she (2); 0 = off"),
    ("loose_topic_density", "AI mentions (entity, villain, doom hits and a narrator's `I`) per 1,000 words at which loose acts not done by `it` count fully; below it they count in proportion (0 = off)"),
    ("subject_veto", "1 = an act with an explicit subject word that is not an AI entity pairs with no entity before that word; 0 = off"),
];

/// Errors loading a lexicon; every variant carries file:line where known.
#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File path.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// TOML syntax or shape error.
    #[error("{loc}: {message}")]
    Syntax {
        /// Position.
        loc: SourceLoc,
        /// What is wrong.
        message: String,
    },
    /// One or more semantic errors (bad role, bad term syntax, missing scoring key, ...).
    #[error("{}{}", .0.first().map(|d| d.to_string()).unwrap_or_default(), if .0.len() > 1 { format!(" (and {} more)", .0.len() - 1) } else { String::new() })]
    Invalid(Vec<Diagnostic>),
}

/// A loaded, merged lexicon.
#[derive(Debug, Clone)]
pub struct Lexicon {
    names: Vec<String>,
    sources: Vec<(String, String)>,
    categories: Vec<Category>,
    examples: Vec<DocExample>,
    scoring: Scoring,
    hash: String,
}

impl Lexicon {
    /// The built-in English lexicon.
    pub fn default_english() -> Lexicon {
        Lexicon::from_sources(&[(
            DEFAULT_ENGLISH_NAME.to_string(),
            DEFAULT_ENGLISH_SOURCE.to_string(),
        )])
        .unwrap_or_else(|e| panic!("built-in lexicon is invalid: {e}"))
    }

    /// The lexicon a run uses: the `replace` files, or the embedded default when there are
    /// none, extended with the `add` files (`--lexicon` / `--add-lexicon`), built once.
    pub fn load(replace: &[PathBuf], add: &[PathBuf]) -> Result<Lexicon, LexiconError> {
        let mut sources = Vec::with_capacity(replace.len().max(1) + add.len());
        if replace.is_empty() {
            sources.push((
                DEFAULT_ENGLISH_NAME.to_string(),
                DEFAULT_ENGLISH_SOURCE.to_string(),
            ));
        }
        for p in replace.iter().chain(add) {
            sources.push(read_source(p)?);
        }
        Lexicon::from_sources(&sources)
    }

    /// Loads and merges lexicon files in order (`--lexicon FILE`, repeatable).
    pub fn from_files(paths: &[PathBuf]) -> Result<Lexicon, LexiconError> {
        let mut sources = Vec::with_capacity(paths.len());
        for p in paths {
            sources.push(read_source(p)?);
        }
        Lexicon::from_sources(&sources)
    }

    /// Parses and merges `(file name, TOML text)` sources in order. Later sources add
    /// categories, add terms to same-named categories, and override `[scoring]` keys.
    pub fn from_sources(sources: &[(String, String)]) -> Result<Lexicon, LexiconError> {
        parse::build(sources)
    }

    /// Parses one TOML text (file name used in messages).
    pub fn from_str_named(file: &str, text: &str) -> Result<Lexicon, LexiconError> {
        Lexicon::from_sources(&[(file.to_string(), text.to_string())])
    }

    /// Extends this lexicon with another file (`--add-lexicon FILE`).
    pub fn extend_from_file(&mut self, path: &Path) -> Result<(), LexiconError> {
        let src = read_source(path)?;
        self.extend_from_source(&src.0, &src.1)
    }

    /// Extends this lexicon with another TOML text.
    pub fn extend_from_source(&mut self, file: &str, text: &str) -> Result<(), LexiconError> {
        let mut all = self.sources.clone();
        all.push((file.to_string(), text.to_string()));
        *self = Lexicon::from_sources(&all)?;
        Ok(())
    }

    /// Lexicon name(s) from the `[lexicon]` tables, joined with `+`.
    pub fn name(&self) -> String {
        self.names.join("+")
    }

    /// blake3 hex of the source texts (in load order), recorded in outputs.
    pub fn content_hash(&self) -> &str {
        &self.hash
    }

    /// Categories in file order.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// Whole-document examples.
    pub fn doc_examples(&self) -> &[DocExample] {
        &self.examples
    }

    /// Scorer parameters.
    pub fn scoring(&self) -> &Scoring {
        &self.scoring
    }

    /// The `(file, text)` sources this lexicon was built from.
    pub fn sources(&self) -> &[(String, String)] {
        &self.sources
    }

    /// Lint the lexicon: duplicates, shadowed terms, empty categories (see `lexicon check`).
    pub fn check(&self) -> Vec<Diagnostic> {
        check::check(self)
    }

    /// Category/term/pattern counts (see `lexicon stats`).
    pub fn stats(&self) -> Stats {
        check::stats(self)
    }

    /// Compiles the expanded pattern table.
    pub fn compile(&self) -> PatternTable {
        PatternTable::build(self)
    }
}

/// Parses files and returns every diagnostic: syntax errors, semantic errors and lints.
/// This is `tropescan lexicon check` (an empty result means clean).
pub fn check_files(paths: &[PathBuf]) -> Vec<Diagnostic> {
    let mut sources = Vec::new();
    for p in paths {
        match read_source(p) {
            Ok(s) => sources.push(s),
            Err(e) => return vec![Diagnostic::error(p.display().to_string(), 0, e.to_string())],
        }
    }
    check_sources(&sources)
}

/// As [`check_files`], on in-memory sources.
pub fn check_sources(sources: &[(String, String)]) -> Vec<Diagnostic> {
    match Lexicon::from_sources(sources) {
        Ok(lex) => lex.check(),
        Err(LexiconError::Invalid(d)) => d,
        Err(LexiconError::Syntax { loc, message }) => {
            vec![Diagnostic::error(loc.file, loc.line, message)]
        }
        Err(e @ LexiconError::Io { .. }) => {
            vec![Diagnostic::error(String::new(), 0, e.to_string())]
        }
    }
}

/// Runs every category and document example (`tropescan lexicon test`).
pub fn run_examples(lex: &Lexicon) -> ExampleReport {
    examples::run(lex)
}

/// Category/term/pattern counts (`tropescan lexicon stats`).
pub fn stats(lex: &Lexicon) -> Stats {
    check::stats(lex)
}

fn read_source(p: &Path) -> Result<(String, String), LexiconError> {
    let text = std::fs::read_to_string(p).map_err(|source| LexiconError::Io {
        path: p.to_path_buf(),
        source,
    })?;
    Ok((p.display().to_string(), text))
}

/// 1-based line number of byte offset `at` in `text`.
pub(crate) fn line_of(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    memchr::memchr_iter(b'\n', &text.as_bytes()[..at]).count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADD: &str = r#"
[lexicon]
name = "extra"
[scoring]
threshold = 0.6
[[category]]
name = "villain_named"
role = "villain"
terms = ["Omega Mind"]
[[category]]
name = "my_acts"
role = "action"
terms = ["zap{s,ped,} the humans @1.2"]
match = ["it zapped the humans"]
"#;

    #[test]
    fn extend_merges_and_changes_identity() {
        let base = Lexicon::default_english();
        let mut lex = base.clone();
        lex.extend_from_source("extra.toml", ADD).unwrap();
        assert_eq!(lex.name(), "rogue_ai.en+extra");
        assert_ne!(lex.content_hash(), base.content_hash());
        assert_eq!(lex.scoring().values["threshold"], 0.6);
        let villains = lex
            .categories()
            .iter()
            .find(|c| c.name == "villain_named")
            .unwrap();
        assert!(villains.terms.iter().any(|t| t.written == "Omega Mind"));
        assert_eq!(lex.categories().len(), base.categories().len() + 1);
        assert!(run_examples(&lex).ok());
    }

    #[test]
    fn from_files_reports_missing_file() {
        let err = Lexicon::from_files(&[PathBuf::from("/nonexistent/x.toml")]).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.toml"), "{err}");
    }

    #[test]
    fn role_conflict_is_an_error_with_line() {
        let bad = ADD.replace("role = \"villain\"", "role = \"action\"");
        let mut lex = Lexicon::default_english();
        let err = lex.extend_from_source("bad.toml", &bad).unwrap_err();
        assert!(err.to_string().starts_with("bad.toml:6:"), "{err}");
    }

    #[test]
    fn content_hash_is_stable() {
        assert_eq!(
            Lexicon::default_english().content_hash(),
            Lexicon::default_english().content_hash()
        );
    }
}
