//! `trials/<part>/trial.parquet`: one row per executed trial, and its [`TrialStatus`].

use super::Label;
use super::key::TrialKey;

/// Outcome of a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrialStatus {
    /// Every request was sent and recorded.
    #[default]
    Done,
    /// The trial could not be completed; see `failure_reason`.
    Failed,
}

impl Label for TrialStatus {
    const WHAT: &'static str = "trial status";
    fn as_str(self) -> &'static str {
        match self {
            TrialStatus::Done => "done",
            TrialStatus::Failed => "failed",
        }
    }
    /// `done`/`failed`, case-insensitive (the published data say `DONE`).
    fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "done" => Some(TrialStatus::Done),
            "failed" => Some(TrialStatus::Failed),
            _ => None,
        }
    }
}

crate::label_value!(TrialStatus);

crate::table! {
    /// One row per executed trial (the row of `runs` plus what happened).
    #[table(name = "trials", file = "trials/<part>/trial.parquet")]
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Trial {
        #[flatten]
        /// Which trial of which treatment.
        pub key: TrialKey,
        /// `done` (every request answered or recorded with its error) or `failed` (see
        /// `failure_reason`).
        pub status: TrialStatus,
        /// Why a failed trial failed; null when done.
        pub failure_reason: Option<String>,
        /// Start of the first request (the inference window opens).
        #[unit("ms since Unix epoch")]
        pub start_ms: i64,
        /// End of the last request (the inference window closes, see `time_resolution_ms`).
        #[unit("ms since Unix epoch")]
        pub end_ms: i64,
        /// Resolution of the request timestamps: 1000 for the published data (whole seconds,
        /// floored), 1 for `collect`. A request that ends at `end_ms` ended before
        /// `end_ms + time_resolution_ms`.
        #[unit("ms")]
        pub time_resolution_ms: i64,
        /// Nominal interval between energy samples (200 for the published data).
        #[unit("ms")]
        pub sample_interval_ms: Option<f64>,
        /// True when the trial came from a fake endpoint or a scripted energy source
        /// (`collect --demo`): never real measurements.
        pub simulated: bool,
        /// JSON object: where the trial came from (source files with sizes and xxh3-128
        /// hashes, tool versions, hardware, EnergiBridge's own summary).
        #[unit("JSON")]
        pub provenance: String,
        /// Energy sources sampled, comma-separated (`nvml,rapl,procfs`, `fake`).
        #[since(2)]
        pub energy_sources: Option<String>,
        /// CPU time the sampler thread itself used during the trial (its own cost).
        #[since(2)]
        #[unit("s")]
        pub sampler_cpu_s: Option<f64>,
        /// Start of the idle baseline window measured before the trial; null without baseline.
        #[since(2)]
        #[unit("ms since Unix epoch")]
        pub baseline_start_ms: Option<i64>,
        /// End of the idle baseline window; its samples are in `baseline.parquet`.
        #[since(2)]
        #[unit("ms since Unix epoch")]
        pub baseline_end_ms: Option<i64>,
        /// Where the trial was measured: `local` (collect on this machine) or the host name of
        /// the testbed agent that ran it (`collect --agent`); null for imported data.
        #[since(5)]
        pub testbed: Option<String>,
    }
}
