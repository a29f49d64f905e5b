//! `collect`: parse the command line, validate it, run the collection (or its plan, or the
//! probe). Errors go to stderr with their causes; the exit code says what happened.

use clap::Parser;
use collect::cli::Cli;
use collect::options::Command;

fn main() {
    let cli = Cli::parse();
    let code = match Command::from_cli(cli).and_then(collect::app::run) {
        Ok(code) => code,
        Err(err) if dataset::is_broken_pipe(err.as_ref()) => 0,
        Err(err) => {
            eprintln!("collect: error: {err:#}");
            1
        }
    };
    std::process::exit(code);
}
