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
    /// The gold label as text (`True`, `0`, `entailment`).
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

/// The label as the published tables write it (Python's `True`/`False` for booleans).
fn label_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::Bool(true) => Some("True".into()),
        serde_json::Value::Bool(false) => Some("False".into()),
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Parses JSON-lines prompt text; `path` names it in errors.
pub fn parse(task: &str, text: &str, path: &Path, max: Option<usize>) -> Result<TaskPrompts> {
    let mut prompts = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if max.is_some_and(|m| prompts.len() >= m) {
            break;
        }
        let v: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a JSON object", path.display(), i + 1))?;
        let Some(text) = v.get("prompt").and_then(|p| p.as_str()) else {
            bail!("{}:{}: missing string field `prompt`", path.display(), i + 1);
        };
        prompts.push(Prompt {
            item_id: v.get("idx").and_then(serde_json::Value::as_i64),
            gold_label: v.get("label").and_then(label_text),
            text: text.to_string(),
        });
    }
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

/// The file holding a task's prompts.
pub fn task_file(dir: &Path, task: &str) -> PathBuf {
    dir.join(format!("{task}.jsonl"))
}

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
        assert_eq!(t.prompts[0].gold_label.as_deref(), Some("True"));
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
