//! Multiple-comparison adjustment of p-values: Benjamini–Hochberg (false discovery rate) and
//! Holm (family-wise error rate), as R's `p.adjust` computes them.

/// Benjamini–Hochberg (1995) step-up adjustment, R `p.adjust(p, "BH")` and statsmodels
/// `multipletests(p, method="fdr_bh")[1]`: with the m p-values sorted in decreasing order,
/// p̃₍ᵢ₎ = min(1, minⱼ≥ᵢ m/j · p₍ⱼ₎).
///
/// The output has the order of the input. NaN entries pass through as NaN and are not counted
/// in m (R's default `n = length(p[!is.na(p)])`).
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let mut out = vec![f64::NAN; p.len()];
    let mut idx: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    let m = idx.len();
    // Decreasing p; ties in any order give the same result.
    idx.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let mut running = f64::INFINITY;
    for (k, &i) in idx.iter().enumerate() {
        let rank = (m - k) as f64; // rank in increasing order, 1-based
        running = running.min(m as f64 / rank * p[i]);
        out[i] = running.min(1.0);
    }
    out
}

/// Holm (1979) step-down adjustment, R `p.adjust(p, "holm")` and statsmodels
/// `multipletests(p, method="holm")[1]`: with the m p-values sorted in increasing order,
/// p̃₍ᵢ₎ = min(1, maxⱼ≤ᵢ (m − j + 1) · p₍ⱼ₎).
///
/// The output has the order of the input. NaN entries pass through as NaN and are not counted
/// in m.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut out = vec![f64::NAN; p.len()];
    let mut idx: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    let m = idx.len();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut running = f64::NEG_INFINITY;
    for (k, &i) in idx.iter().enumerate() {
        running = running.max((m - k) as f64 * p[i]);
        out[i] = running.min(1.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{P_ABS, abs};
    use super::*;

    const P: [f64; 8] = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 0.5, 0.0001];

    fn all_close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            abs(*g, *w, P_ABS);
        }
    }

    #[test]
    fn bh_matches_statsmodels() {
        // statsmodels multipletests([0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 0.5, 0.0001],
        //   method='fdr_bh')[1] -> [0.02666666666666667, 0.05333333333333334,
        //   0.05333333333333334, 0.02, 0.2285714285714286, 0.05333333333333334, 0.5, 0.0008]
        let want = [
            0.026_666_666_666_666_67,
            0.053_333_333_333_333_34,
            0.053_333_333_333_333_34,
            0.02,
            0.228_571_428_571_428_6,
            0.053_333_333_333_333_34,
            0.5,
            0.0008,
        ];
        all_close(&benjamini_hochberg(&P), &want);
        // statsmodels multipletests([0.9, 0.8, 0.85], method='fdr_bh')[1] -> [0.9, 0.9, 0.9]
        all_close(&benjamini_hochberg(&[0.9, 0.8, 0.85]), &[0.9, 0.9, 0.9]);
    }

    #[test]
    fn holm_matches_statsmodels() {
        // statsmodels multipletests([0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 0.5, 0.0001],
        //   method='holm')[1] -> [0.06, 0.16, 0.15, 0.035, 0.4, 0.16, 0.5, 0.0008]
        let want = [0.06, 0.16, 0.15, 0.035, 0.4, 0.16, 0.5, 0.0008];
        all_close(&holm(&P), &want);
        // statsmodels multipletests([0.9, 0.8, 0.85], method='holm')[1] -> [1.0, 1.0, 1.0]
        all_close(&holm(&[0.9, 0.8, 0.85]), &[1.0, 1.0, 1.0]);
    }

    #[test]
    fn nan_passes_through_and_is_not_counted() {
        let with_nan = [
            0.01,
            f64::NAN,
            0.04,
            0.03,
            0.005,
            0.2,
            0.04,
            0.5,
            f64::NAN,
            0.0001,
        ];
        let bh = benjamini_hochberg(&with_nan);
        let ho = holm(&with_nan);
        let (bh_ref, ho_ref) = (benjamini_hochberg(&P), holm(&P));
        let keep = [0usize, 2, 3, 4, 5, 6, 7, 9];
        for (k, &i) in keep.iter().enumerate() {
            assert_eq!(bh[i], bh_ref[k]);
            assert_eq!(ho[i], ho_ref[k]);
        }
        assert!(bh[1].is_nan() && bh[8].is_nan() && ho[1].is_nan() && ho[8].is_nan());
    }

    #[test]
    fn empty_and_single() {
        assert!(benjamini_hochberg(&[]).is_empty());
        assert!(holm(&[]).is_empty());
        assert_eq!(benjamini_hochberg(&[0.3]), vec![0.3]);
        assert_eq!(holm(&[0.3]), vec![0.3]);
        assert!(holm(&[f64::NAN])[0].is_nan());
    }
}
