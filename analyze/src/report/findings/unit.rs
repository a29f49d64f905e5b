//! The unit of evidence: from the audit's identical-response check, how many treatments repeat
//! the same responses in every repetition, and why that makes the run — not the trial — the
//! honest unit ([`HonestUnit`]).

use crate::audit::Audit;
use crate::model::Study;
use crate::report::table::Table;

/// Why the run is the honest unit, from the audit of identical responses.
#[derive(Debug, Clone, PartialEq)]
pub struct HonestUnit {
    /// The explanation.
    pub sentences: Vec<String>,
    /// Per generation: treatments, identical ones, distinct response sets.
    pub table: Table,
}

impl HonestUnit {
    /// Summarises the audit's identical-response check per generation.
    pub fn new(audit: &Audit, study: &Study) -> Self {
        let mut table = Table::new(
            "Repetitions per generation: do they repeat the same responses?",
            &[
                "generation",
                "treatments",
                "repetitions each",
                "identical in every repetition",
                "distinct response sets",
            ],
            1,
        );
        let mut identical_gens = Vec::new();
        let mut varying_gens = Vec::new();
        for g in &study.generations {
            let ts: Vec<_> = audit.treatments.iter().filter(|x| &x.generation == g).collect();
            if ts.is_empty() {
                continue;
            }
            let identical = ts
                .iter()
                .filter(|x| x.repetitions > 1 && x.distinct_response_sets == 1)
                .count();
            let reps_lo = ts.iter().map(|x| x.repetitions).min().unwrap_or(0);
            let reps_hi = ts.iter().map(|x| x.repetitions).max().unwrap_or(0);
            let d_lo = ts.iter().map(|x| x.distinct_response_sets).min().unwrap_or(0);
            let d_hi = ts.iter().map(|x| x.distinct_response_sets).max().unwrap_or(0);
            let span = |a: usize, b: usize| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}–{b}")
                }
            };
            table.push(vec![
                study.label(g),
                ts.len().to_string(),
                span(reps_lo, reps_hi),
                identical.to_string(),
                span(d_lo, d_hi),
            ]);
            if identical == ts.len() {
                identical_gens.push(study.label(g));
            } else {
                varying_gens.push(format!(
                    "{} ({} distinct sets per treatment)",
                    study.label(g),
                    span(d_lo, d_hi)
                ));
            }
        }
        let totals = audit.totals();
        let mut sentences = vec![format!(
            "In {} of {} treatments every repetition returned exactly the same responses{}.",
            totals.identical_treatments,
            totals.treatments,
            if identical_gens.is_empty() {
                String::new()
            } else {
                format!(" (all treatments of {})", identical_gens.join(", "))
            }
        )];
        if !varying_gens.is_empty() {
            sentences.push(format!(
                "Responses vary between repetitions only for {}.",
                varying_gens.join(", ")
            ));
        }
        sentences.push(
            "Repetitions that repeat the same answers sample the noise of the energy measurement, not the \
             model's behaviour: treating them as independent observations (trial level) multiplies the sample \
             size without adding evidence and makes p-values far too small. The run — one treatment, its \
             repetitions averaged — is therefore the honest unit. This report gives every test at both levels; \
             read the run level as the answer and the plain trial level as the optimistic view. The study's own \
             final tests (\"as published\" under each question) ran on the trials with a random intercept per run, \
             which puts their denominator at run level (runs minus design cells degrees of freedom)."
                .to_string(),
        );
        Self { sentences, table }
    }
}
