//! Parsing of lexicon TOML into [`Lexicon`]: shape checking with spans (so every error has a
//! file:line), term splitting/expansion, and merging of several files.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::expand::{expand, split_term};
use super::{
    line_of, Category, Diagnostic, DocExample, Lexicon, LexiconError, Role, Scoring, SourceLoc,
    Term, SCORING_KEYS,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    lexicon: RawMeta,
    #[serde(default)]
    scoring: BTreeMap<String, Spanned<f64>>,
    #[serde(default)]
    category: Vec<Spanned<RawCategory>>,
    #[serde(default)]
    example: Vec<Spanned<RawExample>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    language: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    name: String,
    role: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    weight: Option<f64>,
    #[serde(default)]
    terms: Vec<Spanned<String>>,
    #[serde(default, rename = "match")]
    must_match: Vec<String>,
    #[serde(default)]
    no_match: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    text: String,
    label: String,
}

/// Builds a merged lexicon from sources in order.
pub(super) fn build(sources: &[(String, String)]) -> Result<Lexicon, LexiconError> {
    let mut names = Vec::new();
    let mut categories: Vec<Category> = Vec::new();
    let mut examples = Vec::new();
    let mut scoring = BTreeMap::new();
    let mut diags = Vec::new();
    let mut hasher = blake3::Hasher::new();
    for (file, text) in sources {
        hasher.update(&(text.len() as u64).to_le_bytes());
        hasher.update(text.as_bytes());
        let raw: RawFile = toml::from_str(text).map_err(|e| LexiconError::Syntax {
            loc: SourceLoc {
                file: file.clone(),
                line: e.span().map(|s| line_of(text, s.start)).unwrap_or(0),
            },
            message: e.message().trim().to_string(),
        })?;
        names.push(raw.lexicon.name.clone());
        for (key, val) in raw.scoring {
            let line = line_of(text, val.span().start);
            if !SCORING_KEYS.iter().any(|(k, _)| *k == key) {
                diags.push(Diagnostic::error(
                    file.clone(),
                    line,
                    format!("unknown [scoring] key `{key}`"),
                ));
                continue;
            }
            scoring.insert(key, val.into_inner());
        }
        for rc in raw.category {
            let loc = SourceLoc {
                file: file.clone(),
                line: line_of(text, rc.span().start),
            };
            let rc = rc.into_inner();
            let cat = build_category(file, text, rc, loc, &mut diags);
            match categories.iter_mut().find(|c| c.name == cat.name) {
                Some(existing) if existing.role != cat.role => diags.push(Diagnostic::error(
                    cat.loc.file.clone(),
                    cat.loc.line,
                    format!(
                        "category `{}` redeclared with role `{}` (was `{}` at {})",
                        cat.name, cat.role, existing.role, existing.loc
                    ),
                )),
                Some(existing) => {
                    existing.terms.extend(cat.terms);
                    existing.must_match.extend(cat.must_match);
                    existing.must_not_match.extend(cat.must_not_match);
                }
                None => categories.push(cat),
            }
        }
        for ex in raw.example {
            let line = line_of(text, ex.span().start);
            let ex = ex.into_inner();
            examples.push(DocExample {
                text: ex.text,
                label: ex.label,
                loc: SourceLoc {
                    file: file.clone(),
                    line,
                },
            });
        }
    }
    for (key, _) in SCORING_KEYS {
        if !scoring.contains_key(*key) {
            let file = sources.first().map(|s| s.0.clone()).unwrap_or_default();
            diags.push(Diagnostic::error(
                file,
                1,
                format!("missing [scoring] key `{key}`"),
            ));
        }
    }
    if !diags.is_empty() {
        return Err(LexiconError::Invalid(diags));
    }
    Ok(Lexicon {
        names,
        sources: sources.to_vec(),
        categories,
        examples,
        scoring: Scoring { values: scoring },
        hash: hasher.finalize().to_hex().to_string(),
    })
}

fn build_category(
    file: &str,
    text: &str,
    rc: RawCategory,
    loc: SourceLoc,
    diags: &mut Vec<Diagnostic>,
) -> Category {
    let role = match Role::from_name(rc.role.get_ref()) {
        Some(r) => r,
        None => {
            diags.push(Diagnostic::error(
                file.to_string(),
                line_of(text, rc.role.span().start),
                format!(
                    "unknown role `{}` (expected one of: {})",
                    rc.role.get_ref(),
                    Role::ALL.map(|r| r.name()).join(", ")
                ),
            ));
            Role::Entity
        }
    };
    let default_weight = rc.weight.unwrap_or(1.0);
    let mut terms = Vec::with_capacity(rc.terms.len());
    for t in rc.terms {
        let line = line_of(text, t.span().start);
        let raw = t.into_inner();
        let parsed = split_term(&raw).and_then(|spec| Ok((expand(&spec.text)?, spec)));
        match parsed {
            Ok((patterns, spec)) => terms.push(Term {
                written: spec.text,
                patterns,
                exact_case: spec.exact_case,
                weight: spec.weight.unwrap_or(default_weight),
                loc: SourceLoc {
                    file: file.to_string(),
                    line,
                },
            }),
            Err(msg) => diags.push(Diagnostic::error(file.to_string(), line, msg)),
        }
    }
    Category {
        name: rc.name,
        role,
        description: rc.description,
        terms,
        must_match: rc.must_match,
        must_not_match: rc.no_match,
        loc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"
[lexicon]
name = "t"
[scoring]
threshold = 0.5
cooc_window_words = 12
negation_window_words = 3
context_window_words = 30
cooc_weight = 1.6
doom_weight = 1.0
villain_weight = 0.5
act_weight = 0.2
counter_weight = 1.0
refutation_weight = 1.0
density_half = 0.5
ai_presence_min = 0.8
benevolent_min = 0.5
discourse_bias = 0.0
discourse_ratio = 1.5
loose_act_min = 0.8
strong_act_min = 1.1
name_context_min = 0.0
analysis_weight = 0.0
agent_after_act = 1.0
trait_gap_words = 2
object_gap_words = 0
pronoun_reach_sentences = 0
subject_veto = 0
loose_subject_veto = 0
loose_topic_density = 0
"#;

    #[test]
    fn errors_carry_file_line() {
        let src =
            format!("{MIN}\n[[category]]\nname = \"x\"\nrole = \"nope\"\nterms = [\"a{{b\"]\n");
        let err = Lexicon::from_str_named("f.toml", &src).unwrap_err();
        let LexiconError::Invalid(d) = err else {
            panic!("expected Invalid")
        };
        assert_eq!(d.len(), 2);
        let role_line = line_of(&src, src.find("role = \"nope\"").unwrap());
        assert!(
            d[0].to_string()
                .starts_with(&format!("f.toml:{role_line}:")),
            "{}",
            d[0]
        );
        assert!(
            d[1].to_string()
                .starts_with(&format!("f.toml:{}:", role_line + 1)),
            "{}",
            d[1]
        );
    }

    #[test]
    fn toml_syntax_error_has_line() {
        let src = format!("{MIN}\n[[category]\n");
        let err = Lexicon::from_str_named("g.toml", &src).unwrap_err();
        let line = line_of(&src, src.find("[[category]").unwrap());
        assert!(
            err.to_string().starts_with(&format!("g.toml:{line}:")),
            "{err}"
        );
    }

    #[test]
    fn missing_scoring_key() {
        let err = Lexicon::from_str_named("h.toml", "[lexicon]\nname = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("missing [scoring] key"), "{err}");
    }
}
