//! The command line, described for clap and nothing else; `main.rs` turns it into typed options.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Default dataset location, shared by every subcommand.
pub const DEFAULT_DATA: &str = "data/llama_profiling";

#[derive(Debug, Parser)]
#[command(
    name = "analyze",
    version,
    about = "Turn LLM inference energy logs into metrics, statistics and a report",
    long_about = "Turn LLM inference energy logs into metrics, statistics and a report.\n\n\
Without a subcommand, analyze reads DATA (default data/llama_profiling), computes the per-trial \
metrics under the chosen accounting, runs the statistics of the study's research questions and, \
with --report DIR, writes tables (and the report) into DIR.\n\n\
Replay the published study:\n  \
analyze import path/to/greenlab-angels-2025/experiments/llama_profiling --prompts path/to/prompts\n  \
analyze audit\n  \
analyze metrics --accounting published --csv published.csv\n  \
analyze --report reports/greenlab-angels-2025"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Hide progress bars.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import a published-layout experiment folder (run_table.csv + run_<R>_repetition_<K>/)
    Import(ImportArgs),
    /// Per-trial energy, duration, tokens, energy per token, power and accuracy
    Metrics(MetricsArgs),
    /// Data-quality audit: accounting differences, RAPL wraps, gaps, repeated responses
    Audit(AuditArgs),
    /// Write a simulated study of any size whose energy is known in closed form (benchmarks)
    #[command(long_about = SYNTH_ABOUT)]
    Synth(SynthArgs),
}

const SYNTH_ABOUT: &str = "Write a simulated study of any size, shaped as collect writes one, whose \
corrected energy is known in closed form: to benchmark (and check) the analysis at scale without \
the published data.\n\n\
Design: the published study's 5 model configurations (Llama 2 7B, 3 8B, 3.1 8B, 3.2 1B, 3.2 3B) \
x 6 tasks = 30 treatments, each repeated ceil(N / 30) times, so a --trials N that is not a \
multiple of 30 is rounded up to whole repetitions (N = 1000 writes 34 x 30 = 1020 trials). The \
trials run in one shuffled order on one simulated machine; each is its own part \
trials/<run_id>/ (as collect commits them), written and dropped in turn, so memory does not grow \
with the samples. The dataset is staged next to DIR and renamed into place when complete.\n\n\
Each trial: an idle baseline, then M samples (GPU0_POWER, the GPU0_ENERGY counter about once a \
second, RAPL PACKAGE_ENERGY and DRAM_ENERGY counters that wrap, and channels the accounting \
ignores) and R requests sent one after another inside them. During the samples the powers are \
constant (per model and task, +-4 % per trial) and every counter is their exact integral, so with \
D = last request end - first request start the corrected accounting must give \
gpu_j = P_gpu * D, cpu_j = P_cpu * D, dram_j = P_dram * D and baseline_power_w = the idle powers' \
sum. The totals are printed; --expected FILE writes them per trial.\n\n\
Everything is marked simulated (manifest and every trial; the report shows a banner), and the \
same options write the same bytes.\n\n\
Example:\n  analyze synth --trials 1000 --samples-per-trial 1000 --out /tmp/synth-1k\n  \
analyze metrics /tmp/synth-1k --csv -";

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Dataset folder; several (shards of one design, `collect --shard K/N`) are read as one
    /// study
    #[arg(value_name = "DATA", default_value = DEFAULT_DATA, num_args = 1..)]
    pub data: Vec<PathBuf>,

    /// Energy accounting: `corrected` (what the samples support) or `published` (the study's
    /// exact procedure, defects included)
    #[arg(long, default_value = "corrected", value_name = "ACCOUNTING")]
    pub accounting: String,

    /// Write the tables (and report) into this folder; only analyze's own files are written
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,

    /// Trial whose power trace the report shows (default: the median-energy trial)
    #[arg(long, value_name = "RUN_ID")]
    pub trace: Option<String>,

    /// Folder holding the published GL_Final_Run_Table_{Raw,Edited}.csv (found next to an
    /// imported clone of the published repository when not given)
    #[arg(long, value_name = "DIR")]
    pub published_tables: Option<PathBuf>,

    /// Seed of the bootstrap confidence intervals
    #[arg(long, default_value_t = 20250101)]
    pub seed: u64,

    /// Write only the SVG figures, not their PNG copies
    #[arg(long)]
    pub no_png: bool,
    /// Go on without the trials whose files cannot be read (a truncated or missing Parquet
    /// file) instead of failing; they are named on stderr and in a banner of the report, with
    /// the repetitions each treatment has left. Without it, every damaged file is listed and
    /// nothing is written
    #[arg(long)]
    pub skip_damaged: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Experiment folder: run_table.csv plus one run_<R>_repetition_<K>/ folder per trial
    /// (energibridge.csv or energibridge.csv.gz, energibridge-summary.txt, prompts_out.tsv); a
    /// clone of the published repository works too
    #[arg(value_name = "DIR")]
    pub source: PathBuf,

    /// Dataset folder to create
    #[arg(long, value_name = "DATA", default_value = DEFAULT_DATA)]
    pub out: PathBuf,

    /// Folder of <Task>.jsonl prompt files: attaches task item ids and gold labels (rows map to
    /// prompts by order)
    #[arg(long, value_name = "DIR")]
    pub prompts: Option<PathBuf>,

    /// Replace an existing dataset at --out
    #[arg(long)]
    pub force: bool,

    /// Skip unreadable trials with a warning instead of failing
    #[arg(long)]
    pub keep_going: bool,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Dataset folder; several (shards of one design, `collect --shard K/N`) are read as one
    /// study
    #[arg(value_name = "DATA", default_value = DEFAULT_DATA, num_args = 1..)]
    pub data: Vec<PathBuf>,

    /// `corrected` or `published`
    #[arg(long, default_value = "corrected", value_name = "ACCOUNTING")]
    pub accounting: String,

    /// Also write the table as CSV to FILE (`-` for standard output)
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,

    /// Also write the energy of every request as CSV to FILE (data from collect only: it
    /// needs millisecond request timestamps)
    #[arg(long, value_name = "FILE")]
    pub requests_csv: Option<PathBuf>,
    /// Go on without the trials whose files cannot be read (a truncated or missing Parquet
    /// file) instead of failing; they are named on stderr, with the repetitions each
    /// treatment has left. Without it, every damaged file is listed and nothing is written
    #[arg(long)]
    pub skip_damaged: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Dataset folder; several (shards of one design, `collect --shard K/N`) are read as one
    /// study
    #[arg(value_name = "DATA", default_value = DEFAULT_DATA, num_args = 1..)]
    pub data: Vec<PathBuf>,

    /// Folder holding the published GL_Final_Run_Table_{Raw,Edited}.csv to check the replay
    /// against (found next to an imported clone of the published repository when not given)
    #[arg(long, value_name = "DIR")]
    pub published_tables: Option<PathBuf>,

    /// Write the per-trial audit as CSV to FILE
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Go on without the trials whose files cannot be read (a truncated or missing Parquet
    /// file) instead of failing; the audit names them, with the repetitions each treatment has
    /// left. Without it, every damaged file is listed and nothing is written
    #[arg(long)]
    pub skip_damaged: bool,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Trials to write, at least: rounded up to whole repetitions of the 30 treatments
    #[arg(long, value_name = "N")]
    pub trials: usize,

    /// Energy samples in each trial's window (the idle baseline comes on top)
    #[arg(long, value_name = "M", default_value_t = 1000)]
    pub samples_per_trial: usize,

    /// Dataset folder to create
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Seed of the execution order and of every trial's powers, speeds and timings
    #[arg(long, value_name = "S", default_value_t = 2025)]
    pub seed: u64,

    /// Requests sent (one after another) in each trial
    #[arg(long, value_name = "R", default_value_t = 10)]
    pub requests_per_trial: usize,

    /// Sampling interval, ms
    #[arg(long, value_name = "MS", default_value_t = 200)]
    pub interval_ms: i64,

    /// Idle baseline samples before each trial (0 = no baseline)
    #[arg(long, value_name = "B", default_value_t = 10)]
    pub baseline_samples: usize,

    /// Load levels: each model × task runs at each of these concurrencies (closed loop, the
    /// requests sent in waves of that many at once), e.g. 1,8,32; none: one request at a time
    #[arg(long, value_name = "C,...", value_delimiter = ',')]
    pub concurrency: Vec<i64>,

    /// Also write every trial's known totals as CSV to FILE
    #[arg(long, value_name = "FILE")]
    pub expected: Option<PathBuf>,

    /// Replace an existing dataset at --out
    #[arg(long)]
    pub force: bool,
}
