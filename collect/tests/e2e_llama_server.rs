//! End to end against a real OpenAI-compatible server: llama.cpp's `llama-server` with
//! SmolLM2-135M-Instruct (built and installed by `scripts/test-env.sh`; see `testkit`). Two model names
//! (llama-server serves whatever name it is asked for) × two tasks × two repetitions × three
//! prompts in the published `<Task>.jsonl` format, 16 tokens each, scripted energy, no cooldown
//! and no baseline. Skips with a message when the server or model is missing, unless
//! `LLM_ENERGY_REQUIRE_E2E=1`. It needs nothing from `../shared`.

#![allow(clippy::unwrap_used)] // a panic is a failed test

mod common;

use common::{collect, read_all};

#[test]
fn a_real_llama_server_study_is_complete_and_readable() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(server) = testkit::start_llama_server(tmp.path(), &[]) else {
        return;
    };
    // Three items per task in the published `<Task>.jsonl` format (`idx`, `prompt`, `label`).
    let prompts = tmp.path().join("prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    let items = |task: &str, questions: [(&str, serde_json::Value); 3]| {
        let lines: Vec<String> = questions
            .iter()
            .enumerate()
            .map(|(i, (q, label))| serde_json::json!({"idx": i, "prompt": q, "label": label}).to_string())
            .collect();
        std::fs::write(prompts.join(format!("{task}.jsonl")), lines.join("\n") + "\n").unwrap();
    };
    items(
        "COPA",
        [
            (
                "Premise: The man broke his toe. What was the cause?\nChoice 1: He dropped a hammer on his foot.\nChoice 2: He got a hole in his sock.\nAnswer with 1 or 2. Explain your choice.",
                0.into(),
            ),
            (
                "Premise: I tipped the bottle. What happened as a result?\nChoice 1: The liquid in the bottle froze.\nChoice 2: The liquid in the bottle poured out.\nAnswer with 1 or 2. Explain your choice.",
                1.into(),
            ),
            (
                "Premise: The sun was rising. What happened as a result?\nChoice 1: The grass was cut.\nChoice 2: The sky got brighter.\nAnswer with 1 or 2. Explain your choice.",
                1.into(),
            ),
        ],
    );
    items(
        "CB",
        [
            (
                "Premise: It was a cold day and she wore a coat.\nHypothesis: She wore a coat.\nDoes the premise entail the hypothesis? Explain your choice.",
                "entailment".into(),
            ),
            (
                "Premise: He said the shop was closed.\nHypothesis: The shop was open.\nDoes the premise entail the hypothesis? Explain your choice.",
                "contradiction".into(),
            ),
            (
                "Premise: They may visit us next week.\nHypothesis: They visited us last year.\nDoes the premise entail the hypothesis? Explain your choice.",
                "neutral".into(),
            ),
        ],
    );
    let config = "tasks = [\"COPA\", \"CB\"]\n\n[experiment]\nname = \"e2e\"\nrepetitions = 2\nseed = 11\n\
                  cooldown_s = 0\nbaseline_s = 0\ninterval_ms = 20\nenergy = \"fake\"\n\n\
                  [generation]\nmax_tokens = 16\n\n\
                  [[models]]\nname = \"smollm2-a\"\ngeneration = \"2\"\nsize = \"135M\"\n\n\
                  [[models]]\nname = \"smollm2-b\"\ngeneration = \"2\"\nsize = \"135M\"\n";
    std::fs::write(tmp.path().join("e2e.toml"), config).unwrap();
    let out = tmp.path().join("data");
    collect(tmp.path())
        .args([
            "--config",
            "e2e.toml",
            "--endpoint",
            &server.base_url,
            "--max-prompts",
            "3",
        ])
        .args(["--cooldown", "0", "--baseline", "0", "--quiet"])
        .arg("--prompts")
        .arg(&prompts)
        .arg("--out")
        .arg(&out)
        .timeout(std::time::Duration::from_secs(600))
        .assert()
        .success();

    let ds = dataset::Dataset::open(&out).unwrap();
    assert_eq!(ds.read_runs().unwrap().len(), 8);
    let trials = read_all(&out);
    assert_eq!(trials.len(), 8);
    let mut models = std::collections::HashSet::new();
    for t in &trials {
        assert_eq!(
            t.trial.status,
            dataset::TrialStatus::Done,
            "{:?}",
            t.trial.failure_reason
        );
        models.insert(t.trial.key.model.clone());
        assert_eq!(t.requests.len(), 3);
        for r in &t.requests {
            assert!(r.error.is_none(), "{:?}", r.error);
            assert!(!r.response.is_empty());
            let n = r.completion_tokens.unwrap();
            assert!(n > 0 && n <= 16, "{n}");
            assert!(r.prompt_tokens.unwrap() > 0);
            assert!(r.ttft_ms.is_some());
            assert!(r.end_ms > r.start_ms);
        }
        let m = t.metrics();
        assert!(m.energy_j.is_some_and(|j| j > 0.0) && m.tokens > 0);
        let prov: serde_json::Value = serde_json::from_str(&t.trial.provenance).unwrap();
        assert!(prov["server"]["base_url"].as_str().is_some());
    }
    assert_eq!(models.len(), 2);
    // analyze reads the same files through the same contract.
    let rows: Vec<_> = trials.iter().map(|t| t.metrics()).collect();
    ds.write_metrics(dataset::Accounting::Corrected, &rows).unwrap();
    assert_eq!(
        dataset::tables::read::<dataset::MetricsRow>(&ds.metrics_path(dataset::Accounting::Corrected))
            .unwrap()
            .len(),
        8
    );
}
