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
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Dataset folder
    #[arg(value_name = "DATA", default_value = DEFAULT_DATA)]
    pub data: PathBuf,

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
    /// Dataset folder
    #[arg(value_name = "DATA", default_value = DEFAULT_DATA)]
    pub data: PathBuf,

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
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Dataset folder
    #[arg(value_name = "DATA", default_value = DEFAULT_DATA)]
    pub data: PathBuf,

    /// Folder holding the published GL_Final_Run_Table_{Raw,Edited}.csv to check the replay
    /// against (found next to an imported clone of the published repository when not given)
    #[arg(long, value_name = "DIR")]
    pub published_tables: Option<PathBuf>,

    /// Write the per-trial audit as CSV to FILE
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}
