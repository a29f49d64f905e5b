//! The fake server over real HTTP: the default answer is the deterministic token stream, a
//! plugged-in responder decides answers and errors, and the script's options (a refused
//! `json_schema`) and records (auth headers, response formats) hold whatever the responder.

#![cfg(feature = "fake")]
#![allow(clippy::unwrap_used)]

use endpoint::fake::{ChatRequest, FakeScript, FakeServer, Reply, Responder, Tokens, answer};
use serde_json::{Value, json};
use std::sync::Arc;

async fn post(server: &FakeServer, body: Value, key: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", server.base_url))
        .json(&body);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn the_default_answer_is_the_token_stream_of_the_prompt_and_seed() {
    let script = FakeScript::default();
    let server = FakeServer::spawn(script.clone()).unwrap();
    let body =
        json!({"model": "fake-model", "seed": 7, "messages": [{"role": "user", "content": "Is water wet?"}]});
    let reply: Value = post(&server, body, None).await.json().await.unwrap();
    let (tokens, finish) = answer(Tokens::of(&script), "Is water wet?", 7, u32::MAX);
    assert_eq!(reply["choices"][0]["message"]["content"], tokens.concat());
    assert_eq!(reply["choices"][0]["finish_reason"], finish);
    assert_eq!(reply["usage"]["completion_tokens"], tokens.len());
    assert_eq!(server.stats.attempts(), 1);
    assert_eq!(server.stats.formats(), ["none"]);
}

#[derive(Debug)]
struct Scripted;

impl Responder for Scripted {
    fn respond(&self, request: &ChatRequest<'_>) -> Reply {
        if request.attempt == 1 {
            Reply::error(429, "slow down").with_retry_after(3)
        } else {
            Reply::text(format!("{} said: {}", request.model, request.prompt))
        }
    }
}

#[tokio::test]
async fn a_responder_decides_answers_and_errors_and_the_script_refuses_json_schema() {
    let script = FakeScript {
        reject_json_schema: true,
        ..FakeScript::default()
    };
    let server = FakeServer::spawn_with(script, Some(Arc::new(Scripted)), 0).unwrap();
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let first = post(&server, body.clone(), Some("sk-1")).await;
    assert_eq!(first.status(), 429);
    assert_eq!(first.headers()["retry-after"], "3");
    let second: Value = post(&server, body.clone(), None).await.json().await.unwrap();
    assert_eq!(second["choices"][0]["message"]["content"], "m said: hi");
    let mut schema = body;
    schema["response_format"] = json!({"type": "json_schema", "json_schema": {}});
    let refused = post(&server, schema, Some("sk-2")).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(server.stats.attempts(), 3);
    assert_eq!(server.stats.auth(), ["Bearer sk-1", "Bearer sk-2"]);
    assert_eq!(server.stats.formats(), ["none", "none", "json_schema"]);
}
