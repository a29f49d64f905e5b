//! The command line as clap sees it: names, help texts and raw values. Nothing else in the crate
//! imports clap; [`crate::options::Options::from_cli`] validates these strings into typed
//! options.

use clap::Parser;
use std::path::PathBuf;

/// Adds gold-label and LLM-judge scores to a dataset.
///
/// The gold scorer runs whenever gold labels are available (attached at import, or from
/// `--prompts DIR`); the LLM judge runs when an endpoint and a model are given, by flags or by
/// the `[judge]` table of a config file (flags win). Judgments are written to
/// `DATA/judgments/<scorer>.parquet`, merged with the rows already there.
#[derive(Debug, Parser)]
#[command(name = "judge", version, about, long_about)]
pub struct Cli {
    /// Dataset folders (shards of one collection, say), or folders whose subfolders are
    /// datasets (each holding a `dataset.json`); every one is judged, into its own judgments.
    #[arg(value_name = "DATA", default_value = "data/llama_profiling", num_args = 1..)]
    pub data: Vec<PathBuf>,

    /// Folder of `<Task>.jsonl` prompt files (`idx`, `prompt`, `label`); row i gives the gold
    /// label of request i of every trial of that task, overriding labels attached at import.
    #[arg(long, value_name = "DIR")]
    pub prompts: Option<PathBuf>,

    /// TOML file whose `[judge]` table sets any of `endpoint`, `model`, `rubric`, `sample`,
    /// `seed`, `jobs`, `rps`, `api_key_env`, `retries`, `timeout_s`, `max_tokens`, `prompts`,
    /// `cache_dir` (paths relative to the file); other tables are ignored, so an experiment
    /// config can carry it. Default: `experiments/llama_profiling.toml` when it exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Require the gold scorer: fail when no gold label is available (it always runs when
    /// labels are available; it makes no network call).
    #[arg(long)]
    pub gold: bool,

    /// OpenAI-compatible endpoint of the LLM judge (`http://host:port`, `.../v1` or
    /// `.../v1/chat/completions`).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,

    /// Model name sent to the endpoint; part of the scorer name `judge:<model>:<rubric>`.
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,

    /// What the LLM judge scores: `relevancy` (answer relevancy, as the study) or
    /// `correctness` (agreement with the gold label) [default: relevancy].
    #[arg(long, value_name = "RUBRIC")]
    pub rubric: Option<String>,

    /// Judge K seeded-random requests per trial instead of all (the study used 5).
    #[arg(long, value_name = "K")]
    pub sample: Option<String>,

    /// Seed of the `--sample` selection (ChaCha8; the same seed picks the same requests, and a
    /// larger K extends a smaller one) [default: 0].
    #[arg(long, value_name = "S")]
    pub seed: Option<String>,

    /// Judge calls in flight at once [default: 4].
    #[arg(long, value_name = "N")]
    pub jobs: Option<String>,

    /// At most R requests per second to the endpoint (retries included); unlimited by default.
    #[arg(long, value_name = "R")]
    pub rps: Option<String>,

    /// Environment variable holding the API key (default `OPENAI_API_KEY`, optional). The key
    /// is sent as a bearer token, never printed or stored.
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,

    /// Retries of one call after a 429, a 5xx, a timeout or a connection error, with
    /// exponential backoff [default: 4].
    #[arg(long, value_name = "N")]
    pub retries: Option<String>,

    /// Timeout of one call, in seconds [default: 120].
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<String>,

    /// Most tokens the judge may generate per call [default: 1024].
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<String>,

    /// Judge cache folder (default `DATA/.judge-cache`).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Ask the judge again where the cache holds a failure (a malformed answer).
    #[arg(long)]
    pub retry_failed: bool,

    /// Go on without the trials whose files cannot be read (a truncated or missing
    /// `trial.parquet` or `requests.parquet`) instead of failing; they are named on stderr with
    /// the repetitions each treatment has left, and their stored judgments are kept. Without
    /// it, every damaged file is listed and nothing is judged.
    #[arg(long)]
    pub skip_damaged: bool,

    /// First backoff delay in milliseconds (doubles per retry); for tests.
    #[arg(long, value_name = "MS", default_value = "500", hide = true)]
    pub backoff_ms: String,

    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}
