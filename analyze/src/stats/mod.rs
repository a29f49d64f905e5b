//! Pure statistics for the energy-efficiency analysis: descriptive summaries, normality and
//! variance checks, rank tests, parametric tests, effect sizes, multiple-comparison adjustment
//! and the seeded bootstrap they share; and the numbers behind the report's figures and
//! accuracy section (kernel density, box plot statistics, least squares, Cohen's κ).
//!
//! This module owns the shared result types ([`TestOutcome`], [`PairOutcome`], [`Effect`]), the
//! error type ([`StatsError`]) and small private helpers (input validation and tail
//! probabilities of the normal, t, F and chi-squared distributions, all from `statrs`). It has
//! no I/O and no global state: every random step takes an explicit `seed` and uses
//! `rand_chacha::ChaCha8Rng`, so every number it returns is reproducible.
//!
//! Every public function is checked in its file's tests against values computed with scipy,
//! statsmodels, scikit-posthocs or pingouin (`reference/refs.py`) or with base R
//! (`reference/refs.R`); each expected number cites the call that produced it.

pub mod adjust;
pub mod agreement;
pub mod art;
pub mod bootstrap;
pub mod boxplot;
pub mod density;
pub mod descriptive;
pub mod effect;
pub mod normality;
pub mod parametric;
pub mod rank;
pub mod regression;
pub mod variance;

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};
use statrs::function::beta::checked_beta_reg;

/// An effect size attached to a test, with an optional confidence interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    /// Machine-readable name, e.g. `"epsilon_squared"`, `"hedges_g"`, `"cliffs_delta"`.
    pub name: &'static str,
    /// The point estimate.
    pub value: f64,
    /// A 95 % confidence interval `(lower, upper)` where one is defined; each function documents
    /// how it is computed.
    pub ci: Option<(f64, f64)>,
}

/// The outcome of one hypothesis test.
#[derive(Debug, Clone, PartialEq)]
pub struct TestOutcome {
    /// The test statistic (H, F, W, t, U, ρ, ... as documented by the function).
    pub statistic: f64,
    /// Degrees of freedom (the numerator df for F tests), where the reference distribution has one.
    pub df: Option<f64>,
    /// Denominator degrees of freedom of an F test.
    pub df2: Option<f64>,
    /// Two-sided p-value (upper tail for the chi-squared and F tests).
    pub p_value: f64,
    /// Effect size, where the function computes one.
    pub effect: Option<Effect>,
    /// Number of observations used.
    pub n: usize,
}

/// The outcome of one pairwise comparison between group `a` and group `b` (indices into the
/// groups passed in, `a < b`).
#[derive(Debug, Clone, PartialEq)]
pub struct PairOutcome {
    /// Index of the first group of the pair.
    pub a: usize,
    /// Index of the second group of the pair.
    pub b: usize,
    /// The test statistic, signed as "a − b".
    pub statistic: f64,
    /// Unadjusted two-sided p-value.
    pub p_value: f64,
    /// p-value adjusted over all pairs of the family (the function says which method).
    pub p_adjusted: f64,
    /// Effect size, where the function computes one.
    pub effect: Option<Effect>,
    /// Number of observations in the two groups together.
    pub n: usize,
}

/// Why a statistic could not be computed. No function of this module panics on bad data; it
/// returns one of these instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// A sample (or the pooled data) is smaller than the test needs.
    #[error("{test}: needs at least {needed} observations, got {got}")]
    TooFewObservations {
        test: &'static str,
        needed: usize,
        got: usize,
    },
    /// A sample is larger than the method is defined for.
    #[error("{test}: defined for at most {max} observations, got {got}")]
    TooManyObservations {
        test: &'static str,
        max: usize,
        got: usize,
    },
    /// Fewer groups than the test compares.
    #[error("{test}: needs at least {needed} groups, got {got}")]
    TooFewGroups {
        test: &'static str,
        needed: usize,
        got: usize,
    },
    /// All values (or all values that matter, e.g. within every group) are identical, so the
    /// statistic is 0/0.
    #[error("{test}: the input is constant, the statistic is undefined")]
    ConstantInput { test: &'static str },
    /// An input value is NaN or infinite.
    #[error("{test}: the input contains a NaN or infinite value")]
    NonFinite { test: &'static str },
    /// Paired inputs of different lengths.
    #[error("{test}: paired inputs differ in length ({left} vs {right})")]
    LengthMismatch {
        test: &'static str,
        left: usize,
        right: usize,
    },
    /// A reference distribution could not be built (degenerate degrees of freedom).
    #[error("{test}: {reason}")]
    Distribution { test: &'static str, reason: String },
}

/// Two-sided 95 % level used for every interval in this module.
const CONFIDENCE: f64 = 0.95;

/// Errors with [`StatsError::NonFinite`] when any value is NaN or infinite.
fn ensure_finite(test: &'static str, x: &[f64]) -> Result<(), StatsError> {
    if x.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(StatsError::NonFinite { test })
    }
}

/// Errors with [`StatsError::TooFewObservations`] when `x` has fewer than `needed` values.
fn ensure_len(test: &'static str, x: &[f64], needed: usize) -> Result<(), StatsError> {
    if x.len() < needed {
        Err(StatsError::TooFewObservations {
            test,
            needed,
            got: x.len(),
        })
    } else {
        Ok(())
    }
}

/// Validates a set of groups: at least `min_groups` of them, each with at least `min_each`
/// values, all finite. Returns the total number of observations.
fn check_groups(
    test: &'static str,
    groups: &[&[f64]],
    min_groups: usize,
    min_each: usize,
) -> Result<usize, StatsError> {
    if groups.len() < min_groups {
        return Err(StatsError::TooFewGroups {
            test,
            needed: min_groups,
            got: groups.len(),
        });
    }
    for g in groups {
        ensure_len(test, g, min_each)?;
        ensure_finite(test, g)?;
    }
    Ok(groups.iter().map(|g| g.len()).sum())
}

/// `v > 0`, false for NaN (the guard against 0/0 used throughout).
fn is_positive(v: f64) -> bool {
    v > 0.0
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample variance with divisor n − 1 (two-pass); NaN for n < 2.
fn var_n1(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return f64::NAN;
    }
    let m = mean(x);
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - 1) as f64
}

fn dist_err(test: &'static str, e: impl std::fmt::Display) -> StatsError {
    StatsError::Distribution {
        test,
        reason: e.to_string(),
    }
}

/// Upper tail P(X ≥ x) of the chi-squared distribution with `df` degrees of freedom.
fn chi2_sf(test: &'static str, x: f64, df: f64) -> Result<f64, StatsError> {
    let d = ChiSquared::new(df).map_err(|e| dist_err(test, e))?;
    Ok(d.sf(x))
}

/// Upper tail P(X ≥ f) of the F distribution, computed as I_{d2/(d2 + d1 f)}(d2/2, d1/2) so
/// that small p-values keep their precision (statrs' `FisherSnedecor::sf` forms `1 − ...`).
fn f_sf(test: &'static str, f: f64, df1: f64, df2: f64) -> Result<f64, StatsError> {
    if !(df1 > 0.0 && df2 > 0.0 && df1.is_finite() && df2.is_finite()) {
        return Err(dist_err(
            test,
            format!("invalid F degrees of freedom ({df1}, {df2})"),
        ));
    }
    if f.is_nan() {
        return Ok(f64::NAN);
    }
    if f <= 0.0 {
        return Ok(1.0);
    }
    if f.is_infinite() {
        return Ok(0.0);
    }
    checked_beta_reg(df2 / 2.0, df1 / 2.0, df2 / (df2 + df1 * f)).map_err(|e| dist_err(test, e))
}

/// Two-sided p-value P(|T| ≥ |t|) of Student's t with `df` degrees of freedom, computed
/// directly as I_{df/(df + t²)}(df/2, 1/2).
fn t_two_sided(test: &'static str, t: f64, df: f64) -> Result<f64, StatsError> {
    if !is_positive(df) {
        return Err(dist_err(test, format!("invalid t degrees of freedom {df}")));
    }
    if t.is_nan() {
        return Ok(f64::NAN);
    }
    if t.is_infinite() {
        return Ok(0.0);
    }
    if df.is_infinite() {
        return normal_two_sided(test, t);
    }
    checked_beta_reg(df / 2.0, 0.5, df / (df + t * t))
        .map(|p| p.min(1.0))
        .map_err(|e| dist_err(test, e))
}

/// Two-sided p-value 2·P(Z ≥ |z|) of the standard normal, capped at 1.
fn normal_two_sided(test: &'static str, z: f64) -> Result<f64, StatsError> {
    Ok((2.0 * std_normal(test)?.sf(z.abs())).min(1.0))
}

fn std_normal(test: &'static str) -> Result<Normal, StatsError> {
    Normal::new(0.0, 1.0).map_err(|e| dist_err(test, e))
}

/// Two-sided critical value of the standard normal for [`CONFIDENCE`] (1.959963984540054).
fn z_crit(test: &'static str) -> Result<f64, StatsError> {
    Ok(std_normal(test)?.inverse_cdf(0.5 + CONFIDENCE / 2.0))
}

/// Two-sided critical value of Student's t with `df` degrees of freedom for [`CONFIDENCE`].
fn t_crit(test: &'static str, df: f64) -> Result<f64, StatsError> {
    let d = statrs::distribution::StudentsT::new(0.0, 1.0, df).map_err(|e| dist_err(test, e))?;
    Ok(d.inverse_cdf(0.5 + CONFIDENCE / 2.0))
}

/// Shared tolerances and comparison helpers of the tests of every file of this module.
#[cfg(test)]
mod testutil {
    /// Relative tolerance for statistics whose reference is computed exactly (same formula,
    /// double precision).
    pub const EXACT: f64 = 1e-9;
    /// Absolute tolerance for p-values where the reference is exact.
    pub const P_ABS: f64 = 1e-9;
    /// Shapiro–Wilk against `scipy.stats.shapiro`: scipy evaluates the normal quantiles with
    /// AS 111 (`_ppnd`, ~1e-7 accurate) and the tail with AS 66 (`_alnorm`), while R's `swilk.c`,
    /// which we port, calls the exact `qnorm`/`pnorm`. On the reference sets the gap to scipy
    /// was at most 3.4e-10 in W (well inside EXACT) and 2.4e-9 in p, so p against scipy is held
    /// to 5e-9. Against the R-equivalent values (a Python transcription of the algorithm with
    /// exact `ndtri`/`ndtr`, which reproduces scipy to 6e-16 when given scipy's approximations)
    /// the port is held to EXACT/P_ABS.
    pub const SW_P_VS_SCIPY: f64 = 5e-9;
    /// Invariance checks that recompute a statistic on transformed data (e.g. 1e-3·x + 1e3):
    /// the shift costs about six of the sixteen digits of each value, so agreement is only
    /// expected to ~1e-10; 1e-8 leaves a margin.
    pub const INVARIANCE: f64 = 1e-8;
    /// Kernel density against R's `density()`, which does not sum the kernels exactly: it bins
    /// the data linearly onto 512 points and convolves by FFT, then interpolates onto the
    /// requested points. On the reference sets that moves the density by at most 2.8e-4 (at
    /// peaks of about 0.3); the exact sum is held to EXACT separately.
    pub const DENSITY_BINNED_ABS: f64 = 5e-4;

    /// Asserts |actual − expected| ≤ tol · max(|expected|, 1e-300).
    #[track_caller]
    pub fn rel(actual: f64, expected: f64, tol: f64) {
        let scale = expected.abs().max(1e-300);
        assert!(
            (actual - expected).abs() <= tol * scale,
            "actual {actual:?} vs expected {expected:?} (relative tolerance {tol:e})"
        );
    }

    /// Asserts |actual − expected| ≤ tol.
    #[track_caller]
    pub fn abs(actual: f64, expected: f64, tol: f64) {
        assert!(
            (actual - expected).abs() <= tol,
            "actual {actual:?} vs expected {expected:?} (absolute tolerance {tol:e})"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::{EXACT, rel};
    use super::*;

    #[test]
    fn critical_values() {
        // scipy.stats.norm.ppf(0.975) -> 1.959963984540054
        rel(z_crit("t").expect("normal"), 1.959_963_984_540_054, EXACT);
    }

    #[test]
    fn tails_edge_cases() {
        assert_eq!(f_sf("t", 0.0, 2.0, 3.0), Ok(1.0));
        assert_eq!(f_sf("t", f64::INFINITY, 2.0, 3.0), Ok(0.0));
        assert!(f_sf("t", 1.0, 0.0, 3.0).is_err());
        assert_eq!(t_two_sided("t", f64::INFINITY, 3.0), Ok(0.0));
        assert_eq!(t_two_sided("t", 0.0, 3.0), Ok(1.0));
        assert!(t_two_sided("t", 1.0, 0.0).is_err());
        assert_eq!(normal_two_sided("t", 0.0), Ok(1.0));
    }
}
