//! Resume with damaged files, on real files: a finished collection (against the in-process
//! fake server) has two committed trials damaged — one `samples.parquet` and one
//! `trial.parquet` cut to half their length. Running the same command again measures exactly
//! those two trials again, says so, commits them anew, and keeps the damaged files (moved to
//! `DATA/damaged/`, byte for byte); every other trial is left as it was.

#![allow(clippy::unwrap_used)]

mod common;

use common::{collect, read_all, write_study};
use endpoint::fake::{FakeScript, FakeServer};
use std::path::Path;
use std::sync::atomic::Ordering;

fn truncate(path: &Path) {
    let len = std::fs::metadata(path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
}

#[test]
fn resume_measures_a_damaged_trial_again_and_keeps_its_damaged_files() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a", "model-b"], &["COPA", "CB"], 2, 3);
    let server = FakeServer::spawn(FakeScript::default()).unwrap();
    let args = [
        "--config",
        "config.toml",
        "--out",
        "data",
        "--endpoint",
        &server.base_url,
        "--quiet",
    ];
    collect(tmp.path()).args(args).assert().success();
    let out = tmp.path().join("data");
    let before = read_all(&out);
    assert_eq!(before.len(), 8);
    let answered = server.stats.completed.load(Ordering::SeqCst);
    assert_eq!(answered, 24);

    let (a, b) = ("run_0_repetition_1", "run_3_repetition_0");
    let damaged = [
        out.join("trials").join(a).join("samples.parquet"),
        out.join("trials").join(b).join("trial.parquet"),
    ];
    for f in &damaged {
        truncate(f);
    }
    let damaged_bytes: Vec<Vec<u8>> = damaged.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let untouched = out.join("trials/run_1_repetition_0/samples.parquet");
    let untouched_bytes = std::fs::read(&untouched).unwrap();

    // Without --quiet: the resume notes name each damaged file.
    let run = collect(tmp.path())
        .args(&args[..6])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    for (id, f) in [a, b].iter().zip(&damaged) {
        assert!(
            stderr.contains(&format!(
                "trial {id} is committed but damaged (data/trials/{id}/{}: truncated Parquet file",
                f.file_name().unwrap().to_string_lossy()
            )),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("{id}: measured again; its damaged files were moved to")),
            "{stderr}"
        );
    }
    assert!(
        stderr.contains("resuming data: 6 of 8 trials done, 2 damaged trial(s) will be measured again"),
        "{stderr}"
    );
    assert!(
        stdout.contains("collect: 2 trials done, 0 failed, 6 already done"),
        "{stdout}"
    );
    assert!(
        stdout.contains("measured again 2 damaged trial(s): run_0_repetition_1 (damaged files kept in"),
        "{stdout}"
    );

    // Exactly the two trials were measured again: 2 × 3 more requests.
    assert_eq!(server.stats.completed.load(Ordering::SeqCst), answered + 6);
    let after = read_all(&out);
    assert_eq!(after.len(), 8);
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(old.trial.key, new.trial.key);
        let remeasured = [a, b].contains(&new.trial.key.run_id.as_str());
        assert_eq!(
            old.trial.start_ms != new.trial.start_ms,
            remeasured,
            "{}",
            new.trial.key.run_id
        );
        assert_eq!(new.trial.status, dataset::TrialStatus::Done);
        assert_eq!(new.requests.len(), 3);
        assert!(!new.samples.is_empty());
    }
    assert_eq!(std::fs::read(&untouched).unwrap(), untouched_bytes);

    // The damaged files are kept, unchanged, under DATA/damaged/<run_id>.<ms>/.
    let kept: Vec<_> = std::fs::read_dir(out.join(dataset::store::DAMAGED_DIR))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    for ((id, f), bytes) in [a, b].iter().zip(&damaged).zip(&damaged_bytes) {
        let dir = kept
            .iter()
            .find(|k| {
                k.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("{id}."))
            })
            .unwrap();
        assert_eq!(&std::fs::read(dir.join(f.file_name().unwrap())).unwrap(), bytes);
    }

    // A third run has nothing left to do.
    let run = collect(tmp.path())
        .args(args)
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&run.stdout).contains("0 trials done, 0 failed, 8 already done"));
}
