//! Bad input gets a clear error naming the file, line or flag at fault, a non-zero exit, and
//! never a panic; a dataset of another design is never resumed by accident.

mod common;

use common::{collect, read_all, write_study};
use endpoint::fake::{FakeScript, FakeServer};
use predicates::prelude::*;

fn no_panic() -> impl Predicate<str> {
    predicate::str::contains("panicked").not()
}

#[test]
fn a_malformed_config_is_reported_with_its_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("bad.toml"),
        "tasks = [\"COPA\"]\n\n[experiment\nname = \"x\"\n",
    )
    .unwrap();
    collect(tmp.path())
        .args(["--config", "bad.toml", "--dry-run"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bad.toml:3:").and(no_panic()));
}

#[test]
fn a_misspelt_config_key_is_reported_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_study(tmp.path(), &["m"], &["COPA"], 1, 1);
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("seed = 7", "seed = 7\nrepetiton = 3");
    std::fs::write(&cfg, text).unwrap();
    collect(tmp.path())
        .args(["--config", "config.toml", "--dry-run"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("config.toml:7:").and(predicate::str::contains("repetiton")));
}

#[test]
fn a_missing_config_names_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    collect(tmp.path())
        .args(["--config", "nope.toml", "--dry-run"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nope.toml").and(predicate::str::contains("--config")));
}

#[test]
fn an_unknown_model_in_only_is_refused_with_the_known_ones() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a"], &["COPA"], 1, 1);
    collect(tmp.path())
        .args([
            "--config",
            "config.toml",
            "--only",
            "model=model-z,task=COPA",
            "--dry-run",
        ])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("--only model=model-z")
                .and(predicate::str::contains("model-a"))
                .and(no_panic()),
        );
    collect(tmp.path())
        .args(["--config", "config.toml", "--only", "modle=model-a"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--only modle=model-a"));
}

#[test]
fn a_missing_prompts_file_names_the_task_and_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a"], &["COPA", "CB"], 1, 1);
    std::fs::remove_file(tmp.path().join("prompts/CB.jsonl")).unwrap();
    collect(tmp.path())
        .args([
            "--config",
            "config.toml",
            "--endpoint",
            "http://127.0.0.1:9",
            "--out",
            "data",
        ])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("task `CB`")
                .and(predicate::str::contains("CB.jsonl"))
                .and(no_panic()),
        );
    assert!(
        !tmp.path().join("data").exists(),
        "nothing is written before the input is valid"
    );
}

#[test]
fn a_broken_prompts_line_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a"], &["COPA"], 1, 3);
    let p = tmp.path().join("prompts/COPA.jsonl");
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replacen("\"prompt\"", "\"promt\"", 2);
    std::fs::write(&p, text).unwrap();
    collect(tmp.path())
        .args([
            "--config",
            "config.toml",
            "--endpoint",
            "http://127.0.0.1:9",
            "--out",
            "data",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "COPA.jsonl:1: missing string field `prompt`",
        ));
}

#[test]
fn an_unreachable_endpoint_is_a_clear_error_before_any_trial() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a"], &["COPA"], 1, 1);
    // Port 9 (discard) on loopback: nothing listens there.
    collect(tmp.path())
        .args([
            "--config",
            "config.toml",
            "--endpoint",
            "http://127.0.0.1:9",
            "--out",
            "data",
        ])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("http://127.0.0.1:9 does not answer")
                .and(predicate::str::contains("--endpoint"))
                .and(no_panic()),
        );
    assert!(
        !tmp.path().join("data").exists(),
        "a run that fails before its first trial leaves no folder (nor its lock file) behind"
    );
}

#[test]
fn bad_flag_values_name_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a"], &["COPA"], 1, 1);
    for (args, needle) in [
        (vec!["--energy", "gpu"], "--energy gpu"),
        (vec!["--endpoint", "localhost:8000"], "--endpoint localhost:8000"),
        (vec!["--reps", "0"], "--reps 0"),
        (vec!["--interval-ms", "0"], "--interval-ms 0"),
        (vec!["--energy", "energibridge,nvml"], "energibridge"),
    ] {
        collect(tmp.path())
            .args(["--config", "config.toml", "--dry-run"])
            .args(&args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(needle).and(no_panic()));
    }
}

#[test]
fn a_changed_design_is_refused_with_what_changed_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_study(tmp.path(), &["model-a"], &["COPA"], 2, 2);
    let server = FakeServer::spawn(FakeScript::default()).unwrap();
    let base = [
        "--config",
        "config.toml",
        "--out",
        "data",
        "--endpoint",
        &server.base_url,
    ];
    collect(tmp.path()).args(base).assert().success();
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("max_tokens = 64", "max_tokens = 32");
    std::fs::write(&cfg, text).unwrap();
    collect(tmp.path()).args(base).assert().code(1).stderr(
        predicate::str::contains("generation.max_tokens: 64 -> 32")
            .and(predicate::str::contains("--force"))
            .and(no_panic()),
    );
    assert_eq!(read_all(&tmp.path().join("data")).len(), 2);
    collect(tmp.path())
        .args(base)
        .arg("--force")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 trials done, 0 failed, 0 already done",
        ));
}

#[test]
fn raising_the_repetitions_appends_trials_and_keeps_the_done_ones() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a", "model-b"], &["COPA"], 2, 1);
    let server = FakeServer::spawn(FakeScript::default()).unwrap();
    let base = [
        "--config",
        "config.toml",
        "--out",
        "data",
        "--endpoint",
        &server.base_url,
    ];
    collect(tmp.path()).args(base).assert().success();
    let ds = dataset::Dataset::open(tmp.path().join("data")).unwrap();
    let before = ds.read_runs().unwrap();
    collect(tmp.path())
        .args(base)
        .args(["--reps", "3"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 trials done, 0 failed, 4 already done",
        ));
    let after = ds.read_runs().unwrap();
    assert_eq!(&after[..4], &before[..]);
    assert_eq!(after.len(), 6);
    assert_eq!(read_all(&tmp.path().join("data")).len(), 6);
    // Nothing left to do: a rerun changes nothing.
    collect(tmp.path())
        .args(base)
        .args(["--reps", "3"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "0 trials done, 0 failed, 6 already done",
        ));
}

#[test]
fn only_runs_a_subset_now_and_leaves_the_rest_for_later() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a", "model-b"], &["COPA", "CB"], 1, 1);
    let server = FakeServer::spawn(FakeScript::default()).unwrap();
    let base = [
        "--config",
        "config.toml",
        "--out",
        "data",
        "--endpoint",
        &server.base_url,
    ];
    collect(tmp.path())
        .args(base)
        .args(["--only", "model=model-b"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2 trials done").and(predicate::str::contains("2 left for later")));
    let trials = read_all(&tmp.path().join("data"));
    assert!(trials.iter().all(|t| t.trial.key.model == "model-b"));
    assert_eq!(
        dataset::Dataset::open(tmp.path().join("data"))
            .unwrap()
            .read_runs()
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn a_folder_that_is_not_a_dataset_is_not_written_into() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a"], &["COPA"], 1, 1);
    std::fs::create_dir_all(tmp.path().join("data")).unwrap();
    std::fs::write(tmp.path().join("data/notes.txt"), "mine").unwrap();
    let server = FakeServer::spawn(FakeScript::default()).unwrap();
    collect(tmp.path())
        .args([
            "--config",
            "config.toml",
            "--out",
            "data",
            "--endpoint",
            &server.base_url,
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("holds no dataset"));
    let names: Vec<_> = std::fs::read_dir(tmp.path().join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["notes.txt"], "not even a lock file is written there");
}
