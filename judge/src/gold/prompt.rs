//! What a prompt tells about its expected answer ([`Context`]), for the tasks whose
//! extractors need it: COPA's two choice texts, WSC's pronoun, candidate and passage, BoolQ's
//! question, CB's and RTE's premise and hypothesis, WiC's word.

use super::Task;
use super::lex::{Tok, lex, normalize_char};

/// What the prompt tells about the expected answer.
#[derive(Debug, Default)]
pub(super) struct Context {
    /// COPA: the words of "Choice 1: …" and "Choice 2: …".
    pub(super) choices: [Vec<String>; 2],
    /// WSC: the pronoun asked about.
    pub(super) pronoun: String,
    /// WSC: the candidate referent asked about (its words).
    pub(super) candidate: Vec<String>,
    /// WSC: the passage's words; BoolQ: the question's words.
    pub(super) text: Vec<String>,
    /// WiC: the word asked about.
    pub(super) word: String,
    /// CB/RTE: premise and hypothesis, as word strings (for quoted mentions).
    pub(super) premise: String,
    pub(super) hypothesis: String,
}

fn plain_words(s: &str) -> Vec<String> {
    lex(s)
        .into_iter()
        .filter_map(|t| match t {
            Tok::W(w) => Some(w),
            _ => None,
        })
        .collect()
}

/// The text after `marker` up to the first of `ends` (all matched lower-case).
fn section<'a>(lower: &'a str, marker: &str, ends: &[&str]) -> Option<&'a str> {
    let start = lower.find(marker)? + marker.len();
    let rest = &lower[start..];
    let end = ends
        .iter()
        .filter_map(|e| rest.find(e))
        .min()
        .unwrap_or(rest.len());
    Some(rest[..end].trim())
}

impl Context {
    pub(super) fn parse(task: Task, prompt: &str) -> Context {
        let lower: String = prompt
            .chars()
            .flat_map(char::to_lowercase)
            .map(normalize_char)
            .collect();
        let mut ctx = Context::default();
        match task {
            Task::Copa => {
                if let Some(c1) = section(&lower, "choice 1:", &["choice 2:"]) {
                    ctx.choices[0] = plain_words(c1);
                }
                if let Some(c2) = section(&lower, "choice 2:", &["explain your choice"]) {
                    ctx.choices[1] = plain_words(c2);
                }
            }
            Task::Wsc => {
                if let Some(pos) = lower.rfind("in the sentence above, does") {
                    ctx.text = plain_words(&lower[..pos]);
                    let q = &lower[pos..];
                    let quoted: Vec<&str> = q.split('"').skip(1).step_by(2).collect();
                    if quoted.len() >= 2 {
                        ctx.pronoun = plain_words(quoted[0]).join(" ");
                        ctx.candidate = plain_words(quoted[1]);
                    }
                } else {
                    ctx.text = plain_words(&lower);
                }
            }
            Task::BoolQ => {
                if let Some(q) = section(&lower, "question:", &["explain your choice"]) {
                    ctx.text = plain_words(q);
                }
            }
            Task::Cb | Task::Rte => {
                if let Some(p) = section(&lower, "premise:", &["hypothesis:"]) {
                    ctx.premise = plain_words(p).join(" ");
                }
                if let Some(h) = section(&lower, "hypothesis:", &["does the "]) {
                    ctx.hypothesis = plain_words(h).join(" ");
                }
            }
            Task::Wic => {
                if let Some(w) = lower.split('"').nth(1) {
                    ctx.word = plain_words(w).join(" ");
                }
            }
        }
        ctx
    }
}
