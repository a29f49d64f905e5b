//! The run level, computed in this one place: each treatment's mean over its repetitions, for
//! every [`Metric`].

use super::metric::Metric;
use dataset::MetricsRow;
use std::collections::BTreeMap;

/// One treatment at run level.
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
    /// Mean of each metric over the repetitions that have it, by [`Metric::index`].
    means: [Option<f64>; Metric::ALL.len()],
}

impl RunMean {
    /// The treatment's mean of a metric; None when no repetition has it.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        self.means[metric.index()]
    }
}

/// The run level of some trials: one [`RunMean`] per treatment, sorted by treatment index. A
/// metric's mean is over the trials that have it (sum in trial order, divided by their count).
pub fn run_means<'a>(trials: impl IntoIterator<Item = &'a MetricsRow>) -> Vec<RunMean> {
    let mut by_run: BTreeMap<i64, Vec<&MetricsRow>> = BTreeMap::new();
    for t in trials {
        by_run.entry(t.key.run).or_default().push(t);
    }
    by_run
        .into_iter()
        .map(|(run, rows)| {
            let first = rows[0];
            let mut means = [None; Metric::ALL.len()];
            for m in Metric::ALL {
                let (sum, n) = rows
                    .iter()
                    .filter_map(|r| m.of(r))
                    .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
                means[m.index()] = (n > 0).then(|| sum / n as f64);
            }
            RunMean {
                run,
                generation: first.key.generation.to_string(),
                model_size: first.key.model_size.to_string(),
                task: first.key.task.to_string(),
                repetitions: rows.len(),
                means,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataset::TrialKey;

    fn row(run: i64, rep: i64, energy_j: f64, accuracy: Option<f64>) -> MetricsRow {
        MetricsRow {
            key: TrialKey {
                run_id: format!("run_{run}_repetition_{rep}").into(),
                run,
                repetition: rep,
                generation: "3".into(),
                model_size: "8B".into(),
                model: "m".into(),
                task: "CB".into(),
                ..Default::default()
            },
            energy_j: Some(energy_j),
            accuracy,
            ..Default::default()
        }
    }

    #[test]
    fn a_run_mean_averages_each_metric_over_the_trials_that_have_it() {
        let rows = [
            row(1, 0, 10.0, Some(0.5)),
            row(0, 0, 2.0, None),
            row(1, 1, 20.0, None),
        ];
        let runs = run_means(&rows);
        assert_eq!(runs.iter().map(|r| r.run).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(runs[1].repetitions, 2);
        assert_eq!(runs[1].get(Metric::Energy), Some(15.0));
        assert_eq!(runs[1].get(Metric::JPerB), Some(15.0 / 8.0));
        assert_eq!(runs[1].get(Metric::Accuracy), Some(0.5));
        assert_eq!(runs[0].get(Metric::Accuracy), None);
    }
}
