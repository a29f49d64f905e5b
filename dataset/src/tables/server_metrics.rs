//! `trials/<part>/server_metrics.parquet`: the model server's own metrics during a trial.

crate::table! {
    /// One row per metric sample the model server's Prometheus endpoint (`/metrics`) gave while
    /// the trial ran, scraped about once a second (vLLM: running and waiting requests,
    /// KV-cache usage, prefix-cache queries and hits, prefill and decode time histograms' sums
    /// and counts; histogram buckets are left out). Long format; the file is absent when the
    /// server exposes no metrics.
    #[table(name = "server_metrics", file = "trials/<part>/server_metrics.parquet")]
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ServerMetric {
        /// Trial identifier.
        #[since(5)]
        pub run_id: String,
        /// When the scrape's answer arrived, on collect's clock.
        #[since(5)]
        #[unit("ms since Unix epoch")]
        pub time_ms: i64,
        /// Metric name as the server writes it (`vllm:num_requests_running`).
        #[since(5)]
        pub metric: String,
        /// Its labels as the server writes them, without the braces (`model_name="m"`); empty
        /// when it has none.
        #[since(5)]
        pub labels: String,
        /// Its value.
        #[since(5)]
        pub value: f64,
    }
}
