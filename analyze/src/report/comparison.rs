//! Published vs corrected accounting, per trial and overall, with the reason for every
//! difference (docs/accounting.md, "Why the two differ").
//!
//! The difference of one trial splits exactly into five parts. With `P` the published and `C`
//! the corrected energy, and `Cp` the corrected method applied to the samples the published
//! window keeps (so that only the window differs from `C`):
//!
//! ```text
//! P − C =  cpu_P                       CPU counted twice (the published gpu_joules adds it again)
//!       + (cpu_P − Cp.cpu)             RAPL wraps (a negative step read as the new counter value)
//!       + (gpu_P − cpu_P − Cp.gpu)     GPU power × an assumed 200 ms vs the trapezoid over real times
//!       − Cp.dram                      DRAM not counted by the published procedure
//!       + (Cp.total − C)               window edges (the published window drops the last second)
//! ```
//!
//! since `P = 2·cpu_P + Σ P_gpu/5000`. The parts add up to `P − C` to rounding.

use crate::model::{Metric, Study, runs};
use crate::report::Inputs;
use crate::stats::{self, TestOutcome};
use dataset::MetricsRow;
use dataset::accounting;

/// The parts of a difference, in the order of the module documentation.
pub const REASONS: [&str; 5] = [
    "CPU counted twice",
    "RAPL wrap",
    "200 ms assumption",
    "DRAM not counted",
    "window edges",
];

/// A part is named as a reason when it exceeds this many joules (anything smaller is rounding:
/// the parts of a trial without a wrap, for instance, cancel to about 1e-9 J).
pub const REASON_MIN_J: f64 = 0.01;

/// One trial under both accountings.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialDifference {
    /// Trial identifier (held inline, like the key's: no allocation per trial).
    pub run_id: dataset::CompactString,
    /// Generation.
    pub generation: dataset::CompactString,
    /// Task.
    pub task: dataset::CompactString,
    /// Published energy, J.
    pub published_j: f64,
    /// Corrected energy, J.
    pub corrected_j: f64,
    /// Published CPU energy (counted once), J.
    pub published_cpu_j: f64,
    /// Corrected CPU energy, J.
    pub corrected_cpu_j: f64,
    /// Published GPU energy without the CPU added again, J.
    pub published_gpu_j: f64,
    /// Corrected GPU energy, J.
    pub corrected_gpu_j: f64,
    /// Corrected DRAM energy, J.
    pub corrected_dram_j: f64,
    /// The parts of `published_j − corrected_j`, in the order of [`REASONS`], J.
    pub parts: [f64; 5],
    /// Wraps inside the corrected window.
    pub wraps: i64,
}

impl TrialDifference {
    /// Published over corrected.
    pub fn ratio(&self) -> f64 {
        self.published_j / self.corrected_j
    }

    /// The reasons that matter for this trial, largest first, with their signed joules.
    pub fn reasons(&self) -> Vec<(&'static str, f64)> {
        let threshold = REASON_MIN_J;
        let mut out: Vec<(&'static str, f64)> = REASONS
            .iter()
            .zip(self.parts)
            .filter(|(_, j)| j.abs() > threshold)
            .map(|(r, j)| (*r, j))
            .collect();
        out.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        out
    }
}

/// Run-level test of RQ1.1 under one accounting.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountingTest {
    /// Accounting.
    pub accounting: &'static str,
    /// Run-level mean energy per generation, J, in generation order.
    pub means: Vec<f64>,
    /// Kruskal–Wallis over the run means.
    pub kruskal_wallis: Option<TestOutcome>,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Per trial, in the order of the loaded trials.
    pub trials: Vec<TrialDifference>,
    /// Σ published energy, J.
    pub published_j: f64,
    /// Σ corrected energy, J.
    pub corrected_j: f64,
    /// Σ of each part, J.
    pub parts: [f64; 5],
    /// Trials per reason (the part exceeds [`REASON_MIN_J`]).
    pub trials_per_reason: [usize; 5],
    /// RQ1.1 under each accounting: published, corrected.
    pub tests: [AccountingTest; 2],
}

fn difference(published: &MetricsRow, corrected: &MetricsRow, cp: &accounting::Energy) -> TrialDifference {
    // Unmeasured components count 0 in the decomposition of joules.
    let z = |v: Option<f64>| v.unwrap_or(0.0);
    let cpu_p = z(published.cpu_j);
    let gpu_p = z(published.gpu_j) - cpu_p;
    let cp_total = z(cp.total_j());
    TrialDifference {
        run_id: corrected.key.run_id.clone(),
        generation: corrected.key.generation.clone(),
        task: corrected.key.task.clone(),
        published_j: z(published.energy_j),
        corrected_j: z(corrected.energy_j),
        published_cpu_j: cpu_p,
        corrected_cpu_j: z(corrected.cpu_j),
        published_gpu_j: gpu_p,
        corrected_gpu_j: z(corrected.gpu_j),
        corrected_dram_j: corrected.dram_j.unwrap_or(0.0),
        parts: [
            cpu_p,
            cpu_p - z(cp.cpu_j),
            gpu_p - z(cp.gpu_j),
            -z(cp.dram_j),
            cp_total - z(corrected.energy_j),
        ],
        wraps: corrected.cpu_wraps,
    }
}

fn rq1_1(study: &Study, rows: &[&MetricsRow], accounting: &'static str) -> AccountingTest {
    let runs = runs::run_means(rows.iter().copied());
    let groups: Vec<Vec<f64>> = study
        .generations
        .iter()
        .map(|g| {
            runs.iter()
                .filter(|r| &r.generation == g)
                .filter_map(|r| r.get(Metric::Energy))
                .collect()
        })
        .collect();
    let means = groups
        .iter()
        .map(|g| g.iter().sum::<f64>() / g.len().max(1) as f64)
        .collect();
    let slices: Vec<&[f64]> = groups.iter().map(Vec::as_slice).collect();
    AccountingTest {
        accounting,
        means,
        kruskal_wallis: stats::rank::kruskal_wallis(&slices).ok(),
    }
}

impl Comparison {
    /// Compares the two accountings on every trial of the audit.
    pub fn new(inputs: &Inputs<'_>, study: &Study) -> Self {
        let trials: Vec<TrialDifference> = inputs
            .audit
            .trials
            .iter()
            .map(|a| difference(&a.published, &a.corrected, &a.corrected_in_published_window))
            .collect();
        let mut parts = [0.0; 5];
        let mut trials_per_reason = [0; 5];
        for t in &trials {
            for (i, p) in t.parts.iter().enumerate() {
                parts[i] += p;
            }
            for (reason, _) in t.reasons() {
                if let Some(i) = REASONS.iter().position(|r| *r == reason) {
                    trials_per_reason[i] += 1;
                }
            }
        }
        let published: Vec<&MetricsRow> = inputs.audit.trials.iter().map(|a| &a.published).collect();
        let corrected: Vec<&MetricsRow> = inputs.audit.trials.iter().map(|a| &a.corrected).collect();
        Self {
            published_j: trials.iter().map(|t| t.published_j).sum(),
            corrected_j: trials.iter().map(|t| t.corrected_j).sum(),
            trials,
            parts,
            trials_per_reason,
            tests: [
                rq1_1(study, &published, "published"),
                rq1_1(study, &corrected, "corrected"),
            ],
        }
    }
}
