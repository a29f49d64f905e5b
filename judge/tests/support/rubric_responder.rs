//! The fake judge of the tests and the throughput benchmark: the `endpoint` crate's fake
//! server with a responder that answers the relevancy and correctness rubrics
//! deterministically and misbehaves on request, steered by markers inside the answer being
//! judged:
//!
//! - `[malformed]`: every answer is invalid JSON; `[malformed-once]`: only the first;
//! - `[429-once]`, `[500-once]`: the first request about this answer gets that status;
//!   `[500-always]`: every one does;
//! - `[slow]`: the answer comes after `Config::slow_ms`.
//!
//! Statements are the answer's sentences (markers removed); a statement's verdict is `no` when
//! it contains "irrelevant", `idk` when it contains "maybe", else `yes`. A correctness grade is
//! `correct` when the answer's first word equals the reference's. Every request is counted,
//! per step and per answer too.

#![allow(dead_code)]

use endpoint::fake::{ChatRequest, FakeScript, FakeServer, Reply, Responder, Stats};
use serde_json::{Value, json};
use std::collections::HashMap;
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

/// The rubric responder: what it answers and what it counted.
#[derive(Debug, Default)]
pub struct Rubrics {
    delay_ms: u64,
    slow_ms: u64,
    /// Requests per step (`statements`, `verdicts`, `correctness`).
    per_step: Mutex<HashMap<String, usize>>,
    /// Requests per (step, answer).
    per_answer: Mutex<HashMap<(String, String), usize>>,
}

/// What a running fake saw.
#[derive(Debug)]
pub struct Seen {
    stats: Arc<Stats>,
    rubrics: Arc<Rubrics>,
}

impl Seen {
    /// HTTP requests received so far.
    pub fn requests(&self) -> usize {
        self.stats.attempts() as usize
    }

    /// Requests of one step.
    pub fn step(&self, step: &str) -> usize {
        self.rubrics
            .per_step
            .lock()
            .expect("lock")
            .get(step)
            .copied()
            .unwrap_or(0)
    }

    /// Requests per (step, answer).
    pub fn per_answer(&self) -> HashMap<(String, String), usize> {
        self.rubrics.per_answer.lock().expect("lock").clone()
    }

    /// `Authorization` headers received.
    pub fn auth(&self) -> Vec<String> {
        self.stats.auth()
    }

    /// `response_format.type` of every request (`none` without one).
    pub fn formats(&self) -> Vec<String> {
        self.stats.formats()
    }
}

/// A running fake judge; stops on drop.
#[derive(Debug)]
pub struct FakeJudge {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// What it saw.
    pub seen: Seen,
    _server: FakeServer,
}

/// Starts a fake judge on a free loopback port.
pub fn fake_judge(config: Config) -> FakeJudge {
    fake_judge_on(0, config)
}

/// Starts a fake judge on `127.0.0.1:<port>` (a free one when 0).
pub fn fake_judge_on(port: u16, config: Config) -> FakeJudge {
    let rubrics = Arc::new(Rubrics {
        delay_ms: config.delay_ms,
        slow_ms: config.slow_ms,
        ..Rubrics::default()
    });
    // The delays are the responder's, so that they hold for its errors too.
    let script = FakeScript {
        first_token_delay: Duration::ZERO,
        token_delay: Duration::ZERO,
        reject_json_schema: config.reject_json_schema,
        ..FakeScript::default()
    };
    let server = FakeServer::spawn_with(script, Some(rubrics.clone()), port).expect("start the fake judge");
    FakeJudge {
        base_url: server.base_url.clone(),
        seen: Seen {
            stats: server.stats.clone(),
            rubrics,
        },
        _server: server,
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

impl Responder for Rubrics {
    fn respond(&self, request: &ChatRequest<'_>) -> Reply {
        let messages = request.body["messages"].as_array().cloned().unwrap_or_default();
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
        *self
            .per_step
            .lock()
            .expect("lock")
            .entry(step.to_string())
            .or_default() += 1;
        let nth = {
            let mut per = self.per_answer.lock().expect("lock");
            let n = per.entry((step.to_string(), answer.clone())).or_default();
            *n += 1;
            *n
        };
        let slow = if answer.contains("[slow]") {
            self.slow_ms
        } else {
            0
        };
        let delay = Duration::from_millis(self.delay_ms + slow);
        let reply = if answer.contains("[500-always]") || (answer.contains("[500-once]") && nth == 1) {
            Reply::error(500, "boom")
        } else if answer.contains("[429-once]") && nth == 1 {
            Reply::error(429, "slow down").with_retry_after(0)
        } else if answer.contains("[malformed]") || (answer.contains("[malformed-once]") && nth == 1) {
            Reply::text("{\"statements\": [\"unterminated")
        } else {
            Reply::text(content(step, &answer, &user))
        };
        reply.after(delay)
    }
}

/// The rubric's answer about `answer`.
fn content(step: &str, answer: &str, user: &str) -> String {
    match step {
        "statements" => {
            let clean = strip_markers(answer);
            let statements: Vec<String> = clean
                .split_inclusive(['.', '!', '?'])
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            json!({"statements": statements}).to_string()
        }
        "verdicts" => {
            let statements: Vec<String> = serde_json::from_str(answer).unwrap_or_default();
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
            let reference = between(user, "Reference answer: ", "\n");
            let first = |s: &str| {
                strip_markers(s)
                    .split(|c: char| !c.is_alphanumeric())
                    .find(|w| !w.is_empty())
                    .unwrap_or_default()
                    .to_lowercase()
            };
            let correct = first(answer) == first(reference);
            json!({"correct": correct, "reason": if correct { "Same decision." } else { "Different decision." }})
                .to_string()
        }
    }
}
