//! The dataset as the report sees it: generations in numeric order with one colour each, the
//! model configurations (generation × size), the tasks, and the run level (each treatment's
//! mean over its repetitions, as in `questions::run_level`).

use crate::questions::{generation_key, size_in_billions};
use crate::report::plot::Colour;
use dataset::MetricsRow;
use std::collections::BTreeMap;

/// One colour per generation, in generation order (Okabe–Ito, safe for colour-blind readers).
pub const PALETTE: [Colour; 8] = [
    Colour::rgb(0xE6, 0x9F, 0x00),
    Colour::rgb(0x56, 0xB4, 0xE9),
    Colour::rgb(0x00, 0x9E, 0x73),
    Colour::rgb(0xCC, 0x79, 0xA7),
    Colour::rgb(0x00, 0x72, 0xB2),
    Colour::rgb(0xD5, 0x5E, 0x00),
    Colour::rgb(0x99, 0x99, 0x33),
    Colour::rgb(0x88, 0x22, 0x55),
];

/// One treatment at run level: the mean of its repetitions.
#[derive(Debug, Clone, PartialEq)]
pub struct RunMean {
    /// Treatment index.
    pub run: i64,
    /// Generation label.
    pub generation: String,
    /// Size label.
    pub model_size: String,
    /// Task.
    pub task: String,
    /// Repetitions averaged.
    pub repetitions: usize,
    /// Mean energy per trial, J.
    pub energy_j: f64,
    /// Mean energy per billion parameters, J/B (None when the size does not parse).
    pub j_per_b: Option<f64>,
    /// Mean energy per output token, J/token.
    pub energy_per_token: Option<f64>,
    /// Mean power, W.
    pub power_w: Option<f64>,
    /// Mean duration, s.
    pub duration_s: f64,
    /// Mean accuracy.
    pub accuracy: Option<f64>,
}

/// The report's view of the trials.
#[derive(Debug, Clone)]
pub struct Study<'a> {
    /// Trials of the report's accounting.
    pub rows: &'a [MetricsRow],
    /// Generation labels in numeric order.
    pub generations: Vec<String>,
    /// Configurations (generation, size) in generation then size order.
    pub configurations: Vec<(String, String)>,
    /// Tasks, sorted.
    pub tasks: Vec<String>,
    /// Run level, by treatment index.
    pub runs: Vec<RunMean>,
    /// Common model family of all trials (`Llama`), empty when they differ.
    pub family: String,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

impl<'a> Study<'a> {
    /// Builds the view of a set of trials.
    pub fn new(rows: &'a [MetricsRow]) -> Self {
        let mut generations: Vec<String> = rows.iter().map(|r| r.key.generation.clone()).collect();
        generations.sort_by_key(|g| generation_key(g));
        generations.dedup();
        let mut configurations: Vec<(String, String)> = rows
            .iter()
            .map(|r| (r.key.generation.clone(), r.key.model_size.clone()))
            .collect();
        configurations.sort_by(|a, b| {
            let size = |s: &str| size_in_billions(s).unwrap_or(f64::INFINITY);
            generation_key(&a.0)
                .cmp(&generation_key(&b.0))
                .then(size(&a.1).total_cmp(&size(&b.1)))
                .then(a.1.cmp(&b.1))
        });
        configurations.dedup();
        let mut tasks: Vec<String> = rows.iter().map(|r| r.key.task.clone()).collect();
        tasks.sort();
        tasks.dedup();
        let mut by_run: BTreeMap<i64, Vec<&MetricsRow>> = BTreeMap::new();
        for r in rows {
            by_run.entry(r.key.run).or_default().push(r);
        }
        let runs = by_run
            .into_iter()
            .map(|(run, trials)| {
                let first = trials[0];
                let energy_j = mean(trials.iter().map(|t| t.energy_j)).unwrap_or(f64::NAN);
                RunMean {
                    run,
                    generation: first.key.generation.clone(),
                    model_size: first.key.model_size.clone(),
                    task: first.key.task.clone(),
                    repetitions: trials.len(),
                    energy_j,
                    j_per_b: size_in_billions(&first.key.model_size).map(|b| energy_j / b),
                    energy_per_token: mean(trials.iter().filter_map(|t| t.energy_per_token)),
                    power_w: mean(trials.iter().filter_map(|t| t.power_w)),
                    duration_s: mean(trials.iter().map(|t| t.duration_s)).unwrap_or(f64::NAN),
                    accuracy: mean(trials.iter().filter_map(|t| t.accuracy)),
                }
            })
            .collect();
        let families: Vec<&str> = rows
            .iter()
            .map(|r| r.key.model.split(['-', ' ', '_']).next().unwrap_or(""))
            .collect();
        let family = match families.first() {
            Some(f) if !f.is_empty() && families.iter().all(|g| g == f) => (*f).to_string(),
            _ => String::new(),
        };
        Self {
            rows,
            generations,
            configurations,
            tasks,
            runs,
            family,
        }
    }

    /// Position of a generation in the order (its colour index).
    pub fn generation_index(&self, generation: &str) -> usize {
        self.generations.iter().position(|g| g == generation).unwrap_or(0)
    }

    /// The colour of a generation, the same in every figure.
    pub fn colour(&self, generation: &str) -> Colour {
        PALETTE[self.generation_index(generation) % PALETTE.len()]
    }

    /// A generation as readers say it: `Llama 3.2`, or `generation 3.2` without a common family.
    pub fn label(&self, generation: &str) -> String {
        if self.family.is_empty() {
            format!("generation {generation}")
        } else {
            format!("{} {generation}", self.family)
        }
    }

    /// A configuration as in the tables (`Gen3.2_1B`).
    pub fn configuration_label(generation: &str, size: &str) -> String {
        format!("Gen{generation}_{size}")
    }

    /// The trials of one generation.
    pub fn trials_of<'s>(&'s self, generation: &'s str) -> impl Iterator<Item = &'a MetricsRow> + 's {
        self.rows.iter().filter(move |r| r.key.generation == generation)
    }

    /// The runs of one generation.
    pub fn runs_of<'s>(&'s self, generation: &'s str) -> impl Iterator<Item = &'s RunMean> + 's {
        self.runs.iter().filter(move |r| r.generation == generation)
    }

    /// The trial whose energy is the median (the lower middle one for an even count; ties by
    /// run id).
    pub fn median_energy_trial(&self) -> &'a str {
        let mut order: Vec<&MetricsRow> = self.rows.iter().collect();
        order.sort_by(|a, b| {
            a.energy_j
                .total_cmp(&b.energy_j)
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
