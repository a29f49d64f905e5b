//! The answer forms of every yes/no task (BoolQ, CB, RTE, WiC, WSC): a leading `Yes, …` /
//! `No.` (`leading_yes_no`, with BoolQ's `True` / `False` and CB's and RTE's `Not
//! necessarily`) and `the answer is: No` / `I would say yes` (`answer_is`).

use super::boolq::says_passage_is_silent;
use super::clause::any_word;
use super::lex::{Sent, Tok};
use super::verdict::{Strength, Verdict};
use super::{Decision, Task};

fn yes_no_word(task: Task, w: &str) -> Option<Decision> {
    match w {
        "yes" => Some(Decision::Yes),
        "no" => Some(Decision::No),
        "true" if task == Task::BoolQ => Some(Decision::Yes),
        "false" if task == Task::BoolQ => Some(Decision::No),
        _ => None,
    }
}

/// `Yes, …`, `No.`, `True` (BoolQ), `Not necessarily` (CB, RTE) at the start of a sentence.
pub(super) fn leading_yes_no(task: Task, s: &Sent) -> Option<Verdict> {
    if matches!(task, Task::Cb | Task::Rte) && s.is(0, "not") && s.is(1, "necessarily") {
        return Some((Decision::No, Strength::Firm, "not necessarily".into()));
    }
    // "Yes, …" or, after a short introduction, "According to the passage, no, …"
    let k = if yes_no_word(task, s.word(0)).is_some() {
        0
    } else {
        let intro = matches!(
            s.word(0),
            "according"
                | "based"
                | "so"
                | "therefore"
                | "thus"
                | "well"
                | "overall"
                | "simply"
                | "in"
                | "to"
                | "then"
                | "hence"
                | "ultimately"
                | "clearly"
                | "obviously"
        );
        let comma = (1..s.toks.len().min(12)).find(|&i| s.punct(i) == Some(','))?;
        if !intro || any_word(s, 0, comma, &["if", "whether", "not"]) {
            return None;
        }
        comma + 1
    };
    let d = yes_no_word(task, s.word(k))?;
    match s.toks.get(k + 1) {
        None | Some(Tok::P(',' | '.' | '!' | ':' | ';' | '-')) => {}
        _ => return None,
    }
    // "Yes and no", "No, and yes": both.
    if s.is(k + 2, "and") && yes_no_word(task, s.word(k + 3)).is_some() {
        return None;
    }
    // BoolQ "No, the passage does not explicitly state that …" is about the passage, not an
    // answer to the question
    let silence = task == Task::BoolQ && d == Decision::No && says_passage_is_silent(s, k + 1);
    let st = if silence { Strength::Hedge } else { Strength::Firm };
    Some((d, st, s.word(k).to_string()))
}

/// `the answer is: No`, `answer: yes`, `my answer is that yes, …`, `I would say no`,
/// `I would choose "Yes, they can" as the correct answer`.
pub(super) fn answer_is(task: Task, s: &Sent) -> Option<Verdict> {
    let frame_words = [
        "answer", "choose", "chose", "select", "say", "conclude", "respond", "choice",
    ];
    for k in 1..s.toks.len() {
        let d = match &s.toks[k] {
            // the word must end its clause
            Tok::W(w) if matches!(s.toks.get(k + 1), None | Some(Tok::P(_))) => yes_no_word(task, w),
            Tok::Q(q) if q.split(' ').count() <= 6 => {
                yes_no_word(task, q.split(' ').next().unwrap_or_default())
            }
            _ => None,
        };
        let Some(d) = d else {
            continue;
        };
        let mut j = k;
        while j > 0 && matches!(s.punct(j - 1), Some(':' | ',' | '-')) {
            j -= 1;
        }
        let lead: Vec<&str> = s.toks[..j]
            .iter()
            .filter_map(|t| match t {
                Tok::W(w) => Some(w.as_str()),
                _ => None,
            })
            .collect();
        let introduced = lead.last().is_some_and(|w| {
            matches!(
                *w,
                "is" | "answer" | "say" | "that" | "as" | "choose" | "chose" | "select" | "be"
            )
        });
        let framed = lead[lead.len().saturating_sub(8)..]
            .iter()
            .any(|w| frame_words.contains(w))
            || matches!(s.toks[k], Tok::Q(_)) && any_word(s, k + 1, s.toks.len(), &["answer"]);
        if !introduced
            || !framed
            || lead
                .iter()
                .any(|w| matches!(*w, "if" | "whether" | "not" | "either" | "or"))
        {
            continue;
        }
        let cue = match &s.toks[k] {
            Tok::Q(q) => format!("answer \"{q}\""),
            _ => format!("answer {}", s.word(k)),
        };
        return Some((d, Strength::Firm, cue));
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::gold::testing::{BOOLQ_BUFFY, BOOLQ_JERSEY, d};
    use crate::gold::{Decision, extract};

    #[test]
    fn a_leading_yes_answers_a_boolq_question() {
        let r = "Yes, there is an international airport in Naples, Italy.";
        assert_eq!(d("BoolQ", BOOLQ_JERSEY, r), Some(Decision::Yes));
    }

    #[test]
    fn true_answers_a_boolq_question() {
        let r = "True. The passage states that the notes are legal currency.";
        assert_eq!(d("BoolQ", BOOLQ_JERSEY, r), Some(Decision::Yes));
    }

    #[test]
    fn a_no_after_a_short_introduction_is_a_no() {
        let r = "According to the passage, no, Buffy's mom, Joyce Summers, is initially unaware of her \
                 daughter's powers and responsibilities as the Slayer.";
        assert_eq!(d("BoolQ", BOOLQ_BUFFY, r), Some(Decision::No));
    }

    #[test]
    fn the_answer_is_yes_is_a_yes() {
        let r = "According to the passage, the answer is:  YES, it is legal to carry a sgian-dubh.";
        let ex = extract("BoolQ", BOOLQ_JERSEY, r);
        assert_eq!(ex.decision, Some(Decision::Yes));
        assert_eq!(ex.rule, "answer_is");
    }

    #[test]
    fn yes_and_no_is_null() {
        let r = "Yes and no. The passage says the notes circulate but are not legal tender.";
        assert_eq!(d("BoolQ", BOOLQ_JERSEY, r), None);
    }
}
