//! Writing the statistics tables: the two long tables (`descriptive.csv`, `tests.csv`), the
//! per-trial metrics, and per-question CSVs mirroring the study's table set.

use crate::metrics::write_csv;
use crate::questions::{Level, Tables};
use anyhow::Result;
use polars::prelude::*;
use std::path::{Path, PathBuf};

/// The study's table set, per research question: (file suffix, tests it holds).
const FAMILIES: [(&str, &[&str]); 4] = [
    ("assumptions", &["shapiro_wilk", "levene_median"]),
    ("omnibus", &["kruskal_wallis", "anova", "welch_anova"]),
    ("pairwise", &["dunn", "welch_t", "mann_whitney"]),
    ("correlations", &["spearman"]),
];

/// Writes every table into `dir/tables/` and returns the files written.
pub fn write_all(dir: &Path, trials: &DataFrame, tables: &Tables) -> Result<Vec<PathBuf>> {
    let out = dir.join("tables");
    let mut written = Vec::new();
    let mut put = |name: String, mut df: DataFrame| -> Result<()> {
        let path = out.join(name);
        write_csv(&mut df, &path)?;
        written.push(path);
        Ok(())
    };
    put("metrics.csv".into(), trials.clone())?;
    let descriptive = tables.descriptive_frame()?;
    let tests = tables.tests_frame()?;
    put("descriptive.csv".into(), descriptive.clone())?;
    put("tests.csv".into(), tests.clone())?;
    let mut rqs: Vec<String> = tables.tests.iter().map(|t| t.rq.clone()).collect();
    rqs.extend(tables.descriptive.iter().map(|d| d.rq.clone()));
    rqs.sort();
    rqs.dedup();
    for rq in rqs {
        let stem = rq.to_lowercase().replace('.', "_");
        let d = descriptive
            .clone()
            .lazy()
            .filter(col("rq").eq(lit(rq.clone())))
            .collect()?;
        put(format!("{stem}_descriptive.csv"), d)?;
        for (family, tests_in) in FAMILIES {
            let any_test = tests_in
                .iter()
                .map(|t| col("test").eq(lit(*t)))
                .reduce(|a, b| a.or(b))
                .unwrap_or_else(|| lit(false));
            let f = tests
                .clone()
                .lazy()
                .filter(col("rq").eq(lit(rq.clone())).and(any_test))
                .collect()?;
            if f.height() > 0 {
                put(format!("{stem}_{family}.csv"), f)?;
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
    for t in tables.tests.iter().filter(|t| t.test == "kruskal_wallis") {
        let _ = writeln!(
            out,
            "{:<7} {:<6} {:<18} {:<8} {:>10.3} {:>4} {:>10.3e} {:>8.3}",
            t.rq,
            t.level.as_str(),
            t.metric,
            t.subset,
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
