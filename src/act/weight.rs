//! Downweighting: a document's sampling weight as a function of its score, and the share of
//! flagged text before and after weighting.

use std::str::FromStr;

/// How the weight falls as the score rises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightCurve {
    /// `ceiling - (ceiling - floor) * score`: a straight line from ceiling (score 0) to floor
    /// (score 1).
    Linear,
    /// `floor` for flagged documents, `ceiling` for all others.
    Step,
    /// `ceiling * (floor / ceiling) ^ score`: geometric, so each 0.1 of score multiplies the
    /// weight by the same factor; needs a floor above 0.
    Exp,
}

impl FromStr for WeightCurve {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "linear" => Ok(WeightCurve::Linear),
            "step" => Ok(WeightCurve::Step),
            "exp" => Ok(WeightCurve::Exp),
            _ => Err(format!(
                "unknown weight curve {s:?}; expected linear, step or exp"
            )),
        }
    }
}

/// A checked weight function.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weighting {
    curve: WeightCurve,
    floor: f64,
    ceiling: f64,
}

/// Bounds that make no weight function.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WeightError {
    /// floor > ceiling, or a bound that is negative or not finite.
    #[error(
        "weights need 0 <= floor <= ceiling (finite), got floor {floor} and ceiling {ceiling}"
    )]
    Bounds {
        /// The floor asked for.
        floor: f64,
        /// The ceiling asked for.
        ceiling: f64,
    },
    /// `exp` with a floor of 0 (0 to any power is 0: every scored document would be dropped).
    #[error("the exp curve needs a floor above 0")]
    ExpZeroFloor,
}

impl Weighting {
    /// Checks the bounds.
    pub fn new(curve: WeightCurve, floor: f64, ceiling: f64) -> Result<Weighting, WeightError> {
        if !(floor.is_finite() && ceiling.is_finite() && 0.0 <= floor && floor <= ceiling) {
            return Err(WeightError::Bounds { floor, ceiling });
        }
        if curve == WeightCurve::Exp && floor == 0.0 && ceiling > 0.0 {
            return Err(WeightError::ExpZeroFloor);
        }
        Ok(Weighting {
            curve,
            floor,
            ceiling,
        })
    }

    /// The weight of a document. Only documents whose label can be flagged (`flaggable`) are
    /// weighted down: a benevolent-AI story with a high score keeps the ceiling.
    pub fn weight(&self, score: f64, flaggable: bool, flagged: bool) -> f64 {
        if !flaggable {
            return self.ceiling;
        }
        let s = score.clamp(0.0, 1.0);
        let (lo, hi) = (self.floor, self.ceiling);
        let w = match self.curve {
            WeightCurve::Step => {
                if flagged {
                    lo
                } else {
                    hi
                }
            }
            WeightCurve::Linear => hi - (hi - lo) * s,
            WeightCurve::Exp if hi == 0.0 => 0.0,
            WeightCurve::Exp => hi * (lo / hi).powf(s),
        };
        // Rounding in the formulas must never leave the bounds.
        w.clamp(lo, hi)
    }
}

/// Flagged and total words, plain and weighted: the share of flagged text before and after.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WeightedShare {
    /// Words in all documents.
    pub words: u64,
    /// Words in flagged documents.
    pub flagged_words: u64,
    /// Sum of weight × words over all documents.
    pub weighted_words: f64,
    /// Sum of weight × words over flagged documents.
    pub weighted_flagged_words: f64,
}

impl WeightedShare {
    /// Counts one document.
    pub fn add(&mut self, words: u64, weight: f64, flagged: bool) {
        self.words += words;
        self.weighted_words += weight * words as f64;
        if flagged {
            self.flagged_words += words;
            self.weighted_flagged_words += weight * words as f64;
        }
    }

    /// Adds another tally.
    pub fn merge(&mut self, other: &WeightedShare) {
        self.words += other.words;
        self.flagged_words += other.flagged_words;
        self.weighted_words += other.weighted_words;
        self.weighted_flagged_words += other.weighted_flagged_words;
    }

    /// The flagged share of words before weighting (0 for an empty corpus).
    pub fn before(&self) -> f64 {
        ratio(self.flagged_words as f64, self.words as f64)
    }

    /// The flagged share of weighted words.
    pub fn after(&self) -> f64 {
        ratio(self.weighted_flagged_words, self.weighted_words)
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(curve: WeightCurve, floor: f64, ceiling: f64) -> Weighting {
        Weighting::new(curve, floor, ceiling).unwrap()
    }

    #[test]
    fn curves_run_from_ceiling_to_floor() {
        let lin = w(WeightCurve::Linear, 0.2, 1.0);
        assert_eq!(lin.weight(0.0, true, false), 1.0);
        assert!((lin.weight(0.5, true, true) - 0.6).abs() < 1e-12);
        assert!((lin.weight(1.0, true, true) - 0.2).abs() < 1e-12);
        let exp = w(WeightCurve::Exp, 0.01, 1.0);
        assert_eq!(exp.weight(0.0, true, false), 1.0);
        assert!((exp.weight(0.5, true, true) - 0.1).abs() < 1e-12);
        assert!((exp.weight(1.0, true, true) - 0.01).abs() < 1e-12);
        let step = w(WeightCurve::Step, 0.0, 1.0);
        assert_eq!(step.weight(0.9, true, true), 0.0);
        assert_eq!(step.weight(0.9, true, false), 1.0);
    }

    #[test]
    fn labels_that_cannot_be_flagged_keep_the_ceiling() {
        for curve in [WeightCurve::Linear, WeightCurve::Step, WeightCurve::Exp] {
            assert_eq!(w(curve, 0.1, 0.8).weight(1.0, false, false), 0.8);
        }
    }

    #[test]
    fn scores_outside_0_1_stay_in_bounds() {
        let lin = w(WeightCurve::Linear, 0.3, 0.9);
        assert_eq!(lin.weight(7.0, true, true), 0.3);
        assert_eq!(lin.weight(-1.0, true, false), 0.9);
    }

    #[test]
    fn bad_bounds_are_refused() {
        assert!(Weighting::new(WeightCurve::Linear, 0.5, 0.4).is_err());
        assert!(Weighting::new(WeightCurve::Linear, -0.1, 1.0).is_err());
        assert!(Weighting::new(WeightCurve::Linear, 0.0, f64::NAN).is_err());
        assert_eq!(
            Weighting::new(WeightCurve::Exp, 0.0, 1.0),
            Err(WeightError::ExpZeroFloor)
        );
    }

    #[test]
    fn share_before_and_after() {
        let mut s = WeightedShare::default();
        s.add(100, 0.5, true);
        s.add(300, 1.0, false);
        assert_eq!(s.before(), 0.25);
        assert!((s.after() - 50.0 / 350.0).abs() < 1e-12);
        assert_eq!(WeightedShare::default().after(), 0.0);
    }

    proptest::proptest! {
        #[test]
        fn weight_is_always_within_bounds(
            score in -2.0f64..3.0, floor in 0.001f64..1.0, span in 0.0f64..2.0,
            flagged: bool, flaggable: bool,
        ) {
            for curve in [WeightCurve::Linear, WeightCurve::Step, WeightCurve::Exp] {
                let x = w(curve, floor, floor + span).weight(score, flaggable, flagged);
                proptest::prop_assert!(x >= floor && x <= floor + span);
            }
        }
    }
}
