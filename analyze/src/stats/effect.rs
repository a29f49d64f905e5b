//! Effect sizes and their intervals: Hedges' g (two means), Cliff's δ (two distributions),
//! ε² (Kruskal–Wallis) and η² (one-way ANOVA). The tests in `rank` and `parametric` attach
//! these to their outcomes; they are public so a report can compute one on its own.

use super::{Effect, StatsError};

/// Hedges' g of `a` − `b`: Cohen's d on the pooled standard deviation,
/// d = (ā − b̄) / √(((n₁−1)s₁² + (n₂−1)s₂²)/(n₁+n₂−2)), times the small-sample correction
/// J = 1 − 3/(4(n₁+n₂) − 9) (Hedges 1981; Hedges & Olkin 1985, eq. 5.10's usual
/// approximation). Matches `pingouin.compute_effsize(a, b, paired=False, eftype="hedges")`.
///
/// The 95 % interval is g ± t₀.₉₇₅,ₙ₁₊ₙ₂₋₂ · SE with the normal-approximation standard error of
/// Hedges & Olkin (1985, p. 86), SE = √((n₁+n₂)/(n₁n₂) + g²/(2(n₁+n₂))), exactly as
/// `pingouin.compute_esci(stat=g, nx, ny, eftype="hedges")` computes it (R
/// `effsize::cohen.d(..., hedges.correction=TRUE, noncentral=FALSE)` uses the same form).
///
/// Errors: fewer than 2 values in either sample, a non-finite value, or both samples constant
/// (pooled sd = 0).
pub fn hedges_g(a: &[f64], b: &[f64]) -> Result<Effect, StatsError> {
    const TEST: &str = "hedges_g";
    super::ensure_len(TEST, a, 2)?;
    super::ensure_len(TEST, b, 2)?;
    super::ensure_finite(TEST, a)?;
    super::ensure_finite(TEST, b)?;
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let pooled = ((n1 - 1.0) * super::var_n1(a) + (n2 - 1.0) * super::var_n1(b)) / (n1 + n2 - 2.0);
    if !super::is_positive(pooled) {
        return Err(StatsError::ConstantInput { test: TEST });
    }
    let d = (super::mean(a) - super::mean(b)) / pooled.sqrt();
    let j = 1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0);
    let g = j * d;
    let se = ((n1 + n2) / (n1 * n2) + g * g / (2.0 * (n1 + n2))).sqrt();
    let crit = super::t_crit(TEST, n1 + n2 - 2.0)?;
    Ok(Effect {
        name: "hedges_g",
        value: g,
        ci: Some((g - crit * se, g + crit * se)),
    })
}

/// Cliff's δ of `a` against `b` (Cliff 1993): δ = P(a > b) − P(a < b) over all n₁n₂ pairs,
/// i.e. 2U₁/(n₁n₂) − 1 with U₁ the Mann–Whitney U of `a`. Positive when `a` tends to be larger.
///
/// The 95 % interval is Cliff's (1993) asymmetric interval
/// (δ − δ³ ∓ z·s·√((1−δ²)² + z²s²)) / (1 − δ² + z²s²), z = Φ⁻¹(0.975), with s² his consistent
/// variance estimate
/// s² = [n₂² Σᵢ(dᵢ. − δ)² + n₁² Σⱼ(d.ⱼ − δ)² − ΣᵢΣⱼ(dᵢⱼ − δ)²] / [n₁n₂(n₁−1)(n₂−1)],
/// dᵢⱼ = sign(aᵢ − bⱼ), floored at (1 − δ²)/(n₁n₂ − 1) as Cliff (1996, *Ordinal Methods for
/// Behavioral Data Analysis*) recommends; Feng & Cliff (2004) found this interval to keep its
/// coverage in small samples. The interval is
/// `None` when either sample has a single value, or when s² = 0 — in particular for complete
/// separation (|δ| = 1), where the interval is degenerate. It is deterministic (no bootstrap).
/// The expected numbers in the tests are a numpy transcription of these formulas.
///
/// The counts use sorting and binary search, O((n₁ + n₂) log(n₁ + n₂)).
///
/// Errors: an empty sample or a non-finite value.
pub fn cliffs_delta(a: &[f64], b: &[f64]) -> Result<Effect, StatsError> {
    const TEST: &str = "cliffs_delta";
    super::ensure_len(TEST, a, 1)?;
    super::ensure_len(TEST, b, 1)?;
    super::ensure_finite(TEST, a)?;
    super::ensure_finite(TEST, b)?;
    let (n1, n2) = (a.len(), b.len());
    let (f1, f2) = (n1 as f64, n2 as f64);
    let mut sa = a.to_vec();
    let mut sb = b.to_vec();
    sa.sort_by(f64::total_cmp);
    sb.sort_by(f64::total_cmp);
    // For a value v and a sorted sample s: (#s < v, #s > v).
    let below_above = |s: &[f64], v: f64| {
        let below = s.partition_point(|x| *x < v);
        let not_above = s.partition_point(|x| *x <= v);
        (below, s.len() - not_above)
    };
    // dᵢ. for each aᵢ (mean over b of sign(aᵢ − bⱼ)), and the number of tied pairs.
    let mut dominance = 0.0;
    let mut tied_pairs = 0usize;
    let mut row_means = Vec::with_capacity(n1);
    for &v in a {
        let (below, above) = below_above(&sb, v);
        dominance += below as f64 - above as f64;
        tied_pairs += n2 - below - above;
        row_means.push((below as f64 - above as f64) / f2);
    }
    let delta = dominance / (f1 * f2);
    // d.ⱼ for each bⱼ (mean over a of sign(aᵢ − bⱼ)).
    let col_means: Vec<f64> = b
        .iter()
        .map(|&v| {
            let (below, above) = below_above(&sa, v);
            (above as f64 - below as f64) / f1
        })
        .collect();
    let ci = if n1 < 2 || n2 < 2 {
        None
    } else {
        let ss_rows: f64 = row_means.iter().map(|d| (d - delta).powi(2)).sum();
        let ss_cols: f64 = col_means.iter().map(|d| (d - delta).powi(2)).sum();
        // ΣΣ(dᵢⱼ − δ)² = ΣΣdᵢⱼ² − n₁n₂δ², and dᵢⱼ² is 1 except for tied pairs.
        let pairs = f1 * f2;
        let ss_all = (pairs - tied_pairs as f64) - pairs * delta * delta;
        let s2 = (f2 * f2 * ss_rows + f1 * f1 * ss_cols - ss_all) / (pairs * (f1 - 1.0) * (f2 - 1.0));
        let s2 = s2.max((1.0 - delta * delta) / (pairs - 1.0));
        if s2 > 0.0 {
            let z = super::z_crit(TEST)?;
            let one_m = 1.0 - delta * delta;
            let centre = delta - delta.powi(3);
            let spread = z * s2.sqrt() * (one_m * one_m + z * z * s2).sqrt();
            let denom = one_m + z * z * s2;
            Some(((centre - spread) / denom, (centre + spread) / denom))
        } else {
            None
        }
    };
    Ok(Effect {
        name: "cliffs_delta",
        value: delta,
        ci,
    })
}

/// ε² of a Kruskal–Wallis test, ε² = H / ((n² − 1)/(n + 1)) = H/(n − 1) (Tomczak & Tomczak
/// 2014; R `rcompanion::epsilonSquared`). NaN for n < 2.
pub fn epsilon_squared(h: f64, n: usize) -> f64 {
    if n < 2 {
        return f64::NAN;
    }
    let n = n as f64;
    h / ((n * n - 1.0) / (n + 1.0))
}

/// η² of a one-way ANOVA, SS_between / SS_total (equal to partial η² for one factor; pingouin
/// `anova(...)["np2"]`). NaN when SS_total is 0.
pub fn eta_squared(ss_between: f64, ss_total: f64) -> f64 {
    if ss_total > 0.0 {
        ss_between / ss_total
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{EXACT, rel};
    use super::*;

    const A: [f64; 5] = [2.9, 3.0, 2.5, 2.6, 3.2];
    const B: [f64; 4] = [3.8, 2.7, 4.0, 2.4];
    const T1: [f64; 5] = [1.0, 2.0, 2.0, 3.0, 5.0];
    const T2: [f64; 6] = [2.0, 3.0, 3.0, 4.0, 6.0, 6.0];
    const T3: [f64; 6] = [5.0, 5.0, 7.0, 8.0, 8.0, 9.0];
    const S1: [f64; 6] = [8.91, 8.53, 5.84, 12.57, 9.16, 10.44];
    const S4: [f64; 12] = [
        4.57, 3.46, 3.12, 2.28, 2.48, 2.71, 2.71, 2.7, 4.54, 3.5, 2.11, 3.43,
    ];

    fn check_g(a: &[f64], b: &[f64], g: f64, lo: f64, hi: f64) {
        let e = hedges_g(a, b).expect("defined");
        assert_eq!(e.name, "hedges_g");
        rel(e.value, g, EXACT);
        let ci = e.ci.expect("interval");
        rel(ci.0, lo, EXACT);
        rel(ci.1, hi, EXACT);
    }

    #[test]
    fn hedges_g_matches_pingouin() {
        // pingouin.compute_effsize(A, B, paired=False, eftype='hedges') -> -0.6077565560271757
        // pingouin.compute_esci(stat=g, nx=5, ny=4, eftype='hedges', confidence=0.95,
        //   decimals=15) -> [-2.229758571376239, 1.014245459321888]
        check_g(
            &A,
            &B,
            -0.607_756_556_027_175_7,
            -2.229_758_571_376_239,
            1.014_245_459_321_888,
        );
        // ties: pingouin.compute_effsize([1,2,2,3,5], [2,3,3,4,6,6], eftype='hedges')
        //   -> -0.7972366065959037; compute_esci(..., nx=5, ny=6) -> [-2.219982311656307,
        //   0.6255090984645]
        check_g(
            &T1,
            &T2,
            -0.797_236_606_595_903_7,
            -2.219_982_311_656_307,
            0.625_509_098_464_5,
        );
        // pingouin.compute_effsize(S1, S4, eftype='hedges') -> 4.12405269483513;
        //   compute_esci(..., nx=6, ny=12) -> [2.32220902963449, 5.925896360035769]
        check_g(
            &S1,
            &S4,
            4.124_052_694_835_13,
            2.322_209_029_634_49,
            5.925_896_360_035_769,
        );
    }

    #[test]
    fn hedges_g_errors() {
        assert!(matches!(
            hedges_g(&[1.0], &[1.0, 2.0]),
            Err(StatsError::TooFewObservations { .. })
        ));
        assert!(matches!(
            hedges_g(&[1.0, 1.0], &[2.0, 2.0]),
            Err(StatsError::ConstantInput { .. })
        ));
        assert!(matches!(
            hedges_g(&[1.0, f64::INFINITY], &[2.0, 3.0]),
            Err(StatsError::NonFinite { .. })
        ));
    }

    fn check_cliff(a: &[f64], b: &[f64], delta: f64, ci: Option<(f64, f64)>) {
        let e = cliffs_delta(a, b).expect("defined");
        assert_eq!(e.name, "cliffs_delta");
        rel(e.value, delta, EXACT);
        match (e.ci, ci) {
            (Some(got), Some(want)) => {
                rel(got.0, want.0, EXACT);
                rel(got.1, want.1, EXACT);
            }
            (None, None) => {}
            (got, want) => panic!("interval {got:?} vs {want:?}"),
        }
    }

    #[test]
    fn cliffs_delta_matches_numpy_transcription() {
        // delta = np.sign(A[:, None] - B[None, :]).mean(); Cliff (1993) s2 and asymmetric 95 %
        // interval in numpy (refs.py) -> (-0.2, s2=0.24000000000000005, -0.794766319704178,
        // 0.590722654286017)
        check_cliff(
            &A,
            &B,
            -0.2,
            Some((-0.794_766_319_704_178, 0.590_722_654_286_017)),
        );
        // ties, same transcription -> (-0.5333333333333333, s2=0.08444444444444449,
        // -0.8678495664145055, 0.1339079087078847)
        check_cliff(
            &T1,
            &T2,
            -0.533_333_333_333_333_3,
            Some((-0.867_849_566_414_505_5, 0.133_907_908_707_884_7)),
        );
        // ties across samples, s2 hits the floor (1-δ²)/(n1 n2-1):
        // -> (0.9333333333333333, s2=0.004444444444444444, 0.659861211348973, 0.9884618314515108)
        check_cliff(
            &T3,
            &T1,
            0.933_333_333_333_333_3,
            Some((0.659_861_211_348_973, 0.988_461_831_451_510_8)),
        );
        // complete separation: δ = 1, s2 = 0, interval undefined (numpy gives nan, nan)
        check_cliff(&S1, &S4, 1.0, None);
    }

    #[test]
    fn cliffs_delta_small_and_bad() {
        let e = cliffs_delta(&[1.0], &[0.0, 2.0, 3.0]).expect("defined");
        rel(e.value, -1.0 / 3.0, EXACT);
        assert_eq!(e.ci, None);
        assert!(cliffs_delta(&[], &[1.0]).is_err());
        assert!(cliffs_delta(&[f64::NAN], &[1.0]).is_err());
    }

    #[test]
    fn epsilon_and_eta() {
        // Anchor: H = 21.265 on 30 runs -> 21.265 / 29 = 0.7332758620689656 (0.733).
        rel(epsilon_squared(21.265, 30), 0.733_275_862_068_965_6, EXACT);
        assert_eq!(format!("{:.3}", epsilon_squared(21.265, 30)), "0.733");
        assert!(epsilon_squared(1.0, 1).is_nan());
        assert_eq!(eta_squared(1.0, 4.0), 0.25);
        assert!(eta_squared(0.0, 0.0).is_nan());
    }
}
