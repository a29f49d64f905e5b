//! Storing judgments: one scorer's new rows are merged with the rows that scorer already has
//! in the dataset (a new row replaces the old one of the same request) and the scorer's file
//! is rewritten atomically through [`dataset::Dataset::write_judgments`]. A rerun or a larger
//! `--sample` therefore never loses earlier judgments.

use anyhow::{Context, Result};
use dataset::{Dataset, Judgment};
use std::collections::BTreeMap;

/// What a merge did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Merged {
    /// Rows in the scorer's file afterwards.
    pub total: usize,
    /// Rows that were there before and were kept unchanged.
    pub kept: usize,
}

/// Reads `scorer`'s stored judgments (none when it has no file yet).
pub fn read(ds: &Dataset, scorer: &str) -> Result<Vec<Judgment>> {
    let path = ds.judgments_path(scorer);
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let rows = dataset::tables::read::<Judgment>(&path)
        .with_context(|| {
            format!(
                "cannot read the judgments of `{scorer}`; judge merges into that file and does not replace \
                 a damaged one (its rows would be lost), with or without --skip-damaged: restore it from a copy, \
                 or move it away to start `{scorer}` afresh"
            )
        })?;
    Ok(rows.into_iter().filter(|j| j.scorer == scorer).collect())
}

/// Merges `new` into `scorer`'s stored judgments and writes them back, sorted by run id and
/// request index.
pub fn merge_and_write(ds: &Dataset, scorer: &str, new: Vec<Judgment>) -> Result<Merged> {
    let mut rows: BTreeMap<(String, i64), Judgment> = read(ds, scorer)?
        .into_iter()
        .map(|j| ((j.run_id.clone(), j.request_index), j))
        .collect();
    let before = rows.len();
    let mut replaced = 0;
    for j in new {
        if rows.insert((j.run_id.clone(), j.request_index), j).is_some() {
            replaced += 1;
        }
    }
    let all: Vec<Judgment> = rows.into_values().collect();
    ds.write_judgments(scorer, &all).with_context(|| {
        format!(
            "{}: cannot write the judgments of `{scorer}`",
            ds.root().display()
        )
    })?;
    Ok(Merged {
        total: all.len(),
        kept: before - replaced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataset::Manifest;

    fn j(run: &str, i: i64, score: f64) -> Judgment {
        Judgment {
            run_id: run.into(),
            request_index: i,
            scorer: "judge:m:relevancy".into(),
            score: Some(score),
            reason: None,
            details: None,
        }
    }

    #[test]
    fn a_merge_keeps_earlier_rows_and_replaces_rescored_ones() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ds = Dataset::create(dir.path().join("d"), &Manifest::new("t", true, ""), false).expect("create");
        let s = "judge:m:relevancy";
        merge_and_write(&ds, s, vec![j("a", 0, 0.1), j("a", 1, 0.2)]).expect("first");
        let m = merge_and_write(&ds, s, vec![j("a", 1, 0.9), j("b", 0, 0.3)]).expect("second");
        assert_eq!(m, Merged { total: 3, kept: 1 });
        let rows = read(&ds, s).expect("read");
        let scores: Vec<_> = rows
            .iter()
            .map(|r| (r.run_id.as_str(), r.request_index, r.score))
            .collect();
        assert_eq!(
            scores,
            [("a", 0, Some(0.1)), ("a", 1, Some(0.9)), ("b", 0, Some(0.3))]
        );
        assert!(ds.judgments_path(s).is_file());
    }
}
