//! The serving regime of one trial: its load level, the steady-state window and the energy per
//! token within it, the validity gates, and the latencies of its requests.
//!
//! **Steady state** follows ML.ENERGY's definition (Chung et al., "The ML.ENERGY Benchmark",
//! 2025): in a closed loop it runs from the moment the configured number of requests is first
//! in flight to the moment that number can no longer be sustained — the last time the number in
//! flight drops below the concurrency, which it then never reaches again (in a closed loop:
//! when fewer requests remain than the concurrency); under open-loop arrivals it runs from the
//! arrival that ends the first 10 % of requests (the warm-up) to the last arrival. Its energy
//! is the corrected accounting over the window; its tokens are those generated inside it
//! (each chunk's tokens at its arrival, or a request's tokens spread evenly over its decode
//! without chunk times).
//!
//! **Gates** flag a trial, never exclude it: each is `Some(true)` (pass), `Some(false)` (fail)
//! or `None` (cannot be evaluated: a channel or a setting is missing), and a summary never
//! counts `None` as a pass. Every gate is a pure function below, tested on its own.

use dataset::accounting::{Window, corrected, quantile};
use dataset::{Channel, Request, SampleColumn, SampleTable, TrialFiles, TrialKey};
use hdrhistogram::Histogram;
use std::fmt;

/// Shortest steady state accepted at concurrency above 1 (and under arrivals), s.
pub const MIN_STEADY_S: f64 = 30.0;
/// How far below the idle power (as a share of it) a GPU's power may read.
pub const IDLE_TOLERANCE: f64 = 0.10;
/// Largest relative disagreement accepted between NVML's energy counter and the integrated
/// power over the trial's window.
pub const COUNTER_TOLERANCE: f64 = 0.05;
/// Longest gap between two samples accepted, in nominal sampling intervals.
pub const MAX_GAP_INTERVALS: f64 = 3.0;
/// Largest rise of a GPU's temperature over the trial accepted, °C.
pub const MAX_TEMPERATURE_RISE_C: f64 = 5.0;
/// Share of the requests (by arrival) that an open loop's warm-up takes.
pub const OPEN_LOOP_WARMUP: f64 = 0.10;

/// One gate's outcome: pass (`Some(true)`), fail (`Some(false)`) or not evaluable (`None`).
pub type Gate = Option<bool>;

/// The load level of a trial: the design factors of issue 14, each null when it is not a
/// factor of the design (imported data have none).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LoadLevel {
    /// Requests kept in flight (closed loop), or the cap under arrivals.
    pub concurrency: Option<i64>,
    /// Open-loop arrival rate, requests/s.
    pub arrival_rate_per_s: Option<f64>,
    /// GPU power limit, W.
    pub power_limit_w: Option<f64>,
    /// Locked SM clock, MHz.
    pub sm_clock_mhz: Option<i64>,
}

impl LoadLevel {
    /// The level of a trial key.
    pub fn of(key: &TrialKey) -> Self {
        Self {
            concurrency: key.concurrency,
            arrival_rate_per_s: key.arrival_rate_per_s,
            power_limit_w: key.power_limit_w,
            sm_clock_mhz: key.sm_clock_mhz,
        }
    }

    /// True when no factor is set (imported data, older datasets).
    pub fn is_unset(&self) -> bool {
        *self == Self::default()
    }

    /// A total order: arrival rate, concurrency, power limit, clock (unset first).
    pub fn sort_key(&self) -> (u64, i64, u64, i64) {
        let bits = |v: Option<f64>| v.map_or(0, |x| x.to_bits().wrapping_add(1));
        (
            bits(self.arrival_rate_per_s),
            self.concurrency.unwrap_or(i64::MIN),
            bits(self.power_limit_w),
            self.sm_clock_mhz.unwrap_or(i64::MIN),
        )
    }

    /// The load on the x axis of the figures: the arrival rate under arrivals, else the
    /// concurrency.
    pub fn load_value(&self) -> Option<f64> {
        self.arrival_rate_per_s.or(self.concurrency.map(|c| c as f64))
    }
}

impl fmt::Display for LoadLevel {
    /// `concurrency 8`, `arrivals 2/s (cap 64)`, `concurrency 8, 300 W, 1410 MHz`; empty when
    /// no factor is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        match (self.arrival_rate_per_s, self.concurrency) {
            (Some(rate), Some(cap)) => parts.push(format!("arrivals {rate}/s (cap {cap})")),
            (Some(rate), None) => parts.push(format!("arrivals {rate}/s")),
            (None, Some(c)) => parts.push(format!("concurrency {c}")),
            (None, None) => {}
        }
        if let Some(w) = self.power_limit_w {
            parts.push(format!("{w} W"));
        }
        if let Some(mhz) = self.sm_clock_mhz {
            parts.push(format!("{mhz} MHz"));
        }
        f.write_str(&parts.join(", "))
    }
}

/// The steady-state window of a trial and what it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SteadyState {
    /// Start, ms since the Unix epoch.
    pub start_ms: i64,
    /// End, ms since the Unix epoch.
    pub end_ms: i64,
    /// Corrected energy within it, J; None when nothing measured it.
    pub energy_j: Option<f64>,
    /// Tokens generated within it.
    pub tokens: f64,
}

impl SteadyState {
    /// Its length, s.
    pub fn duration_s(&self) -> f64 {
        (self.end_ms - self.start_ms) as f64 / 1000.0
    }

    /// Energy per generated token within it, J/token; None without energy or tokens.
    pub fn energy_per_token_j(&self) -> Option<f64> {
        self.energy_j
            .filter(|_| self.tokens > 0.0)
            .map(|j| j / self.tokens)
    }
}

/// The five validity gates of a trial.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Gates {
    /// Steady state at least [`MIN_STEADY_S`] long (concurrency above 1 or arrivals; passes
    /// at concurrency 1).
    pub steady_state: Gate,
    /// Every GPU power sample in the window within [idle − 10 %, power limit].
    pub power_range: Gate,
    /// NVML's energy counter and the integrated power agree within [`COUNTER_TOLERANCE`].
    pub counter_agreement: Gate,
    /// No gap between samples longer than [`MAX_GAP_INTERVALS`] intervals.
    pub sample_gaps: Gate,
    /// No GPU warmed by more than [`MAX_TEMPERATURE_RISE_C`] over the trial.
    pub temperature: Gate,
}

impl Gates {
    /// The gates' names, as the tables' columns and the report say them.
    pub const NAMES: [&'static str; 5] = [
        "steady_state",
        "power_range",
        "counter_agreement",
        "sample_gaps",
        "temperature",
    ];

    /// The outcomes in the order of [`Gates::NAMES`].
    pub fn all(&self) -> [Gate; 5] {
        [
            self.steady_state,
            self.power_range,
            self.counter_agreement,
            self.sample_gaps,
            self.temperature,
        ]
    }

    /// The names of the gates that failed.
    pub fn failed(&self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .zip(self.all())
            .filter(|(_, g)| *g == Some(false))
            .map(|(n, _)| *n)
            .collect()
    }

    /// True when every gate was evaluated and passed (a gate that could not be evaluated is
    /// no pass).
    pub fn all_passed(&self) -> bool {
        self.all().iter().all(|g| *g == Some(true))
    }
}

/// The latencies of a trial's successful requests, one value per request that has it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Latencies {
    /// Time to first token, ms.
    pub ttft_ms: Vec<f64>,
    /// Time per output token after the first, ms.
    pub tpot_ms: Vec<f64>,
    /// Each request's median gap between chunks, ms.
    pub itl_p50_ms: Vec<f64>,
    /// Each request's 90th percentile gap, ms.
    pub itl_p90_ms: Vec<f64>,
    /// Each request's 99th percentile gap, ms.
    pub itl_p99_ms: Vec<f64>,
}

/// The latencies of many requests (a treatment's, a model's at one load level) as HdrHistogram
/// log-linear histograms of microseconds with two significant digits: any quantile is within
/// 1 % of the exact one, and the memory (some 13 KB per histogram) does not grow with the
/// number of requests, so a study of any size keeps one per treatment, never the values.
#[derive(Debug, Clone)]
pub struct LatencySketch {
    /// Time to first token.
    pub ttft: Histogram<u32>,
    /// Time per output token.
    pub tpot: Histogram<u32>,
    /// Each request's median gap between chunks.
    pub itl_p50: Histogram<u32>,
    /// Each request's 90th percentile gap.
    pub itl_p90: Histogram<u32>,
    /// Each request's 99th percentile gap.
    pub itl_p99: Histogram<u32>,
}

/// Microseconds a histogram spans: 1 µs to one hour (longer values are counted at one hour).
const SKETCH_MAX_US: u64 = 3_600_000_000;

fn histogram() -> Histogram<u32> {
    // Constant bounds and precision, which the crate accepts (low ≥ 1, high ≥ 2·low, 2 digits).
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, SKETCH_MAX_US, 2).expect("valid histogram bounds")
}

impl Default for LatencySketch {
    fn default() -> Self {
        Self {
            ttft: histogram(),
            tpot: histogram(),
            itl_p50: histogram(),
            itl_p90: histogram(),
            itl_p99: histogram(),
        }
    }
}

impl LatencySketch {
    /// Adds a trial's latencies.
    pub fn record(&mut self, l: &Latencies) {
        let put = |h: &mut Histogram<u32>, values: &[f64]| {
            for v in values.iter().filter(|v| v.is_finite() && **v >= 0.0) {
                h.saturating_record(((v * 1000.0).round() as u64).clamp(1, SKETCH_MAX_US));
            }
        };
        put(&mut self.ttft, &l.ttft_ms);
        put(&mut self.tpot, &l.tpot_ms);
        put(&mut self.itl_p50, &l.itl_p50_ms);
        put(&mut self.itl_p90, &l.itl_p90_ms);
        put(&mut self.itl_p99, &l.itl_p99_ms);
    }

    /// Adds another sketch (a treatment's to its model's).
    pub fn merge(&mut self, other: &LatencySketch) {
        // Same bounds and precision on both sides: addition cannot fail.
        let _ = self.ttft.add(&other.ttft);
        let _ = self.tpot.add(&other.tpot);
        let _ = self.itl_p50.add(&other.itl_p50);
        let _ = self.itl_p90.add(&other.itl_p90);
        let _ = self.itl_p99.add(&other.itl_p99);
    }

    /// The quantile `q` of a histogram, ms (within 1 %); None when it is empty.
    pub fn quantile_ms(h: &Histogram<u32>, q: f64) -> Option<f64> {
        (!h.is_empty()).then(|| h.median_equivalent(h.value_at_quantile(q)) as f64 / 1000.0)
    }
}

/// What the gates measured, for the tables (each None when not measured).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GateValues {
    /// Mean idle GPU power of the baseline, summed over GPUs, W.
    pub idle_gpu_w: Option<f64>,
    /// The GPU power limit, W (the smallest over GPUs).
    pub power_limit_w: Option<f64>,
    /// Lowest and highest GPU power sample in the window (over GPUs), W.
    pub gpu_power_min_w: Option<f64>,
    /// Highest GPU power sample in the window, W.
    pub gpu_power_max_w: Option<f64>,
    /// Largest relative difference between counter and integrated power over the GPUs.
    pub counter_difference: Option<f64>,
    /// Longest gap between samples, in nominal intervals.
    pub largest_gap_intervals: Option<f64>,
    /// Largest temperature rise of a GPU over the trial, °C.
    pub temperature_rise_c: Option<f64>,
}

/// The serving facts of one trial.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Serving {
    /// Its steady state; None when it has none or it cannot be determined.
    pub steady: Option<SteadyState>,
    /// Its gates.
    pub gates: Gates,
    /// What the gates measured.
    pub values: GateValues,
}

/// The closed-loop steady state of requests spanning `spans` (start, end in ms) at
/// `concurrency`: from the first moment `concurrency` requests are in flight to the last moment
/// the number in flight drops below it (after which it never reaches it again). Events at the
/// same millisecond are applied together, so a request replaced in the same millisecond does
/// not end the window. None when the concurrency is never reached or the window is empty.
pub fn closed_loop_window(spans: &[(i64, i64)], concurrency: i64) -> Option<(i64, i64)> {
    if concurrency < 1 {
        return None;
    }
    let mut events: Vec<(i64, i64)> = spans
        .iter()
        .filter(|(s, e)| e >= s)
        .flat_map(|&(s, e)| [(s, 1), (e, -1)])
        .collect();
    events.sort_unstable();
    let (mut in_flight, mut start, mut end) = (0i64, None, None);
    let mut i = 0;
    while i < events.len() {
        let t = events[i].0;
        let before = in_flight;
        while i < events.len() && events[i].0 == t {
            in_flight += events[i].1;
            i += 1;
        }
        if in_flight >= concurrency && start.is_none() {
            start = Some(t);
        }
        if before >= concurrency && in_flight < concurrency {
            end = Some(t);
        }
    }
    let (start, end) = (start?, end?);
    (end > start).then_some((start, end))
}

/// The open-loop steady state: from the arrival that follows the first [`OPEN_LOOP_WARMUP`]
/// of the requests (by arrival) to the last arrival. None with fewer than two requests after
/// the warm-up.
pub fn open_loop_window(starts: &[i64]) -> Option<(i64, i64)> {
    let mut sorted = starts.to_vec();
    sorted.sort_unstable();
    let warmup = (sorted.len() as f64 * OPEN_LOOP_WARMUP).ceil() as usize;
    let start = *sorted.get(warmup)?;
    let end = *sorted.last()?;
    (end > start).then_some((start, end))
}

/// Tokens a request generated within `[a, b]` (ms): each chunk's tokens at its arrival
/// (`chunk_tokens`, else the completion tokens spread evenly over the chunks); without chunk
/// times its tokens spread evenly over its decode (first chunk to end; from the send without a
/// TTFT).
pub fn tokens_in_window(r: &Request, a: i64, b: i64) -> f64 {
    let Some(tokens) = r.completion_tokens.filter(|&t| t > 0) else {
        return 0.0;
    };
    let (lo_us, hi_us) = ((a - r.start_ms) * 1000, (b - r.start_ms) * 1000);
    if let Some(offsets) = r.chunk_offsets_us.as_ref().filter(|o| !o.is_empty()) {
        let per_chunk = |k: usize| match &r.chunk_tokens {
            Some(c) if c.len() == offsets.len() => c[k] as f64,
            _ => tokens as f64 / offsets.len() as f64,
        };
        return offsets
            .iter()
            .enumerate()
            .filter(|(_, o)| (lo_us..=hi_us).contains(*o))
            .map(|(k, _)| per_chunk(k))
            .sum();
    }
    let first = r.start_ms as f64 + r.ttft_ms.unwrap_or(0.0);
    let end = r.end_ms as f64;
    if end <= first {
        return if (a as f64..=b as f64).contains(&end) {
            tokens as f64
        } else {
            0.0
        };
    }
    let overlap = (end.min(b as f64) - first.max(a as f64)).max(0.0);
    tokens as f64 * overlap / (end - first)
}

/// The steady-state gate: passes at concurrency 1 (a closed loop of one is steady throughout),
/// otherwise needs a steady state of at least [`MIN_STEADY_S`]; a load that is not recorded
/// cannot be evaluated.
pub fn steady_gate(level: &LoadLevel, steady_s: Option<f64>) -> Gate {
    match (level.arrival_rate_per_s, level.concurrency) {
        (None, None) => None,
        (None, Some(c)) if c <= 1 => Some(true),
        _ => Some(steady_s.is_some_and(|s| s >= MIN_STEADY_S)),
    }
}

/// The power-range gate over GPU power samples (W, every GPU's): each must lie in
/// `[idle·(1 − IDLE_TOLERANCE), limit]`, a bound that is not known is not checked; None when
/// neither bound is known or there is no sample.
pub fn power_range_gate(powers_w: &[f64], idle_w: Option<f64>, limit_w: Option<f64>) -> Gate {
    if powers_w.is_empty() || (idle_w.is_none() && limit_w.is_none()) {
        return None;
    }
    let low = idle_w.map_or(f64::NEG_INFINITY, |i| i * (1.0 - IDLE_TOLERANCE));
    let high = limit_w.unwrap_or(f64::INFINITY);
    Some(powers_w.iter().all(|&p| p >= low && p <= high))
}

/// The counter-agreement gate: the relative difference `|counter − integral| / counter` within
/// [`COUNTER_TOLERANCE`]; None without both.
pub fn counter_gate(counter_j: Option<f64>, integral_j: Option<f64>) -> (Gate, Option<f64>) {
    match (counter_j, integral_j) {
        (Some(c), Some(p)) if c > 0.0 => {
            let d = (c - p).abs() / c;
            (Some(d <= COUNTER_TOLERANCE), Some(d))
        }
        _ => (None, None),
    }
}

/// The sample-gap gate over sample times (ms, in order; times running backwards are skipped):
/// no gap longer than [`MAX_GAP_INTERVALS`] × the nominal interval. Returns the largest gap in
/// intervals too; None with fewer than two samples or no positive interval.
pub fn gap_gate(times_ms: &[i64], interval_ms: Option<f64>) -> (Gate, Option<f64>) {
    // The gaps between the samples kept in order (one running backwards is skipped).
    let mut gaps: Vec<f64> = Vec::new();
    let mut last: Option<i64> = None;
    for &t in times_ms {
        match last {
            Some(l) if t < l => continue,
            Some(l) => gaps.push((t - l) as f64),
            None => {}
        }
        last = Some(t);
    }
    let Some(largest) = gaps.iter().copied().reduce(f64::max) else {
        return (None, None);
    };
    let interval = match interval_ms.filter(|i| *i > 0.0) {
        Some(i) => i,
        None => {
            // No nominal interval recorded: the median gap stands for it.
            gaps.sort_by(f64::total_cmp);
            quantile(&gaps, 0.5)
        }
    };
    if interval <= 0.0 {
        return (None, None);
    }
    let g = largest / interval;
    (Some(g <= MAX_GAP_INTERVALS), Some(g))
}

/// The temperature gate over each GPU's readings in time order (°C): its last reading minus
/// its first at most [`MAX_TEMPERATURE_RISE_C`]; the largest rise too. None without readings.
pub fn temperature_gate(gpus: &[Vec<f64>]) -> (Gate, Option<f64>) {
    let rises: Vec<f64> = gpus.iter().filter_map(|t| Some(t.last()? - t.first()?)).collect();
    let Some(rise) = rises.into_iter().reduce(f64::max) else {
        return (None, None);
    };
    (Some(rise <= MAX_TEMPERATURE_RISE_C), Some(rise))
}

/// The GPU power limits a trial's provenance records (collect's NVML source: an object with
/// `power_limit_w` and its GPU's `index`), by GPU index.
pub fn power_limits(provenance: &serde_json::Value) -> Vec<(u32, f64)> {
    fn walk(v: &serde_json::Value, out: &mut Vec<(u32, f64)>) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(w) = map.get("power_limit_w").and_then(serde_json::Value::as_f64) {
                    let index = map.get("index").and_then(serde_json::Value::as_u64).unwrap_or(0) as u32;
                    if !out.iter().any(|(i, _)| *i == index) {
                        out.push((index, w));
                    }
                }
                map.values().for_each(|x| walk(x, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(provenance, &mut out);
    out.sort_by_key(|(i, _)| *i);
    out
}

/// A column's valid values at the sample indices `idx`, with their times.
fn valid_values(c: &SampleColumn, times: &[i64], idx: impl Iterator<Item = usize>) -> Vec<(i64, f64)> {
    idx.filter_map(|i| c.get(i).map(|v| (times[i], v))).collect()
}

/// A GPU's index from a channel name `GPU<i>_…`.
fn gpu_index(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("GPU")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The corrected energy of one column alone over a window, J.
fn energy_of(samples: &SampleTable, column: &SampleColumn, window: Window) -> Option<f64> {
    let one = SampleTable {
        time_ms: samples.time_ms.clone(),
        columns: vec![column.clone()],
    };
    corrected(&one, window).gpu_j
}

/// The latencies of a trial's successful requests.
pub fn latencies(requests: &[Request]) -> Latencies {
    let mut out = Latencies::default();
    for r in requests.iter().filter(|r| r.error.is_none()) {
        if let Some(t) = r.ttft_ms {
            out.ttft_ms.push(t);
            if let Some(n) = r.completion_tokens.filter(|&n| n > 1) {
                let first = r.start_ms as f64 + t;
                out.tpot_ms
                    .push((r.end_ms as f64 - first).max(0.0) / (n - 1) as f64);
            }
        }
        if let Some(o) = r.chunk_offsets_us.as_ref().filter(|o| o.len() >= 2) {
            let mut gaps: Vec<f64> = o.windows(2).map(|w| (w[1] - w[0]) as f64 / 1000.0).collect();
            gaps.sort_by(f64::total_cmp);
            out.itl_p50_ms.push(quantile(&gaps, 0.5));
            out.itl_p90_ms.push(quantile(&gaps, 0.9));
            out.itl_p99_ms.push(quantile(&gaps, 0.99));
        }
    }
    out
}

/// The serving facts of one trial with millisecond request times (whole-second data get the
/// gates that need no request times: sample gaps and temperature). `limits` are the GPU power
/// limits its provenance recorded; the design's `power_limit_w` wins. The requests' latencies
/// come apart from the facts: they go into their treatment's histograms, and the facts stay
/// with the trial (a study of 100,000 trials keeps no per-trial latency vectors).
pub fn serving(t: &TrialFiles, limits: &[(u32, f64)]) -> (Serving, Latencies) {
    let level = LoadLevel::of(&t.trial.key);
    let precise = t.trial.time_resolution_ms < 1000;
    let ok: Vec<&Request> = t.requests.iter().filter(|r| r.error.is_none()).collect();
    let steady = if precise {
        let window = match (level.arrival_rate_per_s, level.concurrency) {
            (Some(_), _) => open_loop_window(&ok.iter().map(|r| r.start_ms).collect::<Vec<_>>()),
            (None, Some(c)) => {
                closed_loop_window(&ok.iter().map(|r| (r.start_ms, r.end_ms)).collect::<Vec<_>>(), c)
            }
            (None, None) => None,
        };
        window.map(|(a, b)| SteadyState {
            start_ms: a,
            end_ms: b,
            energy_j: corrected(
                &t.samples,
                Window {
                    start_ms: a,
                    end_ms: b,
                    resolution_ms: 1,
                },
            )
            .total_j(),
            tokens: ok.iter().map(|r| tokens_in_window(r, a, b)).sum(),
        })
    } else {
        None
    };
    let window = dataset::accounting::trial_window(&t.trial, &t.requests, dataset::Accounting::Corrected);
    let s = &t.samples;
    let in_window = |i: &usize| {
        let time = s.time_ms[*i];
        time >= window.start_ms && time < window.end_ms + window.resolution_ms.max(1)
    };
    let mut values = GateValues::default();
    // Power range: every GPU's samples in the window against its idle power and its limit.
    let mut powers = Vec::new();
    let mut idle_sum = 0.0;
    let mut idle_all = true;
    let mut lows = Vec::new();
    let mut highs = Vec::new();
    let mut agreement: Vec<(Gate, Option<f64>)> = Vec::new();
    for c in &s.columns {
        let Channel::GpuPower(g) = Channel::classify(&c.name) else {
            continue;
        };
        let w: Vec<f64> = valid_values(c, &s.time_ms, (0..s.len()).filter(in_window))
            .into_iter()
            .map(|(_, mw)| mw / 1000.0)
            .collect();
        let idle = t.baseline.as_ref().and_then(|b| {
            let v: Vec<f64> = b
                .column(&c.name)
                .map(|bc| valid_values(bc, &b.time_ms, 0..b.len()))
                .unwrap_or_default()
                .into_iter()
                .map(|(_, mw)| mw / 1000.0)
                .collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        });
        match idle {
            Some(i) => idle_sum += i,
            None => idle_all = false,
        }
        let limit = level
            .power_limit_w
            .or(limits.iter().find(|(i, _)| *i == g).map(|(_, w)| *w));
        if let Some(l) = limit {
            values.power_limit_w = Some(values.power_limit_w.map_or(l, |m: f64| m.min(l)));
        }
        lows.push(power_range_gate(&w, idle, limit));
        highs.extend(w.iter().copied());
        powers.extend(w);
        // Counter against the integral, where this GPU has both.
        let counter = s
            .columns
            .iter()
            .find(|e| Channel::classify(&e.name) == Channel::GpuEnergy(g));
        if let Some(e) = counter
            && !window.is_coarse()
        {
            agreement.push(counter_gate(energy_of(s, e, window), energy_of(s, c, window)));
        }
    }
    let any_gpu = !lows.is_empty();
    values.idle_gpu_w = (any_gpu && idle_all).then_some(idle_sum);
    values.gpu_power_min_w = powers.iter().copied().reduce(f64::min);
    values.gpu_power_max_w = highs.into_iter().reduce(f64::max);
    let power_range = combine(&lows);
    let counter_agreement = combine(&agreement.iter().map(|a| a.0).collect::<Vec<_>>());
    values.counter_difference = agreement.iter().filter_map(|a| a.1).reduce(f64::max);
    let (sample_gaps, gap) = gap_gate(&s.time_ms, t.trial.sample_interval_ms);
    values.largest_gap_intervals = gap;
    let mut temperatures: Vec<(u32, Vec<f64>)> = s
        .columns
        .iter()
        .filter(|c| c.name.starts_with("GPU") && c.name.ends_with("_TEMPERATURE"))
        .filter_map(|c| {
            let mut v = valid_values(c, &s.time_ms, 0..s.len());
            v.sort_by_key(|(time, _)| *time);
            Some((gpu_index(&c.name)?, v.into_iter().map(|(_, x)| x).collect()))
        })
        .collect();
    temperatures.sort_by_key(|(i, _)| *i);
    let (temperature, rise) = temperature_gate(&temperatures.into_iter().map(|(_, v)| v).collect::<Vec<_>>());
    values.temperature_rise_c = rise;
    let gates = Gates {
        steady_state: if precise {
            steady_gate(&level, steady.map(|s| s.duration_s()))
        } else {
            None
        },
        power_range,
        counter_agreement,
        sample_gaps,
        temperature,
    };
    let latency = if precise {
        latencies(&t.requests)
    } else {
        Latencies::default()
    };
    (
        Serving {
            steady,
            gates,
            values,
        },
        latency,
    )
}

/// Several GPUs' outcomes of one gate: fails when any fails, passes when every one passes,
/// otherwise (some not evaluable, none failed) cannot be evaluated.
fn combine(gates: &[Gate]) -> Gate {
    if gates.contains(&Some(false)) {
        Some(false)
    } else if !gates.is_empty() && gates.iter().all(|g| *g == Some(true)) {
        Some(true)
    } else {
        None
    }
}

/// A gate as the tables write it: `pass`, `fail`, or empty.
pub fn gate_label(g: Gate) -> Option<&'static str> {
    g.map(|p| if p { "pass" } else { "fail" })
}

/// Counts of one gate over trials: (pass, fail, not evaluable).
pub fn tally(gates: impl Iterator<Item = Gate>) -> (usize, usize, usize) {
    gates.fold((0, 0, 0), |(p, f, n), g| match g {
        Some(true) => (p + 1, f, n),
        Some(false) => (p, f + 1, n),
        None => (p, f, n + 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(start_ms: i64, end_ms: i64, tokens: i64, ttft_ms: Option<f64>) -> Request {
        Request {
            start_ms,
            end_ms,
            completion_tokens: Some(tokens),
            ttft_ms,
            ..Default::default()
        }
    }

    #[test]
    fn a_closed_loop_is_steady_from_the_concurrency_first_reached_to_its_last_drop() {
        // Concurrency 2: A [0, 100], B [10, 50], C [50, 120] replaces B at 50 (same ms), D
        // [100, 130] replaces A; C ends at 120 with only D left: below 2 for good.
        let spans = [(0, 100), (10, 50), (50, 120), (100, 130)];
        assert_eq!(closed_loop_window(&spans, 2), Some((10, 120)));
        // Concurrency 1: the whole span of the requests, gaps between them included.
        assert_eq!(closed_loop_window(&[(0, 10), (20, 30)], 1), Some((0, 30)));
        // Never reached: no steady state.
        assert_eq!(closed_loop_window(&spans, 3), None);
        assert_eq!(closed_loop_window(&[], 1), None);
    }

    #[test]
    fn waves_of_simultaneous_requests_are_steady_until_the_last_full_wave_ends() {
        // Two waves of 4 and a last one of 2: at concurrency 4 the third wave never reaches 4.
        let mut spans = Vec::new();
        for (w, n) in [(0, 4), (1, 4), (2, 2)] {
            for _ in 0..n {
                spans.push((w * 100 + 1, w * 100 + 100));
            }
        }
        assert_eq!(closed_loop_window(&spans, 4), Some((1, 200)));
    }

    #[test]
    fn an_open_loop_is_steady_from_the_end_of_the_warm_up_to_the_last_arrival() {
        // 20 arrivals 100 ms apart: the first 2 (10 %) are the warm-up.
        let starts: Vec<i64> = (0..20).map(|i| i * 100).collect();
        assert_eq!(open_loop_window(&starts), Some((200, 1900)));
        assert_eq!(open_loop_window(&[5]), None);
    }

    #[test]
    fn tokens_in_a_window_follow_the_chunks_or_spread_over_the_decode() {
        // Chunks at 10, 20, 30, 40 ms carrying 1, 2, 3, 4 tokens; window [1015, 1030] from a
        // request sent at 1000 ms holds the chunks at 20 and 30 ms.
        let r = Request {
            chunk_offsets_us: Some(vec![10_000, 20_000, 30_000, 40_000]),
            chunk_tokens: Some(vec![1, 2, 3, 4]),
            ..request(1000, 1040, 10, Some(10.0))
        };
        assert_eq!(tokens_in_window(&r, 1015, 1030), 5.0);
        // Without chunk times: 100 tokens decoded evenly over [1100, 2000]; a quarter of the
        // decode, [1100, 1325], holds 25.
        let r = request(1000, 2000, 100, Some(100.0));
        assert!((tokens_in_window(&r, 0, 1325) - 25.0).abs() < 1e-12);
        assert_eq!(tokens_in_window(&r, 0, 5000), 100.0);
        assert_eq!(tokens_in_window(&r, 3000, 5000), 0.0);
    }

    #[test]
    fn the_steady_gate_needs_thirty_seconds_above_concurrency_one() {
        let c = |n| LoadLevel {
            concurrency: Some(n),
            ..Default::default()
        };
        assert_eq!(steady_gate(&c(1), None), Some(true));
        assert_eq!(steady_gate(&c(8), Some(29.9)), Some(false));
        assert_eq!(steady_gate(&c(8), Some(30.0)), Some(true));
        assert_eq!(steady_gate(&c(8), None), Some(false));
        assert_eq!(steady_gate(&LoadLevel::default(), Some(100.0)), None);
    }

    #[test]
    fn the_power_gate_checks_the_bounds_it_knows() {
        // Idle 60 W: the floor is 54 W; limit 700 W.
        assert_eq!(
            power_range_gate(&[55.0, 300.0], Some(60.0), Some(700.0)),
            Some(true)
        );
        assert_eq!(
            power_range_gate(&[53.9, 300.0], Some(60.0), Some(700.0)),
            Some(false)
        );
        assert_eq!(
            power_range_gate(&[55.0, 700.1], Some(60.0), Some(700.0)),
            Some(false)
        );
        // No limit recorded: only the floor.
        assert_eq!(power_range_gate(&[55.0, 9000.0], Some(60.0), None), Some(true));
        assert_eq!(power_range_gate(&[55.0], None, None), None);
        assert_eq!(power_range_gate(&[], Some(60.0), None), None);
    }

    #[test]
    fn the_counter_gate_allows_five_percent() {
        assert_eq!(counter_gate(Some(100.0), Some(95.0)), (Some(true), Some(0.05)));
        let (g, d) = counter_gate(Some(100.0), Some(94.0));
        assert_eq!(g, Some(false));
        assert!((d.unwrap() - 0.06).abs() < 1e-12);
        assert_eq!(counter_gate(None, Some(95.0)), (None, None));
    }

    #[test]
    fn the_gap_gate_allows_three_intervals() {
        assert_eq!(gap_gate(&[0, 100, 400], Some(100.0)), (Some(true), Some(3.0)));
        assert_eq!(gap_gate(&[0, 100, 401], Some(100.0)), (Some(false), Some(3.01)));
        // A sample running backwards is skipped; without a nominal interval the median gap
        // (100 ms) stands for it.
        assert_eq!(
            gap_gate(&[0, 100, 50, 200, 300, 700], None),
            (Some(false), Some(4.0))
        );
        assert_eq!(gap_gate(&[0], Some(100.0)), (None, None));
    }

    #[test]
    fn the_temperature_gate_allows_five_degrees_per_gpu() {
        assert_eq!(
            temperature_gate(&[vec![40.0, 44.0, 45.0], vec![50.0, 52.0]]),
            (Some(true), Some(5.0))
        );
        assert_eq!(temperature_gate(&[vec![40.0, 46.0]]), (Some(false), Some(6.0)));
        assert_eq!(temperature_gate(&[]), (None, None));
    }

    #[test]
    fn gates_that_cannot_be_evaluated_are_no_pass() {
        let g = Gates {
            steady_state: Some(true),
            power_range: None,
            counter_agreement: Some(true),
            sample_gaps: Some(false),
            temperature: Some(true),
        };
        assert!(!g.all_passed());
        assert_eq!(g.failed(), vec!["sample_gaps"]);
        assert_eq!(tally(g.all().into_iter()), (3, 1, 1));
        assert_eq!(combine(&[Some(true), None]), None);
        assert_eq!(combine(&[Some(true), None, Some(false)]), Some(false));
    }

    #[test]
    fn power_limits_are_read_from_collects_provenance() {
        let p = serde_json::json!({"energy": {"details": {"nvml": {"gpus": [
            {"index": 1, "power_limit_w": 600.0}, {"index": 0, "power_limit_w": 700.0}
        ]}}}});
        assert_eq!(power_limits(&p), vec![(0, 700.0), (1, 600.0)]);
        assert!(power_limits(&serde_json::json!({"host": {}})).is_empty());
    }

    #[test]
    fn load_levels_read_as_the_report_names_them() {
        let l = LoadLevel {
            concurrency: Some(8),
            power_limit_w: Some(300.0),
            ..Default::default()
        };
        assert_eq!(l.to_string(), "concurrency 8, 300 W");
        let a = LoadLevel {
            arrival_rate_per_s: Some(2.5),
            ..Default::default()
        };
        assert_eq!(a.to_string(), "arrivals 2.5/s");
        assert_eq!(a.load_value(), Some(2.5));
        assert!(LoadLevel::default().is_unset());
        assert_eq!(LoadLevel::default().to_string(), "");
    }
}
