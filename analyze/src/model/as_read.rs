//! The per-trial values as the study's R script read them.
//!
//! The published statistics were not computed from the raw run table our published accounting
//! reproduces but from `GL_Final_Run_Table_Edited.csv`, read with `readr::read_csv`. Each of
//! its columns is derived here from the replay the way that table was made, so that the "as
//! published" statistics rank exactly the values R ranked:
//!
//! - `energy`: the published accounting's energy (equal to the Edited table's to 6e-15
//!   relative; no two trials are that close, so the ranks are the same).
//! - `time(s)`: the duration in seconds rounded half up to 10 ms and written with a decimal
//!   comma (`"111,84"`), which `read_csv` takes as a grouping mark: R read 11184. So the
//!   duration as read is `round_half_up(duration_ms / 10)`, 100 times the seconds, and the
//!   power R computed (`energy / time(s)`) is 1/100 of a watt figure, rounded through the
//!   duration; sorted, 235 of the 900 published powers differ from energy ÷ exact duration.
//! - `energy_per_token`: energy ÷ max(tokens, 1), as the script computes it.
//! - `accuracy`: the mean of the five judged relevancy scores as pandas took it — over the
//!   trial's 80 prompt rows, NaN skipped, summed by numpy's pairwise summation (eight
//!   interleaved partial sums) and divided by the number of scores. The plain sum ÷ 5 differs
//!   from the Edited value in the last bit for 61 trials, which changes the ties Spearman's ρ
//!   sees; this reproduces 899 of the 900 values bit for bit (run 18, repetition 11 stays 2
//!   units in the last place off).
//! - **Reading the text back.** pandas wrote each float as Python's `repr` (the shortest string
//!   that round-trips) and `readr::read_csv` parsed it with vroom's `bsd_strtod`, which is not
//!   correctly rounded: it collects up to 18 digits as an integer and multiplies or divides by
//!   a power of ten built from 10^(2^i) factors. 136 of the 900 accuracies come back one unit
//!   in the last place above the written value (`0.9714285714285715` → `…716`), which again
//!   changes the ties; [`readr_double`] does the same, and with it Spearman's p for Llama 3 is
//!   0.5601 (published 0.56) instead of 0.5595.
//!
//! The audit lists the trials where the Edited value differs from the Raw table's.

use super::{PUBLISHED_SCORER, Study};
use crate::model::Metric;
use dataset::MetricsRow;
use std::collections::HashMap;

/// One trial's values as the R script read them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AsRead {
    /// Energy, J (published accounting).
    pub energy_j: f64,
    /// `time(s)` as read: the duration in units of 10 ms, rounded half up.
    pub duration: f64,
    /// Energy ÷ that duration.
    pub power: f64,
    /// Energy ÷ max(tokens, 1), J/token.
    pub energy_per_token: f64,
    /// Generated tokens.
    pub tokens: f64,
    /// Mean published relevancy score, summed as pandas did; None without scores.
    pub accuracy: Option<f64>,
}

impl AsRead {
    /// The value of a metric as read, None for a metric the Edited table does not hold.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        let v = match metric {
            Metric::Energy => Some(self.energy_j),
            Metric::Duration => Some(self.duration),
            Metric::Power => Some(self.power),
            Metric::EnergyPerToken => Some(self.energy_per_token),
            Metric::Tokens => Some(self.tokens),
            Metric::Accuracy => self.accuracy,
            _ => None,
        };
        v.filter(|x| x.is_finite())
    }
}

/// numpy's `sum` of a float64 array (`pairwise_sum`): fewer than 8 values in order; up to
/// its block size of 128, eight interleaved partial sums combined as ((0+1)+(2+3))+((4+5)+(6+7))
/// and the remainder added in order; above that, the two halves (split at a multiple of 8).
pub fn numpy_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        return a.iter().fold(0.0, |s, v| s + v);
    }
    if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        for chunk in a[8..whole].chunks_exact(8) {
            for (acc, v) in r.iter_mut().zip(chunk) {
                *acc += v;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for v in &a[whole..] {
            res += v;
        }
        return res;
    }
    let half = (n / 2) - (n / 2) % 8;
    numpy_sum(&a[..half]) + numpy_sum(&a[half..])
}

/// Powers 10^(2^i) of `bsd_strtod`.
const POWERS_OF_10: [f64; 9] = [1e1, 1e2, 1e4, 1e8, 1e16, 1e32, 1e64, 1e128, 1e256];

/// vroom's `bsd_strtod` (readr's double parser, from RetroBSD's strtod) on a decimal string
/// of digits with an optional sign, point and exponent. None for anything else.
pub fn bsd_strtod(text: &str) -> Option<f64> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    let mut digits: Vec<u8> = Vec::new();
    let mut point = None;
    for c in mantissa.bytes() {
        match c {
            b'.' if point.is_none() => point = Some(digits.len()),
            b'0'..=b'9' => digits.push(c - b'0'),
            _ => return None,
        }
    }
    if digits.is_empty() {
        return None;
    }
    let point = point.unwrap_or(digits.len()) as i32;
    let kept = digits.len().min(18);
    let split = kept.saturating_sub(9);
    let number = |d: &[u8]| d.iter().fold(0i64, |acc, &x| acc * 10 + i64::from(x));
    let fraction = 1e9 * number(&digits[..split]) as f64 + number(&digits[split..kept]) as f64;
    let exp = (point - kept as i32 + exponent).clamp(-307, 307);
    let mut scale = 1.0;
    let mut e = exp.unsigned_abs();
    let mut i = 0;
    while e != 0 {
        if e & 1 == 1 {
            scale *= POWERS_OF_10[i];
        }
        e >>= 1;
        i += 1;
    }
    let value = if exp < 0 {
        fraction / scale
    } else {
        fraction * scale
    };
    Some(if negative { -value } else { value })
}

/// A float written by pandas (Python's `repr`: positional for 1e-4 ≤ |x| < 1e16, else
/// scientific, shortest round-trip digits) and read back by `readr::read_csv`.
pub fn readr_double(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let text = if x == 0.0 || (1e-4..1e16).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    };
    bsd_strtod(&text).unwrap_or(x)
}

/// `time(s)` as R read it from the duration in seconds.
pub fn duration_as_read(duration_s: f64) -> f64 {
    let ms = (duration_s * 1000.0).round();
    (ms / 10.0 + 0.5).floor()
}

fn one(row: &MetricsRow, scores: Option<&Vec<(i64, f64)>>) -> AsRead {
    let duration = duration_as_read(row.duration_s);
    let accuracy = scores.filter(|s| !s.is_empty()).map(|s| {
        let rows =
            (row.requests.max(0) as usize).max(s.iter().map(|(i, _)| *i as usize + 1).max().unwrap_or(0));
        let mut values = vec![0.0; rows];
        for &(i, v) in s {
            values[i as usize] = v;
        }
        readr_double(numpy_sum(&values) / s.len() as f64)
    });
    let energy_j = row.energy_j.map_or(f64::NAN, readr_double);
    AsRead {
        energy_j,
        duration,
        power: energy_j / duration.max(1e-9),
        energy_per_token: energy_j / row.tokens.max(1) as f64,
        tokens: row.tokens as f64,
        accuracy,
    }
}

/// The values as read of every trial, in the order of [`Study::metrics`]. Meaningful under the
/// published accounting (the energies are the study's); under the corrected one they apply the
/// same reading to corrected energies.
pub fn as_read(study: &Study) -> Vec<AsRead> {
    let mut scores: HashMap<&str, Vec<(i64, f64)>> = HashMap::new();
    for j in study.judgments.iter() {
        if j.scorer == PUBLISHED_SCORER
            && let Some(v) = j.score
            && j.request_index >= 0
        {
            scores
                .entry(j.run_id.as_str())
                .or_default()
                .push((j.request_index, v));
        }
    }
    for s in scores.values_mut() {
        s.sort_by_key(|(i, _)| *i);
    }
    study
        .metrics
        .iter()
        .map(|r| one(r, scores.get(r.key.run_id.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_half_up_to_ten_milliseconds() {
        // run_25_repetition_18: 111,843 ms, written "111,84", read 11184.
        assert_eq!(duration_as_read(111.843), 11184.0);
        // 211,865 ms: "211,87" in the Edited table (half up, not to even).
        assert_eq!(duration_as_read(211.865), 21187.0);
        assert_eq!(duration_as_read(125.845), 12585.0);
    }

    #[test]
    fn readr_reads_some_shortest_strings_one_unit_high() {
        // The Edited table's accuracy of run 28, repetition 9.
        assert_eq!(bsd_strtod("0.9714285714285715"), Some(0.9714285714285716));
        assert_eq!(readr_double(0.9714285714285715), 0.9714285714285716);
        // Most values come back as written.
        assert_eq!(readr_double(43251.90528925778), 43251.90528925778);
        assert_eq!(bsd_strtod("111843"), Some(111843.0));
        assert_eq!(bsd_strtod("-2.5e-3"), Some(-0.0025));
        assert_eq!(bsd_strtod("1,5"), None);
        assert_eq!(readr_double(1.5e-7), bsd_strtod("1.5e-7").unwrap());
    }

    #[test]
    fn numpy_sum_interleaves_eight_partial_sums() {
        // run_1_repetition_11's prompts_out.tsv: 1.0 at rows 23, 36, 51, 58 and
        // 0.8333333333333334 at row 64 of 80; the Edited table holds 0.9666666666666668 where
        // the sum in order gives 0.9666666666666666.
        let mut v = vec![0.0; 80];
        for (i, s) in [
            (23, 1.0),
            (36, 1.0),
            (51, 1.0),
            (58, 1.0),
            (64, 0.8333333333333334),
        ] {
            v[i] = s;
        }
        assert_eq!(numpy_sum(&v) / 5.0, 0.9666666666666668);
        let plain: f64 = [1.0, 1.0, 1.0, 1.0, 0.8333333333333334].iter().sum();
        assert_eq!(plain / 5.0, 0.9666666666666666);
        // Short arrays are summed in order; long ones split into halves.
        assert_eq!(numpy_sum(&[0.1, 0.2, 0.3]), 0.1 + 0.2 + 0.3);
        let long: Vec<f64> = (0..300).map(|i| i as f64).collect();
        assert_eq!(numpy_sum(&long), 44850.0);
    }
}
