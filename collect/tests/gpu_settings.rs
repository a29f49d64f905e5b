//! GPU power limits and SM clocks as factors of the design, against the fake GPU of
//! `--fake-gpu-control FILE` (the tests' NVML): each trial runs under its levels, which are set
//! before it, read back and restored after it; Ctrl-C and a killed process restore them too
//! (the latter on the next start, from the journal); a driver that refuses, or a level outside
//! the allowed range, stops the run before anything is measured.

#![allow(clippy::unwrap_used)] // helpers of the tests below: a panic is a failed test

mod common;

use collect::gpu::fake::FakeGpus;
use common::{collect, collect_bin, read_all, write_study};
use endpoint::fake::{FakeScript, FakeServer};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A study of one model × one task, 2 repetitions, with `factors` added to `[experiment]`.
fn study(dir: &Path, factors: &str) {
    let config = write_study(dir, &["model-a"], &["COPA"], 2, 2);
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replacen("[experiment]\n", &format!("[experiment]\n{factors}\n"), 1);
    std::fs::write(&config, text).unwrap();
}

fn args<'a>(server: &'a FakeServer, gpu: &'a str) -> Vec<&'a str> {
    vec![
        "--config",
        "config.toml",
        "--out",
        "data",
        "--endpoint",
        &server.base_url,
        "--fake-gpu-control",
        gpu,
        "--quiet",
    ]
}

#[test]
fn each_trial_runs_under_its_power_limit_and_clock_which_are_restored_after_it() {
    let tmp = tempfile::tempdir().unwrap();
    study(tmp.path(), "power_limit_w = [300, 450]\nsm_clock_mhz = 1410");
    let server = FakeServer::spawn(FakeScript::default()).unwrap();
    let gpu = tmp.path().join("gpu.json");
    let gpu_s = gpu.to_str().unwrap();
    collect(tmp.path()).args(args(&server, gpu_s)).assert().success();

    let trials = read_all(&tmp.path().join("data"));
    assert_eq!(
        trials.len(),
        4,
        "1 model × 1 task × 2 power limits × 2 repetitions"
    );
    let mut limits: Vec<f64> = Vec::new();
    for t in &trials {
        let key = &t.trial.key;
        let w = key.power_limit_w.unwrap();
        limits.push(w);
        assert_eq!(key.sm_clock_mhz, Some(1410));
        // The provenance holds the state read during the trial: the trial's own levels.
        let p: serde_json::Value = serde_json::from_str(&t.trial.provenance).unwrap();
        let g = &p["trial"]["gpu_settings"]["gpus"][0];
        assert_eq!(g["power_limit_w"].as_f64(), Some(w), "{}", key.run_id);
        assert_eq!(g["sm_clock_mhz"].as_u64(), Some(1410), "{}", key.run_id);
        assert_eq!(g["power_limit_min_w"].as_f64(), Some(200.0));
        assert_eq!(g["power_limit_max_w"].as_f64(), Some(700.0));
    }
    limits.sort_by(f64::total_cmp);
    assert_eq!(limits, [300.0, 300.0, 450.0, 450.0]);

    // Back as before, journal gone; every trial set its levels and restored them.
    let after = FakeGpus::load(&gpu).unwrap();
    assert_eq!(after.gpus[0].power_limit_w, 700.0);
    assert_eq!(after.gpus[0].sm_clock_locked_mhz, None);
    assert!(!tmp.path().join("data").join(collect::gpu::JOURNAL).exists());
    let log = after.log.join("; ");
    // Before the run: the permission checks (set the limit in force again, reset the clocks).
    assert!(log.starts_with("gpu0 power 700; gpu0 clock reset; "), "{log}");
    let per_trial: Vec<&str> = after.log[2..].iter().map(String::as_str).collect();
    assert_eq!(per_trial.len(), 4 * 4, "{log}");
    for step in per_trial.chunks(4) {
        assert!(
            step[0] == "gpu0 power 300" || step[0] == "gpu0 power 450",
            "{log}"
        );
        assert_eq!(
            &step[1..],
            ["gpu0 clock 1410", "gpu0 power 700", "gpu0 clock reset"],
            "{log}"
        );
    }
}

#[test]
fn a_dry_run_shows_the_factors_and_the_gpu_state_without_changing_it() {
    let tmp = tempfile::tempdir().unwrap();
    study(tmp.path(), "power_limit_w = [300, 800]\nconcurrency = [1, 4]");
    let server = FakeServer::spawn(FakeScript::default()).unwrap();
    let gpu = tmp.path().join("gpu.json");
    let mut a = args(&server, gpu.to_str().unwrap());
    a.push("--dry-run");
    let out = collect(tmp.path())
        .args(a)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("x 4 levels of the other factors = 4 treatments x 2 repetitions = 8 trials"),
        "{text}"
    );
    assert!(
        text.contains("concurrency 1, 4; GPU power limit, W 300, 800"),
        "{text}"
    );
    assert!(
        text.contains("GPU 0: power limit 700 W (default 700 W, allowed 200–700 W)"),
        "{text}"
    );
    assert!(
        text.contains("power limit level 800 W is outside GPU 0's range"),
        "{text}"
    );
    assert!(FakeGpus::load(&gpu).unwrap().log.is_empty());
}

#[test]
fn a_driver_that_refuses_or_a_level_out_of_range_stops_the_run_before_any_trial() {
    let server = FakeServer::spawn(FakeScript::default()).unwrap();
    for (factors, refuse, expected) in [
        (
            "power_limit_w = [300, 450]",
            true,
            "does not let this process set GPU 0's power limit",
        ),
        (
            "sm_clock_mhz = [1410]",
            true,
            "does not let this process lock GPU 0's clocks",
        ),
        (
            "power_limit_w = [300, 800]",
            false,
            "800 W is outside GPU 0's allowed range 200–700 W",
        ),
        (
            "sm_clock_mhz = [2500]",
            false,
            "2500 MHz is above GPU 0's highest SM clock (1980 MHz)",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        study(tmp.path(), factors);
        let gpu = tmp.path().join("gpu.json");
        FakeGpus {
            refuse,
            ..FakeGpus::default()
        }
        .save(&gpu)
        .unwrap();
        let a = collect(tmp.path())
            .args(args(&server, gpu.to_str().unwrap()))
            .assert()
            .code(1);
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(err.contains(expected), "{factors}: {err}");
        assert!(err.contains("nothing was run"), "{factors}: {err}");
        assert!(
            !dataset::Dataset::exists(&tmp.path().join("data")),
            "{factors}: a dataset was created"
        );
        assert_eq!(server.stats.attempts(), 0, "{factors}: a request was sent");
        let after = FakeGpus::load(&gpu).unwrap();
        assert_eq!(after.gpus[0].power_limit_w, 700.0);
        assert_eq!(after.gpus[0].sm_clock_locked_mhz, None);
    }
}

/// Starts collect on a slow server and waits until the fake GPU's limit is changed (a trial
/// is running under its level).
fn start_and_wait_for_a_trial(
    dir: &Path,
    server: &FakeServer,
    gpu: &Path,
    quiet: bool,
) -> std::process::Child {
    let mut a = args(server, gpu.to_str().unwrap());
    a.retain(|x| quiet || *x != "--quiet");
    let mut child = Command::new(collect_bin())
        .current_dir(dir)
        .args(a)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if FakeGpus::load(gpu).is_ok_and(|g| g.gpus[0].power_limit_w != 700.0) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("no trial changed the power limit within 20 s");
}

fn slow_server() -> FakeServer {
    FakeServer::spawn(FakeScript {
        token_delay: Duration::from_millis(40),
        tokens_min: 20,
        tokens_max: 20,
        ..FakeScript::default()
    })
    .unwrap()
}

#[test]
fn ctrl_c_during_a_trial_restores_the_power_limit() {
    let tmp = tempfile::tempdir().unwrap();
    study(tmp.path(), "power_limit_w = [300]");
    let server = slow_server();
    let gpu = tmp.path().join("gpu.json");
    let child = start_and_wait_for_a_trial(tmp.path(), &server, &gpu, false);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(
        FakeGpus::load(&gpu).unwrap().gpus[0].power_limit_w,
        700.0,
        "{err}"
    );
    assert!(!tmp.path().join("data").join(collect::gpu::JOURNAL).exists());
}

#[test]
fn a_killed_run_leaves_a_journal_and_the_next_start_restores_the_power_limit_first() {
    let tmp = tempfile::tempdir().unwrap();
    study(tmp.path(), "power_limit_w = [300]");
    let server = slow_server();
    let gpu = tmp.path().join("gpu.json");
    let mut child = start_and_wait_for_a_trial(tmp.path(), &server, &gpu, true);
    child.kill().unwrap();
    child.wait().unwrap();
    let journal = tmp.path().join("data").join(collect::gpu::JOURNAL);
    assert!(journal.exists(), "no journal after the kill");
    assert_eq!(FakeGpus::load(&gpu).unwrap().gpus[0].power_limit_w, 300.0);

    // A dry run changes nothing; the next real start restores before anything else.
    let mut dry = args(&server, gpu.to_str().unwrap());
    dry.push("--dry-run");
    collect(tmp.path()).args(dry).assert().success();
    assert_eq!(FakeGpus::load(&gpu).unwrap().gpus[0].power_limit_w, 300.0);

    let fast = FakeServer::spawn(FakeScript::default()).unwrap();
    let mut a = args(&fast, gpu.to_str().unwrap());
    a.retain(|x| *x != "--quiet");
    let done = collect(tmp.path()).args(a).assert().success();
    let err = String::from_utf8_lossy(&done.get_output().stderr).into_owned();
    assert!(
        err.contains("restored the GPU settings that an interrupted run")
            && err.contains("GPU 0 power limit back to 700 W"),
        "{err}"
    );
    let after = FakeGpus::load(&gpu).unwrap();
    assert_eq!(after.gpus[0].power_limit_w, 700.0);
    assert!(!journal.exists());
    assert_eq!(read_all(&tmp.path().join("data")).len(), 2);
}
