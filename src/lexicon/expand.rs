//! Term syntax: brace alternatives (`turn{s,ed,ing,} against`), the `=` exact-case prefix and
//! the `@weight` suffix. Owns turning one written term into its expanded literal patterns.

/// Most patterns one written term may expand to; a typo such as an unclosed group multiplied
/// across several groups would otherwise silently produce thousands of patterns.
pub const MAX_EXPANSIONS: usize = 512;

/// One written term split into its parts (before brace expansion).
#[derive(Debug, Clone, PartialEq)]
pub struct TermSpec {
    /// The term text with braces, without `=` prefix or `@weight` suffix.
    pub text: String,
    /// `=` prefix: match with exact case (for short acronyms such as `AI`, `HAL`).
    pub exact_case: bool,
    /// `@weight` suffix, if given.
    pub weight: Option<f64>,
}

/// Splits `[=]text[ @weight]`.
pub fn split_term(raw: &str) -> Result<TermSpec, String> {
    let mut s = raw.trim();
    let exact_case = s.starts_with('=');
    if exact_case {
        s = s[1..].trim_start();
    }
    let (text, weight) = match s.rfind('@') {
        Some(at) => {
            let w = s[at + 1..].trim();
            let w: f64 = w
                .parse()
                .map_err(|_| format!("bad weight `@{w}` in term `{raw}`"))?;
            if !(0.0..=10.0).contains(&w) {
                return Err(format!("weight {w} out of range 0..=10 in term `{raw}`"));
            }
            (s[..at].trim_end(), Some(w))
        }
        None => (s, None),
    };
    if text.is_empty() {
        return Err(format!("empty term `{raw}`"));
    }
    Ok(TermSpec {
        text: collapse_spaces(text),
        exact_case,
        weight,
    })
}

fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Expands `{a,b,}` groups into the cartesian product of literal patterns, in written order.
/// Straight apostrophes also yield the typographic `’` variant, as web text uses both.
pub fn expand(text: &str) -> Result<Vec<String>, String> {
    let mut out = vec![String::new()];
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or_else(|| format!("unclosed `{{` in `{text}`"))?;
        let inner = &rest[open + 1..close];
        if inner.contains('{') {
            return Err(format!("nested `{{` in `{text}`"));
        }
        let prefix = &rest[..open];
        if prefix.contains('}') {
            return Err(format!("unmatched `}}` in `{text}`"));
        }
        let alts: Vec<&str> = inner.split(',').collect();
        let mut next = Vec::with_capacity(out.len() * alts.len());
        for base in &out {
            for alt in &alts {
                next.push(format!("{base}{prefix}{alt}"));
            }
        }
        if next.len() > MAX_EXPANSIONS {
            return Err(format!(
                "`{text}` expands to more than {MAX_EXPANSIONS} patterns"
            ));
        }
        out = next;
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("unmatched `}}` in `{text}`"));
    }
    let mut pats: Vec<String> = Vec::with_capacity(out.len() * 2);
    for p in out {
        let p = collapse_spaces(&format!("{p}{rest}"));
        if p.is_empty() {
            return Err(format!("`{text}` expands to an empty pattern"));
        }
        if p.contains('\'') {
            let curly = p.replace('\'', "\u{2019}");
            push_unique(&mut pats, p);
            push_unique(&mut pats, curly);
        } else {
            push_unique(&mut pats, p);
        }
    }
    Ok(pats)
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_groups_in_order() {
        assert_eq!(
            expand("turn{s,ed,ing,} against").unwrap(),
            vec![
                "turns against",
                "turned against",
                "turning against",
                "turn against"
            ]
        );
        assert_eq!(
            expand("{kill,murder}{s,} humans").unwrap().len(),
            4,
            "cartesian product"
        );
    }

    #[test]
    fn apostrophe_variants() {
        assert_eq!(
            expand("Roko's basilisk").unwrap(),
            vec!["Roko's basilisk", "Roko\u{2019}s basilisk"]
        );
    }

    #[test]
    fn syntax_errors() {
        assert!(expand("turn{s against").is_err());
        assert!(expand("turn}s").is_err());
        assert!(expand("a{b{c}}").is_err());
        assert!(split_term("robot @x").is_err());
        assert!(split_term("  ").is_err());
    }

    #[test]
    fn split_prefix_and_weight() {
        let t = split_term("=AI @1.5").unwrap();
        assert!(t.exact_case);
        assert_eq!(t.text, "AI");
        assert_eq!(t.weight, Some(1.5));
    }
}
