//! `collect agent`: the testbed side. It owns the energy sources, the model servers (only the
//! models of its own config, started from its own serve templates) and a dataset folder of its
//! own, locked for as long as it runs. On request it runs one whole trial of its run table with
//! exactly the code a local run uses ([`Ctx::run_trial`]: baseline, sampling, requests, atomic
//! commit), keeps the committed part until the orchestrator confirms it has its copy, and serves
//! the part's files as they are on disk with their xxh3. Nothing from a request reaches a
//! command line or a path: a trial is named by its run id, looked up in the agent's run table;
//! files by one of the five fixed part-file names.

use super::api::{
    self, ApiError, Capabilities, FileEntry, FileList, JobState, JobStatus, RaplDomain, TrialRequest,
};
use super::{AgentOptions, Fault};
use crate::plan::{self, Design};
use crate::progress::Progress;
use crate::runner::{Ctx, Study};
use anyhow::{Context, Result, bail};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use dataset::{Dataset, RunRow};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use subtle::ConstantTimeEq;
use tokio::sync::{Notify, mpsc};

/// One job the agent knows about.
#[derive(Debug, Clone)]
struct Job {
    status: JobStatus,
    started: Option<Instant>,
    row: RunRow,
}

/// The jobs: one runs at a time.
#[derive(Debug, Default)]
struct Jobs {
    by_id: HashMap<String, Job>,
    /// The job queued or running, if any.
    current: Option<String>,
}

/// What the handlers share.
#[derive(Debug)]
struct Shared {
    token: Option<Vec<u8>>,
    capabilities: Capabilities,
    design: Design,
    runs: HashMap<String, RunRow>,
    models: Vec<String>,
    prompts_per_task: HashMap<String, usize>,
    dataset: Dataset,
    jobs: Mutex<Jobs>,
    queue: mpsc::UnboundedSender<String>,
    requests_done: Arc<AtomicUsize>,
    cancel: Notify,
    fault: Mutex<Fault>,
    pending_limit: u64,
}

/// An error answer.
fn fail(status: StatusCode, message: impl Into<String>) -> Response {
    let body = ApiError {
        error: message.into(),
        busy_with: None,
        differs: Vec::new(),
    };
    (status, Json(body)).into_response()
}

impl Shared {
    fn jobs(&self) -> std::sync::MutexGuard<'_, Jobs> {
        // A handler that panicked while holding the lock cannot have left the map half-updated
        // (every update is one insert or field write), so a poisoned lock is still usable.
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The status of a job with the live request count.
    fn status_of(&self, job: &Job) -> JobStatus {
        let mut s = job.status.clone();
        if s.state == JobState::Running {
            s.requests_done = self.requests_done.load(Ordering::SeqCst);
        }
        s.elapsed_s = job.started.map_or(s.elapsed_s, |t| t.elapsed().as_secs_f64());
        s
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        // Constant time over the token's length: the comparison does not reveal how many
        // leading bytes matched.
        bool::from(given.as_bytes().ct_eq(token))
    }

    /// Size of the committed, unconfirmed parts, bytes, and their run ids.
    fn pending(&self) -> (Vec<String>, u64) {
        let mut ids = Vec::new();
        let mut bytes = 0;
        for part in self.dataset.parts().unwrap_or_default() {
            if let Ok(files) = self.dataset.part_files(&part) {
                bytes += files.iter().map(|f| f.2).sum::<u64>();
            }
            ids.push(part);
        }
        (ids, bytes)
    }
}

/// Reads the bearer token from a file: the whole content, surrounding whitespace trimmed.
pub fn read_token(path: &std::path::Path) -> Result<Vec<u8>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the token file {}", path.display()))?;
    let token = text.trim();
    if token.len() < 16 {
        bail!(
            "{}: the token is {} characters; use at least 16 (e.g. `openssl rand -hex 32 > {}`)",
            path.display(),
            token.len(),
            path.display()
        );
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!("{}: the token must be one line without spaces", path.display());
    }
    Ok(token.as_bytes().to_vec())
}

/// The RAPL domains of this machine and whether this process can read them.
fn rapl_domains() -> Vec<RaplDomain> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/sys/class/powercap") else {
        return out;
    };
    for e in entries.flatten() {
        let zone = e.file_name().to_string_lossy().into_owned();
        if !zone.starts_with("intel-rapl:") {
            continue;
        }
        let name = std::fs::read_to_string(e.path().join("name"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let readable = std::fs::read_to_string(e.path().join("energy_uj")).is_ok();
        out.push(RaplDomain { zone, name, readable });
    }
    out.sort_by(|a, b| a.zone.cmp(&b.zone));
    out
}

/// The design's hash: xxh3-64 of its canonical JSON.
pub fn design_hash(design: &Design) -> String {
    let json = serde_json::to_vec(design).unwrap_or_default();
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&json))
}

/// Runs the agent until Ctrl-C (or SIGTERM): opens its dataset (locked), energy sources and
/// model servers, then serves the API on `o.listen`.
pub async fn serve(o: &AgentOptions, study: &Study) -> Result<()> {
    let token = match &o.token_file {
        Some(path) => Some(read_token(path)?),
        None => None,
    };
    if token.is_none() && !o.listen.ip().is_loopback() {
        bail!(
            "--listen {}: not a loopback address, and no --token-file: anyone who can reach it could run trials. \
             Pass --token-file FILE, or listen on 127.0.0.1 and reach the agent through an SSH tunnel (docs/agent.md)",
            o.listen
        );
    }
    plan::check_out(&study.out, false)?;
    let _lock = dataset::lock::lock_collect(&study.out)?;
    let prepared = plan::prepare(&study.out, &study.design, None, false, &study.created_by)?;
    let runs: HashMap<String, RunRow> = prepared
        .runs
        .iter()
        .map(|r| (r.key.run_id.to_string(), r.clone()))
        .collect();
    let progress = Progress::new(0, 0, true, study.design.simulated);
    let dataset = prepared.dataset.clone();
    let (mut ctx, notes) = Ctx::open(study, prepared.dataset, prepared.damaged, &progress).await?;
    let design_json = serde_json::to_value(&study.design)?;
    let (queue, mut jobs_rx) = mpsc::unbounded_channel::<String>();
    let limit = o.max_pending_mb.saturating_mul(1024 * 1024);
    let capabilities = Capabilities {
        hostname: study.testbed.clone(),
        collect_version: env!("CARGO_PKG_VERSION").into(),
        schema_version: dataset::SCHEMA_VERSION,
        design_hash: design_hash(&study.design),
        design: design_json,
        energy_sources: ctx.energy_sources(),
        energy_notes: notes.clone(),
        energy_details: ctx.energy_details(),
        rapl_domains: rapl_domains(),
        pending: Vec::new(),
        pending_bytes: 0,
        pending_limit_bytes: limit,
    };
    let shared = Arc::new(Shared {
        token,
        capabilities,
        design: study.design.clone(),
        runs,
        models: study.config.models.iter().map(|m| m.name.clone()).collect(),
        prompts_per_task: study
            .prompts
            .iter()
            .map(|p| (p.task.clone(), p.prompts.len()))
            .collect(),
        dataset,
        jobs: Mutex::new(Jobs::default()),
        queue,
        requests_done: ctx.requests_done(),
        cancel: Notify::new(),
        fault: Mutex::new(o.fault),
        pending_limit: limit,
    });
    let listener = tokio::net::TcpListener::bind(o.listen)
        .await
        .with_context(|| format!("--listen {}: cannot listen there", o.listen))?;
    let addr = listener.local_addr()?;
    log(&format!(
        "listening on http://{addr}{} ({}; design {}, {} trials; energy: {}; dataset {})",
        api::PREFIX,
        if shared.token.is_some() {
            "bearer token required"
        } else {
            "no token: loopback only"
        },
        shared.capabilities.design_hash,
        shared.runs.len(),
        shared.capabilities.energy_sources,
        study.out.display()
    ));
    for n in &notes {
        log(n);
    }
    if let Some(path) = &o.addr_file {
        dataset::io::write_atomic(path, format!("{addr}\n").as_bytes(), false)
            .with_context(|| format!("--addr-file {}", path.display()))?;
    }
    let app = router(Arc::clone(&shared));
    let server = axum::serve(listener, app).with_graceful_shutdown(shutdown_signal());
    let worker = async {
        while let Some(id) = jobs_rx.recv().await {
            run_job(&shared, &mut ctx, &id).await;
        }
    };
    tokio::select! {
        r = server => r.context("the agent's HTTP server failed")?,
        () = worker => {}
    }
    ctx.shutdown().await;
    log("stopped");
    Ok(())
}

fn log(line: &str) {
    eprintln!("collect agent: {line}");
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Runs job `id` (the worker: one at a time, in this task, with the run's context).
async fn run_job(shared: &Shared, ctx: &mut Ctx<'_>, id: &str) {
    let row = {
        let mut jobs = shared.jobs();
        let Some(job) = jobs.by_id.get_mut(id) else { return };
        if job.status.state != JobState::Queued {
            return;
        }
        job.status.state = JobState::Running;
        job.started = Some(Instant::now());
        job.row.clone()
    };
    log(&format!(
        "job {id}: running {} ({} on {})",
        row.key.run_id, row.key.model, row.key.task
    ));
    let outcome = tokio::select! {
        r = ctx.run_trial(&row) => Some(r),
        () = shared.cancel.notified() => None,
    };
    let mut jobs = shared.jobs();
    if jobs.current.as_deref() == Some(id) {
        jobs.current = None;
    }
    let Some(job) = jobs.by_id.get_mut(id) else { return };
    if let Some(t) = job.started {
        job.status.elapsed_s = t.elapsed().as_secs_f64();
    }
    job.started = None;
    match outcome {
        None => {
            ctx.abandon();
            job.status.state = JobState::Cancelled;
            log(&format!("job {id}: cancelled; nothing committed"));
        }
        Some(Ok((line, _))) => {
            job.status.state = JobState::Committed;
            job.status.requests_done = shared.requests_done.load(Ordering::SeqCst);
            log(&format!(
                "job {id}: {} committed ({}{})",
                row.key.run_id,
                line.status,
                line.energy_j.map(|j| format!(", {j:.1} J")).unwrap_or_default()
            ));
        }
        Some(Err(e)) => {
            job.status.state = JobState::Error;
            job.status.error = Some(format!("{e:#}"));
            log(&format!("job {id}: error: {e:#}"));
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/capabilities", get(capabilities))
        .route("/v1/trials", post(submit))
        .route("/v1/jobs/{id}", get(job_status))
        .route("/v1/jobs/{id}/files", get(file_list))
        .route("/v1/jobs/{id}/files/{name}", get(file))
        .route("/v1/jobs/{id}/confirm", post(confirm))
        .route("/v1/jobs/{id}/cancel", post(cancel))
        .fallback(|| async {
            fail(
                StatusCode::NOT_FOUND,
                "no such route (the API is under /v1; see docs/agent.md)",
            )
        })
        .layer(DefaultBodyLimit::max(api::MAX_BODY_BYTES))
        .with_state(shared)
}

/// `GET /v1/health`: no token needed, says nothing but that the agent answers.
async fn health() -> Response {
    Json(serde_json::json!({"status": "ok"})).into_response()
}

macro_rules! authorize {
    ($shared:expr, $headers:expr) => {
        if !$shared.authorized(&$headers) {
            return unauthorized();
        }
    };
}

async fn capabilities(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    authorize!(shared, headers);
    let mut c = shared.capabilities.clone();
    (c.pending, c.pending_bytes) = shared.pending();
    Json(c).into_response()
}

/// A job id: 16 random hex digits.
fn new_job_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

async fn submit(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    authorize!(shared, headers);
    let req: TrialRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return fail(StatusCode::BAD_REQUEST, format!("not a trial request: {e}")),
    };
    // Checked before anything else: nothing is looked up for a model the agent does not serve.
    if !shared.models.contains(&req.model) {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "model `{}` is not in this agent's config (it serves: {}); nothing was started",
                req.model,
                shared.models.join(", ")
            ),
        );
    }
    if req.collect_version != env!("CARGO_PKG_VERSION") || req.schema_version != dataset::SCHEMA_VERSION {
        return fail(
            StatusCode::CONFLICT,
            format!(
                "version mismatch: the agent runs collect {} writing schema {}, the orchestrator collect {} with schema {}; run the same collect on both",
                env!("CARGO_PKG_VERSION"),
                dataset::SCHEMA_VERSION,
                req.collect_version,
                req.schema_version
            ),
        );
    }
    if req.design_hash != shared.capabilities.design_hash {
        let differs = match serde_json::from_value::<Design>(req.design.clone()) {
            Ok(theirs) => plan::diff(&shared.design, &theirs)
                .into_iter()
                .map(|c| format!("{}: agent {}, orchestrator {}", c.key, c.old, c.new))
                .collect(),
            Err(_) => vec!["design: not a design".to_string()],
        };
        let body = ApiError {
            error: format!(
                "the orchestrator's design (hash {}) is not the agent's ({}); {} key(s) differ",
                req.design_hash,
                shared.capabilities.design_hash,
                differs.len()
            ),
            busy_with: None,
            differs,
        };
        return (StatusCode::CONFLICT, Json(body)).into_response();
    }
    let Some(row) = shared.runs.get(&req.run_id) else {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("`{}` is not a trial of the agent's run table", req.run_id),
        );
    };
    if *row.key.model != *req.model || *row.key.task != *req.task || row.key.repetition != req.repetition {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "`{}` is {} on {}, repetition {} in the agent's run table, not {} on {}, repetition {}",
                req.run_id,
                row.key.model,
                row.key.task,
                row.key.repetition,
                req.model,
                req.task,
                req.repetition
            ),
        );
    }
    let total = shared
        .prompts_per_task
        .get(req.task.as_str())
        .copied()
        .unwrap_or(0);
    let mut jobs = shared.jobs();
    // Asked again for the trial in flight (an orchestrator that restarted): the same job.
    if let Some(cur) = jobs.current.clone().and_then(|id| jobs.by_id.get(&id).cloned()) {
        if cur.row.key.run_id == row.key.run_id {
            return (StatusCode::OK, Json(shared.status_of(&cur))).into_response();
        }
        let body = ApiError {
            error: format!(
                "busy: job {} is running {}; the agent runs one trial at a time",
                cur.status.job_id, cur.row.key.run_id
            ),
            busy_with: Some(shared.status_of(&cur)),
            differs: Vec::new(),
        };
        return (StatusCode::CONFLICT, Json(body)).into_response();
    }
    // Already committed here and not yet confirmed: served again, never measured twice.
    if shared.dataset.part_files(&row.key.run_id).is_ok() {
        let existing = jobs
            .by_id
            .values()
            .find(|j| j.row.key.run_id == row.key.run_id && j.status.state == JobState::Committed)
            .cloned();
        let job = existing.unwrap_or_else(|| {
            let id = new_job_id();
            let job = Job {
                status: JobStatus {
                    job_id: id.clone(),
                    run_id: row.key.run_id.to_string(),
                    state: JobState::Committed,
                    requests_done: total,
                    requests_total: total,
                    elapsed_s: 0.0,
                    error: None,
                },
                started: None,
                row: row.clone(),
            };
            jobs.by_id.insert(id, job.clone());
            job
        });
        return (StatusCode::OK, Json(job.status)).into_response();
    }
    let (_, bytes) = shared.pending();
    if bytes >= shared.pending_limit {
        return fail(
            StatusCode::INSUFFICIENT_STORAGE,
            format!(
                "{} MB of committed trials wait for confirmation (limit {} MB, --max-pending-mb); confirm them first",
                bytes / (1024 * 1024),
                shared.pending_limit / (1024 * 1024)
            ),
        );
    }
    let id = new_job_id();
    let job = Job {
        status: JobStatus {
            job_id: id.clone(),
            run_id: row.key.run_id.to_string(),
            state: JobState::Queued,
            requests_done: 0,
            requests_total: total,
            elapsed_s: 0.0,
            error: None,
        },
        started: None,
        row: row.clone(),
    };
    jobs.by_id.insert(id.clone(), job.clone());
    jobs.current = Some(id.clone());
    drop(jobs);
    if shared.queue.send(id).is_err() {
        return fail(StatusCode::SERVICE_UNAVAILABLE, "the agent is shutting down");
    }
    (StatusCode::ACCEPTED, Json(job.status)).into_response()
}

/// The job `id`, or a 404 answer.
fn find_job(shared: &Shared, id: &str) -> std::result::Result<Job, Box<Response>> {
    shared.jobs().by_id.get(id).cloned().ok_or_else(|| {
        Box::new(fail(
            StatusCode::NOT_FOUND,
            format!("no job `{id}` (the agent may have restarted: submit the trial again)"),
        ))
    })
}

async fn job_status(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    authorize!(shared, headers);
    match find_job(&shared, &id) {
        Ok(job) => Json(shared.status_of(&job)).into_response(),
        Err(r) => *r,
    }
}

/// The committed job `id`, or an answer saying why it has no files.
fn committed(shared: &Shared, id: &str) -> std::result::Result<Job, Box<Response>> {
    let job = find_job(shared, id)?;
    if job.status.state != JobState::Committed {
        let state = format!("{:?}", job.status.state).to_lowercase();
        return Err(Box::new(fail(
            StatusCode::CONFLICT,
            format!("job `{id}` is {state}, not committed: it has no files"),
        )));
    }
    Ok(job)
}

/// The authorized request's committed job `id`, or the answer refusing it.
fn authorized_committed(
    shared: &Shared,
    headers: &HeaderMap,
    id: &str,
) -> std::result::Result<Job, Box<Response>> {
    if !shared.authorized(headers) {
        return Err(Box::new(unauthorized()));
    }
    committed(shared, id)
}

fn unauthorized() -> Response {
    fail(
        StatusCode::UNAUTHORIZED,
        "missing or wrong bearer token (Authorization: Bearer <the agent's token>)",
    )
}

async fn file_list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let job = match authorized_committed(&shared, &headers, &id) {
        Ok(j) => j,
        Err(r) => return *r,
    };
    let run_id = job.row.key.run_id.to_string();
    let files = match shared.dataset.part_files(&run_id) {
        Ok(f) => f,
        Err(e) => return fail(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}")),
    };
    let mut entries = Vec::new();
    for (name, path, bytes) in files {
        let hash = match tokio::fs::read(&path).await {
            Ok(content) => format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&content)),
            Err(e) => {
                return fail(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("{}: {e}", path.display()),
                );
            }
        };
        entries.push(FileEntry {
            name,
            bytes,
            xxh3: hash,
        });
    }
    Json(FileList {
        run_id,
        files: entries,
    })
    .into_response()
}

async fn file(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    UrlPath((id, name)): UrlPath<(String, String)>,
) -> Response {
    let job = match authorized_committed(&shared, &headers, &id) {
        Ok(j) => j,
        Err(r) => return *r,
    };
    // Only the fixed names: the request's text is compared, never joined into a path.
    let Some(&fixed) = Dataset::PART_FILE_NAMES.iter().find(|n| **n == name) else {
        return fail(StatusCode::NOT_FOUND, format!("`{name}` is not a part file"));
    };
    let path = shared.dataset.part_dir(&job.row.key.run_id).join(fixed);
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return fail(StatusCode::NOT_FOUND, format!("the trial has no {fixed}"));
        }
        Err(e) => {
            return fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("{}: {e}", path.display()),
            );
        }
    };
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    // Test hook (`--fault drop-fetch`): the first file sent is cut off halfway.
    let cut = {
        let mut fault = shared
            .fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *fault == Fault::DropFetch {
            *fault = Fault::None;
            Some(len / 2)
        } else {
            None
        }
    };
    let stream = futures_util::stream::unfold((file, 0u64), move |(mut f, sent)| async move {
        use tokio::io::AsyncReadExt;
        if cut.is_some_and(|c| sent >= c) {
            let e = std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "fault injected");
            return Some((Err(e), (f, u64::MAX)));
        }
        if sent == u64::MAX {
            return None;
        }
        let mut buf = vec![0u8; 64 * 1024];
        let want = cut.map_or(buf.len() as u64, |c| (c - sent).min(buf.len() as u64).max(1));
        buf.truncate(usize::try_from(want).unwrap_or(buf.len()));
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), (f, sent + n as u64)))
            }
            Err(e) => Some((Err(e), (f, u64::MAX))),
        }
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/vnd.apache.parquet")
        .header(header::CONTENT_LENGTH, len)
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| fail(StatusCode::INTERNAL_SERVER_ERROR, "cannot build the response"))
}

async fn confirm(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let job = match authorized_committed(&shared, &headers, &id) {
        Ok(j) => j,
        Err(r) => return *r,
    };
    let run_id = job.row.key.run_id.to_string();
    match shared.dataset.remove_part(&run_id) {
        Ok(_) => {
            shared.jobs().by_id.remove(&id);
            log(&format!(
                "job {id}: {run_id} confirmed by the orchestrator; removed here"
            ));
            Json(serde_json::json!({"confirmed": run_id})).into_response()
        }
        Err(e) => fail(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}")),
    }
}

async fn cancel(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    authorize!(shared, headers);
    let job = match find_job(&shared, &id) {
        Ok(j) => j,
        Err(r) => return *r,
    };
    match job.status.state {
        JobState::Queued => {
            let mut jobs = shared.jobs();
            if let Some(j) = jobs.by_id.get_mut(&id) {
                j.status.state = JobState::Cancelled;
            }
            if jobs.current.as_deref() == Some(id.as_str()) {
                jobs.current = None;
            }
        }
        JobState::Running => shared.cancel.notify_waiters(),
        _ => {}
    }
    let job = find_job(&shared, &id).unwrap_or(job);
    Json(shared.status_of(&job)).into_response()
}
