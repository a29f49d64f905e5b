//! The subcommands: each validates its options, builds the one analysis model ([`Study`]) it
//! needs, runs its stage and prints what it did.

use crate::audit;
use crate::cli::{AuditArgs, ImportArgs, MetricsArgs, ReportArgs, SynthArgs};
use crate::import::{self, ImportOptions};
use crate::model::{BuildOptions, Study};
use crate::questions;
use crate::report;
use crate::synth::{self, SynthOptions};
use anyhow::{Context, Result};
use dataset::tables::{CsvStream, TableStream, write_csv, write_csv_file};
use dataset::{Accounting, MetricsRow, RequestMetricsRow};
use std::collections::HashMap;
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

/// Names on stderr the trials left out under `--skip-damaged` (as `analyze import
/// --keep-going` names its skipped trials) and the repetitions each treatment has left.
fn warn_damage(study: &Study) {
    for line in study.damage_lines() {
        eprintln!("{line}");
    }
}

/// `; 2 damaged trials skipped` for a summary line, empty when nothing was skipped.
fn skipped_note(study: &Study) -> String {
    if study.damage.is_empty() {
        return String::new();
    }
    let n = study.damage.trials().len();
    format!("; {n} damaged trial{} skipped", if n == 1 { "" } else { "s" })
}

/// `analyze import`.
pub fn import(args: ImportArgs, quiet: bool) -> Result<()> {
    let started = Instant::now();
    crate::keep_freed_memory();
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

/// The dataset folders, as messages name them.
fn folder_list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `analyze metrics`.
pub fn metrics(args: MetricsArgs, quiet: bool) -> Result<()> {
    let accounting = parse_accounting(&args.accounting)?;
    let datasets = args
        .data
        .iter()
        .map(dataset::Dataset::open)
        .collect::<Result<Vec<_>, _>>()?;
    // Which dataset holds each trial, when several are read as one: each gets the derived
    // tables of its own trials.
    let owner: HashMap<String, usize> = if datasets.len() > 1 {
        let mut owner = HashMap::new();
        for (d, ds) in datasets.iter().enumerate() {
            for id in ds.trial_ids()? {
                owner.insert(id, d);
            }
        }
        owner
    } else {
        HashMap::new()
    };
    let owner_of = |run_id: &str| owner.get(run_id).copied().unwrap_or(0);
    // The per-request energies stream to their files part by part as the study is read (a
    // study of 100,000 trials has a million of them); nothing is written when no trial has
    // millisecond request timestamps.
    let mut parquet: Vec<Option<TableStream<RequestMetricsRow>>> = datasets.iter().map(|_| None).collect();
    let mut csv: Option<CsvStream<RequestMetricsRow>> = None;
    let mut any_requests = false;
    let study = Study::build_all(
        &args.data,
        &BuildOptions {
            accounting,
            progress: show_progress(quiet),
            skip_damaged: args.skip_damaged,
            requests: true,
            ..Default::default()
        },
        &mut |rows| {
            if !any_requests {
                any_requests = true;
                if let Some(path) = &args.requests_csv {
                    csv = Some(CsvStream::create(path)?);
                }
            }
            // One trial's requests at a time: all of them belong to one dataset.
            let d = rows.first().map_or(0, |r| owner_of(&r.run_id));
            let p = match parquet[d].as_mut() {
                Some(p) => p,
                None => parquet[d].insert(TableStream::create(&datasets[d].request_metrics_path())?),
            };
            p.write(&rows)?;
            if let Some(c) = csv.as_mut() {
                c.write(&rows)?;
            }
            Ok(())
        },
    )?;
    warn_damage(&study);
    for (d, ds) in datasets.iter().enumerate() {
        if datasets.len() == 1 {
            ds.write_metrics(accounting, &study.metrics)?;
        } else {
            let own: Vec<MetricsRow> = study
                .metrics
                .iter()
                .filter(|m| owner_of(&m.key.run_id) == d)
                .cloned()
                .collect();
            ds.write_metrics(accounting, &own)?;
        }
    }
    let ds = &datasets[0];
    let mut written = 0;
    for p in parquet.into_iter().flatten() {
        written += p.finish()?;
    }
    if any_requests {
        if let (Some(c), Some(path)) = (csv, &args.requests_csv) {
            c.finish()?;
            eprintln!("wrote {} ({written} requests)", path.display());
        }
    } else if let Some(path) = &args.requests_csv {
        eprintln!(
            "note: {} not written: per-request energy needs millisecond request timestamps (collect's data), the requests here are timed in whole seconds",
            path.display()
        );
    }
    let rows = &study.metrics;
    match args.csv.as_deref() {
        Some(p) if p == Path::new("-") => {
            write_csv::<MetricsRow>(rows, &mut std::io::stdout().lock()).context("writing CSV to stdout")?;
        }
        Some(p) => {
            write_csv_file::<MetricsRow>(p, rows)?;
            eprintln!(
                "wrote {} ({} trials, {} accounting{})",
                p.display(),
                rows.len(),
                accounting.as_str(),
                skipped_note(&study)
            );
        }
        None => {
            let total: f64 = rows.iter().filter_map(|r| r.energy_j).sum();
            let tokens: i64 = rows.iter().map(|r| r.tokens).sum();
            println!(
                "{} trials, {} accounting: {:.1} kJ in all, {:.3} J per generated token; table in {}{}",
                rows.len(),
                accounting.as_str(),
                total / 1e3,
                if tokens > 0 {
                    total / tokens as f64
                } else {
                    f64::NAN
                },
                if datasets.len() == 1 {
                    ds.metrics_path(accounting).display().to_string()
                } else {
                    format!("derived/ of each of the {} datasets", datasets.len())
                },
                skipped_note(&study)
            );
        }
    }
    Ok(())
}

/// `analyze audit`.
pub fn audit(args: AuditArgs, quiet: bool) -> Result<()> {
    let study = Study::build_all(
        &args.data,
        &BuildOptions {
            audit: true,
            published_tables: args.published_tables,
            progress: show_progress(quiet),
            skip_damaged: args.skip_damaged,
            ..Default::default()
        },
        &mut |_| Ok(()),
    )?;
    let result = study.audit.as_ref().context("the audit was not computed")?;
    print!("{}", audit::render_text(result));
    if let Some(path) = args.csv {
        let serving: HashMap<&str, &crate::model::Serving> = study
            .metrics
            .iter()
            .zip(study.serving.iter())
            .map(|(m, s)| (m.key.run_id.as_str(), s))
            .collect();
        write_csv_file(&path, &result.records_with(&serving))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// `analyze synth`.
pub fn synth(args: SynthArgs, quiet: bool) -> Result<()> {
    let started = Instant::now();
    let opts = SynthOptions {
        out: args.out,
        trials: args.trials,
        samples_per_trial: args.samples_per_trial,
        requests_per_trial: args.requests_per_trial,
        interval_ms: args.interval_ms,
        baseline_samples: args.baseline_samples,
        concurrency: args.concurrency,
        seed: args.seed,
        force: args.force,
        progress: show_progress(quiet),
    };
    let summary = synth::run(&opts)?;
    let n = summary.trials();
    if n != summary.requested {
        println!(
            "note: {} trials asked for is not a multiple of the {} treatments: rounded up to {} repetitions each, {n} trials",
            summary.requested, summary.treatments, summary.repetitions
        );
    }
    println!(
        "wrote a SIMULATED study into {} in {:.2} s: {} treatments (5 models x 6 tasks{}) x {} repetitions = {n} trials, \
         {} samples ({} per trial, plus {} baseline samples), {} requests",
        opts.out.display(),
        started.elapsed().as_secs_f64(),
        summary.treatments,
        if opts.concurrency.is_empty() {
            String::new()
        } else {
            format!(" x {} concurrency levels", opts.concurrency.len())
        },
        summary.repetitions,
        summary.samples,
        opts.samples_per_trial,
        summary.baseline_samples,
        summary.requests,
    );
    let t = summary.total();
    println!(
        "known corrected totals (constant powers, linear counters; D = last request end - first request start):\n  \
         per trial: gpu_j = P_gpu * D, cpu_j = P_cpu * D, dram_j = P_dram * D, energy_j = their sum{}\n  \
         all trials: gpu {:.3} J, cpu {:.3} J, dram {:.3} J, energy {:.3} J over {:.3} s, {} tokens",
        t.baseline_power_w
            .map_or(String::new(), |w| format!(", baseline_power_w = {w} W")),
        t.gpu_j,
        t.cpu_j,
        t.dram_j,
        t.energy_j,
        t.duration_s,
        t.tokens,
    );
    match args.expected {
        Some(path) => {
            write_csv_file(&path, &summary.known)?;
            println!("  every trial's totals: {}", path.display());
        }
        None => println!("  (--expected FILE writes every trial's totals)"),
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
    let folders = folder_list(&args.data);
    let mut study = Study::build_all(
        &args.data,
        &BuildOptions {
            accounting,
            // The report shows the audit (it compares responses across repetitions).
            audit: args.report.is_some(),
            published_tables: args.published_tables,
            progress: show_progress(quiet),
            skip_damaged: args.skip_damaged,
            requests: false,
        },
        &mut |_| Ok(()),
    )
    .with_context(|| format!("reading {folders}"))?;
    warn_damage(&study);
    step(format!(
        "loaded {} trials from {} and computed the {} accounting{}",
        study.metrics.len(),
        folders,
        accounting.as_str(),
        skipped_note(&study)
    ));
    crate::release_freed_memory();
    let stats_started = Instant::now();
    let tables = questions::compute(&study, args.seed);
    let elapsed = stats_started.elapsed();
    crate::release_freed_memory();
    match &args.report {
        Some(dir) => {
            let written = crate::tables::write_all(dir, &study, &tables)?;
            step(format!(
                "wrote {} tables into {} (statistics took {:.0} ms)",
                written.len(),
                dir.join("tables").display(),
                elapsed.as_secs_f64() * 1e3
            ));
            // The study's own tests under the other accounting, on the audit's rows swapped in
            // (several load levels: the report runs them within the first level).
            let other_tests = if study.has_load_levels() {
                None
            } else {
                study.under_other_accounting(|s| questions::study_tests(s, args.seed))
            };
            crate::release_freed_memory();
            let opts = report::Options {
                other_tests,
                dir: dir.clone(),
                trace: args.trace,
                png: !args.no_png,
                progress: !quiet,
                seed: args.seed,
            };
            let out = report::write(&study, &tables, &opts)?;
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
