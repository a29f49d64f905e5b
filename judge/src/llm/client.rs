//! The OpenAI-compatible HTTP client of the LLM judge.
//!
//! One call is one `POST /v1/chat/completions` (no streaming, temperature 0). The answer is
//! asked for as JSON in the strongest form the server accepts: `response_format` with a JSON
//! schema, else `{"type": "json_object"}`, else only the prompt's instructions. A 400 or 422
//! moves one step down for that call, and once a weaker form has succeeded where a stronger
//! one was refused, every later call starts there. 429, 5xx, timeouts and connection errors
//! are retried (`--retries`) under the shared [`RetryPolicy`]: an exponential backoff from
//! `--backoff-ms` (at most 30 s) that honours `Retry-After` (up to 120 s); every attempt waits
//! for the rate limiter first. The API key goes into the `Authorization` header,
//! marked sensitive, and nowhere else.

use crate::llm::chat::{Ask, CallError, Chat, Reply, Usage};
use crate::llm::ratelimit::RateLimiter;
use crate::options::{ApiKey, LlmOptions};
use endpoint::RetryPolicy;
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

/// How the answer's JSON form is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum JsonMode {
    /// `response_format: {"type": "json_schema", ...}`.
    Schema = 0,
    /// `response_format: {"type": "json_object"}`.
    Object = 1,
    /// No `response_format`; the prompt asks for JSON.
    Plain = 2,
}

impl JsonMode {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => JsonMode::Schema,
            1 => JsonMode::Object,
            _ => JsonMode::Plain,
        }
    }

    /// How the summary names it.
    pub fn name(self) -> &'static str {
        match self {
            JsonMode::Schema => "json_schema",
            JsonMode::Object => "json_object",
            JsonMode::Plain => "instructions",
        }
    }

    fn weaker(self) -> Option<Self> {
        match self {
            JsonMode::Schema => Some(JsonMode::Object),
            JsonMode::Object => Some(JsonMode::Plain),
            JsonMode::Plain => None,
        }
    }
}

/// Counters of the HTTP traffic.
#[derive(Debug, Default)]
pub struct Traffic {
    /// HTTP requests sent (retries included).
    pub requests: AtomicU64,
    /// Retries after a transient failure.
    pub retries: AtomicU64,
    /// Prompt tokens reported by the server.
    pub prompt_tokens: AtomicU64,
    /// Generated tokens reported by the server.
    pub completion_tokens: AtomicU64,
}

/// An OpenAI-compatible chat endpoint.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    url: reqwest::Url,
    model: String,
    api_key: Option<ApiKey>,
    max_tokens: u32,
    timeout: Duration,
    retry: RetryPolicy,
    limiter: Option<RateLimiter>,
    mode: AtomicU8,
    /// What was sent and received so far.
    pub traffic: Traffic,
}

/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

impl Client {
    /// A client for the endpoint of `opts`.
    pub fn new(opts: &LlmOptions) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(opts.jobs.max(1))
            .build()
            .map_err(|e| anyhow::anyhow!("--endpoint: cannot set up the HTTP client: {e}"))?;
        Ok(Self {
            http,
            url: opts.url.clone(),
            model: opts.model.clone(),
            api_key: opts.api_key.clone(),
            max_tokens: opts.max_tokens,
            timeout: opts.timeout,
            retry: RetryPolicy {
                retries: opts.retries,
                backoff: opts.backoff,
                backoff_max: MAX_BACKOFF,
                retry_after_max: Some(MAX_RETRY_AFTER),
            },
            limiter: opts.rps.map(RateLimiter::new),
            mode: AtomicU8::new(JsonMode::Schema as u8),
            traffic: Traffic::default(),
        })
    }

    /// The form in which JSON is asked for now.
    pub fn json_mode(&self) -> JsonMode {
        JsonMode::from_u8(self.mode.load(Ordering::Relaxed))
    }

    fn body(&self, ask: &Ask, mode: JsonMode) -> Value {
        let mut body = json!({
            "model": self.model,
            "messages": ask.messages,
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "stream": false,
        });
        let format = match mode {
            JsonMode::Schema => Some(json!({
                "type": "json_schema",
                "json_schema": {"name": ask.schema_name, "strict": true, "schema": ask.schema},
            })),
            JsonMode::Object => Some(json!({"type": "json_object"})),
            JsonMode::Plain => None,
        };
        if let (Some(f), Some(map)) = (format, body.as_object_mut()) {
            map.insert("response_format".into(), f);
        }
        body
    }

    async fn complete_json(&self, ask: &Ask) -> Result<Reply, CallError> {
        let start = self.json_mode();
        let mut mode = start;
        loop {
            match self.send(&self.body(ask, mode)).await {
                Ok(reply) => {
                    if mode != start {
                        self.mode.fetch_max(mode as u8, Ordering::Relaxed);
                    }
                    return Ok(reply);
                }
                Err(e) if e.is_bad_request() => match mode.weaker() {
                    Some(weaker) => mode = weaker,
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends one body, retrying transient failures.
    async fn send(&self, body: &Value) -> Result<Reply, CallError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            if let Some(l) = &self.limiter {
                l.wait().await;
            }
            let (result, retry_after) = self.attempt(body).await;
            let err = match result {
                Ok(reply) => return Ok(reply),
                Err(e) => e,
            };
            let Some(wait) = self.retry.pause_after(attempts, err.failure(), retry_after) else {
                return Err(err);
            };
            self.traffic.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    /// One HTTP request; on failure also the server's `Retry-After`.
    async fn attempt(&self, body: &Value) -> (Result<Reply, CallError>, Option<Duration>) {
        self.traffic.requests.fetch_add(1, Ordering::Relaxed);
        let mut req = self.http.post(self.url.clone()).json(body);
        if let Some(key) = &self.api_key {
            match reqwest::header::HeaderValue::from_str(&format!("Bearer {}", key.expose())) {
                Ok(mut v) => {
                    v.set_sensitive(true);
                    req = req.header(reqwest::header::AUTHORIZATION, v);
                }
                Err(_) => {
                    return (
                        Err(CallError::Connect(
                            "the API key holds characters that cannot go into an HTTP header".into(),
                        )),
                        None,
                    );
                }
            }
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return (Err(self.transport_error(&e)), None),
        };
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        let text = match resp.text().await {
            Ok(t) => t,
            Err(e) => return (Err(self.transport_error(&e)), retry_after),
        };
        if !status.is_success() {
            return (
                Err(CallError::Status {
                    status: status.as_u16(),
                    body: excerpt(&text, 300),
                }),
                retry_after,
            );
        }
        (self.parse_completion(&text), None)
    }

    fn transport_error(&self, e: &reqwest::Error) -> CallError {
        if e.is_timeout() {
            CallError::Timeout(self.timeout.as_secs_f64())
        } else {
            // The URL is ours and holds no secret; the chain says what went wrong.
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                src = s.source();
            }
            CallError::Connect(msg)
        }
    }

    fn parse_completion(&self, text: &str) -> Result<Reply, CallError> {
        #[derive(Deserialize)]
        struct Completion {
            choices: Vec<Choice>,
            #[serde(default)]
            usage: Option<UsageJson>,
        }
        #[derive(Deserialize)]
        struct Choice {
            message: ChoiceMessage,
            #[serde(default)]
            finish_reason: Option<String>,
        }
        #[derive(Deserialize)]
        struct ChoiceMessage {
            #[serde(default)]
            content: Option<String>,
        }
        #[derive(Deserialize)]
        struct UsageJson {
            #[serde(default)]
            prompt_tokens: u64,
            #[serde(default)]
            completion_tokens: u64,
        }
        let c: Completion = serde_json::from_str(text)
            .map_err(|e| CallError::Envelope(format!("{e}: {}", excerpt(text, 200))))?;
        let usage = c.usage.map_or(Usage::default(), |u| Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
        });
        self.traffic
            .prompt_tokens
            .fetch_add(usage.prompt_tokens, Ordering::Relaxed);
        self.traffic
            .completion_tokens
            .fetch_add(usage.completion_tokens, Ordering::Relaxed);
        let choice = c
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| CallError::Envelope("no choice in the answer".into()))?;
        Ok(Reply {
            content: choice.message.content.unwrap_or_default(),
            usage,
            truncated: choice.finish_reason.as_deref() == Some("length"),
        })
    }
}

impl Chat for Client {
    fn complete<'a>(&'a self, ask: &'a Ask) -> BoxFuture<'a, Result<Reply, CallError>> {
        Box::pin(self.complete_json(ask))
    }
}

/// The first `max` characters of `s` on one line.
pub fn excerpt(s: &str, max: usize) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut t: String = one_line.chars().take(max).collect();
        t.push('…');
        t
    }
}
