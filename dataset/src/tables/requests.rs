//! `trials/<part>/requests.parquet`: one row per prompt sent.

crate::table! {
    /// One row per prompt sent during a trial, in the order sent.
    #[table(name = "requests", file = "trials/<part>/requests.parquet")]
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Request {
        /// Trial identifier.
        pub run_id: String,
        /// Position of the request within the trial, from 0.
        pub index: i64,
        /// Task item id (`idx` of `<Task>.jsonl`); null when unknown.
        pub item_id: Option<i64>,
        /// Gold label of the task item as text: JSON strings as they are (`entailment`),
        /// booleans `true`/`false`, numbers `0`/`1`; null when unknown.
        pub gold_label: Option<String>,
        /// Prompt text as sent (the published data replaced tabs and newlines by spaces).
        pub prompt: String,
        /// Response text (empty when the request failed).
        pub response: String,
        /// When the request was sent (floored to whole seconds in the published data).
        #[unit("ms since Unix epoch")]
        pub start_ms: i64,
        /// When the last byte of the answer arrived (floored to whole seconds in the published
        /// data).
        #[unit("ms since Unix epoch")]
        pub end_ms: i64,
        /// Time to first token; null when not measured.
        #[unit("ms")]
        pub ttft_ms: Option<f64>,
        /// Prompt tokens as reported by the server's `usage`; null when unknown.
        #[unit("tokens")]
        pub prompt_tokens: Option<i64>,
        /// Generated tokens (server `usage`, or the published `response_tokens`, counted with
        /// the model's tokenizer).
        #[unit("tokens")]
        pub completion_tokens: Option<i64>,
        /// Why generation stopped (`stop`, `length`, ...); null when unknown.
        pub finish_reason: Option<String>,
        /// Error of a failed request; null when it succeeded.
        pub error: Option<String>,
        /// True when the server sent no `usage` and completion_tokens counts streamed chunks
        /// instead.
        #[since(2)]
        pub tokens_estimated: Option<bool>,
        /// Sampling seed sent with the request.
        #[since(2)]
        pub seed: Option<i64>,
        /// Attempts made (1 = no retry).
        #[since(2)]
        pub attempts: Option<i64>,
        /// Streamed content chunks received.
        #[since(2)]
        pub chunks: Option<i64>,
        /// Mean gap between consecutive streamed chunks.
        #[since(2)]
        #[unit("ms")]
        pub gap_mean_ms: Option<f64>,
        /// Median gap between chunks.
        #[since(2)]
        #[unit("ms")]
        pub gap_p50_ms: Option<f64>,
        /// 95th percentile gap between chunks.
        #[since(2)]
        #[unit("ms")]
        pub gap_p95_ms: Option<f64>,
        /// Largest gap between chunks.
        #[since(2)]
        #[unit("ms")]
        pub gap_max_ms: Option<f64>,
        /// Arrival of each streamed content chunk, µs after `start_ms` on collect's clock (the
        /// sampler's), in arrival order: inter-token latency and the work done in any sample
        /// interval follow from it. Null when not recorded (imported data, older files).
        #[since(5)]
        #[unit("µs after start_ms")]
        pub chunk_offsets_us: Option<Vec<i64>>,
        /// Tokens generated in each content chunk, where the server reports a running count
        /// (`usage` on every chunk, e.g. vLLM's `continuous_usage_stats`); null otherwise.
        #[since(5)]
        #[unit("tokens")]
        pub chunk_tokens: Option<Vec<i64>>,
    }
}

/// The columns a timing-only read leaves undecoded (the bulk of the file).
pub const TEXT_COLUMNS: [&str; 2] = ["prompt", "response"];
