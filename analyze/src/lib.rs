//! The `analyze` library: everything the `analyze` binary does, as modules its tests and
//! benchmarks can call. `analyze` reads datasets and writes tables and reports; it never does
//! network I/O.

pub mod audit;
pub mod cli;
pub mod commands;
pub mod csv_table;
pub mod import;
pub mod model;
pub mod published;
pub mod questions;
pub mod report;
pub mod stats;
pub mod synth;
pub mod tables;

/// Prints an error chain to stderr and picks the exit code (a closed pipe is not an error).
pub fn exit_code_for(err: &anyhow::Error) -> i32 {
    if dataset::is_broken_pipe(err.as_ref()) {
        return 0;
    }
    eprintln!("error: {err:#}");
    1
}
