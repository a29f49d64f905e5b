//! The parts of a box plot (Tukey 1977, *Exploratory Data Analysis*, ch. 2): the box spans the
//! quartiles, the whiskers reach the most extreme values within 1.5 IQR of the box, and the
//! values beyond are drawn one by one — R's `boxplot.stats` rule, applied to type-7 quartiles.

use super::descriptive::quantile_sorted;

/// Box plot parts of one group, as returned by [`box_stats`].
#[derive(Debug, Clone, PartialEq)]
pub struct BoxStats {
    /// First quartile (type 7).
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile (type 7).
    pub q3: f64,
    /// Lower whisker: the smallest value ≥ q1 − 1.5 IQR.
    pub low: f64,
    /// Upper whisker: the largest value ≤ q3 + 1.5 IQR.
    pub high: f64,
    /// Arithmetic mean (drawn as a marker).
    pub mean: f64,
    /// The values outside the fences, ascending.
    pub outliers: Vec<f64>,
}

/// Tukey's box of the finite values of `values` (NaN and infinities are left out); None when
/// none is left.
///
/// The quartiles are R's `quantile(x, type = 7)`, like every quantile of this crate. R's
/// `boxplot.stats` uses Tukey's hinges (`fivenum`) instead; the two agree when n = 4m + 1 and
/// otherwise differ slightly, which can move a value across a fence. The whisker rule is the
/// same: each whisker ends at the most extreme value inside its fence, 1.5 IQR beyond the box.
pub fn box_stats(values: &[f64]) -> Option<BoxStats> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q1 = quantile_sorted(&v, 0.25);
    let q3 = quantile_sorted(&v, 0.75);
    let fence = 1.5 * (q3 - q1);
    let inside: Vec<f64> = v
        .iter()
        .copied()
        .filter(|x| *x >= q1 - fence && *x <= q3 + fence)
        .collect();
    Some(BoxStats {
        q1,
        median: quantile_sorted(&v, 0.5),
        q3,
        low: inside.first().copied().unwrap_or(q1),
        high: inside.last().copied().unwrap_or(q3),
        mean: v.iter().sum::<f64>() / v.len() as f64,
        outliers: v
            .iter()
            .copied()
            .filter(|x| *x < q1 - fence || *x > q3 + fence)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{EXACT, rel};
    use super::*;

    /// Asserts every number of `b` against R's, in the order q1, median, q3, low, high, mean.
    #[track_caller]
    fn check(b: &BoxStats, expected: [f64; 6], outliers: &[f64]) {
        let actual = [b.q1, b.median, b.q3, b.low, b.high, b.mean];
        for (a, e) in actual.into_iter().zip(expected) {
            rel(a, e, EXACT);
        }
        assert_eq!(b.outliers, outliers);
    }

    #[test]
    fn whiskers_stop_at_the_last_value_inside_the_fences() {
        // n = 5 = 4m + 1, so the hinges are the type-7 quartiles and boxplot.stats applies:
        // quantile(c(1, 2, 3, 4, 100), c(0.25, 0.5, 0.75), type = 7) -> 2, 3, 4
        // boxplot.stats(c(1, 2, 3, 4, 100))$stats -> 1, 2, 3, 4, 4; sort($out) -> 100
        // mean(c(1, 2, 3, 4, 100)) -> 22
        let b = box_stats(&[1.0, 2.0, 3.0, 4.0, 100.0]).expect("stats");
        check(&b, [2.0, 3.0, 4.0, 1.0, 4.0, 22.0], &[100.0]);
    }

    #[test]
    fn outliers_on_both_sides() {
        let x = [-10.0, 1.2, 2.5, 2.7, 3.1, 3.3, 3.6, 4.0, 12.5];
        // n = 9 = 4m + 1:
        // quantile(c(-10, 1.2, 2.5, 2.7, 3.1, 3.3, 3.6, 4, 12.5), c(0.25, 0.5, 0.75), type = 7)
        //   -> 2.5, 3.1, 3.6
        // boxplot.stats(c(-10, 1.2, 2.5, 2.7, 3.1, 3.3, 3.6, 4, 12.5))$stats
        //   -> 1.2, 2.5, 3.1, 3.6, 4; sort($out) -> -10, 12.5
        // mean(c(-10, 1.2, 2.5, 2.7, 3.1, 3.3, 3.6, 4, 12.5)) -> 2.5444444444444443
        let b = box_stats(&x).expect("stats");
        check(
            &b,
            [2.5, 3.1, 3.6, 1.2, 4.0, 2.544_444_444_444_444_3],
            &[-10.0, 12.5],
        );
    }

    #[test]
    fn fences_come_from_type_7_quartiles_not_hinges() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 12.0];
        // quantile(c(1, 2, 3, 4, 5, 6, 7, 12), c(0.25, 0.5, 0.75), type = 7) -> 2.75, 4.5, 6.25
        // whisker rule by hand on those quartiles (refs.R, whiskers7):
        //   range(x[x >= q1 - 1.5 IQR & x <= q3 + 1.5 IQR]) -> 1, 7
        //   sort(x[x < q1 - 1.5 IQR | x > q3 + 1.5 IQR]) -> 12
        // mean(c(1, 2, 3, 4, 5, 6, 7, 12)) -> 5
        // (boxplot.stats(c(1, 2, 3, 4, 5, 6, 7, 12))$stats -> 1, 2.5, 4.5, 6.5, 12: its hinges
        // give a wider box, whose upper fence 12.5 keeps 12 inside.)
        let b = box_stats(&x).expect("stats");
        check(&b, [2.75, 4.5, 6.25, 1.0, 7.0, 5.0], &[12.0]);
    }

    #[test]
    fn degenerate_groups() {
        // boxplot.stats(c(5))$stats -> 5, 5, 5, 5, 5
        check(&box_stats(&[5.0]).expect("stats"), [5.0; 6], &[]);
        // boxplot.stats(c(2, 2, 2))$stats -> 2, 2, 2, 2, 2
        check(&box_stats(&[2.0; 3]).expect("stats"), [2.0; 6], &[]);
        assert_eq!(box_stats(&[]), None);
        assert_eq!(box_stats(&[f64::NAN, f64::INFINITY]), None);
        // Non-finite values are left out, as na.rm would.
        check(
            &box_stats(&[1.0, f64::NAN, 2.0, 3.0, 4.0, 100.0]).expect("stats"),
            [2.0, 3.0, 4.0, 1.0, 4.0, 22.0],
            &[100.0],
        );
    }
}
