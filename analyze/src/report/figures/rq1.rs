//! RQ1 figures: energy per trial by generation (RQ1.1: run-level boxes, trial densities) and
//! by model size (RQ1.2: energy per billion parameters by configuration, densities per size).

use super::marks::{box_figure, density_marks};
use super::{FACETS, SINGLE, bounds, energy_unit, generation_legend, padded};
use crate::model::{Metric, Study, configuration_label};
use crate::report::plot::{Axis, Colour, Dash, Figure, Key, LegendItem, Panel};
use crate::report::study::Colours;

/// The RQ1.1 and RQ1.2 figures, in the report's order.
pub(super) fn figures(study: &Study, out: &mut Vec<Figure>) {
    let (max_lo, max_hi) = bounds(study.metrics.iter().map(|r| r.energy_j));
    let (k, unit) = energy_unit(max_hi.max(max_lo));
    let runs: Vec<(String, String, Vec<f64>)> = study
        .generations
        .iter()
        .map(|g| {
            (
                study.label(g),
                g.clone(),
                study
                    .runs_of(g)
                    .map(|r| r.get(Metric::Energy).unwrap_or(f64::NAN) * k)
                    .collect(),
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
                configuration_label(g, s),
                g.clone(),
                study
                    .runs
                    .iter()
                    .filter(|r| &r.generation == g && &r.model_size == s)
                    .filter_map(|r| r.get(Metric::JPerB))
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
                    label: configuration_label(g, s),
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
