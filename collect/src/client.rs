//! Streaming chat completions against an OpenAI-compatible server, with the timing the contract
//! records: send and end times on the process clock, time to first token, the gaps between
//! streamed chunks, the server's `usage` (or a chunk count marked as estimated), the finish
//! reason, and how many attempts it took.
//!
//! A request is retried under the shared [`RetryPolicy`] (bounded exponential backoff) after a
//! connection error, a timeout, HTTP 5xx, 429 or 408, or a stream that ends before the answer
//! is complete; other HTTP errors (400, 404: a wrong model name) fail at once. A request never
//! returns an error: a failure is a [`Completion`] whose `error` says why, which the trial
//! records.

use crate::clock::clock;
use crate::config::{ChatFormat, GenerationConfig};
use anyhow::{Context, Result};
use endpoint::{Failure, RetryPolicy};
use futures_util::StreamExt;
use serde::Deserialize;
use std::time::{Duration, Instant};

/// Retry and timeout settings.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Longest time one attempt may take.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
    /// Pause before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// Longest pause between attempts.
    pub backoff_max: Duration,
    /// Bearer token.
    pub api_key: Option<String>,
}

impl ClientSettings {
    /// The retry policy these settings describe (collect ignores `Retry-After`).
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            retries: self.retries,
            backoff: self.backoff,
            backoff_max: self.backoff_max,
            retry_after_max: None,
        }
    }
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(600),
            retries: 4,
            backoff: Duration::from_millis(250),
            backoff_max: Duration::from_secs(8),
            api_key: None,
        }
    }
}

/// Gap statistics between consecutive streamed chunks, ms.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Gaps {
    /// Mean gap.
    pub mean_ms: f64,
    /// Median gap.
    pub p50_ms: f64,
    /// 95th percentile gap.
    pub p95_ms: f64,
    /// Largest gap.
    pub max_ms: f64,
}

use dataset::accounting::quantile;

impl Gaps {
    /// The summary of chunk arrival times; None with fewer than two chunks.
    pub fn of(times: &[Instant]) -> Option<Self> {
        if times.len() < 2 {
            return None;
        }
        let mut gaps: Vec<f64> = times
            .windows(2)
            .map(|w| w[1].duration_since(w[0]).as_secs_f64() * 1000.0)
            .collect();
        gaps.sort_by(f64::total_cmp);
        Some(Gaps {
            mean_ms: gaps.iter().sum::<f64>() / gaps.len() as f64,
            p50_ms: quantile(&gaps, 0.5),
            p95_ms: quantile(&gaps, 0.95),
            max_ms: gaps[gaps.len() - 1],
        })
    }
}

/// What one request produced (successful or not).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Completion {
    /// Send time of the first attempt, ms since the Unix epoch.
    pub start_ms: i64,
    /// When the last byte of the final attempt arrived, ms since the Unix epoch.
    pub end_ms: i64,
    /// Time to first content chunk, from the final attempt's send, ms.
    pub ttft_ms: Option<f64>,
    /// The answer (empty when the request failed).
    pub text: String,
    /// Prompt tokens from `usage`.
    pub prompt_tokens: Option<i64>,
    /// Completion tokens from `usage`, else the chunk count.
    pub completion_tokens: Option<i64>,
    /// True when `completion_tokens` counts chunks because the server sent no `usage`.
    pub tokens_estimated: bool,
    /// Why generation stopped.
    pub finish_reason: Option<String>,
    /// Content chunks received.
    pub chunks: i64,
    /// Inter-chunk gaps.
    pub gaps: Option<Gaps>,
    /// Each content chunk's arrival, µs after `start_ms` (the final attempt's chunks).
    pub chunk_offsets_us: Vec<i64>,
    /// Tokens in each content chunk, where every one carried the server's running count.
    pub chunk_tokens: Option<Vec<i64>>,
    /// Attempts made.
    pub attempts: u32,
    /// Why the request failed; None when it succeeded.
    pub error: Option<String>,
    /// True when the request failed on errors worth retrying and ran out of retries (the
    /// server is down or unstable), as opposed to a refusal such as HTTP 400.
    pub exhausted: bool,
}

/// The JSON body of one chat completion request.
pub fn request_body(
    model: &str,
    prompt: &str,
    generation: &GenerationConfig,
    seed: Option<i64>,
) -> serde_json::Value {
    let mut messages = Vec::new();
    if generation.chat_format == ChatFormat::SystemUser {
        messages.push(serde_json::json!({
            "role": "system",
            "content": generation.system_prompt.as_deref().unwrap_or(""),
        }));
    }
    messages.push(serde_json::json!({"role": "user", "content": prompt}));
    let mut body = serde_json::json!({
        "model": model,
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
        "temperature": generation.temperature,
        "top_p": generation.top_p,
        "max_tokens": generation.max_tokens,
    });
    if let Some(map) = body.as_object_mut() {
        if let Some(seed) = seed {
            map.insert("seed".into(), seed.into());
        }
        for (k, v) in &generation.extra_body {
            map.insert(k.clone(), v.clone());
        }
    }
    body
}

#[derive(Debug, Deserialize, Default)]
struct Usage {
    prompt_tokens: Option<i64>,
    completion_tokens: Option<i64>,
}

#[derive(Debug, Deserialize, Default)]
struct Delta {
    content: Option<String>,
    reasoning_content: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    message: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

/// Why an attempt failed: what the retry policy judges, and the words the trial records.
#[derive(Debug)]
struct AttemptError {
    cause: Failure,
    message: String,
}

impl AttemptError {
    fn transport(message: String) -> Self {
        Self {
            cause: Failure::Transport,
            message,
        }
    }

    fn malformed(message: String) -> Self {
        Self {
            cause: Failure::Malformed,
            message,
        }
    }
}

/// A successful attempt.
#[derive(Debug, Default)]
struct Answer {
    sent: Option<Instant>,
    end: Option<Instant>,
    chunk_times: Vec<Instant>,
    /// The server's running completion-token count at each content chunk, where it sent one.
    chunk_counts: Vec<Option<i64>>,
    text: String,
    usage: Option<Usage>,
    finish_reason: Option<String>,
    done: bool,
}

impl Answer {
    /// Applies one SSE `data:` payload received at `at`.
    fn event(&mut self, data: &[u8], at: Instant) -> Result<(), AttemptError> {
        let data = trim_ascii(data);
        if data == b"[DONE]" {
            self.done = true;
            return Ok(());
        }
        if data.is_empty() {
            return Ok(());
        }
        let chunk: Chunk = serde_json::from_slice(data).map_err(|e| {
            AttemptError::malformed(format!(
                "unreadable stream chunk ({e}): {}",
                String::from_utf8_lossy(&data[..data.len().min(200)])
            ))
        })?;
        if let Some(err) = chunk.error {
            return Err(AttemptError::malformed(format!("server error in stream: {err}")));
        }
        self.chunk(chunk, at);
        Ok(())
    }

    fn chunk(&mut self, chunk: Chunk, at: Instant) {
        for choice in chunk.choices {
            let delta = choice.delta.or(choice.message).unwrap_or_default();
            let mut got = false;
            for part in [delta.reasoning_content, delta.content].into_iter().flatten() {
                if !part.is_empty() {
                    self.text.push_str(&part);
                    got = true;
                }
            }
            if got {
                self.chunk_times.push(at);
                self.chunk_counts
                    .push(chunk.usage.as_ref().and_then(|u| u.completion_tokens));
            }
            if choice.finish_reason.is_some() {
                self.finish_reason = choice.finish_reason;
            }
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
    }
}

fn trim_ascii(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if last.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    b
}

/// Incremental server-sent-events parser: feed bytes, get complete `data` payloads.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    data: Vec<u8>,
    has_data: bool,
}

impl SseParser {
    /// Feeds bytes; calls `on_event` with each complete event's data.
    pub fn feed<E>(
        &mut self,
        bytes: &[u8],
        mut on_event: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut rest = bytes;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            self.line.extend_from_slice(&rest[..nl]);
            rest = &rest[nl + 1..];
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
            if self.line.is_empty() {
                if self.has_data {
                    on_event(&self.data)?;
                    self.data.clear();
                    self.has_data = false;
                }
            } else if let Some(value) = self.line.strip_prefix(b"data:") {
                let value = value.strip_prefix(b" ").unwrap_or(value);
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            self.line.clear();
        }
        self.line.extend_from_slice(rest);
        Ok(())
    }

    /// Ends the stream: a last event without its blank line still counts.
    pub fn finish<E>(&mut self, mut on_event: impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.feed(&line, &mut on_event)?;
            self.feed(b"\n", &mut on_event)?;
        }
        if self.has_data {
            self.has_data = false;
            on_event(&self.data)?;
        }
        Ok(())
    }
}

/// The HTTP client.
#[derive(Debug, Clone)]
pub struct ChatClient {
    http: reqwest::Client,
    settings: ClientSettings,
    retry: RetryPolicy,
}

impl ChatClient {
    /// A client with these settings.
    pub fn new(settings: ClientSettings) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(Duration::from_secs(10))
            .tcp_nodelay(true)
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            http,
            retry: settings.retry_policy(),
            settings,
        })
    }

    /// The underlying HTTP client (health checks, provenance).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends one chat completion to `base_url` (`http://host:port`, with or without `/v1`),
    /// retrying as the settings say. Never fails: errors are recorded in the completion.
    pub async fn complete(&self, base_url: &str, body: &serde_json::Value) -> Completion {
        let url = chat_url(base_url);
        let first = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let failed = match self.attempt(&url, body).await {
                Ok(answer) => return finish(answer, first, attempts),
                Err(failed) => failed,
            };
            if let Some(pause) = self.retry.pause_after(attempts, failed.cause, None) {
                tokio::time::sleep(pause).await;
                continue;
            }
            let end = Instant::now();
            return Completion {
                start_ms: clock().epoch_ms(first),
                end_ms: clock().epoch_ms(end),
                attempts,
                error: Some(if attempts > 1 {
                    format!("{} (after {attempts} attempts)", failed.message)
                } else {
                    failed.message
                }),
                exhausted: failed.cause.is_retryable(),
                ..Default::default()
            };
        }
    }

    async fn attempt(&self, url: &str, body: &serde_json::Value) -> Result<Answer, AttemptError> {
        let mut req = self.http.post(url).json(body);
        if let Some(key) = &self.settings.api_key {
            req = req.bearer_auth(key);
        }
        let sent = Instant::now();
        let resp = req
            .send()
            .await
            .map_err(|e| AttemptError::transport(describe(&e, url)))?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            let msg = format!(
                "HTTP {status} from {url}: {}",
                text.chars().take(300).collect::<String>()
            );
            return Err(AttemptError {
                cause: Failure::Status(status.as_u16()),
                message: msg,
            });
        }
        let streaming = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let mut answer = Answer {
            sent: Some(sent),
            ..Default::default()
        };
        let mut stream = resp.bytes_stream();
        if !streaming {
            // A server that ignored `stream: true` answers with one JSON object.
            let mut all = Vec::new();
            while let Some(part) = stream.next().await {
                let part = part.map_err(|e| {
                    AttemptError::transport(format!("response dropped: {}", describe(&e, url)))
                })?;
                all.extend_from_slice(&part);
            }
            let at = Instant::now();
            let chunk: Chunk = serde_json::from_slice(&all)
                .map_err(|e| AttemptError::malformed(format!("unreadable response ({e})")))?;
            answer.chunk(chunk, at);
            answer.end = Some(at);
            answer.done = true;
            return Ok(answer);
        }
        let mut parser = SseParser::default();
        while let Some(part) = stream.next().await {
            let part =
                part.map_err(|e| AttemptError::transport(format!("stream dropped: {}", describe(&e, url))))?;
            let at = Instant::now();
            parser.feed(&part, |data| answer.event(data, at))?;
            if answer.done {
                break;
            }
        }
        let at = Instant::now();
        parser.finish(|data| answer.event(data, at))?;
        answer.end = Some(at);
        if !answer.done && answer.finish_reason.is_none() {
            return Err(AttemptError::malformed(
                "stream ended before the answer was complete".into(),
            ));
        }
        Ok(answer)
    }
}

fn finish(answer: Answer, first: Instant, attempts: u32) -> Completion {
    let end = answer.end.unwrap_or_else(Instant::now);
    let sent = answer.sent.unwrap_or(first);
    let chunks = answer.chunk_times.len() as i64;
    let (completion_tokens, tokens_estimated) = match answer.usage.as_ref().and_then(|u| u.completion_tokens)
    {
        Some(n) => (Some(n), false),
        None => (Some(chunks), true),
    };
    let start_ms = clock().epoch_ms(first);
    // Offsets from the floored start_ms, so start_ms + offset is the chunk's time on the clock.
    let origin_ms = start_ms as f64;
    let chunk_offsets_us = answer
        .chunk_times
        .iter()
        .map(|t| ((clock().epoch_ms_f64(*t) - origin_ms) * 1000.0).round() as i64)
        .collect();
    let chunk_tokens = answer
        .chunk_counts
        .iter()
        .copied()
        .collect::<Option<Vec<i64>>>()
        .filter(|c| !c.is_empty())
        .map(|counts| {
            let mut before = 0;
            counts
                .iter()
                .map(|&n| {
                    let d = (n - before).max(0);
                    before = before.max(n);
                    d
                })
                .collect()
        });
    Completion {
        start_ms,
        end_ms: clock().epoch_ms(end),
        ttft_ms: answer
            .chunk_times
            .first()
            .map(|t| t.duration_since(sent).as_secs_f64() * 1000.0),
        text: answer.text,
        prompt_tokens: answer.usage.as_ref().and_then(|u| u.prompt_tokens),
        completion_tokens,
        tokens_estimated,
        finish_reason: answer.finish_reason,
        chunks,
        gaps: Gaps::of(&answer.chunk_times),
        chunk_offsets_us,
        chunk_tokens,
        attempts,
        error: None,
        exhausted: false,
    }
}

/// The chat completions URL of a base URL (`http://h:p`, `http://h:p/`, `http://h:p/v1`).
pub fn chat_url(base: &str) -> String {
    format!("{}/chat/completions", v1_url(base))
}

/// The `/v1` root of a base URL.
pub fn v1_url(base: &str) -> String {
    let b = base.trim_end_matches('/');
    if b.ends_with("/v1") {
        b.to_string()
    } else {
        format!("{b}/v1")
    }
}

/// A reqwest error in words, with its cause chain (reqwest's own message is terse).
pub fn describe(e: &reqwest::Error, url: &str) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "body error"
    } else {
        "request failed"
    };
    let mut msg = format!("{kind}: {url}");
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_are_split_across_arbitrary_byte_boundaries() {
        let text = b"data: {\"a\":1}\r\n\r\n: comment\n\ndata: x\ndata: y\n\ndata: [DONE]";
        for cut in 0..text.len() {
            let mut p = SseParser::default();
            let mut got: Vec<String> = Vec::new();
            let mut push = |d: &[u8]| -> Result<(), ()> {
                got.push(String::from_utf8_lossy(d).into_owned());
                Ok(())
            };
            p.feed(&text[..cut], &mut push).unwrap();
            p.feed(&text[cut..], &mut push).unwrap();
            p.finish(&mut push).unwrap();
            assert_eq!(got, ["{\"a\":1}", "x\ny", "[DONE]"], "cut at {cut}");
        }
    }

    #[test]
    fn gap_quantiles_follow_r_type_7() {
        let t0 = Instant::now();
        // Gaps 10, 20, 30, 40 ms: R `quantile(c(10,20,30,40), c(.5,.95))` = 25, 38.5.
        let times: Vec<Instant> = [0u64, 10, 30, 60, 100]
            .iter()
            .map(|&ms| t0 + Duration::from_millis(ms))
            .collect();
        let g = Gaps::of(&times).unwrap();
        assert!((g.mean_ms - 25.0).abs() < 1e-9);
        assert!((g.p50_ms - 25.0).abs() < 1e-9);
        assert!((g.p95_ms - 38.5).abs() < 1e-9);
        assert!((g.max_ms - 40.0).abs() < 1e-9);
        assert_eq!(Gaps::of(&times[..1]), None);
    }

    #[test]
    fn base_urls_with_or_without_v1_reach_the_same_route() {
        assert_eq!(chat_url("http://h:1"), "http://h:1/v1/chat/completions");
        assert_eq!(chat_url("http://h:1/v1/"), "http://h:1/v1/chat/completions");
    }

    #[test]
    fn the_body_carries_the_published_generation_settings() {
        let g = GenerationConfig::default();
        let b = request_body("m", "hi", &g, Some(7));
        assert_eq!(b["stream_options"]["include_usage"], true);
        assert_eq!(b["max_tokens"], 2048);
        assert_eq!(b["seed"], 7);
        assert_eq!(b["messages"][0]["role"], "user");
    }

    #[test]
    fn chunk_times_become_offsets_and_running_counts_per_chunk_tokens() {
        let t0 = Instant::now();
        let mut a = Answer {
            sent: Some(t0),
            ..Default::default()
        };
        let chunk = |n: i64| Chunk {
            choices: vec![Choice {
                delta: Some(Delta {
                    content: Some("x".into()),
                    reasoning_content: None,
                }),
                message: None,
                finish_reason: None,
            }],
            usage: Some(Usage {
                prompt_tokens: Some(5),
                completion_tokens: Some(n),
            }),
            error: None,
        };
        for (ms, n) in [(10, 1), (25, 3), (40, 4)] {
            a.chunk(chunk(n), t0 + Duration::from_millis(ms));
        }
        a.end = Some(t0 + Duration::from_millis(45));
        let c = finish(a, t0, 1);
        assert_eq!(c.chunk_tokens, Some(vec![1, 2, 1]));
        assert_eq!(c.chunk_offsets_us.len(), 3);
        // Offsets are from the floored start_ms, so each is the gap plus under a millisecond.
        let d: Vec<i64> = c.chunk_offsets_us.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(d.iter().all(|&g| (g - 15_000).abs() <= 1), "{d:?}");
        assert!(
            (10_000..11_000).contains(&c.chunk_offsets_us[0]),
            "{:?}",
            c.chunk_offsets_us
        );
    }
}
