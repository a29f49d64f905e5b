//! The prompts of each task, read from `<prompts dir>/<Task>.jsonl` in the published format:
//! one JSON object per line with `prompt` (text), `label` (gold label: bool, number or string)
//! and `idx` (item id). Errors name the file and the line.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// One task item.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// `idx` of the item.
    pub item_id: Option<i64>,
    /// The gold label as text (`true`, `0`, `entailment`; see `dataset::prompts::label_text`).
    pub gold_label: Option<String>,
    /// The prompt text, as sent.
    pub text: String,
}

/// The prompts of one task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskPrompts {
    /// Task name.
    pub task: String,
    /// Where they were read from (None for built-in prompts).
    pub path: Option<PathBuf>,
    /// The items, in file order (cut to `--max-prompts`).
    pub prompts: Vec<Prompt>,
    /// xxh3-64 of the prompt texts and labels used, hex: part of the design.
    pub hash: String,
}

/// Parses JSON-lines prompt text; `path` names it in errors.
pub fn parse(task: &str, text: &str, path: &Path, max: Option<usize>) -> Result<TaskPrompts> {
    let mut items = dataset::prompts::parse_task_items(text, path)?;
    if let Some(m) = max {
        items.truncate(m);
    }
    let prompts: Vec<Prompt> = items
        .into_iter()
        .map(|it| Prompt {
            item_id: it.item_id,
            gold_label: it.label,
            text: it.prompt,
        })
        .collect();
    if prompts.is_empty() {
        bail!(
            "{}: no prompts (expected one JSON object per line with a `prompt` field)",
            path.display()
        );
    }
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for p in &prompts {
        h.update(p.text.as_bytes());
        h.update(&[0]);
        h.update(p.gold_label.as_deref().unwrap_or("").as_bytes());
        h.update(&[0]);
    }
    Ok(TaskPrompts {
        task: task.to_string(),
        path: Some(path.to_path_buf()),
        prompts,
        hash: format!("{:016x}", h.digest()),
    })
}

pub use dataset::prompts::task_file;

/// Reads `<dir>/<task>.jsonl` for every task.
pub fn load(dir: &Path, tasks: &[String], max: Option<usize>) -> Result<Vec<TaskPrompts>> {
    if !dir.is_dir() {
        bail!(
            "the prompts folder `{}` does not exist (pass --prompts DIR with one <Task>.jsonl per task; \
             the published prompts are in greenlab-angels-2025/prompts)",
            dir.display()
        );
    }
    tasks
        .iter()
        .map(|task| {
            let path = task_file(dir, task);
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "cannot read the prompts of task `{task}` from {} (--prompts DIR)",
                    path.display()
                )
            })?;
            parse(task, &text, &path, max)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_lines_keep_their_label_and_id() {
        let text = "{\"idx\": 3, \"prompt\": \"Q?\", \"label\": true}\n\n{\"idx\": 4, \"prompt\": \"R?\", \"label\": \"entailment\"}\n";
        let t = parse("BoolQ", text, Path::new("BoolQ.jsonl"), None).unwrap();
        assert_eq!(t.prompts.len(), 2);
        assert_eq!(t.prompts[0].gold_label.as_deref(), Some("true"));
        assert_eq!(t.prompts[1].item_id, Some(4));
        let cut = parse("BoolQ", text, Path::new("BoolQ.jsonl"), Some(1)).unwrap();
        assert_eq!(cut.prompts.len(), 1);
        assert_ne!(cut.hash, t.hash);
    }

    #[test]
    fn a_broken_line_is_named() {
        let err = parse("X", "{\"prompt\": \"a\"}\n{oops\n", Path::new("X.jsonl"), None).unwrap_err();
        assert!(format!("{err:#}").starts_with("X.jsonl:2:"), "{err:#}");
    }
}
