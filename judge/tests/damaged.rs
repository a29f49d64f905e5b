//! Damaged files, on real files: a dataset of 2 treatments × 3 repetitions written through the
//! `dataset` crate, judged once, then two parts damaged (one `requests.parquet`, one
//! `trial.parquet` cut to half their length). judge then reads everything and fails naming
//! both files, judging nothing; with `--skip-damaged` it judges the other trials, names the
//! skipped ones and the repetitions left, and keeps their stored judgments. A damaged
//! `samples.parquet` is no concern of judge's (it never reads samples).

mod support;

use dataset::{Dataset, Manifest, Request, RunRow, SampleTable, Trial, TrialFiles, TrialKey, TrialStatus};
use std::path::Path;
use support::{RTE, judge, judgments};

fn make(root: &Path) {
    let ds = Dataset::create(root, &Manifest::new("judge tests", true, "test data"), false).expect("create");
    let mut runs = Vec::new();
    for run in 0..2_i64 {
        for rep in 0..3_i64 {
            let run_id = format!("run_{run}_repetition_{rep}");
            let key = TrialKey {
                run_id: run_id.clone().into(),
                run,
                repetition: rep,
                generation: "3.2".into(),
                model_size: "1B".into(),
                model: format!("model-{run}").into(),
                task: "RTE".into(),
                ..Default::default()
            };
            runs.push(RunRow {
                key: key.clone(),
                order: runs.len() as i64,
            });
            let requests = (0..2)
                .map(|i| Request {
                    run_id: run_id.clone(),
                    index: i,
                    gold_label: Some("entailment".into()),
                    item_id: Some(i),
                    prompt: RTE.into(),
                    response: "Yes, the hypothesis follows from the premise.".into(),
                    start_ms: 1_000,
                    end_ms: 2_000,
                    ..Default::default()
                })
                .collect();
            let trial = Trial {
                key,
                status: TrialStatus::Done,
                start_ms: 1_000,
                end_ms: 2_000,
                time_resolution_ms: 1,
                simulated: true,
                provenance: "{}".into(),
                ..Default::default()
            };
            let files = TrialFiles {
                trial,
                requests,
                samples: SampleTable::default(),
                baseline: None,
                server_metrics: Vec::new(),
            };
            ds.write_trial(&files, false).expect("write trial");
        }
    }
    ds.write_runs(&runs).expect("write runs");
}

fn truncate(path: &Path) {
    let len = std::fs::metadata(path).expect("metadata").len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open")
        .set_len(len / 2)
        .expect("truncate");
}

#[test]
fn judge_fails_naming_every_damaged_file_and_skip_damaged_judges_the_rest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    make(&data);
    judge().arg(&data).assert().success();
    let judged = judgments(&data, "gold");
    assert_eq!(judged.len(), 12);

    let damaged = [
        data.join("trials/run_0_repetition_1/requests.parquet"),
        data.join("trials/run_1_repetition_2/trial.parquet"),
    ];
    for f in &damaged {
        truncate(f);
    }
    // Judge never reads samples: a damaged samples file does not concern it.
    truncate(&data.join("trials/run_1_repetition_0/samples.parquet"));
    let gold_file = Dataset::open(&data).expect("open").judgments_path("gold");
    let gold_before = std::fs::read(&gold_file).expect("gold file");
    let damaged_before: Vec<Vec<u8>> = damaged.iter().map(|f| std::fs::read(f).expect("read")).collect();

    let out = judge().arg(&data).assert().failure().get_output().clone();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("2 damaged files (holding 2 trials)"), "{err}");
    for f in &damaged {
        assert!(
            err.contains(&format!("{}: truncated Parquet file", f.display())),
            "{err}"
        );
    }
    assert!(
        err.contains("--skip-damaged") && err.contains("nothing was judged"),
        "{err}"
    );
    assert_eq!(std::fs::read(&gold_file).expect("gold file"), gold_before);

    let out = judge()
        .arg(&data)
        .arg("--skip-damaged")
        .assert()
        .success()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for id in ["run_0_repetition_1", "run_1_repetition_2"] {
        assert!(err.contains(&format!("judge: skipped: {id} (model-")), "{err}");
    }
    assert!(err.contains("run 0 (model-0 × RTE): 2 of 3 repetitions"), "{err}");
    assert!(err.contains("run 1 (model-1 × RTE): 2 of 3 repetitions"), "{err}");
    assert!(
        stdout.contains("2 damaged trials skipped (--skip-damaged)"),
        "{stdout}"
    );
    // The other trials are judged again; the skipped ones keep their stored rows.
    assert_eq!(judgments(&data, "gold"), judged);
    for (f, b) in damaged.iter().zip(&damaged_before) {
        assert_eq!(&std::fs::read(f).expect("read"), b, "{}", f.display());
    }
}
