//! The compiled pattern table: every expanded pattern with its (category, term, weight),
//! split into the three automata the matcher builds (see `scan::matcher` for why).

use std::collections::HashSet;

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
        // The texts already in each group (ascii_ci, exact, unicode_ci): a linear search of
        // the group per pattern was 32 M instructions at every start with the default
        // lexicon's 3,305 patterns, 2% of a `scan -j1` of 40 MB (callgrind, session 6).
        let mut seen: [HashSet<String>; 3] = Default::default();
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
                    let (group, seen, text) = if term.exact_case {
                        (&mut t.exact, &mut seen[1], p.clone())
                    } else if p.is_ascii() {
                        (&mut t.ascii_ci, &mut seen[0], p.to_ascii_lowercase())
                    } else {
                        (&mut t.unicode_ci, &mut seen[2], p.to_lowercase())
                    };
                    if !seen.insert(text.clone()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The groups as the linear-search build made them: each text's first occurrence.
    fn groups_first_wins(lex: &Lexicon) -> [Vec<(String, u16, u32)>; 3] {
        let mut groups: [Vec<(String, u16, u32)>; 3] = Default::default();
        let mut tid = 0u32;
        for (ci, cat) in lex.categories().iter().enumerate() {
            for term in &cat.terms {
                for p in &term.patterns {
                    let (g, text) = if term.exact_case {
                        (1, p.clone())
                    } else if p.is_ascii() {
                        (0, p.to_ascii_lowercase())
                    } else {
                        (2, p.to_lowercase())
                    };
                    if !groups[g].iter().any(|(q, ..)| *q == text) {
                        groups[g].push((text, ci as u16, tid));
                    }
                }
                tid += 1;
            }
        }
        groups
    }

    #[test]
    fn repeated_patterns_keep_their_first_occurrence() {
        let mut lex = Lexicon::default_english();
        // Repeats within a group and across case: "skynet" is a default term already.
        lex.extend_from_source(
            "repeats.toml",
            "[lexicon]\nname = \"t\"\n[[category]]\nname = \"repeats\"\nrole = \"entity\"\n\
             weight = 1.0\nterms = [\"Skynet\", \"SKYNET\", \"=Skynet\", \"Ägis\", \"ägis\"]\n",
        )
        .expect("extend");
        let table = PatternTable::build(&lex);
        let got: [Vec<(String, u16, u32)>; 3] = [&table.ascii_ci, &table.exact, &table.unicode_ci]
            .map(|g| {
                g.iter()
                    .map(|p| (p.text.clone(), p.category, p.term))
                    .collect()
            });
        assert_eq!(got, groups_first_wins(&lex));
        let written: usize = lex
            .categories()
            .iter()
            .flat_map(|c| &c.terms)
            .map(|t| t.patterns.len())
            .sum();
        assert!(
            table.len() > 1000 && table.len() < written,
            "{} of {written}",
            table.len()
        );
    }
}
