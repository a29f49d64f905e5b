//! The `analyze` library: everything the `analyze` binary does, as modules its tests and
//! benchmarks can call. `analyze` reads datasets and writes tables and reports; it never does
//! network I/O.

pub mod audit;
pub mod cli;
pub mod commands;
pub mod import;
pub mod model;
pub mod published;
pub mod questions;
pub mod report;
pub mod stats;
pub mod tables;

/// Prints an error chain to stderr and picks the exit code (a closed pipe is not an error).
pub fn exit_code_for(err: &anyhow::Error) -> i32 {
    let broken_pipe = err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    });
    if broken_pipe {
        return 0;
    }
    eprintln!("error: {err:#}");
    1
}
