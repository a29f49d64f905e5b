//! An in-process OpenAI-compatible server for `collect --demo`, the hidden `collect
//! fake-server`, and the tests and benchmarks of `collect` and `judge`: `GET /v1/models`,
//! `GET /health`, and `POST /v1/chat/completions`, streaming (server-sent events, with a final
//! `usage` chunk when `stream_options.include_usage` is set) or not. It listens on 127.0.0.1
//! only, on a port the OS picks unless told one.
//!
//! What an answer says is up to a [`Responder`]: by default [`Tokens`], a deterministic token
//! stream (a function of the prompt and the seed); `judge`'s tests plug in one that answers
//! their rubrics. What goes wrong is scripted in [`FakeScript`] by attempt number (HTTP 500,
//! HTTP 429, a stream dropped halfway, slow tokens, a missing `usage`, a refused `json_schema`
//! response format) or decided by the responder per request.
//!
//! With [`FakeScript::batching`] set, the server behaves like a continuous-batching server
//! instead of answering each request on its own timer: one scheduler runs forward steps over
//! every request in flight (prefill for the newly arrived, one token each for the others), with
//! a step time that grows sub-linearly with the batch and a power that rises with it
//! ([`BatchModel`], formulas in `batch.rs`). It keeps an exact energy ledger: the cumulative
//! energy counter at any time (`GET /fake/energy?at_ms=T`, mJ and W, on `collect`'s clock;
//! what `collect`'s `fake` energy source follows when it finds the route) and each request's
//! true energy, prefill and decode apart ([`Stats::request_energy`]), which the end-to-end
//! attribution test compares with what `collect` and the accounting make of the samples.
//! `/metrics` then reports the requests running in the step and those waiting for one. The
//! script's token delays are not used in that mode; its faults are.

mod batch;
mod http;
mod tokens;

pub use batch::{BatchModel, EnergyReading, RequestEnergy};
pub use tokens::{Tokens, answer};

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What the server does.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeScript {
    /// Model ids listed by `/v1/models` (requests for other names are served too, like
    /// llama-server does).
    pub models: Vec<String>,
    /// Fewest tokens per answer of the default responder.
    pub tokens_min: u32,
    /// Most tokens per answer of the default responder (before `max_tokens`).
    pub tokens_max: u32,
    /// Delay before the first token (for a whole answer when not streaming).
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
    /// Answer HTTP 400 to `response_format: json_schema`, as servers without schema support do.
    pub reject_json_schema: bool,
    /// Serve Prometheus metrics at `/metrics` as vLLM names them (requests running, prefix
    /// cache queries and hits, a histogram); otherwise `/metrics` is 404.
    pub metrics: bool,
    /// Serve as a continuous-batching server with this cost model and keep its energy ledger
    /// (`/fake/energy`); `None` answers each request on its own timer (`first_token_delay`,
    /// `token_delay`).
    pub batching: Option<BatchModel>,
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
            reject_json_schema: false,
            metrics: false,
            batching: None,
        }
    }
}

/// How many `Authorization` headers and response formats [`Stats`] keeps: enough for any
/// test, bounded for a server left running under a benchmark.
const RECORDED_MAX: usize = 10_000;

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
    /// Scrapes of `/metrics`.
    pub scrapes: AtomicU64,
    auth: Mutex<Vec<String>>,
    formats: Mutex<Vec<String>>,
    ledger: Mutex<batch::Ledger>,
}

impl Stats {
    /// Chat completion requests received so far.
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::SeqCst)
    }

    /// The `Authorization` headers received, in order (the first [`RECORDED_MAX`]).
    pub fn auth(&self) -> Vec<String> {
        self.auth.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The `response_format.type` of every request that had a JSON body (`none` without
    /// one), in order (the first [`RECORDED_MAX`]).
    pub fn formats(&self) -> Vec<String> {
        self.formats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// In batching mode, every request's true energy so far (the first [`RECORDED_MAX`]), in
    /// the order they arrived; empty otherwise.
    pub fn request_energy(&self) -> Vec<RequestEnergy> {
        self.ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .requests()
    }

    /// In batching mode, the energy counter at `at_ms` (ms since the Unix epoch; past the
    /// latest step, the current power extrapolated); None otherwise or before the server
    /// started.
    pub fn energy_at(&self, at_ms: f64) -> Option<EnergyReading> {
        self.ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .energy_at(at_ms)
    }

    fn record(list: &Mutex<Vec<String>>, value: &str) {
        let mut list = list.lock().unwrap_or_else(PoisonError::into_inner);
        if list.len() < RECORDED_MAX {
            list.push(value.to_string());
        }
    }
}

/// One chat completion request, as a [`Responder`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct ChatRequest<'a> {
    /// The request body.
    pub body: &'a serde_json::Value,
    /// Its `model`.
    pub model: &'a str,
    /// The text of all its messages, joined by newlines.
    pub prompt: &'a str,
    /// Its attempt number, counting every chat request since the server started from 1.
    pub attempt: u64,
}

impl ChatRequest<'_> {
    /// The request's `seed` (0 without one).
    pub fn seed(&self) -> i64 {
        self.body
            .get("seed")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0)
    }

    /// The request's `max_tokens` (unbounded without one).
    pub fn max_tokens(&self) -> u32 {
        self.body
            .get("max_tokens")
            .and_then(serde_json::Value::as_u64)
            .map_or(u32::MAX, |m| m.min(u64::from(u32::MAX)) as u32)
    }
}

/// What the server answers one request with.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// A wait before answering, on top of the script's token delays.
    pub delay: Duration,
    /// The answer or the error.
    pub body: ReplyBody,
}

/// The answer or the error of a [`Reply`].
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyBody {
    /// An answer: its tokens (one chunk each when streamed) and its finish reason.
    Tokens {
        /// The answer's tokens; their concatenation is the answer.
        tokens: Vec<String>,
        /// `stop` or `length`.
        finish_reason: &'static str,
    },
    /// An HTTP error with an OpenAI-style JSON error body.
    Error {
        /// The HTTP status.
        status: u16,
        /// The error's message.
        message: String,
        /// A `Retry-After` header, seconds.
        retry_after_s: Option<u64>,
    },
}

impl Reply {
    /// An answer of `tokens`.
    pub fn tokens(tokens: Vec<String>, finish_reason: &'static str) -> Self {
        Self {
            delay: Duration::ZERO,
            body: ReplyBody::Tokens {
                tokens,
                finish_reason,
            },
        }
    }

    /// A whole answer as one token, finished normally.
    pub fn text(content: impl Into<String>) -> Self {
        Self::tokens(vec![content.into()], "stop")
    }

    /// An HTTP error.
    pub fn error(status: u16, message: impl Into<String>) -> Self {
        Self {
            delay: Duration::ZERO,
            body: ReplyBody::Error {
                status,
                message: message.into(),
                retry_after_s: None,
            },
        }
    }

    /// The same reply with a `Retry-After` header (errors only).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        if let ReplyBody::Error { retry_after_s, .. } = &mut self.body {
            *retry_after_s = Some(seconds);
        }
        self
    }

    /// The same reply, after `delay`.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// Decides what the server answers. Called once per chat request that got past the script's
/// faults; it may run concurrently for requests in flight.
pub trait Responder: Send + Sync + std::fmt::Debug + 'static {
    /// The reply to `request`.
    fn respond(&self, request: &ChatRequest<'_>) -> Reply;
}

/// Serves on `127.0.0.1:<port>` with the default responder until the process is killed
/// (`collect fake-server`).
pub async fn serve_forever(script: FakeScript, port: u16) -> io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| context(e, &format!("fake server: cannot bind 127.0.0.1:{port}")))?;
    let state = http::State::new(script, None, Arc::new(Stats::default()));
    http::serve(listener, state, std::future::pending())
        .await
        .map_err(|e| context(e, "fake server failed"))
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
    /// Starts the server with the default responder as a task of the current tokio runtime.
    pub async fn start(script: FakeScript) -> io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| context(e, "fake server: cannot bind 127.0.0.1"))?;
        let port = listener.local_addr()?.port();
        let stats = Arc::new(Stats::default());
        let state = http::State::new(script, None, stats.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = http::serve(listener, state, async {
                let _ = rx.await;
            })
            .await;
        });
        Ok(Self {
            base_url: format!("http://127.0.0.1:{port}"),
            stats,
            shutdown: Some(tx),
            thread: None,
        })
    }

    /// Starts the server with the default responder on its own thread and runtime, on a free
    /// port (for callers without a runtime, such as tests that drive a binary).
    pub fn spawn(script: FakeScript) -> io::Result<Self> {
        Self::spawn_with(script, None, 0)
    }

    /// Starts the server on its own thread and runtime, answering with `responder` (the
    /// default one when `None`), on `127.0.0.1:<port>` (a free port when 0).
    pub fn spawn_with(
        script: FakeScript,
        responder: Option<Arc<dyn Responder>>,
        port: u16,
    ) -> io::Result<Self> {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .map_err(|e| context(e, &format!("fake server: cannot bind 127.0.0.1:{port}")))?;
        std_listener.set_nonblocking(true)?;
        let port = std_listener.local_addr()?.port();
        let stats = Arc::new(Stats::default());
        let state = http::State::new(script, responder, stats.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("fake-server".into())
            .spawn(move || {
                // Two workers, so that a client with many requests in flight (judge's
                // throughput benchmark) does not queue behind one thread.
                let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) else {
                        return;
                    };
                    let _ = http::serve(listener, state, async {
                        let _ = rx.await;
                    })
                    .await;
                });
            })
            .map_err(|e| context(e, "fake server: cannot start its thread"))?;
        Ok(Self {
            base_url: format!("http://127.0.0.1:{port}"),
            stats,
            shutdown: Some(tx),
            thread: Some(thread),
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

/// An I/O error with what was being done in front of it.
fn context(e: io::Error, what: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}
