//! The tests of the study's final R script (`Data_Analysis/scripts/GL_Final_Script_new.R`),
//! at the unit it used, next to ours.
//!
//! - RQ2 and RQ3.1–3.3: the aligned rank transform ANOVA on the trials with a random intercept
//!   per run (`art(y ~ generation*task + (1|run))`, `art(y ~ generation + (1|run))`), one
//!   `art_anova` row per term, and ART-C contrasts (`art_contrast`) of every pair of
//!   generations and, for RQ2, of every pair of generation × task cells, Benjamini–Hochberg
//!   over the family R adjusts (6 generation pairs; 276 cell pairs). Cell pairs within one
//!   task carry the task in `subset`. RQ3.3 tests the published `accuracy` and, beside it,
//!   `accuracy_gold`.
//! - Every question: the assumption checks as the script's `check_assumptions` runs them —
//!   Shapiro–Wilk on the residuals of `lm(y ~ factors)` and a median-centred Levene test over
//!   the design cells — with the model in `comparison` (`generation*task`). For RQ1.2 the
//!   model is `lm(J_per_B ~ generation * model_size_b)` with the size as a number: a line per
//!   generation.
//!
//! Under the published accounting every input is the value the script read
//! ([`crate::model::as_read`]), so these rows reproduce the published tables; under the
//! corrected accounting the same tests run on the corrected metrics.

use super::{Rq, Test, TestRow, nan_row};
use crate::model::as_read::AsRead;
use crate::model::{Level, Metric, Study, size_in_billions};
use crate::stats::{self, StatsError, art};

/// The levels of the design in R's order: generations numerically, tasks as R's `factor()`
/// sorts them (case-insensitively: BoolQ, CB, COPA, RTE, WiC, WSC).
struct Levels {
    generations: Vec<String>,
    tasks: Vec<String>,
}

impl Levels {
    fn new(study: &Study) -> Self {
        let mut tasks = study.tasks.clone();
        tasks.sort_by_key(|t| (t.to_lowercase(), t.clone()));
        Self {
            generations: study.generations.clone(),
            tasks,
        }
    }
}

/// The trial values of `metric`: as read under the published accounting, else measured.
fn trial_values(study: &Study, reads: Option<&[AsRead]>, metric: Metric) -> Vec<Option<f64>> {
    study
        .metrics
        .iter()
        .enumerate()
        .map(|(i, r)| match reads {
            Some(reads) if reads[i].get(metric).is_some() || metric == Metric::Accuracy => {
                reads[i].get(metric)
            }
            _ => metric.of(r),
        })
        .map(|v| v.filter(|x| x.is_finite()))
        .collect()
}

/// The ART rows of one question: `two_factor` adds task to generation.
fn art_rows(
    study: &Study,
    levels: &Levels,
    rq: Rq,
    metric: Metric,
    values: &[Option<f64>],
    two_factor: bool,
) -> Vec<TestRow> {
    let mut y = Vec::new();
    let mut generation = Vec::new();
    let mut task = Vec::new();
    let mut run = Vec::new();
    for (r, v) in study.metrics.iter().zip(values) {
        let (Some(v), Some(g), Some(t)) = (
            v,
            levels.generations.iter().position(|g| *g == r.key.generation),
            levels.tasks.iter().position(|t| *t == r.key.task),
        ) else {
            continue;
        };
        y.push(*v);
        generation.push(g);
        task.push(t);
        run.push(r.key.run);
    }
    let (ng, nt) = (levels.generations.len(), levels.tasks.len());
    let design = if two_factor {
        art::Design {
            levels: vec![ng, nt],
            factors: vec![generation, task],
            run,
        }
    } else {
        art::Design {
            levels: vec![ng],
            factors: vec![generation],
            run,
        }
    };
    let omnibus = TestRow::empty(
        rq,
        study.accounting,
        Level::Trial,
        metric,
        Test::ArtAnova,
        y.len(),
    );
    let pair = TestRow::empty(
        rq,
        study.accounting,
        Level::Trial,
        metric,
        Test::ArtContrast,
        y.len(),
    );
    let term_name = |t: art::Term| match t {
        art::Term::Main(0) => "generation",
        art::Term::Main(_) => "task",
        art::Term::Interaction => "generation:task",
    };
    let mut rows = Vec::new();
    match art::anova(&y, &design) {
        Ok(terms) => rows.extend(terms.into_iter().map(|t| TestRow {
            comparison: term_name(t.term).to_string(),
            statistic: t.f,
            df: Some(t.df1),
            df2: Some(t.df2),
            p_value: t.p_value,
            note: if t.run_variance == 0.0 {
                "REML run variance at the boundary (0): one pooled variance".to_string()
            } else {
                String::new()
            },
            ..omnibus.clone()
        })),
        Err(e) => rows.push(nan_row(&omnibus, Test::ArtAnova, &e)),
    }
    let contrast_row = |c: &art::ArtContrast, comparison: String, subset: Option<String>| TestRow {
        comparison,
        statistic: c.t,
        estimate: Some(c.estimate),
        se: Some(c.se),
        df: Some(c.df),
        p_value: c.p_value,
        p_adjusted: Some(c.p_adjusted).filter(|p| p.is_finite()),
        subset,
        ..pair.clone()
    };
    let g = &levels.generations;
    match art::contrasts(&y, &design, 0) {
        Ok(cs) => rows.extend(
            cs.iter()
                .map(|c| contrast_row(c, format!("{} - {}", g[c.a], g[c.b]), None)),
        ),
        Err(e) => rows.push(nan_row(&pair, Test::ArtContrast, &e)),
    }
    if two_factor {
        let cell = |c: usize| (&g[c / nt], &levels.tasks[c % nt]);
        match art::cell_contrasts(&y, &design) {
            Ok(cs) => rows.extend(cs.iter().map(|c| {
                let ((ga, ta), (gb, tb)) = (cell(c.a), cell(c.b));
                let same = (ta == tb).then(|| ta.clone());
                contrast_row(c, format!("{ga},{ta} - {gb},{tb}"), same)
            })),
            Err(e) => rows.push(TestRow {
                comparison: "cells".into(),
                ..nan_row(&pair, Test::ArtContrast, &e)
            }),
        }
    }
    rows
}

/// Shapiro–Wilk on `residuals` and the median-centred Levene test over `cells`, labelled with
/// the model.
fn assumption_rows(
    study: &Study,
    rq: Rq,
    level: Level,
    metric: Metric,
    model: &str,
    residuals: &[f64],
    cells: &[Vec<f64>],
) -> Vec<TestRow> {
    let n = residuals.len();
    let row = |test: Test, r: Result<stats::TestOutcome, StatsError>| {
        let b = TestRow {
            comparison: model.to_string(),
            ..TestRow::empty(rq, study.accounting, level, metric, test, n)
        };
        match r {
            Ok(o) => TestRow {
                statistic: o.statistic,
                df: o.df,
                df2: o.df2,
                p_value: o.p_value,
                n: o.n,
                ..b
            },
            Err(e) => TestRow {
                comparison: model.to_string(),
                ..nan_row(&b, test, &e)
            },
        }
    };
    let slices: Vec<&[f64]> = cells
        .iter()
        .map(Vec::as_slice)
        .filter(|c| !c.is_empty())
        .collect();
    vec![
        row(Test::ShapiroWilk, stats::normality::shapiro_wilk(residuals)),
        row(Test::LeveneMedian, stats::variance::levene_median(&slices)),
    ]
}

/// Groups `(cell, value)` pairs into cells and their residuals from the cell means.
fn by_cells(points: &[(usize, f64)], cells: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut groups = vec![Vec::new(); cells];
    for &(c, v) in points {
        groups[c].push(v);
    }
    let means: Vec<f64> = groups
        .iter()
        .map(|g| g.iter().sum::<f64>() / g.len().max(1) as f64)
        .collect();
    let residuals = points.iter().map(|&(c, v)| v - means[c]).collect();
    (residuals, groups)
}

/// The assumption checks of every question, as `check_assumptions` runs them.
fn assumptions(
    study: &Study,
    levels: &Levels,
    reads: Option<&[AsRead]>,
    accuracy: &[Metric],
) -> Vec<TestRow> {
    let ng = levels.generations.len();
    let gen_of = |g: &str| levels.generations.iter().position(|x| x == g);
    let mut rows = Vec::new();
    // RQ1.1: run means of energy by generation.
    let points: Vec<(usize, f64)> = study
        .runs
        .iter()
        .filter_map(|r| {
            Some((
                gen_of(&r.generation)?,
                r.get(Metric::Energy).filter(|v| v.is_finite())?,
            ))
        })
        .collect();
    let (res, cells) = by_cells(&points, ng);
    rows.extend(assumption_rows(
        study,
        Rq::Rq1_1,
        Level::Run,
        Metric::Energy,
        "generation",
        &res,
        &cells,
    ));
    // RQ1.2: lm(J_per_B ~ generation * model_size_b): a least-squares line per generation
    // (its mean where the size does not vary); Levene over the generation × size cells.
    let mut per_gen: Vec<Vec<(f64, f64)>> = vec![Vec::new(); ng];
    let mut configs: Vec<(usize, String)> = Vec::new();
    let mut cell_points = Vec::new();
    let mut order = Vec::new();
    for r in &study.runs {
        let (Some(g), Some(size), Some(v)) = (
            gen_of(&r.generation),
            size_in_billions(&r.model_size),
            r.get(Metric::JPerB).filter(|v| v.is_finite()),
        ) else {
            continue;
        };
        per_gen[g].push((size, v));
        order.push((g, size, v));
        let key = (g, r.model_size.clone());
        let c = match configs.iter().position(|k| *k == key) {
            Some(c) => c,
            None => {
                configs.push(key);
                configs.len() - 1
            }
        };
        cell_points.push((c, v));
    }
    let lines: Vec<Option<(f64, f64)>> = per_gen
        .iter()
        .map(|p| stats::regression::least_squares(p))
        .collect();
    let mean_of = |p: &[(f64, f64)]| p.iter().map(|q| q.1).sum::<f64>() / p.len().max(1) as f64;
    let res: Vec<f64> = order
        .iter()
        .map(|&(g, size, v)| match lines[g] {
            Some((a, b)) => v - (a + b * size),
            None => v - mean_of(&per_gen[g]),
        })
        .collect();
    let (_, cells) = by_cells(&cell_points, configs.len());
    rows.extend(assumption_rows(
        study,
        Rq::Rq1_2,
        Level::Run,
        Metric::JPerB,
        "generation*model_size_b",
        &res,
        &cells,
    ));
    // RQ2: trials, lm(energy ~ generation * task), Levene over the 24 cells.
    let nt = levels.tasks.len();
    let energy = trial_values(study, reads, Metric::Energy);
    let points: Vec<(usize, f64)> = study
        .metrics
        .iter()
        .zip(&energy)
        .filter_map(|(r, v)| {
            let g = gen_of(&r.key.generation)?;
            let t = levels.tasks.iter().position(|t| *t == r.key.task)?;
            Some((g * nt + t, (*v)?))
        })
        .collect();
    let (res, cells) = by_cells(&points, ng * nt);
    rows.extend(assumption_rows(
        study,
        Rq::Rq2,
        Level::Trial,
        Metric::Energy,
        "generation*task",
        &res,
        &cells,
    ));
    // RQ3.x: trials by generation.
    let mut rq3 = vec![(Rq::Rq3_1, Metric::EnergyPerToken), (Rq::Rq3_2, Metric::Power)];
    rq3.extend(accuracy.iter().map(|&m| (Rq::Rq3_3, m)));
    for (rq, metric) in rq3 {
        let values = trial_values(study, reads, metric);
        let points: Vec<(usize, f64)> = study
            .metrics
            .iter()
            .zip(&values)
            .filter_map(|(r, v)| Some((gen_of(&r.key.generation)?, (*v)?)))
            .collect();
        let (res, cells) = by_cells(&points, ng);
        rows.extend(assumption_rows(
            study,
            rq,
            Level::Trial,
            metric,
            "generation",
            &res,
            &cells,
        ));
    }
    rows
}

/// Every row of the study's own tests under the study's accounting; `reads` are the values as
/// read (published accounting), `accuracy` the accuracy metrics the data have.
pub(super) fn compute(study: &Study, reads: Option<&[AsRead]>, accuracy: &[Metric]) -> Vec<TestRow> {
    if study.generations.len() < 2 {
        return Vec::new();
    }
    let levels = Levels::new(study);
    let mut rows = assumptions(study, &levels, reads, accuracy);
    let mut questions = vec![
        (Rq::Rq2, Metric::Energy, true),
        (Rq::Rq3_1, Metric::EnergyPerToken, false),
        (Rq::Rq3_2, Metric::Power, false),
    ];
    questions.extend(
        accuracy
            .iter()
            .filter(|m| matches!(m, Metric::Accuracy | Metric::AccuracyGold))
            .map(|&m| (Rq::Rq3_3, m, false)),
    );
    for (rq, metric, two_factor) in questions {
        let values = trial_values(study, reads, metric);
        rows.extend(art_rows(study, &levels, rq, metric, &values, two_factor));
    }
    rows
}
