//! The figure set, as data ([`Figure`]s): the study's plots (box plots with mean markers and a
//! dotted median trend, densities, violins per task, the interaction profile, scatter plots)
//! and ours (a power trace, the per-trial energy split, published vs corrected accounting).
//! Every figure colours generations the same way ([`Study::colour`]) and labels axes with units.

use crate::report::Inputs;
use crate::report::comparison::{Comparison, REASONS};
use crate::report::plot::{Axis, BLACK_INK, Colour, Dash, Figure, GREY, Key, LegendItem, Mark, Panel, Shape};
use crate::report::study::Study;
use crate::stats::boxplot::{BoxStats, box_stats};
use crate::stats::density::kde;
use crate::stats::descriptive::quantile_sorted;
use crate::stats::regression::least_squares;
use dataset::accounting::{self, wrap_range};
use dataset::{Accounting, Channel, MetricsRow};

const SINGLE: (u32, u32) = (960, 560);
const WIDE: (u32, u32) = (1200, 520);
const FACETS: (u32, u32) = (1200, 780);

/// White, for mean markers.
const WHITE_INK: Colour = Colour::rgb(0xff, 0xff, 0xff);
/// Energy components in the split figure: neutral greys, so they never read as generations.
const COMPONENTS: [(&str, Colour); 3] = [
    ("GPU", Colour::rgb(0x4d, 0x4d, 0x4d)),
    ("CPU package", Colour::rgb(0x9a, 0x9a, 0x9a)),
    ("DRAM", Colour::rgb(0xd0, 0xd0, 0xd0)),
];

/// Joules shown in kJ when values are large.
fn energy_unit(max_j: f64) -> (f64, &'static str) {
    if max_j >= 1e4 { (1e-3, "kJ") } else { (1.0, "J") }
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// A deterministic jitter in [−0.5, 0.5) (golden-ratio sequence), so figures are reproducible.
fn jitter(i: usize) -> f64 {
    (i as f64 * 0.618_033_988_749_895).fract() - 0.5
}

fn box_marks(
    x: f64,
    values: &[f64],
    colour: Colour,
    show_points: bool,
    marks: &mut Vec<Mark>,
) -> Option<BoxStats> {
    let b = box_stats(values)?;
    let w = 0.28;
    let cap = 0.1;
    let line = |points: Vec<(f64, f64)>, colour: Colour, width: u32| Mark::Line {
        points,
        colour,
        width,
        dash: Dash::Solid,
    };
    marks.push(line(vec![(x, b.low), (x, b.q1)], BLACK_INK, 1));
    marks.push(line(vec![(x, b.q3), (x, b.high)], BLACK_INK, 1));
    marks.push(line(vec![(x - cap, b.low), (x + cap, b.low)], BLACK_INK, 1));
    marks.push(line(vec![(x - cap, b.high), (x + cap, b.high)], BLACK_INK, 1));
    marks.push(Mark::Rect {
        x0: x - w,
        y0: b.q1,
        x1: x + w,
        y1: b.q3,
        fill: Some(colour.alpha(0.45)),
        stroke: Some(BLACK_INK),
    });
    marks.push(line(vec![(x - w, b.median), (x + w, b.median)], BLACK_INK, 2));
    if show_points {
        marks.push(Mark::Points {
            points: values
                .iter()
                .enumerate()
                .map(|(i, v)| (x + 0.36 * jitter(i), *v))
                .collect(),
            colour: colour.alpha(0.8),
            radius: 3,
            shape: Shape::Circle,
        });
    } else if !b.outliers.is_empty() {
        marks.push(Mark::Points {
            points: b.outliers.iter().map(|v| (x, *v)).collect(),
            colour: colour.alpha(0.8),
            radius: 2,
            shape: Shape::Circle,
        });
    }
    marks.push(Mark::Points {
        points: vec![(x, b.mean)],
        colour: WHITE_INK,
        radius: 4,
        shape: Shape::Diamond,
    });
    Some(b)
}

/// One box per group with mean markers and a dotted line through the medians.
#[allow(clippy::too_many_arguments)]
fn box_figure(
    study: &Study<'_>,
    name: &str,
    title: &str,
    caption: &str,
    x_label: &str,
    y_label: &str,
    groups: &[(String, String, Vec<f64>)],
    show_points: bool,
) -> Figure {
    let mut marks = Vec::new();
    let mut medians = Vec::new();
    for (i, (_, generation, values)) in groups.iter().enumerate() {
        if let Some(b) = box_marks(
            i as f64,
            values,
            study.colour(generation),
            show_points,
            &mut marks,
        ) {
            medians.push((i as f64, b.median));
        }
    }
    marks.push(Mark::Line {
        points: medians,
        colour: BLACK_INK.alpha(0.7),
        width: 2,
        dash: Dash::Dotted,
    });
    let (lo, hi) = bounds(groups.iter().flat_map(|g| g.2.iter().copied()));
    let names: Vec<String> = groups.iter().map(|g| g.0.clone()).collect();
    let mut legend = generation_legend(study, groups.iter().map(|g| g.1.as_str()), Key::Swatch);
    legend.push(LegendItem {
        label: "mean".into(),
        colour: WHITE_INK,
        key: Key::Marker(Shape::Diamond),
    });
    legend.push(LegendItem {
        label: "median trend".into(),
        colour: BLACK_INK.alpha(0.7),
        key: Key::Line(Dash::Dotted),
    });
    Figure {
        name: name.into(),
        title: title.into(),
        caption: caption.into(),
        size: SINGLE,
        panels: vec![Panel {
            title: String::new(),
            x: Axis::categories(x_label, &names),
            y: Axis::numeric(y_label, lo, hi, starts_at_zero(lo, hi)),
            marks,
        }],
        columns: 1,
        legend,
    }
}

/// Whether a positive axis should start at 0: yes when the data reach down to 40 % of their
/// maximum anyway; no when they sit in a narrow band far from 0 (power at 330–360 W), where a
/// zero-based axis would flatten every difference.
fn starts_at_zero(lo: f64, hi: f64) -> bool {
    lo >= 0.0 && lo <= 0.4 * hi
}

fn generation_legend<'g>(
    study: &Study<'_>,
    generations: impl Iterator<Item = &'g str>,
    key: Key,
) -> Vec<LegendItem> {
    let mut seen: Vec<&str> = Vec::new();
    for g in generations {
        if !seen.contains(&g) {
            seen.push(g);
        }
    }
    seen.iter()
        .map(|g| LegendItem {
            label: study.label(g),
            colour: study.colour(g),
            key,
        })
        .collect()
}

fn grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
        .collect()
}

/// Density curves (one per entry) on a shared axis.
fn density_marks(curves: &[(Colour, Dash, Vec<f64>)], lo: f64, hi: f64, marks: &mut Vec<Mark>) -> f64 {
    let xs = grid(lo, hi, 200);
    let mut top: f64 = 0.0;
    for (colour, dash, values) in curves {
        if values.is_empty() {
            continue;
        }
        let ys = kde(values, &xs);
        top = ys.iter().copied().fold(top, f64::max);
        let points: Vec<(f64, f64)> = xs.iter().copied().zip(ys).collect();
        let mut fill = points.clone();
        fill.push((hi, 0.0));
        fill.push((lo, 0.0));
        marks.push(Mark::Polygon {
            points: fill,
            fill: colour.alpha(0.12),
        });
        marks.push(Mark::Line {
            points,
            colour: *colour,
            width: 2,
            dash: *dash,
        });
    }
    top
}

fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let pad = (hi - lo).abs().max(hi.abs() * 0.05).max(1e-9) * 0.15;
    (lo - pad, hi + pad)
}

fn scatter_figure(
    study: &Study<'_>,
    name: &str,
    title: &str,
    caption: &str,
    (x_label, y_label): (&str, &str),
    points: &[(String, f64, f64)],
    fit: bool,
) -> Figure {
    let mut marks = Vec::new();
    for g in &study.generations {
        let pts: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| &p.0 == g && p.1.is_finite() && p.2.is_finite())
            .map(|p| (p.1, p.2))
            .collect();
        if pts.is_empty() {
            continue;
        }
        marks.push(Mark::Points {
            points: pts.clone(),
            colour: study.colour(g).alpha(0.55),
            radius: 3,
            shape: Shape::Circle,
        });
        if fit && let Some((a, b)) = least_squares(&pts) {
            let (lo, hi) = bounds(pts.iter().map(|p| p.0));
            marks.push(Mark::Line {
                points: vec![(lo, a + b * lo), (hi, a + b * hi)],
                colour: study.colour(g),
                width: 3,
                dash: Dash::Solid,
            });
        }
    }
    let (xl, xh) = bounds(points.iter().map(|p| p.1));
    let (yl, yh) = bounds(points.iter().map(|p| p.2));
    let mut legend = generation_legend(
        study,
        points.iter().map(|p| p.0.as_str()),
        Key::Marker(Shape::Circle),
    );
    if fit {
        legend.push(LegendItem {
            label: "least-squares line per generation".into(),
            colour: GREY,
            key: Key::Line(Dash::Solid),
        });
    }
    Figure {
        name: name.into(),
        title: title.into(),
        caption: caption.into(),
        size: SINGLE,
        panels: vec![Panel {
            title: String::new(),
            x: Axis::numeric(x_label, xl, xh, false),
            y: Axis::numeric(y_label, yl, yh, false),
            marks,
        }],
        columns: 1,
        legend,
    }
}

fn by_generation<'a>(
    study: &Study<'a>,
    f: impl Fn(&MetricsRow) -> Option<f64>,
) -> Vec<(String, String, Vec<f64>)> {
    study
        .generations
        .iter()
        .map(|g| {
            (
                study.label(g),
                g.clone(),
                study.trials_of(g).filter_map(&f).collect(),
            )
        })
        .collect()
}

fn rq1(study: &Study<'_>, out: &mut Vec<Figure>) {
    let (max_lo, max_hi) = bounds(study.rows.iter().map(|r| r.energy_j));
    let (k, unit) = energy_unit(max_hi.max(max_lo));
    let runs: Vec<(String, String, Vec<f64>)> = study
        .generations
        .iter()
        .map(|g| {
            (
                study.label(g),
                g.clone(),
                study.runs_of(g).map(|r| r.energy_j * k).collect(),
            )
        })
        .collect();
    out.push(box_figure(
        study,
        "rq1_1_energy_box",
        "RQ1.1 Energy per trial by generation (run level)",
        "Energy per trial, one point per treatment (the mean of its repetitions): box = quartiles, whiskers = 1.5 IQR, \
         white diamond = mean, dotted line = medians across generations.",
        "generation",
        &format!("energy per trial ({unit}), treatment mean"),
        &runs,
        true,
    ));

    let mut marks = Vec::new();
    let (lo, hi) = padded(max_lo * k, max_hi * k);
    let curves: Vec<(Colour, Dash, Vec<f64>)> = study
        .generations
        .iter()
        .map(|g| {
            (
                study.colour(g),
                Dash::Solid,
                study.trials_of(g).map(|r| r.energy_j * k).collect(),
            )
        })
        .collect();
    let top = density_marks(&curves, lo, hi, &mut marks);
    out.push(Figure {
        name: "rq1_1_energy_density".into(),
        title: "RQ1.1 Distribution of energy per trial by generation".into(),
        caption: "Kernel density (Gaussian, R's bw.nrd0 bandwidth) of the energy of every trial, one curve per generation.".into(),
        size: SINGLE,
        panels: vec![Panel {
            title: String::new(),
            x: Axis::numeric(format!("energy per trial ({unit})"), lo, hi, false),
            y: Axis::numeric(format!("density (1/{unit})"), 0.0, top, true),
            marks,
        }],
        columns: 1,
        legend: generation_legend(study, study.generations.iter().map(String::as_str), Key::Line(Dash::Solid)),
    });

    // RQ1.2: J per billion parameters by configuration (run level).
    let groups: Vec<(String, String, Vec<f64>)> = study
        .configurations
        .iter()
        .map(|(g, s)| {
            (
                Study::configuration_label(g, s),
                g.clone(),
                study
                    .runs
                    .iter()
                    .filter(|r| &r.generation == g && &r.model_size == s)
                    .filter_map(|r| r.j_per_b)
                    .map(|v| v * k)
                    .collect(),
            )
        })
        .collect();
    out.push(box_figure(
        study,
        "rq1_2_j_per_b_box",
        "RQ1.2 Energy per billion parameters by model configuration (run level)",
        "Treatment-mean energy per trial divided by the model's size in billions of parameters, by configuration \
         (generation × size); boxes coloured by generation.",
        "configuration (generation × size)",
        &format!("energy per trial per billion parameters ({unit}/B)"),
        &groups,
        true,
    ));

    // RQ1.2: density by size, one panel per generation.
    let dashes = [Dash::Solid, Dash::Dashed, Dash::Dotted];
    let mut panels = Vec::new();
    let mut legend = Vec::new();
    for g in &study.generations {
        let sizes: Vec<&String> = study
            .configurations
            .iter()
            .filter(|c| &c.0 == g)
            .map(|c| &c.1)
            .collect();
        let curves: Vec<(Colour, Dash, Vec<f64>)> = sizes
            .iter()
            .enumerate()
            .map(|(i, s)| {
                legend.push(LegendItem {
                    label: Study::configuration_label(g, s),
                    colour: study.colour(g),
                    key: Key::Line(dashes[i % dashes.len()]),
                });
                (
                    study.colour(g),
                    dashes[i % dashes.len()],
                    study
                        .trials_of(g)
                        .filter(|r| &&r.key.model_size == s)
                        .map(|r| r.energy_j * k)
                        .collect(),
                )
            })
            .collect();
        let mut marks = Vec::new();
        let top = density_marks(&curves, lo, hi, &mut marks);
        panels.push(Panel {
            title: study.label(g),
            x: Axis::numeric(format!("energy per trial ({unit})"), lo, hi, false),
            y: Axis::numeric(format!("density (1/{unit})"), 0.0, top, true),
            marks,
        });
    }
    let columns = if panels.len() > 4 { 3 } else { 2 };
    out.push(Figure {
        name: "rq1_2_size_density".into(),
        title: "RQ1.2 Distribution of energy per trial by model size, per generation".into(),
        caption:
            "Kernel density of trial energy for each model size (line style) within each generation (panel)."
                .into(),
        size: FACETS,
        panels,
        columns,
        legend,
    });
}

fn violin_marks(x: f64, values: &[f64], colour: Colour, lo: f64, hi: f64, marks: &mut Vec<Mark>) {
    let Some(b) = box_stats(values) else { return };
    let (vmin, vmax) = bounds(values.iter().copied());
    let span = (vmax - vmin).max((hi - lo) * 0.01);
    let ys = grid(vmin - span * 0.05, vmax + span * 0.05, 80);
    let dens = kde(values, &ys);
    let top = dens.iter().copied().fold(0.0, f64::max);
    if top > 0.0 {
        let half = |d: f64| 0.42 * d / top;
        let mut outline: Vec<(f64, f64)> = ys.iter().zip(&dens).map(|(y, d)| (x - half(*d), *y)).collect();
        outline.extend(ys.iter().zip(&dens).rev().map(|(y, d)| (x + half(*d), *y)));
        marks.push(Mark::Polygon {
            points: outline.clone(),
            fill: colour.alpha(0.45),
        });
        outline.push(outline[0]);
        marks.push(Mark::Line {
            points: outline,
            colour,
            width: 1,
            dash: Dash::Solid,
        });
    }
    marks.push(Mark::Line {
        points: vec![(x, b.low), (x, b.high)],
        colour: BLACK_INK,
        width: 1,
        dash: Dash::Solid,
    });
    marks.push(Mark::Rect {
        x0: x - 0.05,
        y0: b.q1,
        x1: x + 0.05,
        y1: b.q3,
        fill: Some(BLACK_INK),
        stroke: None,
    });
    marks.push(Mark::Points {
        points: vec![(x, b.median)],
        colour: WHITE_INK,
        radius: 2,
        shape: Shape::Circle,
    });
}

fn rq2(study: &Study<'_>, out: &mut Vec<Figure>) {
    let (lo, hi) = bounds(study.rows.iter().map(|r| r.energy_j));
    let (k, unit) = energy_unit(hi);
    let names: Vec<String> = study.generations.clone();
    let mut panels = Vec::new();
    for task in &study.tasks {
        let mut marks = Vec::new();
        for (i, g) in study.generations.iter().enumerate() {
            let values: Vec<f64> = study
                .trials_of(g)
                .filter(|r| &r.key.task == task)
                .map(|r| r.energy_j * k)
                .collect();
            violin_marks(i as f64, &values, study.colour(g), lo * k, hi * k, &mut marks);
        }
        panels.push(Panel {
            title: task.clone(),
            x: Axis::categories("generation", &names),
            y: Axis::numeric(format!("energy per trial ({unit})"), lo * k, hi * k, true),
            marks,
        });
    }
    let mut legend = generation_legend(study, study.generations.iter().map(String::as_str), Key::Swatch);
    legend.push(LegendItem {
        label: "median".into(),
        colour: WHITE_INK,
        key: Key::Marker(Shape::Circle),
    });
    out.push(Figure {
        name: "rq2_task_violin".into(),
        title: "RQ2 Energy per trial by generation within each task (trial level)".into(),
        caption:
            "Violin (kernel density) of trial energy per generation, one panel per task, with a box of the \
                  quartiles, whiskers to 1.5 IQR and the median as a white dot."
                .into(),
        size: FACETS,
        columns: 3,
        panels,
        legend,
    });

    let mut marks = Vec::new();
    let mut top: f64 = 0.0;
    for g in &study.generations {
        let points: Vec<(f64, f64)> = study
            .tasks
            .iter()
            .enumerate()
            .filter_map(|(i, task)| {
                let mut v: Vec<f64> = study
                    .trials_of(g)
                    .filter(|r| &r.key.task == task)
                    .map(|r| r.energy_j * k)
                    .collect();
                if v.is_empty() {
                    return None;
                }
                v.sort_by(f64::total_cmp);
                Some((i as f64, quantile_sorted(&v, 0.5)))
            })
            .collect();
        top = points.iter().map(|p| p.1).fold(top, f64::max);
        marks.push(Mark::Line {
            points: points.clone(),
            colour: study.colour(g),
            width: 2,
            dash: Dash::Solid,
        });
        marks.push(Mark::Points {
            points,
            colour: study.colour(g),
            radius: 4,
            shape: Shape::Circle,
        });
    }
    out.push(Figure {
        name: "rq2_interaction".into(),
        title: "RQ2 Median energy per trial: generation × task interaction".into(),
        caption:
            "Median trial energy of each generation (line) in each task: parallel lines mean no interaction."
                .into(),
        size: SINGLE,
        panels: vec![Panel {
            title: String::new(),
            x: Axis::categories("task", &study.tasks),
            y: Axis::numeric(format!("median energy per trial ({unit})"), 0.0, top, true),
            marks,
        }],
        columns: 1,
        legend: generation_legend(
            study,
            study.generations.iter().map(String::as_str),
            Key::Line(Dash::Solid),
        ),
    });
}

fn rq3(study: &Study<'_>, out: &mut Vec<Figure>) {
    let (_, hi) = bounds(study.rows.iter().map(|r| r.energy_j));
    let (k, unit) = energy_unit(hi);
    let rows = |f: fn(&MetricsRow) -> Option<f64>| by_generation(study, f);
    out.push(box_figure(
        study,
        "rq3_1_energy_per_token_box",
        "RQ3.1 Energy per output token by generation (trial level)",
        "Energy of each trial divided by the tokens it generated.",
        "generation",
        "energy per output token (J/token)",
        &rows(|r| r.energy_per_token),
        false,
    ));
    let points: Vec<(String, f64, f64)> = study
        .rows
        .iter()
        .filter_map(|r| Some((r.key.generation.clone(), r.tokens as f64, r.energy_per_token?)))
        .collect();
    out.push(scatter_figure(
        study,
        "rq3_1_tokens_scatter",
        "RQ3.1 Energy per token vs output tokens",
        "One point per trial; one least-squares line per generation over its trials.",
        ("output tokens per trial", "energy per output token (J/token)"),
        &points,
        true,
    ));
    out.push(box_figure(
        study,
        "rq3_2_power_box",
        "RQ3.2 Average power by generation (trial level)",
        "Energy of each trial divided by its inference window's duration (CPU package + GPU + DRAM).",
        "generation",
        "average power (W)",
        &rows(|r| r.power_w),
        false,
    ));
    let points: Vec<(String, f64, f64)> = study
        .rows
        .iter()
        .filter_map(|r| Some((r.key.generation.clone(), r.duration_s, r.power_w?)))
        .collect();
    out.push(scatter_figure(
        study,
        "rq3_2_power_duration",
        "RQ3.2 Average power vs duration",
        "One point per trial.",
        ("duration of the inference window (s)", "average power (W)"),
        &points,
        false,
    ));
    let accuracy = rows(|r| r.accuracy);
    if accuracy.iter().any(|g| !g.2.is_empty()) {
        out.push(box_figure(
            study,
            "rq3_3_accuracy_box",
            "RQ3.3 Accuracy by generation (trial level)",
            "Mean published answer-relevancy score of each trial (0 to 1).",
            "generation",
            "accuracy (score, 0–1)",
            &accuracy,
            false,
        ));
        let points: Vec<(String, f64, f64)> = study
            .rows
            .iter()
            .filter_map(|r| Some((r.key.generation.clone(), r.energy_j * k, r.accuracy?)))
            .collect();
        out.push(scatter_figure(
            study,
            "rq3_3_accuracy_energy",
            "RQ3.3 Accuracy vs energy per trial",
            "One point per trial.",
            (&format!("energy per trial ({unit})"), "accuracy (score, 0–1)"),
            &points,
            false,
        ));
    }
}

/// The power trace of one trial: GPU board power and CPU package power (from the RAPL counter)
/// over the whole file, the corrected inference window shaded and the published window's edges.
fn trace(inputs: &Inputs<'_>, study: &Study<'_>, run_id: &str) -> Option<Figure> {
    let t = inputs
        .loaded
        .trials
        .iter()
        .find(|t| t.trial.key.run_id == run_id)?;
    let s = &t.samples;
    let t0 = *s.time_ms.first()?;
    let sec = |ms: i64| (ms - t0) as f64 / 1000.0;
    let colour = study.colour(&t.trial.key.generation);
    let mut marks = Vec::new();
    let mut legend = Vec::new();
    let corrected = accounting::trial_window(&t.trial, &t.requests, Accounting::Corrected);
    let end = if corrected.is_coarse() {
        corrected.end_ms + corrected.resolution_ms
    } else {
        corrected.end_ms
    };
    let mut top: f64 = 0.0;
    let dashes = [Dash::Solid, Dash::Dashed, Dash::Dotted];
    let mut gpu = 0;
    for c in &s.columns {
        if let Channel::GpuPower(i) = Channel::classify(&c.name) {
            let points: Vec<(f64, f64)> = (0..s.len())
                .filter_map(|k| Some((sec(s.time_ms[k]), c.get(k)? / 1000.0)))
                .collect();
            top = points.iter().map(|p| p.1).fold(top, f64::max);
            marks.push(Mark::Line {
                points,
                colour,
                width: 2,
                dash: dashes[gpu % 3],
            });
            legend.push(LegendItem {
                label: format!("GPU{i} board power"),
                colour,
                key: Key::Line(dashes[gpu % 3]),
            });
            gpu += 1;
        }
    }
    let package = s.columns.iter().find(|c| {
        matches!(
            Channel::classify(&c.name),
            Channel::IntelPackage(_) | Channel::AmdPackage
        )
    });
    if let Some(c) = package {
        let range = wrap_range(c);
        let mut points = Vec::new();
        for k in 1..s.len() {
            let (Some(a), Some(b)) = (c.get(k - 1), c.get(k)) else {
                continue;
            };
            let dt = (s.time_ms[k] - s.time_ms[k - 1]) as f64 / 1000.0;
            if dt <= 0.0 {
                continue;
            }
            let de = if b < a { b - a + range } else { b - a };
            points.push(((sec(s.time_ms[k - 1]) + sec(s.time_ms[k])) / 2.0, de / dt));
        }
        top = points.iter().map(|p| p.1).fold(top, f64::max);
        marks.push(Mark::Line {
            points,
            colour: GREY,
            width: 1,
            dash: Dash::Solid,
        });
        legend.push(LegendItem {
            label: "CPU package power (RAPL counter)".into(),
            colour: GREY,
            key: Key::Line(Dash::Solid),
        });
    }
    if marks.is_empty() {
        return None;
    }
    let (lo, hi) = bounds(s.time_ms.iter().map(|&ms| sec(ms)));
    let y = Axis::numeric("power (W)", 0.0, top, true);
    marks.insert(
        0,
        Mark::Rect {
            x0: sec(corrected.start_ms),
            y0: y.min,
            x1: sec(end),
            y1: y.max,
            fill: Some(Colour::rgb(0x30, 0x60, 0xa0).alpha(0.10)),
            stroke: None,
        },
    );
    legend.push(LegendItem {
        label: "inference window (corrected)".into(),
        colour: Colour::rgb(0x30, 0x60, 0xa0).alpha(0.25),
        key: Key::Swatch,
    });
    let published = accounting::trial_window(&t.trial, &t.requests, Accounting::Published);
    for edge in [published.start_ms, published.end_ms] {
        marks.push(Mark::Line {
            points: vec![(sec(edge), y.min), (sec(edge), y.max)],
            colour: BLACK_INK,
            width: 1,
            dash: Dash::Dashed,
        });
    }
    legend.push(LegendItem {
        label: "published window edges".into(),
        colour: BLACK_INK,
        key: Key::Line(Dash::Dashed),
    });
    Some(Figure {
        name: "power_trace".into(),
        title: format!(
            "Power trace of {} ({}, {} {})",
            run_id,
            study.label(&t.trial.key.generation),
            t.trial.key.model_size,
            t.trial.key.task
        ),
        caption: format!(
            "Every sample of trial {run_id} (chosen with --trace; by default the trial of median energy). The shaded \
             band is the inference window the corrected accounting integrates; dashed lines mark the published \
             window, which ends a second earlier. Samples before the window cover model loading."
        ),
        size: WIDE,
        panels: vec![Panel {
            title: String::new(),
            x: Axis::numeric("time since the first sample (s)", lo, hi, false),
            y,
            marks,
        }],
        columns: 1,
        legend,
    })
}

fn energy_split(study: &Study<'_>) -> Figure {
    let mut order: Vec<&MetricsRow> = study.rows.iter().collect();
    order.sort_by(|a, b| {
        study
            .generation_index(&a.key.generation)
            .cmp(&study.generation_index(&b.key.generation))
            .then(
                crate::questions::size_in_billions(&a.key.model_size)
                    .unwrap_or(0.0)
                    .total_cmp(&crate::questions::size_in_billions(&b.key.model_size).unwrap_or(0.0)),
            )
            .then(a.key.task.cmp(&b.key.task))
            .then(a.key.repetition.cmp(&b.key.repetition))
    });
    let (_, hi) = bounds(order.iter().map(|r| r.energy_j));
    let (k, unit) = energy_unit(hi);
    // One step-shaped polygon per component over all trials: seamless, and 3 shapes instead of
    // one rectangle per trial and component.
    let mut marks = Vec::new();
    let mut base = vec![0.0; order.len()];
    for (c, (_, colour)) in COMPONENTS.iter().enumerate() {
        let part = |r: &MetricsRow| match c {
            0 => r.gpu_j,
            1 => r.cpu_j,
            _ => r.dram_j.unwrap_or(0.0),
        };
        if order.iter().all(|r| part(r) <= 0.0) {
            continue;
        }
        let top: Vec<f64> = order
            .iter()
            .zip(&base)
            .map(|(r, b)| b + part(r).max(0.0) * k)
            .collect();
        let mut outline = Vec::with_capacity(4 * order.len());
        for (i, t) in top.iter().enumerate() {
            outline.push((i as f64 - 0.5, *t));
            outline.push((i as f64 + 0.5, *t));
        }
        for (i, b) in base.iter().enumerate().rev() {
            outline.push((i as f64 + 0.5, *b));
            outline.push((i as f64 - 0.5, *b));
        }
        marks.push(Mark::Polygon {
            points: outline,
            fill: *colour,
        });
        base = top;
    }
    let mut ticks = Vec::new();
    let mut start = 0;
    for g in &study.generations {
        let n = order.iter().filter(|r| &r.key.generation == g).count();
        if n == 0 {
            continue;
        }
        ticks.push((start as f64 + (n as f64 - 1.0) / 2.0, study.label(g)));
        if start > 0 {
            marks.push(Mark::Line {
                points: vec![(start as f64 - 0.5, 0.0), (start as f64 - 0.5, hi * k * 1.04)],
                colour: BLACK_INK,
                width: 1,
                dash: Dash::Dashed,
            });
        }
        start += n;
    }
    let has_dram = order.iter().any(|r| r.dram_j.is_some_and(|d| d > 0.0));
    Figure {
        name: "energy_split".into(),
        title: format!("Energy split of every trial ({} accounting)", study.rows.first().map_or("", |r| r.accounting.as_str())),
        caption: "One bar per trial, ordered by generation, size, task and repetition: GPU, CPU package and DRAM energy in the \
                  inference window, stacked."
            .into(),
        size: WIDE,
        panels: vec![Panel {
            title: String::new(),
            x: Axis {
                label: "trials, ordered by generation, size, task and repetition".into(),
                min: -0.5,
                max: order.len() as f64 - 0.5,
                ticks,
            },
            y: Axis::numeric(format!("energy per trial ({unit})"), 0.0, hi * k, true),
            marks,
        }],
        columns: 1,
        legend: COMPONENTS
            .iter()
            .filter(|(name, _)| has_dram || *name != "DRAM")
            .map(|(name, colour)| LegendItem { label: (*name).into(), colour: *colour, key: Key::Swatch })
            .collect(),
    }
}

fn accounting_figures(study: &Study<'_>, comparison: &Comparison, out: &mut Vec<Figure>) {
    if comparison.trials.is_empty() {
        return;
    }
    let (lo, hi) = bounds(
        comparison
            .trials
            .iter()
            .flat_map(|t| [t.published_j, t.corrected_j]),
    );
    let (k, unit) = energy_unit(hi);
    let points: Vec<(String, f64, f64)> = comparison
        .trials
        .iter()
        .map(|t| (t.generation.clone(), t.corrected_j * k, t.published_j * k))
        .collect();
    let mut fig = scatter_figure(
        study,
        "accounting_scatter",
        "Published vs corrected energy per trial",
        "One point per trial; the dashed line is equality. Points above it are trials the published accounting overstates.",
        (
            &format!("corrected energy per trial ({unit})"),
            &format!("published energy per trial ({unit})"),
        ),
        &points,
        false,
    );
    let axis = Axis::numeric(String::new(), lo.min(0.0) * k, hi * k, true);
    let panel = &mut fig.panels[0];
    panel.x = Axis {
        label: panel.x.label.clone(),
        ..axis.clone()
    };
    panel.y = Axis {
        label: panel.y.label.clone(),
        ..axis.clone()
    };
    panel.marks.insert(
        0,
        Mark::Line {
            points: vec![(axis.min, axis.min), (axis.max, axis.max)],
            colour: BLACK_INK,
            width: 1,
            dash: Dash::Dashed,
        },
    );
    fig.legend.push(LegendItem {
        label: "published = corrected".into(),
        colour: BLACK_INK,
        key: Key::Line(Dash::Dashed),
    });
    out.push(fig);

    let mut names: Vec<String> = REASONS.iter().map(|r| (*r).to_string()).collect();
    names.push("total".into());
    let mut values: Vec<f64> = comparison.parts.to_vec();
    values.push(comparison.published_j - comparison.corrected_j);
    let (vk, vunit) = energy_unit(values.iter().map(|v| v.abs()).fold(0.0, f64::max));
    let mut marks = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let colour = if i == values.len() - 1 {
            BLACK_INK
        } else if *v >= 0.0 {
            COMPONENTS[0].1
        } else {
            COMPONENTS[1].1
        };
        marks.push(Mark::Rect {
            x0: i as f64 - 0.3,
            y0: 0.0,
            x1: i as f64 + 0.3,
            y1: v * vk,
            fill: Some(colour),
            stroke: None,
        });
    }
    let (l, h) = bounds(values.iter().map(|v| v * vk));
    out.push(Figure {
        name: "accounting_breakdown".into(),
        title: "Why published and corrected energy differ (all trials)".into(),
        caption:
            "The difference published − corrected, summed over all trials and split into its causes (see \
                  “Accounting comparison”); the last bar is the total."
                .into(),
        size: SINGLE,
        panels: vec![Panel {
            title: String::new(),
            x: Axis::categories("cause", &names),
            y: Axis::numeric(
                format!("published − corrected ({vunit})"),
                l.min(0.0),
                h.max(0.0),
                false,
            ),
            marks,
        }],
        columns: 1,
        legend: Vec::new(),
    });
}

/// Every figure of the report, in the order the report shows them; figures without data are
/// left out.
pub fn all(inputs: &Inputs<'_>, study: &Study<'_>, comparison: &Comparison, trace_id: &str) -> Vec<Figure> {
    let mut out = Vec::new();
    rq1(study, &mut out);
    rq2(study, &mut out);
    rq3(study, &mut out);
    out.extend(trace(inputs, study, trace_id));
    out.push(energy_split(study));
    accounting_figures(study, comparison, &mut out);
    out.retain(|f| f.mark_count() > 0);
    out
}
