//! Helpers of collect's integration tests: a small study written into a temporary folder (config
//! plus prompt files), the collect binary, and readers of the dataset it writes.

// Helpers panic on purpose: a failure here is a failed test.
#![allow(dead_code, clippy::unwrap_used)]

use dataset::accounting::{Accounting, metrics_row};
use dataset::{Dataset, MetricsRow, Request, SampleTable, Trial};
use std::path::{Path, PathBuf};

/// The collect binary built for these tests.
pub fn collect_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_collect"))
}

/// An assert_cmd command running collect in `dir`.
pub fn collect(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(collect_bin());
    cmd.current_dir(dir).env_remove("LLM_ENERGY_REQUIRE_E2E");
    cmd
}

/// A small study in `dir`: `config.toml` plus `prompts/<Task>.jsonl` with `prompts` items each,
/// scripted energy, 5 ms sampling, no baseline, no cooldown, fast retries.
pub fn write_study(dir: &Path, models: &[&str], tasks: &[&str], reps: u32, prompts: usize) -> PathBuf {
    let pdir = dir.join("prompts");
    std::fs::create_dir_all(&pdir).unwrap();
    for t in tasks {
        let lines: Vec<String> = (0..prompts)
            .map(|i| {
                serde_json::json!({"idx": i, "prompt": format!("{t} question number {i}: is it so?"), "label": i % 2 == 0})
                    .to_string()
            })
            .collect();
        std::fs::write(pdir.join(format!("{t}.jsonl")), lines.join("\n") + "\n").unwrap();
    }
    let tasks_toml: Vec<String> = tasks.iter().map(|t| format!("\"{t}\"")).collect();
    let mut text = format!(
        "tasks = [{}]\n\n[experiment]\nname = \"test\"\nrepetitions = {reps}\nseed = 7\ncooldown_s = 0\n\
         interval_ms = 5\nbaseline_s = 0\nprompts = \"prompts\"\nenergy = \"fake\"\n\n\
         [server]\nretry_backoff_ms = 5\nretries = 4\n\n[generation]\nmax_tokens = 64\n",
        tasks_toml.join(", ")
    );
    for (i, m) in models.iter().enumerate() {
        text.push_str(&format!(
            "\n[[models]]\nname = \"{m}\"\ngeneration = \"3.{i}\"\nsize = \"{}B\"\n",
            i + 1
        ));
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// One committed trial read back.
#[derive(Debug)]
pub struct ReadTrial {
    pub trial: Trial,
    pub requests: Vec<Request>,
    pub samples: SampleTable,
    pub baseline: Option<SampleTable>,
}

impl ReadTrial {
    /// Its metrics under the corrected accounting.
    pub fn metrics(&self) -> MetricsRow {
        metrics_row(
            &self.trial,
            &self.requests,
            &self.samples,
            &[],
            Accounting::Corrected,
        )
    }
}

/// Every committed trial of a dataset (each file read in full).
pub fn read_all(out: &Path) -> Vec<ReadTrial> {
    let ds = Dataset::open(out).unwrap();
    ds.trial_ids()
        .unwrap()
        .into_iter()
        .map(|id| ReadTrial {
            trial: ds.read_trial(&id).unwrap(),
            requests: ds.read_requests(&id, true).unwrap(),
            samples: ds.read_samples(&id, false).unwrap(),
            baseline: ds.read_baseline(&id, false).unwrap(),
        })
        .collect()
}

/// Relative closeness used for energies that must be exact up to floating-point rounding.
pub const EXACT: f64 = 1e-9;

/// True when `a` equals `b` to [`EXACT`] relative (or both are 0).
pub fn exact(a: f64, b: f64) -> bool {
    (a - b).abs() <= EXACT * a.abs().max(b.abs()).max(1e-12)
}
