//! `analyze synth`: a small synthetic study is a valid collect-shaped dataset; `analyze metrics`
//! finds in every trial exactly the energy components the generator knows in closed form; the
//! report runs on it and marks it simulated; the same seed writes the same bytes.

#![allow(clippy::unwrap_used)]

mod common;

use common::read_csv as read;
use std::collections::BTreeMap;
use std::path::Path;

/// Generates a study of 45 trials asked for (60 written) into `out`, its known totals into
/// `expected`; returns the command's standard output.
fn synth(out: &Path, expected: Option<&Path>, seed: u64) -> String {
    let mut cmd = common::analyze();
    cmd.args([
        "synth",
        "--trials",
        "45",
        "--samples-per-trial",
        "40",
        "--requests-per-trial",
        "4",
    ])
    .args(["--baseline-samples", "5", "--seed", &seed.to_string(), "--out"])
    .arg(out);
    if let Some(e) = expected {
        cmd.arg("--expected").arg(e);
    }
    let output = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(output).unwrap()
}

/// Every file under `dir` (relative path to its bytes).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs()
}

#[test]
fn metrics_find_the_known_totals_of_every_synthetic_trial() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("synth");
    let expected = dir.path().join("expected.csv");
    let stdout = synth(&data, Some(&expected), 7);
    assert!(
        stdout.contains("rounded up to 2 repetitions each, 60 trials"),
        "{stdout}"
    );
    assert!(stdout.contains("SIMULATED"), "{stdout}");

    // A collect-shaped dataset: simulated, the run table, one part per trial.
    let ds = dataset::Dataset::open(&data).unwrap();
    assert!(ds.manifest().unwrap().simulated);
    assert_eq!(ds.read_runs().unwrap().len(), 60);
    let parts = ds.parts().unwrap();
    assert_eq!(parts.len(), 60);
    let one = ds.read_part(&parts[0], dataset::ReadOptions::default()).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].trial.key.run_id, parts[0]);
    assert!(one[0].trial.simulated);
    assert_eq!(one[0].samples.len(), 40);
    assert_eq!(one[0].requests.len(), 4);
    assert_eq!(one[0].baseline.as_ref().unwrap().len(), 5);
    for channel in [
        "GPU0_POWER (mWatts)",
        "GPU0_ENERGY (mJ)",
        "PACKAGE_ENERGY (J)",
        "DRAM_ENERGY (J)",
    ] {
        assert!(one[0].samples.column(channel).is_some(), "{channel}");
    }

    let metrics_csv = dir.path().join("metrics.csv");
    common::analyze()
        .arg("metrics")
        .arg(&data)
        .arg("--csv")
        .arg(&metrics_csv)
        .assert()
        .success();
    let metrics: BTreeMap<String, common::Row> = read(&metrics_csv)
        .into_iter()
        .map(|r| (r["run_id"].clone(), r))
        .collect();
    let known = read(&expected);
    assert_eq!(known.len(), 60);
    assert_eq!(metrics.len(), 60);
    let mut wraps = 0;
    for k in &known {
        let m = &metrics[&k["run_id"]];
        let f = |row: &common::Row, c: &str| row[c].parse::<f64>().unwrap();
        // The closed form itself: constant power times the window.
        for (j, w) in [("gpu_j", "gpu_w"), ("cpu_j", "cpu_w"), ("dram_j", "dram_w")] {
            assert!(close(f(k, j), f(k, w) * f(k, "duration_s")), "{k:?}");
        }
        for c in [
            "gpu_j",
            "cpu_j",
            "dram_j",
            "energy_j",
            "duration_s",
            "baseline_power_w",
        ] {
            assert!(
                close(f(m, c), f(k, c)),
                "{}: {c} = {}, known {}",
                k["run_id"],
                m[c],
                k[c]
            );
        }
        assert_eq!(m["tokens"], k["tokens"]);
        assert_eq!(m["gpu_source"], "energy_counter");
        assert_eq!(m["simulated"], "true");
        assert_eq!(m["backwards_samples"], "0");
        wraps += m["cpu_wraps"].parse::<i64>().unwrap();
    }
    assert!(wraps >= 1, "the package counter wraps in the first trial");

    let report = dir.path().join("report");
    common::analyze()
        .arg(&data)
        .arg("--report")
        .arg(&report)
        .arg("--no-png")
        .assert()
        .success();
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.contains("SIMULATED DATA"));
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_an_existing_dataset_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
    synth(&a, None, 11);
    synth(&b, None, 11);
    synth(&c, None, 12);
    let (fa, fb, fc) = (files(&a), files(&b), files(&c));
    assert_eq!(
        fa.len(),
        1 + 1 + 60 * 4,
        "{:?}",
        fa.keys().take(8).collect::<Vec<_>>()
    );
    assert!(fa == fb, "same seed, different files");
    let samples = "trials/run_0_repetition_0/samples.parquet";
    assert_ne!(fa[samples], fc[samples]);

    common::analyze()
        .args(["synth", "--trials", "1", "--samples-per-trial", "40", "--out"])
        .arg(&a)
        .assert()
        .failure()
        .stderr(predicates::str::contains("--force"));
    assert!(files(&a) == fa, "a refused synth changed the dataset");
}

/// Writes a study at concurrencies 1, 8 and 32 (90 treatments × 2 repetitions) into `out`, its
/// known totals into `expected`.
pub fn synth_load_levels(out: &Path, expected: &Path) {
    common::analyze()
        .args(["synth", "--trials", "180", "--samples-per-trial", "60"])
        .args(["--requests-per-trial", "2", "--baseline-samples", "5"])
        .args(["--concurrency", "1,8,32", "--seed", "3", "--out"])
        .arg(out)
        .arg("--expected")
        .arg(expected)
        .assert()
        .success();
}

#[test]
fn a_study_at_three_concurrencies_is_analysed_within_each_level_with_its_known_steady_state() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("synth");
    let expected = dir.path().join("expected.csv");
    synth_load_levels(&data, &expected);
    let report = dir.path().join("report");
    common::analyze()
        .arg(&data)
        .arg("--report")
        .arg(&report)
        .arg("--no-png")
        .assert()
        .success();
    let known: BTreeMap<String, common::Row> = read(&expected)
        .into_iter()
        .map(|r| (r["run_id"].clone(), r))
        .collect();
    assert_eq!(known.len(), 180);
    let serving = read(&report.join("tables/serving.csv"));
    assert_eq!(serving.len(), 180);
    let f = |row: &common::Row, c: &str| row[c].parse::<f64>().unwrap();
    // Per level: the mean energy per token, and every trial's gates.
    let mut per_token: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for s in &serving {
        let k = &known[&s["run_id"]];
        let c: i64 = s["concurrency"].parse().unwrap();
        assert_eq!(k["concurrency"], s["concurrency"]);
        assert_eq!(s["load"], format!("concurrency {c}"));
        // The waves fill the whole window: the steady state is the window, so its energy and
        // tokens are the trial's, known in closed form.
        assert!(close(f(s, "steady_duration_s"), f(k, "duration_s")), "{s:?}");
        assert!(close(f(s, "steady_energy_j"), f(k, "energy_j")), "{s:?}");
        let known_per_token = f(k, "energy_j") / f(k, "tokens");
        assert!(close(f(s, "steady_energy_per_token_j"), known_per_token));
        per_token.entry(c).or_default().push(known_per_token);
        // A 11.8 s window: too short a steady state above concurrency 1, trivially steady at 1.
        let steady = if c == 1 { "pass" } else { "fail" };
        assert_eq!(s["gate_steady_state"], steady, "{s:?}");
        // Idle 62 W, no power limit recorded: the floor only; the counter is the exact
        // integral of the constant power; samples 0–3 ms late; the GPU warms from 38 to 43 °C
        // over 60 samples (38 + 30·(1 − e^(−59/300)), rounded).
        assert_eq!(s["gate_power_range"], "pass");
        assert_eq!(s["gate_counter_agreement"], "pass");
        assert_eq!(s["gate_sample_gaps"], "pass");
        assert_eq!(s["gate_temperature"], "pass");
        assert_eq!(f(s, "temperature_rise_c"), 5.0);
        assert_eq!(f(s, "idle_gpu_w"), 62.0);
        assert_eq!(s["gates_failed"], if c == 1 { "" } else { "steady_state" });
    }
    let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        mean(&per_token[&1]) > 8.0 * mean(&per_token[&32]),
        "{per_token:?}"
    );
    assert!(mean(&per_token[&1]) > mean(&per_token[&8]) && mean(&per_token[&8]) > mean(&per_token[&32]));

    // The questions are answered within each level: every test row names its level.
    let tests = read(&report.join("tables/tests.csv"));
    let levels: std::collections::BTreeSet<&str> = tests.iter().map(|t| t["load"].as_str()).collect();
    assert_eq!(
        levels.into_iter().collect::<Vec<_>>(),
        ["concurrency 1", "concurrency 32", "concurrency 8"]
    );
    let kw = |load: &str| {
        tests
            .iter()
            .filter(|t| {
                t["rq"] == "RQ1.1"
                    && t["test"] == "kruskal_wallis"
                    && t["level"] == "run"
                    && t["load"] == load
            })
            .count()
    };
    assert_eq!(
        (kw("concurrency 1"), kw("concurrency 8"), kw("concurrency 32")),
        (1, 1, 1)
    );
    // The metrics table carries the design factors.
    let metrics = read(&report.join("tables/metrics.csv"));
    assert!(
        metrics
            .iter()
            .all(|m| ["1", "8", "32"].contains(&m["concurrency"].as_str()))
    );

    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.contains("data-figure=\"serving_energy_per_token_by_load\""));
    assert!(
        html.contains("id=\"no-frontier\""),
        "no gold labels: the frontier says so"
    );
    assert!(
        html.contains("120 of 180 trials flagged"),
        "the overview counts the flagged trials"
    );
}
