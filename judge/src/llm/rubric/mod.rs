//! What the LLM judge is asked: one file per rubric behind the [`Rubric`] trait. A rubric
//! holds the conversation for one response (one or more [`Chat`] calls), parses every answer
//! strictly with serde (one repair retry per call, then a recorded failure), and turns the
//! answers into a score in [0, 1].
//!
//! A rubric's prompts are part of its identity: change one and bump [`Rubric::version`], so
//! the judge cache (keyed by the version) asks anew instead of reusing stale verdicts.

pub mod correctness;
pub mod relevancy;

pub use correctness::Correctness;
pub use relevancy::Relevancy;

use crate::llm::JudgeItem;
use crate::llm::chat::{Ask, CallError, Chat, Message, Usage};
use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The rubrics `--rubric` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RubricKind {
    /// Answer relevancy (the study's deepeval metric).
    Relevancy,
    /// Agreement with the gold label.
    Correctness,
}

impl RubricKind {
    /// Parses a `--rubric` value.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "relevancy" | "relevance" => Some(RubricKind::Relevancy),
            "correctness" => Some(RubricKind::Correctness),
            _ => None,
        }
    }

    /// The rubric itself.
    pub fn build(self) -> Box<dyn Rubric> {
        match self {
            RubricKind::Relevancy => Box::new(Relevancy),
            RubricKind::Correctness => Box::new(Correctness),
        }
    }
}

/// A score the judge gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Score in [0, 1].
    pub score: f64,
    /// Why, in a sentence.
    pub reason: String,
    /// Rubric-specific details (statements, verdicts, the judge's reason).
    pub details: Value,
}

/// Why the judge gave no score.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// What went wrong.
    pub reason: String,
    /// True when the judge answered but unusably (kept in the cache: asking the same again
    /// would most likely get the same); false for a call that never got an answer (asked again
    /// on the next run).
    pub answered: bool,
}

/// The result of judging one response, with what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// The verdict or the failure.
    pub outcome: Result<Verdict, Failure>,
    /// Tokens of every call made for it.
    pub usage: Usage,
    /// Calls made for it (repairs included, HTTP retries not).
    pub calls: u32,
}

/// One way of judging a response.
pub trait Rubric: Send + Sync + std::fmt::Debug {
    /// Name in the scorer name `judge:<model>:<name>`.
    fn name(&self) -> &'static str;
    /// Version of the prompts and parsing; part of the cache key.
    fn version(&self) -> u32;
    /// True when the rubric needs the request's gold label (which is then part of the cache
    /// key).
    fn needs_gold(&self) -> bool;
    /// Judges one response.
    fn judge<'a>(&'a self, item: &'a JudgeItem, chat: &'a dyn Chat) -> BoxFuture<'a, Judged>;
}

/// The system message of every conversation.
pub const SYSTEM: &str = "You are a careful, impartial evaluator of answers written by language models. \
You reply with a single JSON object and nothing else.";

/// The message that asks for a corrected answer after an unusable one.
pub fn repair_message(error: &str) -> String {
    format!(
        "Your reply could not be used: {error}. Reply again with only the JSON object described \
         above, exactly in that form, and nothing else."
    )
}

/// Fills the `{name}` placeholders of a prompt template in one pass, so a value that itself
/// contains `{...}` (an answer quoting JSON) is never substituted again.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + values.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let hit = after.find('}').and_then(|close| {
            let name = &after[..close];
            values.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v, close))
        });
        match hit {
            Some((v, close)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Tokens and calls spent on one response, carried through its conversation.
#[derive(Debug, Default)]
pub struct Spent {
    /// Tokens so far.
    pub usage: Usage,
    /// Calls so far.
    pub calls: u32,
}

/// Asks for a JSON answer of type `T`, checks it with `check`, and on a malformed or invalid
/// answer asks once more with the error quoted (the repair retry). A second failure, or a call
/// that gets no answer, is a [`Failure`].
pub async fn ask_json<T: DeserializeOwned>(
    chat: &dyn Chat,
    mut ask: Ask,
    check: impl Fn(&T) -> Result<(), String>,
    spent: &mut Spent,
) -> Result<T, Failure> {
    let mut first_error = None;
    for _ in 0..2 {
        spent.calls += 1;
        let reply = chat.complete(&ask).await.map_err(|e: CallError| Failure {
            reason: format!("judge call failed: {e}"),
            answered: false,
        })?;
        spent.usage += reply.usage;
        match parse_strict::<T>(&reply.content).and_then(|v| check(&v).map(|()| v)) {
            Ok(v) => return Ok(v),
            Err(e) => {
                let e = if reply.truncated {
                    format!(
                        "the answer was cut off at the token limit (--max-tokens) before it was complete ({e})"
                    )
                } else {
                    e
                };
                if let Some(first) = first_error {
                    return Err(Failure {
                        reason: format!(
                            "the judge's {} answer was unusable twice (first: {first}; after the repair \
                             request: {e})",
                            ask.schema_name
                        ),
                        answered: true,
                    });
                }
                ask.messages.push(Message::assistant(reply.content));
                ask.messages.push(Message::user(repair_message(&e)));
                first_error = Some(e);
            }
        }
    }
    Err(Failure {
        reason: "unreachable: the repair loop ended".into(),
        answered: true,
    })
}

/// Parses a JSON answer strictly: the whole text must be one value of type `T` (unknown fields
/// are refused by `T`), surrounded at most by whitespace or one Markdown code fence.
pub fn parse_strict<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let t = text.trim();
    let t = t
        .strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .and_then(|rest| rest.trim_end().strip_suffix("```"))
        .unwrap_or(t)
        .trim();
    if t.is_empty() {
        return Err("the reply is empty".into());
    }
    serde_json::from_str::<T>(t).map_err(|e| format!("invalid JSON for the schema: {e}"))
}

#[cfg(test)]
pub(crate) mod testing {
    //! A scripted [`Chat`] for the rubrics' unit tests.

    use super::*;
    use crate::llm::chat::Reply;
    use std::sync::Mutex;

    /// Answers with the scripted texts in order and records every ask.
    #[derive(Debug, Default)]
    pub struct Scripted {
        pub replies: Mutex<Vec<Result<String, CallError>>>,
        pub asks: Mutex<Vec<Ask>>,
    }

    impl Scripted {
        pub fn new(replies: &[&str]) -> Self {
            Self {
                replies: Mutex::new(replies.iter().rev().map(|s| Ok(s.to_string())).collect()),
                asks: Mutex::default(),
            }
        }
    }

    impl Chat for Scripted {
        fn complete<'a>(&'a self, ask: &'a Ask) -> BoxFuture<'a, Result<Reply, CallError>> {
            self.asks.lock().expect("lock").push(ask.clone());
            let next = self.replies.lock().expect("lock").pop();
            Box::pin(async move {
                next.unwrap_or(Err(CallError::Connect("script exhausted".into())))
                    .map(|content| Reply {
                        content,
                        usage: Usage {
                            prompt_tokens: 10,
                            completion_tokens: 2,
                        },
                        truncated: false,
                    })
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct A {
        a: u32,
    }

    #[test]
    fn parsing_is_strict_but_tolerates_a_code_fence() {
        assert_eq!(parse_strict::<A>(" {\"a\": 1} "), Ok(A { a: 1 }));
        assert_eq!(parse_strict::<A>("```json\n{\"a\": 2}\n```"), Ok(A { a: 2 }));
        assert!(parse_strict::<A>("{\"a\": 1} trailing").is_err());
        assert!(parse_strict::<A>("{\"a\": 1, \"b\": 2}").is_err());
        assert!(parse_strict::<A>("{\"a\": \"1\"}").is_err());
        assert!(parse_strict::<A>("").is_err());
    }

    #[test]
    fn placeholders_are_filled_once_and_json_braces_are_left_alone() {
        let t = "a {x} b {\"k\": 1} {y}";
        assert_eq!(fill(t, &[("x", "{y}"), ("y", "Y")]), "a {y} b {\"k\": 1} Y");
    }

    #[tokio::test]
    async fn one_repair_retry_then_a_recorded_failure() {
        let ask = Ask {
            messages: vec![Message::user("q")],
            schema_name: "a",
            schema: Value::Null,
        };
        let chat = testing::Scripted::new(&["nope", "{\"a\": 3}"]);
        let mut spent = Spent::default();
        let v: A = ask_json(&chat, ask.clone(), |_| Ok(()), &mut spent)
            .await
            .expect("repaired");
        assert_eq!(v, A { a: 3 });
        assert_eq!(spent.calls, 2);
        assert_eq!(spent.usage.prompt_tokens, 20);
        let repair = chat.asks.lock().expect("lock")[1].clone();
        assert_eq!(repair.messages.len(), 3);
        assert_eq!(repair.messages[1].content, "nope");

        let chat = testing::Scripted::new(&["nope", "{\"a\": 9}"]);
        let mut spent = Spent::default();
        let err = ask_json::<A>(
            &chat,
            ask,
            |a| if a.a > 5 { Err("too big".into()) } else { Ok(()) },
            &mut spent,
        )
        .await
        .expect_err("fails");
        assert!(err.answered);
        assert!(err.reason.contains("too big"), "{}", err.reason);
    }
}
