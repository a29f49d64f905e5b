//! The physical layout of a dataset folder and the only code that knows it.
//!
//! ```text
//! DATA/
//!   dataset.json                     manifest: format, schema version, who wrote it
//!   runs.parquet                     the run table (design, execution order)
//!   trials/<part>/trial.parquet      one row per trial of the part
//!   trials/<part>/requests.parquet   one row per prompt
//!   trials/<part>/samples.parquet    one row per energy sample
//!   trials/<part>/baseline.parquet   idle samples before the trial (optional)
//!   trials/<part>/server_metrics.parquet  the model server's own metrics (optional)
//!   judgments/<scorer>.parquet       scores, one file per scorer
//!   derived/metrics_<accounting>.parquet
//!   .collect.lock                    collect's lock (see crate::lock)
//!   judgments/.<scorer>.lock         judge's lock of one scorer file
//! ```
//!
//! A *part* holds one or more complete trials and every row carries `run_id`. `collect`
//! commits each trial as its own part `trials/<run_id>/` with a single `rename` (a crash loses
//! at most the trial in flight, and a half-written trial is never visible); `analyze import`
//! writes one part per treatment, since on a small VM's disk each file costs about as much
//! file-system time as decoding it. The fixed file names let DuckDB, polars or pandas read a
//! whole table with one glob (`trials/*/samples.parquet`; no Hive parsing needed).

use crate::damage::{Damage, DamagedFile, DamagedPart};
use crate::error::{DatasetError, IoContext, Result};
use crate::io::{self, WriteMode};
use crate::samples::{SampleTable, write_sample_batches};
use crate::tables::requests::TEXT_COLUMNS;
use crate::tables::{self, SCHEMA_VERSION};
use crate::{Accounting, Judgment, MetricsRow, Request, RequestMetricsRow, RunRow, ServerMetric, Trial};
use arrow::array::RecordBatch;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Name of the manifest file that marks a folder as a dataset.
pub const MANIFEST: &str = "dataset.json";
/// Folder of committed trials.
pub const TRIALS_DIR: &str = "trials";
/// Folder where trials are assembled before their commit; its content is garbage after a crash.
pub const STAGING_DIR: &str = ".staging";
/// Folder where `collect` keeps the damaged files of a trial it measured again
/// (`damaged/<part>.<ms>/`, see [`Dataset::replace_damaged_part`]); no reader looks into it.
pub const DAMAGED_DIR: &str = "damaged";

/// The manifest (`dataset.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `llm-energy-dataset`.
    pub format: String,
    /// Schema version the dataset was created with.
    pub schema_version: u32,
    /// Tool and version that created it (`analyze 0.1.0 import`).
    pub created_by: String,
    /// Creation time, ms since the Unix epoch.
    pub created_at_ms: i64,
    /// True when the data are simulated (`collect --demo`).
    #[serde(default)]
    pub simulated: bool,
    /// Free-form description (the source folder of an import, the config of a collection).
    #[serde(default)]
    pub description: String,
}

impl Manifest {
    /// A manifest for a new dataset.
    pub fn new(created_by: impl Into<String>, simulated: bool, description: impl Into<String>) -> Self {
        Self {
            format: "llm-energy-dataset".into(),
            schema_version: SCHEMA_VERSION,
            created_by: created_by.into(),
            created_at_ms: now_ms(),
            simulated,
            description: description.into(),
        }
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Everything one trial writes.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialFiles {
    /// The trial row.
    pub trial: Trial,
    /// Its requests, in order.
    pub requests: Vec<Request>,
    /// Its samples.
    pub samples: SampleTable,
    /// Idle samples measured just before the trial, if a baseline was taken.
    pub baseline: Option<SampleTable>,
    /// The model server's metrics scraped during the trial (empty when it exposes none).
    pub server_metrics: Vec<ServerMetric>,
}

/// Checks that a run id can name a folder: ASCII letters, digits, `_`, `-`, `.`, not starting
/// with a dot.
pub fn validate_run_id(run_id: &str) -> std::result::Result<(), String> {
    let ok = !run_id.is_empty()
        && !run_id.starts_with('.')
        && run_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "run id `{run_id}` must be ASCII letters, digits, `_`, `-` or `.` and not start with `.`"
        ))
    }
}

/// A dataset folder.
#[derive(Debug, Clone)]
pub struct Dataset {
    root: PathBuf,
    /// True for a dataset being staged as a whole ([`StagedDataset`]): its trials are written
    /// straight into `trials/<part>/`, since the whole folder is renamed into place at the end.
    staged: bool,
}

impl Dataset {
    /// Opens an existing dataset (its `dataset.json` must exist and be readable).
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let manifest = root.join(MANIFEST);
        if !manifest.is_file() {
            return Err(DatasetError::NotADataset { path: root });
        }
        let ds = Self { root, staged: false };
        ds.manifest()?;
        Ok(ds)
    }

    /// True when `root` holds a dataset.
    pub fn exists(root: &Path) -> bool {
        root.join(MANIFEST).is_file()
    }

    /// Creates a dataset in place (used by `collect`, which commits trial by trial). Refuses an
    /// existing dataset unless `force`, in which case the old one is removed first.
    pub fn create(root: impl Into<PathBuf>, manifest: &Manifest, force: bool) -> Result<Self> {
        let root = root.into();
        if Self::exists(&root) {
            if !force {
                return Err(DatasetError::AlreadyExists { path: root });
            }
            remove_dataset(&root)?;
        }
        std::fs::create_dir_all(root.join(TRIALS_DIR)).at(&root)?;
        let ds = Self { root, staged: false };
        ds.write_manifest(manifest)?;
        Ok(ds)
    }

    /// The dataset's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Reads the manifest.
    pub fn manifest(&self) -> Result<Manifest> {
        let path = self.root.join(MANIFEST);
        let text = std::fs::read_to_string(&path).at(&path)?;
        let m: Manifest = serde_json::from_str(&text)
            .map_err(|e| DatasetError::parse(&path, e.line() as u64, format!("invalid manifest: {e}")))?;
        if m.schema_version > SCHEMA_VERSION {
            return Err(DatasetError::NewerSchema {
                path,
                found: m.schema_version,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(m)
    }

    /// Writes the manifest atomically.
    pub fn write_manifest(&self, m: &Manifest) -> Result<()> {
        let path = self.root.join(MANIFEST);
        let text = serde_json::to_string_pretty(m).unwrap_or_default();
        io::write_atomic(&path, text.as_bytes(), true)
    }

    /// Path of the run table.
    pub fn runs_path(&self) -> PathBuf {
        self.root.join("runs.parquet")
    }

    /// Reads the run table (empty when there is none yet).
    pub fn read_runs(&self) -> Result<Vec<RunRow>> {
        let path = self.runs_path();
        if !path.exists() {
            return Ok(Vec::new());
        }
        tables::read(&path)
    }

    /// Writes the run table atomically.
    pub fn write_runs(&self, rows: &[RunRow]) -> Result<()> {
        tables::write(&self.runs_path(), rows, WriteMode::Atomic { sync: true })
    }

    /// Folder of one part (a committed folder under `trials/`).
    pub fn part_dir(&self, part: &str) -> PathBuf {
        self.root.join(TRIALS_DIR).join(part)
    }

    /// Folder of the single-trial part `collect` commits for `run_id`.
    pub fn trial_dir(&self, run_id: &str) -> PathBuf {
        self.part_dir(run_id)
    }

    /// Names of the committed parts (folders under `trials/` holding a `trial.parquet`), sorted.
    pub fn parts(&self) -> Result<Vec<String>> {
        let dir = self.root.join(TRIALS_DIR);
        if !dir.exists() {
            return Ok(Vec::new());
        }
        let mut parts = Vec::new();
        for entry in std::fs::read_dir(&dir).at(&dir)? {
            let entry = entry.at(&dir)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.path().join("trial.parquet").is_file() {
                continue;
            }
            parts.push(name);
        }
        parts.sort();
        Ok(parts)
    }

    /// The trial rows of one part, in file order; a run id listed twice is an error.
    pub fn read_part_trials(&self, part: &str) -> Result<Vec<Trial>> {
        read_trials_at(&self.part_dir(part))
    }

    /// Every committed trial row with the part holding it, sorted by run id. A run id found
    /// in two parts is an error naming both, and so is a `trial.parquet` that cannot be read
    /// (every such file is named; [`Dataset::trial_rows_checked`] goes on without them).
    pub fn trial_rows(&self) -> Result<Vec<(String, Trial)>> {
        let (rows, damage) = self.trial_rows_checked()?;
        let errors = damage
            .files()
            .map(|f| DatasetError::invalid(&f.path, &f.reason))
            .collect();
        match DatasetError::combine(errors) {
            Some(e) => Err(e),
            None => Ok(rows),
        }
    }

    /// [`Dataset::trial_rows`] for a reader that goes on past damaged files: the rows of every
    /// part whose `trial.parquet` can be read, and the parts whose file cannot, each with the
    /// trial of its name when the run table lists one (collect's one-trial parts; the run
    /// table is then read, and reported among the damaged files when it cannot be). A run id
    /// found in two parts is still an error.
    pub fn trial_rows_checked(&self) -> Result<(Vec<(String, Trial)>, Damage)> {
        self.trial_rows_checked_with(&|_| {})
    }

    /// [`Dataset::trial_rows_checked`] that hands every trial row to `visit` as soon as its
    /// file is read (in parallel, in no particular order), before the rows are gathered: a
    /// reader of a large study summarises and drops what it does not keep (the provenance
    /// JSON) there, so the rows of every trial are never in memory in full at once.
    pub fn trial_rows_checked_with(
        &self,
        visit: &(dyn Fn(&mut Trial) + Sync),
    ) -> Result<(Vec<(String, Trial)>, Damage)> {
        let mut rows = Vec::new();
        let mut damage = Damage::default();
        // Read in parallel (a study of collect's one-trial parts has one file per trial), then
        // gathered in part order.
        let read: Vec<(String, Result<Vec<Trial>>)> = self
            .parts()?
            .into_par_iter()
            .map(|part| {
                let mut trials = self.read_part_trials(&part);
                if let Ok(trials) = trials.as_mut() {
                    trials.iter_mut().for_each(visit);
                }
                (part, trials)
            })
            .collect();
        for (part, trials) in read {
            match trials {
                Ok(trials) => rows.extend(trials.into_iter().map(|t| (part.clone(), t))),
                Err(e) if e.is_damage() => damage.parts.push(DamagedPart::new(part, Vec::new(), &e)),
                Err(e) => return Err(e),
            }
        }
        if !damage.parts.is_empty() && self.runs_path().exists() {
            match self.read_runs() {
                Ok(runs) => name_damaged_trials(&mut damage, &rows, &runs),
                Err(e) if e.is_damage() => damage.other.extend(DamagedFile::from_error(&e)),
                Err(e) => return Err(e),
            }
        }
        rows.sort_by(|a, b| a.1.key.run_id.cmp(&b.1.key.run_id));
        if let Some(w) = rows.windows(2).find(|w| w[0].1.key.run_id == w[1].1.key.run_id) {
            return Err(DatasetError::invalid(
                self.root.join(TRIALS_DIR),
                format!(
                    "trial `{}` is in two parts, `{}` and `{}`; move one away",
                    w[0].1.key.run_id, w[0].0, w[1].0
                ),
            ));
        }
        Ok((rows, damage))
    }

    /// Run ids of all committed trials, sorted.
    pub fn trial_ids(&self) -> Result<Vec<String>> {
        Ok(self
            .trial_rows()?
            .into_iter()
            .map(|(_, t)| t.key.run_id.into())
            .collect())
    }

    /// True when the trial is committed.
    pub fn has_trial(&self, run_id: &str) -> Result<bool> {
        Ok(self.locate(run_id)?.is_some())
    }

    /// The part holding a trial, with all of that part's trial rows: its own folder when
    /// `collect` wrote it, else found through the trial rows of every part.
    fn locate(&self, run_id: &str) -> Result<Option<(String, Vec<Trial>)>> {
        if self.trial_dir(run_id).join("trial.parquet").is_file() {
            let rows = self.read_part_trials(run_id)?;
            if rows.iter().any(|t| t.key.run_id == run_id) {
                return Ok(Some((run_id.to_string(), rows)));
            }
        }
        // Damaged parts do not hide the trials of the others; the trial is reported damaged
        // when its part is, or may be.
        let (all, damage) = self.trial_rows_checked()?;
        let Some(part) = all
            .iter()
            .find(|(_, t)| t.key.run_id == run_id)
            .map(|(p, _)| p.clone())
        else {
            let suspects: Vec<DatasetError> = damage
                .parts
                .iter()
                .filter(|p| p.trials.is_empty() || p.trials.iter().any(|k| k.run_id == run_id))
                .flat_map(|p| &p.files)
                .map(|f| DatasetError::invalid(&f.path, &f.reason))
                .collect();
            return match DatasetError::combine(suspects) {
                Some(e) => Err(e),
                None => Ok(None),
            };
        };
        let rows = all
            .into_iter()
            .filter(|(p, _)| *p == part)
            .map(|(_, t)| t)
            .collect();
        Ok(Some((part, rows)))
    }

    fn locate_or_fail(&self, run_id: &str) -> Result<(String, Vec<Trial>)> {
        self.locate(run_id)?.ok_or_else(|| {
            DatasetError::invalid(
                self.root.join(TRIALS_DIR),
                format!("no committed trial `{run_id}`"),
            )
        })
    }

    /// Removes leftovers of interrupted commits (the staging folder, and temporary files of
    /// atomic writes that never got renamed) and returns how many half-written trials were
    /// discarded.
    pub fn discard_staging(&self) -> Result<usize> {
        for dir in [self.root.clone(), self.judgments_dir(), self.root.join("derived")] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().contains(".tmp-") && entry.path().is_file() {
                    std::fs::remove_file(entry.path()).at(entry.path())?;
                }
            }
        }
        let dir = self.root.join(STAGING_DIR);
        if !dir.exists() {
            return Ok(0);
        }
        let n = std::fs::read_dir(&dir).at(&dir)?.count();
        std::fs::remove_dir_all(&dir).at(&dir)?;
        Ok(n)
    }

    /// Commits one trial as its own part, `trials/<run_id>/` (what `collect` does after each
    /// trial). See [`Dataset::write_part`].
    pub fn write_trial(&self, files: &TrialFiles, sync: bool) -> Result<()> {
        self.write_part(&files.trial.key.run_id, std::slice::from_ref(files), sync)
    }

    /// Commits a part: one or more trials whose files are written into a staging folder that
    /// is then renamed into `trials/<part>` (an existing part of that name is replaced). With
    /// `sync`, files and folders are fsynced first so the commit survives a power cut. The
    /// trials of a part must share their sample channels. In a staged dataset the files are
    /// written in place, since the whole dataset is renamed into place at the end.
    pub fn write_part(&self, part: &str, trials: &[TrialFiles], sync: bool) -> Result<()> {
        self.commit_part(part, PartTrials::Borrowed(trials), sync, false)
            .map(|_| ())
    }

    /// [`Dataset::write_part`] taking the trials by value: their samples move into the
    /// Parquet writer's Arrow buffers instead of being copied (what a bulk writer such as
    /// `analyze import` wants).
    pub fn write_part_from(&self, part: &str, trials: Vec<TrialFiles>, sync: bool) -> Result<()> {
        self.commit_part(part, PartTrials::Owned(trials), sync, false)
            .map(|_| ())
    }

    /// [`Dataset::write_part`] over a damaged part: the new files are committed the same way
    /// (staged, then one rename), but the part they replace is kept, moved to
    /// `DATA/damaged/<part>.<ms>/` (no reader looks there), instead of deleted. Returns where
    /// the old part went (None when there was none).
    pub fn replace_damaged_part(
        &self,
        part: &str,
        trials: &[TrialFiles],
        sync: bool,
    ) -> Result<Option<PathBuf>> {
        self.commit_part(part, PartTrials::Borrowed(trials), sync, true)
    }

    fn commit_part(
        &self,
        part: &str,
        files: PartTrials<'_>,
        sync: bool,
        keep_old: bool,
    ) -> Result<Option<PathBuf>> {
        let trials = files.as_slice();
        validate_run_id(part).map_err(|m| DatasetError::invalid(&self.root, format!("part name: {m}")))?;
        let mut seen = std::collections::HashSet::new();
        for t in trials {
            validate_run_id(&t.trial.key.run_id).map_err(|m| DatasetError::invalid(&self.root, m))?;
            if !seen.insert(t.trial.key.run_id.as_str()) {
                return Err(DatasetError::invalid(
                    &self.root,
                    format!("trial `{}` given twice for part `{part}`", t.trial.key.run_id),
                ));
            }
        }
        if trials.is_empty() {
            return Err(DatasetError::invalid(
                &self.root,
                format!("part `{part}` has no trial"),
            ));
        }
        if self.staged {
            let dir = self.part_dir(part);
            std::fs::create_dir(&dir).at(&dir)?;
            return write_part_files(&dir, files, WriteMode::Direct).map(|()| None);
        }
        self.stage_and_install(part, part, sync, keep_old, |staging| {
            write_part_files(staging, files, WriteMode::Atomic { sync })
        })
    }

    /// An empty folder `.staging/<name>.<pid>` to assemble a part in (what an interrupted
    /// assembly of this process left there is removed first).
    fn fresh_staging(&self, name: &str) -> Result<PathBuf> {
        let staging = self
            .root
            .join(STAGING_DIR)
            .join(format!("{name}.{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).at(&staging)?;
        }
        std::fs::create_dir_all(&staging).at(&staging)?;
        Ok(staging)
    }

    /// Fills a fresh staging folder with `fill`, fsyncs it with `sync`, and installs it as
    /// `trials/<part>` ([`Dataset::install_part`]); the staging folder is removed when a step
    /// fails, so nothing reaches `trials/`.
    fn stage_and_install(
        &self,
        part: &str,
        staging_name: &str,
        sync: bool,
        keep_old: bool,
        fill: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<Option<PathBuf>> {
        let staging = self.fresh_staging(staging_name)?;
        let result = (|| {
            fill(&staging)?;
            if sync {
                sync_dir(&staging)?;
            }
            self.install_part(&staging, part, sync, keep_old)
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        result
    }

    /// Renames a complete staged part folder into `trials/<part>`: an existing part of that name
    /// is replaced (deleted, or with `keep_old` moved to `DATA/damaged/<part>.<ms>/`). Returns
    /// where the old part went when kept.
    fn install_part(
        &self,
        staging: &Path,
        part: &str,
        sync: bool,
        keep_old: bool,
    ) -> Result<Option<PathBuf>> {
        let target = self.part_dir(part);
        std::fs::create_dir_all(self.root.join(TRIALS_DIR)).at(&self.root)?;
        let mut kept = None;
        if target.exists() && keep_old {
            let dir = self.root.join(DAMAGED_DIR);
            std::fs::create_dir_all(&dir).at(&dir)?;
            let mut keep = dir.join(format!("{part}.{}", now_ms()));
            let mut n = 1;
            while keep.exists() {
                keep = dir.join(format!("{part}.{}.{n}", now_ms()));
                n += 1;
            }
            // Moved, never copied or deleted: the damaged files stay as they were.
            std::fs::rename(&target, &keep).at(&target)?;
            std::fs::rename(staging, &target).at(&target)?;
            if sync {
                sync_dir(&dir)?;
            }
            kept = Some(keep);
        } else if target.exists() {
            let trash = self
                .root
                .join(STAGING_DIR)
                .join(format!("{part}.old.{}", std::process::id()));
            std::fs::rename(&target, &trash).at(&target)?;
            std::fs::rename(staging, &target).at(&target)?;
            std::fs::remove_dir_all(&trash).at(&trash)?;
        } else {
            std::fs::rename(staging, &target).at(&target)?;
        }
        if sync {
            sync_dir(&self.root.join(TRIALS_DIR))?;
        }
        Ok(kept)
    }

    /// The files a part folder may hold, in the order a transfer sends them (`trial.parquet`
    /// last, so a partial transfer never looks complete).
    pub const PART_FILE_NAMES: [&'static str; 5] = [
        "requests.parquet",
        "samples.parquet",
        "baseline.parquet",
        "server_metrics.parquet",
        "trial.parquet",
    ];

    /// The files of committed part `part` as they are on disk: name, path and size, in
    /// [`Dataset::PART_FILE_NAMES`] order (a testbed agent serves them to its orchestrator).
    pub fn part_files(&self, part: &str) -> Result<Vec<(String, PathBuf, u64)>> {
        validate_run_id(part).map_err(|m| DatasetError::invalid(&self.root, format!("part name: {m}")))?;
        let dir = self.part_dir(part);
        let mut files = Vec::new();
        for name in Self::PART_FILE_NAMES {
            let path = dir.join(name);
            match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => files.push((name.to_string(), path, m.len())),
                Ok(_) => return Err(DatasetError::invalid(&path, "not a plain file")),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).at(&path),
            }
        }
        if !files.iter().any(|f| f.0 == "trial.parquet") {
            return Err(DatasetError::invalid(
                dir.join("trial.parquet"),
                "no committed part here",
            ));
        }
        Ok(files)
    }

    /// Commits a part received as its files' bytes (what a testbed agent sends for one trial):
    /// the files are written into a staging folder, read back in full through this crate's
    /// readers (schema, types, every row), checked to hold exactly the trials `run_ids`, and
    /// only then renamed into `trials/<part>` like any commit. An existing part of that name is
    /// replaced; with `keep_old` it is moved to `DATA/damaged/` instead (a damaged part
    /// measured again). Nothing is written into `trials/` when a check fails.
    pub fn commit_received_part(
        &self,
        part: &str,
        files: &[(String, Vec<u8>)],
        run_ids: &[&str],
        sync: bool,
        keep_old: bool,
    ) -> Result<Option<PathBuf>> {
        validate_run_id(part).map_err(|m| DatasetError::invalid(&self.root, format!("part name: {m}")))?;
        let mut names = std::collections::HashSet::new();
        for (name, _) in files {
            if !Self::PART_FILE_NAMES.contains(&name.as_str()) || !names.insert(name.as_str()) {
                return Err(DatasetError::invalid(
                    self.part_dir(part),
                    format!("`{name}` is not a part file, or is given twice"),
                ));
            }
        }
        self.stage_and_install(part, &format!("{part}.received"), sync, keep_old, |staging| {
            for (name, bytes) in files {
                let path = staging.join(name);
                let mut f = std::fs::File::create(&path).at(&path)?;
                std::io::Write::write_all(&mut f, bytes).at(&path)?;
                if sync {
                    f.sync_all().at(&path)?;
                }
            }
            let trials = read_trials_at(staging)?;
            let mut got: Vec<&str> = trials.iter().map(|t| t.key.run_id.as_str()).collect();
            let mut want = run_ids.to_vec();
            got.sort_unstable();
            want.sort_unstable();
            if got != want {
                return Err(DatasetError::invalid(
                    staging.join("trial.parquet"),
                    format!("holds trials {got:?}, expected {want:?}"),
                ));
            }
            let everything = ReadOptions {
                text: true,
                server_metrics: true,
                ..ReadOptions::default()
            };
            read_part_at(staging, trials, everything)?;
            Ok(())
        })
    }

    /// Removes committed part `part` (a testbed agent, once its orchestrator has the trial):
    /// renamed out of `trials/` first, so readers never see half of it. False when there was
    /// none.
    pub fn remove_part(&self, part: &str) -> Result<bool> {
        validate_run_id(part).map_err(|m| DatasetError::invalid(&self.root, format!("part name: {m}")))?;
        let target = self.part_dir(part);
        if !target.exists() {
            return Ok(false);
        }
        let trash = self
            .root
            .join(STAGING_DIR)
            .join(format!("{part}.removed.{}", std::process::id()));
        std::fs::create_dir_all(self.root.join(STAGING_DIR)).at(&self.root)?;
        if trash.exists() {
            std::fs::remove_dir_all(&trash).at(&trash)?;
        }
        std::fs::rename(&target, &trash).at(&target)?;
        std::fs::remove_dir_all(&trash).at(&trash)?;
        Ok(true)
    }

    /// Reads every trial of one part with its requests (sorted by index; prompt and response
    /// text only with `opts.text`), samples and idle baseline, in the part's trial order.
    pub fn read_part(&self, part: &str, opts: ReadOptions) -> Result<Vec<TrialFiles>> {
        self.read_part_with_trials(part, self.read_part_trials(part)?, opts)
    }

    /// [`Dataset::read_part`] for a caller that already holds the part's trial rows (from
    /// [`Dataset::trial_rows`]), so `trial.parquet` is not read again. `trials` must be all
    /// of the part's rows.
    pub fn read_part_with_trials(
        &self,
        part: &str,
        trials: Vec<Trial>,
        opts: ReadOptions,
    ) -> Result<Vec<TrialFiles>> {
        read_part_at(&self.part_dir(part), trials, opts)
    }

    /// Reads one committed trial with everything it holds (a convenience over
    /// [`Dataset::read_part`]; reading a whole dataset goes part by part).
    pub fn read_trial_files(&self, run_id: &str, opts: ReadOptions) -> Result<TrialFiles> {
        let (part, trials) = self.locate_or_fail(run_id)?;
        self.read_part_with_trials(&part, trials, opts)?
            .into_iter()
            .find(|t| t.trial.key.run_id == run_id)
            .ok_or_else(|| DatasetError::invalid(self.part_dir(&part), format!("no trial `{run_id}`")))
    }

    /// Reads a committed trial's row.
    pub fn read_trial(&self, run_id: &str) -> Result<Trial> {
        let (part, trials) = self.locate_or_fail(run_id)?;
        trials
            .into_iter()
            .find(|t| t.key.run_id == run_id)
            .ok_or_else(|| DatasetError::invalid(self.part_dir(&part), format!("no trial `{run_id}`")))
    }

    /// Reads a committed trial's requests, sorted by index (without prompt and response text
    /// unless `text`).
    pub fn read_requests(&self, run_id: &str, text: bool) -> Result<Vec<Request>> {
        let (part, _) = self.locate_or_fail(run_id)?;
        let mut rows = read_requests(&self.part_dir(&part).join("requests.parquet"), text)?;
        rows.retain(|r| r.run_id == run_id);
        rows.sort_by_key(|r| r.index);
        Ok(rows)
    }

    /// Reads a committed trial's samples (only the accounting channels with `accounting_only`).
    pub fn read_samples(&self, run_id: &str, accounting_only: bool) -> Result<SampleTable> {
        let opts = ReadOptions {
            accounting_only,
            ..ReadOptions::default()
        };
        Ok(self.read_trial_files(run_id, opts)?.samples)
    }

    /// Reads a committed trial's idle baseline samples, if it has any.
    pub fn read_baseline(&self, run_id: &str, accounting_only: bool) -> Result<Option<SampleTable>> {
        let opts = ReadOptions {
            accounting_only,
            ..ReadOptions::default()
        };
        Ok(self.read_trial_files(run_id, opts)?.baseline)
    }

    /// Folder of judgment files.
    pub fn judgments_dir(&self) -> PathBuf {
        self.root.join("judgments")
    }

    /// File name for a scorer (characters unsafe in file names become `_`).
    pub fn judgments_path(&self, scorer: &str) -> PathBuf {
        self.judgments_dir()
            .join(format!("{}.parquet", safe_file_stem(scorer)))
    }

    /// The lock file of a scorer's judgments, `judgments/.<scorer>.lock`, next to its file (see
    /// [`crate::lock`]); two scorers share a lock exactly when they share a file.
    pub fn judgments_lock_path(&self, scorer: &str) -> PathBuf {
        self.judgments_dir()
            .join(format!(".{}.lock", safe_file_stem(scorer)))
    }

    /// Writes (replaces) the judgments of one scorer atomically.
    pub fn write_judgments(&self, scorer: &str, rows: &[Judgment]) -> Result<()> {
        let dir = self.judgments_dir();
        std::fs::create_dir_all(&dir).at(&dir)?;
        tables::write(
            &self.judgments_path(scorer),
            rows,
            WriteMode::Atomic { sync: true },
        )
    }

    /// Starts the judgments file of one scorer as a stream (rows appended batch by batch,
    /// renamed into place by [`tables::TableStream::finish`]): for a writer with more judgments
    /// than it wants to hold (`analyze import`).
    pub fn judgments_stream(&self, scorer: &str) -> Result<tables::TableStream<Judgment>> {
        let dir = self.judgments_dir();
        std::fs::create_dir_all(&dir).at(&dir)?;
        tables::TableStream::create(&self.judgments_path(scorer))
    }

    /// Reads every judgment file (an error names every file that cannot be read).
    pub fn read_judgments(&self) -> Result<Vec<Judgment>> {
        let (rows, damaged) = self.read_judgments_checked()?;
        let errors = damaged
            .iter()
            .map(|f| DatasetError::invalid(&f.path, &f.reason))
            .collect();
        match DatasetError::combine(errors) {
            Some(e) => Err(e),
            None => Ok(rows),
        }
    }

    /// [`Dataset::read_judgments`] for a reader that goes on past damaged files: the rows of
    /// every judgment file that can be read, and the files that cannot.
    pub fn read_judgments_checked(&self) -> Result<(Vec<Judgment>, Vec<DamagedFile>)> {
        let dir = self.judgments_dir();
        if !dir.exists() {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .at(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
            .collect();
        paths.sort();
        let mut all = Vec::new();
        let mut damaged = Vec::new();
        for p in paths {
            match tables::read::<Judgment>(&p) {
                Ok(rows) => all.extend(rows),
                Err(e) if e.is_damage() => damaged.extend(DamagedFile::from_error(&e)),
                Err(e) => return Err(e),
            }
        }
        Ok((all, damaged))
    }

    /// Path of a derived metrics table.
    pub fn metrics_path(&self, accounting: Accounting) -> PathBuf {
        self.root
            .join("derived")
            .join(format!("metrics_{}.parquet", accounting.as_str()))
    }

    /// Path of the derived per-request energy table.
    pub fn request_metrics_path(&self) -> PathBuf {
        self.root.join("derived").join("request_metrics.parquet")
    }

    /// Writes the derived per-request energy table atomically.
    pub fn write_request_metrics(&self, rows: &[RequestMetricsRow]) -> Result<()> {
        tables::write(
            &self.request_metrics_path(),
            rows,
            WriteMode::Atomic { sync: false },
        )
    }

    /// Writes a derived metrics table atomically.
    pub fn write_metrics(&self, accounting: Accounting, rows: &[MetricsRow]) -> Result<()> {
        tables::write(
            &self.metrics_path(accounting),
            rows,
            WriteMode::Atomic { sync: false },
        )
    }
}

/// Names the trials of damaged parts whose `trial.parquet` could not be read, from the run
/// table: a part named after a run id holds that trial (collect's parts); a part named after a
/// treatment (`run_<R>`, `run_<R>.<k>`: an import's parts) holds, as far as one can tell, the run
/// table's trials of that treatment that no readable part holds, when it is the only damaged
/// part of that treatment (marked [`DamagedPart::inferred`]).
fn name_damaged_trials(damage: &mut Damage, rows: &[(String, Trial)], runs: &[RunRow]) {
    let read: std::collections::HashSet<&str> = rows.iter().map(|(_, t)| t.key.run_id.as_str()).collect();
    for p in &mut damage.parts {
        if let Some(r) = runs.iter().find(|r| r.key.run_id == p.part)
            && !read.contains(p.part.as_str())
        {
            p.trials.push(r.key.clone());
        }
    }
    let unknown: Vec<Option<i64>> = damage
        .parts
        .iter()
        .map(|p| if p.trials.is_empty() { p.treatment() } else { None })
        .collect();
    for (i, p) in damage.parts.iter_mut().enumerate() {
        let Some(run) = unknown[i] else { continue };
        if unknown.iter().filter(|u| **u == Some(run)).count() > 1 {
            continue;
        }
        p.trials = runs
            .iter()
            .filter(|r| r.key.run == run && !read.contains(r.key.run_id.as_str()))
            .map(|r| r.key.clone())
            .collect();
        p.inferred = !p.trials.is_empty();
    }
}

/// What to decode when reading trials.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Decode prompt and response text (otherwise they read as empty strings).
    pub text: bool,
    /// Decode only `Time` and the sample channels the accounting uses.
    pub accounting_only: bool,
    /// Do not read samples and baselines at all (they read as empty tables and `None`).
    pub skip_samples: bool,
    /// Also read the server's metrics (`server_metrics.parquet`; otherwise they read empty).
    pub server_metrics: bool,
}

/// Writes the files of a part into `dir`.
/// The trials of a part being written: borrowed (their samples are copied into the writer's
/// buffers) or owned (moved).
enum PartTrials<'a> {
    Borrowed(&'a [TrialFiles]),
    Owned(Vec<TrialFiles>),
}

impl PartTrials<'_> {
    fn as_slice(&self) -> &[TrialFiles] {
        match self {
            PartTrials::Borrowed(t) => t,
            PartTrials::Owned(t) => t,
        }
    }
}

fn write_part_files(dir: &Path, files: PartTrials<'_>, mode: WriteMode) -> Result<()> {
    let trials = files.as_slice();
    tables::write(&dir.join("trial.parquet"), trials.iter().map(|t| &t.trial), mode)?;
    tables::write(
        &dir.join("requests.parquet"),
        trials.iter().flat_map(|t| &t.requests),
        mode,
    )?;
    if trials.iter().any(|t| !t.server_metrics.is_empty()) {
        tables::write(
            &dir.join("server_metrics.parquet"),
            trials.iter().flat_map(|t| &t.server_metrics),
            mode,
        )?;
    }
    let ids: Vec<String> = trials.iter().map(|t| t.trial.key.run_id.to_string()).collect();
    let (samples, baselines): (Vec<RecordBatch>, Vec<Option<RecordBatch>>) = match files {
        PartTrials::Borrowed(trials) => trials
            .iter()
            .zip(&ids)
            .map(|(t, id)| {
                (
                    t.samples.to_batch(id),
                    t.baseline.as_ref().map(|b| b.to_batch(id)),
                )
            })
            .unzip(),
        PartTrials::Owned(trials) => trials
            .into_iter()
            .zip(&ids)
            .map(|(t, id)| (t.samples.into_batch(id), t.baseline.map(|b| b.into_batch(id))))
            .unzip(),
    };
    let samples = ids.iter().map(String::as_str).zip(samples).collect();
    write_sample_batches(&dir.join("samples.parquet"), samples, mode)?;
    let baselines: Vec<(&str, RecordBatch)> = ids
        .iter()
        .zip(baselines)
        .filter_map(|(id, b)| b.map(|b| (id.as_str(), b)))
        .collect();
    if !baselines.is_empty() {
        write_sample_batches(&dir.join("baseline.parquet"), baselines, mode)?;
    }
    Ok(())
}

/// Reads a requests file; without `text`, the prompt and response columns are not decoded
/// (they read as empty strings), which makes timing-only reads of large trials several times
/// faster.
/// The trial rows of the part in `dir`, in file order; a run id listed twice is an error.
fn read_trials_at(dir: &Path) -> Result<Vec<Trial>> {
    let path = dir.join("trial.parquet");
    let rows: Vec<Trial> = tables::read(&path)?;
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = rows.iter().find(|t| !seen.insert(t.key.run_id.as_str())) {
        return Err(DatasetError::invalid(
            &path,
            format!("trial `{}` is listed twice", dup.key.run_id),
        ));
    }
    Ok(rows)
}

/// Every trial of the part in `dir` (see [`Dataset::read_part_with_trials`]).
fn read_part_at(dir: &Path, trials: Vec<Trial>, opts: ReadOptions) -> Result<Vec<TrialFiles>> {
    let ids: Vec<&str> = trials.iter().map(|t| t.key.run_id.as_str()).collect();
    let slot: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    // Every file is read even after one failed, so that the error names each damaged one.
    let mut errors = Vec::new();
    let path = dir.join("requests.parquet");
    let mut requests: Vec<Vec<Request>> = vec![Vec::new(); ids.len()];
    match read_requests(&path, opts.text) {
        Ok(rows) => {
            for r in rows {
                let Some(&i) = slot.get(r.run_id.as_str()) else {
                    errors.push(DatasetError::invalid(
                        &path,
                        format!(
                            "a request of trial `{}`, which trial.parquet does not list",
                            r.run_id
                        ),
                    ));
                    break;
                };
                requests[i].push(r);
            }
        }
        Err(e) => errors.push(e),
    }
    let samples = if opts.skip_samples {
        vec![(SampleTable::default(), false); ids.len()]
    } else {
        SampleTable::read_many(&dir.join("samples.parquet"), opts.accounting_only, &ids).unwrap_or_else(|e| {
            errors.push(e);
            Vec::new()
        })
    };
    let path = dir.join("baseline.parquet");
    let baselines = if path.is_file() && !opts.skip_samples {
        match SampleTable::read_many(&path, opts.accounting_only, &ids) {
            Ok(tables) => tables
                .into_iter()
                .map(|(table, present)| (present || ids.len() == 1).then_some(table))
                .collect(),
            Err(e) => {
                errors.push(e);
                Vec::new()
            }
        }
    } else {
        vec![None; ids.len()]
    };
    let mut server_metrics: Vec<Vec<ServerMetric>> = vec![Vec::new(); ids.len()];
    let path = dir.join("server_metrics.parquet");
    if opts.server_metrics && path.is_file() {
        match tables::read::<ServerMetric>(&path) {
            Ok(rows) => {
                for m in rows {
                    match slot.get(m.run_id.as_str()) {
                        Some(&i) => server_metrics[i].push(m),
                        None => {
                            errors.push(DatasetError::invalid(
                                &path,
                                format!(
                                    "a metric of trial `{}`, which trial.parquet does not list",
                                    m.run_id
                                ),
                            ));
                            break;
                        }
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if let Some(e) = DatasetError::combine(errors) {
        return Err(e);
    }
    Ok(trials
        .into_iter()
        .zip(requests)
        .zip(samples)
        .zip(baselines)
        .zip(server_metrics)
        .map(
            |((((trial, mut requests), (samples, _)), baseline), server_metrics)| {
                requests.sort_by_key(|r| r.index);
                TrialFiles {
                    trial,
                    requests,
                    samples,
                    baseline,
                    server_metrics,
                }
            },
        )
        .collect())
}

fn read_requests(path: &Path, text: bool) -> Result<Vec<Request>> {
    tables::read_skipping(path, if text { &[] } else { &TEXT_COLUMNS })
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir).and_then(|f| f.sync_all()).at(dir)
}

/// A scorer's name as a file name stem: characters unsafe in file names become `_`.
fn safe_file_stem(scorer: &str) -> String {
    scorer
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Removes a dataset folder's known content (never foreign files next to it). Used by `--force`.
fn remove_dataset(root: &Path) -> Result<()> {
    for name in [TRIALS_DIR, STAGING_DIR, DAMAGED_DIR, "judgments", "derived"] {
        let p = root.join(name);
        if p.exists() {
            std::fs::remove_dir_all(&p).at(&p)?;
        }
    }
    for name in [MANIFEST, "runs.parquet"] {
        let p = root.join(name);
        if p.exists() {
            std::fs::remove_file(&p).at(&p)?;
        }
    }
    Ok(())
}

/// A dataset being built in a temporary sibling folder and moved into place only when complete
/// (`analyze import`): a failed import leaves nothing at the destination.
#[derive(Debug)]
pub struct StagedDataset {
    dataset: Dataset,
    target: PathBuf,
    force: bool,
    committed: bool,
}

impl StagedDataset {
    /// Starts staging a dataset for `target`. Fails early when the target holds a dataset and
    /// `force` is not set, or is a non-empty folder that is not a dataset.
    pub fn begin(target: &Path, manifest: &Manifest, force: bool) -> Result<Self> {
        if Dataset::exists(target) && !force {
            return Err(DatasetError::AlreadyExists {
                path: target.to_path_buf(),
            });
        }
        if target.is_dir()
            && !Dataset::exists(target)
            && std::fs::read_dir(target).at(target)?.next().is_some()
        {
            return Err(DatasetError::invalid(
                target,
                "folder is not empty and holds no dataset; refusing to write into it",
            ));
        }
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).at(parent)?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "dataset".into());
        let staging = parent.join(format!(".{name}.staging-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).at(&staging)?;
        }
        std::fs::create_dir_all(staging.join(TRIALS_DIR)).at(&staging)?;
        let dataset = Dataset {
            root: staging,
            staged: true,
        };
        dataset.write_manifest(manifest)?;
        Ok(Self {
            dataset,
            target: target.to_path_buf(),
            force,
            committed: false,
        })
    }

    /// The dataset being staged.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// Moves the staged dataset into place (replacing an old one when forced).
    pub fn commit(mut self) -> Result<Dataset> {
        let staging = self.dataset.root.clone();
        if self.target.exists() {
            if Dataset::exists(&self.target) && self.force {
                let old = staging.with_file_name(format!(
                    "{}.old",
                    staging
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                ));
                std::fs::rename(&self.target, &old).at(&self.target)?;
                std::fs::rename(&staging, &self.target).at(&self.target)?;
                std::fs::remove_dir_all(&old).at(&old)?;
            } else {
                // An empty folder: replace it.
                std::fs::remove_dir(&self.target).at(&self.target)?;
                std::fs::rename(&staging, &self.target).at(&self.target)?;
            }
        } else {
            std::fs::rename(&staging, &self.target).at(&self.target)?;
        }
        self.committed = true;
        Ok(Dataset {
            root: self.target.clone(),
            staged: false,
        })
    }
}

impl Drop for StagedDataset {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dataset.root);
        }
    }
}
