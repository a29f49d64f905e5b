//! The one analysis model: a dataset read once, part by part, into small per-trial rows —
//! every statistic, table, figure, finding and audit line reads this and nothing else.
//!
//! [`Study::build`] (in [`build`]) goes through the dataset's parts in parallel: it reads one
//! part's samples (the accounting channels only), computes each trial's [`MetricsRow`] under
//! the chosen accounting (with the judges' accuracies and the idle baseline), the per-request
//! energies, and, when asked, the trial's [`Audit`](crate::audit::Audit) facts, then drops the
//! samples. Memory therefore grows with the number of trials (2 KB each, 3.6 KB with the audit), never
//! with the samples. The run level ([`runs`]) is computed from the rows in one place; metrics
//! and levels are the enums of [`metric`].

pub mod as_read;
pub mod build;
pub mod metric;
pub mod provenance;
pub mod runs;
pub mod serving;

pub use build::BuildOptions;
pub use metric::{Level, Metric, configuration_key, configuration_label, generation_key, size_in_billions};
pub use provenance::Provenance;
pub use runs::RunMean;
pub use serving::{LatencySketch, LoadLevel, Serving};

use crate::audit::Audit;
use dataset::{Accounting, Damage, Judgment, MetricsRow, Trial};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

/// Scorer name of the study's own LLM-judge scores, as `analyze import` stores them.
pub const PUBLISHED_SCORER: &str = "published_relevancy";
/// Scorer name of `judge`'s gold-label scorer.
pub const GOLD_SCORER: &str = "gold";
/// Prefix of `judge`'s LLM-judge scorers (`judge:<model>:<rubric>`).
pub const JUDGE_SCORER_PREFIX: &str = "judge:";

/// Where the data came from (the dataset folder and its manifest).
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The dataset folder (the first, when several are read as one).
    pub path: PathBuf,
    /// Every dataset folder read (shards of one design, read as one study).
    pub paths: Vec<PathBuf>,
    /// True when the manifest marks the data simulated.
    pub simulated: bool,
    /// The manifest's description.
    pub description: String,
    /// Tool and version that created the dataset.
    pub created_by: String,
    /// Schema version the dataset was created with.
    pub schema_version: u32,
}

/// The per-trial rows of a dataset, as the pass over its parts produces them.
#[derive(Debug, Clone, Default)]
pub struct Trials {
    /// Every trial row, sorted by (run, repetition, run id).
    pub trials: Vec<Trial>,
    /// The metrics of each trial, in the same order.
    pub metrics: Vec<MetricsRow>,
    /// Names of the sample channels read, over all trials.
    pub channels: BTreeSet<String>,
    /// The trials' provenance, summarised.
    pub provenance: Provenance,
    /// The serving facts of each trial (steady state, gates), in the same order.
    pub serving: Vec<Serving>,
    /// The requests' latencies per treatment (run index R), as histograms.
    pub latency: BTreeMap<i64, LatencySketch>,
}

/// A dataset as the analysis sees it.
#[derive(Debug, Clone)]
pub struct Study {
    /// The dataset.
    pub source: Source,
    /// The accounting of [`Study::metrics`].
    pub accounting: Accounting,
    /// Every trial row, sorted by (run, repetition, run id), without its provenance JSON
    /// (summarised in [`Study::provenance`]). Shared with [`Study::with_accounting`]'s copy.
    pub trials: Arc<Vec<Trial>>,
    /// The metrics of each trial, in the order of [`Study::trials`].
    pub metrics: Vec<MetricsRow>,
    /// The serving facts of each trial (steady state, validity gates, latencies), in the
    /// order of [`Study::trials`]; the same under both accountings.
    pub serving: Arc<Vec<Serving>>,
    /// The requests' latencies per treatment (run index R), as histograms of fixed size.
    pub latency: Arc<BTreeMap<i64, LatencySketch>>,
    /// Every judgment of every scorer.
    pub judgments: Arc<Vec<Judgment>>,
    /// Names of the sample channels the accounting read, over all trials.
    pub channels: BTreeSet<String>,
    /// The trials' provenance JSON, summarised key by key.
    pub provenance: Provenance,
    /// The data-quality audit, when it was asked for.
    pub audit: Option<Arc<Audit>>,
    /// The run level: one mean per treatment, by treatment index.
    pub runs: Vec<RunMean>,
    /// Generation labels in numeric order.
    pub generations: Vec<String>,
    /// Configurations (generation, size) in generation then size order.
    pub configurations: Vec<(String, String)>,
    /// Tasks, sorted.
    pub tasks: Vec<String>,
    /// Common model family of all trials (`Llama`), empty when they differ.
    pub family: String,
    /// The damaged files left out under `--skip-damaged` and the trials they held (empty
    /// otherwise: a damaged file fails the build).
    pub damage: Damage,
}

impl Study {
    /// Assembles the model from its per-trial rows: the run level and the orders of the
    /// design's factors are derived here, once.
    pub fn new(
        source: Source,
        accounting: Accounting,
        rows: Trials,
        judgments: Vec<Judgment>,
        audit: Option<Audit>,
    ) -> Self {
        let Trials {
            trials,
            metrics,
            channels,
            provenance,
            mut serving,
            latency,
        } = rows;
        // A model assembled without the serving pass gets empty facts: every gate not
        // evaluable.
        serving.resize(metrics.len(), Serving::default());
        let mut generations: Vec<String> = metrics.iter().map(|r| r.key.generation.to_string()).collect();
        generations.sort_by_key(|g| generation_key(g));
        generations.dedup();
        let mut configurations: Vec<(String, String)> = metrics
            .iter()
            .map(|r| (r.key.generation.to_string(), r.key.model_size.to_string()))
            .collect();
        configurations.sort_by(|a, b| {
            configuration_key(&a.0, &a.1)
                .cmp(&configuration_key(&b.0, &b.1))
                .then(a.1.cmp(&b.1))
        });
        configurations.dedup();
        let mut tasks: Vec<String> = metrics.iter().map(|r| r.key.task.to_string()).collect();
        tasks.sort();
        tasks.dedup();
        let families: Vec<&str> = metrics
            .iter()
            .map(|r| r.key.model.split(['-', ' ', '_']).next().unwrap_or(""))
            .collect();
        let family = match families.first() {
            Some(f) if !f.is_empty() && families.iter().all(|g| g == f) => (*f).to_string(),
            _ => String::new(),
        };
        let runs = runs::run_means(&metrics);
        Self {
            source,
            accounting,
            trials: Arc::new(trials),
            metrics,
            serving: Arc::new(serving),
            latency: Arc::new(latency),
            judgments: Arc::new(judgments),
            channels,
            provenance,
            audit: audit.map(Arc::new),
            runs,
            generations,
            configurations,
            tasks,
            family,
            damage: Damage::default(),
        }
    }

    /// The same study under the other accounting, from the audit's per-trial rows of both
    /// (None without an audit, or when it does not cover every trial).
    pub fn with_accounting(&self, accounting: Accounting) -> Option<Study> {
        if accounting == self.accounting {
            return Some(self.clone());
        }
        let audit = self.audit.as_ref()?;
        let row = |a: &'_ crate::audit::TrialAudit| -> MetricsRow {
            match accounting {
                Accounting::Published => a.published.clone(),
                Accounting::Corrected => a.corrected.clone(),
            }
        };
        let with_scores = |r: &MetricsRow, other: MetricsRow| MetricsRow {
            accuracy_gold: r.accuracy_gold,
            accuracy_judge: r.accuracy_judge,
            ..other
        };
        // The audit's rows come in the model's order (built in the same pass): matched by
        // position, by run id only where they are not.
        let aligned = audit.trials.len() == self.metrics.len()
            && audit
                .trials
                .iter()
                .zip(&self.metrics)
                .all(|(a, r)| a.key().run_id == r.key.run_id);
        let metrics: Vec<MetricsRow> = if aligned {
            audit
                .trials
                .iter()
                .zip(&self.metrics)
                .map(|(a, r)| with_scores(r, row(a)))
                .collect()
        } else {
            let by_id: std::collections::HashMap<&str, &crate::audit::TrialAudit> = audit
                .trials
                .iter()
                .map(|a| (a.key().run_id.as_str(), a))
                .collect();
            self.metrics
                .iter()
                .map(|r| by_id.get(r.key.run_id.as_str()).map(|a| with_scores(r, row(a))))
                .collect::<Option<_>>()?
        };
        let runs = runs::run_means(&metrics);
        // Everything but the metrics is shared or small: the trial rows, judgments and audit
        // are not copied.
        Some(Study {
            source: self.source.clone(),
            accounting,
            trials: Arc::clone(&self.trials),
            metrics,
            serving: Arc::clone(&self.serving),
            latency: Arc::clone(&self.latency),
            judgments: Arc::clone(&self.judgments),
            channels: self.channels.clone(),
            provenance: self.provenance.clone(),
            audit: self.audit.clone(),
            runs,
            generations: self.generations.clone(),
            configurations: self.configurations.clone(),
            tasks: self.tasks.clone(),
            family: self.family.clone(),
            damage: self.damage.clone(),
        })
    }

    /// `f` of the study under the other accounting, without a copy of its rows: the metrics
    /// rows are swapped with the audit's rows of the other accounting (taking this study's
    /// accuracies, as [`Study::with_accounting`]'s copy does), `f` runs, and everything is
    /// swapped back. At 100,000 trials the copy is 50 MB on top of the study. Falls back to
    /// the copy when the audit is shared (or out of the model's order); None without an audit.
    pub fn under_other_accounting<R>(&mut self, f: impl FnOnce(&Study) -> R) -> Option<R> {
        let other = match self.accounting {
            Accounting::Published => Accounting::Corrected,
            Accounting::Corrected => Accounting::Published,
        };
        let aligned = self.audit.as_ref().is_some_and(|a| {
            a.trials.len() == self.metrics.len()
                && a.trials
                    .iter()
                    .zip(&self.metrics)
                    .all(|(a, r)| a.key().run_id == r.key.run_id)
        });
        // The audit is taken out while `f` runs (the statistics never read it), so that it
        // is this study's alone to swap rows with, and to swap them back.
        let mut audit = match self.audit.take() {
            Some(a) if aligned => a,
            taken => {
                self.audit = taken;
                return self.with_accounting(other).map(|s| f(&s));
            }
        };
        let Some(trials) = Arc::get_mut(&mut audit).map(|a| &mut a.trials) else {
            self.audit = Some(audit);
            return self.with_accounting(other).map(|s| f(&s));
        };
        fn row_of(a: &mut crate::audit::TrialAudit, accounting: Accounting) -> &mut MetricsRow {
            match accounting {
                Accounting::Published => &mut a.published,
                Accounting::Corrected => &mut a.corrected,
            }
        }
        let mut kept: Vec<(Option<f64>, Option<f64>)> = Vec::with_capacity(self.metrics.len());
        for (a, r) in trials.iter_mut().zip(self.metrics.iter_mut()) {
            let row = row_of(a, other);
            kept.push((row.accuracy_gold, row.accuracy_judge));
            row.accuracy_gold = r.accuracy_gold;
            row.accuracy_judge = r.accuracy_judge;
            std::mem::swap(row, r);
        }
        let own = std::mem::replace(&mut self.accounting, other);
        let own_runs = std::mem::replace(&mut self.runs, runs::run_means(&self.metrics));
        let out = f(self);
        self.accounting = own;
        self.runs = own_runs;
        for ((a, r), (gold, judge)) in trials.iter_mut().zip(self.metrics.iter_mut()).zip(kept) {
            let row = row_of(a, other);
            std::mem::swap(row, r);
            row.accuracy_gold = gold;
            row.accuracy_judge = judge;
        }
        self.audit = Some(audit);
        Some(out)
    }

    /// The load levels of the trials, in order (one unset level for data without load factors).
    pub fn load_levels(&self) -> Vec<LoadLevel> {
        let mut levels: Vec<LoadLevel> = self.metrics.iter().map(|r| LoadLevel::of(&r.key)).collect();
        levels.sort_by_key(LoadLevel::sort_key);
        levels.dedup();
        levels
    }

    /// True when the trials ran at more than one load level: the research questions are then
    /// answered within each.
    pub fn has_load_levels(&self) -> bool {
        self.load_levels().len() > 1
    }

    /// The study of the trials at one load level: the same source, judgments and audit, the
    /// run level and the orders of the factors derived from its own trials.
    pub fn at_level(&self, level: &LoadLevel) -> Study {
        let keep: Vec<usize> = (0..self.metrics.len())
            .filter(|&i| LoadLevel::of(&self.metrics[i].key) == *level)
            .collect();
        let rows = Trials {
            trials: keep.iter().map(|&i| self.trials[i].clone()).collect(),
            metrics: keep.iter().map(|&i| self.metrics[i].clone()).collect(),
            channels: self.channels.clone(),
            provenance: self.provenance.clone(),
            serving: keep.iter().map(|&i| self.serving[i].clone()).collect(),
            latency: BTreeMap::new(),
        };
        let mut study = Study::new(self.source.clone(), self.accounting, rows, Vec::new(), None);
        study.judgments = Arc::clone(&self.judgments);
        study.audit = self.audit.clone();
        study.damage = self.damage.clone();
        // The treatments of this level are among the study's: the histograms are shared.
        study.latency = Arc::clone(&self.latency);
        study
    }

    /// What skipping the damaged trials left out, one line each (`skipped: <run_id> (<model> ×
    /// <task>): <file>: <reason>`), then the summary and the repetitions left of each treatment
    /// that lost some (`run 7 (Llama-3-8B × CB): 29 of 30 repetitions`); empty when nothing
    /// was damaged.
    pub fn damage_lines(&self) -> Vec<String> {
        if self.damage.is_empty() {
            return Vec::new();
        }
        let mut lines = self.damage.skipped_lines();
        lines.extend(self.damage.summary_lines(self.trials.iter().map(|t| &t.key)));
        lines
    }

    /// True when the data are simulated (the manifest or any trial says so).
    pub fn simulated(&self) -> bool {
        self.source.simulated || self.trials.iter().any(|t| t.simulated)
    }

    /// Position of a generation in the order.
    pub fn generation_index(&self, generation: &str) -> usize {
        self.generations.iter().position(|g| g == generation).unwrap_or(0)
    }

    /// A generation as readers say it: `Llama 3.2`, or `generation 3.2` without a common family.
    pub fn label(&self, generation: &str) -> String {
        if self.family.is_empty() {
            format!("generation {generation}")
        } else {
            format!("{} {generation}", self.family)
        }
    }

    /// The metrics of the trials of one generation.
    pub fn trials_of<'s>(&'s self, generation: &'s str) -> impl Iterator<Item = &'s MetricsRow> + 's {
        self.metrics
            .iter()
            .filter(move |r| r.key.generation == generation)
    }

    /// The runs of one generation.
    pub fn runs_of<'s>(&'s self, generation: &'s str) -> impl Iterator<Item = &'s RunMean> + 's {
        self.runs.iter().filter(move |r| r.generation == generation)
    }

    /// The trial whose energy is the median (the lower middle one for an even count; ties by
    /// run id).
    pub fn median_energy_trial(&self) -> &str {
        let mut order: Vec<&MetricsRow> = self.metrics.iter().filter(|r| r.energy_j.is_some()).collect();
        order.sort_by(|a, b| {
            a.energy_j
                .unwrap_or(f64::NAN)
                .total_cmp(&b.energy_j.unwrap_or(f64::NAN))
                .then(a.key.run_id.cmp(&b.key.run_id))
        });
        order
            .get(order.len().saturating_sub(1) / 2)
            .map_or("", |r| r.key.run_id.as_str())
    }

    /// Distinct repetitions per treatment (min, max).
    pub fn repetitions(&self) -> (usize, usize) {
        let min = self.runs.iter().map(|r| r.repetitions).min().unwrap_or(0);
        let max = self.runs.iter().map(|r| r.repetitions).max().unwrap_or(0);
        (min, max)
    }
}
