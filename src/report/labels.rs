//! Hand labels -> precision and recall: reading a label file (the `sample.jsonl` of `report
//! --sample` with `human_label` filled in, or a TSV of id and label), joining it to the scanned
//! documents by id, and estimating precision and recall with intervals.

use std::collections::HashMap;

use serde::Serialize;

use super::interval::{r6, wilson, Estimate, Z975};

/// One hand label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HumanLabel {
    /// The document id.
    pub id: String,
    /// The shard, when the file names it (matches a scanned shard path equal to it or ending
    /// with `/` + it).
    pub source: Option<String>,
    /// True when the person judged the document a rogue-AI narrative.
    pub positive: bool,
}

/// A line of a label file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct LabelError {
    /// The label file.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// A parsed label file.
#[derive(Debug, Default)]
pub struct LabelFile {
    /// Labelled documents, in file order.
    pub labels: Vec<HumanLabel>,
    /// Lines with an empty `human_label` (not labelled yet).
    pub unlabelled: u64,
    /// Lines that could not be read.
    pub errors: Vec<LabelError>,
}

/// Reads a human label: booleans, 1/0, yes/no, y/n, true/false, pos/neg, positive/negative, or
/// a tropescan label name (positive when it is one of `flag_labels`). `Ok(None)`: empty.
pub fn parse_judgement(value: &str, flag_labels: &[String]) -> Result<Option<bool>, String> {
    let v = value.trim().to_ascii_lowercase();
    Ok(Some(match v.as_str() {
        "" => return Ok(None),
        "1" | "yes" | "y" | "true" | "t" | "pos" | "positive" => true,
        "0" | "no" | "n" | "false" | "f" | "neg" | "negative" => false,
        _ if crate::scan::Label::from_name(&v).is_some() => flag_labels.contains(&v),
        _ => {
            return Err(format!(
                "unknown label {value:?} (use yes/no, 1/0, true/false or a tropescan label name)"
            ))
        }
    }))
}

/// Parses a label file: JSONL when its first non-blank character is `{`, else TSV.
///
/// JSONL lines need `id` and `human_label` (bool, 0/1, or a string as in
/// [`parse_judgement`]); `source` is optional. TSV lines are `id<TAB>label`; a first line
/// naming an `id` and a `label` (or `human_label`) column is a header, and then a `source` or
/// `shard` column is used too.
pub fn parse_label_file(path: &str, text: &str, flag_labels: &[String]) -> LabelFile {
    let mut out = LabelFile::default();
    let jsonl = text.trim_start().starts_with('{');
    let mut columns: Option<(usize, usize, Option<usize>)> = None;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let err = |message: String| LabelError {
            path: path.to_string(),
            line: line_no,
            message,
        };
        let parsed = if jsonl {
            parse_json_line(line, flag_labels)
        } else {
            let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
            if columns.is_none() && out.labels.is_empty() && out.errors.is_empty() {
                if let Some(h) = header(&fields) {
                    columns = Some(h);
                    continue;
                }
            }
            parse_tsv_fields(&fields, columns.unwrap_or((0, 1, None)), flag_labels)
        };
        match parsed {
            Ok(Some(label)) => out.labels.push(label),
            Ok(None) => out.unlabelled += 1,
            Err(m) => out.errors.push(err(m)),
        }
    }
    out
}

fn header(fields: &[&str]) -> Option<(usize, usize, Option<usize>)> {
    let find = |names: &[&str]| {
        fields
            .iter()
            .position(|f| names.iter().any(|n| f.eq_ignore_ascii_case(n)))
    };
    Some((
        find(&["id"])?,
        find(&["human_label", "label"])?,
        find(&["source", "shard"]),
    ))
}

fn parse_tsv_fields(
    fields: &[&str],
    (id, label, source): (usize, usize, Option<usize>),
    flag_labels: &[String],
) -> Result<Option<HumanLabel>, String> {
    let get = |i: usize| fields.get(i).copied().unwrap_or("");
    if get(id).is_empty() {
        return Err("no id".into());
    }
    Ok(
        parse_judgement(get(label), flag_labels)?.map(|positive| HumanLabel {
            id: get(id).to_string(),
            source: source
                .map(get)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            positive,
        }),
    )
}

fn parse_json_line(line: &str, flag_labels: &[String]) -> Result<Option<HumanLabel>, String> {
    use serde_json::Value;
    let v: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let id = match v.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("no string `id`".into()),
    };
    let positive = match v.get("human_label") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::Number(n)) => parse_judgement(&n.to_string(), flag_labels)?,
        Some(Value::String(s)) => parse_judgement(s, flag_labels)?,
        Some(other) => return Err(format!("`human_label` is {other}, not a label")),
    };
    Ok(positive.map(|positive| HumanLabel {
        id,
        source: v.get("source").and_then(Value::as_str).map(str::to_string),
        positive,
    }))
}

/// Labels by id, for the join with scanned documents.
#[derive(Debug, Default)]
pub struct LabelIndex {
    by_id: HashMap<String, Vec<u32>>,
    labels: Vec<HumanLabel>,
    has_numbers: bool,
}

impl LabelIndex {
    /// Indexes `labels`; a document labelled twice keeps its last label.
    pub fn new(labels: Vec<HumanLabel>) -> LabelIndex {
        let mut by_id: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, l) in labels.iter().enumerate() {
            by_id.entry(l.id.clone()).or_default().push(i as u32);
        }
        let has_numbers = by_id.keys().any(|k| k.starts_with('#'));
        LabelIndex {
            by_id,
            labels,
            has_numbers,
        }
    }

    /// The labels.
    pub fn labels(&self) -> &[HumanLabel] {
        &self.labels
    }

    /// True when some label names a document by its number (`#N`) rather than its id.
    pub fn has_numbers(&self) -> bool {
        self.has_numbers
    }

    /// The labels that name document `id` of shard `source`, by its id, or as `#number`
    /// (1-based; the repository's own `tests/data/labelled/labels.tsv` names documents without
    /// an id so) when `number` is given.
    pub fn matching<'a>(
        &'a self,
        source: &'a str,
        id: &str,
        number: Option<u64>,
    ) -> impl Iterator<Item = u32> + 'a {
        let by_number = number.and_then(|n| self.by_id.get(&format!("#{n}")));
        let by_id = self.by_id.get(id);
        by_id
            .into_iter()
            .chain(by_number)
            .flatten()
            .copied()
            .filter(move |&i| match &self.labels[i as usize].source {
                None => true,
                Some(s) => {
                    source == s
                        || source
                            .strip_suffix(s.as_str())
                            .is_some_and(|head| head.ends_with('/'))
                }
            })
    }
}

/// How each label matched the scanned documents: how many documents it named and whether
/// (the last of) them was flagged. Merged by adding counts.
pub type LabelMatches = std::collections::BTreeMap<u32, (u64, bool)>;

/// Adds `theirs` into `mine`.
pub fn merge_matches(mine: &mut LabelMatches, theirs: &LabelMatches) {
    for (&i, &(n, flagged)) in theirs {
        let e = mine.entry(i).or_insert((0, false));
        e.0 += n;
        // Only read when the total is 1, i.e. exactly one side saw it.
        e.1 |= flagged;
    }
}

/// A ratio with an interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ratio {
    /// The estimate.
    pub value: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// Precision and recall from hand labels.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LabelEvaluation {
    /// Labels read.
    pub labels: u64,
    /// Lines not labelled yet (empty `human_label`).
    pub unlabelled: u64,
    /// Labels whose id matched no scanned document.
    pub unmatched: u64,
    /// Labels whose id matched several documents (left out).
    pub ambiguous: u64,
    /// Flagged and judged positive.
    pub true_positives: u64,
    /// Flagged and judged negative.
    pub false_positives: u64,
    /// Not flagged and judged positive.
    pub false_negatives: u64,
    /// Not flagged and judged negative.
    pub true_negatives: u64,
    /// Share of labelled flagged documents judged positive (Wilson 95%).
    pub precision: Estimate,
    /// Share of labelled unflagged documents judged positive (Wilson 95%).
    pub positive_rate_unflagged: Estimate,
    /// Share of labelled positive documents that were flagged (Wilson 95%): the recall when the
    /// labelled documents are a simple random sample of the corpus.
    pub recall_in_labelled: Estimate,
    /// Recall over the whole scanned corpus, weighting the flagged and unflagged strata by their
    /// sizes (a `--sample` draws the same number from each). Interval: the Wilson 97.5%
    /// intervals of the two strata combined at their extremes (joint coverage >= 95%).
    pub recall: Option<Ratio>,
}

/// Evaluates the labels against the matches, given the corpus' flagged and unflagged document
/// counts.
pub fn evaluate(
    index: &LabelIndex,
    matches: &LabelMatches,
    unlabelled: u64,
    flagged_docs: u64,
    unflagged_docs: u64,
) -> LabelEvaluation {
    let (mut tp, mut fp, mut fn_, mut tn, mut unmatched, mut ambiguous) = (0, 0, 0, 0, 0, 0);
    for (i, label) in index.labels().iter().enumerate() {
        match matches.get(&(i as u32)) {
            None | Some((0, _)) => unmatched += 1,
            Some((1, flagged)) => match (flagged, label.positive) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                (false, false) => tn += 1,
            },
            Some(_) => ambiguous += 1,
        }
    }
    let recall = (tp + fp > 0 && fn_ + tn > 0).then(|| {
        let (f, u) = (flagged_docs as f64, unflagged_docs as f64);
        let (pf, pu) = (tp as f64 / (tp + fp) as f64, fn_ as f64 / (fn_ + tn) as f64);
        let (pf_lo, pf_hi) = wilson(tp as f64, (tp + fp) as f64, Z975);
        let (pu_lo, pu_hi) = wilson(fn_ as f64, (fn_ + tn) as f64, Z975);
        let r = |a: f64, b: f64| if a + b > 0.0 { a / (a + b) } else { 0.0 };
        Ratio {
            value: r6(r(f * pf, u * pu)),
            low: r6(r(f * pf_lo, u * pu_hi)),
            high: r6(r(f * pf_hi, u * pu_lo)),
        }
    });
    LabelEvaluation {
        labels: index.labels().len() as u64,
        unlabelled,
        unmatched,
        ambiguous,
        true_positives: tp,
        false_positives: fp,
        false_negatives: fn_,
        true_negatives: tn,
        precision: Estimate::of(tp, tp + fp),
        positive_rate_unflagged: Estimate::of(fn_, fn_ + tn),
        recall_in_labelled: Estimate::of(tp, tp + fn_),
        recall,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag() -> Vec<String> {
        vec!["rogue_ai_fiction".into(), "rogue_ai_discourse".into()]
    }

    proptest::proptest! {
        /// Any text is a label file: never a panic, and every non-blank line is a label, an
        /// unlabelled line, an error or the header.
        #[test]
        fn any_text_parses(text in "(\\PC|\t|\n|\\{|\"|:){0,200}") {
            let f = parse_label_file("l", &text, &flag());
            let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
            let got = f.labels.len() + f.errors.len() + f.unlabelled as usize;
            proptest::prop_assert!(got == lines || got + 1 == lines, "{got} of {lines}");
        }
    }

    #[test]
    fn judgements() {
        let f = flag();
        assert_eq!(parse_judgement("Yes", &f), Ok(Some(true)));
        assert_eq!(parse_judgement("0", &f), Ok(Some(false)));
        assert_eq!(parse_judgement(" ", &f), Ok(None));
        assert_eq!(parse_judgement("rogue_ai_discourse", &f), Ok(Some(true)));
        assert_eq!(parse_judgement("ai_neutral", &f), Ok(Some(false)));
        assert!(parse_judgement("maybe", &f).is_err());
    }

    #[test]
    fn tsv_with_and_without_header_and_jsonl() {
        let f = flag();
        let t = parse_label_file("l.tsv", "a\tyes\nb\tno\n\nc\t\nd\tmaybe\n", &f);
        assert_eq!(t.labels.len(), 2);
        assert_eq!(t.unlabelled, 1);
        assert_eq!(t.errors.len(), 1);
        assert_eq!(t.errors[0].to_string(), "l.tsv:5: unknown label \"maybe\" (use yes/no, 1/0, true/false or a tropescan label name)");
        let t = parse_label_file(
            "l.tsv",
            "shard\tid\tlabel\treason\nx/a.jsonl\tdoc1\trogue_ai_fiction\tplot\n",
            &f,
        );
        assert_eq!(
            t.labels,
            [HumanLabel {
                id: "doc1".into(),
                source: Some("x/a.jsonl".into()),
                positive: true
            }]
        );
        let t = parse_label_file(
            "s.jsonl",
            "{\"id\":\"a\",\"human_label\":true}\n{\"id\":7,\"human_label\":\"\"}\n{\"id\":\"b\",\"human_label\":0,\"source\":\"s\"}\n{oops\n",
            &f,
        );
        assert_eq!(t.labels.len(), 2);
        assert_eq!(t.unlabelled, 1);
        assert_eq!(t.errors.len(), 1);
        assert!(!t.labels[1].positive);
    }

    #[test]
    fn sources_match_by_path_suffix() {
        let idx = LabelIndex::new(vec![HumanLabel {
            id: "d".into(),
            source: Some("shards/p.jsonl".into()),
            positive: true,
        }]);
        assert_eq!(idx.matching("/corpus/shards/p.jsonl", "d", None).count(), 1);
        assert_eq!(
            idx.matching("/corpus/othershards/p.jsonl", "d", None)
                .count(),
            0
        );
        assert_eq!(idx.matching("/corpus/shards/p.jsonl", "e", None).count(), 0);
        let idx = LabelIndex::new(vec![HumanLabel {
            id: "#3".into(),
            source: Some("p.txt".into()),
            positive: true,
        }]);
        assert!(idx.has_numbers());
        assert_eq!(idx.matching("/c/p.txt", "/c/p.txt", Some(3)).count(), 1);
        assert_eq!(idx.matching("/c/p.txt", "/c/p.txt", Some(2)).count(), 0);
    }

    /// 4 flagged labelled (3 positive), 4 unflagged labelled (1 positive), in a corpus of 4
    /// flagged and 8 unflagged documents: precision 3/4, recall 4*.75 / (4*.75 + 8*.25) = 0.6.
    #[test]
    fn precision_and_stratified_recall_by_hand() {
        let labels: Vec<HumanLabel> = [true, true, true, false, true, false, false, false]
            .iter()
            .enumerate()
            .map(|(i, &positive)| HumanLabel {
                id: format!("d{i}"),
                source: None,
                positive,
            })
            .collect();
        let idx = LabelIndex::new(labels);
        let matches: LabelMatches = (0..8).map(|i| (i, (1, i < 4))).collect();
        let e = evaluate(&idx, &matches, 0, 4, 8);
        assert_eq!((e.true_positives, e.false_positives), (3, 1));
        assert_eq!((e.false_negatives, e.true_negatives), (1, 3));
        assert_eq!(e.precision.share, 0.75);
        assert_eq!((e.precision.low, e.precision.high), (0.300642, 0.954413));
        assert_eq!(e.recall_in_labelled.share, 0.75);
        let r = e.recall.unwrap();
        assert_eq!((r.value, r.low, r.high), (0.6, 0.14878, 0.927917));
    }
}
