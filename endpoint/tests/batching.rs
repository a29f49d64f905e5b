//! The fake server's batching mode over real HTTP: requests in flight together share forward
//! steps, the answers are the same tokens as without batching, the energy ledger conserves
//! (requests' true energies + idle = the counter), `/fake/energy` answers the counter on the
//! epoch-millisecond clock, and `/metrics` reports what runs and what waits.

#![cfg(feature = "fake")]
#![allow(clippy::unwrap_used)] // a panic is a failed test

use endpoint::fake::{BatchModel, FakeScript, FakeServer, Tokens, answer};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

fn batching() -> FakeScript {
    FakeScript {
        tokens_min: 6,
        tokens_max: 12,
        metrics: true,
        batching: Some(BatchModel::default()),
        ..FakeScript::default()
    }
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

async fn chat(base: &str, prompt: &str, stream: bool) -> String {
    let body = json!({"model": "fake-model", "seed": 3, "stream": stream,
        "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": prompt}]});
    reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn energy(base: &str, query: &str) -> reqwest::Response {
    reqwest::get(format!("{base}/fake/energy{query}")).await.unwrap()
}

#[tokio::test]
async fn requests_in_flight_together_share_steps_and_the_ledger_conserves_energy() {
    let script = batching();
    let server = FakeServer::spawn(script.clone()).unwrap();
    let t0 = now_ms();
    let prompts: Vec<String> = (0..12)
        .map(|i| format!("prompt {i} with some words in it"))
        .collect();
    let answers =
        futures_util::future::join_all(prompts.iter().map(|p| chat(&server.base_url, p, true))).await;
    let t1 = now_ms() + 5.0;
    for (p, text) in prompts.iter().zip(&answers) {
        let (tokens, _) = answer(Tokens::of(&script), p, 3, u32::MAX);
        let streamed: String = text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter_map(|v| {
                v.pointer("/choices/0/delta/content")
                    .and_then(Value::as_str)
                    .map(String::from)
            })
            .collect();
        assert_eq!(streamed, tokens.concat());
        assert!(text.contains("\"usage\"") && text.ends_with("data: [DONE]\n\n"));
    }
    let ledger = server.stats.request_energy();
    assert_eq!(ledger.len(), 12);
    assert!(
        ledger
            .iter()
            .all(|e| e.complete && e.prefill_j > 0.0 && e.decode_j > 0.0)
    );
    assert!(
        ledger
            .iter()
            .all(|e| e.prompt_tokens == 7 && e.first_token_ms.is_some())
    );
    // The requests overlapped: they were served by shared steps, so together they took far less
    // time than half of one after the other (6 to 12 steps of at least 8 ms each).
    let first = ledger.iter().map(|e| e.arrived_ms).fold(f64::INFINITY, f64::min);
    let last = ledger.iter().filter_map(|e| e.end_ms).fold(0.0, f64::max);
    let steps_alone: u64 = ledger.iter().map(|e| e.generated_tokens).sum();
    assert!(
        last - first < steps_alone as f64 * 8.0 / 2.0,
        "{} ms",
        last - first
    );
    // Conservation: the counter over the run = the requests' true energy + idle power outside
    // steps, which is at least idle power × the idle time and at most the counter.
    let at = |t: f64| server.stats.energy_at(t).unwrap().energy_mj / 1000.0;
    let counter_j = at(t1) - at(t0);
    let requests_j: f64 = ledger.iter().map(|e| e.energy_j()).sum();
    let idle_w = BatchModel::default().idle_w;
    assert!(requests_j < counter_j, "{requests_j} vs {counter_j}");
    let busy_s = (last - first) / 1000.0;
    let idle_j = counter_j - requests_j;
    assert!(
        (idle_j - idle_w * ((t1 - t0) / 1000.0 - busy_s)).abs() < 0.05 * counter_j,
        "idle {idle_j} J over {} s busy of {} s",
        busy_s,
        (t1 - t0) / 1000.0
    );
}

#[tokio::test]
async fn the_energy_route_answers_the_counter_and_refuses_bad_times() {
    let server = FakeServer::spawn(batching()).unwrap();
    let now = now_ms();
    let r: Value = energy(&server.base_url, &format!("?at_ms={now}"))
        .await
        .json()
        .await
        .unwrap();
    // Idle since it started: the counter grows at idle power, and keeps growing ahead of now.
    assert_eq!(r["power_mw"], 60_000.0);
    assert_eq!(r["batch"], 0);
    let ahead: Value = energy(&server.base_url, &format!("?at_ms={}", now + 1000.0))
        .await
        .json()
        .await
        .unwrap();
    let grown = ahead["energy_mj"].as_f64().unwrap() - r["energy_mj"].as_f64().unwrap();
    assert!((grown - 60_000.0).abs() < 1e-6, "{grown}");
    assert_eq!(energy(&server.base_url, "?at_ms=soon").await.status(), 400);
    assert_eq!(energy(&server.base_url, "?at_ms=1000").await.status(), 404);
    // Without batching there is no ledger.
    let plain = FakeServer::spawn(FakeScript::default()).unwrap();
    assert_eq!(energy(&plain.base_url, "").await.status(), 404);
    assert!(plain.stats.request_energy().is_empty());
}

#[tokio::test]
async fn metrics_report_requests_running_in_a_step_and_waiting_beyond_the_batch() {
    let server = FakeServer::spawn(FakeScript {
        batching: Some(BatchModel {
            max_batch: 2,
            ..BatchModel::default()
        }),
        ..batching()
    })
    .unwrap();
    let http = reqwest::Client::new();
    let gauges = |text: &str| -> (f64, f64) {
        let gauge = |name: &str| -> f64 {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse().ok())
                .unwrap()
        };
        (
            gauge("vllm:num_requests_running"),
            gauge("vllm:num_requests_waiting"),
        )
    };
    let scrape = || async {
        let text = http
            .get(format!("{}/metrics", server.base_url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        gauges(&text)
    };
    assert_eq!(scrape().await, (0.0, 0.0));
    let base = server.base_url.clone();
    let load = tokio::spawn(async move {
        let p: Vec<String> = (0..5).map(|i| format!("q{i}")).collect();
        futures_util::future::join_all(p.iter().map(|p| chat(&base, p, false))).await
    });
    // Five requests, two at a time: while they run the batch is full and the rest wait.
    let (mut most_running, mut most_waiting) = (0.0_f64, 0.0_f64);
    while !load.is_finished() {
        let (running, waiting) = scrape().await;
        most_running = most_running.max(running);
        most_waiting = most_waiting.max(waiting);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let answers = load.await.unwrap();
    assert!(answers.iter().all(|a| a.contains("chat.completion")));
    assert_eq!(most_running, 2.0);
    assert!(most_waiting >= 1.0, "{most_waiting}");
    assert_eq!(scrape().await, (0.0, 0.0));
    assert_eq!(server.stats.request_energy().len(), 5);
}
