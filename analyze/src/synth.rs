//! `analyze synth`: a synthetic study of any size, written as `collect` writes a dataset, whose
//! corrected energy is known in closed form, so that the analysis can be benchmarked (and
//! checked) at scale without the published data.
//!
//! **Design.** The published study's five model configurations (four generations: Llama 2 7B,
//! 3 8B, 3.1 8B, 3.2 1B and 3.2 3B) × its six tasks = 30 treatments, each repeated
//! `ceil(N / 30)` times: a requested trial count that is not a multiple of 30 is rounded up to
//! whole repetitions, so every treatment has the same number (the statistics assume a balanced
//! design). The trials run in one shuffled order (ChaCha8 with the seed), one after another on
//! one simulated machine; each is written as its own part `trials/<run_id>/`, as `collect`
//! commits them, and dropped at once. Memory holds the run table, a chunk of small trial plans,
//! one trial per writing thread and every trial's known totals (about 100 bytes each): it does
//! not grow with the samples.
//!
//! **One trial.** An idle baseline of `B` samples, then `M` samples `Delta` ms apart (each read
//! 0–3 ms late, as a polling sampler is), and `R` requests sent one after another inside them:
//! the first starts `lead` ms after the first sample, the last ends `tail` ms before the last
//! one (1 ≤ lead, tail ≤ max(1, Delta/4)). During the trial's samples the machine draws a
//! constant GPU power `P_gpu`, CPU package power `P_cpu` and DRAM power `P_dram` (per model and
//! task, ±4 % per trial); before them (cooldown, baseline) it idles at fixed powers. The
//! channels are `collect`'s: `GPU0_POWER (mWatts)` (and its 1 s average) every sample, NVML's
//! total-energy counter `GPU0_ENERGY (mJ)` about once a second and at the first and last
//! sample, the RAPL counters `PACKAGE_ENERGY (J)` and `DRAM_ENERGY (J)` (wrapping at 2^18 J,
//! the range recorded as column metadata; the package counter starts just below it, so the
//! first trial crosses a wrap), and a few channels the accounting ignores (usage, clocks,
//! temperature, memory). Every counter is the exact integral of the power it follows.
//!
//! **Known totals.** With `D` = last request end − first request start (ms), the corrected
//! accounting must give, per trial, `gpu_j = P_gpu · D / 1000` (the counter interpolated at the
//! window's edges, or the trapezoid of the constant power: the same), `cpu_j = P_cpu · D /
//! 1000`, `dram_j = P_dram · D / 1000`, `duration_s = D / 1000`, `tokens` = the requests'
//! completion tokens, and `baseline_power_w` = the sum of the idle powers. [`run`] returns them
//! ([`KnownTotals`]); `--expected FILE` writes them as CSV.
//!
//! **Load levels** (`--concurrency 1,8,32`): each model × task runs at each concurrency `c` as
//! its own treatment (treatment `l · 30 + t` for level `l`), its key carrying `concurrency`. At
//! level `c` a trial sends `R · c` requests in `R` waves of `c` sent at once (each wave takes
//! the slice request `i` takes alone), each generating at the model's speed, with content
//! chunks of one token evenly spaced after the first; the GPU draws `P_gpu · c^0.2` (the CPU
//! and DRAM powers do not change). So energy per token falls with the concurrency as
//! `(P_gpu · c^0.2 + P_cpu + P_dram) · D / (c · tokens at 1)`, and the steady state (ML.ENERGY:
//! concurrency reached to the last drop below it) is the whole window. Without the option the
//! study is the one above, byte for byte.
//!
//! The data are marked simulated (manifest and every trial) and are a pure function of the
//! options: the same seed writes the same files, byte for byte.

use crate::model::build::progress_bar;
use anyhow::{Result, bail};
use dataset::{
    Dataset, Manifest, Request, RunRow, SampleColumn, SampleTable, StagedDataset, Trial, TrialFiles,
    TrialKey, TrialStatus,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::path::PathBuf;

/// One model configuration of the design.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthModel {
    /// Model name (as a server would serve it).
    pub name: &'static str,
    /// Generation label.
    pub generation: &'static str,
    /// Size label.
    pub size: &'static str,
    /// GPU board power while generating, W.
    pub gpu_w: f64,
    /// CPU package power while serving, W.
    pub cpu_w: f64,
    /// DRAM power while serving, W.
    pub dram_w: f64,
    /// Generated tokens per second.
    pub tokens_per_s: f64,
    /// GPU memory in use, MiB.
    pub memory_mib: f64,
}

/// One task of the design.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthTask {
    /// Task name.
    pub name: &'static str,
    /// Factor on the model's powers.
    pub power: f64,
    /// Factor on the model's generation speed.
    pub speed: f64,
    /// Typical prompt length, tokens.
    pub prompt_tokens: i64,
}

/// The five model configurations (four generations) of the published study.
pub const MODELS: [SynthModel; 5] = [
    SynthModel {
        name: "synth-llama-2-7b",
        generation: "2",
        size: "7B",
        gpu_w: 292.0,
        cpu_w: 48.0,
        dram_w: 7.5,
        tokens_per_s: 46.0,
        memory_mib: 14_200.0,
    },
    SynthModel {
        name: "synth-llama-3-8b",
        generation: "3",
        size: "8B",
        gpu_w: 305.0,
        cpu_w: 49.0,
        dram_w: 7.8,
        tokens_per_s: 43.0,
        memory_mib: 16_400.0,
    },
    SynthModel {
        name: "synth-llama-3.1-8b",
        generation: "3.1",
        size: "8B",
        gpu_w: 309.0,
        cpu_w: 49.5,
        dram_w: 7.9,
        tokens_per_s: 42.0,
        memory_mib: 16_500.0,
    },
    SynthModel {
        name: "synth-llama-3.2-1b",
        generation: "3.2",
        size: "1B",
        gpu_w: 148.0,
        cpu_w: 41.0,
        dram_w: 5.2,
        tokens_per_s: 145.0,
        memory_mib: 3_100.0,
    },
    SynthModel {
        name: "synth-llama-3.2-3b",
        generation: "3.2",
        size: "3B",
        gpu_w: 214.0,
        cpu_w: 44.0,
        dram_w: 6.1,
        tokens_per_s: 88.0,
        memory_mib: 7_000.0,
    },
];

/// The six SuperGLUE tasks of the published study.
pub const TASKS: [SynthTask; 6] = [
    SynthTask {
        name: "BoolQ",
        power: 1.00,
        speed: 0.97,
        prompt_tokens: 182,
    },
    SynthTask {
        name: "CB",
        power: 1.02,
        speed: 1.00,
        prompt_tokens: 121,
    },
    SynthTask {
        name: "COPA",
        power: 0.97,
        speed: 1.04,
        prompt_tokens: 58,
    },
    SynthTask {
        name: "RTE",
        power: 1.01,
        speed: 0.99,
        prompt_tokens: 93,
    },
    SynthTask {
        name: "WiC",
        power: 0.98,
        speed: 1.03,
        prompt_tokens: 71,
    },
    SynthTask {
        name: "WSC",
        power: 0.99,
        speed: 1.01,
        prompt_tokens: 109,
    },
];

/// Idle GPU power (cooldown and baseline), W.
pub const IDLE_GPU_W: f64 = 62.0;
/// Idle CPU package power, W.
pub const IDLE_CPU_W: f64 = 21.0;
/// Idle DRAM power, W.
pub const IDLE_DRAM_W: f64 = 2.5;
/// Wrap range of the RAPL counters, J (RAPL's 2^32 · 2^-14 J).
pub const RAPL_WRAP_J: f64 = 262_144.0;
/// Time of the first sample: 2026-01-01T00:00:00Z, ms since the Unix epoch.
pub const ORIGIN_MS: i64 = 1_767_225_600_000;
/// Pause between two trials, ms (the published study's 30 s).
pub const COOLDOWN_MS: i64 = 30_000;
/// Least time between two reads of the GPU energy counter, ms (collect's default).
pub const COUNTER_INTERVAL_MS: i64 = 1_000;
/// Least length of one request, ms.
const MIN_REQUEST_MS: i64 = 10;
/// Trials planned (sequentially) before each parallel batch of writes.
const CHUNK: usize = 256;
/// How the GPU's power grows with the concurrency `c` of a load level: `P_gpu · c^this`.
pub const GPU_POWER_EXPONENT: f64 = 0.2;

/// What to write.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Dataset folder to create.
    pub out: PathBuf,
    /// Trials asked for (rounded up to whole repetitions of the 30 treatments).
    pub trials: usize,
    /// Energy samples per trial (M ≥ 2).
    pub samples_per_trial: usize,
    /// Requests per trial (R ≥ 1).
    pub requests_per_trial: usize,
    /// Nominal sampling interval, ms (≥ 10).
    pub interval_ms: i64,
    /// Idle baseline samples before each trial (0 = none, else ≥ 2).
    pub baseline_samples: usize,
    /// Load levels: the concurrencies each model × task runs at (empty: one request at a
    /// time, no load factor).
    pub concurrency: Vec<i64>,
    /// Seed of the execution order and of every trial's parameters.
    pub seed: u64,
    /// Replace an existing dataset at `out`.
    pub force: bool,
    /// Show a progress bar.
    pub progress: bool,
}

dataset::table! {
    /// One trial's totals under the corrected accounting, known in closed form (`analyze synth
    /// --expected`).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct KnownTotals {
        /// Trial identifier.
        pub run_id: String,
        /// Treatment index.
        pub run: i64,
        /// Repetition index.
        pub repetition: i64,
        /// Constant GPU power during the trial.
        #[unit("W")]
        pub gpu_w: f64,
        /// Constant CPU package power.
        #[unit("W")]
        pub cpu_w: f64,
        /// Constant DRAM power.
        #[unit("W")]
        pub dram_w: f64,
        /// Inference window: last request end − first request start.
        #[unit("s")]
        pub duration_s: f64,
        /// gpu_w × duration_s.
        #[unit("J")]
        pub gpu_j: f64,
        /// cpu_w × duration_s.
        #[unit("J")]
        pub cpu_j: f64,
        /// dram_w × duration_s.
        #[unit("J")]
        pub dram_j: f64,
        /// gpu_j + cpu_j + dram_j.
        #[unit("J")]
        pub energy_j: f64,
        /// Completion tokens of the trial's requests.
        #[unit("tokens")]
        pub tokens: i64,
        /// Requests of the trial.
        pub requests: i64,
        /// The trial's concurrency (its load level); null without load levels.
        pub concurrency: Option<i64>,
        /// Idle power of the baseline window (the idle powers summed); null without baseline.
        #[unit("W")]
        pub baseline_power_w: Option<f64>,
    }
}

/// What [`run`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthSummary {
    /// Trials asked for.
    pub requested: usize,
    /// Treatments (models × tasks).
    pub treatments: usize,
    /// Repetitions of each treatment: `ceil(requested / treatments)`.
    pub repetitions: usize,
    /// Energy samples written (trial windows only, baselines not counted).
    pub samples: usize,
    /// Baseline samples written.
    pub baseline_samples: usize,
    /// Requests written.
    pub requests: usize,
    /// Every trial's known totals, sorted by (run, repetition).
    pub known: Vec<KnownTotals>,
}

impl SynthSummary {
    /// Trials written: treatments × repetitions.
    pub fn trials(&self) -> usize {
        self.known.len()
    }

    /// The known totals summed over all trials (`run_id` empty, powers 0).
    pub fn total(&self) -> KnownTotals {
        let mut t = KnownTotals::default();
        for k in &self.known {
            t.duration_s += k.duration_s;
            t.gpu_j += k.gpu_j;
            t.cpu_j += k.cpu_j;
            t.dram_j += k.dram_j;
            t.energy_j += k.energy_j;
            t.tokens += k.tokens;
            t.requests += k.requests;
        }
        t.baseline_power_w = self.known.first().and_then(|k| k.baseline_power_w);
        t
    }
}

/// The run id of repetition `k` of treatment `r` (collect's).
fn run_id(r: i64, k: i64) -> String {
    format!("run_{r}_repetition_{k}")
}

/// SplitMix64: the small deterministic hash behind the per-sample and per-request details.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A uniform number in [0, 1) from the top 53 bits of one `next_u64` (independent of the
/// `rand` version's distributions).
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// The execution order: every (treatment, repetition) once, Fisher–Yates shuffled with
/// ChaCha8 seeded by `seed`.
fn execution_order(treatments: usize, repetitions: usize, seed: u64) -> Vec<(usize, usize)> {
    let mut pairs: Vec<(usize, usize)> = (0..treatments)
        .flat_map(|t| (0..repetitions).map(move |k| (t, k)))
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for i in (1..pairs.len()).rev() {
        let j = ((u128::from(rng.next_u64()) * (i as u128 + 1)) >> 64) as usize;
        pairs.swap(i, j);
    }
    pairs
}

/// The simulated machine's cumulative counters at one time.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Counters {
    /// GPU total-energy counter, mJ (NVML's: since driver load, never wraps).
    gpu_mj: f64,
    /// RAPL package counter, J, in [0, wrap).
    package_j: f64,
    /// RAPL DRAM counter, J, in [0, wrap).
    dram_j: f64,
}

impl Counters {
    /// The counters `dt_ms` later at constant powers (W).
    fn after(self, dt_ms: i64, (gpu_w, cpu_w, dram_w): (f64, f64, f64)) -> Self {
        let dt = dt_ms as f64;
        Self {
            gpu_mj: self.gpu_mj + gpu_w * dt,
            package_j: (self.package_j + cpu_w * dt / 1000.0).rem_euclid(RAPL_WRAP_J),
            dram_j: (self.dram_j + dram_w * dt / 1000.0).rem_euclid(RAPL_WRAP_J),
        }
    }
}

const IDLE: (f64, f64, f64) = (IDLE_GPU_W, IDLE_CPU_W, IDLE_DRAM_W);

/// One trial, planned: everything its files are built from.
#[derive(Debug, Clone)]
struct Plan {
    key: TrialKey,
    treatment: usize,
    /// Hash key of the trial's details.
    salt: u64,
    /// Powers during the trial's samples, W.
    load: (f64, f64, f64),
    tokens_per_s: f64,
    /// First baseline sample and the counters then.
    baseline_start: (i64, Counters),
    /// First trial sample and the counters then.
    samples_start: (i64, Counters),
    /// First request start and last request end, ms.
    window: (i64, i64),
}

/// The fixed settings of a generation.
#[derive(Debug, Clone)]
struct Shape {
    samples: usize,
    requests: usize,
    interval_ms: i64,
    baseline: usize,
    seed: u64,
    /// The concurrency levels (empty: none).
    levels: Vec<i64>,
}

impl Shape {
    /// The treatment's model and task and its concurrency (None without load levels).
    fn treatment(&self, t: usize) -> (&'static SynthModel, &'static SynthTask, Option<i64>) {
        let per_level = MODELS.len() * TASKS.len();
        let within = t % per_level;
        (
            &MODELS[within / TASKS.len()],
            &TASKS[within % TASKS.len()],
            self.levels.get(t / per_level).copied(),
        )
    }

    /// The machine before the first trial: the GPU counter at 100 days of 100 W, the DRAM
    /// counter low, the package counter 40 J below its range when the first trial's samples
    /// start (so it wraps within its first second or so).
    fn machine_at_start(&self) -> (i64, Counters) {
        let baseline_s = (self.baseline as i64 * self.interval_ms) as f64 / 1000.0;
        (
            ORIGIN_MS,
            Counters {
                gpu_mj: 8.64e11,
                package_j: RAPL_WRAP_J - 40.0 - IDLE_CPU_W * baseline_s,
                dram_j: 1_000.0,
            },
        )
    }

    /// The most a window edge sits inside the samples, ms.
    fn max_edge_ms(&self) -> i64 {
        (self.interval_ms / 4).max(1)
    }

    /// Sample `k` of `n` starting at `t0`: `k · interval` plus 0–3 ms of read delay, none on the
    /// first and the last.
    fn sample_times(&self, t0: i64, n: usize, salt: u64) -> Vec<i64> {
        (0..n)
            .map(|k| {
                let late = if k == 0 || k + 1 == n {
                    0
                } else {
                    (mix(salt ^ (k as u64).wrapping_mul(0xA24B_AED4_963E_E407)) % 4) as i64
                };
                t0 + k as i64 * self.interval_ms + late
            })
            .collect()
    }

    /// Whether sample `k` of `n` (at `t` ms after the first) carries a GPU counter reading: the
    /// first, the last, and the first after each whole counter interval.
    fn counter_read(&self, k: usize, n: usize) -> bool {
        if k == 0 || k + 1 == n {
            return true;
        }
        let at = |k: usize| k as i64 * self.interval_ms / COUNTER_INTERVAL_MS;
        at(k) != at(k - 1)
    }
}

/// Plans the trial of treatment `t`, repetition `k`, after `machine` (the time and counters at
/// the end of the previous trial) and advances the machine past it.
fn plan(shape: &Shape, order: usize, (t, k): (usize, usize), machine: &mut (i64, Counters)) -> Plan {
    let (model, task, concurrency) = shape.treatment(t);
    // Every trial's parameters come from its own ChaCha8 stream, so they do not depend on the
    // execution order or on the number of repetitions.
    let stream = ((t as u64) << 32) | k as u64;
    let mut rng = ChaCha8Rng::seed_from_u64(shape.seed);
    rng.set_stream(stream);
    let mut jitter = |width: f64| 1.0 + width * (2.0 * unit(&mut rng) - 1.0);
    let milli = |w: f64| (w * 1000.0).round() / 1000.0;
    let scale = concurrency.map_or(1.0, |c| (c as f64).powf(GPU_POWER_EXPONENT));
    let load = (
        milli(model.gpu_w * task.power * jitter(0.04) * scale),
        milli(model.cpu_w * jitter(0.04)),
        milli(model.dram_w * jitter(0.04)),
    );
    let tokens_per_s = model.tokens_per_s * task.speed * jitter(0.05);
    let edge = shape.max_edge_ms();
    let lead = 1 + (unit(&mut rng) * edge as f64) as i64 % edge;
    let tail = 1 + (unit(&mut rng) * edge as f64) as i64 % edge;
    let salt = mix(shape.seed ^ mix(stream));

    let (now, counters) = *machine;
    let b0 = if order == 0 { now } else { now + COOLDOWN_MS };
    let at_b0 = counters.after(b0 - now, IDLE);
    let s0 = b0 + shape.baseline as i64 * shape.interval_ms;
    let at_s0 = at_b0.after(s0 - b0, IDLE);
    let last = s0 + (shape.samples as i64 - 1) * shape.interval_ms;
    *machine = (last, at_s0.after(last - s0, load));
    Plan {
        key: TrialKey {
            run_id: run_id(t as i64, k as i64).into(),
            run: t as i64,
            repetition: k as i64,
            generation: model.generation.into(),
            model_size: model.size.into(),
            model: model.name.into(),
            task: task.name.into(),
            concurrency,
            ..Default::default()
        },
        treatment: t,
        salt,
        load,
        tokens_per_s,
        baseline_start: (b0, at_b0),
        samples_start: (s0, at_s0),
        window: (s0 + lead, last - tail),
    }
}

/// The sample table of `n` samples from `t0` at constant powers `w`, counters `c` at `t0`.
fn samples(
    shape: &Shape,
    plan: &Plan,
    (t0, c): (i64, Counters),
    n: usize,
    w: (f64, f64, f64),
) -> SampleTable {
    let (model, _, _) = shape.treatment(plan.treatment);
    let time_ms = shape.sample_times(t0, n, plan.salt ^ t0 as u64);
    let busy = w.0 > IDLE_GPU_W;
    let at = |t: i64| c.after(t - t0, w);
    let counters: Vec<Counters> = time_ms.iter().map(|&t| at(t)).collect();
    let read: Vec<bool> = (0..n).map(|k| shape.counter_read(k, n)).collect();
    let gpu_energy = SampleColumn {
        name: "GPU0_ENERGY (mJ)".into(),
        values: counters
            .iter()
            .zip(&read)
            .map(|(c, &r)| if r { c.gpu_mj } else { 0.0 })
            .collect(),
        valid: (!read.iter().all(|&r| r)).then(|| read.clone()),
        wrap_range: None,
    };
    let constant = |name: &str, v: f64| SampleColumn::new(name, vec![v; n]);
    let varying = |name: &str, f: &dyn Fn(usize) -> f64| SampleColumn::new(name, (0..n).map(f).collect());
    let wobble = |k: usize, salt: u64| (mix(plan.salt ^ salt ^ k as u64) % 1000) as f64 / 1000.0;
    let rapl = |name: &str, values: Vec<f64>| SampleColumn {
        wrap_range: Some(RAPL_WRAP_J),
        ..SampleColumn::new(name, values)
    };
    let columns = vec![
        gpu_energy,
        constant("GPU0_POWER (mWatts)", w.0 * 1000.0),
        constant("GPU0_POWER_AVERAGE (mWatts)", w.0 * 1000.0),
        varying("GPU0_USAGE", &|k| {
            if busy { 92.0 + 6.0 * wobble(k, 1) } else { 0.0 }
        }),
        constant("GPU0_MEMORY_USED", if busy { model.memory_mib } else { 520.0 }),
        constant("GPU0_MEMORY_TOTAL", 143_771.0),
        varying("GPU0_TEMPERATURE", &|k| {
            let warm = if busy {
                1.0 - (-(k as f64) / 300.0).exp()
            } else {
                0.0
            };
            (38.0 + 30.0 * warm).round()
        }),
        constant("GPU0_SM_CLOCK (MHz)", if busy { 1980.0 } else { 345.0 }),
        constant("GPU0_MEMORY_CLOCK (MHz)", if busy { 3201.0 } else { 405.0 }),
        rapl(
            "PACKAGE_ENERGY (J)",
            counters.iter().map(|c| c.package_j).collect(),
        ),
        rapl("DRAM_ENERGY (J)", counters.iter().map(|c| c.dram_j).collect()),
        varying("CPU_USAGE_0", &|k| {
            if busy { 35.0 + 20.0 * wobble(k, 2) } else { 2.0 }
        }),
        varying("CPU_USAGE_1", &|k| {
            if busy { 10.0 + 10.0 * wobble(k, 3) } else { 1.0 }
        }),
        constant("USED_MEMORY", 23.5e9),
        constant("TOTAL_MEMORY", 270.0e9),
    ];
    SampleTable { time_ms, columns }
}

/// The trial's requests, sent one after another over its window: request `i` takes the `i`-th
/// of `R` equal slices of the window, less a 1–3 ms pause before it (none before the first),
/// so the first starts and the last ends exactly on the window's edges. At a load level `c`
/// each slice is a wave of `c` requests sent at once, with one-token chunks evenly spaced
/// after the first.
fn requests(shape: &Shape, plan: &Plan) -> Vec<Request> {
    let (_, task, concurrency) = shape.treatment(plan.treatment);
    let wave = concurrency.unwrap_or(1).max(1);
    let (start, end) = plan.window;
    let r = shape.requests as i64;
    let edge = |i: i64| start + ((end - start) as i128 * i as i128 / r as i128) as i64;
    (0..r * wave)
        .map(|n| {
            let (i, j) = (n / wave, n % wave);
            let h = mix(plan.salt ^ (i as u64 + 1).wrapping_mul(0x9FB2_1C65_1E98_DF25));
            let pause = if i == 0 { 0 } else { 1 + (h % 3) as i64 };
            let (a, b) = (edge(i) + pause, edge(i + 1));
            // The requests of a wave differ in their prompt only (their item).
            let h = if j == 0 { h } else { mix(h ^ j as u64) };
            let prompt_tokens = task.prompt_tokens + (h >> 8) as i64 % 41 - 20;
            let dur = (b - a) as f64;
            let ttft = (12.0 + 0.12 * prompt_tokens as f64).min(dur / 2.0);
            let tokens = ((plan.tokens_per_s * (dur - ttft) / 1000.0).round() as i64).max(1);
            let gap = (dur - ttft) / (tokens - 1).max(1) as f64;
            let chunks = concurrency.map(|_| {
                (0..tokens)
                    .map(|k| ((ttft + k as f64 * gap) * 1000.0).round() as i64)
                    .collect::<Vec<i64>>()
            });
            Request {
                run_id: plan.key.run_id.to_string(),
                index: n,
                item_id: Some(n),
                gold_label: None,
                prompt: format!(
                    "Synthetic {} prompt, item {i}: answer and explain your choice.",
                    task.name
                ),
                response: format!(
                    "Synthetic answer to item {i} ({}, repetition {}).",
                    plan.key.model, plan.key.repetition
                ),
                start_ms: a,
                end_ms: b,
                ttft_ms: Some(ttft),
                prompt_tokens: Some(prompt_tokens),
                completion_tokens: Some(tokens),
                finish_reason: Some("stop".into()),
                error: None,
                tokens_estimated: Some(false),
                seed: Some((h >> 33) as i64),
                attempts: Some(1),
                chunks: Some(tokens),
                gap_mean_ms: Some(gap),
                gap_p50_ms: Some(gap * 0.96),
                gap_p95_ms: Some(gap * 1.35),
                gap_max_ms: Some(gap * 2.1),
                chunk_tokens: chunks.as_ref().map(|c| vec![1; c.len()]),
                chunk_offsets_us: chunks,
            }
        })
        .collect()
}

/// The provenance of every trial: the shape of collect's (tool, host, energy, settings, model,
/// trial), saying that it is simulated.
fn provenance(shape: &Shape, plan: &Plan) -> String {
    let (model, _, _) = shape.treatment(plan.treatment);
    serde_json::json!({
        "generator": format!("analyze {} synth", env!("CARGO_PKG_VERSION")),
        "simulated": true,
        "seed": shape.seed,
        "host": {"hostname": "synthetic", "cpu_model": "synthetic", "logical_cpus": 32},
        "energy": {
            "sources": "synth",
            "details": {
                "simulated": true,
                "gpus": 1,
                "gpu_energy_primary": "energy_counter",
                "idle_w": {"gpu": IDLE_GPU_W, "cpu": IDLE_CPU_W, "dram": IDLE_DRAM_W},
            },
        },
        "settings": {
            "interval_ms": shape.interval_ms,
            "baseline_samples": shape.baseline,
            "nvml_counter_interval_ms": COUNTER_INTERVAL_MS,
            "cooldown_ms": COOLDOWN_MS,
        },
        "model": {"name": model.name, "generation": model.generation, "size": model.size},
        "trial": {
            "requests_sent": shape.requests * plan.key.concurrency.unwrap_or(1).max(1) as usize,
            "requests_failed": 0,
            "retries": 0,
            "samples": shape.samples,
        },
    })
    .to_string()
}

/// Builds the trial's files and its known totals.
fn build(shape: &Shape, plan: &Plan) -> (TrialFiles, KnownTotals) {
    let baseline =
        (shape.baseline > 0).then(|| samples(shape, plan, plan.baseline_start, shape.baseline, IDLE));
    let table = samples(shape, plan, plan.samples_start, shape.samples, plan.load);
    let requests = requests(shape, plan);
    let (start_ms, end_ms) = plan.window;
    let trial = Trial {
        key: plan.key.clone(),
        status: TrialStatus::Done,
        failure_reason: None,
        start_ms,
        end_ms,
        time_resolution_ms: 1,
        sample_interval_ms: Some(shape.interval_ms as f64),
        simulated: true,
        provenance: provenance(shape, plan),
        energy_sources: Some("synth".into()),
        sampler_cpu_s: Some(0.000_35 * shape.samples as f64),
        baseline_start_ms: baseline.as_ref().and_then(|b| b.time_ms.first().copied()),
        baseline_end_ms: baseline.as_ref().and_then(|b| b.time_ms.last().copied()),
        testbed: None,
    };
    let d = (end_ms - start_ms) as f64 / 1000.0;
    let (gpu_w, cpu_w, dram_w) = plan.load;
    let known = KnownTotals {
        run_id: plan.key.run_id.to_string(),
        run: plan.key.run,
        repetition: plan.key.repetition,
        gpu_w,
        cpu_w,
        dram_w,
        duration_s: d,
        gpu_j: gpu_w * d,
        cpu_j: cpu_w * d,
        dram_j: dram_w * d,
        energy_j: gpu_w * d + cpu_w * d + dram_w * d,
        tokens: requests.iter().filter_map(|r| r.completion_tokens).sum(),
        requests: requests.len() as i64,
        concurrency: plan.key.concurrency,
        baseline_power_w: baseline
            .is_some()
            .then_some(IDLE_GPU_W + IDLE_CPU_W + IDLE_DRAM_W),
    };
    let files = TrialFiles {
        trial,
        requests,
        samples: table,
        baseline,
        server_metrics: Vec::new(),
    };
    (files, known)
}

/// Checks the options and returns the repetitions per treatment.
fn check(opts: &SynthOptions) -> Result<usize> {
    if opts.trials == 0 {
        bail!("--trials must be at least 1");
    }
    if opts.samples_per_trial < 2 {
        bail!("--samples-per-trial must be at least 2 (a window needs a sample on each side)");
    }
    if opts.requests_per_trial == 0 {
        bail!("--requests-per-trial must be at least 1");
    }
    if opts.interval_ms < 10 {
        bail!("--interval-ms must be at least 10 (samples are read up to 3 ms late)");
    }
    if let Some(c) = opts.concurrency.iter().find(|&&c| c < 1) {
        bail!("--concurrency {c}: a load level needs at least 1 request in flight");
    }
    let mut levels = opts.concurrency.clone();
    levels.sort_unstable();
    levels.dedup();
    if levels.len() != opts.concurrency.len() {
        bail!("--concurrency names a level twice");
    }
    if opts.baseline_samples == 1 {
        bail!("--baseline-samples must be 0 (no baseline) or at least 2 (its power needs a span)");
    }
    let shortest = (opts.samples_per_trial as i64 - 1) * opts.interval_ms - 2 * (opts.interval_ms / 4).max(1);
    if shortest < opts.requests_per_trial as i64 * MIN_REQUEST_MS {
        bail!(
            "{} samples {} ms apart leave a window of {shortest} ms, too short for {} requests of at least {MIN_REQUEST_MS} ms: give more samples or fewer requests",
            opts.samples_per_trial,
            opts.interval_ms,
            opts.requests_per_trial
        );
    }
    Ok(opts
        .trials
        .div_ceil(MODELS.len() * TASKS.len() * opts.concurrency.len().max(1)))
}

/// Writes the synthetic study (see the module documentation): the manifest and run table
/// first, then the trials in execution order, `CHUNK` planned at a time and written in
/// parallel, one part each; the whole dataset is staged and renamed into place at the end.
pub fn run(opts: &SynthOptions) -> Result<SynthSummary> {
    let repetitions = check(opts)?;
    let treatments = MODELS.len() * TASKS.len() * opts.concurrency.len().max(1);
    let shape = Shape {
        samples: opts.samples_per_trial,
        requests: opts.requests_per_trial,
        interval_ms: opts.interval_ms,
        baseline: opts.baseline_samples,
        seed: opts.seed,
        levels: opts.concurrency.clone(),
    };
    let order = execution_order(treatments, repetitions, opts.seed);
    let levels = if opts.concurrency.is_empty() {
        String::new()
    } else {
        let c: Vec<String> = opts.concurrency.iter().map(i64::to_string).collect();
        format!(" × concurrency {}", c.join(", "))
    };
    let description = format!(
        "synthetic study (analyze synth, seed {}): {} models × {} tasks{levels} × {repetitions} repetitions, \
         {} samples {} ms apart and {} requests per trial; simulated, its corrected energy known in closed form",
        opts.seed,
        MODELS.len(),
        TASKS.len(),
        shape.samples,
        shape.interval_ms,
        shape.requests,
    );
    let manifest = Manifest {
        // A fixed creation time, so the same seed writes the same bytes.
        created_at_ms: ORIGIN_MS,
        ..Manifest::new(
            format!("analyze {} synth", env!("CARGO_PKG_VERSION")),
            true,
            description,
        )
    };
    let staged = StagedDataset::begin(&opts.out, &manifest, opts.force)?;
    let ds: &Dataset = staged.dataset();
    let runs: Vec<RunRow> = order
        .iter()
        .enumerate()
        .map(|(i, &(t, k))| {
            let (m, task, concurrency) = shape.treatment(t);
            RunRow {
                key: TrialKey {
                    run_id: run_id(t as i64, k as i64).into(),
                    run: t as i64,
                    repetition: k as i64,
                    generation: m.generation.into(),
                    model_size: m.size.into(),
                    model: m.name.into(),
                    task: task.name.into(),
                    concurrency,
                    ..Default::default()
                },
                order: i as i64,
            }
        })
        .collect();
    ds.write_runs(&runs)?;
    drop(runs);

    let bar = progress_bar(order.len(), "writing", "trials", opts.progress);
    let mut machine = shape.machine_at_start();
    let mut known = Vec::with_capacity(order.len());
    for (c, chunk) in order.chunks(CHUNK).enumerate() {
        let plans: Vec<Plan> = chunk
            .iter()
            .enumerate()
            .map(|(i, &tk)| plan(&shape, c * CHUNK + i, tk, &mut machine))
            .collect();
        let written: Vec<KnownTotals> = plans
            .par_iter()
            .map(|p| {
                let (files, totals) = build(&shape, p);
                ds.write_trial(&files, false)?;
                bar.inc(1);
                Ok(totals)
            })
            .collect::<Result<_, dataset::DatasetError>>()?;
        known.extend(written);
    }
    bar.finish_and_clear();
    staged.commit()?;
    known.sort_by_key(|k| (k.run, k.repetition));
    let trials = known.len();
    Ok(SynthSummary {
        requested: opts.trials,
        treatments,
        repetitions,
        samples: trials * shape.samples,
        baseline_samples: trials * shape.baseline,
        requests: known.iter().map(|k| k.requests as usize).sum(),
        known,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataset::Accounting;
    use dataset::accounting::{baseline_power_w, metrics_row};

    fn shape(samples: usize, requests: usize) -> Shape {
        Shape {
            samples,
            requests,
            interval_ms: 200,
            baseline: 5,
            seed: 7,
            levels: Vec::new(),
        }
    }

    #[test]
    fn the_order_holds_every_trial_once_and_depends_on_the_seed() {
        let a = execution_order(30, 3, 1);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            (0..30)
                .flat_map(|t| (0..3).map(move |k| (t, k)))
                .collect::<Vec<_>>()
        );
        assert_eq!(a, execution_order(30, 3, 1));
        assert_ne!(a, execution_order(30, 3, 2));
    }

    #[test]
    fn the_corrected_accounting_gives_the_known_totals_across_a_wrap() {
        let shape = shape(60, 4);
        let mut machine = shape.machine_at_start();
        let mut wraps = 0;
        for (i, tk) in [(0, 0), (17, 2), (29, 1)].into_iter().enumerate() {
            let p = plan(&shape, i, tk, &mut machine);
            let (files, known) = build(&shape, &p);
            let m = metrics_row(
                &files.trial,
                &files.requests,
                &files.samples,
                &[],
                Accounting::Corrected,
            );
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs();
            assert!(
                close(m.gpu_j.unwrap(), known.gpu_j),
                "{:?} vs {}",
                m.gpu_j,
                known.gpu_j
            );
            assert!(
                close(m.cpu_j.unwrap(), known.cpu_j),
                "{:?} vs {}",
                m.cpu_j,
                known.cpu_j
            );
            assert_eq!(m.energy_components.as_deref(), Some("cpu+gpu+dram"));
            assert!(close(m.dram_j.unwrap(), known.dram_j));
            assert!(close(m.duration_s, known.duration_s));
            assert_eq!(m.tokens, known.tokens);
            assert_eq!(m.gpu_source.as_str(), "energy_counter");
            let idle = baseline_power_w(files.baseline.as_ref().unwrap()).unwrap();
            assert!(close(idle, known.baseline_power_w.unwrap()), "{idle}");
            wraps += m.cpu_wraps;
        }
        assert!(wraps >= 1, "the package counter starts just below its range");
    }

    #[test]
    fn energy_per_token_falls_with_the_concurrency_as_the_closed_form_says() {
        let shape = Shape {
            levels: vec![1, 8, 32],
            ..shape(60, 4)
        };
        let mut machine = shape.machine_at_start();
        // Treatment 0 (Llama 2 7B × BoolQ) at each level: treatments 0, 30 and 60.
        let mut per_token = Vec::new();
        for (i, (t, c)) in [(0, 1), (30, 8), (60, 32)].into_iter().enumerate() {
            let p = plan(&shape, i, (t, 0), &mut machine);
            assert_eq!(p.key.concurrency, Some(c));
            let (files, known) = build(&shape, &p);
            assert_eq!(files.requests.len(), 4 * c as usize);
            assert_eq!(known.requests, 4 * c);
            let m = metrics_row(
                &files.trial,
                &files.requests,
                &files.samples,
                &[],
                Accounting::Corrected,
            );
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs();
            assert!(close(m.energy_j.unwrap(), known.energy_j));
            assert_eq!(m.tokens, known.tokens);
            // The steady state is the whole window: the same energy per token.
            let (s, latency) = crate::model::serving::serving(&files, &[]);
            let steady = s.steady.unwrap();
            assert_eq!((steady.start_ms, steady.end_ms), p.window);
            assert!(close(steady.energy_j.unwrap(), known.energy_j));
            assert!(close(steady.tokens, known.tokens as f64));
            // ITL: one-token chunks evenly spaced, so every request's median gap is its TPOT
            // (to the microsecond the offsets are rounded to).
            for (itl, tpot) in latency.itl_p50_ms.iter().zip(&latency.tpot_ms) {
                assert!((itl - tpot).abs() < 2e-3, "{itl} vs {tpot}");
            }
            per_token.push(known.energy_j / known.tokens as f64);
        }
        assert!(
            per_token[0] > per_token[1] && per_token[1] > per_token[2],
            "{per_token:?}"
        );
        // The GPU's power grows as c^0.2 and the tokens as c: at 32 the GPU's share of a
        // token costs 32^0.2 / 32 = 1/16 of what it costs at 1, up to the ±4 % jitter.
        assert!(per_token[2] < per_token[0] / 10.0);
    }

    #[test]
    fn too_short_windows_are_refused() {
        let opts = SynthOptions {
            out: PathBuf::from("unused"),
            trials: 1,
            samples_per_trial: 2,
            requests_per_trial: 50,
            interval_ms: 200,
            baseline_samples: 0,
            concurrency: Vec::new(),
            seed: 0,
            force: false,
            progress: false,
        };
        assert!(check(&opts).is_err());
        assert_eq!(
            check(&SynthOptions {
                requests_per_trial: 5,
                trials: 31,
                ..opts
            })
            .unwrap(),
            2
        );
    }
}
