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

/// Keeps the memory freed from now on for reuse instead of handing it back to the operating
/// system after mimalloc's purge delay, for a stage whose working set is bounded and recycled
/// (the import: a part per thread, read, written, dropped, then the next). Handed back, each
/// part's buffers came back as fresh pages the kernel had to zero again: 4,400 page faults and
/// an eighth of the import's CPU time in `clear_page` for 900 trials, against 440 faults kept.
/// [`release_freed_memory`] still returns what is free when asked.
#[allow(unsafe_code)]
pub fn keep_freed_memory() {
    // mimalloc.h (v2 and v3): `mi_option_purge_delay`, the 16th option; -1 means never purge.
    // libmimalloc-sys names the options before and after it but not this one.
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: `mi_option_set` takes no pointer and only stores the option's value; mimalloc
    // reads it when it next considers purging.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

/// Prints an error chain to stderr and picks the exit code (a closed pipe is not an error).
pub fn exit_code_for(err: &anyhow::Error) -> i32 {
    if dataset::is_broken_pipe(err.as_ref()) {
        return 0;
    }
    eprintln!("error: {err:#}");
    1
}
