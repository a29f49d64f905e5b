//! The self-contained entry points: `collect --demo` (simulated, no GPU or network), the plan of
//! the published design (`--dry-run` on the example config), and `collect probe`.

#![allow(clippy::unwrap_used)] // a panic is a failed test

mod common;

use common::{collect, read_all};
use endpoint::fake::{FakeScript, FakeServer};
use predicates::prelude::*;
use std::path::Path;
use std::time::Instant;

fn workspace_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn the_demo_writes_a_simulated_dataset_in_a_few_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    collect(tmp.path())
        .args(["--demo", "--out", "demo"])
        .assert()
        .success()
        .stderr(predicate::str::contains("SIMULATED"))
        .stdout(
            predicate::str::contains("12 trials done, 0 failed").and(predicate::str::contains("SIMULATED")),
        );
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    let out = tmp.path().join("demo");
    let ds = dataset::Dataset::open(&out).unwrap();
    assert!(ds.manifest().unwrap().simulated);
    let trials = read_all(&out);
    assert_eq!(trials.len(), 12);
    for t in &trials {
        assert!(t.trial.simulated);
        assert_eq!(t.trial.status, dataset::TrialStatus::Done);
        assert_eq!(t.requests.len(), 4);
        assert!(t.baseline.is_some());
        let m = t.metrics();
        assert!(m.simulated && m.energy_j.is_some_and(|j| j > 0.0) && m.tokens > 0);
    }
    // The larger demo model draws more power.
    let power = |model: &str| {
        let ms: Vec<f64> = trials
            .iter()
            .filter(|t| t.trial.key.model == model)
            .map(|t| t.metrics().gpu_j.unwrap() / t.metrics().duration_s)
            .collect();
        ms.iter().sum::<f64>() / ms.len() as f64
    };
    assert!((power("demo-llama-3.1-8b") - 310.0).abs() < 1e-6);
    assert!((power("demo-llama-3.2-1b") - 120.0).abs() < 1e-6);
    // A second run has nothing left to do.
    collect(tmp.path())
        .args(["--demo", "--out", "demo"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "0 trials done, 0 failed, 12 already done",
        ));
}

#[test]
fn the_demo_is_a_library_call_for_other_crates_tests() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let summary = collect::demo::collect(&out, false).unwrap();
    assert_eq!(summary.done, 12);
    assert!(summary.simulated);
    assert_eq!(
        dataset::Dataset::open(&out).unwrap().trial_ids().unwrap().len(),
        12
    );
}

#[test]
fn the_example_config_plans_the_published_900_trials() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("data");
    let assert = collect(workspace_root())
        .args(["--dry-run", "--out", out.to_str().unwrap()])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    // The example config reads the prompts the project ships: no --prompts, no warning.
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        !stderr.contains("warning") && !stderr.contains("prompts"),
        "{stderr}"
    );
    assert!(
        text.starts_with(
            "experiment llama_profiling: 5 models x 6 tasks - 0 excluded = 30 treatments x 30 repetitions = 900 trials"
        ),
        "{text}"
    );
    assert!(text.contains("estimated duration: "));
    let order_lines = text.lines().filter(|l| l.contains("_repetition_")).count();
    assert_eq!(order_lines, 900);
    assert!(!out.exists(), "a dry run writes nothing");
    // --reps and --only shape the plan the same way the run would.
    let assert = collect(workspace_root())
        .args([
            "--dry-run",
            "--reps",
            "2",
            "--only",
            "task=COPA",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(text.contains("= 60 trials"));
    assert_eq!(text.lines().filter(|l| l.contains("_repetition_")).count(), 10);
}

#[test]
fn the_probe_finds_counter_and_integrated_power_equal_on_the_scripted_source() {
    let tmp = tempfile::tempdir().unwrap();
    collect(tmp.path())
        .args([
            "probe",
            "--energy",
            "fake",
            "--interval-ms",
            "5",
            "--seconds",
            "0.3",
            "--json",
            "p.json",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("counter_J").and(predicate::str::contains("+0.000 %")));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("p.json")).unwrap()).unwrap();
    let g = &v["gpus"][0];
    assert!(g["relative_difference"].as_f64().unwrap().abs() < 1e-9);
    assert!((g["mean_power_w"].as_f64().unwrap() - 250.0).abs() < 1e-6);
    assert!(v["samples"].as_u64().unwrap() >= 20);
    assert!(v["sampler_cpu_percent"].as_f64().is_some());
}

#[test]
fn the_probe_without_nvidia_driver_says_what_is_missing() {
    if Path::new("/proc/driver/nvidia").exists() {
        eprintln!("SKIPPED: this machine has an NVIDIA driver");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    collect(tmp.path())
        .args(["probe", "--energy", "nvml", "--seconds", "1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("NVML").and(predicate::str::contains("panicked").not()));
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let mut child = std::process::Command::new(common::collect_bin())
        .current_dir(workspace_root())
        .args(["--dry-run", "--out", "/nonexistent/collect-test"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn the_example_config_runs_from_the_project_root_with_the_prompts_it_ships() {
    // `collect --reps 10 --endpoint URL` on a fresh clone: no --prompts, no warning about them.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("data");
    let server = FakeServer::spawn(FakeScript::default()).unwrap();
    let assert = collect(workspace_root())
        .args([
            "--reps",
            "10",
            "--endpoint",
            &server.base_url,
            "--out",
            out.to_str().unwrap(),
        ])
        .args([
            "--only",
            "model=meta-llama/Llama-2-7b-chat-hf,task=COPA",
            "--max-prompts",
            "2",
        ])
        .args([
            "--energy",
            "fake",
            "--cooldown",
            "0",
            "--baseline",
            "0",
            "--interval-ms",
            "5",
        ])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        !stderr.contains("warning") && !stderr.contains("prompts"),
        "{stderr}"
    );
    let trials = read_all(&out);
    assert_eq!(trials.len(), 10);
    let shipped = std::fs::read_to_string(workspace_root().join("prompts/COPA.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(shipped.lines().next().unwrap()).unwrap();
    for t in &trials {
        assert_eq!(t.trial.status, dataset::TrialStatus::Done);
        assert_eq!(t.requests.len(), 2);
        assert_eq!(t.requests[0].prompt, first["prompt"].as_str().unwrap());
    }
}

#[test]
fn the_shipped_prompts_are_the_published_ones_byte_for_byte() {
    let published = workspace_root().join("../shared/datasets/greenlab-angels-2025/prompts");
    let shipped = workspace_root().join("prompts");
    let mut total = 0;
    for task in ["BoolQ", "CB", "COPA", "RTE", "WiC", "WSC"] {
        let ours = std::fs::read(shipped.join(format!("{task}.jsonl"))).unwrap();
        total += ours.len();
        if published.is_dir() {
            assert!(
                ours == std::fs::read(published.join(format!("{task}.jsonl"))).unwrap(),
                "{task}"
            );
        }
    }
    assert_eq!(total, 360_475);
    assert!(
        std::fs::read_to_string(shipped.join("LICENSE"))
            .unwrap()
            .starts_with("MIT License")
    );
}
