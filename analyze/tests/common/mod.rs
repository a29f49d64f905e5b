//! Helpers shared by analyze's integration tests: the published dataset fixture (read from
//! `../shared`, never copied) and a once-per-process import of it.

#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use testkit::published_dataset;

/// The `analyze` binary.
pub fn analyze() -> Command {
    let mut cmd = Command::cargo_bin("analyze").expect("the analyze binary is built");
    cmd.arg("--quiet");
    cmd
}

struct Imported {
    _dir: tempfile::TempDir,
    data: PathBuf,
}

static IMPORTED: OnceLock<Option<Imported>> = OnceLock::new();

/// The published dataset imported once per test process (with gold labels attached).
pub fn imported_published() -> Option<&'static Path> {
    IMPORTED
        .get_or_init(|| {
            let src = published_dataset()?;
            let dir = tempfile::tempdir().expect("temp dir");
            let data = dir.path().join("data");
            analyze()
                .arg("import")
                .arg(src.join("experiments/llama_profiling"))
                .arg("--out")
                .arg(&data)
                .arg("--prompts")
                .arg(src.join("prompts"))
                .assert()
                .success();
            Some(Imported { _dir: dir, data })
        })
        .as_ref()
        .map(|i| i.data.as_path())
}

/// One CSV row: column name to cell text.
pub type Row = std::collections::HashMap<String, String>;

/// Reads a CSV file into its header and rows (a failure panics: a failed test).
pub fn read_csv_with_header(path: &Path) -> (Vec<String>, Vec<Row>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h: Vec<String> = r
        .headers()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            h.iter().cloned().zip(rec.iter().map(str::to_string)).collect()
        })
        .collect();
    (h, rows)
}

/// Reads a CSV file into rows.
pub fn read_csv(path: &Path) -> Vec<Row> {
    read_csv_with_header(path).1
}
