//! The gold scorer on the published GreenLab Angels 2025 responses, through the real binary:
//! one trial per task is rebuilt as a dataset (from its `prompts_out.tsv`, through the
//! `dataset` crate), labelled with `--prompts` by position as the study sent the prompts, and
//! every stored score is checked against the scorer called directly. Skips with a message when
//! the published data are absent.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use support::{TestTrial, judge, judgments, make_dataset};

struct Published {
    run_id: String,
    task: String,
    generation: String,
    rows: Vec<(String, String)>,
}

/// The first trial of each task in `run_table.csv`, with its prompts and responses.
fn first_trial_per_task(experiment: &Path) -> Vec<Published> {
    let mut table = csv::Reader::from_path(experiment.join("run_table.csv")).expect("run_table.csv");
    let mut chosen: BTreeMap<String, Published> = BTreeMap::new();
    for rec in table.records() {
        let rec = rec.expect("run table row");
        let (run_id, generation, task) = (&rec[0], &rec[2], &rec[4]);
        if chosen.contains_key(task) {
            continue;
        }
        let tsv = experiment.join(run_id).join("prompts_out.tsv");
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b'\t')
            .flexible(true)
            .from_path(&tsv)
            .expect("prompts_out.tsv");
        let headers = reader.headers().expect("header").clone();
        let col = |name: &str| headers.iter().position(|h| h == name).expect("column");
        let (c_prompt, c_response) = (col("prompt"), col("response"));
        let rows = reader
            .records()
            .map(|r| {
                let r = r.expect("tsv row");
                (r[c_prompt].to_string(), r[c_response].to_string())
            })
            .collect();
        chosen.insert(
            task.to_string(),
            Published {
                run_id: run_id.to_string(),
                task: task.to_string(),
                generation: dataset::normalize_generation(generation),
                rows,
            },
        );
    }
    chosen.into_values().collect()
}

#[test]
fn published_responses_are_scored_by_gold_label_through_the_binary() {
    let Some(published) = testkit::published_dataset() else {
        return;
    };
    let trials = first_trial_per_task(&published.join("experiments/llama_profiling"));
    assert_eq!(trials.len(), 6, "one trial per task");
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let test_trials: Vec<TestTrial<'_>> = trials
        .iter()
        .map(|t| TestTrial {
            run_id: &t.run_id,
            task: &t.task,
            generation: &t.generation,
            rows: t
                .rows
                .iter()
                .map(|(p, r)| (p.as_str(), r.as_str(), None))
                .collect(),
        })
        .collect();
    make_dataset(&data, &test_trials);
    let prompts = published.join("prompts");
    let out = judge()
        .arg(&data)
        .arg("--prompts")
        .arg(&prompts)
        .arg("--gold")
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        !stderr.contains("differs"),
        "prompts must match by position: {stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let total: usize = trials.iter().map(|t| t.rows.len()).sum();
    assert!(
        stdout.contains(&format!("gold: {total} labelled responses in 6 trials")),
        "{stdout}"
    );

    let stored = judgments(&data, "gold");
    assert_eq!(stored.len(), total);
    let mut extracted = 0;
    for t in &trials {
        let items =
            judge::labels::read_task_items(&prompts.join(format!("{}.jsonl", t.task))).expect("items");
        let rows = stored.iter().filter(|j| j.run_id == t.run_id);
        for (j, (prompt, response)) in rows.zip(&t.rows) {
            let label = items[j.request_index as usize]
                .label
                .as_deref()
                .expect("published items carry labels");
            let want = judge::gold::score(&t.task, prompt, response, label);
            assert_eq!(j.score, want.score, "{} {}", t.run_id, j.request_index);
            extracted += usize::from(want.details["decision"].is_string());
        }
    }
    // The full corpus extracts 90.56 %; a handful of trials should not fall far below.
    assert!(extracted * 100 >= total * 75, "extracted {extracted} of {total}");
}
