//! Agreement of two raters beyond chance: Cohen's κ (Cohen 1960, "A coefficient of agreement
//! for nominal scales", *Educational and Psychological Measurement* 20, 37–46) of a 2×2 table.
//! The accuracy section compares every scorer with the gold labels by it.

/// Cohen's κ of a 2×2 table `[a, b, c, d]` = [yes/yes, yes/no, no/yes, no/no] (first rater /
/// second rater): (p_o − p_e) / (1 − p_e) with p_o = (a + d)/n and p_e from the marginals.
/// Matches `sklearn.metrics.cohen_kappa_score`. None when p_e = 1 (both raters used one
/// category) or the table is empty.
pub fn cohens_kappa(t: [usize; 4]) -> Option<f64> {
    let [a, b, c, d] = t.map(|x| x as f64);
    let n = a + b + c + d;
    if n == 0.0 {
        return None;
    }
    let po = (a + d) / n;
    let pe = ((a + b) / n) * ((a + c) / n) + ((c + d) / n) * ((b + d) / n);
    (pe < 1.0).then(|| (po - pe) / (1.0 - pe))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{EXACT, rel};
    use super::*;

    #[test]
    fn kappa_matches_the_formula_in_r_and_sklearn() {
        // kappa2(2, 1, 0, 2) (refs.R: t <- matrix(c(yy, ny, yn, nn), 2); (po - pe)/(1 - pe))
        //   -> 0.6153846153846155;
        // sklearn.metrics.cohen_kappa_score([1,1,1,0,0], [1,1,0,0,0]) -> 0.6153846153846154
        rel(
            cohens_kappa([2, 1, 0, 2]).unwrap_or(f64::NAN),
            0.615_384_615_384_615_5,
            EXACT,
        );
        // kappa2(20, 5, 10, 15) -> 0.3999999999999999
        rel(
            cohens_kappa([20, 5, 10, 15]).unwrap_or(f64::NAN),
            0.399_999_999_999_999_9,
            EXACT,
        );
        // kappa2(40, 9, 6, 45) -> 0.6995192307692307
        rel(
            cohens_kappa([40, 9, 6, 45]).unwrap_or(f64::NAN),
            0.699_519_230_769_230_7,
            EXACT,
        );
    }

    #[test]
    fn perfect_opposite_and_undefined_agreement() {
        // kappa2(3, 0, 0, 2) -> 1; kappa2(0, 5, 5, 0) -> -1
        assert_eq!(cohens_kappa([3, 0, 0, 2]), Some(1.0));
        assert_eq!(cohens_kappa([0, 5, 5, 0]), Some(-1.0));
        // kappa2(4, 0, 0, 0) -> NA (0/0: one category only)
        assert_eq!(cohens_kappa([4, 0, 0, 0]), None);
        assert_eq!(cohens_kappa([0, 0, 0, 0]), None);
    }
}
