//! The run table and resuming. The design is the full factorial of models × tasks minus the
//! exclusions, each treatment repeated; the trials are shuffled with the seed (ChaCha8, so the
//! order is the same on every platform and every run) and stored as `runs.parquet`. The design
//! itself (treatments, repetitions, seed, generation settings, prompt hashes, concurrency) is
//! stored as JSON in the manifest's `description`, so a restart can tell whether it is resuming
//! the same experiment.
//!
//! Run ids are `run_<R>_repetition_<K>` with R the treatment's index in the full factorial
//! (model-major, in config order), so excluding a treatment never renumbers the others.

use crate::config::{Config, GenerationConfig};
use crate::options::Shard;
use crate::prompts::TaskPrompts;
use anyhow::{Result, bail};
use dataset::{DamagedPart, Dataset, Manifest, ReadOptions, RunRow, TrialKey, TrialStatus};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

/// One treatment: a (model, task) combination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Simulated data (`--demo` or the fake energy source).
    pub simulated: bool,
}

impl Design {
    /// The design of a config and its prompts.
    pub fn new(config: &Config, prompts: &[TaskPrompts], simulated: bool) -> Self {
        let mut treatments = Vec::new();
        let mut r = 0;
        for m in &config.models {
            for t in &config.tasks {
                if !config.is_excluded(&m.name, t) {
                    treatments.push(Treatment {
                        run: r,
                        model: m.name.clone(),
                        generation: m.generation.clone(),
                        size: m.size.clone(),
                        task: t.clone(),
                    });
                }
                r += 1;
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
            concurrency: config.concurrency,
            simulated,
        }
    }

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
            RunRow {
                key: TrialKey {
                    run_id: run_id(tr.run, k).into(),
                    run: tr.run,
                    repetition: k,
                    generation: tr.generation.clone().into(),
                    model_size: tr.size.clone().into(),
                    model: tr.model.clone().into(),
                    task: tr.task.clone().into(),
                },
                order: first_order + i as i64,
            }
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
                })
                .collect(),
            repetitions: reps,
            seed: 42,
            generation: GenerationConfig::default(),
            prompts: vec![],
            concurrency: 1,
            simulated: false,
        }
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
