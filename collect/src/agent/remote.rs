//! `collect --agent URL`: the orchestrator's side. The study loop is the local one (run table,
//! shuffling, resume, cooldowns between jobs, progress, exit codes); only the trial step
//! differs: submit the trial to the agent, follow its job, fetch the committed part's files,
//! verify them (length and xxh3 of each file, then the whole part read back through the
//! dataset crate: schema, types, run id) and commit them with the same staged rename as a
//! local trial, then confirm, so the agent may delete its copy.
//!
//! Faults cost at most the trial in flight: an agent that stops answering is retried for
//! `--agent-retry-s`; an agent that restarted no longer knows the job (404), so the trial is
//! submitted again — measured again if it was in flight, served from the agent's disk if it
//! was committed; a fetch that fails is fetched again, never measured again.

use super::AgentTarget;
use super::api::{ApiError, Capabilities, FileList, JobState, JobStatus, TrialRequest};
use super::server::design_hash;
use crate::plan::{self, Design};
use crate::progress::{Progress, TrialLine};
use crate::runner::{Study, line_of};
use anyhow::{Context, Result, bail};
use dataset::{Dataset, ReadOptions, RunRow};
use reqwest::StatusCode;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// A checked connection to an agent: its capabilities, and the design both sides share.
#[derive(Debug)]
pub struct Connection {
    target: AgentTarget,
    http: reqwest::Client,
    capabilities: Capabilities,
    design: Design,
}

/// What one call to the agent gave.
enum Answer<T> {
    Ok(T),
    /// An error answer: status and the agent's message.
    Refused(StatusCode, ApiError),
    /// No answer (connection refused or dropped, timeout).
    Unreachable(String),
}

impl Connection {
    /// Connects to the agent and checks that it runs the same collect, writes the same schema
    /// and has the same design (the orchestrator's config, with the agent's `simulated`: that
    /// is a property of the testbed's energy sources). Errors name what differs.
    pub async fn open(target: &AgentTarget, study: &Study) -> Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(300))
            .build()
            .context("cannot build the HTTP client")?;
        let mut conn = Self {
            target: target.clone(),
            http,
            capabilities: Capabilities::default(),
            design: study.design.clone(),
        };
        let caps: Capabilities = match conn.get_json("capabilities").await {
            Answer::Ok(c) => c,
            Answer::Refused(status, e) => {
                bail!("the agent at {} refused: {} ({status})", target.url, e.error)
            }
            Answer::Unreachable(e) => bail!(
                "the agent at {} does not answer: {e}; is `collect agent` running there?",
                target.url
            ),
        };
        if caps.collect_version != env!("CARGO_PKG_VERSION") || caps.schema_version != dataset::SCHEMA_VERSION
        {
            bail!(
                "the agent at {} runs collect {} (schema {}), this is collect {} (schema {}); run the same collect on both",
                target.url,
                caps.collect_version,
                caps.schema_version,
                env!("CARGO_PKG_VERSION"),
                dataset::SCHEMA_VERSION
            );
        }
        let theirs: Design = serde_json::from_value(caps.design.clone()).with_context(|| {
            format!(
                "the agent at {} sent a design this collect cannot read",
                target.url
            )
        })?;
        let mut ours = study.design.clone();
        ours.simulated = theirs.simulated;
        if ours != theirs {
            let changes = plan::diff(&theirs, &ours);
            let list: String = changes
                .iter()
                .take(20)
                .map(|c| format!("\n  {}: agent {}, here {}", c.key, c.old, c.new))
                .collect();
            bail!(
                "the agent at {} (testbed {}) has another design; its config and this one must describe the same experiment. What differs:{list}",
                target.url,
                caps.hostname
            );
        }
        conn.design = ours;
        conn.capabilities = caps;
        Ok(conn)
    }

    /// The design both sides share (with the testbed's `simulated`).
    pub fn design(&self) -> &Design {
        &self.design
    }

    /// One line about the agent, for the console.
    pub fn describe(&self) -> String {
        let c = &self.capabilities;
        let mut s = format!(
            "agent {}: testbed {}, energy {}, design {}",
            self.target.url, c.hostname, c.energy_sources, c.design_hash
        );
        for n in &c.energy_notes {
            s.push_str(&format!("\n  agent: {n}"));
        }
        s
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1/{path}", self.target.url.as_str().trim_end_matches('/'))
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.http.request(method, self.url(path));
        match &self.target.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    async fn answer<T: serde::de::DeserializeOwned>(r: reqwest::Result<reqwest::Response>) -> Answer<T> {
        let resp = match r {
            Ok(r) => r,
            Err(e) => return Answer::Unreachable(format!("{e}")),
        };
        let status = resp.status();
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return Answer::Unreachable(format!("{e}")),
        };
        if status.is_success() {
            match serde_json::from_slice(&bytes) {
                Ok(v) => Answer::Ok(v),
                Err(e) => Answer::Refused(
                    status,
                    ApiError {
                        error: format!("unexpected answer: {e}"),
                        busy_with: None,
                        differs: Vec::new(),
                    },
                ),
            }
        } else {
            let e = serde_json::from_slice::<ApiError>(&bytes).unwrap_or_else(|_| ApiError {
                error: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
                busy_with: None,
                differs: Vec::new(),
            });
            Answer::Refused(status, e)
        }
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Answer<T> {
        Self::answer(self.request(reqwest::Method::GET, path).send().await).await
    }

    async fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&TrialRequest>,
    ) -> Answer<T> {
        let r = self.request(reqwest::Method::POST, path);
        let r = match body {
            Some(b) => r.json(b),
            None => r,
        };
        Self::answer(r.send().await).await
    }

    fn trial_request(&self, row: &RunRow) -> TrialRequest {
        TrialRequest {
            run_id: row.key.run_id.to_string(),
            model: row.key.model.to_string(),
            task: row.key.task.to_string(),
            repetition: row.key.repetition,
            design_hash: design_hash(&self.design),
            design: serde_json::to_value(&self.design).unwrap_or_default(),
            collect_version: env!("CARGO_PKG_VERSION").into(),
            schema_version: dataset::SCHEMA_VERSION,
        }
    }

    /// Confirms, best effort, the trials the agent still keeps that this dataset has
    /// committed already (a run stopped between commit and confirm).
    pub async fn confirm_committed(&self, dataset: &Dataset, progress: &Progress) {
        let runs = dataset.read_runs().unwrap_or_default();
        for id in &self.capabilities.pending {
            let Some(row) = runs.iter().find(|r| r.key.run_id == id.as_str()) else {
                continue;
            };
            if !dataset.has_trial(id).unwrap_or(false) {
                continue;
            }
            if let Answer::Ok(job) = self
                .post_json::<JobStatus>("trials", Some(&self.trial_request(row)))
                .await
                && job.state == JobState::Committed
                && matches!(
                    self.post_json::<serde_json::Value>(&format!("jobs/{}/confirm", job.job_id), None)
                        .await,
                    Answer::Ok(_)
                )
            {
                progress.note(&format!(
                    "{id}: committed here before; the agent's copy is now released"
                ));
            }
        }
    }
}

/// The orchestrator's trial step.
#[derive(Debug)]
pub struct Remote<'a> {
    conn: Connection,
    dataset: Dataset,
    damaged: HashSet<String>,
    progress: &'a Progress,
    /// The job in flight, to cancel on Ctrl-C.
    job: Option<String>,
}

/// How many times a committed trial's fetch is tried before the run gives up (the trial stays
/// on the agent; the next run fetches it).
const FETCH_ATTEMPTS: u32 = 5;

impl<'a> Remote<'a> {
    /// The trial step over `conn`, committing into `dataset`; trials in `damaged` replace
    /// their damaged parts (kept under `DATA/damaged/`).
    pub fn new(conn: Connection, dataset: Dataset, damaged: HashSet<String>, progress: &'a Progress) -> Self {
        Self {
            conn,
            dataset,
            damaged,
            progress,
            job: None,
        }
    }

    /// Runs `row` on the agent, fetches, verifies and commits it, confirms; returns its line.
    pub async fn run_trial(&mut self, row: &RunRow) -> Result<TrialLine> {
        let id = row.key.run_id.to_string();
        let mut last_answer = Instant::now();
        let mut fetches = 0;
        let job = 'job: loop {
            let job = self.submit(row, &mut last_answer).await?;
            self.job = Some(job.job_id.clone());
            // Follow the job until it is committed; a 404 (the agent restarted) submits again.
            let mut status = job;
            loop {
                match status.state {
                    JobState::Committed => {
                        match self.fetch_and_commit(row, &status).await {
                            Ok(()) => break 'job status,
                            Err(e) => {
                                fetches += 1;
                                if fetches >= FETCH_ATTEMPTS {
                                    return Err(e.context(format!(
                                        "{id}: fetching the committed trial from the agent failed {FETCH_ATTEMPTS} times; it stays on the agent, and the next run fetches it"
                                    )));
                                }
                                self.progress
                                    .note(&format!("{id}: fetch failed ({e:#}); fetching again (the trial is not measured again)"));
                                tokio::time::sleep(Duration::from_millis(200 * u64::from(fetches))).await;
                                // The job may be gone (agent restart): submitting finds the
                                // committed trial again.
                                continue 'job;
                            }
                        }
                    }
                    JobState::Error => bail!(
                        "the agent could not run {id}: {}",
                        status.error.as_deref().unwrap_or("no reason given")
                    ),
                    JobState::Cancelled => bail!("{id} was cancelled on the agent"),
                    JobState::Queued | JobState::Running => {}
                }
                tokio::time::sleep(self.conn.target.poll).await;
                match self
                    .conn
                    .get_json::<JobStatus>(&format!("jobs/{}", status.job_id))
                    .await
                {
                    Answer::Ok(s) => {
                        last_answer = Instant::now();
                        status = s;
                    }
                    Answer::Refused(StatusCode::NOT_FOUND, _) => {
                        self.progress.note(&format!(
                            "{id}: the agent no longer knows job {} (it restarted); submitting the trial again",
                            status.job_id
                        ));
                        continue 'job;
                    }
                    Answer::Refused(code, e) => {
                        bail!("the agent refused the status of {id}: {} ({code})", e.error)
                    }
                    Answer::Unreachable(e) => self.wait_for_agent(&mut last_answer, &e).await?,
                }
            }
        };
        self.job = None;
        self.confirm(&job).await;
        let files = self
            .dataset
            .read_trial_files(&id, ReadOptions::default())
            .with_context(|| format!("cannot read back trial {id}"))?;
        Ok(line_of(row, &files))
    }

    /// Submits the trial; waits while the agent is busy with another one or unreachable.
    async fn submit(&self, row: &RunRow, last_answer: &mut Instant) -> Result<JobStatus> {
        let body = self.conn.trial_request(row);
        loop {
            match self.conn.post_json::<JobStatus>("trials", Some(&body)).await {
                Answer::Ok(job) => {
                    *last_answer = Instant::now();
                    return Ok(job);
                }
                Answer::Refused(StatusCode::CONFLICT, e) if e.busy_with.is_some() => {
                    *last_answer = Instant::now();
                    tokio::time::sleep(self.conn.target.poll).await;
                }
                Answer::Refused(code, e) => {
                    let differs: String = e.differs.iter().map(|d| format!("\n  {d}")).collect();
                    bail!(
                        "the agent refused trial {}: {} ({code}){differs}",
                        row.key.run_id,
                        e.error
                    )
                }
                Answer::Unreachable(e) => self.wait_for_agent(last_answer, &e).await?,
            }
        }
    }

    /// Waits a moment after the agent did not answer; fails once it has not answered for
    /// `--agent-retry-s`.
    async fn wait_for_agent(&self, last_answer: &mut Instant, error: &str) -> Result<()> {
        let retry = self.conn.target.retry;
        if last_answer.elapsed() > retry {
            bail!(
                "the agent at {} has not answered for {:.0} s ({error}); committed trials are kept, run the same command again to resume",
                self.conn.target.url,
                retry.as_secs_f64()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok(())
    }

    /// Fetches the committed job's files, verifies each and commits the part.
    async fn fetch_and_commit(&self, row: &RunRow, job: &JobStatus) -> Result<()> {
        let id = row.key.run_id.as_str();
        let list: FileList = match self.conn.get_json(&format!("jobs/{}/files", job.job_id)).await {
            Answer::Ok(l) => l,
            Answer::Refused(code, e) => bail!("file list refused: {} ({code})", e.error),
            Answer::Unreachable(e) => bail!("file list: {e}"),
        };
        if list.run_id != id {
            bail!("the agent sent the files of {} for {id}", list.run_id);
        }
        let mut files = Vec::new();
        for f in &list.files {
            let resp = self
                .conn
                .request(
                    reqwest::Method::GET,
                    &format!("jobs/{}/files/{}", job.job_id, f.name),
                )
                .send()
                .await
                .with_context(|| format!("fetching {}", f.name))?;
            if !resp.status().is_success() {
                bail!("fetching {}: {}", f.name, resp.status());
            }
            let bytes = resp
                .bytes()
                .await
                .with_context(|| format!("fetching {}", f.name))?;
            let hash = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes));
            if bytes.len() as u64 != f.bytes || hash != f.xxh3 {
                bail!(
                    "{}: {} bytes with xxh3 {hash} received, {} bytes with xxh3 {} sent",
                    f.name,
                    bytes.len(),
                    f.bytes,
                    f.xxh3
                );
            }
            files.push((f.name.clone(), bytes.to_vec()));
        }
        let keep_old = self.damaged.contains(id);
        let kept = self
            .dataset
            .commit_received_part(id, &files, &[id], true, keep_old)
            .with_context(|| format!("the trial {id} the agent sent does not verify"))?;
        if let Some(dir) = kept {
            self.progress.note(&format!(
                "{id}: measured again; its damaged files were moved to {}",
                dir.display()
            ));
        }
        Ok(())
    }

    /// Tells the agent it may delete the trial; a failure only leaves its copy there (the
    /// next run confirms it).
    async fn confirm(&self, job: &JobStatus) {
        for _ in 0..3 {
            if let Answer::Ok(_) = self
                .conn
                .post_json::<serde_json::Value>(&format!("jobs/{}/confirm", job.job_id), None)
                .await
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.progress.note(&format!(
            "{}: committed here, but the agent did not take the confirmation; it keeps its copy until the next run confirms it",
            job.run_id
        ));
    }

    /// After Ctrl-C: asks the agent to cancel the job in flight (best effort, briefly).
    pub async fn abandon(&mut self) {
        if let Some(job) = self.job.take() {
            let _ = tokio::time::timeout(
                Duration::from_secs(2),
                self.conn
                    .post_json::<JobStatus>(&format!("jobs/{job}/cancel"), None),
            )
            .await;
        }
    }
}
