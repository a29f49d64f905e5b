//! Gold labels from `--prompts DIR`: one `<Task>.jsonl` per task (`idx`, `prompt`, `label`),
//! whose row i is the item that request i of every trial of that task asked (the published
//! trials sent the items in file order). The file format and its reader belong to the
//! contract crate (`dataset::prompts`), shared with `collect` and `analyze import`.

use anyhow::Result;
use dataset::prompts::TaskItem;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
        let path = dataset::prompts::task_file(&self.dir, task);
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

/// Reads a `<Task>.jsonl` file (the contract crate's reader).
pub fn read_task_items(path: &Path) -> Result<Vec<TaskItem>> {
    Ok(dataset::prompts::read_task_items(path)?)
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
        assert_eq!(
            (items[0].item_id, items[0].label.as_deref()),
            (Some(0), Some("1"))
        );
        assert_eq!(
            (items[1].item_id, items[1].label.as_deref()),
            (Some(5), Some("0"))
        );
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
}
