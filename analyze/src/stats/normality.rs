//! Normality checks: the Shapiro–Wilk W test by Royston's (1995) algorithm AS R94 (a port of
//! `swilk.c` as R's `shapiro.test` runs it), and the pooled residuals from group means it is
//! usually applied to before an ANOVA.

use statrs::distribution::{ContinuousCDF, Normal};

use super::{StatsError, TestOutcome};

/// Smallest and largest sample sizes AS R94 is defined for.
const SW_MIN_N: usize = 3;
const SW_MAX_N: usize = 5000;

/// Evaluates c₀ + c₁x + … + c_{m−1}x^{m−1} exactly as AS 181.2's `poly` does (same operation
/// order, so results agree with `swilk.c` to the last bit).
fn poly(cc: &[f64], x: f64) -> f64 {
    let nord = cc.len();
    let mut ret = cc[0];
    if nord > 1 {
        let mut p1 = x * cc[nord - 1];
        for j in (1..nord - 1).rev() {
            p1 = (p1 + cc[j]) * x;
        }
        ret += p1;
    }
    ret
}

/// Shapiro–Wilk test of normality (Shapiro & Wilk 1965) with W and its p-value by Royston's
/// (1995) algorithm AS R94: a port of R's `src/library/stats/src/swilk.c` (R `shapiro.test`),
/// the algorithm `scipy.stats.shapiro` also runs.
///
/// `statistic` is W, `p_value` its upper-tail p (exact for n = 3; Royston's normalising
/// transformations otherwise), `df`/`effect` `None`, `n` the sample size.
///
/// Differences from the references, all below 1e-8 on the test sets:
/// * the coefficients use exact normal quantiles (statrs' `Normal::inverse_cdf`) like R's
///   `qnorm`, where scipy uses the 7-digit AS 111 approximation; the tail uses the exact normal
///   survival function like R's `pnorm`, where scipy uses AS 66;
/// * the data are centred on the median and divided by their range before the algorithm (W is
///   invariant to both; R does the same division whenever the range is below 1);
/// * for n ≤ 11, a W beyond Royston's range gives p = 1e-99 as in R (scipy returns 1e-19).
///
/// Errors: n < 3 or n > 5000 (AS R94's valid range), a non-finite value, or all values equal.
pub fn shapiro_wilk(x: &[f64]) -> Result<TestOutcome, StatsError> {
    const TEST: &str = "shapiro_wilk";
    super::ensure_len(TEST, x, SW_MIN_N)?;
    if x.len() > SW_MAX_N {
        return Err(StatsError::TooManyObservations {
            test: TEST,
            max: SW_MAX_N,
            got: x.len(),
        });
    }
    super::ensure_finite(TEST, x)?;
    let n = x.len();
    let mut xs = x.to_vec();
    xs.sort_by(f64::total_cmp);
    let range = xs[n - 1] - xs[0];
    if !super::is_positive(range) {
        return Err(StatsError::ConstantInput { test: TEST });
    }
    let med = super::descriptive::quantile_sorted(&xs, 0.5);
    for v in &mut xs {
        *v = (*v - med) / range;
    }
    let (w, p) = swilk(&xs)?;
    Ok(TestOutcome {
        statistic: w,
        df: None,
        df2: None,
        p_value: p,
        effect: None,
        n,
    })
}

/// AS R94 on sorted data of length 3..=5000 with a non-zero range. Returns (W, p).
fn swilk(x: &[f64]) -> Result<(f64, f64), StatsError> {
    const TEST: &str = "shapiro_wilk";
    const C1: [f64; 6] = [0.0, 0.221157, -0.147981, -2.07119, 4.434685, -2.706056];
    const C2: [f64; 6] = [0.0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633];
    const C3: [f64; 4] = [0.544, -0.39978, 0.025054, -6.714e-4];
    const C4: [f64; 4] = [1.3822, -0.77857, 0.062767, -0.0020322];
    const C5: [f64; 4] = [-1.5861, -0.31082, -0.083751, 0.0038915];
    const C6: [f64; 3] = [-0.4803, -0.082676, 0.0030302];
    const G: [f64; 2] = [-2.273, 0.459];

    let n = x.len();
    let nn2 = n / 2;
    let an = n as f64;
    let std = super::std_normal(TEST)?;

    // Coefficients a[0..nn2] (swilk.c's a[1..=nn2]); the full antisymmetric vector is built
    // below.
    let mut a = vec![0.0; nn2];
    if n == 3 {
        a[0] = std::f64::consts::FRAC_1_SQRT_2;
    } else {
        let an25 = an + 0.25;
        let mut summ2 = 0.0;
        for (i, ai) in a.iter_mut().enumerate() {
            *ai = std.inverse_cdf((i as f64 + 1.0 - 0.375) / an25);
            summ2 += *ai * *ai;
        }
        summ2 *= 2.0;
        let ssumm2 = summ2.sqrt();
        let rsn = 1.0 / an.sqrt();
        let a1 = poly(&C1, rsn) - a[0] / ssumm2;
        let (i1, fac) = if n > 5 {
            let a2 = -a[1] / ssumm2 + poly(&C2, rsn);
            let fac = ((summ2 - 2.0 * (a[0] * a[0]) - 2.0 * (a[1] * a[1]))
                / (1.0 - 2.0 * (a1 * a1) - 2.0 * (a2 * a2)))
                .sqrt();
            a[1] = a2;
            (2, fac)
        } else {
            let fac = ((summ2 - 2.0 * (a[0] * a[0])) / (1.0 - 2.0 * (a1 * a1))).sqrt();
            (1, fac)
        };
        a[0] = a1;
        for ai in a.iter_mut().skip(i1) {
            *ai /= -fac;
        }
    }

    // W as the squared correlation between the data and the coefficients; coefficient of
    // sorted position i is −a[i] in the lower half, +a[n−1−i] in the upper half, 0 in the
    // middle (odd n).
    let coef = |i: usize| -> f64 {
        let j = n - 1 - i;
        if i == j {
            0.0
        } else if i < j {
            -a[i]
        } else {
            a[j]
        }
    };
    let sa = (0..n).map(coef).sum::<f64>() / an;
    let sx = x.iter().sum::<f64>() / an;
    let (mut ssa, mut ssx, mut sax) = (0.0, 0.0, 0.0);
    for (i, xi) in x.iter().enumerate() {
        let asa = coef(i) - sa;
        let xsx = xi - sx;
        ssa += asa * asa;
        ssx += xsx * xsx;
        sax += asa * xsx;
    }
    // w1 = 1 − W, computed this way to avoid rounding error for W near 1.
    let ssassx = (ssa * ssx).sqrt();
    let w1 = (ssassx - sax) * (ssassx + sax) / (ssa * ssx);
    let w = 1.0 - w1;

    if n == 3 {
        // Exact: p = (6/π)(asin √W − π/3), W ≥ 3/4 in theory; clamp rounding.
        let s = w.clamp(0.0, 1.0).sqrt();
        let p = 6.0 / std::f64::consts::PI * (s.asin() - std::f64::consts::FRAC_PI_3);
        return Ok((w, p.clamp(0.0, 1.0)));
    }
    let mut y = w1.ln();
    let xx = an.ln();
    let (m, s) = if n <= 11 {
        let gamma = poly(&G, an);
        if y >= gamma {
            return Ok((w, 1e-99));
        }
        y = -(gamma - y).ln();
        (poly(&C3, an), poly(&C4, an).exp())
    } else {
        (poly(&C5, xx), poly(&C6, xx).exp())
    };
    let p = Normal::new(m, s).map_err(|e| super::dist_err(TEST, e))?.sf(y);
    Ok((w, p))
}

/// Residuals of a one-way layout: every value minus the mean of its own group, groups
/// concatenated in the order given (the input of a Shapiro–Wilk check before an ANOVA, as R's
/// `residuals(aov(y ~ g))`). Empty groups contribute nothing; non-finite values give
/// non-finite residuals, which [`shapiro_wilk`] then rejects.
pub fn residuals_from_group_means(groups: &[&[f64]]) -> Vec<f64> {
    groups
        .iter()
        .filter(|g| !g.is_empty())
        .flat_map(|g| {
            let m = super::mean(g);
            g.iter().map(move |v| v - m)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{EXACT, INVARIANCE, P_ABS, SW_P_VS_SCIPY, abs, rel};
    use super::*;

    /// (data, W and p of the R-equivalent computation, W and p of scipy.stats.shapiro)
    struct Case {
        x: &'static [f64],
        w_r: f64,
        p_r: f64,
        w_scipy: f64,
        p_scipy: f64,
    }

    // R-equivalent values: swilk_py(x, approx=False) in refs.py, a line-by-line Python
    // transcription of scipy's swilk (which reproduces scipy.stats.shapiro to <= 6e-16 when it
    // uses scipy's _ppnd/_alnorm) with the exact scipy.special.ndtri/ndtr in their place, i.e.
    // what R's swilk.c computes with qnorm/pnorm. scipy values: scipy.stats.shapiro(x).
    const CASES: [Case; 9] = [
        // scipy.stats.shapiro([1.0, 2.0, 4.0]) -> W=0.9642857142857142, p=0.6368868450289689
        Case {
            x: &[1.0, 2.0, 4.0],
            w_r: 0.964_285_714_285_714_2,
            p_r: 0.636_886_845_028_968_9,
            w_scipy: 0.964_285_714_285_714_2,
            p_scipy: 0.636_886_845_028_968_9,
        },
        // scipy.stats.shapiro([1.0, 2.0, 3.0]) -> W=1.0, p=1.0
        Case {
            x: &[1.0, 2.0, 3.0],
            w_r: 1.0,
            p_r: 1.0,
            w_scipy: 1.0,
            p_scipy: 1.0,
        },
        // scipy.stats.shapiro([1.0, 2.0, 3.0, 10.0]) -> W=0.8068856643251408,
        //   p=0.11515298127551521; swilk_py(approx=False) -> 0.8068856645677002,
        //   0.11515298175453675
        Case {
            x: &[1.0, 2.0, 3.0, 10.0],
            w_r: 0.806_885_664_567_700_2,
            p_r: 0.115_152_981_754_536_75,
            w_scipy: 0.806_885_664_325_140_8,
            p_scipy: 0.115_152_981_275_515_21,
        },
        // scipy.stats.shapiro([2.9, 3.0, 2.5, 2.6, 3.2]) -> W=0.9506315455179407,
        //   p=0.7416997909897534; swilk_py -> 0.9506315458567616, 0.7416997934060269
        Case {
            x: &[2.9, 3.0, 2.5, 2.6, 3.2],
            w_r: 0.950_631_545_856_761_6,
            p_r: 0.741_699_793_406_026_9,
            w_scipy: 0.950_631_545_517_940_7,
            p_scipy: 0.741_699_790_989_753_4,
        },
        // scipy.stats.shapiro([1.0, 1.5, 2.0, 2.2, 5.0, 9.0]) -> W=0.8087344327572772,
        //   p=0.07032794746842945; swilk_py -> 0.8087344327380164, 0.07032794744204522
        Case {
            x: &[1.0, 1.5, 2.0, 2.2, 5.0, 9.0],
            w_r: 0.808_734_432_738_016_4,
            p_r: 0.070_327_947_442_045_22,
            w_scipy: 0.808_734_432_757_277_2,
            p_scipy: 0.070_327_947_468_429_45,
        },
        // scipy.stats.shapiro([2.9, 3.0, 2.5, 2.6, 3.2, 3.8, 2.7, 4.0, 2.4, 3.3])
        //   -> W=0.9286915933947157, p=0.43514670457708066; swilk_py -> 0.928691593510476,
        //   0.43514670569757663
        Case {
            x: &[2.9, 3.0, 2.5, 2.6, 3.2, 3.8, 2.7, 4.0, 2.4, 3.3],
            w_r: 0.928_691_593_510_476,
            p_r: 0.435_146_705_697_576_63,
            w_scipy: 0.928_691_593_394_715_7,
            p_scipy: 0.435_146_704_577_080_66,
        },
        // scipy.stats.shapiro([1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 2.0, 5.0, 40.0])
        //   -> W=0.4080474602517997, p=1.2198529463516684e-07; swilk_py -> 0.4080474601387345,
        //   1.2198529426673726e-07
        Case {
            x: &[1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 2.0, 5.0, 40.0],
            w_r: 0.408_047_460_138_734_5,
            p_r: 1.219_852_942_667_372_6e-7,
            w_scipy: 0.408_047_460_251_799_7,
            p_scipy: 1.219_852_946_351_668_4e-7,
        },
        // ties: scipy.stats.shapiro([1, 2, 2, 3, 5, 2, 3, 3, 4, 6, 6, 5, 5, 7, 8, 8, 9, 9])
        //   -> W=0.9358432611350477, p=0.24569857916774684; swilk_py -> 0.9358432609691845,
        //   0.24569857754199292
        Case {
            x: &[
                1.0, 2.0, 2.0, 3.0, 5.0, 2.0, 3.0, 3.0, 4.0, 6.0, 6.0, 5.0, 5.0, 7.0, 8.0, 8.0, 9.0, 9.0,
            ],
            w_r: 0.935_843_260_969_184_5,
            p_r: 0.245_698_577_541_992_92,
            w_scipy: 0.935_843_261_135_047_7,
            p_scipy: 0.245_698_579_167_746_84,
        },
        // SYN4 pooled (30 values, one tie): scipy.stats.shapiro(...) -> W=0.8953510711535508,
        //   p=0.006476210882427861; swilk_py -> 0.8953510711271337, 0.006476210873172328
        Case {
            x: &[
                8.91, 8.53, 5.84, 12.57, 9.16, 10.44, 6.82, 5.85, 7.23, 4.59, 6.76, 7.01, 3.82, 3.8, 5.06,
                5.07, 3.69, 3.45, 4.57, 3.46, 3.12, 2.28, 2.48, 2.71, 2.71, 2.7, 4.54, 3.5, 2.11, 3.43,
            ],
            w_r: 0.895_351_071_127_133_7,
            p_r: 0.006_476_210_873_172_328,
            w_scipy: 0.895_351_071_153_550_8,
            p_scipy: 0.006_476_210_882_427_861,
        },
    ];

    #[test]
    fn shapiro_wilk_matches_r_equivalent_exactly() {
        for c in &CASES {
            let out = shapiro_wilk(c.x).expect("defined");
            rel(out.statistic, c.w_r, EXACT);
            abs(out.p_value, c.p_r, P_ABS);
            assert_eq!(out.n, c.x.len());
        }
    }

    #[test]
    fn shapiro_wilk_matches_scipy() {
        for c in &CASES {
            let out = shapiro_wilk(c.x).expect("defined");
            rel(out.statistic, c.w_scipy, EXACT);
            abs(out.p_value, c.p_scipy, SW_P_VS_SCIPY);
        }
    }

    #[test]
    fn shapiro_wilk_is_location_scale_invariant() {
        let x = CASES[5].x;
        let base = shapiro_wilk(x).expect("defined");
        let moved: Vec<f64> = x.iter().map(|v| 1e-3 * v + 1e3).collect();
        let out = shapiro_wilk(&moved).expect("defined");
        rel(out.statistic, base.statistic, INVARIANCE);
        abs(out.p_value, base.p_value, INVARIANCE);
        let permuted: Vec<f64> = x.iter().rev().copied().collect();
        assert_eq!(shapiro_wilk(&permuted), Ok(base));
    }

    #[test]
    fn shapiro_wilk_errors() {
        assert!(matches!(
            shapiro_wilk(&[1.0, 2.0]),
            Err(StatsError::TooFewObservations { needed: 3, .. })
        ));
        let big: Vec<f64> = (0..5001).map(f64::from).collect();
        assert!(matches!(
            shapiro_wilk(&big),
            Err(StatsError::TooManyObservations { max: 5000, .. })
        ));
        assert!(shapiro_wilk(&big[..5000]).is_ok());
        assert!(matches!(
            shapiro_wilk(&[2.0, 2.0, 2.0, 2.0]),
            Err(StatsError::ConstantInput { .. })
        ));
        assert!(matches!(
            shapiro_wilk(&[1.0, 2.0, f64::NAN]),
            Err(StatsError::NonFinite { .. })
        ));
    }

    #[test]
    fn residuals() {
        let groups: [&[f64]; 3] = [&[1.0, 2.0, 3.0], &[], &[10.0, 14.0]];
        assert_eq!(
            residuals_from_group_means(&groups),
            vec![-1.0, 0.0, 1.0, -2.0, 2.0]
        );
        assert!(residuals_from_group_means(&[]).is_empty());
    }

    #[test]
    fn poly_matches_horner() {
        rel(poly(&[1.0, 2.0, 3.0], 2.0), 1.0 + 4.0 + 12.0, EXACT);
        assert_eq!(poly(&[4.0], 9.0), 4.0);
    }
}
