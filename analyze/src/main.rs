//! `analyze`: import, metrics, audit, synth and the statistics report. This file is the whole
//! pipeline at a glance; each stage lives in its own module.

use analyze::cli::{Cli, Command};
use analyze::{commands, exit_code_for};
use clap::Parser;

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
