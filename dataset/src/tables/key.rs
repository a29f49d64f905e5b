//! The identity of a trial, shared by the run table, the trial rows and the metrics: which
//! repetition of which treatment, and the treatment's design factors. Declared once and
//! embedded (`#[flatten]`) by every table that names a trial in full; a new design factor
//! (load, power limit, testbed) is one more field here, with `#[since(N)]` and an `Option`.

use compact_str::CompactString;

crate::table! {
    /// Which trial of which treatment: the run id, the treatment and repetition indices, and
    /// the design factors of the treatment. The text fields are `CompactString`s, held inline
    /// up to 24 bytes (every run id, model, size and task name in practice), so the copies of a
    /// key a large study's model keeps per trial cost no heap allocation.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct TrialKey {
        /// Trial identifier, `run_<R>_repetition_<K>`; unique in the dataset.
        pub run_id: CompactString,
        /// Treatment index R (one model x task combination).
        pub run: i64,
        /// Repetition index K within the treatment, from 0.
        pub repetition: i64,
        /// Model generation label, normalised (`2`, `3`, `3.1`, `3.2`: `2.0` is written `2`).
        pub generation: CompactString,
        /// Model size label as published (`7B`, `6.7B`); parsed to billions of parameters by
        /// analyze.
        pub model_size: CompactString,
        /// Model name (as served, or `Llama-<generation>-<size>` for imported data).
        pub model: CompactString,
        /// Task name (`BoolQ`, `CB`, `COPA`, `RTE`, `WiC`, `WSC`).
        pub task: CompactString,
        /// Load: requests kept in flight at once (closed loop), or the cap on requests in flight
        /// under an arrival process (null: no cap); null for imported data.
        #[since(6)]
        pub concurrency: Option<i64>,
        /// Load: open-loop Poisson arrival rate, requests/s; null for a closed loop.
        #[since(6)]
        pub arrival_rate_per_s: Option<f64>,
        /// GPU power limit the trial ran under when it is a factor of the design, W (set through
        /// NVML before the trial, restored after); null when it is not a factor.
        #[since(6)]
        pub power_limit_w: Option<f64>,
        /// Locked GPU SM clock when it is a factor of the design, MHz; null when it is not.
        #[since(6)]
        pub sm_clock_mhz: Option<i64>,
    }
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
