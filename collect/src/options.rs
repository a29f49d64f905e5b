//! Typed, validated options: the second stage of the command line. Every error names the flag at
//! fault. Nothing after this module sees a string that still has to be parsed.

use crate::agent::{AgentOptions, AgentTarget, Fault};
use crate::cli::{
    AgentArgs, Cli, CollectArgs, Command as CliCommand, DEFAULT_OUT, DEMO_OUT, DesignArgs, ProbeArgs,
};
use crate::sampler::EnergySelection;
use anyhow::{Result, bail};
use std::path::PathBuf;
use std::time::Duration;

/// What to do.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // built once per process
pub enum Command {
    /// Run (or plan) a collection.
    Collect(CollectOptions),
    /// Sample without an endpoint.
    Probe(ProbeOptions),
    /// Serve the fake server until killed (hidden; for tests of serve templates).
    FakeServer(FakeServerOptions),
    /// Serve trials to an orchestrator.
    Agent(Box<AgentOptions>),
}

/// Options of the hidden `collect fake-server`.
#[derive(Debug, Clone)]
pub struct FakeServerOptions {
    /// Loopback port.
    pub port: u16,
    /// Model ids listed.
    pub models: Vec<String>,
    /// Delay between tokens.
    pub token_delay: Duration,
    /// Batching mode with its energy ledger.
    pub batching: bool,
}

/// `--only model=M,task=T`: either part may be absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OnlyFilter {
    /// Model name.
    pub model: Option<String>,
    /// Task name.
    pub task: Option<String>,
}

impl OnlyFilter {
    /// Parses `model=M,task=T`.
    pub fn parse(s: &str) -> Result<Self> {
        let mut f = OnlyFilter::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                Some(("model", v)) if !v.is_empty() => f.model = Some(v.to_string()),
                Some(("task", v)) if !v.is_empty() => f.task = Some(v.to_string()),
                _ => {
                    bail!("--only {s}: expected model=NAME and/or task=NAME, comma-separated (got `{part}`)")
                }
            }
        }
        if f.model.is_none() && f.task.is_none() {
            bail!("--only {s}: expected model=NAME and/or task=NAME");
        }
        Ok(f)
    }

    /// True when the trial is selected.
    pub fn matches(&self, model: &str, task: &str) -> bool {
        self.model.as_deref().is_none_or(|m| m == model) && self.task.as_deref().is_none_or(|t| t == task)
    }
}

/// Options of a collection (or its dry run).
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// The config file (ignored by `--demo`).
    pub config: PathBuf,
    /// Repetitions override.
    pub reps: Option<u32>,
    /// Dataset folder.
    pub out: PathBuf,
    /// Endpoint override.
    pub endpoint: Option<String>,
    /// Prompts folder override (relative to the working directory).
    pub prompts: Option<PathBuf>,
    /// Seed override.
    pub seed: Option<u64>,
    /// Cooldown override, s.
    pub cooldown_s: Option<f64>,
    /// Interval override, ms.
    pub interval_ms: Option<f64>,
    /// Energy sources override.
    pub energy: Option<EnergySelection>,
    /// Prompts per task override.
    pub max_prompts: Option<usize>,
    /// Trials to run now (all when empty).
    pub only: Vec<OnlyFilter>,
    /// This run's shard of the run table (all of it when absent).
    pub shard: Option<Shard>,
    /// Print the plan and exit.
    pub dry_run: bool,
    /// Concurrency override.
    pub concurrency: Option<usize>,
    /// Baseline override, s.
    pub baseline_s: Option<f64>,
    /// Replace a dataset of another design.
    pub force: bool,
    /// The built-in simulated design.
    pub demo: bool,
    /// No progress output.
    pub quiet: bool,
    /// Run the trials on this testbed agent.
    pub agent: Option<AgentTarget>,
    /// What sets GPU power limits and clocks (NVML, or a fake GPU in tests).
    pub gpu_control: crate::gpu::ControlChoice,
}

/// Options of `collect probe`.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Sources to sample.
    pub energy: EnergySelection,
    /// Interval, ms.
    pub interval_ms: f64,
    /// Duration, s.
    pub seconds: f64,
    /// Least time between NVML counter reads, ms.
    pub counter_interval_ms: f64,
    /// JSON output file.
    pub json: Option<PathBuf>,
}

fn positive(flag: &str, v: Option<f64>, min: f64) -> Result<Option<f64>> {
    match v {
        Some(x) if !x.is_finite() || x < min => bail!("{flag} {x}: must be a number ≥ {min}"),
        other => Ok(other),
    }
}

fn endpoint(url: Option<String>) -> Result<Option<String>> {
    let Some(url) = url else { return Ok(None) };
    match reqwest::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(Some(url)),
        Ok(_) => bail!("--endpoint {url}: expected an http:// or https:// URL"),
        Err(e) => bail!("--endpoint {url}: not a URL ({e})"),
    }
}

/// The validated design overrides shared by a local run and an agent.
struct Design {
    reps: Option<u32>,
    endpoint: Option<String>,
    prompts: Option<PathBuf>,
    seed: Option<u64>,
    interval_ms: Option<f64>,
    energy: Option<EnergySelection>,
    max_prompts: Option<usize>,
    concurrency: Option<usize>,
    baseline_s: Option<f64>,
    gpu_control: crate::gpu::ControlChoice,
}

impl Design {
    fn from_args(a: DesignArgs) -> Result<Self> {
        if a.reps == Some(0) {
            bail!("--reps 0: at least one repetition is needed");
        }
        if a.concurrency == Some(0) {
            bail!("--concurrency 0: at least one request must be in flight");
        }
        if a.max_prompts == Some(0) {
            bail!("--max-prompts 0: at least one prompt per task is needed");
        }
        let energy = match a.energy {
            Some(e) => Some(
                e.parse::<EnergySelection>()
                    .map_err(|m| anyhow::anyhow!("--energy {e}: {m}"))?,
            ),
            None => None,
        };
        Ok(Self {
            reps: a.reps,
            endpoint: endpoint(a.endpoint)?,
            prompts: a.prompts,
            seed: a.seed,
            interval_ms: positive("--interval-ms", a.interval_ms, 1.0)?,
            energy,
            max_prompts: a.max_prompts,
            concurrency: a.concurrency,
            baseline_s: positive("--baseline", a.baseline, 0.0)?,
            gpu_control: a
                .fake_gpu_control
                .map_or(crate::gpu::ControlChoice::Nvml, crate::gpu::ControlChoice::Fake),
        })
    }
}

/// Reads a bearer token file for `flag`: its content, surrounding whitespace trimmed.
fn token(flag: &str, path: &std::path::Path) -> Result<String> {
    let bytes = crate::agent::server::read_token(path)
        .map_err(|e| anyhow::anyhow!("{flag} {}: {e:#}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{flag} {}: not UTF-8 text", path.display()))
}

/// `--agent URL` and its options.
fn agent_target(
    url: Option<String>,
    token_file: Option<PathBuf>,
    retry_s: f64,
) -> Result<Option<AgentTarget>> {
    let Some(url) = url else { return Ok(None) };
    let parsed = match reqwest::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
        Ok(_) => bail!("--agent {url}: expected an http:// or https:// URL"),
        Err(e) => bail!("--agent {url}: not a URL ({e})"),
    };
    let retry_s = positive("--agent-retry-s", Some(retry_s), 0.0)?.unwrap_or(600.0);
    Ok(Some(AgentTarget {
        url: parsed,
        token: token_file.map(|p| token("--agent-token-file", &p)).transpose()?,
        retry: Duration::from_secs_f64(retry_s),
        poll: Duration::from_millis(100),
    }))
}

impl CollectOptions {
    fn from_args(a: CollectArgs) -> Result<Self> {
        let d = Design::from_args(a.design)?;
        let only = a
            .only
            .iter()
            .map(|s| OnlyFilter::parse(s))
            .collect::<Result<Vec<_>>>()?;
        let shard = a.shard.as_deref().map(Shard::parse).transpose()?;
        let out = a
            .out
            .unwrap_or_else(|| PathBuf::from(if a.demo { DEMO_OUT } else { DEFAULT_OUT }));
        Ok(Self {
            config: a.config,
            reps: d.reps,
            out,
            endpoint: d.endpoint,
            prompts: d.prompts,
            seed: d.seed,
            cooldown_s: positive("--cooldown", a.cooldown, 0.0)?,
            interval_ms: d.interval_ms,
            energy: d.energy,
            max_prompts: d.max_prompts,
            only,
            shard,
            dry_run: a.dry_run,
            concurrency: d.concurrency,
            baseline_s: d.baseline_s,
            force: a.force,
            demo: a.demo,
            quiet: a.quiet,
            agent: agent_target(a.agent, a.agent_token_file, a.agent_retry_s)?,
            gpu_control: d.gpu_control,
        })
    }
}

impl AgentOptions {
    fn from_args(a: AgentArgs) -> Result<Self> {
        let d = Design::from_args(a.design)?;
        let listen: std::net::SocketAddr = a.listen.parse().map_err(|_| {
            anyhow::anyhow!(
                "--listen {}: expected IP:PORT, e.g. {}",
                a.listen,
                crate::agent::DEFAULT_LISTEN
            )
        })?;
        let fault = match a.fault.as_deref() {
            None => Fault::None,
            Some("drop-fetch") => Fault::DropFetch,
            Some(f) => bail!("--fault {f}: unknown fault (drop-fetch)"),
        };
        Ok(Self {
            collect: CollectOptions {
                config: a.config,
                reps: d.reps,
                out: a.out,
                endpoint: d.endpoint,
                prompts: d.prompts,
                seed: d.seed,
                cooldown_s: None,
                interval_ms: d.interval_ms,
                energy: d.energy,
                max_prompts: d.max_prompts,
                only: Vec::new(),
                shard: None,
                dry_run: false,
                concurrency: d.concurrency,
                baseline_s: d.baseline_s,
                force: false,
                demo: false,
                quiet: true,
                agent: None,
                gpu_control: d.gpu_control,
            },
            listen,
            token_file: a.token_file,
            max_pending_mb: a.max_pending_mb,
            addr_file: a.addr_file,
            fault,
        })
    }
}

impl ProbeOptions {
    fn from_args(a: ProbeArgs) -> Result<Self> {
        let energy = a
            .energy
            .parse::<EnergySelection>()
            .map_err(|m| anyhow::anyhow!("--energy {}: {m}", a.energy))?;
        let interval_ms = positive("--interval-ms", Some(a.interval_ms), 1.0)?.unwrap_or(200.0);
        let seconds = positive("--seconds", Some(a.seconds), 0.0)?.unwrap_or(30.0);
        if seconds * 1000.0 < 2.0 * interval_ms {
            bail!("--seconds {seconds}: the probe must last at least two intervals");
        }
        let counter_interval_ms =
            positive("--counter-interval-ms", Some(a.counter_interval_ms), 0.0)?.unwrap_or(1000.0);
        Ok(Self {
            energy,
            interval_ms,
            seconds,
            counter_interval_ms,
            json: a.json,
        })
    }
}

impl Command {
    /// Validates the parsed command line.
    pub fn from_cli(cli: Cli) -> Result<Self> {
        match cli.command {
            Some(CliCommand::Probe(p)) => Ok(Command::Probe(ProbeOptions::from_args(p)?)),
            Some(CliCommand::FakeServer(f)) => Ok(Command::FakeServer(FakeServerOptions {
                port: f.port,
                models: f.models,
                token_delay: Duration::from_millis(f.token_delay_ms),
                batching: f.batching,
            })),
            Some(CliCommand::Agent(a)) => Ok(Command::Agent(Box::new(AgentOptions::from_args(a)?))),
            None => Ok(Command::Collect(CollectOptions::from_args(cli.collect)?)),
        }
    }
}

/// Shard K of N of a run table: the trials at positions i (their `order`) with i mod N = K, a
/// random slice of the shuffled order that keeps it. Not part of the design: every shard of one
/// design has the same run table, and reading the shards' folders together gives the design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, from 0.
    pub index: u32,
    /// N, at least 1.
    pub count: u32,
}

impl Shard {
    /// Parses `K/N` (0 <= K < N).
    pub fn parse(s: &str) -> Result<Self> {
        let parsed = s
            .split_once('/')
            .and_then(|(k, n)| Some((k.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?)));
        match parsed {
            Some((index, count)) if count > 0 && index < count => Ok(Self { index, count }),
            Some((index, count)) => bail!(
                "--shard {s}: K must be below N (shards are numbered 0 to N-1, as Slurm array and Kubernetes Indexed Job indices are); got K = {index}, N = {count}"
            ),
            None => bail!("--shard {s}: expected K/N, e.g. 0/3 (shard K of N, K from 0)"),
        }
    }

    /// Whether the trial at position `order` of the run table is this shard's.
    pub fn selects(&self, order: i64) -> bool {
        order.rem_euclid(i64::from(self.count)) == i64::from(self.index)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_run_table_by_position() {
        let s = Shard::parse("1/3").unwrap();
        assert_eq!((s.index, s.count, s.to_string()), (1, 3, "1/3".to_string()));
        let picked: Vec<i64> = (0..9).filter(|&i| s.selects(i)).collect();
        assert_eq!(picked, vec![1, 4, 7]);
        assert!(
            Shard::parse("3/3")
                .unwrap_err()
                .to_string()
                .contains("K must be below N")
        );
        assert!(Shard::parse("0/0").is_err());
        assert!(
            Shard::parse("x")
                .unwrap_err()
                .to_string()
                .contains("expected K/N")
        );
    }

    #[test]
    fn only_filters_take_either_part() {
        let f = OnlyFilter::parse("model=a,task=COPA").unwrap();
        assert!(f.matches("a", "COPA") && !f.matches("a", "CB"));
        assert!(OnlyFilter::parse("task=CB").unwrap().matches("x", "CB"));
        assert!(
            OnlyFilter::parse("modle=a")
                .unwrap_err()
                .to_string()
                .contains("--only")
        );
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        assert!(endpoint(Some("http://127.0.0.1:8000".into())).is_ok());
        assert!(endpoint(Some("localhost:8000".into())).is_err());
    }
}
