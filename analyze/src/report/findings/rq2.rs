//! RQ2: energy by generation within each task — which generation is lowest per task, and in
//! how many tasks the generations differ, at trial and run level.

use super::{ALPHA, Section, csv_files};
use crate::model::{Level, Metric, Study};
use crate::questions::{Rq, Tables, Test};
use crate::report::table::{Table, num, pval};
use std::collections::BTreeMap;

/// RQ2: per task, which generation is lowest and whether the generations differ.
pub(super) fn energy_by_task(study: &Study, t: &Tables) -> Section {
    let mut table = Table::new(
        "RQ2: energy per trial by generation within each task (Kruskal–Wallis; medians in kJ)",
        &[
            &["task", "lowest median", "highest median"][..],
            &study
                .generations
                .iter()
                .map(|g| study.label(g))
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()[..],
            &[
                "H (trial)",
                "p (trial)",
                "ε² (trial)",
                "H (run)",
                "p (run)",
                "runs",
            ][..],
        ]
        .concat(),
        3,
    );
    let mut lowest: BTreeMap<String, usize> = BTreeMap::new();
    let mut significant = 0;
    let mut tested = 0;
    let mut min_runs = usize::MAX;
    for task in &study.tasks {
        let rows = t.described(Rq::Rq2, Level::Trial, Metric::Energy, Some(task));
        let lo = rows
            .iter()
            .min_by(|a, b| a.stats.median.total_cmp(&b.stats.median));
        let hi = rows
            .iter()
            .max_by(|a, b| a.stats.median.total_cmp(&b.stats.median));
        if let Some(lo) = lo {
            *lowest.entry(lo.group.clone()).or_default() += 1;
        }
        let kw_t = t.test(
            Rq::Rq2,
            Level::Trial,
            Metric::Energy,
            Test::KruskalWallis,
            Some(task),
        );
        let kw_r = t.test(
            Rq::Rq2,
            Level::Run,
            Metric::Energy,
            Test::KruskalWallis,
            Some(task),
        );
        if let Some(k) = kw_t.filter(|k| k.p_value.is_finite()) {
            tested += 1;
            significant += usize::from(k.p_value < ALPHA);
        }
        let runs = kw_r.map_or(0, |k| k.n);
        min_runs = min_runs.min(runs);
        let mut row = vec![
            task.clone(),
            lo.map_or("–".into(), |d| study.label(&d.group)),
            hi.map_or("–".into(), |d| study.label(&d.group)),
        ];
        for g in &study.generations {
            row.push(
                rows.iter()
                    .find(|d| &d.group == g)
                    .map_or("–".into(), |d| num(d.stats.median / 1e3)),
            );
        }
        row.extend([
            kw_t.map_or("–".into(), |k| num(k.statistic)),
            kw_t.map_or("–".into(), |k| pval(k.p_value)),
            kw_t.and_then(|k| k.effect.as_ref())
                .map_or("–".into(), |e| num(e.value)),
            kw_r.map_or("–".into(), |k| num(k.statistic)),
            kw_r.map_or("–".into(), |k| pval(k.p_value)),
            runs.to_string(),
        ]);
        table.push(row);
    }
    let mut findings = Vec::new();
    if let Some((g, n)) = lowest.iter().max_by_key(|(_, n)| **n) {
        findings.push(format!(
            "{} has the lowest median energy per trial in {n} of {} tasks.",
            study.label(g),
            study.tasks.len()
        ));
    }
    findings.push(format!(
        "At trial level, the generations differ in {significant} of {tested} tasks (Kruskal–Wallis, p < {ALPHA})."
    ));
    if min_runs < 2 * study.generations.len() && min_runs != usize::MAX {
        findings.push(format!(
            "At run level a task holds only {min_runs} treatments (one per model configuration), too few for \
             these tests to carry evidence: the per-task results rest on repetitions, which for the \
             generations that repeat identical responses measure only energy noise (see “The unit of evidence”)."
        ));
    }
    Section {
        rq: Rq::Rq2,
        title: "Energy by generation and task",
        question: "Does the energy difference between generations depend on the task?",
        findings,
        figures: vec!["rq2_task_violin", "rq2_interaction"],
        tables: vec![table],
        csv: csv_files(Rq::Rq2, false),
    }
}
