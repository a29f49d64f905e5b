//! Model lifecycle and stopping: serve templates (collect starts a server per model, checks it,
//! keeps its log, stops it for the next model) and Ctrl-C (stop after what is committed). The
//! served "model" is collect's own hidden `fake-server` subcommand, so no real server is needed.

#![allow(clippy::unwrap_used)] // a panic is a failed test

mod common;

use common::{collect, collect_bin, read_all, write_study};
use dataset::TrialStatus;
use endpoint::fake::{FakeScript, FakeServer};
use std::process::{Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn serve_templates_start_check_log_and_stop_one_server_per_model() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_study(tmp.path(), &["model-a", "model-b", "model-c"], &["COPA"], 2, 2);
    let port = free_port();
    let bin = collect_bin();
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "[server]\n",
        &format!(
            "[server]\nport = {port}\nstartup_timeout_s = 30\nserve = \"'{}' fake-server --port {{port}} --model {{name}}\"\n",
            bin.display()
        ),
    );
    // model-c's server cannot start: its trials fail with the reason, the others go on.
    let text = text.replace(
        "name = \"model-c\"\n",
        "name = \"model-c\"\nserve = \"sh -c 'echo cannot load the weights; exit 3'\"\n",
    );
    std::fs::write(&cfg, text).unwrap();
    let assert = collect(tmp.path())
        .args(["--config", "config.toml", "--out", "data"])
        .assert()
        .code(3);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("4 trials done, 2 failed"), "{stdout}");
    let out = tmp.path().join("data");
    for t in read_all(&out) {
        if t.trial.key.model == "model-c" {
            assert_eq!(t.trial.status, TrialStatus::Failed);
            let reason = t.trial.failure_reason.unwrap();
            assert!(
                reason.contains("did not start") && reason.contains("cannot load the weights"),
                "{reason}"
            );
            continue;
        }
        assert_eq!(t.trial.status, TrialStatus::Done);
        let prov: serde_json::Value = serde_json::from_str(&t.trial.provenance).unwrap();
        assert!(
            prov["server"]["serve_command"]
                .as_str()
                .unwrap()
                .contains("fake-server")
        );
        assert_eq!(
            prov["server"]["model_entry"]["id"].as_str(),
            Some(t.trial.key.model.as_str())
        );
        assert!(
            prov["server"]["server"]
                .as_str()
                .unwrap()
                .starts_with("collect-fake-server")
        );
    }
    let logs: Vec<_> = std::fs::read_dir(out.join("logs"))
        .unwrap()
        .filter_map(|e| e.ok())
        .collect();
    assert!(logs.len() >= 3, "one log per server start: {logs:?}");
    // Every server collect started is gone.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn ctrl_c_stops_after_the_committed_trials_and_a_rerun_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a"], &["COPA", "CB"], 3, 3);
    let server = FakeServer::spawn(FakeScript {
        token_delay: Duration::from_millis(8),
        tokens_min: 10,
        tokens_max: 12,
        ..FakeScript::default()
    })
    .unwrap();
    let args = [
        "--config",
        "config.toml",
        "--out",
        "data",
        "--endpoint",
        &server.base_url,
    ];
    let child = Command::new(collect_bin())
        .current_dir(tmp.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(900));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        stdout.contains("interrupted: run the same command again to resume"),
        "{stdout}"
    );
    let out = tmp.path().join("data");
    let committed = read_all(&out);
    assert!(
        committed.len() < 6,
        "the run was not interrupted: {}",
        committed.len()
    );
    assert!(committed.iter().all(|t| t.trial.status == TrialStatus::Done));
    collect(tmp.path()).args(args).assert().success();
    assert_eq!(read_all(&out).len(), 6);
}

#[test]
fn a_batching_fake_server_from_a_serve_template_drives_the_fake_energy_and_batching_lowers_the_energy_per_token()
 {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_study(tmp.path(), &["model-a"], &["COPA"], 2, 8);
    let port = free_port();
    let bin = collect_bin();
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace(
            "[server]\n",
            &format!(
                "[server]\nport = {port}\nstartup_timeout_s = 30\nserve = \"'{}' fake-server --port {{port}} --model {{name}} --batching\"\n",
                bin.display()
            ),
        )
        .replace("[experiment]\n", "[experiment]\nconcurrency = [1, 4]\n");
    std::fs::write(&cfg, text).unwrap();
    collect(tmp.path())
        .args(["--config", "config.toml", "--out", "data", "--quiet"])
        .assert()
        .success();
    let trials = read_all(&tmp.path().join("data"));
    assert_eq!(trials.len(), 4);
    let mut per_token = [Vec::new(), Vec::new()];
    for t in &trials {
        let m = t.metrics();
        let seconds = (t.trial.end_ms - t.trial.start_ms) as f64 / 1000.0;
        let mean_w = m.gpu_j.unwrap() / seconds;
        // The scripted source would give 250 W; the ledger gives 60 W idle plus the batch's.
        assert!(
            mean_w > 60.0 && mean_w < 400.0 && (mean_w - 250.0).abs() > 1.0,
            "{mean_w} W"
        );
        let level = match t.trial.key.concurrency {
            Some(1) => 0,
            Some(4) => 1,
            other => panic!("concurrency {other:?}"),
        };
        per_token[level].push(m.gpu_j.unwrap() / m.tokens as f64);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    // Batch model: (60 + 340·1/5) W × 8 ms per token alone, (60 + 340·4/8) W × 10 ms / 4 at 4.
    assert!(
        mean(&per_token[1]) < 0.8 * mean(&per_token[0]),
        "J/token at 1: {:?}, at 4: {:?}",
        per_token[0],
        per_token[1]
    );
}
