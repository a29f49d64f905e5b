//! The accounting figures: the energy split of every trial (GPU, CPU package, DRAM) and
//! published vs corrected energy (per trial, and the difference split into its causes).

use super::marks::{Scatter, scatter_figure};
use super::{SINGLE, WIDE, bounds, energy_unit};
use crate::model::{Study, size_in_billions};
use crate::report::comparison::{Comparison, REASONS};
use crate::report::plot::{Axis, BLACK_INK, Colour, Dash, Figure, Key, LegendItem, Mark, Panel};
use dataset::MetricsRow;

/// Energy components in the split figure: neutral greys, so they never read as generations.
const COMPONENTS: [(&str, Colour); 3] = [
    ("GPU", Colour::rgb(0x4d, 0x4d, 0x4d)),
    ("CPU package", Colour::rgb(0x9a, 0x9a, 0x9a)),
    ("DRAM", Colour::rgb(0xd0, 0xd0, 0xd0)),
];

/// One stacked bar per trial (GPU, CPU package, DRAM), ordered by generation, size, task and
/// repetition.
/// Trials the energy split draws one by one; beyond, each bar is the mean of consecutive trials.
const MAX_BARS: usize = 1200;

pub(super) fn energy_split(study: &Study) -> Figure {
    let mut order: Vec<&MetricsRow> = study.metrics.iter().collect();
    order.sort_by(|a, b| {
        study
            .generation_index(&a.key.generation)
            .cmp(&study.generation_index(&b.key.generation))
            .then(
                size_in_billions(&a.key.model_size)
                    .unwrap_or(0.0)
                    .total_cmp(&size_in_billions(&b.key.model_size).unwrap_or(0.0)),
            )
            .then(a.key.task.cmp(&b.key.task))
            .then(a.key.repetition.cmp(&b.key.repetition))
    });
    // Beyond MAX_BARS trials (more than the figure has pixels for), each step is the mean of
    // `per_bar` consecutive trials of one generation in this order.
    let per_bar = order.len().div_ceil(MAX_BARS).max(1);
    let mut bars: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let g = &order[start].key.generation;
        let group_end = start
            + order[start..]
                .iter()
                .take_while(|r| r.key.generation == g)
                .count();
        let mut i = start;
        while i < group_end {
            let end = (i + per_bar).min(group_end);
            bars.push((i, end));
            i = end;
        }
        start = group_end;
    }
    let mean = |(a, b): (usize, usize), f: &dyn Fn(&MetricsRow) -> f64| {
        order[a..b].iter().map(|r| f(r)).sum::<f64>() / (b - a) as f64
    };
    let (_, hi) = if per_bar == 1 {
        bounds(order.iter().filter_map(|r| r.energy_j))
    } else {
        bounds(
            bars.iter()
                .map(|&bar| mean(bar, &|r: &MetricsRow| r.energy_j.unwrap_or(f64::NAN))),
        )
    };
    let (k, unit) = energy_unit(hi);
    // One step-shaped polygon per component over all trials: seamless, and 3 shapes instead of
    // one rectangle per trial and component.
    let mut marks = Vec::new();
    let mut base = vec![0.0; bars.len()];
    for (c, (_, colour)) in COMPONENTS.iter().enumerate() {
        let part = |r: &MetricsRow| match c {
            0 => r.gpu_j.unwrap_or(0.0),
            1 => r.cpu_j.unwrap_or(0.0),
            _ => r.dram_j.unwrap_or(0.0),
        };
        if order.iter().all(|r| part(r) <= 0.0) {
            continue;
        }
        let top: Vec<f64> = bars
            .iter()
            .zip(&base)
            .map(|(&bar, b)| b + mean(bar, &|r: &MetricsRow| part(r).max(0.0)) * k)
            .collect();
        let mut outline = Vec::with_capacity(4 * bars.len());
        for (&(a, b), t) in bars.iter().zip(&top) {
            outline.push((a as f64 - 0.5, *t));
            outline.push((b as f64 - 0.5, *t));
        }
        for (&(a, b), low) in bars.iter().zip(&base).rev() {
            outline.push((b as f64 - 0.5, *low));
            outline.push((a as f64 - 0.5, *low));
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
        let n = order.iter().filter(|r| r.key.generation == g).count();
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
        title: format!(
            "Energy split of every trial ({} accounting)",
            study.accounting.as_str()
        ),
        caption: if per_bar == 1 {
            "One bar per trial, ordered by generation, size, task and repetition: GPU, CPU package and DRAM energy in the \
             inference window, stacked."
                .into()
        } else {
            format!(
                "Trials ordered by generation, size, task and repetition: GPU, CPU package and DRAM energy in the inference \
                 window, stacked. {} trials are more than the figure can show one by one: each bar is the mean of {per_bar} \
                 consecutive trials of one generation in this order (per-trial values are in tables/metrics.csv).",
                order.len()
            )
        },
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
            .map(|(name, colour)| LegendItem {
                label: (*name).into(),
                colour: *colour,
                key: Key::Swatch,
            })
            .collect(),
    }
}

/// Published against corrected energy per trial, and the difference split into its causes.
pub(super) fn published_vs_corrected(study: &Study, comparison: &Comparison, out: &mut Vec<Figure>) {
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
        .map(|t| (t.generation.to_string(), t.corrected_j * k, t.published_j * k))
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
        Scatter::POINTS,
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
