//! One writer per dataset, with real processes: while one `collect` writes a dataset folder a
//! second one on the same folder exits with status 1 at once, naming the first (host, pid,
//! start time) and the lock file; a lock file left by a collect killed with SIGKILL is no
//! obstacle to the next run, which takes it over.

#![allow(clippy::unwrap_used)] // a panic is a failed test

mod common;

use common::{collect, collect_bin, read_all};
use dataset::lock::{COLLECT_LOCK, Holder};
use predicates::prelude::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `collect --demo` into `dir/data` that holds its lock for minutes: the first trial takes a
/// moment, then it cools down for ten minutes before the next.
fn slow_demo(dir: &Path) -> Child {
    Command::new(collect_bin())
        .current_dir(dir)
        .args(["--demo", "--quiet", "--out", "data", "--cooldown", "600"])
        .env_remove("LLM_ENERGY_REQUIRE_E2E")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until the lock file names process `pid` as its holder.
fn holder_is(lock: &Path, pid: u32) -> Holder {
    let started = Instant::now();
    loop {
        if let Some(h) = Holder::read(lock).filter(|h| h.pid == pid) {
            return h;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "pid {pid} never took {}",
            lock.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn kill(mut child: Child) {
    child.kill().unwrap(); // SIGKILL: no destructor, no cleanup
    child.wait().unwrap();
}

#[test]
fn a_second_collect_on_the_same_folder_fails_at_once_naming_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let lock = tmp.path().join("data").join(COLLECT_LOCK);
    let first = slow_demo(tmp.path());
    let holder = holder_is(&lock, first.id());
    assert!(holder.command.contains("--cooldown 600"), "{holder:?}");

    let t = Instant::now();
    let refused = collect(tmp.path())
        .args(["--demo", "--quiet", "--out", "data"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains(format!("pid {}", first.id()))
                .and(predicate::str::contains(format!("on host {}", holder.host)))
                .and(predicate::str::contains(format!("since {}", holder.started)))
                // The lock file as the command line named its folder.
                .and(predicate::str::contains(format!("lock file data/{COLLECT_LOCK}")))
                .and(predicate::str::contains("--out"))
                .and(predicate::str::contains("panicked").not()),
        );
    let took = t.elapsed();
    eprintln!("the second collect was refused after {took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(
        String::from_utf8_lossy(&refused.get_output().stdout).is_empty(),
        "nothing is reported as done"
    );
    // The refused run did not touch the holder's record.
    assert_eq!(Holder::read(&lock).unwrap(), holder);
    // A dry run writes nothing, so it needs no lock.
    collect(tmp.path())
        .args(["--demo", "--out", "data", "--dry-run"])
        .assert()
        .success();
    kill(first);
}

#[test]
fn a_lock_left_by_a_killed_collect_is_taken_over_by_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("data");
    let lock = out.join(COLLECT_LOCK);
    let first = slow_demo(tmp.path());
    let pid = first.id();
    holder_is(&lock, pid);
    kill(first);
    // The file and its record stay behind; the flock died with the process.
    assert_eq!(Holder::read(&lock).unwrap().pid, pid);

    collect(tmp.path())
        .args(["--demo", "--quiet", "--out", "data"])
        .assert()
        .success()
        .stdout(predicate::str::contains("trials done, 0 failed"));
    assert_eq!(read_all(&out).len(), 12);
    let now = Holder::read(&lock).unwrap();
    assert_ne!(now.pid, pid, "the record names the last holder");
    assert!(now.command.contains("--demo"));

    // Also when the killed run left nothing but its lock file (and garbage in it).
    let fresh = tmp.path().join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    std::fs::write(fresh.join(COLLECT_LOCK), "{\"pid\": 1, trunc").unwrap();
    collect(tmp.path())
        .args(["--demo", "--quiet", "--out", "fresh"])
        .assert()
        .success();
    assert_eq!(read_all(&fresh).len(), 12);
}

#[test]
fn a_lock_held_by_another_process_with_an_unreadable_record_is_still_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let first = slow_demo(tmp.path());
    let lock = tmp.path().join("data").join(COLLECT_LOCK);
    holder_is(&lock, first.id());
    // Advisory: the content can be anything; the flock decides.
    std::fs::write(&lock, "not a record").unwrap();
    collect(tmp.path())
        .args(["--demo", "--quiet", "--out", "data"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("held by another process")
                .and(predicate::str::contains(format!("lock file data/{COLLECT_LOCK}"))),
        );
    kill(first);
}
