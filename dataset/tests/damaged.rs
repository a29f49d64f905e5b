//! Damaged files: a truncated Parquet file is reported with its path and a reason that says it
//! is truncated; reading a part names every damaged file of it; a pass over the dataset goes on
//! past a damaged `trial.parquet` and names the trial from the run table; a reader never
//! changes a damaged file; and replacing a damaged part keeps the old files.

#![allow(clippy::unwrap_used)]

use dataset::*;
use std::path::Path;

fn trial(run: i64, rep: i64) -> TrialFiles {
    let run_id = format!("run_{run}_repetition_{rep}");
    let key = TrialKey {
        run_id: run_id.clone().into(),
        run,
        repetition: rep,
        generation: "3".into(),
        model_size: "8B".into(),
        model: "Llama-3-8B".into(),
        task: "CB".into(),
        ..Default::default()
    };
    TrialFiles {
        trial: Trial {
            key,
            status: TrialStatus::Done,
            start_ms: 1_000,
            end_ms: 2_000,
            time_resolution_ms: 1,
            provenance: "{}".into(),
            ..Default::default()
        },
        requests: vec![Request {
            run_id: run_id.clone(),
            index: 0,
            prompt: "p".into(),
            response: "r".into(),
            start_ms: 1_000,
            end_ms: 2_000,
            ..Default::default()
        }],
        samples: SampleTable {
            time_ms: vec![1_000, 1_500, 2_000],
            columns: vec![SampleColumn::new("GPU0_POWER (mWatts)", vec![1e5, 1e5, 1e5])],
        },
        baseline: None,
        server_metrics: Vec::new(),
    }
}

/// A dataset of two treatments × 3 repetitions, one part per trial, with its run table.
fn dataset(root: &Path) -> Dataset {
    let ds = Dataset::create(root, &Manifest::new("test", true, ""), false).unwrap();
    let mut runs = Vec::new();
    for run in 0..2 {
        for rep in 0..3 {
            let t = trial(run, rep);
            runs.push(RunRow {
                key: t.trial.key.clone(),
                order: runs.len() as i64,
            });
            ds.write_trial(&t, false).unwrap();
        }
    }
    ds.write_runs(&runs).unwrap();
    ds
}

/// Cuts a file to half its length.
fn truncate(path: &Path) {
    let len = std::fs::metadata(path).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_len(len / 2).unwrap();
}

#[test]
fn a_truncated_file_is_named_with_a_reason_that_says_so_and_every_file_of_a_part_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dataset(&dir.path().join("d"));
    let part = ds.part_dir("run_1_repetition_2");
    truncate(&part.join("samples.parquet"));
    std::fs::remove_file(part.join("requests.parquet")).unwrap();
    let before = std::fs::read(part.join("samples.parquet")).unwrap();
    let err = ds
        .read_part("run_1_repetition_2", ReadOptions::default())
        .unwrap_err();
    let files = err.files();
    assert_eq!(files.len(), 2, "{err}");
    assert_eq!(files[0].0, part.join("requests.parquet"));
    assert_eq!(files[0].1, "file missing");
    assert_eq!(files[1].0, part.join("samples.parquet"));
    assert!(files[1].1.starts_with("truncated Parquet file"), "{}", files[1].1);
    let text = err.to_string();
    assert!(text.contains("samples.parquet: truncated Parquet file"), "{text}");
    // Reading never changes a damaged file.
    assert_eq!(std::fs::read(part.join("samples.parquet")).unwrap(), before);
    // A file cut to a few bytes, and an empty one.
    let runs = ds.runs_path();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&runs)
        .unwrap()
        .set_len(6)
        .unwrap();
    let err = ds.read_runs().unwrap_err().to_string();
    assert!(
        err.contains("runs.parquet: truncated Parquet file: 6 bytes, too short"),
        "{err}"
    );
}

#[test]
fn a_pass_over_the_dataset_goes_on_past_a_damaged_trial_file_and_names_its_trial() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dataset(&dir.path().join("d"));
    truncate(&ds.part_dir("run_0_repetition_1").join("trial.parquet"));
    truncate(&ds.part_dir("run_1_repetition_0").join("trial.parquet"));
    let err = ds.trial_rows().unwrap_err();
    assert_eq!(err.files().len(), 2, "{err}");
    let (rows, damage) = ds.trial_rows_checked().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(damage.parts.len(), 2);
    let names: Vec<&str> = damage.trials().iter().map(|k| k.run_id.as_str()).collect();
    assert_eq!(names, ["run_0_repetition_1", "run_1_repetition_0"]);
    let kept: Vec<&TrialKey> = rows.iter().map(|(_, t)| &t.key).collect();
    let balance: Vec<String> = damage.balance(kept).iter().map(ToString::to_string).collect();
    assert_eq!(
        balance,
        [
            "run 0 (Llama-3-8B × CB): 2 of 3 repetitions",
            "run 1 (Llama-3-8B × CB): 2 of 3 repetitions"
        ]
    );
    // The other trials are still found one by one; the damaged ones are errors, not "absent".
    assert!(
        ds.read_trial_files("run_0_repetition_0", ReadOptions::default())
            .is_ok()
    );
    assert!(ds.has_trial("run_0_repetition_1").is_err());
}

#[test]
fn replacing_a_damaged_part_keeps_the_damaged_files() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dataset(&dir.path().join("d"));
    let part = ds.part_dir("run_0_repetition_2");
    truncate(&part.join("samples.parquet"));
    let damaged = std::fs::read(part.join("samples.parquet")).unwrap();
    let kept = ds
        .replace_damaged_part("run_0_repetition_2", &[trial(0, 2)], true)
        .unwrap()
        .unwrap();
    assert!(kept.starts_with(ds.root().join(store::DAMAGED_DIR)));
    assert_eq!(std::fs::read(kept.join("samples.parquet")).unwrap(), damaged);
    let all = ReadOptions {
        text: true,
        ..ReadOptions::default()
    };
    let back = ds.read_trial_files("run_0_repetition_2", all).unwrap();
    assert_eq!(back, trial(0, 2));
    // The kept copy is no part: the dataset holds the trial once.
    assert_eq!(ds.trial_ids().unwrap().len(), 6);
}

#[test]
fn a_damaged_judgments_file_is_reported_and_the_others_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dataset(&dir.path().join("d"));
    let row = Judgment {
        run_id: "run_0_repetition_0".into(),
        request_index: 0,
        scorer: "gold".into(),
        score: Some(1.0),
        reason: None,
        details: None,
    };
    ds.write_judgments("gold", std::slice::from_ref(&row)).unwrap();
    let bad = ds.judgments_path("judge:m:relevancy");
    std::fs::write(&bad, "this is not a Parquet file at all").unwrap();
    let err = ds.read_judgments().unwrap_err().to_string();
    assert!(err.contains("not a Parquet file"), "{err}");
    let (rows, damaged) = ds.read_judgments_checked().unwrap();
    assert_eq!(rows, [row]);
    assert_eq!(damaged.len(), 1);
    assert_eq!(damaged[0].path, bad);
    assert!(
        damaged[0].reason.starts_with("not a Parquet file (33 bytes)"),
        "{}",
        damaged[0].reason
    );
}

#[test]
fn an_imported_part_with_a_damaged_trial_file_gets_its_treatments_trials_from_the_run_table() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::create(dir.path().join("d"), &Manifest::new("test", false, ""), false).unwrap();
    let mut runs = Vec::new();
    for run in 0..2 {
        let trials: Vec<TrialFiles> = (0..3).map(|rep| trial(run, rep)).collect();
        for t in &trials {
            runs.push(RunRow {
                key: t.trial.key.clone(),
                order: runs.len() as i64,
            });
        }
        // One part per treatment, as `analyze import` writes them.
        ds.write_part(&format!("run_{run}"), &trials, false).unwrap();
    }
    ds.write_runs(&runs).unwrap();
    truncate(&ds.part_dir("run_1").join("trial.parquet"));
    let (rows, damage) = ds.trial_rows_checked().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(damage.parts.len(), 1);
    assert!(damage.parts[0].inferred);
    assert_eq!(damage.trials().len(), 3);
    let lines = damage.skipped_lines();
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with(
            "skipped: 3 trials of part run_1 (run_1_repetition_0 to run_1_repetition_2; Llama-3-8B × CB) \
             [trials inferred from the run table]: "
        ),
        "{}",
        lines[0]
    );
    let balance = damage.balance(rows.iter().map(|(_, t)| &t.key));
    assert_eq!(
        balance[0].to_string(),
        "run 1 (Llama-3-8B × CB): 0 of 3 repetitions"
    );
}
