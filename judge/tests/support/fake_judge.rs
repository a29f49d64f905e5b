//! An in-process OpenAI-compatible judge server for tests and the throughput benchmark. It
//! answers the relevancy and correctness rubrics deterministically and misbehaves on request,
//! steered by markers inside the answer being judged:
//!
//! - `[malformed]`: every answer is invalid JSON; `[malformed-once]`: only the first;
//! - `[429-once]`, `[500-once]`: the first request about this answer gets that status;
//!   `[500-always]`: every one does;
//! - `[slow]`: the answer comes after `Config::slow_ms`.
//!
//! Statements are the answer's sentences (markers removed); a statement's verdict is `no` when
//! it contains "irrelevant", `idk` when it contains "maybe", else `yes`. A correctness grade is
//! `correct` when the answer's first word equals the reference's. Every request is counted.

#![allow(dead_code)]

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the fake behaves beyond the markers.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Answer 400 to `response_format: json_schema` (as servers without schema support do).
    pub reject_json_schema: bool,
    /// Delay of `[slow]` answers, ms.
    pub slow_ms: u64,
    /// Delay of every answer, ms.
    pub delay_ms: u64,
}

/// What the fake saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// HTTP requests received.
    pub requests: AtomicUsize,
    /// Requests per step (`statements`, `verdicts`, `correctness`).
    pub per_step: Mutex<HashMap<String, usize>>,
    /// Requests per (step, answer).
    pub per_answer: Mutex<HashMap<(String, String), usize>>,
    /// `Authorization` headers received.
    pub auth: Mutex<Vec<String>>,
    /// `response_format.type` of every request (`none` without one).
    pub formats: Mutex<Vec<String>>,
}

impl Seen {
    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Requests of one step.
    pub fn step(&self, step: &str) -> usize {
        self.per_step
            .lock()
            .expect("lock")
            .get(step)
            .copied()
            .unwrap_or(0)
    }
}

struct Shared {
    config: Config,
    seen: Arc<Seen>,
}

/// A running fake; stops on drop.
pub struct FakeJudge {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// What it saw.
    pub seen: Arc<Seen>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FakeJudge {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts a fake on a free loopback port.
pub fn start(config: Config) -> FakeJudge {
    start_on("127.0.0.1:0", config)
}

/// Starts a fake on `addr` (loopback).
pub fn start_on(addr: &str, config: Config) -> FakeJudge {
    let listener = std::net::TcpListener::bind(addr).expect("bind the fake judge");
    listener.set_nonblocking(true).expect("non-blocking");
    let port = listener.local_addr().expect("address").port();
    let seen = Arc::new(Seen::default());
    let shared = Arc::new(Shared {
        config,
        seen: seen.clone(),
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            let app = Router::new()
                .route("/v1/chat/completions", post(complete))
                .with_state(shared);
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
    });
    FakeJudge {
        base_url: format!("http://127.0.0.1:{port}"),
        seen,
        shutdown: Some(tx),
        thread: Some(thread),
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.rfind(start).map_or(0, |i| i + start.len());
    let rest = &text[from..];
    let to = rest.find(end).unwrap_or(rest.len());
    &rest[..to]
}

fn strip_markers(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        match rest[open..].find(']') {
            Some(close) => rest = &rest[open + close + 1..],
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn reply(content: &str, prompt_len: usize) -> Response {
    let body = json!({
        "id": "fake",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_len / 4, "completion_tokens": content.len() / 4 + 1},
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

async fn complete(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    let seen = &shared.seen;
    seen.requests.fetch_add(1, Ordering::SeqCst);
    if let Some(a) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        seen.auth.lock().expect("lock").push(a.to_string());
    }
    let Ok(req) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "body is not JSON").into_response();
    };
    let format = req["response_format"]["type"]
        .as_str()
        .unwrap_or("none")
        .to_string();
    seen.formats.lock().expect("lock").push(format.clone());
    if shared.config.reject_json_schema && format == "json_schema" {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": {"message": "response_format json_schema is not supported"}})),
        )
            .into_response();
    }
    let messages = req["messages"].as_array().cloned().unwrap_or_default();
    // The rubric's prompt is the first user message; a repair request follows it.
    let user = messages
        .iter()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string();
    let step = if user.contains("Reference answer:") {
        "correctness"
    } else if user.contains("\"verdicts\"") {
        "verdicts"
    } else {
        "statements"
    };
    let answer = match step {
        "correctness" => between(&user, "Answer to grade:\n", "\n\nIs the answer correct"),
        "verdicts" => between(&user, "\nStatements:\n", "\n\nJSON:"),
        _ => between(&user, "\nText:\n", "\n\nJSON:"),
    }
    .to_string();
    *seen
        .per_step
        .lock()
        .expect("lock")
        .entry(step.to_string())
        .or_default() += 1;
    let nth = {
        let mut per = seen.per_answer.lock().expect("lock");
        let n = per.entry((step.to_string(), answer.clone())).or_default();
        *n += 1;
        *n
    };
    let delay = shared.config.delay_ms
        + if answer.contains("[slow]") {
            shared.config.slow_ms
        } else {
            0
        };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if answer.contains("[500-always]") || (answer.contains("[500-once]") && nth == 1) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response();
    }
    if answer.contains("[429-once]") && nth == 1 {
        return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")], "slow down").into_response();
    }
    if answer.contains("[malformed]") || (answer.contains("[malformed-once]") && nth == 1) {
        return reply("{\"statements\": [\"unterminated", user.len());
    }
    let content = match step {
        "statements" => {
            let clean = strip_markers(&answer);
            let statements: Vec<String> = clean
                .split_inclusive(['.', '!', '?'])
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            json!({"statements": statements}).to_string()
        }
        "verdicts" => {
            let statements: Vec<String> = serde_json::from_str(&answer).unwrap_or_default();
            let verdicts: Vec<Value> = statements
                .iter()
                .map(|s| {
                    if s.contains("irrelevant") {
                        json!({"verdict": "no", "reason": format!("'{s}' does not address the question")})
                    } else if s.contains("maybe") {
                        json!({"verdict": "idk", "reason": ""})
                    } else {
                        json!({"verdict": "yes", "reason": ""})
                    }
                })
                .collect();
            json!({"verdicts": verdicts}).to_string()
        }
        _ => {
            let reference = between(&user, "Reference answer: ", "\n");
            let first = |s: &str| {
                strip_markers(s)
                    .split(|c: char| !c.is_alphanumeric())
                    .find(|w| !w.is_empty())
                    .unwrap_or_default()
                    .to_lowercase()
            };
            let correct = first(&answer) == first(reference);
            json!({"correct": correct, "reason": if correct { "Same decision." } else { "Different decision." }})
                .to_string()
        }
    };
    reply(&content, user.len())
}
