//! The figure set, as data ([`Figure`]s): the study's plots (box plots with mean markers and a
//! dotted median trend, densities, violins per task, the interaction profile, scatter plots)
//! and ours (a power trace, the per-trial energy split, published vs corrected accounting).
//! Every figure colours generations the same way ([`Study::colour`]) and labels axes with units.
//!
//! One file per research question (`rq1.rs`, `rq2.rs`, `rq3.rs`), one for the power trace of a
//! trial (`trace.rs`) and one for the accounting figures (`accounting.rs`); `marks.rs` builds
//! the marks they share (box, violin, density, scatter). This file holds the set in order
//! ([`all`]) and the small helpers: figure sizes, energy units, bounds, jitter and legends.
//!
//! Where the published study's R script (`Data_Analysis/scripts/GL_Final_Script_new.R`) draws a
//! figure, ours takes its form — the same data, level, grouping and overlays (densities of run
//! means, the median profile over generations, least-squares lines per generation, jittered
//! accuracy) — and its caption says so; the other figures are ours.

mod accounting;
mod marks;
mod rq1;
mod rq2;
mod rq3;
pub mod serving;
mod trace;

use crate::model::Study;
use crate::report::comparison::Comparison;
use crate::report::plot::{Colour, Figure, Key, LegendItem, Mark};
use crate::report::serving::ServingSection;
use crate::report::study::Colours;
use dataset::TrialFiles;

/// Every figure of the report, in the order the report shows them; figures without data are
/// left out.
///
/// With several load levels `rq_study` is the first level's (the research questions' figures
/// are drawn within it) and `study` every level's.
pub fn all(
    traced: &TrialFiles,
    study: &Study,
    rq_study: &Study,
    comparison: &Comparison,
    section: &ServingSection,
) -> Vec<Figure> {
    let mut out = Vec::new();
    rq1::figures(rq_study, &mut out);
    rq2::figures(rq_study, &mut out);
    rq3::figures(rq_study, &mut out);
    serving::figures(study, section, &mut out);
    out.extend(trace::power_trace(traced, study));
    out.push(accounting::energy_split(study));
    accounting::published_vs_corrected(study, comparison, &mut out);
    out.retain(|f| f.mark_count() > 0);
    out.iter_mut().for_each(thin_points);
    out
}

/// Points one series (one mark) draws at most: beyond, the figure would be a blot of ink and
/// megabytes of SVG.
const MAX_POINTS: usize = 2000;

/// Thins every point series longer than [`MAX_POINTS`] to an evenly spaced sample (every k-th
/// point in data order, trials in run order) and says so in the caption; boxes, lines and
/// densities are computed from every point before this and do not change.
fn thin_points(figure: &mut Figure) {
    let mut largest: Option<(usize, usize)> = None;
    for panel in &mut figure.panels {
        for mark in &mut panel.marks {
            if let Mark::Points { points, .. } = mark
                && points.len() > MAX_POINTS
            {
                let every = points.len().div_ceil(MAX_POINTS);
                let total = points.len();
                *points = points.iter().step_by(every).copied().collect();
                if largest.is_none_or(|(n, _)| total > n) {
                    largest = Some((total, every));
                }
            }
        }
    }
    if let Some((total, every)) = largest {
        figure.caption.push_str(&format!(
            " Series of more than {MAX_POINTS} points are drawn as an evenly spaced sample, one point in {every} in \
             run order (the largest series has {total}); boxes, lines and tests use every point."
        ));
    }
}

/// Figure sizes in pixels: one panel, a wide one (a time axis or every trial), a grid of panels.
const SINGLE: (u32, u32) = (960, 560);
const WIDE: (u32, u32) = (1200, 520);
const FACETS: (u32, u32) = (1200, 780);

/// White, for mean markers.
const WHITE_INK: Colour = Colour::rgb(0xff, 0xff, 0xff);

/// Joules shown in kJ when values are large.
fn energy_unit(max_j: f64) -> (f64, &'static str) {
    if max_j >= 1e4 { (1e-3, "kJ") } else { (1.0, "J") }
}

/// The smallest and largest finite value (∞ and −∞ when there is none).
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

/// The seed of [`uniform_jitter`]: fixed, so a jittered figure is the same in every report.
const JITTER_SEED: u64 = 2025;

/// `n` random offsets, uniform in [−`width`, `width`), as R's `geom_jitter(width = …)` draws
/// them (`runif(n, -width, width)`), from `ChaCha8Rng` seeded with [`JITTER_SEED`]: the same
/// offsets in every run. Each offset takes the top 53 bits of one `next_u64`, so the numbers
/// depend only on the generator's stream.
fn uniform_jitter(n: usize, width: f64) -> Vec<f64> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(JITTER_SEED);
    (0..n)
        .map(|_| {
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            width * (2.0 * u - 1.0)
        })
        .collect()
}

/// Whether a positive axis should start at 0: yes when the data reach down to 40 % of their
/// maximum anyway; no when they sit in a narrow band far from 0 (power at 330–360 W), where a
/// zero-based axis would flatten every difference.
fn starts_at_zero(lo: f64, hi: f64) -> bool {
    lo >= 0.0 && lo <= 0.4 * hi
}

/// One legend entry per generation, in the order they first appear.
fn generation_legend<'g>(
    study: &Study,
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

/// The range widened by 15 % on each side, so density tails are not cut at the data.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let pad = (hi - lo).abs().max(hi.abs() * 0.05).max(1e-9) * 0.15;
    (lo - pad, hi + pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_jitter_is_fixed_and_within_its_width() {
        let a = uniform_jitter(500, 0.02);
        assert_eq!(a, uniform_jitter(500, 0.02));
        assert!(a.iter().all(|d| (-0.02..0.02).contains(d)));
        // Spread over the whole width, both signs.
        assert!(a.iter().any(|d| *d < -0.015) && a.iter().any(|d| *d > 0.015));
        // The first offsets are those of the longer draw: one stream, one offset per point.
        assert_eq!(uniform_jitter(3, 0.02), a[..3]);
    }
}
