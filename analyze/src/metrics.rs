//! `analyze metrics`: the per-trial table of energy, duration, tokens, power and accuracy under
//! one accounting, as a polars frame (for the statistics and the report) and as files.

use crate::import::PUBLISHED_SCORER;
use crate::load::Loaded;
use anyhow::{Context, Result};
use dataset::accounting::metrics_row;
use dataset::{Accounting, MetricsRow};
use polars::prelude::*;
use rayon::prelude::*;
use std::path::Path;

/// Computes the metrics row of every loaded trial.
pub fn compute(loaded: &Loaded, accounting: Accounting) -> Vec<MetricsRow> {
    let scores = loaded.scores(PUBLISHED_SCORER);
    loaded
        .trials
        .par_iter()
        .map(|t| {
            let s = scores.get(t.trial.run_id.as_str()).map_or(&[][..], Vec::as_slice);
            metrics_row(&t.trial, &t.requests, &t.samples, s, accounting)
        })
        .collect()
}

/// The metrics rows as a polars frame, columns in the contract's order.
pub fn frame(rows: &[MetricsRow]) -> PolarsResult<DataFrame> {
    let n = rows.len();
    let text = |name: &str, f: fn(&MetricsRow) -> &str| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    let int = |name: &str, f: fn(&MetricsRow) -> i64| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    let float = |name: &str, f: fn(&MetricsRow) -> f64| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    let opt = |name: &str, f: fn(&MetricsRow) -> Option<f64>| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    DataFrame::new(
        n,
        vec![
            text("run_id", |r| &r.run_id),
            int("run", |r| r.run),
            int("repetition", |r| r.repetition),
            text("generation", |r| &r.generation),
            text("model_size", |r| &r.model_size),
            text("task", |r| &r.task),
            float("cpu_j", |r| r.cpu_j),
            float("gpu_j", |r| r.gpu_j),
            opt("dram_j", |r| r.dram_j),
            float("energy_j", |r| r.energy_j),
            float("duration_s", |r| r.duration_s),
            int("tokens", |r| r.tokens),
            opt("energy_per_token", |r| r.energy_per_token),
            opt("power_w", |r| r.power_w),
            opt("accuracy", |r| r.accuracy),
            text("model", |r| &r.model),
            text("accounting", |r| &r.accounting),
            int("samples_in_window", |r| r.samples_in_window),
            int("requests", |r| r.requests),
            text("gpu_source", |r| &r.gpu_source),
            int("cpu_wraps", |r| r.cpu_wraps),
            int("backwards_samples", |r| r.backwards_samples),
            Column::new(
                "simulated".into(),
                rows.iter().map(|r| r.simulated).collect::<Vec<_>>(),
            ),
        ],
    )
}

/// Writes a frame as CSV (atomically: temporary file, then rename).
pub fn write_csv(df: &mut DataFrame, path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create folder", dir.display()))?;
    }
    let tmp = dataset::table::temp_path(path);
    let file = std::fs::File::create(&tmp).with_context(|| format!("{}: cannot create", tmp.display()))?;
    let result = CsvWriter::new(file)
        .include_header(true)
        .finish(df)
        .map_err(|e| anyhow::Error::from(e).context(format!("{}: cannot write CSV", path.display())))
        .and_then(|()| {
            std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot write", path.display()))
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
