//! The persistent judge cache: one append-only JSONL file per (model, rubric, rubric version)
//! under `DATA/.judge-cache/`, one line per judged response, keyed by the xxh3-128 hash of
//! everything the verdict depends on (the cache format, model, rubric, rubric version, prompt,
//! response, and the gold label for a rubric that reads it).
//!
//! Each line is written with one `write` call as soon as its response is judged, so killing
//! the process loses only the calls in flight; the file is fsynced every [`SYNC_EVERY`] lines,
//! every [`SYNC_INTERVAL`] and at the end, so a power cut loses at most that batch. A torn last
//! line (the process died inside the write) is skipped when reading and fenced off with a
//! newline before the next append. The last line of a key wins. Only verdicts and answered
//! failures (a malformed answer after its repair) are cached; a call that never got an answer
//! is asked again on the next run.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Version of the key derivation and line format.
pub const CACHE_FORMAT: &str = "llm-energy-judge-cache/1";
/// Lines between two fsyncs.
pub const SYNC_EVERY: usize = 64;
/// Longest time between two fsyncs while lines are being written.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(2);
/// The default cache folder inside a dataset.
pub const CACHE_DIR: &str = ".judge-cache";

/// One cached judgment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The cache key (32 hex digits).
    pub key: String,
    /// Score in [0, 1], null for a failure.
    pub score: Option<f64>,
    /// Why.
    pub reason: String,
    /// Rubric details.
    pub details: Value,
    /// True for a failure (the judge's answer was unusable).
    pub failed: bool,
    /// Prompt tokens spent on it.
    pub prompt_tokens: u64,
    /// Generated tokens spent on it.
    pub completion_tokens: u64,
    /// Calls made for it.
    pub calls: u32,
    /// When it was judged, ms since the Unix epoch.
    pub judged_at_ms: i64,
}

/// The cache key of one response under one judge.
pub fn key(
    model: &str,
    rubric: &str,
    version: u32,
    prompt: &str,
    response: &str,
    gold: Option<&str>,
) -> String {
    let canonical = json!([CACHE_FORMAT, model, rubric, version, prompt, response, gold]).to_string();
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(canonical.as_bytes()))
}

#[derive(Debug)]
struct Writer {
    file: std::fs::File,
    unsynced: usize,
    last_sync: Instant,
}

/// An open cache file.
#[derive(Debug)]
pub struct Cache {
    path: PathBuf,
    entries: HashMap<String, Entry>,
    skipped_lines: usize,
    writer: Mutex<Writer>,
}

impl Cache {
    /// Opens (creating if needed) the cache file of one judge in `dir` and reads its entries.
    pub fn open(dir: &Path, model: &str, rubric: &str, version: u32) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the judge cache", dir.display()))?;
        let safe: String = model
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{rubric}-v{version}_{safe}.jsonl"));
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .with_context(|| format!("{}: cannot open the judge cache", path.display()))?;
        let mut text = Vec::new();
        file.read_to_end(&mut text)
            .with_context(|| format!("{}: cannot read the judge cache", path.display()))?;
        let mut entries = HashMap::new();
        let mut skipped_lines = 0;
        for line in text.split(|b| *b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Entry>(line) {
                Ok(e) => {
                    entries.insert(e.key.clone(), e);
                }
                Err(_) => skipped_lines += 1,
            }
        }
        if text.last().is_some_and(|b| *b != b'\n') {
            // A torn last line: end it so the next append starts on a line of its own.
            file.seek(SeekFrom::End(0))
                .and_then(|_| file.write_all(b"\n"))
                .with_context(|| format!("{}: cannot write to the judge cache", path.display()))?;
        }
        Ok(Self {
            path,
            entries,
            skipped_lines,
            writer: Mutex::new(Writer {
                file,
                unsynced: 0,
                last_sync: Instant::now(),
            }),
        })
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Entries read at open.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing was cached at open.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Unreadable lines skipped at open (a torn write).
    pub fn skipped_lines(&self) -> usize {
        self.skipped_lines
    }

    /// The entry of a key, as read at open.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// Appends one entry with a single write; fsyncs when the batch is full or old.
    pub fn append(&self, entry: &Entry) -> Result<()> {
        let mut line = serde_json::to_vec(entry).context("cannot serialise a judge cache entry")?;
        line.push(b'\n');
        let mut w = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        w.file
            .write_all(&line)
            .with_context(|| format!("{}: cannot append to the judge cache", self.path.display()))?;
        w.unsynced += 1;
        if w.unsynced >= SYNC_EVERY || w.last_sync.elapsed() >= SYNC_INTERVAL {
            sync(&mut w, &self.path)?;
        }
        Ok(())
    }

    /// Fsyncs what was appended.
    pub fn sync(&self) -> Result<()> {
        let mut w = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sync(&mut w, &self.path)
    }
}

fn sync(w: &mut Writer, path: &Path) -> Result<()> {
    if w.unsynced > 0 {
        w.file
            .sync_data()
            .with_context(|| format!("{}: cannot sync the judge cache", path.display()))?;
    }
    w.unsynced = 0;
    w.last_sync = Instant::now();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, score: f64) -> Entry {
        Entry {
            key: key.into(),
            score: Some(score),
            reason: "r".into(),
            details: json!({}),
            failed: false,
            prompt_tokens: 1,
            completion_tokens: 1,
            calls: 1,
            judged_at_ms: 0,
        }
    }

    #[test]
    fn keys_depend_on_every_input() {
        let base = key("m", "relevancy", 1, "p", "r", None);
        assert_eq!(base.len(), 32);
        assert_eq!(base, key("m", "relevancy", 1, "p", "r", None));
        for other in [
            key("m2", "relevancy", 1, "p", "r", None),
            key("m", "correctness", 1, "p", "r", None),
            key("m", "relevancy", 2, "p", "r", None),
            key("m", "relevancy", 1, "p2", "r", None),
            key("m", "relevancy", 1, "p", "r2", None),
            key("m", "relevancy", 1, "p", "r", Some("true")),
            key("m", "relevancy", 1, "pr", "", None),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn entries_survive_a_reopen_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let c = Cache::open(dir.path(), "org/model", "relevancy", 1).expect("open");
        c.append(&entry("a", 0.5)).expect("append");
        c.append(&entry("b", 1.0)).expect("append");
        c.append(&entry("a", 0.25)).expect("append");
        c.sync().expect("sync");
        let path = c.path().to_path_buf();
        drop(c);
        // A process killed inside a write leaves half a line.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        f.write_all(b"{\"key\": \"c\", \"sco").expect("write");
        drop(f);
        let c = Cache::open(dir.path(), "org/model", "relevancy", 1).expect("reopen");
        assert_eq!(c.len(), 2);
        assert_eq!(c.skipped_lines(), 1);
        assert_eq!(c.get("a").and_then(|e| e.score), Some(0.25));
        c.append(&entry("d", 0.0)).expect("append after a torn line");
        drop(c);
        let c = Cache::open(dir.path(), "org/model", "relevancy", 1).expect("reopen");
        assert_eq!(c.len(), 3);
        assert!(c.get("d").is_some());
    }
}
