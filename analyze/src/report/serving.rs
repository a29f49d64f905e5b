//! The serving-regime section: the load levels compared (main metrics per level and model),
//! the latencies (TTFT, TPOT, inter-token latency) per model and level, the energy–accuracy–
//! latency frontier per treatment, and the validity gates (counts and the flagged trials).
//!
//! It is shown for data with millisecond request times (collect's); whole-second imports have
//! no latencies, no load levels and no steady state, so their report does not change.

use crate::model::serving::{Gates, LatencySketch, LoadLevel, tally};
use crate::model::{GOLD_SCORER, Study};
use crate::report::table::{Table, fixed, num, opt};
use crate::stats::bootstrap::percentile_bootstrap;
use std::collections::{BTreeMap, HashMap};

/// Bootstrap resamples of the frontier's intervals.
const RESAMPLES: usize = 2000;
/// Flagged trials the page lists (all are in `tables/serving.csv`).
const FLAGGED_SHOWN: usize = 100;

/// One treatment on the frontier.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierPoint {
    /// Treatment index.
    pub run: i64,
    /// Model name.
    pub model: String,
    /// Generation label (its colour).
    pub generation: String,
    /// Task.
    pub task: String,
    /// Load level.
    pub level: LoadLevel,
    /// Mean gold accuracy over the repetitions.
    pub accuracy: f64,
    /// Energy per correct answer: Σ energy / Σ correct answers, J.
    pub energy_per_correct_j: f64,
    /// Its 95 % bootstrap interval (repetitions resampled), J.
    pub ci: Option<(f64, f64)>,
    /// 90th percentile TPOT over the treatment's requests, ms.
    pub tpot_p90_ms: Option<f64>,
    /// Accuracy per watt: accuracy / mean power, 1/W.
    pub accuracy_per_w: Option<f64>,
    /// Pareto-optimal on (energy per correct ↓, accuracy ↑).
    pub pareto_accuracy: bool,
    /// Pareto-optimal on (energy per correct ↓, p90 TPOT ↓).
    pub pareto_latency: bool,
}

/// The section.
#[derive(Debug, Clone, Default)]
pub struct ServingSection {
    /// Shown at all (millisecond data).
    pub shown: bool,
    /// Sentences.
    pub findings: Vec<String>,
    /// Main metrics per load level and model.
    pub levels: Table,
    /// Latencies per model and load level.
    pub latency: Table,
    /// The frontier per treatment.
    pub frontier: Table,
    /// The frontier's points (for its figures).
    pub points: Vec<FrontierPoint>,
    /// Why there is no frontier, when there is none.
    pub no_frontier: Option<String>,
    /// Each gate's pass / fail / not evaluable counts.
    pub gates: Table,
    /// The flagged trials (the first [`FLAGGED_SHOWN`]).
    pub flagged: Table,
    /// Trials failing at least one gate.
    pub flagged_count: usize,
    /// Trials with at least one gate not evaluable.
    pub unevaluated_count: usize,
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The points not dominated by another: lower `x` is better when `x_lower`, lower `y` always.
pub fn pareto(points: &[(f64, f64)], x_lower: bool) -> Vec<bool> {
    let better_x = |a: f64, b: f64| if x_lower { a <= b } else { a >= b };
    points
        .iter()
        .map(|&(x, y)| {
            !points
                .iter()
                .any(|&(x2, y2)| better_x(x2, x) && y2 <= y && (x2 != x || y2 != y))
        })
        .collect()
}

impl ServingSection {
    /// Builds the section from the model (every trial, every level).
    pub fn new(study: &Study, seed: u64) -> Self {
        let shown = study.trials.iter().any(|t| t.time_resolution_ms < 1000);
        if !shown {
            return Self::default();
        }
        let mut s = Self {
            shown,
            ..Self::default()
        };
        let levels = study.load_levels();
        s.level_tables(study, &levels);
        s.frontier(study, seed);
        s.gate_tables(study);
        s
    }

    /// The per-level table and the latency table, per (level, model).
    fn level_tables(&mut self, study: &Study, levels: &[LoadLevel]) {
        let mut groups: BTreeMap<(usize, String), Vec<usize>> = BTreeMap::new();
        for (i, m) in study.metrics.iter().enumerate() {
            let l = levels
                .iter()
                .position(|l| *l == LoadLevel::of(&m.key))
                .unwrap_or(0);
            groups.entry((l, m.key.model.to_string())).or_default().push(i);
        }
        let level_name = |l: &LoadLevel| {
            let n = l.to_string();
            if n.is_empty() { "—".to_string() } else { n }
        };
        self.levels = Table::new(
            "Main metrics per load level and model (trial means; steady-state J/token over the trials that have a steady state; accuracy: gold labels where judged, else the published scores)",
            &[
                "load level",
                "model",
                "trials",
                "J/token",
                "steady J/token",
                "power (W)",
                "tokens/s",
                "accuracy",
                "accuracy per kW",
            ],
            2,
        );
        self.latency = Table::new(
            "Latencies per model and load level, ms: TTFT and TPOT percentiles over the successful requests; inter-token latency (ITL) as the median over requests of each request's own p50, p90 and p99 gap between chunks; every percentile from log-linear histograms, within 1 % of the exact value",
            &[
                "load level",
                "model",
                "requests",
                "TTFT p50",
                "TTFT p90",
                "TTFT p99",
                "TPOT p50",
                "TPOT p90",
                "TPOT p99",
                "ITL p50",
                "ITL p90",
                "ITL p99",
            ],
            2,
        );
        for ((l, model), idx) in &groups {
            let rows: Vec<&dataset::MetricsRow> = idx.iter().map(|&i| &study.metrics[i]).collect();
            let serving: Vec<&crate::model::Serving> = idx.iter().map(|&i| &study.serving[i]).collect();
            let per_token: Vec<f64> = rows.iter().filter_map(|r| r.energy_per_token).collect();
            let steady: Vec<f64> = serving
                .iter()
                .filter_map(|s| s.steady.and_then(|x| x.energy_per_token_j()))
                .collect();
            let power: Vec<f64> = rows.iter().filter_map(|r| r.power_w).collect();
            let rate: Vec<f64> = rows
                .iter()
                .filter(|r| r.duration_s > 0.0)
                .map(|r| r.tokens as f64 / r.duration_s)
                .collect();
            let accuracy: Vec<f64> = rows
                .iter()
                .filter_map(|r| r.accuracy_gold.or(r.accuracy))
                .collect();
            let (acc, p) = (mean(&accuracy), mean(&power));
            let per_kw = acc.zip(p).filter(|(_, p)| *p > 0.0).map(|(a, p)| a / p * 1000.0);
            self.levels.push(vec![
                level_name(&levels[*l]),
                model.clone(),
                rows.len().to_string(),
                opt(mean(&per_token)),
                opt(mean(&steady)),
                opt(p),
                opt(mean(&rate)),
                acc.map_or("–".into(), |a| fixed(a, 3)),
                opt(per_kw),
            ]);
            let mut runs: Vec<i64> = rows.iter().map(|r| r.key.run).collect();
            runs.dedup();
            let mut sketch = LatencySketch::default();
            for run in &runs {
                if let Some(s) = study.latency.get(run) {
                    sketch.merge(s);
                }
            }
            if sketch.ttft.is_empty() && sketch.tpot.is_empty() && sketch.itl_p50.is_empty() {
                continue;
            }
            let at = |h, x| opt(LatencySketch::quantile_ms(h, x));
            self.latency.push(vec![
                level_name(&levels[*l]),
                model.clone(),
                sketch.ttft.len().to_string(),
                at(&sketch.ttft, 0.5),
                at(&sketch.ttft, 0.9),
                at(&sketch.ttft, 0.99),
                at(&sketch.tpot, 0.5),
                at(&sketch.tpot, 0.9),
                at(&sketch.tpot, 0.99),
                at(&sketch.itl_p50, 0.5),
                at(&sketch.itl_p90, 0.5),
                at(&sketch.itl_p99, 0.5),
            ]);
        }
        if levels.len() > 1 {
            self.findings.push(format!(
                "The trials ran at {} load levels ({}); the research questions above are answered within the first, \
                 and every level's tests are in tables/tests.csv and tables/descriptive.csv (column load).",
                levels.len(),
                levels.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ));
        }
    }

    /// The frontier: energy per correct answer (gold) against accuracy and p90 TPOT.
    fn frontier(&mut self, study: &Study, seed: u64) {
        let mut correct: HashMap<&str, f64> = HashMap::new();
        for j in study.judgments.iter().filter(|j| j.scorer == GOLD_SCORER) {
            if let Some(v) = j.score {
                *correct.entry(j.run_id.as_str()).or_default() += v;
            }
        }
        if correct.is_empty() {
            self.no_frontier = Some(
                "No energy–accuracy–latency frontier: the dataset has no gold-label judgments (run `judge --gold` \
                 to add them), so energy per correct answer cannot be computed."
                    .into(),
            );
            return;
        }
        let mut by_run: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, m) in study.metrics.iter().enumerate() {
            by_run.entry(m.key.run).or_default().push(i);
        }
        for (run, idx) in by_run {
            let first = &study.metrics[idx[0]].key;
            let pairs: Vec<(f64, f64)> = idx
                .iter()
                .filter_map(|&i| {
                    let m = &study.metrics[i];
                    Some((m.energy_j?, *correct.get(m.key.run_id.as_str())?))
                })
                .collect();
            let (e, c): (f64, f64) = pairs.iter().fold((0.0, 0.0), |(a, b), p| (a + p.0, b + p.1));
            if c <= 0.0 {
                continue;
            }
            let accuracy: Vec<f64> = idx
                .iter()
                .filter_map(|&i| study.metrics[i].accuracy_gold)
                .collect();
            let Some(accuracy) = mean(&accuracy) else {
                continue;
            };
            let power: Vec<f64> = idx.iter().filter_map(|&i| study.metrics[i].power_w).collect();
            let positions: Vec<f64> = (0..pairs.len()).map(|k| k as f64).collect();
            let ci = percentile_bootstrap(&positions, RESAMPLES, seed ^ run as u64, |sample| {
                let (e, c) = sample.iter().fold((0.0, 0.0), |(a, b), &k| {
                    let p = pairs[k as usize];
                    (a + p.0, b + p.1)
                });
                if c > 0.0 { e / c } else { f64::NAN }
            });
            self.points.push(FrontierPoint {
                run,
                model: first.model.to_string(),
                generation: first.generation.to_string(),
                task: first.task.to_string(),
                level: LoadLevel::of(first),
                accuracy,
                energy_per_correct_j: e / c,
                ci,
                tpot_p90_ms: study
                    .latency
                    .get(&run)
                    .and_then(|s| LatencySketch::quantile_ms(&s.tpot, 0.9)),
                accuracy_per_w: mean(&power).filter(|p| *p > 0.0).map(|p| accuracy / p),
                pareto_accuracy: false,
                pareto_latency: false,
            });
        }
        let by_accuracy: Vec<(f64, f64)> = self
            .points
            .iter()
            .map(|p| (p.accuracy, p.energy_per_correct_j))
            .collect();
        for (p, on) in self.points.iter_mut().zip(pareto(&by_accuracy, false)) {
            p.pareto_accuracy = on;
        }
        let with_latency: Vec<usize> = (0..self.points.len())
            .filter(|&i| self.points[i].tpot_p90_ms.is_some())
            .collect();
        let by_latency: Vec<(f64, f64)> = with_latency
            .iter()
            .map(|&i| {
                (
                    self.points[i].tpot_p90_ms.unwrap_or(f64::NAN),
                    self.points[i].energy_per_correct_j,
                )
            })
            .collect();
        for (&i, on) in with_latency.iter().zip(pareto(&by_latency, true)) {
            self.points[i].pareto_latency = on;
        }
        self.frontier = Table::new(
            "The energy–accuracy–latency frontier per treatment: energy per correct answer (gold labels; Σ energy / Σ correct answers over the repetitions, 95 % bootstrap interval over repetitions), accuracy, p90 TPOT and accuracy per kW; ★ marks a Pareto-optimal treatment (no other uses less energy per correct answer and is more accurate, or faster at p90)",
            &[
                "treatment",
                "model",
                "task",
                "load level",
                "J per correct answer",
                "95 % interval",
                "accuracy",
                "p90 TPOT (ms)",
                "accuracy per kW",
                "Pareto (accuracy)",
                "Pareto (latency)",
            ],
            4,
        );
        for p in &self.points {
            self.frontier.push(vec![
                p.run.to_string(),
                p.model.clone(),
                p.task.clone(),
                p.level.to_string(),
                num(p.energy_per_correct_j),
                p.ci.map_or("–".into(), |(a, b)| format!("{} – {}", num(a), num(b))),
                fixed(p.accuracy, 3),
                opt(p.tpot_p90_ms),
                opt(p.accuracy_per_w.map(|a| a * 1000.0)),
                if p.pareto_accuracy {
                    "★".into()
                } else {
                    String::new()
                },
                if p.pareto_latency {
                    "★".into()
                } else {
                    String::new()
                },
            ]);
        }
        let on: Vec<String> = self
            .points
            .iter()
            .filter(|p| p.pareto_accuracy)
            .map(|p| format!("{} × {}{}", p.model, p.task, level_suffix(&p.level)))
            .collect();
        self.findings.push(format!(
            "{} of {} treatments are Pareto-optimal in energy per correct answer against accuracy: {}.",
            on.len(),
            self.points.len(),
            on.join("; ")
        ));
    }

    /// The gate counts and the flagged trials.
    fn gate_tables(&mut self, study: &Study) {
        self.gates = Table::new(
            "Validity gates over all trials: a gate that cannot be evaluated (a channel, the baseline or the load not recorded) counts as no pass",
            &["gate", "pass", "fail", "not evaluable", "rule"],
            1,
        )
        .text_column(4);
        let rules = [
            "steady state ≥ 30 s at concurrency above 1 (and under arrivals)",
            "every GPU power sample in the window within [idle − 10 %, power limit]",
            "NVML energy counter and integrated power within 5 %",
            "no gap between samples longer than 3 sampling intervals",
            "GPU temperature rises by at most 5 °C over the trial",
        ];
        for (g, name) in Gates::NAMES.iter().enumerate() {
            let (p, f, n) = tally(study.serving.iter().map(|s| s.gates.all()[g]));
            self.gates.push(vec![
                (*name).to_string(),
                p.to_string(),
                f.to_string(),
                n.to_string(),
                rules[g].to_string(),
            ]);
        }
        self.flagged = Table::new(
            format!(
                "Trials failing a gate (flagged, never left out; the first {FLAGGED_SHOWN}, all in tables/serving.csv)"
            ),
            &[
                "trial",
                "model",
                "task",
                "load level",
                "failed gates",
                "steady state (s)",
                "largest gap (intervals)",
                "temperature rise (°C)",
            ],
            5,
        );
        for (m, s) in study.metrics.iter().zip(study.serving.iter()) {
            if s.gates.all().contains(&None) {
                self.unevaluated_count += 1;
            }
            let failed = s.gates.failed();
            if failed.is_empty() {
                continue;
            }
            self.flagged_count += 1;
            if self.flagged.rows.len() < FLAGGED_SHOWN {
                self.flagged.push(vec![
                    m.key.run_id.to_string(),
                    m.key.model.to_string(),
                    m.key.task.to_string(),
                    LoadLevel::of(&m.key).to_string(),
                    failed.join(", "),
                    opt(s.steady.map(|x| x.duration_s())),
                    opt(s.values.largest_gap_intervals),
                    opt(s.values.temperature_rise_c),
                ]);
            }
        }
        self.findings.push(format!(
            "{} of {} trials fail at least one validity gate (flagged, not left out); {} have a gate that cannot be evaluated.",
            self.flagged_count,
            study.metrics.len(),
            self.unevaluated_count
        ));
    }
}

/// ` at concurrency 8`, or nothing without a load level.
fn level_suffix(l: &LoadLevel) -> String {
    let s = l.to_string();
    if s.is_empty() { s } else { format!(" at {s}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pareto_set_holds_the_points_no_other_beats_on_both_axes() {
        // (accuracy ↑, energy ↓): (0.9, 10) and (0.7, 5) are optimal; (0.8, 12) is beaten by
        // (0.9, 10); a duplicate of an optimal point stays optimal.
        let p = [(0.9, 10.0), (0.7, 5.0), (0.8, 12.0), (0.9, 10.0)];
        assert_eq!(pareto(&p, false), vec![true, true, false, true]);
        // (latency ↓, energy ↓): (20, 3) beats (30, 4).
        assert_eq!(
            pareto(&[(20.0, 3.0), (30.0, 4.0), (10.0, 9.0)], true),
            vec![true, false, true]
        );
    }
}
