//! `analyze import`: reads a published-layout experiment folder (the GreenLab Angels 2025
//! layout: `run_table.csv` plus one `run_<R>_repetition_<K>/` folder per trial) and writes it
//! as a dataset. The destination is built in a staging folder and renamed into place only when
//! every trial was read, so a failed import leaves nothing behind.

use crate::csv_table::CsvTable;
use anyhow::{Context, Result, bail};
use dataset::energibridge::{self, Summary};
use dataset::prompts::{TaskItem, read_task_items, same_text, task_file};
use dataset::{
    Dataset, Judgment, Manifest, Request, RunRow, SampleTable, StagedDataset, Trial, TrialFiles, TrialKey,
    TrialStatus, normalize_generation,
};
use rayon::prelude::*;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::model::PUBLISHED_SCORER;

/// What to import and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The experiment folder (holding `run_table.csv`), or a folder with exactly one
    /// `experiments/<name>/run_table.csv` below it.
    pub source: PathBuf,
    /// Destination dataset folder.
    pub out: PathBuf,
    /// Folder of `<Task>.jsonl` prompt files whose item ids and gold labels to attach.
    pub prompts: Option<PathBuf>,
    /// Replace an existing dataset.
    pub force: bool,
    /// Skip (with a warning) trials that cannot be read instead of failing.
    pub keep_going: bool,
    /// Show a progress bar.
    pub progress: bool,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportSummary {
    /// Trials written.
    pub trials: usize,
    /// Requests written.
    pub requests: usize,
    /// Samples written.
    pub samples: usize,
    /// Published judgments written.
    pub judgments: usize,
    /// Trials skipped under `--keep-going`, with the reason.
    pub skipped: Vec<String>,
    /// Warnings (each naming its file).
    pub warnings: Vec<String>,
}

/// One row of `run_table.csv`.
#[derive(Debug, Clone)]
struct RunTableRow {
    line: u64,
    run: RunRow,
    done: bool,
    energy: Option<f64>,
}

/// Finds the experiment folder: `source` itself when it holds `run_table.csv`, else the single
/// `experiments/*/` folder below it that does (a clone of the published repository).
pub fn locate_experiment(source: &Path) -> Result<PathBuf> {
    if source.join("run_table.csv").is_file() {
        return Ok(source.to_path_buf());
    }
    if !source.exists() {
        bail!("{}: no such folder", source.display());
    }
    let experiments = source.join("experiments");
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&experiments) {
        for e in entries.flatten() {
            if e.path().join("run_table.csv").is_file() {
                found.push(e.path());
            }
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => bail!(
            "{}: no run_table.csv here (expected a published-layout experiment folder: run_table.csv plus run_<R>_repetition_<K>/ folders)",
            source.display()
        ),
        _ => {
            found.sort();
            bail!(
                "{}: several experiments found ({}); name one of them",
                source.display(),
                found
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

/// Parses `run_<R>_repetition_<K>`.
pub fn parse_run_id(id: &str) -> Option<(i64, i64)> {
    let rest = id.strip_prefix("run_")?;
    let (r, k) = rest.split_once("_repetition_")?;
    Some((r.parse().ok()?, k.parse().ok()?))
}

fn read_run_table(path: &Path) -> Result<Vec<RunTableRow>> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let table = CsvTable::new(path, &bytes, b',', "__run_id,__done,generation,model_size,task")?;
    let (c_id, c_gen, c_size, c_task) = (
        table.require("__run_id")?,
        table.require("generation")?,
        table.require("model_size")?,
        table.require("task")?,
    );
    let (c_done, c_energy) = (table.column("__done"), table.column("energy"));
    let mut rows = Vec::new();
    let mut seen = HashMap::new();
    for record in table {
        let record = record?;
        let line = record.line();
        let id = record.text(c_id);
        let (run, repetition) = parse_run_id(&id).ok_or_else(|| {
            record.error(format!("run id `{id}` is not of the form run_<R>_repetition_<K>"))
        })?;
        if let Some(first) = seen.insert(id.clone(), line) {
            return Err(record
                .error(format!("run id `{id}` already listed on line {first}"))
                .into());
        }
        let generation = normalize_generation(&record.text(c_gen));
        let model_size = record.text(c_size);
        let energy = match c_energy {
            Some(c) => record.optional_number(c)?,
            None => None,
        };
        rows.push(RunTableRow {
            line,
            done: c_done.is_none_or(|c| record.text(c).eq_ignore_ascii_case("done")),
            energy,
            run: RunRow {
                key: TrialKey {
                    model: format!("Llama-{generation}-{model_size}").into(),
                    run_id: id.into(),
                    run,
                    repetition,
                    generation: generation.into(),
                    model_size: model_size.into(),
                    task: record.text(c_task).into(),
                    ..Default::default()
                },
                order: rows.len() as i64,
            },
        });
    }
    if rows.is_empty() {
        bail!("{}: no trial listed", path.display());
    }
    Ok(rows)
}

/// One row of a `prompts_out.tsv`.
#[derive(Debug, Clone)]
struct PromptRow {
    start_s: i64,
    end_s: i64,
    prompt: String,
    response: String,
    tokens: i64,
    accuracy: Option<f64>,
}

/// Reads `prompts_out.tsv`: tab separated, quote-aware (pandas quotes fields holding `"`).
fn read_prompts_out(bytes: &[u8], path: &Path, warnings: &mut Vec<String>) -> Result<Vec<PromptRow>> {
    let table = CsvTable::new(
        path,
        bytes,
        b'\t',
        "start end prompt response response_tokens accuracy",
    )?;
    let (c_start, c_end, c_prompt, c_resp, c_tok) = (
        table.require("start")?,
        table.require("end")?,
        table.require("prompt")?,
        table.require("response")?,
        table.require("response_tokens")?,
    );
    let c_acc = table.column("accuracy");
    let mut rows = Vec::new();
    let mut lossy_lines = Vec::new();
    for record in table {
        let record = record?;
        let (prompt, bad_p) = record.verbatim(c_prompt);
        let (response, bad_r) = record.verbatim(c_resp);
        if bad_p || bad_r {
            lossy_lines.push(record.line());
        }
        let accuracy = match c_acc {
            Some(c) => record.optional_number(c)?,
            None => None,
        };
        rows.push(PromptRow {
            start_s: record.integer(c_start)?,
            end_s: record.integer(c_end)?,
            prompt,
            response,
            tokens: record.integer(c_tok)?,
            accuracy,
        });
    }
    if !lossy_lines.is_empty() {
        warnings.push(format!(
            "{}:{}: text is not valid UTF-8 ({} line(s)); invalid bytes replaced by U+FFFD",
            path.display(),
            lossy_lines[0],
            lossy_lines.len()
        ));
    }
    if rows.is_empty() {
        bail!("{}: no prompt rows after the header", path.display());
    }
    Ok(rows)
}

/// Reads a source file once; its provenance record (relative path, size, xxh3-128) is taken
/// from the same bytes that are parsed.
/// Reads a source file and hands its bytes to `f`, with the file's provenance record. Each
/// worker thread reads into one buffer it keeps from file to file: a fresh buffer per file
/// came as freshly faulted, zeroed pages each time.
fn with_source<R>(
    root: &Path,
    path: &Path,
    f: impl FnOnce(&[u8]) -> Result<R>,
) -> Result<(R, serde_json::Value)> {
    thread_local! {
        static READ: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    READ.with_borrow_mut(|bytes| {
        bytes.clear();
        std::fs::File::open(path)
            .and_then(|mut file| std::io::Read::read_to_end(&mut file, bytes))
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let record = file_record(root, path, bytes);
        Ok((f(bytes)?, record))
    })
}

fn file_record(root: &Path, path: &Path, bytes: &[u8]) -> serde_json::Value {
    let rel = path.strip_prefix(root).unwrap_or(path);
    json!({
        "path": rel.display().to_string(),
        "bytes": bytes.len(),
        "xxh3_128": format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes)),
    })
}

/// Reads one trial folder into the contract's records.
fn read_trial(
    experiment: &Path,
    row: &RunTableRow,
    items: &HashMap<String, Vec<TaskItem>>,
) -> Result<(TrialFiles, Vec<Judgment>, Vec<String>)> {
    let dir = experiment.join(&row.run.key.run_id);
    if !dir.is_dir() {
        bail!(
            "{}: trial `{}` is listed in run_table.csv (line {}) but its folder is missing",
            dir.display(),
            row.run.key.run_id,
            row.line
        );
    }
    let mut warnings = Vec::new();
    let plain = dir.join("energibridge.csv");
    let gz = dir.join("energibridge.csv.gz");
    let csv_path = if plain.is_file() {
        plain
    } else if gz.is_file() {
        gz
    } else {
        bail!("{}: no energibridge.csv or energibridge.csv.gz", dir.display());
    };
    let (csv, csv_record) = with_source(experiment, &csv_path, |raw| {
        if raw.starts_with(&[0x1f, 0x8b]) {
            // Each worker thread inflates into one buffer it keeps from trial to trial.
            thread_local! {
                static INFLATED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
            }
            INFLATED.with_borrow_mut(|text| {
                energibridge::inflate_gzip_into(raw, text)
                    .map_err(|m| dataset::error::DatasetError::invalid(&csv_path, m))?;
                Ok(energibridge::parse_samples_csv(text, &csv_path)?)
            })
        } else {
            Ok(energibridge::parse_samples_csv(raw, &csv_path)?)
        }
    })?;
    warnings.extend(csv.warnings);
    let samples: SampleTable = csv.table;
    let prompts_path = dir.join("prompts_out.tsv");
    let (prompts, tsv_record) = with_source(experiment, &prompts_path, |tsv| {
        read_prompts_out(tsv, &prompts_path, &mut warnings)
    })?;
    let mut files = vec![csv_record, tsv_record];
    let summary_path = dir.join("energibridge-summary.txt");
    let summary: Option<Summary> = if summary_path.is_file() {
        let (summary, record) = with_source(experiment, &summary_path, |bytes| {
            Ok(energibridge::summary_from_bytes(bytes, &summary_path)?)
        })?;
        files.push(record);
        Some(summary)
    } else {
        warnings.push(format!(
            "{}: missing; EnergiBridge's own summary is not recorded",
            summary_path.display()
        ));
        None
    };

    let task_items = items.get(row.run.key.task.as_str());
    let mut mismatched = 0;
    let run_id = &row.run.key.run_id;
    let judgments: Vec<Judgment> = prompts
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            p.accuracy.map(|score| Judgment {
                run_id: run_id.to_string(),
                request_index: i as i64,
                scorer: PUBLISHED_SCORER.to_string(),
                score: Some(score),
                reason: Some("published LLM-judge answer relevancy (deepeval)".to_string()),
                details: None,
            })
        })
        .collect();

    let n_prompts = prompts.len();
    let (first, last) = (
        prompts.first().map_or(0, |p| p.start_s),
        prompts.last().map_or(0, |p| p.end_s),
    );
    // The prompts' texts move into the requests: no copy of the 97 MB the study holds.
    let requests: Vec<Request> = prompts
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let item = task_items.and_then(|items| items.get(i));
            if let Some(item) = item
                && !same_text(&item.prompt, &p.prompt)
            {
                mismatched += 1;
            }
            Request {
                run_id: run_id.to_string(),
                index: i as i64,
                item_id: item.and_then(|it| it.item_id),
                gold_label: item.and_then(|it| it.label.clone()),
                prompt: p.prompt,
                response: p.response,
                start_ms: p.start_s * 1000,
                end_ms: p.end_s * 1000,
                ttft_ms: None,
                prompt_tokens: None,
                completion_tokens: Some(p.tokens),
                finish_reason: None,
                error: None,
                ..Default::default()
            }
        })
        .collect();
    if mismatched > 0 {
        warnings.push(format!(
            "{}: {mismatched} of {} prompts differ from {}.jsonl at the same position; gold labels may be misattached",
            prompts_path.display(),
            n_prompts,
            row.run.key.task
        ));
    }
    if let Some(items) = task_items
        && items.len() < n_prompts
    {
        warnings.push(format!(
            "{}: {} prompts but {}.jsonl has only {} items; the rest have no gold label",
            prompts_path.display(),
            n_prompts,
            row.run.key.task,
            items.len()
        ));
    }
    let provenance = json!({
        "importer": format!("analyze {} import", env!("CARGO_PKG_VERSION")),
        "source_dir": experiment.display().to_string(),
        "files": files,
        "energibridge_summary": summary.map(|s| json!({"energy_j": s.energy_j, "duration_s": s.duration_s})),
        "run_table": {"line": row.line, "energy": row.energy, "done": row.done},
    });
    let trial = Trial {
        key: row.run.key.clone(),
        status: TrialStatus::Done,
        failure_reason: None,
        start_ms: first * 1000,
        end_ms: last * 1000,
        time_resolution_ms: 1000,
        sample_interval_ms: median_interval(&samples.time_ms),
        simulated: false,
        provenance: provenance.to_string(),
        ..Default::default()
    };
    Ok((
        TrialFiles {
            trial,
            requests,
            samples,
            baseline: None,
            server_metrics: Vec::new(),
        },
        judgments,
        warnings,
    ))
}

/// Most trials in one imported part: a treatment with more repetitions is written as parts
/// `run_<R>.1`, `run_<R>.2`, … of at most this many (the study's 30 make one part).
const PART_TRIALS: usize = 30;

/// Parts read and written in parallel before their judgments are appended to the judgments
/// file: what memory holds beyond the parts being written is these parts' judgments.
const PARTS_IN_FLIGHT: usize = 32;

/// Writes some trials of one treatment as part `name`, or as parts `<name>.<k>` when they
/// differ in sample channels (the trials of a part must share them).
fn write_part(ds: &Dataset, name: &str, trials: Vec<TrialFiles>) -> Result<()> {
    let mut layouts: Vec<(String, Vec<TrialFiles>)> = Vec::new();
    for t in trials {
        let key = t.samples.layout_key();
        match layouts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, group)) => group.push(t),
            None => layouts.push((key, vec![t])),
        }
    }
    let split = layouts.len() > 1;
    for (k, (_, group)) in layouts.into_iter().enumerate() {
        let part = if split {
            format!("{name}.{}", k + 1)
        } else {
            name.to_string()
        };
        // Staged files need no fsync: the whole dataset is renamed into place at the end.
        ds.write_part_from(&part, group, false)?;
    }
    Ok(())
}

/// The median positive difference between consecutive sample times, ms.
fn median_interval(times: &[i64]) -> Option<f64> {
    let mut d: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).filter(|&d| d > 0).collect();
    if d.is_empty() {
        return None;
    }
    d.sort_unstable();
    Some(d[d.len() / 2] as f64)
}

/// What reading and writing one trial gives: requests, samples, judgments, warnings.
type TrialOutcome = (usize, usize, Vec<Judgment>, Vec<String>);

/// A trial of a part and what importing it gave.
type PartOutcome<'a> = (&'a RunTableRow, Result<TrialOutcome>);

/// Runs the import.
pub fn run(opts: &ImportOptions) -> Result<ImportSummary> {
    let experiment = locate_experiment(&opts.source)?;
    let run_table = read_run_table(&experiment.join("run_table.csv"))?;
    let mut summary = ImportSummary::default();

    let mut items: HashMap<String, Vec<TaskItem>> = HashMap::new();
    if let Some(dir) = &opts.prompts {
        if !dir.is_dir() {
            bail!("{}: --prompts folder does not exist", dir.display());
        }
        let mut tasks: Vec<&str> = run_table.iter().map(|r| r.run.key.task.as_str()).collect();
        tasks.sort_unstable();
        tasks.dedup();
        for task in tasks {
            let path = task_file(dir, task);
            if path.is_file() {
                items.insert(task.to_string(), read_task_items(&path)?);
            } else {
                summary.warnings.push(format!(
                    "{}: missing; task {task} gets no gold labels",
                    path.display()
                ));
            }
        }
    }

    let todo: Vec<&RunTableRow> = run_table.iter().filter(|r| r.done).collect();
    let not_done = run_table.len() - todo.len();
    if not_done > 0 {
        summary.warnings.push(format!(
            "{}: {not_done} trial(s) not marked DONE were not imported",
            experiment.join("run_table.csv").display()
        ));
    }
    let manifest = Manifest::new(
        format!("analyze {} import", env!("CARGO_PKG_VERSION")),
        false,
        format!("imported from {}", experiment.display()),
    );
    let staged = StagedDataset::begin(&opts.out, &manifest, opts.force)?;
    let ds: &Dataset = staged.dataset();

    let bar = crate::model::build::progress_bar(todo.len(), "importing", "trials", opts.progress);
    // One part per treatment (its repetitions are read, then written together: a file costs
    // about as much file-system time as decoding it on a small VM's disk; see docs/dataset.md),
    // or per PART_TRIALS of its repetitions where it has more, so memory holds at most a part
    // per thread however many repetitions a study has.
    let mut treatments: BTreeMap<i64, Vec<&RunTableRow>> = BTreeMap::new();
    for row in &todo {
        treatments.entry(row.run.key.run).or_default().push(row);
    }
    let parts: Vec<(String, &[&RunTableRow])> = treatments
        .iter()
        .flat_map(|(run, rows)| {
            let chunks = rows.len().div_ceil(PART_TRIALS);
            rows.chunks(PART_TRIALS).enumerate().map(move |(c, rows)| {
                let name = if chunks == 1 {
                    format!("run_{run}")
                } else {
                    format!("run_{run}.{}", c + 1)
                };
                (name, rows)
            })
        })
        .collect();
    // Judgments are streamed into their file window by window, in run-table order per part.
    let mut judgments = ds.judgments_stream(PUBLISHED_SCORER)?;
    for window in parts.chunks(PARTS_IN_FLIGHT) {
        let results: Vec<Result<Vec<PartOutcome>>> = window
            .par_iter()
            .map(|(part, rows)| {
                let mut outcomes = Vec::with_capacity(rows.len());
                let mut read: Vec<TrialFiles> = Vec::with_capacity(rows.len());
                for row in rows.iter() {
                    match read_trial(&experiment, row, &items) {
                        Ok((files, judgments, warnings)) => {
                            let outcome = (files.requests.len(), files.samples.len(), judgments, warnings);
                            outcomes.push((*row, Ok(outcome)));
                            read.push(files);
                        }
                        Err(e) => outcomes.push((*row, Err(e))),
                    }
                    bar.inc(1);
                }
                write_part(ds, part, read)?;
                Ok(outcomes)
            })
            .collect();
        for result in results {
            for (row, result) in result? {
                match result {
                    Ok((requests, samples, j, w)) => {
                        summary.trials += 1;
                        summary.requests += requests;
                        summary.samples += samples;
                        summary.judgments += j.len();
                        judgments.write(&j)?;
                        summary.warnings.extend(w);
                    }
                    Err(e) if opts.keep_going => {
                        summary.skipped.push(format!("{}: {e:#}", row.run.key.run_id))
                    }
                    Err(e) => return Err(e.context(format!("importing trial {}", row.run.key.run_id))),
                }
            }
        }
    }
    bar.finish_and_clear();
    if summary.trials == 0 {
        bail!("{}: no trial could be imported", experiment.display());
    }
    ds.write_runs(&run_table.iter().map(|r| r.run.clone()).collect::<Vec<_>>())?;
    judgments.finish()?;
    staged.commit()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_parse() {
        assert_eq!(parse_run_id("run_25_repetition_18"), Some((25, 18)));
        assert_eq!(parse_run_id("run_x_repetition_1"), None);
        assert_eq!(parse_run_id("trial_1"), None);
    }

    #[test]
    fn median_interval_ignores_duplicates() {
        assert_eq!(median_interval(&[0, 0, 200, 400, 601]), Some(200.0));
        assert_eq!(median_interval(&[5]), None);
    }
}
