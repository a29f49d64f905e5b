//! Loading a dataset for analysis: every committed trial with its requests (timing only) and
//! the sample channels the accounting needs, read in parallel.

use anyhow::{Context, Result, bail};
use dataset::{Dataset, Judgment, ReadOptions, Request, SampleTable, Trial};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::Path;

/// One trial, ready for accounting.
#[derive(Debug, Clone)]
pub struct TrialData {
    /// The trial row.
    pub trial: Trial,
    /// Its requests, by index (prompt and response text not loaded unless asked for).
    pub requests: Vec<Request>,
    /// Its accounting channels (or every channel when asked for).
    pub samples: SampleTable,
    /// Its idle baseline samples (accounting channels), when collect measured one.
    pub baseline: Option<SampleTable>,
}

/// What to load beyond the accounting minimum.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Load prompt and response text.
    pub text: bool,
    /// Load every sample channel, not only the accounting ones.
    pub all_channels: bool,
    /// Show a progress bar.
    pub progress: bool,
}

/// A loaded dataset.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Trials sorted by (run, repetition).
    pub trials: Vec<TrialData>,
    /// Every judgment of every scorer.
    pub judgments: Vec<Judgment>,
    /// True when the manifest marks the data simulated.
    pub simulated: bool,
    /// The manifest's description.
    pub description: String,
    /// Tool and version that created the dataset (the manifest's `created_by`).
    pub created_by: String,
    /// Schema version the dataset was created with.
    pub schema_version: u32,
}

/// A progress bar over `n` trial folders (hidden when `show` is false).
pub fn progress_bar(n: usize, prefix: &'static str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(n as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} trial folders, {elapsed} (ETA {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(prefix);
    bar
}

/// Opens and loads a dataset.
pub fn load(path: &Path, opts: LoadOptions) -> Result<Loaded> {
    let ds = Dataset::open(path)?;
    let manifest = ds.manifest()?;
    let parts = ds.parts()?;
    if parts.is_empty() {
        bail!(
            "{}: the dataset holds no trials (run `collect` or `analyze import` first)",
            path.display()
        );
    }
    let bar = progress_bar(parts.len(), "loading", opts.progress);
    let read = ReadOptions {
        text: opts.text,
        accounting_only: !opts.all_channels,
        skip_samples: false,
    };
    let mut trials: Vec<TrialData> = parts
        .par_iter()
        .map(|part| {
            let files = ds.read_part(part, read)?;
            bar.inc(1);
            Ok(files)
        })
        .collect::<Result<Vec<_>, dataset::DatasetError>>()
        .with_context(|| format!("loading {}", path.display()))?
        .into_iter()
        .flatten()
        .map(|f| TrialData {
            trial: f.trial,
            requests: f.requests,
            samples: f.samples,
            baseline: f.baseline,
        })
        .collect();
    bar.finish_and_clear();
    if trials.is_empty() {
        bail!("{}: the dataset holds no trials", path.display());
    }
    let mut ids: Vec<&str> = trials.iter().map(|t| t.trial.key.run_id.as_str()).collect();
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        bail!(
            "{}: trial `{}` is in two parts; move one away",
            path.display(),
            w[0]
        );
    }
    trials.sort_by(|a, b| {
        (a.trial.key.run, a.trial.key.repetition, &a.trial.key.run_id).cmp(&(
            b.trial.key.run,
            b.trial.key.repetition,
            &b.trial.key.run_id,
        ))
    });
    Ok(Loaded {
        trials,
        judgments: ds.read_judgments()?,
        simulated: manifest.simulated,
        description: manifest.description,
        created_by: manifest.created_by,
        schema_version: manifest.schema_version,
    })
}

impl Loaded {
    /// Scores of one scorer per run id.
    pub fn scores(&self, scorer: &str) -> HashMap<&str, Vec<f64>> {
        let mut map: HashMap<&str, Vec<f64>> = HashMap::new();
        for j in self.judgments.iter().filter(|j| j.scorer == scorer) {
            let entry = map.entry(j.run_id.as_str()).or_default();
            if let Some(s) = j.score {
                entry.push(s);
            }
        }
        map
    }

    /// Scores of every scorer whose name starts with `prefix`, per run id.
    pub fn scores_with_prefix(&self, prefix: &str) -> HashMap<&str, Vec<f64>> {
        let mut map: HashMap<&str, Vec<f64>> = HashMap::new();
        for j in self.judgments.iter().filter(|j| j.scorer.starts_with(prefix)) {
            if let Some(s) = j.score {
                map.entry(j.run_id.as_str()).or_default().push(s);
            }
        }
        map
    }

    /// Judgment rows (scored or not) of one scorer per run id.
    pub fn judged_rows(&self, scorer: &str) -> HashMap<&str, usize> {
        let mut map: HashMap<&str, usize> = HashMap::new();
        for j in self.judgments.iter().filter(|j| j.scorer == scorer) {
            *map.entry(j.run_id.as_str()).or_default() += 1;
        }
        map
    }
}
