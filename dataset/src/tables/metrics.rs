//! `derived/metrics_<accounting>.parquet`: one row per trial with its energy accounting, and
//! how the enums of the accounting are stored.

use super::Label;
use super::key::TrialKey;
use crate::accounting::{Accounting, GpuSource};

impl Label for Accounting {
    const WHAT: &'static str = "accounting";
    fn as_str(self) -> &'static str {
        Accounting::as_str(self)
    }
    fn parse(label: &str) -> Option<Self> {
        label.parse().ok()
    }
}

impl Label for GpuSource {
    const WHAT: &'static str = "GPU source";
    fn as_str(self) -> &'static str {
        GpuSource::as_str(self)
    }
    fn parse(label: &str) -> Option<Self> {
        GpuSource::parse(label)
    }
}

crate::label_value!(Accounting, GpuSource);

crate::table! {
    /// Derived: one row per trial with its energy accounting (`corrected` or `published`).
    /// Rewritten by `analyze metrics`.
    #[table(name = "metrics", file = "derived/metrics_<accounting>.parquet")]
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct MetricsRow {
        #[flatten]
        /// Which trial of which treatment.
        pub key: TrialKey,
        /// CPU package energy in the inference window; null when nothing measured it (no
        /// package counter, or in the corrected accounting one that never moves).
        #[unit("J")]
        pub cpu_j: Option<f64>,
        /// GPU energy in the inference window, summed over GPUs (the published accounting adds
        /// the CPU energy again here, as the study did); null without a GPU channel.
        #[unit("J")]
        pub gpu_j: Option<f64>,
        /// DRAM energy in the inference window; null when not measured (no counter, or in the
        /// corrected accounting one that never moves: the published data's 0 throughout).
        #[unit("J")]
        pub dram_j: Option<f64>,
        /// The sum of the measured components (see energy_components); null when nothing was
        /// measured.
        #[unit("J")]
        pub energy_j: Option<f64>,
        /// Which components energy_j sums: `cpu`, `gpu`, `dram` joined by `+`
        /// (`cpu+gpu+dram`, `gpu`); null when nothing was measured.
        #[since(4)]
        pub energy_components: Option<String>,
        /// Length of the inference window as measured by the samples (see
        /// docs/accounting.md).
        #[unit("s")]
        pub duration_s: f64,
        /// Generated tokens in the trial.
        #[unit("tokens")]
        pub tokens: i64,
        /// energy_j / tokens; null when no token was generated or no energy measured.
        #[unit("J/token")]
        pub energy_per_token: Option<f64>,
        /// energy_j / duration_s; null for a zero-length window or no energy measured.
        #[unit("W")]
        pub power_w: Option<f64>,
        /// Published accuracy: mean of the `published_relevancy` scores (the published
        /// accounting divides their sum by 5).
        #[unit("[0, 1]")]
        pub accuracy: Option<f64>,
        /// `corrected` or `published`.
        pub accounting: Accounting,
        /// Energy samples used.
        pub samples_in_window: i64,
        /// Requests in the trial.
        pub requests: i64,
        /// How gpu_j was measured: `energy_counter`, `power_integral`, `power_x_interval`
        /// (published), `mixed` or `none`.
        pub gpu_source: GpuSource,
        /// CPU package counter wraps inside the window.
        pub cpu_wraps: i64,
        /// Samples left out because their time ran backwards.
        pub backwards_samples: i64,
        /// True when the trial's data are simulated.
        pub simulated: bool,
        /// Mean of the trial's `gold` scores (gold-label scorer of `judge`); null when not
        /// judged.
        #[since(2)]
        #[unit("[0, 1]")]
        pub accuracy_gold: Option<f64>,
        /// Mean of the trial's `judge:<model>:<rubric>` scores (LLM judge); null when not
        /// judged.
        #[since(2)]
        #[unit("[0, 1]")]
        pub accuracy_judge: Option<f64>,
        /// Mean power of the idle baseline window measured before the trial (same
        /// accounting); null without baseline.
        #[since(2)]
        #[unit("W")]
        pub baseline_power_w: Option<f64>,
        /// baseline_power_w × duration_s: what the machine would have used idling.
        #[since(2)]
        #[unit("J")]
        pub idle_energy_j: Option<f64>,
        /// energy_j − idle_energy_j: the energy attributable to inference.
        #[since(2)]
        #[unit("J")]
        pub energy_above_idle_j: Option<f64>,
        /// Where the trial was measured (the trial's `testbed`: `local` or the agent's host
        /// name; null for imported data): a block for the statistics when several testbeds
        /// measured one design.
        #[since(5)]
        pub testbed: Option<String>,
        /// Energy of the trial's sample intervals with no request in flight (the rest is
        /// attributed to its requests, `request_metrics.energy_j`); null when not computed
        /// (whole-second data, or metrics computed without the per-request pass).
        #[since(5)]
        #[unit("J")]
        pub unattributed_energy_j: Option<f64>,
    }
}
