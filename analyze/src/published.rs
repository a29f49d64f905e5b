//! Readers for the study's two published per-trial tables (`run_tables/` of its repository):
//! `GL_Final_Run_Table_Raw.csv` (`;`-separated, the accounting output) and
//! `GL_Final_Run_Table_Edited.csv` (what the published statistics read, with its decimal-comma
//! `time(s)` column). The audit compares our replay with them.

use crate::csv_table::CsvTable;
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One row of the Raw table.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    /// `__run_id`.
    pub run_id: String,
    /// `cpu_joules`.
    pub cpu_joules: f64,
    /// `gpu_joules`.
    pub gpu_joules: f64,
    /// `energy_consumption_total_joules`.
    pub total_joules: f64,
    /// `duration_ms`.
    pub duration_ms: f64,
    /// `response_token_count`.
    pub tokens: f64,
    /// `accuracy` (1.0 everywhere: an earlier scoring).
    pub accuracy: f64,
}

/// One row of the Edited table.
#[derive(Debug, Clone, PartialEq)]
pub struct EditedRow {
    /// `run_<run>_repetition_<repetition>`.
    pub run_id: String,
    /// `duration_ms`.
    pub duration_ms: f64,
    /// `time(s)` as written, e.g. `111,84`.
    pub time_s_text: String,
    /// `time(s)` as the published statistics read it (the comma dropped: 11184).
    pub time_s_as_read: f64,
    /// `energy`.
    pub energy: f64,
    /// `accuracy` (sum of the five judged scores / 5).
    pub accuracy: f64,
}

/// The two tables, keyed by run id (either may be absent).
#[derive(Debug, Clone, Default)]
pub struct PublishedTables {
    /// Raw table rows.
    pub raw: HashMap<String, RawRow>,
    /// Edited table rows.
    pub edited: HashMap<String, EditedRow>,
    /// Where they were read from.
    pub dir: PathBuf,
}

/// Reads `GL_Final_Run_Table_Raw.csv`.
pub fn read_raw(path: &Path) -> Result<HashMap<String, RawRow>> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let table = CsvTable::new(
        path,
        &bytes,
        b';',
        concat!(
            "__run_id;cpu_joules;gpu_joules;energy_consumption_total_joules;",
            "duration_ms;response_token_count;accuracy"
        ),
    )?;
    let c = |n| table.require(n);
    let (id, cpu, gpu, tot, dur, tok, acc) = (
        c("__run_id")?,
        c("cpu_joules")?,
        c("gpu_joules")?,
        c("energy_consumption_total_joules")?,
        c("duration_ms")?,
        c("response_token_count")?,
        c("accuracy")?,
    );
    let mut rows = HashMap::new();
    for r in table {
        let r = r?;
        let run_id = r.text(id);
        let row = RawRow {
            run_id: run_id.clone(),
            cpu_joules: r.number(cpu)?,
            gpu_joules: r.number(gpu)?,
            total_joules: r.number(tot)?,
            duration_ms: r.number(dur)?,
            tokens: r.number(tok)?,
            accuracy: r.number(acc)?,
        };
        rows.insert(run_id, row);
    }
    Ok(rows)
}

/// Reads `GL_Final_Run_Table_Edited.csv`.
pub fn read_edited(path: &Path) -> Result<HashMap<String, EditedRow>> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let table = CsvTable::new(
        path,
        &bytes,
        b',',
        "run,repetition,duration_ms,time(s),energy,accuracy",
    )?;
    let c = |n| table.require(n);
    let (run, rep, dur, time, energy, acc) = (
        c("run")?,
        c("repetition")?,
        c("duration_ms")?,
        c("time(s)")?,
        c("energy")?,
        c("accuracy")?,
    );
    let mut rows = HashMap::new();
    for r in table {
        let r = r?;
        let run_id = format!("run_{}_repetition_{}", r.text(run), r.text(rep));
        let text = r.text(time);
        // What a reader that ignores the decimal comma sees: "111,84" -> 11184.
        let as_read = r.number_from(time, &text.replace([',', '.'], ""))?;
        let row = EditedRow {
            run_id: run_id.clone(),
            duration_ms: r.number(dur)?,
            time_s_text: text,
            time_s_as_read: as_read,
            energy: r.number(energy)?,
            accuracy: r.number(acc)?,
        };
        rows.insert(run_id, row);
    }
    Ok(rows)
}

/// Reads whichever of the two tables exist in `dir`.
pub fn read_dir(dir: &Path) -> Result<PublishedTables> {
    let raw_path = dir.join("GL_Final_Run_Table_Raw.csv");
    let edited_path = dir.join("GL_Final_Run_Table_Edited.csv");
    if !raw_path.is_file() && !edited_path.is_file() {
        bail!(
            "{}: neither GL_Final_Run_Table_Raw.csv nor GL_Final_Run_Table_Edited.csv is here",
            dir.display()
        );
    }
    Ok(PublishedTables {
        raw: if raw_path.is_file() {
            read_raw(&raw_path)?
        } else {
            HashMap::new()
        },
        edited: if edited_path.is_file() {
            read_edited(&edited_path)?
        } else {
            HashMap::new()
        },
        dir: dir.to_path_buf(),
    })
}

/// Looks for the published tables next to an imported experiment: a clone of the published
/// repository keeps them in `run_tables/`, two levels above `experiments/<name>/`.
pub fn find_near(source_dir: &Path) -> Option<PathBuf> {
    let candidate = source_dir.parent()?.parent()?.join("run_tables");
    candidate
        .join("GL_Final_Run_Table_Raw.csv")
        .is_file()
        .then_some(candidate)
}
