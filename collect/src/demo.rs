//! `collect --demo`: a small built-in design (2 models × 2 tasks × 3 repetitions, 4 prompts per
//! task) run against the in-process fake server with the scripted energy source. Everything it
//! needs is inside the binary; the dataset is marked simulated (manifest and every trial) and
//! every line collect prints about it says so. It takes a few seconds.

use crate::config::Config;
use crate::plan::Design;
use crate::prompts::{self, TaskPrompts};
use crate::runner::{self, Study, Summary};
use crate::sampler::fake::FakeScript as EnergyScript;
use crate::sampler::{EnergySelection, SourceKind};
use anyhow::Result;
use endpoint::fake::{FakeScript as ServerScript, FakeServer};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The demo's experiment config.
pub const CONFIG: &str = r#"
# The built-in demo design: simulated data only.
tasks = ["COPA", "CB"]

[experiment]
name = "demo"
description = "collect --demo: fake endpoint, scripted energy (simulated)"
repetitions = 3
seed = 2025
cooldown_s = 0.02
interval_ms = 10
baseline_s = 0.05
energy = "fake"
estimated_request_s = 0.03

[server]
retry_backoff_ms = 20

[generation]
temperature = 0.7
top_p = 0.9
max_tokens = 32

[[models]]
name = "demo-llama-3.2-1b"
generation = "3.2"
size = "1B"
power_w = 120.0

[[models]]
name = "demo-llama-3.1-8b"
generation = "3.1"
size = "8B"
power_w = 310.0
"#;

/// The demo's prompts (the first items of the published COPA and CB prompts).
const COPA: &str = r#"{"idx": 0, "prompt": "What is the cause of the following?\n\nPremise: My body cast a shadow over the grass.\n\nChoice 1: The sun was rising.\nChoice 2: The grass was cut.\n\nExplain your choice.", "label": 0}
{"idx": 1, "prompt": "What is the cause of the following?\n\nPremise: The woman tolerated her friend's difficult behavior.\n\nChoice 1: The woman knew her friend was going through a hard time.\nChoice 2: The woman felt that her friend took advantage of her kindness.\n\nExplain your choice.", "label": 0}
{"idx": 2, "prompt": "What is the cause of the following?\n\nPremise: The women met for coffee.\n\nChoice 1: The cafe reopened in a new location.\nChoice 2: They wanted to catch up with each other.\n\nExplain your choice.", "label": 1}
{"idx": 3, "prompt": "What is the cause of the following?\n\nPremise: The runner wore shorts.\n\nChoice 1: The forecast predicted high temperatures.\nChoice 2: She planned to run along the beach.\n\nExplain your choice.", "label": 0}
"#;

const CB: &str = r#"{"idx": 0, "prompt": "Premise: It was a complex language. Not written down but handed down. One might say it was peeled down.\n\nHypothesis: the language was peeled down\n\nDoes the premise entail the hypothesis? Explain your choice.", "label": "entailment"}
{"idx": 1, "prompt": "Premise: It is part of their religion, a religion I do not scoff at as it holds many elements which match our own even though it lacks the truth of ours. At one of their great festivals they have the ritual of driving out the devils from their bodies. First the drummers come on - I may say that no women are allowed to take part in this ritual and the ladies here will perhaps agree with me that they are fortunate in that omission.\n\nHypothesis: no women are allowed to take part in this ritual\n\nDoes the premise entail the hypothesis? Explain your choice.", "label": "entailment"}
{"idx": 2, "prompt": "Premise: The Paris to Rouen railway was being extended to Le Havre, and the line cut straight through Dr Flaubert's land. Part of it was to be compulsorily purchased. You could say that Gustave was shepherded into creative retreat at Croisset by epilepsy.\n\nHypothesis: Gustave was shepherded into creative retreat at Croisset by epilepsy\n\nDoes the premise entail the hypothesis? Explain your choice.", "label": "entailment"}
{"idx": 3, "prompt": "Premise: Part of it was to be compulsorily purchased. You could say that Gustave was shepherded into creative retreat at Croisset by epilepsy. You could also say he was driven there by the railway.\n\nHypothesis: Gustave was driven to creative retreat in Croisset by the railway\n\nDoes the premise entail the hypothesis? Explain your choice.", "label": "entailment"}
"#;

/// The demo's config.
pub fn config() -> Result<Config> {
    let mut c = Config::parse(CONFIG, Path::new("<built-in demo design>"), Path::new("."))?;
    c.path = None;
    Ok(c)
}

/// The demo's prompts.
pub fn task_prompts(max: Option<usize>) -> Result<Vec<TaskPrompts>> {
    let mut all = Vec::new();
    for (task, text) in [("COPA", COPA), ("CB", CB)] {
        let mut p = prompts::parse(task, text, Path::new(&format!("<built-in {task} prompts>")), max)?;
        p.path = None;
        all.push(p);
    }
    Ok(all)
}

/// The fake server's script: short answers, a little latency, and one HTTP 500 every 11
/// attempts so the demo shows a retry.
pub fn server_script(config: &Config) -> ServerScript {
    ServerScript {
        models: config.models.iter().map(|m| m.name.clone()).collect(),
        tokens_min: 6,
        tokens_max: 28,
        first_token_delay: Duration::from_millis(3),
        token_delay: Duration::from_micros(700),
        fail_every: Some(11),
        ..ServerScript::default()
    }
}

/// The demo study writing to `out` (its config may have been adjusted by the command line).
pub fn study(config: Config, prompts: Vec<TaskPrompts>, out: PathBuf, force: bool, quiet: bool) -> Study {
    let design = Design::new(&config, &prompts, true);
    Study {
        design,
        prompts,
        out,
        force,
        only: Vec::new(),
        shard: None,
        energy: EnergySelection::List(vec![SourceKind::Fake]),
        fake_energy: EnergyScript::default(),
        endpoint: None,
        quiet,
        created_by: format!("collect {} --demo", env!("CARGO_PKG_VERSION")),
        agent: None,
        gpu_control: crate::gpu::ControlChoice::None,
        testbed: "local".into(),
        config,
    }
}

/// Runs a study against a fresh fake server on the current runtime.
pub async fn run(mut study: Study, interrupt: impl Future<Output = ()>) -> Result<Summary> {
    let server = FakeServer::start(server_script(&study.config)).await?;
    study.endpoint = Some(server.base_url.clone());
    let summary = runner::run(&study, interrupt).await;
    drop(server);
    summary
}

/// The whole demo, blocking: collects the built-in design into `out` (quietly). For tests and
/// examples that want a small simulated dataset.
pub fn collect(out: &Path, force: bool) -> Result<Summary> {
    let config = config()?;
    let prompts = task_prompts(None)?;
    collect_study(study(config, prompts, out.to_path_buf(), force, true))
}

/// Runs a study (the demo's, adjusted: another shard, more repetitions) against a fresh fake
/// server, blocking.
pub fn collect_study(study: Study) -> Result<Summary> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(study, std::future::pending()))
}
