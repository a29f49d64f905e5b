//! `derived/request_metrics.parquet`: the energy of each request.

crate::table! {
    /// Derived (schema 2): one row per request of trials with millisecond timestamps: counters
    /// differenced and power integrated over the request's own window, values interpolated at
    /// its edges (corrected accounting). Concurrent requests overlap, so their energies add up
    /// to more than the trial's.
    #[table(name = "request_metrics", file = "derived/request_metrics.parquet")]
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct RequestMetricsRow {
        /// Trial identifier.
        #[since(2)]
        pub run_id: String,
        /// Request index.
        #[since(2)]
        pub index: i64,
        /// Request start.
        #[since(2)]
        #[unit("ms since Unix epoch")]
        pub start_ms: i64,
        /// Request end.
        #[since(2)]
        #[unit("ms since Unix epoch")]
        pub end_ms: i64,
        /// CPU package energy in the request's window; null when not measured.
        #[since(2)]
        #[unit("J")]
        pub cpu_j: Option<f64>,
        /// GPU energy in the request's window; null when not measured.
        #[since(2)]
        #[unit("J")]
        pub gpu_j: Option<f64>,
        /// DRAM energy; null when not measured.
        #[since(2)]
        #[unit("J")]
        pub dram_j: Option<f64>,
        /// The sum of the measured components; null when nothing was measured.
        #[since(2)]
        #[unit("J")]
        pub energy_j: Option<f64>,
        /// Which components energy_j sums (`cpu+gpu+dram`, `gpu`); null when none.
        #[since(4)]
        pub energy_components: Option<String>,
        /// Generated tokens.
        #[since(2)]
        #[unit("tokens")]
        pub completion_tokens: Option<i64>,
        /// energy_j / completion_tokens.
        #[since(2)]
        #[unit("J/token")]
        pub energy_per_token: Option<f64>,
        /// Time to first token.
        #[since(2)]
        #[unit("ms")]
        pub ttft_ms: Option<f64>,
    }
}
