//! The LLM judge against the in-process fake judge server: verdicts stored, the cache makes a
//! rerun free, failures (malformed JSON, 429, 500, timeouts) are retried or recorded, the API
//! key never leaks, an interrupted run resumes.

mod support;

use support::rubric_responder::{Config, fake_judge};
use support::{BOOLQ, RTE, TestTrial, files_under, judge, judgments, make_dataset};

const SCORER: &str = "judge:fake-model:relevancy";

fn relevancy_args<'a>(cmd: &'a mut assert_cmd::Command, url: &str) -> &'a mut assert_cmd::Command {
    cmd.args([
        "--endpoint",
        url,
        "--model",
        "fake-model",
        "--rubric",
        "relevancy",
        "--backoff-ms",
        "10",
    ])
}

#[test]
fn deterministic_verdicts_are_stored_and_a_rerun_makes_no_call() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    make_dataset(
        &data,
        &[TestTrial {
            run_id: "run_0_repetition_0",
            task: "BoolQ",
            generation: "3",
            rows: vec![
                (BOOLQ, "Yes. Water is wet.", None),
                (
                    BOOLQ,
                    "Yes. This is irrelevant. Water is wet. It is maybe blue.",
                    None,
                ),
                (BOOLQ, "   ", None),
            ],
        }],
    );
    let fake = fake_judge(Config::default());
    let out = relevancy_args(&mut judge(), &fake.base_url)
        .arg(&data)
        .args(["--jobs", "3"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("3 judged (3 new, 0 cached), 0 failed"),
        "{stdout}"
    );
    // Two calls per answer with statements, one for the answer without any.
    assert_eq!(fake.seen.requests(), 5);
    let rows = judgments(&data, SCORER);
    let scores: Vec<Option<f64>> = rows.iter().map(|r| r.score).collect();
    assert_eq!(scores, [Some(1.0), Some(0.75), Some(1.0)]);
    let details: serde_json::Value =
        serde_json::from_str(rows[1].details.as_deref().expect("details")).expect("json");
    assert_eq!(details["verdicts"][1]["verdict"], "no");
    assert_eq!(details["calls"], 2);
    assert!(details["tokens"]["prompt"].as_u64().expect("tokens") > 0);
    assert!(rows[1].reason.as_deref().expect("reason").contains("irrelevant"));
    // The second run finds every verdict in the cache.
    let out = relevancy_args(&mut judge(), &fake.base_url)
        .arg(&data)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("3 judged (0 new, 3 cached)"), "{stdout}");
    assert_eq!(fake.seen.requests(), 5, "a rerun must make no call");
    assert_eq!(judgments(&data, SCORER), rows);
}

#[test]
fn malformed_json_is_repaired_once_then_recorded_as_a_failure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    make_dataset(
        &data,
        &[TestTrial {
            run_id: "t",
            task: "BoolQ",
            generation: "2",
            rows: vec![
                (BOOLQ, "Yes. [malformed-once] Water is wet.", None),
                (BOOLQ, "No. [malformed] Water is dry.", None),
            ],
        }],
    );
    let fake = fake_judge(Config::default());
    relevancy_args(&mut judge(), &fake.base_url)
        .arg(&data)
        .assert()
        .success();
    let rows = judgments(&data, SCORER);
    assert_eq!(rows[0].score, Some(1.0), "{:?}", rows[0].reason);
    assert_eq!(rows[1].score, None);
    let reason = rows[1].reason.as_deref().expect("reason");
    assert!(reason.contains("unusable twice"), "{reason}");
    // 3 calls for the repaired answer (statements, repair, verdicts), 2 for the failed one.
    assert_eq!(fake.seen.requests(), 5);
    // An unusable answer is cached like a verdict: the rerun asks nothing...
    let out = relevancy_args(&mut judge(), &fake.base_url)
        .arg(&data)
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("1 failed"));
    assert_eq!(fake.seen.requests(), 5);
    // ...unless told to retry failures.
    relevancy_args(&mut judge(), &fake.base_url)
        .arg(&data)
        .arg("--retry-failed")
        .assert()
        .success();
    assert_eq!(fake.seen.requests(), 7);
}

#[test]
fn rate_limits_and_server_errors_are_retried_and_a_persistent_error_is_recorded_but_not_cached() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    make_dataset(
        &data,
        &[TestTrial {
            run_id: "t",
            task: "BoolQ",
            generation: "2",
            rows: vec![
                (BOOLQ, "Yes. [429-once] Water is wet.", None),
                (BOOLQ, "Yes. [500-once] Water is wet indeed.", None),
                (BOOLQ, "Yes. [500-always] Water is very wet.", None),
            ],
        }],
    );
    let fake = fake_judge(Config::default());
    relevancy_args(&mut judge(), &fake.base_url)
        .arg(&data)
        .args(["--retries", "2"])
        .assert()
        .success();
    let rows = judgments(&data, SCORER);
    assert_eq!(rows[0].score, Some(1.0));
    assert_eq!(rows[1].score, Some(1.0));
    assert_eq!(rows[2].score, None);
    let reason = rows[2].reason.as_deref().expect("reason");
    assert!(reason.contains("HTTP 500"), "{reason}");
    // (1 + 1 retry) + 1 for each transient one, 3 attempts for the persistent 500.
    assert_eq!(fake.seen.step("statements"), 2 + 2 + 3);
    let before = fake.seen.requests();
    relevancy_args(&mut judge(), &fake.base_url)
        .arg(&data)
        .args(["--retries", "0"])
        .assert()
        .success();
    assert_eq!(
        fake.seen.requests(),
        before + 1,
        "only the call that got no answer is made again"
    );
}

#[test]
fn slow_answers_within_the_timeout_are_judged_and_those_past_it_fail_without_being_cached() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    make_dataset(
        &data,
        &[TestTrial {
            run_id: "t",
            task: "BoolQ",
            generation: "2",
            rows: vec![
                (BOOLQ, "Yes. [slow] Water is wet.", None),
                (BOOLQ, "Yes. Quick.", None),
            ],
        }],
    );
    let fake = fake_judge(Config {
        slow_ms: 1_500,
        ..Config::default()
    });
    relevancy_args(&mut judge(), &fake.base_url)
        .arg(&data)
        .args(["--timeout", "0.5", "--retries", "1"])
        .assert()
        .success();
    let rows = judgments(&data, SCORER);
    assert_eq!(rows[0].score, None);
    assert!(rows[0].reason.as_deref().expect("reason").contains("--timeout"));
    assert_eq!(rows[1].score, Some(1.0));
    relevancy_args(&mut judge(), &fake.base_url)
        .arg(&data)
        .args(["--timeout", "5"])
        .assert()
        .success();
    assert_eq!(judgments(&data, SCORER)[0].score, Some(1.0));
}

#[test]
fn a_server_that_refuses_json_schema_is_asked_for_a_json_object_instead() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    make_dataset(
        &data,
        &[TestTrial {
            run_id: "t",
            task: "BoolQ",
            generation: "2",
            rows: vec![
                (BOOLQ, "Yes. Wet.", None),
                (BOOLQ, "No. Dry.", None),
                (BOOLQ, "Maybe.", None),
            ],
        }],
    );
    let fake = fake_judge(Config {
        reject_json_schema: true,
        ..Config::default()
    });
    relevancy_args(&mut judge(), &fake.base_url)
        .arg(&data)
        .args(["--jobs", "1"])
        .assert()
        .success();
    assert!(judgments(&data, SCORER).iter().all(|r| r.score.is_some()));
    let formats = fake.seen.formats();
    assert_eq!(formats[..2], ["json_schema", "json_object"]);
    assert!(
        formats[2..].iter().all(|f| f == "json_object"),
        "the fallback sticks: {formats:?}"
    );
}

#[test]
fn the_api_key_is_sent_but_never_printed_or_stored() {
    let secret = "sk-test-7f3a9c1e5b-DO-NOT-LEAK";
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    make_dataset(
        &data,
        &[TestTrial {
            run_id: "t",
            task: "BoolQ",
            generation: "2",
            rows: vec![
                (BOOLQ, "Yes. Wet.", None),
                (BOOLQ, "Yes. [500-always] Broken.", None),
            ],
        }],
    );
    let fake = fake_judge(Config::default());
    for (env, extra) in [("OPENAI_API_KEY", None), ("MY_JUDGE_KEY", Some("MY_JUDGE_KEY"))] {
        let mut cmd = judge();
        relevancy_args(&mut cmd, &fake.base_url)
            .arg(&data)
            .args(["--retries", "0", "--retry-failed"])
            .env(env, secret);
        if let Some(var) = extra {
            cmd.args(["--api-key-env", var]);
        }
        let out = cmd.assert().success();
        let output = out.get_output();
        for stream in [&output.stdout, &output.stderr] {
            assert!(!String::from_utf8_lossy(stream).contains(secret));
        }
    }
    let auth = fake.seen.auth();
    assert!(!auth.is_empty());
    assert!(auth.iter().all(|a| a == &format!("Bearer {secret}")));
    for file in files_under(dir.path()) {
        let bytes = std::fs::read(&file).expect("read");
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{} holds the API key",
            file.display()
        );
    }
    // A missing variable named by --api-key-env is an error naming the flag, without a key.
    let out = relevancy_args(&mut judge(), &fake.base_url)
        .arg(&data)
        .args(["--api-key-env", "NO_SUCH_VARIABLE_X"])
        .assert()
        .failure();
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("--api-key-env NO_SUCH_VARIABLE_X"));
}

#[test]
fn an_interrupted_run_resumes_and_judges_everything_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let answers: Vec<String> = (0..40).map(|i| format!("Yes. Answer number {i}.")).collect();
    make_dataset(
        &data,
        &[TestTrial {
            run_id: "t",
            task: "BoolQ",
            generation: "2",
            rows: answers.iter().map(|a| (BOOLQ, a.as_str(), None)).collect(),
        }],
    );
    let fake = fake_judge(Config {
        delay_ms: 40,
        ..Config::default()
    });
    let bin = assert_cmd::cargo::cargo_bin("judge");
    let mut child = std::process::Command::new(bin)
        .args([
            "--quiet",
            "--endpoint",
            &fake.base_url,
            "--model",
            "fake-model",
            "--jobs",
            "2",
        ])
        .arg(&data)
        .env_remove("OPENAI_API_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn judge");
    let started = std::time::Instant::now();
    while fake.seen.step("verdicts") < 10 && started.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().expect("kill judge");
    let _ = child.wait();
    let first_run = fake.seen.step("verdicts");
    assert!(
        (10..40).contains(&first_run),
        "killed after {first_run} verdict calls"
    );
    assert!(
        judgments(&data, SCORER).is_empty(),
        "the killed run stored no judgments"
    );

    relevancy_args(&mut judge(), &fake.base_url)
        .arg(&data)
        .assert()
        .success();
    let rows = judgments(&data, SCORER);
    assert_eq!(rows.len(), 40);
    assert!(rows.iter().all(|r| r.score == Some(1.0)));
    // Every answer was judged to the end once; at most the two calls in flight at the kill
    // were made twice.
    let per = fake.seen.per_answer();
    let twice = per
        .iter()
        .filter(|((step, _), n)| step == "verdicts" && **n > 1)
        .count();
    assert!(twice <= 2, "{twice} answers judged twice");
    assert_eq!(per.iter().filter(|((step, _), _)| step == "verdicts").count(), 40);
    let before = fake.seen.requests();
    relevancy_args(&mut judge(), &fake.base_url)
        .arg(&data)
        .assert()
        .success();
    assert_eq!(fake.seen.requests(), before);
}

#[test]
fn a_sample_judges_k_requests_per_trial_and_a_larger_one_keeps_the_earlier_judgments() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    // Distinct answers in the two trials, so that the cache (keyed by content) is no shortcut.
    let answers: Vec<String> = (0..24).map(|i| format!("Yes. Reply {i}.")).collect();
    let rows: Vec<support::Row<'_>> = answers.iter().map(|a| (BOOLQ, a.as_str(), None)).collect();
    make_dataset(
        &data,
        &[
            TestTrial {
                run_id: "a",
                task: "BoolQ",
                generation: "2",
                rows: rows[..12].to_vec(),
            },
            TestTrial {
                run_id: "b",
                task: "BoolQ",
                generation: "3",
                rows: rows[12..].to_vec(),
            },
        ],
    );
    let fake = fake_judge(Config::default());
    let picked = |k: &str, seed: &str| {
        relevancy_args(&mut judge(), &fake.base_url)
            .arg(&data)
            .args(["--sample", k, "--seed", seed])
            .assert()
            .success();
        judgments(&data, SCORER)
            .into_iter()
            .map(|j| (j.run_id, j.request_index))
            .collect::<Vec<_>>()
    };
    let three = picked("3", "5");
    assert_eq!(three.len(), 6);
    assert_eq!(three.iter().filter(|(r, _)| r == "a").count(), 3);
    let calls = fake.seen.requests();
    assert_eq!(picked("3", "5"), three, "the same seed picks the same requests");
    assert_eq!(fake.seen.requests(), calls);
    let five = picked("5", "5");
    assert_eq!(five.len(), 10);
    assert!(
        three.iter().all(|x| five.contains(x)),
        "a larger sample extends the smaller one"
    );
    assert_eq!(
        fake.seen.requests(),
        calls + 4 * 2,
        "only the 4 new requests are judged"
    );
}

#[test]
fn correctness_grades_against_the_gold_label_and_skips_requests_without_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    make_dataset(
        &data,
        &[TestTrial {
            run_id: "t",
            task: "RTE",
            generation: "3.1",
            rows: vec![
                (RTE, "Yes, it follows.", Some("entailment")),
                (RTE, "Yes, it follows.", Some("not_entailment")),
                (RTE, "No.", None),
            ],
        }],
    );
    let fake = fake_judge(Config::default());
    let out = judge()
        .arg(&data)
        .args([
            "--endpoint",
            &fake.base_url,
            "--model",
            "fake-model",
            "--rubric",
            "correctness",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("1 skipped"), "{stdout}");
    let rows = judgments(&data, "judge:fake-model:correctness");
    assert_eq!(
        rows.iter().map(|r| r.score).collect::<Vec<_>>(),
        [Some(1.0), Some(0.0), None]
    );
    assert!(
        rows[2]
            .reason
            .as_deref()
            .expect("reason")
            .contains("needs a gold label")
    );
    assert_eq!(fake.seen.step("correctness"), 2);
    // The gold scorer ran too, on the labelled requests.
    assert_eq!(judgments(&data, "gold").len(), 2);
}

#[test]
fn the_rate_limit_spaces_the_requests() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let answers: Vec<String> = (0..5).map(|i| format!("Yes. R{i}.")).collect();
    make_dataset(
        &data,
        &[TestTrial {
            run_id: "t",
            task: "BoolQ",
            generation: "2",
            rows: answers.iter().map(|a| (BOOLQ, a.as_str(), None)).collect(),
        }],
    );
    let fake = fake_judge(Config::default());
    let started = std::time::Instant::now();
    relevancy_args(&mut judge(), &fake.base_url)
        .arg(&data)
        .args(["--rps", "20", "--jobs", "8"])
        .assert()
        .success();
    // Ten requests at 20/s take at least 9 intervals of 50 ms.
    assert_eq!(fake.seen.requests(), 10);
    assert!(started.elapsed() >= std::time::Duration::from_millis(450));
}

#[test]
fn ctrl_c_stores_what_was_judged_and_a_rerun_judges_the_rest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let answers: Vec<String> = (0..40).map(|i| format!("No. Reply {i}.")).collect();
    make_dataset(
        &data,
        &[TestTrial {
            run_id: "t",
            task: "BoolQ",
            generation: "2",
            rows: answers.iter().map(|a| (BOOLQ, a.as_str(), None)).collect(),
        }],
    );
    let fake = fake_judge(Config {
        delay_ms: 40,
        ..Config::default()
    });
    let bin = assert_cmd::cargo::cargo_bin("judge");
    let child = std::process::Command::new(bin)
        .args([
            "--quiet",
            "--endpoint",
            &fake.base_url,
            "--model",
            "fake-model",
            "--jobs",
            "2",
        ])
        .arg(&data)
        .env_remove("OPENAI_API_KEY")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn judge");
    let started = std::time::Instant::now();
    while fake.seen.step("verdicts") < 10 && started.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("interrupted"), "{stderr}");
    let stored = judgments(&data, SCORER).len();
    // Ten verdict calls had arrived; at most the two in flight were not finished.
    assert!(
        (8..40).contains(&stored),
        "{stored} judgments stored at the interrupt"
    );
    let before = fake.seen.step("verdicts");
    relevancy_args(&mut judge(), &fake.base_url)
        .arg(&data)
        .assert()
        .success();
    assert_eq!(judgments(&data, SCORER).len(), 40);
    assert!(fake.seen.step("verdicts") - before <= 40 - stored);
}

#[test]
fn the_judge_table_of_a_config_file_sets_the_endpoint_and_flags_override_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    make_dataset(
        &data,
        &[TestTrial {
            run_id: "run_0_repetition_0",
            task: "BoolQ",
            generation: "3",
            rows: vec![
                (BOOLQ, "Yes. Water is wet.", None),
                (BOOLQ, "No. It is dry.", None),
            ],
        }],
    );
    let fake = fake_judge(Config::default());
    // An experiment config: collect's tables are ignored, [judge] is read.
    let config = dir.path().join("study.toml");
    std::fs::write(
        &config,
        format!(
            "tasks = [\"BoolQ\"]\n[experiment]\nname = \"x\"\n\n[judge]\nendpoint = \"{}\"\nmodel = \"fake-model\"\nrubric = \"relevancy\"\nsample = 1\njobs = 2\n",
            fake.base_url
        ),
    )
    .expect("write config");
    judge()
        .arg(&data)
        .args(["--backoff-ms", "10", "--config"])
        .arg(&config)
        .assert()
        .success();
    assert_eq!(judgments(&data, SCORER).len(), 1, "sample = 1 from the config");
    // A flag wins over the config: --sample 2 judges both requests.
    judge()
        .arg(&data)
        .args(["--backoff-ms", "10", "--sample", "2", "--config"])
        .arg(&config)
        .assert()
        .success();
    assert_eq!(judgments(&data, SCORER).len(), 2);
    // A bad value names the key and the file.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "[judge]\nendpoint = \"{}\"\nmodel = \"m\"\njobs = 0\n",
            fake.base_url
        ),
    )
    .expect("write config");
    let out = judge().arg(&data).arg("--config").arg(&bad).assert().failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("`jobs` of [judge] in") && stderr.contains("bad.toml"),
        "{stderr}"
    );
    // An unknown key is an error naming the file and line.
    std::fs::write(
        &bad,
        "[judge]\nendpoint = \"http://127.0.0.1:9\"\nmodle = \"m\"\n",
    )
    .expect("write");
    let out = judge().arg(&data).arg("--config").arg(&bad).assert().failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("bad.toml:3") && stderr.contains("modle"),
        "{stderr}"
    );
}
