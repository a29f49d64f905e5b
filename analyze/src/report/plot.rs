//! The figure model and its one renderer. A [`Figure`] is plain data — panels with axes and
//! marks in data coordinates, and a legend — so the figure builders in `figures.rs` never touch
//! plotters; [`render_svg`] and [`render_png`] draw the same figure through plotters' SVG and
//! bitmap backends.
//!
//! The layout is fixed in strips so that no text can overlap: the title on top, the legend
//! below it (wrapped onto as many lines as it needs), then a grid of panels, each with its own
//! caption, tick labels sized from the labels themselves, and axis descriptions.

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::sync::OnceLock;

/// The font every figure uses (DejaVu Sans, bundled: its licence is in `assets/fonts/`).
const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The family name figures ask plotters for (also what SVG viewers fall back to).
pub const FONT: &str = "sans-serif";

/// Registers the bundled font with plotters once per process; the SVG backend also needs it,
/// because plotters measures text with it to place labels.
pub fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the bundled DejaVu Sans font could not be loaded"))
    }
}

/// An sRGB colour with opacity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Colour {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
    /// Opacity in [0, 1].
    pub a: f64,
}

impl Colour {
    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Self {
        Self { r, g, b, a: 1.0 }
    }

    /// The same colour with another opacity.
    pub const fn alpha(self, a: f64) -> Self {
        Self { a, ..self }
    }

    /// `#rrggbb`, for CSS.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }

    /// True for colours too light to see on white without an outline.
    pub fn is_light(self) -> bool {
        u16::from(self.r) + u16::from(self.g) + u16::from(self.b) > 3 * 235
    }

    fn style(self) -> RGBAColor {
        RGBAColor(self.r, self.g, self.b, self.a)
    }
}

/// Black.
pub const BLACK_INK: Colour = Colour::rgb(0x22, 0x22, 0x22);
/// Grid and neutral grey.
pub const GREY: Colour = Colour::rgb(0x88, 0x88, 0x88);

/// How a line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dash {
    /// Solid.
    Solid,
    /// Long dashes.
    Dashed,
    /// Short dots.
    Dotted,
}

/// A point marker's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Filled circle.
    Circle,
    /// Diamond with a dark outline (mean markers).
    Diamond,
}

/// Something drawn in a panel, in data coordinates.
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    /// An axis-aligned rectangle.
    Rect {
        /// Corners.
        x0: f64,
        /// Corners.
        y0: f64,
        /// Corners.
        x1: f64,
        /// Corners.
        y1: f64,
        /// Fill, if any.
        fill: Option<Colour>,
        /// Outline, if any.
        stroke: Option<Colour>,
    },
    /// A polyline.
    Line {
        /// Vertices.
        points: Vec<(f64, f64)>,
        /// Colour.
        colour: Colour,
        /// Width in pixels.
        width: u32,
        /// Dash pattern.
        dash: Dash,
    },
    /// A filled polygon (closed automatically).
    Polygon {
        /// Vertices.
        points: Vec<(f64, f64)>,
        /// Fill.
        fill: Colour,
    },
    /// Point markers.
    Points {
        /// Positions.
        points: Vec<(f64, f64)>,
        /// Fill colour.
        colour: Colour,
        /// Radius in pixels.
        radius: u32,
        /// Shape.
        shape: Shape,
    },
}

/// An axis: its description, range and ticks.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Description, with its unit.
    pub label: String,
    /// Lower end of the range.
    pub min: f64,
    /// Upper end of the range.
    pub max: f64,
    /// Tick positions and their labels.
    pub ticks: Vec<(f64, String)>,
}

impl Axis {
    /// A numeric axis over `[lo, hi]` padded by 4 % on each side (not below 0 when
    /// `from_zero`), with "nice" ticks.
    pub fn numeric(label: impl Into<String>, lo: f64, hi: f64, from_zero: bool) -> Self {
        let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() && lo <= hi {
            (lo, hi)
        } else {
            (0.0, 1.0)
        };
        if from_zero && lo >= 0.0 {
            lo = 0.0;
        }
        if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
            let pad = if hi == 0.0 { 1.0 } else { hi.abs() * 0.1 };
            lo -= pad;
            hi += pad;
            if from_zero && lo < 0.0 && hi > 0.0 {
                lo = 0.0;
            }
        }
        let pad = (hi - lo) * 0.04;
        let min = if from_zero && lo == 0.0 { 0.0 } else { lo - pad };
        let max = hi + pad;
        let ticks = nice_ticks(min, max, 6);
        Self {
            label: label.into(),
            min,
            max,
            ticks,
        }
    }

    /// A categorical axis: categories at 0, 1, …, n−1.
    pub fn categories(label: impl Into<String>, names: &[String]) -> Self {
        Self {
            label: label.into(),
            min: -0.6,
            max: names.len() as f64 - 0.4,
            ticks: names
                .iter()
                .enumerate()
                .map(|(i, n)| (i as f64, n.clone()))
                .collect(),
        }
    }
}

/// "Nice" tick positions (1, 2, 2.5 or 5 × 10^k apart) inside `[lo, hi]`, about `target` of
/// them, labelled with just enough decimals for the step.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<(f64, String)> {
    let span = hi - lo;
    if span.is_nan() || span <= 0.0 || !span.is_finite() {
        return vec![(lo, format_tick(lo, 1.0))];
    }
    let raw = span / target.max(2) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            // Avoid "-0" and float noise such as 0.30000000000000004.
            let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
            (v, format_tick(v, step))
        })
        .collect()
}

fn format_tick(v: f64, step: f64) -> String {
    // As many decimals as the step needs to be exact (2.5 → 1, 0.25 → 2).
    let decimals = (0..=12)
        .find(|&d| {
            let scaled = step * 10f64.powi(d);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(12) as usize;
    format!("{v:.decimals$}")
}

/// A linear f64 axis whose tick marks are exactly the given positions (plotters' own f64 axis
/// picks its own ticks, and its `WithKeyPoints` wrapper loses the label formatter).
#[derive(Debug, Clone)]
struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        let r = if span > 0.0 { (value - self.lo) / span } else { 0.5 };
        limit.0 + (r * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// One panel of a figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Caption above the panel (facet label); empty for none.
    pub title: String,
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis.
    pub y: Axis,
    /// Marks, drawn in order.
    pub marks: Vec<Mark>,
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A filled square.
    Swatch,
    /// A line with the given dash.
    Line(Dash),
    /// A marker.
    Marker(Shape),
}

/// One legend entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendItem {
    /// Text.
    pub label: String,
    /// Colour.
    pub colour: Colour,
    /// How the key is drawn.
    pub key: Key,
}

/// A whole figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File stem (`rq1_1_energy_box`).
    pub name: String,
    /// Title drawn on top.
    pub title: String,
    /// What the figure shows, for the report's caption.
    pub caption: String,
    /// Size in pixels.
    pub size: (u32, u32),
    /// Panels, row by row.
    pub panels: Vec<Panel>,
    /// Panels per row.
    pub columns: usize,
    /// Legend entries.
    pub legend: Vec<LegendItem>,
}

impl Figure {
    /// Number of marks of all panels (a figure with none is empty).
    pub fn mark_count(&self) -> usize {
        self.panels.iter().map(|p| p.marks.len()).sum()
    }
}

/// Error of a plotters drawing call, as text (the backends' error types differ).
fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing failed: {e:?}")
}

const TITLE_PX: u32 = 20;
const TEXT_PX: u32 = 13;
const TICK_PX: u32 = 12;

fn text_width(text: &str, px: u32) -> u32 {
    // Average advance of DejaVu Sans is about 0.6 em; the measured width is preferred when the
    // font is available.
    let font = (FONT, px as f64).into_font();
    font.box_size(text)
        .map(|(w, _)| w)
        .unwrap_or((text.chars().count() as f64 * 0.6 * px as f64) as u32)
}

/// Legend layout: lines of (item index, x offset) and the total height.
fn legend_lines(items: &[LegendItem], width: u32) -> Vec<Vec<(usize, u32)>> {
    let mut lines: Vec<Vec<(usize, u32)>> = Vec::new();
    let mut x = 0;
    let mut line = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let w = 28 + text_width(&item.label, TEXT_PX) + 18;
        if x + w > width.saturating_sub(40) && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            x = 0;
        }
        line.push((i, x));
        x += w;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, items: &[LegendItem]) -> Result<()> {
    let (width, _) = area.dim_in_pixel();
    let font = (FONT, TEXT_PX as f64).into_font().color(&BLACK_INK.style());
    for (row, line) in legend_lines(items, width).iter().enumerate() {
        let line_width = line
            .last()
            .map_or(0, |&(i, x)| x + 28 + text_width(&items[i].label, TEXT_PX));
        let left = (width.saturating_sub(line_width) / 2) as i32;
        let y = 10 + row as i32 * 22;
        for &(i, x) in line {
            let item = &items[i];
            let x = left + x as i32;
            let c = item.colour.style();
            match item.key {
                Key::Swatch => {
                    area.draw(&Rectangle::new([(x, y - 6), (x + 20, y + 6)], c.filled()))
                        .map_err(err)?;
                }
                Key::Line(dash) => match dash {
                    Dash::Solid => area
                        .draw(&PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(3)))
                        .map_err(err)?,
                    Dash::Dashed => area
                        .draw(&DashedPathElement::new(
                            vec![(x, y), (x + 22, y)],
                            6,
                            3,
                            c.stroke_width(3),
                        ))
                        .map_err(err)?,
                    Dash::Dotted => area
                        .draw(&DashedPathElement::new(
                            vec![(x, y), (x + 22, y)],
                            2,
                            3,
                            c.stroke_width(3),
                        ))
                        .map_err(err)?,
                },
                Key::Marker(shape) => draw_marker(area, (x + 10, y), 5, item.colour, shape)?,
            }
            area.draw(&Text::new(
                item.label.clone(),
                (x + 28, y),
                font.clone().pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(err)?;
        }
    }
    Ok(())
}

fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    r: u32,
    colour: Colour,
    shape: Shape,
) -> Result<()> {
    match shape {
        Shape::Circle => {
            area.draw(&Circle::new((x, y), r, colour.style().filled()))
                .map_err(err)?;
            if colour.is_light() {
                area.draw(&Circle::new((x, y), r, BLACK_INK.style().stroke_width(1)))
                    .map_err(err)?;
            }
            Ok(())
        }
        Shape::Diamond => {
            let r = r as i32 + 1;
            let pts = vec![(x, y - r), (x + r, y), (x, y + r), (x - r, y)];
            area.draw(&Polygon::new(pts.clone(), colour.style().filled()))
                .map_err(err)?;
            let mut closed = pts;
            closed.push((x, y - r));
            area.draw(&PathElement::new(closed, BLACK_INK.style().stroke_width(1)))
                .map_err(err)
        }
    }
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel) -> Result<()> {
    let y_tick_width = panel
        .y
        .ticks
        .iter()
        .map(|(_, t)| text_width(t, TICK_PX))
        .max()
        .unwrap_or(0);
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_top(6)
        .margin_right(14)
        .margin_left(4)
        .margin_bottom(4)
        .x_label_area_size(TICK_PX + 8 + TEXT_PX + 14)
        .y_label_area_size(y_tick_width + 12 + TEXT_PX + 14);
    if !panel.title.is_empty() {
        builder.caption(&panel.title, (FONT, TEXT_PX as f64 + 1.0).into_font());
    }
    let xs: Vec<f64> = panel.x.ticks.iter().map(|t| t.0).collect();
    let ys: Vec<f64> = panel.y.ticks.iter().map(|t| t.0).collect();
    let mut chart = builder
        .build_cartesian_2d(
            Ticked {
                lo: panel.x.min,
                hi: panel.x.max,
                ticks: xs,
            },
            Ticked {
                lo: panel.y.min,
                hi: panel.y.max,
                ticks: ys,
            },
        )
        .map_err(err)?;
    let label_of = |ticks: &[(f64, String)], v: f64| -> String {
        ticks
            .iter()
            .find(|(t, _)| (t - v).abs() <= 1e-9 * t.abs().max(1.0))
            .map(|(_, s)| s.clone())
            .unwrap_or_default()
    };
    let x_fmt = |v: &f64| label_of(&panel.x.ticks, *v);
    let y_fmt = |v: &f64| label_of(&panel.y.ticks, *v);
    chart
        .configure_mesh()
        .x_desc(panel.x.label.as_str())
        .y_desc(panel.y.label.as_str())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style((FONT, TICK_PX as f64).into_font().color(&BLACK_INK.style()))
        .axis_desc_style((FONT, TEXT_PX as f64).into_font().color(&BLACK_INK.style()))
        .bold_line_style(RGBAColor(0, 0, 0, 0.08))
        .light_line_style(TRANSPARENT)
        .axis_style(GREY.style())
        .draw()
        .map_err(err)?;
    let (xr, yr) = (panel.x.min..panel.x.max, panel.y.min..panel.y.max);
    let clamp = |(x, y): (f64, f64)| (x.clamp(xr.start, xr.end), y.clamp(yr.start, yr.end));
    for mark in &panel.marks {
        match mark {
            Mark::Rect {
                x0,
                y0,
                x1,
                y1,
                fill,
                stroke,
            } => {
                let corners = [clamp((*x0, *y0)), clamp((*x1, *y1))];
                if let Some(f) = fill {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(corners, f.style().filled())))
                        .map_err(err)?;
                }
                if let Some(s) = stroke {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            corners,
                            s.style().stroke_width(1),
                        )))
                        .map_err(err)?;
                }
            }
            Mark::Line {
                points,
                colour,
                width,
                dash,
            } => {
                let pts: Vec<(f64, f64)> = points.iter().copied().map(clamp).collect();
                let style = colour.style().stroke_width(*width);
                match dash {
                    Dash::Solid => chart
                        .draw_series(std::iter::once(PathElement::new(pts, style)))
                        .map_err(err)?,
                    Dash::Dashed => chart
                        .draw_series(std::iter::once(DashedPathElement::new(pts, 8, 5, style)))
                        .map_err(err)?,
                    Dash::Dotted => chart
                        .draw_series(std::iter::once(DashedPathElement::new(
                            pts,
                            *width + 1,
                            *width + 3,
                            style,
                        )))
                        .map_err(err)?,
                };
            }
            Mark::Polygon { points, fill } => {
                let pts: Vec<(f64, f64)> = points.iter().copied().map(clamp).collect();
                chart
                    .draw_series(std::iter::once(Polygon::new(pts, fill.style().filled())))
                    .map_err(err)?;
            }
            Mark::Points {
                points,
                colour,
                radius,
                shape,
            } => {
                let inside = points
                    .iter()
                    .copied()
                    .filter(|(x, y)| xr.contains(x) && yr.contains(y));
                match shape {
                    Shape::Circle if colour.is_light() => {
                        let (r, c) = (*radius, colour.style());
                        chart
                            .draw_series(inside.map(|p| {
                                EmptyElement::at(p)
                                    + Circle::new((0, 0), r, c.filled())
                                    + Circle::new((0, 0), r, BLACK_INK.style().stroke_width(1))
                            }))
                            .map_err(err)?;
                    }
                    Shape::Circle => {
                        chart
                            .draw_series(inside.map(|p| Circle::new(p, *radius, colour.style().filled())))
                            .map_err(err)?;
                    }
                    Shape::Diamond => {
                        let r = *radius as i32 + 1;
                        let c = colour.style();
                        chart
                            .draw_series(inside.map(|p| {
                                EmptyElement::at(p)
                                    + Polygon::new(vec![(0, -r), (r, 0), (0, r), (-r, 0)], c.filled())
                                    + PathElement::new(
                                        vec![(0, -r), (r, 0), (0, r), (-r, 0), (0, -r)],
                                        BLACK_INK.style().stroke_width(1),
                                    )
                            }))
                            .map_err(err)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Draws a figure on any plotters drawing area.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, fig: &Figure) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let (width, _) = root.dim_in_pixel();
    let (top, rest) = root.split_vertically(TITLE_PX + 16);
    top.draw(&Text::new(
        fig.title.clone(),
        ((width / 2) as i32, 8),
        (FONT, TITLE_PX as f64)
            .into_font()
            .color(&BLACK_INK.style())
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(err)?;
    let lines = legend_lines(&fig.legend, width).len() as u32;
    let body = if lines > 0 {
        let (legend, body) = rest.split_vertically(lines * 22 + 4);
        draw_legend(&legend, &fig.legend)?;
        body
    } else {
        rest
    };
    let columns = fig.columns.max(1);
    let rows = fig.panels.len().div_ceil(columns).max(1);
    let cells = body.split_evenly((rows, columns));
    for (panel, cell) in fig.panels.iter().zip(cells.iter()) {
        draw_panel(cell, panel)?;
    }
    Ok(())
}

/// Renders a figure as an SVG document.
pub fn render_svg(fig: &Figure) -> Result<String> {
    ensure_font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, fig.size).into_drawing_area();
        draw(&root, fig)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// Renders a figure as a PNG file's bytes.
pub fn render_png(fig: &Figure) -> Result<Vec<u8>> {
    ensure_font()?;
    let (w, h) = fig.size;
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, fig.size).into_drawing_area();
        draw(&root, fig)?;
        root.present().map_err(err)?;
    }
    encode_png(&rgb, w, h)
}

/// Encodes an RGB buffer as PNG (fast compression: the figures are flat colour and compress
/// well anyway).
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc.write_header().map_err(|e| anyhow!("PNG: {e}"))?;
        writer.write_image_data(rgb).map_err(|e| anyhow!("PNG: {e}"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_fall_on_round_numbers() {
        let t = nice_ticks(0.0, 83.0, 6);
        let labels: Vec<&str> = t.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(labels, ["0", "20", "40", "60", "80"]);
        let t = nice_ticks(0.12, 0.61, 6);
        let labels: Vec<&str> = t.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(labels, ["0.2", "0.3", "0.4", "0.5", "0.6"]);
        let t = nice_ticks(0.0, 1.0, 4);
        let labels: Vec<&str> = t.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(labels, ["0.00", "0.25", "0.50", "0.75", "1.00"]);
    }

    #[test]
    fn a_constant_range_still_gets_an_axis() {
        let a = Axis::numeric("x", 5.0, 5.0, false);
        assert!(a.min < 5.0 && a.max > 5.0 && !a.ticks.is_empty());
    }
}
