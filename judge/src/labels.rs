//! Gold labels from `--prompts DIR`: one `<Task>.jsonl` per task (`idx`, `prompt`, `label`),
//! whose row i is the item that request i of every trial of that task asked (the published
//! trials sent the items in file order). The same reader lives in `analyze import`; this one
//! is repeated here so that judge does not depend on analyze.

use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One task item.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskItem {
    /// `idx` of the item.
    pub item_id: i64,
    /// Gold label as text (`true`, `entailment`, `0`).
    pub label: String,
    /// Prompt text.
    pub prompt: String,
}

/// The `<Task>.jsonl` files of a folder, each read on first use.
#[derive(Debug)]
pub struct TaskFiles {
    dir: PathBuf,
    loaded: Mutex<HashMap<String, Option<std::sync::Arc<Vec<TaskItem>>>>>,
}

impl TaskFiles {
    /// Labels from `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// The items of `task`, or None when the folder has no `<task>.jsonl`.
    pub fn items(&self, task: &str) -> Result<Option<std::sync::Arc<Vec<TaskItem>>>> {
        let mut loaded = self
            .loaded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(items) = loaded.get(task) {
            return Ok(items.clone());
        }
        let path = self.dir.join(format!("{task}.jsonl"));
        let items = if path.is_file() {
            Some(std::sync::Arc::new(read_task_items(&path)?))
        } else {
            None
        };
        loaded.insert(task.to_string(), items.clone());
        Ok(items)
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Reads one `<Task>.jsonl`; an error names the file and line.
pub fn read_task_items(path: &Path) -> Result<Vec<TaskItem>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut items = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), i + 1);
        let v: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("{}: not a JSON object", at()))?;
        let label = match v.get("label") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => bail!("{}: missing `label`", at()),
            Some(other) => other.to_string(),
        };
        let item_id = v
            .get("idx")
            .and_then(serde_json::Value::as_i64)
            .with_context(|| format!("{}: missing integer `idx`", at()))?;
        let prompt = v
            .get("prompt")
            .and_then(serde_json::Value::as_str)
            .with_context(|| format!("{}: missing `prompt`", at()))?
            .to_string();
        items.push(TaskItem {
            item_id,
            label,
            prompt,
        });
    }
    Ok(items)
}

/// Whitespace-insensitive comparison (the published files replaced tabs and newlines by
/// spaces).
pub fn same_text(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_read_in_order_with_labels_as_text() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("COPA.jsonl"),
            "{\"idx\": 0, \"prompt\": \"p0\", \"label\": 1}\n\n{\"idx\": 5, \"prompt\": \"p1\", \"label\": \"0\"}\n",
        )
        .expect("write");
        let files = TaskFiles::new(dir.path());
        let items = files.items("COPA").expect("read").expect("present");
        assert_eq!(items.len(), 2);
        assert_eq!((items[0].item_id, items[0].label.as_str()), (0, "1"));
        assert_eq!((items[1].item_id, items[1].label.as_str()), (5, "0"));
        assert!(files.items("CB").expect("read").is_none());
    }

    #[test]
    fn a_bad_line_is_named_by_file_and_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("CB.jsonl");
        std::fs::write(
            &path,
            "{\"idx\": 0, \"prompt\": \"p\", \"label\": \"entailment\"}\n{\"idx\": 1}\n",
        )
        .expect("write");
        let err = format!("{:#}", read_task_items(&path).expect_err("bad"));
        assert!(err.contains("CB.jsonl:2"), "{err}");
        std::fs::write(&path, "not json\n").expect("write");
        let err = format!("{:#}", read_task_items(&path).expect_err("bad"));
        assert!(err.contains("CB.jsonl:1"), "{err}");
    }

    #[test]
    fn texts_compare_without_regard_to_whitespace() {
        assert!(same_text("a  b\nc", "a b c"));
        assert!(!same_text("a b", "a c"));
    }
}
