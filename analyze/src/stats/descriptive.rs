//! Descriptive summaries of one sample: location, spread, quantiles (R type 7) and the two
//! 95 % intervals reported beside them (t interval of the mean, percentile bootstrap of the
//! median). Undefined values are `f64::NAN`; nothing here panics or errors.

use super::bootstrap::{self, DEFAULT_RESAMPLES};

/// Summary of one sample, as returned by [`describe`].
#[derive(Debug, Clone, PartialEq)]
pub struct Descriptive {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean (NaN for n = 0).
    pub mean: f64,
    /// Median (type-7 quantile at 0.5, the usual midpoint rule).
    pub median: f64,
    /// Sample variance with divisor n − 1 (NaN for n < 2).
    pub var: f64,
    /// Sample standard deviation, √var (NaN for n < 2).
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// First quartile (type 7).
    pub q1: f64,
    /// Third quartile (type 7).
    pub q3: f64,
    /// Interquartile range q3 − q1 (type 7).
    pub iqr: f64,
    /// 95 % Student-t interval of the mean, mean ± t₀.₉₇₅,ₙ₋₁ · sd/√n (NaN for n < 2).
    pub mean_ci: (f64, f64),
    /// 95 % percentile-bootstrap interval of the median (NaN for n < 2); see [`describe`].
    pub median_ci: (f64, f64),
}

/// Summarises `x`.
///
/// * Quantiles (median, quartiles, IQR) use R's default `quantile(type = 7)`, which is numpy's
///   default `method="linear"`; see [`quantile_sorted`].
/// * `var`/`sd` use the divisor n − 1 (`numpy.var(x, ddof=1)`, R `var`).
/// * `mean_ci` is the t interval of `scipy.stats.t.interval(0.95, n-1, loc=mean, scale=sem)`
///   (R `t.test(x)$conf.int`).
/// * `median_ci` is a percentile bootstrap: [`DEFAULT_RESAMPLES`] (2000) resamples of size n
///   drawn with replacement by [`bootstrap::percentile_bootstrap`] from
///   `ChaCha8Rng::seed_from_u64(seed)` (indices `(rng.next_u32() · n) >> 32`, see
///   [`bootstrap::draw_index`]); the bounds are the type-7 quantiles at 0.025 and 0.975 of the
///   2000 bootstrap medians. The same `x` and `seed` always give the same interval.
///
/// Values that are undefined for the sample size are `f64::NAN`: everything but `n` for n = 0;
/// `var`, `sd`, `mean_ci` and `median_ci` for n = 1. If any value of `x` is NaN or infinite,
/// every field except `n` is NaN (the summary of such a sample is not meaningful).
pub fn describe(x: &[f64], seed: u64) -> Descriptive {
    let n = x.len();
    let nan2 = (f64::NAN, f64::NAN);
    let mut out = Descriptive {
        n,
        mean: f64::NAN,
        median: f64::NAN,
        var: f64::NAN,
        sd: f64::NAN,
        min: f64::NAN,
        max: f64::NAN,
        q1: f64::NAN,
        q3: f64::NAN,
        iqr: f64::NAN,
        mean_ci: nan2,
        median_ci: nan2,
    };
    if n == 0 || x.iter().any(|v| !v.is_finite()) {
        return out;
    }
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    out.mean = super::mean(x);
    out.median = quantile_sorted(&sorted, 0.5);
    out.min = sorted[0];
    out.max = sorted[n - 1];
    out.q1 = quantile_sorted(&sorted, 0.25);
    out.q3 = quantile_sorted(&sorted, 0.75);
    out.iqr = out.q3 - out.q1;
    if n >= 2 {
        out.var = super::var_n1(x);
        out.sd = out.var.sqrt();
        if let Ok(t) = super::t_crit("describe", (n - 1) as f64) {
            let half = t * out.sd / (n as f64).sqrt();
            out.mean_ci = (out.mean - half, out.mean + half);
        }
        out.median_ci =
            bootstrap::percentile_bootstrap(x, DEFAULT_RESAMPLES, seed, median_in_place).unwrap_or(nan2);
    }
    out
}

/// Quantile of an ascending-sorted slice by R's type 7 (numpy `quantile(method="linear")`):
/// with h = (n − 1)·p, the value is x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎) (0-based).
/// Returns NaN for an empty slice or p outside [0, 1]. The slice must already be sorted; this
/// is not checked.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p;
    let lo = h.floor();
    // `lo` is in 0..=n-1 because 0 <= p <= 1; the cast is exact.
    let i = lo as usize;
    if i + 1 >= n {
        return sorted[n - 1];
    }
    let frac = h - lo;
    if frac == 0.0 {
        return sorted[i];
    }
    sorted[i] + frac * (sorted[i + 1] - sorted[i])
}

/// Type-7 quantile of an unsorted sample (sorts a copy). NaN for an empty sample or a sample
/// containing NaN.
pub fn quantile(x: &[f64], p: f64) -> f64 {
    if x.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    quantile_sorted(&s, p)
}

/// Median of an unsorted sample (`numpy.median`, R `median`); NaN for an empty sample or a
/// sample containing NaN.
pub fn median(x: &[f64]) -> f64 {
    quantile(x, 0.5)
}

/// Type-7 median of finite values by selection (O(n), reorders `x`); bit-identical to
/// [`median`]. NaN for an empty slice. Used for the bootstrap resamples.
fn median_in_place(x: &mut [f64]) -> f64 {
    let n = x.len();
    if n == 0 {
        return f64::NAN;
    }
    let mid = n / 2;
    let (lower, upper_mid, _) = x.select_nth_unstable_by(mid, f64::total_cmp);
    let upper_mid = *upper_mid;
    if n % 2 == 1 {
        return upper_mid;
    }
    // Even n: h = (n − 1)/2 has fraction 0.5 between positions mid − 1 and mid; the same
    // expression as `quantile_sorted` keeps the result bit-identical.
    let lower_mid = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    lower_mid + 0.5 * (upper_mid - lower_mid)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{EXACT, rel};
    use super::*;

    const NO_TIES: [f64; 9] = [2.9, 3.0, 2.5, 2.6, 3.2, 3.8, 2.7, 4.0, 2.4];
    const TIES: [f64; 8] = [1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 5.0, 8.0];

    #[test]
    fn describe_without_ties() {
        let d = describe(&NO_TIES, 7);
        assert_eq!(d.n, 9);
        // np.mean([2.9, 3.0, 2.5, 2.6, 3.2, 3.8, 2.7, 4.0, 2.4]) -> 3.011111111111111
        rel(d.mean, 3.011_111_111_111_111, EXACT);
        // np.median(...) -> 2.9
        rel(d.median, 2.9, EXACT);
        // np.var(..., ddof=1) -> 0.31861111111111107
        rel(d.var, 0.318_611_111_111_111_07, EXACT);
        // np.std(..., ddof=1) -> 0.5644564740625366
        rel(d.sd, 0.564_456_474_062_536_6, EXACT);
        // np.quantile(..., [0.25, 0.75]) -> [2.6, 3.2]
        rel(d.q1, 2.6, EXACT);
        rel(d.q3, 3.2, EXACT);
        rel(d.iqr, 0.6, EXACT);
        assert_eq!((d.min, d.max), (2.4, 4.0));
        // scipy.stats.t.interval(0.95, 8, loc=np.mean(x), scale=scipy.stats.sem(x))
        //   -> (2.5772314566674535, 3.4449907655547687)
        rel(d.mean_ci.0, 2.577_231_456_667_453_5, EXACT);
        rel(d.mean_ci.1, 3.444_990_765_554_768_7, EXACT);
    }

    #[test]
    fn describe_with_ties() {
        let d = describe(&TIES, 7);
        // np.mean([1, 2, 2, 3, 5, 5, 5, 8]) -> 3.875
        rel(d.mean, 3.875, EXACT);
        // np.median(...) -> 4.0
        rel(d.median, 4.0, EXACT);
        // np.var(..., ddof=1) -> 5.267857142857143
        rel(d.var, 5.267_857_142_857_143, EXACT);
        // np.std(..., ddof=1) -> 2.295181287579947
        rel(d.sd, 2.295_181_287_579_947, EXACT);
        // np.quantile(..., [0.25, 0.75]) -> [2.0, 5.0]
        rel(d.q1, 2.0, EXACT);
        rel(d.q3, 5.0, EXACT);
        rel(d.iqr, 3.0, EXACT);
        // scipy.stats.t.interval(0.95, 7, loc=np.mean(x), scale=scipy.stats.sem(x))
        //   -> (1.9561804246501457, 5.793819575349854)
        rel(d.mean_ci.0, 1.956_180_424_650_145_7, EXACT);
        rel(d.mean_ci.1, 5.793_819_575_349_854, EXACT);
    }

    #[test]
    fn median_bootstrap_interval_is_seeded_and_sane() {
        let a = describe(&NO_TIES, 42);
        let b = describe(&NO_TIES, 42);
        assert_eq!(a.median_ci, b.median_ci, "same seed, same interval");
        let (lo, hi) = a.median_ci;
        assert!(lo <= a.median && a.median <= hi, "{lo} {hi}");
        assert!(lo >= a.min && hi <= a.max);
        // Bootstrap medians of 9 values are order statistics of the sample, so both bounds
        // interpolate between sample values.
        assert!(lo < hi);
    }

    #[test]
    fn small_and_degenerate_samples() {
        let e = describe(&[], 1);
        assert_eq!(e.n, 0);
        assert!(e.mean.is_nan() && e.median.is_nan() && e.var.is_nan() && e.iqr.is_nan());
        assert!(e.mean_ci.0.is_nan() && e.median_ci.1.is_nan());

        let one = describe(&[4.5], 1);
        assert_eq!((one.mean, one.median, one.min, one.max), (4.5, 4.5, 4.5, 4.5));
        assert_eq!(one.iqr, 0.0);
        assert!(one.var.is_nan() && one.sd.is_nan());
        assert!(one.mean_ci.0.is_nan() && one.median_ci.0.is_nan());

        let constant = describe(&[2.0, 2.0, 2.0], 1);
        assert_eq!(constant.var, 0.0);
        assert_eq!(constant.mean_ci, (2.0, 2.0));
        assert_eq!(constant.median_ci, (2.0, 2.0));

        let bad = describe(&[1.0, f64::NAN, 3.0], 1);
        assert_eq!(bad.n, 3);
        assert!(bad.mean.is_nan() && bad.min.is_nan() && bad.median_ci.0.is_nan());
    }

    #[test]
    fn selection_median_is_identical() {
        for x in [
            &NO_TIES[..],
            &TIES[..],
            &[1.0][..],
            &[0.1, 0.7][..],
            &[5.0, -1.0, 2.5, 2.5][..],
        ] {
            let mut v = x.to_vec();
            assert_eq!(median_in_place(&mut v), median(x), "{x:?}");
        }
        assert!(median_in_place(&mut []).is_nan());
    }

    #[test]
    fn quantile_type7() {
        // np.quantile([1, 2, 2, 3, 5, 5, 5, 8], 0.1) -> 1.7000000000000002; 0.9 -> 5.8999999999999995
        let s = TIES;
        rel(quantile_sorted(&s, 0.1), 1.7, EXACT);
        rel(quantile_sorted(&s, 0.9), 5.899_999_999_999_999_5, EXACT);
        assert_eq!(quantile_sorted(&s, 0.0), 1.0);
        assert_eq!(quantile_sorted(&s, 1.0), 8.0);
        assert!(quantile_sorted(&s, 1.5).is_nan());
        assert!(quantile_sorted(&[], 0.5).is_nan());
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
        assert!(median(&[1.0, f64::NAN]).is_nan());
    }
}
