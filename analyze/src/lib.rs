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

/// Hands the memory freed so far back to the operating system, at the end of a stage.
///
/// mimalloc (the binary's allocator) keeps freed pages for about a second, and those of idle
/// worker threads longer, to reuse them; between the stages of a large study (loading, the
/// statistics, the tables, the report) each stage's temporary data would then stay resident
/// under the next one's: 100,000 trials peaked at some 430 MB resident for 280 MB live. A
/// few calls per run cost a few milliseconds each. Harmless where another allocator is global
/// (tests): mimalloc then holds nothing to return.
#[allow(unsafe_code)]
pub fn release_freed_memory() {
    // SAFETY: `mi_collect` takes no pointer and touches only mimalloc's own bookkeeping; it may
    // be called from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// Prints an error chain to stderr and picks the exit code (a closed pipe is not an error).
pub fn exit_code_for(err: &anyhow::Error) -> i32 {
    if dataset::is_broken_pipe(err.as_ref()) {
        return 0;
    }
    eprintln!("error: {err:#}");
    1
}
