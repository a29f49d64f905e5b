//! The experiment at a glance: design (treatments, repetitions, prompts), totals under the
//! report's accounting, and where the data came from (the manifest and the trials' provenance
//! JSON: importer or collector, tool versions, hardware, energy sources, sampling).

use crate::model::{Study, configuration_label};
use crate::report::Inputs;
use crate::report::table::{Table, fixed, joules, num, seconds};
use std::collections::{BTreeMap, BTreeSet};

/// The experiment at a glance.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    /// True when the manifest or any trial is marked simulated.
    pub simulated: bool,
    /// Key figures as (label, value) pairs.
    pub facts: Vec<(String, String)>,
    /// Treatments: configurations × tasks, repetitions in each cell.
    pub design: Table,
    /// Provenance as (key, value) pairs.
    pub provenance: Vec<(String, String)>,
    /// The energy components measured (`cpu+gpu`, or `not measured`) with their trial counts.
    pub components: Vec<(String, usize)>,
    /// Set when treatments were measured with different components: what the energy figures
    /// of different treatments then compare.
    pub mixed_components: Option<String>,
    /// Set when damaged trials were left out (`--skip-damaged`).
    pub damaged: Option<Damaged>,
}

/// The damaged trials a report leaves out, for its banner.
#[derive(Debug, Clone, PartialEq)]
pub struct Damaged {
    /// What was left out, in one sentence.
    pub text: String,
    /// One line per skipped trial (`skipped: run_3_repetition_1 (… × CB): <file>: <reason>`).
    pub skipped: Vec<String>,
    /// The repetitions left of each treatment that lost some (`run 7 (Llama-3-8B × CB): 29 of
    /// 30 repetitions`).
    pub balance: Vec<String>,
}

impl Damaged {
    /// The banner of a study that skipped damaged trials; None when it skipped none.
    pub fn of(study: &Study) -> Option<Self> {
        if study.damage.is_empty() {
            return None;
        }
        // Paths inside the dataset: summary.md names no machine folder.
        let d = &study.damage.relative_to(&study.source.path);
        Some(Self {
            text: format!(
                "{}: this report leaves them out, and every number in it is computed without them.",
                d.headline()
            ),
            skipped: d.skipped_lines(),
            balance: d
                .balance(study.trials.iter().map(|t| &t.key))
                .iter()
                .map(ToString::to_string)
                .collect(),
        })
    }
}

/// The components each trial's energy sums, with their trial counts, most frequent first, and
/// a warning when treatments differ in them.
fn components(study: &Study) -> (Vec<(String, usize)>, Option<String>) {
    let label = |r: &dataset::MetricsRow| {
        r.energy_components
            .clone()
            .unwrap_or_else(|| "not measured".into())
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in &study.metrics {
        *counts.entry(label(r)).or_default() += 1;
    }
    let mut list: Vec<(String, usize)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if list.len() < 2 {
        return (list, None);
    }
    // Which treatments (model × task) and generations each set covers.
    let mut by_set: BTreeMap<String, (BTreeSet<i64>, BTreeSet<String>)> = BTreeMap::new();
    for r in &study.metrics {
        let e = by_set.entry(label(r)).or_default();
        e.0.insert(r.key.run);
        e.1.insert(study.label(&r.key.generation));
    }
    let parts: Vec<String> = by_set
        .iter()
        .map(|(set, (runs, gens))| {
            format!(
                "{set}: {} treatments ({})",
                runs.len(),
                gens.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    let warning = format!(
        "The trials were measured with different energy components — {}. Energy, power and J/token of \
         treatments measured with different components sum different things: compare them only within one \
         component set.",
        parts.join("; ")
    );
    (list, Some(warning))
}

/// A UTC date and time from ms since the Unix epoch (`2025-03-14 09:26 UTC`).
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Flattens a JSON value into `prefix.key = value` lines (objects only; arrays are summarised).
impl Overview {
    /// Collects the overview.
    pub fn new(inputs: &Inputs<'_>, study: &Study) -> Self {
        let rows = &study.metrics;
        let simulated = study.simulated();
        let requests: usize = rows.iter().map(|r| r.requests as usize).sum();
        let per_trial: BTreeSet<usize> = rows.iter().map(|r| r.requests as usize).collect();
        let energy: f64 = rows.iter().filter_map(|r| r.energy_j).sum();
        let duration: f64 = rows.iter().map(|r| r.duration_s).sum();
        let tokens: i64 = rows.iter().map(|r| r.tokens).sum();
        let (rep_min, rep_max) = study.repetitions();
        let span = |lo: usize, hi: usize| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}–{hi}")
            }
        };
        let generations: Vec<String> = study.generations.iter().map(|g| study.label(g)).collect();
        let (components, mixed_components) = components(study);
        let component_text = components
            .iter()
            .map(|(c, n)| format!("{c} ({n} trials)"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut facts = vec![
            ("Generations".to_string(), generations.join(", ")),
            (
                "Models".to_string(),
                study
                    .configurations
                    .iter()
                    .map(|(g, s)| configuration_label(g, s))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("Tasks".to_string(), study.tasks.join(", ")),
            (
                "Treatments".to_string(),
                format!(
                    "{} (model × task), {} repetitions each",
                    study.runs.len(),
                    span(rep_min, rep_max)
                ),
            ),
            ("Trials".to_string(), rows.len().to_string()),
            (
                "Prompts".to_string(),
                format!(
                    "{requests} requests, {} per trial",
                    span(
                        per_trial.first().copied().unwrap_or(0),
                        per_trial.last().copied().unwrap_or(0)
                    )
                ),
            ),
            ("Energy components".to_string(), component_text),
        ];
        // Where the trials were measured (collect records it; imported data do not).
        let mut testbeds: BTreeMap<&str, usize> = BTreeMap::new();
        for r in rows {
            if let Some(t) = &r.testbed {
                *testbeds.entry(t.as_str()).or_default() += 1;
            }
        }
        if !testbeds.is_empty() {
            let list: Vec<String> = testbeds
                .iter()
                .map(|(t, n)| format!("{t} ({n} trials)"))
                .collect();
            let note = if testbeds.len() > 1 {
                " — several machines measured this design: compare treatments within a testbed, or treat it as a block (the `testbed` column of `analyze metrics --csv`)"
            } else {
                ""
            };
            facts.push(("Testbeds".to_string(), format!("{}{note}", list.join(", "))));
        }
        facts.extend([
            (
                format!("Total energy ({} accounting)", inputs.accounting.as_str()),
                format!("{} ({} kWh)", joules(energy), fixed(energy / 3.6e6, 2)),
            ),
            (
                "Total inference time".to_string(),
                format!("{} (sum of the trials' inference windows)", seconds(duration)),
            ),
            (
                "Output tokens".to_string(),
                format!(
                    "{tokens} ({} J per token overall)",
                    if tokens > 0 {
                        num(energy / tokens as f64)
                    } else {
                        "–".into()
                    }
                ),
            ),
        ]);
        let start = study.trials.iter().map(|t| t.start_ms).min();
        let end = study.trials.iter().map(|t| t.end_ms).max();
        if let (Some(a), Some(b)) = (start, end) {
            facts.push(("Trials ran".to_string(), format!("{} to {}", utc(a), utc(b))));
        }

        let mut design = Table::new(
            "Treatments: repetitions per model configuration and task",
            &[
                &["configuration", "model"][..],
                &study.tasks.iter().map(String::as_str).collect::<Vec<_>>()[..],
            ]
            .concat(),
            2,
        );
        for (g, s) in &study.configurations {
            let model = rows
                .iter()
                .find(|r| r.key.generation == g && r.key.model_size == s)
                .map_or(String::new(), |r| r.key.model.to_string());
            let mut row = vec![configuration_label(g, s), model];
            for task in &study.tasks {
                let n: usize = study
                    .runs
                    .iter()
                    .filter(|r| &r.generation == g && &r.model_size == s && &r.task == task)
                    .map(|r| r.repetitions)
                    .sum();
                row.push(n.to_string());
            }
            design.push(row);
        }

        // Provenance: every key of the trials' JSON with its distinct values.
        let mut provenance: Vec<(String, String)> =
            vec![("dataset".to_string(), study.source.description.clone())];
        provenance.extend(study.provenance.entries());
        provenance.push((
            "energy channels used".to_string(),
            study
                .channels
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        ));
        let mut intervals: Vec<f64> = study.trials.iter().filter_map(|t| t.sample_interval_ms).collect();
        intervals.sort_by(f64::total_cmp);
        if let (Some(lo), Some(hi)) = (intervals.first(), intervals.last()) {
            provenance.push((
                "sample interval".to_string(),
                if lo == hi {
                    format!("{} ms", num(*lo))
                } else {
                    format!("{}–{} ms (median per trial)", num(*lo), num(*hi))
                },
            ));
        }
        let resolutions: BTreeSet<i64> = study.trials.iter().map(|t| t.time_resolution_ms).collect();
        provenance.push((
            "request time resolution".to_string(),
            resolutions
                .iter()
                .map(|r| format!("{r} ms"))
                .collect::<Vec<_>>()
                .join(", "),
        ));
        Self {
            simulated,
            facts,
            design,
            provenance,
            components,
            mixed_components,
            damaged: Damaged::of(study),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        // date -u -d @1741944360 → Fri Mar 14 09:26:00 UTC 2025
        assert_eq!(utc(1_741_944_360_000), "2025-03-14 09:26 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00 UTC");
    }
}
