//! Accuracy of `flagged` on the hand-labelled documents in tests/data/labelled/labels.tsv
//! (columns shard, id, label, reason; shard relative to the corpus; id = document id or
//! `#<line>`), against two baselines built from the same lexicon categories:
//! (a) any named villain present; (b) an AI-entity term plus a hostile-act term anywhere.
//!
//! Corpus: `$TROPESCAN_CORPUS`, else `<CARGO_MANIFEST_DIR>/../shared/corpus` (`tests/util`).
//! Run: `cargo test --release --test accuracy -- --nocapture` (set `TROPESCAN_ACCURACY_ERRORS=1`
//! to list every misclassified row of halves A and B, `TROPESCAN_ACCURACY_HALF=A|B` to narrow
//! that to one half).
//!
//! Set C (tests/data/labelled/fresh.tsv, same columns, drawn by sample_fresh.py and labelled
//! blind) is scored and printed in a block of its own; it is not part of the row count, the
//! "all rows" figures or the bar, and its errors are listed only with
//! `TROPESCAN_ACCURACY_HALF=C`, because it exists to stay unseen by development.

mod util;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use tropescan::input::{read_shard, ReadOptions, Shard};
use tropescan::lexicon::{Lexicon, Role};
use tropescan::scan::{Label, ScanConfig, Scanner};

/// Fixed development/hold-out split: FNV-1a of the id, even = half A (development), odd =
/// half B (held out). Deterministic and independent of the label.
fn half_of(id: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h & 1) as usize
}

struct Row {
    shard: String,
    id: String,
    gold: Label,
    reason: String,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: u32,
    fp: u32,
    fn_: u32,
    tn: u32,
}

impl Counts {
    fn add(&mut self, gold: bool, pred: bool) {
        match (gold, pred) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }
    fn precision(&self) -> f64 {
        f64::from(self.tp) / f64::from((self.tp + self.fp).max(1))
    }
    fn recall(&self) -> f64 {
        f64::from(self.tp) / f64::from((self.tp + self.fn_).max(1))
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    fn line(&self, name: &str) -> String {
        format!(
            "{name:<28} P {:.3}  R {:.3}  F1 {:.3}  (tp {} fp {} fn {} tn {})",
            self.precision(),
            self.recall(),
            self.f1(),
            self.tp,
            self.fp,
            self.fn_,
            self.tn
        )
    }
}

fn read_rows(path: &PathBuf) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            let (shard, id, label) = (f.next()?, f.next()?, f.next()?);
            let gold = Label::from_name(label)?; // skips the header
            Some(Row {
                shard: shard.to_string(),
                id: id.to_string(),
                gold,
                reason: f.next().unwrap_or("").to_string(),
            })
        })
        .collect()
}

/// The scorer and both baselines on the labelled set, or `None` when the corpus is absent.
struct Evaluation {
    rows: usize,
    scored: usize,
    ours: Counts,
    base_a: Counts,
    base_b: Counts,
    /// Set C (fresh.tsv): rows listed and rows scored; reported only, never part of the bar.
    fresh_rows: usize,
    fresh_scored: usize,
}

/// What the scorer and the two baselines said about one labelled document.
#[derive(Clone, Copy)]
struct Prediction {
    label: Label,
    flagged: bool,
    base_a: bool,
    base_b: bool,
    score: f64,
}

/// Which rows get their errors listed (`TROPESCAN_ACCURACY_ERRORS`), narrowed by
/// `TROPESCAN_ACCURACY_HALF=A|B|C`. Set C (the fresh rows) is listed only when asked for by
/// name, so that looking at the development errors never shows the held-out ones.
#[derive(Clone, Copy, PartialEq)]
enum ErrorScope {
    None,
    Halves(Option<usize>),
    Fresh,
}

fn error_scope() -> ErrorScope {
    if std::env::var_os("TROPESCAN_ACCURACY_ERRORS").is_none() {
        return ErrorScope::None;
    }
    match std::env::var("TROPESCAN_ACCURACY_HALF")
        .ok()
        .as_deref()
        .map(str::trim)
    {
        Some("C") => ErrorScope::Fresh,
        Some("B") => ErrorScope::Halves(Some(1)),
        Some("A") => ErrorScope::Halves(Some(0)),
        _ => ErrorScope::Halves(None),
    }
}

/// Reads every shard named in `rows` once and scores the listed documents. Returns the
/// scored rows (grouped by shard, in file order within a shard) and, per reason, how many
/// rows could not be scored.
fn score_rows<'r>(
    corpus: &Path,
    rows: &'r [Row],
    scanner: &Scanner,
) -> (Vec<(&'r Row, Prediction)>, BTreeMap<String, usize>) {
    let roles = scanner.category_roles().to_vec();
    let mut by_shard: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        by_shard.entry(r.shard.as_str()).or_default().push(r);
    }
    let mut scored = Vec::new();
    let mut unreadable: BTreeMap<String, usize> = BTreeMap::new();
    for (shard, want) in &by_shard {
        let path = corpus.join(shard);
        if !path.exists() {
            unreadable.insert(format!("{shard} (missing)"), want.len());
            continue;
        }
        let ids: BTreeSet<&str> = want.iter().map(|r| r.id.as_str()).collect();
        let mut found: BTreeMap<String, Prediction> = BTreeMap::new();
        let stats = read_shard(
            &Shard::from_path(&path),
            &ReadOptions::default(),
            None,
            |doc| {
                let line_id = format!("#{}", doc.position.line);
                let key = if ids.contains(doc.id.as_ref()) {
                    doc.id.to_string()
                } else if ids.contains(line_id.as_str()) {
                    line_id
                } else {
                    return;
                };
                let v = scanner.score(&doc.text);
                let raw = scanner.raw_hits(&doc.text);
                let has = |pred: &dyn Fn(Role) -> bool| {
                    raw.iter().any(|h| pred(roles[h.category as usize]))
                };
                let base_a = has(&|r| matches!(r, Role::Villain | Role::VillainContext));
                // Hostile adjectives (trait role) were acts when the baseline was defined.
                let base_b = has(&|r| r == Role::Entity)
                    && has(&|r| matches!(r, Role::Action | Role::Trait));
                found.insert(
                    key,
                    Prediction {
                        label: v.label,
                        flagged: v.flagged,
                        base_a,
                        base_b,
                        score: v.score,
                    },
                );
            },
        );
        let missing = want.iter().filter(|r| !found.contains_key(&r.id)).count();
        if missing > 0 {
            let why = if stats.documents == 0 {
                format!(
                    "{shard} (format not readable yet: {} errors)",
                    stats.errors.len()
                )
            } else {
                format!("{shard} (ids not found)")
            };
            unreadable.insert(why, missing);
        }
        scored.extend(
            want.iter()
                .filter_map(|r| found.get(&r.id).map(|&p| (*r, p))),
        );
    }
    (scored, unreadable)
}

/// Confusion matrix (gold, predicted label) and the flagged counts of the scorer and both
/// baselines.
fn tally(scored: &[(&Row, Prediction)]) -> (BTreeMap<(Label, Label), u32>, [Counts; 3]) {
    let mut confusion: BTreeMap<(Label, Label), u32> = BTreeMap::new();
    let mut counts = [Counts::default(); 3];
    for (r, p) in scored {
        *confusion.entry((r.gold, p.label)).or_default() += 1;
        let gold = r.gold.is_rogue();
        for (c, pred) in counts.iter_mut().zip([p.flagged, p.base_a, p.base_b]) {
            c.add(gold, pred);
        }
    }
    (confusion, counts)
}

fn print_confusion(confusion: &BTreeMap<(Label, Label), u32>) {
    println!("confusion (rows gold, columns predicted):");
    print!("{:<20}", "");
    for l in Label::ALL {
        print!("{:>19}", l.name());
    }
    println!();
    for g in Label::ALL {
        print!("{:<20}", g.name());
        for p in Label::ALL {
            print!("{:>19}", confusion.get(&(g, p)).copied().unwrap_or(0));
        }
        println!();
    }
}

fn print_counts(indent: &str, counts: &[Counts; 3]) {
    println!("{}", counts[0].line(&format!("{indent}scorer (flagged)")));
    println!(
        "{}",
        counts[1].line(&format!("{indent}baseline a: villain name"))
    );
    println!(
        "{}",
        counts[2].line(&format!("{indent}baseline b: entity + act"))
    );
}

fn print_error(r: &Row, p: &Prediction) {
    let gold = r.gold.is_rogue();
    if gold == p.flagged && r.gold == p.label {
        return;
    }
    println!(
        "{} gold {} got {} score {:.3} {} {} | {}",
        if gold != p.flagged {
            "FLAGERR"
        } else {
            "labelerr"
        },
        r.gold,
        p.label,
        p.score,
        r.shard,
        r.id,
        r.reason
    );
}

/// Scores every labelled document and prints the confusion matrix and the figures, then the
/// same for set C (tests/data/labelled/fresh.tsv, when present) in a block of its own.
fn evaluate() -> Option<Evaluation> {
    let Some(corpus) = util::corpus() else {
        println!("SKIPPED: corpus not found (set TROPESCAN_CORPUS)");
        return None;
    };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/labelled");
    let rows = read_rows(&dir.join("labels.tsv"));
    assert!(
        rows.len() >= 300,
        "the labelled set has {} rows",
        rows.len()
    );
    let scope = error_scope();
    let lex = Lexicon::default_english();
    let scanner = Scanner::new(&lex, ScanConfig::default()).expect("scanner");

    let (scored, unreadable) = score_rows(&corpus, &rows, &scanner);
    let (confusion, [ours, base_a, base_b]) = tally(&scored);
    let halves = [0, 1].map(|half| {
        let rows: Vec<_> = scored
            .iter()
            .filter(|(r, _)| half_of(&r.id) == half)
            .copied()
            .collect();
        tally(&rows).1
    });
    if let ErrorScope::Halves(only) = scope {
        for (r, p) in &scored {
            if only.map_or(true, |h| h == half_of(&r.id)) {
                print_error(r, p);
            }
        }
    }

    println!("labelled rows: {}, scored: {}", rows.len(), scored.len());
    for (why, n) in &unreadable {
        println!("NOTE: {n} row(s) not scored: {why}");
    }
    print_confusion(&confusion);
    print_counts("", &[ours, base_a, base_b]);
    for (name, h) in ["A (dev)", "B (held out)"].iter().zip(&halves) {
        println!("half {name}:");
        print_counts("  ", h);
    }

    // Set C: rows never used for development, labelled blind (see docs/accuracy.md). Its
    // figures are printed for an honest estimate; nothing here is asserted on them.
    let fresh = read_rows(&dir.join("fresh.tsv"));
    let (fresh_scored, fresh_unreadable) = score_rows(&corpus, &fresh, &scanner);
    if !fresh.is_empty() {
        let (confusion, counts) = tally(&fresh_scored);
        println!();
        println!("set C (fresh, labelled blind in session 7):");
        println!("rows: {}, scored: {}", fresh.len(), fresh_scored.len());
        for (why, n) in &fresh_unreadable {
            println!("NOTE: {n} row(s) not scored: {why}");
        }
        print_confusion(&confusion);
        print_counts("  ", &counts);
        if scope == ErrorScope::Fresh {
            for (r, p) in &fresh_scored {
                print_error(r, p);
            }
        }
    }
    Some(Evaluation {
        rows: rows.len(),
        scored: scored.len(),
        ours,
        base_a,
        base_b,
        fresh_rows: fresh.len(),
        fresh_scored: fresh_scored.len(),
    })
}

/// Runs on every `cargo test`: a regression guard that can fail. Every labelled document must
/// be read and scored, and the scorer must beat both baselines in F1 by a clear margin.
#[test]
fn scorer_beats_both_baselines_on_labelled_documents() {
    let Some(e) = evaluate() else { return };
    assert_eq!(
        e.scored, e.rows,
        "every labelled document is found and scored"
    );
    // Set C is only reported, but a row that cannot be found is a broken id, not a figure.
    assert_eq!(
        e.fresh_scored, e.fresh_rows,
        "every set C document is found and scored"
    );
    assert!(
        e.ours.f1() > e.base_a.f1() + 0.05,
        "F1 {:.3} does not beat baseline a ({:.3}) by 0.05",
        e.ours.f1(),
        e.base_a.f1()
    );
    assert!(
        e.ours.f1() > e.base_b.f1() + 0.05,
        "F1 {:.3} does not beat baseline b ({:.3}) by 0.05",
        e.ours.f1(),
        e.base_b.f1()
    );
}

/// The quality bar of the scorer issue. Not met yet (precision 0.845, recall 0.78 on the
/// labelled set, 0.78 / 0.71 on the held-out half; see docs/accuracy.md), so it is ignored
/// rather than loosened; run it with
/// `cargo test --release --test accuracy -- --ignored --nocapture`.
#[test]
#[ignore = "bar not met yet: precision 0.845 / recall 0.78 vs 0.90 / 0.85 (docs/accuracy.md)"]
fn labelled_documents_meet_the_precision_and_recall_bar() {
    let Some(e) = evaluate() else { return };
    assert!(
        e.ours.precision() >= 0.90,
        "precision {:.3} < 0.90",
        e.ours.precision()
    );
    assert!(
        e.ours.recall() >= 0.85,
        "recall {:.3} < 0.85",
        e.ours.recall()
    );
}
