//! Gold-label scoring of free-text answers to SuperGLUE-style prompts.
//!
//! The published study asked LLaMA models a yes/no or choice-1/2 question per prompt and
//! added "Explain your choice.", so every answer is prose ("No, the premise does not entail
//! the hypothesis. …", "I would choose Choice 2: …"). This module reads that prose, decides
//! which [`Decision`] it makes, and compares it with the gold label.
//!
//! # Approach
//!
//! 1. **Lexing.** The answer is lower-cased, curly quotes are straightened, common Latin
//!    diacritics folded, contractions expanded (`doesn't` → `does not`), markdown emphasis
//!    dropped, and a run of two or more spaces (a newline in the original answer) marks a
//!    paragraph break. Text inside balanced double quotes (or short single-quoted spans)
//!    becomes one *quoted* token, so a quoted premise such as `"No weapons were found."` can
//!    neither split a sentence nor lend its `no` to the verdict.
//! 2. **Sentences.** Tokens are cut into sentences at `.`, `!`, `?` (not after `Mr.`, `e.g.`,
//!    not at an ellipsis) and at paragraph breaks, except that a sentence ending in `:` runs on
//!    into the next paragraph (`I would choose:  Choice 2: …`).
//! 3. **Verdicts.** Every sentence is searched for the verdict forms of its task (the rule
//!    names are those of [`Extraction::rule`]):
//!    * `leading_yes_no`, all yes/no tasks: `Yes, …` / `No.` at the start of a sentence, also
//!      after a short introduction (`According to the passage, no, …`); `True` / `False` for
//!      BoolQ, `Not necessarily` for CB and RTE;
//!    * `answer_is`, all yes/no tasks: `the answer is: No`, `my answer is that yes`,
//!      `I would say no`, `I would choose "Yes, they can" as the answer`;
//!    * `entailment_statement`, CB and RTE: the premise *entails* / *implies* the hypothesis,
//!      the hypothesis *follows from*, *can be inferred / concluded / deduced from*, *is
//!      entailed by* the premise (yes unless negated), *is not supported by* (a no only),
//!      *contradicts* (a no), `there is no entailment`, `do not entail each other`; the
//!      subject must be the premise or hypothesis itself (also `the hypothesis that …`,
//!      `this statement … from the premise`), not an imagined one (`a more accurate
//!      hypothesis`);
//!    * `meaning_statement`, WiC: the word *has the same (basic) meaning* / *different
//!      meanings* / *a different sense*, *its meaning is the same*, *the meanings differ*;
//!      the clause must be about the word, not about the two sentences, and definitions
//!      (`polysemy`, `in other contexts`) are skipped;
//!    * `reference_statement`, WSC: `"<pronoun>" refers to <noun phrase>` (or `is
//!      referring to`, `the pronoun … refers back to`); a yes when the noun phrase is the
//!      candidate the prompt asks about, a no when it is another noun phrase of the passage,
//!      a no when the pronoun *does not refer to* the candidate;
//!    * `choice_selected`, COPA: a choice (`Choice 2`, `option (1)`, `the first choice`,
//!      `(b)`, or the choice's own text taken from the prompt, quoted or not) named after a
//!      selecting word in its clause (`I would choose`, `the correct answer is`, `the most
//!      likely cause is`, …), after a cause/effect frame (`the cause of X is Choice 2`), or
//!      followed by one (`Choice 1 is the more plausible cause`); a choice that the clause
//!      rejects, compares (`on the other hand`, `in contrast`) or analyses (`the effect of
//!      Choice 1`) is not selected;
//!    * `only_choice_named` / `other_choice_rejected`, COPA (weak): the answer names one
//!      choice and never the other, or names the other only to reject it;
//!    * `question_restated`, BoolQ (weak): one of the first two sentences, or a conclusion
//!      (`Therefore, …`), restates the question as a statement (all its content words in its
//!      order, one may be missing from six on, no qualifier such as `varies`, `rather than`,
//!      `some`), and its polarity against the question's gives yes or no.
//!
//!    A verdict's polarity comes from the negators (`not`, `no`, `never`, `cannot`, `fails`,
//!    `unlikely`, …) in the auxiliaries right before its verb (`does not necessarily
//!    follow`), flipped by a negated frame (`we cannot conclude that the premise entails …`).
//!    A clause that is conditional, a purpose or a question (`if`, `whether`, `to make the
//!    premise entail`, `in order for`, a `?`) gives no verdict, and one that hedges (`may`,
//!    `might`, `could`, `possibly`, `it is possible that`, `one interpretation is that`, …)
//!    gives only a hedged one.
//! 4. **Resolution.** Firm verdicts anywhere in the answer must all agree; the decision is
//!    theirs and the rule is the first one's. Disagreement (`Yes, … Therefore, the premise
//!    does not entail the hypothesis`, or WSC `Yes, "she" refers to "Andrea"` asked about
//!    Susan) scores null as a self-contradiction (`contradiction`). Weak verdicts count only
//!    when there is no firm one and must agree as well; hedged ones never decide: an answer
//!    with only those scores null (`hedge`), one with none scores null (`no_verdict`). The
//!    module never guesses: no verdict means no score.
//!
//! # Layout
//!
//! Each step has its file: `lex.rs` (steps 1 and 2: tokens, quotes, sentences), `prompt.rs`
//! (what the prompt tells: choices, pronoun and candidate, question, premise and hypothesis,
//! word), `clause.rs` (the verb groups, frames, negators and hedges that give a verdict its
//! polarity and strength) and `verdict.rs` (step 4). The verdict forms of step 3 live one file
//! per task family, each with its word lists and tests: `yes_no.rs` (`leading_yes_no`,
//! `answer_is`), `entailment.rs` (CB, RTE), `wic.rs`, `wsc.rs`, `copa.rs` and `boolq.rs`.

mod boolq;
mod clause;
mod copa;
mod entailment;
mod lex;
mod prompt;
#[cfg(test)]
mod testing;
mod verdict;
mod wic;
mod wsc;
mod yes_no;

use lex::{Sent, group_quotes, lex, sentences};
use prompt::Context;
use serde_json::{Value, json};
use verdict::{Found, Verdict, resolve};

/// The decision a prompt asks the model to make.
///
/// BoolQ, CB, RTE, WiC and WSC ask a yes/no question; COPA asks for choice 1 or choice 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The answer says yes (BoolQ true, CB/RTE entailment, same meaning, does refer).
    Yes,
    /// The answer says no (BoolQ false, CB contradiction or neutral, RTE not entailment, …).
    No,
    /// The answer picks COPA's "Choice 1" (gold label 0).
    Choice1,
    /// The answer picks COPA's "Choice 2" (gold label 1).
    Choice2,
}

impl Decision {
    /// The decision's name as written in `details` and in the hand-check fixture:
    /// `yes`, `no`, `choice1` or `choice2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Yes => "yes",
            Decision::No => "no",
            Decision::Choice1 => "choice1",
            Decision::Choice2 => "choice2",
        }
    }

    /// Parses a name written by [`Decision::as_str`] (case-insensitive).
    pub fn from_name(name: &str) -> Option<Decision> {
        match name.trim().to_ascii_lowercase().as_str() {
            "yes" => Some(Decision::Yes),
            "no" => Some(Decision::No),
            "choice1" => Some(Decision::Choice1),
            "choice2" => Some(Decision::Choice2),
            _ => None,
        }
    }
}

/// The task of a prompt, parsed from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Task {
    BoolQ,
    Cb,
    Copa,
    Rte,
    Wic,
    Wsc,
}

impl Task {
    fn parse(name: &str) -> Option<Task> {
        match name.trim().to_ascii_lowercase().as_str() {
            "boolq" => Some(Task::BoolQ),
            "cb" => Some(Task::Cb),
            "copa" => Some(Task::Copa),
            "rte" => Some(Task::Rte),
            "wic" => Some(Task::Wic),
            "wsc" => Some(Task::Wsc),
            _ => None,
        }
    }
}

/// The decision that a gold label stands for, or `None` for an unknown task or label.
///
/// `task` is one of `BoolQ`, `CB`, `COPA`, `RTE`, `WiC`, `WSC` (case-insensitive). `label`
/// is the label written as text, surrounding JSON quotes allowed:
/// * BoolQ, WiC, WSC: `true` = [`Decision::Yes`], `false` = [`Decision::No`] (also `1`/`0`);
/// * CB: `entailment` = Yes, `contradiction` and `neutral` = No (also SuperGLUE's `0`, `1`,
///   `2`);
/// * RTE: `entailment` = Yes, `not_entailment` = No (also `0`, `1`);
/// * COPA: `0` = [`Decision::Choice1`], `1` = [`Decision::Choice2`].
pub fn gold_decision(task: &str, label: &str) -> Option<Decision> {
    let label = label.trim().trim_matches('"').trim().to_ascii_lowercase();
    match Task::parse(task)? {
        Task::BoolQ | Task::Wic | Task::Wsc => match label.as_str() {
            "true" | "1" => Some(Decision::Yes),
            "false" | "0" => Some(Decision::No),
            _ => None,
        },
        Task::Cb => match label.as_str() {
            "entailment" | "0" => Some(Decision::Yes),
            "contradiction" | "neutral" | "1" | "2" => Some(Decision::No),
            _ => None,
        },
        Task::Rte => match label.as_str() {
            "entailment" | "0" => Some(Decision::Yes),
            "not_entailment" | "1" => Some(Decision::No),
            _ => None,
        },
        Task::Copa => match label.as_str() {
            "0" => Some(Decision::Choice1),
            "1" => Some(Decision::Choice2),
            _ => None,
        },
    }
}

/// The decision read from one answer, with the rule that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Extraction {
    /// The decision the answer makes, or `None` when it makes no clear one.
    pub decision: Option<Decision>,
    /// The name of the extraction rule that fired: `leading_yes_no`, `answer_is`,
    /// `entailment_statement`, `meaning_statement`, `reference_statement`, `choice_selected`,
    /// `only_choice_named`, `other_choice_rejected` or `question_restated` (see the module
    /// documentation); for a null, why none decided: `contradiction`, `hedge`,
    /// `no_verdict`, `empty` or `unknown_task`.
    pub rule: &'static str,
    /// A short human-readable account: for a decision, the sentence it came from; for a
    /// null, why the answer has no clear decision.
    pub reason: String,
}

/// The gold-label score of one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct GoldScore {
    /// 1.0 when the extracted decision equals the gold one, 0.0 when it differs, `None` when
    /// the answer makes no clear decision or the task or label is unknown (never a guess).
    pub score: Option<f64>,
    /// Why the score is what it is (the extraction's reason).
    pub reason: String,
    /// `{"decision": "yes"|"no"|"choice1"|"choice2"|null, "gold": … , "rule": …}`.
    pub details: Value,
}

/// Scores one answer against its gold label.
///
/// `gold_label` is written as text (see [`gold_decision`]). The score is 1.0 when the
/// decision [`extract`]ed from `response` equals the gold decision, 0.0 when it differs and
/// `None` when the answer makes no clear decision or the task or label is unknown.
pub fn score(task: &str, prompt: &str, response: &str, gold_label: &str) -> GoldScore {
    let gold = gold_decision(task, gold_label);
    let ex = extract(task, prompt, response);
    let details = json!({
        "decision": ex.decision.map(Decision::as_str),
        "gold": gold.map(Decision::as_str),
        "rule": ex.rule,
    });
    let (score, reason) = match (gold, ex.decision) {
        (None, _) => (
            None,
            format!("unknown gold label {gold_label:?} for task {task:?}"),
        ),
        (Some(_), None) => (None, ex.reason),
        (Some(g), Some(d)) => (Some(if g == d { 1.0 } else { 0.0 }), ex.reason),
    };
    GoldScore {
        score,
        reason,
        details,
    }
}

/// Reads the decision that `response` makes on the question of `prompt`.
///
/// `task` names the SuperGLUE task (`BoolQ`, `CB`, `COPA`, `RTE`, `WiC`, `WSC`); the prompt
/// supplies COPA's choice texts, WSC's pronoun and candidate, and BoolQ's question. See the
/// module documentation for the rules. A decision is returned only when the answer states
/// one and never contradicts it; otherwise `decision` is `None` and `reason` says why.
pub fn extract(task: &str, prompt: &str, response: &str) -> Extraction {
    let Some(task) = Task::parse(task) else {
        return null("unknown_task", format!("unknown task {task:?}"));
    };
    let ctx = Context::parse(task, prompt);
    let sents = sentences(&group_quotes(lex(response)));
    if sents.is_empty() {
        return null("empty", "the response is empty".to_string());
    }
    let mut found = Vec::new();
    for (i, s) in sents.iter().enumerate() {
        verdicts(task, &ctx, s, i, &mut found);
    }
    if task == Task::Copa {
        copa::copa_fallback(&ctx, &sents, &mut found);
    }
    if task == Task::BoolQ {
        boolq::boolq_echo(&ctx, &sents, &mut found);
    }
    resolve(&sents, &found)
}

fn null(rule: &'static str, reason: String) -> Extraction {
    Extraction {
        decision: None,
        rule,
        reason,
    }
}

/// Searches sentence `i` for the verdict forms of `task`.
fn verdicts(task: Task, ctx: &Context, s: &Sent, i: usize, found: &mut Vec<Found>) {
    let mut push = |(decision, strength, cue): Verdict, rule: &'static str| {
        found.push(Found {
            decision,
            rule,
            sent: i,
            strength,
            cue,
        });
    };
    if task != Task::Copa {
        if let Some(v) = yes_no::leading_yes_no(task, s) {
            push(v, "leading_yes_no");
        }
        if let Some(v) = yes_no::answer_is(task, s) {
            push(v, "answer_is");
        }
    }
    match task {
        Task::Cb | Task::Rte => {
            for v in entailment::relation_verdicts(ctx, s) {
                push(v, "entailment_statement");
            }
        }
        Task::Wic => {
            for v in wic::meaning_verdicts(ctx, s) {
                push(v, "meaning_statement");
            }
        }
        Task::Wsc => {
            for v in wsc::reference_verdicts(ctx, s) {
                push(v, "reference_statement");
            }
        }
        Task::Copa => {
            for v in copa::choice_verdicts(ctx, s) {
                push(v, "choice_selected");
            }
        }
        Task::BoolQ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{CB, COPA_RING, d};
    use super::*;

    #[test]
    fn an_empty_or_unknown_input_is_null() {
        assert_eq!(extract("CB", CB, "   ").rule, "empty");
        assert_eq!(extract("MultiRC", CB, "Yes.").rule, "unknown_task");
        assert_eq!(d("RTE", "", "\"\"\" ... ??? ''"), None);
    }

    #[test]
    fn gold_labels_map_to_decisions() {
        assert_eq!(gold_decision("BoolQ", "true"), Some(Decision::Yes));
        assert_eq!(gold_decision("WiC", "false"), Some(Decision::No));
        assert_eq!(gold_decision("WSC", "True"), Some(Decision::Yes));
        assert_eq!(gold_decision("CB", "entailment"), Some(Decision::Yes));
        assert_eq!(gold_decision("CB", "neutral"), Some(Decision::No));
        assert_eq!(gold_decision("CB", "contradiction"), Some(Decision::No));
        assert_eq!(gold_decision("RTE", "\"not_entailment\""), Some(Decision::No));
        assert_eq!(gold_decision("RTE", "entailment"), Some(Decision::Yes));
        assert_eq!(gold_decision("COPA", "0"), Some(Decision::Choice1));
        assert_eq!(gold_decision("COPA", "1"), Some(Decision::Choice2));
        assert_eq!(gold_decision("COPA", "2"), None);
        assert_eq!(gold_decision("Nope", "true"), None);
        for d in [Decision::Yes, Decision::No, Decision::Choice1, Decision::Choice2] {
            assert_eq!(Decision::from_name(d.as_str()), Some(d));
        }
    }

    #[test]
    fn score_compares_the_extracted_decision_with_the_gold_one() {
        let right = score(
            "COPA",
            COPA_RING,
            "I would choose Choice 2: The ring went down the drain.",
            "1",
        );
        assert_eq!(right.score, Some(1.0));
        assert_eq!(right.details["decision"], "choice2");
        assert_eq!(right.details["gold"], "choice2");
        assert_eq!(right.details["rule"], "choice_selected");
        let wrong = score(
            "COPA",
            COPA_RING,
            "I would choose Choice 2: The ring went down the drain.",
            "0",
        );
        assert_eq!(wrong.score, Some(0.0));
        let none = score("COPA", COPA_RING, "I can't help you with this.", "0");
        assert_eq!(none.score, None);
        assert_eq!(none.details["decision"], Value::Null);
        assert!(!none.reason.is_empty());
        let bad_label = score("COPA", COPA_RING, "I would choose Choice 2.", "maybe");
        assert_eq!(bad_label.score, None);
    }

    /// Re-runs [`extract`] on every hand-checked fixture line marked correct and asserts that
    /// the extraction is unchanged (`extracted` is the decision's name).
    #[test]
    fn hand_checked_extractions_still_hold() {
        let fixture = include_str!("../../tests/fixtures/gold_hand_checked.jsonl");
        let mut checked = 0;
        for (n, line) in fixture.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let row: Value = serde_json::from_str(line).expect("fixture line is JSON");
            if row["verdict"] != "correct" {
                continue;
            }
            let field = |k: &str| row[k].as_str().expect("fixture field is a string").to_string();
            let got = extract(&field("task"), &field("prompt"), &field("response"));
            assert_eq!(
                got.decision.map(Decision::as_str),
                row["extracted"].as_str(),
                "fixture line {}: {} {}: {}",
                n + 1,
                field("run_id"),
                row["index"],
                got.reason
            );
            checked += 1;
        }
        assert!(checked >= 90, "only {checked} hand-checked lines marked correct");
    }
}
