//! `lexicon check` lints (duplicates, shadowed terms, empty categories) and `lexicon stats`.

use std::collections::BTreeMap;
use std::fmt;

use super::{Lexicon, Role};

/// Severity of a [`Diagnostic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The lexicon cannot be used.
    Error,
    /// The lexicon works but something is likely a mistake.
    Warning,
}

/// One finding with its file:line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// File name.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
}

impl Diagnostic {
    /// An error.
    pub fn error(file: String, line: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file,
            line,
            severity: Severity::Error,
            message: message.into(),
        }
    }

    /// A warning.
    pub fn warning(file: String, line: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file,
            line,
            severity: Severity::Warning,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}:{}: {sev}: {}", self.file, self.line, self.message)
    }
}

/// Key under which two patterns collide in the matcher.
fn match_key(p: &str, exact: bool) -> String {
    if exact {
        p.to_string()
    } else {
        p.to_lowercase()
    }
}

pub(super) fn check(lex: &Lexicon) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // (key) -> (category, term, loc) of first occurrence
    let mut seen: BTreeMap<String, (String, String, super::SourceLoc)> = BTreeMap::new();
    let mut folded: BTreeMap<String, (String, super::SourceLoc)> = BTreeMap::new();
    for cat in lex.categories() {
        if cat.terms.is_empty() {
            out.push(Diagnostic::warning(
                cat.loc.file.clone(),
                cat.loc.line,
                format!("category `{}` has no terms", cat.name),
            ));
        }
        for term in &cat.terms {
            for p in &term.patterns {
                let key = format!("{}\u{0}{}", term.exact_case, match_key(p, term.exact_case));
                if let Some((c0, t0, l0)) = seen.get(&key) {
                    out.push(Diagnostic::warning(
                        term.loc.file.clone(),
                        term.loc.line,
                        format!(
                            "duplicate pattern `{p}` (term `{}` in `{}`) already from term `{t0}` in `{c0}` at {l0}; only the first counts",
                            term.written, cat.name
                        ),
                    ));
                } else {
                    seen.insert(
                        key,
                        (cat.name.clone(), term.written.clone(), term.loc.clone()),
                    );
                }
                let lower = p.to_lowercase();
                match folded.get(&lower) {
                    Some((other, l0)) if term.exact_case => out.push(Diagnostic::warning(
                        term.loc.file.clone(),
                        term.loc.line,
                        format!("exact-case pattern `{p}` is shadowed by case-insensitive `{other}` at {l0}: both match, hits are counted twice"),
                    )),
                    _ if !term.exact_case => {
                        folded.insert(lower, (p.clone(), term.loc.clone()));
                    }
                    _ => {}
                }
                if !p.chars().any(|c| c.is_alphanumeric()) {
                    out.push(Diagnostic::warning(
                        term.loc.file.clone(),
                        term.loc.line,
                        format!("pattern `{p}` has no letters or digits"),
                    ));
                }
                // Negation cues are looked up only before acts, never in the automaton.
                if !term.exact_case
                    && cat.role != Role::Negation
                    && p.chars().filter(|c| c.is_alphanumeric()).count() <= 2
                {
                    out.push(Diagnostic::warning(
                        term.loc.file.clone(),
                        term.loc.line,
                        format!("pattern `{p}` is 2 letters or shorter and case-insensitive: it floods the automaton (use `=` exact case)"),
                    ));
                }
            }
        }
    }
    // A pattern listed after an exact-case twin in the exact group is shadowed too; the
    // ordering-based ones are covered above. Keep output stable.
    out.sort();
    out
}

/// Counts for `lexicon stats`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Lexicon name.
    pub name: String,
    /// blake3 of the sources.
    pub hash: String,
    /// (category, role, terms, expanded patterns).
    pub categories: Vec<(String, Role, usize, usize)>,
    /// Total written terms.
    pub terms: usize,
    /// Total expanded patterns (before de-duplication).
    pub patterns: usize,
    /// Patterns in the compiled automata (after de-duplication).
    pub compiled_patterns: usize,
    /// Patterns in the exact-case automaton.
    pub exact_case_patterns: usize,
    /// Patterns in the non-ASCII automaton.
    pub unicode_patterns: usize,
}

pub(super) fn stats(lex: &Lexicon) -> Stats {
    let mut cats = Vec::new();
    let (mut terms, mut patterns) = (0, 0);
    for c in lex.categories() {
        let p: usize = c.terms.iter().map(|t| t.patterns.len()).sum();
        terms += c.terms.len();
        patterns += p;
        cats.push((c.name.clone(), c.role, c.terms.len(), p));
    }
    let table = lex.compile();
    Stats {
        name: lex.name(),
        hash: lex.content_hash().to_string(),
        categories: cats,
        terms,
        patterns,
        compiled_patterns: table.len(),
        exact_case_patterns: table.exact.len(),
        unicode_patterns: table.unicode_ci.len(),
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "lexicon {} ({})", self.name, self.hash)?;
        writeln!(
            f,
            "{:<24} {:<16} {:>6} {:>9}",
            "category", "role", "terms", "patterns"
        )?;
        for (name, role, t, p) in &self.categories {
            writeln!(f, "{name:<24} {:<16} {t:>6} {p:>9}", role.name())?;
        }
        writeln!(
            f,
            "total: {} categories, {} terms, {} expanded patterns ({} compiled: {} exact-case, {} non-ASCII)",
            self.categories.len(),
            self.terms,
            self.patterns,
            self.compiled_patterns,
            self.exact_case_patterns,
            self.unicode_patterns
        )
    }
}
