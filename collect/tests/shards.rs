//! `collect --shard K/N`: each shard of one design, run into its own folder, measures the trials
//! at positions i of the shuffled run table with i mod N = K; together they cover the design
//! exactly once, with the run ids and order of one local run, and each records its shard.

#![allow(clippy::unwrap_used)] // a panic is a failed test

mod common;

use common::{collect, read_all, write_study};
use endpoint::fake::{FakeScript, FakeServer};
use std::collections::BTreeSet;

#[test]
fn three_shards_cover_the_run_table_of_one_local_run_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a", "model-b"], &["COPA", "CB"], 3, 1);
    let server = FakeServer::spawn(FakeScript::default()).unwrap();
    let run = |out: &str, extra: &[&str]| {
        collect(tmp.path())
            .args([
                "--config",
                "config.toml",
                "--out",
                out,
                "--endpoint",
                &server.base_url,
                "-q",
            ])
            .args(extra)
            .assert()
            .success()
    };
    run("whole", &[]);
    let whole = dataset::Dataset::open(tmp.path().join("whole")).unwrap();
    let runs = whole.read_runs().unwrap();
    assert_eq!(runs.len(), 12);
    let mut seen = BTreeSet::new();
    for k in 0..3 {
        let out = format!("shard{k}");
        let shard = format!("{k}/3");
        let assert = run(&out, &["--shard", &shard]);
        let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
        assert!(
            stdout.contains("4 trials done") && stdout.contains("8 left for later"),
            "{stdout}"
        );
        let ds = dataset::Dataset::open(tmp.path().join(&out)).unwrap();
        // The same run table (ids, order) as the local run; the shard in the manifest.
        assert_eq!(ds.read_runs().unwrap(), runs);
        assert!(
            ds.manifest()
                .unwrap()
                .description
                .contains(&format!("\"shard\":\"{shard}\""))
        );
        let expected: BTreeSet<String> = runs
            .iter()
            .filter(|r| r.order % 3 == k)
            .map(|r| r.key.run_id.to_string())
            .collect();
        let got: BTreeSet<String> = read_all(&tmp.path().join(&out))
            .into_iter()
            .map(|t| t.trial.key.run_id.to_string())
            .collect();
        assert_eq!(got, expected, "shard {shard}");
        assert!(got.is_disjoint(&seen), "shard {shard} repeats a trial");
        seen.extend(got);
    }
    let all: BTreeSet<String> = runs.iter().map(|r| r.key.run_id.to_string()).collect();
    assert_eq!(seen, all);
    // The dry run of a shard lists only its trials.
    let assert = collect(tmp.path())
        .args([
            "--config",
            "config.toml",
            "--out",
            "shard9",
            "--shard",
            "1/3",
            "--dry-run",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(
        stdout.contains("shard 1/3 (--shard): 4 of these trials"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().filter(|l| l.contains("_repetition_")).count(), 4);
    // A shard outside 0..N is refused before anything runs.
    collect(tmp.path())
        .args(["--config", "config.toml", "--out", "bad", "--shard", "3/3"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("K must be below N"));
    assert!(!tmp.path().join("bad").exists());
}
