//! The mark builders the figures share: a Tukey box with its mean marker, a figure of boxes
//! with the median trend, density curves, a violin with its quartile box, and a scatter figure
//! with optional least-squares lines and horizontal jitter. The numbers come from `stats` (box
//! statistics, kernel density, least squares); this file only turns them into marks.

use super::{SINGLE, WHITE_INK, bounds, generation_legend, jitter, starts_at_zero, uniform_jitter};
use crate::model::Study;
use crate::report::plot::{Axis, BLACK_INK, Colour, Dash, Figure, GREY, Key, LegendItem, Mark, Panel, Shape};
use crate::report::study::Colours;
use crate::stats::boxplot::{BoxStats, box_stats};
use crate::stats::density::kde;
use crate::stats::regression::least_squares;

/// The marks of one Tukey box at `x` (whiskers, box, median, mean diamond) and either every
/// value, jittered, or the outliers; returns its statistics.
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
pub(super) fn box_figure(
    study: &Study,
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

/// `n` evenly spaced points from `lo` to `hi`.
fn grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
        .collect()
}

/// Density curves (one per entry) on a shared axis, evaluated at 200 points of `[lo, hi]`,
/// each filled at 15 % opacity (R's `geom_density(alpha = 0.15)`); returns the highest density.
pub(super) fn density_marks(
    curves: &[(Colour, Dash, Vec<f64>)],
    lo: f64,
    hi: f64,
    marks: &mut Vec<Mark>,
) -> f64 {
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
            fill: colour.alpha(0.15),
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

/// How [`scatter_figure`] draws its points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Scatter {
    /// One least-squares line per generation over its points (R's `geom_smooth(method = "lm",
    /// se = FALSE)`), from its smallest to its largest x.
    pub fit: bool,
    /// Points drawn moved horizontally by up to ± this much (R's `geom_jitter(width = …)`),
    /// from a fixed seed; 0 for none. The lines are fitted to the values, not to the jittered
    /// positions, as in R.
    pub x_jitter: f64,
}

impl Scatter {
    /// Points only.
    pub const POINTS: Scatter = Scatter {
        fit: false,
        x_jitter: 0.0,
    };
    /// Points and a least-squares line per generation.
    pub const FITTED: Scatter = Scatter {
        fit: true,
        x_jitter: 0.0,
    };
}

/// One scatter panel with a colour per generation and, as `style` says, a least-squares line
/// per generation and horizontal jitter.
pub(super) fn scatter_figure(
    study: &Study,
    name: &str,
    title: &str,
    caption: &str,
    (x_label, y_label): (&str, &str),
    points: &[(String, f64, f64)],
    style: Scatter,
) -> Figure {
    let offsets = if style.x_jitter > 0.0 {
        uniform_jitter(points.len(), style.x_jitter)
    } else {
        vec![0.0; points.len()]
    };
    let drawn_x = |i: usize| points[i].1 + offsets[i];
    let mut marks = Vec::new();
    for g in &study.generations {
        let members: Vec<usize> = (0..points.len())
            .filter(|&i| &points[i].0 == g && points[i].1.is_finite() && points[i].2.is_finite())
            .collect();
        if members.is_empty() {
            continue;
        }
        marks.push(Mark::Points {
            points: members.iter().map(|&i| (drawn_x(i), points[i].2)).collect(),
            colour: study.colour(g).alpha(0.55),
            radius: 3,
            shape: Shape::Circle,
        });
        let pts: Vec<(f64, f64)> = members.iter().map(|&i| (points[i].1, points[i].2)).collect();
        if style.fit
            && let Some((a, b)) = least_squares(&pts)
        {
            let (lo, hi) = bounds(pts.iter().map(|p| p.0));
            marks.push(Mark::Line {
                points: vec![(lo, a + b * lo), (hi, a + b * hi)],
                colour: study.colour(g),
                width: 3,
                dash: Dash::Solid,
            });
        }
    }
    let (xl, xh) = bounds((0..points.len()).map(drawn_x));
    let (yl, yh) = bounds(points.iter().map(|p| p.2));
    let mut legend = generation_legend(
        study,
        points.iter().map(|p| p.0.as_str()),
        Key::Marker(Shape::Circle),
    );
    if style.fit {
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

/// A violin at `x` (the kernel density of `values`, mirrored) with a thin quartile box, the
/// whiskers and the median as a white dot.
pub(super) fn violin_marks(x: f64, values: &[f64], colour: Colour, lo: f64, hi: f64, marks: &mut Vec<Mark>) {
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
