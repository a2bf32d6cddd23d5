//! Equivalence of the matcher with its original implementation (kept below, verbatim, as
//! `reference`): identical hits (positions, categories, terms, weights) and identical
//! negation look-behinds on real corpus documents. Skips loudly without the corpus.

mod util;

use std::path::PathBuf;

use tropescan::input::{read_shard, ReadOptions, Shard};
use tropescan::lexicon::Lexicon;
use tropescan::scan::matcher::{Matcher, RawHit};

/// The matcher as of commit 7674aff (src/scan/matcher.rs), unchanged but for paths.
#[allow(dead_code, clippy::all)]
mod reference {
    use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

    use tropescan::lexicon::{Pattern, PatternTable};
    use tropescan::scan::matcher::RawHit;

    /// The compiled automata.
    #[derive(Debug, Clone)]
    pub(crate) struct Matcher {
        /// Negation cues (lowercased patterns with category, term, weight). Not in any automaton:
        /// "no", "not", "nor", "never" were the most frequent anchors by far (12,600 of 57,300
        /// candidates in Frankenstein), yet they only matter just before a hostile act, so
        /// [`Matcher::negation_before`] looks for them there.
        negations: Vec<(String, u16, u32, f64)>,
        anchored: Option<AnchorGroup>,
        exact: Option<Group>,
        unicode_ci: Option<Group>,
    }

    #[derive(Debug, Clone)]
    struct Group {
        ac: AhoCorasick,
        pats: Vec<(u16, u32, f64)>,
    }

    #[derive(Debug, Clone)]
    struct Anchored {
        /// Lowercased pattern bytes before the anchor (ends with a space) and after it.
        prefix: Box<[u8]>,
        suffix: Box<[u8]>,
        len: usize,
        category: u16,
        term: u32,
        weight: f64,
    }

    #[derive(Debug, Clone)]
    struct AnchorGroup {
        ac: AhoCorasick,
        /// Per anchor: its patterns, longest first.
        buckets: Vec<Vec<Anchored>>,
    }

    /// Automaton construction failed (pattern set too large for any automaton kind).
    #[derive(Debug, thiserror::Error)]
    #[error("cannot build the matching automaton: {0}")]
    pub(crate) struct BuildError(String);

    fn build_ac(texts: &[&str], ascii_ci: bool) -> Result<AhoCorasick, BuildError> {
        let mut b = AhoCorasick::builder();
        b.match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(ascii_ci);
        // A DFA is the fastest search; fall back to automatic choice if the set is too large.
        match b.kind(Some(AhoCorasickKind::DFA)).build(texts) {
            Ok(ac) => Ok(ac),
            Err(_) => b
                .kind(None)
                .build(texts)
                .map_err(|e| BuildError(e.to_string())),
        }
    }

    /// Very common English words: never anchors while a pattern has another word, because every
    /// anchor occurrence costs a verification (with "with", "not", "from", "could" as anchors,
    /// Frankenstein produced one candidate per 62 bytes).
    const COMMON: &[&str] = &[
        "a",
        "about",
        "after",
        "against",
        "all",
        "also",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "back",
        "be",
        "been",
        "before",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "down",
        "each",
        "even",
        "every",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "like",
        "made",
        "make",
        "many",
        "may",
        "me",
        "might",
        "more",
        "most",
        "must",
        "my",
        "new",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "one",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "people",
        "said",
        "same",
        "see",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "time",
        "to",
        "too",
        "two",
        "under",
        "up",
        "upon",
        "us",
        "very",
        "was",
        "way",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "will",
        "with",
        "would",
        "you",
        "your",
        "life",
        "world",
        "human",
        "humans",
        "itself",
        "himself",
        "herself",
        "themselves",
    ];

    /// Byte range of the anchor word: the longest word that is not a very common word (the
    /// longest word overall when all are common); first on ties.
    fn anchor_of(p: &str) -> (usize, usize) {
        let mut best = (0, 0);
        let mut best_common = true;
        let mut at = 0;
        for w in p.split(' ') {
            let common = COMMON.contains(&w);
            let better = match (best_common, common) {
                (true, false) => true,
                (false, true) => false,
                _ => w.len() > best.1 - best.0,
            };
            if better {
                best = (at, at + w.len());
                best_common = common;
            }
            at += w.len() + 1;
        }
        best
    }

    fn build_anchored(pats: &[&Pattern]) -> Result<Option<AnchorGroup>, BuildError> {
        if pats.is_empty() {
            return Ok(None);
        }
        let mut anchors: Vec<String> = Vec::new();
        let mut index = std::collections::HashMap::new();
        let mut buckets: Vec<Vec<Anchored>> = Vec::new();
        for p in pats {
            let text = p.text.to_ascii_lowercase();
            let (a, b) = anchor_of(&text);
            let anchor = text[a..b].to_string();
            let slot = *index.entry(anchor.clone()).or_insert_with(|| {
                anchors.push(anchor);
                buckets.push(Vec::new());
                buckets.len() - 1
            });
            buckets[slot].push(Anchored {
                prefix: text.as_bytes()[..a].into(),
                suffix: text.as_bytes()[b..].into(),
                len: text.len(),
                category: p.category,
                term: p.term,
                weight: p.weight,
            });
        }
        for b in &mut buckets {
            b.sort_by_key(|x| std::cmp::Reverse(x.len));
        }
        let texts: Vec<&str> = anchors.iter().map(String::as_str).collect();
        Ok(Some(AnchorGroup {
            ac: build_ac(&texts, true)?,
            buckets,
        }))
    }

    /// The anchor words of the case-insensitive patterns (sorted, distinct); for diagnostics.
    pub(crate) fn anchors_for_debug(table: &PatternTable) -> Vec<String> {
        let mut v: Vec<String> = table
            .ascii_ci
            .iter()
            .map(|p| {
                let (a, b) = anchor_of(&p.text);
                p.text[a..b].to_string()
            })
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// True for a non-ASCII character that has case (so ASCII case folding cannot match it).
    fn has_non_ascii_case(p: &str) -> bool {
        p.chars()
            .any(|c| !c.is_ascii() && (c.is_lowercase() || c.is_uppercase()))
    }

    fn build_group(pats: &[&Pattern], ascii_ci: bool) -> Result<Option<Group>, BuildError> {
        if pats.is_empty() {
            return Ok(None);
        }
        let texts: Vec<&str> = pats.iter().map(|p| p.text.as_str()).collect();
        Ok(Some(Group {
            ac: build_ac(&texts, ascii_ci)?,
            pats: pats
                .iter()
                .map(|p| (p.category, p.term, p.weight))
                .collect(),
        }))
    }

    impl Matcher {
        /// Builds the automata from a pattern table.
        pub(crate) fn new(table: &PatternTable) -> Result<Matcher, BuildError> {
            let (cased, caseless): (Vec<&Pattern>, Vec<&Pattern>) = table
                .unicode_ci
                .iter()
                .partition(|p| has_non_ascii_case(&p.text));
            let is_neg = |p: &&Pattern| {
                table.category_roles.get(p.category as usize)
                    == Some(&tropescan::lexicon::Role::Negation)
            };
            let negations = table
                .ascii_ci
                .iter()
                .chain(&table.unicode_ci)
                .filter(is_neg)
                .map(|p| (p.text.to_lowercase(), p.category, p.term, p.weight))
                .collect();
            let mut ci: Vec<&Pattern> = table.ascii_ci.iter().filter(|p| !is_neg(p)).collect();
            ci.extend(caseless.into_iter().filter(|p| !is_neg(p)));
            let exact: Vec<&Pattern> = table.exact.iter().collect();
            Ok(Matcher {
                negations,
                anchored: build_anchored(&ci)?,
                exact: build_group(&exact, false)?,
                unicode_ci: build_group(&cased, false)?,
            })
        }

        /// The last negation cue on word boundaries inside `text[from..to]`, as a hit.
        pub(crate) fn negation_before(&self, text: &str, from: usize, to: usize) -> Option<RawHit> {
            let slice = text.get(from..to)?;
            let mut best: Option<RawHit> = None;
            for (pat, category, term, weight) in &self.negations {
                let n = pat.len();
                let bytes = slice.as_bytes();
                if n > bytes.len() {
                    continue;
                }
                for i in (0..=bytes.len() - n).rev() {
                    let s = from + i;
                    if bytes[i..i + n].eq_ignore_ascii_case(pat.as_bytes())
                        && text.is_char_boundary(s)
                        && text.is_char_boundary(s + n)
                        && on_word_boundaries(text, s, s + n)
                    {
                        if best.map_or(true, |b| s > b.start) {
                            best = Some(RawHit {
                                start: s,
                                end: s + n,
                                category: *category,
                                term: *term,
                                weight: *weight,
                            });
                        }
                        break;
                    }
                }
            }
            best
        }

        /// Only the anchor automaton pass (no verification, no boundary checks); for benchmarks.
        pub(crate) fn count_raw_ascii(&self, text: &str) -> usize {
            self.anchored
                .as_ref()
                .map(|g| g.ac.find_iter(text).count())
                .unwrap_or(0)
        }

        /// Finds word-bounded hits, sorted by start, non-overlapping; appends to `out` (cleared).
        pub(crate) fn find(&self, text: &str, out: &mut Vec<RawHit>) {
            out.clear();
            if let Some(g) = &self.anchored {
                push_anchored(g, text, out);
            }
            if let Some(g) = &self.exact {
                push_bounded(g, text, text, None, out);
            }
            if let Some(g) = &self.unicode_ci {
                if !text.is_ascii() {
                    let (lower, map) = lowercase_with_map(text);
                    push_bounded(g, &lower, text, Some(&map), out);
                }
            }
            resolve_overlaps(out);
        }
    }

    /// Matches `pat` forwards from `i`; a space in `pat` matches a run of ASCII whitespace.
    fn verify_forward(hay: &[u8], mut i: usize, pat: &[u8]) -> Option<usize> {
        for &pc in pat {
            if pc == b' ' {
                if !hay.get(i)?.is_ascii_whitespace() {
                    return None;
                }
                while hay.get(i).is_some_and(u8::is_ascii_whitespace) {
                    i += 1;
                }
            } else {
                if !hay.get(i)?.eq_ignore_ascii_case(&pc) {
                    return None;
                }
                i += 1;
            }
        }
        Some(i)
    }

    /// Matches `pat` backwards, ending just before `i`; returns the start.
    fn verify_backward(hay: &[u8], mut i: usize, pat: &[u8]) -> Option<usize> {
        for &pc in pat.iter().rev() {
            if pc == b' ' {
                if i == 0 || !hay[i - 1].is_ascii_whitespace() {
                    return None;
                }
                while i > 0 && hay[i - 1].is_ascii_whitespace() {
                    i -= 1;
                }
            } else {
                if i == 0 || !hay[i - 1].eq_ignore_ascii_case(&pc) {
                    return None;
                }
                i -= 1;
            }
        }
        Some(i)
    }

    fn push_anchored(g: &AnchorGroup, text: &str, out: &mut Vec<RawHit>) {
        let hay = text.as_bytes();
        for m in g.ac.find_iter(text) {
            if !on_word_boundaries(text, m.start(), m.end()) {
                continue;
            }
            let Some(bucket) = g.buckets.get(m.pattern().as_usize()) else {
                continue;
            };
            for p in bucket {
                let Some(start) = verify_backward(hay, m.start(), &p.prefix) else {
                    continue;
                };
                let Some(end) = verify_forward(hay, m.end(), &p.suffix) else {
                    continue;
                };
                if text.is_char_boundary(start)
                    && text.is_char_boundary(end)
                    && on_word_boundaries(text, start, end)
                {
                    out.push(RawHit {
                        start,
                        end,
                        category: p.category,
                        term: p.term,
                        weight: p.weight,
                    });
                    break;
                }
            }
        }
    }

    fn push_bounded(
        g: &Group,
        hay: &str,
        orig: &str,
        map: Option<&[usize]>,
        out: &mut Vec<RawHit>,
    ) {
        for m in g.ac.find_iter(hay) {
            if !on_word_boundaries(hay, m.start(), m.end()) {
                continue;
            }
            let Some(&(category, term, weight)) = g.pats.get(m.pattern().as_usize()) else {
                continue;
            };
            let (start, end) = match map {
                None => (m.start(), m.end()),
                Some(map) => (
                    map.get(m.start()).copied().unwrap_or(orig.len()),
                    map.get(m.end()).copied().unwrap_or(orig.len()),
                ),
            };
            out.push(RawHit {
                start,
                end,
                category,
                term,
                weight,
            });
        }
    }

    /// Leftmost-longest across groups: sort by (start, longest first), drop overlapped hits.
    fn resolve_overlaps(out: &mut Vec<RawHit>) {
        if out.len() < 2 {
            return;
        }
        out.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut last_end = 0usize;
        out.retain(|h| {
            if h.start < last_end {
                false
            } else {
                last_end = h.end;
                true
            }
        });
    }

    #[inline]
    fn is_word_char(c: char) -> bool {
        c.is_alphanumeric() || c == '_'
    }

    /// True when the match does not continue a word on either side. An edge of the pattern that
    /// is itself not a word character (e.g. the final `.` of `A.I.`) needs no check.
    #[inline]
    pub(crate) fn on_word_boundaries(hay: &str, start: usize, end: usize) -> bool {
        let bytes = hay.as_bytes();
        let first_word = hay[start..].chars().next().is_some_and(is_word_char);
        if first_word && start > 0 {
            let prev = bytes[start - 1];
            let blocked = if prev.is_ascii() {
                prev.is_ascii_alphanumeric() || prev == b'_'
            } else {
                hay[..start].chars().next_back().is_some_and(is_word_char)
            };
            if blocked {
                return false;
            }
        }
        let last_word = hay[..end].chars().next_back().is_some_and(is_word_char);
        if last_word && end < bytes.len() {
            let next = bytes[end];
            let blocked = if next.is_ascii() {
                next.is_ascii_alphanumeric() || next == b'_'
            } else {
                hay[end..].chars().next().is_some_and(is_word_char)
            };
            if blocked {
                return false;
            }
        }
        true
    }

    /// Lowercases `text`; `map[i]` is the original byte offset of the char that produced lower
    /// byte `i` (plus one trailing entry for the end).
    fn lowercase_with_map(text: &str) -> (String, Vec<usize>) {
        let mut lower = String::with_capacity(text.len());
        let mut map = Vec::with_capacity(text.len() + 1);
        for (i, c) in text.char_indices() {
            let before = lower.len();
            for l in c.to_lowercase() {
                lower.push(l);
            }
            map.extend(std::iter::repeat(i).take(lower.len() - before));
        }
        map.push(text.len());
        (lower, map)
    }
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Compares one document; returns the number of hits.
fn check(new: &Matcher, old: &reference::Matcher, text: &str, what: &str) -> usize {
    let mut a: Vec<RawHit> = Vec::new();
    let mut b: Vec<RawHit> = Vec::new();
    new.find(text, &mut a);
    old.find(text, &mut b);
    assert_eq!(a, b, "hits differ in {what}");
    // Negation look-behind: before every hit (as features.rs uses it) and over a long span.
    for h in &a {
        let from = floor_char(text, h.start.saturating_sub(60));
        assert_eq!(
            new.negation_before(text, from, h.start),
            old.negation_before(text, from, h.start),
            "negation differs in {what} before {}",
            h.start
        );
    }
    let end = floor_char(text, text.len().min(4000));
    assert_eq!(
        new.negation_before(text, 0, end),
        old.negation_before(text, 0, end),
        "negation differs in {what} (whole)"
    );
    a.len()
}

fn docs(path: &std::path::Path, limit: usize, mut f: impl FnMut(&str, &str)) -> usize {
    let mut n = 0;
    read_shard(
        &Shard::from_path(path),
        &ReadOptions::default(),
        None,
        |d| {
            if n < limit {
                n += 1;
                f(d.text.as_ref(), &format!("{} doc {n}", path.display()));
            }
        },
    );
    n
}

#[test]
fn matcher_equals_reference_on_corpus() {
    let Some(corpus) = util::corpus() else {
        eprintln!("SKIPPED matcher_equivalence: corpus not found (set TROPESCAN_CORPUS)");
        return;
    };
    let table = Lexicon::default_english().compile();
    let new = Matcher::new(&table).expect("matcher");
    let old = reference::Matcher::new(&table).expect("reference matcher");
    let mut shards: Vec<(PathBuf, usize)> = vec![
        (corpus.join("shards/prose.jsonl.zst"), usize::MAX),
        (corpus.join("shards/ag_news.jsonl.zst"), usize::MAX),
        (corpus.join("shards/gutenberg.jsonl"), usize::MAX),
        (corpus.join("shards/wikitext2.jsonl.gz"), usize::MAX),
        (corpus.join("plots/plots_all.jsonl.zst"), usize::MAX),
    ];
    // Plus every shard of the labelled accuracy set (crawl, web, ...), read in full.
    let tsv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/labelled/labels.tsv");
    let labelled = std::fs::read_to_string(&tsv).unwrap_or_default();
    let mut extra: Vec<&str> = labelled
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .filter(|s| !s.is_empty())
        .collect();
    extra.sort_unstable();
    extra.dedup();
    for s in extra {
        let p = corpus.join(s);
        if !shards.iter().any(|(q, _)| *q == p) {
            shards.push((p, usize::MAX));
        }
    }
    let mut fiction: Vec<PathBuf> = std::fs::read_dir(corpus.join("fiction"))
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    fiction.sort();
    for p in fiction {
        if !shards.iter().any(|(q, _)| *q == p) {
            shards.push((p, usize::MAX));
        }
    }
    let (mut ndocs, mut nhits, mut bytes, mut seen) = (0usize, 0usize, 0usize, 0usize);
    let (mut raw_new, mut raw_old) = (0usize, 0usize);
    for (path, limit) in &shards {
        if !path.exists() {
            eprintln!("SKIPPED shard {}: absent", path.display());
            continue;
        }
        ndocs += docs(path, *limit, |text, what| {
            bytes += text.len();
            nhits += check(&new, &old, text, what);
            raw_new += new.count_raw_ascii(text);
            raw_old += old.count_raw_ascii(text);
            seen += 1;
            // Non-ASCII texts: every 50th document again with cased non-ASCII around it.
            if seen % 50 == 0 {
                let t = format!("ÉTÉ {text} ÀI");
                check(&new, &old, &t, what);
            }
        });
    }
    eprintln!(
        "matcher_equivalence: {ndocs} documents, {bytes} bytes, {nhits} hits identical; \
         raw anchor matches examined: {raw_new} (whole-text automaton: {raw_old})"
    );
    assert!(ndocs > 0, "no documents read");
    assert!(nhits > 0, "no hits at all: nothing compared");
}

#[test]
fn matcher_equals_reference_on_edge_cases() {
    let table = Lexicon::default_english().compile();
    let new = Matcher::new(&table).expect("matcher");
    let old = reference::Matcher::new(&table).expect("reference matcher");
    for t in [
        "",
        "AI",
        "the AI said",
        "Skynet",
        "skynet's rogue AI will take over the world",
        "The   machines\n\n  rose up against humanity. A.I. HAL 9000 AGI",
        "said again maid",
        "évil AIé",
        "\u{2019}Skynet\u{2019} kill all humans_",
        "robots of the world, unite! destroy humanity",
        "the AI was not going to kill us; it never would harm humans",
        "rogue\tAI\r\nrogue  ai ROGUE A.I. rogue-AI",
    ] {
        check(&new, &old, t, t);
    }
}
