//! The experiment configuration: a TOML file describing the design (models, tasks, exclusions,
//! repetitions, shuffle seed), the generation settings, how the models are served and the
//! measurement settings. `experiments/llama_profiling.toml` documents every key.
//!
//! Relative paths inside a config file are resolved against the file's own folder, so a config
//! means the same thing whatever the working directory.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A config that could not be read or is inconsistent. Every message names the file and, where
/// there is one, the line and column.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not match the expected keys and types.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// The file parses but describes an impossible design.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
}

/// A generation label written as a string (`"3.1"`) or a number (`3.1`, `2`) in TOML.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
enum GenerationLabel {
    Text(String),
    Int(i64),
    Float(f64),
}

impl GenerationLabel {
    fn normalized(&self) -> String {
        let raw = match self {
            GenerationLabel::Text(s) => s.clone(),
            GenerationLabel::Int(i) => i.to_string(),
            GenerationLabel::Float(f) => f.to_string(),
        };
        dataset::normalize_generation(&raw)
    }
}

/// The whole file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    experiment: RawExperiment,
    #[serde(default)]
    server: ServerConfig,
    #[serde(default)]
    generation: GenerationConfig,
    models: Vec<RawModel>,
    tasks: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<Exclusion>>,
    /// Settings of `judge` (read and validated by judge, not by collect).
    #[serde(default, rename = "judge")]
    _judge: Option<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExperiment {
    name: String,
    #[serde(default)]
    description: String,
    repetitions: Spanned<u32>,
    seed: u64,
    #[serde(default = "default_cooldown_s")]
    cooldown_s: f64,
    #[serde(default)]
    cooldown_until_idle: Option<IdleCooldown>,
    #[serde(default = "default_interval_ms")]
    interval_ms: f64,
    #[serde(default = "default_baseline_s")]
    baseline_s: f64,
    #[serde(default)]
    prompts: Option<PathBuf>,
    #[serde(default)]
    max_prompts: Option<usize>,
    #[serde(default)]
    concurrency: Option<Spanned<OneOrMany<usize>>>,
    #[serde(default)]
    arrival_rate_per_s: Option<Spanned<OneOrMany<f64>>>,
    #[serde(default)]
    power_limit_w: Option<Spanned<OneOrMany<f64>>>,
    #[serde(default)]
    sm_clock_mhz: Option<Spanned<OneOrMany<u32>>>,
    #[serde(default = "default_energy")]
    energy: String,
    #[serde(default = "default_estimated_request_s")]
    estimated_request_s: f64,
    #[serde(default = "default_counter_interval_ms")]
    nvml_counter_interval_ms: f64,
}

fn default_cooldown_s() -> f64 {
    30.0
}
fn default_interval_ms() -> f64 {
    200.0
}
fn default_baseline_s() -> f64 {
    10.0
}
/// A setting written as one value or as a list of levels (a factor of the design).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    fn levels(&self) -> Vec<T> {
        match self {
            OneOrMany::One(v) => vec![v.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// The levels of a factor as written, checked: at least one, each valid by `ok` (which says
/// what a level must be), none twice.
fn factor_levels<T: Clone + PartialEq + std::fmt::Display>(
    key: &str,
    value: Option<&Spanned<OneOrMany<T>>>,
    ok: (&str, fn(&T) -> bool),
) -> Result<Vec<T>, (std::ops::Range<usize>, String)> {
    let Some(v) = value else {
        return Ok(Vec::new());
    };
    let levels = v.get_ref().levels();
    if levels.is_empty() {
        return Err((v.span(), format!("experiment.{key} is an empty list")));
    }
    for (i, l) in levels.iter().enumerate() {
        if !(ok.1)(l) {
            return Err((v.span(), format!("experiment.{key}: {l} is not {}", ok.0)));
        }
        if levels[..i].contains(l) {
            return Err((v.span(), format!("experiment.{key}: level {l} is listed twice")));
        }
    }
    Ok(levels)
}
fn default_energy() -> String {
    "auto".into()
}
fn default_estimated_request_s() -> f64 {
    1.4
}
fn default_counter_interval_ms() -> f64 {
    1000.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    name: Spanned<String>,
    generation: GenerationLabel,
    size: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    revision: Option<String>,
    #[serde(default)]
    serve: Option<String>,
    #[serde(default)]
    max_model_len: Option<u32>,
    #[serde(default)]
    power_w: Option<f64>,
}

/// Waiting after the fixed cooldown until the GPU is back near its idle state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdleCooldown {
    /// Allowed GPU temperature above the trial's idle baseline, °C.
    #[serde(default = "default_idle_temperature_c")]
    pub temperature_c: f64,
    /// Allowed GPU power above the trial's idle baseline, W.
    #[serde(default = "default_idle_power_w")]
    pub power_w: f64,
    /// Longest extra wait, s.
    #[serde(default = "default_idle_max_s")]
    pub max_s: f64,
}

fn default_idle_temperature_c() -> f64 {
    3.0
}
fn default_idle_power_w() -> f64 {
    15.0
}
fn default_idle_max_s() -> f64 {
    120.0
}

/// How requests are sent: `concurrency` at a time (closed loop: a request leaves as soon as one
/// finishes), or on a seeded Poisson schedule whether or not earlier ones have finished (open
/// loop). Several levels make the load a factor of the design, crossed with model × task.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadConfig {
    /// Closed loop: requests kept in flight, one level or several.
    Closed {
        /// The levels, at least one.
        concurrency: Vec<usize>,
    },
    /// Open loop: Poisson arrivals.
    Open {
        /// The arrival rates, requests/s, at least one.
        rates_per_s: Vec<f64>,
        /// Most requests in flight at once (a request due while the cap is reached waits).
        cap: Option<usize>,
    },
}

impl LoadConfig {
    /// One closed-loop level (`--concurrency N`), or the cap of an open loop.
    pub fn set_concurrency(&mut self, n: usize) {
        match self {
            LoadConfig::Closed { concurrency } => *concurrency = vec![n],
            LoadConfig::Open { cap, .. } => *cap = Some(n),
        }
    }

    /// The load as one line (`concurrency 8`, `concurrency 1, 8, 32`, `Poisson arrivals 2, 8
    /// requests/s, at most 16 in flight`).
    pub fn describe(&self) -> String {
        let join = |v: Vec<String>| v.join(", ");
        match self {
            LoadConfig::Closed { concurrency } => {
                format!(
                    "concurrency {}",
                    join(concurrency.iter().map(ToString::to_string).collect())
                )
            }
            LoadConfig::Open { rates_per_s, cap } => format!(
                "Poisson arrivals {} requests/s{}",
                join(rates_per_s.iter().map(ToString::to_string).collect()),
                cap.map(|c| format!(", at most {c} in flight"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// How the models are reached: one endpoint serving every model, or a command template that
/// collect runs per model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Base URL of an OpenAI-compatible server serving every model (`http://127.0.0.1:8000`).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Command template collect starts for each model, with `{path}`, `{name}`, `{revision}`,
    /// `{port}` and `{max_model_len}` substituted (shell-quoted); run with `sh -c`.
    #[serde(default)]
    pub serve: Option<String>,
    /// Loopback port for served models.
    #[serde(default = "default_port")]
    pub port: u16,
    /// `{max_model_len}` when a model does not set its own.
    #[serde(default = "default_max_model_len")]
    pub max_model_len: u32,
    /// Longest wait for a served model to answer `/v1/models`, s.
    #[serde(default = "default_startup_timeout_s")]
    pub startup_timeout_s: f64,
    /// Longest time one request may take, s.
    #[serde(default = "default_request_timeout_s")]
    pub request_timeout_s: f64,
    /// Retries of a request after a connection error, timeout, 5xx, 429 or dropped stream.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Pause before the first retry, ms; doubled for each further retry (at most 8 s).
    #[serde(default = "default_retry_backoff_ms")]
    pub retry_backoff_ms: u64,
    /// Environment variable holding a bearer token for the endpoint (none by default).
    #[serde(default)]
    pub api_key_env: Option<String>,
}

fn default_port() -> u16 {
    8000
}
fn default_max_model_len() -> u32 {
    4096
}
fn default_startup_timeout_s() -> f64 {
    1200.0
}
fn default_request_timeout_s() -> f64 {
    600.0
}
fn default_retries() -> u32 {
    4
}
fn default_retry_backoff_ms() -> u64 {
    250
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            endpoint: None,
            serve: None,
            port: default_port(),
            max_model_len: default_max_model_len(),
            startup_timeout_s: default_startup_timeout_s(),
            request_timeout_s: default_request_timeout_s(),
            retries: default_retries(),
            retry_backoff_ms: default_retry_backoff_ms(),
            api_key_env: None,
        }
    }
}

/// How a prompt becomes chat messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ChatFormat {
    /// The prompt is the only message, with role `user` (the published design).
    #[default]
    User,
    /// A system message (`system_prompt`) followed by the prompt as the user message.
    SystemUser,
}

/// Sampling settings sent with every request; part of the design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationConfig {
    /// Sampling temperature.
    #[serde(default = "default_temperature")]
    pub temperature: f64,
    /// Nucleus sampling mass.
    #[serde(default = "default_top_p")]
    pub top_p: f64,
    /// Most tokens generated per request.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// How a prompt becomes messages.
    #[serde(default)]
    pub chat_format: ChatFormat,
    /// The system message for `chat_format = "system_user"`.
    #[serde(default)]
    pub system_prompt: Option<String>,
    /// Send a per-request seed (derived from the shuffle seed, the trial and the prompt) and
    /// record it; false sends none.
    #[serde(default = "default_true")]
    pub request_seed: bool,
    /// Further JSON fields merged into every request body (server-specific options).
    #[serde(default)]
    pub extra_body: serde_json::Map<String, serde_json::Value>,
}

fn default_temperature() -> f64 {
    0.7
}
fn default_top_p() -> f64 {
    0.9
}
fn default_max_tokens() -> u32 {
    2048
}
fn default_true() -> bool {
    true
}

impl Default for GenerationConfig {
    fn default() -> Self {
        Self {
            temperature: default_temperature(),
            top_p: default_top_p(),
            max_tokens: default_max_tokens(),
            chat_format: ChatFormat::User,
            system_prompt: None,
            request_seed: true,
            extra_body: Default::default(),
        }
    }
}

/// A treatment left out of the factorial design: a model, a task, or one combination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    /// Model name; absent matches every model.
    #[serde(default)]
    pub model: Option<String>,
    /// Task name; absent matches every task.
    #[serde(default)]
    pub task: Option<String>,
}

impl Exclusion {
    /// True when the treatment is excluded.
    pub fn matches(&self, model: &str, task: &str) -> bool {
        self.model.as_deref().is_none_or(|m| m == model) && self.task.as_deref().is_none_or(|t| t == task)
    }
}

/// One model of the design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// The name the server knows the model by (sent as `model` in every request).
    pub name: String,
    /// Normalised generation label (`2`, `3.1`).
    pub generation: String,
    /// Size label (`7B`).
    pub size: String,
    /// What `{path}` expands to in a serve template (a Hugging Face id or a folder); the name
    /// when absent.
    pub path: String,
    /// Model revision (recorded in provenance; `{revision}` in a serve template).
    pub revision: Option<String>,
    /// A serve command template for this model, overriding `server.serve`.
    pub serve: Option<String>,
    /// `{max_model_len}` for this model.
    pub max_model_len: Option<u32>,
    /// GPU power the scripted `fake` energy source reports while this model runs, W (demo only).
    pub power_w: Option<f64>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from (None for the built-in demo design).
    pub path: Option<PathBuf>,
    /// xxh3-64 of the file's bytes, hex.
    pub hash: String,
    /// Experiment name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Repetitions per treatment.
    pub repetitions: u32,
    /// Shuffle seed.
    pub seed: u64,
    /// Fixed pause after each trial, s.
    pub cooldown_s: f64,
    /// Optional wait until the GPU is near its idle state again.
    pub cooldown_until_idle: Option<IdleCooldown>,
    /// Sampling interval, ms.
    pub interval_ms: f64,
    /// Idle baseline before each trial, s (0 = none).
    pub baseline_s: f64,
    /// Prompts folder (`<Task>.jsonl`), resolved against the config's folder.
    pub prompts: PathBuf,
    /// Only the first N prompts of each task.
    pub max_prompts: Option<usize>,
    /// The load: closed-loop concurrency levels, or an open-loop arrival process.
    pub load: LoadConfig,
    /// GPU power limit levels, W (empty: not a factor; the limit is left as it is).
    pub power_limit_w: Vec<f64>,
    /// Locked SM clock levels, MHz (empty: not a factor; clocks are left as they are).
    pub sm_clock_mhz: Vec<u32>,
    /// Energy sources (`auto`, `nvml,rapl`, ...).
    pub energy: String,
    /// Expected seconds per request, for `--dry-run`'s estimate.
    pub estimated_request_s: f64,
    /// Least time between two reads of NVML's energy counter, ms (0 = every sample).
    pub nvml_counter_interval_ms: f64,
    /// How the models are served.
    pub server: ServerConfig,
    /// Sampling settings.
    pub generation: GenerationConfig,
    /// Models, in design order.
    pub models: Vec<ModelConfig>,
    /// Tasks, in design order.
    pub tasks: Vec<String>,
    /// Excluded treatments.
    pub exclude: Vec<Exclusion>,
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

/// Removes `.` and `name/..` pairs from a path without touching the file system, so messages
/// show `prompts` rather than `experiments/../prompts`.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self::parse(&text, path, base)
    }

    /// Parses config text; `path` names it in errors and `base` resolves relative paths.
    pub fn parse(text: &str, path: &Path, base: &Path) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        let invalid = |span: Option<std::ops::Range<usize>>, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            line: span.map(|s| line_col(text, s.start).0),
            message,
        };
        let e = raw.experiment;
        if *e.repetitions.get_ref() == 0 {
            return Err(invalid(
                Some(e.repetitions.span()),
                "experiment.repetitions must be at least 1".into(),
            ));
        }
        let factor_error = |(span, message): (std::ops::Range<usize>, String)| invalid(Some(span), message);
        let concurrency = factor_levels(
            "concurrency",
            e.concurrency.as_ref(),
            ("a number of requests of at least 1", |c| *c >= 1),
        )
        .map_err(factor_error)?;
        let rates = factor_levels(
            "arrival_rate_per_s",
            e.arrival_rate_per_s.as_ref(),
            ("a rate above 0 requests/s", |r| r.is_finite() && *r > 0.0),
        )
        .map_err(factor_error)?;
        let power_limit_w = factor_levels(
            "power_limit_w",
            e.power_limit_w.as_ref(),
            ("a power limit above 0 W", |w| w.is_finite() && *w > 0.0),
        )
        .map_err(factor_error)?;
        let sm_clock_mhz = factor_levels(
            "sm_clock_mhz",
            e.sm_clock_mhz.as_ref(),
            ("a clock above 0 MHz", |c| *c > 0),
        )
        .map_err(factor_error)?;
        let load = if rates.is_empty() {
            LoadConfig::Closed {
                concurrency: if concurrency.is_empty() {
                    vec![1]
                } else {
                    concurrency
                },
            }
        } else {
            if concurrency.len() > 1 {
                return Err(invalid(
                    e.concurrency.as_ref().map(Spanned::span),
                    "experiment.concurrency lists several levels and arrival_rate_per_s is set: a \
                     config is a closed loop (concurrency levels) or an open loop (arrival rates, \
                     with one concurrency as the cap on requests in flight), not both"
                        .into(),
                ));
            }
            LoadConfig::Open {
                rates_per_s: rates,
                cap: concurrency.first().copied(),
            }
        };
        if e.interval_ms.is_nan() || e.interval_ms < 1.0 {
            return Err(invalid(
                None,
                "experiment.interval_ms must be at least 1 ms".into(),
            ));
        }
        if e.cooldown_s.is_nan() || e.cooldown_s < 0.0 || e.baseline_s.is_nan() || e.baseline_s < 0.0 {
            return Err(invalid(
                None,
                "experiment.cooldown_s and baseline_s must be ≥ 0".into(),
            ));
        }
        if raw.models.is_empty() {
            return Err(invalid(
                None,
                "no [[models]]: the design needs at least one model".into(),
            ));
        }
        if raw.tasks.is_empty() {
            return Err(invalid(
                None,
                "`tasks` is empty: the design needs at least one task".into(),
            ));
        }
        let mut models: Vec<ModelConfig> = Vec::new();
        for m in raw.models {
            let name = m.name.get_ref().trim().to_string();
            if name.is_empty() {
                return Err(invalid(Some(m.name.span()), "a model's `name` is empty".into()));
            }
            if models.iter().any(|x| x.name == name) {
                return Err(invalid(
                    Some(m.name.span()),
                    format!("model `{name}` is listed twice"),
                ));
            }
            models.push(ModelConfig {
                path: m.path.unwrap_or_else(|| name.clone()),
                name,
                generation: m.generation.normalized(),
                size: m.size.trim().to_string(),
                revision: m.revision,
                serve: m.serve,
                max_model_len: m.max_model_len,
                power_w: m.power_w,
            });
        }
        let mut tasks: Vec<String> = Vec::new();
        for t in &raw.tasks {
            let name = t.get_ref().trim().to_string();
            let ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
            if !ok {
                return Err(invalid(
                    Some(t.span()),
                    format!("task `{name}` must be letters, digits, `_`, `-` or `.` (it names <Task>.jsonl)"),
                ));
            }
            if tasks.contains(&name) {
                return Err(invalid(Some(t.span()), format!("task `{name}` is listed twice")));
            }
            tasks.push(name);
        }
        let mut exclude = Vec::new();
        for x in raw.exclude {
            let span = x.span();
            let x = x.into_inner();
            if x.model.is_none() && x.task.is_none() {
                return Err(invalid(
                    Some(span),
                    "an [[exclude]] entry needs `model`, `task` or both".into(),
                ));
            }
            if let Some(m) = &x.model
                && !models.iter().any(|k| &k.name == m)
            {
                return Err(invalid(
                    Some(span),
                    format!("[[exclude]] names unknown model `{m}`"),
                ));
            }
            if let Some(t) = &x.task
                && !tasks.contains(t)
            {
                return Err(invalid(
                    Some(span),
                    format!("[[exclude]] names unknown task `{t}`"),
                ));
            }
            exclude.push(x);
        }
        let server = raw.server;
        if server.endpoint.is_some() && server.serve.is_some() {
            return Err(invalid(
                None,
                "[server] sets both `endpoint` and `serve`: use one endpoint for every model or a serve template"
                    .into(),
            ));
        }
        let prompts = normalize(&e.prompts.map_or_else(|| base.join("prompts"), |p| base.join(p)));
        Ok(Config {
            path: Some(path.to_path_buf()),
            hash: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes())),
            name: e.name,
            description: e.description,
            repetitions: *e.repetitions.get_ref(),
            seed: e.seed,
            cooldown_s: e.cooldown_s,
            cooldown_until_idle: e.cooldown_until_idle,
            interval_ms: e.interval_ms,
            baseline_s: e.baseline_s,
            prompts,
            max_prompts: e.max_prompts,
            load,
            power_limit_w,
            sm_clock_mhz,
            energy: e.energy,
            estimated_request_s: e.estimated_request_s,
            nvml_counter_interval_ms: e.nvml_counter_interval_ms,
            server,
            generation: raw.generation,
            models,
            tasks,
            exclude,
        })
    }

    /// A model by name.
    pub fn model(&self, name: &str) -> Option<&ModelConfig> {
        self.models.iter().find(|m| m.name == name)
    }

    /// True when the (model, task) treatment is excluded.
    pub fn is_excluded(&self, model: &str, task: &str) -> bool {
        self.exclude.iter().any(|x| x.matches(model, task))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
tasks = ["COPA"]

[experiment]
name = "t"
repetitions = 2
seed = 1

[[models]]
name = "m"
generation = 3.1
size = "8B"
"#;

    #[test]
    fn a_minimal_config_gets_the_published_defaults() {
        let c = Config::parse(MINIMAL, Path::new("x.toml"), Path::new("/cfg")).unwrap();
        assert_eq!(c.models[0].generation, "3.1");
        assert_eq!(c.cooldown_s, 30.0);
        assert_eq!(c.interval_ms, 200.0);
        assert_eq!(c.generation.max_tokens, 2048);
        assert_eq!(c.prompts, PathBuf::from("/cfg/prompts"));
    }

    fn with(experiment: &str) -> Result<Config, ConfigError> {
        let text = MINIMAL.replace("seed = 1\n", &format!("seed = 1\n{experiment}\n"));
        Config::parse(&text, Path::new("f.toml"), Path::new("."))
    }

    #[test]
    fn load_levels_and_gpu_settings_are_read_as_factors() {
        assert_eq!(
            with("").unwrap().load,
            LoadConfig::Closed { concurrency: vec![1] }
        );
        assert_eq!(
            with("concurrency = 4").unwrap().load,
            LoadConfig::Closed { concurrency: vec![4] }
        );
        assert_eq!(
            with("concurrency = [1, 8, 32]").unwrap().load,
            LoadConfig::Closed {
                concurrency: vec![1, 8, 32]
            }
        );
        let open = with("arrival_rate_per_s = [2.0, 8]\nconcurrency = 16").unwrap();
        assert_eq!(
            open.load,
            LoadConfig::Open {
                rates_per_s: vec![2.0, 8.0],
                cap: Some(16)
            }
        );
        assert_eq!(
            open.load.describe(),
            "Poisson arrivals 2, 8 requests/s, at most 16 in flight"
        );
        let gpu = with("power_limit_w = [300, 450.5]\nsm_clock_mhz = 1410").unwrap();
        assert_eq!(gpu.power_limit_w, vec![300.0, 450.5]);
        assert_eq!(gpu.sm_clock_mhz, vec![1410]);
    }

    #[test]
    fn bad_factor_levels_are_refused_with_their_line() {
        for (line, expected) in [
            (
                "concurrency = 0",
                "experiment.concurrency: 0 is not a number of requests of at least 1",
            ),
            ("concurrency = []", "experiment.concurrency is an empty list"),
            ("concurrency = [4, 4]", "level 4 is listed twice"),
            ("arrival_rate_per_s = -1.0", "is not a rate above 0 requests/s"),
            ("power_limit_w = [0]", "is not a power limit above 0 W"),
            ("arrival_rate_per_s = 2.0\nconcurrency = [1, 8]", "not both"),
        ] {
            let err = with(line).unwrap_err().to_string();
            assert!(err.starts_with("f.toml:"), "{line}: {err}");
            assert!(err.contains(expected), "{line}: {err}");
        }
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let err = Config::parse(
            "tasks = [\"a\"]\n[experiment\nname=1",
            Path::new("bad.toml"),
            Path::new("."),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("bad.toml:2:"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_refused_with_its_line() {
        let text = "tasks = [\"a\"]\n[experiment]\nname = \"x\"\nrepetitions = 1\nseed = 1\nrepetition = 3\n";
        let err = Config::parse(text, Path::new("k.toml"), Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("k.toml:6:"), "{err}");
        assert!(err.contains("repetition"), "{err}");
    }
}
