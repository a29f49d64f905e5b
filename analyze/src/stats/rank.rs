//! Rank-based statistics: average ranks and tie corrections, the Kruskal–Wallis test with its
//! ε² effect size, Dunn's pairwise post-hoc test, the Mann–Whitney U test with Cliff's δ, and
//! Spearman's rank correlation.

use statrs::distribution::ContinuousCDF;

use super::effect::{cliffs_delta, epsilon_squared};
use super::{Effect, PairOutcome, StatsError, TestOutcome};

/// 1-based ranks of `x`; tied values get the average of the ranks they span (`scipy.stats.
/// rankdata(x, method="average")`, R `rank(x, ties.method="average")`).
///
/// Values are ordered by `f64::total_cmp` and tied by `==`, so −0.0 and 0.0 tie. Callers are
/// expected to pass finite values (every test of this module checks); a NaN is never tied and
/// sorts after all numbers.
pub fn average_ranks(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && x[idx[j]] == x[idx[i]] {
            j += 1;
        }
        // Sorted positions i..j (0-based) share the ranks i+1 ..= j.
        let r = (i + 1 + j) as f64 / 2.0;
        for &k in &idx[i..j] {
            ranks[k] = r;
        }
        i = j;
    }
    ranks
}

/// Sizes of the groups of equal values in `x` (every value belongs to one group; untied values
/// form groups of size 1), in increasing order of value.
pub fn tie_counts(x: &[f64]) -> Vec<usize> {
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    let mut counts = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let mut j = i + 1;
        while j < s.len() && s[j] == s[i] {
            j += 1;
        }
        counts.push(j - i);
        i = j;
    }
    counts
}

/// Σ (t³ − t) over the tie groups of `x` (0 without ties), the quantity every tie correction
/// of this module is built from.
pub fn tie_sum(x: &[f64]) -> f64 {
    tie_counts(x)
        .into_iter()
        .map(|t| {
            let t = t as f64;
            t * t * t - t
        })
        .sum()
}

/// Kruskal–Wallis tie correction 1 − Σ(t³ − t)/(n³ − n) (`scipy.stats.tiecorrect`; 1.0 for
/// n < 2, 0.0 when all values are equal).
pub fn tie_correction(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    if x.len() < 2 {
        return 1.0;
    }
    1.0 - tie_sum(x) / (n * n * n - n)
}

/// Pooled values, their average ranks and the group boundaries.
struct Pooled {
    values: Vec<f64>,
    ranks: Vec<f64>,
    /// `bounds[i]..bounds[i + 1]` are group i's positions.
    bounds: Vec<usize>,
}

impl Pooled {
    fn new(groups: &[&[f64]]) -> Self {
        let values: Vec<f64> = groups.iter().flat_map(|g| g.iter().copied()).collect();
        let ranks = average_ranks(&values);
        let mut bounds = Vec::with_capacity(groups.len() + 1);
        bounds.push(0);
        for g in groups {
            let last = bounds.last().copied().unwrap_or(0);
            bounds.push(last + g.len());
        }
        Pooled {
            values,
            ranks,
            bounds,
        }
    }

    fn mean_rank(&self, i: usize) -> f64 {
        let r = &self.ranks[self.bounds[i]..self.bounds[i + 1]];
        r.iter().sum::<f64>() / r.len() as f64
    }

    fn len(&self, i: usize) -> usize {
        self.bounds[i + 1] - self.bounds[i]
    }
}

/// Tie-corrected H of already validated groups; `None` when every value is tied.
fn kruskal_h(groups: &[&[f64]]) -> Option<f64> {
    let pooled = Pooled::new(groups);
    let n = pooled.values.len() as f64;
    let centre = (n + 1.0) / 2.0;
    // H = 12/(N(N+1)) Σ nᵢ (R̄ᵢ − (N+1)/2)², algebraically the textbook
    // 12/(N(N+1)) Σ Rᵢ²/nᵢ − 3(N+1) without its cancellation.
    let ss: f64 = (0..groups.len())
        .map(|i| {
            let d = pooled.mean_rank(i) - centre;
            pooled.len(i) as f64 * d * d
        })
        .sum();
    let h = 12.0 / (n * (n + 1.0)) * ss;
    let c = tie_correction(&pooled.values);
    (c > 0.0).then(|| h / c)
}

/// Kruskal–Wallis rank-sum test (Kruskal & Wallis 1952) with the tie correction; matches
/// `scipy.stats.kruskal(*groups)` and R `kruskal.test`.
///
/// * `statistic`: H = [12/(N(N+1)) Σ Rᵢ²/nᵢ − 3(N+1)] / (1 − Σ(t³ − t)/(N³ − N));
/// * `df`: k − 1; `p_value`: chi-squared upper tail of H;
/// * `effect`: `epsilon_squared` = H / ((N² − 1)/(N + 1)) (see
///   [`super::effect::epsilon_squared`]), without an interval: a percentile bootstrap of ε² is
///   biased upwards (resampling with replacement duplicates values within groups, which
///   shrinks the within-group rank variance and inflates H), so its interval often excludes the
///   estimate itself; we report none rather than a misleading one.
///
/// Errors: fewer than 2 groups, an empty group, a non-finite value, or all values equal.
pub fn kruskal_wallis(groups: &[&[f64]]) -> Result<TestOutcome, StatsError> {
    const TEST: &str = "kruskal_wallis";
    let n = super::check_groups(TEST, groups, 2, 1)?;
    let h = kruskal_h(groups).ok_or(StatsError::ConstantInput { test: TEST })?;
    let df = (groups.len() - 1) as f64;
    let p = super::chi2_sf(TEST, h, df)?;
    let ci = None;
    Ok(TestOutcome {
        statistic: h,
        df: Some(df),
        df2: None,
        p_value: p,
        effect: Some(Effect {
            name: "epsilon_squared",
            value: epsilon_squared(h, n),
            ci,
        }),
        n,
    })
}

/// Dunn's (1964) all-pairs post-hoc test on the ranks of the pooled groups, with the tie
/// correction of Glantz (2012). For every pair i < j:
/// z = (R̄ᵢ − R̄ⱼ) / √((N(N+1)/12 − Σ(t³ − t)/(12(N − 1))) (1/nᵢ + 1/nⱼ)),
/// a two-sided normal p-value, and that p adjusted by Benjamini–Hochberg over all k(k−1)/2
/// pairs ([`super::adjust::benjamini_hochberg`]).
///
/// Matches `scikit_posthocs.posthoc_dunn(groups, p_adjust="fdr_bh")` (p and adjusted p; its
/// matrix carries no sign) and R `FSA::dunnTest(method="bh")`, whose "A - B" row has the same z
/// as our pair (a, b) = (A, B): mean rank of A minus mean rank of B. Pairs come in the order
/// (0,1), (0,2), …, (0,k−1), (1,2), …; `n` is nᵢ + nⱼ and `effect` is `None`.
///
/// Errors: fewer than 2 groups, an empty group, a non-finite value, or all values equal.
pub fn dunn(groups: &[&[f64]]) -> Result<Vec<PairOutcome>, StatsError> {
    const TEST: &str = "dunn";
    let n = super::check_groups(TEST, groups, 2, 1)? as f64;
    let pooled = Pooled::new(groups);
    let a = n * (n + 1.0) / 12.0 - tie_sum(&pooled.values) / (12.0 * (n - 1.0));
    if !super::is_positive(a) {
        return Err(StatsError::ConstantInput { test: TEST });
    }
    let k = groups.len();
    let mut out = Vec::with_capacity(k * (k - 1) / 2);
    for i in 0..k {
        for j in (i + 1)..k {
            let (ni, nj) = (pooled.len(i), pooled.len(j));
            let se = (a * (1.0 / ni as f64 + 1.0 / nj as f64)).sqrt();
            let z = (pooled.mean_rank(i) - pooled.mean_rank(j)) / se;
            out.push(PairOutcome {
                a: i,
                b: j,
                statistic: z,
                p_value: super::normal_two_sided(TEST, z)?,
                p_adjusted: f64::NAN,
                effect: None,
                n: ni + nj,
            });
        }
    }
    let raw: Vec<f64> = out.iter().map(|p| p.p_value).collect();
    for (pair, adj) in out.iter_mut().zip(super::adjust::benjamini_hochberg(&raw)) {
        pair.p_adjusted = adj;
    }
    Ok(out)
}

/// Mann–Whitney U test (Mann & Whitney 1947) of `a` against `b`, two-sided, by the normal
/// approximation with the tie correction and the continuity correction: matches
/// `scipy.stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic",
/// use_continuity=True)` and R `wilcox.test(a, b, exact=FALSE, correct=TRUE)` (whose W is U₁).
///
/// * `statistic`: U₁ = R₁ − n₁(n₁+1)/2, the U of the FIRST sample (scipy's convention);
/// * `p_value`: with U = max(U₁, n₁n₂ − U₁), z = (U − n₁n₂/2 − 0.5) / σ,
///   σ = √(n₁n₂/12 · ((n+1) − Σ(t³ − t)/(n(n−1)))), p = min(1, 2·(1 − Φ(z)));
/// * `df`: `None`; `n`: n₁ + n₂;
/// * `effect`: `cliffs_delta` = 2U₁/(n₁n₂) − 1 with Cliff's (1993) analytic interval, see
///   [`super::effect::cliffs_delta`] (deterministic; `None` under complete separation).
///
/// Errors: an empty sample, a non-finite value, or all n₁ + n₂ values equal (σ = 0).
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Result<TestOutcome, StatsError> {
    const TEST: &str = "mann_whitney";
    super::ensure_len(TEST, a, 1)?;
    super::ensure_len(TEST, b, 1)?;
    super::ensure_finite(TEST, a)?;
    super::ensure_finite(TEST, b)?;
    let pooled = Pooled::new(&[a, b]);
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let n = n1 + n2;
    let r1: f64 = pooled.ranks[..a.len()].iter().sum();
    let u1 = r1 - n1 * (n1 + 1.0) / 2.0;
    let u = u1.max(n1 * n2 - u1);
    let sigma = (n1 * n2 / 12.0 * ((n + 1.0) - tie_sum(&pooled.values) / (n * (n - 1.0)))).sqrt();
    if !super::is_positive(sigma) {
        return Err(StatsError::ConstantInput { test: TEST });
    }
    let z = (u - n1 * n2 / 2.0 - 0.5) / sigma;
    // z may be slightly negative (U at its mean); scipy clips 2·sf(z) to 1, so do we.
    let p = (2.0 * super::std_normal(TEST)?.sf(z)).min(1.0);
    Ok(TestOutcome {
        statistic: u1,
        df: None,
        df2: None,
        p_value: p,
        effect: Some(cliffs_delta(a, b)?),
        n: a.len() + b.len(),
    })
}

/// Spearman's rank correlation ρ of paired samples: the Pearson correlation of the average
/// ranks, with p from t = ρ√((n − 2)/(1 − ρ²)) on n − 2 degrees of freedom (two-sided). Matches
/// `scipy.stats.spearmanr(x, y)`. R's `cor.test(x, y, method="spearman")` gives the same ρ and,
/// with ties (or `exact=FALSE`), the same p; without ties and n < 1290 R uses an exact or
/// Edgeworth p instead, so R's p differs there.
///
/// `statistic` is ρ, `df` is n − 2, `effect` is `None`; ρ = ±1 gives p = 0.
///
/// Errors: lengths differ, fewer than 3 pairs, a non-finite value, or either sample constant
/// (ρ undefined; scipy returns NaN there).
pub fn spearman(x: &[f64], y: &[f64]) -> Result<TestOutcome, StatsError> {
    const TEST: &str = "spearman";
    if x.len() != y.len() {
        return Err(StatsError::LengthMismatch {
            test: TEST,
            left: x.len(),
            right: y.len(),
        });
    }
    super::ensure_len(TEST, x, 3)?;
    super::ensure_finite(TEST, x)?;
    super::ensure_finite(TEST, y)?;
    let rx = average_ranks(x);
    let ry = average_ranks(y);
    let (mx, my) = (super::mean(&rx), super::mean(&ry));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if !(sxx > 0.0 && syy > 0.0) {
        return Err(StatsError::ConstantInput { test: TEST });
    }
    let rho = (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0);
    let df = (x.len() - 2) as f64;
    let p = if rho.abs() >= 1.0 {
        0.0
    } else {
        let t = rho * (df / (1.0 - rho * rho)).sqrt();
        super::t_two_sided(TEST, t, df)?
    };
    Ok(TestOutcome {
        statistic: rho,
        df: Some(df),
        df2: None,
        p_value: p,
        effect: None,
        n: x.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{EXACT, P_ABS, abs, rel};
    use super::*;

    // R's kruskal.test example data (Hollander & Wolfe 1973), no ties.
    const KW_A: [&[f64]; 3] = [
        &[2.9, 3.0, 2.5, 2.6, 3.2],
        &[3.8, 2.7, 4.0, 2.4],
        &[2.8, 3.4, 3.7, 2.2, 2.0],
    ];
    // Many ties within and across groups.
    const TIES: [&[f64]; 3] = [
        &[1.0, 2.0, 2.0, 3.0, 5.0],
        &[2.0, 3.0, 3.0, 4.0, 6.0, 6.0],
        &[5.0, 5.0, 7.0, 8.0, 8.0, 9.0],
    ];
    // Synthetic run-level energies of four generations, n = 6/6/6/12 (one tie): numpy
    // default_rng(20240607).normal(mu, sd, n) rounded to 2 decimals.
    const SYN4: [&[f64]; 4] = [
        &[8.91, 8.53, 5.84, 12.57, 9.16, 10.44],
        &[6.82, 5.85, 7.23, 4.59, 6.76, 7.01],
        &[3.82, 3.8, 5.06, 5.07, 3.69, 3.45],
        &[
            4.57, 3.46, 3.12, 2.28, 2.48, 2.71, 2.71, 2.7, 4.54, 3.5, 2.11, 3.43,
        ],
    ];

    #[test]
    fn ranks_and_ties() {
        let x = [3.1, 1.2, 5.0, 1.2, 2.2, 5.0, 5.0];
        // scipy.stats.rankdata([3.1, 1.2, 5.0, 1.2, 2.2, 5.0, 5.0])
        //   -> [4.0, 1.5, 6.0, 1.5, 3.0, 6.0, 6.0]
        assert_eq!(average_ranks(&x), vec![4.0, 1.5, 6.0, 1.5, 3.0, 6.0, 6.0]);
        // scipy.stats.tiecorrect(scipy.stats.rankdata(x)) -> 0.9107142857142857
        rel(tie_correction(&x), 0.910_714_285_714_285_7, EXACT);
        assert_eq!(tie_counts(&x), vec![2, 1, 1, 3]);
        assert_eq!(tie_sum(&x), 6.0 + 24.0);
        assert_eq!(average_ranks(&[0.0, -0.0, 1.0]), vec![1.5, 1.5, 3.0]);
        assert_eq!(average_ranks(&[]), Vec::<f64>::new());
        assert_eq!(tie_correction(&[2.0]), 1.0);
        assert_eq!(tie_correction(&[2.0, 2.0]), 0.0);
    }

    fn check_kw(groups: &[&[f64]], h: f64, p: f64, eps: f64) {
        let out = kruskal_wallis(groups).expect("defined");
        rel(out.statistic, h, EXACT);
        abs(out.p_value, p, P_ABS);
        assert_eq!(out.df, Some((groups.len() - 1) as f64));
        assert_eq!(out.n, groups.iter().map(|g| g.len()).sum::<usize>());
        let e = out.effect.expect("effect");
        assert_eq!(e.name, "epsilon_squared");
        rel(e.value, eps, EXACT);
        assert_eq!(e.ci, None);
    }

    #[test]
    fn kruskal_wallis_matches_scipy() {
        // scipy.stats.kruskal(*KW_A) -> H=0.7714285714285722, p=0.6799647735788936;
        // epsilon2 = H/((14^2-1)/15) -> 0.0593406593406594
        check_kw(
            &KW_A,
            0.771_428_571_428_572_2,
            0.679_964_773_578_893_6,
            0.059_340_659_340_659_4,
        );
        // scipy.stats.kruskal(*TIES) -> H=9.315378221113885, p=0.009488363645667824;
        // epsilon2 (N=17) -> 0.5822111388196178
        check_kw(
            &TIES,
            9.315_378_221_113_885,
            0.009_488_363_645_667_824,
            0.582_211_138_819_617_8,
        );
    }

    #[test]
    fn published_anchor_h_21_265() {
        // The published study's Kruskal–Wallis on run-level mean energies (4 generations,
        // N = 30) reports H = 21.265, df 3, epsilon2 = 0.733. Its raw runs are not available
        // here, so the pieces that turn H into the reported numbers are checked:
        // scipy.stats.chi2.sf(21.2645, 3) -> 9.27653950212605e-05
        let p = super::super::chi2_sf("anchor", 21.2645, 3.0).expect("valid df");
        abs(p, 9.276_539_502_126_05e-5, P_ABS);
        rel(p, 9.276_539_502_126_05e-5, EXACT);
        assert_eq!(format!("{p:.4e}"), "9.2765e-5");
        // epsilon2 = H/((N^2-1)/(N+1)) with N = 30: 21.2645/29 = 0.73326 -> "0.733"
        assert_eq!(format!("{:.3}", epsilon_squared(21.2645, 30)), "0.733");
        assert_eq!(format!("{:.3}", epsilon_squared(21.265, 30)), "0.733");
    }

    #[test]
    fn kruskal_wallis_synthetic_four_generations() {
        // scipy.stats.kruskal(*SYN4) -> H=23.394451861741597, p=3.341594880196406e-05;
        // epsilon2 (N=30) -> 0.8067052366117792
        check_kw(
            &SYN4,
            23.394_451_861_741_597,
            3.341_594_880_196_406e-5,
            0.806_705_236_611_779_2,
        );
        let out = kruskal_wallis(&SYN4).expect("defined");
        assert_eq!(out.df, Some(3.0));
        assert_eq!(out.n, 30);
        // No interval for ε² (see the function's documentation).
        assert_eq!(out.effect.expect("effect").ci, None);
    }

    #[test]
    fn kruskal_wallis_errors() {
        let one: [&[f64]; 1] = [&[1.0, 2.0]];
        assert!(matches!(
            kruskal_wallis(&one),
            Err(StatsError::TooFewGroups { .. })
        ));
        let empty: [&[f64]; 2] = [&[1.0, 2.0], &[]];
        assert!(matches!(
            kruskal_wallis(&empty),
            Err(StatsError::TooFewObservations { .. })
        ));
        let flat: [&[f64]; 2] = [&[1.0, 1.0], &[1.0]];
        assert_eq!(
            kruskal_wallis(&flat),
            Err(StatsError::ConstantInput {
                test: "kruskal_wallis"
            })
        );
        let nan: [&[f64]; 2] = [&[1.0, f64::NAN], &[1.0]];
        assert!(matches!(kruskal_wallis(&nan), Err(StatsError::NonFinite { .. })));
    }

    /// (i, j, z, p, p_bh)
    type DunnRef = (usize, usize, f64, f64, f64);

    fn check_dunn(groups: &[&[f64]], want: &[DunnRef]) {
        let got = dunn(groups).expect("defined");
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.a, g.b), (w.0, w.1));
            rel(g.statistic, w.2, EXACT);
            abs(g.p_value, w.3, P_ABS);
            abs(g.p_adjusted, w.4, P_ABS);
            assert_eq!(g.n, groups[g.a].len() + groups[g.b].len());
        }
    }

    #[test]
    fn dunn_matches_scikit_posthocs() {
        // p: scikit_posthocs.posthoc_dunn(KW_A, p_adjust=None).iloc[i, j];
        // p_bh: scikit_posthocs.posthoc_dunn(KW_A, p_adjust='fdr_bh').iloc[i, j];
        // z: (mean rank i - mean rank j)/sqrt((N(N+1)/12 - ties)(1/ni + 1/nj)) in numpy
        // (posthoc_dunn reports |z| only through p).
        check_dunn(
            &KW_A,
            &[
                (
                    0,
                    1,
                    -0.641_426_980_589_818_4,
                    0.521_245_308_114_814_8,
                    0.781_867_962_172_222_3,
                ),
                (
                    0,
                    2,
                    0.226_778_683_805_536_54,
                    0.820_595_839_755_440_8,
                    0.820_595_839_755_440_8,
                ),
                (
                    1,
                    2,
                    0.855_235_974_119_758_2,
                    0.392_420_524_476_581_8,
                    0.781_867_962_172_222_3,
                ),
            ],
        );
        // same calls on TIES
        check_dunn(
            &TIES,
            &[
                (
                    0,
                    1,
                    -1.121_581_938_148_505,
                    0.262_040_234_787_566_33,
                    0.262_040_234_787_566_33,
                ),
                (
                    0,
                    2,
                    -2.990_885_168_396_013,
                    0.002_781_700_758_701_000_7,
                    0.008_345_102_276_103_003,
                ),
                (
                    1,
                    2,
                    -1.960_541_767_796_632_6,
                    0.049_932_501_064_501_63,
                    0.074_898_751_596_752_45,
                ),
            ],
        );
    }

    #[test]
    fn dunn_synthetic_four_generations() {
        // scikit_posthocs.posthoc_dunn(SYN4, p_adjust=None / 'fdr_bh').iloc[i, j]; z in numpy
        check_dunn(
            &SYN4,
            &[
                (
                    0,
                    1,
                    0.918_258_317_972_367_6,
                    0.358_483_643_660_099_66,
                    0.358_483_643_660_099_66,
                ),
                (
                    0,
                    2,
                    2.459_620_494_568_841_6,
                    0.013_908_400_061_251_755,
                    0.027_816_800_122_503_51,
                ),
                (
                    0,
                    3,
                    4.392_726_835_697_664,
                    1.119_377_384_103_957e-5,
                    6.716_264_304_623_743e-5,
                ),
                (
                    1,
                    2,
                    1.541_362_176_596_473_8,
                    0.123_228_664_091_698_86,
                    0.147_874_396_910_038_62,
                ),
                (
                    1,
                    3,
                    3.332_413_461_563_744_4,
                    0.000_860_962_418_331_422_2,
                    0.002_582_887_254_994_267,
                ),
                (
                    2,
                    3,
                    1.552_601_726_410_380_9,
                    0.120_518_312_967_221_43,
                    0.147_874_396_910_038_62,
                ),
            ],
        );
    }

    #[test]
    fn dunn_errors() {
        let flat: [&[f64]; 2] = [&[3.0, 3.0], &[3.0]];
        assert!(matches!(dunn(&flat), Err(StatsError::ConstantInput { .. })));
        let one: [&[f64]; 1] = [&[1.0]];
        assert!(matches!(dunn(&one), Err(StatsError::TooFewGroups { .. })));
    }

    fn check_mw(a: &[f64], b: &[f64], u: f64, p: f64, delta: f64) {
        let out = mann_whitney(a, b).expect("defined");
        rel(out.statistic, u, EXACT);
        abs(out.p_value, p, P_ABS);
        assert_eq!(out.n, a.len() + b.len());
        let e = out.effect.expect("effect");
        assert_eq!(e.name, "cliffs_delta");
        rel(e.value, delta, EXACT);
    }

    #[test]
    fn mann_whitney_matches_scipy() {
        // scipy.stats.mannwhitneyu([2.9, 3.0, 2.5, 2.6, 3.2], [3.8, 2.7, 4.0, 2.4],
        //   alternative='two-sided', method='asymptotic', use_continuity=True)
        //   -> U=8.0, p=0.7133031738784577; delta = mean(sign(a_i - b_j)) = -0.2
        check_mw(KW_A[0], KW_A[1], 8.0, 0.713_303_173_878_457_7, -0.2);
        // same call on ([1, 2, 2, 3, 5], [2, 3, 3, 4, 6, 6]) -> U=7.0, p=0.1620516143696369;
        //   delta -0.5333333333333333
        check_mw(
            TIES[0],
            TIES[1],
            7.0,
            0.162_051_614_369_636_9,
            -0.533_333_333_333_333_3,
        );
        // same call on ([5, 5, 7, 8, 8, 9], [1, 2, 2, 3, 5]) -> U=29.0, p=0.012452138270412794;
        //   delta 0.9333333333333333
        check_mw(
            TIES[2],
            TIES[0],
            29.0,
            0.012_452_138_270_412_794,
            0.933_333_333_333_333_3,
        );
        // same call on (SYN4[0], SYN4[3]) -> U=72.0, p=0.0008791354707530649; delta 1.0
        check_mw(SYN4[0], SYN4[3], 72.0, 0.000_879_135_470_753_064_9, 1.0);
    }

    #[test]
    fn mann_whitney_edge_cases() {
        // U exactly at its mean: z < 0, p capped at 1.
        let out = mann_whitney(&[1.0, 4.0], &[2.0, 3.0]).expect("defined");
        assert_eq!(out.p_value, 1.0);
        assert!(matches!(
            mann_whitney(&[2.0, 2.0], &[2.0]),
            Err(StatsError::ConstantInput { .. })
        ));
        assert!(matches!(
            mann_whitney(&[], &[2.0]),
            Err(StatsError::TooFewObservations { .. })
        ));
        assert!(matches!(
            mann_whitney(&[f64::NEG_INFINITY], &[2.0]),
            Err(StatsError::NonFinite { .. })
        ));
    }

    const SX: [f64; 10] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];

    #[test]
    fn spearman_matches_scipy() {
        let sy = [2.3, 1.9, 3.5, 3.1, 6.0, 4.4, 5.2, 8.8, 7.1, 9.9];
        // scipy.stats.spearmanr([1.0, ..., 10.0], [2.3, 1.9, 3.5, 3.1, 6.0, 4.4, 5.2, 8.8, 7.1,
        //   9.9]) -> rho=0.9272727272727272, p=0.00011203450639397586
        let out = spearman(&SX, &sy).expect("defined");
        rel(out.statistic, 0.927_272_727_272_727_2, EXACT);
        abs(out.p_value, 0.000_112_034_506_393_975_86, P_ABS);
        assert_eq!(out.df, Some(8.0));
        assert_eq!(out.n, 10);
        // scipy.stats.spearmanr([1, 2, 2, 3, 4, 4, 4, 5, 6, 7], [3, 1, 2, 2, 5, 4, 6, 6, 6, 9])
        //   -> rho=0.878125, p=0.0008311198567992317
        let tx = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 4.0, 5.0, 6.0, 7.0];
        let ty = [3.0, 1.0, 2.0, 2.0, 5.0, 4.0, 6.0, 6.0, 6.0, 9.0];
        let out = spearman(&tx, &ty).expect("defined");
        rel(out.statistic, 0.878_125, EXACT);
        abs(out.p_value, 0.000_831_119_856_799_231_7, P_ABS);
    }

    #[test]
    fn spearman_perfect_and_errors() {
        // scipy.stats.spearmanr(x, x[::-1]) -> rho=-0.9999999999999999, p=6.64689742203186e-64
        let rev: Vec<f64> = SX.iter().rev().copied().collect();
        let out = spearman(&SX, &rev).expect("defined");
        rel(out.statistic, -1.0, EXACT);
        abs(out.p_value, 6.646_897_422_031_86e-64, P_ABS);
        assert_eq!(out.p_value, 0.0);
        assert!(matches!(
            spearman(&SX, &[1.0; 10]),
            Err(StatsError::ConstantInput { .. })
        ));
        assert!(matches!(
            spearman(&SX, &SX[..9]),
            Err(StatsError::LengthMismatch { .. })
        ));
        assert!(matches!(
            spearman(&[1.0, 2.0], &[1.0, 2.0]),
            Err(StatsError::TooFewObservations { .. })
        ));
        assert!(matches!(
            spearman(&[1.0, 2.0, f64::NAN], &[1.0, 2.0, 3.0]),
            Err(StatsError::NonFinite { .. })
        ));
    }
}
