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
