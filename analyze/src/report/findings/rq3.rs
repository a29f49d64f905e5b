//! RQ3: energy per output token (RQ3.1), average power and duration (RQ3.2, with why the
//! published power figures are 100× too small) and accuracy against energy (RQ3.3).

use super::{
    Section, Wording, both, correlation_table, correlations, csv_files, descriptive_table, tests_table,
};
use crate::audit::Audit;
use crate::model::{Level, Metric, Study};
use crate::questions::{Rq, Tables};

const PER_TOKEN: Wording = Wording {
    metric: Metric::EnergyPerToken,
    noun: "energy per output token",
    unit: "J/token",
    score: false,
    verb: "uses",
};

const POWER: Wording = Wording {
    metric: Metric::Power,
    noun: "average power",
    unit: "W",
    score: false,
    verb: "draws",
};

const ACCURACY: Wording = Wording {
    metric: Metric::Accuracy,
    noun: "accuracy",
    unit: "",
    score: true,
    verb: "scores",
};

/// RQ3.1: energy per output token by generation, and energy against output tokens.
pub(super) fn energy_per_token(study: &Study, t: &Tables) -> Section {
    let mut f = both(study, t, Rq::Rq3_1, PER_TOKEN, "generations");
    f.extend(correlations(
        study,
        t,
        Rq::Rq3_1,
        Level::Trial,
        (Metric::Energy, Metric::Tokens),
        "energy and output tokens",
    ));
    Section {
        rq: Rq::Rq3_1,
        title: "Energy per output token",
        question: "Does the energy per generated token differ between generations, and does energy follow the number of tokens?",
        findings: f,
        figures: vec!["rq3_1_energy_per_token_box", "rq3_1_tokens_scatter"],
        tables: vec![
            descriptive_table(
                study,
                t,
                Rq::Rq3_1,
                Metric::EnergyPerToken,
                None,
                "RQ3.1: energy per output token (J/token) by generation",
            ),
            tests_table(
                t,
                Rq::Rq3_1,
                Metric::EnergyPerToken,
                None,
                "RQ3.1: tests of energy per output token",
            ),
            correlation_table(
                study,
                t,
                Rq::Rq3_1,
                (Metric::Energy, Metric::Tokens),
                "RQ3.1: Spearman ρ of energy and output tokens",
            ),
        ],
        csv: csv_files(Rq::Rq3_1, true),
    }
}

/// RQ3.2: average power by generation, energy against duration, and the note on the
/// published power figures.
pub(super) fn power_and_duration(study: &Study, t: &Tables, audit: &Audit) -> Section {
    let mut f = both(study, t, Rq::Rq3_2, POWER, "generations");
    f.extend(correlations(
        study,
        t,
        Rq::Rq3_2,
        Level::Trial,
        (Metric::Energy, Metric::Duration),
        "energy and duration",
    ));
    f.push(power_x100(audit));
    Section {
        rq: Rq::Rq3_2,
        title: "Power and duration",
        question: "Does average power differ between generations, and does energy follow the duration?",
        findings: f,
        figures: vec!["rq3_2_power_box", "rq3_2_power_duration"],
        tables: vec![
            descriptive_table(
                study,
                t,
                Rq::Rq3_2,
                Metric::Power,
                None,
                "RQ3.2: average power (W) by generation",
            ),
            tests_table(t, Rq::Rq3_2, Metric::Power, None, "RQ3.2: tests of average power"),
            correlation_table(
                study,
                t,
                Rq::Rq3_2,
                (Metric::Energy, Metric::Duration),
                "RQ3.2: Spearman ρ of energy and duration",
            ),
        ],
        csv: csv_files(Rq::Rq3_2, true),
    }
}

/// RQ3.3: accuracy by generation and against energy (or why it cannot be answered).
pub(super) fn accuracy_and_energy(study: &Study, t: &Tables) -> Section {
    let has_accuracy = !t
        .described(Rq::Rq3_3, Level::Trial, Metric::Accuracy, None)
        .is_empty();
    let mut f = if has_accuracy {
        both(study, t, Rq::Rq3_3, ACCURACY, "generations")
    } else {
        vec!["No trial carries an accuracy score, so RQ3.3 cannot be answered for this dataset.".to_string()]
    };
    f.extend(correlations(
        study,
        t,
        Rq::Rq3_3,
        Level::Trial,
        (Metric::Energy, Metric::Accuracy),
        "energy and accuracy",
    ));
    if has_accuracy {
        f.push(
            "Accuracy is the mean of the trial's published LLM-judge answer-relevancy scores (the study \
             scored 5 of the 80 responses per trial), so it is a coarse measure."
                .to_string(),
        );
    }
    Section {
        rq: Rq::Rq3_3,
        title: "Accuracy and energy",
        question: "Does accuracy differ between generations, and is more energy associated with better answers?",
        findings: f,
        figures: if has_accuracy {
            vec!["rq3_3_accuracy_box", "rq3_3_accuracy_energy"]
        } else {
            vec![]
        },
        tables: if has_accuracy {
            vec![
                descriptive_table(
                    study,
                    t,
                    Rq::Rq3_3,
                    Metric::Accuracy,
                    None,
                    "RQ3.3: accuracy by generation",
                ),
                tests_table(t, Rq::Rq3_3, Metric::Accuracy, None, "RQ3.3: tests of accuracy"),
                correlation_table(
                    study,
                    t,
                    Rq::Rq3_3,
                    (Metric::Energy, Metric::Accuracy),
                    "RQ3.3: Spearman ρ of energy and accuracy",
                ),
            ]
        } else {
            vec![]
        },
        csv: csv_files(Rq::Rq3_3, true),
    }
}

/// The RQ3.2 note: the study's power figures are 100× too small, ours are not.
pub fn power_x100(audit: &Audit) -> String {
    let x = audit.totals();
    let base = "The published study's power figures are 100× too small: its statistics read the Edited \
                table's decimal-comma `time(s)` column (\"111,84\") as 11184 s, 100× the duration. Our \
                durations come from the samples themselves (docs/accounting.md), so the power above is in watts as measured.";
    if x.edited_checked > 0 {
        format!(
            "{base} The audit confirms it: read as the study did, {} of {} Edited-table durations are about 100× too long.",
            x.edited_time_x100, x.edited_checked
        )
    } else {
        format!(
            "{base} (The published tables were not found next to the data, so the audit could not check \
             this here; pass --published-tables DIR.)"
        )
    }
}
