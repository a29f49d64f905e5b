//! Plain-language findings, computed from the statistics tables (never typed by hand): one
//! [`Section`] per research question with its sentences, figures and tables, and the
//! [`HonestUnit`] paragraph that says why the run, not the trial, is the unit of evidence.

use crate::audit::Audit;
use crate::model::{Level, Metric, Study, configuration_label, size_in_billions};
use crate::questions::{DescriptiveRow, Rq, Tables, Test, TestRow};
use crate::report::Inputs;
use crate::report::table::{Table, count, joules, num, p_is, pval, times};
use crate::stats::Effect;
use std::collections::BTreeMap;

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

/// Why the run is the honest unit, from the audit of identical responses.
#[derive(Debug, Clone, PartialEq)]
pub struct HonestUnit {
    /// The explanation.
    pub sentences: Vec<String>,
    /// Per generation: treatments, identical ones, distinct response sets.
    pub table: Table,
}

/// How a metric is named in sentences and tables.
#[derive(Debug, Clone, Copy)]
struct Wording {
    metric: Metric,
    noun: &'static str,
    unit: &'static str,
    /// Higher is better (accuracy): then sentences compare scores, not "uses less".
    score: bool,
    /// The verb of a comparison (`uses`, `draws`).
    verb: &'static str,
}

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
fn comparison(
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

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

/// Spearman sentences: ρ per generation.
fn correlations(
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

fn correlation_table(study: &Study, t: &Tables, rq: Rq, pair: (Metric, Metric), caption: &str) -> Table {
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

fn csv_files(rq: Rq, with_correlations: bool) -> Vec<String> {
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

fn rq2(study: &Study, t: &Tables) -> Section {
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

/// One section per research question, in the study's order.
pub fn sections(inputs: &Inputs<'_>, study: &Study) -> Vec<Section> {
    let t = inputs.tables;
    let both = |rq: Rq, m: Wording, groups: &'static str| -> Vec<String> {
        [Level::Run, Level::Trial]
            .into_iter()
            .filter_map(|l| comparison(study, t, rq, l, m, groups))
            .collect()
    };
    let mut out = Vec::new();

    let f = both(Rq::Rq1_1, ENERGY, "generations");
    out.push(Section {
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
    });

    let mut f = both(Rq::Rq1_2, J_PER_B, "configurations");
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
    out.push(Section {
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
    });

    out.push(rq2(study, t));

    let mut f = both(Rq::Rq3_1, PER_TOKEN, "generations");
    f.extend(correlations(
        study,
        t,
        Rq::Rq3_1,
        Level::Trial,
        (Metric::Energy, Metric::Tokens),
        "energy and output tokens",
    ));
    out.push(Section {
        rq: Rq::Rq3_1,
        title: "Energy per output token",
        question: "Does the energy per generated token differ between generations, and does energy follow the number of tokens?",
        findings: f,
        figures: vec!["rq3_1_energy_per_token_box", "rq3_1_tokens_scatter"],
        tables: vec![
            descriptive_table(study, t, Rq::Rq3_1, Metric::EnergyPerToken, None, "RQ3.1: energy per output token (J/token) by generation"),
            tests_table(t, Rq::Rq3_1, Metric::EnergyPerToken, None, "RQ3.1: tests of energy per output token"),
            correlation_table(study, t, Rq::Rq3_1, (Metric::Energy, Metric::Tokens), "RQ3.1: Spearman ρ of energy and output tokens"),
        ],
        csv: csv_files(Rq::Rq3_1, true),
    });

    let mut f = both(Rq::Rq3_2, POWER, "generations");
    f.extend(correlations(
        study,
        t,
        Rq::Rq3_2,
        Level::Trial,
        (Metric::Energy, Metric::Duration),
        "energy and duration",
    ));
    f.push(power_x100(inputs.audit));
    out.push(Section {
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
    });

    let has_accuracy = !t
        .described(Rq::Rq3_3, Level::Trial, Metric::Accuracy, None)
        .is_empty();
    let mut f = if has_accuracy {
        both(Rq::Rq3_3, ACCURACY, "generations")
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
    out.push(Section {
        rq: Rq::Rq3_3,
        title: "Accuracy and energy",
        question: "Does accuracy differ between generations, and is more energy associated with better answers?",
        findings: f,
        figures: if has_accuracy { vec!["rq3_3_accuracy_box", "rq3_3_accuracy_energy"] } else { vec![] },
        tables: if has_accuracy {
            vec![
                descriptive_table(study, t, Rq::Rq3_3, Metric::Accuracy, None, "RQ3.3: accuracy by generation"),
                tests_table(t, Rq::Rq3_3, Metric::Accuracy, None, "RQ3.3: tests of accuracy"),
                correlation_table(study, t, Rq::Rq3_3, (Metric::Energy, Metric::Accuracy), "RQ3.3: Spearman ρ of energy and accuracy"),
            ]
        } else {
            vec![]
        },
        csv: csv_files(Rq::Rq3_3, true),
    });
    out
}

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
             read the run level as the answer and the trial level as the study's own, optimistic view."
                .to_string(),
        );
        Self { sentences, table }
    }
}
