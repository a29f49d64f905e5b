//! The command line: the gold scorer on small datasets, several datasets at once, and bad input
//! answered by a clear error that names the file or flag, a non-zero exit and no panic.

mod support;

use predicates::prelude::*;
use support::{BOOLQ, RTE, TestTrial, judge, judgments, make_dataset};

fn labelled(root: &std::path::Path) {
    make_dataset(
        root,
        &[TestTrial {
            run_id: "run_1_repetition_0",
            task: "RTE",
            generation: "3.2",
            rows: vec![
                (
                    RTE,
                    "Yes, the hypothesis follows from the premise.",
                    Some("entailment"),
                ),
                (RTE, "No, it does not follow.", Some("entailment")),
                (RTE, "I cannot say.", Some("not_entailment")),
            ],
        }],
    );
}

#[test]
fn gold_labels_attached_at_import_are_scored_and_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    labelled(&data);
    judge()
        .arg(&data)
        .arg("--gold")
        .assert()
        .success()
        .stdout(predicate::str::contains("decision extracted from 2 (66.67 %)"))
        .stdout(predicate::str::contains(
            "3.2                3         2    0.5000",
        ))
        .stdout(predicate::str::contains("gold confusion per task"));
    let rows = judgments(&data, "gold");
    assert_eq!(
        rows.iter().map(|r| r.score).collect::<Vec<_>>(),
        [Some(1.0), Some(0.0), None]
    );
    assert!(rows[2].reason.as_deref().is_some_and(|r| !r.is_empty()));
    // A rerun rewrites the same rows.
    judge().arg(&data).assert().success();
    assert_eq!(judgments(&data, "gold"), rows);
}

#[test]
fn prompts_dir_labels_requests_by_position_and_warns_on_a_prompt_mismatch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    make_dataset(
        &data,
        &[TestTrial {
            run_id: "t",
            task: "BoolQ",
            generation: "2",
            rows: vec![(BOOLQ, "Yes, it is.", None), ("another prompt", "No.", None)],
        }],
    );
    let prompts = dir.path().join("prompts");
    std::fs::create_dir(&prompts).expect("mkdir");
    let line = |idx: i64, prompt: &str, label: bool| {
        serde_json::json!({"idx": idx, "prompt": prompt, "label": label}).to_string()
    };
    std::fs::write(
        prompts.join("BoolQ.jsonl"),
        format!(
            "{}\n{}\n",
            line(7, BOOLQ, true),
            line(8, "a different prompt", true)
        ),
    )
    .expect("write");
    judge()
        .arg(&data)
        .arg("--prompts")
        .arg(&prompts)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "1 request(s) have a prompt that differs",
        ));
    let rows = judgments(&data, "gold");
    assert_eq!(
        rows.iter().map(|r| r.score).collect::<Vec<_>>(),
        [Some(1.0), Some(0.0)]
    );
    let details: serde_json::Value =
        serde_json::from_str(rows[0].details.as_deref().expect("details")).expect("json");
    assert_eq!(details["item_id"], 7);
}

#[test]
fn a_folder_of_datasets_judges_each() {
    let dir = tempfile::tempdir().expect("temp dir");
    labelled(&dir.path().join("one"));
    labelled(&dir.path().join("two"));
    judge()
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("judge: 2 datasets"))
        .stdout(predicate::str::contains("gold: 6 responses scored"));
    assert_eq!(judgments(&dir.path().join("one"), "gold").len(), 3);
    assert_eq!(judgments(&dir.path().join("two"), "gold").len(), 3);
}

#[test]
fn a_missing_dataset_folder_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope");
    judge()
        .arg(&missing)
        .assert()
        .failure()
        .stderr(predicate::str::contains(missing.display().to_string()))
        .stderr(predicate::str::contains("no such dataset folder"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn a_folder_without_datasets_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    judge()
        .arg(dir.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("not a dataset"));
}

#[test]
fn a_dataset_without_labels_or_endpoint_has_nothing_to_judge() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    make_dataset(
        &data,
        &[TestTrial {
            run_id: "t",
            task: "BoolQ",
            generation: "2",
            rows: vec![(BOOLQ, "Yes.", None)],
        }],
    );
    judge()
        .arg(&data)
        .assert()
        .failure()
        .stderr(predicate::str::contains("nothing to judge"));
    judge()
        .arg(&data)
        .arg("--gold")
        .assert()
        .failure()
        .stderr(predicate::str::contains("--gold: no request has a gold label"));
}

#[test]
fn a_bad_prompts_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    labelled(&data);
    let prompts = dir.path().join("prompts");
    std::fs::create_dir(&prompts).expect("mkdir");
    std::fs::write(
        prompts.join("RTE.jsonl"),
        "{\"idx\": 0, \"prompt\": \"p\", \"label\": \"entailment\"}\n{oops\n",
    )
    .expect("write");
    judge()
        .arg(&data)
        .arg("--prompts")
        .arg(&prompts)
        .assert()
        .failure()
        .stderr(predicate::str::contains("RTE.jsonl:2"));
    judge()
        .arg(&data)
        .args(["--prompts", "/definitely/not/here"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--prompts /definitely/not/here: not a folder",
        ));
}

#[test]
fn bad_llm_flags_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    labelled(&data);
    for (args, want) in [
        (vec!["--endpoint", "http://127.0.0.1:9"], "--model"),
        (
            vec![
                "--endpoint",
                "http://127.0.0.1:9",
                "--model",
                "m",
                "--rubric",
                "vibes",
            ],
            "--rubric",
        ),
        (vec!["--endpoint", "nope nope", "--model", "m"], "--endpoint"),
        (
            vec!["--endpoint", "http://127.0.0.1:9", "--model", "m", "--jobs", "0"],
            "--jobs",
        ),
        (vec!["--sample", "5"], "--sample"),
    ] {
        judge()
            .arg(&data)
            .args(&args)
            .assert()
            .failure()
            .stderr(predicate::str::contains(want))
            .stderr(predicate::str::contains("panicked").not());
    }
}

#[test]
fn an_unreachable_endpoint_fails_the_run_after_recording_the_failures() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    labelled(&data);
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    judge()
        .arg(&data)
        .args([
            "--endpoint",
            &format!("http://127.0.0.1:{port}"),
            "--model",
            "m",
            "--retries",
            "0",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no judge call got an answer"));
    let rows = judgments(&data, "judge:m:relevancy");
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.score.is_none()));
    // The gold scorer's work is not lost.
    assert_eq!(judgments(&data, "gold").len(), 3);
}
