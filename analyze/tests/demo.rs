//! Issue 5 acceptance across the binaries: a dataset written by `collect --demo` (in-process
//! fake endpoint, scripted energy) is read by `analyze metrics`, which finds exactly the energy
//! the script implies and the server's tokens, the energy of every request, and the idle
//! baseline; the report marks the data simulated.

#![allow(clippy::unwrap_used)]

mod common;

use common::read_csv as read;

/// The demo's script: GPU power per model, plus CPU package 50 W and DRAM 5 W.
fn scripted_power_w(model: &str) -> f64 {
    let gpu = match model {
        "demo-llama-3.2-1b" => 120.0,
        "demo-llama-3.1-8b" => 310.0,
        other => panic!("unexpected demo model {other}"),
    };
    gpu + 50.0 + 5.0
}

#[test]
fn analyze_finds_exactly_the_energy_of_collects_scripted_demo() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let summary = collect::demo::collect(&data, false).unwrap();
    assert_eq!((summary.planned, summary.done, summary.failed), (12, 12, 0));

    let metrics_csv = dir.path().join("metrics.csv");
    let requests_csv = dir.path().join("requests.csv");
    common::analyze()
        .arg("metrics")
        .arg(&data)
        .arg("--csv")
        .arg(&metrics_csv)
        .arg("--requests-csv")
        .arg(&requests_csv)
        .assert()
        .success();
    let rows = read(&metrics_csv);
    assert_eq!(rows.len(), 12);
    let ds = dataset::Dataset::open(&data).unwrap();
    for row in &rows {
        let f = |k: &str| row[k].parse::<f64>().unwrap();
        let expected = scripted_power_w(&row["model"]) * f("duration_s");
        assert!(
            (f("energy_j") - expected).abs() <= 1e-9 * expected,
            "{}: {} J, script implies {expected} J",
            row["run_id"],
            row["energy_j"]
        );
        assert_eq!(row["gpu_source"], "energy_counter");
        assert_eq!(row["simulated"], "true");
        let requests = ds.read_requests(&row["run_id"], false).unwrap();
        let tokens: i64 = requests.iter().filter_map(|r| r.completion_tokens).sum();
        assert_eq!(row["tokens"], tokens.to_string());
        assert!(tokens > 0);
        // The idle baseline runs on the same script: nothing is left above idle.
        assert!(
            (f("baseline_power_w") - scripted_power_w(&row["model"])).abs() < 1e-6,
            "{row:?}"
        );
        assert!(f("energy_above_idle_j").abs() < 1e-6 * expected, "{row:?}");
    }
    let per_request = read(&requests_csv);
    let requests: usize = rows.iter().map(|r| r["requests"].parse::<usize>().unwrap()).sum();
    assert_eq!(per_request.len(), requests);
    for r in &per_request {
        let f = |k: &str| r[k].parse::<f64>().unwrap();
        let run = rows.iter().find(|m| m["run_id"] == r["run_id"]).unwrap();
        let expected = scripted_power_w(&run["model"]) * (f("end_ms") - f("start_ms")) / 1000.0;
        assert!(
            (f("window_energy_j") - expected).abs() <= 1e-9 * expected.max(1e-9),
            "{r:?}"
        );
        // The attributed share differs from the window only in the sample intervals at its
        // edges, which it shares with the requests before and after it.
        assert!(
            (f("energy_j") - expected).abs() <= f("attribution_error_j") + 1e-9,
            "{r:?}"
        );
    }
    // Conservation: each trial's requests plus its unattributed energy are its energy.
    for run in &rows {
        let f = |k: &str| run[k].parse::<f64>().unwrap();
        let attributed: f64 = per_request
            .iter()
            .filter(|r| r["run_id"] == run["run_id"])
            .map(|r| r["energy_j"].parse::<f64>().unwrap())
            .sum();
        let total = f("energy_j");
        assert!(
            (attributed + f("unattributed_energy_j") - total).abs() <= 1e-9 * total,
            "{}: {attributed} + {} != {total}",
            run["run_id"],
            run["unattributed_energy_j"]
        );
    }

    let report = dir.path().join("report");
    common::analyze()
        .arg(&data)
        .arg("--report")
        .arg(&report)
        .arg("--no-png")
        .assert()
        .success();
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.to_lowercase().contains("simulated"));
}
