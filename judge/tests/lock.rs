//! One writer per scorer file, with real processes: while a judge writes an LLM scorer's
//! judgments, a second judge of the same scorer exits with status 1 at once, naming the first
//! (host, pid, start time) and the lock file; judges of other scorers (another LLM judge, the
//! gold scorer) run alongside; a lock file left by a judge killed with SIGKILL is no obstacle.

mod support;

use dataset::Dataset;
use dataset::lock::Holder;
use predicates::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::rubric_responder::{Config, fake_judge};
use support::{RTE, TestTrial, judge, judgments, make_dataset};

const SCORER: &str = "judge:fake-model:relevancy";
const ANSWERS: usize = 30;

/// A dataset of `ANSWERS` labelled RTE answers at `root`; returns the LLM scorer's lock file.
fn dataset(root: &Path) -> PathBuf {
    let answers: Vec<String> = (0..ANSWERS).map(|i| format!("Yes. Answer number {i}.")).collect();
    let ds = make_dataset(
        root,
        &[TestTrial {
            run_id: "t",
            task: "RTE",
            generation: "3.2",
            rows: answers
                .iter()
                .map(|a| (RTE, a.as_str(), Some("entailment")))
                .collect(),
        }],
    );
    ds.judgments_lock_path(SCORER)
}

/// A judge of `SCORER` on `data`, one call at a time against `url`.
fn spawn_judge(url: &str, data: &Path) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("judge"))
        .args([
            "--quiet",
            "--endpoint",
            url,
            "--model",
            "fake-model",
            "--jobs",
            "1",
        ])
        .arg(data)
        .env_remove("OPENAI_API_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn judge")
}

/// Waits until the lock file names `pid` and the fake judge got a call from it.
fn holder_is(lock: &Path, pid: u32, calls: impl Fn() -> usize) -> Holder {
    let started = Instant::now();
    loop {
        if let Some(h) = Holder::read(lock).filter(|h| h.pid == pid)
            && calls() > 0
        {
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
    child.kill().expect("kill judge"); // SIGKILL: no destructor, no cleanup
    child.wait().expect("wait for judge");
}

fn relevancy(url: &str, model: &str, data: &Path) -> assert_cmd::Command {
    let mut cmd = judge();
    cmd.args(["--endpoint", url, "--model", model, "--rubric", "relevancy"])
        .arg(data);
    cmd
}

#[test]
fn a_second_judge_of_the_same_scorer_fails_at_once_and_other_scorers_run_alongside() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let lock = dataset(&data);
    let slow = fake_judge(Config {
        delay_ms: 300,
        ..Config::default()
    });
    let first = spawn_judge(&slow.base_url, &data);
    let holder = holder_is(&lock, first.id(), || slow.seen.requests());

    let t = Instant::now();
    relevancy(&slow.base_url, "fake-model", &data)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains(format!("the judgments of `{SCORER}`"))
                .and(predicate::str::contains(format!("pid {}", first.id())))
                .and(predicate::str::contains(format!("on host {}", holder.host)))
                .and(predicate::str::contains(format!("since {}", holder.started)))
                .and(predicate::str::contains(lock.display().to_string()))
                .and(predicate::str::contains("panicked").not()),
        );
    let took = t.elapsed();
    eprintln!("the second judge was refused after {took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(Holder::read(&lock), Some(holder));

    // Another LLM scorer and the gold scorer have their own locks.
    let fast = fake_judge(Config::default());
    relevancy(&fast.base_url, "other-model", &data).assert().success();
    assert_eq!(judgments(&data, "judge:other-model:relevancy").len(), ANSWERS);
    judge().arg(&data).arg("--gold").assert().success();
    assert_eq!(judgments(&data, "gold").len(), ANSWERS);
    kill(first);
    assert!(judgments(&data, SCORER).is_empty());
}

#[test]
fn a_lock_left_by_a_killed_judge_is_taken_over_by_the_next_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let lock = dataset(&data);
    let slow = fake_judge(Config {
        delay_ms: 300,
        ..Config::default()
    });
    let first = spawn_judge(&slow.base_url, &data);
    let pid = first.id();
    holder_is(&lock, pid, || slow.seen.requests());
    kill(first);
    assert_eq!(Holder::read(&lock).map(|h| h.pid), Some(pid));

    let fast = fake_judge(Config::default());
    relevancy(&fast.base_url, "fake-model", &data).assert().success();
    assert_eq!(judgments(&data, SCORER).len(), ANSWERS);
    let now = Holder::read(&lock).expect("a record");
    assert_ne!(now.pid, pid, "the record names the last holder");
    // The lock files are no judgments: gold (from both runs) and the LLM scorer, once each.
    let ds = Dataset::open(&data).expect("open");
    assert_eq!(ds.read_judgments().expect("read").len(), 2 * ANSWERS);
}
