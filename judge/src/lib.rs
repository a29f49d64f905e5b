//! `judge` adds scores to a dataset: the gold scorer ([`gold`], free, no network) whenever
//! gold labels are available, and an LLM judge ([`llm`]) on any OpenAI-compatible endpoint.
//!
//! The pipeline ([`run`]) per dataset: read the trials with their requests ([`workload`],
//! gold labels from `--prompts` applied by [`labels`]), score the labelled ones by gold label
//! ([`tally`]), choose the requests for the LLM judge ([`sample`]) and judge them ([`llm`]),
//! then merge both scorers' rows into the dataset ([`judgments`]). Reports and the end
//! [`summary`] go to stdout, warnings and progress to stderr.
//!
//! Architecture invariant: judgments are written only through the `dataset` crate, one file
//! per scorer, merged with what the scorer stored before.
//!
//! One writer per scorer file ([`dataset::lock`]): the LLM judge's scorer is locked in every
//! dataset before any of them is read and stays locked to the end, so a second judge of the
//! same scorer fails at once, naming the first; the gold scorer, which every run with gold
//! labels writes, is locked only around its merge and write, waiting up to
//! [`dataset::lock::GOLD_WAIT`] for another judge's. Judges of different LLM scorers run side
//! by side.

pub mod cli;
pub mod datasets;
pub mod gold;
pub mod judgments;
pub mod labels;
pub mod llm;
pub mod options;
pub mod sample;
pub mod summary;
pub mod tally;
pub mod workload;

use anyhow::{Context, Result, bail};
use dataset::Dataset;
use indicatif::{ProgressBar, ProgressStyle};
use labels::TaskFiles;
use llm::{LlmJudge, LlmStats};
use options::Options;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;
use summary::Summary;
use tally::{GOLD_SCORER, GoldTally};

/// Runs `judge` with validated options.
pub fn run(opts: &Options) -> Result<()> {
    let started = Instant::now();
    let mut datasets: Vec<PathBuf> = Vec::new();
    for data in &opts.data {
        for found in datasets::find(data)? {
            if !datasets.contains(&found) {
                datasets.push(found);
            }
        }
    }
    let labels = opts.prompts.as_deref().map(TaskFiles::new);
    let llm = opts.llm.as_ref().map(LlmJudge::new).transpose()?;
    let mut summary = Summary {
        datasets: datasets.len(),
        llm: llm.as_ref().map(|l| (l.scorer(), LlmStats::default())),
        ..Default::default()
    };
    let several = datasets.len() > 1;
    let opened = datasets
        .iter()
        .map(|path| {
            Dataset::open(path).with_context(|| format!("{}: cannot open the dataset", path.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    // Held until the end of the run; dropping them releases the locks.
    let _llm_locks = match &llm {
        Some(l) => opened
            .iter()
            .map(|ds| dataset::lock::lock_judgments(ds, &l.scorer(), std::time::Duration::ZERO))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let mut judged_any = false;
    for (path, ds) in datasets.iter().zip(&opened) {
        if several {
            say(&format!("== {}\n", path.display()))?;
        }
        let done = judge_dataset(ds, opts, labels.as_ref(), llm.as_ref(), &mut summary)?;
        judged_any |= done;
        if llm.as_ref().is_some_and(LlmJudge::interrupted) {
            break;
        }
    }
    summary.elapsed_s = started.elapsed().as_secs_f64();
    say(&summary.render())?;
    if summary.llm.as_ref().is_some_and(|(_, s)| s.interrupted) {
        bail!("interrupted; the finished judgments are stored and cached, rerun to judge the rest");
    }
    if let Some((_, l)) = &summary.llm
        && l.no_answer > 0
        && l.no_answer == l.failed
        && l.new == 0
        && l.cached == 0
        && let Some(llm) = &opts.llm
    {
        bail!(
            "--endpoint {}: no judge call got an answer ({} tried); first error: {}",
            llm.url,
            l.no_answer,
            l.first_error.as_deref().unwrap_or("unknown")
        );
    }
    if !judged_any {
        bail!(
            "{}: nothing to judge: no request has a gold label (attach them at import, or pass --prompts DIR) \
             and no --endpoint was given",
            opts.data
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// Judges one dataset; false when it had nothing to judge.
fn judge_dataset(
    ds: &Dataset,
    opts: &Options,
    labels: Option<&TaskFiles>,
    llm: Option<&LlmJudge>,
    summary: &mut Summary,
) -> Result<bool> {
    let root = ds.root().display().to_string();
    let bar = if opts.progress {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} trials ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        b.set_prefix("reading");
        b
    } else {
        ProgressBar::hidden()
    };
    let mapped = workload::map_trials(ds, labels, &bar, |t| {
        let (gold_rows, tally) = tally::score_trial(&t);
        let (items, skipped) = llm.map(|l| l.select(&t)).unwrap_or_default();
        let missing_task = t.task_file_missing.then(|| t.trial.key.task.clone());
        (gold_rows, tally, items, skipped, t.label_mismatches, missing_task)
    })
    .with_context(|| format!("{root}: cannot read the trials"))?;
    bar.finish_and_clear();
    let damage = &mapped.damage;
    if !damage.is_empty() {
        if !opts.skip_damaged {
            bail!(
                "{}\nnothing was judged in {root}",
                damage.error_message(ds.root(), "--skip-damaged")
            );
        }
        // As `analyze import --keep-going` names the trials it skips.
        for line in damage.skipped_lines() {
            eprintln!("judge: {line}");
        }
        for line in damage.summary_lines(&mapped.trials) {
            eprintln!("judge: {line}");
        }
        summary.damaged_skipped += damage.trials().len();
    }
    let per_trial = mapped.results;

    let mut gold_rows = Vec::new();
    let mut tally = GoldTally::default();
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    let mut mismatches = 0;
    let mut missing_tasks = std::collections::BTreeSet::new();
    for (rows, t, i, s, m, missing) in per_trial {
        gold_rows.extend(rows);
        tally.add(&t);
        items.extend(i);
        skipped.extend(s);
        mismatches += m;
        missing_tasks.extend(missing);
    }
    if let Some(labels) = labels {
        for task in &missing_tasks {
            eprintln!(
                "judge: warning: --prompts {}: no {task}.jsonl; trials of task {task} keep the labels attached at import",
                labels.dir().display()
            );
        }
    }
    if mismatches > 0 {
        eprintln!(
            "judge: warning: {root}: {mismatches} request(s) have a prompt that differs from the --prompts item at \
             the same position; their gold labels may be misattached"
        );
    }

    let mut judged = false;
    if tally.labelled() > 0 {
        let n = gold_rows.len();
        let lock = dataset::lock::lock_judgments(ds, GOLD_SCORER, dataset::lock::GOLD_WAIT)?;
        judgments::merge_and_write(ds, GOLD_SCORER, gold_rows)?;
        drop(lock);
        summary.gold_scored += n;
        summary.gold_extracted += tally.tasks.values().map(|t| t.extracted).sum::<usize>();
        say(&tally.render())?;
        judged = true;
    } else if opts.require_gold {
        bail!(
            "{root}: --gold: no request has a gold label; attach them at import (`analyze import --prompts`) or \
             pass --prompts DIR"
        );
    }

    if let Some(llm) = llm {
        let scorer = llm.scorer();
        let run = llm.judge(&llm.cache_dir(ds.root()), items, skipped, opts.progress)?;
        judgments::merge_and_write(ds, &scorer, run.rows)?;
        say(&summary::render_llm_scores(&scorer, &run.stats))?;
        if let Some((_, total)) = &mut summary.llm {
            total.add(&run.stats);
        }
        judged = true;
    }
    Ok(judged)
}

/// Writes to stdout; a closed pipe ends the run quietly (see [`dataset::is_broken_pipe`]).
fn say(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush())?;
    Ok(())
}
