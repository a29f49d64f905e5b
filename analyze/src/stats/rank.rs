//! Rank-based statistics: average ranks and tie corrections, the Kruskal–Wallis test with its
//! ε² effect size, Dunn's pairwise post-hoc test, the Mann–Whitney U test with Cliff's δ, and
//! Spearman's rank correlation (with R's AS 89 p-value for untied samples).

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

/// Largest n for which R's `cor.test(x, y, method = "spearman")` takes the p-value of a sample
/// without ties from [`prho`]: its `pspearman` calls `prho` while `n <= 1290` and uses the t
/// approximation above (R's documentation says "n < 1290"; the code, which we follow, includes
/// 1290).
pub const SPEARMAN_PRHO_MAX_N: usize = 1290;

/// Largest n for which [`prho`] enumerates all n! permutations (R's `n_small`); above it, the
/// Edgeworth series.
const PRHO_EXACT_MAX_N: usize = 9;

/// Null distribution of Spearman's S = Σ (i − pᵢ)² over the n! equally likely permutations p
/// of 1..=n, by algorithm AS 89 (Best & Roberts 1975, *Appl. Statist.* 24(3), p. 377) as R's
/// `prho` (`src/library/stats/src/prho.c`) implements it:
///
/// * `lower_tail == false`: P(S ≥ `is`); `lower_tail == true`: P(S < `is`) = 1 − P(S ≥ `is`)
///   (S is an even integer, so R's `cor.test` asks for P(S ≤ s) as `prho(n, s + 2, true)`);
/// * `is` ≤ 0 gives 1 (upper) or 0 (lower), `is` above the largest value (n³ − n)/3 gives 0
///   (upper) or 1 (lower), and n ≤ 1 gives 1 (upper) or 0 (lower), as in R;
/// * n ≤ 9: exact, by counting the permutations with S ≥ `is`;
/// * n > 9: AS 89's Edgeworth series: with x = (6(`is` − 1)/(n(n² − 1)) − 1)·√(n − 1)
///   (≈ −ρ√(n − 1)), P(S ≥ `is`) ≈ 1 − Φ(x) + u·e^(−x²/2), u the polynomial in x and 1/n with
///   AS 89's coefficients c₁ … c₁₂, clamped to [0, 1]; Φ by Cody's algorithm as in R's `pnorm`
///   (see `normal_tail`).
pub fn prho(n: usize, is: f64, lower_tail: bool) -> f64 {
    const C1: f64 = 0.2274;
    const C2: f64 = 0.2531;
    const C3: f64 = 0.1745;
    const C4: f64 = 0.0758;
    const C5: f64 = 0.1033;
    const C6: f64 = 0.3932;
    const C7: f64 = 0.0879;
    const C8: f64 = 0.0151;
    const C9: f64 = 0.0072;
    const C10: f64 = 0.0831;
    const C11: f64 = 0.0131;
    const C12: f64 = 4.6e-4;

    let below_range = if lower_tail { 0.0 } else { 1.0 };
    if n <= 1 || is <= 0.0 {
        return below_range;
    }
    let nf = n as f64;
    let max_s = nf * (nf * nf - 1.0) / 3.0;
    if is > max_s {
        return 1.0 - below_range;
    }
    if n <= PRHO_EXACT_MAX_N {
        let total: u32 = (1..=n as u32).product();
        let at_least = count_s_at_least(n, is);
        let count = if lower_tail { total - at_least } else { at_least };
        return f64::from(count) / f64::from(total);
    }
    let b = 1.0 / nf;
    let x = (6.0 * (is - 1.0) * b / (nf * nf - 1.0) - 1.0) * (nf - 1.0).sqrt();
    let y = x * x;
    let u = x
        * b
        * (C1
            + b * (C2 + C3 * b)
            + y * (-C4 + b * (C5 + C6 * b)
                - y * b * (C7 + C8 * b - y * (C9 - C10 * b + y * b * (C11 - C12 * y)))));
    let corr = u / (y / 2.0).exp();
    let p = if lower_tail {
        normal_tail(x, true) - corr
    } else {
        normal_tail(x, false) + corr
    };
    p.clamp(0.0, 1.0)
}

/// Φ(x) (`lower`) or 1 − Φ(x) of the standard normal, by Cody's rational Chebyshev
/// approximations (Cody 1969, *Math. Comp.* 23, 631–637; function ANORM of SPECFUN, Cody 1993,
/// *ACM TOMS* 19, 22–32), the algorithm of R's `pnorm`, including its cut-offs: the far tail
/// is 0 from |x| ≥ 37.5193 and the near tail 1 from |x| ≥ 8.2924. [`prho`] needs this precision:
/// AS 89's correction can cancel most of the normal tail, and `statrs`' erfc is only good to
/// about 1e-10 relative.
fn normal_tail(x: f64, lower: bool) -> f64 {
    const A: [f64; 5] = [
        2.235_252_035_460_683_7,
        161.028_231_068_555_87,
        1_067.689_485_460_370_9,
        18_154.981_253_343_56,
        0.065_682_337_918_207_45,
    ];
    const B: [f64; 4] = [
        47.202_581_904_688_245,
        976.098_551_737_776_7,
        10_260.932_208_618_979,
        45_507.789_335_026_73,
    ];
    const C: [f64; 9] = [
        0.398_941_512_088_134_66,
        8.883_149_794_388_377,
        93.506_656_132_177_85,
        597.270_276_394_800_2,
        2_494.537_585_290_372_6,
        6_848.190_450_536_283,
        11_602.651_437_647_35,
        9_842.714_838_383_978,
        1.076_557_677_372_019_2e-8,
    ];
    const D: [f64; 8] = [
        22.266_688_044_328_117,
        235.387_901_782_625,
        1_519.377_599_407_554_7,
        6_485.558_298_266_761,
        18_615.571_640_885_097,
        34_900.952_721_145_98,
        38_912.003_286_093_27,
        19_685.429_676_859_992,
    ];
    const P: [f64; 6] = [
        0.215_898_534_057_957,
        0.127_401_161_160_247_36,
        0.022_235_277_870_649_807,
        0.001_421_619_193_227_893_4,
        2.911_287_495_116_879_3e-5,
        0.023_073_441_764_940_174,
    ];
    const Q: [f64; 5] = [
        1.284_260_096_144_911,
        0.468_238_212_480_865_1,
        0.065_988_137_868_928_56,
        0.003_782_396_332_027_582_4,
        7.297_515_550_839_662e-5,
    ];
    /// 1/√(2π)
    const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
    /// √32, the end of the middle range.
    const SQRT_32: f64 = 5.656_854_249_492_381;

    let y = x.abs();
    if y <= 0.674_489_75 {
        // Central range (up to the upper quartile): Φ(x) = 1/2 + x·R(x²).
        let (mut num, mut den) = (0.0, 0.0);
        if y > f64::EPSILON * 0.5 {
            let xsq = x * x;
            num = A[4] * xsq;
            den = xsq;
            for i in 0..3 {
                num = (num + A[i]) * xsq;
                den = (den + B[i]) * xsq;
            }
        }
        let t = x * (num + A[3]) / (den + B[3]);
        return if lower { 0.5 + t } else { 0.5 - t };
    }
    // Otherwise compute the smaller tail, 1 − Φ(|x|); the other one is 1 minus it.
    let small_wanted = (x > 0.0) != lower;
    let r = if y <= SQRT_32 {
        let mut num = C[8] * y;
        let mut den = y;
        for i in 0..7 {
            num = (num + C[i]) * y;
            den = (den + D[i]) * y;
        }
        (num + C[7]) / (den + D[7])
    } else if y < if small_wanted { 37.5193 } else { 8.2924 } {
        let xsq = 1.0 / (x * x);
        let mut num = P[5] * xsq;
        let mut den = xsq;
        for i in 0..4 {
            num = (num + P[i]) * xsq;
            den = (den + Q[i]) * xsq;
        }
        (FRAC_1_SQRT_2PI - xsq * (num + P[4]) / (den + Q[4])) / y
    } else {
        return if small_wanted { 0.0 } else { 1.0 };
    };
    // small = e^(−y²/2)·r, with y² split as s² + (y² − s²), s = y truncated to 1/16, so that the
    // exponent loses no precision.
    let s = (y * 16.0).trunc() / 16.0;
    let del = (y - s) * (y + s);
    let small = (-s * (s / 2.0)).exp() * (-(del / 2.0)).exp() * r;
    if small_wanted { small } else { 1.0 - small }
}

/// Number of permutations p of 0..n with Σ (i − pᵢ)² ≥ `is` (depth-first over the positions;
/// n ≤ 9, so at most 9! leaves).
fn count_s_at_least(n: usize, is: f64) -> u32 {
    fn walk(n: usize, pos: usize, used: u32, s: u64, is: f64) -> u32 {
        if pos == n {
            return u32::from(s as f64 >= is);
        }
        (0..n)
            .filter(|&v| used & (1 << v) == 0)
            .map(|v| {
                let d = pos.abs_diff(v) as u64;
                walk(n, pos + 1, used | (1 << v), s + d * d, is)
            })
            .sum()
    }
    walk(n, 0, 0, 0, is)
}

/// Spearman's rank correlation ρ of paired samples (the Pearson correlation of the average
/// ranks) with a two-sided p-value exactly as R's `cor.test(x, y, method = "spearman")`
/// computes it:
///
/// * without ties in `x` or in `y` and n ≤ [`SPEARMAN_PRHO_MAX_N`] (1290): from the null
///   distribution of S = Σ dᵢ² = (n³ − n)(1 − ρ)/6 by AS 89 ([`prho`]; exact for n ≤ 9,
///   Edgeworth series above): p = min(1, 2·P(S' ≥ S)) when S > (n³ − n)/6, else
///   min(1, 2·P(S' ≤ S)). The Edgeworth series is clamped at 0, so for ρ near ±1 and n ≥ 10
///   p is often exactly 0, as in R;
/// * otherwise (any tie, or n > 1290): t = ρ√((n − 2)/(1 − ρ²)) on n − 2 degrees of freedom,
///   which is also `scipy.stats.spearmanr(x, y)`'s p; ρ = ±1 gives p = 0.
///
/// `statistic` is ρ, `df` is n − 2 (whichever p-value was used), `effect` is `None`.
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
    let n = x.len();
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
    let df = (n - 2) as f64;
    let ties = tie_counts(x).len() < n || tie_counts(y).len() < n;
    let p = if !ties && n <= SPEARMAN_PRHO_MAX_N {
        // Untied ranks are the integers 1..=n, so S is an exact (even) integer: R's round(S).
        let s: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - b) * (a - b)).sum();
        let nf = n as f64;
        let tail = if s > (nf * nf * nf - nf) / 6.0 {
            prho(n, s, false)
        } else {
            prho(n, s + 2.0, true)
        };
        (2.0 * tail).min(1.0)
    } else if rho.abs() >= 1.0 {
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
        n,
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

    /// Relative agreement with R's `cor.test(x, y, method = "spearman")` (refs.R; values printed
    /// as the shortest decimal that reads back as the same double). The AS 89 path reproduced R's
    /// p bit for bit on every reference value here and on ~2,700 random samples (n = 3 … 1290);
    /// the t path (statrs' incomplete beta where R calls `pt`) agreed to 3e-12.
    const R_REL: f64 = 1e-10;

    /// `lcg(n)` of refs.R: the Park–Miller minimal standard generator, sᵢ = 16807·sᵢ₋₁ mod
    /// (2³¹ − 1) from s₀ = 20240607, returned as sᵢ/(2³¹ − 1).
    fn lcg(n: usize) -> Vec<f64> {
        let mut seed: u64 = 20_240_607;
        (0..n)
            .map(|_| {
                seed = 16_807 * seed % 2_147_483_647;
                seed as f64 / 2_147_483_647.0
            })
            .collect()
    }

    /// refs.R's `x <- 1:n; y <- s * x + w * n * lcg(n)`, evaluated in R's order.
    fn lcg_pair(n: usize, s: f64, w: f64) -> (Vec<f64>, Vec<f64>) {
        let x: Vec<f64> = (1..=n).map(|i| i as f64).collect();
        let nf = n as f64;
        let y = x.iter().zip(lcg(n)).map(|(xi, u)| s * xi + w * nf * u).collect();
        (x, y)
    }

    #[track_caller]
    fn check_r(x: &[f64], y: &[f64], rho: f64, p: f64) {
        let out = spearman(x, y).expect("defined");
        rel(out.statistic, rho, R_REL);
        if p == 0.0 {
            assert_eq!(out.p_value, 0.0, "R's p is 0");
        } else {
            rel(out.p_value, p, R_REL);
        }
        assert_eq!(out.df, Some((x.len() - 2) as f64));
        assert_eq!(out.n, x.len());
        assert_eq!(out.effect, None);
    }

    #[test]
    fn spearman_exact_small_n_matches_r() {
        // refs.R: cor.test(x, y, method = "spearman")[c("estimate", "p.value")]; no ties and
        // n <= 9, so R counts all n! permutations (AS 89 / prho).
        let x4 = [2.5, -1.0, 7.0, 3.25];
        check_r(&x4, &[0.2, 0.1, 0.4, 0.3], 1.0, 0.083_333_333_333_333_33);
        check_r(&x4, &[0.3, 0.4, 0.1, 0.2], -1.0, 0.083_333_333_333_333_33);
        check_r(&x4, &[4.0, 2.0, 3.0, 1.0], 0.0, 1.0);
        check_r(&x4, &[1.0, 2.0, 4.0, 3.0], 0.8, 0.333_333_333_333_333_3);
        check_r(&x4, &[3.0, 4.0, 2.0, 1.0], -0.8, 0.333_333_333_333_333_3);
        let x7 = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        check_r(
            &x7,
            &[2.0, 1.0, 4.0, 3.0, 7.0, 5.0, 6.0],
            0.821_428_571_428_571_3,
            0.034_126_984_126_984_124,
        );
        check_r(
            &x7,
            &[5.0, 7.0, 1.0, 3.0, 2.0, 6.0, 4.0],
            -0.142_857_142_857_142_82,
            0.782_539_682_539_682_5,
        );
        check_r(
            &x7,
            &[6.0, 7.0, 5.0, 3.0, 4.0, 1.0, 2.0],
            -0.892_857_142_857_142_7,
            0.012_301_587_301_587_301,
        );
        check_r(
            &x7,
            &[7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0],
            -0.999_999_999_999_999_8,
            0.000_396_825_396_825_396_8,
        );
        // x <- 1:9; cor.test(x, s * x + w * 9 * lcg(9), method = "spearman")
        for (s, w, rho, p) in [
            (0.0, 1.0, 0.383_333_333_333_333_36, 0.3125),
            (1.0, 1.5, 0.75, 0.025_490_520_282_186_95),
            (-1.0, 0.6, -0.783_333_333_333_333_3, 0.017_223_324_514_991_183),
            (1.0, 0.3, 1.0, 5.511_463_844_797_178_5e-6),
            (-1.0, 0.3, -0.95, 0.000_352_733_686_067_019_4),
        ] {
            let (x, y) = lcg_pair(9, s, w);
            check_r(&x, &y, rho, p);
        }
    }

    #[test]
    fn spearman_edgeworth_matches_r() {
        // refs.R: cor.test(1:10, c(2.3, ..., 9.9), method = "spearman") -> rho
        // 0.9272727272727271, p 0.0001301623944652752 (scipy's t approximation gives
        // 0.00011203450639397586: without ties R does not use it)
        let sy = [2.3, 1.9, 3.5, 3.1, 6.0, 4.4, 5.2, 8.8, 7.1, 9.9];
        check_r(&SX, &sy, 0.927_272_727_272_727_1, 0.000_130_162_394_465_275_2);
        // x <- 1:n; cor.test(x, s * x + w * n * lcg(n), method = "spearman"): rho near 0,
        // moderate and near ±1 of both signs. AS 89's series is clamped at 0, so R reports
        // p = 0 for strong correlations from n = 10 on (even n = 1290, ρ = 0.52).
        let cases: [(usize, f64, f64, f64, f64); 25] = [
            (10, 0.0, 1.0, 0.333_333_333_333_333_26, 0.348_846_243_872_153_4),
            (10, 1.0, 1.5, 0.745_454_545_454_545_4, 0.018_413_841_314_327_69),
            (10, -1.0, 1.5, -0.357_575_757_575_757_5, 0.312_800_267_381_167),
            (10, -1.0, 0.6, -0.806_060_606_060_606, 0.008_235_570_822_851_136),
            (10, 1.0, 0.3, 0.987_878_787_878_787_7, 0.0),
            (12, 0.0, 1.0, 0.412_587_412_587_412_6, 0.184_480_684_602_261_8),
            (12, 1.0, 1.5, 0.818_181_818_181_818_3, 0.002_027_198_525_813_809),
            (
                12,
                -1.0,
                0.6,
                -0.846_153_846_153_846_3,
                0.000_969_540_146_444_950_4,
            ),
            (12, 1.0, 0.6, 0.937_062_937_062_937_2, 0.0),
            (30, 0.0, 1.0, -0.106_562_847_608_453_85, 0.573_748_529_042_412_8),
            (30, 1.0, 1.5, 0.562_180_200_222_469_4, 0.001_467_921_815_525_837_5),
            (
                30,
                -1.0,
                1.5,
                -0.643_159_065_628_476_1,
                0.000_177_953_367_655_125_75,
            ),
            (30, 1.0, 0.6, 0.879_866_518_353_726_4, 4.303_921_410_614_985e-7),
            (
                30,
                -1.0,
                0.6,
                -0.889_210_233_592_880_9,
                3.483_420_769_600_113_3e-7,
            ),
            (30, 1.0, 0.3, 0.970_634_037_819_799_7, 0.0),
            (80, 0.0, 1.0, -0.025_503_984_997_655_885, 0.822_002_152_914_597_6),
            (80, 1.0, 1.5, 0.559_048_288_795_124_2, 1.228_925_156_221_411_2e-7),
            (
                80,
                -1.0,
                1.5,
                -0.585_255_508_673_230_2,
                2.259_254_459_272_563_4e-8,
            ),
            (80, -1.0, 0.6, -0.873_581_809_657_759, 0.0),
            (200, 0.0, 1.0, 0.036_246_906_172_654_324, 0.610_068_056_412_382_2),
            (200, 1.0, 3.0, 0.328_389_709_742_743_6, 2.359_201_967_836_298e-6),
            (
                200,
                -1.0,
                3.0,
                -0.261_053_026_325_658_2,
                0.000_198_146_733_469_710_98,
            ),
            (200, 1.0, 0.6, 0.858_505_962_649_066_4, 0.0),
            (1290, 0.0, 1.0, -0.030_928_082_222_075_98, 0.266_951_409_602_809_7),
            (1290, 1.0, 1.5, 0.517_478_841_857_253_6, 0.0),
        ];
        for (n, s, w, rho, p) in cases {
            let (x, y) = lcg_pair(n, s, w);
            check_r(&x, &y, rho, p);
        }
        // cor.test(1:10, 10:1, method = "spearman") -> rho -0.9999999999999998, p 0
        let rev: Vec<f64> = SX.iter().rev().copied().collect();
        check_r(&SX, &rev, -0.999_999_999_999_999_8, 0.0);
    }

    #[test]
    fn spearman_t_approximation_matches_r_and_scipy() {
        // Above n = 1290 R uses the t approximation even without ties:
        // x <- 1:1291; cor.test(x, s * x + w * 1291 * lcg(1291), method = "spearman")
        for (s, w, rho, p) in [
            (0.0, 1.0, -0.032_185_476_985_587_68, 0.247_836_998_412_388_85),
            (1.0, 1.5, 0.516_722_142_287_927_5, 4.913_472_201_904_906_4e-89),
        ] {
            let (x, y) = lcg_pair(1291, s, w);
            check_r(&x, &y, rho, p);
        }
        // With ties, at any n. cor.test(c(1, 2, 2, 3, 4, 4, 4, 5, 6, 7),
        //   c(3, 1, 2, 2, 5, 4, 6, 6, 6, 9), method = "spearman") -> 0.8781249999999999,
        //   0.0008311198567992346; scipy.stats.spearmanr of the same -> rho=0.878125,
        //   p=0.0008311198567992317
        let tx = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 4.0, 5.0, 6.0, 7.0];
        let ty = [3.0, 1.0, 2.0, 2.0, 5.0, 4.0, 6.0, 6.0, 6.0, 9.0];
        check_r(&tx, &ty, 0.878_124_999_999_999_9, 0.000_831_119_856_799_234_6);
        let out = spearman(&tx, &ty).expect("defined");
        rel(out.statistic, 0.878_125, EXACT);
        abs(out.p_value, 0.000_831_119_856_799_231_7, P_ABS);
        // x <- 1:30; cor.test(floor(x / 2), floor(x / 3 + 5 * lcg(30)), ...) and
        // cor.test(x, floor(-x / 3 + 5 * lcg(30)), ...): ties in both / in y only
        let x: Vec<f64> = (1..=30).map(|i| i as f64).collect();
        let u = lcg(30);
        let half: Vec<f64> = x.iter().map(|v| (v / 2.0).floor()).collect();
        let up: Vec<f64> = x
            .iter()
            .zip(&u)
            .map(|(v, u)| (v / 3.0 + 5.0 * u).floor())
            .collect();
        let down: Vec<f64> = x
            .iter()
            .zip(&u)
            .map(|(v, u)| (-v / 3.0 + 5.0 * u).floor())
            .collect();
        check_r(&half, &up, 0.934_576_867_590_287_7, 4.307_615_982_444_375e-14);
        check_r(&x, &down, -0.924_498_614_646_366_6, 3.005_825_241_501_689_7e-13);
        // cor.test(c(1, 1, 2, 3), c(1, 1, 2, 3), method = "spearman") -> 1, 0
        check_r(&[1.0, 1.0, 2.0, 3.0], &[1.0, 1.0, 2.0, 3.0], 1.0, 0.0);
    }

    #[test]
    fn prho_matches_r() {
        // refs.R: .Call(stats:::C_pRho, is, n, lower.tail), the routine cor.test calls
        let cases: [(usize, f64, bool, f64); 15] = [
            (5, 0.0, false, 1.0),
            (5, 0.0, true, 0.0),
            (5, 40.0, false, 0.008_333_333_333_333_333),
            (5, 41.0, false, 0.0),
            (5, 41.0, true, 1.0),
            (5, 20.0, false, 0.525),
            (5, 20.0, true, 0.475),
            (9, 100.0, false, 0.678_180_114_638_448),
            (9, 100.0, true, 0.321_819_885_361_552_04),
            (10, 100.0, false, 0.876_314_606_194_034_3),
            (10, 100.0, true, 0.123_685_393_805_965_66),
            (10, 2.0, true, 0.0),
            (10, 330.0, false, 0.0),
            (1290, 3.58e8, false, 0.491_248_780_505_492_14),
            (1290, 3.58e8, true, 0.508_751_219_494_507_9),
        ];
        for (n, is, lower, want) in cases {
            let got = prho(n, is, lower);
            if want == 0.0 {
                assert_eq!(got, 0.0, "prho({n}, {is}, {lower})");
            } else {
                rel(got, want, R_REL);
            }
        }
        // n <= 1: R's admissibility check returns 1 (upper) / 0 (lower).
        assert_eq!(prho(1, 5.0, false), 1.0);
        assert_eq!(prho(0, 5.0, true), 0.0);
        // The exact tails are complementary and the distribution is symmetric about
        // (n^3 - n)/6: P(S >= 2k) = P(S <= (n^3 - n)/3 - 2k) = P(S < (n^3 - n)/3 - 2k + 2).
        for n in 2..=9usize {
            let max = ((n * n * n - n) / 3) as f64;
            // every k up to n = 8; n = 9 (9! permutations a call) only at every 10th k
            for k in (0..=(n * n * n - n) / 6).step_by(if n == 9 { 10 } else { 1 }) {
                let s = 2.0 * k as f64;
                let up = prho(n, s, false);
                assert_eq!(up + prho(n, s, true), 1.0);
                rel(up, prho(n, max - s + 2.0, true), 1e-15);
            }
        }
    }

    #[test]
    fn normal_tail_is_accurate() {
        // refs.R: pnorm(x, lower.tail = FALSE), pnorm(x)
        for (x, upper, lower) in [
            (0.5, 0.308_537_538_725_986_94, 0.691_462_461_274_013),
            (1.0, 0.158_655_253_931_457_05, 0.841_344_746_068_542_9),
            (3.0, 0.001_349_898_031_630_094_6, 0.998_650_101_968_369_9),
            (6.0, 9.865_876_450_376_98e-10, 0.999_999_999_013_412_3),
            (10.0, 7.619_853_024_160_527e-24, 1.0),
        ] {
            rel(normal_tail(x, false), upper, 1e-15);
            rel(normal_tail(x, true), lower, 1e-15);
            rel(normal_tail(-x, true), upper, 1e-15);
            rel(normal_tail(-x, false), lower, 1e-15);
        }
        assert_eq!(normal_tail(0.0, true), 0.5);
        assert_eq!(normal_tail(40.0, false), 0.0);
        assert_eq!(normal_tail(-40.0, true), 0.0);
        assert_eq!(normal_tail(9.0, true), 1.0);
    }

    #[test]
    fn spearman_errors() {
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
