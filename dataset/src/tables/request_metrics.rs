//! `derived/request_metrics.parquet`: the energy of each request.

crate::table! {
    /// Derived (schema 2): one row per request of trials with millisecond timestamps. Since
    /// schema 5, `energy_j` is the request's attributed share of the trial's energy (each
    /// sample interval split across the requests in flight by the tokens they processed in
    /// it; docs/accounting.md), so the requests of a trial plus its `unattributed_energy_j`
    /// add up to its energy; `window_energy_j` and the components are the integral over the
    /// request's own window (corrected accounting), which overlapping requests share.
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
        /// CPU package energy in the request's own window; null when not measured.
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
        /// The request's attributed share of the trial's energy (before schema 5: its own
        /// window's, now `window_energy_j`); null when nothing was measured.
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
        /// energy_j / completion_tokens (attributed energy per generated token).
        #[since(2)]
        #[unit("J/token")]
        pub energy_per_token: Option<f64>,
        /// Time to first token.
        #[since(2)]
        #[unit("ms")]
        pub ttft_ms: Option<f64>,
        /// The sum of the measured components over the request's own window (overlapping
        /// requests count the same joules); null when nothing was measured.
        #[since(5)]
        #[unit("J")]
        pub window_energy_j: Option<f64>,
        /// The part of `energy_j` attributed to its prefill (send → first chunk).
        #[since(5)]
        #[unit("J")]
        pub prefill_energy_j: Option<f64>,
        /// The part of `energy_j` attributed to its decode (first chunk → end).
        #[since(5)]
        #[unit("J")]
        pub decode_energy_j: Option<f64>,
        /// `measured` when the request was alone in flight for its whole window, `shared`
        /// when others overlapped it; null when not attributed.
        #[since(5)]
        pub attribution: Option<String>,
        /// Error bound of `energy_j`: the energy of the sample intervals holding the request's
        /// start and end (how energy was spread inside them is not measured).
        #[since(5)]
        #[unit("J")]
        pub attribution_error_j: Option<f64>,
        /// ML.ENERGY's attribution for comparison: the trial's energy per generated token ×
        /// the request's generated tokens.
        #[since(5)]
        #[unit("J")]
        pub mlenergy_energy_j: Option<f64>,
        /// Time per output token after the first: (end − first chunk) / (completion_tokens −
        /// 1); null without a TTFT or with fewer than two tokens.
        #[since(5)]
        #[unit("ms")]
        pub tpot_ms: Option<f64>,
        /// Median gap between consecutive content chunks (inter-token latency when each chunk
        /// carries one token), from `chunk_offsets_us`; null with fewer than two chunks.
        #[since(5)]
        #[unit("ms")]
        pub itl_p50_ms: Option<f64>,
        /// 90th percentile of those gaps.
        #[since(5)]
        #[unit("ms")]
        pub itl_p90_ms: Option<f64>,
        /// 99th percentile of those gaps.
        #[since(5)]
        #[unit("ms")]
        pub itl_p99_ms: Option<f64>,
    }
}
