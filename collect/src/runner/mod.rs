//! The study loop. For each planned trial not yet done (and selected by `--only`): run it as
//! [`trial`] describes (model reachable outside the measured window, idle baseline, sampling,
//! the task's prompts, atomic commit), show its line, cool down before the next. A trial whose
//! requests keep failing is committed as `failed` with the reason and the run goes on; Ctrl-C
//! stops after what is committed (the trial in flight is discarded and redone on resume).

mod trial;

pub use trial::{commit, line_of};

use crate::client::{ChatClient, ClientSettings};
use crate::config::Config;
use crate::options::{OnlyFilter, Shard};
use crate::plan::{self, Design};
use crate::progress::Progress;
use crate::prompts::TaskPrompts;
use crate::provenance::RunProvenance;
use crate::sampler::fake::FakeScript;
use crate::sampler::{self, EnergySelection, Recorder, SamplerSettings};
use crate::server::Lifecycle;
use anyhow::{Context, Result};
use dataset::{Dataset, RunRow, SampleTable};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

/// Everything a collection needs, validated.
#[derive(Debug, Clone)]
pub struct Study {
    /// The effective config (command-line overrides applied).
    pub config: Config,
    /// The design derived from it.
    pub design: Design,
    /// The prompts of every task.
    pub prompts: Vec<TaskPrompts>,
    /// Dataset folder.
    pub out: PathBuf,
    /// Replace a dataset of another design.
    pub force: bool,
    /// Trials to run now (all when empty).
    pub only: Vec<OnlyFilter>,
    /// This run's shard of the run table (`--shard K/N`; all of it when `None`).
    pub shard: Option<Shard>,
    /// Energy sources.
    pub energy: EnergySelection,
    /// Script of the fake energy source.
    pub fake_energy: FakeScript,
    /// Endpoint override.
    pub endpoint: Option<String>,
    /// No progress output.
    pub quiet: bool,
    /// `collect <version>` or `collect <version> --demo`.
    pub created_by: String,
    /// Run every trial on a testbed agent (`--agent URL`) instead of here.
    pub agent: Option<crate::agent::AgentTarget>,
    /// What sets GPU power limits and clocks where the design varies them.
    pub gpu_control: crate::gpu::ControlChoice,
    /// What each trial records as its `testbed`: `local`, or the agent's host name when an
    /// agent runs it.
    pub testbed: String,
}

impl Study {
    /// Whether this run measures `run` (when not yet committed): `--only` and `--shard`.
    pub fn selects(&self, run: &RunRow) -> bool {
        (self.only.is_empty() || self.only.iter().any(|f| f.matches(&run.key.model, &run.key.task)))
            && self.shard.is_none_or(|s| s.selects(run.order))
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Dataset folder.
    pub out: PathBuf,
    /// Trials in the run table.
    pub planned: usize,
    /// Trials completed now.
    pub done: usize,
    /// Trials committed as failed now.
    pub failed: usize,
    /// Trials already done before this run.
    pub skipped: usize,
    /// Trials left out by `--only`.
    pub filtered: usize,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
    /// Energy of the trials completed now, J (corrected accounting); None when no trial's energy
    /// was measured.
    pub energy_j: Option<f64>,
    /// Tokens generated in them.
    pub tokens: i64,
    /// Wall time, s.
    pub elapsed_s: f64,
    /// Simulated data.
    pub simulated: bool,
    /// Notes shown before the run (resume, sources).
    pub notes: Vec<String>,
    /// Committed trials found damaged on resume (files that cannot be read).
    pub damaged: usize,
    /// Damaged trials measured again now, with the folder their damaged files were moved to.
    pub remeasured: Vec<(String, Option<PathBuf>)>,
}

/// What every trial of a run shares: the study, its dataset, the client, the model servers and
/// the energy sources. A local run and the agent (`collect agent`) run trials through the
/// same one.
pub struct Ctx<'a> {
    study: &'a Study,
    dataset: Dataset,
    client: ChatClient,
    lifecycle: Lifecycle,
    recorder: Box<dyn Recorder>,
    provenance: RunProvenance,
    prompts: HashMap<&'a str, &'a TaskPrompts>,
    progress: &'a Progress,
    /// Damaged committed trials to measure again (their commit keeps the damaged files).
    damaged: std::collections::HashSet<String>,
    /// Those measured again so far, with where their damaged files went.
    remeasured: Vec<(String, Option<PathBuf>)>,
    /// Requests of the trial in flight answered so far (the agent reports it as progress).
    requests_done: Arc<AtomicUsize>,
    /// The GPU settings: set per trial where the design varies them, read for provenance.
    gpu: Option<crate::gpu::Settings>,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("out", &self.study.out)
            .field("recorder", &self.recorder)
            .finish_non_exhaustive()
    }
}

impl<'a> Ctx<'a> {
    /// Opens what the trials of `study` share: the client, the model servers (checked
    /// reachable), the energy sources and the run's provenance. Returns the notes the energy
    /// sources gave (a source missing, degraded).
    pub async fn open(
        study: &'a Study,
        dataset: Dataset,
        damaged: std::collections::HashSet<String>,
        progress: &'a Progress,
    ) -> Result<(Self, Vec<String>)> {
        let client = ChatClient::new(client_settings(&study.config)?)?;
        let lifecycle = Lifecycle::new(&study.config, study.endpoint.as_deref(), &study.out)?;
        let (gpu, mut notes) = open_gpu(study)?;
        let (ctx, more) = Self::open_with(study, client, lifecycle, dataset, damaged, gpu, progress).await?;
        notes.extend(more);
        Ok((ctx, notes))
    }

    /// [`Ctx::open`] with the client and model-server lifecycle the caller made (a fixed
    /// endpoint already checked is not probed again).
    pub async fn open_with(
        study: &'a Study,
        client: ChatClient,
        mut lifecycle: Lifecycle,
        dataset: Dataset,
        damaged: std::collections::HashSet<String>,
        gpu: Option<crate::gpu::Settings>,
        progress: &'a Progress,
    ) -> Result<(Self, Vec<String>)> {
        let config = &study.config;
        lifecycle.check(client.http()).await?;
        let settings = SamplerSettings {
            interval_ms: config.interval_ms,
            counter_interval_ms: config.nvml_counter_interval_ms,
        };
        let (mut recorder, notes) = sampler::open(&study.energy, settings, &study.fake_energy)?;
        recorder.set_endpoint(&lifecycle.base_url());
        let settings = serde_json::json!({
            "interval_ms": config.interval_ms,
            "nvml_counter_interval_ms": config.nvml_counter_interval_ms,
            "cooldown_s": config.cooldown_s,
            "cooldown_until_idle": config.cooldown_until_idle,
            "baseline_s": config.baseline_s,
            "load": config.load.describe(),
            "concurrency": study.design.concurrency,
            "retries": config.server.retries,
            "request_timeout_s": config.server.request_timeout_s,
            "energy": study.energy.to_string(),
            "seed": config.seed,
            "generation": config.generation,
            "simulated": study.design.simulated,
        });
        let provenance = RunProvenance::new(
            config.path.as_deref().map(|p| p.display().to_string()).as_deref(),
            &config.hash,
            serde_json::json!({"sources": recorder.sources(), "details": recorder.provenance()}),
            settings,
        );
        let ctx = Ctx {
            study,
            dataset,
            client,
            lifecycle,
            recorder,
            provenance,
            prompts: study.prompts.iter().map(|p| (p.task.as_str(), p)).collect(),
            progress,
            damaged,
            remeasured: Vec::new(),
            requests_done: Arc::new(AtomicUsize::new(0)),
            gpu,
        };
        Ok((ctx, notes))
    }

    /// The dataset the trials are committed to.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The energy sources, comma-separated.
    pub fn energy_sources(&self) -> String {
        self.recorder.sources()
    }

    /// The energy sources' own description.
    pub fn energy_details(&self) -> serde_json::Value {
        self.recorder.provenance()
    }

    /// The counter of the requests answered in the trial in flight.
    pub fn requests_done(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.requests_done)
    }

    /// Runs and commits one trial ([`trial`]); returns its line and its baseline samples.
    /// Where the design varies GPU settings, they are set before the trial (its idle baseline
    /// included) and restored after it, whatever its outcome.
    pub async fn run_trial(
        &mut self,
        row: &RunRow,
    ) -> Result<(crate::progress::TrialLine, Option<SampleTable>)> {
        if let Some(gpu) = &mut self.gpu {
            gpu.apply(&row.key)?;
        }
        let outcome = trial::run(self, row).await;
        self.restore_gpu()?;
        outcome
    }

    /// Restores the GPU settings a trial changed.
    fn restore_gpu(&mut self) -> Result<()> {
        match &mut self.gpu {
            Some(gpu) => gpu.restore(),
            None => Ok(()),
        }
    }

    /// The GPUs' settings now, for a trial's provenance (null when they cannot be read).
    fn gpu_state(&self) -> serde_json::Value {
        self.gpu
            .as_ref()
            .map_or(serde_json::Value::Null, crate::gpu::Settings::state_json)
    }

    /// Stops sampling after a trial was abandoned (Ctrl-C, a cancelled job); its samples are
    /// dropped, and the GPU settings it ran under are restored.
    pub fn abandon(&mut self) {
        let _ = self.recorder.stop();
        if let Err(e) = self.restore_gpu() {
            self.progress
                .note(&format!("{e:#}; the next collect on this dataset restores them"));
        }
    }

    /// The pause after a trial ([`trial::cooldown`]).
    pub async fn cooldown(&mut self, baseline: Option<&SampleTable>) -> Result<()> {
        trial::cooldown(self, baseline).await
    }

    /// Stops the model servers collect started and restores the GPU settings.
    pub async fn shutdown(&mut self) {
        self.lifecycle.shutdown().await;
        if let Err(e) = self.restore_gpu() {
            self.progress
                .note(&format!("{e:#}; the next collect on this dataset restores them"));
        }
    }
}

/// The GPU settings of a run on this machine: restores what a killed run left changed, and
/// where the design varies power limits or clocks, checks them before anything runs.
pub fn open_gpu(study: &Study) -> Result<(Option<crate::gpu::Settings>, Vec<String>)> {
    crate::gpu::Settings::open(
        &study.gpu_control,
        &study.out,
        &study.config.power_limit_w,
        &study.config.sm_clock_mhz,
    )
}

/// What a run needs before its dataset is prepared: a checked agent, or the client and the
/// model servers of a local run.
enum Setup {
    Agent(crate::agent::remote::Connection),
    Local(ChatClient, Lifecycle, Option<crate::gpu::Settings>, Vec<String>),
}

/// Who runs the trials of a run: this process, or a testbed agent.
enum Runner<'a> {
    Local(Box<Ctx<'a>>),
    Agent(Box<crate::agent::remote::Remote<'a>>),
}

impl Runner<'_> {
    async fn trial(&mut self, row: &RunRow) -> Result<(crate::progress::TrialLine, Option<SampleTable>)> {
        match self {
            Runner::Local(ctx) => ctx.run_trial(row).await,
            Runner::Agent(remote) => remote.run_trial(row).await.map(|line| (line, None)),
        }
    }

    async fn abandon(&mut self) {
        match self {
            Runner::Local(ctx) => ctx.abandon(),
            Runner::Agent(remote) => remote.abandon().await,
        }
    }

    async fn cooldown(&mut self, baseline: Option<&SampleTable>, cooldown_s: f64) -> Result<()> {
        match self {
            Runner::Local(ctx) => ctx.cooldown(baseline).await,
            // The orchestrator's pause between jobs; waiting until the GPU is idle again needs
            // its samples, which stay on the testbed.
            Runner::Agent(_) => {
                if cooldown_s > 0.0 {
                    tokio::time::sleep(Duration::from_secs_f64(cooldown_s)).await;
                }
                Ok(())
            }
        }
    }
}

/// The client settings of a config.
pub fn client_settings(config: &Config) -> Result<ClientSettings> {
    let api_key = match &config.server.api_key_env {
        Some(var) => Some(std::env::var(var).with_context(|| {
            format!("[server] api_key_env names `{var}`, which is not set in the environment")
        })?),
        None => None,
    };
    Ok(ClientSettings {
        timeout: Duration::from_secs_f64(config.server.request_timeout_s.max(1.0)),
        retries: config.server.retries,
        backoff: Duration::from_millis(config.server.retry_backoff_ms),
        api_key,
        ..ClientSettings::default()
    })
}

/// Runs a study until every selected trial is committed or `interrupt` resolves, holding the
/// dataset folder's lock ([`dataset::lock::lock_collect`]) from before anything is written
/// (server logs included) to the end: a second collect on the same folder fails at once,
/// naming this one. A run that fails before it created the dataset in a folder it created
/// itself removes the lock file and the folder again, so bad input leaves nothing behind.
pub async fn run(study: &Study, interrupt: impl Future<Output = ()>) -> Result<Summary> {
    plan::check_out(&study.out, study.force)?;
    let fresh = !study.out.exists();
    let lock = dataset::lock::lock_collect(&study.out)?;
    let result = run_locked(study, interrupt).await;
    if result.is_err() && fresh && !Dataset::exists(&study.out) {
        // Best effort: a folder holding anything else (server logs) stays.
        let _ = lock.remove();
        let _ = std::fs::remove_dir(&study.out);
    }
    result
}

async fn run_locked(study: &Study, interrupt: impl Future<Output = ()>) -> Result<Summary> {
    let started = Instant::now();
    let config = &study.config;
    // With an agent, the design is checked against the agent's before anything is written;
    // without one, the serve templates are checked, and a fixed endpoint is probed before a
    // fresh dataset is created (bad input must not leave an empty dataset behind).
    let setup = match &study.agent {
        Some(target) => Setup::Agent(crate::agent::remote::Connection::open(target, study).await?),
        None => {
            let client = ChatClient::new(client_settings(config)?)?;
            let mut lifecycle = Lifecycle::new(config, study.endpoint.as_deref(), &study.out)?;
            if !Dataset::exists(&study.out) {
                lifecycle.check(client.http()).await?;
            }
            let (gpu, notes) = open_gpu(study)?;
            Setup::Local(client, lifecycle, gpu, notes)
        }
    };
    let design = match &setup {
        Setup::Agent(a) => a.design().clone(),
        Setup::Local(..) => study.design.clone(),
    };
    let prepared = plan::prepare(&study.out, &design, study.shard, study.force, &study.created_by)?;
    let mut summary = Summary {
        out: study.out.clone(),
        planned: prepared.runs.len(),
        skipped: prepared.done.len(),
        simulated: design.simulated,
        notes: prepared.notes.clone(),
        damaged: prepared.damaged.len(),
        ..Default::default()
    };
    let todo: Vec<&RunRow> = prepared
        .runs
        .iter()
        .filter(|r| !prepared.done.contains(r.key.run_id.as_str()))
        .filter(|r| study.selects(r))
        .collect();
    summary.filtered = prepared.runs.len() - prepared.done.len() - todo.len();
    let progress = Progress::new(
        (summary.skipped + todo.len()) as u64,
        summary.skipped as u64,
        study.quiet,
        design.simulated,
    );
    for n in &summary.notes {
        progress.note(n);
    }
    if let Setup::Agent(a) = &setup {
        progress.note(&a.describe());
    }
    if todo.is_empty() {
        if let Setup::Agent(a) = setup {
            a.confirm_committed(&prepared.dataset, &progress).await;
        }
        progress.finish();
        summary.elapsed_s = started.elapsed().as_secs_f64();
        return Ok(summary);
    }
    let mut runner = match setup {
        Setup::Agent(a) => {
            a.confirm_committed(&prepared.dataset, &progress).await;
            Runner::Agent(Box::new(crate::agent::remote::Remote::new(
                a,
                prepared.dataset,
                prepared.damaged,
                &progress,
            )))
        }
        Setup::Local(client, lifecycle, gpu, mut notes) => {
            let (ctx, more) = Ctx::open_with(
                study,
                client,
                lifecycle,
                prepared.dataset,
                prepared.damaged,
                gpu,
                &progress,
            )
            .await?;
            notes.extend(more);
            for n in &notes {
                progress.note(n);
            }
            summary.notes.extend(notes);
            Runner::Local(Box::new(ctx))
        }
    };
    tokio::pin!(interrupt);
    let n = todo.len();
    for (i, row) in todo.into_iter().enumerate() {
        progress.starting(&row.key.run_id, &row.key.model, &row.key.task);
        let outcome = tokio::select! {
            r = runner.trial(row) => Some(r),
            () = &mut interrupt => None,
        };
        let Some(outcome) = outcome else {
            runner.abandon().await;
            summary.interrupted = true;
            progress.note(&format!(
                "interrupted: {} was not finished and is discarded; run the same command again to resume",
                row.key.run_id
            ));
            break;
        };
        let (line, baseline) = outcome?;
        if line.reason.is_none() {
            summary.done += 1;
            if let Some(j) = line.energy_j {
                summary.energy_j = Some(summary.energy_j.unwrap_or(0.0) + j);
            }
            summary.tokens += line.tokens;
        } else {
            summary.failed += 1;
        }
        progress.trial(&line);
        if i + 1 < n {
            let cooled = tokio::select! {
                r = runner.cooldown(baseline.as_ref(), config.cooldown_s) => Some(r),
                () = &mut interrupt => None,
            };
            match cooled {
                Some(r) => r?,
                None => {
                    runner.abandon().await;
                    summary.interrupted = true;
                    progress.note("interrupted during the cooldown; every finished trial is committed");
                    break;
                }
            }
        }
    }
    match &mut runner {
        Runner::Local(ctx) => {
            ctx.shutdown().await;
            summary.remeasured = std::mem::take(&mut ctx.remeasured);
        }
        Runner::Agent(_) => {}
    }
    progress.finish();
    summary.elapsed_s = started.elapsed().as_secs_f64();
    Ok(summary)
}
