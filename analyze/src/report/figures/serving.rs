//! The serving-regime figures: energy per token against the load level, one line per model,
//! and the energy–accuracy–latency frontier (energy per correct answer against accuracy and
//! against p90 TPOT, one point per treatment, Pareto-optimal treatments marked and joined).

use super::{SINGLE, bounds, starts_at_zero};
use crate::model::serving::LoadLevel;
use crate::model::{Study, generation_key};
use crate::report::plot::{Axis, Dash, Figure, Key, LegendItem, Mark, Panel, Shape};
use crate::report::serving::{FrontierPoint, ServingSection};
use crate::report::study::Colours;

/// File stem of the energy-per-token-by-load figure.
pub const ENERGY_BY_LOAD: &str = "serving_energy_per_token_by_load";
/// File stem of the energy–accuracy frontier.
pub const FRONTIER_ACCURACY: &str = "serving_frontier_accuracy";
/// File stem of the energy–latency frontier.
pub const FRONTIER_LATENCY: &str = "serving_frontier_latency";

/// The serving figures, in the report's order (none for a single load level or without a
/// frontier).
pub(super) fn figures(study: &Study, section: &ServingSection, out: &mut Vec<Figure>) {
    out.extend(energy_by_load(study));
    out.extend(frontier(
        study,
        &section.points,
        FRONTIER_ACCURACY,
        "Energy per correct answer vs accuracy, per treatment",
        "accuracy (gold labels, 0–1)",
        |p| Some(p.accuracy),
        |p| p.pareto_accuracy,
    ));
    out.extend(frontier(
        study,
        &section.points,
        FRONTIER_LATENCY,
        "Energy per correct answer vs p90 time per output token, per treatment",
        "p90 TPOT (ms)",
        |p| p.tpot_p90_ms,
        |p| p.pareto_latency,
    ));
}

/// Energy per token against the load level (categories in level order), one line per model:
/// the mean of the trials' steady-state J/token where every trial of the study has one, else
/// of their whole-window J/token. None with fewer than two levels.
fn energy_by_load(study: &Study) -> Option<Figure> {
    let levels: Vec<LoadLevel> = study.load_levels();
    if levels.len() < 2 {
        return None;
    }
    let steady = study
        .serving
        .iter()
        .all(|s| s.steady.and_then(|x| x.energy_per_token_j()).is_some());
    let mut models: Vec<(String, String)> = study
        .metrics
        .iter()
        .map(|m| (m.key.generation.to_string(), m.key.model.to_string()))
        .collect();
    models.sort_by(|a, b| {
        generation_key(&a.0)
            .cmp(&generation_key(&b.0))
            .then(a.1.cmp(&b.1))
    });
    models.dedup();
    let mut marks = Vec::new();
    let mut legend = Vec::new();
    let mut all = Vec::new();
    let mut seen_generation: Vec<String> = Vec::new();
    for (generation, model) in &models {
        let points: Vec<(f64, f64)> = levels
            .iter()
            .enumerate()
            .filter_map(|(x, level)| {
                let v: Vec<f64> = study
                    .metrics
                    .iter()
                    .zip(study.serving.iter())
                    .filter(|(m, _)| m.key.model == model.as_str() && LoadLevel::of(&m.key) == *level)
                    .filter_map(|(m, s)| {
                        if steady {
                            s.steady.and_then(|x| x.energy_per_token_j())
                        } else {
                            m.energy_per_token
                        }
                    })
                    .collect();
                (!v.is_empty()).then(|| (x as f64, v.iter().sum::<f64>() / v.len() as f64))
            })
            .collect();
        if points.is_empty() {
            continue;
        }
        all.extend(points.iter().map(|p| p.1));
        // Models of one generation share its colour and differ in dash.
        let dash = if seen_generation.contains(generation) {
            Dash::Dashed
        } else {
            seen_generation.push(generation.clone());
            Dash::Solid
        };
        let colour = study.colour(generation);
        marks.push(Mark::Line {
            points: points.clone(),
            colour,
            width: 2,
            dash,
        });
        marks.push(Mark::Points {
            points,
            colour,
            radius: 4,
            shape: Shape::Circle,
        });
        legend.push(LegendItem {
            label: model.clone(),
            colour,
            key: Key::Line(dash),
        });
    }
    let (lo, hi) = bounds(all.into_iter());
    let names: Vec<String> = levels.iter().map(ToString::to_string).collect();
    let what = if steady {
        "steady-state energy per generated token (ML.ENERGY's window: from the configured concurrency first reached to its last drop)"
    } else {
        "energy per generated token over the whole inference window (not every trial has a steady state)"
    };
    Some(Figure {
        name: ENERGY_BY_LOAD.into(),
        title: "Energy per token by load level, one line per model".into(),
        caption: format!(
            "Mean over each model's trials at each load level (all its tasks) of the {what}; one line with points per \
             model, coloured by generation (a generation's second model dashed)."
        ),
        size: SINGLE,
        panels: vec![Panel {
            title: String::new(),
            x: Axis::categories("load level", &names),
            y: Axis::numeric(
                if steady {
                    "steady-state energy per token (J/token)"
                } else {
                    "energy per token (J/token)"
                },
                lo,
                hi,
                starts_at_zero(lo, hi),
            ),
            marks,
        }],
        columns: 1,
        legend,
    })
}

/// One frontier figure: energy per correct answer (with its bootstrap interval) against `x`,
/// one point per treatment coloured by generation, the Pareto-optimal ones as diamonds joined
/// by a line. None without points.
fn frontier(
    study: &Study,
    points: &[FrontierPoint],
    name: &str,
    title: &str,
    x_label: &str,
    x_of: fn(&FrontierPoint) -> Option<f64>,
    on: fn(&FrontierPoint) -> bool,
) -> Option<Figure> {
    let shown: Vec<(&FrontierPoint, f64)> = points.iter().filter_map(|p| Some((p, x_of(p)?))).collect();
    if shown.is_empty() {
        return None;
    }
    let mut marks = Vec::new();
    let mut generations: Vec<&str> = shown.iter().map(|(p, _)| p.generation.as_str()).collect();
    generations.sort_by_key(|g| generation_key(g));
    generations.dedup();
    for (p, x) in &shown {
        if let Some((a, b)) = p.ci {
            marks.push(Mark::Line {
                points: vec![(*x, a), (*x, b)],
                colour: study.colour(&p.generation).alpha(0.5),
                width: 1,
                dash: Dash::Solid,
            });
        }
    }
    for g in &generations {
        let colour = study.colour(g);
        let (optimal, rest): (Vec<_>, Vec<_>) = shown
            .iter()
            .filter(|(p, _)| p.generation == *g)
            .partition(|(p, _)| on(p));
        marks.push(Mark::Points {
            points: rest.iter().map(|(p, x)| (*x, p.energy_per_correct_j)).collect(),
            colour,
            radius: 4,
            shape: Shape::Circle,
        });
        marks.push(Mark::Points {
            points: optimal
                .iter()
                .map(|(p, x)| (*x, p.energy_per_correct_j))
                .collect(),
            colour,
            radius: 7,
            shape: Shape::Diamond,
        });
    }
    let mut front: Vec<(f64, f64)> = shown
        .iter()
        .filter(|(p, _)| on(p))
        .map(|(p, x)| (*x, p.energy_per_correct_j))
        .collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    marks.push(Mark::Line {
        points: front,
        colour: crate::report::plot::BLACK_INK,
        width: 1,
        dash: Dash::Dashed,
    });
    marks.retain(
        |m| !matches!(m, Mark::Points { points, .. } | Mark::Line { points, .. } if points.is_empty()),
    );
    let (xlo, xhi) = bounds(shown.iter().map(|(_, x)| *x));
    let (ylo, yhi) = bounds(shown.iter().flat_map(|(p, _)| {
        [
            p.energy_per_correct_j,
            p.ci.map_or(f64::NAN, |c| c.0),
            p.ci.map_or(f64::NAN, |c| c.1),
        ]
    }));
    let mut legend: Vec<LegendItem> = generations
        .iter()
        .map(|g| LegendItem {
            label: study.label(g),
            colour: study.colour(g),
            key: Key::Marker(Shape::Circle),
        })
        .collect();
    legend.push(LegendItem {
        label: "Pareto-optimal".into(),
        colour: crate::report::plot::BLACK_INK,
        key: Key::Marker(Shape::Diamond),
    });
    Some(Figure {
        name: name.into(),
        title: title.into(),
        caption: format!(
            "One point per treatment (model × task × load level): Σ energy / Σ correct answers (gold labels) over its \
             repetitions, with its 95 % bootstrap interval over the repetitions (vertical line); diamonds joined by the \
             dashed line are Pareto-optimal (no other treatment uses less energy per correct answer and is better on \
             the x axis). {} treatments.",
            shown.len()
        ),
        size: SINGLE,
        panels: vec![Panel {
            title: String::new(),
            x: Axis::numeric(x_label, xlo, xhi, false),
            y: Axis::numeric(
                "energy per correct answer (J)",
                ylo,
                yhi,
                starts_at_zero(ylo, yhi),
            ),
            marks,
        }],
        columns: 1,
        legend,
    })
}
