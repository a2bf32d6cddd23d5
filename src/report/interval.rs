//! Confidence intervals for shares: the Wilson score interval for a share of documents, and the
//! same interval on an effective sample size for a share of words (words come in documents, so
//! they are not independent trials).

use serde::Serialize;

/// The normal quantile of a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The normal quantile of a two-sided 97.5% interval: two such intervals hold together with at
/// least 95% probability (Bonferroni), used for the recall estimate built from two shares.
pub const Z975: f64 = 2.241_402_727_604_947;

/// The Wilson score interval `(low, high)` for `k` successes in `n` trials at normal quantile
/// `z`. `n = 0` knows nothing: `(0, 1)`.
pub fn wilson(k: f64, n: f64, z: f64) -> (f64, f64) {
    if n <= 0.0 {
        return (0.0, 1.0);
    }
    let p = (k / n).clamp(0.0, 1.0);
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// A share with its 95% interval, as written in report.json.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// The numerator (documents or words).
    pub count: u64,
    /// The denominator.
    pub total: u64,
    /// `count / total` (0 when `total` is 0).
    pub share: f64,
    /// Lower end of the 95% interval.
    pub low: f64,
    /// Upper end of the 95% interval.
    pub high: f64,
}

/// Six decimals: shares are printed, not computed with further.
pub(crate) fn r6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

impl Estimate {
    /// A share of trials (documents): Wilson on `count` of `total`.
    pub fn of(count: u64, total: u64) -> Estimate {
        let (low, high) = wilson(count as f64, total as f64, Z95);
        Estimate::new(count, total, low, high)
    }

    /// A share of words. `count` words of the subset out of `total` words, in `docs` documents;
    /// `count_sq` and `total_sq` are the sums of squared per-document word counts of the subset
    /// and of all documents.
    ///
    /// The share is a ratio estimator; its variance by linearisation with the document as the
    /// sampling unit is `n / (n-1) * Σ(y_i - p w_i)² / W²`, where `y_i` is document i's words
    /// when it is in the subset and `w_i` its words. Wilson is then taken on the effective
    /// sample size `p(1-p) / var` (with equal-length documents this is `n - 1`, the document
    /// interval). When the variance is 0 (share 0 or 1) the document count is used.
    pub fn words(count: u64, total: u64, count_sq: u128, total_sq: u128, docs: u64) -> Estimate {
        if total == 0 || docs == 0 {
            return Estimate::new(count, total, 0.0, 1.0);
        }
        let (n, w, p) = (docs as f64, total as f64, count as f64 / total as f64);
        // Σ(y - p w)² = Σy² - 2p Σyw + p² Σw², and y w = y² (y is w or 0).
        let spread = (count_sq as f64 * (1.0 - 2.0 * p) + p * p * total_sq as f64).max(0.0);
        let var = if docs > 1 {
            n / (n - 1.0) * spread / (w * w)
        } else {
            0.0
        };
        let n_eff = if var > 0.0 { p * (1.0 - p) / var } else { n };
        let (low, high) = wilson(p * n_eff, n_eff, Z95);
        Estimate::new(count, total, low, high)
    }

    fn new(count: u64, total: u64, low: f64, high: f64) -> Estimate {
        let share = if total > 0 {
            count as f64 / total as f64
        } else {
            0.0
        };
        Estimate {
            count,
            total,
            share: r6(share),
            low: r6(low),
            high: r6(high),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: (f64, f64), want: (f64, f64)) {
        assert!(
            (got.0 - want.0).abs() < 5e-5 && (got.1 - want.1).abs() < 5e-5,
            "{got:?} vs {want:?}"
        );
    }

    /// Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I,
    /// method 3 (Wilson score, no continuity correction).
    #[test]
    fn wilson_matches_newcombe_1998() {
        close(wilson(81.0, 263.0, Z95), (0.2553, 0.3662));
        close(wilson(15.0, 148.0, Z95), (0.0624, 0.1605));
        close(wilson(0.0, 20.0, Z95), (0.0, 0.1611));
        close(wilson(1.0, 29.0, Z95), (0.0061, 0.1718));
    }

    #[test]
    fn wilson_edges() {
        assert_eq!(wilson(0.0, 0.0, Z95), (0.0, 1.0));
        close(wilson(10.0, 10.0, Z95), (0.7225, 1.0));
        close(wilson(5.0, 10.0, Z95), (0.2366, 0.7634));
        // Symmetric: k of n mirrors n-k of n.
        let (a, b) = wilson(3.0, 17.0, Z95);
        let (c, d) = wilson(14.0, 17.0, Z95);
        assert!((a - (1.0 - d)).abs() < 1e-12 && (b - (1.0 - c)).abs() < 1e-12);
    }

    #[test]
    fn equal_length_documents_give_the_document_interval_on_n_minus_1() {
        // 10 documents of 7 words, 3 in the subset.
        let e = Estimate::words(21, 70, 3 * 49, 10 * 49, 10);
        let (low, high) = wilson(0.3 * 9.0, 9.0, Z95);
        assert_eq!((e.low, e.high), (r6(low), r6(high)));
        assert_eq!(e.share, 0.3);
    }

    #[test]
    fn one_long_document_widens_the_word_interval() {
        // One document of 1000 words in the subset, 99 of 10 words outside it: half the words,
        // but really one document's worth of evidence.
        let e = Estimate::words(1000, 1990, 1_000_000, 1_000_000 + 99 * 100, 100);
        let naive = wilson(1000.0, 1990.0, Z95);
        assert!(
            e.high - e.low > 5.0 * (naive.1 - naive.0),
            "{e:?} vs {naive:?}"
        );
        assert!(e.low <= e.share && e.share <= e.high);
    }
}
