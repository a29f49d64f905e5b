//! The subcommands: each validates its options, runs its stage and prints what it did.

use crate::audit;
use crate::cli::{AuditArgs, ImportArgs, MetricsArgs, ReportArgs};
use crate::import::{self, ImportOptions};
use crate::load::{self, LoadOptions};
use crate::metrics;
use crate::published;
use crate::questions;
use crate::report;
use anyhow::{Context, Result};
use dataset::Accounting;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn parse_accounting(s: &str) -> Result<Accounting> {
    s.parse::<Accounting>()
        .map_err(|e| anyhow::anyhow!("--accounting: {e}"))
}

fn show_progress(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// `analyze import`.
pub fn import(args: ImportArgs, quiet: bool) -> Result<()> {
    let started = Instant::now();
    let opts = ImportOptions {
        source: args.source,
        out: args.out,
        prompts: args.prompts,
        force: args.force,
        keep_going: args.keep_going,
        progress: show_progress(quiet),
    };
    let summary = import::run(&opts)?;
    for w in &summary.warnings {
        eprintln!("warning: {w}");
    }
    for s in &summary.skipped {
        eprintln!("skipped: {s}");
    }
    println!(
        "imported {} trials ({} requests, {} samples, {} published judgments) into {} in {:.2} s{}",
        summary.trials,
        summary.requests,
        summary.samples,
        summary.judgments,
        opts.out.display(),
        started.elapsed().as_secs_f64(),
        if summary.skipped.is_empty() {
            String::new()
        } else {
            format!("; {} skipped", summary.skipped.len())
        }
    );
    Ok(())
}

/// `analyze metrics`.
pub fn metrics(args: MetricsArgs, quiet: bool) -> Result<()> {
    let accounting = parse_accounting(&args.accounting)?;
    let loaded = load::load(
        &args.data,
        LoadOptions {
            progress: show_progress(quiet),
            ..Default::default()
        },
    )?;
    let rows = metrics::compute(&loaded, accounting);
    let ds = dataset::Dataset::open(&args.data)?;
    ds.write_metrics(accounting, &rows)?;
    let request_rows = metrics::compute_requests(&loaded);
    if !request_rows.is_empty() {
        ds.write_request_metrics(&request_rows)?;
        if let Some(path) = &args.requests_csv {
            let mut df = metrics::request_frame(&request_rows)?;
            metrics::write_csv(&mut df, path)?;
            eprintln!("wrote {} ({} requests)", path.display(), request_rows.len());
        }
    } else if let Some(path) = &args.requests_csv {
        eprintln!(
            "note: {} not written: per-request energy needs millisecond request timestamps (collect's data), the requests here are timed in whole seconds",
            path.display()
        );
    }
    let mut df = metrics::frame(&rows)?;
    match args.csv.as_deref() {
        Some(p) if p == Path::new("-") => {
            use polars::prelude::{CsvWriter, SerWriter};
            CsvWriter::new(std::io::stdout().lock())
                .include_header(true)
                .finish(&mut df)?;
        }
        Some(p) => {
            metrics::write_csv(&mut df, p)?;
            eprintln!(
                "wrote {} ({} trials, {} accounting)",
                p.display(),
                rows.len(),
                accounting.as_str()
            );
        }
        None => {
            let total: f64 = rows.iter().map(|r| r.energy_j).sum();
            let tokens: i64 = rows.iter().map(|r| r.tokens).sum();
            println!(
                "{} trials, {} accounting: {:.1} kJ in all, {:.3} J per generated token; table in {}",
                rows.len(),
                accounting.as_str(),
                total / 1e3,
                if tokens > 0 {
                    total / tokens as f64
                } else {
                    f64::NAN
                },
                ds.metrics_path(accounting).display()
            );
        }
    }
    Ok(())
}

/// Finds the published tables: the flag, else next to the imported source folder.
fn published_tables(
    flag: Option<PathBuf>,
    loaded: &load::Loaded,
) -> Result<Option<published::PublishedTables>> {
    if let Some(dir) = flag {
        return published::read_dir(&dir).map(Some);
    }
    let source = loaded.trials.first().and_then(|t| {
        serde_json::from_str::<serde_json::Value>(&t.trial.provenance)
            .ok()?
            .get("source_dir")?
            .as_str()
            .map(PathBuf::from)
    });
    match source.and_then(|s| published::find_near(&s)) {
        Some(dir) => {
            eprintln!("note: comparing with the published tables in {}", dir.display());
            published::read_dir(&dir).map(Some)
        }
        None => Ok(None),
    }
}

/// `analyze audit`.
pub fn audit(args: AuditArgs, quiet: bool) -> Result<()> {
    let loaded = load::load(
        &args.data,
        LoadOptions {
            text: true,
            all_channels: false,
            progress: show_progress(quiet),
        },
    )?;
    let tables = published_tables(args.published_tables, &loaded)?;
    let result = audit::run(&loaded, tables);
    print!("{}", audit::render_text(&result));
    if let Some(path) = args.csv {
        let mut df = result.frame()?;
        metrics::write_csv(&mut df, &path)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// `analyze [DATA] [--report DIR]`.
pub fn analyze(args: ReportArgs, quiet: bool) -> Result<()> {
    let accounting = parse_accounting(&args.accounting)?;
    let started = Instant::now();
    // Progress: one line per stage with the time since the start.
    let step = |what: String| {
        if !quiet {
            eprintln!("{what} ({:.0} ms)", started.elapsed().as_secs_f64() * 1e3);
        }
    };
    let loaded = load::load(
        &args.data,
        LoadOptions {
            // The report's audit compares responses across repetitions.
            text: args.report.is_some(),
            progress: show_progress(quiet),
            ..Default::default()
        },
    )
    .with_context(|| format!("reading {}", args.data.display()))?;
    step(format!(
        "loaded {} trials from {}",
        loaded.trials.len(),
        args.data.display()
    ));
    let rows = metrics::compute(&loaded, accounting);
    let trials = metrics::frame(&rows)?;
    step(format!("computed the {} accounting", accounting.as_str()));
    let stats_started = Instant::now();
    let tables = questions::compute(&trials, accounting.as_str(), args.seed)?;
    let elapsed = stats_started.elapsed();
    match &args.report {
        Some(dir) => {
            let written = crate::tables::write_all(dir, &trials, &tables)?;
            step(format!(
                "wrote {} tables into {} (statistics took {:.0} ms)",
                written.len(),
                dir.join("tables").display(),
                elapsed.as_secs_f64() * 1e3
            ));
            let published = published_tables(args.published_tables, &loaded)?;
            let audit = audit::run(&loaded, published);
            step("audited the trials".to_string());
            let inputs = report::Inputs {
                loaded: &loaded,
                accounting,
                rows: &rows,
                tables: &tables,
                audit: &audit,
                seed: args.seed,
            };
            let opts = report::Options {
                dir: dir.clone(),
                trace: args.trace,
                png: !args.no_png,
                progress: !quiet,
            };
            let out = report::write(inputs, &opts)?;
            step(format!(
                "wrote the report into {}: index.html ({:.2} MB), summary.md and {} figure files",
                dir.display(),
                out.html_bytes as f64 / 1e6,
                out.files.len().saturating_sub(2),
            ));
        }
        None => {
            print!("{}", crate::tables::summary_text(&tables));
            eprintln!("(pass --report DIR to write every table)");
        }
    }
    Ok(())
}
