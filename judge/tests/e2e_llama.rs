//! End to end with a real small model as the judge: llama.cpp's `llama-server` serving
//! SmolLM2-135M-Instruct (see `testkit`), asked for JSON with a json_schema `response_format`.
//! Asserts the plumbing — calls made, judgments stored, failures recorded, a rerun served from
//! the cache — not the small model's wisdom. Skips with a message when the server or model is
//! missing, unless `LLM_ENERGY_REQUIRE_E2E=1`.

mod support;

use support::{BOOLQ, RTE, TestTrial, judge, judgments, make_dataset};

#[test]
fn a_small_real_model_judges_a_handful_of_requests() {
    let logs = tempfile::tempdir().expect("temp dir");
    let Some(server) = testkit::start_llama_server(logs.path(), &["--parallel", "2"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    // Three short requests: on a loaded two-core runner the 135M model generates only a few
    // tokens per second, and at temperature 0 it tends to repeat itself until `--max-tokens`.
    make_dataset(
        &data,
        &[
            TestTrial {
                run_id: "run_0_repetition_0",
                task: "BoolQ",
                generation: "3",
                rows: vec![
                    (BOOLQ, "Yes. Water is wet.", Some("true")),
                    (BOOLQ, "No. I like trains.", Some("true")),
                ],
            },
            TestTrial {
                run_id: "run_1_repetition_0",
                task: "RTE",
                generation: "3.2",
                rows: vec![(RTE, "No.", Some("entailment"))],
            },
        ],
    );
    for rubric in ["relevancy", "correctness"] {
        let run = |cmd: &mut assert_cmd::Command| {
            let out = cmd
                .arg(&data)
                .args([
                    "--endpoint",
                    &server.base_url,
                    "--model",
                    "smollm2",
                    "--rubric",
                    rubric,
                ])
                .args([
                    "--jobs",
                    "2",
                    "--max-tokens",
                    "48",
                    "--timeout",
                    "300",
                    "--retries",
                    "1",
                ])
                .assert()
                .success();
            String::from_utf8_lossy(&out.get_output().stdout).to_string()
        };
        let first = run(&mut judge());
        eprintln!("{first}");
        let scorer = format!("judge:smollm2:{rubric}");
        assert!(first.contains(&format!("{scorer}: 3 judged")), "{first}");
        assert!(
            first.contains("JSON asked for by: json_schema"),
            "llama-server takes a schema: {first}"
        );
        assert!(!first.contains(" 0 HTTP requests"), "{first}");
        let rows = judgments(&data, &scorer);
        assert_eq!(rows.len(), 3);
        for r in &rows {
            eprintln!(
                "{scorer} {} {}: {:?} {:?}",
                r.run_id, r.request_index, r.score, r.reason
            );
            match r.score {
                Some(s) => assert!((0.0..=1.0).contains(&s), "{r:?}"),
                None => assert!(
                    r.reason.as_deref().is_some_and(|x| !x.is_empty()),
                    "a failure has a reason: {r:?}"
                ),
            }
        }
        let second = run(&mut judge());
        // Everything the model answered (verdicts and unusable answers alike) is cached.
        assert!(second.contains("0 new"), "{second}");
        assert!(second.contains(" 0 HTTP requests"), "{second}");
        assert_eq!(judgments(&data, &scorer), rows);
    }
}
