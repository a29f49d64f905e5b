//! Typed rows of the contract's tables. Each field's doc gives its unit; the column-level
//! documentation lives in [`crate::schema`].

/// One planned trial of the run table (`runs.parquet`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    /// Trial identifier, `run_<R>_repetition_<K>`.
    pub run_id: String,
    /// Treatment index R.
    pub run: i64,
    /// Repetition index K.
    pub repetition: i64,
    /// Position in the execution order, from 0.
    pub order: i64,
    /// Normalised generation label (`2`, `3.1`).
    pub generation: String,
    /// Size label (`7B`).
    pub model_size: String,
    /// Model name.
    pub model: String,
    /// Task name.
    pub task: String,
}

/// Outcome of a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrialStatus {
    /// Every request was sent and recorded.
    #[default]
    Done,
    /// The trial could not be completed; see `failure_reason`.
    Failed,
}

impl TrialStatus {
    /// The label stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            TrialStatus::Done => "done",
            TrialStatus::Failed => "failed",
        }
    }

    /// Parses a stored label (`done`/`failed`, case-insensitive; the published `DONE` too).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "done" => Some(TrialStatus::Done),
            "failed" => Some(TrialStatus::Failed),
            _ => None,
        }
    }
}

/// One executed trial (a row of `trials/<part>/trial.parquet`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trial {
    /// Trial identifier.
    pub run_id: String,
    /// Treatment index.
    pub run: i64,
    /// Repetition index.
    pub repetition: i64,
    /// Normalised generation label.
    pub generation: String,
    /// Size label.
    pub model_size: String,
    /// Model name.
    pub model: String,
    /// Task name.
    pub task: String,
    /// Outcome.
    pub status: TrialStatus,
    /// Why it failed.
    pub failure_reason: Option<String>,
    /// First request start, ms since the Unix epoch.
    pub start_ms: i64,
    /// Last request end, ms since the Unix epoch.
    pub end_ms: i64,
    /// Resolution of request timestamps, ms (1000 = whole seconds).
    pub time_resolution_ms: i64,
    /// Nominal sampling interval, ms.
    pub sample_interval_ms: Option<f64>,
    /// Simulated data (fake endpoint or scripted energy).
    pub simulated: bool,
    /// JSON object describing where the trial came from.
    pub provenance: String,
    /// Energy sources sampled (schema 2).
    pub energy_sources: Option<String>,
    /// CPU time of the sampler thread, s (schema 2).
    pub sampler_cpu_s: Option<f64>,
    /// Idle baseline window start, ms (schema 2).
    pub baseline_start_ms: Option<i64>,
    /// Idle baseline window end, ms (schema 2).
    pub baseline_end_ms: Option<i64>,
}

/// One request (a row of `trials/<part>/requests.parquet`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// Trial identifier.
    pub run_id: String,
    /// Position within the trial, from 0.
    pub index: i64,
    /// Task item id.
    pub item_id: Option<i64>,
    /// Gold label of the task item.
    pub gold_label: Option<String>,
    /// Prompt text.
    pub prompt: String,
    /// Response text.
    pub response: String,
    /// Send time, ms since the Unix epoch.
    pub start_ms: i64,
    /// Completion time, ms since the Unix epoch.
    pub end_ms: i64,
    /// Time to first token, ms.
    pub ttft_ms: Option<f64>,
    /// Prompt tokens.
    pub prompt_tokens: Option<i64>,
    /// Generated tokens.
    pub completion_tokens: Option<i64>,
    /// Why generation stopped.
    pub finish_reason: Option<String>,
    /// Error of a failed request.
    pub error: Option<String>,
    /// Token count estimated from chunks (schema 2).
    pub tokens_estimated: Option<bool>,
    /// Sampling seed (schema 2).
    pub seed: Option<i64>,
    /// Attempts made (schema 2).
    pub attempts: Option<i64>,
    /// Content chunks received (schema 2).
    pub chunks: Option<i64>,
    /// Mean inter-chunk gap, ms (schema 2).
    pub gap_mean_ms: Option<f64>,
    /// Median inter-chunk gap, ms (schema 2).
    pub gap_p50_ms: Option<f64>,
    /// 95th percentile inter-chunk gap, ms (schema 2).
    pub gap_p95_ms: Option<f64>,
    /// Largest inter-chunk gap, ms (schema 2).
    pub gap_max_ms: Option<f64>,
}

/// One score of one response (`judgments/<scorer>.parquet`).
#[derive(Debug, Clone, PartialEq)]
pub struct Judgment {
    /// Trial identifier.
    pub run_id: String,
    /// Index of the judged request.
    pub request_index: i64,
    /// Scorer name.
    pub scorer: String,
    /// Score in [0, 1]; None when no score could be given.
    pub score: Option<f64>,
    /// Why (or why not).
    pub reason: Option<String>,
    /// Scorer-specific JSON.
    pub details: Option<String>,
}

/// One row of the derived metrics table (`derived/metrics_<accounting>.parquet`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsRow {
    /// Trial identifier.
    pub run_id: String,
    /// Treatment index.
    pub run: i64,
    /// Repetition index.
    pub repetition: i64,
    /// Generation label.
    pub generation: String,
    /// Size label.
    pub model_size: String,
    /// Task name.
    pub task: String,
    /// CPU energy, J.
    pub cpu_j: f64,
    /// GPU energy, J.
    pub gpu_j: f64,
    /// DRAM energy, J (None when not measured).
    pub dram_j: Option<f64>,
    /// Total energy, J.
    pub energy_j: f64,
    /// Window length, s.
    pub duration_s: f64,
    /// Generated tokens.
    pub tokens: i64,
    /// J per generated token.
    pub energy_per_token: Option<f64>,
    /// Mean power, W.
    pub power_w: Option<f64>,
    /// Published accuracy.
    pub accuracy: Option<f64>,
    /// Model name.
    pub model: String,
    /// `corrected` or `published`.
    pub accounting: String,
    /// Samples used.
    pub samples_in_window: i64,
    /// Requests in the trial.
    pub requests: i64,
    /// How gpu_j was measured.
    pub gpu_source: String,
    /// CPU counter wraps in the window.
    pub cpu_wraps: i64,
    /// Samples left out for running backwards.
    pub backwards_samples: i64,
    /// Simulated data.
    pub simulated: bool,
    /// Mean gold-label score (schema 2).
    pub accuracy_gold: Option<f64>,
    /// Mean LLM-judge score (schema 2).
    pub accuracy_judge: Option<f64>,
    /// Idle baseline power, W (schema 2).
    pub baseline_power_w: Option<f64>,
    /// Idle energy over the window, J (schema 2).
    pub idle_energy_j: Option<f64>,
    /// Energy above idle, J (schema 2).
    pub energy_above_idle_j: Option<f64>,
}

/// The energy of one request (`derived/request_metrics.parquet`).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestMetricsRow {
    /// Trial identifier.
    pub run_id: String,
    /// Request index.
    pub index: i64,
    /// Start, ms since the epoch.
    pub start_ms: i64,
    /// End, ms since the epoch.
    pub end_ms: i64,
    /// CPU energy, J.
    pub cpu_j: f64,
    /// GPU energy, J.
    pub gpu_j: f64,
    /// DRAM energy, J.
    pub dram_j: Option<f64>,
    /// Total, J.
    pub energy_j: f64,
    /// Generated tokens.
    pub completion_tokens: Option<i64>,
    /// J per generated token.
    pub energy_per_token: Option<f64>,
    /// Time to first token, ms.
    pub ttft_ms: Option<f64>,
}

/// Normalises a generation label: `2.0` → `2`, `3.10` → `3.1`, surrounding space removed.
pub fn normalize_generation(label: &str) -> String {
    let t = label.trim();
    if let Some((int, frac)) = t.split_once('.') {
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            int.to_string()
        } else {
            format!("{int}.{frac}")
        }
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_labels_lose_trailing_zeros() {
        assert_eq!(normalize_generation("2.0"), "2");
        assert_eq!(normalize_generation(" 3.0 "), "3");
        assert_eq!(normalize_generation("3.1"), "3.1");
        assert_eq!(normalize_generation("3.20"), "3.2");
        assert_eq!(normalize_generation("2"), "2");
    }
}
