//! The command line, described for clap and nothing else; [`crate::options`] turns it into typed,
//! validated options.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Default experiment config.
pub const DEFAULT_CONFIG: &str = "experiments/llama_profiling.toml";
/// Default dataset folder.
pub const DEFAULT_OUT: &str = "data/llama_profiling";
/// Default dataset folder of `collect agent`.
pub const DEFAULT_AGENT_OUT: &str = "data/agent";
/// Default dataset folder of `--demo`.
pub const DEMO_OUT: &str = "data/demo";

#[derive(Debug, Parser)]
#[command(
    name = "collect",
    version,
    about = "Run repeated (model x task) LLM inference trials against an OpenAI-compatible endpoint while sampling energy",
    long_about = "Run repeated (model x task) LLM inference trials against an OpenAI-compatible endpoint while \
sampling energy, and write them as a dataset (see docs/dataset.md).\n\n\
Try it without a GPU or a server:\n  collect --demo\n\n\
Plan the published study, then run it against a vLLM endpoint:\n  \
collect --dry-run\n  \
collect --endpoint http://127.0.0.1:8000 --prompts ../shared/datasets/greenlab-angels-2025/prompts\n\n\
A stopped run resumes where it left off when started again with the same options; a committed \
trial whose files are damaged (a truncated or missing Parquet file) is measured again, its damaged \
files moved to DATA/damaged/.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub collect: CollectArgs,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    /// Sample the energy sources for a while without any endpoint and compare the GPU energy
    /// counter with integrated power (validation of the instrument)
    Probe(ProbeArgs),
    /// Run on a GPU testbed: serve whole trials of this config to an orchestrator
    /// (`collect --agent URL` elsewhere) over a small HTTP API; see docs/agent.md
    Agent(AgentArgs),
    /// Serve the in-process fake OpenAI-compatible server on a loopback port until killed (for
    /// testing serve templates)
    #[command(hide = true)]
    FakeServer(FakeServerArgs),
}

#[derive(Debug, Args)]
#[command(
    long_about = "Run on a GPU testbed: serve whole trials of this config to an orchestrator \
(`collect --agent URL` on another machine) over a small JSON HTTP API (/v1/...).\n\n\
The agent owns the energy sources and the model servers: only the models of its own config can \
be started, from its own serve templates. The orchestrator's design (config, prompts, \
repetitions, seed) must be the agent's; it is refused otherwise, naming what differs. \
Committed trials stay in --out until the orchestrator confirms it has them.\n\n\
It listens on loopback by default; a non-loopback --listen needs --token-file. Put it behind \
TLS (a reverse proxy) or reach it through an SSH tunnel: docs/agent.md.\n\n\
  collect agent --config experiments/llama_profiling.toml --token-file ~/.config/llm-energy/agent.token"
)]
pub struct AgentArgs {
    /// Address to listen on (loopback unless a token is given)
    #[arg(long, value_name = "ADDR", default_value = crate::agent::DEFAULT_LISTEN)]
    pub listen: String,

    /// File holding the bearer token the orchestrator must send (never pass it on the command
    /// line); at least 16 characters
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// Experiment config (TOML): the design, models, serve templates, energy settings
    #[arg(long, value_name = "FILE", default_value = DEFAULT_CONFIG)]
    pub config: PathBuf,

    /// The agent's own dataset folder, where trials wait until the orchestrator confirms them
    #[arg(long, value_name = "DATA", default_value = DEFAULT_AGENT_OUT)]
    pub out: PathBuf,

    /// Refuse new jobs while committed, unconfirmed trials take more than this, MB
    #[arg(long, value_name = "MB", default_value_t = 4096)]
    pub max_pending_mb: u64,

    #[command(flatten)]
    pub design: DesignArgs,

    /// Write the address listened on to FILE (useful with --listen 127.0.0.1:0)
    #[arg(long, value_name = "FILE", hide = true)]
    pub addr_file: Option<PathBuf>,

    /// Inject a fault (tests): drop-fetch
    #[arg(long, value_name = "FAULT", hide = true)]
    pub fault: Option<String>,
}

/// The settings a local run and an agent share (their overrides of the config).
#[derive(Debug, Args)]
pub struct DesignArgs {
    /// Repetitions per (model, task) treatment (overrides the config)
    #[arg(long, value_name = "N")]
    pub reps: Option<u32>,

    /// Base URL of an OpenAI-compatible server serving every model (overrides the config)
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,

    /// Folder of <Task>.jsonl prompt files (overrides the config)
    #[arg(long, value_name = "DIR")]
    pub prompts: Option<PathBuf>,

    /// Shuffle seed of the run order (overrides the config)
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,

    /// Energy sampling interval, milliseconds (overrides the config)
    #[arg(long, value_name = "MS")]
    pub interval_ms: Option<f64>,

    /// Energy sources: auto, or a comma-separated list of nvml, rapl, procfs, energibridge, fake
    #[arg(long, value_name = "SOURCES")]
    pub energy: Option<String>,

    /// Send only the first N prompts of each task (changes the design)
    #[arg(long, value_name = "N")]
    pub max_prompts: Option<usize>,

    /// Requests in flight at once within a trial (changes the design)
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// Idle baseline measured before each trial, seconds; 0 = none
    #[arg(long, value_name = "SECS")]
    pub baseline: Option<f64>,

    /// Set GPU power limits and clocks on the fake GPU of FILE instead of through NVML (tests)
    #[arg(long, value_name = "FILE", hide = true)]
    pub fake_gpu_control: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FakeServerArgs {
    /// Loopback port
    #[arg(long)]
    pub port: u16,

    /// Model ids to list in /v1/models (repeatable)
    #[arg(long = "model")]
    pub models: Vec<String>,

    /// Delay between tokens, ms
    #[arg(long, default_value_t = 1)]
    pub token_delay_ms: u64,

    /// Serve in forward steps that batch every request in flight, with an exact energy ledger
    /// at /fake/energy that `--energy fake` follows (docs/accounting.md)
    #[arg(long)]
    pub batching: bool,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Experiment config (TOML)
    #[arg(long, value_name = "FILE", default_value = DEFAULT_CONFIG)]
    pub config: PathBuf,

    #[command(flatten)]
    pub design: DesignArgs,

    /// Dataset folder [default: data/llama_profiling, data/demo with --demo]
    #[arg(long, value_name = "DATA")]
    pub out: Option<PathBuf>,

    /// Pause after each trial, seconds (overrides the config)
    #[arg(long, value_name = "SECS")]
    pub cooldown: Option<f64>,

    /// Run only the planned trials of one model and/or task now (repeatable)
    #[arg(long, value_name = "model=M,task=T")]
    pub only: Vec<String>,

    /// Run only shard K of N (K from 0): trial i of the shuffled run table when i mod N = K,
    /// as a Slurm array or Kubernetes Indexed Job index gives it; one dataset folder per shard
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,

    /// Run every trial on a testbed agent (`collect agent` there) instead of here; this
    /// machine keeps the dataset (docs/agent.md)
    #[arg(long, value_name = "URL", conflicts_with_all = ["demo", "endpoint", "energy"])]
    pub agent: Option<String>,

    /// File holding the agent's bearer token
    #[arg(long, value_name = "FILE", requires = "agent")]
    pub agent_token_file: Option<PathBuf>,

    /// Keep trying an agent that does not answer for this long before giving up, seconds
    #[arg(long, value_name = "SECS", default_value_t = 600.0, requires = "agent")]
    pub agent_retry_s: f64,

    /// Print the plan (trial count, order, estimated duration) and exit
    #[arg(long)]
    pub dry_run: bool,

    /// Replace a dataset whose design differs (or that collect did not create)
    #[arg(long)]
    pub force: bool,

    /// Run a small built-in design against an in-process fake server with scripted energy
    /// (simulated data, no GPU or network needed)
    #[arg(long, conflicts_with_all = ["config", "endpoint", "prompts", "energy"])]
    pub demo: bool,

    /// No progress bar and no per-trial lines
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Energy sources to sample
    #[arg(long, value_name = "SOURCES", default_value = "nvml")]
    pub energy: String,

    /// Sampling interval, milliseconds
    #[arg(long, value_name = "MS", default_value_t = 200.0)]
    pub interval_ms: f64,

    /// How long to sample, seconds
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub seconds: f64,

    /// Least time between two reads of the NVML energy counter, milliseconds; 0 = every sample
    #[arg(long, value_name = "MS", default_value_t = 1000.0)]
    pub counter_interval_ms: f64,

    /// Also write the figures as JSON to FILE
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}
