//! RQ2 figures: energy by generation within each task (violins, one panel per task) and the
//! generation × task interaction profile: the median per generation, one line per task.

use super::marks::violin_marks;
use super::{FACETS, SINGLE, WHITE_INK, bounds, energy_unit, generation_legend, starts_at_zero};
use crate::model::Study;
use crate::report::plot::{Axis, Dash, Figure, Key, LegendItem, Mark, Panel, Shape};
use crate::report::study::Colours;
use crate::stats::descriptive::quantile_sorted;

/// The RQ2 figures, in the report's order.
pub(super) fn figures(study: &Study, out: &mut Vec<Figure>) {
    let (lo, hi) = bounds(study.metrics.iter().filter_map(|r| r.energy_j));
    let (k, unit) = energy_unit(hi);
    let names: Vec<String> = study.generations.clone();
    let mut panels = Vec::new();
    for task in &study.tasks {
        let mut marks = Vec::new();
        for (i, g) in study.generations.iter().enumerate() {
            let values: Vec<f64> = study
                .trials_of(g)
                .filter(|r| r.key.task == task)
                .filter_map(|r| r.energy_j)
                .map(|j| j * k)
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

    // The median profile, as the published script draws it: generation on the x axis, the
    // median trial energy (`stat_summary(fun = median)`, repetition level), one line with points
    // per task.
    let mut marks = Vec::new();
    let mut legend = Vec::new();
    let mut medians = Vec::new();
    for task in &study.tasks {
        let points: Vec<(f64, f64)> = study
            .generations
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                let mut v: Vec<f64> = study
                    .trials_of(g)
                    .filter(|r| r.key.task == task)
                    .filter_map(|r| r.energy_j.filter(|j| j.is_finite()))
                    .map(|j| j * k)
                    .collect();
                if v.is_empty() {
                    return None;
                }
                v.sort_by(f64::total_cmp);
                Some((i as f64, quantile_sorted(&v, 0.5)))
            })
            .collect();
        if points.is_empty() {
            continue;
        }
        medians.extend(points.iter().map(|p| p.1));
        let colour = study.task_colour(task);
        marks.push(Mark::Line {
            points: points.clone(),
            colour,
            width: 2,
            dash: Dash::Solid,
        });
        marks.push(Mark::Points {
            points,
            colour,
            radius: 4,
            shape: Shape::Circle,
        });
        legend.push(LegendItem {
            label: task.clone(),
            colour,
            key: Key::Line(Dash::Solid),
        });
    }
    let (lo, hi) = bounds(medians.into_iter());
    out.push(Figure {
        name: "rq2_interaction".into(),
        title: "RQ2 Median energy per trial by generation, one line per task".into(),
        caption: "Median energy of the trials (repetition level) of each generation in each task, one line \
                  with points per task across the generations: parallel lines mean no generation × task \
                  interaction — the form of the published script's RQ2 interaction profile (`stat_summary` of \
                  the median as line and point, coloured by task). The tasks have colours of their own, none \
                  of them a generation's."
            .into(),
        size: SINGLE,
        panels: vec![Panel {
            title: String::new(),
            x: Axis::categories("generation", &names),
            y: Axis::numeric(
                format!("median energy per trial ({unit})"),
                lo,
                hi,
                starts_at_zero(lo, hi),
            ),
            marks,
        }],
        columns: 1,
        legend,
    });
}
