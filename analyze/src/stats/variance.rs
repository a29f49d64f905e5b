//! Homogeneity of variance: the Brown–Forsythe variant of Levene's test (centred on group
//! medians), used to choose between the classic and Welch ANOVA.

use super::descriptive::median;
use super::parametric::oneway_f;
use super::{StatsError, TestOutcome};

/// Levene's test centred on the group medians (Brown & Forsythe 1974): the one-way ANOVA F of
/// zᵢⱼ = |xᵢⱼ − median(groupᵢ)|. Matches `scipy.stats.levene(*groups, center="median")` and R
/// `car::leveneTest(y ~ g, center=median)`.
///
/// `statistic` F, `df` k − 1, `df2` N − k, `p_value` the F upper tail, `effect` `None`.
/// When every zᵢⱼ within each group is equal but they differ between groups, F = ∞ and p = 0.
///
/// Errors: fewer than 2 groups, an empty group, N ≤ k, a non-finite value, or all zᵢⱼ equal
/// (e.g. every group constant).
pub fn levene_median(groups: &[&[f64]]) -> Result<TestOutcome, StatsError> {
    const TEST: &str = "levene_median";
    super::check_groups(TEST, groups, 2, 1)?;
    let deviations: Vec<Vec<f64>> = groups
        .iter()
        .map(|g| {
            let m = median(g);
            g.iter().map(|v| (v - m).abs()).collect()
        })
        .collect();
    let views: Vec<&[f64]> = deviations.iter().map(Vec::as_slice).collect();
    let r = oneway_f(TEST, &views)?;
    Ok(TestOutcome {
        statistic: r.f,
        df: Some(r.df1),
        df2: Some(r.df2),
        p_value: r.p,
        effect: None,
        n: r.n,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{EXACT, P_ABS, abs, rel};
    use super::*;

    fn check(groups: &[&[f64]], f: f64, p: f64) {
        let out = levene_median(groups).expect("defined");
        rel(out.statistic, f, EXACT);
        abs(out.p_value, p, P_ABS);
        let n: usize = groups.iter().map(|g| g.len()).sum();
        assert_eq!(out.df, Some((groups.len() - 1) as f64));
        assert_eq!(out.df2, Some((n - groups.len()) as f64));
        assert_eq!(out.n, n);
    }

    #[test]
    fn brown_forsythe_matches_scipy() {
        // scipy.stats.levene([2.9, 3.0, 2.5, 2.6, 3.2], [3.8, 2.7, 4.0, 2.4],
        //   [2.8, 3.4, 3.7, 2.2, 2.0], center='median') -> F=4.476854343847557,
        //   p=0.03780330908861111
        check(
            &[
                &[2.9, 3.0, 2.5, 2.6, 3.2],
                &[3.8, 2.7, 4.0, 2.4],
                &[2.8, 3.4, 3.7, 2.2, 2.0],
            ],
            4.476_854_343_847_557,
            0.037_803_309_088_611_11,
        );
        // scipy.stats.levene([1, 2, 2, 3, 5], [2, 3, 3, 4, 6, 6], [5, 5, 7, 8, 8, 9],
        //   center='median') -> F=0.17521902377972456, p=0.8410854940150296
        check(
            &[
                &[1.0, 2.0, 2.0, 3.0, 5.0],
                &[2.0, 3.0, 3.0, 4.0, 6.0, 6.0],
                &[5.0, 5.0, 7.0, 8.0, 8.0, 9.0],
            ],
            0.175_219_023_779_724_56,
            0.841_085_494_015_029_6,
        );
        // scipy.stats.levene(*SYN4, center='median') -> F=1.6458312279986413,
        //   p=0.20311433586862682
        check(
            &[
                &[8.91, 8.53, 5.84, 12.57, 9.16, 10.44],
                &[6.82, 5.85, 7.23, 4.59, 6.76, 7.01],
                &[3.82, 3.8, 5.06, 5.07, 3.69, 3.45],
                &[
                    4.57, 3.46, 3.12, 2.28, 2.48, 2.71, 2.71, 2.7, 4.54, 3.5, 2.11, 3.43,
                ],
            ],
            1.645_831_227_998_641_3,
            0.203_114_335_868_626_82,
        );
    }

    #[test]
    fn degenerate_inputs() {
        let constant: [&[f64]; 2] = [&[1.0, 1.0, 1.0], &[4.0, 4.0]];
        assert!(matches!(
            levene_median(&constant),
            Err(StatsError::ConstantInput { .. })
        ));
        let one: [&[f64]; 1] = [&[1.0, 2.0]];
        assert!(matches!(
            levene_median(&one),
            Err(StatsError::TooFewGroups { .. })
        ));
        let bad: [&[f64]; 2] = [&[1.0, f64::NAN], &[4.0, 5.0]];
        assert!(matches!(levene_median(&bad), Err(StatsError::NonFinite { .. })));
    }
}
