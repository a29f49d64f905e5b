//! Energy accounting: from one trial's samples and request times to CPU, GPU and DRAM joules,
//! in two flavours.
//!
//! * [`Accounting::Published`] reproduces the published study's procedure exactly, defects
//!   included (see the dataset README): it exists to prove we read the data as they did.
//! * [`Accounting::Corrected`] is what the samples actually support: GPU energy from the
//!   energy counter when there is one, else the trapezoidal integral of power over time; CPU
//!   and DRAM energy from their cumulative counters with wraps undone.
//!
//! The corrected rule depends on how precise the request timestamps are
//! (`time_resolution_ms`). With whole seconds (the published data) the window is the set of
//! samples with `start_ms <= Time < end_ms + resolution` and the energy is taken between the
//! first and the last sample inside it. With millisecond timestamps (`collect`) the window is
//! exactly `[start_ms, end_ms]`: counters are linearly interpolated at its edges and power is
//! integrated piecewise-linearly between them. `docs/accounting.md` gives every formula.

use crate::samples::{Channel, SampleColumn, SampleTable};
use crate::{MetricsRow, Request, RequestMetricsRow, Trial};

/// Which accounting to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Accounting {
    /// What the samples support (the default).
    #[default]
    Corrected,
    /// The study's exact procedure, defects included.
    Published,
}

impl Accounting {
    /// The label used in tables and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Accounting::Corrected => "corrected",
            Accounting::Published => "published",
        }
    }
}

impl std::str::FromStr for Accounting {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "corrected" => Ok(Accounting::Corrected),
            "published" => Ok(Accounting::Published),
            other => Err(format!(
                "unknown accounting `{other}` (expected `corrected` or `published`)"
            )),
        }
    }
}

/// How GPU energy was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GpuSource {
    /// Differences of NVML's total-energy counter.
    EnergyCounter,
    /// Trapezoidal integral of board power over time.
    PowerIntegral,
    /// Power times an assumed 0.2 s per sample (the published procedure).
    PowerTimesInterval,
    /// Some GPUs by counter, others by power.
    Mixed,
    /// No GPU channel in the samples.
    #[default]
    None,
}

impl GpuSource {
    /// The label stored in the metrics table.
    pub fn as_str(self) -> &'static str {
        match self {
            GpuSource::EnergyCounter => "energy_counter",
            GpuSource::PowerIntegral => "power_integral",
            GpuSource::PowerTimesInterval => "power_x_interval",
            GpuSource::Mixed => "mixed",
            GpuSource::None => "none",
        }
    }

    /// The value of a stored label, None when unknown.
    pub fn parse(label: &str) -> Option<Self> {
        [
            GpuSource::EnergyCounter,
            GpuSource::PowerIntegral,
            GpuSource::PowerTimesInterval,
            GpuSource::Mixed,
            GpuSource::None,
        ]
        .into_iter()
        .find(|g| g.as_str() == label)
    }
}

/// The energy of one window.
#[derive(Debug, Clone, PartialEq)]
pub struct Energy {
    /// CPU package energy, J; None when nothing measured it (no package counter, or — in the
    /// corrected accounting — one that never moves in the file).
    pub cpu_j: Option<f64>,
    /// GPU energy over all GPUs, J; None when no GPU channel exists.
    pub gpu_j: Option<f64>,
    /// DRAM energy, J; None when no DRAM counter measured it (absent, or never moving).
    pub dram_j: Option<f64>,
    /// Window length, s.
    pub duration_s: f64,
    /// Samples inside the window.
    pub samples_in_window: usize,
    /// How GPU energy was obtained.
    pub gpu_source: GpuSource,
    /// Wraps of the CPU package counter inside the window.
    pub cpu_wraps: usize,
    /// Samples inside the window's time range left out because time ran backwards.
    pub backwards_samples: usize,
}

impl Energy {
    /// The sum of the measured components; None when nothing was measured.
    pub fn total_j(&self) -> Option<f64> {
        sum_measured([self.cpu_j, self.gpu_j, self.dram_j])
    }

    /// Which components were measured: `cpu`, `gpu`, `dram` joined by `+` in that order; None
    /// when none was.
    pub fn components(&self) -> Option<String> {
        components(self.cpu_j, self.gpu_j, self.dram_j)
    }
}

/// The sum of the components that were measured; None when none was.
pub fn sum_measured(parts: [Option<f64>; 3]) -> Option<f64> {
    parts.iter().flatten().copied().reduce(|a, b| a + b)
}

/// The `energy_components` label of measured components (`cpu+gpu+dram`, `gpu`); None when
/// nothing was measured.
pub fn components(cpu: Option<f64>, gpu: Option<f64>, dram: Option<f64>) -> Option<String> {
    let names: Vec<&str> = [("cpu", cpu), ("gpu", gpu), ("dram", dram)]
        .into_iter()
        .filter_map(|(n, v)| v.map(|_| n))
        .collect();
    (!names.is_empty()).then(|| names.join("+"))
}

/// True when a counter column changes somewhere in the file: one that holds the same value
/// throughout (the published data's DRAM and PP1 counters, 0 on a CPU that does not report
/// them) measures nothing.
fn moves(c: &SampleColumn) -> bool {
    let mut first = None;
    for i in 0..c.values.len() {
        if let Some(v) = c.get(i) {
            match first {
                None => first = Some(v),
                Some(f) if f != v => return true,
                Some(_) => {}
            }
        }
    }
    false
}

/// A time window over the samples: `[start_ms, end_ms]` from request timestamps of the given
/// resolution (1000 for whole seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Start of the first request, ms.
    pub start_ms: i64,
    /// End of the last request, ms (floored to the resolution).
    pub end_ms: i64,
    /// Resolution of the timestamps, ms.
    pub resolution_ms: i64,
}

impl Window {
    /// True when the timestamps are coarser than the samples (whole seconds): then the
    /// accounting selects samples instead of interpolating at the edges.
    pub fn is_coarse(&self) -> bool {
        self.resolution_ms >= 1000
    }
}

/// The CPU package counters, one per socket in socket order: Intel's, else AMD's.
fn package_columns(samples: &SampleTable) -> Vec<&SampleColumn> {
    let mut intel: Vec<(u32, &SampleColumn)> = samples
        .columns
        .iter()
        .filter_map(|c| match Channel::classify(&c.name) {
            Channel::IntelPackage(n) => Some((n, c)),
            _ => None,
        })
        .collect();
    if intel.is_empty() {
        return samples
            .columns
            .iter()
            .filter(|c| Channel::classify(&c.name) == Channel::AmdPackage)
            .take(1)
            .collect();
    }
    intel.sort_by_key(|(n, _)| *n);
    intel.into_iter().map(|(_, c)| c).collect()
}

/// The first socket's package counter (what EnergiBridge and the published procedure use).
fn package_column(samples: &SampleTable) -> Option<&SampleColumn> {
    package_columns(samples).into_iter().next()
}

/// The DRAM counters, one per socket.
fn dram_columns(samples: &SampleTable) -> Vec<&SampleColumn> {
    let mut dram: Vec<(u32, &SampleColumn)> = samples
        .columns
        .iter()
        .filter_map(|c| match Channel::classify(&c.name) {
            Channel::Dram(n) => Some((n, c)),
            _ => None,
        })
        .collect();
    dram.sort_by_key(|(n, _)| *n);
    dram.into_iter().map(|(_, c)| c).collect()
}

/// GPU channels per device: (index, power column, energy counter column).
fn gpu_columns(samples: &SampleTable) -> Vec<(u32, Option<&SampleColumn>, Option<&SampleColumn>)> {
    let mut gpus: Vec<(u32, Option<&SampleColumn>, Option<&SampleColumn>)> = Vec::new();
    for c in &samples.columns {
        let (i, is_power) = match Channel::classify(&c.name) {
            Channel::GpuPower(i) => (i, true),
            Channel::GpuEnergy(i) => (i, false),
            _ => continue,
        };
        let pos = match gpus.iter().position(|g| g.0 == i) {
            Some(p) => p,
            None => {
                gpus.push((i, None, None));
                gpus.len() - 1
            }
        };
        if is_power {
            gpus[pos].1 = Some(c);
        } else {
            gpus[pos].2 = Some(c);
        }
    }
    gpus.sort_by_key(|g| g.0);
    gpus
}

/// The published procedure (dataset README, "How the published per-trial numbers were
/// computed"), literally: keep samples with `start_s <= Time/1000 <= end_s`; the package
/// difference to the previous kept sample (0 first, a negative one replaced by the new counter
/// value); `gpu = Σ(P_mW/5000 + cpu_diff)` summed over GPUs; `dram = 0`.
pub fn published(samples: &SampleTable, window: Window) -> Energy {
    let start_s = window.start_ms as f64 / 1000.0;
    let end_s = window.end_ms as f64 / 1000.0;
    let kept: Vec<usize> = (0..samples.len())
        .filter(|&i| {
            let t = samples.time_ms[i] as f64 / 1000.0;
            start_s <= t && t <= end_s
        })
        .collect();
    let package = package_column(samples);
    let powers: Vec<&SampleColumn> = gpu_columns(samples).iter().filter_map(|g| g.1).collect();
    let mut cpu_j = 0.0;
    let mut gpu_j = 0.0;
    let mut cpu_wraps = 0;
    let mut previous: Option<f64> = None;
    for &i in &kept {
        let cpu_diff = match (package.and_then(|p| p.get(i)), previous) {
            (Some(v), Some(p)) => {
                let d = v - p;
                if d < 0.0 {
                    cpu_wraps += 1;
                    v
                } else {
                    d
                }
            }
            _ => 0.0,
        };
        if let Some(v) = package.and_then(|p| p.get(i)) {
            previous = Some(v);
        }
        let power_mw: f64 = powers.iter().filter_map(|c| c.get(i)).sum();
        gpu_j += power_mw / 5000.0 + cpu_diff;
        cpu_j += cpu_diff;
    }
    let duration_ms = match (kept.first(), kept.last()) {
        (Some(&a), Some(&b)) => samples.time_ms[b] - samples.time_ms[a],
        _ => 0,
    };
    // The study's procedure, defects included: its CPU and GPU figures and a DRAM of 0.
    Energy {
        cpu_j: Some(cpu_j),
        gpu_j: Some(gpu_j),
        dram_j: Some(0.0),
        duration_s: duration_ms as f64 / 1000.0,
        samples_in_window: kept.len(),
        gpu_source: if powers.is_empty() {
            GpuSource::None
        } else {
            GpuSource::PowerTimesInterval
        },
        cpu_wraps,
        backwards_samples: 0,
    }
}

/// The indices of samples in time order: a sample earlier than the last accepted one is left
/// out (and counted when it falls inside `[lo, hi]`).
fn monotone_indices(samples: &SampleTable, lo: i64, hi: i64) -> (Vec<usize>, usize) {
    let mut kept = Vec::with_capacity(samples.len());
    let mut backwards = 0;
    let mut last = i64::MIN;
    for (i, &t) in samples.time_ms.iter().enumerate() {
        if t < last {
            if (lo..=hi).contains(&t) {
                backwards += 1;
            }
            continue;
        }
        last = t;
        kept.push(i);
    }
    (kept, backwards)
}

/// The wrap range of a cumulative counter: its exact range when the sampler recorded it, else
/// the smallest power of two at least as large as the largest value it shows (2^18 J for the
/// 32-bit, 2^-14 J Intel counters of the published data).
pub fn wrap_range(column: &SampleColumn) -> f64 {
    if let Some(r) = column.wrap_range {
        return r;
    }
    let max = (0..column.values.len())
        .filter_map(|i| column.get(i))
        .fold(0.0_f64, f64::max);
    if max <= 1.0 {
        1.0
    } else {
        2f64.powi(max.log2().ceil() as i32)
    }
}

/// A cumulative counter, unwrapped, at the given sample indices (missing values skipped):
/// returns (time ms, unwrapped value, wraps before this point).
fn unwrapped(column: &SampleColumn, times: &[i64], idx: &[usize]) -> Vec<(i64, f64, usize)> {
    let range = wrap_range(column);
    let mut out: Vec<(i64, f64, usize)> = Vec::with_capacity(idx.len());
    let mut offset = 0.0;
    let mut wraps = 0;
    let mut previous: Option<f64> = None;
    for &i in idx {
        let Some(v) = column.get(i) else { continue };
        if let Some(p) = previous
            && v < p
        {
            offset += range;
            wraps += 1;
        }
        previous = Some(v);
        out.push((times[i], v + offset, wraps));
    }
    out
}

/// Linear interpolation of a cumulative series at `t`, clamped to its ends.
fn interpolate(series: &[(i64, f64, usize)], t: i64) -> Option<(f64, usize)> {
    let first = series.first()?;
    let last = series.last()?;
    if t <= first.0 {
        return Some((first.1, first.2));
    }
    if t >= last.0 {
        return Some((last.1, last.2));
    }
    let k = series.partition_point(|s| s.0 <= t);
    let (a, b) = (series[k - 1], series[k]);
    if b.0 == a.0 {
        return Some((b.1, b.2));
    }
    let f = (t - a.0) as f64 / (b.0 - a.0) as f64;
    Some((a.1 + f * (b.1 - a.1), a.2))
}

/// Energy of a cumulative counter between two times (coarse: between the first and last sample
/// in `[lo, hi_exclusive)`; precise: interpolated at the edges). Returns (energy, wraps inside).
fn counter_energy(series: &[(i64, f64, usize)], window: Window, coarse: bool) -> (f64, usize) {
    if coarse {
        let hi = window.end_ms + window.resolution_ms;
        let inside: Vec<&(i64, f64, usize)> = series
            .iter()
            .filter(|s| s.0 >= window.start_ms && s.0 < hi)
            .collect();
        match (inside.first(), inside.last()) {
            (Some(a), Some(b)) => (b.1 - a.1, b.2 - a.2),
            _ => (0.0, 0),
        }
    } else {
        match (
            interpolate(series, window.start_ms),
            interpolate(series, window.end_ms),
        ) {
            (Some(a), Some(b)) => (b.0 - a.0, b.1 - a.1),
            _ => (0.0, 0),
        }
    }
}

/// Integral of a power channel (mW) over the window, in J. Coarse: trapezoids between
/// consecutive samples inside the window. Precise: the piecewise-linear power curve integrated
/// exactly over `[start_ms, end_ms]` (edges interpolated). A duplicated timestamp is a
/// zero-width interval; an interval with a missing end is skipped.
fn power_energy(column: &SampleColumn, times: &[i64], idx: &[usize], window: Window, coarse: bool) -> f64 {
    let points: Vec<(i64, f64)> = idx
        .iter()
        .filter_map(|&i| column.get(i).map(|p| (times[i], p)))
        .collect();
    let (lo, hi) = if coarse {
        (window.start_ms, window.end_ms + window.resolution_ms - 1)
    } else {
        (window.start_ms, window.end_ms)
    };
    let mut mw_ms = 0.0;
    for w in points.windows(2) {
        let ((t0, p0), (t1, p1)) = (w[0], w[1]);
        if coarse {
            if t0 >= lo && t1 <= hi {
                mw_ms += (p0 + p1) / 2.0 * (t1 - t0) as f64;
            }
            continue;
        }
        let a = t0.max(lo);
        let b = t1.min(hi);
        if b <= a || t1 == t0 {
            continue;
        }
        let at = |t: i64| p0 + (p1 - p0) * (t - t0) as f64 / (t1 - t0) as f64;
        mw_ms += (at(a) + at(b)) / 2.0 * (b - a) as f64;
    }
    mw_ms / 1.0e6
}

/// The corrected accounting of one window (see the module documentation).
pub fn corrected(samples: &SampleTable, window: Window) -> Energy {
    let coarse = window.is_coarse();
    let hi_inclusive = if coarse {
        window.end_ms + window.resolution_ms - 1
    } else {
        window.end_ms
    };
    let (idx, backwards_samples) = monotone_indices(samples, window.start_ms, hi_inclusive);
    let times = &samples.time_ms;
    let in_window: Vec<i64> = idx
        .iter()
        .map(|&i| times[i])
        .filter(|&t| t >= window.start_ms && t <= hi_inclusive)
        .collect();

    // Every socket's counter is unwrapped with its own range, then the sockets are summed.
    // A counter that never moves in the file measured nothing (null, not 0).
    let packages: Vec<&SampleColumn> = package_columns(samples)
        .into_iter()
        .filter(|c| moves(c))
        .collect();
    let (cpu_sum, cpu_wraps) = packages
        .iter()
        .map(|c| counter_energy(&unwrapped(c, times, &idx), window, coarse))
        .fold((0.0, 0), |(e, w), (de, dw)| (e + de, w + dw));
    let cpu_j = (!packages.is_empty()).then_some(cpu_sum);
    let drams: Vec<&SampleColumn> = dram_columns(samples).into_iter().filter(|c| moves(c)).collect();
    let dram_j = (!drams.is_empty()).then(|| {
        drams
            .into_iter()
            .map(|c| counter_energy(&unwrapped(c, times, &idx), window, coarse).0)
            .sum()
    });

    let mut gpu_j = 0.0;
    let (mut by_counter, mut by_power) = (0, 0);
    for (_, power, counter) in gpu_columns(samples) {
        // The counter is exact; power readings on recent GPUs are 1 s averages. `collect` reads
        // the counter less often than power (it is slow to read), so it may have empty cells:
        // it is used when readings bracket the window (millisecond windows, interpolated at
        // the edges) or, for whole-second windows, when no reading is missing.
        let counter = counter.map(|c| (c, unwrapped(c, times, &idx)));
        let usable = counter.as_ref().filter(|(c, series)| {
            if coarse {
                c.valid.is_none() && series.len() >= 2
            } else {
                series.first().is_some_and(|f| f.0 <= window.start_ms)
                    && series.last().is_some_and(|l| l.0 >= window.end_ms)
            }
        });
        if let Some((_, series)) = usable {
            gpu_j += counter_energy(series, window, coarse).0 / 1000.0;
            by_counter += 1;
        } else if let Some(p) = power {
            gpu_j += power_energy(p, times, &idx, window, coarse);
            by_power += 1;
        }
    }
    let gpu_source = match (by_counter, by_power) {
        (0, 0) => GpuSource::None,
        (_, 0) => GpuSource::EnergyCounter,
        (0, _) => GpuSource::PowerIntegral,
        _ => GpuSource::Mixed,
    };
    let duration_ms = if coarse {
        match (in_window.first(), in_window.last()) {
            (Some(a), Some(b)) => b - a,
            _ => 0,
        }
    } else {
        window.end_ms - window.start_ms
    };
    Energy {
        cpu_j,
        gpu_j: (gpu_source != GpuSource::None).then_some(gpu_j),
        dram_j,
        duration_s: duration_ms as f64 / 1000.0,
        samples_in_window: in_window.len(),
        gpu_source,
        cpu_wraps,
        backwards_samples,
    }
}

/// The inference window of a trial: first request start to last request end. The published
/// procedure takes the first and last prompt in the order sent; the corrected one the earliest
/// start and latest end (the same for sequential requests, right for concurrent ones).
pub fn trial_window(trial: &Trial, requests: &[Request], accounting: Accounting) -> Window {
    let (start_ms, end_ms) = match accounting {
        Accounting::Published => (
            requests.first().map_or(trial.start_ms, |r| r.start_ms),
            requests.last().map_or(trial.end_ms, |r| r.end_ms),
        ),
        Accounting::Corrected => (
            requests
                .iter()
                .map(|r| r.start_ms)
                .min()
                .unwrap_or(trial.start_ms),
            requests.iter().map(|r| r.end_ms).max().unwrap_or(trial.end_ms),
        ),
    };
    Window {
        start_ms,
        end_ms,
        resolution_ms: trial.time_resolution_ms.max(1),
    }
}

/// The metrics row of one trial. `scores` are its `published_relevancy` scores (the published
/// accounting divides their sum by 5, the corrected one takes their mean).
pub fn metrics_row(
    trial: &Trial,
    requests: &[Request],
    samples: &SampleTable,
    scores: &[f64],
    accounting: Accounting,
) -> MetricsRow {
    let window = trial_window(trial, requests, accounting);
    let e = match accounting {
        Accounting::Published => published(samples, window),
        Accounting::Corrected => corrected(samples, window),
    };
    let tokens: i64 = requests.iter().filter_map(|r| r.completion_tokens).sum();
    let energy_j = e.total_j();
    let accuracy = match accounting {
        Accounting::Published => Some(scores.iter().sum::<f64>() / 5.0),
        Accounting::Corrected if scores.is_empty() => None,
        Accounting::Corrected => Some(scores.iter().sum::<f64>() / scores.len() as f64),
    };
    MetricsRow {
        key: trial.key.clone(),
        cpu_j: e.cpu_j,
        gpu_j: e.gpu_j,
        dram_j: e.dram_j,
        energy_j,
        energy_components: e.components(),
        duration_s: e.duration_s,
        tokens,
        energy_per_token: energy_j.filter(|_| tokens > 0).map(|j| j / tokens as f64),
        power_w: energy_j.filter(|_| e.duration_s > 0.0).map(|j| j / e.duration_s),
        accuracy,
        accounting,
        samples_in_window: e.samples_in_window as i64,
        requests: requests.len() as i64,
        gpu_source: e.gpu_source,
        cpu_wraps: e.cpu_wraps as i64,
        backwards_samples: e.backwards_samples as i64,
        simulated: trial.simulated,
        accuracy_gold: None,
        accuracy_judge: None,
        baseline_power_w: None,
        idle_energy_j: None,
        energy_above_idle_j: None,
        testbed: trial.testbed.clone(),
        unattributed_energy_j: None,
    }
}

/// Mean power of an idle baseline window, W: the corrected energy between its first and last
/// sample divided by that span. None with fewer than two samples.
pub fn baseline_power_w(baseline: &SampleTable) -> Option<f64> {
    let first = *baseline.time_ms.iter().min()?;
    let last = *baseline.time_ms.iter().max()?;
    if last <= first {
        return None;
    }
    let e = corrected(
        baseline,
        Window {
            start_ms: first,
            end_ms: last,
            resolution_ms: 1,
        },
    );
    Some(e.total_j()? / ((last - first) as f64 / 1000.0))
}

/// Fills a metrics row's idle fields from the baseline power: idle energy over the row's
/// window, and the energy above it.
pub fn apply_baseline(row: &mut MetricsRow, baseline_power_w: f64) {
    let idle = baseline_power_w * row.duration_s;
    row.baseline_power_w = Some(baseline_power_w);
    row.idle_energy_j = Some(idle);
    row.energy_above_idle_j = row.energy_j.map(|j| j - idle);
}

/// The energy of every request of a trial with millisecond timestamps: its attributed share
/// ([`crate::attribution`], default settings) and its own window's integral (counters
/// interpolated at the request's edges, power integrated piecewise-linearly). Empty for
/// whole-second data, whose request windows are too coarse to separate requests.
pub fn request_metrics(trial: &Trial, requests: &[Request], samples: &SampleTable) -> Vec<RequestMetricsRow> {
    request_metrics_attributed(trial, requests, samples).0
}

/// [`request_metrics`] with the trial's unattributed energy (intervals with no request in
/// flight; None when nothing was attributed).
pub fn request_metrics_attributed(
    trial: &Trial,
    requests: &[Request],
    samples: &SampleTable,
) -> (Vec<RequestMetricsRow>, Option<f64>) {
    if trial.time_resolution_ms >= 1000 {
        return (Vec::new(), None);
    }
    let attribution = crate::attribution::attribute(trial, requests, samples, Default::default());
    let rows = requests
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let e = corrected(
                samples,
                Window {
                    start_ms: r.start_ms,
                    end_ms: r.end_ms,
                    resolution_ms: 1,
                },
            );
            let share = attribution.as_ref().map(|a| &a.shares[i]);
            let itl = chunk_gaps_ms(r);
            let energy_j = share.map(|s| s.energy_j);
            RequestMetricsRow {
                run_id: r.run_id.clone(),
                index: r.index,
                start_ms: r.start_ms,
                end_ms: r.end_ms,
                cpu_j: e.cpu_j,
                gpu_j: e.gpu_j,
                dram_j: e.dram_j,
                energy_j,
                energy_components: e.components(),
                completion_tokens: r.completion_tokens,
                energy_per_token: r
                    .completion_tokens
                    .filter(|&t| t > 0)
                    .and_then(|t| energy_j.map(|j| j / t as f64)),
                ttft_ms: r.ttft_ms,
                window_energy_j: e.total_j(),
                prefill_energy_j: share.map(|s| s.prefill_j),
                decode_energy_j: share.map(|s| s.decode_j),
                attribution: share.map(|s| if s.alone { "measured" } else { "shared" }.to_string()),
                attribution_error_j: share.map(|s| s.error_j),
                mlenergy_energy_j: share.and_then(|s| s.mlenergy_j),
                tpot_ms: tpot_ms(r),
                itl_p50_ms: itl.as_ref().map(|g| quantile(g, 0.5)),
                itl_p90_ms: itl.as_ref().map(|g| quantile(g, 0.9)),
                itl_p99_ms: itl.as_ref().map(|g| quantile(g, 0.99)),
            }
        })
        .collect();
    (rows, attribution.map(|a| a.unattributed_j))
}

/// The corrected accounting of a precise (millisecond) window, split at `boundaries` (sorted,
/// the window's edges first and last): the energy of each consecutive pair, J, by the same
/// rules as [`corrected`] over the whole window (counters interpolated at each boundary, GPU
/// power integrated piecewise-linearly, the same counter-or-power choice per GPU). The pieces
/// add up to [`corrected`]'s total over the window up to rounding; None when nothing measured
/// any component. One pass over the samples (binary searches per boundary), so a split at
/// every sample costs about as much as one window.
pub fn split_energy(samples: &SampleTable, boundaries: &[i64]) -> Option<Vec<f64>> {
    let (&lo, &hi) = (boundaries.first()?, boundaries.last()?);
    let window = Window {
        start_ms: lo,
        end_ms: hi,
        resolution_ms: 1,
    };
    let (idx, _) = monotone_indices(samples, lo, hi);
    let times = &samples.time_ms;
    let mut pieces = vec![0.0; boundaries.len().saturating_sub(1)];
    let mut measured = false;
    let add_counter = |series: &[(i64, f64, usize)], scale: f64, pieces: &mut [f64]| {
        let at: Vec<f64> = boundaries
            .iter()
            .map(|&b| interpolate(series, b).map_or(0.0, |v| v.0))
            .collect();
        for (k, p) in pieces.iter_mut().enumerate() {
            *p += (at[k + 1] - at[k]) * scale;
        }
    };
    for c in package_columns(samples).into_iter().filter(|c| moves(c)) {
        add_counter(&unwrapped(c, times, &idx), 1.0, &mut pieces);
        measured = true;
    }
    for c in dram_columns(samples).into_iter().filter(|c| moves(c)) {
        add_counter(&unwrapped(c, times, &idx), 1.0, &mut pieces);
        measured = true;
    }
    for (_, power, counter) in gpu_columns(samples) {
        let series = counter.map(|c| unwrapped(c, times, &idx));
        let usable = series.as_ref().filter(|s| {
            s.first().is_some_and(|f| f.0 <= window.start_ms)
                && s.last().is_some_and(|l| l.0 >= window.end_ms)
        });
        if let Some(s) = usable {
            add_counter(s, 1.0 / 1000.0, &mut pieces);
            measured = true;
        } else if let Some(p) = power {
            let points: Vec<(i64, f64)> = idx
                .iter()
                .filter_map(|&i| p.get(i).map(|v| (times[i], v)))
                .collect();
            for (k, piece) in pieces.iter_mut().enumerate() {
                *piece += power_between(&points, boundaries[k], boundaries[k + 1]);
            }
            measured = true;
        }
    }
    measured.then_some(pieces)
}

/// The integral of a piecewise-linear power curve (mW at sample times) over `[a, b]`, J; the
/// same rule as [`power_energy`] for a precise window, starting from a binary search.
fn power_between(points: &[(i64, f64)], a: i64, b: i64) -> f64 {
    if b <= a {
        return 0.0;
    }
    let start = points.partition_point(|p| p.0 <= a).saturating_sub(1);
    let mut mw_ms = 0.0;
    for w in points[start..].windows(2) {
        let ((t0, p0), (t1, p1)) = (w[0], w[1]);
        if t0 >= b {
            break;
        }
        let (x, y) = (t0.max(a), t1.min(b));
        if y <= x || t1 == t0 {
            continue;
        }
        let at = |t: i64| p0 + (p1 - p0) * (t - t0) as f64 / (t1 - t0) as f64;
        mw_ms += (at(x) + at(y)) / 2.0 * (y - x) as f64;
    }
    mw_ms / 1.0e6
}

/// Time per output token after the first, ms: (end − first chunk) / (tokens − 1).
fn tpot_ms(r: &Request) -> Option<f64> {
    let tokens = r.completion_tokens.filter(|&t| t > 1)?;
    let first = r.start_ms as f64 + r.ttft_ms?;
    Some(((r.end_ms as f64 - first).max(0.0)) / (tokens - 1) as f64)
}

/// The sorted gaps between consecutive content chunks, ms; None with fewer than two chunks.
fn chunk_gaps_ms(r: &Request) -> Option<Vec<f64>> {
    let offsets = r.chunk_offsets_us.as_ref().filter(|o| o.len() >= 2)?;
    let mut gaps: Vec<f64> = offsets
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / 1000.0)
        .collect();
    gaps.sort_by(f64::total_cmp);
    Some(gaps)
}

/// Quantile of sorted, non-empty values by linear interpolation between order statistics
/// (Hyndman & Fan 1996 type 7, R's default): the one used for chunk-gap summaries (collect)
/// and inter-token latencies (here).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}
