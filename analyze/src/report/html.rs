//! `index.html`: the whole report in one self-contained file — inline CSS, figures as inline
//! SVG, no script, no external resource — readable from `file://` in any browser.

use crate::audit::{self, GAP_FACTOR};
use crate::report::comparison::REASONS;
use crate::report::table::{Table, joules, num, percent, pval, times};
use crate::report::{Output, Report};
use anyhow::Result;
use std::fmt::Write as _;

/// The HTML output.
#[derive(Debug, Clone, Copy)]
pub struct Html;

/// The stylesheet, inlined into `<style>` (the file has no leading newline; the page adds one).
const CSS: &str = include_str!("../../assets/report.css");

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes text and turns `code` spans into `<code>`.
pub fn inline(s: &str) -> String {
    let escaped = esc(s);
    let mut out = String::with_capacity(escaped.len());
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

fn table(out: &mut String, t: &Table) {
    if t.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<p class=\"tcap\">{}</p><div class=\"scroll\"><table><thead><tr>",
        inline(&t.caption)
    );
    for h in &t.header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            if t.numeric.get(i).copied().unwrap_or(false) {
                let _ = write!(out, "<td class=\"n\">{}</td>", esc(cell));
            } else {
                let _ = write!(out, "<td>{}</td>", inline(cell));
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>\n");
}

fn figure(out: &mut String, report: &Report<'_>, name: &str, counter: &mut usize) {
    let Some(r) = report.figure(name) else { return };
    *counter += 1;
    let svg = r.svg.trim_start_matches(|c: char| c != '<');
    let _ = write!(
        out,
        "<figure class=\"plot\" id=\"fig-{name}\" data-figure=\"{name}\">\n{svg}\n<figcaption><b>Figure {}.</b> {} \
         (<a href=\"figures/{name}.svg\">figures/{name}.svg</a>)</figcaption></figure>\n",
        *counter,
        inline(&r.figure.caption)
    );
}

fn findings(out: &mut String, items: &[String]) {
    out.push_str("<div class=\"finding\"><ul>");
    for f in items {
        let _ = write!(out, "<li>{}</li>", inline(f));
    }
    out.push_str("</ul></div>\n");
}

fn section_id(rq: &str) -> String {
    rq.to_lowercase().replace('.', "-")
}

fn glance(out: &mut String, report: &Report<'_>) {
    let o = &report.overview;
    out.push_str("<section id=\"glance\"><h2>The experiment at a glance</h2><dl class=\"facts\">");
    for (k, v) in &o.facts {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
    }
    out.push_str("</dl>");
    table(out, &o.design);
    out.push_str("<h3>Provenance</h3><p>From the dataset manifest and the provenance JSON of every trial (distinct values).</p><dl class=\"facts\">");
    for (k, v) in &o.provenance {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
    }
    out.push_str("</dl></section>\n");
}

fn unit(out: &mut String, report: &Report<'_>) {
    out.push_str("<section id=\"unit\"><h2>The unit of evidence: runs, not trials</h2>");
    findings(out, &report.unit.sentences);
    table(out, &report.unit.table);
    out.push_str("</section>\n");
}

fn comparison(out: &mut String, report: &Report<'_>, counter: &mut usize) {
    let c = &report.comparison;
    let n = c.trials.len();
    out.push_str("<section id=\"accounting\"><h2>Accounting comparison: published vs corrected</h2>");
    let _ = write!(
        out,
        "<p>The statistics above use the <b>{}</b> accounting. Over all {n} trials the published procedure counts \
         {} against {} corrected ({}); per trial the ratio published/corrected ranges from {} to {}. \
         The difference splits exactly into the causes below (Methods gives the formulas).</p>",
        report.inputs.accounting.as_str(),
        joules(c.published_j),
        joules(c.corrected_j),
        percent(c.published_j / c.corrected_j - 1.0),
        times(c.trials.iter().map(|t| t.ratio()).fold(f64::INFINITY, f64::min)),
        times(
            c.trials
                .iter()
                .map(|t| t.ratio())
                .fold(f64::NEG_INFINITY, f64::max)
        ),
    );
    let why = [
        "the published `gpu_joules` adds every CPU package difference a second time",
        "inside the window the package counter wrapped; the published procedure takes the new (small) counter value as the difference",
        "GPU power × an assumed 0.2 s per sample, where the corrected accounting integrates the power over the real sample times (trapezoid)",
        "the published procedure sets DRAM to 0; the corrected one uses the RAPL DRAM counter when it reports energy",
        "the published window keeps samples up to the last request's end second, dropping the rest of that second",
    ];
    let mut t = Table::new(
        "Where the difference comes from (all trials)",
        &[
            "cause",
            "published − corrected",
            "share of corrected",
            "trials affected",
            "why",
        ],
        1,
    )
    .text_column(4);
    for (i, reason) in REASONS.iter().enumerate() {
        let mut row = vec![
            (*reason).to_string(),
            joules(c.parts[i]),
            percent(c.parts[i] / c.corrected_j),
            c.trials_per_reason[i].to_string(),
        ];
        row.push(why[i].to_string());
        t.push(row);
    }
    t.push(vec![
        "total".into(),
        joules(c.published_j - c.corrected_j),
        percent(c.published_j / c.corrected_j - 1.0),
        n.to_string(),
        String::new(),
    ]);
    table(out, &t);
    let mut t = Table::new(
        "Does the accounting change RQ1.1? Run-level mean energy per trial and Kruskal–Wallis under each",
        &[
            &["accounting"][..],
            &report
                .study
                .generations
                .iter()
                .map(|g| report.study.label(g))
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()[..],
            &["H", "p", "ε²"],
        ]
        .concat(),
        1,
    );
    for test in &c.tests {
        let mut row = vec![test.accounting.to_string()];
        row.extend(test.means.iter().map(|m| joules(*m)));
        match &test.kruskal_wallis {
            Some(k) => row.extend([
                num(k.statistic),
                pval(k.p_value),
                k.effect.as_ref().map_or("–".into(), |e| num(e.value)),
            ]),
            None => row.extend(["–".into(), "–".into(), "–".into()]),
        }
        t.push(row);
    }
    table(out, &t);
    figure(out, report, "accounting_scatter", counter);
    figure(out, report, "accounting_breakdown", counter);
    figure(out, report, "energy_split", counter);
    figure(out, report, "power_trace", counter);
    let t = per_trial_accounting(report);
    let _ = write!(
        out,
        "<details><summary>Per-trial comparison ({n} trials, J)</summary>"
    );
    long_table(out, &t, PER_TRIAL_ACCOUNTING_CSV);
    out.push_str("</details></section>\n");
}

/// File (under `tables/`) of the per-trial accounting comparison.
pub(super) const PER_TRIAL_ACCOUNTING_CSV: &str = "accounting_per_trial.csv";
/// File (under `tables/`) of the trials the audit flags.
pub(super) const FLAGGED_TRIALS_CSV: &str = "flagged_trials.csv";
/// Rows of a per-trial table shown in the page at most: a longer table shows its first
/// [`SHOWN_ROWS`] and points to its CSV file, so the page stays small at any study size.
pub(super) const MAX_PAGE_ROWS: usize = 1000;
/// Rows shown of a table longer than [`MAX_PAGE_ROWS`].
pub(super) const SHOWN_ROWS: usize = 100;

/// A table of one row per trial (or per flagged trial), its rows made on demand: the page
/// shows at most [`MAX_PAGE_ROWS`] of them and the CSV file streams them all, so a study of
/// 100,000 trials never holds the formatted table in memory.
pub(super) struct LongTable<'r> {
    /// Caption and header (no rows).
    pub table: Table,
    /// Number of rows.
    pub len: usize,
    /// Row `i`, formatted.
    pub row: Box<dyn Fn(usize) -> Vec<String> + 'r>,
}

impl LongTable<'_> {
    /// Writes every row as CSV into `path`, atomically.
    pub fn write_csv(&self, path: &std::path::Path) -> Result<()> {
        dataset::io::write_with(path, false, |file| {
            let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
            let fail = |e: csv::Error| dataset::DatasetError::invalid(path, e.to_string());
            w.write_record(&self.table.header).map_err(fail)?;
            for i in 0..self.len {
                w.write_record((self.row)(i)).map_err(fail)?;
            }
            w.flush().map_err(|e| dataset::DatasetError::io(path, e))
        })?;
        Ok(())
    }
}

/// A per-trial table: whole when it has at most [`MAX_PAGE_ROWS`] rows, else its first
/// [`SHOWN_ROWS`] with a line naming the CSV file (`tables/<csv>`) that holds every row.
fn long_table(out: &mut String, t: &LongTable<'_>, csv: &str) {
    let mut shown = t.table.clone();
    let n = if t.len > MAX_PAGE_ROWS {
        shown.caption = format!(
            "{} — the first {SHOWN_ROWS} of {} rows; every row is in `tables/{csv}`",
            t.table.caption, t.len
        );
        SHOWN_ROWS
    } else {
        t.len
    };
    shown.rows = (0..n).map(|i| (t.row)(i)).collect();
    table(out, &shown);
}

/// Every trial's published and corrected energy and the reasons they differ, largest first.
pub(super) fn per_trial_accounting<'r>(report: &'r Report<'_>) -> LongTable<'r> {
    let c = &report.comparison;
    let t = Table::new(
        "Every trial: published and corrected energy and the reasons they differ (largest first)",
        &[
            "trial",
            "generation",
            "task",
            "published",
            "corrected",
            "ratio",
            "CPU twice",
            "wrap",
            "200 ms",
            "DRAM",
            "edges",
            "reasons",
        ],
        3,
    )
    .text_column(11);
    let row = move |i: usize| {
        let d = &c.trials[i];
        let mut row = vec![
            d.run_id.to_string(),
            report.study.label(&d.generation),
            d.task.to_string(),
            num(d.published_j),
            num(d.corrected_j),
            times(d.ratio()),
        ];
        row.extend(d.parts.iter().map(|p| num(*p)));
        row.push(
            d.reasons()
                .iter()
                .map(|(r, j)| format!("{r} ({:+.0} J)", j))
                .collect::<Vec<_>>()
                .join("; "),
        );
        row
    };
    LongTable {
        table: t,
        len: c.trials.len(),
        row: Box::new(row),
    }
}

/// The trials the audit flags (a counter wrap, a gap, a thin window, backwards samples), most
/// gaps first.
pub(super) fn flagged_trials<'r>(report: &'r Report<'_>) -> LongTable<'r> {
    let a = report.inputs.audit;
    let mut flagged: Vec<&audit::TrialAudit> = a
        .trials
        .iter()
        .filter(|t| t.cpu_wraps_file > 0 || t.gaps > 0 || t.thin_window() || t.backwards_timestamps > 0)
        .collect();
    flagged.sort_by(|p, q| {
        (q.gaps, q.cpu_wraps_file)
            .cmp(&(p.gaps, p.cpu_wraps_file))
            .then(p.key().run_id.cmp(&q.key().run_id))
    });
    let t = Table::new(
        format!(
            "Trials with a counter wrap, a gap above {GAP_FACTOR}× the sampling interval, a thin window or backwards samples"
        ),
        &[
            "trial",
            "generation",
            "task",
            "wraps in file",
            "wraps in window",
            "EnergiBridge summary",
            "gaps",
            "largest step (ms)",
            "samples in window",
            "expected",
            "backwards",
        ],
        3,
    );
    let len = flagged.len();
    let row = move |i: usize| {
        let f = flagged[i];
        vec![
            f.key().run_id.to_string(),
            report.study.label(&f.key().generation),
            f.key().task.to_string(),
            f.cpu_wraps_file.to_string(),
            f.corrected.cpu_wraps.to_string(),
            f.summary_energy_j.map_or("–".into(), joules),
            f.gaps.to_string(),
            f.max_gap_ms.to_string(),
            f.corrected.samples_in_window.to_string(),
            num(f.expected_in_window),
            f.backwards_timestamps.to_string(),
        ]
    };
    LongTable {
        table: t,
        len,
        row: Box::new(row),
    }
}

fn audit_section(out: &mut String, report: &Report<'_>) {
    let a = report.inputs.audit;
    let x = a.totals();
    out.push_str("<section id=\"audit\"><h2>Data-quality audit</h2><p>The same checks as <code>analyze audit</code>:</p><ul>");
    for line in audit::render_text(a)
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
    {
        let _ = write!(out, "<li>{}</li>", inline(line));
    }
    out.push_str("</ul>");
    let mut t = Table::new(
        "Judged rows per trial (published LLM-judge scores)",
        &["judged rows", "trials"],
        0,
    );
    for (k, v) in &x.judged_rows {
        t.push(vec![k.to_string(), v.to_string()]);
    }
    table(out, &t);
    let t = flagged_trials(report);
    if t.len > 0 {
        let _ = write!(out, "<details><summary>{} flagged trials</summary>", t.len);
        long_table(out, &t, FLAGGED_TRIALS_CSV);
        out.push_str("</details>");
    }
    out.push_str("</section>\n");
}

/// The serving-regime section (millisecond data only).
fn serving_section(out: &mut String, report: &Report<'_>, counter: &mut usize) {
    use crate::report::figures::serving::{ENERGY_BY_LOAD, FRONTIER_ACCURACY, FRONTIER_LATENCY};
    let s = &report.serving;
    if !s.shown {
        return;
    }
    out.push_str("<section id=\"serving\"><h2>Serving regime: load, latency, frontier, validity</h2>");
    findings(out, &s.findings);
    out.push_str("<h3>Load levels</h3>");
    figure(out, report, ENERGY_BY_LOAD, counter);
    table(out, &s.levels);
    out.push_str("<h3>Latency</h3>");
    table(out, &s.latency);
    out.push_str("<h3 id=\"frontier\">The energy–accuracy–latency frontier</h3>");
    if let Some(n) = &s.no_frontier {
        let _ = write!(out, "<p class=\"note\" id=\"no-frontier\">{}</p>", esc(n));
    }
    figure(out, report, FRONTIER_ACCURACY, counter);
    figure(out, report, FRONTIER_LATENCY, counter);
    table(out, &s.frontier);
    out.push_str("<h3 id=\"gates\">Steady state and validity gates</h3>");
    table(out, &s.gates);
    table(out, &s.flagged);
    out.push_str(
        "<p class=\"sub\">Every trial's steady state, gates and what they measured: <a href=\"tables/serving.csv\">tables/serving.csv</a>.</p></section>\n",
    );
}

/// The Methods section: every formula of the accounting, the statistics and the figures.
const METHODS: &str = include_str!("../../assets/methods.html");

impl Output for Html {
    fn file_name(&self) -> &'static str {
        "index.html"
    }

    fn render(&self, report: &Report<'_>) -> Result<String> {
        let mut out = String::with_capacity(2 << 20);
        let title = format!(
            "LLM inference energy report — {} trials",
            report.study.metrics.len()
        );
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>\n{CSS}</style></head>\n<body><main>\n<header><h1>{}</h1>\
             <p class=\"sub\">{} accounting · written by analyze {} · figures and tables in this folder (<a href=\"summary.md\">summary.md</a>, <a href=\"tables/\">tables/</a>, <a href=\"figures/\">figures/</a>)</p>",
            esc(&title),
            esc(&title),
            esc(report.inputs.accounting.as_str()),
            env!("CARGO_PKG_VERSION"),
        );
        if report.overview.simulated {
            out.push_str(
                "<div class=\"banner\" id=\"simulated\">SIMULATED DATA — these trials come from a fake endpoint or a \
                 scripted energy source; no number in this report is a measurement.</div>",
            );
        }
        if let Some(w) = &report.overview.mixed_components {
            let _ = write!(
                out,
                "<div class=\"banner\" id=\"mixed-components\">{}</div>",
                esc(w)
            );
        }
        if let Some(d) = &report.overview.damaged {
            let _ = write!(
                out,
                "<div class=\"banner\" id=\"damaged\">DAMAGED FILES SKIPPED — {}<ul>",
                esc(&d.text)
            );
            for line in &d.skipped {
                let _ = write!(out, "<li>{}</li>", esc(line));
            }
            out.push_str("</ul>");
            if !d.balance.is_empty() {
                out.push_str("Repetitions per treatment after skipping them:<ul>");
                for line in &d.balance {
                    let _ = write!(out, "<li>{}</li>", esc(line));
                }
                out.push_str("</ul>");
            }
            out.push_str("</div>");
        }
        out.push_str("</header>\n<nav><b>Contents</b><ol><li><a href=\"#glance\">The experiment at a glance</a></li><li><a href=\"#unit\">The unit of evidence</a></li>");
        for s in &report.sections {
            let _ = write!(
                out,
                "<li><a href=\"#{}\">{} {}</a></li>",
                section_id(s.rq.label()),
                s.rq.label(),
                esc(s.title)
            );
        }
        if report.serving.shown {
            out.push_str(
                "<li><a href=\"#serving\">Serving regime: load, latency, frontier, validity</a></li>",
            );
        }
        out.push_str("<li><a href=\"#accuracy\">Accuracy by scorer</a></li><li><a href=\"#accounting\">Accounting comparison</a></li><li><a href=\"#audit\">Data-quality audit</a></li><li><a href=\"#methods\">Methods</a></li></ol></nav>\n");
        glance(&mut out, report);
        unit(&mut out, report);
        let mut counter = 0;
        for s in &report.sections {
            let _ = write!(
                out,
                "<section id=\"{}\"><h2>{} {}</h2><p class=\"question\">{}</p>",
                section_id(s.rq.label()),
                s.rq.label(),
                esc(s.title),
                esc(s.question)
            );
            findings(&mut out, &s.findings);
            for f in &s.figures {
                figure(&mut out, report, f, &mut counter);
            }
            for t in &s.tables {
                table(&mut out, t);
            }
            let links: Vec<String> = s.csv.iter().map(|c| format!("<a href=\"{c}\">{c}</a>")).collect();
            let _ = writeln!(
                out,
                "<p class=\"sub\">Every number: {}.</p></section>",
                links.join(", ")
            );
        }
        serving_section(&mut out, report, &mut counter);
        out.push_str("<section id=\"accuracy\"><h2>Accuracy by scorer: gold labels, LLM judges</h2>");
        findings(&mut out, &report.accuracy.sentences);
        for t in &report.accuracy.tables {
            table(&mut out, t);
        }
        out.push_str("</section>\n");
        comparison(&mut out, report, &mut counter);
        audit_section(&mut out, report);
        out.push('\n');
        out.push_str(METHODS);
        let _ = write!(
            out,
            "<footer>Generated by <code>analyze --report</code> {} from the dataset described above; it reads the data \
             and writes only this folder's report files. Statistics seed {}.</footer>\n</main></body></html>\n",
            env!("CARGO_PKG_VERSION"),
            report.inputs.seed
        );
        Ok(out)
    }
}
