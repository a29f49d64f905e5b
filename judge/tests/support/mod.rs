//! Helpers of judge's integration tests: the `judge` binary, small datasets built through the
//! `dataset` crate in temporary folders, and the fake judge server.

#![allow(dead_code)]

pub mod rubric_responder;

use assert_cmd::Command;
use dataset::{Dataset, Judgment, Manifest, Request, SampleTable, Trial, TrialFiles, TrialStatus};
use std::path::Path;

/// The `judge` binary, quiet (no progress bar), with no API key from the test's environment.
pub fn judge() -> Command {
    let mut cmd = Command::cargo_bin("judge").expect("the judge binary is built");
    cmd.env_remove("OPENAI_API_KEY").arg("--quiet");
    cmd
}

/// One request of a test trial: prompt, response, gold label.
pub type Row<'a> = (&'a str, &'a str, Option<&'a str>);

/// A trial of a test dataset.
pub struct TestTrial<'a> {
    pub run_id: &'a str,
    pub task: &'a str,
    pub generation: &'a str,
    pub rows: Vec<Row<'a>>,
}

/// Creates a dataset at `root` holding `trials`.
pub fn make_dataset(root: &Path, trials: &[TestTrial<'_>]) -> Dataset {
    let ds = Dataset::create(root, &Manifest::new("judge tests", true, "test data"), false)
        .expect("create dataset");
    for (n, t) in trials.iter().enumerate() {
        let trial = Trial {
            key: dataset::TrialKey {
                run_id: t.run_id.into(),
                run: n as i64,
                repetition: 0,
                generation: t.generation.into(),
                model_size: "1B".into(),
                model: format!("Llama-{}-1B", t.generation).into(),
                task: t.task.into(),
                ..Default::default()
            },
            status: TrialStatus::Done,
            start_ms: 1_000,
            end_ms: 2_000,
            time_resolution_ms: 1,
            simulated: true,
            provenance: "{}".into(),
            ..Default::default()
        };
        let requests = t
            .rows
            .iter()
            .enumerate()
            .map(|(i, (prompt, response, gold))| Request {
                run_id: t.run_id.into(),
                index: i as i64,
                gold_label: gold.map(str::to_string),
                item_id: gold.map(|_| i as i64),
                prompt: (*prompt).into(),
                response: (*response).into(),
                start_ms: 1_000,
                end_ms: 2_000,
                ..Default::default()
            })
            .collect();
        ds.write_trial(
            &TrialFiles {
                trial,
                requests,
                samples: SampleTable::default(),
                baseline: None,
                server_metrics: Vec::new(),
            },
            false,
        )
        .expect("write trial");
    }
    ds
}

/// The judgments of one scorer, sorted by run id and index.
pub fn judgments(root: &Path, scorer: &str) -> Vec<Judgment> {
    let ds = Dataset::open(root).expect("open dataset");
    let mut rows: Vec<Judgment> = ds
        .read_judgments()
        .expect("read judgments")
        .into_iter()
        .filter(|j| j.scorer == scorer)
        .collect();
    rows.sort_by(|a, b| (&a.run_id, a.request_index).cmp(&(&b.run_id, b.request_index)));
    rows
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

pub const BOOLQ: &str =
    "Passage: Water covers most of the Earth.  Question: is water wet  Explain your choice.";
pub const RTE: &str = "Premise: It rained all day.  Hypothesis: The ground is wet.  Does the hypothesis follow \
                       from the premise? Explain your choice.";
