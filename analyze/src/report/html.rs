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

const CSS: &str = r#"
:root { --ink: #222; --muted: #666; --rule: #ddd; --accent: #30609f; --warn: #b3261e; }
* { box-sizing: border-box; }
body { font: 15px/1.5 "DejaVu Sans", system-ui, sans-serif; color: var(--ink); margin: 0; background: #fff; }
main { max-width: 1240px; margin: 0 auto; padding: 0 24px 48px; }
header { border-bottom: 3px solid var(--accent); padding: 24px 0 12px; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 40px 0 8px; padding-top: 8px; border-top: 1px solid var(--rule); }
h3 { font-size: 17px; margin: 24px 0 6px; }
p, li { max-width: 80ch; }
.sub { color: var(--muted); margin: 0; }
.banner { background: var(--warn); color: #fff; font-weight: bold; padding: 10px 16px; margin: 12px 0; border-radius: 4px; }
nav ol { columns: 3; margin: 8px 0; padding-left: 20px; }
.question { font-style: italic; }
.finding { background: #f3f6fb; border-left: 4px solid var(--accent); padding: 8px 14px; margin: 10px 0; }
.finding ul { margin: 0; padding-left: 18px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; margin: 4px 0 18px; font-size: 13px; }
.tcap { font-weight: bold; font-size: 13px; margin: 14px 0 0; }
th, td { border-bottom: 1px solid var(--rule); padding: 3px 8px; vertical-align: top; }
th { background: #f5f5f5; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scroll { overflow-x: auto; }
figure.plot { margin: 16px 0 24px; }
figure.plot svg { max-width: 100%; height: auto; display: block; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; max-width: 100ch; }
details { margin: 8px 0 16px; }
summary { cursor: pointer; color: var(--accent); }
code { background: #f2f2f2; padding: 0 3px; border-radius: 3px; font-size: 13px; }
.formula { font-family: "DejaVu Serif", serif; background: #fafafa; border: 1px solid var(--rule); padding: 6px 12px; margin: 6px 0; overflow-x: auto; }
footer { color: var(--muted); font-size: 13px; margin-top: 48px; border-top: 1px solid var(--rule); padding-top: 8px; }
"#;

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
    let mut t = Table::new(
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
    for d in &c.trials {
        let mut row = vec![
            d.run_id.clone(),
            report.study.label(&d.generation),
            d.task.clone(),
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
        t.push(row);
    }
    let _ = write!(
        out,
        "<details><summary>Per-trial comparison ({n} trials, J)</summary>"
    );
    table(out, &t);
    out.push_str("</details></section>\n");
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
    let mut flagged: Vec<&audit::TrialAudit> = a
        .trials
        .iter()
        .filter(|t| t.cpu_wraps_file > 0 || t.gaps > 0 || t.thin_window() || t.backwards_timestamps > 0)
        .collect();
    flagged.sort_by(|p, q| {
        (q.gaps, q.cpu_wraps_file)
            .cmp(&(p.gaps, p.cpu_wraps_file))
            .then(p.key.run_id.cmp(&q.key.run_id))
    });
    let mut t = Table::new(
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
    for f in &flagged {
        t.push(vec![
            f.key.run_id.clone(),
            report.study.label(&f.key.generation),
            f.key.task.clone(),
            f.cpu_wraps_file.to_string(),
            f.corrected.cpu_wraps.to_string(),
            f.summary_energy_j.map_or("–".into(), joules),
            f.gaps.to_string(),
            f.max_gap_ms.to_string(),
            f.corrected.samples_in_window.to_string(),
            num(f.expected_in_window),
            f.backwards_timestamps.to_string(),
        ]);
    }
    if !flagged.is_empty() {
        let _ = write!(
            out,
            "<details><summary>{} flagged trials</summary>",
            flagged.len()
        );
        table(out, &t);
        out.push_str("</details>");
    }
    out.push_str("</section>\n");
}

const METHODS: &str = r#"
<section id="methods"><h2>Methods</h2>
<h3>Energy accounting (docs/accounting.md)</h3>
<p>Notation: <i>t</i> is a sample's <code>Time</code> (ms since the Unix epoch); <i>s</i> and <i>e</i> are the first request's start and the last request's end, in whole seconds for the published data (floored) and in ms for <code>collect</code>.</p>
<p><b>Published</b> (the study's procedure, defects included):</p>
<div class="formula">kept samples: s ≤ t/1000 ≤ e<br>
cpu_diff<sub>k</sub> = E<sub>pkg,k</sub> − E<sub>pkg,k−1</sub> (0 for the first kept sample; a negative step is replaced by E<sub>pkg,k</sub>)<br>
gpu = Σ<sub>k</sub> (P<sub>GPU,k</sub>[mW] / 5000 + cpu_diff<sub>k</sub>) &nbsp;&nbsp;(power × an assumed 0.2 s, plus the CPU again)<br>
cpu = Σ<sub>k</sub> cpu_diff<sub>k</sub>; &nbsp; dram = 0; &nbsp; energy = cpu + gpu<br>
duration = (t<sub>last</sub> − t<sub>first</sub>) / 1000; &nbsp; accuracy = Σ scores / 5</div>
<p><b>Corrected</b>:</p>
<div class="formula">window (whole-second requests): 1000·s ≤ t &lt; 1000·(e + 1); &nbsp; (ms requests): [s, e], interpolated at the edges<br>
samples taken in file order; a sample earlier than the last accepted one is left out<br>
gpu = ΔE<sub>GPU counter</sub> when NVML's energy counter is present, else Σ<sub>k</sub> (P<sub>k</sub> + P<sub>k+1</sub>)/2 · (t<sub>k+1</sub> − t<sub>k</sub>) / 10<sup>6</sup> &nbsp;[mW·ms → J]<br>
cpu, dram = difference of the unwrapped RAPL counter between the window's first and last sample; every negative step adds the counter's range (recorded by the sampler, else the smallest power of two ≥ the largest value, 2<sup>18</sup> J for the published Intel counters)<br>
energy = cpu + gpu + dram; &nbsp; duration = t<sub>last</sub> − t<sub>first</sub> in the window; &nbsp; energy per token = energy / Σ completion tokens; &nbsp; power = energy / duration; &nbsp; accuracy = mean of the judged scores</div>
<p><b>Decomposition of the difference</b> of one trial, with Cp the corrected method applied to exactly the samples the published window keeps:</p>
<div class="formula">P − C = cpu<sub>P</sub> &nbsp;[CPU counted twice]<br>
&nbsp;&nbsp;+ (cpu<sub>P</sub> − Cp.cpu) &nbsp;[RAPL wraps]<br>
&nbsp;&nbsp;+ (Σ P<sub>GPU</sub>/5000 − Cp.gpu) &nbsp;[200 ms assumption vs the trapezoid over real sample times]<br>
&nbsp;&nbsp;− Cp.dram &nbsp;[DRAM not counted]<br>
&nbsp;&nbsp;+ (Cp.energy − C) &nbsp;[window edges]</div>
<p>A cause is listed for a trial when its part exceeds 0.01 J.</p>

<h3>Levels</h3>
<p><b>Trial level</b>: one observation per trial (repetition). <b>Run level</b>: one observation per treatment (model × task), the mean over its repetitions. J per billion parameters = run energy / model size in billions (parsed from labels such as <code>7B</code>, <code>6.7B</code>). Generations are ordered numerically (2 &lt; 3 &lt; 3.1 &lt; 3.2).</p>

<h3>Descriptive statistics</h3>
<div class="formula">mean x̄ = Σx/n; &nbsp; s² = Σ(x − x̄)²/(n − 1); &nbsp; median, quartiles: type-7 quantiles (R's default, numpy's "linear"); IQR = Q3 − Q1<br>
95 % CI of the mean: x̄ ± t<sub>0.975, n−1</sub> · s/√n<br>
95 % CI of the median: percentile bootstrap, 2000 resamples from a seeded ChaCha8 generator (--seed)</div>

<h3>Assumption checks</h3>
<div class="formula">Shapiro–Wilk W (Royston 1995 approximation, 3 ≤ n ≤ 5000) on the residuals x<sub>ij</sub> − x̄<sub>j</sub> from the group means<br>
Brown–Forsythe (Levene centred on the median, R's <code>car::leveneTest</code> default): z<sub>ij</sub> = |x<sub>ij</sub> − median<sub>j</sub>|, F = [(N − k) Σ n<sub>j</sub>(z̄<sub>j</sub> − z̄)²] / [(k − 1) ΣΣ (z<sub>ij</sub> − z̄<sub>j</sub>)²] on (k − 1, N − k) df</div>

<h3>Omnibus tests</h3>
<div class="formula">Kruskal–Wallis: H = [12/(N(N+1)) Σ R<sub>j</sub>²/n<sub>j</sub> − 3(N+1)] / [1 − Σ(t³ − t)/(N³ − N)], df = k − 1, p from χ²<sub>k−1</sub> (t: sizes of tied groups)<br>
ε² = H / ((N² − 1)/(N + 1)), 95 % CI: stratified percentile bootstrap (2000 resamples, each group resampled within itself)<br>
One-way ANOVA: F = [SS<sub>b</sub>/(k − 1)] / [SS<sub>w</sub>/(N − k)], η² = SS<sub>b</sub>/SS<sub>total</sub><br>
Welch's ANOVA: w<sub>j</sub> = n<sub>j</sub>/s<sub>j</sub>², W = Σw<sub>j</sub>, x̃ = Σw<sub>j</sub>x̄<sub>j</sub>/W, Λ = Σ(1 − w<sub>j</sub>/W)²/(n<sub>j</sub> − 1); F = [Σw<sub>j</sub>(x̄<sub>j</sub> − x̃)²/(k − 1)] / [1 + 2(k − 2)Λ/(k² − 1)] on (k − 1, (k² − 1)/(3Λ)) df</div>

<h3>Pairwise tests</h3>
<div class="formula">Dunn (all pairs): z = (R̄<sub>A</sub> − R̄<sub>B</sub>) / √[(N(N+1)/12 − Σ(t³ − t)/(12(N − 1))) (1/n<sub>A</sub> + 1/n<sub>B</sub>)], two-sided normal p, Benjamini–Hochberg over all k(k − 1)/2 pairs (R <code>FSA::dunnTest(method="bh")</code>)<br>
Successive pairs (2 → 3 → 3.1 → 3.2), each family Holm-adjusted:<br>
&nbsp;&nbsp;Welch's t = (x̄<sub>A</sub> − x̄<sub>B</sub>)/√(s<sub>A</sub>²/n<sub>A</sub> + s<sub>B</sub>²/n<sub>B</sub>), df = (s<sub>A</sub>²/n<sub>A</sub> + s<sub>B</sub>²/n<sub>B</sub>)² / [(s<sub>A</sub>²/n<sub>A</sub>)²/(n<sub>A</sub> − 1) + (s<sub>B</sub>²/n<sub>B</sub>)²/(n<sub>B</sub> − 1)] (Welch–Satterthwaite)<br>
&nbsp;&nbsp;Hedges' g = J · (x̄<sub>A</sub> − x̄<sub>B</sub>)/s<sub>pooled</sub>, J = 1 − 3/(4(n<sub>A</sub> + n<sub>B</sub>) − 9); 95 % CI g ± t<sub>0.975</sub> · √((n<sub>A</sub> + n<sub>B</sub>)/(n<sub>A</sub>n<sub>B</sub>) + g²/(2(n<sub>A</sub> + n<sub>B</sub>)))<br>
&nbsp;&nbsp;Mann–Whitney U<sub>A</sub> = R<sub>A</sub> − n<sub>A</sub>(n<sub>A</sub> + 1)/2; z = (max(U<sub>A</sub>, n<sub>A</sub>n<sub>B</sub> − U<sub>A</sub>) − n<sub>A</sub>n<sub>B</sub>/2 − 0.5)/σ, σ² = n<sub>A</sub>n<sub>B</sub>/12 · [(N + 1) − Σ(t³ − t)/(N(N − 1))] (tie and continuity corrections, scipy's default)<br>
&nbsp;&nbsp;Cliff's δ = P(a &gt; b) − P(a &lt; b) = 2U<sub>A</sub>/(n<sub>A</sub>n<sub>B</sub>) − 1, with Cliff's (1993) asymmetric 95 % interval<br>
Benjamini–Hochberg: p<sub>(i)</sub><sup>adj</sup> = min<sub>j ≥ i</sub> min(1, m·p<sub>(j)</sub>/j); &nbsp; Holm: p<sub>(i)</sub><sup>adj</sup> = max<sub>j ≤ i</sub> min(1, (m − j + 1)·p<sub>(j)</sub>)</div>

<h3>Correlations</h3>
<div class="formula">Spearman ρ = Pearson correlation of the average ranks; p from t = ρ√((n − 2)/(1 − ρ²)) on n − 2 df (scipy's <code>spearmanr</code>). R's <code>cor.test</code> agrees when there are ties; without ties (n &lt; 1290) it uses an exact or Edgeworth p instead. The per-generation p-values are BH-adjusted.</div>

<h3>Figures</h3>
<p>Box plots: quartiles (type 7), whiskers to the furthest value within 1.5 IQR of the box, white diamond = mean, dotted line through the medians. Densities and violins: Gaussian kernel, bandwidth 0.9 · min(s, IQR/1.34) · n<sup>−1/5</sup> (R's <code>bw.nrd0</code>). Regression lines: ordinary least squares per generation.</p>
</section>
"#;

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
             <title>{}</title>\n<style>{CSS}</style></head>\n<body><main>\n<header><h1>{}</h1>\
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
        out.push_str("<section id=\"accuracy\"><h2>Accuracy by scorer: gold labels, LLM judges</h2>");
        findings(&mut out, &report.accuracy.sentences);
        for t in &report.accuracy.tables {
            table(&mut out, t);
        }
        out.push_str("</section>\n");
        comparison(&mut out, report, &mut counter);
        audit_section(&mut out, report);
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
