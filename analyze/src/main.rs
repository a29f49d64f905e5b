//! `analyze`: import, metrics, audit, synth and the statistics report. This file is the whole
//! pipeline at a glance; each stage lives in its own module.

use analyze::cli::{Cli, Command};
use analyze::{commands, exit_code_for};
use clap::Parser;

// mimalloc rather than glibc's allocator: reading a study allocates millions of small rows from
// several threads, where glibc's per-thread arenas held up to 1.6 times the live heap as
// resident memory and malloc/free took a quarter of the CPU time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Import(args)) => commands::import(args, cli.quiet),
        Some(Command::Metrics(args)) => commands::metrics(args, cli.quiet),
        Some(Command::Audit(args)) => commands::audit(args, cli.quiet),
        Some(Command::Synth(args)) => commands::synth(args, cli.quiet),
        None => commands::analyze(cli.report, cli.quiet),
    };
    if let Err(err) = result {
        std::process::exit(exit_code_for(&err));
    }
}
