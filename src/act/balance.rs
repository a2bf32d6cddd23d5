//! Counterbalancing: the sampling weights that bring rogue-AI text down to a target ratio
//! against benevolent-AI text, within the caps a team sets, and what is still missing when the
//! caps bind.
//!
//! The correction factor `f = current / target` is split evenly between the two sides (in log
//! space: benevolent ×√f, rogue ×1/√f), so neither side carries it alone; when one side hits
//! its cap the other side takes the rest, up to its own cap.

/// What to plan for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BalanceGoal {
    /// Wanted rogue : benevolent ratio (words), above 0.
    pub target_ratio: f64,
    /// Highest weight a benevolent document may get (at least 1).
    pub max_upsample: f64,
    /// Lowest weight a rogue document may get (0 to 1).
    pub min_weight: f64,
}

/// Goals that make no plan.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BalanceError {
    /// `--target-ratio` must be a positive number.
    #[error("--target-ratio must be above 0, got {0}")]
    Target(f64),
    /// `--max-upsample` must be at least 1.
    #[error("--max-upsample must be at least 1, got {0}")]
    Upsample(f64),
    /// `--min-weight` must be within 0..=1.
    #[error("--min-weight must be between 0 and 1, got {0}")]
    MinWeight(f64),
}

impl BalanceGoal {
    /// Checks the goal.
    pub fn check(self) -> Result<BalanceGoal, BalanceError> {
        if !(self.target_ratio.is_finite() && self.target_ratio > 0.0) {
            return Err(BalanceError::Target(self.target_ratio));
        }
        if !(self.max_upsample.is_finite() && self.max_upsample >= 1.0) {
            return Err(BalanceError::Upsample(self.max_upsample));
        }
        if !(0.0..=1.0).contains(&self.min_weight) {
            return Err(BalanceError::MinWeight(self.min_weight));
        }
        Ok(self)
    }
}

/// The plan: one weight for rogue documents, one for benevolent ones (all others keep 1).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct BalancePlan {
    /// Rogue words.
    pub rogue_words: u64,
    /// Benevolent words.
    pub benevolent_words: u64,
    /// rogue / benevolent now; `None` when there is rogue text and no benevolent text.
    pub current_ratio: Option<f64>,
    /// The ratio asked for.
    pub target_ratio: f64,
    /// The weight of every rogue document.
    pub rogue_weight: f64,
    /// The weight of every benevolent document.
    pub benevolent_weight: f64,
    /// rogue / benevolent after weighting; `None` as for `current_ratio`.
    pub achieved_ratio: Option<f64>,
    /// Benevolent words (at weight 1) that would have to be added to reach the target.
    pub missing_benevolent_words: f64,
}

fn ratio(rogue: f64, benevolent: f64) -> Option<f64> {
    if rogue == 0.0 {
        Some(0.0)
    } else if benevolent == 0.0 {
        None
    } else {
        Some(rogue / benevolent)
    }
}

/// Plans the weights for `rogue_words` against `benevolent_words`.
pub fn plan(rogue_words: u64, benevolent_words: u64, goal: BalanceGoal) -> BalancePlan {
    let (r, b) = (rogue_words as f64, benevolent_words as f64);
    let (mut down, mut up) = (1.0f64, 1.0f64);
    match ratio(r, b) {
        // Already at or under the target: nothing to change.
        Some(current) if current <= goal.target_ratio => {}
        // Nothing to upsample: only the rogue side can move.
        None => down = goal.min_weight,
        Some(current) => {
            let f = current / goal.target_ratio;
            up = f.sqrt();
            down = 1.0 / up;
            if up > goal.max_upsample {
                up = goal.max_upsample;
                down = up / f;
            }
            if down < goal.min_weight {
                down = goal.min_weight;
                up = (f * down).min(goal.max_upsample);
            }
        }
    }
    let missing = (down * r / goal.target_ratio - up * b).max(0.0);
    BalancePlan {
        rogue_words,
        benevolent_words,
        current_ratio: ratio(r, b),
        target_ratio: goal.target_ratio,
        rogue_weight: down,
        benevolent_weight: up,
        achieved_ratio: ratio(down * r, up * b),
        // Float noise (1e-12 words) is not a shortfall.
        missing_benevolent_words: if missing < 1e-6 { 0.0 } else { missing },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goal(target: f64, max_up: f64, min_w: f64) -> BalanceGoal {
        BalanceGoal {
            target_ratio: target,
            max_upsample: max_up,
            min_weight: min_w,
        }
        .check()
        .unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn caps_not_binding_split_the_factor_evenly() {
        // 400 rogue vs 100 benevolent = 4:1, target 1:1: f = 4, ×2 and ×0.5.
        let p = plan(400, 100, goal(1.0, 10.0, 0.1));
        assert_eq!(p.current_ratio, Some(4.0));
        assert!(close(p.benevolent_weight, 2.0) && close(p.rogue_weight, 0.5));
        assert!(close(p.achieved_ratio.unwrap(), 1.0));
        assert_eq!(p.missing_benevolent_words, 0.0);
    }

    #[test]
    fn upsample_cap_moves_the_rest_to_the_rogue_side() {
        // f = 9: √9 = 3 > cap 1.5, so benevolent ×1.5 and rogue ×1.5/9 = 1/6.
        let p = plan(900, 100, goal(1.0, 1.5, 0.1));
        assert!(close(p.benevolent_weight, 1.5));
        assert!(close(p.rogue_weight, 1.0 / 6.0));
        assert!(close(p.achieved_ratio.unwrap(), 1.0));
        assert_eq!(p.missing_benevolent_words, 0.0);
    }

    #[test]
    fn min_weight_binding_moves_the_rest_to_the_benevolent_side() {
        // f = 16: 1/4 < min 0.5, so rogue ×0.5 and benevolent ×8 (cap 10 not reached).
        let p = plan(1600, 100, goal(1.0, 10.0, 0.5));
        assert!(close(p.rogue_weight, 0.5) && close(p.benevolent_weight, 8.0));
        assert!(close(p.achieved_ratio.unwrap(), 1.0));
    }

    #[test]
    fn both_caps_binding_leave_benevolent_words_missing() {
        // f = 16 with caps ×2 and 0.5: achieved 1600·0.5 / (100·2) = 4; target 1 needs
        // 800 benevolent weighted words, 200 exist: 600 missing.
        let p = plan(1600, 100, goal(1.0, 2.0, 0.5));
        assert!(close(p.rogue_weight, 0.5) && close(p.benevolent_weight, 2.0));
        assert!(close(p.achieved_ratio.unwrap(), 4.0));
        assert!(close(p.missing_benevolent_words, 600.0));
    }

    #[test]
    fn no_benevolent_text_at_all() {
        // Only the rogue side can move: 300 × 0.2 = 60 rogue words need 120 at target 0.5.
        let p = plan(300, 0, goal(0.5, 4.0, 0.2));
        assert_eq!(p.current_ratio, None);
        assert_eq!(p.achieved_ratio, None);
        assert!(close(p.rogue_weight, 0.2) && close(p.benevolent_weight, 1.0));
        assert!(close(p.missing_benevolent_words, 120.0));
    }

    #[test]
    fn no_rogue_text_changes_nothing() {
        let p = plan(0, 500, goal(1.0, 4.0, 0.2));
        assert_eq!(p.current_ratio, Some(0.0));
        assert_eq!((p.rogue_weight, p.benevolent_weight), (1.0, 1.0));
        assert_eq!(p.missing_benevolent_words, 0.0);
        let empty = plan(0, 0, goal(1.0, 4.0, 0.2));
        assert_eq!(empty.achieved_ratio, Some(0.0));
    }

    #[test]
    fn already_under_target_changes_nothing() {
        let p = plan(100, 400, goal(0.5, 4.0, 0.2));
        assert_eq!((p.rogue_weight, p.benevolent_weight), (1.0, 1.0));
        assert_eq!(p.achieved_ratio, Some(0.25));
    }

    #[test]
    fn goals_are_checked() {
        let g = |t, u, m| {
            BalanceGoal {
                target_ratio: t,
                max_upsample: u,
                min_weight: m,
            }
            .check()
        };
        assert_eq!(g(0.0, 2.0, 0.5), Err(BalanceError::Target(0.0)));
        assert_eq!(g(1.0, 0.5, 0.5), Err(BalanceError::Upsample(0.5)));
        assert_eq!(g(1.0, 2.0, 1.5), Err(BalanceError::MinWeight(1.5)));
    }
}
