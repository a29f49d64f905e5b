//! Shards read as one study (`collect --shard K/N`, issue 13): three shards of the demo design,
//! collected into three folders, are read by `analyze metrics` and the report as the one design
//! they make up; a shard named twice, a trial in two folders, and a dataset of another design
//! are refused with an error naming the folders.

#![allow(clippy::unwrap_used)]

mod common;

use collect::options::Shard;
use common::read_csv as read;
use std::collections::BTreeSet;
use std::path::Path;

/// The demo design collected into `out`, shard `shard` of it (all of it when `None`), with
/// `reps` repetitions.
fn collect_demo(out: &Path, shard: Option<Shard>, reps: u32) {
    let mut config = collect::demo::config().unwrap();
    config.repetitions = reps;
    let prompts = collect::demo::task_prompts(None).unwrap();
    let mut study = collect::demo::study(config, prompts, out.to_path_buf(), false, true);
    study.shard = shard;
    let summary = collect::demo::collect_study(study).unwrap();
    assert_eq!(summary.failed, 0);
}

fn run_ids(csv: &Path) -> Vec<String> {
    read(csv).into_iter().map(|r| r["run_id"].clone()).collect()
}

#[test]
fn three_shards_read_together_are_the_design_once_and_mismatches_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    collect_demo(&whole, None, 3);
    let shards: Vec<_> = (0..3).map(|k| dir.path().join(format!("shard{k}"))).collect();
    for (k, path) in shards.iter().enumerate() {
        collect_demo(
            path,
            Some(Shard {
                index: k as u32,
                count: 3,
            }),
            3,
        );
    }
    let whole_csv = dir.path().join("whole.csv");
    common::analyze()
        .args([
            "metrics",
            whole.to_str().unwrap(),
            "--csv",
            whole_csv.to_str().unwrap(),
        ])
        .assert()
        .success();
    let together_csv = dir.path().join("together.csv");
    common::analyze()
        .arg("metrics")
        .args(&shards)
        .args(["--csv", together_csv.to_str().unwrap()])
        .assert()
        .success();
    // The same trials, in the same (model) order, as the one local run.
    let expected = run_ids(&whole_csv);
    assert_eq!(expected.len(), 12);
    assert_eq!(run_ids(&together_csv), expected);
    // Each shard's derived table holds its own trials, and the three are disjoint.
    let mut seen = BTreeSet::new();
    for path in &shards {
        let ds = dataset::Dataset::open(path).unwrap();
        let own: Vec<dataset::MetricsRow> =
            dataset::tables::read(&ds.metrics_path(dataset::Accounting::Corrected)).unwrap();
        assert_eq!(own.len(), 4, "{}", path.display());
        for m in own {
            assert!(seen.insert(m.key.run_id.to_string()));
        }
    }
    assert_eq!(seen.len(), 12);
    // The report reads them as one study.
    let report = dir.path().join("report");
    common::analyze()
        .args(&shards)
        .args(["--report", report.to_str().unwrap(), "--no-png"])
        .assert()
        .success();
    assert!(report.join("index.html").is_file());

    // A folder named twice, a trial in two folders, another design: refused, naming them.
    let twice = common::analyze()
        .arg("metrics")
        .args([&shards[0], &shards[1], &shards[0]])
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&twice.get_output().stderr).into_owned();
    assert!(err.contains("named twice"), "{err}");
    let overlap = common::analyze()
        .arg("metrics")
        .args([&shards[0], &whole])
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&overlap.get_output().stderr).into_owned();
    assert!(
        err.contains("is in ") && err.contains("shard0") && err.contains("whole"),
        "{err}"
    );
    let other = dir.path().join("other");
    collect_demo(&other, Some(Shard { index: 0, count: 3 }), 2);
    let mismatch = common::analyze()
        .arg("metrics")
        .args([&shards[1], &other])
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&mismatch.get_output().stderr).into_owned();
    assert!(
        err.contains("another design") && err.contains("repetitions"),
        "{err}"
    );
}
