//! Correctness: is the answer right, given the gold label? The judge sees the question, the
//! reference answer (the gold label as the decision the prompt asks for: `Yes`, `No`,
//! `Choice 1`, `Choice 2`) and the answer, and returns `correct` (score 1 or 0) with a short
//! reason. Requests without a gold label are not sent.

use super::{Failure, Judged, Rubric, SYSTEM, Spent, Verdict, ask_json, fill};
use crate::gold::{Decision, gold_decision};
use crate::llm::JudgeItem;
use crate::llm::chat::{Ask, Chat, Message};
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::json;

/// The correctness rubric.
#[derive(Debug, Clone, Copy)]
pub struct Correctness;

/// The prompt: `{question}`, `{reference}` (see [`reference_answer`]) and `{answer}`.
pub const CORRECTNESS_PROMPT: &str = r#"You grade an answer to a question against the reference answer.

Question:
{question}

Reference answer: {reference}

Answer to grade:
{answer}

Is the answer correct, that is, does it reach the same decision as the reference answer? An answer that gives no clear decision, or several conflicting ones, is not correct. The explanation in the answer does not need to be perfect.

Return only a JSON object {"correct": true or false, "reason": "<one short sentence>"}.

JSON:"#;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Grade {
    correct: bool,
    reason: String,
}

/// The reference answer shown to the judge: the decision the gold label stands for, with the
/// label itself (`No (gold label: not_entailment)`), or the bare label for an unknown task.
pub fn reference_answer(task: &str, label: &str) -> String {
    match gold_decision(task, label) {
        Some(d) => {
            let name = match d {
                Decision::Yes => "Yes",
                Decision::No => "No",
                Decision::Choice1 => "Choice 1",
                Decision::Choice2 => "Choice 2",
            };
            format!("{name} (gold label: {})", label.trim().trim_matches('"'))
        }
        None => label.trim().to_string(),
    }
}

impl Rubric for Correctness {
    fn name(&self) -> &'static str {
        "correctness"
    }

    fn version(&self) -> u32 {
        1
    }

    fn needs_gold(&self) -> bool {
        true
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

async fn judge(item: &JudgeItem, chat: &dyn Chat, spent: &mut Spent) -> Result<Verdict, Failure> {
    let Some(label) = &item.gold_label else {
        return Err(Failure {
            reason: "no gold label for this request".into(),
            answered: false,
        });
    };
    let reference = reference_answer(&item.task, label);
    let ask = Ask {
        messages: vec![
            Message::system(SYSTEM),
            Message::user(fill(
                CORRECTNESS_PROMPT,
                &[
                    ("question", &item.prompt),
                    ("reference", &reference),
                    ("answer", &item.response),
                ],
            )),
        ],
        schema_name: "correctness",
        schema: json!({
            "type": "object",
            "properties": {"correct": {"type": "boolean"}, "reason": {"type": "string"}},
            "required": ["correct", "reason"],
            "additionalProperties": false,
        }),
    };
    let g: Grade = ask_json(chat, ask, |_| Ok(()), spent).await?;
    Ok(Verdict {
        score: if g.correct { 1.0 } else { 0.0 },
        reason: g.reason.trim().to_string(),
        details: json!({"correct": g.correct, "reference": reference}),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::rubric::testing::Scripted;

    #[test]
    fn gold_labels_become_readable_reference_answers() {
        assert_eq!(reference_answer("COPA", "1"), "Choice 2 (gold label: 1)");
        assert_eq!(
            reference_answer("RTE", "not_entailment"),
            "No (gold label: not_entailment)"
        );
        assert_eq!(reference_answer("Other", " x "), "x");
    }

    #[tokio::test]
    async fn a_correct_grade_scores_one() {
        let chat = Scripted::new(&[r#"{"correct": true, "reason": "Both say no."}"#]);
        let item = JudgeItem {
            run_id: "r".into(),
            index: 3,
            task: "RTE".into(),
            prompt: "Does the hypothesis follow?".into(),
            response: "No.".into(),
            gold_label: Some("not_entailment".into()),
            ..Default::default()
        };
        let v = Correctness.judge(&item, &chat).await.outcome.expect("verdict");
        assert_eq!((v.score, v.reason.as_str()), (1.0, "Both say no."));
        let asks = chat.asks.lock().expect("lock");
        assert!(
            asks[0].messages[1]
                .content
                .contains("Reference answer: No (gold label: not_entailment)")
        );
    }
}
