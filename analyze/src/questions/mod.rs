//! The study's research questions as statistics tables.
//!
//! Input is the [`Study`]: its per-trial metrics and its run level (each treatment's mean over
//! its repetitions). Each question ([`Rq`]) names a [`Metric`], a grouping (generation, or
//! generation × size), and the levels it is tested at; every grouped question gets descriptive
//! statistics per group, the assumption checks (Shapiro–Wilk on residuals, Brown–Forsythe),
//! the omnibus tests (Kruskal–Wallis, one-way and Welch ANOVA), Dunn's all-pairs post hoc test
//! (Benjamini–Hochberg) and the successive pairwise tests (Welch's t and Mann–Whitney,
//! Holm-adjusted); correlations are Spearman per group. The tests are the [`Test`] enum.
//!
//! **The honest unit is the run.** Generations 2, 3 and 3.1 returned identical responses in all
//! 30 repetitions of a treatment, so trial-level tests treat measurement noise as if it were
//! independent model behaviour and overstate their evidence; run-level tests (one value per
//! treatment) do not. Every trial-level test is also reported at run level.

mod r_script;

use crate::model::as_read::{AsRead, as_read};
use crate::model::{Level, LoadLevel, Metric, Study, configuration_key, configuration_label, generation_key};
use crate::stats::{self, Effect, PairOutcome, StatsError, TestOutcome, adjust, descriptive::Descriptive};
use dataset::Accounting;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// A research question of the study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rq {
    /// Energy by generation.
    Rq1_1,
    /// Energy per billion parameters by configuration.
    Rq1_2,
    /// Energy by generation within each task.
    Rq2,
    /// Energy per output token.
    Rq3_1,
    /// Power and duration.
    Rq3_2,
    /// Accuracy and energy.
    Rq3_3,
}

impl Rq {
    /// Every question, in the study's order.
    pub const ALL: [Rq; 6] = [Rq::Rq1_1, Rq::Rq1_2, Rq::Rq2, Rq::Rq3_1, Rq::Rq3_2, Rq::Rq3_3];

    /// The label in the tables (`RQ1.1`).
    pub fn label(self) -> &'static str {
        match self {
            Rq::Rq1_1 => "RQ1.1",
            Rq::Rq1_2 => "RQ1.2",
            Rq::Rq2 => "RQ2",
            Rq::Rq3_1 => "RQ3.1",
            Rq::Rq3_2 => "RQ3.2",
            Rq::Rq3_3 => "RQ3.3",
        }
    }

    /// The stem of its CSV files (`rq1_1`).
    pub fn stem(self) -> String {
        self.label().to_lowercase().replace('.', "_")
    }
}

/// A statistical test of the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Test {
    /// Shapiro–Wilk on the residuals from the group means.
    ShapiroWilk,
    /// Brown–Forsythe (Levene with medians).
    LeveneMedian,
    /// Kruskal–Wallis H.
    KruskalWallis,
    /// Dunn's all-pairs test, Benjamini–Hochberg.
    Dunn,
    /// One-way ANOVA.
    Anova,
    /// Welch's ANOVA.
    WelchAnova,
    /// Welch's t of successive groups, Holm.
    WelchT,
    /// Mann–Whitney U of successive groups, Holm.
    MannWhitney,
    /// Spearman's ρ within each group, Benjamini–Hochberg.
    Spearman,
    /// Aligned rank transform ANOVA with a random run intercept (the study's final tests).
    ArtAnova,
    /// ART-C contrast of two levels or cells, Benjamini–Hochberg over all pairs.
    ArtContrast,
}

/// The study's table families, per research question: which tests go into which CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Normality and equal variances.
    Assumptions,
    /// The omnibus tests.
    Omnibus,
    /// Pairwise comparisons.
    Pairwise,
    /// Correlations.
    Correlations,
}

impl Family {
    /// Every family, in the order of the files.
    pub const ALL: [Family; 4] = [
        Family::Assumptions,
        Family::Omnibus,
        Family::Pairwise,
        Family::Correlations,
    ];

    /// The suffix of its CSV files.
    pub fn name(self) -> &'static str {
        match self {
            Family::Assumptions => "assumptions",
            Family::Omnibus => "omnibus",
            Family::Pairwise => "pairwise",
            Family::Correlations => "correlations",
        }
    }
}

impl Test {
    /// The name in the tables (`kruskal_wallis`).
    pub fn name(self) -> &'static str {
        match self {
            Test::ShapiroWilk => "shapiro_wilk",
            Test::LeveneMedian => "levene_median",
            Test::KruskalWallis => "kruskal_wallis",
            Test::Dunn => "dunn",
            Test::Anova => "anova",
            Test::WelchAnova => "welch_anova",
            Test::WelchT => "welch_t",
            Test::MannWhitney => "mann_whitney",
            Test::Spearman => "spearman",
            Test::ArtAnova => "art_anova",
            Test::ArtContrast => "art_contrast",
        }
    }

    /// The name readers know it by, with its adjustment.
    pub fn label(self) -> &'static str {
        match self {
            Test::ShapiroWilk => "Shapiro–Wilk (residuals)",
            Test::LeveneMedian => "Brown–Forsythe",
            Test::KruskalWallis => "Kruskal–Wallis",
            Test::Dunn => "Dunn (BH)",
            Test::Anova => "one-way ANOVA",
            Test::WelchAnova => "Welch's ANOVA",
            Test::WelchT => "Welch's t (Holm)",
            Test::MannWhitney => "Mann–Whitney U (Holm)",
            Test::Spearman => "Spearman ρ (BH)",
            Test::ArtAnova => "ART ANOVA (random run intercept)",
            Test::ArtContrast => "ART-C contrast (BH)",
        }
    }

    /// The symbol of its statistic.
    pub fn symbol(self) -> &'static str {
        match self {
            Test::ShapiroWilk => "W",
            Test::LeveneMedian | Test::Anova | Test::WelchAnova | Test::ArtAnova => "F",
            Test::KruskalWallis => "H",
            Test::Dunn => "z",
            Test::WelchT | Test::ArtContrast => "t",
            Test::MannWhitney => "U",
            Test::Spearman => "ρ",
        }
    }

    /// The table family it belongs to.
    pub fn family(self) -> Family {
        match self {
            Test::ShapiroWilk | Test::LeveneMedian => Family::Assumptions,
            Test::KruskalWallis | Test::Anova | Test::WelchAnova | Test::ArtAnova => Family::Omnibus,
            Test::Dunn | Test::WelchT | Test::MannWhitney | Test::ArtContrast => Family::Pairwise,
            Test::Spearman => Family::Correlations,
        }
    }
}

/// How observations are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// By model generation (2 < 3 < 3.1 < 3.2).
    Generation,
    /// By generation × size (`Gen3.2_1B`).
    Configuration,
}

/// One row of `descriptive.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct DescriptiveRow {
    /// Research question.
    pub rq: Rq,
    /// The accounting.
    pub accounting: Accounting,
    /// Run or trial.
    pub level: Level,
    /// The metric described.
    pub metric: Metric,
    /// Group label (`3.1`, `Gen3.2_1B`).
    pub group: String,
    /// Task the rows were restricted to (RQ2).
    pub subset: Option<String>,
    /// The statistics.
    pub stats: Descriptive,
}

/// One row of `tests.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct TestRow {
    /// Research question.
    pub rq: Rq,
    /// The accounting.
    pub accounting: Accounting,
    /// Run or trial.
    pub level: Level,
    /// The metric tested (the first of a correlation).
    pub metric: Metric,
    /// The second metric of a correlation.
    pub with: Option<Metric>,
    /// The test.
    pub test: Test,
    /// Empty for omnibus tests, `A - B` for pairs, the group for per-group correlations, the
    /// term of an ART ANOVA (`generation:task`), the model of an R-style assumption check
    /// (`generation*task`).
    pub comparison: String,
    /// Statistic (H, z, F, W, t, U, ρ).
    pub statistic: f64,
    /// Estimate of a contrast (ART-C: difference of mean aligned ranks).
    pub estimate: Option<f64>,
    /// Its standard error (same units).
    pub se: Option<f64>,
    /// Degrees of freedom.
    pub df: Option<f64>,
    /// Denominator degrees of freedom.
    pub df2: Option<f64>,
    /// p-value.
    pub p_value: f64,
    /// Adjusted p-value (Dunn: BH over all pairs; successive pairs: Holm; correlations: BH over groups).
    pub p_adjusted: Option<f64>,
    /// Effect size.
    pub effect: Option<Effect>,
    /// Observations.
    pub n: usize,
    /// Task the rows were restricted to (RQ2).
    pub subset: Option<String>,
    /// Why a test could not be computed (its numbers are then NaN).
    pub note: String,
}

impl TestRow {
    /// A row of `test` with nothing computed yet: NaN statistic and p, no df, no subset.
    pub fn empty(rq: Rq, accounting: Accounting, level: Level, metric: Metric, test: Test, n: usize) -> Self {
        Self {
            rq,
            accounting,
            level,
            metric,
            with: None,
            test,
            comparison: String::new(),
            statistic: f64::NAN,
            estimate: None,
            se: None,
            df: None,
            df2: None,
            p_value: f64::NAN,
            p_adjusted: None,
            effect: None,
            n,
            subset: None,
            note: String::new(),
        }
    }

    /// The metric column of the tables: `energy_j`, or `energy_j~tokens` for a correlation.
    pub fn metric_name(&self) -> String {
        match self.with {
            Some(w) => format!("{}~{}", self.metric.name(), w.name()),
            None => self.metric.name().to_string(),
        }
    }
}

/// All tables of one accounting.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// Descriptive rows.
    pub descriptive: Vec<DescriptiveRow>,
    /// Test rows.
    pub tests: Vec<TestRow>,
    /// The load level these rows were computed within (unset when the study has one level).
    pub level: LoadLevel,
    /// With several load levels: the tables of every other level (these rows are the first
    /// level's, the reference the report's research-question sections show).
    pub others: Vec<Tables>,
}

impl Tables {
    /// These tables and every other level's, each with its level.
    pub fn by_level(&self) -> impl Iterator<Item = (LoadLevel, &Tables)> + '_ {
        std::iter::once((self.level, self)).chain(self.others.iter().map(|t| (t.level, t)))
    }

    /// The descriptive rows of one metric of one question at one level (`subset`: the task
    /// of an RQ2 row, None elsewhere).
    pub fn described(
        &self,
        rq: Rq,
        level: Level,
        metric: Metric,
        subset: Option<&str>,
    ) -> Vec<&DescriptiveRow> {
        self.descriptive
            .iter()
            .filter(|d| d.rq == rq && d.level == level && d.metric == metric && d.subset.as_deref() == subset)
            .collect()
    }

    /// The rows of one test of one metric (not a correlation).
    pub fn tests(
        &self,
        rq: Rq,
        level: Level,
        metric: Metric,
        test: Test,
        subset: Option<&str>,
    ) -> Vec<&TestRow> {
        self.tests
            .iter()
            .filter(|r| {
                r.rq == rq
                    && r.level == level
                    && r.metric == metric
                    && r.with.is_none()
                    && r.test == test
                    && r.subset.as_deref() == subset
            })
            .collect()
    }

    /// The first row of one test (an omnibus test has one).
    pub fn test(
        &self,
        rq: Rq,
        level: Level,
        metric: Metric,
        test: Test,
        subset: Option<&str>,
    ) -> Option<&TestRow> {
        self.tests(rq, level, metric, test, subset).into_iter().next()
    }

    /// The row of a pairwise test comparing groups `a` and `b`.
    pub fn pair(
        &self,
        rq: Rq,
        level: Level,
        metric: Metric,
        test: Test,
        a: &str,
        b: &str,
    ) -> Option<&TestRow> {
        let comparison = format!("{a} - {b}");
        self.tests(rq, level, metric, test, None)
            .into_iter()
            .find(|r| r.comparison == comparison)
    }

    /// The Spearman rows of `x ~ y` within each generation.
    pub fn correlations(&self, rq: Rq, level: Level, (x, y): (Metric, Metric)) -> Vec<&TestRow> {
        self.tests
            .iter()
            .filter(|r| r.rq == rq && r.level == level && r.metric == x && r.with == Some(y))
            .collect()
    }
}

/// One observation: its grouping keys and metric values.
#[derive(Debug, Clone)]
struct Obs<'a> {
    generation: &'a str,
    model_size: &'a str,
    task: &'a str,
    values: [Option<f64>; Metric::ALL.len()],
    /// The values as the study's R script read them (trials, published accounting).
    read: Option<AsRead>,
}

impl Obs<'_> {
    fn get(&self, m: Metric) -> Option<f64> {
        self.values[m.index()]
    }

    /// The value as the R script read it where there is one, else the measured one.
    fn read_or_get(&self, m: Metric) -> Option<f64> {
        self.read.and_then(|r| r.get(m)).or_else(|| self.get(m))
    }
}

/// The observations of a study at one level.
fn observations<'a>(study: &'a Study, level: Level, reads: Option<&[AsRead]>) -> Vec<Obs<'a>> {
    match level {
        Level::Trial => study
            .metrics
            .iter()
            .enumerate()
            .map(|(i, r)| Obs {
                generation: &r.key.generation,
                model_size: &r.key.model_size,
                task: &r.key.task,
                values: Metric::ALL.map(|m| m.of(r)),
                read: reads.map(|v| v[i]),
            })
            .collect(),
        Level::Run => study
            .runs
            .iter()
            .map(|r| Obs {
                generation: &r.generation,
                model_size: &r.model_size,
                task: &r.task,
                values: Metric::ALL.map(|m| r.get(m).filter(|v| v.is_finite())),
                read: None,
            })
            .collect(),
    }
}

/// Groups the values of `metric` by `grouping`, in the natural order of the groups.
fn groups(obs: &[&Obs<'_>], metric: Metric, grouping: Grouping) -> Vec<(String, Vec<f64>)> {
    type Key = (crate::model::metric::GenerationKey, u64, String);
    let mut map: BTreeMap<Key, (String, Vec<f64>)> = BTreeMap::new();
    for o in obs {
        let (key, label) = match grouping {
            Grouping::Generation => (
                (generation_key(o.generation), 0, String::new()),
                o.generation.to_string(),
            ),
            Grouping::Configuration => {
                let (g, s) = configuration_key(o.generation, o.model_size);
                (
                    (g, s, o.model_size.to_string()),
                    configuration_label(o.generation, o.model_size),
                )
            }
        };
        let entry = map.entry(key).or_insert_with(|| (label, Vec::new()));
        if let Some(v) = o.get(metric) {
            entry.1.push(v);
        }
    }
    map.into_values().filter(|(_, v)| !v.is_empty()).collect()
}

/// One question: a metric compared across groups (and optionally correlated with energy).
#[derive(Debug, Clone)]
struct Question {
    rq: Rq,
    metric: Metric,
    grouping: Grouping,
    subset: Option<String>,
    /// Extra metrics described per group (no tests).
    describe_also: &'static [Metric],
    /// Spearman of `(x, y)` within each group.
    correlate: Option<(Metric, Metric)>,
}

fn questions(tasks: &[String], accuracy_metrics: &[Metric]) -> Vec<Question> {
    let q = |rq, metric, grouping| Question {
        rq,
        metric,
        grouping,
        subset: None,
        describe_also: &[],
        correlate: None,
    };
    let mut out = vec![
        q(Rq::Rq1_1, Metric::Energy, Grouping::Generation),
        Question {
            describe_also: &[Metric::Energy],
            ..q(Rq::Rq1_2, Metric::JPerB, Grouping::Configuration)
        },
    ];
    for t in tasks {
        out.push(Question {
            subset: Some(t.clone()),
            ..q(Rq::Rq2, Metric::Energy, Grouping::Generation)
        });
    }
    out.push(Question {
        describe_also: &[Metric::Tokens],
        correlate: Some((Metric::Energy, Metric::Tokens)),
        ..q(Rq::Rq3_1, Metric::EnergyPerToken, Grouping::Generation)
    });
    out.push(Question {
        describe_also: &[Metric::Duration],
        correlate: Some((Metric::Energy, Metric::Duration)),
        ..q(Rq::Rq3_2, Metric::Power, Grouping::Generation)
    });
    for &m in accuracy_metrics {
        out.push(Question {
            correlate: Some((Metric::Energy, m)),
            ..q(Rq::Rq3_3, m, Grouping::Generation)
        });
    }
    out
}

fn nan_row(base: &TestRow, test: Test, err: &StatsError) -> TestRow {
    TestRow {
        test,
        comparison: String::new(),
        statistic: f64::NAN,
        p_value: f64::NAN,
        note: err.to_string(),
        ..base.clone()
    }
}

fn outcome_row(base: &TestRow, test: Test, r: Result<TestOutcome, StatsError>) -> TestRow {
    match r {
        Ok(o) => TestRow {
            test,
            statistic: o.statistic,
            df: o.df,
            df2: o.df2,
            p_value: o.p_value,
            effect: o.effect,
            n: o.n,
            ..base.clone()
        },
        Err(e) => nan_row(base, test, &e),
    }
}

fn pair_row(base: &TestRow, test: Test, labels: &[String], p: &PairOutcome) -> TestRow {
    TestRow {
        test,
        comparison: format!("{} - {}", labels[p.a], labels[p.b]),
        statistic: p.statistic,
        p_value: p.p_value,
        p_adjusted: Some(p.p_adjusted),
        effect: p.effect.clone(),
        n: p.n,
        ..base.clone()
    }
}

/// Writes adjusted p-values into rows (non-finite ones stay None).
fn with_adjusted(mut rows: Vec<TestRow>, adjust: fn(&[f64]) -> Vec<f64>) -> Vec<TestRow> {
    let p: Vec<f64> = rows.iter().map(|r| r.p_value).collect();
    for (r, a) in rows.iter_mut().zip(adjust(&p)) {
        r.p_adjusted = a.is_finite().then_some(a);
    }
    rows
}

/// The tests of one question at one level.
fn run_question(q: &Question, obs: &[&Obs<'_>], level: Level, accounting: Accounting, seed: u64) -> Tables {
    let mut t = Tables::default();
    let grouped = groups(obs, q.metric, q.grouping);
    for &metric in std::iter::once(&q.metric).chain(q.describe_also) {
        for (label, values) in groups(obs, metric, q.grouping) {
            t.descriptive.push(DescriptiveRow {
                rq: q.rq,
                accounting,
                level,
                metric,
                group: label,
                subset: q.subset.clone(),
                stats: stats::descriptive::describe(&values, seed),
            });
        }
    }
    let base = TestRow {
        subset: q.subset.clone(),
        ..TestRow::empty(
            q.rq,
            accounting,
            level,
            q.metric,
            Test::KruskalWallis,
            grouped.iter().map(|g| g.1.len()).sum(),
        )
    };
    let labels: Vec<String> = grouped.iter().map(|g| g.0.clone()).collect();
    let slices: Vec<&[f64]> = grouped.iter().map(|g| g.1.as_slice()).collect();
    if slices.len() >= 2 {
        let residuals = stats::normality::residuals_from_group_means(&slices);
        t.tests.push(outcome_row(
            &base,
            Test::ShapiroWilk,
            stats::normality::shapiro_wilk(&residuals),
        ));
        // The tests over all groups, in the order of the tables (Dunn's pairs between them).
        type GroupTest = fn(&[&[f64]]) -> Result<TestOutcome, StatsError>;
        let before_dunn: [(Test, GroupTest); 2] = [
            (Test::LeveneMedian, stats::variance::levene_median),
            (Test::KruskalWallis, stats::rank::kruskal_wallis),
        ];
        let after_dunn: [(Test, GroupTest); 2] = [
            (Test::Anova, stats::parametric::anova_oneway),
            (Test::WelchAnova, stats::parametric::welch_anova),
        ];
        for (test, f) in before_dunn {
            t.tests.push(outcome_row(&base, test, f(&slices)));
        }
        match stats::rank::dunn(&slices) {
            Ok(pairs) => t
                .tests
                .extend(pairs.iter().map(|p| pair_row(&base, Test::Dunn, &labels, p))),
            Err(e) => t.tests.push(nan_row(&base, Test::Dunn, &e)),
        }
        for (test, f) in after_dunn {
            t.tests.push(outcome_row(&base, test, f(&slices)));
        }
        // Successive pairs (2 → 3 → 3.1 → 3.2), each test family Holm-adjusted.
        type PairTest = fn(&[f64], &[f64]) -> Result<TestOutcome, StatsError>;
        let pair_tests: [(Test, PairTest); 2] = [
            (Test::WelchT, stats::parametric::welch_t),
            (Test::MannWhitney, stats::rank::mann_whitney),
        ];
        for (test, f) in pair_tests {
            let rows: Vec<TestRow> = (1..slices.len())
                .map(|i| TestRow {
                    comparison: format!("{} - {}", labels[i - 1], labels[i]),
                    ..outcome_row(&base, test, f(slices[i - 1], slices[i]))
                })
                .collect();
            t.tests.extend(with_adjusted(rows, adjust::holm));
        }
    }
    if let Some((x, y)) = q.correlate {
        type Paired<'a> = (&'a str, Vec<f64>, Vec<f64>);
        let mut by_group: BTreeMap<crate::model::metric::GenerationKey, Paired<'_>> = BTreeMap::new();
        for o in obs {
            if let (Some(a), Some(b)) = (o.read_or_get(x), o.read_or_get(y)) {
                let e = by_group
                    .entry(generation_key(o.generation))
                    .or_insert_with(|| (o.generation, Vec::new(), Vec::new()));
                e.1.push(a);
                e.2.push(b);
            }
        }
        let base = TestRow {
            with: Some(y),
            metric: x,
            ..base
        };
        let rows: Vec<TestRow> = by_group
            .into_values()
            .map(|(label, a, b)| TestRow {
                comparison: label.to_string(),
                ..outcome_row(&base, Test::Spearman, stats::rank::spearman(&a, &b))
            })
            .collect();
        t.tests.extend(with_adjusted(rows, adjust::benjamini_hochberg));
    }
    t
}

/// The accuracy metrics the trials have, published first.
fn accuracy_metrics(study: &Study) -> Vec<Metric> {
    Metric::ACCURACIES
        .into_iter()
        .filter(|m| study.metrics.iter().any(|r| m.of(r).is_some()))
        .collect()
}

/// Only the tests the study's own script ran: RQ1.1 and RQ1.2 at run level and the R-script
/// rows ([`r_script`]). The report computes these for the accounting it does not show.
pub fn study_tests(study: &Study, seed: u64) -> Tables {
    let reads = (study.accounting == Accounting::Published).then(|| as_read(study));
    let run_obs = observations(study, Level::Run, None);
    let obs: Vec<&Obs<'_>> = run_obs.iter().collect();
    let accuracy = accuracy_metrics(study);
    let mut all = Tables::default();
    for q in questions(&study.tasks, &accuracy)
        .iter()
        .filter(|q| matches!(q.rq, Rq::Rq1_1 | Rq::Rq1_2))
    {
        let part = run_question(q, &obs, Level::Run, study.accounting, seed);
        all.descriptive.extend(part.descriptive);
        all.tests.extend(part.tests);
    }
    all.tests
        .extend(r_script::compute(study, reads.as_deref(), &accuracy));
    all
}

/// Computes every table of a study, under its accounting.
///
/// Under the published accounting the Spearman correlations and the study's own tests
/// ([`r_script`]) take the trial values as the R script read them ([`crate::model::as_read`]).
pub fn compute(study: &Study, seed: u64) -> Tables {
    let levels = study.load_levels();
    if levels.len() > 1 {
        // The questions are answered within each load level: mixing levels would compare
        // generations across loads. The first level's tables lead, the others follow.
        let mut all: Vec<Tables> = levels
            .iter()
            .map(|l| Tables {
                level: *l,
                ..compute_one(&study.at_level(l), seed)
            })
            .collect();
        let mut first = all.remove(0);
        first.others = all;
        return first;
    }
    compute_one(study, seed)
}

/// [`compute`] of a study at one load level.
fn compute_one(study: &Study, seed: u64) -> Tables {
    let reads = (study.accounting == Accounting::Published).then(|| as_read(study));
    let trial_obs = observations(study, Level::Trial, reads.as_deref());
    let run_obs = observations(study, Level::Run, None);
    let accuracy = accuracy_metrics(study);
    let jobs: Vec<(Question, Level)> = questions(&study.tasks, &accuracy)
        .into_iter()
        .flat_map(|q| [(q.clone(), Level::Run), (q, Level::Trial)])
        .collect();
    let parts: Vec<Tables> = jobs
        .par_iter()
        .map(|(q, level)| {
            let source = if *level == Level::Run {
                &run_obs
            } else {
                &trial_obs
            };
            let obs: Vec<&Obs<'_>> = source
                .iter()
                .filter(|o| q.subset.as_ref().is_none_or(|s| o.task == s))
                .collect();
            run_question(q, &obs, *level, study.accounting, seed)
        })
        .collect();
    let mut all = Tables::default();
    for p in parts {
        all.descriptive.extend(p.descriptive);
        all.tests.extend(p.tests);
    }
    all.tests
        .extend(r_script::compute(study, reads.as_deref(), &accuracy));
    all
}
