//! Reading a dataset's trials with their requests (prompt and response text included), in
//! parallel, with the gold labels of `--prompts DIR` applied by position. Each trial is handed
//! to a scoring closure and dropped, so the texts of only a few parts are in memory at once.

use crate::labels::TaskFiles;
use anyhow::{Context, Result};
use dataset::prompts::same_text;
use dataset::{Damage, DamagedPart, Dataset, ReadOptions, Request, Trial};
use indicatif::ProgressBar;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// One trial and its requests, gold labels applied.
#[derive(Debug, Clone)]
pub struct TrialRequests {
    /// The trial row (task, generation, model).
    pub trial: Trial,
    /// Its requests in index order.
    pub requests: Vec<Request>,
    /// Requests whose prompt differs from the `--prompts` item at the same position.
    pub label_mismatches: usize,
    /// Requests that got their label from `--prompts`.
    pub labels_from_prompts: usize,
    /// True when `--prompts` has no file for the trial's task.
    pub task_file_missing: bool,
}

/// The trials of a dataset mapped through a closure, and the damaged files left out.
#[derive(Debug)]
pub struct Mapped<R> {
    /// One result per readable trial, sorted by run id.
    pub results: Vec<R>,
    /// The keys of those trials, in the same order.
    pub trials: Vec<dataset::TrialKey>,
    /// The parts that could not be read (a damaged `trial.parquet` or `requests.parquet`).
    pub damage: Damage,
}

/// Reads every committed trial of `ds` and maps it through `f`, in parallel (part by part);
/// results come back sorted by run id. `bar` advances once per trial. A part whose files
/// cannot be read does not stop the others: it comes back in [`Mapped::damage`].
pub fn map_trials<R: Send>(
    ds: &Dataset,
    labels: Option<&TaskFiles>,
    bar: &ProgressBar,
    f: impl Fn(TrialRequests) -> R + Sync,
) -> Result<Mapped<R>> {
    let (rows, mut damage) = ds
        .trial_rows_checked()
        .with_context(|| format!("{}: cannot list trials", ds.root().display()))?;
    bar.set_length(rows.len() as u64);
    // Each part is read once, with the trial rows already in hand.
    let mut parts: BTreeMap<String, Vec<Trial>> = BTreeMap::new();
    for (part, trial) in rows {
        parts.entry(part).or_default().push(trial);
    }
    let read = ReadOptions {
        text: true,
        skip_samples: true,
        ..ReadOptions::default()
    };
    // Every part is read whatever fails; a `--prompts` error, or a file of a newer schema
    // version, still stops the run.
    type PartResult<R> = Result<Vec<(dataset::TrialKey, R)>, DamagedPart>;
    let parts: Vec<PartResult<R>> = parts
        .into_par_iter()
        .map(|(part, trials)| {
            let keys = trials.iter().map(|t| t.key.clone()).collect();
            let files = match ds.read_part_with_trials(&part, trials, read) {
                Ok(files) => files,
                Err(e) if e.is_damage() => return Ok(Err(DamagedPart::new(part, keys, &e))),
                Err(e) => return Err(anyhow::Error::new(e)),
            };
            files
                .into_iter()
                .map(|t| {
                    let key = t.trial.key.clone();
                    let t = apply_labels(t.trial, t.requests, labels)?;
                    bar.inc(1);
                    Ok((key, f(t)))
                })
                .collect::<Result<Vec<_>>>()
                .map(Ok)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut out = Vec::new();
    for p in parts {
        match p {
            Ok(rows) => out.extend(rows),
            Err(d) => damage.parts.push(d),
        }
    }
    damage.sort();
    out.sort_by(|a, b| a.0.run_id.cmp(&b.0.run_id));
    let (trials, results) = out.into_iter().unzip();
    Ok(Mapped {
        results,
        trials,
        damage,
    })
}

fn apply_labels(
    trial: Trial,
    mut requests: Vec<Request>,
    labels: Option<&TaskFiles>,
) -> Result<TrialRequests> {
    let mut out = TrialRequests {
        trial,
        requests: Vec::new(),
        label_mismatches: 0,
        labels_from_prompts: 0,
        task_file_missing: false,
    };
    if let Some(labels) = labels {
        match labels.items(&out.trial.key.task)? {
            Some(items) => {
                for r in &mut requests {
                    let Some(item) = usize::try_from(r.index).ok().and_then(|i| items.get(i)) else {
                        continue;
                    };
                    if !same_text(&item.prompt, &r.prompt) {
                        out.label_mismatches += 1;
                    }
                    r.gold_label = item.label.clone();
                    r.item_id = item.item_id;
                    out.labels_from_prompts += 1;
                }
            }
            None => out.task_file_missing = true,
        }
    }
    out.requests = requests;
    Ok(out)
}
