//! The numbers of a report (`report.json`, schema in docs/report.md), computed from a merged
//! [`Aggregate`]: prevalence with intervals, breakdowns cut to the top entries, the score
//! histogram, top terms and example snippets. The Markdown and HTML pages render this, so the
//! three outputs always agree.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Serialize;

use super::aggregate::{Aggregate, Group, Share, SCORE_BINS};
use super::interval::Estimate;
use super::labels::LabelEvaluation;
use crate::output::document_record::Snippet;
use crate::output::summary::LexiconInfo;

/// Thresholds at which prevalence is reported.
pub const THRESHOLDS: [f64; 4] = [0.3, 0.5, 0.7, 0.9];

/// Bins of the histogram in report.json (the aggregate's fine bins summed by ten).
pub const HISTOGRAM_BINS: usize = 100;

/// What the runs were made with; every merged run must agree on it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunConfig {
    /// tropescan's version.
    pub tropescan_version: String,
    /// The lexicon.
    pub lexicon: LexiconInfo,
    /// The flag threshold.
    pub threshold: f64,
    /// Labels that can be flagged.
    pub flag_labels: Vec<String>,
}

/// Counters from the runs' summaries (summed, so order-free).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct InputCounts {
    /// Shards.
    pub shards: u64,
    /// Records skipped by the scans.
    pub skipped: u64,
    /// Records the scans could not read.
    pub broken: u64,
    /// Input errors the scans met.
    pub input_errors: u64,
    /// Faults met reading the runs' record files (see stderr).
    pub report_errors: u64,
}

/// How to cut and sample.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportOptions {
    /// Rows kept in top lists.
    pub top: usize,
    /// Least documents for a domain to be ranked by rate.
    pub min_domain_docs: u64,
    /// `--sample N` and `--seed`.
    pub sample: Option<(usize, u64)>,
}

/// A share of documents and a share of words.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prevalence {
    /// Share of documents.
    pub documents: Estimate,
    /// Share of words.
    pub words: Estimate,
}

impl Prevalence {
    fn of(subset: &Share, all: &Share) -> Prevalence {
        Prevalence {
            documents: Estimate::of(subset.documents, all.documents),
            words: Estimate::words(
                subset.words,
                all.words,
                subset.words_sq,
                all.words_sq,
                all.documents,
            ),
        }
    }
}

/// A category's prevalence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CategoryRow {
    /// Documents with at least one hit, and their words.
    #[serde(flatten)]
    pub prevalence: Prevalence,
    /// Matched terms.
    pub hits: u64,
}

/// Prevalence of documents scoring at least a threshold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThresholdRow {
    /// Documents scoring at least this (and above 0): with the default flag labels, what
    /// `scan --threshold` this would flag, since the scorer labels every document scoring at
    /// least the threshold rogue-AI fiction or discourse.
    pub threshold: f64,
    /// Their shares.
    #[serde(flatten)]
    pub prevalence: Prevalence,
}

/// The score histogram.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Histogram {
    /// Width of a bin; bin i holds scores in [i*w, (i+1)*w), the last also 1.0.
    pub bin_width: f64,
    /// Documents per bin.
    pub documents: Vec<u64>,
    /// Flagged documents per bin.
    pub flagged_documents: Vec<u64>,
}

/// One row of a breakdown (a shard, a domain, a dump, a year).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupRow {
    /// The shard path, domain, dump or year.
    pub name: String,
    /// Shards only: the path relative to its input root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rel: Option<String>,
    /// Shards only: the format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Documents.
    pub documents: u64,
    /// Words.
    pub words: u64,
    /// Flagged documents.
    pub flagged: u64,
    /// Words of flagged documents.
    pub flagged_words: u64,
    /// Share of documents flagged, with its interval.
    pub flagged_share: Estimate,
}

impl GroupRow {
    fn new(name: &str, g: &Group) -> GroupRow {
        GroupRow {
            name: name.to_string(),
            rel: None,
            format: None,
            documents: g.all.documents,
            words: g.all.words,
            flagged: g.flagged.documents,
            flagged_words: g.flagged.words,
            flagged_share: Estimate::of(g.flagged.documents, g.all.documents),
        }
    }
}

/// A breakdown by a document property some documents lack.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Breakdown {
    /// Documents without the property.
    pub unknown: u64,
    /// One row per value, sorted by value.
    pub rows: Vec<GroupRow>,
}

/// Domains: too many to list all.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Domains {
    /// Documents without a domain (no URL).
    pub unknown: u64,
    /// Distinct domains.
    pub distinct: u64,
    /// Least documents to be ranked by rate.
    pub min_documents: u64,
    /// The top domains by flagged documents.
    pub top_by_flagged: Vec<GroupRow>,
    /// The top domains by flagged share, among those with at least `min_documents`.
    pub top_by_rate: Vec<GroupRow>,
}

/// A matched term.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TermRow {
    /// The matched text, lowercased.
    pub term: String,
    /// Occurrences.
    pub hits: u64,
    /// Documents.
    pub documents: u64,
    /// Flagged documents.
    pub flagged_documents: u64,
}

/// A flagged document shown as an example.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Example {
    /// Its id.
    pub id: String,
    /// Its shard.
    pub source: String,
    /// Its URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Its score.
    pub score: f64,
    /// Its label.
    pub label: String,
    /// The text around its strongest evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<Snippet<'static>>,
}

/// `--sample`: what was drawn.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SampleInfo {
    /// The seed.
    pub seed: u64,
    /// Documents asked for per stratum.
    pub requested: u64,
    /// Flagged documents drawn.
    pub flagged: u64,
    /// Unflagged documents drawn.
    pub unflagged: u64,
}

/// The whole `report.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// What produced the runs.
    #[serde(flatten)]
    pub config: RunConfig,
    /// The interval reported with every share.
    pub interval: &'static str,
    /// Counters from the runs' summaries.
    pub inputs: InputCounts,
    /// Documents and words scored.
    pub documents: u64,
    /// Words scored.
    pub words: u64,
    /// Flagged documents.
    pub flagged: Prevalence,
    /// Per label.
    pub labels: BTreeMap<String, Prevalence>,
    /// Per lexicon category: documents with at least one hit.
    pub categories: BTreeMap<String, CategoryRow>,
    /// Prevalence of documents scoring at least 0.3, 0.5, 0.7, 0.9.
    pub thresholds: Vec<ThresholdRow>,
    /// Score histogram.
    pub score_histogram: Histogram,
    /// Per shard, sorted by path.
    pub shards: Vec<GroupRow>,
    /// Per web domain.
    pub domains: Domains,
    /// Per crawl dump.
    pub dumps: Breakdown,
    /// Per year of the document date.
    pub years: Breakdown,
    /// Top matched terms by flagged documents, then documents.
    pub terms: Vec<TermRow>,
    /// Flagged documents drawn at random (by the seed) as examples.
    pub examples: Vec<Example>,
    /// `--sample`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<SampleInfo>,
    /// `--labels`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_evaluation: Option<LabelEvaluation>,
}

/// Flagged share of a, compared with b's, exactly (cross-multiplied integers).
fn by_rate(a: &GroupRow, b: &GroupRow) -> Ordering {
    let lhs = u128::from(a.flagged) * u128::from(b.documents);
    let rhs = u128::from(b.flagged) * u128::from(a.documents);
    rhs.cmp(&lhs)
        .then(b.flagged.cmp(&a.flagged))
        .then_with(|| a.name.cmp(&b.name))
}

fn rows(map: &BTreeMap<String, Group>) -> Vec<GroupRow> {
    map.iter().map(|(k, g)| GroupRow::new(k, g)).collect()
}

impl Report {
    /// Computes the report.
    pub fn build(
        agg: &Aggregate,
        config: RunConfig,
        inputs: InputCounts,
        options: &ReportOptions,
        label_evaluation: Option<LabelEvaluation>,
    ) -> Report {
        let all = &agg.total.all;
        let per_bin = SCORE_BINS / HISTOGRAM_BINS;
        let coarse = |bins: &[Share]| -> Vec<u64> {
            bins.chunks(per_bin)
                .map(|c| c.iter().map(|s| s.documents).sum())
                .collect()
        };
        let thresholds = THRESHOLDS
            .iter()
            .map(|&t| {
                let first = super::aggregate::score_bin(t);
                let mut above = Share::default();
                for s in &agg.scores[first.max(1)..] {
                    above.merge(s);
                }
                ThresholdRow {
                    threshold: t,
                    prevalence: Prevalence::of(&above, all),
                }
            })
            .collect();
        let mut domains = rows(&agg.domains);
        domains.sort_by(|a, b| {
            b.flagged
                .cmp(&a.flagged)
                .then(b.documents.cmp(&a.documents))
                .then_with(|| a.name.cmp(&b.name))
        });
        let mut by_rate_rows: Vec<GroupRow> = domains
            .iter()
            .filter(|d| d.documents >= options.min_domain_docs)
            .cloned()
            .collect();
        by_rate_rows.sort_by(by_rate);
        by_rate_rows.truncate(options.top);
        domains.truncate(options.top);
        let mut terms: Vec<TermRow> = agg
            .terms
            .iter()
            .map(|(term, t)| TermRow {
                term: term.clone(),
                hits: t.hits,
                documents: t.documents,
                flagged_documents: t.flagged_documents,
            })
            .collect();
        terms.sort_by(|a, b| {
            b.flagged_documents
                .cmp(&a.flagged_documents)
                .then(b.documents.cmp(&a.documents))
                .then(b.hits.cmp(&a.hits))
                .then_with(|| a.term.cmp(&b.term))
        });
        terms.truncate(options.top);
        Report {
            config,
            interval: "wilson_95",
            inputs,
            documents: all.documents,
            words: all.words,
            flagged: Prevalence::of(&agg.total.flagged, all),
            labels: agg
                .labels
                .iter()
                .map(|(k, s)| (k.clone(), Prevalence::of(s, all)))
                .collect(),
            categories: agg
                .categories
                .iter()
                .map(|(k, c)| {
                    let row = CategoryRow {
                        prevalence: Prevalence::of(&c.with_hits, all),
                        hits: c.hits,
                    };
                    (k.clone(), row)
                })
                .collect(),
            thresholds,
            score_histogram: Histogram {
                bin_width: 1.0 / HISTOGRAM_BINS as f64,
                documents: coarse(&agg.scores),
                flagged_documents: coarse(&agg.flagged_scores),
            },
            shards: agg
                .shards
                .iter()
                .map(|(path, s)| GroupRow {
                    rel: Some(s.rel.clone()),
                    format: Some(s.format.clone()),
                    ..GroupRow::new(path, &s.group)
                })
                .collect(),
            domains: Domains {
                unknown: agg.no_domain.all.documents,
                distinct: agg.domains.len() as u64,
                min_documents: options.min_domain_docs,
                top_by_flagged: domains,
                top_by_rate: by_rate_rows,
            },
            dumps: Breakdown {
                unknown: agg.no_dump.all.documents,
                rows: rows(&agg.dumps),
            },
            years: Breakdown {
                unknown: agg.no_year.all.documents,
                rows: rows(&agg.years),
            },
            terms,
            examples: agg
                .examples
                .kept
                .values()
                .map(|s| Example {
                    id: s.record.id.to_string(),
                    source: s.source.clone(),
                    url: s.record.url.as_ref().map(|u| u.to_string()),
                    score: s.record.score,
                    label: s.record.label.to_string(),
                    snippet: s.record.snippet.clone(),
                })
                .collect(),
            sample: options.sample.map(|(n, seed)| SampleInfo {
                seed,
                requested: n as u64,
                flagged: agg.sample_flagged.kept.len() as u64,
                unflagged: agg.sample_unflagged.kept.len() as u64,
            }),
            label_evaluation,
        }
    }
}
