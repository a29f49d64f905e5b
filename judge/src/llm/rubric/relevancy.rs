//! Answer relevancy, as the study measured it with deepeval's `AnswerRelevancyMetric`
//! (confident-ai/deepeval, `deepeval/metrics/answer_relevancy`): the judge first breaks the
//! answer into statements, then gives each statement a verdict — `yes` (relevant to
//! addressing the question), `no` (irrelevant) or `idk` (ambiguous, a supporting point) — and
//! the score is the share of verdicts that are not `no`; an answer without statements scores
//! one. deepeval then asks the model a third time to word a reason; here the reason is composed
//! from the verdicts, which saves a call and cannot contradict the score. The prompts are
//! written for this crate after deepeval's two steps, not copied from it.

use super::{Judged, Rubric, SYSTEM, Spent, Verdict, ask_json, fill};
use crate::llm::JudgeItem;
use crate::llm::chat::{Ask, Chat, Message};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The relevancy rubric.
#[derive(Debug, Clone, Copy)]
pub struct Relevancy;

/// Step 1: `{answer}` is the response.
pub const STATEMENTS_PROMPT: &str = r#"Break the text below into a list of statements: the separate claims, answers, choices and remarks it makes, each as a short sentence. A single word or an ambiguous phrase can be a statement too.

Example
Text: No. The hypothesis does not follow from the premise. Let me know if you have other questions!
{"statements": ["No.", "The hypothesis does not follow from the premise.", "Let me know if you have other questions!"]}

Return only a JSON object with one key, "statements", whose value is the list of statements as strings.

Text:
{answer}

JSON:"#;

/// Step 2: `{question}` is the prompt, `{statements}` the JSON list from step 1 and `{n}` its
/// length.
pub const VERDICTS_PROMPT: &str = r#"Below are a question (the input) and the statements made by an answer to it. For each statement, decide whether it is relevant to addressing the input:
- "yes": the statement is relevant to addressing the input;
- "no": the statement is irrelevant to the input;
- "idk": the statement is ambiguous: not directly relevant, but it could serve as a supporting point in addressing the input.
Give a short "reason" for every "no" verdict and leave "reason" empty for the others.

Example
Input: Is the sky blue on a clear day? Explain your choice.
Statements: ["Yes.", "Air scatters blue sunlight more than red.", "Clear days are pleasant.", "I like pizza."]
{"verdicts": [{"verdict": "yes", "reason": ""}, {"verdict": "yes", "reason": ""}, {"verdict": "idk", "reason": ""}, {"verdict": "no", "reason": "Pizza has nothing to do with the colour of the sky."}]}

Return only a JSON object with one key, "verdicts": a list with exactly one {"verdict": ..., "reason": ...} object per statement, in the order of the statements. There are {n} statements, so there must be {n} verdicts.

Input:
{question}

Statements:
{statements}

JSON:"#;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Statements {
    statements: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Verdicts {
    verdicts: Vec<StatementVerdict>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct StatementVerdict {
    verdict: String,
    #[serde(default)]
    reason: String,
}

fn statements_schema() -> serde_json::Value {
    json!({
        "type": "object",
        "properties": {"statements": {"type": "array", "items": {"type": "string"}}},
        "required": ["statements"],
        "additionalProperties": false,
    })
}

fn verdicts_schema() -> serde_json::Value {
    json!({
        "type": "object",
        "properties": {"verdicts": {"type": "array", "items": {
            "type": "object",
            "properties": {
                "verdict": {"type": "string", "enum": ["yes", "no", "idk"]},
                "reason": {"type": "string"},
            },
            "required": ["verdict", "reason"],
            "additionalProperties": false,
        }}},
        "required": ["verdicts"],
        "additionalProperties": false,
    })
}

/// The score: verdicts that are not `no`, over all; 1 without verdicts (deepeval's rule).
fn score(verdicts: &[StatementVerdict]) -> f64 {
    if verdicts.is_empty() {
        return 1.0;
    }
    let relevant = verdicts.iter().filter(|v| v.verdict != "no").count();
    relevant as f64 / verdicts.len() as f64
}

impl Rubric for Relevancy {
    fn name(&self) -> &'static str {
        "relevancy"
    }

    fn version(&self) -> u32 {
        1
    }

    fn needs_gold(&self) -> bool {
        false
    }

    fn judge<'a>(&'a self, item: &'a JudgeItem, chat: &'a dyn Chat) -> BoxFuture<'a, Judged> {
        Box::pin(async move {
            let mut spent = Spent::default();
            let outcome = judge(item, chat, &mut spent).await;
            Judged {
                outcome,
                usage: spent.usage,
                calls: spent.calls,
            }
        })
    }
}

async fn judge(item: &JudgeItem, chat: &dyn Chat, spent: &mut Spent) -> Result<Verdict, super::Failure> {
    let ask = Ask {
        messages: vec![
            Message::system(SYSTEM),
            Message::user(fill(STATEMENTS_PROMPT, &[("answer", &item.response)])),
        ],
        schema_name: "statements",
        schema: statements_schema(),
    };
    let statements: Vec<String> = ask_json::<Statements>(chat, ask, |_| Ok(()), spent)
        .await?
        .statements
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if statements.is_empty() {
        return Ok(Verdict {
            score: 1.0,
            reason: "the answer makes no statement, so none is irrelevant".into(),
            details: json!({"statements": [], "verdicts": []}),
        });
    }
    let n = statements.len();
    let listed = serde_json::to_string(&statements).unwrap_or_default();
    let ask = Ask {
        messages: vec![
            Message::system(SYSTEM),
            Message::user(fill(
                VERDICTS_PROMPT,
                &[
                    ("question", &item.prompt),
                    ("statements", &listed),
                    ("n", &n.to_string()),
                ],
            )),
        ],
        schema_name: "verdicts",
        schema: verdicts_schema(),
    };
    let mut verdicts = ask_json::<Verdicts>(
        chat,
        ask,
        |v| {
            if v.verdicts.len() != n {
                return Err(format!(
                    "{} verdicts for {n} statements; give exactly one verdict per statement",
                    v.verdicts.len()
                ));
            }
            match v.verdicts.iter().find(|x| {
                !matches!(
                    x.verdict.trim().to_ascii_lowercase().as_str(),
                    "yes" | "no" | "idk"
                )
            }) {
                Some(bad) => Err(format!(
                    "verdict `{}` is not \"yes\", \"no\" or \"idk\"",
                    bad.verdict
                )),
                None => Ok(()),
            }
        },
        spent,
    )
    .await?
    .verdicts;
    for v in &mut verdicts {
        v.verdict = v.verdict.trim().to_ascii_lowercase();
    }
    let s = score(&verdicts);
    let no: Vec<&StatementVerdict> = verdicts.iter().filter(|v| v.verdict == "no").collect();
    let mut reason = format!(
        "{} of {n} statements address the question ({} yes, {} idk, {} no)",
        n - no.len(),
        verdicts.iter().filter(|v| v.verdict == "yes").count(),
        verdicts.iter().filter(|v| v.verdict == "idk").count(),
        no.len()
    );
    if let Some(first) = no.iter().find(|v| !v.reason.trim().is_empty()) {
        reason.push_str("; irrelevant: ");
        reason.push_str(first.reason.trim());
    }
    Ok(Verdict {
        score: s,
        reason,
        details: json!({"statements": statements, "verdicts": verdicts}),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::rubric::testing::Scripted;

    fn item() -> JudgeItem {
        JudgeItem {
            run_id: "r".into(),
            index: 0,
            task: "BoolQ".into(),
            prompt: "Is water wet? Explain your choice.".into(),
            response: "Yes. Water is wet. I like cats.".into(),
            gold_label: None,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn the_score_is_the_share_of_verdicts_that_are_not_no() {
        let chat = Scripted::new(&[
            r#"{"statements": ["Yes.", "Water is wet.", "I like cats."]}"#,
            r#"{"verdicts": [{"verdict": "yes", "reason": ""}, {"verdict": "IDK", "reason": ""}, {"verdict": "no", "reason": "Cats are off topic."}]}"#,
        ]);
        let judged = Relevancy.judge(&item(), &chat).await;
        let v = judged.outcome.expect("verdict");
        assert!((v.score - 2.0 / 3.0).abs() < 1e-12);
        assert!(v.reason.contains("Cats are off topic"), "{}", v.reason);
        assert_eq!(v.details["verdicts"][1]["verdict"], "idk");
        assert_eq!(judged.calls, 2);
        let asks = chat.asks.lock().expect("lock");
        assert!(
            asks[0].messages[1]
                .content
                .ends_with("Text:\nYes. Water is wet. I like cats.\n\nJSON:")
        );
        assert!(asks[1].messages[1].content.contains("There are 3 statements"));
        assert!(asks[1].messages[1].content.contains("Input:\nIs water wet?"));
    }

    #[tokio::test]
    async fn no_statements_score_one_without_a_second_call() {
        let chat = Scripted::new(&[r#"{"statements": []}"#]);
        let judged = Relevancy.judge(&item(), &chat).await;
        assert_eq!(judged.outcome.expect("verdict").score, 1.0);
        assert_eq!(judged.calls, 1);
    }

    #[tokio::test]
    async fn a_wrong_number_of_verdicts_is_repaired_once() {
        let chat = Scripted::new(&[
            r#"{"statements": ["a", "b"]}"#,
            r#"{"verdicts": [{"verdict": "yes", "reason": ""}]}"#,
            r#"{"verdicts": [{"verdict": "yes", "reason": ""}, {"verdict": "no", "reason": "x"}]}"#,
        ]);
        let v = Relevancy.judge(&item(), &chat).await.outcome.expect("verdict");
        assert_eq!(v.score, 0.5);
        let asks = chat.asks.lock().expect("lock");
        assert!(
            asks[2]
                .messages
                .last()
                .expect("repair")
                .content
                .contains("1 verdicts for 2 statements")
        );
    }
}
