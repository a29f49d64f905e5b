//! Two machines on loopback: `collect agent` (the testbed: fake endpoint, scripted energy) and
//! `collect --agent URL` (the orchestrator) as separate processes. The orchestrator's dataset
//! has the run table, order, requests and responses of a local run of the same config and seed;
//! each trial's energy is the scripted power times its own window (the fake source integrates
//! constant power over wall time, so two runs differ only by their windows). Faults: the agent
//! killed mid-trial, a fetch cut off, the orchestrator killed; security: tokens, bad bodies, a
//! model the agent does not serve, and a few thousand random requests.

#![allow(clippy::unwrap_used)] // a panic is a failed test

mod common;

use common::{collect, collect_bin, read_all, write_study};
use endpoint::fake::{FakeScript, FakeServer};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Scripted power of the fake energy source: GPU 250 W + package 50 W + DRAM 5 W.
const FAKE_W: f64 = 305.0;

/// A `collect agent` process; killed when dropped.
struct Agent {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Agent {
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts an agent in `dir` on `listen` with extra arguments; waits until it listens.
    fn start(dir: &Path, endpoint: &str, listen: &str, extra: &[&str]) -> Agent {
        let addr_file = dir.join(format!("agent-addr-{}", rand_suffix()));
        let log = dir.join(format!("agent-{}.log", rand_suffix()));
        let child = Command::new(collect_bin())
            .current_dir(dir)
            .args([
                "agent",
                "--config",
                "config.toml",
                "--out",
                "agent-data",
                "--endpoint",
                endpoint,
            ])
            .args(["--listen", listen, "--addr-file"])
            .arg(&addr_file)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut agent = Agent {
            child,
            addr: String::new(),
            log,
        };
        loop {
            if let Ok(text) = std::fs::read_to_string(&addr_file)
                && !text.trim().is_empty()
            {
                agent.addr = text.trim().to_string();
                return agent;
            }
            if let Some(status) = agent.child.try_wait().unwrap() {
                panic!("the agent exited ({status}): {}", agent.log());
            }
            assert!(
                Instant::now() < deadline,
                "the agent did not start: {}",
                agent.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill();
    }
}

fn rand_suffix() -> String {
    format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn write_token(dir: &Path) -> PathBuf {
    let path = dir.join("agent.token");
    std::fs::write(&path, "0123456789abcdef0123456789abcdef\n").unwrap();
    path
}

/// Every trial's energy is the scripted power times its own window, within 20 ms of that power
/// (6.1 J): the source integrates constant power over wall time, sampled every 5 ms, so the
/// energy integrated between the samples bracketing the window differs from P × window by at
/// most a sample interval at each end, plus the 1 ms resolution of the window.
fn check_energy(out: &Path) {
    for t in read_all(out) {
        let m = t.metrics();
        let e = m.energy_j.unwrap();
        let d = (t.trial.end_ms - t.trial.start_ms) as f64 / 1000.0;
        assert!(
            (e - FAKE_W * d).abs() <= FAKE_W * 0.02 + 1e-9,
            "{}: {e} J over {d} s",
            t.trial.key.run_id
        );
    }
}

#[test]
fn an_orchestrator_and_an_agent_collect_what_a_local_run_collects() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a", "model-b"], &["COPA", "CB"], 2, 3);
    let script = FakeScript {
        token_delay: Duration::from_millis(2),
        metrics: true,
        ..FakeScript::default()
    };
    let server = FakeServer::spawn(script).unwrap();
    collect(tmp.path())
        .args([
            "--config",
            "config.toml",
            "--out",
            "local",
            "--endpoint",
            &server.base_url,
            "-q",
        ])
        .assert()
        .success();
    let token = write_token(tmp.path());
    let agent = Agent::start(
        tmp.path(),
        &server.base_url,
        "127.0.0.1:0",
        &["--token-file", token.to_str().unwrap()],
    );
    let assert = collect(tmp.path())
        .args([
            "--config",
            "config.toml",
            "--out",
            "remote",
            "--agent",
            &agent.url(),
        ])
        .arg("--agent-token-file")
        .arg(&token)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("8 trials done, 0 failed"), "{stdout}");
    let local = dataset::Dataset::open(tmp.path().join("local")).unwrap();
    let remote = dataset::Dataset::open(tmp.path().join("remote")).unwrap();
    assert_eq!(remote.read_runs().unwrap(), local.read_runs().unwrap());
    let (l, r) = (
        read_all(&tmp.path().join("local")),
        read_all(&tmp.path().join("remote")),
    );
    assert_eq!(l.len(), 8);
    assert_eq!(r.len(), 8);
    let host = dataset::lock::hostname();
    for (a, b) in l.iter().zip(&r) {
        assert_eq!(a.trial.key, b.trial.key);
        assert_eq!(a.trial.testbed.as_deref(), Some("local"));
        assert_eq!(b.trial.testbed.as_deref(), Some(host.as_str()));
        let texts = |t: &common::ReadTrial| -> Vec<(i64, String, String, Option<i64>)> {
            t.requests
                .iter()
                .map(|q| (q.index, q.prompt.clone(), q.response.clone(), q.seed))
                .collect()
        };
        assert_eq!(texts(a), texts(b), "{}", a.trial.key.run_id);
        assert_eq!(a.samples.columns.len(), b.samples.columns.len());
    }
    // Both ran the trials in the run table's order.
    let runs = local.read_runs().unwrap();
    for trials in [&l, &r] {
        let mut by_start: Vec<&common::ReadTrial> = trials.iter().collect();
        by_start.sort_by_key(|t| t.trial.start_ms);
        let order: Vec<i64> = by_start
            .iter()
            .map(|t| {
                runs.iter()
                    .find(|x| x.key.run_id == t.trial.key.run_id)
                    .unwrap()
                    .order
            })
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    }
    check_energy(&tmp.path().join("local"));
    check_energy(&tmp.path().join("remote"));
    // The server's metrics travel with the part and verify like the rest.
    let all = dataset::ReadOptions {
        server_metrics: true,
        ..dataset::ReadOptions::default()
    };
    for t in &r {
        let id = t.trial.key.run_id.as_str();
        let files = remote.read_trial_files(id, all).unwrap();
        assert!(!files.server_metrics.is_empty(), "{id}");
        assert!(files.server_metrics.iter().all(|m| m.run_id == id));
    }
    // Confirmed trials are deleted on the agent.
    let left = dataset::Dataset::open(tmp.path().join("agent-data"))
        .unwrap()
        .parts()
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
    // A second run has nothing to do.
    let assert = collect(tmp.path())
        .args([
            "--config",
            "config.toml",
            "--out",
            "remote",
            "--agent",
            &agent.url(),
            "-q",
        ])
        .arg("--agent-token-file")
        .arg(&token)
        .assert()
        .success();
    assert!(
        String::from_utf8_lossy(&assert.get_output().stdout)
            .contains("0 trials done, 0 failed, 8 already done")
    );
}

#[test]
fn an_agent_of_another_design_is_refused_naming_what_differs() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a"], &["COPA"], 2, 2);
    let server = FakeServer::spawn(FakeScript::default()).unwrap();
    let agent = Agent::start(tmp.path(), &server.base_url, "127.0.0.1:0", &["--reps", "3"]);
    collect(tmp.path())
        .args([
            "--config",
            "config.toml",
            "--out",
            "remote",
            "--agent",
            &agent.url(),
            "-q",
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("has another design"))
        .stderr(predicates::str::contains("repetitions: agent 3, here 2"));
    assert!(!tmp.path().join("remote").join("dataset.json").exists());
}

/// Waits until `out` holds at least `n` committed trials.
fn wait_for_trials(out: &Path, n: usize, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let have = std::fs::read_dir(out.join("trials"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().join("trial.parquet").is_file())
                    .count()
            })
            .unwrap_or(0);
        if have >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} trials in {} after {timeout:?}",
            have,
            out.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every trial of the run table exactly once, each with all its requests answered.
fn check_complete(out: &Path, trials: usize, prompts: usize) {
    let all = read_all(out);
    assert_eq!(all.len(), trials);
    let mut ids: Vec<String> = all.iter().map(|t| t.trial.key.run_id.to_string()).collect();
    ids.dedup();
    assert_eq!(ids.len(), trials);
    for t in &all {
        assert_eq!(t.requests.len(), prompts, "{}", t.trial.key.run_id);
        assert!(t.requests.iter().all(|r| r.error.is_none()));
    }
}

fn orchestrator(dir: &Path, url: &str, out: &str) -> Child {
    Command::new(collect_bin())
        .current_dir(dir)
        .args([
            "--config",
            "config.toml",
            "--out",
            out,
            "--agent",
            url,
            "--agent-retry-s",
            "60",
            "-q",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// 1 model × 2 tasks × 3 repetitions × 4 prompts of 16 tokens 5 ms apart (about 0.3 s per
/// trial, so a kill lands inside one); the fake server serving it.
fn slow_study(dir: &Path) -> FakeServer {
    write_study(dir, &["model-a"], &["COPA", "CB"], 3, 4);
    let script = FakeScript {
        token_delay: Duration::from_millis(5),
        tokens_min: 16,
        tokens_max: 16,
        ..FakeScript::default()
    };
    FakeServer::spawn(script).unwrap()
}

/// The body of `POST /v1/trials` for `run_<0>_repetition_<rep>` of `model` on COPA, with the
/// design and versions of the agent's capabilities.
fn trial_body(caps: &serde_json::Value, model: &str, rep: i64) -> serde_json::Value {
    serde_json::json!({
        "run_id": format!("run_0_repetition_{rep}"), "model": model, "task": "COPA", "repetition": rep,
        "design_hash": caps["design_hash"], "design": caps["design"],
        "collect_version": caps["collect_version"], "schema_version": caps["schema_version"],
    })
}

#[test]
fn an_agent_killed_mid_trial_and_restarted_costs_only_that_trial() {
    let tmp = tempfile::tempdir().unwrap();
    let server = slow_study(tmp.path());
    let mut agent = Agent::start(tmp.path(), &server.base_url, "127.0.0.1:0", &[]);
    let addr = agent.addr.clone();
    let orch = orchestrator(tmp.path(), &agent.url(), "remote");
    wait_for_trials(&tmp.path().join("remote"), 2, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(100));
    agent.kill();
    std::thread::sleep(Duration::from_millis(300));
    let _agent = Agent::start(tmp.path(), &server.base_url, &addr, &[]);
    let out = orch.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_complete(&tmp.path().join("remote"), 6, 4);
    // Only the trial in flight at the kill was measured again (its first requests are lost).
    let attempts = server.stats.attempts();
    assert!((24..=28).contains(&attempts), "{attempts} requests");
}

#[test]
fn a_fetch_cut_off_is_fetched_again_and_not_measured_twice() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a"], &["COPA"], 2, 3);
    let server = FakeServer::spawn(FakeScript::default()).unwrap();
    let agent = Agent::start(
        tmp.path(),
        &server.base_url,
        "127.0.0.1:0",
        &["--fault", "drop-fetch"],
    );
    let assert = collect(tmp.path())
        .args([
            "--config",
            "config.toml",
            "--out",
            "remote",
            "--agent",
            &agent.url(),
        ])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("fetch failed") && stderr.contains("not measured again"),
        "{stderr}"
    );
    check_complete(&tmp.path().join("remote"), 2, 3);
    // Two trials of three prompts: six requests reached the model, no more.
    assert_eq!(server.stats.attempts(), 6);
}

#[test]
fn an_orchestrator_killed_and_restarted_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let server = slow_study(tmp.path());
    let agent = Agent::start(tmp.path(), &server.base_url, "127.0.0.1:0", &[]);
    let mut first = orchestrator(tmp.path(), &agent.url(), "remote");
    wait_for_trials(&tmp.path().join("remote"), 2, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(100));
    first.kill().unwrap();
    first.wait().unwrap();
    let out = orchestrator(tmp.path(), &agent.url(), "remote")
        .wait_with_output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    check_complete(&tmp.path().join("remote"), 6, 4);
    // No trial was measured twice unless it was in flight at the kill: at most one extra.
    let attempts = server.stats.attempts();
    assert!((24..=28).contains(&attempts), "{attempts} requests");
}

/// `GET url` answered with JSON.
async fn get_json(http: &reqwest::Client, url: &str) -> serde_json::Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// Polls job `id` until it is in `state` (30 s at most); returns its status.
async fn wait_for_state(http: &reqwest::Client, url: &str, id: &str, state: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s: serde_json::Value = get_json(http, &format!("{url}/v1/jobs/{id}")).await;
        if s["state"] == state {
            return s;
        }
        assert!(Instant::now() < deadline, "{s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A tokio runtime for the HTTP checks.
fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_agent_refuses_bad_requests_with_4xx_and_stays_up() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a"], &["COPA"], 2, 2);
    let server = FakeServer::spawn(FakeScript::default()).unwrap();
    let token = write_token(tmp.path());
    // A non-loopback address without a token is refused before anything listens.
    collect(tmp.path())
        .args([
            "agent",
            "--config",
            "config.toml",
            "--out",
            "x",
            "--endpoint",
            &server.base_url,
        ])
        .args(["--listen", "0.0.0.0:0"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "not a loopback address, and no --token-file",
        ));
    let mut agent = Agent::start(
        tmp.path(),
        &server.base_url,
        "127.0.0.1:0",
        &["--token-file", token.to_str().unwrap()],
    );
    let url = agent.url();
    let good = "0123456789abcdef0123456789abcdef";
    rt().block_on(async {
        let http = reqwest::Client::new();
        let get = |path: &str, tok: Option<&str>| {
            let r = http.get(format!("{url}{path}"));
            match tok {
                Some(t) => r.bearer_auth(t),
                None => r,
            }
        };
        assert_eq!(get("/v1/health", None).send().await.unwrap().status(), 200);
        assert_eq!(get("/v1/capabilities", None).send().await.unwrap().status(), 401);
        assert_eq!(
            get("/v1/capabilities", Some("0123456789abcdef0123456789abcdeX"))
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
        assert_eq!(
            get("/v1/capabilities", Some("short"))
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
        let caps: serde_json::Value = get("/v1/capabilities", Some(good))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let post = |body: Vec<u8>| {
            http.post(format!("{url}/v1/trials"))
                .bearer_auth(good)
                .header("content-type", "application/json")
                .body(body)
        };
        let trial = |model: &str| trial_body(&caps, model, 0);
        // A model not in the agent's config: 422, nothing started.
        let r = post(trial("rm -rf /").to_string().into_bytes())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("not in this agent's config"));
        assert_eq!(server.stats.attempts(), 0);
        // Unknown field, malformed, oversized, wrong types: 4xx.
        let mut extra = trial("model-a");
        extra["command"] = serde_json::json!("sh -c 'id'");
        let r = post(extra.to_string().into_bytes()).send().await.unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("unknown field"));
        assert_eq!(post(b"{not json".to_vec()).send().await.unwrap().status(), 400);
        assert_eq!(post(vec![b' '; 300 * 1024]).send().await.unwrap().status(), 413);
        let mut wrong = trial("model-a");
        wrong["repetition"] = serde_json::json!("zero");
        assert_eq!(
            post(wrong.to_string().into_bytes())
                .send()
                .await
                .unwrap()
                .status(),
            400
        );
        // A run id outside the run table, a path-like run id: 422.
        let mut other = trial("model-a");
        other["run_id"] = serde_json::json!("../../etc/passwd");
        assert_eq!(
            post(other.to_string().into_bytes())
                .send()
                .await
                .unwrap()
                .status(),
            422
        );
        // Files of unknown jobs, traversal in a file name: 404.
        assert_eq!(
            get("/v1/jobs/123/files/..%2F..%2Fdataset.json", Some(good))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        assert_eq!(get("/v1/nothing", Some(good)).send().await.unwrap().status(), 404);
        assert_eq!(server.stats.attempts(), 0);

        // Fuzz: random methods, paths and bodies, with and without the token.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let paths = [
            "/v1/trials",
            "/v1/jobs/",
            "/v1/capabilities",
            "/v1/health",
            "/",
            "/v1/jobs/x/files/",
            "/v2/",
        ];
        let methods = [
            reqwest::Method::GET,
            reqwest::Method::POST,
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
        ];
        for i in 0..2000 {
            let n = next();
            let mut path = paths[(n % paths.len() as u64) as usize].to_string();
            for _ in 0..(next() % 3) {
                let seg: String = (0..(next() % 12))
                    .map(|_| (b'!' + (next() % 90) as u8) as char)
                    .filter(|c| !"#?%/".contains(*c))
                    .collect();
                path.push_str(&seg);
                path.push('/');
            }
            let body: Vec<u8> = if next() % 2 == 0 {
                (0..(next() % 600)).map(|_| next() as u8).collect()
            } else {
                let mut t = trial("model-a");
                t["repetition"] = serde_json::json!(next() % 5);
                t["run_id"] = serde_json::json!(format!("run_{}_repetition_{}", next() % 3, next() % 3));
                if next() % 3 == 0 {
                    t["design_hash"] = serde_json::json!("0000");
                }
                t.to_string().into_bytes()
            };
            let method = methods[(next() % methods.len() as u64) as usize].clone();
            let mut r = http.request(method, format!("{url}{path}")).body(body);
            if next() % 4 != 0 {
                r = r.bearer_auth(good);
            }
            let status = r
                .send()
                .await
                .unwrap_or_else(|e| panic!("request {i} to {path} got no answer: {e}"))
                .status();
            assert!(
                status.is_client_error() || status.is_success(),
                "request {i} to {path}: {status}"
            );
        }
        assert_eq!(get("/v1/health", None).send().await.unwrap().status(), 200);
    });
    assert!(
        agent.child.try_wait().unwrap().is_none(),
        "the agent exited: {}",
        agent.log()
    );
    assert!(!agent.log().contains("panicked"), "{}", agent.log());
    agent.kill();
}

#[test]
fn the_agent_runs_one_trial_at_a_time_cancels_and_bounds_its_disk() {
    let tmp = tempfile::tempdir().unwrap();
    write_study(tmp.path(), &["model-a"], &["COPA"], 2, 2);
    let script = FakeScript {
        token_delay: Duration::from_millis(50),
        tokens_min: 40,
        tokens_max: 40,
        ..FakeScript::default()
    };
    let server = FakeServer::spawn(script).unwrap();
    let agent = Agent::start(tmp.path(), &server.base_url, "127.0.0.1:0", &[]);
    let url = agent.url();
    rt().block_on(async {
        let http = reqwest::Client::new();
        let caps: serde_json::Value = get_json(&http, &format!("{url}/v1/capabilities")).await;
        let trial = |rep: i64| trial_body(&caps, "model-a", rep);
        let post = |body: serde_json::Value| http.post(format!("{url}/v1/trials")).json(&body).send();
        let r = post(trial(0)).await.unwrap();
        assert_eq!(r.status(), 202);
        let job: serde_json::Value = r.json().await.unwrap();
        let id = job["job_id"].as_str().unwrap().to_string();
        // Another trial while one runs: 409, naming the running job.
        let r = post(trial(1)).await.unwrap();
        assert_eq!(r.status(), 409);
        let e: serde_json::Value = r.json().await.unwrap();
        assert_eq!(e["busy_with"]["job_id"], id.as_str());
        // The same trial again: the same job.
        let again: serde_json::Value = post(trial(0)).await.unwrap().json().await.unwrap();
        assert_eq!(again["job_id"], id.as_str());
        // No files before the commit; cancel stops it and nothing is committed.
        assert_eq!(
            http.get(format!("{url}/v1/jobs/{id}/files"))
                .send()
                .await
                .unwrap()
                .status(),
            409
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        let c: serde_json::Value = http
            .post(format!("{url}/v1/jobs/{id}/cancel"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(c["state"] == "running" || c["state"] == "cancelled", "{c}");
        wait_for_state(&http, &url, &id, "cancelled").await;
        let parts = dataset::Dataset::open(tmp.path().join("agent-data"))
            .unwrap()
            .parts()
            .unwrap();
        assert!(parts.is_empty(), "{parts:?}");
        // The next trial runs to its commit; its files list with checksums.
        let r = post(trial(1)).await.unwrap();
        assert_eq!(r.status(), 202);
        let id: String = r.json::<serde_json::Value>().await.unwrap()["job_id"]
            .as_str()
            .unwrap()
            .into();
        let s = wait_for_state(&http, &url, &id, "committed").await;
        assert_eq!(s["requests_done"], 2);
        let list: serde_json::Value = get_json(&http, &format!("{url}/v1/jobs/{id}/files")).await;
        let names: Vec<&str> = list["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["requests.parquet", "samples.parquet", "trial.parquet"]);
    });
    drop(agent);
    // With no room for unconfirmed trials, a job is refused with 507 before anything runs.
    let before = server.stats.attempts();
    let tight = Agent::start(
        tmp.path(),
        &server.base_url,
        "127.0.0.1:0",
        &["--max-pending-mb", "0"],
    );
    let url = tight.url();
    rt().block_on(async {
        let http = reqwest::Client::new();
        let caps: serde_json::Value = get_json(&http, &format!("{url}/v1/capabilities")).await;
        assert_eq!(caps["pending"], serde_json::json!(["run_0_repetition_1"]));
        let body = trial_body(&caps, "model-a", 0);
        let r = http
            .post(format!("{url}/v1/trials"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 507);
    });
    assert_eq!(server.stats.attempts(), before);
}
