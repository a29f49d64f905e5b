//! The cost of the per-request energy attribution (`dataset::attribution`) at serving scale:
//! one trial of 1,000 requests × 500 content chunks each (about 50 in flight at once), sampled
//! every 100 ms with NVML's power and energy counter, timed over several rounds. `bench/attribution.sh`
//! runs it in a release build and prints the figure; the target is 50 ms.

use dataset::{Request, SampleColumn, SampleTable, Trial, TrialKey, TrialStatus};
use std::time::Instant;

const REQUESTS: i64 = 1000;
const CHUNKS: i64 = 500;
/// A request every 100 ms, each 5 s long: 50 in flight in the steady state.
const ARRIVAL_MS: i64 = 100;
const CHUNK_MS: i64 = 10;
const SAMPLE_MS: i64 = 100;
const ROUNDS: usize = 15;

fn main() {
    let t0: i64 = 1_767_225_600_000;
    let requests: Vec<Request> = (0..REQUESTS)
        .map(|i| {
            let start = t0 + i * ARRIVAL_MS;
            let offsets: Vec<i64> = (1..=CHUNKS)
                .map(|k| k * CHUNK_MS * 1000 + (i % 7) * 100)
                .collect();
            let end = start + offsets.last().copied().unwrap_or(0) / 1000;
            Request {
                run_id: "run_0_repetition_0".into(),
                index: i,
                start_ms: start,
                end_ms: end,
                ttft_ms: Some(CHUNK_MS as f64),
                prompt_tokens: Some(120),
                completion_tokens: Some(CHUNKS),
                chunks: Some(CHUNKS),
                chunk_tokens: Some(vec![1; CHUNKS as usize]),
                chunk_offsets_us: Some(offsets),
                ..Default::default()
            }
        })
        .collect();
    let end = requests.iter().map(|r| r.end_ms).max().unwrap_or(t0);
    let n = ((end - t0) / SAMPLE_MS + 3) as usize;
    let time_ms: Vec<i64> = (0..n as i64).map(|k| t0 - SAMPLE_MS + k * SAMPLE_MS).collect();
    // 300 W plus a ripple, its counter the exact trapezoid of the power.
    let power_mw: Vec<f64> = (0..n)
        .map(|k| 300_000.0 + 20_000.0 * ((k % 10) as f64 / 10.0))
        .collect();
    let mut counter = vec![1.0e9; n];
    for k in 1..n {
        counter[k] = counter[k - 1] + (power_mw[k] + power_mw[k - 1]) / 2.0 * SAMPLE_MS as f64 / 1000.0;
    }
    let samples = SampleTable {
        time_ms,
        columns: vec![
            SampleColumn::new("GPU0_POWER (mWatts)", power_mw),
            SampleColumn::new("GPU0_ENERGY (mJ)", counter),
        ],
    };
    let trial = Trial {
        key: TrialKey {
            run_id: "run_0_repetition_0".into(),
            concurrency: Some(50),
            ..Default::default()
        },
        status: TrialStatus::Done,
        start_ms: t0,
        end_ms: end,
        time_resolution_ms: 1,
        sample_interval_ms: Some(SAMPLE_MS as f64),
        ..Default::default()
    };
    let mut times = Vec::with_capacity(ROUNDS);
    let mut check = 0.0;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let a = dataset::attribution::attribute(&trial, &requests, &samples, Default::default());
        times.push(started.elapsed().as_secs_f64() * 1e3);
        check = a.map_or(f64::NAN, |a| {
            a.shares.iter().map(|s| s.energy_j).sum::<f64>() + a.unattributed_j
        });
    }
    times.sort_by(f64::total_cmp);
    let started = Instant::now();
    let rows = dataset::accounting::request_metrics(&trial, &requests, &samples);
    let with_rows_ms = started.elapsed().as_secs_f64() * 1e3;
    println!(
        "attribution of {REQUESTS} requests x {CHUNKS} chunks, {n} samples: median {:.1} ms, min {:.1} ms over {ROUNDS} rounds \
         (target 50 ms); with every request's own-window integral and latencies ({} rows): {with_rows_ms:.1} ms; \
         {check:.1} J conserved",
        times[ROUNDS / 2],
        times[0],
        rows.len()
    );
}
