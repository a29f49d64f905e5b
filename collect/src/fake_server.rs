//! An in-process OpenAI-compatible server for `collect --demo` and the tests: `GET /v1/models`,
//! `GET /health`, and `POST /v1/chat/completions`, streaming (server-sent events, with a final
//! `usage` chunk when `stream_options.include_usage` is set) or not. Answers are deterministic
//! (a function of the prompt and the seed), and faults are scripted by attempt number: HTTP 500,
//! HTTP 429, a stream dropped halfway, slow tokens, a missing `usage`. It listens on 127.0.0.1
//! only, on a port the OS picks.

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What the server does.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeScript {
    /// Model ids listed by `/v1/models` (requests for other names are served too, like
    /// llama-server does).
    pub models: Vec<String>,
    /// Fewest tokens per answer.
    pub tokens_min: u32,
    /// Most tokens per answer (before `max_tokens`).
    pub tokens_max: u32,
    /// Delay before the first token.
    pub first_token_delay: Duration,
    /// Delay between tokens.
    pub token_delay: Duration,
    /// Every N-th attempt (counting all requests from 1) answers HTTP 500.
    pub fail_every: Option<u64>,
    /// Every N-th attempt answers HTTP 429.
    pub too_many_every: Option<u64>,
    /// Every N-th attempt drops its stream after half its tokens.
    pub drop_every: Option<u64>,
    /// Never send `usage`.
    pub no_usage: bool,
    /// Every request for this model answers HTTP 500 (a trial that keeps failing).
    pub broken_model: Option<String>,
}

impl Default for FakeScript {
    fn default() -> Self {
        Self {
            models: vec!["fake-model".into()],
            tokens_min: 4,
            tokens_max: 24,
            first_token_delay: Duration::from_millis(2),
            token_delay: Duration::from_millis(1),
            fail_every: None,
            too_many_every: None,
            drop_every: None,
            no_usage: false,
            broken_model: None,
        }
    }
}

/// What the server has done so far.
#[derive(Debug, Default)]
pub struct Stats {
    /// Chat completion requests received.
    pub attempts: AtomicU64,
    /// Requests answered completely.
    pub completed: AtomicU64,
    /// Completion tokens of the complete answers.
    pub completion_tokens: AtomicU64,
    /// Prompt tokens of the complete answers.
    pub prompt_tokens: AtomicU64,
}

#[derive(Debug)]
struct AppState {
    script: FakeScript,
    stats: Arc<Stats>,
}

const WORDS: [&str; 16] = [
    "the", "answer", "is", "True", "because", "the", "premise", "supports", "it", "and", "so", "we",
    "choose", "option", "one", "here",
];

fn hash(text: &str, seed: i64) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(text.as_bytes(), seed as u64)
}

/// The answer the server gives: its tokens and finish reason.
pub fn answer(script: &FakeScript, prompt: &str, seed: i64, max_tokens: u32) -> (Vec<String>, &'static str) {
    let h = hash(prompt, seed);
    let span = u64::from(script.tokens_max.saturating_sub(script.tokens_min)) + 1;
    let wanted = script.tokens_min + (h % span) as u32;
    let n = wanted.min(max_tokens);
    let tokens = (0..n)
        .map(|i| {
            let w = WORDS[((h >> (i % 60)) as usize + i as usize) % WORDS.len()];
            if i == 0 { w.to_string() } else { format!(" {w}") }
        })
        .collect();
    (tokens, if n < wanted { "length" } else { "stop" })
}

fn server_header() -> HeaderValue {
    HeaderValue::from_static(concat!("collect-fake-server/", env!("CARGO_PKG_VERSION")))
}

async fn models(State(st): State<Arc<AppState>>) -> Response {
    let data: Vec<serde_json::Value> = st
        .script
        .models
        .iter()
        .map(|m| serde_json::json!({"id": m, "object": "model", "owned_by": "collect-fake-server"}))
        .collect();
    let mut r = axum::Json(serde_json::json!({"object": "list", "data": data})).into_response();
    r.headers_mut().insert(header::SERVER, server_header());
    r
}

fn error(status: StatusCode, msg: &str) -> Response {
    let mut r = (
        status,
        axum::Json(serde_json::json!({"error": {"message": msg, "code": status.as_u16()}})),
    )
        .into_response();
    r.headers_mut().insert(header::SERVER, server_header());
    r
}

fn chunk_json(model: &str, delta: serde_json::Value, finish: Option<&str>) -> String {
    let v = serde_json::json!({
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    });
    format!("data: {v}\n\n")
}

async fn chat(State(st): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    let attempt = st.stats.attempts.fetch_add(1, Ordering::SeqCst) + 1;
    let Ok(req) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "body is not JSON");
    };
    let Some(model) = req.get("model").and_then(|m| m.as_str()).map(str::to_string) else {
        return error(StatusCode::BAD_REQUEST, "missing `model`");
    };
    let s = &st.script;
    let every = |n: Option<u64>| n.is_some_and(|n| n > 0 && attempt.is_multiple_of(n));
    if s.broken_model.as_deref() == Some(model.as_str()) || every(s.fail_every) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "scripted failure");
    }
    if every(s.too_many_every) {
        return error(StatusCode::TOO_MANY_REQUESTS, "scripted rate limit");
    }
    let prompt: String = req
        .get("messages")
        .and_then(|m| m.as_array())
        .map(|msgs| {
            msgs.iter()
                .filter_map(|m| m.get("content").and_then(|c| c.as_str()))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let seed = req.get("seed").and_then(serde_json::Value::as_i64).unwrap_or(0);
    let max_tokens = req
        .get("max_tokens")
        .and_then(serde_json::Value::as_u64)
        .map_or(u32::MAX, |m| m.min(u64::from(u32::MAX)) as u32);
    let (tokens, finish) = answer(s, &prompt, seed, max_tokens);
    let prompt_tokens = prompt.split_whitespace().count() as u64;
    let usage = serde_json::json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": tokens.len(),
        "total_tokens": prompt_tokens + tokens.len() as u64,
    });
    let stream = req
        .get("stream")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let include_usage = !s.no_usage
        && req
            .pointer("/stream_options/include_usage")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
    if !stream {
        tokio::time::sleep(s.first_token_delay + s.token_delay * tokens.len() as u32).await;
        st.stats.completed.fetch_add(1, Ordering::SeqCst);
        st.stats
            .completion_tokens
            .fetch_add(tokens.len() as u64, Ordering::SeqCst);
        st.stats.prompt_tokens.fetch_add(prompt_tokens, Ordering::SeqCst);
        let mut v = serde_json::json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": tokens.concat()}, "finish_reason": finish}],
        });
        if !s.no_usage {
            v["usage"] = usage;
        }
        let mut r = axum::Json(v).into_response();
        r.headers_mut().insert(header::SERVER, server_header());
        return r;
    }
    let drop_at = every(s.drop_every).then_some(tokens.len() / 2);
    let mut events: Vec<(Duration, Option<String>)> = Vec::new();
    events.push((
        Duration::ZERO,
        Some(chunk_json(
            &model,
            serde_json::json!({"role": "assistant", "content": ""}),
            None,
        )),
    ));
    for (i, t) in tokens.iter().enumerate() {
        if drop_at == Some(i) {
            events.push((Duration::ZERO, None));
            break;
        }
        let delay = if i == 0 {
            s.first_token_delay
        } else {
            s.token_delay
        };
        events.push((
            delay,
            Some(chunk_json(&model, serde_json::json!({"content": t}), None)),
        ));
    }
    if drop_at.is_none() || drop_at == Some(tokens.len()) {
        if drop_at == Some(tokens.len()) {
            events.push((Duration::ZERO, None));
        } else {
            events.push((
                Duration::ZERO,
                Some(chunk_json(&model, serde_json::json!({}), Some(finish))),
            ));
            if include_usage {
                let v = serde_json::json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
                    "model": model, "choices": [], "usage": usage});
                events.push((Duration::ZERO, Some(format!("data: {v}\n\n"))));
            }
            events.push((Duration::ZERO, Some("data: [DONE]\n\n".to_string())));
        }
    }
    let complete = drop_at.is_none();
    let stats = st.stats.clone();
    let n_tokens = tokens.len() as u64;
    let total = events.len();
    let body = futures_util::stream::unfold((events.into_iter(), 0usize), move |(mut it, i)| {
        let stats = stats.clone();
        async move {
            let (delay, item) = it.next()?;
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if complete && i + 1 == total {
                stats.completed.fetch_add(1, Ordering::SeqCst);
                stats.completion_tokens.fetch_add(n_tokens, Ordering::SeqCst);
                stats.prompt_tokens.fetch_add(prompt_tokens, Ordering::SeqCst);
            }
            let item = item.ok_or_else(|| std::io::Error::other("scripted dropped stream"));
            Some((item, (it, i + 1)))
        }
    });
    let mut r = Response::new(Body::from_stream(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut().insert(header::SERVER, server_header());
    r
}

/// Serves `router` on `listener` with TCP_NODELAY on every connection (a streamed token is a
/// small write; without it Nagle's algorithm and delayed ACKs add ~40 ms stalls), until
/// `shutdown` resolves.
async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/models", get(models))
        .route("/health", get(|| async { "ok" }))
        .route("/v1/chat/completions", post(chat))
        .with_state(state)
}

/// Serves on `127.0.0.1:<port>` until the process is killed (`collect fake-server`).
pub async fn serve_forever(script: FakeScript, port: u16) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("fake server: cannot bind 127.0.0.1:{port}"))?;
    let state = Arc::new(AppState {
        script,
        stats: Arc::new(Stats::default()),
    });
    serve(listener, state, std::future::pending())
        .await
        .context("fake server failed")
}

/// A running fake server; stops when dropped.
#[derive(Debug)]
pub struct FakeServer {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// What it has done.
    pub stats: Arc<Stats>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeServer {
    /// Starts the server as a task of the current tokio runtime.
    pub async fn start(script: FakeScript) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("fake server: cannot bind 127.0.0.1")?;
        Self::serve_on(listener, script, None)
    }

    /// Starts the server on its own thread and runtime (for callers without one, such as tests
    /// that drive the `collect` binary).
    pub fn spawn(script: FakeScript) -> Result<Self> {
        let std_listener =
            std::net::TcpListener::bind("127.0.0.1:0").context("fake server: cannot bind 127.0.0.1")?;
        std_listener.set_nonblocking(true)?;
        let port = std_listener.local_addr()?.port();
        let stats = Arc::new(Stats::default());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::new(AppState {
            script,
            stats: stats.clone(),
        });
        let thread = std::thread::Builder::new()
            .name("fake-server".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                    return;
                };
                rt.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) else {
                        return;
                    };
                    let _ = serve(listener, state, async {
                        let _ = rx.await;
                    })
                    .await;
                });
            })
            .context("fake server: cannot start its thread")?;
        Ok(Self {
            base_url: format!("http://127.0.0.1:{port}"),
            stats,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    fn serve_on(
        listener: tokio::net::TcpListener,
        script: FakeScript,
        thread: Option<std::thread::JoinHandle<()>>,
    ) -> Result<Self> {
        let port = listener.local_addr()?.port();
        let stats = Arc::new(Stats::default());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::new(AppState {
            script,
            stats: stats.clone(),
        });
        tokio::spawn(async move {
            let _ = serve(listener, state, async {
                let _ = rx.await;
            })
            .await;
        });
        Ok(Self {
            base_url: format!("http://127.0.0.1:{port}"),
            stats,
            shutdown: Some(tx),
            thread,
        })
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // The thread is left to finish on its own: a client may still hold a connection, and a
        // test must not hang on it.
        drop(self.thread.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_deterministic_and_respect_max_tokens() {
        let s = FakeScript::default();
        let (a, fa) = answer(&s, "hello", 1, 1000);
        let (b, _) = answer(&s, "hello", 1, 1000);
        assert_eq!(a, b);
        assert_eq!(fa, "stop");
        assert!(a.len() >= 4 && a.len() <= 24);
        let (c, fc) = answer(&s, "hello", 1, 2);
        assert_eq!(c.len(), 2);
        assert_eq!(fc, "length");
    }
}
