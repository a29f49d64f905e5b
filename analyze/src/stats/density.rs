//! Gaussian kernel density estimation with the rule-of-thumb bandwidth of Silverman (1986,
//! *Density Estimation for Statistics and Data Analysis*, eq. 3.31), as R's `bw.nrd0` computes
//! it — the bandwidth of R's `density()` by default. The figures draw densities and violins
//! with it.

use super::descriptive::quantile_sorted;

/// R's `bw.nrd0(x)`: 0.9 · min(sd, IQR/1.34) · n^(−1/5), with sd the sample standard deviation
/// (divisor n − 1) and IQR the type-7 interquartile range.
///
/// When that spread is 0 R falls back, in turn, to sd, to |x₁| (the first value as given, not
/// the smallest) and to 1, and so does this function: constant data get a bandwidth of
/// 0.9 · |x₁| · n^(−1/5). R refuses n = 1 ("need at least 2 data points"); here the same
/// fallback applies (0.9 · |x₁|, or 0.9 for x₁ = 0), so a single value still draws a bump.
/// NaN for an empty sample.
pub fn bw_nrd0(values: &[f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let sd = if n > 1 {
        let mean = values.iter().sum::<f64>() / n as f64;
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let iqr = quantile_sorted(&sorted, 0.75) - quantile_sorted(&sorted, 0.25);
    // R: `if(!(lo <- min(hi, IQR(x)/1.34))) (lo <- hi) || (lo <- abs(x[1L])) || (lo <- 1.)`.
    let mut spread = sd.min(iqr / 1.34);
    for fallback in [sd, values[0].abs(), 1.0] {
        if spread > 0.0 {
            break;
        }
        spread = fallback;
    }
    0.9 * spread * (n as f64).powf(-0.2)
}

/// Gaussian kernel density of `values` with bandwidth h = [`bw_nrd0`], evaluated exactly at
/// each point of `grid`: f(t) = 1/(n·h·√(2π)) · Σᵢ exp(−½((t − xᵢ)/h)²). R's `density()`
/// approximates the same sum by binning the data and convolving by FFT. All zeros for an
/// empty sample.
pub fn kde(values: &[f64], grid: &[f64]) -> Vec<f64> {
    let n = values.len();
    if n == 0 {
        return vec![0.0; grid.len()];
    }
    let h = bw_nrd0(values);
    let norm = 1.0 / (n as f64 * h * (2.0 * std::f64::consts::PI).sqrt());
    grid.iter()
        .map(|x| {
            values
                .iter()
                .map(|v| (-0.5 * ((x - v) / h).powi(2)).exp())
                .sum::<f64>()
                * norm
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{DENSITY_BINNED_ABS, EXACT, abs, rel};
    use super::*;

    const D1: [f64; 5] = [1.0, 2.0, 2.5, 3.0, 7.0];
    const D2: [f64; 6] = [0.1, 0.2, 0.3, 5.1, 5.2, 5.3];

    #[test]
    fn bandwidth_matches_r_bw_nrd0() {
        // bw.nrd0(c(1, 2, 2.5, 3, 7)) -> 0.48679231142531787 (IQR/1.34 < sd); also density(x)$bw
        rel(bw_nrd0(&D1), 0.486_792_311_425_317_87, EXACT);
        // bw.nrd0(c(0.1, 0.2, 0.3, 5.1, 5.2, 5.3)) -> 1.7233535826301072 (sd < IQR/1.34)
        rel(bw_nrd0(&D2), 1.723_353_582_630_107_2, EXACT);
        // bw.nrd0(c(4, 4, 4, 4, 4, 10)) -> 1.5405928734687346 (IQR = 0: falls back to sd)
        rel(
            bw_nrd0(&[4.0, 4.0, 4.0, 4.0, 4.0, 10.0]),
            1.540_592_873_468_734_6,
            EXACT,
        );
    }

    #[test]
    fn bandwidth_of_constant_data_falls_back_like_r() {
        // bw.nrd0(c(3, 3, 3)) -> 2.167402216752623 (spread 0: abs(x[1]))
        rel(bw_nrd0(&[3.0, 3.0, 3.0]), 2.167_402_216_752_623, EXACT);
        // bw.nrd0(c(-2.5, -2.5, -2.5, -2.5)) -> 1.7051811373241978 (abs(x[1]))
        rel(bw_nrd0(&[-2.5; 4]), 1.705_181_137_324_197_8, EXACT);
        // bw.nrd0(c(0, 0)) -> 0.7834955069665117 (abs(x[1]) = 0: 1)
        rel(bw_nrd0(&[0.0, 0.0]), 0.783_495_506_966_511_7, EXACT);
        // tryCatch(bw.nrd0(5), error = conditionMessage) -> "need at least 2 data points";
        // the same fallback instead: 0.9 * abs(5) * 1^(-0.2) -> 4.5
        rel(bw_nrd0(&[5.0]), 4.5, EXACT);
        rel(bw_nrd0(&[0.0]), 0.9, EXACT);
        assert!(bw_nrd0(&[]).is_nan());
    }

    #[test]
    fn density_is_the_exact_gaussian_kernel_sum() {
        let grid = [-2.0, 0.0, 2.0, 4.0, 6.0, 8.0, 10.0];
        // sapply(c(-2, 0, 2, 4, 6, 8, 10), function(u) mean(dnorm(u, c(1, 2, 2.5, 3, 7),
        //   bw.nrd0(c(1, 2, 2.5, 3, 7)))))
        let exact = [
            9.275_596_853_945_179e-10,
            0.019_907_406_335_823_625,
            0.300_367_634_993_056_1,
            0.021_328_717_384_045_154,
            0.019_871_687_247_263_518,
            0.019_871_686_318_728_467,
            9.275_593_282_321_731e-10,
        ];
        // density(c(1, 2, 2.5, 3, 7), n = 7, from = -2, to = 10)$y
        let binned = [
            9.827_676_367_200_917e-10,
            0.020_008_072_651_230_38,
            0.300_606_066_119_584_2,
            0.021_498_881_986_317_546,
            0.019_980_853_977_186_054,
            0.019_971_474_916_944_655,
            9.827_672_670_482_29e-10,
        ];
        for ((d, e), b) in kde(&D1, &grid).into_iter().zip(exact).zip(binned) {
            rel(d, e, EXACT);
            abs(d, b, DENSITY_BINNED_ABS);
        }
        let grid = [0.0, 2.5, 5.2];
        // sapply(c(0, 2.5, 5.2), function(u) mean(dnorm(u, c(0.1, 0.2, 0.3, 5.1, 5.2, 5.3),
        //   bw.nrd0(c(0.1, 0.2, 0.3, 5.1, 5.2, 5.3)))))
        let exact = [
            0.116_073_346_382_081_32,
            0.081_524_015_150_881_48,
            0.117_350_874_409_201_78,
        ];
        // density(c(0.1, 0.2, 0.3, 5.1, 5.2, 5.3), n = 3, from = 0, to = 5.2)$y
        let binned = [
            0.116_076_234_494_392_42,
            0.081_252_610_474_471_9,
            0.117_354_992_787_786_79,
        ];
        for ((d, e), b) in kde(&D2, &grid).into_iter().zip(exact).zip(binned) {
            rel(d, e, EXACT);
            abs(d, b, DENSITY_BINNED_ABS);
        }
    }

    #[test]
    fn density_of_constant_data_uses_the_fallback_bandwidth() {
        // sapply(c(2, 3, 4), function(u) mean(dnorm(u, c(3, 3, 3), bw.nrd0(c(3, 3, 3)))))
        let expected = [
            0.165_480_081_518_297_96,
            0.184_064_719_191_419_95,
            0.165_480_081_518_297_96,
        ];
        for (d, e) in kde(&[3.0, 3.0, 3.0], &[2.0, 3.0, 4.0]).into_iter().zip(expected) {
            rel(d, e, EXACT);
        }
        assert_eq!(kde(&[], &[0.0, 1.0]), vec![0.0, 0.0]);
    }

    #[test]
    fn the_density_integrates_to_about_one() {
        let grid: Vec<f64> = (0..3001).map(|i| -10.0 + 30.0 * i as f64 / 3000.0).collect();
        let d = kde(&D1, &grid);
        let area: f64 = d.iter().sum::<f64>() * (grid[1] - grid[0]);
        assert!((area - 1.0).abs() < 1e-3, "{area}");
    }
}
