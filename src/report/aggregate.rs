//! Mergeable counters over document records: everything `report` needs, kept exactly (full
//! maps, integer sums, a fine score histogram, bottom-k samples), so that merging partial
//! aggregates is associative and order-free. Truncation to "top 50" happens only at render time.

use std::collections::BTreeMap;

use crate::output::DocumentRecord;

/// Fine score bins: scores have 5 decimals, so a threshold at a multiple of 0.001 falls on a bin
/// edge and prevalence at 0.3, 0.5, 0.7, 0.9 is exact.
pub const SCORE_BINS: usize = 1000;

/// The bin of a score in [0, 1] (1.0 goes in the last bin).
pub fn score_bin(score: f64) -> usize {
    let fixed = (score.clamp(0.0, 1.0) * 100_000.0).round() as usize;
    (fixed / (100_000 / SCORE_BINS)).min(SCORE_BINS - 1)
}

/// Documents and words of a set of documents, with the sum of squared word counts that the
/// word-share interval needs. Integer sums: merging in any order gives the same bits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Share {
    /// Documents.
    pub documents: u64,
    /// Words.
    pub words: u64,
    /// Σ words², per document.
    pub words_sq: u128,
}

impl Share {
    /// Counts one document of `words` words.
    pub fn add(&mut self, words: u64) {
        self.documents += 1;
        self.words += words;
        self.words_sq += u128::from(words) * u128::from(words);
    }

    /// Adds `other` in.
    pub fn merge(&mut self, other: &Share) {
        self.documents += other.documents;
        self.words += other.words;
        self.words_sq += other.words_sq;
    }
}

/// All documents of a group (a shard, a domain, a dump, a year) and the flagged ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    /// Every document.
    pub all: Share,
    /// Flagged documents.
    pub flagged: Share,
}

impl Group {
    fn add(&mut self, words: u64, flagged: bool) {
        self.all.add(words);
        if flagged {
            self.flagged.add(words);
        }
    }

    fn merge(&mut self, other: &Group) {
        self.all.merge(&other.all);
        self.flagged.merge(&other.flagged);
    }
}

/// A category's documents with at least one hit, and its hits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CategoryCount {
    /// Documents with at least one hit.
    pub with_hits: Share,
    /// Matched terms.
    pub hits: u64,
}

/// How often a term matched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TermCount {
    /// Occurrences.
    pub hits: u64,
    /// Documents it matched in.
    pub documents: u64,
    /// Flagged documents it matched in.
    pub flagged_documents: u64,
}

/// One shard of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShardCount {
    /// Its path relative to its input root.
    pub rel: String,
    /// Its format.
    pub format: String,
    /// Its documents.
    pub group: Group,
}

/// A document kept in a sample, with where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Sampled {
    /// The shard path as the scan recorded it.
    pub source: String,
    /// 0-based index of the document in its shard.
    pub index: u64,
    /// Its record.
    pub record: DocumentRecord<'static>,
}

/// The `k` documents with the smallest sample keys: a uniform random sample without
/// replacement that merges exactly (the union of two bottom-k sets, cut to k, is the bottom-k of
/// the union).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BottomK {
    /// How many to keep.
    pub k: usize,
    /// Kept documents by (key, source, index): ties on the key are broken by place.
    pub kept: BTreeMap<(u64, String, u64), Sampled>,
}

impl BottomK {
    fn new(k: usize) -> BottomK {
        BottomK {
            k,
            kept: BTreeMap::new(),
        }
    }

    fn would_keep(&self, key: &(u64, String, u64)) -> bool {
        self.kept.len() < self.k
            || self
                .kept
                .last_key_value()
                .is_some_and(|(last, _)| key < last)
    }

    fn insert(&mut self, key: (u64, String, u64), doc: impl FnOnce() -> Sampled) {
        if self.would_keep(&key) {
            self.kept.insert(key, doc());
            while self.kept.len() > self.k {
                self.kept.pop_last();
            }
        }
    }

    fn merge(&mut self, other: &BottomK) {
        for (key, doc) in &other.kept {
            self.insert(key.clone(), || doc.clone());
        }
    }
}

/// The sample key of a document: the first 8 bytes of blake3(seed, id). It depends on nothing
/// but the seed and the id, so the same document gets the same key in any run on any machine.
pub fn sample_key(seed: u64, id: &str) -> u64 {
    let mut h = blake3::Hasher::new();
    h.update(&seed.to_le_bytes());
    h.update(id.as_bytes());
    let bytes = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

/// What to keep beyond counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregateOptions {
    /// The sample seed.
    pub seed: u64,
    /// Documents to sample among flagged documents and among unflagged ones (`--sample`).
    pub sample: usize,
    /// Flagged documents kept to show as examples in the report.
    pub examples: usize,
}

/// Every counter of the report. Build one per shard with [`Aggregate::add`], combine with
/// [`Aggregate::merge`].
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    /// Options (identical in everything merged).
    pub options: AggregateOptions,
    /// Every document and the flagged ones.
    pub total: Group,
    /// Documents per label.
    pub labels: BTreeMap<String, Share>,
    /// Per category.
    pub categories: BTreeMap<String, CategoryCount>,
    /// Score histogram of every document, [`SCORE_BINS`] bins.
    pub scores: Vec<Share>,
    /// Score histogram of flagged documents.
    pub flagged_scores: Vec<Share>,
    /// Per shard path.
    pub shards: BTreeMap<String, ShardCount>,
    /// Per web domain; documents without one in `no_domain`.
    pub domains: BTreeMap<String, Group>,
    /// Documents without a domain.
    pub no_domain: Group,
    /// Per crawl dump.
    pub dumps: BTreeMap<String, Group>,
    /// Documents without a dump.
    pub no_dump: Group,
    /// Per year (the first four digits of the date).
    pub years: BTreeMap<String, Group>,
    /// Documents without a usable date.
    pub no_year: Group,
    /// Per matched term.
    pub terms: BTreeMap<String, TermCount>,
    /// `--sample`: flagged documents.
    pub sample_flagged: BottomK,
    /// `--sample`: unflagged documents.
    pub sample_unflagged: BottomK,
    /// Flagged documents shown as examples.
    pub examples: BottomK,
}

impl Aggregate {
    /// An empty aggregate.
    pub fn new(options: AggregateOptions) -> Aggregate {
        Aggregate {
            sample_flagged: BottomK::new(options.sample),
            sample_unflagged: BottomK::new(options.sample),
            examples: BottomK::new(options.examples),
            options,
            total: Group::default(),
            labels: BTreeMap::new(),
            categories: BTreeMap::new(),
            scores: vec![Share::default(); SCORE_BINS],
            flagged_scores: vec![Share::default(); SCORE_BINS],
            shards: BTreeMap::new(),
            domains: BTreeMap::new(),
            no_domain: Group::default(),
            dumps: BTreeMap::new(),
            no_dump: Group::default(),
            years: BTreeMap::new(),
            no_year: Group::default(),
            terms: BTreeMap::new(),
        }
    }

    /// Registers a shard (so shards without documents are listed too).
    pub fn add_shard(&mut self, source: &str, rel: &str, format: &str) {
        let entry = self.shards.entry(source.to_string()).or_default();
        entry.rel = rel.to_string();
        entry.format = format.to_string();
    }

    /// Counts one document: the `index`-th of shard `source`.
    pub fn add(&mut self, source: &str, index: u64, record: &DocumentRecord<'_>) {
        let (words, flagged) = (record.words, record.flagged);
        self.total.add(words, flagged);
        self.labels
            .entry(record.label.to_string())
            .or_default()
            .add(words);
        for (category, &n) in &record.hits {
            if n > 0 {
                let c = self.categories.entry(category.clone()).or_default();
                c.with_hits.add(words);
                c.hits += u64::from(n);
            }
        }
        let bin = score_bin(record.score);
        self.scores[bin].add(words);
        if flagged {
            self.flagged_scores[bin].add(words);
        }
        self.shards
            .entry(source.to_string())
            .or_default()
            .group
            .add(words, flagged);
        let by =
            |map: &mut BTreeMap<String, Group>, missing: &mut Group, key: Option<&str>| match key {
                Some(k) => map.entry(k.to_string()).or_default().add(words, flagged),
                None => missing.add(words, flagged),
            };
        by(
            &mut self.domains,
            &mut self.no_domain,
            record.domain.as_deref(),
        );
        by(&mut self.dumps, &mut self.no_dump, record.dump.as_deref());
        by(
            &mut self.years,
            &mut self.no_year,
            record.date.as_deref().and_then(year),
        );
        for (term, &n) in &record.terms {
            let t = self.terms.entry(term.clone()).or_default();
            t.hits += u64::from(n);
            t.documents += 1;
            t.flagged_documents += u64::from(flagged);
        }
        let key = (
            sample_key(self.options.seed, &record.id),
            source.to_string(),
            index,
        );
        let sampled = || Sampled {
            source: source.to_string(),
            index,
            record: record.to_static(),
        };
        if flagged {
            self.examples.insert(key.clone(), sampled);
            self.sample_flagged.insert(key, sampled);
        } else {
            self.sample_unflagged.insert(key, sampled);
        }
    }

    /// Adds `other` in. Associative and commutative: any grouping and order of merges gives an
    /// equal aggregate.
    pub fn merge(&mut self, other: &Aggregate) {
        self.total.merge(&other.total);
        merge_map(&mut self.labels, &other.labels, Share::merge);
        merge_map(&mut self.categories, &other.categories, |a, b| {
            a.with_hits.merge(&b.with_hits);
            a.hits += b.hits;
        });
        for (a, b) in self.scores.iter_mut().zip(&other.scores) {
            a.merge(b);
        }
        for (a, b) in self.flagged_scores.iter_mut().zip(&other.flagged_scores) {
            a.merge(b);
        }
        merge_map(&mut self.shards, &other.shards, |a, b| {
            // Shard metadata is the same wherever the shard is counted; keep the larger for a
            // result that does not depend on the order.
            a.rel = a.rel.clone().max(b.rel.clone());
            a.format = a.format.clone().max(b.format.clone());
            a.group.merge(&b.group);
        });
        for (mine, theirs) in [
            (&mut self.domains, &other.domains),
            (&mut self.dumps, &other.dumps),
            (&mut self.years, &other.years),
        ] {
            merge_map(mine, theirs, Group::merge);
        }
        self.no_domain.merge(&other.no_domain);
        self.no_dump.merge(&other.no_dump);
        self.no_year.merge(&other.no_year);
        merge_map(&mut self.terms, &other.terms, |a, b| {
            a.hits += b.hits;
            a.documents += b.documents;
            a.flagged_documents += b.flagged_documents;
        });
        self.sample_flagged.merge(&other.sample_flagged);
        self.sample_unflagged.merge(&other.sample_unflagged);
        self.examples.merge(&other.examples);
    }
}

fn merge_map<V: Default + Clone>(
    mine: &mut BTreeMap<String, V>,
    theirs: &BTreeMap<String, V>,
    merge: impl Fn(&mut V, &V),
) {
    for (k, v) in theirs {
        match mine.get_mut(k) {
            Some(m) => merge(m, v),
            None => {
                mine.insert(k.clone(), v.clone());
            }
        }
    }
}

/// The year of a date written as found: its first four characters when they are digits
/// (`2020-03-29T09:04:10Z`, `20200329`).
pub fn year(date: &str) -> Option<&str> {
    let y = date.trim().get(..4)?;
    y.bytes().all(|b| b.is_ascii_digit()).then_some(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn options() -> AggregateOptions {
        AggregateOptions {
            seed: 7,
            sample: 3,
            examples: 2,
        }
    }

    fn record(i: u64) -> DocumentRecord<'static> {
        let flagged = i % 3 == 0;
        DocumentRecord {
            id: Cow::Owned(format!("doc-{i}")),
            url: None,
            domain: Some(format!("d{}.example", i % 4)),
            date: (i % 2 == 0).then(|| Cow::Owned(format!("{}-01-01", 2010 + i % 5))),
            dump: None,
            words: 10 + i * 7 % 13,
            chars: 50,
            score: (i % 10) as f64 / 10.0,
            label: Cow::Borrowed(if flagged { "rogue_ai_fiction" } else { "none" }),
            flagged,
            hits: [("ai_entity".to_string(), (i % 3) as u32)].into(),
            terms: [(format!("t{}", i % 5), 1)].into(),
            snippet: None,
        }
    }

    fn aggregate(range: std::ops::Range<u64>, shard: &str) -> Aggregate {
        let mut a = Aggregate::new(options());
        for i in range {
            a.add(shard, i, &record(i));
        }
        a
    }

    #[test]
    fn merge_is_associative_and_order_free() {
        let (x, y, z) = (
            aggregate(0..20, "a"),
            aggregate(20..35, "b"),
            aggregate(35..60, "a"),
        );
        let mut xy_z = x.clone();
        xy_z.merge(&y);
        xy_z.merge(&z);
        let mut yz = y.clone();
        yz.merge(&z);
        let mut x_yz = x.clone();
        x_yz.merge(&yz);
        let mut zyx = z.clone();
        zyx.merge(&y);
        zyx.merge(&x);
        assert_eq!(xy_z, x_yz);
        assert_eq!(xy_z, zyx);
        // And equal to counting everything in one go, sample included.
        let mut one = Aggregate::new(options());
        for (r, s) in [(0..20, "a"), (20..35, "b"), (35..60, "a")] {
            for i in r {
                one.add(s, i, &record(i));
            }
        }
        assert_eq!(one, xy_z);
        assert_eq!(one.total.all.documents, 60);
        assert_eq!(one.sample_flagged.kept.len(), 3);
        assert_eq!(one.examples.kept.len(), 2);
    }

    #[test]
    fn bins_put_thresholds_on_edges() {
        assert_eq!(score_bin(0.0), 0);
        assert_eq!(score_bin(0.29999), 299);
        assert_eq!(score_bin(0.3), 300);
        assert_eq!(score_bin(0.7), 700);
        assert_eq!(score_bin(1.0), 999);
        assert_eq!(year("2020-03-29T09:04:10Z"), Some("2020"));
        assert_eq!(year("20200329"), Some("2020"));
        assert_eq!(year("Mon, 29 Mar"), None);
    }
}
