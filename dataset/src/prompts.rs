//! The task prompt files every tool reads: `<Task>.jsonl`, one JSON object per line with
//! `prompt`, `label` and `idx` (the published study's format). `collect` sends the prompts,
//! `analyze import` and `judge --prompts` attach item ids and gold labels to recorded requests
//! by position. Gold labels are stored as text in one canonical spelling, whoever reads them.

use crate::error::{DatasetError, IoContext, Result};
use std::path::{Path, PathBuf};

/// One task item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskItem {
    /// `idx` of the item, when the file gives one.
    pub item_id: Option<i64>,
    /// The gold label as text ([`label_text`]), when the file gives one.
    pub label: Option<String>,
    /// The prompt text.
    pub prompt: String,
}

/// The file of a task's prompts in a prompts folder.
pub fn task_file(dir: &Path, task: &str) -> PathBuf {
    dir.join(format!("{task}.jsonl"))
}

/// The canonical text of a JSON gold label: strings as they are, booleans `true`/`false`,
/// numbers as JSON writes them (`0`, `1`); null is no label.
pub fn label_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Parses the text of a `<Task>.jsonl` file; errors name `path` and the line.
pub fn parse_task_items(text: &str, path: &Path) -> Result<Vec<TaskItem>> {
    let mut items = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let line_no = i as u64 + 1;
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| DatasetError::parse(path, line_no, format!("not a JSON object: {e}")))?;
        let prompt = v
            .get("prompt")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| DatasetError::parse(path, line_no, "missing string field `prompt`"))?;
        items.push(TaskItem {
            item_id: v.get("idx").and_then(serde_json::Value::as_i64),
            label: v.get("label").and_then(label_text),
            prompt: prompt.to_string(),
        });
    }
    Ok(items)
}

/// Reads a `<Task>.jsonl` file.
pub fn read_task_items(path: &Path) -> Result<Vec<TaskItem>> {
    let text = std::fs::read_to_string(path).at(path)?;
    parse_task_items(&text, path)
}

/// Whitespace-insensitive text comparison: the published logs replaced tabs and newlines by
/// spaces, so a recorded prompt matches its source item when their words agree.
pub fn same_text(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_every_published_type_have_one_spelling() {
        let text = "{\"idx\": 3, \"prompt\": \"Q?\", \"label\": true}\n\n{\"idx\": 4, \"prompt\": \"R?\", \"label\": \"entailment\"}\n{\"prompt\": \"S\", \"label\": 0}\n";
        let items = parse_task_items(text, Path::new("T.jsonl")).unwrap_or_default();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].label.as_deref(), Some("true"));
        assert_eq!(items[0].item_id, Some(3));
        assert_eq!(items[1].label.as_deref(), Some("entailment"));
        assert_eq!(items[2].label.as_deref(), Some("0"));
        assert_eq!(items[2].item_id, None);
    }

    #[test]
    fn a_broken_line_is_named_by_file_and_line() {
        let err = parse_task_items("{\"prompt\": \"a\"}\n{oops\n", Path::new("X.jsonl"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("X.jsonl:2: not a JSON object"), "{err}");
        let err = parse_task_items("{\"label\": 1}\n", Path::new("X.jsonl"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("X.jsonl:1: missing string field `prompt`"), "{err}");
    }

    #[test]
    fn texts_compare_without_whitespace_differences() {
        assert!(same_text("a\nb\tc", "a b  c"));
        assert!(!same_text("a b", "a c"));
    }
}
