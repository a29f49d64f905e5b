//! `analyze audit`: the data-quality audit, per trial and overall. It compares the published
//! accounting with the corrected one, finds RAPL wraps (and the negative EnergiBridge summaries
//! they caused), sample gaps, duplicated or backwards timestamps, thin windows, judged-row
//! counts and identical responses across repetitions, and, given the published tables, checks
//! our replay of them and their decimal-comma `time(s)` column. The report reuses it.

use crate::published::PublishedTables;
use dataset::accounting::{self, Energy, Window, metrics_row};
use dataset::{Accounting, Channel, Damage, MetricsRow, TrialFiles, TrialKey};
use std::collections::{BTreeMap, HashMap};

/// A gap is a time step above this multiple of the trial's median sampling interval.
pub const GAP_FACTOR: f64 = 5.0;
/// A window is thin when it holds fewer than this fraction of the samples its length implies.
pub const THIN_WINDOW_FRACTION: f64 = 0.5;
/// Relative tolerance of the replay check against the published Raw table.
pub const REPLAY_TOLERANCE: f64 = 1e-9;

/// The audit of one trial.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialAudit {
    /// Published accounting (its key says which trial: see [`TrialAudit::key`]).
    pub published: MetricsRow,
    /// Corrected accounting.
    pub corrected: MetricsRow,
    /// The corrected method over exactly the samples the published window keeps (the
    /// accounting comparison splits the difference of the two with it).
    pub corrected_in_published_window: Energy,
    /// CPU package counter wraps anywhere in the file.
    pub cpu_wraps_file: usize,
    /// EnergiBridge's own summary energy, J (negative after a wrap).
    pub summary_energy_j: Option<f64>,
    /// Samples in the file.
    pub samples: usize,
    /// Samples the corrected window's length implies at the nominal interval.
    pub expected_in_window: f64,
    /// Time steps above [`GAP_FACTOR`] × the median interval.
    pub gaps: usize,
    /// Largest time step, ms.
    pub max_gap_ms: i64,
    /// Samples sharing their predecessor's time.
    pub duplicate_timestamps: usize,
    /// Samples earlier than their predecessor.
    pub backwards_timestamps: usize,
    /// Rows scored by the published judge.
    pub judged_rows: usize,
    /// Hash of all responses in order (to find repetitions that repeat each other).
    pub responses_hash: Option<u128>,
    /// Replay check: largest relative difference to the Raw table over cpu, gpu, total energy,
    /// duration and tokens (None without the table).
    pub replay_max_rel_diff: Option<f64>,
    /// Edited table `time(s)` as the published statistics read it, s.
    pub edited_time_as_read_s: Option<f64>,
    /// Edited table accuracy.
    pub edited_accuracy: Option<f64>,
    /// Raw table accuracy.
    pub raw_accuracy: Option<f64>,
}

impl TrialAudit {
    /// Which trial (the rows of both accountings carry the same key; one copy is kept).
    pub fn key(&self) -> &TrialKey {
        &self.published.key
    }

    /// Published energy over corrected energy.
    pub fn energy_ratio(&self) -> Option<f64> {
        Some(self.published.energy_j? / self.corrected.energy_j?)
    }

    /// True when the corrected window holds fewer samples than its length implies.
    pub fn thin_window(&self) -> bool {
        (self.corrected.samples_in_window as f64) < THIN_WINDOW_FRACTION * self.expected_in_window
    }
}

/// One treatment's repetitions compared.
#[derive(Debug, Clone, PartialEq)]
pub struct TreatmentAudit {
    /// Treatment index.
    pub run: i64,
    /// Generation label.
    pub generation: String,
    /// Size label.
    pub model_size: String,
    /// Task.
    pub task: String,
    /// Repetitions present.
    pub repetitions: usize,
    /// Distinct sets of responses among them (1 = every repetition answered identically).
    pub distinct_response_sets: usize,
}

/// The whole audit.
#[derive(Debug, Clone)]
pub struct Audit {
    /// Per trial, sorted by (run, repetition).
    pub trials: Vec<TrialAudit>,
    /// Per treatment.
    pub treatments: Vec<TreatmentAudit>,
    /// The published tables compared against, if any.
    pub tables: Option<PublishedTables>,
    /// The damaged files left out under `--skip-damaged`, with the trials they held (none of
    /// them is in [`Audit::trials`]); paths relative to the dataset folder.
    pub damage: Damage,
}

/// The part of a trial's provenance JSON the audit reads (EnergiBridge's own summary), as JSON
/// text; empty when it has none.
pub fn summary_only(provenance: &serde_json::Value) -> String {
    match provenance.get("energibridge_summary") {
        Some(summary) => serde_json::json!({ "energibridge_summary": summary }).to_string(),
        None => String::new(),
    }
}

fn hash_responses(t: &TrialFiles) -> Option<u128> {
    if t.requests.iter().all(|r| r.response.is_empty()) {
        return None;
    }
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for r in &t.requests {
        h.update(r.response.as_bytes());
        h.update(&[0]);
    }
    Some(h.digest128())
}

fn rel_diff(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

/// Audits one trial read with its response text; `scores` are its published judge scores and
/// `judged` the number of its published judgment rows.
pub fn audit_trial(
    t: &TrialFiles,
    scores: &[f64],
    judged: usize,
    tables: Option<&PublishedTables>,
) -> TrialAudit {
    let published = metrics_row(&t.trial, &t.requests, &t.samples, scores, Accounting::Published);
    let corrected = metrics_row(&t.trial, &t.requests, &t.samples, scores, Accounting::Corrected);
    let w = accounting::trial_window(&t.trial, &t.requests, Accounting::Published);
    // The corrected method over exactly the samples the published window keeps (`Time <= end`):
    // a coarse window includes `end + resolution − 1`, so end early.
    let same_samples = if w.is_coarse() {
        Window {
            end_ms: w.end_ms - w.resolution_ms + 1,
            ..w
        }
    } else {
        w
    };
    let corrected_in_published_window = accounting::corrected(&t.samples, same_samples);
    let times = &t.samples.time_ms;
    let steps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let mut positive: Vec<i64> = steps.iter().copied().filter(|&d| d > 0).collect();
    positive.sort_unstable();
    let median = positive.get(positive.len() / 2).copied().unwrap_or(0) as f64;
    let interval = t.trial.sample_interval_ms.unwrap_or(median).max(1.0);
    let package = t
        .samples
        .columns
        .iter()
        .find(|c| matches!(Channel::classify(&c.name), Channel::IntelPackage(0)))
        .or_else(|| {
            t.samples
                .columns
                .iter()
                .find(|c| Channel::classify(&c.name) == Channel::AmdPackage)
        });
    let cpu_wraps_file = package.map_or(0, |c| {
        let vals: Vec<f64> = (0..c.values.len()).filter_map(|i| c.get(i)).collect();
        vals.windows(2).filter(|w| w[1] < w[0]).count()
    });
    let provenance: serde_json::Value = serde_json::from_str(&t.trial.provenance).unwrap_or_default();
    let summary_energy_j = provenance
        .pointer("/energibridge_summary/energy_j")
        .and_then(serde_json::Value::as_f64);
    let window_ms = (t.trial.end_ms + t.trial.time_resolution_ms - t.trial.start_ms) as f64;
    let raw = tables.and_then(|tb| tb.raw.get(t.trial.key.run_id.as_str()));
    let edited = tables.and_then(|tb| tb.edited.get(t.trial.key.run_id.as_str()));
    let replay_max_rel_diff = raw.map(|r| {
        [
            rel_diff(published.cpu_j.unwrap_or(f64::NAN), r.cpu_joules),
            rel_diff(published.gpu_j.unwrap_or(f64::NAN), r.gpu_joules),
            rel_diff(published.energy_j.unwrap_or(f64::NAN), r.total_joules),
            rel_diff(published.duration_s * 1000.0, r.duration_ms),
            rel_diff(published.tokens as f64, r.tokens),
        ]
        .into_iter()
        .fold(0.0, f64::max)
    });
    TrialAudit {
        corrected_in_published_window,
        cpu_wraps_file,
        summary_energy_j,
        samples: times.len(),
        expected_in_window: window_ms / interval,
        gaps: steps
            .iter()
            .filter(|&&d| d as f64 > GAP_FACTOR * interval)
            .count(),
        max_gap_ms: steps.iter().copied().max().unwrap_or(0),
        duplicate_timestamps: steps.iter().filter(|&&d| d == 0).count(),
        backwards_timestamps: steps.iter().filter(|&&d| d < 0).count(),
        judged_rows: judged,
        responses_hash: hash_responses(t),
        replay_max_rel_diff,
        edited_time_as_read_s: edited.map(|e| e.time_s_as_read),
        edited_accuracy: edited.map(|e| e.accuracy),
        raw_accuracy: raw.map(|r| r.accuracy),
        published,
        corrected,
    }
}

impl Audit {
    /// The audit of a dataset from its trials' audits (sorted by run and repetition) and the
    /// published tables they were checked against.
    pub fn new(trials: Vec<TrialAudit>, tables: Option<PublishedTables>) -> Self {
        let mut by_run: BTreeMap<i64, Vec<&TrialAudit>> = BTreeMap::new();
        for a in &trials {
            by_run.entry(a.key().run).or_default().push(a);
        }
        let treatments = by_run
            .into_iter()
            .map(|(run, audits)| {
                let mut hashes: Vec<u128> = audits.iter().filter_map(|a| a.responses_hash).collect();
                hashes.sort_unstable();
                hashes.dedup();
                let key = audits[0].key();
                TreatmentAudit {
                    run,
                    generation: key.generation.to_string(),
                    model_size: key.model_size.to_string(),
                    task: key.task.to_string(),
                    repetitions: audits.len(),
                    distinct_response_sets: hashes.len(),
                }
            })
            .collect();
        Audit {
            trials,
            treatments,
            tables,
            damage: Damage::default(),
        }
    }
}

/// Overall figures of an audit.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditTotals {
    /// Trials audited.
    pub trials: usize,
    /// Σ published energy, J.
    pub published_energy_j: f64,
    /// Σ corrected energy, J.
    pub corrected_energy_j: f64,
    /// Σ published CPU energy (counted once in `cpu_j`), J.
    pub published_cpu_j: f64,
    /// Trials whose file shows at least one CPU counter wrap.
    pub trials_with_wraps: usize,
    /// CPU counter wraps in all files.
    pub wraps_in_files: usize,
    /// Wraps inside the corrected windows.
    pub wraps_in_corrected_windows: usize,
    /// Wraps inside the published windows.
    pub wraps_in_published_windows: usize,
    /// EnergiBridge summaries that are negative.
    pub negative_summaries: usize,
    /// Trials with a sampling gap.
    pub trials_with_gaps: usize,
    /// Largest step between samples, ms.
    pub max_gap_ms: i64,
    /// Trials with a duplicated timestamp.
    pub trials_with_duplicates: usize,
    /// Samples running backwards.
    pub backwards_timestamps: usize,
    /// Trials whose window is thin.
    pub thin_windows: usize,
    /// Histogram: judged rows per trial → trials.
    pub judged_rows: BTreeMap<usize, usize>,
    /// Treatments whose repetitions all returned identical responses.
    pub identical_treatments: usize,
    /// Treatments.
    pub treatments: usize,
    /// Trials checked against the Raw table, and those within [`REPLAY_TOLERANCE`].
    pub replay_checked: usize,
    /// Trials matching the Raw table.
    pub replay_matching: usize,
    /// Largest relative difference to the Raw table.
    pub replay_max_rel_diff: f64,
    /// Trials whose Edited `time(s)` reads as ≈100 × the duration.
    pub edited_time_x100: usize,
    /// Trials with an Edited row.
    pub edited_checked: usize,
    /// Trials whose Edited `time(s)` as read equals the duration rounded half up to 10 ms
    /// (the derivation [`crate::model::as_read`] uses).
    pub edited_time_derived: usize,
    /// Trials whose power, as the script computed it from the Edited table, has another rank
    /// than energy ÷ exact duration.
    pub edited_power_rank_changes: usize,
    /// Trials with both tables whose Edited accuracy differs from the Raw one.
    pub edited_accuracy_differs: usize,
    /// Of those with a Raw row, how many Raw accuracies are exactly 1.
    pub raw_accuracy_ones: usize,
}

impl Audit {
    /// The overall figures.
    pub fn totals(&self) -> AuditTotals {
        let t = &self.trials;
        let mut judged = BTreeMap::new();
        for a in t {
            *judged.entry(a.judged_rows).or_insert(0) += 1;
        }
        let replay: Vec<f64> = t.iter().filter_map(|a| a.replay_max_rel_diff).collect();
        let x100 = t
            .iter()
            .filter(|a| {
                a.edited_time_as_read_s.is_some_and(|s| {
                    let r = s / a.published.duration_s;
                    (90.0..=110.0).contains(&r)
                })
            })
            .count();
        AuditTotals {
            trials: t.len(),
            published_energy_j: t.iter().filter_map(|a| a.published.energy_j).sum(),
            corrected_energy_j: t.iter().filter_map(|a| a.corrected.energy_j).sum(),
            published_cpu_j: t.iter().filter_map(|a| a.published.cpu_j).sum(),
            trials_with_wraps: t.iter().filter(|a| a.cpu_wraps_file > 0).count(),
            wraps_in_files: t.iter().map(|a| a.cpu_wraps_file).sum(),
            wraps_in_corrected_windows: t.iter().map(|a| a.corrected.cpu_wraps as usize).sum(),
            wraps_in_published_windows: t.iter().map(|a| a.published.cpu_wraps as usize).sum(),
            negative_summaries: t
                .iter()
                .filter(|a| a.summary_energy_j.is_some_and(|e| e < 0.0))
                .count(),
            trials_with_gaps: t.iter().filter(|a| a.gaps > 0).count(),
            max_gap_ms: t.iter().map(|a| a.max_gap_ms).max().unwrap_or(0),
            trials_with_duplicates: t.iter().filter(|a| a.duplicate_timestamps > 0).count(),
            backwards_timestamps: t.iter().map(|a| a.backwards_timestamps).sum(),
            thin_windows: t.iter().filter(|a| a.thin_window()).count(),
            judged_rows: judged,
            identical_treatments: self
                .treatments
                .iter()
                .filter(|x| x.repetitions > 1 && x.distinct_response_sets == 1)
                .count(),
            treatments: self.treatments.len(),
            replay_checked: replay.len(),
            replay_matching: replay.iter().filter(|&&d| d <= REPLAY_TOLERANCE).count(),
            replay_max_rel_diff: replay.iter().copied().fold(0.0, f64::max),
            edited_time_x100: x100,
            edited_checked: t.iter().filter(|a| a.edited_time_as_read_s.is_some()).count(),
            edited_time_derived: t
                .iter()
                .filter(|a| {
                    a.edited_time_as_read_s
                        .is_some_and(|s| s == crate::model::as_read::duration_as_read(a.published.duration_s))
                })
                .count(),
            edited_power_rank_changes: power_rank_changes(t),
            edited_accuracy_differs: t
                .iter()
                .filter(|a| matches!((a.edited_accuracy, a.raw_accuracy), (Some(e), Some(r)) if e != r))
                .count(),
            raw_accuracy_ones: t.iter().filter(|a| a.raw_accuracy == Some(1.0)).count(),
        }
    }

    /// The per-trial audit as CSV rows (`analyze audit --csv`).
    pub fn records(&self) -> Vec<AuditRecord> {
        self.records_with(&HashMap::new())
    }

    /// [`Audit::records`] with each trial's steady state and validity gates (by run id; a
    /// trial without them gets nulls).
    pub fn records_with(&self, serving: &HashMap<&str, &crate::model::Serving>) -> Vec<AuditRecord> {
        let distinct: HashMap<i64, usize> = self
            .treatments
            .iter()
            .map(|x| (x.run, x.distinct_response_sets))
            .collect();
        self.trials
            .iter()
            .map(|a| AuditRecord {
                key: a.key().clone(),
                published_energy_j: a.published.energy_j,
                corrected_energy_j: a.corrected.energy_j,
                energy_ratio: a.energy_ratio(),
                published_cpu_j: a.published.cpu_j,
                corrected_cpu_j: a.corrected.cpu_j,
                published_gpu_j: a.published.gpu_j,
                corrected_gpu_j: a.corrected.gpu_j,
                published_duration_s: a.published.duration_s,
                corrected_duration_s: a.corrected.duration_s,
                cpu_wraps_file: a.cpu_wraps_file as i64,
                cpu_wraps_corrected_window: a.corrected.cpu_wraps,
                cpu_wraps_published_window: a.published.cpu_wraps,
                energibridge_summary_j: a.summary_energy_j,
                samples: a.samples as i64,
                samples_in_window: a.corrected.samples_in_window,
                expected_in_window: a.expected_in_window,
                thin_window: a.thin_window(),
                gaps: a.gaps as i64,
                max_gap_ms: a.max_gap_ms,
                duplicate_timestamps: a.duplicate_timestamps as i64,
                backwards_timestamps: a.backwards_timestamps as i64,
                judged_rows: a.judged_rows as i64,
                distinct_response_sets_in_treatment: distinct.get(&a.key().run).copied().unwrap_or(0) as i64,
                replay_max_rel_diff: a.replay_max_rel_diff,
                edited_time_as_read_s: a.edited_time_as_read_s,
                edited_accuracy: a.edited_accuracy,
                ..serving_columns(serving.get(a.key().run_id.as_str()).copied())
            })
            .collect()
    }
}

/// The serving columns of an audit record (all null without serving facts).
fn serving_columns(s: Option<&crate::model::Serving>) -> AuditRecord {
    use crate::model::serving::gate_label;
    let Some(s) = s else {
        return AuditRecord::default();
    };
    let g = &s.gates;
    let label = |x| gate_label(x).map(String::from);
    AuditRecord {
        steady_duration_s: s.steady.map(|x| x.duration_s()),
        steady_energy_per_token_j: s.steady.and_then(|x| x.energy_per_token_j()),
        gate_steady_state: label(g.steady_state),
        gate_power_range: label(g.power_range),
        gate_counter_agreement: label(g.counter_agreement),
        gate_sample_gaps: label(g.sample_gaps),
        gate_temperature: label(g.temperature),
        gates_failed: g.failed().join("+"),
        ..AuditRecord::default()
    }
}

dataset::table! {
    /// One row of `analyze audit --csv`: the audit of one trial.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct AuditRecord {
        #[flatten]
        /// Which trial.
        pub key: TrialKey,
        /// Energy under the published accounting.
        #[unit("J")]
        pub published_energy_j: Option<f64>,
        /// Energy under the corrected accounting.
        #[unit("J")]
        pub corrected_energy_j: Option<f64>,
        /// published_energy_j / corrected_energy_j.
        pub energy_ratio: Option<f64>,
        /// CPU energy, published.
        #[unit("J")]
        pub published_cpu_j: Option<f64>,
        /// CPU energy, corrected.
        #[unit("J")]
        pub corrected_cpu_j: Option<f64>,
        /// GPU energy, published (it counts the CPU energy again).
        #[unit("J")]
        pub published_gpu_j: Option<f64>,
        /// GPU energy, corrected.
        #[unit("J")]
        pub corrected_gpu_j: Option<f64>,
        /// Window length, published.
        #[unit("s")]
        pub published_duration_s: f64,
        /// Window length, corrected.
        #[unit("s")]
        pub corrected_duration_s: f64,
        /// CPU package counter wraps anywhere in the file.
        pub cpu_wraps_file: i64,
        /// Wraps inside the corrected window.
        pub cpu_wraps_corrected_window: i64,
        /// Wraps inside the published window.
        pub cpu_wraps_published_window: i64,
        /// EnergiBridge's own summary energy (negative after a wrap).
        #[unit("J")]
        pub energibridge_summary_j: Option<f64>,
        /// Samples in the file.
        pub samples: i64,
        /// Samples in the corrected window.
        pub samples_in_window: i64,
        /// Samples the corrected window's length implies at the nominal interval.
        pub expected_in_window: f64,
        /// Fewer samples in the window than half of those expected.
        pub thin_window: bool,
        /// Time steps above the gap factor × the median interval.
        pub gaps: i64,
        /// Largest time step.
        #[unit("ms")]
        pub max_gap_ms: i64,
        /// Samples sharing their predecessor's time.
        pub duplicate_timestamps: i64,
        /// Samples earlier than their predecessor.
        pub backwards_timestamps: i64,
        /// Rows scored by the published judge.
        pub judged_rows: i64,
        /// Distinct sets of responses among the treatment's repetitions.
        pub distinct_response_sets_in_treatment: i64,
        /// Largest relative difference to the published Raw table.
        pub replay_max_rel_diff: Option<f64>,
        /// The Edited table's `time(s)` as the published statistics read it.
        #[unit("s")]
        pub edited_time_as_read_s: Option<f64>,
        /// The Edited table's accuracy.
        pub edited_accuracy: Option<f64>,
        /// Length of the steady state (ML.ENERGY's definition; see `serving.csv`).
        #[unit("s")]
        pub steady_duration_s: Option<f64>,
        /// Energy per generated token within the steady state.
        #[unit("J/token")]
        pub steady_energy_per_token_j: Option<f64>,
        /// Steady state of at least 30 s at concurrency above 1: `pass`, `fail`, empty when it cannot be evaluated.
        pub gate_steady_state: Option<String>,
        /// GPU power within [idle − 10 %, power limit].
        pub gate_power_range: Option<String>,
        /// Energy counter and integrated power within 5 %.
        pub gate_counter_agreement: Option<String>,
        /// No sample gap longer than 3 intervals.
        pub gate_sample_gaps: Option<String>,
        /// GPU temperature rise of at most 5 °C.
        pub gate_temperature: Option<String>,
        /// The gates that failed, `+`-joined.
        pub gates_failed: String,
    }
}

/// Trials whose power as the R script computed it (energy ÷ Edited `time(s)` as read) ranks
/// differently from energy ÷ exact duration, among the trials with an Edited row.
fn power_rank_changes(trials: &[TrialAudit]) -> usize {
    let (read, exact): (Vec<f64>, Vec<f64>) = trials
        .iter()
        .filter_map(|a| {
            let s = a.edited_time_as_read_s?;
            Some((
                a.published.energy_j? / s,
                a.published.energy_j? / a.published.duration_s,
            ))
        })
        .unzip();
    let (r, e) = (
        crate::stats::rank::average_ranks(&read),
        crate::stats::rank::average_ranks(&exact),
    );
    r.iter().zip(&e).filter(|(a, b)| a != b).count()
}

/// The audit in plain text, for the terminal.
pub fn render_text(audit: &Audit) -> String {
    use std::fmt::Write as _;
    let x = audit.totals();
    let mut out = String::new();
    let pct = |a: f64, b: f64| if b == 0.0 { 0.0 } else { 100.0 * (a / b - 1.0) };
    let _ = writeln!(
        out,
        "Data-quality audit of {} trials ({} treatments)\n",
        x.trials, x.treatments
    );
    let d = &audit.damage;
    if !d.is_empty() {
        let _ = writeln!(
            out,
            "Damaged files (paths inside the dataset folder): {}, left out of this audit:",
            d.headline()
        );
        for line in d.skipped_lines() {
            let _ = writeln!(out, "  {line}");
        }
        let balance: Vec<String> = d
            .balance(audit.trials.iter().map(|a| a.key()))
            .iter()
            .map(ToString::to_string)
            .collect();
        if !balance.is_empty() {
            let _ = writeln!(
                out,
                "Repetitions per treatment after skipping the damaged trials: {}.",
                balance.join("; ")
            );
        }
    }
    let _ = writeln!(
        out,
        "Energy: published {:.1} kJ vs corrected {:.1} kJ ({:+.1} %): the published gpu_joules adds the CPU energy again ({:.1} kJ counted twice).",
        x.published_energy_j / 1e3,
        x.corrected_energy_j / 1e3,
        pct(x.published_energy_j, x.corrected_energy_j),
        x.published_cpu_j / 1e3
    );
    let _ = writeln!(
        out,
        "RAPL wraps: {} in the files ({} trials), {} inside the corrected windows, {} inside the published ones; {} EnergiBridge summaries are negative because of them.",
        x.wraps_in_files,
        x.trials_with_wraps,
        x.wraps_in_corrected_windows,
        x.wraps_in_published_windows,
        x.negative_summaries
    );
    let _ = writeln!(
        out,
        "Sampling: {} trials with gaps > {GAP_FACTOR}x the interval (largest step {} ms), {} with duplicated timestamps, {} samples running backwards, {} thin windows.",
        x.trials_with_gaps, x.max_gap_ms, x.trials_with_duplicates, x.backwards_timestamps, x.thin_windows
    );
    let judged: Vec<String> = x
        .judged_rows
        .iter()
        .map(|(k, v)| format!("{k} rows: {v} trials"))
        .collect();
    let _ = writeln!(out, "Judged rows per trial: {}.", judged.join(", "));
    let _ = writeln!(
        out,
        "Repetitions: in {} of {} treatments every repetition returned the identical responses; those repetitions sample measurement noise, not the model's output.",
        x.identical_treatments, x.treatments
    );
    if x.replay_checked > 0 {
        let _ = writeln!(
            out,
            "Replay: {} of {} trials match the published Raw table to {REPLAY_TOLERANCE:e} relative (largest difference {:.2e}).",
            x.replay_matching, x.replay_checked, x.replay_max_rel_diff
        );
    }
    if x.edited_checked > 0 {
        let _ = writeln!(
            out,
            "Edited table: `time(s)` is written with a decimal comma; read as the published statistics did, {} of {} durations are ~100x too long (so their power figures are 100x too small).",
            x.edited_time_x100, x.edited_checked
        );
        let _ = writeln!(
            out,
            "Edited vs Raw: the published statistics read the Edited table. Its `time(s)` is the duration rounded half up to 10 ms ({} of {} trials), so the power they ranked is energy ÷ a rounded duration: {} of {} trials rank differently from energy ÷ exact duration. Its accuracy is the mean judged relevancy, different from the Raw table's in {} trials ({} Raw accuracies are exactly 1). The report's \"as published\" tests take these values as read.",
            x.edited_time_derived,
            x.edited_checked,
            x.edited_power_rank_changes,
            x.edited_checked,
            x.edited_accuracy_differs,
            x.raw_accuracy_ones
        );
        // The per-task filter keeps every cell pair of successive generations, whatever the tasks.
        let mut generations: Vec<&str> = audit.treatments.iter().map(|x| x.generation.as_str()).collect();
        generations.sort_by_key(|g| crate::model::generation_key(g));
        generations.dedup();
        let mut tasks: Vec<&str> = audit.treatments.iter().map(|x| x.task.as_str()).collect();
        tasks.sort_unstable();
        tasks.dedup();
        let kept = generations.len().saturating_sub(1) * tasks.len() * tasks.len();
        let same = generations.len().saturating_sub(1) * tasks.len();
        let _ = writeln!(
            out,
            "Published R tables: RQ1.2_Key_Pairwise_Efficiency_Comparisons.csv renames FSA's \"Gen3.1_8B - Gen3_8B\" to \"Gen3_8B - Gen3.1_8B\" without negating z (the script's case_when), so that row's z has the sign of 3.1 − 3; RQ2_Successive_Pairwise_Per_Task.csv filters the generation × task cell pairs after stripping the task from their names, so it keeps {kept} pairs of successive generations of which {} compare different tasks (only {same} are the same-task pairs the study meant).",
            kept - same
        );
    }
    out
}
