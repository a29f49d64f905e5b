//! The seeded choice of which requests of a trial the LLM judge sees (`--sample K`).
//!
//! Each trial gets its own ChaCha8 stream, seeded from the run seed and the trial's `run_id`,
//! and draws a Fisher–Yates shuffle of its request indices one position at a time; the first
//! K drawn are judged. The draw uses only `next_u64` (whose output ChaCha8 fixes for good) and
//! an unbiased rejection step written here, so a selection never changes with a `rand`
//! upgrade, and a larger K extends a smaller one instead of picking anew.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Indices (ascending) of the requests to judge among `n`: all of them without `k`, otherwise
/// the first `k` positions of the trial's seeded shuffle.
pub fn pick(n: usize, k: Option<usize>, seed: u64, run_id: &str) -> Vec<usize> {
    let Some(k) = k.filter(|&k| k < n) else {
        return (0..n).collect();
    };
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..24].copy_from_slice(&xxhash_rust::xxh3::xxh3_128(run_id.as_bytes()).to_le_bytes());
    let mut rng = ChaCha8Rng::from_seed(key);
    let mut order: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = i + below(&mut rng, (n - i) as u64) as usize;
        order.swap(i, j);
    }
    let mut chosen = order[..k].to_vec();
    chosen.sort_unstable();
    chosen
}

/// A uniform integer in `0..bound` (bound > 0) by rejection: draws above the largest multiple
/// of `bound` are thrown away, so no value is favoured.
fn below(rng: &mut ChaCha8Rng, bound: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let x = rng.next_u64();
        if x < zone {
            return x % bound;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_k_every_request_is_picked() {
        assert_eq!(pick(4, None, 1, "run_0"), vec![0, 1, 2, 3]);
        assert_eq!(pick(3, Some(5), 1, "run_0"), vec![0, 1, 2]);
    }

    #[test]
    fn a_pick_is_stable_and_depends_on_seed_and_trial() {
        let a = pick(80, Some(5), 7, "run_1_repetition_0");
        assert_eq!(a.len(), 5);
        assert_eq!(a, pick(80, Some(5), 7, "run_1_repetition_0"));
        assert_ne!(a, pick(80, Some(5), 8, "run_1_repetition_0"));
        assert_ne!(a, pick(80, Some(5), 7, "run_1_repetition_1"));
        // Pinned: the selection is part of the dataset's meaning and must never drift.
        assert_eq!(pick(10, Some(3), 0, "run_0_repetition_0"), PINNED);
    }

    const PINNED: [usize; 3] = [3, 8, 9];

    #[test]
    fn a_larger_sample_extends_a_smaller_one() {
        let small = pick(80, Some(5), 3, "t");
        let large = pick(80, Some(10), 3, "t");
        assert!(small.iter().all(|i| large.contains(i)));
    }
}
