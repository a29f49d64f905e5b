//! RQ3: energy per output token (RQ3.1), average power and duration (RQ3.2, with why the
//! published power figures are 100× too small) and accuracy against energy (RQ3.3).

use super::{
    Metric, Section, both, correlation_table, correlations, csv_files, descriptive, descriptive_table,
    tests_table,
};
use crate::audit::Audit;
use crate::questions::{Level, Tables};
use crate::report::study::Study;

const PER_TOKEN: Metric = Metric {
    name: "energy_per_token",
    noun: "energy per output token",
    unit: "J/token",
    score: false,
    verb: "uses",
};

const POWER: Metric = Metric {
    name: "power_w",
    noun: "average power",
    unit: "W",
    score: false,
    verb: "draws",
};

const ACCURACY: Metric = Metric {
    name: "accuracy",
    noun: "accuracy",
    unit: "",
    score: true,
    verb: "scores",
};

/// RQ3.1: energy per output token by generation, and energy against output tokens.
pub(super) fn energy_per_token(study: &Study<'_>, t: &Tables) -> Section {
    let mut f = both(study, t, "RQ3.1", PER_TOKEN, "generations");
    f.extend(correlations(
        study,
        t,
        "RQ3.1",
        Level::Trial,
        "energy_j~tokens",
        "energy and output tokens",
    ));
    Section {
        rq: "RQ3.1",
        title: "Energy per output token",
        question: "Does the energy per generated token differ between generations, and does energy follow the number of tokens?",
        findings: f,
        figures: vec!["rq3_1_energy_per_token_box", "rq3_1_tokens_scatter"],
        tables: vec![
            descriptive_table(
                study,
                t,
                "RQ3.1",
                "energy_per_token",
                "",
                "RQ3.1: energy per output token (J/token) by generation",
            ),
            tests_table(
                t,
                "RQ3.1",
                "energy_per_token",
                "",
                "RQ3.1: tests of energy per output token",
            ),
            correlation_table(
                study,
                t,
                "RQ3.1",
                "energy_j~tokens",
                "RQ3.1: Spearman ρ of energy and output tokens",
            ),
        ],
        csv: csv_files("RQ3.1", true),
    }
}

/// RQ3.2: average power by generation, energy against duration, and the note on the
/// published power figures.
pub(super) fn power_and_duration(study: &Study<'_>, t: &Tables, audit: &Audit) -> Section {
    let mut f = both(study, t, "RQ3.2", POWER, "generations");
    f.extend(correlations(
        study,
        t,
        "RQ3.2",
        Level::Trial,
        "energy_j~duration_s",
        "energy and duration",
    ));
    f.push(power_x100(audit));
    Section {
        rq: "RQ3.2",
        title: "Power and duration",
        question: "Does average power differ between generations, and does energy follow the duration?",
        findings: f,
        figures: vec!["rq3_2_power_box", "rq3_2_power_duration"],
        tables: vec![
            descriptive_table(
                study,
                t,
                "RQ3.2",
                "power_w",
                "",
                "RQ3.2: average power (W) by generation",
            ),
            tests_table(t, "RQ3.2", "power_w", "", "RQ3.2: tests of average power"),
            correlation_table(
                study,
                t,
                "RQ3.2",
                "energy_j~duration_s",
                "RQ3.2: Spearman ρ of energy and duration",
            ),
        ],
        csv: csv_files("RQ3.2", true),
    }
}

/// RQ3.3: accuracy by generation and against energy (or why it cannot be answered).
pub(super) fn accuracy_and_energy(study: &Study<'_>, t: &Tables) -> Section {
    let has_accuracy = !descriptive(t, "RQ3.3", Level::Trial, "accuracy", "").is_empty();
    let mut f = if has_accuracy {
        both(study, t, "RQ3.3", ACCURACY, "generations")
    } else {
        vec!["No trial carries an accuracy score, so RQ3.3 cannot be answered for this dataset.".to_string()]
    };
    f.extend(correlations(
        study,
        t,
        "RQ3.3",
        Level::Trial,
        "energy_j~accuracy",
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
        rq: "RQ3.3",
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
                descriptive_table(study, t, "RQ3.3", "accuracy", "", "RQ3.3: accuracy by generation"),
                tests_table(t, "RQ3.3", "accuracy", "", "RQ3.3: tests of accuracy"),
                correlation_table(
                    study,
                    t,
                    "RQ3.3",
                    "energy_j~accuracy",
                    "RQ3.3: Spearman ρ of energy and accuracy",
                ),
            ]
        } else {
            vec![]
        },
        csv: csv_files("RQ3.3", true),
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
