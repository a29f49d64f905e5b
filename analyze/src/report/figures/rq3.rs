//! RQ3 figures: energy per output token (RQ3.1), average power (RQ3.2) and accuracy (RQ3.3) by
//! generation, each as boxes and as a scatter with a least-squares line per generation, as the
//! published script draws them: tokens vs energy per token, duration vs power, and accuracy
//! (jittered) vs energy.

use super::marks::{Scatter, box_figure, scatter_figure};
use super::{bounds, energy_unit};
use crate::model::Study;
use crate::report::plot::Figure;
use dataset::MetricsRow;

/// How far the RQ3.3 scatter moves each point sideways at most, in accuracy units (the
/// published script's `geom_jitter(width = 0.02)`).
const ACCURACY_JITTER: f64 = 0.02;

/// Per generation (label, generation, values of `f` over its trials).
fn by_generation(study: &Study, f: impl Fn(&MetricsRow) -> Option<f64>) -> Vec<(String, String, Vec<f64>)> {
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

/// The RQ3.1–RQ3.3 figures, in the report's order; RQ3.3 only when trials carry a score.
pub(super) fn figures(study: &Study, out: &mut Vec<Figure>) {
    let (_, hi) = bounds(study.metrics.iter().filter_map(|r| r.energy_j));
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
        .metrics
        .iter()
        .filter_map(|r| Some((r.key.generation.to_string(), r.tokens as f64, r.energy_per_token?)))
        .collect();
    out.push(scatter_figure(
        study,
        "rq3_1_tokens_scatter",
        "RQ3.1 Energy per token vs output tokens",
        "One point per trial; one least-squares line per generation over its trials — the form of the \
         published script's RQ3.1 trade-off scatter (repetition level, coloured by generation, \
         `geom_smooth(method = \"lm\", se = FALSE)`).",
        ("output tokens per trial", "energy per output token (J/token)"),
        &points,
        Scatter::FITTED,
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
        .metrics
        .iter()
        .filter_map(|r| Some((r.key.generation.to_string(), r.duration_s, r.power_w?)))
        .collect();
    out.push(scatter_figure(
        study,
        "rq3_2_power_duration",
        "RQ3.2 Average power vs duration",
        "One point per trial; one least-squares line per generation over its trials — the form of the \
         published script's RQ3.2 power–duration scatter (repetition level, coloured by generation, \
         `geom_smooth(method = \"lm\", se = FALSE)`).",
        ("duration of the inference window (s)", "average power (W)"),
        &points,
        Scatter::FITTED,
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
            .metrics
            .iter()
            .filter_map(|r| Some((r.key.generation.to_string(), r.accuracy?, r.energy_j? * k)))
            .collect();
        out.push(scatter_figure(
            study,
            "rq3_3_accuracy_energy",
            "RQ3.3 Energy per trial vs accuracy",
            &format!(
                "One point per trial, moved sideways by a fixed-seed random amount of at most \
                 ±{ACCURACY_JITTER} so that equal scores do not hide one another; one least-squares line per \
                 generation, fitted to the unmoved scores — the form of the published script's RQ3.3 \
                 accuracy–energy scatter (accuracy on x, energy on y, coloured by generation, \
                 `geom_jitter(width = {ACCURACY_JITTER})` and `geom_smooth(method = \"lm\", se = FALSE)`)."
            ),
            ("accuracy (score, 0–1)", &format!("energy per trial ({unit})")),
            &points,
            Scatter {
                fit: true,
                x_jitter: ACCURACY_JITTER,
            },
        ));
    }
}
