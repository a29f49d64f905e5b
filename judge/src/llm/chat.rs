//! The conversation a rubric holds with the judge model, as a small trait: a rubric sends an
//! [`Ask`] (messages and the JSON schema of the wanted answer) and gets a [`Reply`] (the text
//! and the tokens it cost). [`crate::llm::client::Client`] implements it over HTTP for any
//! OpenAI-compatible endpoint; tests implement it with scripted replies.

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: &'static str,
    /// The text.
    pub content: String,
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: "system",
            content: content.into(),
        }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: "user",
            content: content.into(),
        }
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: "assistant",
            content: content.into(),
        }
    }
}

/// A request for a JSON answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Name of the answer's schema (`statements`, `verdicts`, `correctness`).
    pub schema_name: &'static str,
    /// JSON schema of the answer, sent as `response_format` where the server takes it.
    pub schema: Value,
}

/// Tokens a call cost, as the server's `usage` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Generated tokens.
    pub completion_tokens: u64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, o: Usage) {
        self.prompt_tokens += o.prompt_tokens;
        self.completion_tokens += o.completion_tokens;
    }
}

/// The model's answer to an [`Ask`].
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The answer text (expected to be JSON).
    pub content: String,
    /// What it cost.
    pub usage: Usage,
    /// True when generation stopped at the token limit (`finish_reason: length`).
    pub truncated: bool,
}

/// Why a call brought no answer (after its retries).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The server answered with an error status.
    #[error("the endpoint answered HTTP {status}: {body}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// No answer within `--timeout`.
    #[error("no answer within {0:.0} s (--timeout)")]
    Timeout(f64),
    /// The connection failed.
    #[error("cannot reach the endpoint: {0}")]
    Connect(String),
    /// The answer was not an OpenAI chat completion.
    #[error("the endpoint's answer is not a chat completion: {0}")]
    Envelope(String),
}

impl CallError {
    /// What failed, for the retry policy: a status, no answer (timeout, connection), or an
    /// answer that is not a chat completion.
    pub fn failure(&self) -> endpoint::Failure {
        match self {
            CallError::Status { status, .. } => endpoint::Failure::Status(*status),
            CallError::Timeout(_) | CallError::Connect(_) => endpoint::Failure::Transport,
            CallError::Envelope(_) => endpoint::Failure::Malformed,
        }
    }

    /// True for a 400 or 422, the status a server gives for a `response_format` it does not
    /// support.
    pub fn is_bad_request(&self) -> bool {
        matches!(
            self,
            CallError::Status {
                status: 400 | 422,
                ..
            }
        )
    }
}

/// Something that answers [`Ask`]s.
pub trait Chat: Send + Sync {
    /// Sends one request (retrying transient failures) and returns the answer.
    fn complete<'a>(&'a self, ask: &'a Ask) -> BoxFuture<'a, Result<Reply, CallError>>;
}
