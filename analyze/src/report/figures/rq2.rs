//! RQ2 figures: energy by generation within each task (violins, one panel per task) and the
//! generation × task interaction profile of the medians.

use super::marks::violin_marks;
use super::{FACETS, SINGLE, WHITE_INK, bounds, energy_unit, generation_legend};
use crate::model::Study;
use crate::report::plot::{Axis, Dash, Figure, Key, LegendItem, Mark, Panel, Shape};
use crate::report::study::Colours;
use crate::stats::descriptive::quantile_sorted;

/// The RQ2 figures, in the report's order.
pub(super) fn figures(study: &Study, out: &mut Vec<Figure>) {
    let (lo, hi) = bounds(study.metrics.iter().map(|r| r.energy_j));
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
