//! RQ1 figures: energy per trial by generation (RQ1.1: run-level boxes and densities of the run
//! means) and by model size (RQ1.2: energy per billion parameters by configuration, and its
//! run-level density per size in one panel per generation).

use super::marks::{box_figure, density_marks};
use super::{FACETS, SINGLE, bounds, energy_unit, generation_legend, padded};
use crate::model::{Metric, Study, configuration_label};
use crate::report::plot::{Axis, Colour, Dash, Figure, Key, LegendItem, Panel};
use crate::report::study::Colours;

/// The RQ1.1 and RQ1.2 figures, in the report's order.
pub(super) fn figures(study: &Study, out: &mut Vec<Figure>) {
    let (max_lo, max_hi) = bounds(study.metrics.iter().filter_map(|r| r.energy_j));
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

    // RQ1.1 density, as the published script draws it: `geom_density` of the run means
    // (`energy_j_mean`), coloured by generation.
    let mut marks = Vec::new();
    let (lo, hi) = bounds(runs.iter().flat_map(|g| g.2.iter().copied()));
    let (lo, hi) = padded(lo, hi);
    let curves: Vec<(Colour, Dash, Vec<f64>)> = runs
        .iter()
        .map(|(_, g, values)| {
            (
                study.colour(g),
                Dash::Solid,
                values.iter().copied().filter(|v| v.is_finite()).collect(),
            )
        })
        .collect();
    let top = density_marks(&curves, lo, hi, &mut marks);
    out.push(Figure {
        name: "rq1_1_energy_density".into(),
        title: "RQ1.1 Distribution of energy per trial by generation (run level)".into(),
        caption: "Kernel density (Gaussian, R's `bw.nrd0` bandwidth) of the treatment means of energy per trial \
                  (run level: one value per treatment, the mean of its repetitions), one curve per generation \
                  — the form of the published script's RQ1.1 density (`geom_density` of the run means, \
                  coloured by generation)."
            .into(),
        size: SINGLE,
        panels: vec![Panel {
            title: String::new(),
            x: Axis::numeric(format!("energy per trial ({unit}), treatment mean"), lo, hi, false),
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

    // RQ1.2 density, as the published script draws it: `geom_density` of run-level J/B by
    // model size, `facet_wrap(~ generation, scales = "free_y")` — one panel per generation, a
    // shared J/B axis, each panel's own density scale.
    let (lo, hi) = bounds(groups.iter().flat_map(|g| g.2.iter().copied()));
    let (lo, hi) = padded(lo, hi);
    let dashes = [Dash::Solid, Dash::Dashed, Dash::Dotted];
    let mut panels = Vec::new();
    let mut legend = Vec::new();
    for g in &study.generations {
        let curves: Vec<(Colour, Dash, Vec<f64>)> = study
            .configurations
            .iter()
            .zip(&groups)
            .filter(|((cg, _), _)| cg == g)
            .enumerate()
            .map(|(i, ((_, s), (_, _, values)))| {
                let dash = dashes[i % dashes.len()];
                legend.push(LegendItem {
                    label: configuration_label(g, s),
                    colour: study.colour(g),
                    key: Key::Line(dash),
                });
                (study.colour(g), dash, values.clone())
            })
            .collect();
        let mut marks = Vec::new();
        let top = density_marks(&curves, lo, hi, &mut marks);
        panels.push(Panel {
            title: study.label(g),
            x: Axis::numeric(
                format!("energy per trial per billion parameters ({unit}/B)"),
                lo,
                hi,
                false,
            ),
            y: Axis::numeric(format!("density (B/{unit})"), 0.0, top, true),
            marks,
        });
    }
    let columns = if panels.len() > 4 { 3 } else { 2 };
    out.push(Figure {
        name: "rq1_2_size_density".into(),
        title: "RQ1.2 Distribution of energy per billion parameters by model size (run level)".into(),
        caption: "Kernel density of the treatment-mean energy per trial divided by the model's size in \
                  billions of parameters (run level), one curve per model size (line style) in one panel per \
                  generation, each panel with its own density scale — the form of the published script's \
                  RQ1.2 density (`geom_density` of run-level J/B by size, \
                  `facet_wrap(~ generation, scales = \"free_y\")`). The script colours the sizes; here each \
                  panel keeps its generation's colour and the sizes differ by line style."
            .into(),
        size: FACETS,
        panels,
        columns,
        legend,
    });
}
