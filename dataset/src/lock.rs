//! One writer per dataset: an exclusive, advisory `flock` on a lock file inside the dataset
//! folder, held for as long as the writer runs.
//!
//! | writer  | lock file                       | held for                  | when another holds it     |
//! |---------|---------------------------------|---------------------------|---------------------------|
//! | collect | `DATA/.collect.lock`            | the whole run             | fails at once             |
//! | judge   | `DATA/judgments/.<scorer>.lock` | an LLM scorer: the run    | fails at once             |
//! | judge   | `DATA/judgments/.gold.lock`     | gold: its merge and write | waits up to [`GOLD_WAIT`] |
//!
//! The judge's lock is per scorer output file (the name is the file's,
//! [`Dataset::judgments_path`], with a leading dot and `.lock`): judges of different scorers run
//! side by side on one dataset, two judges of the same scorer do not (they would pay for the
//! same calls and the second write would drop the first one's rows).
//!
//! The file's content names the holder as one JSON object ([`Holder`]: host, pid, start time in
//! RFC 3339 and Unix seconds, command line), rewritten by each process that takes the lock, so
//! a refused writer can say who holds it. Whether the lock is held is the `flock`, never the
//! file's existence or content: the kernel releases the lock when its process ends, however it
//! ends (`kill -9`, a crash, a power cut), so a lock file left behind is no obstacle and needs
//! no cleaning up. Lock files are not deleted after use (deleting one another process has
//! opened would let two processes lock two different files); [`Lock::remove`] exists only for
//! a folder its caller created and is about to remove, and [`Lock::acquire`] re-checks after
//! locking that the path still names the file it locked.
//!
//! The locking is the standard library's [`File::try_lock`], which is `flock(LOCK_EX |
//! LOCK_NB)` on Linux and the BSDs; files are opened close-on-exec, so a model server that
//! `collect` starts does not inherit the lock.
//!
//! `flock` coordinates the processes of **one host**. On a network file system it may not
//! reach other hosts (or is emulated differently per file system), so on a shared disk give
//! each host (each shard) its own dataset folder; the lock does not protect one folder written
//! from two machines.

use crate::error::{DatasetError, IoContext, Result};
use crate::store::Dataset;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Name of `collect`'s lock file inside the dataset folder.
pub const COLLECT_LOCK: &str = ".collect.lock";

/// How long a judge waits for the gold scorer's lock, which other judges hold only while they
/// merge and write the gold judgments (seconds, not the length of a run).
pub const GOLD_WAIT: Duration = Duration::from_secs(60);

/// Who holds (or last held) a lock: the lock file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Host name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`, else `unknown`).
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// When the process took the lock, RFC 3339 in UTC (`2025-06-01T12:00:00Z`).
    pub started: String,
    /// The same instant, seconds since the Unix epoch.
    pub started_unix_s: i64,
    /// The holder's command line, arguments separated by spaces.
    pub command: String,
}

impl Holder {
    /// This process, now.
    pub fn this_process() -> Self {
        let now = chrono::Utc::now();
        Self {
            host: hostname(),
            pid: std::process::id(),
            started: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            started_unix_s: now.timestamp(),
            command: std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// Reads the holder recorded in a lock file; `None` when the file is missing, empty or not
    /// a holder record.
    pub fn read(path: &Path) -> Option<Self> {
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
    }

    /// The holder in words: pid 1234 on host gpu-01 since 2025-06-01T12:00:00Z, running
    /// `collect --out data`.
    pub fn describe(&self) -> String {
        format!(
            "pid {} on host {} since {}, running `{}`",
            self.pid, self.host, self.started, self.command
        )
    }
}

/// The host name, as the kernel has it.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// A held lock; released when dropped (or when the process ends, however it ends).
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
    holder: Holder,
}

/// What a refused lock says besides its path: what it protects and what to do.
struct Purpose<'a> {
    /// `dataset data/x`, `the judgments of `gold` in data/x`.
    target: &'a str,
    /// The advice ending the message.
    advice: &'a str,
}

impl Lock {
    /// Takes the exclusive lock on `path` (created, with its folder, when missing), waiting up
    /// to `wait` for another holder to release it (`Duration::ZERO`: fail at once), and records
    /// this process as its holder. A held lock is a [`DatasetError::Locked`] naming the holder
    /// and the lock file.
    pub fn acquire(path: &Path, wait: Duration) -> Result<Self> {
        let target = path
            .parent()
            .map_or_else(|| path.display().to_string(), |p| p.display().to_string());
        Self::acquire_for(
            path,
            wait,
            &Purpose {
                target: &target,
                advice: "wait for it to finish",
            },
        )
    }

    fn acquire_for(path: &Path, wait: Duration, purpose: &Purpose<'_>) -> Result<Self> {
        let deadline = Instant::now() + wait;
        // Retried only when the file was removed or replaced between opening and locking it.
        for _ in 0..16 {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).at(dir)?;
            }
            let file = match OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
            {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(DatasetError::io(path, e)),
            };
            loop {
                match file.try_lock() {
                    Ok(()) => break,
                    Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(TryLockError::WouldBlock) => return Err(locked(path, purpose)),
                    Err(TryLockError::Error(e)) => {
                        return Err(DatasetError::invalid(
                            path,
                            format!(
                                "cannot lock ({e}); the file system may not support flock: keep datasets on a local disk"
                            ),
                        ));
                    }
                }
            }
            if !still_named_by(&file, path) {
                continue;
            }
            let holder = Holder::this_process();
            let text = serde_json::to_string(&holder).unwrap_or_default() + "\n";
            file.set_len(0).at(path)?;
            (&file).write_all(text.as_bytes()).at(path)?;
            return Ok(Self {
                file,
                path: path.to_path_buf(),
                holder,
            });
        }
        Err(DatasetError::invalid(
            path,
            "the lock file keeps being removed or replaced while it is being locked",
        ))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// This process's record in the lock file.
    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    /// Removes the lock file while still holding the lock, then releases it. Only for a lock
    /// file in a folder the caller created and is about to remove (a run that failed before it
    /// wrote anything); a process that opened the file just before is refused or, once it
    /// gets the lock, sees that the path no longer names its file and starts again.
    pub fn remove(self) -> Result<()> {
        std::fs::remove_file(&self.path).at(&self.path)?;
        drop(self.file);
        Ok(())
    }
}

/// True when `path` still names the file `file` has open.
#[cfg(unix)]
fn still_named_by(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// True when `path` still names a file (other platforms have no inode to compare).
#[cfg(not(unix))]
fn still_named_by(_file: &File, path: &Path) -> bool {
    path.is_file()
}

/// The error for a lock another process holds, naming that process when its record is
/// readable. A holder that has just taken the lock may not have written its record yet, so an
/// unreadable record is read again a few times before giving up on it.
fn locked(path: &Path, purpose: &Purpose<'_>) -> DatasetError {
    let mut holder = Holder::read(path);
    for _ in 0..10 {
        if holder.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        holder = Holder::read(path);
    }
    let holder = holder.map_or_else(
        || "held by another process (its record in the lock file is unreadable)".to_string(),
        |h| format!("held by {}", h.describe()),
    );
    DatasetError::Locked {
        target: purpose.target.to_string(),
        holder,
        lock: path.to_path_buf(),
        advice: purpose.advice.to_string(),
    }
}

/// The lock file of `collect` in the dataset folder `root`.
pub fn collect_lock_path(root: &Path) -> PathBuf {
    root.join(COLLECT_LOCK)
}

/// Takes `collect`'s lock on the dataset folder `root` (created when missing), failing at once
/// when another process holds it.
pub fn lock_collect(root: &Path) -> Result<Lock> {
    let target = format!("dataset {}", root.display());
    Lock::acquire_for(
        &collect_lock_path(root),
        Duration::ZERO,
        &Purpose {
            target: &target,
            advice: "one collect writes to a dataset folder at a time: wait for that run to finish \
                     (or stop it), or choose another --out",
        },
    )
}

/// Takes the lock on one scorer's judgments in `ds` (`judgments/.<scorer>.lock`), waiting up to
/// `wait` when another process holds it.
pub fn lock_judgments(ds: &Dataset, scorer: &str, wait: Duration) -> Result<Lock> {
    let target = format!("the judgments of `{scorer}` in {}", ds.root().display());
    Lock::acquire_for(
        &ds.judgments_lock_path(scorer),
        wait,
        &Purpose {
            target: &target,
            advice: "one judge writes a scorer's judgments at a time: wait for that run to finish \
                     (or stop it)",
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_file_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        let first = lock_collect(&root).unwrap();
        assert_eq!(Holder::read(first.path()).as_ref(), Some(first.holder()));
        // flock conflicts between two open files of one process too.
        let err = lock_collect(&root).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, DatasetError::Locked { .. }), "{text}");
        for needle in [
            format!("pid {}", std::process::id()),
            format!("on host {}", first.holder().host),
            format!("since {}", first.holder().started),
            collect_lock_path(&root).display().to_string(),
            "--out".to_string(),
        ] {
            assert!(text.contains(&needle), "`{needle}` missing from: {text}");
        }
        drop(first);
        let again = lock_collect(&root).unwrap();
        assert_eq!(again.path(), collect_lock_path(&root));
    }

    #[test]
    fn a_lock_file_left_behind_is_taken_and_its_record_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        std::fs::write(
            &path,
            r#"{"host":"elsewhere","pid":1,"started":"2000-01-01T00:00:00Z","started_unix_s":946684800,"command":"old and much longer than the new command line, so truncation matters"}"#,
        )
        .unwrap();
        let lock = Lock::acquire(&path, Duration::ZERO).unwrap();
        let h = Holder::read(&path).unwrap();
        assert_eq!(&h, lock.holder());
        assert_eq!(h.pid, std::process::id());
        assert!(h.started_unix_s > 946_684_800);
        assert!(h.started.ends_with('Z'), "{}", h.started);
    }

    #[test]
    fn a_waiting_lock_gets_the_file_once_released_and_gives_up_at_its_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.lock");
        let first = Lock::acquire(&path, Duration::ZERO).unwrap();
        let t = Instant::now();
        assert!(Lock::acquire(&path, Duration::from_millis(100)).is_err());
        assert!(t.elapsed() >= Duration::from_millis(100));
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(first);
        });
        Lock::acquire(&path, Duration::from_secs(30)).unwrap();
        release.join().unwrap();
    }

    #[test]
    fn a_removed_lock_file_is_recreated_by_the_next_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/r.lock");
        let lock = Lock::acquire(&path, Duration::ZERO).unwrap();
        lock.remove().unwrap();
        assert!(!path.exists());
        let again = Lock::acquire(&path, Duration::ZERO).unwrap();
        assert!(path.is_file());
        drop(again);
    }

    #[test]
    fn judgment_locks_are_per_scorer_file() {
        let dir = tempfile::tempdir().unwrap();
        let ds = Dataset::create(dir.path().join("d"), &crate::Manifest::new("t", true, ""), false).unwrap();
        let gold = lock_judgments(&ds, "gold", Duration::ZERO).unwrap();
        let llm = lock_judgments(&ds, "judge:m:relevancy", Duration::ZERO).unwrap();
        assert_eq!(gold.path(), ds.root().join("judgments/.gold.lock"));
        assert_eq!(llm.path(), ds.root().join("judgments/.judge_m_relevancy.lock"));
        let err = lock_judgments(&ds, "gold", Duration::ZERO)
            .unwrap_err()
            .to_string();
        assert!(err.contains("the judgments of `gold`"), "{err}");
        // Lock files are no judgments.
        assert!(ds.read_judgments().unwrap().is_empty());
    }
}
