//! Energy per request under concurrency (`dataset::attribution`): each sample interval's
//! energy is split across the requests in flight by the tokens they processed in it; intervals
//! with none in flight are unattributed; requests + unattributed = the trial's energy.

#![allow(clippy::unwrap_used)] // a panic is a failed test

use approx::assert_relative_eq;
use dataset::attribution::{Settings, attribute};
use dataset::{Request, SampleColumn, SampleTable, Trial, TrialKey};

/// Samples every 10 ms over [0, 2 s]: GPU power constant 300 W, CPU package counter at 50 W.
fn samples() -> SampleTable {
    let t: Vec<i64> = (0..=200).map(|i| i * 10).collect();
    SampleTable {
        columns: vec![
            SampleColumn::new("GPU0_POWER (mWatts)", vec![300_000.0; t.len()]),
            SampleColumn::new(
                "PACKAGE_ENERGY (J)",
                t.iter().map(|&ms| 50.0 * ms as f64 / 1000.0).collect(),
            ),
        ],
        time_ms: t,
    }
}

fn trial() -> Trial {
    Trial {
        key: TrialKey {
            run_id: "r".into(),
            ..Default::default()
        },
        time_resolution_ms: 1,
        ..Default::default()
    }
}

/// A request over [a, b] ms with a TTFT, `prompt` prompt tokens and `n` generated tokens
/// streamed one per chunk, evenly from the first chunk to the end.
fn req(index: i64, a: i64, b: i64, ttft: f64, prompt: i64, n: i64) -> Request {
    let first = a as f64 + ttft;
    let offsets = (0..n)
        .map(|i| ((first - a as f64 + (b as f64 - first) * i as f64 / (n - 1).max(1) as f64) * 1000.0) as i64)
        .collect();
    Request {
        run_id: "r".into(),
        index,
        start_ms: a,
        end_ms: b,
        ttft_ms: Some(ttft),
        prompt_tokens: Some(prompt),
        completion_tokens: Some(n),
        chunk_offsets_us: Some(offsets),
        ..Default::default()
    }
}

const W: f64 = 350.0; // 300 W GPU + 50 W package

#[test]
fn sequential_requests_are_measured_and_gaps_are_unattributed() {
    let requests = [req(0, 100, 300, 50.0, 10, 20), req(1, 400, 700, 40.0, 12, 30)];
    let a = attribute(&trial(), &requests, &samples(), Settings::default()).unwrap();
    assert_relative_eq!(a.trial_j, W * 0.6, max_relative = 1e-12);
    assert_relative_eq!(a.shares[0].energy_j, W * 0.2, max_relative = 1e-12);
    assert_relative_eq!(a.shares[1].energy_j, W * 0.3, max_relative = 1e-12);
    assert_relative_eq!(a.unattributed_j, W * 0.1, max_relative = 1e-12);
    assert!(a.shares.iter().all(|s| s.alone));
    // Prefill is its share of the tokens processed during send → first chunk.
    assert!(a.shares[0].prefill_j > 0.0 && a.shares[0].decode_j > a.shares[0].prefill_j);
    assert_relative_eq!(
        a.shares[0].prefill_j + a.shares[0].decode_j,
        a.shares[0].energy_j,
        max_relative = 1e-12
    );
    // ML.ENERGY's attribution: J per generated token over the trial × the request's tokens.
    assert_relative_eq!(
        a.shares[0].mlenergy_j.unwrap(),
        W * 0.6 / 50.0 * 20.0,
        max_relative = 1e-12
    );
}

#[test]
fn overlapping_requests_split_intervals_by_tokens_and_conserve_the_trial() {
    // Two identical requests in flight together: each gets half of every joule.
    let both = [req(0, 100, 900, 100.0, 20, 40), req(1, 100, 900, 100.0, 20, 40)];
    let a = attribute(&trial(), &both, &samples(), Settings::default()).unwrap();
    assert_relative_eq!(a.shares[0].energy_j, W * 0.8 / 2.0, max_relative = 1e-12);
    assert_relative_eq!(a.shares[1].energy_j, W * 0.8 / 2.0, max_relative = 1e-12);
    assert!(!a.shares[0].alone);
    assert!(a.unattributed_j.abs() < 1e-9);
    // One generating twice the tokens of the other over the same window gets two thirds of the
    // decode (tokens are counted per 10 ms interval, so the ratio is 2 up to rounding of the
    // ~11 and ~6 tokens in each).
    let uneven = [req(0, 100, 900, 100.0, 0, 800), req(1, 100, 900, 100.0, 0, 400)];
    let a = attribute(&trial(), &uneven, &samples(), Settings::default()).unwrap();
    let ratio = a.shares[0].decode_j / a.shares[1].decode_j;
    assert!((ratio - 2.0).abs() < 0.05, "{ratio}");
    // Many overlapping requests at random: requests + unattributed = the trial, exactly.
    let mut seed = 7_u64;
    let mut next = |m: i64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as i64).rem_euclid(m)
    };
    let many: Vec<Request> = (0..32)
        .map(|i| {
            let a = 50 + next(1200);
            let b = a + 30 + next(600);
            req(i, a, b, (next(25) + 1) as f64, next(200), 1 + next(60))
        })
        .collect();
    let a = attribute(&trial(), &many, &samples(), Settings { prefill_weight: 0.5 }).unwrap();
    let sum: f64 = a.shares.iter().map(|s| s.energy_j).sum::<f64>() + a.unattributed_j;
    assert_relative_eq!(sum, a.trial_j, max_relative = 1e-12);
    assert!(a.shares.iter().all(|s| s.energy_j >= 0.0 && s.error_j >= 0.0));
}

#[test]
fn a_pause_with_nothing_processed_is_shared_by_the_requests_in_flight() {
    // Both send their single chunk at the end; in between nothing is processed.
    let mut r0 = req(0, 100, 500, 399.0, 0, 1);
    let mut r1 = req(1, 100, 500, 399.0, 0, 1);
    r0.chunk_offsets_us = Some(vec![399_000]);
    r1.chunk_offsets_us = Some(vec![399_000]);
    let a = attribute(&trial(), &[r0, r1], &samples(), Settings::default()).unwrap();
    assert_relative_eq!(a.shares[0].energy_j, W * 0.4 / 2.0, max_relative = 1e-12);
    assert_relative_eq!(a.shares[1].energy_j, W * 0.4 / 2.0, max_relative = 1e-12);
}

#[test]
fn whole_second_data_and_unmeasured_energy_are_not_attributed() {
    let coarse = Trial {
        time_resolution_ms: 1000,
        ..trial()
    };
    assert!(
        attribute(
            &coarse,
            &[req(0, 1000, 2000, 10.0, 1, 2)],
            &samples(),
            Settings::default()
        )
        .is_none()
    );
    let none = SampleTable {
        time_ms: vec![0, 1000],
        columns: vec![SampleColumn::new("GPU0_USAGE", vec![1.0, 2.0])],
    };
    assert!(
        attribute(
            &trial(),
            &[req(0, 100, 200, 10.0, 1, 2)],
            &none,
            Settings::default()
        )
        .is_none()
    );
}

#[test]
fn request_latencies_come_from_the_chunk_times() {
    use dataset::accounting::request_metrics;
    // 11 chunks 20 ms apart after a 50 ms TTFT, then one 100 ms stall: TPOT is (end − first
    // chunk) / (tokens − 1), the gap quantiles are R's type 7.
    let mut r = req(0, 100, 450, 50.0, 10, 12);
    let mut offsets: Vec<i64> = (0..11).map(|i| 50_000 + 20_000 * i).collect();
    offsets.push(offsets[10] + 100_000);
    r.chunk_offsets_us = Some(offsets);
    let rows = request_metrics(&trial(), &[r], &samples());
    let m = &rows[0];
    assert_relative_eq!(m.tpot_ms.unwrap(), 300.0 / 11.0, max_relative = 1e-12);
    assert_relative_eq!(m.itl_p50_ms.unwrap(), 20.0, max_relative = 1e-12);
    // 11 sorted gaps: ten of 20 ms, one of 100 ms; p90 at h = 9 is 20, p99 at h = 9.9 is 92.
    assert_relative_eq!(m.itl_p90_ms.unwrap(), 20.0, max_relative = 1e-12);
    assert_relative_eq!(m.itl_p99_ms.unwrap(), 92.0, max_relative = 1e-12);
    // One token: no TPOT; one chunk: no gaps.
    let one = req(0, 100, 200, 50.0, 10, 1);
    let rows = request_metrics(&trial(), &[one], &samples());
    assert_eq!((rows[0].tpot_ms, rows[0].itl_p50_ms), (None, None));
}
