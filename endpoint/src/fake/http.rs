//! The fake server's HTTP side: its routes, the script's faults, and the rendering of a
//! [`Reply`] as an OpenAI chat completion (one JSON object, or server-sent events), on the
//! script's timers or, in batching mode, as the scheduler's steps produce the tokens; and the
//! batching mode's energy counter, `/fake/energy`.

use super::batch::{self, BatchModel, Job, RequestEnergy};
use super::{ChatRequest, FakeScript, Reply, ReplyBody, Responder, Stats, Tokens};
use axum::Router;
use axum::body::Body;
use axum::extract;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What every handler shares.
#[derive(Debug)]
pub(super) struct State {
    script: FakeScript,
    responder: Arc<dyn Responder>,
    stats: Arc<Stats>,
    /// The batching scheduler's queue (batching mode only).
    jobs: Option<mpsc::UnboundedSender<Job>>,
    /// The scheduler's end of the queue, until [`serve`] starts it.
    scheduler: Mutex<Option<(BatchModel, mpsc::UnboundedReceiver<Job>)>>,
}

impl State {
    /// The state of a server answering with `responder` (the default one when `None`).
    pub(super) fn new(
        script: FakeScript,
        responder: Option<Arc<dyn Responder>>,
        stats: Arc<Stats>,
    ) -> Arc<Self> {
        let responder = responder.unwrap_or_else(|| Arc::new(Tokens::of(&script)));
        let (jobs, scheduler) = match &script.batching {
            Some(model) => {
                let (tx, rx) = mpsc::unbounded_channel();
                stats
                    .ledger
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .start(batch::epoch_ms(Instant::now()), model.idle_w);
                (Some(tx), Some((model.clone(), rx)))
            }
            None => (None, None),
        };
        Arc::new(Self {
            script,
            responder,
            stats,
            jobs,
            scheduler: Mutex::new(scheduler),
        })
    }
}

/// Serves the routes on `listener` with TCP_NODELAY on every connection (a streamed token is a
/// small write; without it Nagle's algorithm and delayed ACKs add ~40 ms stalls), until
/// `shutdown` resolves.
pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let scheduler = state
        .scheduler
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some((model, jobs)) = scheduler {
        tokio::spawn(batch::schedule(model, state.stats.clone(), jobs));
    }
    let router = Router::new()
        .route("/v1/models", get(models))
        .route("/health", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route("/fake/energy", get(energy))
        .route("/v1/chat/completions", post(chat))
        .with_state(state);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The `Server` header: collect records it in a trial's provenance.
fn server_header() -> HeaderValue {
    HeaderValue::from_static(concat!("collect-fake-server/", env!("CARGO_PKG_VERSION")))
}

fn with_server_header(mut r: Response) -> Response {
    r.headers_mut().insert(header::SERVER, server_header());
    r
}

async fn models(extract::State(st): extract::State<Arc<State>>) -> Response {
    let data: Vec<Value> = st
        .script
        .models
        .iter()
        .map(|m| json!({"id": m, "object": "model", "owned_by": "collect-fake-server"}))
        .collect();
    with_server_header(axum::Json(json!({"object": "list", "data": data})).into_response())
}

/// `/metrics` in Prometheus' text format with vLLM's names: requests in flight, prefix-cache
/// queries (prompt tokens) and hits (none), and a histogram whose buckets a scraper skips.
async fn metrics(extract::State(st): extract::State<Arc<State>>) -> Response {
    if !st.script.metrics {
        return error(StatusCode::NOT_FOUND, "no metrics");
    }
    st.stats.scrapes.fetch_add(1, Ordering::SeqCst);
    let attempts = st.stats.attempts.load(Ordering::SeqCst);
    let done = st.stats.completed.load(Ordering::SeqCst);
    let prompt = st.stats.prompt_tokens.load(Ordering::SeqCst);
    let model = st.script.models.first().cloned().unwrap_or_default();
    // In batching mode the scheduler knows what runs and what waits; otherwise every request
    // received and not finished is running.
    let (running, waiting) = if st.jobs.is_some() {
        let l = st.stats.ledger.lock().unwrap_or_else(PoisonError::into_inner);
        let waiting = format!(
            "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n\
             # TYPE vllm:num_requests_waiting gauge\n\
             vllm:num_requests_waiting{{model_name=\"{model}\"}} {}\n",
            l.waiting
        );
        (l.running as u64, waiting)
    } else {
        (attempts.saturating_sub(done), String::new())
    };
    let body = format!(
        "# HELP vllm:num_requests_running Number of requests in model execution batches.\n\
         # TYPE vllm:num_requests_running gauge\n\
         vllm:num_requests_running{{model_name=\"{model}\"}} {running}\n\
         {waiting}\
         # TYPE vllm:prefix_cache_queries counter\n\
         vllm:prefix_cache_queries_total{{model_name=\"{model}\"}} {prompt}.0\n\
         vllm:prefix_cache_hits_total{{model_name=\"{model}\"}} 0.0\n\
         # TYPE vllm:e2e_request_latency_seconds histogram\n\
         vllm:e2e_request_latency_seconds_bucket{{le=\"+Inf\",model_name=\"{model}\"}} {done}.0\n\
         vllm:e2e_request_latency_seconds_count{{model_name=\"{model}\"}} {done}.0\n"
    );
    with_server_header(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response())
}

fn error(status: StatusCode, msg: &str) -> Response {
    with_server_header(
        (
            status,
            axum::Json(json!({"error": {"message": msg, "code": status.as_u16()}})),
        )
            .into_response(),
    )
}

fn chunk_json(model: &str, delta: Value, finish: Option<&str>) -> String {
    let v = json!({
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    });
    format!("data: {v}\n\n")
}

async fn chat(
    extract::State(st): extract::State<Arc<State>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let attempt = st.stats.attempts.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(auth) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Stats::record(&st.stats.auth, auth);
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "body is not JSON");
    };
    let format = req
        .pointer("/response_format/type")
        .and_then(Value::as_str)
        .unwrap_or("none");
    Stats::record(&st.stats.formats, format);
    let s = &st.script;
    if s.reject_json_schema && format == "json_schema" {
        return error(
            StatusCode::BAD_REQUEST,
            "response_format json_schema is not supported",
        );
    }
    let Some(model) = req.get("model").and_then(|m| m.as_str()) else {
        return error(StatusCode::BAD_REQUEST, "missing `model`");
    };
    let every = |n: Option<u64>| n.is_some_and(|n| n > 0 && attempt.is_multiple_of(n));
    if s.broken_model.as_deref() == Some(model) || every(s.fail_every) {
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
    let Reply { delay, body } = st.responder.respond(&ChatRequest {
        body: &req,
        model,
        prompt: &prompt,
        attempt,
    });
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let (tokens, finish) = match body {
        ReplyBody::Tokens {
            tokens,
            finish_reason,
        } => (tokens, finish_reason),
        ReplyBody::Error {
            status,
            message,
            retry_after_s,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = error(status, &message);
            if let Some(s) = retry_after_s {
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            return r;
        }
    };
    let prompt_tokens = prompt.split_whitespace().count() as u64;
    let usage = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": tokens.len(),
        "total_tokens": prompt_tokens + tokens.len() as u64,
    });
    let stream = req.get("stream").and_then(Value::as_bool).unwrap_or(false);
    if let Some(jobs) = &st.jobs {
        let answer = Answer {
            model: model.to_string(),
            tokens,
            finish,
            usage: (!s.no_usage).then_some(usage),
            prompt_tokens,
            stream,
            include_usage: req
                .pointer("/stream_options/include_usage")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            drop: every(s.drop_every),
        };
        let record = RequestEnergy {
            attempt,
            seed: req.get("seed").and_then(Value::as_i64).unwrap_or(0),
            prompt,
            prompt_tokens,
            arrived_ms: batch::epoch_ms(Instant::now()),
            ..Default::default()
        };
        return batched(&st, jobs, answer, record).await;
    }
    if !stream {
        tokio::time::sleep(s.first_token_delay + s.token_delay * tokens.len() as u32).await;
        st.stats.completed.fetch_add(1, Ordering::SeqCst);
        st.stats
            .completion_tokens
            .fetch_add(tokens.len() as u64, Ordering::SeqCst);
        st.stats.prompt_tokens.fetch_add(prompt_tokens, Ordering::SeqCst);
        let mut v = json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": tokens.concat()}, "finish_reason": finish}],
        });
        if !s.no_usage {
            v["usage"] = usage;
        }
        return with_server_header(axum::Json(v).into_response());
    }
    let include_usage = !s.no_usage
        && req
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    let drop_at = every(s.drop_every).then_some(tokens.len() / 2);
    let events = stream_events(s, model, &tokens, finish, drop_at, include_usage.then_some(usage));
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
    with_server_header(r)
}

/// The server-sent events of a streamed answer, each after its delay; `None` ends the stream
/// with an error (a dropped connection) when `drop_at` says so.
fn stream_events(
    s: &FakeScript,
    model: &str,
    tokens: &[String],
    finish: &str,
    drop_at: Option<usize>,
    usage: Option<Value>,
) -> Vec<(Duration, Option<String>)> {
    let mut events: Vec<(Duration, Option<String>)> = Vec::new();
    events.push((
        Duration::ZERO,
        Some(chunk_json(
            model,
            json!({"role": "assistant", "content": ""}),
            None,
        )),
    ));
    for (i, t) in tokens.iter().enumerate() {
        if drop_at == Some(i) {
            events.push((Duration::ZERO, None));
            return events;
        }
        let delay = if i == 0 {
            s.first_token_delay
        } else {
            s.token_delay
        };
        events.push((delay, Some(chunk_json(model, json!({"content": t}), None))));
    }
    if drop_at == Some(tokens.len()) {
        events.push((Duration::ZERO, None));
        return events;
    }
    events.push((Duration::ZERO, Some(chunk_json(model, json!({}), Some(finish)))));
    if let Some(usage) = usage {
        let v = json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
            "model": model, "choices": [], "usage": usage});
        events.push((Duration::ZERO, Some(format!("data: {v}\n\n"))));
    }
    events.push((Duration::ZERO, Some("data: [DONE]\n\n".to_string())));
    events
}

/// `GET /fake/energy?at_ms=T` (batching mode): the energy counter at `T` (ms since the Unix
/// epoch, fractional allowed; now without it) as `{"at_ms", "energy_mj", "power_mw", "batch"}`;
/// 404 when the server does not batch, 400 for an unreadable `at_ms`.
async fn energy(extract::State(st): extract::State<Arc<State>>, uri: axum::http::Uri) -> Response {
    if st.jobs.is_none() {
        return error(
            StatusCode::NOT_FOUND,
            "no energy ledger: the server does not batch",
        );
    }
    let asked = uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("at_ms="));
    let at_ms = match asked {
        None => batch::epoch_ms(Instant::now()),
        Some(v) => match v.parse::<f64>() {
            Ok(t) if t.is_finite() => t,
            _ => return error(StatusCode::BAD_REQUEST, "at_ms is not a number of milliseconds"),
        },
    };
    let Some(r) = st.stats.energy_at(at_ms) else {
        return error(StatusCode::NOT_FOUND, "at_ms is before the ledger starts");
    };
    with_server_header(
        axum::Json(json!({
            "at_ms": r.at_ms,
            "energy_mj": r.energy_mj,
            "power_mw": r.power_w * 1000.0,
            "batch": r.batch,
        }))
        .into_response(),
    )
}

/// A batched request's answer, decided before it joins the queue.
struct Answer {
    model: String,
    tokens: Vec<String>,
    finish: &'static str,
    /// The `usage` object, unless the script withholds it.
    usage: Option<Value>,
    prompt_tokens: u64,
    stream: bool,
    include_usage: bool,
    /// Drop the stream after half the tokens.
    drop: bool,
}

/// Queues a request for the scheduler and answers as its steps produce the tokens: a
/// server-sent event per token as it is made, or one JSON object once all are.
async fn batched(
    st: &Arc<State>,
    jobs: &mpsc::UnboundedSender<Job>,
    a: Answer,
    record: RequestEnergy,
) -> Response {
    let (out, mut made) = mpsc::unbounded_channel();
    let record = st
        .stats
        .ledger
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .admit(record);
    let job = Job {
        prompt_tokens: a.prompt_tokens,
        tokens: a.tokens.len() as u64,
        record,
        out,
    };
    if jobs.send(job).is_err() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the batching scheduler has stopped",
        );
    }
    let n_tokens = a.tokens.len() as u64;
    let stats = st.stats.clone();
    let completed = move || {
        stats.completed.fetch_add(1, Ordering::SeqCst);
        stats.completion_tokens.fetch_add(n_tokens, Ordering::SeqCst);
        stats.prompt_tokens.fetch_add(a.prompt_tokens, Ordering::SeqCst);
    };
    if !a.stream {
        // Every token, or (for an empty answer) the end of its prefill step.
        for _ in 0..a.tokens.len().max(1) {
            if made.recv().await.is_none() && !a.tokens.is_empty() {
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the batching scheduler has stopped",
                );
            }
        }
        completed();
        let mut v = json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": a.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": a.tokens.concat()}, "finish_reason": a.finish}],
        });
        if let Some(usage) = a.usage {
            v["usage"] = usage;
        }
        return with_server_header(axum::Json(v).into_response());
    }
    let mut tail: VecDeque<String> = VecDeque::new();
    tail.push_back(chunk_json(&a.model, json!({}), Some(a.finish)));
    if let Some(usage) = a.usage.filter(|_| a.include_usage) {
        let v = json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
            "model": a.model, "choices": [], "usage": usage});
        tail.push_back(format!("data: {v}\n\n"));
    }
    tail.push_back("data: [DONE]\n\n".to_string());
    let state = Sse {
        head: Some(chunk_json(
            &a.model,
            json!({"role": "assistant", "content": ""}),
            None,
        )),
        drop_at: a.drop.then_some(a.tokens.len() / 2),
        tokens: a.tokens.into(),
        sent: 0,
        model: a.model,
        made,
        tail,
        completed: Some(Box::new(completed)),
        ended: false,
    };
    let body = futures_util::stream::unfold(state, Sse::next);
    let mut r = Response::new(Body::from_stream(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    with_server_header(r)
}

/// A batched answer being streamed: the role chunk, one chunk per token as the scheduler makes
/// it, then the finish, usage and `[DONE]` events.
struct Sse {
    head: Option<String>,
    tokens: VecDeque<String>,
    sent: usize,
    drop_at: Option<usize>,
    model: String,
    made: mpsc::UnboundedReceiver<()>,
    tail: VecDeque<String>,
    completed: Option<Box<dyn FnOnce() + Send>>,
    ended: bool,
}

impl Sse {
    async fn next(mut self) -> Option<(std::io::Result<String>, Self)> {
        if self.ended {
            return None;
        }
        if let Some(head) = self.head.take() {
            return Some((Ok(head), self));
        }
        if self.drop_at == Some(self.sent) {
            self.ended = true;
            return Some((Err(std::io::Error::other("scripted dropped stream")), self));
        }
        if let Some(token) = self.tokens.pop_front() {
            if self.made.recv().await.is_none() {
                self.ended = true;
                return Some((
                    Err(std::io::Error::other("the batching scheduler has stopped")),
                    self,
                ));
            }
            self.sent += 1;
            let chunk = chunk_json(&self.model, json!({"content": token}), None);
            return Some((Ok(chunk), self));
        }
        if self.sent == 0 {
            // An empty answer ends with its prefill step.
            let _ = self.made.recv().await;
        }
        let item = self.tail.pop_front()?;
        if self.tail.is_empty()
            && let Some(done) = self.completed.take()
        {
            done();
        }
        Some((Ok(item), self))
    }
}
