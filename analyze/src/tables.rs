//! Writing the statistics tables: the two long tables (`descriptive.csv`, `tests.csv`), the
//! per-trial metrics, and per-question CSVs mirroring the study's table set. The CSV rows are
//! declared with the contract's [`dataset::table!`], so every table is written by one writer.

use crate::model::{Level, Study};
use crate::questions::{DescriptiveRow, Family, Rq, Tables, Test, TestRow};
use anyhow::Result;
use dataset::MetricsRow;
use dataset::tables::{Columns, write_csv_file};
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
    let descriptive: Vec<(Rq, DescriptiveRecord)> =
        tables.descriptive.iter().map(|d| (d.rq, d.into())).collect();
    let tests: Vec<(Rq, Test, TestRecord)> = tables.tests.iter().map(|t| (t.rq, t.test, t.into())).collect();
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

/// A short plain-text summary of the omnibus results, for the terminal.
pub fn summary_text(tables: &Tables) -> String {
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
