//! Building the [`Study`]: one parallel pass over the dataset's parts. Each worker reads one
//! part (its trial rows are read once up front), turns every trial into its small rows —
//! metrics, per-request energies and, when asked, the audit's facts — and drops the samples
//! before it takes the next part, so at most one part per worker is in memory.
//!
//! A file that cannot be read (a truncated Parquet file, a missing one) does not stop the pass:
//! every part is read, and then the build fails naming every damaged file, or, with
//! [`BuildOptions::skip_damaged`], goes on without the trials those files hold and records
//! them in [`Study::damage`] for the audit and the report.

use super::serving::{self, Latencies, Serving};
use super::{GOLD_SCORER, JUDGE_SCORER_PREFIX, PUBLISHED_SCORER, Provenance, Source, Study};
use crate::audit::{self, Audit, TrialAudit};
use crate::published::{self, PublishedTables};
use anyhow::{Context, Result, bail};
use dataset::accounting::{apply_baseline, baseline_power_w, metrics_row, request_metrics_attributed};
use dataset::{
    Accounting, Damage, DamagedPart, Dataset, Judgment, Manifest, MetricsRow, ReadOptions, RequestMetricsRow,
    Trial, TrialFiles, TrialKey,
};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The accounting of the metrics.
    pub accounting: Accounting,
    /// Also audit every trial (both accountings, sample timing, repeated responses); reads the
    /// response text.
    pub audit: bool,
    /// The study's published tables to check the replay against; without it the audit looks
    /// for them next to the imported source folder.
    pub published_tables: Option<PathBuf>,
    /// Show a progress bar.
    pub progress: bool,
    /// Go on without the trials whose files cannot be read (and without a judgments file that
    /// cannot be read) instead of failing; they are listed in [`Study::damage`].
    pub skip_damaged: bool,
    /// Also compute the energy of every request, handed to the sink of
    /// [`Study::build_with_requests`] part by part (the model does not keep them).
    pub requests: bool,
}

/// Parts read in parallel at a time: the rows of one chunk are gathered (and their requests
/// handed on) before the next is read, so the per-request rows in memory are bounded by the
/// chunk, not the study.
const CHUNK_PARTS: usize = 256;

/// The option that goes on without damaged files, as the error names it.
pub const SKIP_DAMAGED_FLAG: &str = "--skip-damaged";

/// A progress bar over `n` items named `unit` (`trials`, `parts`), hidden when `show` is
/// false: the one style of analyze's long steps.
pub fn progress_bar(n: usize, prefix: &'static str, unit: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(n as u64);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{prefix}} [{{bar:30}}] {{pos}}/{{len}} {unit}, {{elapsed}} (ETA {{eta}})"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(prefix);
    bar
}

/// The judgments the per-trial rows need, by run id.
struct Scores<'a> {
    published: HashMap<&'a str, Vec<f64>>,
    published_rows: HashMap<&'a str, usize>,
    gold: HashMap<&'a str, Vec<f64>>,
    judge: HashMap<&'a str, Vec<f64>>,
}

impl<'a> Scores<'a> {
    fn new(judgments: &'a [Judgment]) -> Self {
        let mut s = Self {
            published: HashMap::new(),
            published_rows: HashMap::new(),
            gold: HashMap::new(),
            judge: HashMap::new(),
        };
        for j in judgments {
            let id = j.run_id.as_str();
            if j.scorer == PUBLISHED_SCORER {
                *s.published_rows.entry(id).or_default() += 1;
                let entry = s.published.entry(id).or_default();
                entry.extend(j.score);
            } else if j.scorer == GOLD_SCORER {
                let entry = s.gold.entry(id).or_default();
                entry.extend(j.score);
            } else if j.scorer.starts_with(JUDGE_SCORER_PREFIX)
                && let Some(v) = j.score
            {
                s.judge.entry(id).or_default().push(v);
            }
        }
        s
    }
}

fn mean(v: Option<&Vec<f64>>) -> Option<f64> {
    v.filter(|v| !v.is_empty())
        .map(|v| v.iter().sum::<f64>() / v.len() as f64)
}

/// The metrics row of one trial: the accounting, the judges' accuracies and, when collect
/// measured an idle baseline, the energy above idle.
pub fn trial_metrics(
    t: &TrialFiles,
    scores: &[f64],
    gold: Option<f64>,
    judge: Option<f64>,
    accounting: Accounting,
) -> MetricsRow {
    let mut row = metrics_row(&t.trial, &t.requests, &t.samples, scores, accounting);
    row.accuracy_gold = gold;
    row.accuracy_judge = judge;
    if let Some(p) = t.baseline.as_ref().and_then(baseline_power_w) {
        apply_baseline(&mut row, p);
    }
    row
}

/// What one trial contributes to the model.
struct TrialRows {
    trial: Trial,
    metrics: MetricsRow,
    serving: Serving,
    latency: Latencies,
    requests: Vec<RequestMetricsRow>,
    audit: Option<TrialAudit>,
}

/// What one part contributes: its trials' rows, sorted, and the channels its samples have.
struct PartRows {
    trials: Vec<TrialRows>,
    channels: BTreeSet<String>,
}

/// The order of the model's rows: run, repetition, run id.
fn order_key(k: &TrialKey) -> (i64, i64, &str) {
    (k.run, k.repetition, k.run_id.as_str())
}

fn trial_rows(
    t: TrialFiles,
    s: &Scores<'_>,
    opts: &BuildOptions,
    tables: Option<&PublishedTables>,
    limits: &HashMap<String, Vec<(u32, f64)>>,
) -> TrialRows {
    let id = t.trial.key.run_id.as_str();
    let (serving, latency) = serving::serving(&t, limits.get(id).map_or(&[][..], Vec::as_slice));
    let published = s.published.get(id).map_or(&[][..], Vec::as_slice);
    let mut metrics = trial_metrics(
        &t,
        published,
        mean(s.gold.get(id)),
        mean(s.judge.get(id)),
        opts.accounting,
    );
    let audit = opts.audit.then(|| {
        let judged = s.published_rows.get(id).copied().unwrap_or(0);
        audit::audit_trial(&t, published, judged, tables)
    });
    let requests = if opts.requests {
        let (rows, unattributed) = request_metrics_attributed(&t.trial, &t.requests, &t.samples);
        if opts.accounting == Accounting::Corrected {
            metrics.unattributed_energy_j = unattributed;
        }
        rows
    } else {
        Vec::new()
    };
    TrialRows {
        requests,
        metrics,
        serving,
        latency,
        audit,
        trial: t.trial,
    }
}

/// The rows of one part's trials, in the model's order.
fn part_rows(
    files: Vec<TrialFiles>,
    s: &Scores<'_>,
    opts: &BuildOptions,
    tables: Option<&PublishedTables>,
    limits: &HashMap<String, Vec<(u32, f64)>>,
) -> PartRows {
    let mut channels = BTreeSet::new();
    let mut trials: Vec<TrialRows> = files
        .into_iter()
        .map(|t| {
            // The accounting's channels only: a part read whole (for the gates) names the
            // same channels as one read for the accounting.
            channels.extend(
                t.samples
                    .columns
                    .iter()
                    .filter(|c| dataset::SampleTable::is_accounting_column(&c.name))
                    .map(|c| c.name.clone()),
            );
            trial_rows(t, s, opts, tables, limits)
        })
        .collect();
    trials.sort_by(|a, b| order_key(&a.trial.key).cmp(&order_key(&b.trial.key)));
    PartRows { trials, channels }
}

/// `v` reordered: element `order[i]` comes `i`-th.
fn permute<T>(v: Vec<T>, order: &[usize]) -> Vec<T> {
    let mut slots: Vec<Option<T>> = v.into_iter().map(Some).collect();
    order.iter().filter_map(|&i| slots[i].take()).collect()
}

/// The published tables: the flag, else next to the folder the data were imported from (the
/// trials' `source_dir`).
fn published_tables(flag: Option<&Path>, provenance: &Provenance) -> Result<Option<PublishedTables>> {
    if let Some(dir) = flag {
        return published::read_dir(dir).map(Some);
    }
    let source = provenance.first_value("source_dir").map(PathBuf::from);
    match source.and_then(|s| published::find_near(&s)) {
        Some(dir) => {
            eprintln!("note: comparing with the published tables in {}", dir.display());
            published::read_dir(&dir).map(Some)
        }
        None => Ok(None),
    }
}

/// The design a manifest records: collect's design (`{"collect": {"design": …}}` in the
/// description; the shard a run took is not part of it), else the whole description (an
/// import's names its source).
fn design_of(manifest: &Manifest) -> serde_json::Value {
    let parsed: Option<serde_json::Value> = serde_json::from_str(&manifest.description).ok();
    match parsed.as_ref().and_then(|v| v.get("collect")?.get("design")) {
        Some(design) => design.clone(),
        None => serde_json::Value::String(manifest.description.clone()),
    }
}

/// The keys in which two designs differ (the whole design when either is not an object).
fn design_differences(a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter()
                .filter(|k| a.get(*k) != b.get(*k))
                .map(|k| k.to_string())
                .collect()
        }
        _ => vec!["the design (description)".to_string()],
    }
}

/// Opens the dataset folders to be read as one study: every one must record the same design
/// and the same run table as the first (shards of one collection, `collect --shard K/N`).
fn open_all(paths: &[PathBuf]) -> Result<Vec<(Dataset, Manifest)>> {
    let mut out: Vec<(Dataset, Manifest)> = Vec::with_capacity(paths.len());
    let mut first_runs = None;
    for path in paths {
        if out.iter().any(|(d, _)| same_folder(d.root(), path)) {
            bail!("{}: named twice", path.display());
        }
        let ds = Dataset::open(path)?;
        let manifest = ds.manifest()?;
        if let Some((first, first_manifest)) = out.first() {
            let differ = design_differences(&design_of(first_manifest), &design_of(&manifest));
            if !differ.is_empty() {
                bail!(
                    "{}: another design than {} (differs in: {}); only datasets of one design (shards of one collection) are read as one",
                    path.display(),
                    first.root().display(),
                    differ.join(", ")
                );
            }
            let runs = ds.read_runs()?;
            if first_runs.get_or_insert_with(|| first.read_runs()).as_ref().ok() != Some(&runs) {
                bail!(
                    "{}: its run table differs from that of {} though the design is the same",
                    path.display(),
                    first.root().display()
                );
            }
        }
        out.push((ds, manifest));
    }
    Ok(out)
}

fn same_folder(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The folder every path lies in (for naming damaged files of several datasets relatively).
fn common_root(paths: &[PathBuf]) -> PathBuf {
    match paths {
        [one] => one.clone(),
        _ => paths
            .first()
            .and_then(|p| p.parent())
            .filter(|parent| paths.iter().all(|p| p.starts_with(parent)))
            .map_or_else(PathBuf::new, Path::to_path_buf),
    }
}

impl Study {
    /// Reads a dataset into the model (see the module documentation).
    pub fn build(path: &Path, opts: &BuildOptions) -> Result<Self> {
        Self::build_with_requests(path, opts, &mut |_| Ok(()))
    }

    /// [`Study::build`] that, with [`BuildOptions::requests`], hands the energy of every
    /// request to `on_requests`, one trial at a time in the order of the parts (the model's
    /// order when parts hold disjoint runs), instead of keeping them.
    pub fn build_with_requests(
        path: &Path,
        opts: &BuildOptions,
        on_requests: &mut dyn FnMut(Vec<RequestMetricsRow>) -> Result<()>,
    ) -> Result<Self> {
        Self::build_all(&[path.to_path_buf()], opts, on_requests)
    }

    /// [`Study::build_with_requests`] of several dataset folders read as one study: the same
    /// design and run table in each (shards, `collect --shard K/N`), every trial in one of them
    /// only.
    pub fn build_all(
        paths: &[PathBuf],
        opts: &BuildOptions,
        on_requests: &mut dyn FnMut(Vec<RequestMetricsRow>) -> Result<()>,
    ) -> Result<Self> {
        let Some(path) = paths.first() else {
            bail!("no dataset folder given");
        };
        let path = path.as_path();
        let datasets = open_all(paths)?;
        let manifest = datasets[0].1.clone();
        // Each trial's provenance JSON is summarised as its file is read, and dropped.
        let summary = std::sync::Mutex::new(Provenance::default());
        // The GPU power limits each trial's provenance records, for the power gate.
        let limits = std::sync::Mutex::new(HashMap::<String, Vec<(u32, f64)>>::new());
        let mut rows: Vec<(usize, String, Trial)> = Vec::new();
        let mut damage = Damage::default();
        let mut holder: HashMap<String, usize> = HashMap::new();
        for (d, (ds, _)) in datasets.iter().enumerate() {
            let (these, their_damage) = ds
                .trial_rows_checked_with(&|t| {
                    let json: serde_json::Value = serde_json::from_str(&t.provenance).unwrap_or_default();
                    let mut one = Provenance::default();
                    one.add_parsed(&json, t.energy_sources.as_deref());
                    let found = serving::power_limits(&json);
                    if !found.is_empty() {
                        limits
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(t.key.run_id.to_string(), found);
                    }
                    // The audit reads EnergiBridge's own summary from it; nothing else is kept.
                    t.provenance = if opts.audit {
                        audit::summary_only(&json)
                    } else {
                        String::new()
                    };
                    summary.lock().unwrap_or_else(|e| e.into_inner()).merge(one);
                })
                .with_context(|| format!("loading {}", ds.root().display()))?;
            for (part, trial) in these {
                if let Some(other) = holder.insert(trial.key.run_id.to_string(), d) {
                    bail!(
                        "trial {} is in {} and in {}: a dataset (shard) named twice, or copied into another",
                        trial.key.run_id,
                        datasets[other].0.root().display(),
                        ds.root().display()
                    );
                }
                rows.push((d, part, trial));
            }
            damage.parts.extend(their_damage.parts);
            damage.other.extend(their_damage.other);
        }
        drop(holder);
        let provenance = summary.into_inner().unwrap_or_else(|e| e.into_inner());
        let limits = limits.into_inner().unwrap_or_else(|e| e.into_inner());
        if rows.is_empty() && damage.is_empty() {
            bail!(
                "{}: the dataset holds no trials (run `collect` or `analyze import` first)",
                path.display()
            );
        }
        // The trial files' reading buffers are gone: their pages go back before the rows grow.
        crate::release_freed_memory();
        let tables = if opts.audit {
            published_tables(opts.published_tables.as_deref(), &provenance)?
        } else {
            None
        };
        // The trial rows grouped by part, parts in the order of their first trial (rows come
        // sorted by run id), so that the rows come out in the model's order when the parts
        // hold disjoint runs (collect's and the importer's do).
        // Counted first, so that each part's rows are allocated once at their size: collect's
        // parts hold one trial each, and a vector grown by pushing would reserve four (1.5 KB
        // a trial, 150 MB at 100,000 trials).
        let mut slot: HashMap<(usize, &str), usize> = HashMap::new();
        let mut sizes: Vec<usize> = Vec::new();
        let index: Vec<usize> = rows
            .iter()
            .map(|(d, part, _)| {
                *slot.entry((*d, part.as_str())).or_insert_with(|| {
                    sizes.push(0);
                    sizes.len() - 1
                })
            })
            .collect();
        drop(slot);
        for &i in &index {
            sizes[i] += 1;
        }
        let mut parts: Vec<(usize, String, Vec<Trial>)> = Vec::with_capacity(sizes.len());
        for ((d, part, trial), i) in rows.into_iter().zip(index) {
            if i == parts.len() {
                parts.push((d, part, Vec::with_capacity(sizes[i])));
            }
            parts[i].2.push(trial);
        }
        parts.sort_by(|a, b| {
            let first_a = a.2.iter().map(|t| order_key(&t.key)).min();
            let first_b = b.2.iter().map(|t| order_key(&t.key)).min();
            first_a.cmp(&first_b).then_with(|| (a.0, &a.1).cmp(&(b.0, &b.1)))
        });
        let mut judgments = Vec::new();
        for (ds, _) in &datasets {
            let (these, damaged_judgments) = ds.read_judgments_checked()?;
            judgments.extend(these);
            damage.other.extend(damaged_judgments);
        }
        let scores = Scores::new(&judgments);
        let read = ReadOptions {
            text: opts.audit,
            accounting_only: true,
            skip_samples: false,
            server_metrics: false,
        };
        let bar = progress_bar(parts.len(), "loading", "parts", opts.progress);
        // Sized once: growing by doubling would hold up to twice the rows (and copy them).
        let n: usize = parts.iter().map(|p| p.2.len()).sum();
        let mut trials = Vec::with_capacity(n);
        let mut metrics = Vec::with_capacity(n);
        let mut servings = Vec::with_capacity(n);
        // Each trial's latencies go into its treatment's histograms and are dropped.
        let mut latency: BTreeMap<i64, super::LatencySketch> = BTreeMap::new();
        let mut audits = Vec::with_capacity(if opts.audit { n } else { 0 });
        let mut channels = BTreeSet::new();
        let mut parts = parts.into_iter();
        loop {
            let chunk: Vec<(usize, String, Vec<Trial>)> = parts.by_ref().take(CHUNK_PARTS).collect();
            if chunk.is_empty() {
                break;
            }
            // Every part is read, whatever fails: a damaged one comes back as such (a file of
            // a newer schema version is no damage: it stops the build).
            let read_parts: Vec<Result<PartRows, DamagedPart>> = chunk
                .into_par_iter()
                .map(|(d, part, trials)| {
                    let keys = trials.iter().map(|t| t.key.clone()).collect();
                    let files = datasets[d].0.read_part_with_trials(&part, trials, read);
                    bar.inc(1);
                    match files {
                        Ok(files) => Ok(Ok(part_rows(files, &scores, opts, tables.as_ref(), &limits))),
                        Err(e) if e.is_damage() => Ok(Err(DamagedPart::new(part, keys, &e))),
                        Err(e) => Err(e),
                    }
                })
                .collect::<Result<Vec<_>, dataset::DatasetError>>()
                .with_context(|| format!("loading {}", path.display()))?;
            for r in read_parts {
                let part = match r {
                    Ok(part) => part,
                    Err(p) => {
                        damage.parts.push(p);
                        continue;
                    }
                };
                channels.extend(part.channels);
                for t in part.trials {
                    if !t.requests.is_empty() {
                        on_requests(t.requests)?;
                    }
                    latency.entry(t.trial.key.run).or_default().record(&t.latency);
                    trials.push(t.trial);
                    metrics.push(t.metrics);
                    servings.push(t.serving);
                    audits.extend(t.audit);
                }
            }
        }
        bar.finish_and_clear();
        damage.sort();
        let root = common_root(paths);
        check_damage(&root, &damage, opts.skip_damaged)?;
        if trials.is_empty() {
            bail!("{}: every trial is damaged; nothing to analyse", path.display());
        }
        // Parts whose runs interleave: sort the rows (their requests went out in part order).
        if !trials
            .windows(2)
            .all(|w| order_key(&w[0].key) <= order_key(&w[1].key))
        {
            let mut order: Vec<usize> = (0..trials.len()).collect();
            order.sort_by(|&a, &b| order_key(&trials[a].key).cmp(&order_key(&trials[b].key)));
            trials = permute(trials, &order);
            metrics = permute(metrics, &order);
            servings = permute(servings, &order);
            if !audits.is_empty() {
                audits = permute(audits, &order);
            }
        }
        let audit = opts.audit.then(|| Audit {
            // Paths inside the dataset folder: the report shows the audit, and names no
            // machine folder.
            damage: damage.relative_to(&root),
            ..Audit::new(audits, tables)
        });
        let source = Source {
            path: path.to_path_buf(),
            paths: paths.to_vec(),
            simulated: manifest.simulated,
            description: manifest.description,
            created_by: manifest.created_by,
            schema_version: manifest.schema_version,
        };
        let mut study = Study::new(
            source,
            opts.accounting,
            super::Trials {
                trials,
                metrics,
                channels,
                provenance,
                serving: servings,
                latency,
            },
            judgments,
            audit,
        );
        study.damage = damage;
        Ok(study)
    }
}

/// Fails naming every damaged file, unless `skip`.
fn check_damage(path: &Path, damage: &Damage, skip: bool) -> Result<()> {
    if damage.is_empty() || skip {
        return Ok(());
    }
    bail!("{}", damage.error_message(path, SKIP_DAMAGED_FLAG))
}
