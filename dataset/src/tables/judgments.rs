//! `judgments/<scorer>.parquet`: scores of individual responses.

crate::table! {
    /// One row per (request, scorer): a score of one response. The import stores the study's
    /// own LLM-judge scores under the scorer `published_relevancy`.
    #[table(name = "judgments", file = "judgments/<scorer>.parquet")]
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Judgment {
        /// Trial identifier.
        pub run_id: String,
        /// `index` of the judged request.
        pub request_index: i64,
        /// Who scored: `published_relevancy`, `gold`, `judge:<model>:<rubric>`.
        pub scorer: String,
        /// The score; null when no score could be given (see `reason`).
        #[unit("[0, 1]")]
        pub score: Option<f64>,
        /// Why the score is what it is, or why it is null.
        pub reason: Option<String>,
        /// Scorer-specific details (extracted decision, verdicts, judge tokens).
        #[unit("JSON")]
        pub details: Option<String>,
    }
}
