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
        /// CPU package energy in the request's window.
        #[since(2)]
        #[unit("J")]
        pub cpu_j: f64,
        /// GPU energy in the request's window.
        #[since(2)]
        #[unit("J")]
        pub gpu_j: f64,
        /// DRAM energy; null when not measured.
        #[since(2)]
        #[unit("J")]
        pub dram_j: Option<f64>,
        /// cpu_j + gpu_j + dram_j.
        #[since(2)]
        #[unit("J")]
        pub energy_j: f64,
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
