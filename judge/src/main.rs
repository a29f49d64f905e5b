//! `judge`: adds gold-label and LLM-judge scores to a dataset. The pipeline is
//! [`judge::run`]; this file only parses the command line and reports errors.

use clap::Parser;
use judge::cli::Cli;
use judge::options::Options;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = Options::from_cli(cli, |k| std::env::var(k).ok()).and_then(|opts| judge::run(&opts));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if dataset::is_broken_pipe(err.as_ref()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("judge: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
