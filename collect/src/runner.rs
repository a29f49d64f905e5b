//! The trial loop. For each planned trial not yet done: make its model reachable (outside the
//! measured window), measure the idle baseline, start sampling, send the task's prompts, stop
//! sampling, commit the trial atomically through the contract crate, show its energy, cool
//! down. A trial whose requests keep failing is committed as `failed` with the reason and the
//! run goes on; Ctrl-C stops after what is committed (the trial in flight is discarded and
//! redone on resume).

use crate::client::{ChatClient, ClientSettings, Completion, request_body};
use crate::config::{Config, IdleCooldown, ModelConfig};
use crate::options::OnlyFilter;
use crate::plan::{self, Design};
use crate::progress::{Progress, TrialLine};
use crate::prompts::TaskPrompts;
use crate::provenance::RunProvenance;
use crate::sampler::fake::FakeScript;
use crate::sampler::{self, EnergySelection, Recorder, SamplerSettings};
use crate::server::{Lifecycle, ServerInfo};
use anyhow::{Context, Result, bail};
use dataset::accounting::{Accounting, metrics_row};
use dataset::{Dataset, Request, RunRow, SampleTable, Trial, TrialFiles, TrialStatus};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Energy of the trials completed now, J (corrected accounting).
    pub energy_j: f64,
    /// Tokens generated in them.
    pub tokens: i64,
    /// Wall time, s.
    pub elapsed_s: f64,
    /// Simulated data.
    pub simulated: bool,
    /// Notes shown before the run (resume, sources).
    pub notes: Vec<String>,
}

struct Ctx<'a> {
    study: &'a Study,
    dataset: Dataset,
    client: ChatClient,
    lifecycle: Lifecycle,
    recorder: Box<dyn Recorder>,
    provenance: RunProvenance,
    prompts: HashMap<&'a str, &'a TaskPrompts>,
    progress: &'a Progress,
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

/// Runs a study until every selected trial is committed or `interrupt` resolves.
pub async fn run(study: &Study, interrupt: impl Future<Output = ()>) -> Result<Summary> {
    let started = Instant::now();
    let config = &study.config;
    let client = ChatClient::new(client_settings(config)?)?;
    let mut lifecycle = Lifecycle::new(config, study.endpoint.as_deref(), &study.out)?;
    if !Dataset::exists(&study.out) {
        // Bad input must not leave an empty dataset behind.
        lifecycle.check(client.http()).await?;
    }
    let prepared = plan::prepare(&study.out, &study.design, study.force, &study.created_by)?;
    let mut summary = Summary {
        out: study.out.clone(),
        planned: prepared.runs.len(),
        skipped: prepared.done.len(),
        simulated: study.design.simulated,
        notes: prepared.notes.clone(),
        ..Default::default()
    };
    let todo: Vec<&RunRow> = prepared
        .runs
        .iter()
        .filter(|r| !prepared.done.contains(&r.key.run_id))
        .filter(|r| study.only.is_empty() || study.only.iter().any(|f| f.matches(&r.key.model, &r.key.task)))
        .collect();
    summary.filtered = prepared.runs.len() - prepared.done.len() - todo.len();
    let progress = Progress::new(
        (summary.skipped + todo.len()) as u64,
        summary.skipped as u64,
        study.quiet,
        study.design.simulated,
    );
    for n in &summary.notes {
        progress.note(n);
    }
    if todo.is_empty() {
        progress.finish();
        summary.elapsed_s = started.elapsed().as_secs_f64();
        return Ok(summary);
    }
    lifecycle.check(client.http()).await?;
    let settings = SamplerSettings {
        interval_ms: config.interval_ms,
        counter_interval_ms: config.nvml_counter_interval_ms,
    };
    let (recorder, notes) = sampler::open(&study.energy, settings, &study.fake_energy)?;
    for n in &notes {
        progress.note(n);
    }
    summary.notes.extend(notes);
    let settings = serde_json::json!({
        "interval_ms": config.interval_ms,
        "nvml_counter_interval_ms": config.nvml_counter_interval_ms,
        "cooldown_s": config.cooldown_s,
        "cooldown_until_idle": config.cooldown_until_idle,
        "baseline_s": config.baseline_s,
        "concurrency": config.concurrency,
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
    let mut ctx = Ctx {
        study,
        dataset: prepared.dataset,
        client,
        lifecycle,
        recorder,
        provenance,
        prompts: study.prompts.iter().map(|p| (p.task.as_str(), p)).collect(),
        progress: &progress,
    };
    tokio::pin!(interrupt);
    let n = todo.len();
    for (i, row) in todo.into_iter().enumerate() {
        progress.starting(&row.key.run_id, &row.key.model, &row.key.task);
        let outcome = tokio::select! {
            r = trial(&mut ctx, row) => Some(r),
            () = &mut interrupt => None,
        };
        let Some(outcome) = outcome else {
            let _ = ctx.recorder.stop();
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
            summary.energy_j += line.energy_j;
            summary.tokens += line.tokens;
        } else {
            summary.failed += 1;
        }
        progress.trial(&line);
        if i + 1 < n {
            let cooled = tokio::select! {
                r = cooldown(&mut ctx, baseline.as_ref()) => Some(r),
                () = &mut interrupt => None,
            };
            match cooled {
                Some(r) => r?,
                None => {
                    let _ = ctx.recorder.stop();
                    summary.interrupted = true;
                    progress.note("interrupted during the cooldown; every finished trial is committed");
                    break;
                }
            }
        }
    }
    ctx.lifecycle.shutdown().await;
    progress.finish();
    summary.elapsed_s = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Mean of a GPU channel over all GPUs (summed per sample for power, averaged for temperature).
fn gpu_state(table: &SampleTable, last_only: bool) -> (Option<f64>, Option<f64>) {
    let pick = |suffix: &str, sum: bool| -> Option<f64> {
        let cols: Vec<_> = table
            .columns
            .iter()
            .filter(|c| c.name.starts_with("GPU") && c.name.ends_with(suffix))
            .collect();
        if cols.is_empty() || table.is_empty() {
            return None;
        }
        let rows: Vec<usize> = if last_only {
            vec![table.len() - 1]
        } else {
            (0..table.len()).collect()
        };
        let mut per_row = Vec::new();
        for r in rows {
            let vals: Vec<f64> = cols.iter().filter_map(|c| c.get(r)).collect();
            if vals.is_empty() {
                continue;
            }
            let total: f64 = vals.iter().sum();
            per_row.push(if sum { total } else { total / vals.len() as f64 });
        }
        (!per_row.is_empty()).then(|| per_row.iter().sum::<f64>() / per_row.len() as f64)
    };
    (
        pick("_TEMPERATURE", false),
        pick("_POWER (mWatts)", true).map(|mw| mw / 1000.0),
    )
}

async fn cooldown(ctx: &mut Ctx<'_>, baseline: Option<&SampleTable>) -> Result<()> {
    let config = &ctx.study.config;
    if config.cooldown_s > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(config.cooldown_s)).await;
    }
    let (Some(idle), Some(b)) = (config.cooldown_until_idle, baseline) else {
        return Ok(());
    };
    wait_until_idle(ctx, idle, b).await
}

async fn wait_until_idle(ctx: &mut Ctx<'_>, idle: IdleCooldown, baseline: &SampleTable) -> Result<()> {
    let (t0, p0) = gpu_state(baseline, false);
    if t0.is_none() && p0.is_none() {
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs_f64(idle.max_s);
    let look = Duration::from_secs_f64((ctx.study.config.interval_ms * 2.0 / 1000.0).max(0.5));
    while Instant::now() < deadline {
        ctx.recorder.start()?;
        tokio::time::sleep(look).await;
        let rec = ctx.recorder.stop()?;
        let (t, p) = gpu_state(&rec.table, true);
        let cool = t0.zip(t).is_none_or(|(a, b)| b <= a + idle.temperature_c)
            && p0.zip(p).is_none_or(|(a, b)| b <= a + idle.power_w);
        if cool {
            return Ok(());
        }
    }
    ctx.progress.note(&format!(
        "cooldown: the GPU did not return near its idle baseline within {:.0} s; going on",
        idle.max_s
    ));
    Ok(())
}

fn request_row(
    run_id: &str,
    index: usize,
    prompt: &crate::prompts::Prompt,
    seed: Option<i64>,
    c: &Completion,
) -> Request {
    let ok = c.error.is_none();
    Request {
        run_id: run_id.to_string(),
        index: index as i64,
        item_id: prompt.item_id,
        gold_label: prompt.gold_label.clone(),
        prompt: prompt.text.clone(),
        response: c.text.clone(),
        start_ms: c.start_ms,
        end_ms: c.end_ms,
        ttft_ms: c.ttft_ms,
        prompt_tokens: c.prompt_tokens,
        completion_tokens: if ok { c.completion_tokens } else { None },
        finish_reason: c.finish_reason.clone(),
        error: c.error.clone(),
        tokens_estimated: ok.then_some(c.tokens_estimated),
        seed,
        attempts: Some(i64::from(c.attempts)),
        chunks: Some(c.chunks),
        gap_mean_ms: c.gaps.map(|g| g.mean_ms),
        gap_p50_ms: c.gaps.map(|g| g.p50_ms),
        gap_p95_ms: c.gaps.map(|g| g.p95_ms),
        gap_max_ms: c.gaps.map(|g| g.max_ms),
    }
}

/// Sends the prompts of one trial; stops launching new requests once one has run out of
/// retries. Returns the completions in prompt order and the first exhausted failure.
async fn send_prompts(
    ctx: &Ctx<'_>,
    row: &RunRow,
    model: &ModelConfig,
    prompts: &TaskPrompts,
    base_url: &str,
) -> (Vec<(usize, Option<i64>, Completion)>, Option<String>) {
    let config = &ctx.study.config;
    let abort = AtomicBool::new(false);
    let client = &ctx.client;
    let abort_ref = &abort;
    let futures = prompts.prompts.iter().enumerate().map(|(i, p)| {
        let seed = config
            .generation
            .request_seed
            .then(|| plan::request_seed(config.seed, &row.key.run_id, i));
        let body = request_body(&model.name, &p.text, &config.generation, seed);
        async move {
            if abort_ref.load(Ordering::SeqCst) {
                return None;
            }
            let c = client.complete(base_url, &body).await;
            if c.exhausted {
                abort_ref.store(true, Ordering::SeqCst);
            }
            Some((i, seed, c))
        }
    });
    let mut done: Vec<(usize, Option<i64>, Completion)> = futures_util::stream::iter(futures)
        .buffer_unordered(config.concurrency.max(1))
        .filter_map(|x| async move { x })
        .collect()
        .await;
    done.sort_by_key(|d| d.0);
    let reason = done.iter().find(|d| d.2.exhausted).map(|d| {
        format!(
            "request {} of {} failed: {}",
            d.0,
            prompts.prompts.len(),
            d.2.error.as_deref().unwrap_or("unknown error")
        )
    });
    (done, reason)
}

/// Runs and commits one trial; returns its line for the display and its baseline samples.
async fn trial(ctx: &mut Ctx<'_>, row: &RunRow) -> Result<(TrialLine, Option<SampleTable>)> {
    let study = ctx.study;
    let config = &study.config;
    let Some(model) = config.model(&row.key.model) else {
        bail!(
            "the run table names model `{}`, which the config does not define",
            row.key.model
        );
    };
    let Some(prompts) = ctx.prompts.get(row.key.task.as_str()).copied() else {
        bail!(
            "the run table names task `{}`, which has no prompts",
            row.key.task
        );
    };
    let mut base = Trial {
        key: row.key.clone(),
        status: TrialStatus::Done,
        failure_reason: None,
        start_ms: 0,
        end_ms: 0,
        time_resolution_ms: 1,
        sample_interval_ms: Some(config.interval_ms),
        simulated: study.design.simulated,
        provenance: String::new(),
        energy_sources: Some(ctx.recorder.sources()),
        sampler_cpu_s: None,
        baseline_start_ms: None,
        baseline_end_ms: None,
    };
    let model_json = serde_json::json!({
        "name": model.name, "path": model.path, "revision": model.revision,
        "generation": model.generation, "size": model.size,
    });
    let server: ServerInfo = match ctx.lifecycle.ensure(ctx.client.http(), model).await {
        Ok(info) => info,
        Err(e) => {
            let now = crate::clock::clock().now_ms();
            base.status = TrialStatus::Failed;
            base.failure_reason = Some(format!("{e:#}"));
            base.start_ms = now;
            base.end_ms = now;
            base.provenance = ctx.provenance.trial(None, model_json, serde_json::json!({}));
            let files = TrialFiles {
                trial: base.clone(),
                requests: Vec::new(),
                samples: SampleTable::default(),
                baseline: None,
            };
            ctx.dataset.write_trial(&files, true)?;
            return Ok((failed_line(row, &base), None));
        }
    };
    let base_url = ctx.lifecycle.base_url();
    ctx.recorder.begin_trial(&model.name, model.power_w);

    let mut baseline = None;
    if config.baseline_s > 0.0 {
        ctx.recorder.start()?;
        tokio::time::sleep(Duration::from_secs_f64(config.baseline_s)).await;
        let rec = ctx.recorder.stop()?;
        base.baseline_start_ms = rec.table.time_ms.first().copied();
        base.baseline_end_ms = rec.table.time_ms.last().copied();
        baseline = Some(rec.table);
    }

    ctx.recorder.start()?;
    let (completions, failure) = send_prompts(ctx, row, model, prompts, &base_url).await;
    let rec = ctx.recorder.stop()?;

    let requests: Vec<Request> = completions
        .iter()
        .map(|(i, seed, c)| request_row(&row.key.run_id, *i, &prompts.prompts[*i], *seed, c))
        .collect();
    let now = crate::clock::clock().now_ms();
    base.start_ms = requests.iter().map(|r| r.start_ms).min().unwrap_or(now);
    base.end_ms = requests.iter().map(|r| r.end_ms).max().unwrap_or(now);
    base.sampler_cpu_s = Some(rec.cpu_s);
    if let Some(reason) = &failure {
        base.status = TrialStatus::Failed;
        base.failure_reason = Some(reason.clone());
    }
    let retries: i64 = requests.iter().filter_map(|r| r.attempts).map(|a| a - 1).sum();
    base.provenance = ctx.provenance.trial(
        Some(&server),
        model_json,
        serde_json::json!({
            "requests_sent": requests.len(),
            "requests_failed": requests.iter().filter(|r| r.error.is_some()).count(),
            "retries": retries,
            "energy_read_errors": rec.read_errors,
            "samples": rec.table.len(),
        }),
    );
    let files = TrialFiles {
        trial: base.clone(),
        requests,
        samples: rec.table,
        baseline: baseline.clone(),
    };
    commit(&ctx.dataset, &files).with_context(|| format!("cannot commit trial {}", row.key.run_id))?;
    if failure.is_some() {
        return Ok((failed_line(row, &base), baseline));
    }
    let m = metrics_row(
        &files.trial,
        &files.requests,
        &files.samples,
        &[],
        Accounting::Corrected,
    );
    Ok((
        TrialLine {
            run_id: row.key.run_id.clone(),
            model: row.key.model.clone(),
            task: row.key.task.clone(),
            status: "done".into(),
            energy_j: m.energy_j,
            energy_per_token: m.energy_per_token,
            tokens: m.tokens,
            duration_s: m.duration_s,
            reason: None,
        },
        baseline,
    ))
}

/// Commits one trial (its samples, requests and idle baseline) with one rename, fsynced.
pub fn commit(dataset: &Dataset, files: &TrialFiles) -> Result<()> {
    dataset.write_trial(files, true)?;
    Ok(())
}

fn failed_line(row: &RunRow, t: &Trial) -> TrialLine {
    TrialLine {
        run_id: row.key.run_id.clone(),
        model: row.key.model.clone(),
        task: row.key.task.clone(),
        status: "failed".into(),
        energy_j: 0.0,
        energy_per_token: None,
        tokens: 0,
        duration_s: 0.0,
        reason: t.failure_reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataset::SampleColumn;

    #[test]
    fn the_gpu_state_sums_power_and_averages_temperature_over_gpus() {
        let table = SampleTable {
            time_ms: vec![0, 100],
            columns: vec![
                SampleColumn::new("GPU0_POWER (mWatts)", vec![100_000.0, 200_000.0]),
                SampleColumn::new("GPU1_POWER (mWatts)", vec![50_000.0, 50_000.0]),
                SampleColumn::new("GPU0_TEMPERATURE", vec![40.0, 50.0]),
                SampleColumn::new("GPU1_TEMPERATURE", vec![30.0, 30.0]),
            ],
        };
        assert_eq!(gpu_state(&table, false), (Some(37.5), Some(200.0)));
        assert_eq!(gpu_state(&table, true), (Some(40.0), Some(250.0)));
        assert_eq!(gpu_state(&SampleTable::default(), false), (None, None));
    }
}
