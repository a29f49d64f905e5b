//! The report: `analyze [DATA] --report DIR` turns the analysis model (the [`Study`], with its
//! audit) and the statistics tables into a self-contained `DIR/index.html`, `DIR/summary.md` and
//! the figures under `DIR/figures/` (the CSV tables are written by `tables::write_all`).
//!
//! The stage is split by the noun each file owns: [`study`] (the generations' colours),
//! [`findings`] (plain-language findings computed from the tables),
//! [`comparison`] (published vs corrected accounting, per trial and why), [`overview`] (the
//! experiment at a glance), [`figures`] (the figure set, as data), [`plot`] (the one renderer,
//! SVG and PNG), [`table`] (tables and number formats) and one file per output behind the
//! [`Output`] trait ([`html`], [`markdown`]).
//!
//! Architecture invariants: the report does no network I/O, the HTML needs no JavaScript and
//! fetches nothing (figures are inline SVG, CSS is inline), and only the files listed in
//! [`OWN_FILES`] and `figures/` are written into DIR; nothing there is ever deleted.

pub mod accuracy;
pub mod comparison;
pub mod figures;
pub mod findings;
pub mod html;
pub mod markdown;
pub mod overview;
pub mod plot;
pub mod serving;
pub mod study;
pub mod table;

use crate::audit::Audit;
use crate::model::Study;
use crate::questions::Tables;
use anyhow::{Context, Result, bail};
use dataset::{Accounting, ReadOptions, TrialFiles};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Files the report writes at the top of DIR (besides `figures/` and `tables/`).
pub const OWN_FILES: [&str; 2] = ["index.html", "summary.md"];

/// Everything the report reads; computed once by the `analyze` command.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The analysis model.
    pub study: &'a Study,
    /// The accounting the statistics were computed with.
    pub accounting: Accounting,
    /// The statistics tables of the research questions.
    pub tables: &'a Tables,
    /// The data-quality audit (both accountings per trial).
    pub audit: &'a Audit,
    /// Seed of the statistics (used again for the accounting comparison's tests).
    pub seed: u64,
}

/// What to render and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// Output folder.
    pub dir: PathBuf,
    /// Trial whose power trace to show; the median-energy trial when None.
    pub trace: Option<String>,
    /// Also write PNG copies of the figures.
    pub png: bool,
    /// Print progress lines to stderr.
    pub progress: bool,
    /// Seed of the statistics.
    pub seed: u64,
    /// The study's own tests under the other accounting, when the caller ran them already
    /// ([`Study::under_other_accounting`], which needs no copy of the rows); otherwise the
    /// report runs them on a copy.
    pub other_tests: Option<Tables>,
}

/// A figure rendered for the outputs.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The figure (title, caption, file stem).
    pub figure: plot::Figure,
    /// Its SVG document.
    pub svg: String,
}

/// The assembled report: the model every output renders.
#[derive(Debug)]
pub struct Report<'a> {
    /// The inputs.
    pub inputs: Inputs<'a>,
    /// The analysis model.
    pub study: &'a Study,
    /// The experiment at a glance.
    pub overview: overview::Overview,
    /// One section per research question.
    pub sections: Vec<findings::Section>,
    /// Why the run is the honest unit.
    pub unit: findings::HonestUnit,
    /// Published vs corrected accounting.
    pub comparison: comparison::Comparison,
    /// Accuracy by scorer and agreement with the gold labels.
    pub accuracy: accuracy::AccuracySection,
    /// The serving regime: load levels, latencies, the frontier, the validity gates.
    pub serving: serving::ServingSection,
    /// Figures, rendered.
    pub figures: Vec<Rendered>,
}

impl Report<'_> {
    /// The rendered figure with this file stem.
    pub fn figure(&self, name: &str) -> Option<&Rendered> {
        self.figures.iter().find(|f| f.figure.name == name)
    }
}

/// One output file of the report.
pub trait Output {
    /// File name inside DIR.
    fn file_name(&self) -> &'static str;
    /// The file's content.
    fn render(&self, report: &Report<'_>) -> Result<String>;
}

/// What [`write`] produced.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// Files written, in order.
    pub files: Vec<PathBuf>,
    /// Size of `index.html` in bytes.
    pub html_bytes: usize,
}

fn note(progress: bool, started: Instant, what: &str) {
    if progress {
        eprintln!("report: {what} ({:.0} ms)", started.elapsed().as_secs_f64() * 1e3);
    }
}

/// Writes a file atomically (temporary file, then rename), creating its folder.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(dataset::io::write_atomic(path, bytes, false)?)
}

/// Assembles the report model and renders its figures (no file is written).
pub fn build<'a>(study: &'a Study, tables: &'a Tables, opts: &Options) -> Result<Report<'a>> {
    if study.metrics.is_empty() {
        bail!("the dataset holds no trials: nothing to report");
    }
    let Some(audit) = study.audit.as_ref() else {
        bail!("the report needs the audit: build the study with `BuildOptions::audit`");
    };
    let inputs = Inputs {
        study,
        accounting: study.accounting,
        tables,
        audit,
        seed: opts.seed,
    };
    let trace = match &opts.trace {
        Some(id) => {
            if study.damage.trials().iter().any(|k| k.run_id == id) {
                bail!("--trace {id}: that trial's files are damaged and it was skipped (--skip-damaged)");
            }
            if !study.trials.iter().any(|t| t.key.run_id == id) {
                let some: Vec<&str> = study
                    .trials
                    .iter()
                    .take(3)
                    .map(|t| t.key.run_id.as_str())
                    .collect();
                bail!(
                    "--trace {id}: no such trial in the dataset (run ids look like {})",
                    some.join(", ")
                );
            }
            id.clone()
        }
        None => study.median_energy_trial().to_string(),
    };
    // With several load levels the research questions are answered within each: the
    // sections show the first level's tests, figures and tables, and every other level's
    // findings after them.
    let levels = study.load_levels();
    let reference = (levels.len() > 1).then(|| study.at_level(&levels[0]));
    let rq_study = reference.as_ref().unwrap_or(study);
    // The tests under the other accounting first, while the report holds least: they need a
    // copy of the study's rows (the audit's), dropped as soon as they are done.
    let computed;
    let other_tests = match (&opts.other_tests, &reference) {
        (Some(t), None) => Some(t),
        _ => {
            computed = findings::published::other_accounting_tests(rq_study, opts.seed);
            crate::release_freed_memory();
            computed.as_ref()
        }
    };
    // The one trial whose samples a figure shows is read again, alone.
    // It is in one of the datasets read (several when shards are read as one).
    let read = ReadOptions {
        accounting_only: true,
        ..ReadOptions::default()
    };
    let mut found = None;
    for path in study.source.paths.iter().filter(|_| study.source.paths.len() > 1) {
        let ds = dataset::Dataset::open(path)?;
        if ds.trial_ids()?.iter().any(|id| id.as_str() == trace.as_str()) {
            found = Some(ds);
            break;
        }
    }
    let traced: TrialFiles = found
        .unwrap_or(dataset::Dataset::open(&study.source.path)?)
        .read_trial_files(&trace, read)
        .with_context(|| format!("reading the samples of {trace}"))?;
    let mut overview = overview::Overview::new(&inputs, study);
    let unit = findings::HonestUnit::new(audit, study);
    let comparison = comparison::Comparison::new(&inputs, study);
    let rq_inputs = Inputs {
        study: rq_study,
        ..inputs
    };
    let mut sections = findings::sections(&rq_inputs, rq_study);
    findings::published::append(&mut sections, rq_study, tables, other_tests);
    if reference.is_some() {
        for s in &mut sections {
            s.findings.insert(
                0,
                format!(
                    "Within {} (the first load level); the other levels follow.",
                    levels[0]
                ),
            );
        }
        for other in &tables.others {
            let sub = study.at_level(&other.level);
            let sub_inputs = Inputs {
                study: &sub,
                tables: other,
                ..inputs
            };
            for (s, o) in sections.iter_mut().zip(findings::sections(&sub_inputs, &sub)) {
                s.findings
                    .extend(o.findings.into_iter().map(|f| format!("At {}: {f}", other.level)));
            }
        }
    }
    let accuracy = accuracy::AccuracySection::new(&study.judgments, study);
    let serving = serving::ServingSection::new(study, opts.seed);
    if serving.shown {
        overview.facts.push((
            "validity gates".into(),
            format!(
                "{} of {} trials flagged (fail at least one gate; none left out), {} with a gate that cannot be evaluated",
                serving.flagged_count,
                study.metrics.len(),
                serving.unevaluated_count
            ),
        ));
        if levels.len() > 1 {
            overview.facts.push((
                "load levels".into(),
                levels
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
        }
    }
    let specs = figures::all(&traced, study, rq_study, &comparison, &serving);
    let figures = specs
        .into_par_iter()
        .map(|figure| {
            let svg = plot::render_svg(&figure).with_context(|| format!("figure {}", figure.name))?;
            Ok(Rendered { figure, svg })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Report {
        inputs,
        study,
        overview,
        sections,
        unit,
        comparison,
        accuracy,
        serving,
        figures,
    })
}

/// Renders the report into `opts.dir`: `index.html`, `summary.md`, `figures/*.svg` (and
/// `*.png`) and the per-trial tables of the page as `tables/accounting_per_trial.csv` and
/// `tables/flagged_trials.csv`. Only these files are written; nothing in the folder is deleted.
pub fn write(study: &Study, tables: &Tables, opts: &Options) -> Result<Written> {
    let started = Instant::now();
    let report = build(study, tables, opts)?;
    note(
        opts.progress,
        started,
        &format!(
            "assembled the model and rendered {} figures",
            report.figures.len()
        ),
    );
    let figures_dir = opts.dir.join("figures");
    let mut files: Vec<PathBuf> = report
        .figures
        .par_iter()
        .map(|r| -> Result<Vec<PathBuf>> {
            let mut out = Vec::new();
            let svg = figures_dir.join(format!("{}.svg", r.figure.name));
            write_file(&svg, r.svg.as_bytes())?;
            out.push(svg);
            if opts.png {
                let png = figures_dir.join(format!("{}.png", r.figure.name));
                let bytes =
                    plot::render_png(&r.figure).with_context(|| format!("figure {}", r.figure.name))?;
                write_file(&png, &bytes)?;
                out.push(png);
            }
            Ok(out)
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    note(
        opts.progress,
        started,
        &format!("wrote {} figure files", files.len()),
    );
    // The per-trial tables the page may show only the start of, whole.
    for (name, t) in [
        (
            html::PER_TRIAL_ACCOUNTING_CSV,
            html::per_trial_accounting(&report),
        ),
        (html::FLAGGED_TRIALS_CSV, html::flagged_trials(&report)),
    ] {
        let path = opts.dir.join("tables").join(name);
        t.write_csv(&path)?;
        files.push(path);
    }
    let outputs: [&dyn Output; 2] = [&html::Html, &markdown::Markdown];
    let mut html_bytes = 0;
    for output in outputs {
        let text = output.render(&report)?;
        let path = opts.dir.join(output.file_name());
        write_file(&path, text.as_bytes())?;
        if output.file_name() == "index.html" {
            html_bytes = text.len();
        }
        files.push(path);
    }
    note(opts.progress, started, "wrote index.html and summary.md");
    Ok(Written { files, html_bytes })
}
