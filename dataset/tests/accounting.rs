//! The corrected and published accounting on fixtures whose answers are known analytically.

#![allow(clippy::unwrap_used)]

use approx::assert_relative_eq;
use dataset::accounting::{self, Window, wrap_range};
use dataset::{GpuSource, SampleColumn, SampleTable};

/// Tolerance for sums of a few hundred floats with exact analytic answers.
const EXACT: f64 = 1e-12;

fn table(time_ms: Vec<i64>, columns: Vec<(&str, Vec<f64>)>) -> SampleTable {
    SampleTable {
        time_ms,
        columns: columns
            .into_iter()
            .map(|(n, v)| SampleColumn::new(n, v))
            .collect(),
    }
}

fn coarse(start_s: i64, end_s: i64) -> Window {
    Window {
        start_ms: start_s * 1000,
        end_ms: end_s * 1000,
        resolution_ms: 1000,
    }
}

fn precise(start_ms: i64, end_ms: i64) -> Window {
    Window {
        start_ms,
        end_ms,
        resolution_ms: 1,
    }
}

#[test]
fn constant_power_integrates_to_power_times_window() {
    // 300 W for samples every 200 ms from t = 10 s to t = 20.8 s; the window of whole seconds
    // [10, 20] keeps samples 10.0 s ..= 20.8 s, so 10.8 s of integral.
    let t: Vec<i64> = (0..=54).map(|i| 10_000 + i * 200).collect();
    let s = table(t.clone(), vec![("GPU0_POWER (mWatts)", vec![300_000.0; t.len()])]);
    let e = accounting::corrected(&s, coarse(10, 20));
    assert_relative_eq!(e.gpu_j.unwrap(), 300.0 * 10.8, max_relative = EXACT);
    assert_relative_eq!(e.duration_s, 10.8, max_relative = EXACT);
    assert_eq!(e.samples_in_window, 55);
    assert_eq!(e.gpu_source, GpuSource::PowerIntegral);
    assert_eq!(e.dram_j, None);
    assert_eq!(e.cpu_j, None);
    assert_eq!(e.components().as_deref(), Some("gpu"));
}

#[test]
fn a_linear_power_ramp_integrates_exactly_with_trapezoids() {
    // P(t) = 100 W + 10 W/s * t, sampled every 250 ms over 0..8 s: ∫ = 100*8 + 5*64 = 1120 J.
    let t: Vec<i64> = (0..=32).map(|i| i * 250).collect();
    let p: Vec<f64> = t
        .iter()
        .map(|&ms| (100.0 + 10.0 * ms as f64 / 1000.0) * 1000.0)
        .collect();
    let s = table(t, vec![("GPU0_POWER (mWatts)", p)]);
    let e = accounting::corrected(&s, precise(0, 8000));
    assert_relative_eq!(e.gpu_j.unwrap(), 1120.0, max_relative = EXACT);
    // Precise windows interpolate at the edges: [1.1 s, 6.3 s] → 100*5.2 + 5*(6.3²-1.1²) = 712.4 J.
    let e = accounting::corrected(&s, precise(1100, 6300));
    assert_relative_eq!(e.gpu_j.unwrap(), 712.4, max_relative = 1e-11);
    assert_relative_eq!(e.duration_s, 5.2, max_relative = EXACT);
}

#[test]
fn two_gpus_are_summed() {
    let t: Vec<i64> = (0..=10).map(|i| i * 100).collect();
    let s = table(
        t.clone(),
        vec![
            ("GPU0_POWER (mWatts)", vec![100_000.0; 11]),
            ("GPU1_POWER (mWatts)", vec![50_000.0; 11]),
        ],
    );
    let e = accounting::corrected(&s, precise(0, 1000));
    assert_relative_eq!(e.gpu_j.unwrap(), 150.0, max_relative = EXACT);
}

fn counter(start: f64, step: f64, n: usize, range: f64) -> Vec<f64> {
    (0..n).map(|i| (start + step * i as f64) % range).collect()
}

#[test]
fn a_counter_wrapping_once_in_the_window_is_unwrapped() {
    // 2^18 J range (the largest value shown, 262100, rounds up to 2^18); 50 J per 200 ms.
    let range = 262_144.0;
    let t: Vec<i64> = (0..100).map(|i| i * 200).collect();
    let v = counter(262_100.0 - 50.0 * 20.0, 50.0, 100, range);
    let s = table(t, vec![("PACKAGE_ENERGY (J)", v)]);
    assert_eq!(wrap_range(&s.columns[0]), range);
    let e = accounting::corrected(&s, coarse(0, 19)); // samples 0 ..= 19.8 s: 99 steps
    assert_relative_eq!(e.cpu_j.unwrap(), 50.0 * 99.0, max_relative = EXACT);
    assert_eq!(e.cpu_wraps, 1);
}

#[test]
fn a_counter_wrapping_twice_in_the_window_is_unwrapped() {
    // An AMD counter with a 2^16 J range (largest value shown 65 000) wrapping twice:
    // 1000 J per sample, 150 samples: 149 000 J.
    let range = 65_536.0;
    let t: Vec<i64> = (0..150).map(|i| i * 200).collect();
    let v = counter(500.0, 1000.0, 150, range);
    assert_eq!(v.iter().cloned().fold(0.0, f64::max), 65_500.0);
    let s = table(t, vec![("CPU_ENERGY (J)", v)]);
    let e = accounting::corrected(&s, coarse(0, 29));
    assert_relative_eq!(e.cpu_j.unwrap(), 149_000.0, max_relative = EXACT);
    assert_eq!(e.cpu_wraps, 2);
}

#[test]
fn a_recorded_wrap_range_wins_over_the_inferred_one() {
    let mut c = SampleColumn::new("PACKAGE_ENERGY (J)", vec![10.0, 90.0, 5.0]);
    assert_eq!(wrap_range(&c), 128.0);
    c.wrap_range = Some(100.0);
    let s = SampleTable {
        time_ms: vec![0, 1000, 2000],
        columns: vec![c],
    };
    let e = accounting::corrected(&s, precise(0, 2000));
    assert_relative_eq!(e.cpu_j.unwrap(), 95.0, max_relative = EXACT);
}

#[test]
fn duplicated_timestamps_are_zero_width_intervals() {
    // The published files start with two rows at the same time; the duplicate must add nothing.
    let t = vec![0, 0, 200, 400, 600, 800, 1000];
    let p = vec![
        999_000.0, 100_000.0, 100_000.0, 100_000.0, 100_000.0, 100_000.0, 100_000.0,
    ];
    let s = table(t, vec![("GPU0_POWER (mWatts)", p)]);
    let e = accounting::corrected(&s, coarse(0, 0));
    // Window [0, 1000) holds samples 0, 0, 200, ..., 800: (999+100)/2 * 0 + 100 W * 0.8 s.
    assert_relative_eq!(e.gpu_j.unwrap(), 80.0, max_relative = EXACT);
    assert_relative_eq!(e.duration_s, 0.8, max_relative = EXACT);
}

#[test]
fn samples_running_backwards_are_left_out_and_counted() {
    let t = vec![0, 200, 400, 300, 600, 800];
    let p = vec![100_000.0, 100_000.0, 100_000.0, 5_000_000.0, 100_000.0, 100_000.0];
    let s = table(t, vec![("GPU0_POWER (mWatts)", p)]);
    let e = accounting::corrected(&s, precise(0, 800));
    assert_relative_eq!(e.gpu_j.unwrap(), 80.0, max_relative = EXACT);
    assert_eq!(e.backwards_samples, 1);
}

#[test]
fn the_gpu_energy_counter_is_preferred_over_power() {
    // Power says 100 W but the counter says 200 J/s: the counter wins, interpolated at edges.
    let t: Vec<i64> = (0..=10).map(|i| i * 1000).collect();
    let s = table(
        t.clone(),
        vec![
            ("GPU0_POWER (mWatts)", vec![100_000.0; 11]),
            (
                "GPU0_ENERGY (mJ)",
                t.iter().map(|&ms| 5.0e6 + 200.0 * ms as f64).collect(),
            ),
        ],
    );
    let e = accounting::corrected(&s, precise(1500, 4500));
    assert_relative_eq!(e.gpu_j.unwrap(), 600.0, max_relative = EXACT);
    assert_eq!(e.gpu_source, GpuSource::EnergyCounter);
}

#[test]
fn the_published_procedure_counts_cpu_twice_and_assumes_200_ms() {
    let t = vec![999, 1000, 1200, 1400, 2000, 2001];
    let s = table(
        t,
        vec![
            (
                "GPU0_POWER (mWatts)",
                vec![1.0e9, 100_000.0, 100_000.0, 100_000.0, 100_000.0, 1.0e9],
            ),
            ("PACKAGE_ENERGY (J)", vec![0.0, 10.0, 20.0, 5.0, 15.0, 99.0]),
        ],
    );
    let e = accounting::published(&s, coarse(1, 2));
    // Kept: 1000, 1200, 1400, 2000 (Time/1000 in [1, 2]). cpu_diff: 0, 10, 5 (wrap: new value), 10.
    assert_relative_eq!(e.cpu_j.unwrap(), 25.0, max_relative = EXACT);
    assert_relative_eq!(e.gpu_j.unwrap(), 4.0 * 20.0 + 25.0, max_relative = EXACT);
    assert_relative_eq!(e.duration_s, 1.0, max_relative = EXACT);
    assert_eq!(e.dram_j, Some(0.0));
    assert_eq!(e.cpu_wraps, 1);
}

#[test]
fn baseline_power_and_idle_subtraction() {
    use dataset::{MetricsRow, accounting::apply_baseline, accounting::baseline_power_w};
    // 80 W idle for 10 s.
    let t: Vec<i64> = (0..=50).map(|i| i * 200).collect();
    let b = table(t, vec![("GPU0_POWER (mWatts)", vec![80_000.0; 51])]);
    let p = baseline_power_w(&b).unwrap();
    assert_relative_eq!(p, 80.0, max_relative = EXACT);
    let mut row = MetricsRow {
        key: dataset::TrialKey {
            run_id: "r".into(),
            run: 0,
            repetition: 0,
            generation: "3".into(),
            model_size: "8B".into(),
            model: "m".into(),
            task: "CB".into(),
            ..Default::default()
        },
        cpu_j: None,
        gpu_j: Some(1000.0),
        dram_j: None,
        energy_j: Some(1000.0),
        energy_components: Some("gpu".into()),
        duration_s: 5.0,
        tokens: 10,
        energy_per_token: Some(100.0),
        power_w: Some(200.0),
        accuracy: None,
        accounting: dataset::Accounting::Corrected,
        samples_in_window: 25,
        requests: 1,
        gpu_source: GpuSource::PowerIntegral,
        cpu_wraps: 0,
        backwards_samples: 0,
        simulated: false,
        accuracy_gold: None,
        accuracy_judge: None,
        baseline_power_w: None,
        idle_energy_j: None,
        energy_above_idle_j: None,
        testbed: None,
        unattributed_energy_j: None,
    };
    apply_baseline(&mut row, p);
    assert_relative_eq!(row.idle_energy_j.unwrap(), 400.0, max_relative = EXACT);
    assert_relative_eq!(row.energy_above_idle_j.unwrap(), 600.0, max_relative = EXACT);
}

#[test]
fn per_request_energy_interpolates_counters_at_request_edges() {
    use dataset::{Request, Trial, accounting::request_metrics};
    // A GPU energy counter rising 300 J/s; two requests [1.25 s, 2.5 s] and [2.5 s, 4.1 s].
    let t: Vec<i64> = (0..=25).map(|i| i * 200).collect();
    let s = table(
        t.clone(),
        vec![(
            "GPU0_ENERGY (mJ)",
            t.iter().map(|&ms| 300.0 * ms as f64).collect(),
        )],
    );
    let trial = Trial {
        key: dataset::TrialKey {
            run_id: "r".into(),
            ..Default::default()
        },
        time_resolution_ms: 1,
        ..Default::default()
    };
    let req = |i: i64, a: i64, b: i64| Request {
        run_id: "r".into(),
        index: i,
        start_ms: a,
        end_ms: b,
        completion_tokens: Some(5),
        ..Default::default()
    };
    let rows = request_metrics(&trial, &[req(0, 1250, 2500), req(1, 2500, 4100)], &s);
    assert_relative_eq!(rows[0].window_energy_j.unwrap(), 375.0, max_relative = EXACT);
    assert_relative_eq!(rows[1].window_energy_j.unwrap(), 480.0, max_relative = EXACT);
    // The attributed shares conserve the trial's 855 J; the sample interval [2.4 s, 2.6 s]
    // both touch is split by their token rates, within each one's error bound.
    let (e0, e1) = (rows[0].energy_j.unwrap(), rows[1].energy_j.unwrap());
    assert_relative_eq!(e0 + e1, 855.0, max_relative = 1e-12);
    assert!((e0 - 375.0).abs() <= rows[0].attribution_error_j.unwrap());
    assert!((e1 - 480.0).abs() <= rows[1].attribution_error_j.unwrap());
    assert_eq!(rows[0].attribution.as_deref(), Some("measured"));
    assert_relative_eq!(rows[1].energy_per_token.unwrap(), e1 / 5.0, max_relative = EXACT);
    let coarse = Trial {
        time_resolution_ms: 1000,
        ..trial
    };
    assert!(request_metrics(&coarse, &[req(0, 1000, 2000)], &s).is_empty());
}

#[test]
fn every_socket_is_unwrapped_on_its_own_and_summed() {
    // Socket 0 wraps at 2^18 J, socket 1 at 2^16 J (its largest value is 65 520): 100 J and
    // 40 J per second, one wrap each inside the window.
    let t: Vec<i64> = (0..=10).map(|i| i * 1000).collect();
    let s0: Vec<f64> = (0..=10)
        .map(|i| (262_000.0 + 100.0 * i as f64) % 262_144.0)
        .collect();
    let s1: Vec<f64> = (0..=10)
        .map(|i| (65_200.0 + 40.0 * i as f64) % 65_536.0)
        .collect();
    let d0: Vec<f64> = (0..=10).map(|i| 5.0 * i as f64).collect();
    let d1: Vec<f64> = (0..=10).map(|i| 3.0 * i as f64).collect();
    let s = table(
        t,
        vec![
            ("PACKAGE_ENERGY (J)", s0),
            ("PACKAGE1_ENERGY (J)", s1),
            ("DRAM_ENERGY (J)", d0),
            ("DRAM1_ENERGY (J)", d1),
        ],
    );
    let e = accounting::corrected(&s, precise(0, 10_000));
    assert_relative_eq!(e.cpu_j.unwrap(), 1400.0, max_relative = EXACT);
    assert_eq!(e.cpu_wraps, 2);
    assert_relative_eq!(e.dram_j.unwrap(), 80.0, max_relative = EXACT);
    // The published procedure knows one package counter only (socket 0).
    let p = accounting::published(&s, coarse(0, 10));
    assert!(p.cpu_j.unwrap() < 1400.0);
}

#[test]
fn a_sparsely_read_gpu_counter_is_used_when_its_readings_bracket_the_window() {
    // collect reads NVML's energy counter once a second and power every 200 ms. Power says
    // 100 W, the counter 250 J/s: the counter must win where it brackets the window.
    let t: Vec<i64> = (0..=50).map(|i| i * 200).collect();
    let mut counter = SampleColumn::new(
        "GPU0_ENERGY (mJ)",
        t.iter()
            .map(|&ms| if ms % 1000 == 0 { 250.0 * ms as f64 } else { 0.0 })
            .collect(),
    );
    counter.valid = Some(t.iter().map(|&ms| ms % 1000 == 0).collect());
    let s = SampleTable {
        time_ms: t.clone(),
        columns: vec![
            SampleColumn::new("GPU0_POWER (mWatts)", vec![100_000.0; t.len()]),
            counter,
        ],
    };
    let e = accounting::corrected(&s, precise(1500, 7300));
    assert_relative_eq!(e.gpu_j.unwrap(), 250.0 * 5.8, max_relative = EXACT);
    assert_eq!(e.gpu_source, GpuSource::EnergyCounter);
    // A window reaching past the last reading falls back to power.
    let e = accounting::corrected(&s, precise(9500, 10_500));
    assert_eq!(e.gpu_source, GpuSource::PowerIntegral);
}

#[test]
fn a_component_nothing_measured_is_null_not_zero() {
    // GPU power only (a machine without RAPL): no CPU or DRAM energy, energy_j is the GPU's.
    let t: Vec<i64> = (0..=10).map(|i| i * 100).collect();
    let s = table(t.clone(), vec![("GPU0_POWER (mWatts)", vec![100_000.0; t.len()])]);
    let e = accounting::corrected(&s, precise(0, 1000));
    assert_eq!((e.cpu_j, e.dram_j), (None, None));
    assert_relative_eq!(e.total_j().unwrap(), 100.0, max_relative = EXACT);
    assert_eq!(e.components().as_deref(), Some("gpu"));
    // A DRAM counter that holds one value throughout (the published data's 0) measured
    // nothing in the corrected accounting; a package counter that moves did.
    let s = table(
        t.clone(),
        vec![
            (
                "PACKAGE_ENERGY (J)",
                t.iter().map(|&ms| 5.0 * ms as f64 / 1000.0).collect(),
            ),
            ("DRAM_ENERGY (J)", vec![0.0; t.len()]),
        ],
    );
    let e = accounting::corrected(&s, precise(0, 1000));
    assert_eq!((e.gpu_j, e.dram_j), (None, None));
    assert_relative_eq!(e.cpu_j.unwrap(), 5.0, max_relative = EXACT);
    assert_eq!(e.components().as_deref(), Some("cpu"));
    // The published accounting keeps the study's zeros.
    let p = accounting::published(&s, coarse(0, 1));
    assert_eq!(p.dram_j, Some(0.0));
    // No energy channel at all: nothing measured, energy null.
    let s = table(t, vec![]);
    let e = accounting::corrected(&s, precise(0, 1000));
    assert_eq!(e.total_j(), None);
    assert_eq!(e.components(), None);
}
