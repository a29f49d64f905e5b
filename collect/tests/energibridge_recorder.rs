//! `--energy energibridge` drives an external EnergiBridge binary. EnergiBridge is not
//! installable from a registry, so a stand-in script speaks its command-line protocol
//! (`energibridge -o CSV -i MS [--gpu] cat`, stop by closing `cat`'s stdin) and writes its CSV
//! format: 100 W of GPU power and a CPU package counter rising at 100 W, stamped with the real
//! clock. The trial's samples must be the script's rows and the corrected accounting must give
//! 200 W over the trial's sample window.

#![allow(clippy::unwrap_used)] // a panic is a failed test

mod common;

use common::{collect, read_all, write_study};
use endpoint::fake::{FakeScript, FakeServer};
use std::os::unix::fs::PermissionsExt;

const FAKE_ENERGIBRIDGE: &str = r#"#!/bin/bash
# Stand-in for EnergiBridge: energibridge -o CSV -i MS [--gpu] COMMAND...
echo "$*" >> "$(dirname "$0")/calls.log"
if [ "$1" = "--version" ]; then echo "energibridge 0.0.7-standin"; exit 0; fi
out=""; interval=200
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    -i) interval=$2; shift 2 ;;
    --gpu) shift ;;
    *) break ;;
  esac
done
echo "Delta,Time,GPU0_POWER (mWatts),PACKAGE_ENERGY (J),CPU_USAGE_0" > "$out"
"$@" <&0 >/dev/null &
child=$!
t0=$(date +%s%3N); last=$t0
row() { t=$(date +%s%3N); echo "$((t - last)),$t,100000,$(awk "BEGIN{printf \"%.3f\", ($t - $t0) / 10}"),1.5" >> "$out"; last=$t; }
while kill -0 $child 2>/dev/null; do row; sleep "$(awk "BEGIN{print $interval / 1000}")"; done
row
"#;

#[test]
fn an_external_energibridge_is_started_per_trial_stopped_through_stdin_and_its_csv_read() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a"], &["COPA"], 2, 3);
    let bin = tmp.path().join("energibridge");
    std::fs::write(&bin, FAKE_ENERGIBRIDGE).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = FakeServer::spawn(FakeScript {
        token_delay: std::time::Duration::from_millis(30),
        ..FakeScript::default()
    })
    .unwrap();
    let mut cmd = collect(tmp.path());
    cmd.env("ENERGIBRIDGE", &bin).args([
        "--config",
        "config.toml",
        "--out",
        "data",
        "--endpoint",
        &server.base_url,
        "--energy",
        "energibridge",
        "--interval-ms",
        "50",
    ]);
    cmd.assert().success();

    let trials = read_all(&tmp.path().join("data"));
    assert_eq!(trials.len(), 2);
    for t in &trials {
        assert_eq!(t.trial.energy_sources.as_deref(), Some("energibridge"));
        assert!(
            t.trial.provenance.contains("energibridge 0.0.7-standin"),
            "{}",
            t.trial.provenance
        );
        let names: Vec<&str> = t.samples.columns.iter().map(|c| c.name.as_str()).collect();
        assert!(
            names.contains(&"GPU0_POWER (mWatts)") && names.contains(&"PACKAGE_ENERGY (J)"),
            "{names:?}"
        );
        assert!(t.samples.len() >= 4, "{} samples", t.samples.len());
        // The script's samples bracket the requests: one interval before the first, one after
        // the last.
        let first_start = t.requests.iter().map(|r| r.start_ms).min().unwrap();
        let last_end = t.requests.iter().map(|r| r.end_ms).max().unwrap();
        assert!(
            t.samples.time_ms[0] <= first_start,
            "first sample after the first request"
        );
        assert!(
            *t.samples.time_ms.last().unwrap() >= last_end,
            "last sample before the last request ends"
        );
        let m = t.metrics();
        assert!(m.duration_s > 0.0);
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
        assert!(rel(m.gpu_j.unwrap(), 100.0 * m.duration_s) < 1e-9, "{m:?}");
        assert!(rel(m.cpu_j.unwrap(), 100.0 * m.duration_s) < 1e-6, "{m:?}");
    }
    // One EnergiBridge per trial, with the protocol's arguments.
    let calls = std::fs::read_to_string(tmp.path().join("calls.log")).unwrap();
    let runs: Vec<&str> = calls.lines().filter(|l| l.starts_with("-o ")).collect();
    assert_eq!(runs.len(), 2, "{calls}");
    for r in runs {
        assert!(
            r.contains(" -i 50 ") && r.ends_with(" cat") && r.contains("collect-energibridge-"),
            "{r}"
        );
    }
}
