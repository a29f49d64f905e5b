//! Which datasets a `DATA` argument names: the folder itself when it holds a `dataset.json`,
//! otherwise every immediate subfolder that does (`judge data/` judges them all).

use anyhow::{Result, bail};
use dataset::Dataset;
use std::path::{Path, PathBuf};

/// The dataset folders under `data`, sorted; an error names `data` when there is none.
pub fn find(data: &Path) -> Result<Vec<PathBuf>> {
    if Dataset::exists(data) {
        return Ok(vec![data.to_path_buf()]);
    }
    if !data.exists() {
        bail!("{}: no such dataset folder", data.display());
    }
    if !data.is_dir() {
        bail!("{}: not a folder", data.display());
    }
    let entries =
        std::fs::read_dir(data).map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", data.display()))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && Dataset::exists(p))
        .collect();
    found.sort();
    if found.is_empty() {
        bail!(
            "{}: not a dataset (no dataset.json) and no subfolder holds one",
            data.display()
        );
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataset::Manifest;

    #[test]
    fn a_folder_of_datasets_yields_each_and_a_plain_folder_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let m = Manifest::new("test", true, "");
        for name in ["b", "a"] {
            Dataset::create(dir.path().join(name), &m, false).expect("create");
        }
        std::fs::create_dir(dir.path().join("not-a-dataset")).expect("mkdir");
        let found = find(dir.path()).expect("found");
        assert_eq!(found, vec![dir.path().join("a"), dir.path().join("b")]);
        assert_eq!(
            find(&dir.path().join("a")).expect("one"),
            vec![dir.path().join("a")]
        );
        let err = find(&dir.path().join("not-a-dataset")).expect_err("none");
        assert!(err.to_string().contains("not-a-dataset"));
        assert!(find(&dir.path().join("missing")).is_err());
    }
}
