//! collect against the in-process OpenAI-compatible fake server with the scripted energy source
//! (`--energy fake`: GPU 250 W with its energy counter, CPU package 50 W, DRAM 5 W). The
//! corrected accounting of the written dataset must give back exactly the energy that script
//! implies over each trial's window, and exactly the tokens the server sent, whatever faults
//! the server was scripted to make.

#![allow(clippy::unwrap_used)] // helpers of the tests below: a panic is a failed test

mod common;

use collect::sampler::fake::{FakeScript as EnergyScript, FakeSource};
use common::{collect, exact, read_all, write_study};
use dataset::TrialStatus;
use dataset::accounting::{Window, corrected};
use endpoint::fake::{FakeScript, FakeServer};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Runs collect against a server with `script`; returns the temp dir and the server.
fn run(script: FakeScript, extra: &[&str], expect_code: i32) -> (tempfile::TempDir, FakeServer) {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a", "model-b"], &["COPA", "CB"], 2, 3);
    let server = FakeServer::spawn(script).unwrap();
    let mut cmd = collect(tmp.path());
    cmd.args([
        "--config",
        "config.toml",
        "--out",
        "data",
        "--endpoint",
        &server.base_url,
    ]);
    cmd.args(extra);
    cmd.assert().code(expect_code);
    (tmp, server)
}

/// Every committed trial's metrics equal the scripted energy; tokens equal the server's.
fn check_energy_and_tokens(out: &std::path::Path, server: &FakeServer) {
    let trials = read_all(out);
    assert_eq!(trials.len(), 8);
    let script = EnergyScript::default();
    let mut tokens = 0;
    for t in trials.iter().filter(|t| t.trial.status == TrialStatus::Done) {
        let m = t.metrics();
        let (gpu, cpu, dram) =
            FakeSource::expected_j(&script, script.gpu_power_w, t.trial.start_ms, t.trial.end_ms);
        assert!(
            exact(m.gpu_j.unwrap(), gpu),
            "{}: gpu {:?} vs {gpu}",
            t.trial.key.run_id,
            m.gpu_j
        );
        assert!(
            exact(m.cpu_j.unwrap(), cpu),
            "{}: cpu {:?} vs {cpu}",
            t.trial.key.run_id,
            m.cpu_j
        );
        assert!(exact(m.dram_j.unwrap(), dram), "{}: dram", t.trial.key.run_id);
        assert!(exact(m.energy_j.unwrap(), gpu + cpu + dram));
        assert_eq!(m.energy_components.as_deref(), Some("cpu+gpu+dram"));
        assert_eq!(m.gpu_source, dataset::GpuSource::EnergyCounter);
        assert!(t.trial.simulated);
        assert_eq!(t.trial.time_resolution_ms, 1);
        assert_eq!(t.trial.energy_sources.as_deref(), Some("fake"));
        assert!(t.trial.sampler_cpu_s.is_some());
        tokens += m.tokens;
        // Per-request energy: the same script over each request's own window.
        for r in &t.requests {
            let e = corrected(
                &t.samples,
                Window {
                    start_ms: r.start_ms,
                    end_ms: r.end_ms,
                    resolution_ms: 1,
                },
            );
            let (g, c, d) = FakeSource::expected_j(&script, script.gpu_power_w, r.start_ms, r.end_ms);
            assert!(
                exact(e.total_j().unwrap(), g + c + d),
                "request {} of {}",
                r.index,
                r.run_id
            );
        }
    }
    assert_eq!(
        tokens as u64,
        server.stats.completion_tokens.load(Ordering::SeqCst)
    );
}

#[test]
fn streaming_with_usage_gives_exactly_the_scripted_energy_and_the_servers_tokens() {
    let (tmp, server) = run(FakeScript::default(), &["--baseline", "0.03"], 0);
    let out = tmp.path().join("data");
    check_energy_and_tokens(&out, &server);
    let ds = dataset::Dataset::open(&out).unwrap();
    assert!(ds.manifest().unwrap().simulated);
    for t in read_all(&out) {
        assert_eq!(t.trial.status, TrialStatus::Done);
        assert_eq!(t.requests.len(), 3);
        let b = t.baseline.as_ref().expect("a baseline file");
        assert!(b.len() >= 2);
        assert_eq!(t.trial.baseline_start_ms, b.time_ms.first().copied());
        assert!(t.trial.baseline_end_ms.unwrap() <= t.trial.start_ms);
        let prov: serde_json::Value = serde_json::from_str(&t.trial.provenance).unwrap();
        assert_eq!(
            prov["server"]["server"].as_str().unwrap().split('/').next(),
            Some("collect-fake-server")
        );
        assert!(prov["config"]["xxh3"].as_str().is_some());
        for (i, r) in t.requests.iter().enumerate() {
            assert_eq!(r.index, i as i64);
            assert_eq!(r.item_id, Some(i as i64));
            assert_eq!(
                r.gold_label.as_deref(),
                Some(if i % 2 == 0 { "true" } else { "false" })
            );
            assert_eq!(r.tokens_estimated, Some(false));
            assert_eq!(r.attempts, Some(1));
            assert_eq!(r.chunks, r.completion_tokens);
            assert!(r.prompt_tokens.unwrap() > 0);
            assert!(r.ttft_ms.is_some());
            assert!(r.seed.is_some());
            assert_eq!(r.finish_reason.as_deref(), Some("stop"));
            assert!(r.error.is_none());
            assert!(!r.response.is_empty());
            assert!(r.end_ms >= r.start_ms);
        }
        // Sequential requests: each starts after the previous one ended.
        assert!(t.requests.windows(2).all(|w| w[1].start_ms >= w[0].end_ms));
    }
}

#[test]
fn http_500_and_429_are_retried_and_the_attempts_recorded() {
    let script = FakeScript {
        fail_every: Some(3),
        too_many_every: Some(5),
        ..FakeScript::default()
    };
    let (tmp, server) = run(script, &[], 0);
    let out = tmp.path().join("data");
    check_energy_and_tokens(&out, &server);
    let trials = read_all(&out);
    assert!(trials.iter().all(|t| t.trial.status == TrialStatus::Done));
    let retried = trials
        .iter()
        .flat_map(|t| &t.requests)
        .filter(|r| r.attempts.unwrap() > 1)
        .count();
    assert!(retried >= 5, "{retried}");
    let attempts: i64 = trials
        .iter()
        .flat_map(|t| &t.requests)
        .map(|r| r.attempts.unwrap())
        .sum();
    assert_eq!(attempts as u64, server.stats.attempts.load(Ordering::SeqCst));
}

#[test]
fn dropped_streams_are_retried_from_scratch() {
    let script = FakeScript {
        drop_every: Some(4),
        ..FakeScript::default()
    };
    let (tmp, server) = run(script, &[], 0);
    let out = tmp.path().join("data");
    check_energy_and_tokens(&out, &server);
    let requests: Vec<_> = read_all(&out).into_iter().flat_map(|t| t.requests).collect();
    assert!(requests.iter().any(|r| r.attempts == Some(2)));
    // A retried answer is the complete one, not the dropped half plus the retry.
    assert!(requests.iter().all(|r| r.chunks == r.completion_tokens));
}

#[test]
fn slow_tokens_show_in_the_time_to_first_token_and_the_chunk_gaps() {
    // Tokens 20 ms apart; the gap median is held to a quarter of that, because on a loaded
    // machine the client can receive two chunks together (one short gap, one long).
    let script = FakeScript {
        first_token_delay: Duration::from_millis(40),
        token_delay: Duration::from_millis(20),
        tokens_min: 5,
        tokens_max: 8,
        ..FakeScript::default()
    };
    let (tmp, server) = run(script, &[], 0);
    let out = tmp.path().join("data");
    check_energy_and_tokens(&out, &server);
    for r in read_all(&out).into_iter().flat_map(|t| t.requests) {
        assert!(r.ttft_ms.unwrap() >= 39.0, "{:?}", r.ttft_ms);
        assert!(r.gap_p50_ms.unwrap() >= 5.0, "{:?}", r.gap_p50_ms);
        assert!(r.gap_max_ms.unwrap() >= r.gap_p95_ms.unwrap());
        assert!(r.gap_p95_ms.unwrap() >= r.gap_p50_ms.unwrap());
        assert!(r.end_ms - r.start_ms >= 40 + 20 * 4);
        // Each chunk's arrival, µs after start_ms: one per chunk, in order, the first at the
        // TTFT, the last before end_ms; the server reports no per-chunk token counts.
        let offsets = r.chunk_offsets_us.as_ref().unwrap();
        assert_eq!(offsets.len() as i64, r.chunks.unwrap());
        assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "{offsets:?}");
        assert!(offsets[0] as f64 / 1000.0 >= 39.0);
        assert!(*offsets.last().unwrap() <= (r.end_ms - r.start_ms + 1) * 1000);
        assert_eq!(r.chunk_tokens, None);
    }
}

#[test]
fn a_server_without_usage_gets_chunk_counts_marked_as_estimated() {
    let script = FakeScript {
        no_usage: true,
        ..FakeScript::default()
    };
    let (tmp, server) = run(script, &[], 0);
    let out = tmp.path().join("data");
    check_energy_and_tokens(&out, &server);
    for r in read_all(&out).into_iter().flat_map(|t| t.requests) {
        assert_eq!(r.tokens_estimated, Some(true));
        assert_eq!(r.prompt_tokens, None);
        assert_eq!(r.completion_tokens, r.chunks);
    }
}

#[test]
fn a_model_that_keeps_failing_is_committed_as_failed_and_the_run_goes_on() {
    let script = FakeScript {
        broken_model: Some("model-b".into()),
        ..FakeScript::default()
    };
    let (tmp, server) = run(script, &[], 3);
    let out = tmp.path().join("data");
    check_energy_and_tokens(&out, &server);
    let trials = read_all(&out);
    for t in &trials {
        if t.trial.key.model == "model-b" {
            assert_eq!(t.trial.status, TrialStatus::Failed);
            let reason = t.trial.failure_reason.as_deref().unwrap();
            assert!(
                reason.contains("HTTP 500") && reason.contains("after 5 attempts"),
                "{reason}"
            );
            // The first request ran out of retries; the others were never sent.
            assert_eq!(t.requests.len(), 1);
            assert_eq!(t.requests[0].attempts, Some(5));
        } else {
            assert_eq!(t.trial.status, TrialStatus::Done);
        }
    }
    // Failed trials are redone by the next run; with the model still broken they fail again.
    let mut cmd = collect(tmp.path());
    cmd.args([
        "--config",
        "config.toml",
        "--out",
        "data",
        "--endpoint",
        &server.base_url,
    ]);
    let assert = cmd.assert().code(3);
    let text = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(text.contains("0 trials done, 4 failed, 4 already done"), "{text}");
}

#[test]
fn concurrent_requests_are_all_recorded_and_the_window_spans_them() {
    let script = FakeScript {
        token_delay: Duration::from_millis(3),
        ..FakeScript::default()
    };
    let (tmp, server) = run(script, &["--concurrency", "3"], 0);
    let out = tmp.path().join("data");
    check_energy_and_tokens(&out, &server);
    for t in read_all(&out) {
        assert_eq!(t.requests.len(), 3);
        assert_eq!(
            t.trial.start_ms,
            t.requests.iter().map(|r| r.start_ms).min().unwrap()
        );
        assert_eq!(t.trial.end_ms, t.requests.iter().map(|r| r.end_ms).max().unwrap());
    }
}

#[test]
fn energy_no_source_measured_is_null_in_the_metrics_and_their_csv() {
    // procfs samples CPU usage, frequency and memory: no energy component at all.
    let (tmp, _server) = run(FakeScript::default(), &["--energy", "procfs"], 0);
    let trials = read_all(&tmp.path().join("data"));
    assert_eq!(trials.len(), 8);
    let rows: Vec<dataset::MetricsRow> = trials.iter().map(|t| t.metrics()).collect();
    for m in &rows {
        assert_eq!(
            (m.cpu_j, m.gpu_j, m.dram_j, m.energy_j),
            (None, None, None, None),
            "{m:?}"
        );
        assert_eq!(m.energy_components, None);
        assert_eq!((m.power_w, m.energy_per_token), (None, None));
        assert_eq!(m.gpu_source, dataset::GpuSource::None);
        assert!(m.tokens > 0);
    }
    // In the CSV every unmeasured figure is an empty cell, not 0.
    let mut csv = Vec::new();
    dataset::tables::write_csv(&rows, &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        for name in [
            "cpu_j",
            "gpu_j",
            "dram_j",
            "energy_j",
            "energy_components",
            "power_w",
            "energy_per_token",
        ] {
            assert_eq!(cells[col(name)], "", "{name} in {line}");
        }
    }
}

#[test]
fn the_servers_prometheus_metrics_are_scraped_into_each_trial() {
    // Slow enough tokens that each trial spans a scrape or two besides the first and last.
    let script = FakeScript {
        metrics: true,
        token_delay: Duration::from_millis(20),
        tokens_min: 30,
        tokens_max: 30,
        ..FakeScript::default()
    };
    let (tmp, server) = run(script, &[], 0);
    let ds = dataset::Dataset::open(tmp.path().join("data")).unwrap();
    let all = dataset::ReadOptions {
        server_metrics: true,
        ..dataset::ReadOptions::default()
    };
    let mut scrapes = 0;
    for id in ds.trial_ids().unwrap() {
        let t = ds.read_trial_files(&id, all).unwrap();
        let times: std::collections::BTreeSet<i64> = t.server_metrics.iter().map(|m| m.time_ms).collect();
        // At least the scrape at the start and the one after the last request.
        assert!(times.len() >= 2, "{id}: {times:?}");
        scrapes += times.len();
        assert!(t.server_metrics.iter().all(|m| m.run_id == id));
        assert!(
            t.server_metrics
                .iter()
                .any(|m| m.metric == "vllm:num_requests_running" && m.labels == "model_name=\"fake-model\"")
        );
        assert!(!t.server_metrics.iter().any(|m| m.metric.ends_with("_bucket")));
        // The scrapes lie within the trial (start of its requests to just after the last).
        assert!(
            times
                .iter()
                .all(|&s| s >= t.trial.start_ms - 5 && s <= t.trial.end_ms + 1000)
        );
        // The fake server's prefix cache never hits.
        let p: serde_json::Value = serde_json::from_str(&t.trial.provenance).unwrap();
        assert_eq!(p["trial"]["prefix_cache_hit_rate"], 0.0, "{}", p["trial"]);
    }
    assert_eq!(scrapes as u64, server.stats.scrapes.load(Ordering::SeqCst));
    // A server without /metrics: no file, no error.
    let (tmp, _server) = run(FakeScript::default(), &[], 0);
    let ds = dataset::Dataset::open(tmp.path().join("data")).unwrap();
    for id in ds.trial_ids().unwrap() {
        assert!(!ds.trial_dir(&id).join("server_metrics.parquet").exists());
    }
}
