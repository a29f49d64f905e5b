//! The command line, described for clap and nothing else; [`crate::options`] turns it into typed,
//! validated options.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Default experiment config.
pub const DEFAULT_CONFIG: &str = "experiments/llama_profiling.toml";
/// Default dataset folder.
pub const DEFAULT_OUT: &str = "data/llama_profiling";
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
pub enum Command {
    /// Sample the energy sources for a while without any endpoint and compare the GPU energy
    /// counter with integrated power (validation of the instrument)
    Probe(ProbeArgs),
    /// Serve the in-process fake OpenAI-compatible server on a loopback port until killed (for
    /// testing serve templates)
    #[command(hide = true)]
    FakeServer(FakeServerArgs),
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
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Experiment config (TOML)
    #[arg(long, value_name = "FILE", default_value = DEFAULT_CONFIG, conflicts_with = "demo")]
    pub config: PathBuf,

    /// Repetitions per (model, task) treatment (overrides the config)
    #[arg(long, value_name = "N")]
    pub reps: Option<u32>,

    /// Dataset folder [default: data/llama_profiling, data/demo with --demo]
    #[arg(long, value_name = "DATA")]
    pub out: Option<PathBuf>,

    /// Base URL of an OpenAI-compatible server serving every model (overrides the config)
    #[arg(long, value_name = "URL", conflicts_with = "demo")]
    pub endpoint: Option<String>,

    /// Folder of <Task>.jsonl prompt files (overrides the config)
    #[arg(long, value_name = "DIR", conflicts_with = "demo")]
    pub prompts: Option<PathBuf>,

    /// Shuffle seed of the run order (overrides the config)
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,

    /// Pause after each trial, seconds (overrides the config)
    #[arg(long, value_name = "SECS")]
    pub cooldown: Option<f64>,

    /// Energy sampling interval, milliseconds (overrides the config)
    #[arg(long, value_name = "MS")]
    pub interval_ms: Option<f64>,

    /// Energy sources: auto, or a comma-separated list of nvml, rapl, procfs, energibridge, fake
    #[arg(long, value_name = "SOURCES", conflicts_with = "demo")]
    pub energy: Option<String>,

    /// Send only the first N prompts of each task (changes the design)
    #[arg(long, value_name = "N")]
    pub max_prompts: Option<usize>,

    /// Run only the planned trials of one model and/or task now (repeatable)
    #[arg(long, value_name = "model=M,task=T")]
    pub only: Vec<String>,

    /// Run only shard K of N (K from 0): trial i of the shuffled run table when i mod N = K,
    /// as a Slurm array or Kubernetes Indexed Job index gives it; one dataset folder per shard
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,

    /// Print the plan (trial count, order, estimated duration) and exit
    #[arg(long)]
    pub dry_run: bool,

    /// Requests in flight at once within a trial (changes the design)
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// Idle baseline measured before each trial, seconds; 0 = none
    #[arg(long, value_name = "SECS")]
    pub baseline: Option<f64>,

    /// Replace a dataset whose design differs (or that collect did not create)
    #[arg(long)]
    pub force: bool,

    /// Run a small built-in design against an in-process fake server with scripted energy
    /// (simulated data, no GPU or network needed)
    #[arg(long)]
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
