//! The attribution end to end: collect drives the batching fake server (`endpoint::fake` with
//! `batching`: forward steps over every request in flight, step time sub-linear in the batch,
//! power rising with it) while its `fake` energy source follows the server's energy ledger; the
//! per-request energy the accounting attributes (`dataset::accounting::request_metrics_attributed`,
//! what `analyze metrics --requests-csv` writes as `energy_j`) is compared with each request's
//! true energy from the server's ledger, at concurrency 1, 8 and 32.
//!
//! The comparison is over the GPU channels only: the ledger is the GPU's, while the source's CPU
//! and DRAM stay at constant scripted power (that part is checked by conservation, over every
//! channel). Tolerances are in [`Tolerance`], each with the figures it was chosen from.

#![allow(clippy::unwrap_used)] // a panic is a failed test

mod common;

use common::{collect, read_all};
use dataset::accounting::request_metrics_attributed;
use dataset::{RequestMetricsRow, SampleTable};
use endpoint::fake::{BatchModel, FakeScript, FakeServer, RequestEnergy};
use std::path::Path;
use std::sync::Mutex;

/// The runs share the machine's cores with each other badly: a step's tokens reach collect
/// late when the CPU is busy, so the tests of this file run one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Writes a one-trial study into `dir`: `n` prompts of 10 to 160 words (so prefills differ),
/// `load` as the `[experiment]` lines that set the load, 10 ms sampling, scripted (fake)
/// energy, no baseline.
fn write_study(dir: &Path, tag: &str, n: usize, load: &str) {
    let pdir = dir.join("prompts");
    std::fs::create_dir_all(&pdir).unwrap();
    let lines: Vec<String> = (0..n)
        .map(|i| {
            let words = 10 + (i * 37) % 151;
            let text: Vec<String> = (0..words).map(|w| format!("w{}", (w * 7 + i) % 50)).collect();
            serde_json::json!({"idx": i, "prompt": format!("{tag} item {i}: {}", text.join(" ")), "label": true})
                .to_string()
        })
        .collect();
    std::fs::write(pdir.join("COPA.jsonl"), lines.join("\n") + "\n").unwrap();
    let text = format!(
        "tasks = [\"COPA\"]\n\n[experiment]\nname = \"attribution\"\nrepetitions = 1\nseed = 7\n\
         cooldown_s = 0\ninterval_ms = 10\nbaseline_s = 0\nprompts = \"prompts\"\nenergy = \"fake\"\n\
         {load}\n\n[server]\nretry_backoff_ms = 5\nretries = 2\n\n[generation]\nmax_tokens = 64\n\n\
         [[models]]\nname = \"fake-model\"\ngeneration = \"3.0\"\nsize = \"1B\"\n"
    );
    std::fs::write(dir.join("config.toml"), text).unwrap();
}

/// What one run measured against the truth.
#[derive(Debug)]
struct Measured {
    /// Relative error of each request's attributed GPU energy against its true energy, sorted.
    errors: Vec<f64>,
    /// The same for the decode part alone, sorted.
    decode_errors: Vec<f64>,
    /// Median relative error of the request's own-window GPU energy (for contrast).
    window_median: f64,
    /// Median relative error of ML.ENERGY's attribution (J per generated token, for contrast).
    mlenergy_median: f64,
    /// |requests + unattributed − trial| / trial over every channel.
    conservation: f64,
    /// |trial GPU energy − the ledger's energy over the trial's window| / the latter.
    trial_gpu: f64,
    /// Requests compared.
    requests: usize,
}

impl Measured {
    fn quantile(&self, q: f64) -> f64 {
        let e = &self.errors;
        e[((e.len() - 1) as f64 * q).round() as usize]
    }

    fn max(&self) -> f64 {
        self.errors.last().copied().unwrap_or(f64::NAN)
    }
}

/// The GPU channels of a sample table.
fn gpu_only(samples: &SampleTable) -> SampleTable {
    SampleTable {
        time_ms: samples.time_ms.clone(),
        columns: samples
            .columns
            .iter()
            .filter(|c| c.name.starts_with("GPU"))
            .cloned()
            .collect(),
    }
}

/// Runs collect against a fresh batching server with `n` prompts under `load`; returns the
/// attribution's errors against the server's ledger.
fn measure(tag: &str, n: usize, load: &str) -> Measured {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), tag, n, load);
    let server = FakeServer::spawn(FakeScript {
        models: vec!["fake-model".into()],
        tokens_min: 8,
        tokens_max: 40,
        batching: Some(BatchModel::default()),
        ..FakeScript::default()
    })
    .unwrap();
    collect(tmp.path())
        .args([
            "--config",
            "config.toml",
            "--out",
            "data",
            "--endpoint",
            &server.base_url,
        ])
        .assert()
        .success();
    let trials = read_all(&tmp.path().join("data"));
    assert_eq!(trials.len(), 1);
    let t = &trials[0];
    assert!(t.trial.simulated);
    assert_eq!(t.requests.len(), n);
    assert!(t.requests.iter().all(|r| r.error.is_none()));
    // Conservation over every channel: requests + unattributed = the trial's energy.
    let (rows, unattributed) = request_metrics_attributed(&t.trial, &t.requests, &t.samples);
    let trial_j = t.metrics().energy_j.unwrap();
    let attributed: f64 = rows.iter().map(|r| r.energy_j.unwrap()).sum();
    let conservation = (attributed + unattributed.unwrap() - trial_j).abs() / trial_j;
    // The GPU alone against the ledger.
    let gpu = gpu_only(&t.samples);
    let (rows, _) = request_metrics_attributed(&t.trial, &t.requests, &gpu);
    let truth = server.stats.request_energy();
    let true_of = |seed: Option<i64>, prompt: &str| -> &RequestEnergy {
        let found: Vec<&RequestEnergy> = truth
            .iter()
            .filter(|e| e.complete && Some(e.seed) == seed && e.prompt.ends_with(prompt))
            .collect();
        assert_eq!(found.len(), 1, "the ledger's entries for `{prompt}`");
        found[0]
    };
    let rel = |a: f64, b: f64| (a - b).abs() / b;
    let mut errors = Vec::new();
    let mut decode_errors = Vec::new();
    let mut window = Vec::new();
    let mut mlenergy = Vec::new();
    for (r, row) in t.requests.iter().zip(&rows) {
        let e = true_of(r.seed, &r.prompt);
        assert_eq!(r.prompt_tokens, Some(e.prompt_tokens as i64));
        assert_eq!(r.completion_tokens, Some(e.generated_tokens as i64));
        let RequestMetricsRow {
            energy_j,
            decode_energy_j,
            window_energy_j,
            mlenergy_energy_j,
            ..
        } = row;
        mlenergy.push(rel(mlenergy_energy_j.unwrap(), e.energy_j()));
        errors.push(rel(energy_j.unwrap(), e.energy_j()));
        decode_errors.push(rel(decode_energy_j.unwrap(), e.decode_j));
        window.push(rel(window_energy_j.unwrap(), e.energy_j()));
    }
    errors.sort_by(f64::total_cmp);
    decode_errors.sort_by(f64::total_cmp);
    window.sort_by(f64::total_cmp);
    mlenergy.sort_by(f64::total_cmp);
    let ledger_j = |ms: i64| server.stats.energy_at(ms as f64).unwrap().energy_mj / 1000.0;
    let truth_gpu = ledger_j(t.trial.end_ms) - ledger_j(t.trial.start_ms);
    let m = Measured {
        requests: errors.len(),
        errors,
        decode_errors,
        window_median: window[window.len() / 2],
        mlenergy_median: mlenergy[mlenergy.len() / 2],
        conservation,
        trial_gpu: rel(t.metrics().gpu_j.unwrap(), truth_gpu),
    };
    eprintln!(
        "{tag}: {} requests, error median {:.4} p90 {:.4} max {:.4}, decode median {:.4}, \
         own window median {:.3}, ML.ENERGY median {:.4}, conservation {:.1e}, \
         trial GPU vs ledger {:.1e}",
        m.requests,
        m.quantile(0.5),
        m.quantile(0.9),
        m.max(),
        m.decode_errors[m.decode_errors.len() / 2],
        m.window_median,
        m.mlenergy_median,
        m.conservation,
        m.trial_gpu,
    );
    m
}

/// How close the attribution must come to the truth.
#[derive(Debug, Clone, Copy)]
struct Tolerance {
    median: f64,
    p90: f64,
    max: f64,
}

/// Requests + unattributed equal the trial's energy up to floating-point rounding.
const CONSERVATION: f64 = 1e-9;

/// The trial's GPU energy is the ledger's over its window, up to the linear interpolation of
/// the counter at the window's edges (inside one 10 ms sample interval).
const TRIAL_GPU: f64 = 1e-2;

fn check(m: &Measured, tol: Tolerance, what: &str) {
    assert!(
        m.conservation <= CONSERVATION,
        "{what}: conservation {}",
        m.conservation
    );
    assert!(
        m.trial_gpu <= TRIAL_GPU,
        "{what}: trial GPU energy off by {}",
        m.trial_gpu
    );
    let (median, p90, max) = (m.quantile(0.5), m.quantile(0.9), m.max());
    assert!(
        median <= tol.median && p90 <= tol.p90 && max <= tol.max,
        "{what}: relative error median {median}, p90 {p90}, max {max} (allowed {tol:?})"
    );
}

#[test]
fn one_request_at_a_time_is_attributed_its_true_energy_within_its_edge_intervals() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let m = measure("c1", 12, "concurrency = 1");
    // Alone in flight, a request's share is its window's energy, except in the sample interval
    // it shares with the next request: there the next one's prompt tokens take most of the
    // interval, part of which was this one's last step. Measured over seven runs (on two busy
    // cores): median 1.4-2.5 %, p90 2.2-4.3 %, largest 2.7-8.0 % (own window: median 0.3 %).
    check(
        &m,
        Tolerance {
            median: 0.05,
            p90: 0.08,
            max: 0.15,
        },
        "concurrency 1",
    );
}

#[test]
fn eight_requests_in_flight_are_attributed_their_true_energy_within_the_queueing_limit() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let m = measure("c8", 48, "concurrency = 8");
    // Closed loop against a batching server, a request is sent just after a step began (the
    // one whose token ended the request before it) and waits for the next one; the attribution
    // spreads its prompt tokens over that wait too (the queueing limitation of
    // docs/accounting.md), so it takes part of a step it was not in. Measured over seven runs:
    // median 11-13 %, p90 23-29 %, largest 45-53 %; the own window overcounts 6.9x, ML.ENERGY's
    // J per token is off by a median 13 %.
    check(
        &m,
        Tolerance {
            median: 0.25,
            p90: 0.45,
            max: 0.85,
        },
        "concurrency 8",
    );
    assert!(
        m.window_median > 3.0,
        "the own window overcounts: {}",
        m.window_median
    );
}

#[test]
fn thirty_two_requests_in_flight_are_attributed_their_true_energy_within_the_queueing_limit() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let m = measure("c32", 96, "concurrency = 32");
    // As at 8. Measured over seven runs: median 10-15 %, p90 21-30 %, largest 38-58 %; the own
    // window overcounts 31x, ML.ENERGY is off by a median 34-36 %.
    check(
        &m,
        Tolerance {
            median: 0.25,
            p90: 0.45,
            max: 0.90,
        },
        "concurrency 32",
    );
    assert!(
        m.window_median > 10.0,
        "the own window overcounts: {}",
        m.window_median
    );
}

#[test]
fn poisson_arrivals_are_attributed_their_true_energy_within_the_queueing_limit() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let m = measure("poisson", 64, "arrival_rate_per_s = 40.0");
    // Open loop, 40 requests/s (about 10 in flight): a request arrives at a random point of a
    // step and waits for the next one, half a step on average, so the queueing error is about
    // two thirds of the closed loop's. Measured over three runs: median 7.8-11 %, p90 23-29 %,
    // largest 35-37 %; the own window overcounts 12x, ML.ENERGY is off by a median 17-18 %.
    check(
        &m,
        Tolerance {
            median: 0.20,
            p90: 0.45,
            max: 0.70,
        },
        "Poisson arrivals at 40/s",
    );
}
