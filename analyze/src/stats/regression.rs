//! Ordinary least squares of a straight line, y = a + b·x (Legendre 1805, Gauss 1809): the fit
//! the scatter figures draw per generation; R's `coef(lm(y ~ x))`.

/// The intercept `a` and slope `b` of the least-squares line through `points` (x, y):
/// b = Σ(x − x̄)(y − ȳ) / Σ(x − x̄)², a = ȳ − b·x̄. None for fewer than two points or fewer
/// than two distinct x (where R's `lm` reports the slope as NA).
pub fn least_squares(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| {
        let b = sxy / sxx;
        (my - b * mx, b)
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{EXACT, rel};
    use super::*;

    fn fit(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
        let points: Vec<(f64, f64)> = x.iter().copied().zip(y.iter().copied()).collect();
        least_squares(&points)
    }

    #[test]
    fn coefficients_match_r_lm() {
        // coef(lm(y ~ x)), x = c(1, 2, 3, 4, 5, 6), y = c(2.1, 3.9, 6.2, 7.8, 10.1, 12.2)
        //   -> -0.020000000000003314, 2.0200000000000005
        let (a, b) = fit(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2.1, 3.9, 6.2, 7.8, 10.1, 12.2]).expect("fit");
        rel(a, -0.020_000_000_000_003_314, EXACT);
        rel(b, 2.020_000_000_000_000_5, EXACT);
        // coef(lm(y ~ x)), x = c(-3.5, 0.25, 1e3, 12), y = c(7, -1, 40, 2.5)
        //   -> 2.732870319184155, 0.03724264557448662
        let (a, b) = fit(&[-3.5, 0.25, 1e3, 12.0], &[7.0, -1.0, 40.0, 2.5]).expect("fit");
        rel(a, 2.732_870_319_184_155, EXACT);
        rel(b, 0.037_242_645_574_486_62, EXACT);
    }

    #[test]
    fn an_exact_line_is_recovered() {
        // coef(lm(y ~ x)), x = c(0, 1, 2), y = c(1, 3, 5) -> 1, 1.9999999999999998
        let (a, b) = fit(&[0.0, 1.0, 2.0], &[1.0, 3.0, 5.0]).expect("fit");
        rel(a, 1.0, EXACT);
        rel(b, 2.0, EXACT);
    }

    #[test]
    fn no_line_without_two_distinct_x() {
        // coef(lm(y ~ x)), x = c(1, 1), y = c(1, 2) -> 1.4999999999999998, NA
        assert_eq!(fit(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(fit(&[1.0], &[1.0]), None);
        assert_eq!(fit(&[], &[]), None);
    }
}
