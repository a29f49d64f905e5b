//! RQ1: energy by generation (RQ1.1) and by model size, as energy per billion parameters by
//! configuration (RQ1.2), with how energy grows with size within each generation.

use super::{Section, Wording, both, csv_files, descriptive_table, tests_table};
use crate::model::{Level, Metric, Study, configuration_label, size_in_billions};
use crate::questions::{Rq, Tables, Test};
use crate::report::table::{p_is, times};

const ENERGY: Wording = Wording {
    metric: Metric::Energy,
    noun: "energy per trial",
    unit: "J",
    score: false,
    verb: "uses",
};

const J_PER_B: Wording = Wording {
    metric: Metric::JPerB,
    noun: "energy per billion parameters",
    unit: "J/B",
    score: false,
    verb: "uses",
};

/// RQ1.1: energy per trial by generation.
pub(super) fn energy_by_generation(study: &Study, t: &Tables) -> Section {
    let f = both(study, t, Rq::Rq1_1, ENERGY, "generations");
    Section {
        rq: Rq::Rq1_1,
        title: "Energy by generation",
        question: "Does the energy used per trial differ between model generations?",
        findings: f,
        figures: vec!["rq1_1_energy_box", "rq1_1_energy_density"],
        tables: vec![
            descriptive_table(
                study,
                t,
                Rq::Rq1_1,
                Metric::Energy,
                None,
                "RQ1.1: energy per trial (J) by generation",
            ),
            tests_table(
                t,
                Rq::Rq1_1,
                Metric::Energy,
                None,
                "RQ1.1: tests of energy per trial",
            ),
        ],
        csv: csv_files(Rq::Rq1_1, false),
    }
}

/// RQ1.2: energy per billion parameters by configuration, and how energy grows with size
/// within each generation.
pub(super) fn energy_and_size(study: &Study, t: &Tables) -> Section {
    let mut f = both(study, t, Rq::Rq1_2, J_PER_B, "configurations");
    for (g, sizes) in sizes_per_generation(study) {
        if sizes.len() < 2 {
            continue;
        }
        let rows = t.described(Rq::Rq1_2, Level::Run, Metric::Energy, None);
        let find = |s: &str| {
            let label = configuration_label(&g, s);
            rows.iter().find(|d| d.group == label).map(|d| d.stats.mean)
        };
        let (small, large) = (&sizes[0], &sizes[sizes.len() - 1]);
        let (Some(es), Some(el)) = (find(small), find(large)) else {
            continue;
        };
        let (bs, bl) = (
            size_in_billions(small).unwrap_or(f64::NAN),
            size_in_billions(large).unwrap_or(f64::NAN),
        );
        let dunn = t
            .pair(
                Rq::Rq1_2,
                Level::Run,
                Metric::JPerB,
                Test::Dunn,
                &configuration_label(&g, small),
                &configuration_label(&g, large),
            )
            .and_then(|r| r.p_adjusted)
            .map_or(String::new(), |p| {
                format!(" (J per billion parameters, Dunn {})", p_is("p_adj", p))
            });
        f.push(format!(
            "Within {}: the {large} model is {} larger than the {small} model and uses {} the energy per trial, \
             so energy grows {} than size{dunn}.",
            study.label(&g),
            times(bl / bs),
            times(el / es),
            if el / es < bl / bs { "more slowly" } else { "faster" }
        ));
    }
    Section {
        rq: Rq::Rq1_2,
        title: "Energy and model size",
        question: "How does energy scale with model size (energy per billion parameters, by configuration)?",
        findings: f,
        figures: vec!["rq1_2_j_per_b_box", "rq1_2_size_density"],
        tables: vec![
            descriptive_table(
                study,
                t,
                Rq::Rq1_2,
                Metric::JPerB,
                None,
                "RQ1.2: energy per billion parameters (J/B) by configuration",
            ),
            tests_table(
                t,
                Rq::Rq1_2,
                Metric::JPerB,
                None,
                "RQ1.2: tests of energy per billion parameters",
            ),
        ],
        csv: csv_files(Rq::Rq1_2, false),
    }
}

/// The sizes of each generation, in the study's configuration order.
fn sizes_per_generation(study: &Study) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (g, s) in &study.configurations {
        match out.last_mut() {
            Some((last, sizes)) if last == g => sizes.push(s.clone()),
            _ => out.push((g.clone(), vec![s.clone()])),
        }
    }
    out
}
