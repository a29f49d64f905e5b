//! The agent's HTTP API, version 1, as the types both sides serialize: what the orchestrator
//! sends (strict: an unknown field is refused) and what the agent answers. Paths are under
//! [`PREFIX`]; every error is a JSON [`ApiError`] with a 4xx or 5xx status.

use serde::{Deserialize, Serialize};

/// Every route is under this prefix.
pub const PREFIX: &str = "/v1";

/// The largest request body the agent reads, bytes (a trial request with the design is a few
/// kilobytes).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// `POST /v1/trials`: run one trial of the agent's run table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialRequest {
    /// The trial's run id (`run_<R>_repetition_<K>`).
    pub run_id: String,
    /// Its model; must be one of the agent's config.
    pub model: String,
    /// Its task.
    pub task: String,
    /// Its repetition.
    pub repetition: i64,
    /// xxh3 of the orchestrator's design ([`crate::plan::Design::hash`]).
    pub design_hash: String,
    /// The orchestrator's design itself, so a mismatch can name the keys that differ.
    pub design: serde_json::Value,
    /// The orchestrator's collect version.
    pub collect_version: String,
    /// The orchestrator's dataset schema version.
    pub schema_version: u32,
}

/// The state of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for the trial before it (the agent runs one at a time, so only briefly).
    Queued,
    /// Being measured.
    Running,
    /// Committed on the agent (as `done` or `failed`: the trial row says which); fetch it.
    Committed,
    /// The agent could not run the trial (an error outside the trial itself, e.g. the energy
    /// source); nothing was committed. Ask again to retry.
    Error,
    /// Cancelled; nothing was committed.
    Cancelled,
}

/// `GET /v1/jobs/{id}` (and the answer to `POST /v1/trials`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobStatus {
    /// The job's id (random, 16 hex digits).
    pub job_id: String,
    /// The trial it runs.
    pub run_id: String,
    /// Where it stands.
    pub state: JobState,
    /// Requests answered so far (while running), or sent in all (when committed).
    pub requests_done: usize,
    /// Requests of the trial.
    pub requests_total: usize,
    /// Seconds since the job started running (0 while queued).
    pub elapsed_s: f64,
    /// What went wrong (state `error`).
    pub error: Option<String>,
}

/// One file of a committed trial (`GET /v1/jobs/{id}/files`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// File name within the part folder (one of `Dataset::PART_FILE_NAMES`).
    pub name: String,
    /// Size, bytes.
    pub bytes: u64,
    /// xxh3-64 of the content, 16 hex digits.
    pub xxh3: String,
}

/// `GET /v1/jobs/{id}/files`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileList {
    /// The trial.
    pub run_id: String,
    /// Its files, in fetch order.
    pub files: Vec<FileEntry>,
}

/// `GET /v1/capabilities`: what the testbed is and can measure.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Capabilities {
    /// The testbed's host name (recorded as each trial's `testbed`).
    pub hostname: String,
    /// collect's version.
    pub collect_version: String,
    /// The dataset schema version it writes.
    pub schema_version: u32,
    /// xxh3 of the agent's design.
    pub design_hash: String,
    /// The design itself.
    pub design: serde_json::Value,
    /// Energy sources opened, comma-separated.
    pub energy_sources: String,
    /// Why a source is missing or degraded (one line each).
    pub energy_notes: Vec<String>,
    /// The sources' own description (GPU model, driver, power limit, RAPL domains, …).
    pub energy_details: serde_json::Value,
    /// RAPL domains under /sys/class/powercap and whether this process can read them.
    pub rapl_domains: Vec<RaplDomain>,
    /// Trials committed here and not yet confirmed by the orchestrator.
    pub pending: Vec<String>,
    /// Their size on disk, bytes.
    pub pending_bytes: u64,
    /// Beyond this, new jobs are refused (507).
    pub pending_limit_bytes: u64,
}

/// One RAPL domain as the agent sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaplDomain {
    /// Its folder (`intel-rapl:0`).
    pub zone: String,
    /// Its name (`package-0`, `dram`).
    pub name: String,
    /// Whether `energy_uj` is readable by the agent (root-only since CVE-2020-8694).
    pub readable: bool,
}

/// Every error the agent answers with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// What went wrong, for a person.
    pub error: String,
    /// The job the agent is busy with (409 while another trial runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_with: Option<JobStatus>,
    /// The design keys that differ from the agent's (409 on a design mismatch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differs: Vec<String>,
}
