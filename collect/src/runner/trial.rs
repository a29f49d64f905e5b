//! One trial, as named steps that [`run`] calls in order: find the trial's model and prompts,
//! make the model's server reachable (outside the measured window), announce the model to the
//! energy sources, measure the idle baseline, start sampling, send the task's prompts
//! concurrently, stop sampling, assemble the trial's rows and commit them atomically, then
//! make its line for the display. A model whose server cannot be reached is committed as a
//! failed trial without samples. [`cooldown`] is the step between two trials; the study loop
//! runs it on its own, so that Ctrl-C during it keeps the trial just committed.

use super::Ctx;
use crate::client::{Completion, request_body};
use crate::clock::clock;
use crate::config::{Config, IdleCooldown, ModelConfig};
use crate::plan;
use crate::progress::TrialLine;
use crate::prompts::{Prompt, TaskPrompts};
use crate::sampler::Recording;
use crate::scrape;
use crate::server::ServerInfo;
use anyhow::{Context, Result, bail};
use dataset::accounting::{Accounting, metrics_row};
use dataset::{Dataset, Request, RunRow, SampleTable, ServerMetric, Trial, TrialFiles, TrialStatus};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Runs and commits one trial; returns its line for the display and its baseline samples.
pub(super) async fn run(ctx: &mut Ctx<'_>, row: &RunRow) -> Result<(TrialLine, Option<SampleTable>)> {
    let mut t = TrialRun::new(ctx, row)?;
    let server = match t.reach_server().await {
        Ok(server) => server,
        Err(e) => return Ok((t.commit_unreachable(&e)?, None)),
    };
    let base_url = t.ctx.lifecycle.base_url();
    t.announce_model();
    let baseline = t.measure_baseline().await?;
    t.start_sampling()?;
    let (sent, server_metrics) = t.send_requests_scraping(&base_url).await;
    let recording = t.stop_sampling()?;
    let mut files = t.assemble(&server, sent, recording, baseline, &server_metrics);
    files.server_metrics = server_metrics;
    t.commit(&files)?;
    let line = t.line(&files);
    Ok((line, files.baseline))
}

/// Commits one trial (its samples, requests and idle baseline) with one rename, fsynced.
pub fn commit(dataset: &Dataset, files: &TrialFiles) -> Result<()> {
    dataset.write_trial(files, true)?;
    Ok(())
}

/// The completions of a trial's requests in prompt order (index, seed, completion), and why
/// the trial failed when a request ran out of retries.
struct Sent {
    completions: Vec<(usize, Option<i64>, Completion)>,
    failure: Option<String>,
}

/// One trial being run: the study's context, its run-table row, its model and its prompts.
struct TrialRun<'r, 'a> {
    ctx: &'r mut Ctx<'a>,
    row: &'r RunRow,
    model: &'a ModelConfig,
    prompts: &'a TaskPrompts,
}

impl<'r, 'a> TrialRun<'r, 'a> {
    /// Finds the trial's model in the config and its task's prompts.
    fn new(ctx: &'r mut Ctx<'a>, row: &'r RunRow) -> Result<Self> {
        let study = ctx.study;
        let Some(model) = study.config.model(&row.key.model) else {
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
        Ok(Self {
            ctx,
            row,
            model,
            prompts,
        })
    }

    /// The study's effective config.
    fn config(&self) -> &'a Config {
        let study = self.ctx.study;
        &study.config
    }

    /// Makes the trial's model reachable (starting or switching its server where collect serves).
    async fn reach_server(&mut self) -> Result<ServerInfo> {
        let ctx = &mut *self.ctx;
        ctx.lifecycle.ensure(ctx.client.http(), self.model).await
    }

    /// Commits the trial as failed, without samples, because its model's server is unreachable.
    fn commit_unreachable(&mut self, e: &anyhow::Error) -> Result<TrialLine> {
        let now = clock().now_ms();
        let no_requests = serde_json::json!({});
        let provenance = self.ctx.provenance.trial(None, self.model_json(), no_requests);
        let trial = self.trial_row(Some(format!("{e:#}")), (now, now), None, None, provenance);
        let files = TrialFiles {
            trial,
            requests: Vec::new(),
            samples: SampleTable::default(),
            baseline: None,
            server_metrics: Vec::new(),
        };
        self.commit(&files)?;
        Ok(self.line(&files))
    }

    /// Tells the energy sources which model runs next (some use its `power_w` hint).
    fn announce_model(&mut self) {
        let model = self.model;
        self.ctx.recorder.begin_trial(&model.name, model.power_w);
    }

    /// Records the idle baseline for `baseline_s` when the config asks for one.
    async fn measure_baseline(&mut self) -> Result<Option<SampleTable>> {
        let baseline_s = self.config().baseline_s;
        if baseline_s > 0.0 {
            self.ctx.recorder.start()?;
            tokio::time::sleep(Duration::from_secs_f64(baseline_s)).await;
            Ok(Some(self.ctx.recorder.stop()?.table))
        } else {
            Ok(None)
        }
    }

    /// Starts sampling the trial's window; returns once the first sample is taken.
    fn start_sampling(&mut self) -> Result<()> {
        self.ctx.recorder.start()
    }

    /// Sends the task's prompts under the trial's load: closed loop, `concurrency` at a time
    /// (the next request leaves when one finishes); open loop, at the seeded Poisson schedule of
    /// [`plan::arrival_offsets_s`] whether or not earlier ones have finished, at most the cap in
    /// flight (a request due while the cap is reached waits for a slot). Stops launching new
    /// requests once one has run out of retries.
    async fn send_requests(&self, base_url: &str) -> Sent {
        let config = self.config();
        let key = &self.row.key;
        let abort = AtomicBool::new(false);
        let client = &self.ctx.client;
        let abort_ref = &abort;
        let answered = &*self.ctx.requests_done;
        answered.store(0, Ordering::SeqCst);
        let n = self.prompts.prompts.len();
        let schedule: Option<Vec<f64>> = key
            .arrival_rate_per_s
            .map(|rate| plan::arrival_offsets_s(config.seed, &key.run_id, rate, n));
        let cap = key
            .concurrency
            .and_then(|c| usize::try_from(c).ok())
            .filter(|c| *c >= 1);
        let permits = match (&schedule, cap) {
            (_, Some(c)) => c,
            (Some(_), None) => tokio::sync::Semaphore::MAX_PERMITS,
            (None, None) => 1,
        };
        let slots = tokio::sync::Semaphore::new(permits);
        let (slots, schedule) = (&slots, schedule.as_deref());
        let t0 = tokio::time::Instant::now();
        let futures = self.prompts.prompts.iter().enumerate().map(|(i, p)| {
            let seed = config
                .generation
                .request_seed
                .then(|| plan::request_seed(config.seed, &key.run_id, i));
            let body = request_body(&self.model.name, &p.text, &config.generation, seed);
            async move {
                if let Some(at) = schedule.and_then(|s| s.get(i)) {
                    tokio::time::sleep_until(t0 + Duration::from_secs_f64(*at)).await;
                }
                let _slot = slots.acquire().await.ok()?;
                if abort_ref.load(Ordering::SeqCst) {
                    return None;
                }
                let c = client.complete(base_url, &body).await;
                answered.fetch_add(1, Ordering::SeqCst);
                if c.exhausted {
                    abort_ref.store(true, Ordering::SeqCst);
                }
                Some((i, seed, c))
            }
        });
        // Every future is polled from the start: closed-loop ones wait for a slot in order,
        // open-loop ones for their arrival time first.
        let mut completions: Vec<(usize, Option<i64>, Completion)> = futures_util::stream::iter(futures)
            .buffer_unordered(n.max(1))
            .filter_map(|x| async move { x })
            .collect()
            .await;
        completions.sort_by_key(|d| d.0);
        let failure = completions.iter().find(|d| d.2.exhausted).map(|d| {
            format!(
                "request {} of {} failed: {}",
                d.0,
                self.prompts.prompts.len(),
                d.2.error.as_deref().unwrap_or("unknown error")
            )
        });
        Sent { completions, failure }
    }

    /// [`Self::send_requests`] while the server's metrics endpoint is scraped ([`scrape`]).
    async fn send_requests_scraping(&self, base_url: &str) -> (Sent, Vec<ServerMetric>) {
        let stop = Notify::new();
        let url = scrape::metrics_url(base_url);
        let scraping = scrape::scrape_until(self.ctx.client.http(), &url, &self.row.key.run_id, &stop);
        let sending = async {
            let sent = self.send_requests(base_url).await;
            stop.notify_one();
            sent
        };
        tokio::join!(sending, scraping)
    }

    /// Takes the window's last sample and stops sampling.
    fn stop_sampling(&mut self) -> Result<Recording> {
        self.ctx.recorder.stop()
    }

    /// Builds the trial's rows: its requests, the trial row (window, status, provenance) and
    /// the samples of its window and baseline.
    fn assemble(
        &self,
        server: &ServerInfo,
        sent: Sent,
        recording: Recording,
        baseline: Option<SampleTable>,
        server_metrics: &[ServerMetric],
    ) -> TrialFiles {
        let requests: Vec<Request> = sent
            .completions
            .iter()
            .map(|(i, seed, c)| request_row(&self.row.key.run_id, *i, &self.prompts.prompts[*i], *seed, c))
            .collect();
        let now = clock().now_ms();
        let start_ms = requests.iter().map(|r| r.start_ms).min().unwrap_or(now);
        let end_ms = requests.iter().map(|r| r.end_ms).max().unwrap_or(now);
        let retries: i64 = requests.iter().filter_map(|r| r.attempts).map(|a| a - 1).sum();
        let provenance = self.ctx.provenance.trial(
            Some(server),
            self.model_json(),
            serde_json::json!({
                "requests_sent": requests.len(),
                "requests_failed": requests.iter().filter(|r| r.error.is_some()).count(),
                "retries": retries,
                "energy_read_errors": recording.read_errors,
                "samples": recording.table.len(),
                "server_metrics": server_metrics.len(),
                "prefix_cache_hit_rate": scrape::prefix_cache_hit_rate(server_metrics),
                "load": load_json(&self.row.key),
                "server_batch_limit": self.server_batch_limit(),
                "gpu_settings": self.ctx.gpu_state(),
            }),
        );
        let trial = self.trial_row(
            sent.failure,
            (start_ms, end_ms),
            Some(recording.cpu_s),
            baseline.as_ref(),
            provenance,
        );
        TrialFiles {
            trial,
            requests,
            samples: recording.table,
            baseline,
            server_metrics: Vec::new(),
        }
    }

    /// Commits the assembled trial atomically. A trial found damaged on resume replaces its
    /// damaged part the same way, but the damaged files are moved to `DATA/damaged/`, not
    /// deleted.
    fn commit(&mut self, files: &TrialFiles) -> Result<()> {
        let id = &self.row.key.run_id;
        if !self.ctx.damaged.contains(id.as_str()) {
            return commit(&self.ctx.dataset, files).with_context(|| format!("cannot commit trial {id}"));
        }
        let kept = self
            .ctx
            .dataset
            .replace_damaged_part(id, std::slice::from_ref(files), true)
            .with_context(|| format!("cannot commit trial {id}"))?;
        self.ctx.progress.note(&match &kept {
            Some(dir) => format!(
                "{id}: measured again; its damaged files were moved to {}",
                dir.display()
            ),
            None => format!("{id}: measured again"),
        });
        self.ctx.damaged.remove(id.as_str());
        self.ctx.remeasured.push((id.to_string(), kept));
        Ok(())
    }

    /// The trial's line for the display.
    fn line(&self, files: &TrialFiles) -> TrialLine {
        line_of(self.row, files)
    }

    /// The most requests the model's server batches, where its serve template sets it (vLLM's
    /// `--max-num-seqs`, llama.cpp's `--parallel`/`-np`).
    fn server_batch_limit(&self) -> Option<u64> {
        let template = self
            .model
            .serve
            .as_deref()
            .or(self.config().server.serve.as_deref())?;
        crate::server::batch_limit(template)
    }

    /// The model's entry in the provenance.
    fn model_json(&self) -> serde_json::Value {
        let model = self.model;
        serde_json::json!({
            "name": model.name, "path": model.path, "revision": model.revision,
            "generation": model.generation, "size": model.size,
        })
    }

    /// The trial row, the one place it is built: the run-table row's key, the study's sampling
    /// settings and what happened (`failure_reason` None when done).
    fn trial_row(
        &self,
        failure_reason: Option<String>,
        (start_ms, end_ms): (i64, i64),
        sampler_cpu_s: Option<f64>,
        baseline: Option<&SampleTable>,
        provenance: String,
    ) -> Trial {
        let row = self.row;
        Trial {
            key: row.key.clone(),
            status: if failure_reason.is_some() {
                TrialStatus::Failed
            } else {
                TrialStatus::Done
            },
            failure_reason,
            start_ms,
            end_ms,
            time_resolution_ms: 1,
            sample_interval_ms: Some(self.config().interval_ms),
            simulated: self.ctx.study.design.simulated,
            provenance,
            energy_sources: Some(self.ctx.recorder.sources()),
            sampler_cpu_s,
            baseline_start_ms: baseline.and_then(|b| b.time_ms.first().copied()),
            baseline_end_ms: baseline.and_then(|b| b.time_ms.last().copied()),
            testbed: Some(self.ctx.study.testbed.clone()),
        }
    }
}

/// The load a trial ran under, for its provenance: closed loop (`concurrency`) or open loop
/// (`arrival_rate_per_s`, with `concurrency` the cap or null).
fn load_json(key: &dataset::TrialKey) -> serde_json::Value {
    match key.arrival_rate_per_s {
        Some(rate) => {
            serde_json::json!({"loop": "open", "arrival": "poisson", "arrival_rate_per_s": rate, "max_in_flight": key.concurrency})
        }
        None => serde_json::json!({"loop": "closed", "concurrency": key.concurrency}),
    }
}

/// A committed trial's line for the display: its energy and tokens when done, the reason when
/// failed.
pub fn line_of(row: &RunRow, files: &TrialFiles) -> TrialLine {
    let failed = TrialLine {
        run_id: row.key.run_id.to_string(),
        model: row.key.model.to_string(),
        task: row.key.task.to_string(),
        status: "failed".into(),
        energy_j: None,
        energy_per_token: None,
        tokens: 0,
        duration_s: 0.0,
        reason: files.trial.failure_reason.clone(),
    };
    if files.trial.status == TrialStatus::Failed {
        return failed;
    }
    let m = metrics_row(
        &files.trial,
        &files.requests,
        &files.samples,
        &[],
        Accounting::Corrected,
    );
    TrialLine {
        status: "done".into(),
        energy_j: m.energy_j,
        energy_per_token: m.energy_per_token,
        tokens: m.tokens,
        duration_s: m.duration_s,
        reason: None,
        ..failed
    }
}

/// The request row of completion `c` of prompt `index`, the one place it is built.
fn request_row(run_id: &str, index: usize, prompt: &Prompt, seed: Option<i64>, c: &Completion) -> Request {
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
        chunk_offsets_us: Some(c.chunk_offsets_us.clone()),
        chunk_tokens: c.chunk_tokens.clone(),
    }
}

/// The pause between two trials: `cooldown_s`, then, with `cooldown_until_idle`, until the GPU
/// is back near the idle baseline of the trial just run.
pub(super) async fn cooldown(ctx: &mut Ctx<'_>, baseline: Option<&SampleTable>) -> Result<()> {
    let config = &ctx.study.config;
    if config.cooldown_s > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(config.cooldown_s)).await;
    }
    let (Some(idle), Some(b)) = (config.cooldown_until_idle, baseline) else {
        return Ok(());
    };
    wait_until_idle(ctx, idle, b).await
}

/// Samples briefly, again and again for at most `max_s`, until the GPU's temperature and power
/// are back near the baseline's.
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
