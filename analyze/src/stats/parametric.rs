//! Parametric tests of means: the classic one-way ANOVA (with η²), Welch's heteroscedastic
//! one-way ANOVA, and Welch's two-sample t test (with Hedges' g). Also the one-way F core that
//! the Brown–Forsythe test in `variance` reuses.

use super::effect::{eta_squared, hedges_g};
use super::{Effect, StatsError, TestOutcome};

/// Result of the one-way F computation shared with [`super::variance`].
#[derive(Debug, Clone, PartialEq)]
pub(super) struct OneWay {
    pub f: f64,
    pub df1: f64,
    pub df2: f64,
    pub p: f64,
    pub ss_between: f64,
    pub ss_within: f64,
    pub n: usize,
}

/// Classic one-way F on validated-or-not groups: k ≥ 2, every group non-empty and finite,
/// N > k. F = (SS_b/(k−1)) / (SS_w/(N−k)). When SS_w = 0 and SS_b > 0, F = ∞ and p = 0; when
/// both are 0 the input is constant and an error is returned.
pub(super) fn oneway_f(test: &'static str, groups: &[&[f64]]) -> Result<OneWay, StatsError> {
    let n = super::check_groups(test, groups, 2, 1)?;
    let k = groups.len();
    if n <= k {
        return Err(StatsError::TooFewObservations {
            test,
            needed: k + 1,
            got: n,
        });
    }
    let grand = groups.iter().flat_map(|g| g.iter()).sum::<f64>() / n as f64;
    let mut ss_between = 0.0;
    let mut ss_within = 0.0;
    for g in groups {
        let m = super::mean(g);
        ss_between += g.len() as f64 * (m - grand) * (m - grand);
        ss_within += g.iter().map(|v| (v - m) * (v - m)).sum::<f64>();
    }
    let df1 = (k - 1) as f64;
    let df2 = (n - k) as f64;
    let (f, p) = if ss_within > 0.0 {
        let f = (ss_between / df1) / (ss_within / df2);
        (f, super::f_sf(test, f, df1, df2)?)
    } else if ss_between > 0.0 {
        (f64::INFINITY, 0.0)
    } else {
        return Err(StatsError::ConstantInput { test });
    };
    Ok(OneWay {
        f,
        df1,
        df2,
        p,
        ss_between,
        ss_within,
        n,
    })
}

/// Classic one-way ANOVA (Fisher), equal variances assumed: matches `scipy.stats.f_oneway` and
/// R `oneway.test(var.equal=TRUE)` / `anova(lm(y ~ g))`.
///
/// `statistic` F, `df` k − 1, `df2` N − k, `p_value` the F upper tail; `effect`
/// `eta_squared` = SS_between/SS_total (pingouin `anova(...)["np2"]`), no interval. Groups
/// whose values are all equal within but differ between give F = ∞ and p = 0.
///
/// Errors: fewer than 2 groups, an empty group, N ≤ k, a non-finite value, or all values equal.
pub fn anova_oneway(groups: &[&[f64]]) -> Result<TestOutcome, StatsError> {
    let r = oneway_f("anova_oneway", groups)?;
    Ok(TestOutcome {
        statistic: r.f,
        df: Some(r.df1),
        df2: Some(r.df2),
        p_value: r.p,
        effect: Some(Effect {
            name: "eta_squared",
            value: eta_squared(r.ss_between, r.ss_between + r.ss_within),
            ci: None,
        }),
        n: r.n,
    })
}

/// Welch's (1951) one-way ANOVA for unequal variances: matches
/// `pingouin.welch_anova(data, dv, between)`, `scipy.stats.f_oneway(*groups,
/// equal_var=False)` and R `oneway.test(y ~ g, var.equal=FALSE)`.
///
/// With wᵢ = nᵢ/sᵢ², W = Σwᵢ, x̃ = Σwᵢx̄ᵢ/W and Λ = Σ(1 − wᵢ/W)²/(nᵢ − 1):
/// F = [Σwᵢ(x̄ᵢ − x̃)²/(k − 1)] / [1 + 2(k − 2)Λ/(k² − 1)], `df` = k − 1,
/// `df2` = (k² − 1)/(3Λ) (fractional), `p_value` the F upper tail. `effect` is the classic
/// `eta_squared` (as pingouin reports beside it), no interval.
///
/// Errors: fewer than 2 groups, a group with fewer than 2 values, a non-finite value, or a
/// group with zero variance (its weight is infinite; Welch's F is undefined).
pub fn welch_anova(groups: &[&[f64]]) -> Result<TestOutcome, StatsError> {
    const TEST: &str = "welch_anova";
    let n = super::check_groups(TEST, groups, 2, 2)?;
    let k = groups.len() as f64;
    let mut weights = Vec::with_capacity(groups.len());
    let mut means = Vec::with_capacity(groups.len());
    for g in groups {
        let v = super::var_n1(g);
        if !super::is_positive(v) {
            return Err(StatsError::ConstantInput { test: TEST });
        }
        weights.push(g.len() as f64 / v);
        means.push(super::mean(g));
    }
    let w_sum: f64 = weights.iter().sum();
    let centre = weights.iter().zip(&means).map(|(w, m)| w * m).sum::<f64>() / w_sum;
    let between = weights
        .iter()
        .zip(&means)
        .map(|(w, m)| w * (m - centre) * (m - centre))
        .sum::<f64>()
        / (k - 1.0);
    let lambda: f64 = weights
        .iter()
        .zip(groups)
        .map(|(w, g)| (1.0 - w / w_sum).powi(2) / (g.len() as f64 - 1.0))
        .sum();
    let f = between / (1.0 + 2.0 * (k - 2.0) * lambda / (k * k - 1.0));
    let df1 = k - 1.0;
    let df2 = (k * k - 1.0) / (3.0 * lambda);
    let p = super::f_sf(TEST, f, df1, df2)?;
    let eta = oneway_f(TEST, groups)
        .map(|r| eta_squared(r.ss_between, r.ss_between + r.ss_within))
        .unwrap_or(f64::NAN);
    Ok(TestOutcome {
        statistic: f,
        df: Some(df1),
        df2: Some(df2),
        p_value: p,
        effect: Some(Effect {
            name: "eta_squared",
            value: eta,
            ci: None,
        }),
        n,
    })
}

/// Welch's two-sample t test (Welch 1947), two-sided: matches `scipy.stats.ttest_ind(a, b,
/// equal_var=False)` and R `t.test(a, b)`.
///
/// `statistic` t = (ā − b̄)/√(s₁²/n₁ + s₂²/n₂), `df` the Welch–Satterthwaite
/// (s₁²/n₁ + s₂²/n₂)² / [(s₁²/n₁)²/(n₁−1) + (s₂²/n₂)²/(n₂−1)], `p_value` two-sided.
/// `effect` is Hedges' g of a − b with its 95 % interval, see [`super::effect::hedges_g`]
/// (pooled-sd d, J = 1 − 3/(4(n₁+n₂) − 9), Hedges & Olkin normal-approximation SE).
///
/// Errors: fewer than 2 values in either sample, a non-finite value, or both samples constant.
pub fn welch_t(a: &[f64], b: &[f64]) -> Result<TestOutcome, StatsError> {
    const TEST: &str = "welch_t";
    super::ensure_len(TEST, a, 2)?;
    super::ensure_len(TEST, b, 2)?;
    super::ensure_finite(TEST, a)?;
    super::ensure_finite(TEST, b)?;
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let q1 = super::var_n1(a) / n1;
    let q2 = super::var_n1(b) / n2;
    let se2 = q1 + q2;
    if !super::is_positive(se2) {
        return Err(StatsError::ConstantInput { test: TEST });
    }
    let t = (super::mean(a) - super::mean(b)) / se2.sqrt();
    let df = se2 * se2 / (q1 * q1 / (n1 - 1.0) + q2 * q2 / (n2 - 1.0));
    let p = super::t_two_sided(TEST, t, df)?;
    Ok(TestOutcome {
        statistic: t,
        df: Some(df),
        df2: None,
        p_value: p,
        effect: Some(hedges_g(a, b)?),
        n: a.len() + b.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{EXACT, P_ABS, abs, rel};
    use super::*;

    const KW_A: [&[f64]; 3] = [
        &[2.9, 3.0, 2.5, 2.6, 3.2],
        &[3.8, 2.7, 4.0, 2.4],
        &[2.8, 3.4, 3.7, 2.2, 2.0],
    ];
    const TIES: [&[f64]; 3] = [
        &[1.0, 2.0, 2.0, 3.0, 5.0],
        &[2.0, 3.0, 3.0, 4.0, 6.0, 6.0],
        &[5.0, 5.0, 7.0, 8.0, 8.0, 9.0],
    ];
    const SYN4: [&[f64]; 4] = [
        &[8.91, 8.53, 5.84, 12.57, 9.16, 10.44],
        &[6.82, 5.85, 7.23, 4.59, 6.76, 7.01],
        &[3.82, 3.8, 5.06, 5.07, 3.69, 3.45],
        &[
            4.57, 3.46, 3.12, 2.28, 2.48, 2.71, 2.71, 2.7, 4.54, 3.5, 2.11, 3.43,
        ],
    ];

    fn check_anova(groups: &[&[f64]], f: f64, p: f64, eta: f64) {
        let out = anova_oneway(groups).expect("defined");
        rel(out.statistic, f, EXACT);
        abs(out.p_value, p, P_ABS);
        let n: usize = groups.iter().map(|g| g.len()).sum();
        assert_eq!(out.df, Some((groups.len() - 1) as f64));
        assert_eq!(out.df2, Some((n - groups.len()) as f64));
        let e = out.effect.expect("effect");
        assert_eq!(e.name, "eta_squared");
        rel(e.value, eta, EXACT);
    }

    #[test]
    fn anova_matches_scipy_and_pingouin() {
        // scipy.stats.f_oneway(*KW_A) -> F=0.56007326007326, p=0.5866329910417377;
        // pingouin.anova(dv='y', between='g', detailed=True)['np2'] -> 0.09242021276595716
        check_anova(
            &KW_A,
            0.560_073_260_073_26,
            0.586_632_991_041_737_7,
            0.092_420_212_765_957_16,
        );
        // scipy.stats.f_oneway(*TIES) -> F=10.66603415559772, p=0.001533602541962173; np2
        // -> 0.6037593984962406
        check_anova(
            &TIES,
            10.666_034_155_597_72,
            0.001_533_602_541_962_173,
            0.603_759_398_496_240_6,
        );
        // scipy.stats.f_oneway(*SYN4) -> F=36.130208623650766, p=2.0159805043171942e-09; np2
        // -> 0.8065341251928811
        check_anova(
            &SYN4,
            36.130_208_623_650_766,
            2.015_980_504_317_194_2e-9,
            0.806_534_125_192_881_1,
        );
    }

    #[test]
    fn anova_edge_cases() {
        let separated: [&[f64]; 2] = [&[1.0, 1.0], &[2.0, 2.0]];
        let out = anova_oneway(&separated).expect("defined");
        assert_eq!((out.statistic, out.p_value), (f64::INFINITY, 0.0));
        let flat: [&[f64]; 2] = [&[1.0, 1.0], &[1.0]];
        assert!(matches!(
            anova_oneway(&flat),
            Err(StatsError::ConstantInput { .. })
        ));
        let singletons: [&[f64]; 2] = [&[1.0], &[2.0]];
        assert!(matches!(
            anova_oneway(&singletons),
            Err(StatsError::TooFewObservations { needed: 3, .. })
        ));
    }

    fn check_welch(groups: &[&[f64]], f: f64, df2: f64, p: f64, eta: f64) {
        let out = welch_anova(groups).expect("defined");
        rel(out.statistic, f, EXACT);
        assert_eq!(out.df, Some((groups.len() - 1) as f64));
        rel(out.df2.expect("df2"), df2, EXACT);
        abs(out.p_value, p, P_ABS);
        rel(out.effect.expect("effect").value, eta, EXACT);
    }

    #[test]
    fn welch_anova_matches_pingouin() {
        // pingouin.welch_anova(data=df_KW_A, dv='y', between='g') -> F=0.3919054783857841,
        //   ddof1=2, ddof2=5.518701575163453, p_unc=0.6931854768373524, np2=0.09242021276595716
        //   (scipy.stats.f_oneway(*KW_A, equal_var=False) -> 0.39190547838578615,
        //   0.6931854768373511)
        check_welch(
            &KW_A,
            0.391_905_478_385_784_1,
            5.518_701_575_163_453,
            0.693_185_476_837_352_4,
            0.092_420_212_765_957_16,
        );
        // pingouin.welch_anova(df_TIES) -> F=10.153553485331045, ddof2=9.237486722073653,
        //   p_unc=0.004654625325740399, np2=0.6037593984962406
        check_welch(
            &TIES,
            10.153_553_485_331_045,
            9.237_486_722_073_653,
            0.004_654_625_325_740_399,
            0.603_759_398_496_240_6,
        );
        // pingouin.welch_anova(df_SYN4) -> F=24.03469444721126, ddof1=3,
        //   ddof2=11.206034775785287, p_unc=3.516974295574329e-05, np2=0.8065341251928811
        check_welch(
            &SYN4,
            24.034_694_447_211_26,
            11.206_034_775_785_287,
            3.516_974_295_574_329e-5,
            0.806_534_125_192_881_1,
        );
    }

    #[test]
    fn welch_anova_errors() {
        let zero_var: [&[f64]; 2] = [&[1.0, 1.0], &[2.0, 3.0]];
        assert!(matches!(
            welch_anova(&zero_var),
            Err(StatsError::ConstantInput { .. })
        ));
        let small: [&[f64]; 2] = [&[1.0], &[2.0, 3.0]];
        assert!(matches!(
            welch_anova(&small),
            Err(StatsError::TooFewObservations { .. })
        ));
    }

    fn check_t(a: &[f64], b: &[f64], t: f64, p: f64, df: f64, g: f64) {
        let out = welch_t(a, b).expect("defined");
        rel(out.statistic, t, EXACT);
        abs(out.p_value, p, P_ABS);
        rel(out.df.expect("df"), df, EXACT);
        assert_eq!(out.n, a.len() + b.len());
        let e = out.effect.expect("effect");
        assert_eq!(e.name, "hedges_g");
        rel(e.value, g, EXACT);
        assert!(e.ci.is_some());
    }

    #[test]
    fn welch_t_matches_scipy() {
        // scipy.stats.ttest_ind([2.9, 3.0, 2.5, 2.6, 3.2], [3.8, 2.7, 4.0, 2.4],
        //   equal_var=False) -> t=-0.9232543116526677, p=0.41296324298553966,
        //   df=3.636257052505153; pingouin hedges g -> -0.6077565560271757
        check_t(
            KW_A[0],
            KW_A[1],
            -0.923_254_311_652_667_7,
            0.412_963_242_985_539_66,
            3.636_257_052_505_153,
            -0.607_756_556_027_175_7,
        );
        // scipy.stats.ttest_ind([1, 2, 2, 3, 5], [2, 3, 3, 4, 6, 6], equal_var=False)
        //   -> t=-1.4543410582353318, p=0.18018123210022358, df=8.902660983757631;
        //   g -> -0.7972366065959037
        check_t(
            TIES[0],
            TIES[1],
            -1.454_341_058_235_331_8,
            0.180_181_232_100_223_58,
            8.902_660_983_757_631,
            -0.797_236_606_595_903_7,
        );
        // scipy.stats.ttest_ind(SYN4[0], SYN4[3], equal_var=False) -> t=6.519689397383099,
        //   p=0.0007815389367874625, df=5.6653618113708895; g -> 4.12405269483513
        check_t(
            SYN4[0],
            SYN4[3],
            6.519_689_397_383_099,
            0.000_781_538_936_787_462_5,
            5.665_361_811_370_889_5,
            4.124_052_694_835_13,
        );
    }

    #[test]
    fn welch_t_errors() {
        assert!(matches!(
            welch_t(&[1.0, 1.0], &[2.0, 2.0]),
            Err(StatsError::ConstantInput { .. })
        ));
        assert!(matches!(
            welch_t(&[1.0], &[2.0, 3.0]),
            Err(StatsError::TooFewObservations { .. })
        ));
        assert!(matches!(
            welch_t(&[1.0, f64::NAN], &[2.0, 3.0]),
            Err(StatsError::NonFinite { .. })
        ));
    }
}
