//! The study's research questions as statistics tables.
//!
//! Input is the per-trial metrics frame (one row per trial); the run level is its mean over the
//! repetitions of each treatment (polars `group_by`). Each question names a metric, a grouping
//! (generation, or generation × size), and the levels it is tested at; every grouped question
//! gets descriptive statistics per group, the assumption checks (Shapiro–Wilk on residuals,
//! Brown–Forsythe), the omnibus tests (Kruskal–Wallis, one-way and Welch ANOVA), Dunn's
//! all-pairs post hoc test (Benjamini–Hochberg) and the successive pairwise tests (Welch's t and
//! Mann–Whitney, Holm-adjusted); correlations are Spearman per group.
//!
//! **The honest unit is the run.** Generations 2, 3 and 3.1 returned identical responses in all
//! 30 repetitions of a treatment, so trial-level tests treat measurement noise as if it were
//! independent model behaviour and overstate their evidence; run-level tests (one value per
//! treatment) do not. Every trial-level test is also reported at run level.

use crate::stats::{self, Effect, PairOutcome, StatsError, TestOutcome, adjust, descriptive::Descriptive};
use polars::prelude::*;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Run or trial level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// One value per treatment: the mean over its repetitions.
    Run,
    /// One value per trial (repetition).
    Trial,
}

impl Level {
    /// Label in the tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Run => "run",
            Level::Trial => "trial",
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
    /// Research question (`RQ1.1`).
    pub rq: String,
    /// `corrected` or `published`.
    pub accounting: String,
    /// Run or trial.
    pub level: Level,
    /// Metric name.
    pub metric: String,
    /// Group label (`3.1`, `Gen3.2_1B`).
    pub group: String,
    /// Task the rows were restricted to (RQ2), empty otherwise.
    pub subset: String,
    /// The statistics.
    pub stats: Descriptive,
}

/// One row of `tests.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct TestRow {
    /// Research question.
    pub rq: String,
    /// Accounting.
    pub accounting: String,
    /// Run or trial.
    pub level: Level,
    /// Metric name (`energy_j`, or `energy_j~tokens` for a correlation).
    pub metric: String,
    /// Test name (`kruskal_wallis`, `dunn`, ...).
    pub test: String,
    /// Empty for omnibus tests, `A - B` for pairs, the group for per-group correlations.
    pub comparison: String,
    /// Statistic (H, z, F, W, t, U, ρ).
    pub statistic: f64,
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
    /// Task the rows were restricted to (RQ2), empty otherwise.
    pub subset: String,
    /// Why a test could not be computed (its numbers are then NaN).
    pub note: String,
}

/// All tables of one accounting.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// Descriptive rows.
    pub descriptive: Vec<DescriptiveRow>,
    /// Test rows.
    pub tests: Vec<TestRow>,
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

/// One observation: its grouping keys and metric values.
#[derive(Debug, Clone)]
struct Obs {
    generation: String,
    config: String,
    config_key: (GenerationKey, u64),
    task: String,
    values: BTreeMap<String, f64>,
}

/// The metric columns the questions use, when present in the frame.
pub const METRICS: [&str; 9] = [
    "energy_j",
    "j_per_b",
    "energy_per_token",
    "power_w",
    "duration_s",
    "tokens",
    "accuracy",
    "accuracy_gold",
    "accuracy_judge",
];

/// Adds `j_per_b` (energy per billion parameters) to a metrics frame.
pub fn with_j_per_b(df: &DataFrame) -> PolarsResult<DataFrame> {
    let sizes = df.column("model_size")?.str()?;
    let energy = df.column("energy_j")?.cast(&DataType::Float64)?;
    let energy = energy.f64()?;
    let values: Vec<Option<f64>> = sizes
        .iter()
        .zip(energy.iter())
        .map(|(s, e)| Some(e? / size_in_billions(s?)?))
        .collect();
    let mut out = df.clone();
    out.with_column(Column::new("j_per_b".into(), values))?;
    Ok(out)
}

/// The run-level frame: the mean of every metric over the repetitions of each treatment.
pub fn run_level(df: &DataFrame) -> PolarsResult<DataFrame> {
    let present: Vec<&str> = METRICS.iter().copied().filter(|m| df.column(m).is_ok()).collect();
    let aggs: Vec<Expr> = present
        .iter()
        .map(|m| col(*m).cast(DataType::Float64).mean())
        .chain(std::iter::once(col("run_id").count().alias("repetitions")))
        .collect();
    df.clone()
        .lazy()
        .group_by([col("run"), col("generation"), col("model_size"), col("task")])
        .agg(aggs)
        .sort(["run"], SortMultipleOptions::default())
        .collect()
}

fn observations(df: &DataFrame) -> PolarsResult<Vec<Obs>> {
    let generation = df.column("generation")?.str()?;
    let size = df.column("model_size")?.str()?;
    let task = df.column("task")?.str()?;
    let mut cols: Vec<(&str, Float64Chunked)> = Vec::new();
    for m in METRICS {
        if let Ok(c) = df.column(m) {
            cols.push((m, c.cast(&DataType::Float64)?.f64()?.clone()));
        }
    }
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let g = generation.get(i).unwrap_or_default().to_string();
        let s = size.get(i).unwrap_or_default().to_string();
        let values = cols
            .iter()
            .filter_map(|(m, c)| c.get(i).filter(|v| v.is_finite()).map(|v| (m.to_string(), v)))
            .collect();
        let size_key = size_in_billions(&s).map_or(u64::MAX, |b| (b * 1e6) as u64);
        out.push(Obs {
            config: format!("Gen{g}_{s}"),
            config_key: (generation_key(&g), size_key),
            generation: g,
            task: task.get(i).unwrap_or_default().to_string(),
            values,
        });
    }
    Ok(out)
}

/// Groups the values of `metric` by `grouping`, in the natural order of the groups.
fn groups(obs: &[&Obs], metric: &str, grouping: Grouping) -> Vec<(String, Vec<f64>)> {
    let mut map: BTreeMap<(GenerationKey, u64), (String, Vec<f64>)> = BTreeMap::new();
    for o in obs {
        let (key, label) = match grouping {
            Grouping::Generation => ((generation_key(&o.generation), 0), o.generation.clone()),
            Grouping::Configuration => (o.config_key.clone(), o.config.clone()),
        };
        let entry = map.entry(key).or_insert_with(|| (label, Vec::new()));
        if let Some(v) = o.values.get(metric) {
            entry.1.push(*v);
        }
    }
    map.into_values().filter(|(_, v)| !v.is_empty()).collect()
}

/// One question: a metric compared across groups (and optionally correlated with energy).
#[derive(Debug, Clone)]
struct Question {
    rq: &'static str,
    metric: &'static str,
    grouping: Grouping,
    subset: Option<String>,
    /// Extra metrics described per group (no tests).
    describe_also: &'static [&'static str],
    /// Spearman of `(x, y)` within each group.
    correlate: Option<(&'static str, &'static str)>,
}

fn questions(tasks: &[String], accuracy_metrics: &[&'static str]) -> Vec<Question> {
    let q = |rq, metric, grouping| Question {
        rq,
        metric,
        grouping,
        subset: None,
        describe_also: &[],
        correlate: None,
    };
    let mut out = vec![
        q("RQ1.1", "energy_j", Grouping::Generation),
        Question {
            describe_also: &["energy_j"],
            ..q("RQ1.2", "j_per_b", Grouping::Configuration)
        },
    ];
    for t in tasks {
        out.push(Question {
            subset: Some(t.clone()),
            ..q("RQ2", "energy_j", Grouping::Generation)
        });
    }
    out.push(Question {
        describe_also: &["tokens"],
        correlate: Some(("energy_j", "tokens")),
        ..q("RQ3.1", "energy_per_token", Grouping::Generation)
    });
    out.push(Question {
        describe_also: &["duration_s"],
        correlate: Some(("energy_j", "duration_s")),
        ..q("RQ3.2", "power_w", Grouping::Generation)
    });
    for m in accuracy_metrics {
        out.push(Question {
            correlate: Some(("energy_j", m)),
            ..q("RQ3.3", m, Grouping::Generation)
        });
    }
    out
}

fn nan_row(base: &TestRow, test: &str, comparison: String, err: &StatsError) -> TestRow {
    TestRow {
        test: test.to_string(),
        comparison,
        statistic: f64::NAN,
        p_value: f64::NAN,
        note: err.to_string(),
        ..base.clone()
    }
}

fn outcome_row(base: &TestRow, test: &str, r: Result<TestOutcome, StatsError>) -> TestRow {
    match r {
        Ok(o) => TestRow {
            test: test.to_string(),
            statistic: o.statistic,
            df: o.df,
            df2: o.df2,
            p_value: o.p_value,
            effect: o.effect,
            n: o.n,
            ..base.clone()
        },
        Err(e) => nan_row(base, test, String::new(), &e),
    }
}

fn pair_row(base: &TestRow, test: &str, labels: &[String], p: &PairOutcome) -> TestRow {
    TestRow {
        test: test.to_string(),
        comparison: format!("{} - {}", labels[p.a], labels[p.b]),
        statistic: p.statistic,
        p_value: p.p_value,
        p_adjusted: Some(p.p_adjusted),
        effect: p.effect.clone(),
        n: p.n,
        ..base.clone()
    }
}

/// A group label with paired values.
type Paired = (String, Vec<f64>, Vec<f64>);

/// The tests of one question at one level.
fn run_question(q: &Question, obs: &[&Obs], level: Level, accounting: &str, seed: u64) -> Tables {
    let mut t = Tables::default();
    let subset = q.subset.clone().unwrap_or_default();
    let grouped = groups(obs, q.metric, q.grouping);
    for metric in std::iter::once(q.metric).chain(q.describe_also.iter().copied()) {
        for (label, values) in groups(obs, metric, q.grouping) {
            t.descriptive.push(DescriptiveRow {
                rq: q.rq.to_string(),
                accounting: accounting.to_string(),
                level,
                metric: metric.to_string(),
                group: label,
                subset: subset.clone(),
                stats: stats::descriptive::describe(&values, seed),
            });
        }
    }
    let base = TestRow {
        rq: q.rq.to_string(),
        accounting: accounting.to_string(),
        level,
        metric: q.metric.to_string(),
        test: String::new(),
        comparison: String::new(),
        statistic: f64::NAN,
        df: None,
        df2: None,
        p_value: f64::NAN,
        p_adjusted: None,
        effect: None,
        n: grouped.iter().map(|g| g.1.len()).sum(),
        subset,
        note: String::new(),
    };
    let labels: Vec<String> = grouped.iter().map(|g| g.0.clone()).collect();
    let slices: Vec<&[f64]> = grouped.iter().map(|g| g.1.as_slice()).collect();
    if slices.len() >= 2 {
        let residuals = stats::normality::residuals_from_group_means(&slices);
        t.tests.push(outcome_row(
            &base,
            "shapiro_wilk",
            stats::normality::shapiro_wilk(&residuals),
        ));
        t.tests.push(outcome_row(
            &base,
            "levene_median",
            stats::variance::levene_median(&slices),
        ));
        t.tests.push(outcome_row(
            &base,
            "kruskal_wallis",
            stats::rank::kruskal_wallis(&slices),
        ));
        match stats::rank::dunn(&slices) {
            Ok(pairs) => t
                .tests
                .extend(pairs.iter().map(|p| pair_row(&base, "dunn", &labels, p))),
            Err(e) => t.tests.push(nan_row(&base, "dunn", String::new(), &e)),
        }
        t.tests.push(outcome_row(
            &base,
            "anova",
            stats::parametric::anova_oneway(&slices),
        ));
        t.tests.push(outcome_row(
            &base,
            "welch_anova",
            stats::parametric::welch_anova(&slices),
        ));
        // Successive pairs (2 → 3 → 3.1 → 3.2), each test family Holm-adjusted.
        type PairTest = fn(&[f64], &[f64]) -> Result<TestOutcome, StatsError>;
        let pair_tests: [(&str, PairTest); 2] = [
            ("welch_t", stats::parametric::welch_t),
            ("mann_whitney", stats::rank::mann_whitney),
        ];
        for (name, f) in pair_tests {
            let rows: Vec<TestRow> = (1..slices.len())
                .map(|i| {
                    let comparison = format!("{} - {}", labels[i - 1], labels[i]);
                    let mut row = outcome_row(&base, name, f(slices[i - 1], slices[i]));
                    row.comparison = comparison;
                    row
                })
                .collect();
            let p: Vec<f64> = rows.iter().map(|r| r.p_value).collect();
            let adjusted = adjust::holm(&p);
            t.tests.extend(rows.into_iter().zip(adjusted).map(|(mut r, a)| {
                r.p_adjusted = a.is_finite().then_some(a);
                r
            }));
        }
    }
    if let Some((x, y)) = q.correlate {
        let mut by_group: BTreeMap<GenerationKey, Paired> = BTreeMap::new();
        for o in obs {
            if let (Some(a), Some(b)) = (o.values.get(x), o.values.get(y)) {
                let e = by_group
                    .entry(generation_key(&o.generation))
                    .or_insert_with(|| (o.generation.clone(), Vec::new(), Vec::new()));
                e.1.push(*a);
                e.2.push(*b);
            }
        }
        let metric = format!("{x}~{y}");
        let rows: Vec<TestRow> = by_group
            .into_values()
            .map(|(label, a, b)| {
                let mut row = outcome_row(
                    &TestRow {
                        metric: metric.clone(),
                        ..base.clone()
                    },
                    "spearman",
                    stats::rank::spearman(&a, &b),
                );
                row.comparison = label;
                row
            })
            .collect();
        let p: Vec<f64> = rows.iter().map(|r| r.p_value).collect();
        let adjusted = adjust::benjamini_hochberg(&p);
        t.tests.extend(rows.into_iter().zip(adjusted).map(|(mut r, a)| {
            r.p_adjusted = a.is_finite().then_some(a);
            r
        }));
    }
    t
}

/// Computes every table for a per-trial metrics frame.
pub fn compute(trials: &DataFrame, accounting: &str, seed: u64) -> PolarsResult<Tables> {
    let trials = with_j_per_b(trials)?;
    let runs = run_level(&trials)?;
    let trial_obs = observations(&trials)?;
    let run_obs = observations(&runs)?;
    let mut tasks: Vec<String> = trial_obs.iter().map(|o| o.task.clone()).collect();
    tasks.sort();
    tasks.dedup();
    let accuracy: Vec<&'static str> = ["accuracy", "accuracy_gold", "accuracy_judge"]
        .into_iter()
        .filter(|m| trial_obs.iter().any(|o| o.values.contains_key(*m)))
        .collect();
    let jobs: Vec<(Question, Level)> = questions(&tasks, &accuracy)
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
            let obs: Vec<&Obs> = source
                .iter()
                .filter(|o| q.subset.as_ref().is_none_or(|s| &o.task == s))
                .collect();
            run_question(q, &obs, *level, accounting, seed)
        })
        .collect();
    let mut all = Tables::default();
    for p in parts {
        all.descriptive.extend(p.descriptive);
        all.tests.extend(p.tests);
    }
    Ok(all)
}

impl Tables {
    /// `descriptive.csv` as a frame.
    pub fn descriptive_frame(&self) -> PolarsResult<DataFrame> {
        let d = &self.descriptive;
        let s = |name: &str, f: fn(&DescriptiveRow) -> &str| {
            Column::new(name.into(), d.iter().map(f).collect::<Vec<_>>())
        };
        let x = |name: &str, f: fn(&Descriptive) -> f64| {
            Column::new(
                name.into(),
                d.iter()
                    .map(|r| Some(f(&r.stats)).filter(|v| v.is_finite()))
                    .collect::<Vec<_>>(),
            )
        };
        DataFrame::new(
            d.len(),
            vec![
                s("rq", |r| &r.rq),
                s("accounting", |r| &r.accounting),
                s("level", |r| r.level.as_str()),
                s("metric", |r| &r.metric),
                s("group", |r| &r.group),
                Column::new("n".into(), d.iter().map(|r| r.stats.n as i64).collect::<Vec<_>>()),
                x("mean", |s| s.mean),
                x("median", |s| s.median),
                x("var", |s| s.var),
                x("sd", |s| s.sd),
                x("min", |s| s.min),
                x("max", |s| s.max),
                x("iqr", |s| s.iqr),
                x("mean_ci_low", |s| s.mean_ci.0),
                x("mean_ci_high", |s| s.mean_ci.1),
                x("median_ci_low", |s| s.median_ci.0),
                x("median_ci_high", |s| s.median_ci.1),
                s("subset", |r| &r.subset),
            ],
        )
    }

    /// `tests.csv` as a frame.
    pub fn tests_frame(&self) -> PolarsResult<DataFrame> {
        let t = &self.tests;
        let s = |name: &str, f: fn(&TestRow) -> &str| {
            Column::new(name.into(), t.iter().map(f).collect::<Vec<_>>())
        };
        let o = |name: &str, f: fn(&TestRow) -> Option<f64>| {
            Column::new(
                name.into(),
                t.iter()
                    .map(|r| f(r).filter(|v| v.is_finite()))
                    .collect::<Vec<_>>(),
            )
        };
        DataFrame::new(
            t.len(),
            vec![
                s("rq", |r| &r.rq),
                s("accounting", |r| &r.accounting),
                s("level", |r| r.level.as_str()),
                s("metric", |r| &r.metric),
                s("test", |r| &r.test),
                s("comparison", |r| &r.comparison),
                o("statistic", |r| Some(r.statistic)),
                o("df", |r| r.df),
                o("df2", |r| r.df2),
                o("p_value", |r| Some(r.p_value)),
                o("p_adjusted", |r| r.p_adjusted),
                o("effect_size", |r| r.effect.as_ref().map(|e| e.value)),
                s("effect_name", |r| r.effect.as_ref().map_or("", |e| e.name)),
                o("effect_ci_low", |r| {
                    r.effect.as_ref().and_then(|e| e.ci).map(|c| c.0)
                }),
                o("effect_ci_high", |r| {
                    r.effect.as_ref().and_then(|e| e.ci).map(|c| c.1)
                }),
                Column::new("n".into(), t.iter().map(|r| r.n as i64).collect::<Vec<_>>()),
                s("subset", |r| &r.subset),
                s("note", |r| &r.note),
            ],
        )
    }
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
}
