//! "As published": for each research question, the test the study's final R script ran —
//! Kruskal–Wallis and Dunn on run means for RQ1.1 and RQ1.2, the aligned rank transform ANOVA
//! with a random run intercept and its ART-C contrasts for RQ2 and RQ3.1–3.3 — with the
//! published accounting and the values as the script read them (so it reproduces the published
//! tables), beside the same test on the corrected accounting, and one sentence on what changes.
//!
//! The other accounting's tables come from the audit's per-trial rows of both accountings
//! ([`Study::with_accounting`]); without an audit the section is left out.

use super::{ALPHA, Section};
use crate::model::{Level, Metric, Study};
use crate::questions::{self, Rq, Tables, Test, TestRow};
use crate::report::table::{Table, num, pval};
use dataset::Accounting;

/// The published and the corrected tables of one study.
struct Both<'a> {
    published: &'a Tables,
    corrected: &'a Tables,
}

/// One line of the comparison: a test row looked up in both accountings.
struct Line {
    test: &'static str,
    what: String,
    published: Option<TestRow>,
    corrected: Option<TestRow>,
    /// Multiply the published statistic by this to show it as R printed it (−1: the RQ1.2
    /// Dunn row R relabelled without negating z).
    published_sign: f64,
}

fn find(t: &Tables, rq: Rq, level: Level, metric: Metric, test: Test, comparison: &str) -> Option<TestRow> {
    t.tests(rq, level, metric, test, None)
        .into_iter()
        .find(|r| r.comparison == comparison)
        .cloned()
}

fn lines(both: &Both<'_>, study: &Study, rq: Rq) -> (Vec<Line>, String) {
    let line = |test: Test, level: Level, metric: Metric, comparison: &str, what: String| Line {
        test: test.label(),
        what,
        published: find(both.published, rq, level, metric, test, comparison),
        corrected: find(both.corrected, rq, level, metric, test, comparison),
        published_sign: 1.0,
    };
    let g = &study.generations;
    let successive: Vec<String> = g.windows(2).map(|w| format!("{} - {}", w[0], w[1])).collect();
    let mut out = Vec::new();
    let script = match rq {
        Rq::Rq1_1 => {
            out.push(line(
                Test::KruskalWallis,
                Level::Run,
                Metric::Energy,
                "",
                "generation".into(),
            ));
            for c in &successive {
                out.push(line(Test::Dunn, Level::Run, Metric::Energy, c, c.clone()));
            }
            format!(
                "kruskal.test(energy_j_mean ~ generation) on the {} run means; FSA::dunnTest(method = \"bh\")",
                study.runs.len()
            )
        }
        Rq::Rq1_2 => {
            out.push(line(
                Test::KruskalWallis,
                Level::Run,
                Metric::JPerB,
                "",
                "configuration".into(),
            ));
            for c in [
                "Gen2_7B - Gen3_8B",
                "Gen3_8B - Gen3.1_8B",
                "Gen3.2_1B - Gen3.2_3B",
            ] {
                let mut l = line(Test::Dunn, Level::Run, Metric::JPerB, c, c.to_string());
                if c == "Gen3_8B - Gen3.1_8B" {
                    // FSA computed Gen3.1_8B − Gen3_8B; the script renamed the row without
                    // negating z, so the published z has the sign of 3.1 − 3.
                    l.published_sign = -1.0;
                    l.what = format!("{c} (published: z of Gen3.1_8B − Gen3_8B)");
                }
                out.push(l);
            }
            "kruskal.test(J_per_B ~ group_id) on the run means; FSA::dunnTest(method = \"bh\"), three key pairs".to_string()
        }
        Rq::Rq2 | Rq::Rq3_1 | Rq::Rq3_2 | Rq::Rq3_3 => {
            let metrics: &[Metric] = match rq {
                Rq::Rq2 => &[Metric::Energy],
                Rq::Rq3_1 => &[Metric::EnergyPerToken],
                Rq::Rq3_2 => &[Metric::Power],
                _ => &[Metric::Accuracy, Metric::AccuracyGold],
            };
            let terms: &[&str] = if rq == Rq::Rq2 {
                &["generation", "task", "generation:task"]
            } else {
                &["generation"]
            };
            for &m in metrics {
                let suffix = if metrics.len() > 1 {
                    format!(" ({})", m.name())
                } else {
                    String::new()
                };
                for term in terms {
                    out.push(line(
                        Test::ArtAnova,
                        Level::Trial,
                        m,
                        term,
                        format!("{term}{suffix}"),
                    ));
                }
                for c in &successive {
                    out.push(line(
                        Test::ArtContrast,
                        Level::Trial,
                        m,
                        c,
                        format!("{c}{suffix}"),
                    ));
                }
            }
            if rq == Rq::Rq2 {
                "art(energy_j ~ generation * task + (1|run)); anova(); art.con(\"generation\") and art.con(\"generation:task\", interaction = FALSE), BH".to_string()
            } else {
                "art(y ~ generation + (1|run)); anova(); art.con(\"generation\", adjust = \"bh\")".to_string()
            }
        }
    };
    (out, script)
}

fn cells(r: Option<&TestRow>, sign: f64) -> [String; 3] {
    match r {
        Some(r) if r.statistic.is_finite() => {
            let whole = |x: f64| {
                if x.fract() == 0.0 {
                    format!("{x:.0}")
                } else {
                    num(x)
                }
            };
            let df = match (r.df, r.df2) {
                (Some(a), Some(b)) => format!("{}, {}", whole(a), whole(b)),
                (Some(a), None) => whole(a),
                _ => String::new(),
            };
            let p = if matches!(r.test, Test::Dunn | Test::ArtContrast) {
                r.p_adjusted.unwrap_or(r.p_value)
            } else {
                r.p_value
            };
            [num(sign * r.statistic), df, pval(p)]
        }
        Some(r) => ["not computed".into(), String::new(), r.note.clone()],
        None => ["—".into(), String::new(), String::new()],
    }
}

fn significant(r: &TestRow) -> bool {
    let p = if matches!(r.test, Test::Dunn | Test::ArtContrast) {
        r.p_adjusted.unwrap_or(r.p_value)
    } else {
        r.p_value
    };
    p < ALPHA
}

/// The sentence on what the corrected accounting changes.
fn what_changes(lines: &[Line]) -> String {
    let flipped: Vec<String> = lines
        .iter()
        .filter(|l| match (&l.published, &l.corrected) {
            (Some(p), Some(c)) => {
                p.statistic.is_finite() && c.statistic.is_finite() && significant(p) != significant(c)
            }
            _ => false,
        })
        .map(|l| l.what.clone())
        .collect();
    let why = "the tests rank the values, so the corrected accounting changes them only where removing \
               the double-counted CPU energy and the RAPL wraps reorders trials (and, for power and \
               accuracy, where the script's rounded durations and summation ties differ from the exact values)";
    if flipped.is_empty() {
        format!("On the corrected accounting every row keeps its verdict at α = {ALPHA}: {why}.")
    } else {
        format!(
            "On the corrected accounting the verdict at α = {ALPHA} changes for {}: {why}.",
            flipped.join(", ")
        )
    }
}

/// The study's own tests under the other accounting (None without an audit to take its rows
/// from). The copy of the study they need is dropped before this returns: the report calls it
/// first, while it holds least.
pub(in crate::report) fn other_accounting_tests(study: &Study, seed: u64) -> Option<Tables> {
    let other_accounting = match study.accounting {
        Accounting::Published => Accounting::Corrected,
        Accounting::Corrected => Accounting::Published,
    };
    let other_study = study.with_accounting(other_accounting)?;
    Some(questions::study_tests(&other_study, seed))
}

/// Appends the "as published" findings and table to each section, from `other`, the tests
/// under the other accounting ([`other_accounting_tests`]).
pub(in crate::report) fn append(
    sections: &mut [Section],
    study: &Study,
    tables: &Tables,
    other: Option<&Tables>,
) {
    let Some(other) = other else {
        return;
    };
    let both = match study.accounting {
        Accounting::Published => Both {
            published: tables,
            corrected: other,
        },
        Accounting::Corrected => Both {
            published: other,
            corrected: tables,
        },
    };
    // The audit found the study's own tables next to the data: this is the published study.
    let published_study = study
        .audit
        .as_ref()
        .is_some_and(|a| a.trials.iter().any(|t| t.replay_max_rel_diff.is_some()));
    for section in sections.iter_mut() {
        let (lines, script) = lines(&both, study, section.rq);
        if lines.iter().all(|l| l.published.is_none()) {
            continue;
        }
        let mut table = Table::new(
            format!(
                "{}: as published — the study's own test ({script}), published accounting with the values the script read, beside the same test on the corrected accounting{}",
                section.rq.label(),
                if matches!(section.rq, Rq::Rq1_1 | Rq::Rq1_2) {
                    ""
                } else {
                    "; ART-C estimates and SEs are in aligned-rank units, p-values of pairs BH-adjusted"
                }
            ),
            &[
                "test",
                "term / pair",
                "statistic (published)",
                "df (published)",
                "p (published)",
                "statistic (corrected)",
                "df (corrected)",
                "p (corrected)",
            ],
            2,
        );
        for l in lines
            .iter()
            .filter(|l| l.published.is_some() || l.corrected.is_some())
        {
            let mut row = vec![l.test.to_string(), l.what.clone()];
            row.extend(cells(l.published.as_ref(), l.published_sign));
            row.extend(cells(l.corrected.as_ref(), 1.0));
            table.push(row);
        }
        let reproduces = if published_study {
            "With the published accounting and the values the script read, the table below reproduces the \
             published one."
        } else {
            "The table below runs it on this dataset under both accountings."
        };
        section.findings.push(format!(
            "As published: the study's final script ran {script}. {reproduces} {}",
            what_changes(&lines)
        ));
        if section.rq == Rq::Rq2 {
            // The script's filter: successive generations, task stripped from the names.
            let successive: Vec<(String, String)> = study
                .generations
                .windows(2)
                .map(|w| (w[0].clone(), w[1].clone()))
                .collect();
            let kept: Vec<&TestRow> = both
                .published
                .tests
                .iter()
                .filter(|r| r.rq == Rq::Rq2 && r.test == Test::ArtContrast && r.metric == Metric::Energy)
                .filter(|r| {
                    r.comparison.split_once(" - ").is_some_and(|(a, b)| {
                        let g = |s: &str| s.split(',').next().unwrap_or("").to_string();
                        a.contains(',') && successive.contains(&(g(a), g(b)))
                    })
                })
                .collect();
            let same = kept.iter().filter(|r| r.subset.is_some()).count();
            if !kept.is_empty() {
                let table = if published_study {
                    "The published per-task table (RQ2_Successive_Pairwise_Per_Task.csv)"
                } else {
                    "The study's per-task filter"
                };
                section.findings.push(format!(
                    "{table} keeps the cell pairs of successive generations after stripping the task from their \
                     names: {} rows, of which {} compare different tasks; the pairs the study meant are the {same} \
                     within one task, \
                     which tables.csv marks with their task in `subset` (its p-values are BH-adjusted over all {} \
                     cell pairs, as R's are).",
                    kept.len(),
                    kept.len() - same,
                    both.published
                        .tests
                        .iter()
                        .filter(|r| r.rq == Rq::Rq2 && r.test == Test::ArtContrast && r.comparison.contains(','))
                        .filter(|r| r.metric == Metric::Energy)
                        .count()
                ));
            }
        }
        section.tables.push(table);
        if section.rq == Rq::Rq2 {
            section.tables.push(per_task(&both, study));
        }
    }
}

/// RQ2 per task as the study meant it: the same-task cell pairs of successive generations.
fn per_task(both: &Both<'_>, study: &Study) -> Table {
    let mut table = Table::new(
        "RQ2 per task as the study meant it: ART-C contrasts of successive generations within one task \
         (estimates and SEs in aligned-rank units; p BH-adjusted over all cell pairs), published accounting \
         with the values the script read, beside the corrected accounting",
        &[
            "task",
            "pair",
            "estimate (published)",
            "SE (published)",
            "t (published)",
            "p (published)",
            "t (corrected)",
            "p (corrected)",
        ],
        2,
    );
    let mut tasks = study.tasks.clone();
    tasks.sort_by_key(|t| (t.to_lowercase(), t.clone()));
    let cell = |t: &Tables, c: &str| {
        t.tests
            .iter()
            .find(|r| {
                r.rq == Rq::Rq2
                    && r.test == Test::ArtContrast
                    && r.metric == Metric::Energy
                    && r.comparison == c
            })
            .cloned()
    };
    for task in &tasks {
        for w in study.generations.windows(2) {
            let c = format!("{},{task} - {},{task}", w[0], w[1]);
            let (p, k) = (cell(both.published, &c), cell(both.corrected, &c));
            if p.is_none() && k.is_none() {
                continue;
            }
            let stat = |r: &Option<TestRow>| {
                r.as_ref().map_or([String::new(), String::new()], |r| {
                    [num(r.statistic), r.p_adjusted.map_or(String::new(), pval)]
                })
            };
            let mut row = vec![task.clone(), format!("{} - {}", w[0], w[1])];
            row.push(p.as_ref().and_then(|r| r.estimate).map_or(String::new(), num));
            row.push(p.as_ref().and_then(|r| r.se).map_or(String::new(), num));
            row.extend(stat(&p));
            row.extend(stat(&k));
            table.push(row);
        }
    }
    table
}
