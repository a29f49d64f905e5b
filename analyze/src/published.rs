//! Readers for the study's two published per-trial tables (`run_tables/` of its repository):
//! `GL_Final_Run_Table_Raw.csv` (`;`-separated, the accounting output) and
//! `GL_Final_Run_Table_Edited.csv` (what the published statistics read, with its decimal-comma
//! `time(s)` column). The audit compares our replay with them.

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

/// A header and its rows, each with its line number.
type Table = (Vec<String>, Vec<(u64, Vec<String>)>);

fn read_table(path: &Path, delimiter: u8) -> Result<Table> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}:1: unreadable header", path.display()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("{}:{}: unreadable row", path.display(), i + 2))?;
        let line = rec.position().map_or(i as u64 + 2, |p| p.line());
        if rec.len() != header.len() {
            bail!(
                "{}:{line}: expected {} fields, found {}",
                path.display(),
                header.len(),
                rec.len()
            );
        }
        rows.push((line, rec.iter().map(str::to_string).collect()));
    }
    Ok((header, rows))
}

fn index(path: &Path, header: &[String], name: &str) -> Result<usize> {
    header
        .iter()
        .position(|h| h == name)
        .with_context(|| format!("{}: missing required column `{name}`", path.display()))
}

fn num(path: &Path, line: u64, name: &str, s: &str) -> Result<f64> {
    s.trim().parse().with_context(|| {
        format!(
            "{}:{line}: column `{name}`: `{s}` is not a number",
            path.display()
        )
    })
}

/// Reads `GL_Final_Run_Table_Raw.csv`.
pub fn read_raw(path: &Path) -> Result<HashMap<String, RawRow>> {
    let (h, rows) = read_table(path, b';')?;
    let c = |n| index(path, &h, n);
    let (id, cpu, gpu, tot, dur, tok, acc) = (
        c("__run_id")?,
        c("cpu_joules")?,
        c("gpu_joules")?,
        c("energy_consumption_total_joules")?,
        c("duration_ms")?,
        c("response_token_count")?,
        c("accuracy")?,
    );
    rows.into_iter()
        .map(|(line, r)| {
            Ok((
                r[id].clone(),
                RawRow {
                    run_id: r[id].clone(),
                    cpu_joules: num(path, line, "cpu_joules", &r[cpu])?,
                    gpu_joules: num(path, line, "gpu_joules", &r[gpu])?,
                    total_joules: num(path, line, "energy_consumption_total_joules", &r[tot])?,
                    duration_ms: num(path, line, "duration_ms", &r[dur])?,
                    tokens: num(path, line, "response_token_count", &r[tok])?,
                    accuracy: num(path, line, "accuracy", &r[acc])?,
                },
            ))
        })
        .collect()
}

/// Reads `GL_Final_Run_Table_Edited.csv`.
pub fn read_edited(path: &Path) -> Result<HashMap<String, EditedRow>> {
    let (h, rows) = read_table(path, b',')?;
    let c = |n| index(path, &h, n);
    let (run, rep, dur, time, energy, acc) = (
        c("run")?,
        c("repetition")?,
        c("duration_ms")?,
        c("time(s)")?,
        c("energy")?,
        c("accuracy")?,
    );
    rows.into_iter()
        .map(|(line, r)| {
            let run_id = format!("run_{}_repetition_{}", r[run].trim(), r[rep].trim());
            let text = r[time].trim().to_string();
            // What a reader that ignores the decimal comma sees: "111,84" -> 11184.
            let as_read = num(path, line, "time(s)", &text.replace([',', '.'], ""))?;
            Ok((
                run_id.clone(),
                EditedRow {
                    run_id,
                    duration_ms: num(path, line, "duration_ms", &r[dur])?,
                    time_s_text: text,
                    time_s_as_read: as_read,
                    energy: num(path, line, "energy", &r[energy])?,
                    accuracy: num(path, line, "accuracy", &r[acc])?,
                },
            ))
        })
        .collect()
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
