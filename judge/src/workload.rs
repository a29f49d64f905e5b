//! Reading a dataset's trials with their requests (prompt and response text included), in
//! parallel, with the gold labels of `--prompts DIR` applied by position. Each trial is handed
//! to a scoring closure and dropped, so the texts of only a few trials are in memory at once.

use crate::labels::TaskFiles;
use anyhow::{Context, Result};
use dataset::prompts::same_text;
use dataset::{Dataset, Request, Trial};
use indicatif::ProgressBar;
use rayon::prelude::*;

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

/// Reads every committed trial of `ds` and maps it through `f`, in parallel; results come back
/// in `trial_ids` order. `bar` advances once per trial.
pub fn map_trials<R: Send>(
    ds: &Dataset,
    labels: Option<&TaskFiles>,
    bar: &ProgressBar,
    f: impl Fn(TrialRequests) -> R + Sync,
) -> Result<Vec<R>> {
    let ids = ds
        .trial_ids()
        .with_context(|| format!("{}: cannot list trials", ds.root().display()))?;
    bar.set_length(ids.len() as u64);
    ids.par_iter()
        .map(|id| {
            let t = read_trial(ds, id, labels)?;
            bar.inc(1);
            Ok(f(t))
        })
        .collect()
}

fn read_trial(ds: &Dataset, run_id: &str, labels: Option<&TaskFiles>) -> Result<TrialRequests> {
    let trial = ds.read_trial(run_id)?;
    let mut requests = ds.read_requests(run_id, true)?;
    let mut out = TrialRequests {
        trial,
        requests: Vec::new(),
        label_mismatches: 0,
        labels_from_prompts: 0,
        task_file_missing: false,
    };
    if let Some(labels) = labels {
        match labels.items(&out.trial.task)? {
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
