//! `lexicon test`: every category's `match` / `no_match` sentences and every `[[example]]`
//! document with its expected label.

use std::fmt;

use super::{Lexicon, SourceLoc};
use crate::scan::{Label, ScanConfig, Scanner};

/// One failed example.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleFailure {
    /// Where the category or example is declared.
    pub loc: SourceLoc,
    /// Category name, or `example` for document examples.
    pub category: String,
    /// The sentence.
    pub text: String,
    /// What was expected and what happened.
    pub message: String,
}

/// Results of `lexicon test`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExampleReport {
    /// Examples run.
    pub total: usize,
    /// Examples passed.
    pub passed: usize,
    /// Failures.
    pub failures: Vec<ExampleFailure>,
}

impl ExampleReport {
    /// True when every example passed.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

impl fmt::Display for ExampleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for x in &self.failures {
            writeln!(
                f,
                "{}: FAIL [{}] {}: {:?}",
                x.loc, x.category, x.message, x.text
            )?;
        }
        writeln!(
            f,
            "{} examples, {} passed, {} failed",
            self.total,
            self.passed,
            self.failures.len()
        )
    }
}

pub(super) fn run(lex: &Lexicon) -> ExampleReport {
    let mut r = ExampleReport::default();
    let scanner = match Scanner::new(lex, ScanConfig::default()) {
        Ok(s) => s,
        Err(e) => {
            r.failures.push(ExampleFailure {
                loc: SourceLoc {
                    file: lex.name(),
                    line: 0,
                },
                category: String::new(),
                text: String::new(),
                message: e.to_string(),
            });
            return r;
        }
    };
    for (ci, cat) in lex.categories().iter().enumerate() {
        let hits_cat = |text: &str| {
            let hits = if cat.role == super::Role::Negation {
                scanner.negation_hits(text)
            } else {
                scanner.raw_hits(text)
            };
            hits.iter()
                .filter(|h| h.category as usize == ci)
                .map(|h| text.get(h.start..h.end).unwrap_or("").to_string())
                .collect::<Vec<_>>()
        };
        for s in &cat.must_match {
            r.total += 1;
            if hits_cat(s).is_empty() {
                r.failures.push(ExampleFailure {
                    loc: cat.loc.clone(),
                    category: cat.name.clone(),
                    text: s.clone(),
                    message: "expected a match, found none".into(),
                });
            } else {
                r.passed += 1;
            }
        }
        for s in &cat.must_not_match {
            r.total += 1;
            let h = hits_cat(s);
            if h.is_empty() {
                r.passed += 1;
            } else {
                r.failures.push(ExampleFailure {
                    loc: cat.loc.clone(),
                    category: cat.name.clone(),
                    text: s.clone(),
                    message: format!("expected no match, matched {h:?}"),
                });
            }
        }
    }
    for ex in lex.doc_examples() {
        r.total += 1;
        let v = scanner.score(&ex.text);
        let ok = match Label::from_name(&ex.label) {
            Some(l) => l == v.label,
            None => false,
        };
        if ok {
            r.passed += 1;
        } else {
            r.failures.push(ExampleFailure {
                loc: ex.loc.clone(),
                category: "example".into(),
                text: ex.text.clone(),
                message: format!(
                    "expected {}, got {} (score {:.3})",
                    ex.label, v.label, v.score
                ),
            });
        }
    }
    r
}
