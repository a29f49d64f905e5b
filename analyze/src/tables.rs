//! Writing the statistics tables: the two long tables (`descriptive.csv`, `tests.csv`), the
//! per-trial metrics, and per-question CSVs mirroring the study's table set. The CSV rows are
//! declared with the contract's [`dataset::table!`], so every table is written by one writer.

use crate::model::serving::{SteadyState, gate_label};
use crate::model::{Level, LoadLevel, Serving, Study};
use crate::questions::{DescriptiveRow, Family, Rq, Tables, Test, TestRow};
use anyhow::Result;
use dataset::tables::{Columns, write_csv_file};
use dataset::{MetricsRow, TrialKey};
use std::path::{Path, PathBuf};

dataset::table! {
    /// One row of `descriptive.csv`: a metric described within one group.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct DescriptiveRecord {
        /// Research question (`RQ1.1`).
        pub rq: String,
        /// `corrected` or `published`.
        pub accounting: String,
        /// `run` or `trial`.
        pub level: String,
        /// Metric name.
        pub metric: String,
        /// Group label (`3.1`, `Gen3.2_1B`).
        pub group: String,
        /// Observations.
        pub n: i64,
        /// Mean.
        pub mean: Option<f64>,
        /// Median.
        pub median: Option<f64>,
        /// Sample variance.
        pub var: Option<f64>,
        /// Sample standard deviation.
        pub sd: Option<f64>,
        /// Smallest value.
        pub min: Option<f64>,
        /// Largest value.
        pub max: Option<f64>,
        /// Interquartile range.
        pub iqr: Option<f64>,
        /// 95 % bootstrap interval of the mean, lower end.
        pub mean_ci_low: Option<f64>,
        /// Upper end.
        pub mean_ci_high: Option<f64>,
        /// 95 % bootstrap interval of the median, lower end.
        pub median_ci_low: Option<f64>,
        /// Upper end.
        pub median_ci_high: Option<f64>,
        /// Task the rows were restricted to (RQ2), empty otherwise.
        pub subset: String,
        /// Load level the rows were computed within (`concurrency 8`); empty when the study
        /// has one level.
        pub load: String,
    }
}

dataset::table! {
    /// One row of `tests.csv`: one test (or one pair of a pairwise test).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct TestRecord {
        /// Research question.
        pub rq: String,
        /// `corrected` or `published`.
        pub accounting: String,
        /// `run` or `trial`.
        pub level: String,
        /// Metric name (`energy_j`, or `energy_j~tokens` for a correlation).
        pub metric: String,
        /// Test name (`kruskal_wallis`, `dunn`, ...).
        pub test: String,
        /// Empty for omnibus tests, `A - B` for pairs, the group for per-group correlations.
        pub comparison: String,
        /// Statistic (H, z, F, W, t, U, ρ).
        pub statistic: Option<f64>,
        /// Estimate of a contrast (`art_contrast`: difference of mean aligned ranks, in rank
        /// units as ARTool's).
        pub estimate: Option<f64>,
        /// Its standard error (same units).
        pub se: Option<f64>,
        /// Degrees of freedom.
        pub df: Option<f64>,
        /// Denominator degrees of freedom.
        pub df2: Option<f64>,
        /// p-value.
        pub p_value: Option<f64>,
        /// Adjusted p-value.
        pub p_adjusted: Option<f64>,
        /// Effect size.
        pub effect_size: Option<f64>,
        /// Its name.
        pub effect_name: String,
        /// 95 % interval of the effect size, lower end.
        pub effect_ci_low: Option<f64>,
        /// Upper end.
        pub effect_ci_high: Option<f64>,
        /// Observations.
        pub n: i64,
        /// Task the rows were restricted to (RQ2), empty otherwise.
        pub subset: String,
        /// Why a test could not be computed.
        pub note: String,
        /// Load level the test was computed within; empty when the study has one level.
        pub load: String,
    }
}

fn finite(v: f64) -> Option<f64> {
    Some(v).filter(|v| v.is_finite())
}

impl From<&DescriptiveRow> for DescriptiveRecord {
    fn from(d: &DescriptiveRow) -> Self {
        let s = &d.stats;
        Self {
            rq: d.rq.label().into(),
            accounting: d.accounting.as_str().into(),
            level: d.level.as_str().into(),
            metric: d.metric.name().into(),
            group: d.group.clone(),
            n: s.n as i64,
            mean: finite(s.mean),
            median: finite(s.median),
            var: finite(s.var),
            sd: finite(s.sd),
            min: finite(s.min),
            max: finite(s.max),
            iqr: finite(s.iqr),
            mean_ci_low: finite(s.mean_ci.0),
            mean_ci_high: finite(s.mean_ci.1),
            median_ci_low: finite(s.median_ci.0),
            median_ci_high: finite(s.median_ci.1),
            subset: d.subset.clone().unwrap_or_default(),
            load: String::new(),
        }
    }
}

impl From<&TestRow> for TestRecord {
    fn from(t: &TestRow) -> Self {
        let effect = t.effect.as_ref();
        Self {
            rq: t.rq.label().into(),
            accounting: t.accounting.as_str().into(),
            level: t.level.as_str().into(),
            metric: t.metric_name(),
            test: t.test.name().into(),
            comparison: t.comparison.clone(),
            statistic: finite(t.statistic),
            estimate: t.estimate.and_then(finite),
            se: t.se.and_then(finite),
            df: t.df.and_then(finite),
            df2: t.df2.and_then(finite),
            p_value: finite(t.p_value),
            p_adjusted: t.p_adjusted.and_then(finite),
            effect_size: effect.and_then(|e| finite(e.value)),
            effect_name: effect.map_or("", |e| e.name).into(),
            effect_ci_low: effect.and_then(|e| e.ci).and_then(|c| finite(c.0)),
            effect_ci_high: effect.and_then(|e| e.ci).and_then(|c| finite(c.1)),
            n: t.n as i64,
            subset: t.subset.clone().unwrap_or_default(),
            note: t.note.clone(),
            load: String::new(),
        }
    }
}

/// Writes every table into `dir/tables/` and returns the files written.
pub fn write_all(dir: &Path, study: &Study, tables: &Tables) -> Result<Vec<PathBuf>> {
    let out = dir.join("tables");
    let mut written = Vec::new();
    fn put<'a, T: Columns + 'a>(
        written: &mut Vec<PathBuf>,
        path: PathBuf,
        rows: impl IntoIterator<Item = &'a T>,
    ) -> Result<()> {
        write_csv_file(&path, rows)?;
        written.push(path);
        Ok(())
    }
    put::<MetricsRow>(&mut written, out.join("metrics.csv"), &study.metrics)?;
    // One row per trial, made as it is written (never held whole).
    let serving = out.join("serving.csv");
    dataset::tables::write_csv_file_from(
        &serving,
        study
            .metrics
            .iter()
            .zip(study.serving.iter())
            .map(|(m, s)| ServingRecord::new(&m.key, s)),
    )?;
    written.push(serving);
    // The reference level's tables, then every other level's (the `load` column says which).
    let mut descriptive: Vec<(Rq, DescriptiveRecord)> = Vec::new();
    let mut tests: Vec<(Rq, Test, TestRecord)> = Vec::new();
    for (level, t) in tables.by_level() {
        let load = level.to_string();
        descriptive.extend(t.descriptive.iter().map(|d| {
            (
                d.rq,
                DescriptiveRecord {
                    load: load.clone(),
                    ..d.into()
                },
            )
        }));
        tests.extend(t.tests.iter().map(|r| {
            (
                r.rq,
                r.test,
                TestRecord {
                    load: load.clone(),
                    ..r.into()
                },
            )
        }));
    }
    put(
        &mut written,
        out.join("descriptive.csv"),
        descriptive.iter().map(|d| &d.1),
    )?;
    put(&mut written, out.join("tests.csv"), tests.iter().map(|t| &t.2))?;
    for rq in Rq::ALL {
        if !descriptive.iter().any(|d| d.0 == rq) && !tests.iter().any(|t| t.0 == rq) {
            continue;
        }
        let stem = rq.stem();
        put(
            &mut written,
            out.join(format!("{stem}_descriptive.csv")),
            descriptive.iter().filter(|d| d.0 == rq).map(|d| &d.1),
        )?;
        for family in Family::ALL {
            let rows: Vec<&TestRecord> = tests
                .iter()
                .filter(|t| t.0 == rq && t.1.family() == family)
                .map(|t| &t.2)
                .collect();
            if !rows.is_empty() {
                put(
                    &mut written,
                    out.join(format!("{stem}_{}.csv", family.name())),
                    rows,
                )?;
            }
        }
    }
    Ok(written)
}

dataset::table! {
    /// One row of `serving.csv` (and the gate columns of `analyze audit --csv`): a trial's
    /// steady state and validity gates (docs/report.md, "Steady state and validity gates").
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ServingRecord {
        #[flatten]
        /// Which trial.
        pub key: TrialKey,
        /// Its load level as the report names it (`concurrency 8`); empty without load factors.
        pub load: String,
        /// Start of the steady state (ML.ENERGY's definition); null without one.
        #[unit("ms since Unix epoch")]
        pub steady_start_ms: Option<i64>,
        /// End of the steady state.
        #[unit("ms since Unix epoch")]
        pub steady_end_ms: Option<i64>,
        /// Length of the steady state.
        #[unit("s")]
        pub steady_duration_s: Option<f64>,
        /// Corrected energy within the steady state.
        #[unit("J")]
        pub steady_energy_j: Option<f64>,
        /// Tokens generated within the steady state.
        #[unit("tokens")]
        pub steady_tokens: Option<f64>,
        /// steady_energy_j / steady_tokens.
        #[unit("J/token")]
        pub steady_energy_per_token_j: Option<f64>,
        /// Steady state of at least 30 s at concurrency above 1: `pass`, `fail`, empty when it cannot be evaluated.
        pub gate_steady_state: Option<String>,
        /// Every GPU power sample in the window within [idle − 10 %, power limit].
        pub gate_power_range: Option<String>,
        /// NVML's energy counter and the integrated power agree within 5 %.
        pub gate_counter_agreement: Option<String>,
        /// No gap between samples longer than 3 sampling intervals.
        pub gate_sample_gaps: Option<String>,
        /// No GPU warmer by more than 5 °C at the end of the trial than at its start.
        pub gate_temperature: Option<String>,
        /// The gates that failed, `+`-joined; empty when none did.
        pub gates_failed: String,
        /// Mean idle GPU power of the baseline (summed over GPUs).
        #[unit("W")]
        pub idle_gpu_w: Option<f64>,
        /// GPU power limit (the design's, else the provenance's; the smallest over GPUs).
        #[unit("W")]
        pub power_limit_w_recorded: Option<f64>,
        /// Lowest GPU power sample in the window.
        #[unit("W")]
        pub gpu_power_min_w: Option<f64>,
        /// Highest GPU power sample in the window.
        #[unit("W")]
        pub gpu_power_max_w: Option<f64>,
        /// Largest |counter − integral| / counter over the GPUs.
        pub counter_difference: Option<f64>,
        /// Longest gap between samples, in sampling intervals.
        pub largest_gap_intervals: Option<f64>,
        /// Largest rise of a GPU's temperature over the trial.
        #[unit("°C")]
        pub temperature_rise_c: Option<f64>,
    }
}

impl ServingRecord {
    /// The record of one trial.
    pub fn new(key: &TrialKey, s: &Serving) -> Self {
        let g = &s.gates;
        let steady = s.steady.as_ref();
        Self {
            key: key.clone(),
            load: LoadLevel::of(key).to_string(),
            steady_start_ms: steady.map(|x| x.start_ms),
            steady_end_ms: steady.map(|x| x.end_ms),
            steady_duration_s: steady.map(SteadyState::duration_s),
            steady_energy_j: steady.and_then(|x| x.energy_j),
            steady_tokens: steady.map(|x| x.tokens),
            steady_energy_per_token_j: steady.and_then(SteadyState::energy_per_token_j),
            gate_steady_state: gate_label(g.steady_state).map(String::from),
            gate_power_range: gate_label(g.power_range).map(String::from),
            gate_counter_agreement: gate_label(g.counter_agreement).map(String::from),
            gate_sample_gaps: gate_label(g.sample_gaps).map(String::from),
            gate_temperature: gate_label(g.temperature).map(String::from),
            gates_failed: g.failed().join("+"),
            idle_gpu_w: s.values.idle_gpu_w,
            power_limit_w_recorded: s.values.power_limit_w,
            gpu_power_min_w: s.values.gpu_power_min_w,
            gpu_power_max_w: s.values.gpu_power_max_w,
            counter_difference: s.values.counter_difference,
            largest_gap_intervals: s.values.largest_gap_intervals,
            temperature_rise_c: s.values.temperature_rise_c,
        }
    }
}

/// The serving record of every trial, in the model's order.
pub fn serving_records(study: &Study) -> Vec<ServingRecord> {
    study
        .metrics
        .iter()
        .zip(study.serving.iter())
        .map(|(m, s)| ServingRecord::new(&m.key, s))
        .collect()
}

/// A short plain-text summary of the omnibus results, for the terminal.
pub fn summary_text(tables: &Tables) -> String {
    if tables.others.is_empty() {
        return summary_of_level(tables);
    }
    // Several load levels: one summary per level, each under its name.
    tables
        .by_level()
        .map(|(level, t)| format!("load level: {level}\n{}", summary_of_level(t)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// [`summary_text`] of the tables of one load level.
fn summary_of_level(tables: &Tables) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<7} {:<6} {:<18} {:<8} {:>10} {:>4} {:>10} {:>8}",
        "rq", "level", "metric", "subset", "H", "df", "p", "eps2"
    );
    for t in tables.tests.iter().filter(|t| t.test == Test::KruskalWallis) {
        let _ = writeln!(
            out,
            "{:<7} {:<6} {:<18} {:<8} {:>10.3} {:>4} {:>10.3e} {:>8.3}",
            t.rq.label(),
            t.level.as_str(),
            t.metric_name(),
            t.subset.as_deref().unwrap_or(""),
            t.statistic,
            t.df.map_or(String::new(), |d| format!("{d}")),
            t.p_value,
            t.effect.as_ref().map_or(f64::NAN, |e| e.value)
        );
    }
    let honest = tables.tests.iter().filter(|t| t.level == Level::Run).count();
    let _ = writeln!(
        out,
        "\n{honest} run-level tests (the honest unit), {} in all.",
        tables.tests.len()
    );
    out
}
