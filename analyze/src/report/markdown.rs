//! `summary.md`: the findings and key tables in Markdown, for READMEs and papers. It holds no
//! path of the machine that wrote it and no time of writing, so it is reproducible (and
//! snapshot-tested).

use crate::audit;
use crate::questions::Test;
use crate::report::comparison::REASONS;
use crate::report::findings::test_sentence;
use crate::report::table::{Table, joules, percent};
use crate::report::{Output, Report};
use anyhow::Result;
use std::fmt::Write as _;

/// The Markdown output.
#[derive(Debug, Clone, Copy)]
pub struct Markdown;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A GitHub-flavoured Markdown table.
pub fn table(out: &mut String, t: &Table) {
    if t.is_empty() {
        return;
    }
    let _ = writeln!(out, "*{}*\n", cell(&t.caption));
    let _ = writeln!(
        out,
        "| {} |",
        t.header.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | ")
    );
    let rule: Vec<&str> = t
        .numeric
        .iter()
        .map(|n| if *n { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "| {} |", rule.join(" | "));
    for row in &t.rows {
        let _ = writeln!(
            out,
            "| {} |",
            row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
        );
    }
    out.push('\n');
}

impl Output for Markdown {
    fn file_name(&self) -> &'static str {
        "summary.md"
    }

    fn render(&self, report: &Report<'_>) -> Result<String> {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# LLM inference energy report — {} trials\n",
            report.study.metrics.len()
        );
        let _ = writeln!(
            out,
            "{} accounting. The full report with every figure, table and formula is [index.html](index.html); \
             every number is in [tables/](tables/).\n",
            capital(report.inputs.accounting.as_str())
        );
        if report.overview.simulated {
            out.push_str("> **SIMULATED DATA**: these trials come from a fake endpoint or a scripted energy source; no number here is a measurement.\n\n");
        }
        if let Some(w) = &report.overview.mixed_components {
            let _ = writeln!(out, "> **MIXED ENERGY COMPONENTS**: {w}\n");
        }
        if let Some(d) = &report.overview.damaged {
            let _ = writeln!(out, "> **DAMAGED FILES SKIPPED**: {}\n>", d.text);
            for line in &d.skipped {
                let _ = writeln!(out, "> - {}", cell(line));
            }
            if !d.balance.is_empty() {
                out.push_str(">\n> Repetitions per treatment after skipping them:\n>\n");
                for line in &d.balance {
                    let _ = writeln!(out, "> - {line}");
                }
            }
            out.push('\n');
        }
        out.push_str("## At a glance\n\n");
        for (k, v) in &report.overview.facts {
            let _ = writeln!(out, "- **{k}**: {v}");
        }
        out.push('\n');
        out.push_str("## The unit of evidence: runs, not trials\n\n");
        for s in &report.unit.sentences {
            let _ = writeln!(out, "{s}\n");
        }
        table(&mut out, &report.unit.table);

        let mut summary = Table::new(
            "Kruskal–Wallis across groups, per research question and level",
            &["question", "metric", "level", "n", "H", "df", "p", "ε²"],
            3,
        );
        for t in report
            .inputs
            .tables
            .tests
            .iter()
            .filter(|t| t.test == Test::KruskalWallis && t.subset.is_none())
        {
            summary.push(vec![
                t.rq.label().to_string(),
                t.metric_name(),
                t.level.as_str().to_string(),
                t.n.to_string(),
                crate::report::table::num(t.statistic),
                t.df.map_or(String::new(), crate::report::table::count),
                crate::report::table::pval(t.p_value),
                t.effect
                    .as_ref()
                    .map_or(String::new(), |e| crate::report::table::num(e.value)),
            ]);
        }
        out.push_str("## Findings\n\n");
        table(&mut out, &summary);
        for s in &report.sections {
            let _ = writeln!(out, "### {} {}\n\n*{}*\n", s.rq.label(), s.title, s.question);
            for f in &s.findings {
                let _ = writeln!(out, "- {f}");
            }
            out.push('\n');
            for f in &s.figures {
                if let Some(r) = report.figure(f) {
                    let _ = writeln!(out, "![{}](figures/{}.svg)\n", cell(&r.figure.title), f);
                }
            }
            if let Some(t) = s.tables.first() {
                table(&mut out, t);
            }
        }

        let sv = &report.serving;
        if sv.shown {
            out.push_str("## Serving regime: load, latency, frontier, validity\n\n");
            for f in &sv.findings {
                let _ = writeln!(out, "- {f}");
            }
            out.push('\n');
            if let Some(n) = &sv.no_frontier {
                let _ = writeln!(out, "{n}\n");
            }
            for name in [
                crate::report::figures::serving::ENERGY_BY_LOAD,
                crate::report::figures::serving::FRONTIER_ACCURACY,
                crate::report::figures::serving::FRONTIER_LATENCY,
            ] {
                if let Some(r) = report.figure(name) {
                    let _ = writeln!(out, "![{}](figures/{}.svg)\n", cell(&r.figure.title), name);
                }
            }
            for t in [&sv.levels, &sv.latency, &sv.frontier, &sv.gates] {
                table(&mut out, t);
            }
        }

        out.push_str("## Accuracy by scorer\n\n");
        for s in &report.accuracy.sentences {
            let _ = writeln!(out, "- {s}");
        }
        out.push('\n');
        for t in &report.accuracy.tables {
            table(&mut out, t);
        }

        let c = &report.comparison;
        out.push_str("## Accounting comparison\n\n");
        let _ = writeln!(
            out,
            "Published accounting {} against corrected {} over {} trials ({}). Run-level RQ1.1 under each:\n",
            joules(c.published_j),
            joules(c.corrected_j),
            c.trials.len(),
            percent(c.published_j / c.corrected_j - 1.0)
        );
        for test in &c.tests {
            let kw = test.kruskal_wallis.as_ref().map_or("no test".to_string(), |k| {
                test_sentence(
                    Test::KruskalWallis,
                    k.statistic,
                    k.df,
                    k.p_value,
                    k.effect.as_ref(),
                )
            });
            let _ = writeln!(out, "- {}: {kw}", test.accounting);
        }
        out.push('\n');
        let mut t = Table::new(
            "Causes of the difference (published − corrected, all trials)",
            &["cause", "energy", "share of corrected", "trials"],
            1,
        );
        for (i, r) in REASONS.iter().enumerate() {
            t.push(vec![
                (*r).to_string(),
                joules(c.parts[i]),
                percent(c.parts[i] / c.corrected_j),
                c.trials_per_reason[i].to_string(),
            ]);
        }
        table(&mut out, &t);
        out.push_str("![Published vs corrected energy per trial](figures/accounting_scatter.svg)\n\n");

        out.push_str("## Data-quality audit\n\n");
        for line in audit::render_text(report.inputs.audit)
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
        {
            let _ = writeln!(out, "- {line}");
        }
        out.push('\n');
        Ok(out)
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}
