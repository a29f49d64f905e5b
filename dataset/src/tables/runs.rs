//! `runs.parquet`: the experiment design, one row per planned trial in execution order.

use super::key::TrialKey;

crate::table! {
    /// The experiment design: one row per planned trial (treatment x repetition), in execution
    /// order.
    #[table(name = "runs", file = "runs.parquet")]
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct RunRow {
        #[flatten]
        /// Which trial of which treatment.
        pub key: TrialKey,
        /// Position of the trial in the (shuffled) execution order, from 0.
        pub order: i64,
    }
}
