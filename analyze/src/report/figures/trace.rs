//! The power trace of one trial: every sample of GPU board power and CPU package power over
//! time, with the corrected inference window and the published window's edges.

use super::{WIDE, bounds};
use crate::model::Study;
use crate::report::plot::{Axis, BLACK_INK, Colour, Dash, Figure, GREY, Key, LegendItem, Mark, Panel};
use crate::report::study::Colours;
use dataset::accounting::{self, wrap_range};
use dataset::{Accounting, Channel, TrialFiles};

/// The power trace of one trial: GPU board power and CPU package power (from the RAPL counter)
/// over the whole file, the corrected inference window shaded and the published window's edges.
pub(super) fn power_trace(t: &TrialFiles, study: &Study) -> Option<Figure> {
    let run_id = t.trial.key.run_id.as_str();
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
