//! `analyze metrics`: the per-trial table of energy, duration, tokens, power and accuracy under
//! one accounting, as a polars frame (for the statistics and the report) and as files.

use crate::import::PUBLISHED_SCORER;
use crate::load::Loaded;
use anyhow::Result;
use dataset::accounting::{apply_baseline, baseline_power_w, metrics_row, request_metrics};
use dataset::{Accounting, MetricsRow, RequestMetricsRow};
use polars::prelude::*;
use rayon::prelude::*;
use std::path::Path;

/// Scorer name of `judge`'s gold-label scorer.
pub const GOLD_SCORER: &str = "gold";
/// Prefix of `judge`'s LLM-judge scorers (`judge:<model>:<rubric>`).
pub const JUDGE_SCORER_PREFIX: &str = "judge:";

fn mean(v: Option<&Vec<f64>>) -> Option<f64> {
    v.filter(|v| !v.is_empty())
        .map(|v| v.iter().sum::<f64>() / v.len() as f64)
}

/// Computes the metrics row of every loaded trial: the accounting, the judges' accuracies and,
/// when collect measured an idle baseline, the energy above idle.
pub fn compute(loaded: &Loaded, accounting: Accounting) -> Vec<MetricsRow> {
    let published = loaded.scores(PUBLISHED_SCORER);
    let gold = loaded.scores(GOLD_SCORER);
    let judge = loaded.scores_with_prefix(JUDGE_SCORER_PREFIX);
    loaded
        .trials
        .par_iter()
        .map(|t| {
            let id = t.trial.key.run_id.as_str();
            let s = published.get(id).map_or(&[][..], Vec::as_slice);
            let mut row = metrics_row(&t.trial, &t.requests, &t.samples, s, accounting);
            row.accuracy_gold = mean(gold.get(id));
            row.accuracy_judge = mean(judge.get(id));
            if let Some(p) = t.baseline.as_ref().and_then(baseline_power_w) {
                apply_baseline(&mut row, p);
            }
            row
        })
        .collect()
}

/// The energy of every request of the trials with millisecond timestamps (collect's data).
pub fn compute_requests(loaded: &Loaded) -> Vec<RequestMetricsRow> {
    loaded
        .trials
        .par_iter()
        .flat_map_iter(|t| request_metrics(&t.trial, &t.requests, &t.samples))
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
            text("run_id", |r| &r.key.run_id),
            int("run", |r| r.key.run),
            int("repetition", |r| r.key.repetition),
            text("generation", |r| &r.key.generation),
            text("model_size", |r| &r.key.model_size),
            text("task", |r| &r.key.task),
            float("cpu_j", |r| r.cpu_j),
            float("gpu_j", |r| r.gpu_j),
            opt("dram_j", |r| r.dram_j),
            float("energy_j", |r| r.energy_j),
            float("duration_s", |r| r.duration_s),
            int("tokens", |r| r.tokens),
            opt("energy_per_token", |r| r.energy_per_token),
            opt("power_w", |r| r.power_w),
            opt("accuracy", |r| r.accuracy),
            text("model", |r| &r.key.model),
            text("accounting", |r| r.accounting.as_str()),
            int("samples_in_window", |r| r.samples_in_window),
            int("requests", |r| r.requests),
            text("gpu_source", |r| r.gpu_source.as_str()),
            int("cpu_wraps", |r| r.cpu_wraps),
            int("backwards_samples", |r| r.backwards_samples),
            Column::new(
                "simulated".into(),
                rows.iter().map(|r| r.simulated).collect::<Vec<_>>(),
            ),
            opt("accuracy_gold", |r| r.accuracy_gold),
            opt("accuracy_judge", |r| r.accuracy_judge),
            opt("baseline_power_w", |r| r.baseline_power_w),
            opt("idle_energy_j", |r| r.idle_energy_j),
            opt("energy_above_idle_j", |r| r.energy_above_idle_j),
        ],
    )
}

/// Writes a frame as CSV (atomically: temporary file, then rename).
pub fn write_csv(df: &mut DataFrame, path: &Path) -> Result<()> {
    dataset::io::write_with(path, false, |file| {
        CsvWriter::new(file)
            .include_header(true)
            .finish(df)
            .map_err(|e| dataset::DatasetError::invalid(path, format!("cannot write CSV: {e}")))
    })?;
    Ok(())
}

/// Per-request energy rows as a polars frame.
pub fn request_frame(rows: &[RequestMetricsRow]) -> PolarsResult<DataFrame> {
    DataFrame::new(
        rows.len(),
        vec![
            Column::new(
                "run_id".into(),
                rows.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(),
            ),
            Column::new("index".into(), rows.iter().map(|r| r.index).collect::<Vec<_>>()),
            Column::new(
                "start_ms".into(),
                rows.iter().map(|r| r.start_ms).collect::<Vec<_>>(),
            ),
            Column::new("end_ms".into(), rows.iter().map(|r| r.end_ms).collect::<Vec<_>>()),
            Column::new("cpu_j".into(), rows.iter().map(|r| r.cpu_j).collect::<Vec<_>>()),
            Column::new("gpu_j".into(), rows.iter().map(|r| r.gpu_j).collect::<Vec<_>>()),
            Column::new("dram_j".into(), rows.iter().map(|r| r.dram_j).collect::<Vec<_>>()),
            Column::new(
                "energy_j".into(),
                rows.iter().map(|r| r.energy_j).collect::<Vec<_>>(),
            ),
            Column::new(
                "completion_tokens".into(),
                rows.iter().map(|r| r.completion_tokens).collect::<Vec<_>>(),
            ),
            Column::new(
                "energy_per_token".into(),
                rows.iter().map(|r| r.energy_per_token).collect::<Vec<_>>(),
            ),
            Column::new(
                "ttft_ms".into(),
                rows.iter().map(|r| r.ttft_ms).collect::<Vec<_>>(),
            ),
        ],
    )
}
