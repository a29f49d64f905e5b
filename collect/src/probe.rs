//! `collect probe`: samples the energy sources for a while without any endpoint and reports,
//! per GPU, the energy from NVML's total-energy counter, the energy from integrating power
//! (trapezoid rule, through the contract's accounting), their relative difference and the mean
//! power, plus the sampler's own CPU cost as a share of one core. It validates the instrument on
//! a machine before a study (the target: counter and integral within 2 %, sampler cost
//! ≤ 0.5 % of a core at 200 ms and ≤ 3 % at 10 ms).

use crate::options::ProbeOptions;
use crate::sampler::{self, SamplerSettings, fake::FakeScript};
use anyhow::{Context, Result, bail};
use dataset::accounting::{Window, corrected};
use dataset::{Channel, SampleTable};
use serde::Serialize;
use std::io::Write;
use std::time::Duration;

/// The figures of one GPU.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GpuProbe {
    /// GPU index.
    pub gpu: u32,
    /// Energy from the counter between its first and last reading, J (None without counter).
    pub counter_j: Option<f64>,
    /// Energy from integrating `GPU<i>_POWER (mWatts)` over the same span, J.
    pub power_integral_j: Option<f64>,
    /// (power integral − counter) / counter.
    pub relative_difference: Option<f64>,
    /// Energy from integrating the 1 s average power `GPU<i>_POWER_AVERAGE (mWatts)`, J, when
    /// the power channel is the instantaneous reading.
    pub average_power_integral_j: Option<f64>,
    /// (average power integral − counter) / counter.
    pub average_relative_difference: Option<f64>,
    /// Mean power, W (from the counter where there is one).
    pub mean_power_w: Option<f64>,
}

/// The probe's report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProbeReport {
    /// Sources sampled.
    pub sources: String,
    /// Nominal interval, ms.
    pub interval_ms: f64,
    /// Samples taken.
    pub samples: usize,
    /// Mean interval between samples, ms.
    pub mean_interval_ms: f64,
    /// Span from first to last sample, s.
    pub duration_s: f64,
    /// CPU time of the sampler thread, s.
    pub sampler_cpu_s: f64,
    /// Sampler CPU time as a share of one core, %.
    pub sampler_cpu_percent: f64,
    /// Per GPU.
    pub gpus: Vec<GpuProbe>,
    /// The sources' provenance (GPU model, driver...).
    pub provenance: serde_json::Value,
}

/// The first and last valid (time, value) of a column.
fn valid_ends(table: &SampleTable, name: &str) -> Option<((i64, f64), (i64, f64))> {
    let c = table.column(name)?;
    let mut valid = (0..table.len()).filter_map(|i| c.get(i).map(|v| (table.time_ms[i], v)));
    let first = valid.next()?;
    let last = valid.next_back().unwrap_or(first);
    Some((first, last))
}

/// Trapezoid integral of one power column over `[start_ms, end_ms]`, J (through the contract's
/// corrected accounting, given only that column).
fn power_integral(table: &SampleTable, name: &str, start_ms: i64, end_ms: i64) -> Option<f64> {
    let c = table.column(name)?;
    let only = SampleTable {
        time_ms: table.time_ms.clone(),
        columns: vec![dataset::SampleColumn {
            name: "GPU0_POWER (mWatts)".into(),
            ..c.clone()
        }],
    };
    let window = Window {
        start_ms,
        end_ms,
        resolution_ms: 1,
    };
    corrected(&only, window).gpu_j
}

/// The per-GPU figures of a recording: each power channel is integrated over the span between
/// the counter's first and last readings (the whole recording without counter).
pub fn analyse(table: &SampleTable) -> Vec<GpuProbe> {
    let (Some(&first), Some(&last)) = (table.time_ms.first(), table.time_ms.last()) else {
        return Vec::new();
    };
    let mut gpus: Vec<u32> = table
        .columns
        .iter()
        .filter_map(|c| match Channel::classify(&c.name) {
            Channel::GpuPower(i) | Channel::GpuEnergy(i) => Some(i),
            _ => None,
        })
        .collect();
    gpus.sort_unstable();
    gpus.dedup();
    gpus.into_iter()
        .map(|i| {
            let ends = valid_ends(table, &format!("GPU{i}_ENERGY (mJ)"));
            let (start, end) = ends.map_or((first, last), |(a, b)| (a.0, b.0));
            let counter_j = ends.map(|(a, b)| (b.1 - a.1) / 1000.0);
            let power_integral_j = power_integral(table, &format!("GPU{i}_POWER (mWatts)"), start, end);
            let average_power_integral_j =
                power_integral(table, &format!("GPU{i}_POWER_AVERAGE (mWatts)"), start, end);
            let rel = |p: Option<f64>| match (counter_j, p) {
                (Some(c), Some(p)) if c > 0.0 => Some((p - c) / c),
                _ => None,
            };
            let span_s = (end - start) as f64 / 1000.0;
            GpuProbe {
                gpu: i,
                counter_j,
                power_integral_j,
                relative_difference: rel(power_integral_j),
                average_power_integral_j,
                average_relative_difference: rel(average_power_integral_j),
                mean_power_w: counter_j
                    .or(power_integral_j)
                    .filter(|_| span_s > 0.0)
                    .map(|e| e / span_s),
            }
        })
        .collect()
}

/// Runs the probe and prints (and optionally writes) its report.
pub fn run(opts: &ProbeOptions, out: &mut dyn Write) -> Result<ProbeReport> {
    let settings = SamplerSettings {
        interval_ms: opts.interval_ms,
        counter_interval_ms: opts.counter_interval_ms,
    };
    let (mut recorder, notes) = sampler::open(&opts.energy, settings, &FakeScript::default())?;
    for n in notes {
        eprintln!("{n}");
    }
    let provenance = recorder.provenance();
    eprintln!(
        "probe: sampling {} every {} ms for {} s...",
        recorder.sources(),
        opts.interval_ms,
        opts.seconds
    );
    recorder.start()?;
    std::thread::sleep(Duration::from_secs_f64(opts.seconds));
    let rec = recorder.stop()?;
    let t = &rec.table;
    if t.len() < 2 {
        bail!("the probe took fewer than two samples");
    }
    let duration_s = (t.time_ms[t.len() - 1] - t.time_ms[0]) as f64 / 1000.0;
    let report = ProbeReport {
        sources: recorder.sources(),
        interval_ms: opts.interval_ms,
        samples: t.len(),
        mean_interval_ms: duration_s * 1000.0 / (t.len() - 1) as f64,
        duration_s,
        sampler_cpu_s: rec.cpu_s,
        sampler_cpu_percent: if duration_s > 0.0 {
            100.0 * rec.cpu_s / duration_s
        } else {
            0.0
        },
        gpus: analyse(t),
        provenance,
    };
    print(&report, out)?;
    if let Some(path) = &opts.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(report)
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.digits$}"))
}

/// Prints the report as a table.
pub fn print(r: &ProbeReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "sources {}: {} samples over {:.2} s (mean interval {:.2} ms, nominal {} ms)",
        r.sources, r.samples, r.duration_s, r.mean_interval_ms, r.interval_ms
    )?;
    writeln!(
        out,
        "sampler CPU: {:.4} s = {:.3} % of one core",
        r.sampler_cpu_s, r.sampler_cpu_percent
    )?;
    if r.gpus.is_empty() {
        writeln!(out, "no GPU channel was sampled")?;
        return Ok(());
    }
    let pct = |d: Option<f64>| d.map_or_else(|| "-".into(), |d| format!("{:+.3} %", d * 100.0));
    writeln!(
        out,
        "gpu  counter_J      power_integral_J  difference  avg_power_integral_J  difference  mean_power_W"
    )?;
    for g in &r.gpus {
        writeln!(
            out,
            "{:<4} {:<14} {:<17} {:<11} {:<21} {:<11} {}",
            g.gpu,
            opt(g.counter_j, 3),
            opt(g.power_integral_j, 3),
            pct(g.relative_difference),
            opt(g.average_power_integral_j, 3),
            pct(g.average_relative_difference),
            opt(g.mean_power_w, 2)
        )?;
    }
    Ok(())
}
