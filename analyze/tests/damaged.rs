//! Damaged files, on real files: a copy of a `collect --demo` dataset (2 models × 2 tasks × 3
//! repetitions) with two parts damaged — one `samples.parquet` and one `trial.parquet` cut to
//! half their length. Without `--skip-damaged`, `analyze`, `metrics` and `audit` read
//! everything and then fail naming both files (non-zero exit, no panic, nothing written, the
//! damaged files untouched); with it they go on without the two trials, name them in the audit
//! and in a banner of the report, and give each treatment's repetitions after skipping.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The demo dataset, collected once per test process.
fn demo() -> &'static Path {
    static DEMO: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DEMO.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("demo");
        let summary = collect::demo::collect(&data, false).unwrap();
        assert_eq!((summary.planned, summary.done), (12, 12));
        (dir, data)
    });
    path
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Cuts a file to half its length.
fn truncate(path: &Path) {
    let len = std::fs::metadata(path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
}

const SAMPLES_DAMAGED: &str = "run_0_repetition_1";
const TRIAL_DAMAGED: &str = "run_2_repetition_0";

/// A temporary copy of the demo with two parts damaged; returns the folder and the damaged files.
fn damaged_copy() -> (tempfile::TempDir, PathBuf, [PathBuf; 2]) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(demo(), &data);
    let files = [
        data.join("trials").join(SAMPLES_DAMAGED).join("samples.parquet"),
        data.join("trials").join(TRIAL_DAMAGED).join("trial.parquet"),
    ];
    for f in &files {
        truncate(f);
    }
    (dir, data, files)
}

/// The (model × task) label of a trial of the demo's run table.
fn treatment(data: &Path, run_id: &str) -> (i64, String) {
    let runs = dataset::Dataset::open(data).unwrap().read_runs().unwrap();
    let k = &runs.iter().find(|r| r.key.run_id == run_id).unwrap().key;
    (
        k.run,
        format!("run {} ({} × {}): 2 of 3 repetitions", k.run, k.model, k.task),
    )
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[test]
fn analyze_fails_naming_every_damaged_file_and_touches_nothing() {
    let (dir, data, files) = damaged_copy();
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let report = dir.path().join("report");
    let runs: [Vec<&std::ffi::OsStr>; 3] = [
        vec!["metrics".as_ref(), data.as_os_str()],
        vec!["audit".as_ref(), data.as_os_str()],
        vec![data.as_os_str(), "--report".as_ref(), report.as_os_str()],
    ];
    for args in runs {
        let out = common::analyze()
            .args(&args)
            .assert()
            .failure()
            .get_output()
            .clone();
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            err.contains("2 damaged files (holding 2 trials)"),
            "{args:?}: {err}"
        );
        for f in &files {
            assert!(
                err.contains(&format!("{}: truncated Parquet file", f.display())),
                "{err}"
            );
        }
        assert!(err.contains("--skip-damaged"), "{err}");
    }
    // Nothing written, the damaged files as they were.
    assert!(!data.join("derived").exists());
    assert!(!report.exists());
    for (f, b) in files.iter().zip(&before) {
        assert_eq!(&std::fs::read(f).unwrap(), b, "{}", f.display());
    }
}

#[test]
fn skip_damaged_goes_on_without_the_trials_and_says_how_the_balance_changed() {
    let (dir, data, files) = damaged_copy();
    let (_, balance_a) = treatment(&data, SAMPLES_DAMAGED);
    let (_, balance_b) = treatment(&data, TRIAL_DAMAGED);

    // metrics: the other 10 trials, the skipped ones named on stderr.
    let csv = dir.path().join("metrics.csv");
    let out = common::analyze()
        .args(["metrics", "--skip-damaged", "--csv"])
        .arg(&csv)
        .arg(&data)
        .assert()
        .success()
        .get_output()
        .clone();
    let err = text(&out.stderr);
    for id in [SAMPLES_DAMAGED, TRIAL_DAMAGED] {
        assert!(err.contains(&format!("skipped: {id} (")), "{err}");
    }
    assert!(err.contains(&balance_a) && err.contains(&balance_b), "{err}");
    assert!(
        err.contains("(10 trials, corrected accounting; 2 damaged trials skipped)"),
        "{err}"
    );
    let rows = common::read_csv(&csv);
    assert_eq!(rows.len(), 10);
    assert!(
        rows.iter()
            .all(|r| r["run_id"] != SAMPLES_DAMAGED && r["run_id"] != TRIAL_DAMAGED)
    );

    // audit: the skipped trials and the balance in the audit itself.
    let out = common::analyze()
        .args(["audit", "--skip-damaged"])
        .arg(&data)
        .assert()
        .success()
        .get_output()
        .clone();
    let audit = text(&out.stdout);
    assert!(
        audit.starts_with("Data-quality audit of 10 trials (4 treatments)"),
        "{audit}"
    );
    assert!(
        audit.contains("2 damaged files skipped (--skip-damaged), holding 2 trials"),
        "{audit}"
    );
    for id in [SAMPLES_DAMAGED, TRIAL_DAMAGED] {
        assert!(audit.contains(&format!("skipped: {id} (")), "{audit}");
    }
    assert!(audit.contains(&format!(
        "trials/{SAMPLES_DAMAGED}/samples.parquet: truncated Parquet file"
    )));
    assert!(
        audit.contains(&balance_a) && audit.contains(&balance_b),
        "{audit}"
    );

    // The report: a banner naming them, in both outputs; summary.md names no machine folder.
    let report = dir.path().join("report");
    common::analyze()
        .arg(&data)
        .args(["--skip-damaged", "--no-png", "--report"])
        .arg(&report)
        .assert()
        .success();
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    let banner = &html[html.find("id=\"damaged\"").expect("the damaged banner")..];
    let banner = &banner[..banner.find("</div>").unwrap()];
    for needle in [
        SAMPLES_DAMAGED,
        TRIAL_DAMAGED,
        &balance_a,
        &balance_b,
        "holding 2 trials",
    ] {
        assert!(banner.contains(needle), "{needle}: {banner}");
    }
    assert!(html.contains("LLM inference energy report — 10 trials"));
    let md = std::fs::read_to_string(report.join("summary.md")).unwrap();
    assert!(md.contains("**DAMAGED FILES SKIPPED**"), "{md}");
    assert!(md.contains(&balance_a) && md.contains(&balance_b));
    assert!(
        !md.contains(&dir.path().display().to_string()),
        "summary.md names a machine folder"
    );

    // The damaged files are still there, as they were left.
    for f in &files {
        assert!(f.is_file());
    }
    // A trace of a skipped trial is a clear error.
    let out = common::analyze()
        .arg(&data)
        .args([
            "--skip-damaged",
            "--no-png",
            "--trace",
            SAMPLES_DAMAGED,
            "--report",
        ])
        .arg(&report)
        .assert()
        .failure()
        .get_output()
        .clone();
    assert!(text(&out.stderr).contains("damaged"), "{}", text(&out.stderr));
}
