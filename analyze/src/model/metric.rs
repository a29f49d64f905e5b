//! The vocabulary of the analysis: the [`Metric`]s a research question compares, the two
//! [`Level`]s it is tested at, and how model sizes and generation labels order.

use dataset::MetricsRow;

/// A per-trial quantity the research questions compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Energy of the trial's inference window, J.
    Energy,
    /// Energy per billion parameters, J/B.
    JPerB,
    /// Energy per generated token, J/token.
    EnergyPerToken,
    /// Mean power over the window, W.
    Power,
    /// Length of the window, s.
    Duration,
    /// Generated tokens.
    Tokens,
    /// Published accuracy (the study's LLM-judge relevancy).
    Accuracy,
    /// Gold-label accuracy (`judge --gold`).
    AccuracyGold,
    /// LLM-judge accuracy (`judge`).
    AccuracyJudge,
}

impl Metric {
    /// Every metric, in the order of the tables.
    pub const ALL: [Metric; 9] = [
        Metric::Energy,
        Metric::JPerB,
        Metric::EnergyPerToken,
        Metric::Power,
        Metric::Duration,
        Metric::Tokens,
        Metric::Accuracy,
        Metric::AccuracyGold,
        Metric::AccuracyJudge,
    ];

    /// The three accuracy metrics, published first.
    pub const ACCURACIES: [Metric; 3] = [Metric::Accuracy, Metric::AccuracyGold, Metric::AccuracyJudge];

    /// Column name in the tables (`energy_j`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Energy => "energy_j",
            Metric::JPerB => "j_per_b",
            Metric::EnergyPerToken => "energy_per_token",
            Metric::Power => "power_w",
            Metric::Duration => "duration_s",
            Metric::Tokens => "tokens",
            Metric::Accuracy => "accuracy",
            Metric::AccuracyGold => "accuracy_gold",
            Metric::AccuracyJudge => "accuracy_judge",
        }
    }

    /// Position in [`Metric::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The metric's value for one trial; None when it was not measured, cannot be computed
    /// (no tokens, a size that does not parse) or is not finite.
    pub fn of(self, row: &MetricsRow) -> Option<f64> {
        let v = match self {
            Metric::Energy => row.energy_j,
            Metric::JPerB => size_in_billions(&row.key.model_size).and_then(|b| row.energy_j.map(|j| j / b)),
            Metric::EnergyPerToken => row.energy_per_token,
            Metric::Power => row.power_w,
            Metric::Duration => Some(row.duration_s),
            Metric::Tokens => Some(row.tokens as f64),
            Metric::Accuracy => row.accuracy,
            Metric::AccuracyGold => row.accuracy_gold,
            Metric::AccuracyJudge => row.accuracy_judge,
        };
        v.filter(|v| v.is_finite())
    }
}

/// Run or trial level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// One value per treatment: the mean over its repetitions.
    Run,
    /// One value per trial (repetition).
    Trial,
}

impl Level {
    /// Both levels, run first (the honest unit).
    pub const BOTH: [Level; 2] = [Level::Run, Level::Trial];

    /// Label in the tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Run => "run",
            Level::Trial => "trial",
        }
    }
}

/// Parses a size label (`7B`, `6.7B`, `135M`) into billions of parameters.
pub fn size_in_billions(label: &str) -> Option<f64> {
    let t = label.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix(['B', 'b']) {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix(['M', 'm']) {
        (n, 1e-3)
    } else if let Some(n) = t.strip_suffix(['T', 't']) {
        (n, 1e3)
    } else {
        (t, 1.0)
    };
    num.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| *v > 0.0)
        .map(|v| v * scale)
}

/// Sort key of a generation label.
pub type GenerationKey = (u8, Vec<u64>, String);

/// Orders generation labels numerically (`2 < 3 < 3.1 < 3.2 < 10`), non-numeric labels last.
pub fn generation_key(label: &str) -> GenerationKey {
    let parts: Option<Vec<u64>> = label.split('.').map(|p| p.parse::<u64>().ok()).collect();
    match parts {
        Some(p) => (0, p, String::new()),
        None => (1, Vec::new(), label.to_string()),
    }
}

/// Sort key of a model configuration: generation, then size (unparsable sizes last).
pub fn configuration_key(generation: &str, size: &str) -> (GenerationKey, u64) {
    let size_key = size_in_billions(size).map_or(u64::MAX, |b| (b * 1e6) as u64);
    (generation_key(generation), size_key)
}

/// A configuration as in the tables (`Gen3.2_1B`).
pub fn configuration_label(generation: &str, size: &str) -> String {
    format!("Gen{generation}_{size}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_to_billions() {
        assert_eq!(size_in_billions("7B"), Some(7.0));
        assert_eq!(size_in_billions("6.7B"), Some(6.7));
        assert_eq!(size_in_billions("17B"), Some(17.0));
        assert_eq!(size_in_billions("135M"), Some(0.135));
        assert_eq!(size_in_billions("big"), None);
    }

    #[test]
    fn generations_order_numerically() {
        let mut g = vec!["3.2", "10", "3", "2", "3.1"];
        g.sort_by_key(|x| generation_key(x));
        assert_eq!(g, ["2", "3", "3.1", "3.2", "10"]);
    }

    #[test]
    fn metrics_are_indexed_in_table_order() {
        for (i, m) in Metric::ALL.iter().enumerate() {
            assert_eq!(m.index(), i);
        }
    }
}
