//! Crash safety: collect is killed with SIGKILL (`Child::kill` on Unix) at many points, from
//! dataset creation to the middle of trials and commits, and restarted each time. Whatever the
//! moment, every visible file stays readable, and once a run completes every planned trial is
//! in the dataset exactly once.

mod common;

use common::{collect_bin, read_all, write_study};
use endpoint::fake::{FakeScript, FakeServer};
use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn a_collection_killed_at_many_points_resumes_to_every_trial_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a", "model-b"], &["COPA", "CB"], 4, 3);
    let server = FakeServer::spawn(FakeScript {
        // At least ~55 ms per request, so 16 trials take seconds on any machine and the kills
        // below land in every phase.
        token_delay: Duration::from_millis(5),
        tokens_min: 10,
        tokens_max: 12,
        ..FakeScript::default()
    })
    .unwrap();
    let out = tmp.path().join("data");
    let args = [
        "--config",
        "config.toml",
        "--out",
        "data",
        "--endpoint",
        &server.base_url,
        "--baseline",
        "0.02",
        "--quiet",
    ];
    let kill_after_ms = [5u64, 40, 120, 200, 260, 330, 410, 530, 610, 700, 820, 950];
    let mut kills = 0;
    for delay in kill_after_ms {
        let mut child = Command::new(collect_bin())
            .current_dir(tmp.path())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        if child.try_wait().unwrap().is_some() {
            break;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        // Between runs, everything a reader can see is whole.
        if dataset::Dataset::exists(&out) {
            for t in read_all(&out) {
                assert!(!t.requests.is_empty() || t.trial.status == dataset::TrialStatus::Failed);
                assert!(!t.samples.is_empty());
            }
        }
    }
    assert!(
        kills >= 6,
        "collect finished too early to test anything ({kills} kills)"
    );
    let status = Command::new(collect_bin())
        .current_dir(tmp.path())
        .args(args)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());

    let ds = dataset::Dataset::open(&out).unwrap();
    let runs = ds.read_runs().unwrap();
    assert_eq!(runs.len(), 16);
    let planned: HashSet<String> = runs.iter().map(|r| r.key.run_id.to_string()).collect();
    assert_eq!(planned.len(), 16);
    let ids = ds.trial_ids().unwrap();
    assert_eq!(ids.len(), 16, "{ids:?}");
    assert_eq!(ids.iter().cloned().collect::<HashSet<_>>(), planned);
    let trials = read_all(&out);
    for t in &trials {
        assert_eq!(t.trial.status, dataset::TrialStatus::Done);
        assert_eq!(t.requests.len(), 3);
        assert!(t.baseline.as_ref().is_some_and(|b| b.len() >= 2));
        assert!(t.metrics().energy_j.is_some_and(|j| j > 0.0));
    }
    let staging = out.join(dataset::store::STAGING_DIR);
    let leftovers: Vec<_> = std::fs::read_dir(&staging)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
