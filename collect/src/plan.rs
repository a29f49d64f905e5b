//! The run table and resuming. The design is the full factorial of models × tasks minus the
//! exclusions, each treatment repeated; the trials are shuffled with the seed (ChaCha8, so the
//! order is the same on every platform and every run) and stored as `runs.parquet`. The design
//! itself (treatments, repetitions, seed, generation settings, prompt hashes, concurrency) is
//! stored as JSON in the manifest's `description`, so a restart can tell whether it is resuming
//! the same experiment.
//!
//! Run ids are `run_<R>_repetition_<K>` with R the treatment's index in the full factorial
//! (model-major, in config order), so excluding a treatment never renumbers the others.

use crate::config::{Config, GenerationConfig, LoadConfig};
use crate::options::Shard;
use crate::prompts::TaskPrompts;
use anyhow::{Result, bail};
use dataset::{DamagedPart, Dataset, Manifest, ReadOptions, RunRow, TrialKey, TrialStatus};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

/// One treatment: a (model, task) combination, at one level of each further factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Treatment {
    /// Index R in the full factorial.
    pub run: i64,
    /// Model name.
    pub model: String,
    /// Generation label.
    pub generation: String,
    /// Size label.
    pub size: String,
    /// Task name.
    pub task: String,
    /// The treatment's level of each factor beyond model × task (load, power limit, clock);
    /// absent where the design does not vary it, so a design without them is stored as before.
    #[serde(flatten)]
    pub levels: Levels,
}

/// A treatment's levels of the factors beyond model × task.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Levels {
    /// Closed-loop requests in flight, when the concurrency is a factor (several levels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    /// Open-loop Poisson arrival rate, requests/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_rate_per_s: Option<f64>,
    /// GPU power limit, W.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_limit_w: Option<f64>,
    /// Locked SM clock, MHz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sm_clock_mhz: Option<u32>,
}

impl Levels {
    /// The levels as a short label (`c=8`, `λ=2/s`, `300 W`, `1410 MHz`), empty when none.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = self.concurrency {
            parts.push(format!("c={c}"));
        }
        if let Some(r) = self.arrival_rate_per_s {
            parts.push(format!("λ={r}/s"));
        }
        if let Some(w) = self.power_limit_w {
            parts.push(format!("{w} W"));
        }
        if let Some(c) = self.sm_clock_mhz {
            parts.push(format!("{c} MHz"));
        }
        parts.join(" ")
    }
}

/// The prompts of one task as far as the design is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptSet {
    /// Task name.
    pub task: String,
    /// Prompts sent per trial.
    pub count: usize,
    /// xxh3-64 of their text and labels.
    pub hash: String,
}

/// What makes two collections the same experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Design {
    /// Experiment name.
    pub experiment: String,
    /// Treatments, in factorial order.
    pub treatments: Vec<Treatment>,
    /// Repetitions per treatment.
    pub repetitions: u32,
    /// Shuffle seed.
    pub seed: u64,
    /// Sampling settings.
    pub generation: GenerationConfig,
    /// Prompts per task.
    pub prompts: Vec<PromptSet>,
    /// Requests in flight at once: the one closed-loop level, or the cap under an arrival
    /// process; null when the treatments carry the levels (concurrency a factor) or arrivals have
    /// no cap.
    pub concurrency: Option<usize>,
    /// Simulated data (`--demo` or the fake energy source).
    pub simulated: bool,
}

impl Design {
    /// The design of a config and its prompts.
    pub fn new(config: &Config, prompts: &[TaskPrompts], simulated: bool) -> Self {
        let (loads, concurrency) = load_levels(&config.load);
        let levels: Vec<Levels> = loads
            .iter()
            .flat_map(|l| {
                option_levels(&config.power_limit_w)
                    .into_iter()
                    .flat_map(move |w| {
                        option_levels(&config.sm_clock_mhz)
                            .into_iter()
                            .map(move |c| Levels {
                                power_limit_w: w,
                                sm_clock_mhz: c,
                                ..*l
                            })
                    })
            })
            .collect();
        let mut treatments = Vec::new();
        let mut r = 0;
        for m in &config.models {
            for t in &config.tasks {
                for l in &levels {
                    if !config.is_excluded(&m.name, t) {
                        treatments.push(Treatment {
                            run: r,
                            model: m.name.clone(),
                            generation: m.generation.clone(),
                            size: m.size.clone(),
                            task: t.clone(),
                            levels: *l,
                        });
                    }
                    r += 1;
                }
            }
        }
        Design {
            experiment: config.name.clone(),
            treatments,
            repetitions: config.repetitions,
            seed: config.seed,
            generation: config.generation.clone(),
            prompts: prompts
                .iter()
                .map(|p| PromptSet {
                    task: p.task.clone(),
                    count: p.prompts.len(),
                    hash: p.hash.clone(),
                })
                .collect(),
            concurrency,
            simulated,
        }
    }

    /// The factors beyond model × task with their levels, for the display (`concurrency: 1, 8,
    /// 32`); empty when the design has none.
    pub fn factors(&self) -> Vec<(&'static str, String)> {
        fn levels<T: PartialEq + ToString>(
            t: &[Treatment],
            f: impl Fn(&Levels) -> Option<T>,
        ) -> Option<String> {
            let mut seen: Vec<T> = Vec::new();
            for x in t.iter().filter_map(|t| f(&t.levels)) {
                if !seen.contains(&x) {
                    seen.push(x);
                }
            }
            (!seen.is_empty()).then(|| {
                seen.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        }
        let t = &self.treatments;
        [
            ("concurrency", levels(t, |l| l.concurrency)),
            ("arrival rate, requests/s", levels(t, |l| l.arrival_rate_per_s)),
            ("GPU power limit, W", levels(t, |l| l.power_limit_w)),
            ("SM clock, MHz", levels(t, |l| l.sm_clock_mhz)),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }

    /// The treatment of run index `run`.
    pub fn treatment(&self, run: i64) -> Option<&Treatment> {
        self.treatments.iter().find(|t| t.run == run)
    }

    /// Sets each row's factor columns from its treatment (rows of a run table written before
    /// the columns existed read them as null).
    pub fn fill_levels(&self, rows: &mut [RunRow]) {
        for row in rows {
            if let Some(t) = self.treatment(row.key.run) {
                set_levels(&mut row.key, t, self.concurrency);
            }
        }
    }
}

/// A trial key's factor columns from its treatment and the design-wide concurrency.
fn set_levels(key: &mut TrialKey, t: &Treatment, concurrency: Option<usize>) {
    key.concurrency = t.levels.concurrency.or(concurrency).map(|c| c as i64);
    key.arrival_rate_per_s = t.levels.arrival_rate_per_s;
    key.power_limit_w = t.levels.power_limit_w;
    key.sm_clock_mhz = t.levels.sm_clock_mhz.map(i64::from);
}

/// The load levels of the treatments and the design-wide concurrency: one closed-loop level
/// is design-wide (the treatments carry none, as before load was a factor); several are
/// carried by the treatments; arrival rates are carried by the treatments, with the cap
/// design-wide.
fn load_levels(load: &LoadConfig) -> (Vec<Levels>, Option<usize>) {
    match load {
        LoadConfig::Closed { concurrency } if concurrency.len() == 1 => {
            (vec![Levels::default()], Some(concurrency[0]))
        }
        LoadConfig::Closed { concurrency } => (
            concurrency
                .iter()
                .map(|c| Levels {
                    concurrency: Some(*c),
                    ..Levels::default()
                })
                .collect(),
            None,
        ),
        LoadConfig::Open { rates_per_s, cap } => (
            rates_per_s
                .iter()
                .map(|r| Levels {
                    arrival_rate_per_s: Some(*r),
                    ..Levels::default()
                })
                .collect(),
            *cap,
        ),
    }
}

/// A factor's levels as options: `[None]` when it is not a factor.
fn option_levels<T: Copy>(levels: &[T]) -> Vec<Option<T>> {
    if levels.is_empty() {
        vec![None]
    } else {
        levels.iter().copied().map(Some).collect()
    }
}

impl Design {
    /// Number of trials.
    pub fn trials(&self) -> usize {
        self.treatments.len() * self.repetitions as usize
    }

    /// The manifest description holding this design (and the shard a run took, which is not
    /// part of the design: every shard of one design has the same run table).
    pub fn to_description(&self, shard: Option<Shard>) -> String {
        match shard {
            Some(s) => serde_json::json!({"collect": {"design": self, "shard": s.to_string()}}).to_string(),
            None => serde_json::json!({"collect": {"design": self}}).to_string(),
        }
    }

    /// The design stored in a manifest description, if it holds one.
    pub fn from_description(text: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        serde_json::from_value(v.get("collect")?.get("design")?.clone()).ok()
    }
}

/// The shard (`K/N`) stored in a manifest description, if any.
pub fn shard_of_description(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    Some(v.get("collect")?.get("shard")?.as_str()?.to_string())
}

/// The run id of repetition `k` of treatment `r`.
pub fn run_id(r: i64, k: i64) -> String {
    format!("run_{r}_repetition_{k}")
}

fn rows(design: &Design, pairs: Vec<(usize, i64)>, first_order: i64) -> Vec<RunRow> {
    pairs
        .into_iter()
        .enumerate()
        .map(|(i, (t, k))| {
            let tr = &design.treatments[t];
            let mut row = RunRow {
                key: TrialKey {
                    run_id: run_id(tr.run, k).into(),
                    run: tr.run,
                    repetition: k,
                    generation: tr.generation.clone().into(),
                    model_size: tr.size.clone().into(),
                    model: tr.model.clone().into(),
                    task: tr.task.clone().into(),
                    ..Default::default()
                },
                order: first_order + i as i64,
            };
            set_levels(&mut row.key, tr, design.concurrency);
            row
        })
        .collect()
}

/// Repetitions `from..to` of every treatment, shuffled with `seed`.
fn shuffled(design: &Design, from: u32, to: u32, seed: u64) -> Vec<(usize, i64)> {
    let mut pairs: Vec<(usize, i64)> = (0..design.treatments.len())
        .flat_map(|t| (from..to).map(move |k| (t, i64::from(k))))
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    pairs.shuffle(&mut rng);
    pairs
}

/// The run table of a fresh collection, in execution order.
pub fn plan(design: &Design) -> Vec<RunRow> {
    rows(design, shuffled(design, 0, design.repetitions, design.seed), 0)
}

/// The run table after raising the repetitions from `old` to the design's: the existing rows
/// keep their order and the new trials follow, shuffled with `seed + old` (so each extension is
/// reproducible too).
pub fn extend(existing: &[RunRow], design: &Design, old: u32) -> Vec<RunRow> {
    let mut all = existing.to_vec();
    let next = all.iter().map(|r| r.order + 1).max().unwrap_or(0);
    let pairs = shuffled(
        design,
        old,
        design.repetitions,
        design.seed.wrapping_add(u64::from(old)),
    );
    all.extend(rows(design, pairs, next));
    all
}

/// The sampling seed of one request: stable for (shuffle seed, trial, prompt), positive and
/// below 2^31 so every server accepts it.
pub fn request_seed(seed: u64, run_id: &str, index: usize) -> i64 {
    let h = xxhash_rust::xxh3::xxh3_64_with_seed(format!("{run_id}/{index}").as_bytes(), seed);
    (h & 0x7fff_ffff) as i64
}

/// The arrival times of an open-loop trial's `n` requests, s after the first: a Poisson process
/// of `rate_per_s` (exponential gaps, ChaCha8 seeded by the shuffle seed and the trial), so a
/// trial's schedule is the same on every run and every platform. The first request leaves at 0.
pub fn arrival_offsets_s(seed: u64, run_id: &str, rate_per_s: f64, n: usize) -> Vec<f64> {
    let stream = xxhash_rust::xxh3::xxh3_64_with_seed(format!("{run_id}/arrivals").as_bytes(), seed);
    let mut rng = ChaCha8Rng::seed_from_u64(stream);
    let mut t = 0.0;
    (0..n)
        .map(|i| {
            if i > 0 {
                // Uniform in (0, 1]: 53 random bits, never 0, so the logarithm is finite.
                let u = ((rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
                t += -u.ln() / rate_per_s;
            }
            t
        })
        .collect()
}

/// One difference between the stored design and the requested one.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// JSON path of the setting (`generation.temperature`).
    pub key: String,
    /// Stored value.
    pub old: String,
    /// Requested value.
    pub new: String,
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, x) in map {
                flatten(
                    &if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    },
                    x,
                    out,
                );
            }
        }
        serde_json::Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), x, out);
            }
            if items.is_empty() {
                out.push((prefix.to_string(), "[]".into()));
            }
        }
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// The settings that differ between two designs.
pub fn diff(old: &Design, new: &Design) -> Vec<Change> {
    let mut a = Vec::new();
    let mut b = Vec::new();
    flatten("", &serde_json::to_value(old).unwrap_or_default(), &mut a);
    flatten("", &serde_json::to_value(new).unwrap_or_default(), &mut b);
    let mut changes = Vec::new();
    for (k, v) in &a {
        match b.iter().find(|(k2, _)| k2 == k) {
            Some((_, v2)) if v2 == v => {}
            Some((_, v2)) => changes.push(Change {
                key: k.clone(),
                old: v.clone(),
                new: v2.clone(),
            }),
            None => changes.push(Change {
                key: k.clone(),
                old: v.clone(),
                new: "(absent)".into(),
            }),
        }
    }
    for (k, v) in &b {
        if !a.iter().any(|(k2, _)| k2 == k) {
            changes.push(Change {
                key: k.clone(),
                old: "(absent)".into(),
                new: v.clone(),
            });
        }
    }
    changes
}

/// A dataset ready to receive trials.
#[derive(Debug)]
pub struct Prepared {
    /// The dataset.
    pub dataset: Dataset,
    /// The whole run table, in execution order.
    pub runs: Vec<RunRow>,
    /// Run ids already committed with status `done` (skipped).
    pub done: HashSet<String>,
    /// Half-written trials discarded from the staging folder.
    pub discarded: usize,
    /// Committed trials whose files cannot be read, by run id: they are measured again, and
    /// their commit keeps the damaged files ([`Dataset::replace_damaged_part`]).
    pub damaged: HashSet<String>,
    /// What happened, for the console.
    pub notes: Vec<String>,
}

fn describe_changes(changes: &[Change]) -> String {
    changes
        .iter()
        .take(20)
        .map(|c| format!("\n  {}: {} -> {}", c.key, c.old, c.new))
        .collect::<String>()
        + &if changes.len() > 20 {
            format!("\n  ... and {} more", changes.len() - 20)
        } else {
            String::new()
        }
}

/// True when a folder without manifest holds nothing but what an interrupted creation leaves:
/// an empty `trials/`, the staging folder, server logs, temporary files of atomic writes, the
/// lock file.
fn only_creation_leftovers(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.filter_map(|e| e.ok()).all(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        match name.as_str() {
            dataset::store::TRIALS_DIR => std::fs::read_dir(e.path()).is_ok_and(|mut d| d.next().is_none()),
            dataset::store::STAGING_DIR | dataset::lock::COLLECT_LOCK | "logs" => true,
            _ => name.contains(".tmp-"),
        }
    })
}

fn create(
    out: &Path,
    design: &Design,
    shard: Option<Shard>,
    created_by: &str,
    force: bool,
) -> Result<Prepared> {
    let manifest = Manifest::new(created_by, design.simulated, design.to_description(shard));
    let dataset = Dataset::create(out, &manifest, force)?;
    let runs = plan(design);
    dataset.write_runs(&runs)?;
    Ok(Prepared {
        dataset,
        runs,
        done: HashSet::new(),
        discarded: 0,
        damaged: HashSet::new(),
        notes: Vec::new(),
    })
}

/// Refuses an `out` collect must not write into: a file, or a folder that holds something
/// other than a dataset (unless `force`). Checked before the lock is taken, so that not even
/// the lock file is written there, and again under the lock.
pub fn check_out(out: &Path, force: bool) -> Result<()> {
    if out.exists() && !out.is_dir() {
        bail!("--out {}: exists and is not a folder", out.display());
    }
    if !Dataset::exists(out) && out.is_dir() && !only_creation_leftovers(out) && !force {
        bail!(
            "{} exists, is not empty and holds no dataset; choose another --out or pass --force",
            out.display()
        );
    }
    Ok(())
}

/// Creates the dataset at `out`, or reopens it to resume the same design. A changed design is
/// refused unless `force` (which starts over); more repetitions only append trials. The caller
/// holds the dataset's lock ([`dataset::lock::lock_collect`]).
pub fn prepare(
    out: &Path,
    design: &Design,
    shard: Option<Shard>,
    force: bool,
    created_by: &str,
) -> Result<Prepared> {
    check_out(out, force)?;
    if !Dataset::exists(out) {
        return create(out, design, shard, created_by, false);
    }
    let dataset = Dataset::open(out)?;
    let manifest = dataset.manifest()?;
    let Some(old) = Design::from_description(&manifest.description) else {
        if force {
            let mut p = create(out, design, shard, created_by, true)?;
            p.notes
                .push(format!("replaced the dataset in {} (--force)", out.display()));
            return Ok(p);
        }
        bail!(
            "{} holds a dataset that collect did not create ({}); choose another --out or pass --force to replace it",
            out.display(),
            manifest.created_by
        );
    };
    let mut notes = Vec::new();
    let mut runs = dataset.read_runs()?;
    if old != *design {
        let mut reps_only = old.clone();
        reps_only.repetitions = design.repetitions;
        if reps_only == *design && design.repetitions > old.repetitions {
            if runs.is_empty() {
                runs = plan(&old);
            }
            runs = extend(&runs, design, old.repetitions);
            dataset.write_runs(&runs)?;
            let mut m = manifest.clone();
            m.description = design.to_description(shard);
            dataset.write_manifest(&m)?;
            notes.push(format!(
                "repetitions raised from {} to {}: {} trials appended to the run table",
                old.repetitions,
                design.repetitions,
                design.trials() - old.trials()
            ));
        } else {
            let changes = diff(&old, design);
            if !force {
                bail!(
                    "{} holds a different design; resuming would mix two experiments. What changed:{}\n\
                     Pass --force to discard that dataset and start over, or choose another --out",
                    out.display(),
                    describe_changes(&changes)
                );
            }
            let mut p = create(out, design, shard, created_by, true)?;
            p.notes.push(format!(
                "the design changed; the old dataset in {} was replaced (--force). What changed:{}",
                out.display(),
                describe_changes(&changes)
            ));
            return Ok(p);
        }
    }
    if runs.is_empty() {
        runs = plan(design);
        dataset.write_runs(&runs)?;
    }
    design.fill_levels(&mut runs);
    let current = dataset.manifest()?;
    let stored_shard = shard_of_description(&current.description);
    if stored_shard != shard.map(|s| s.to_string()) {
        let mut m = current;
        m.description = design.to_description(shard);
        dataset.write_manifest(&m)?;
        notes.push(format!(
            "the dataset was collected as shard {}; this run is shard {}",
            stored_shard.as_deref().unwrap_or("(none: the whole run table)"),
            shard.map_or_else(|| "(none: the whole run table)".to_string(), |s| s.to_string())
        ));
    }
    let discarded = dataset.discard_staging()?;
    if discarded > 0 {
        notes.push(format!(
            "discarded {discarded} half-written trial(s) from an interrupted run"
        ));
    }
    let mut done = HashSet::new();
    let mut failed = 0;
    let (damaged_parts, damaged) = check_committed(&dataset, &runs, &mut done, &mut failed)?;
    for p in &damaged_parts {
        let files: Vec<String> = p.files.iter().map(ToString::to_string).collect();
        notes.push(format!(
            "trial {} is committed but damaged ({}): it is measured again; the damaged files are kept in {}",
            p.part,
            files.join("; "),
            dataset.root().join(dataset::store::DAMAGED_DIR).display()
        ));
    }
    if !done.is_empty() || failed > 0 || !damaged.is_empty() {
        let mut redo = Vec::new();
        if failed > 0 {
            redo.push(format!("{failed} failed or unfinished trial(s) will be redone"));
        }
        if !damaged.is_empty() {
            redo.push(format!(
                "{} damaged trial(s) will be measured again",
                damaged.len()
            ));
        }
        notes.push(format!(
            "resuming {}: {} of {} trials done{}",
            out.display(),
            done.len(),
            runs.len(),
            if redo.is_empty() {
                String::new()
            } else {
                format!(", {}", redo.join(", "))
            }
        ));
    }
    Ok(Prepared {
        dataset,
        runs,
        done,
        discarded,
        damaged,
        notes,
    })
}

/// Sorts the committed trials into done (`done`), failed (counted in `failed`) and damaged:
/// a trial counts as done only when every file of its part reads back in full (a truncated or
/// missing file makes it damaged, to be measured again). A part whose `trial.parquet` cannot be
/// read is the damaged trial of its name when the run table lists it, else an error.
fn check_committed(
    dataset: &Dataset,
    runs: &[RunRow],
    done: &mut HashSet<String>,
    failed: &mut usize,
) -> Result<(Vec<DamagedPart>, HashSet<String>)> {
    let planned: std::collections::HashMap<&str, &TrialKey> =
        runs.iter().map(|r| (r.key.run_id.as_str(), &r.key)).collect();
    let everything = ReadOptions {
        text: true,
        ..ReadOptions::default()
    };
    let mut damaged_parts = Vec::new();
    for part in dataset.parts()? {
        let trials = match dataset.read_part_trials(&part) {
            Ok(trials) => trials,
            Err(e) if !e.is_damage() => return Err(e.into()),
            Err(e) => match planned.get(part.as_str()) {
                Some(key) => {
                    damaged_parts.push(DamagedPart::new(&part, vec![(*key).clone()], &e));
                    continue;
                }
                None => {
                    return Err(anyhow::Error::new(e).context(format!(
                        "cannot read committed part {part}, which is no trial of the run table; move it away"
                    )));
                }
            },
        };
        if trials.iter().all(|t| t.status != TrialStatus::Done) {
            *failed += trials.len();
            continue;
        }
        let keys: Vec<TrialKey> = trials.iter().map(|t| t.key.clone()).collect();
        match dataset.read_part_with_trials(&part, trials.clone(), everything) {
            Ok(_) => {
                for trial in trials {
                    if trial.status == TrialStatus::Done {
                        done.insert(trial.key.run_id.to_string());
                    } else {
                        *failed += 1;
                    }
                }
            }
            Err(e) if e.is_damage() => damaged_parts.push(DamagedPart::new(&part, keys, &e)),
            Err(e) => return Err(e.into()),
        }
    }
    let damaged = damaged_parts
        .iter()
        .flat_map(|p| p.trials.iter().map(|k| k.run_id.to_string()))
        .collect();
    Ok((damaged_parts, damaged))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(reps: u32) -> Design {
        Design {
            experiment: "x".into(),
            treatments: (0..3)
                .map(|r| Treatment {
                    run: r,
                    model: format!("m{r}"),
                    generation: "3".into(),
                    size: "8B".into(),
                    task: "COPA".into(),
                    levels: Levels::default(),
                })
                .collect(),
            repetitions: reps,
            seed: 42,
            generation: GenerationConfig::default(),
            prompts: vec![],
            concurrency: Some(1),
            simulated: false,
        }
    }

    fn config(experiment: &str) -> Config {
        let text = format!(
            "tasks = [\"COPA\", \"CB\"]\n[experiment]\nname = \"t\"\nrepetitions = 2\nseed = 1\n{experiment}\n\
             [[models]]\nname = \"a\"\ngeneration = 3\nsize = \"8B\"\n[[models]]\nname = \"b\"\ngeneration = 2\nsize = \"7B\"\n"
        );
        Config::parse(&text, Path::new("t.toml"), Path::new(".")).unwrap()
    }

    #[test]
    fn one_concurrency_level_stores_the_design_and_run_ids_as_before_load_was_a_factor() {
        let d = Design::new(&config("concurrency = 8"), &[], false);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["concurrency"], 8);
        assert_eq!(
            json["treatments"][1],
            serde_json::json!({"run": 1, "model": "a", "generation": "3", "size": "8B", "task": "CB"})
        );
        // What an earlier version stored (no level keys) reads back equal.
        let stored: Design = serde_json::from_value(json).unwrap();
        assert_eq!(stored, d);
        let mut rows = plan(&d);
        assert!(
            rows.iter()
                .all(|r| r.key.concurrency == Some(8) && r.key.arrival_rate_per_s.is_none())
        );
        let ids: HashSet<String> = rows.iter().map(|r| r.key.run_id.to_string()).collect();
        assert!(ids.contains("run_3_repetition_1") && ids.len() == 8);
        // Rows of a run table written before the factor columns existed are filled in.
        rows.iter_mut().for_each(|r| r.key.concurrency = None);
        stored.fill_levels(&mut rows);
        assert!(rows.iter().all(|r| r.key.concurrency == Some(8)));
    }

    #[test]
    fn a_list_of_levels_crosses_the_load_with_model_and_task() {
        let d = Design::new(
            &config("concurrency = [1, 8, 32]\npower_limit_w = [300, 450]"),
            &[],
            false,
        );
        assert_eq!(d.treatments.len(), 2 * 2 * 3 * 2);
        assert_eq!(d.concurrency, None);
        // R is the index in the full factorial: model, task, load, power limit.
        let t = d.treatment(7).unwrap();
        assert_eq!((t.model.as_str(), t.task.as_str()), ("a", "CB"));
        assert_eq!(t.levels.concurrency, Some(1));
        assert_eq!(t.levels.power_limit_w, Some(450.0));
        let rows = plan(&d);
        assert_eq!(rows.len(), 48);
        let r = rows
            .iter()
            .find(|r| r.key.run_id == "run_23_repetition_0")
            .unwrap();
        assert_eq!(
            (r.key.model.as_str(), r.key.concurrency, r.key.power_limit_w),
            ("b", Some(32), Some(450.0))
        );
        assert_eq!(
            d.factors(),
            vec![
                ("concurrency", "1, 8, 32".to_string()),
                ("GPU power limit, W", "300, 450".to_string())
            ]
        );
        let open = Design::new(
            &config("arrival_rate_per_s = [2.0, 8.0]\nconcurrency = 16"),
            &[],
            false,
        );
        assert_eq!(open.concurrency, Some(16));
        let r = &plan(&open)[0];
        assert!(r.key.arrival_rate_per_s.is_some() && r.key.concurrency == Some(16));
    }

    #[test]
    fn arrival_schedules_are_seeded_poisson_processes() {
        let a = arrival_offsets_s(7, "run_0_repetition_0", 4.0, 20_000);
        assert_eq!(a, arrival_offsets_s(7, "run_0_repetition_0", 4.0, 20_000));
        assert_ne!(a[1], arrival_offsets_s(7, "run_0_repetition_1", 4.0, 2)[1]);
        assert_eq!(a[0], 0.0);
        assert!(a.windows(2).all(|w| w[1] > w[0]));
        // Mean gap 1/λ = 0.25 s; the gaps' coefficient of variation is 1 for an exponential.
        let gaps: Vec<f64> = a.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let sd = (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64).sqrt();
        assert!((mean - 0.25).abs() < 0.01, "{mean}");
        assert!((sd / mean - 1.0).abs() < 0.03, "{}", sd / mean);
    }

    #[test]
    fn the_plan_is_a_stable_permutation_of_every_trial() {
        let a = plan(&design(4));
        let b = plan(&design(4));
        assert_eq!(a, b);
        assert_eq!(a.len(), 12);
        let ids: HashSet<&str> = a.iter().map(|r| r.key.run_id.as_str()).collect();
        assert_eq!(ids.len(), 12);
        assert!(a.iter().enumerate().all(|(i, r)| r.order == i as i64));
        assert_ne!(
            a.iter().map(|r| r.key.run).collect::<Vec<_>>(),
            vec![0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
        );
    }

    #[test]
    fn raising_the_repetitions_appends_without_reordering() {
        let a = plan(&design(2));
        let b = extend(&a, &design(3), 2);
        assert_eq!(&b[..6], &a[..]);
        assert_eq!(b.len(), 9);
        assert!(b[6..].iter().all(|r| r.key.repetition == 2));
        assert_eq!(b[8].order, 8);
    }

    #[test]
    fn a_changed_setting_is_named_in_the_diff() {
        let a = design(2);
        let mut b = design(2);
        b.generation.temperature = 0.2;
        let d = diff(&a, &b);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].key, "generation.temperature");
    }

    #[test]
    fn request_seeds_are_stable_and_fit_31_bits() {
        let s = request_seed(1, "run_0_repetition_0", 3);
        assert_eq!(s, request_seed(1, "run_0_repetition_0", 3));
        assert_ne!(s, request_seed(1, "run_0_repetition_0", 4));
        assert!((0..1 << 31).contains(&s));
    }
}
