//! The compiled pattern table: every expanded pattern with its (category, term, weight),
//! split into the three automata the matcher builds (see `scan::matcher` for why).

use super::{Lexicon, Role};

/// One expanded literal pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// Pattern text; lowercased unless `exact_case`.
    pub text: String,
    /// Index into [`Lexicon::categories`].
    pub category: u16,
    /// Index into [`PatternTable::terms`].
    pub term: u32,
    /// Term weight.
    pub weight: f64,
}

/// A term's identity in the compiled table.
#[derive(Debug, Clone, PartialEq)]
pub struct TermRef {
    /// Index into [`Lexicon::categories`].
    pub category: u16,
    /// Category role.
    pub role: Role,
    /// Term as written.
    pub written: String,
    /// Term weight.
    pub weight: f64,
}

/// All patterns, grouped by how they are matched.
#[derive(Debug, Clone, Default)]
pub struct PatternTable {
    /// ASCII patterns matched ASCII-case-insensitively on the original bytes.
    pub ascii_ci: Vec<Pattern>,
    /// `=`-prefixed patterns matched with exact case on the original bytes.
    pub exact: Vec<Pattern>,
    /// Non-ASCII patterns (lowercased), matched on a lowercased copy of non-ASCII texts only.
    pub unicode_ci: Vec<Pattern>,
    /// Terms by index.
    pub terms: Vec<TermRef>,
    /// Category names by index.
    pub category_names: Vec<String>,
    /// Category roles by index.
    pub category_roles: Vec<Role>,
}

impl PatternTable {
    /// Builds the table; a pattern repeated in the same group keeps its first occurrence
    /// (`lexicon check` reports the repeat).
    pub fn build(lex: &Lexicon) -> PatternTable {
        let mut t = PatternTable::default();
        for (ci, cat) in lex.categories().iter().enumerate() {
            let ci = u16::try_from(ci).unwrap_or(u16::MAX);
            t.category_names.push(cat.name.clone());
            t.category_roles.push(cat.role);
            for term in &cat.terms {
                let tid = u32::try_from(t.terms.len()).unwrap_or(u32::MAX);
                t.terms.push(TermRef {
                    category: ci,
                    role: cat.role,
                    written: term.written.clone(),
                    weight: term.weight,
                });
                for p in &term.patterns {
                    let (group, text) = if term.exact_case {
                        (&mut t.exact, p.clone())
                    } else if p.is_ascii() {
                        (&mut t.ascii_ci, p.to_ascii_lowercase())
                    } else {
                        (&mut t.unicode_ci, p.to_lowercase())
                    };
                    if group.iter().any(|q| q.text == text) {
                        continue;
                    }
                    group.push(Pattern {
                        text,
                        category: ci,
                        term: tid,
                        weight: term.weight,
                    });
                }
            }
        }
        t
    }

    /// Total number of distinct expanded patterns.
    pub fn len(&self) -> usize {
        self.ascii_ci.len() + self.exact.len() + self.unicode_ci.len()
    }

    /// True when there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
