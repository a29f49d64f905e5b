//! Model lifecycle. Either one endpoint serves every model (the model name goes with each
//! request), or collect starts a serve command per model from a template (e.g.
//! `vllm serve {path} --port {port} --max-model-len {max_model_len}`), waits until it answers
//! `/v1/models`, keeps its output in `DATA/logs/`, and stops it (SIGTERM to its process group,
//! SIGKILL after 30 s) when the next trial needs another model. Start-up happens before the
//! trial's measured window.
//!
//! Whatever the server tells about itself (the `Server` header, vLLM's `/version`,
//! llama-server's `/props`, its `/v1/models` entry) goes into each trial's provenance.

use crate::client::{describe, v1_url};
use crate::config::{Config, ModelConfig};
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What a server says about itself.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ServerInfo {
    /// Base URL.
    pub base_url: String,
    /// `Server` response header (`uvicorn`, `llama.cpp`).
    pub server: Option<String>,
    /// Version, from vLLM's `/version` or llama-server's `/props`.
    pub version: Option<String>,
    /// Model ids from `/v1/models`.
    pub models: Vec<String>,
    /// The `/v1/models` entry of the model in use, when listed.
    pub model_entry: Option<serde_json::Value>,
    /// The serve command collect ran, if it started the server.
    pub serve_command: Option<String>,
    /// Its log file.
    pub log: Option<PathBuf>,
}

/// Asks a server about itself; fails when `/v1/models` does not answer.
pub async fn probe(http: &reqwest::Client, base_url: &str) -> Result<ServerInfo> {
    let url = format!("{}/models", v1_url(base_url));
    let resp = http
        .get(&url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{}", describe(&e, &url)))?;
    let status = resp.status();
    if !status.is_success() {
        bail!("{url} answered HTTP {status}");
    }
    let server = resp
        .headers()
        .get(reqwest::header::SERVER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let list: serde_json::Value = resp
        .json()
        .await
        .with_context(|| format!("{url}: not a JSON model list"))?;
    let entries: Vec<serde_json::Value> = list
        .get("data")
        .and_then(|d| d.as_array())
        .cloned()
        .unwrap_or_default();
    let models = entries
        .iter()
        .filter_map(|e| e.get("id").and_then(|i| i.as_str()).map(str::to_string))
        .collect();
    let root = base_url.trim_end_matches('/').trim_end_matches("/v1");
    let mut version = None;
    for (path, key) in [("/version", "/version"), ("/props", "/build_info")] {
        let Ok(r) = http
            .get(format!("{root}{path}"))
            .timeout(Duration::from_secs(3))
            .send()
            .await
        else {
            continue;
        };
        if !r.status().is_success() {
            continue;
        }
        if let Ok(v) = r.json::<serde_json::Value>().await
            && let Some(found) = v.pointer(key)
        {
            version = Some(found.as_str().map_or_else(|| found.to_string(), str::to_string));
            break;
        }
    }
    Ok(ServerInfo {
        base_url: base_url.to_string(),
        server,
        version,
        models,
        model_entry: None,
        serve_command: None,
        log: None,
    })
}

impl ServerInfo {
    /// This info with the model's own `/v1/models` entry.
    fn for_model(&self, entries: &[serde_json::Value], model: &str) -> Self {
        let mut info = self.clone();
        info.model_entry = entries
            .iter()
            .find(|e| e.get("id").and_then(|i| i.as_str()) == Some(model))
            .cloned();
        info
    }
}

/// Quotes a value for `sh`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The placeholders a serve template may use.
pub const PLACEHOLDERS: [&str; 5] = ["{path}", "{name}", "{revision}", "{port}", "{max_model_len}"];

/// Checks a serve template's placeholders.
pub fn check_template(template: &str) -> Result<()> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            bail!("serve template `{template}` has an unclosed `{{`");
        };
        let ph = &rest[open..open + close + 1];
        if !PLACEHOLDERS.contains(&ph) {
            bail!(
                "serve template `{template}` uses unknown placeholder {ph} (known: {})",
                PLACEHOLDERS.join(" ")
            );
        }
        rest = &rest[open + close + 1..];
    }
    Ok(())
}

/// Checks that the program a serve template runs exists, so a missing `vllm` is one clear
/// error before the run instead of every trial failing.
pub fn check_program(template: &str) -> Result<()> {
    let Some(first) = template.split_whitespace().next() else {
        bail!("the serve template is empty");
    };
    let program = first.trim_matches(|c| c == '\'' || c == '"');
    if program.contains('{') {
        return Ok(());
    }
    let found = if program.contains('/') {
        Path::new(program).is_file()
    } else {
        std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
    };
    if !found {
        bail!(
            "the serve template runs `{program}`, which is not installed or not on PATH; install it, or pass \
             --endpoint URL of a running server"
        );
    }
    Ok(())
}

/// The batch limit a serve template sets: the value of vLLM's `--max-num-seqs` or llama.cpp's
/// `--parallel`/`-np` (`--flag N` or `--flag=N`), if any.
pub fn batch_limit(template: &str) -> Option<u64> {
    let words: Vec<&str> = template.split_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        for flag in ["--max-num-seqs", "--parallel", "-np"] {
            let value = if *w == flag {
                words.get(i + 1).copied()
            } else {
                w.strip_prefix(flag).and_then(|rest| rest.strip_prefix('='))
            };
            if let Some(n) = value.and_then(|v| v.trim_matches(['"', '\'']).parse().ok()) {
                return Some(n);
            }
        }
    }
    None
}

/// The command line for one model.
pub fn render(template: &str, model: &ModelConfig, port: u16, max_model_len: u32) -> String {
    template
        .replace("{path}", &shell_quote(&model.path))
        .replace("{name}", &shell_quote(&model.name))
        .replace(
            "{revision}",
            &shell_quote(model.revision.as_deref().unwrap_or("main")),
        )
        .replace("{port}", &port.to_string())
        .replace(
            "{max_model_len}",
            &model.max_model_len.unwrap_or(max_model_len).to_string(),
        )
}

/// A server collect started for one model.
#[derive(Debug)]
pub struct Served {
    model: String,
    child: Child,
    info: ServerInfo,
}

/// How models are reached.
#[derive(Debug)]
pub enum Lifecycle {
    /// One endpoint for every model.
    Endpoint {
        /// Base URL.
        base_url: String,
        /// What it said when first asked.
        info: Option<(ServerInfo, Vec<serde_json::Value>)>,
    },
    /// A server per model, started from a template.
    Serve {
        /// Server-wide template (models may override it).
        template: Option<String>,
        /// Loopback port.
        port: u16,
        /// Default `{max_model_len}`.
        max_model_len: u32,
        /// Longest start-up.
        startup_timeout: Duration,
        /// Where server logs go.
        logs: PathBuf,
        /// The running server.
        current: Option<Served>,
        /// Models whose server failed to start, with the reason.
        broken: HashMap<String, String>,
    },
}

impl Lifecycle {
    /// The lifecycle a config asks for; `endpoint` (from `--endpoint`) wins over the config.
    pub fn new(config: &Config, endpoint: Option<&str>, data: &Path) -> Result<Self> {
        if let Some(url) = endpoint.or(config.server.endpoint.as_deref()) {
            return Ok(Lifecycle::Endpoint {
                base_url: url.to_string(),
                info: None,
            });
        }
        let any_template = config.server.serve.is_some() || config.models.iter().any(|m| m.serve.is_some());
        if !any_template {
            bail!(
                "no endpoint: pass --endpoint URL, or set [server] endpoint or a serve template in {}",
                config
                    .path
                    .as_deref()
                    .map_or("the config".into(), |p| p.display().to_string())
            );
        }
        for m in &config.models {
            match m.serve.as_deref().or(config.server.serve.as_deref()) {
                Some(t) => {
                    check_template(t)?;
                    check_program(t)?;
                }
                None => bail!("model `{}` has no serve template and [server] sets none", m.name),
            }
        }
        Ok(Lifecycle::Serve {
            template: config.server.serve.clone(),
            port: config.server.port,
            max_model_len: config.server.max_model_len,
            startup_timeout: Duration::from_secs_f64(config.server.startup_timeout_s),
            logs: data.join("logs"),
            current: None,
            broken: HashMap::new(),
        })
    }

    /// Checks a fixed endpoint before the run starts (a serve template is checked per model).
    pub async fn check(&mut self, http: &reqwest::Client) -> Result<()> {
        if let Lifecycle::Endpoint { base_url, info } = self
            && info.is_none()
        {
            let i = probe(http, base_url).await.with_context(|| {
                format!("the endpoint {base_url} does not answer; is the server running? (--endpoint)")
            })?;
            let entries = fetch_entries(http, base_url).await;
            *info = Some((i, entries));
        }
        Ok(())
    }

    /// Makes `model` reachable and returns its server's info. Errors when its server cannot be
    /// started (the trial then fails with that reason).
    pub async fn ensure(&mut self, http: &reqwest::Client, model: &ModelConfig) -> Result<ServerInfo> {
        match self {
            Lifecycle::Endpoint { .. } => {
                self.check(http).await?;
                let Lifecycle::Endpoint {
                    info: Some((i, entries)),
                    ..
                } = self
                else {
                    bail!("endpoint information missing");
                };
                Ok(i.for_model(entries, &model.name))
            }
            Lifecycle::Serve {
                template,
                port,
                max_model_len,
                startup_timeout,
                logs,
                current,
                broken,
            } => {
                if let Some(reason) = broken.get(&model.name) {
                    bail!("{reason}");
                }
                if let Some(c) = current.as_ref()
                    && c.model == model.name
                {
                    return Ok(c.info.clone());
                }
                if let Some(old) = current.take() {
                    stop(old).await;
                }
                let Some(t) = model.serve.as_deref().or(template.as_deref()) else {
                    bail!("model `{}` has no serve template", model.name);
                };
                let command = render(t, model, *port, *max_model_len);
                match start(http, &command, model, *port, *startup_timeout, logs).await {
                    Ok(served) => {
                        let info = served.info.clone();
                        *current = Some(served);
                        Ok(info)
                    }
                    Err(e) => {
                        let reason = format!("the server for model `{}` did not start: {e:#}", model.name);
                        broken.insert(model.name.clone(), reason.clone());
                        bail!("{reason}")
                    }
                }
            }
        }
    }

    /// The base URL requests for `model` go to (after [`Lifecycle::ensure`]).
    pub fn base_url(&self) -> String {
        match self {
            Lifecycle::Endpoint { base_url, .. } => base_url.clone(),
            Lifecycle::Serve { port, .. } => format!("http://127.0.0.1:{port}"),
        }
    }

    /// Stops a server collect started.
    pub async fn shutdown(&mut self) {
        if let Lifecycle::Serve { current, .. } = self
            && let Some(old) = current.take()
        {
            stop(old).await;
        }
    }
}

async fn fetch_entries(http: &reqwest::Client, base_url: &str) -> Vec<serde_json::Value> {
    let url = format!("{}/models", v1_url(base_url));
    let Ok(r) = http.get(&url).timeout(Duration::from_secs(10)).send().await else {
        return Vec::new();
    };
    r.json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| v.get("data").and_then(|d| d.as_array()).cloned())
        .unwrap_or_default()
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

async fn start(
    http: &reqwest::Client,
    command: &str,
    model: &ModelConfig,
    port: u16,
    timeout: Duration,
    logs: &Path,
) -> Result<Served> {
    use std::os::unix::process::CommandExt;
    std::fs::create_dir_all(logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let safe: String = model
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let log = logs.join(format!("{safe}-{}.log", dataset::store::now_ms()));
    let file = std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("exec {command}"))
        .stdin(Stdio::null())
        .stdout(Stdio::from(file.try_clone()?))
        .stderr(Stdio::from(file))
        .process_group(0)
        .spawn()
        .with_context(|| format!("cannot run `{command}`"))?;
    let mut served = Served {
        model: model.name.clone(),
        child,
        info: ServerInfo::default(),
    };
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = served.child.try_wait() {
            bail!(
                "`{command}` exited ({status}) before answering; last lines of {}:\n{}",
                log.display(),
                tail(&log, 20)
            );
        }
        if let Ok(mut info) = probe(http, &base).await {
            let entries = fetch_entries(http, &base).await;
            info = info.for_model(&entries, &model.name);
            info.serve_command = Some(command.to_string());
            info.log = Some(log.clone());
            served.info = info;
            return Ok(served);
        }
        if started.elapsed() > timeout {
            stop(served).await;
            bail!(
                "`{command}` did not answer {base}/v1/models within {:.0} s; last lines of {}:\n{}",
                timeout.as_secs_f64(),
                log.display(),
                tail(&log, 20)
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn signal_group(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{pid}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

async fn stop(mut served: Served) {
    let pid = served.child.id();
    signal_group(pid, "TERM");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = served.child.try_wait() {
            // Workers the server forked may outlive it; the group gets the same signal.
            signal_group(pid, "KILL");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    signal_group(pid, "KILL");
    let _ = served.child.kill();
    let _ = served.child.wait();
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            signal_group(self.child.id(), "KILL");
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ModelConfig {
        ModelConfig {
            name: "meta-llama/Llama-3.1-8B-Instruct".into(),
            generation: "3.1".into(),
            size: "8B".into(),
            path: "/models/it's here".into(),
            revision: None,
            serve: None,
            max_model_len: None,
            power_w: None,
        }
    }

    #[test]
    fn the_batch_limit_is_read_from_a_serve_template() {
        assert_eq!(
            batch_limit("vllm serve {path} --port {port} --max-num-seqs 64"),
            Some(64)
        );
        assert_eq!(batch_limit("vllm serve {path} --max-num-seqs=8"), Some(8));
        assert_eq!(batch_limit("llama-server -m {path} -np 4 --port {port}"), Some(4));
        assert_eq!(batch_limit("vllm serve {path} --port {port}"), None);
    }

    #[test]
    fn templates_are_rendered_with_quoted_values() {
        let t = "vllm serve {path} --port {port} --max-model-len {max_model_len} --served-model-name {name}";
        check_template(t).unwrap();
        let c = render(t, &model(), 8001, 4096);
        assert_eq!(
            c,
            "vllm serve '/models/it'\\''s here' --port 8001 --max-model-len 4096 --served-model-name 'meta-llama/Llama-3.1-8B-Instruct'"
        );
        assert!(
            check_template("serve {model}")
                .unwrap_err()
                .to_string()
                .contains("{model}")
        );
        assert!(check_program("sh -c true").is_ok());
        let err = check_program("surely-not-a-program-xyz serve {path}")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("surely-not-a-program-xyz") && err.contains("--endpoint"),
            "{err}"
        );
    }
}
