//! Plain-language findings, computed from the statistics tables (never typed by hand): one
//! [`Section`] per research question with its sentences, figures and tables, and the
//! [`HonestUnit`] paragraph that says why the run, not the trial, is the unit of evidence.
//!
//! One file per research question (`rq1.rs`: RQ1.1 and RQ1.2, `rq2.rs`, `rq3.rs`: RQ3.1–RQ3.3)
//! and `unit.rs` for the unit of evidence; this file holds what they share: the lookups into
//! the tables, the sentences (omnibus verdicts, successive pairs, correlations) and the tables.

pub(super) mod published;
mod rq1;
mod rq2;
mod rq3;
mod unit;

pub use rq3::power_x100;
pub use unit::HonestUnit;

use crate::model::{Level, Metric, Study};
use crate::questions::{DescriptiveRow, Rq, Tables, Test, TestRow};
use crate::report::Inputs;
use crate::report::table::{Table, count, joules, num, p_is, pval, times};
use crate::stats::Effect;

/// Significance level the sentences use to say "differ" or "do not differ".
pub const ALPHA: f64 = 0.05;

/// One research question as the report shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// The research question.
    pub rq: Rq,
    /// Short title.
    pub title: &'static str,
    /// The question.
    pub question: &'static str,
    /// Findings, one sentence or short paragraph each.
    pub findings: Vec<String>,
    /// File stems of the figures shown with it.
    pub figures: Vec<&'static str>,
    /// Tables shown with it.
    pub tables: Vec<Table>,
    /// Per-RQ CSV files with every number.
    pub csv: Vec<String>,
}

/// One section per research question, in the study's order.
pub fn sections(inputs: &Inputs<'_>, study: &Study) -> Vec<Section> {
    let t = inputs.tables;
    vec![
        rq1::energy_by_generation(study, t),
        rq1::energy_and_size(study, t),
        rq2::energy_by_task(study, t),
        rq3::energy_per_token(study, t),
        rq3::power_and_duration(study, t, inputs.audit),
        rq3::accuracy_and_energy(study, t),
    ]
}

/// How a metric is named in sentences and tables.
#[derive(Debug, Clone, Copy)]
pub(super) struct Wording {
    pub(super) metric: Metric,
    pub(super) noun: &'static str,
    unit: &'static str,
    /// Higher is better (accuracy): then sentences compare scores, not "uses less".
    pub(super) score: bool,
    /// The verb of a comparison (`uses`, `draws`).
    pub(super) verb: &'static str,
}

fn effect_symbol(name: &str) -> &str {
    match name {
        "epsilon_squared" => "ε²",
        "eta_squared" => "η²",
        "hedges_g" => "Hedges' g",
        "cliffs_delta" => "Cliff's δ",
        other => other,
    }
}

/// `Kruskal–Wallis H = 21.26, df = 3, p = 9.3e-5, ε² = 0.733 [95 % CI 0.725, 0.839]`.
pub fn test_sentence(test: Test, statistic: f64, df: Option<f64>, p: f64, effect: Option<&Effect>) -> String {
    let mut s = format!("{} {} = {}", test.label(), test.symbol(), num(statistic));
    if let Some(df) = df {
        s.push_str(&format!(", df = {}", count(df)));
    }
    s.push_str(&format!(", {}", p_is("p", p)));
    if let Some(e) = effect {
        s.push_str(&format!(", {} = {}", effect_symbol(e.name), num(e.value)));
        if let Some((lo, hi)) = e.ci {
            s.push_str(&format!(" [95 % CI {}, {}]", num(lo), num(hi)));
        }
    }
    s
}

/// [`test_sentence`] of a table row, or why it could not be computed.
pub fn omnibus_sentence(t: &TestRow) -> String {
    if !t.statistic.is_finite() {
        return format!("{} could not be computed ({})", t.test.label(), t.note);
    }
    test_sentence(t.test, t.statistic, t.df, t.p_value, t.effect.as_ref())
}

fn level_phrase(level: Level, n: usize) -> String {
    match level {
        Level::Run => format!("at run level (n = {n} treatment means, the honest unit)"),
        Level::Trial => format!("at trial level (n = {n} trials)"),
    }
}

fn value(m: Wording, x: f64) -> String {
    if m.unit == "J" {
        joules(x)
    } else if m.unit.is_empty() {
        num(x)
    } else {
        format!("{} {}", num(x), m.unit)
    }
}

/// Sentences comparing successive groups (2 → 3 → 3.1 → 3.2) with the Dunn p of each pair.
fn successive(
    study: &Study,
    t: &Tables,
    rq: Rq,
    level: Level,
    m: Wording,
    rows: &[&DescriptiveRow],
) -> Vec<String> {
    let label = |g: &str| {
        if study.generations.iter().any(|x| x == g) {
            study.label(g)
        } else {
            g.to_string()
        }
    };
    rows.windows(2)
        .map(|w| {
            let (a, b) = (w[0], w[1]);
            let dunn = t
                .pair(rq, level, m.metric, Test::Dunn, &a.group, &b.group)
                .and_then(|r| r.p_adjusted)
                .map_or(String::new(), |p| {
                    let verdict = if p < ALPHA { "" } else { ", not significant" };
                    format!("; Dunn {}{verdict}", p_is("p_adj", p))
                });
            let (ma, mb) = (a.stats.mean, b.stats.mean);
            if m.score {
                format!(
                    "{} scores {} on average against {} for {}{dunn}",
                    label(&b.group),
                    value(m, mb),
                    value(m, ma),
                    label(&a.group)
                )
            } else {
                let r = ma / mb;
                let (factor, word) = if r >= 1.0 { (r, "less") } else { (1.0 / r, "more") };
                format!(
                    "{} {} {} {word} {} than {} ({} vs {}{dunn})",
                    label(&b.group),
                    m.verb,
                    times(factor),
                    m.noun,
                    label(&a.group),
                    value(m, mb),
                    value(m, ma),
                )
            }
        })
        .collect()
}

/// Lowest and highest group means.
fn extremes(study: &Study, m: Wording, rows: &[&DescriptiveRow]) -> Option<String> {
    let lo = rows.iter().min_by(|a, b| a.stats.mean.total_cmp(&b.stats.mean))?;
    let hi = rows.iter().max_by(|a, b| a.stats.mean.total_cmp(&b.stats.mean))?;
    let label = |g: &str| {
        if study.generations.iter().any(|x| x == g) {
            study.label(g)
        } else {
            g.to_string()
        }
    };
    if m.score {
        return Some(format!(
            "Mean {} ranges from {} ({}) to {} ({})",
            m.noun,
            value(m, lo.stats.mean),
            label(&lo.group),
            value(m, hi.stats.mean),
            label(&hi.group)
        ));
    }
    Some(format!(
        "Mean {} ranges from {} ({}) to {} ({}), a factor of {}",
        m.noun,
        value(m, lo.stats.mean),
        label(&lo.group),
        value(m, hi.stats.mean),
        label(&hi.group),
        times(hi.stats.mean / lo.stats.mean)
    ))
}

fn verdict(kw: Option<&TestRow>, noun: &str, groups: &str) -> String {
    match kw {
        Some(k) if k.p_value < ALPHA => format!("{noun} differs between {groups} ({}).", omnibus_sentence(k)),
        Some(k) if k.p_value.is_finite() => {
            format!(
                "{noun} does not differ detectably between {groups} ({}).",
                omnibus_sentence(k)
            )
        }
        Some(k) => format!("{}.", omnibus_sentence(k)),
        None => format!("{noun}: no test (fewer than two {groups})."),
    }
}

/// The group comparison of one metric at one level: extremes, omnibus verdict, successive pairs.
pub(super) fn comparison(
    study: &Study,
    t: &Tables,
    rq: Rq,
    level: Level,
    m: Wording,
    groups_word: &str,
) -> Option<String> {
    let rows = t.described(rq, level, m.metric, None);
    if rows.is_empty() {
        return None;
    }
    let n: usize = rows.iter().map(|r| r.stats.n).sum();
    let kw = t.test(rq, level, m.metric, Test::KruskalWallis, None);
    let mut s = format!(
        "{}: {}",
        capitalise(&level_phrase(level, n)),
        verdict(kw, m.noun, groups_word)
    );
    if let Some(e) = extremes(study, m, &rows) {
        s.push_str(&format!(" {e}."));
    }
    let pairs = successive(study, t, rq, level, m, &rows);
    if !pairs.is_empty() {
        s.push_str(&format!(" {}.", pairs.join("; ")));
    }
    Some(s)
}

pub(super) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

/// Spearman sentences: ρ per generation.
pub(super) fn correlations(
    study: &Study,
    t: &Tables,
    rq: Rq,
    level: Level,
    pair: (Metric, Metric),
    what: &str,
) -> Option<String> {
    let rows = t.correlations(rq, level, pair);
    if rows.is_empty() {
        return None;
    }
    let parts: Vec<String> = rows
        .iter()
        .map(|r| {
            if r.statistic.is_finite() {
                format!(
                    "{} ρ = {} ({}, n = {})",
                    study.label(&r.comparison),
                    num(r.statistic),
                    r.p_adjusted.map_or("p_adj = –".into(), |p| p_is("p_adj", p)),
                    r.n
                )
            } else {
                format!("{} not computed ({})", study.label(&r.comparison), r.note)
            }
        })
        .collect();
    Some(format!(
        "Spearman correlation of {what} within each generation, {}: {}.",
        match level {
            Level::Run => "run level",
            Level::Trial => "trial level",
        },
        parts.join("; ")
    ))
}

/// Descriptive table of one metric at both levels.
pub fn descriptive_table(
    study: &Study,
    t: &Tables,
    rq: Rq,
    metric: Metric,
    subset: Option<&str>,
    caption: &str,
) -> Table {
    let mut table = Table::new(
        caption,
        &[
            "level",
            "group",
            "n",
            "mean",
            "median",
            "sd",
            "IQR",
            "95 % CI of mean",
            "95 % CI of median",
        ],
        2,
    );
    for level in [Level::Run, Level::Trial] {
        for d in t.described(rq, level, metric, subset) {
            let s = &d.stats;
            let group = if study.generations.contains(&d.group) {
                study.label(&d.group)
            } else {
                d.group.clone()
            };
            table.push(vec![
                level.as_str().to_string(),
                group,
                s.n.to_string(),
                num(s.mean),
                num(s.median),
                num(s.sd),
                num(s.iqr),
                format!("{} – {}", num(s.mean_ci.0), num(s.mean_ci.1)),
                format!("{} – {}", num(s.median_ci.0), num(s.median_ci.1)),
            ]);
        }
    }
    table
}

/// Test table of one metric at both levels (omnibus, Dunn, successive pairs).
pub fn tests_table(t: &Tables, rq: Rq, metric: Metric, subset: Option<&str>, caption: &str) -> Table {
    let mut table = Table::new(
        caption,
        &[
            "level",
            "test",
            "comparison",
            "statistic",
            "df",
            "p",
            "p adjusted",
            "effect size",
            "n",
        ],
        3,
    );
    for level in [Level::Run, Level::Trial] {
        for r in t.tests.iter().filter(|r| {
            r.rq == rq
                && r.level == level
                && r.metric == metric
                && r.with.is_none()
                && r.subset.as_deref() == subset
        }) {
            let df = match (r.df, r.df2) {
                (Some(a), Some(b)) => format!("{}, {}", count(a), count(b)),
                (Some(a), None) => count(a),
                _ => String::new(),
            };
            let effect = r.effect.as_ref().map_or(String::new(), |e| {
                let ci =
                    e.ci.map_or(String::new(), |(lo, hi)| format!(" [{}, {}]", num(lo), num(hi)));
                format!("{} = {}{ci}", effect_symbol(e.name), num(e.value))
            });
            table.push(vec![
                level.as_str().to_string(),
                r.test.label().to_string(),
                r.comparison.clone(),
                if r.statistic.is_finite() {
                    format!("{} = {}", r.test.symbol(), num(r.statistic))
                } else {
                    format!("– ({})", r.note)
                },
                df,
                pval(r.p_value),
                r.p_adjusted.map_or(String::new(), pval),
                effect,
                r.n.to_string(),
            ]);
        }
    }
    table
}

pub(super) fn correlation_table(
    study: &Study,
    t: &Tables,
    rq: Rq,
    pair: (Metric, Metric),
    caption: &str,
) -> Table {
    let mut table = Table::new(
        caption,
        &["level", "generation", "ρ", "p", "p adjusted (BH)", "n"],
        2,
    );
    for level in [Level::Run, Level::Trial] {
        for r in t.correlations(rq, level, pair) {
            table.push(vec![
                level.as_str().to_string(),
                study.label(&r.comparison),
                num(r.statistic),
                pval(r.p_value),
                r.p_adjusted.map_or(String::new(), pval),
                r.n.to_string(),
            ]);
        }
    }
    table
}

pub(super) fn csv_files(rq: Rq, with_correlations: bool) -> Vec<String> {
    let stem = rq.stem();
    let mut v: Vec<String> = ["descriptive", "assumptions", "omnibus", "pairwise"]
        .iter()
        .map(|f| format!("tables/{stem}_{f}.csv"))
        .collect();
    if with_correlations {
        v.push(format!("tables/{stem}_correlations.csv"));
    }
    v
}

/// The group comparison of one metric at run level and at trial level (where there are rows).
pub(super) fn both(study: &Study, t: &Tables, rq: Rq, m: Wording, groups: &str) -> Vec<String> {
    Level::BOTH
        .into_iter()
        .filter_map(|l| comparison(study, t, rq, l, m, groups))
        .collect()
}
