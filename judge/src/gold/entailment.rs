//! CB and RTE: relation verdicts (`entailment_statement`). The answer says that the premise
//! entails, implies or contradicts the hypothesis, that the hypothesis follows from, can be
//! inferred from or is supported by the premise, or that there is no entailment; the subject
//! and object must be the premise and hypothesis asked about, not an imagined one.

use super::Decision;
use super::clause::{any_word, frame, place, verb_group};
use super::lex::{Sent, Tok};
use super::prompt::Context;
use super::verdict::{Strength, Verdict};

/// Which proposition a token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Premise,
    Hypothesis,
}

fn role_of(t: &Tok, ctx: &Context) -> Option<Role> {
    match t {
        Tok::W(w) if w == "premise" || w == "premises" => Some(Role::Premise),
        Tok::W(w) if w == "hypothesis" => Some(Role::Hypothesis),
        Tok::Q(q) if q.len() > 8 && !ctx.hypothesis.is_empty() && ctx.hypothesis.contains(q.as_str()) => {
            Some(Role::Hypothesis)
        }
        Tok::Q(q) if q.len() > 8 && !ctx.premise.is_empty() && ctx.premise.contains(q.as_str()) => {
            Some(Role::Premise)
        }
        _ => None,
    }
}

/// Modifiers that make "hypothesis" a different, imagined one.
const OTHER_PROPOSITION: &[&str] = &[
    "a",
    "an",
    "another",
    "new",
    "alternative",
    "revised",
    "corrected",
    "better",
    "accurate",
    "modified",
    "different",
    "possible",
    "plausible",
    "more",
    "rephrased",
    "reworded",
    "stronger",
    "weaker",
    "second",
    "such",
    "any",
    "original",
];

/// Whether the role word at `i` names an imagined proposition (`a more accurate hypothesis`),
/// or one that follows such a proposition in the sentence (`… this hypothesis follows`).
fn other_proposition(s: &Sent, i: usize) -> bool {
    let modified = (i.saturating_sub(3)..i).any(|j| OTHER_PROPOSITION.contains(&s.word(j)));
    let imagined_before = (1..i)
        .any(|j| matches!(s.word(j), "hypothesis" | "premise") && OTHER_PROPOSITION.contains(&s.word(j - 1)));
    modified || imagined_before && s.is(i.saturating_sub(1), "this")
}

/// The proposition named right before `g` (the start of a verb group), skipping a quoted
/// restatement, commas and sentence adverbs (`the hypothesis "…" , however ,`), or opening a
/// `that`-clause that runs up to `g` (`the hypothesis that X was Y does not follow`). With
/// `statement_ok`, `this statement` counts as the hypothesis. Returns the role and the index
/// where the subject starts (its determiner included).
fn subject_role(ctx: &Context, s: &Sent, g: usize, statement_ok: bool) -> Option<(Role, usize)> {
    let (r, mut start) = near_subject(ctx, s, g, statement_ok).or_else(|| that_subject(ctx, s, g))?;
    while start > 0 && matches!(s.word(start - 1), "the" | "this" | "given" | "stated" | "above") {
        start -= 1;
    }
    Some((r, start))
}

fn near_subject(ctx: &Context, s: &Sent, g: usize, statement_ok: bool) -> Option<(Role, usize)> {
    let mut j = g;
    let mut steps = 0;
    while j > 0 && steps < 5 {
        let t = &s.toks[j - 1];
        let role = role_of(t, ctx).or_else(|| {
            (statement_ok
                && s.is(j - 1, "statement")
                && matches!(s.word(j.saturating_sub(2)), "this" | "the"))
            .then_some(Role::Hypothesis)
        });
        if let Some(r) = role {
            // "the premise "…"" — find the role word itself
            let mut start = j - 1;
            if matches!(t, Tok::Q(_)) && start > 0 && role_of(&s.toks[start - 1], ctx) == Some(r) {
                start -= 1;
            }
            if other_proposition(s, start) {
                return None;
            }
            // "the premise and hypothesis"
            if start >= 2 && s.is(start - 1, "and") {
                start -= 2;
            }
            return Some((r, start));
        }
        match t {
            Tok::P(',') => {}
            Tok::Q(_) => {}
            Tok::W(w)
                if matches!(
                    w.as_str(),
                    "however"
                        | "therefore"
                        | "thus"
                        | "so"
                        | "then"
                        | "also"
                        | "itself"
                        | "alone"
                        | "here"
                        | "given"
                        | "provided"
                        | "as"
                        | "stated"
                ) => {}
            _ => return None,
        }
        j -= 1;
        steps += 1;
    }
    None
}

/// `the hypothesis that X was Y` right before `g`, with no clause break inside.
fn that_subject(ctx: &Context, s: &Sent, g: usize) -> Option<(Role, usize)> {
    let lo = g.saturating_sub(20);
    for i in (lo..g.saturating_sub(2)).rev() {
        let broken = (i + 2..g).any(|m| {
            matches!(s.punct(m), Some(',' | ';' | ':' | '('))
                || matches!(
                    s.word(m),
                    "but"
                        | "however"
                        | "because"
                        | "since"
                        | "which"
                        | "while"
                        | "although"
                        | "whereas"
                        | "that"
                        | "so"
                )
        });
        if broken {
            return None;
        }
        if let Some(r) = role_of(&s.toks[i], ctx)
            && s.is(i + 1, "that")
            && !other_proposition(s, i)
        {
            return Some((r, i));
        }
    }
    None
}

/// The proposition named right after `k`: `entails the (given) hypothesis`.
fn object_role(ctx: &Context, s: &Sent, k: usize) -> Option<Role> {
    for j in k + 1..(k + 6).min(s.toks.len()) {
        if let Some(r) = role_of(&s.toks[j], ctx) {
            if other_proposition(s, j) {
                return None;
            }
            return Some(r);
        }
        if !matches!(
            s.word(j),
            "the"
                | "this"
                | "given"
                | "that"
                | "necessarily"
                | "directly"
                | "logically"
                | "fully"
                | "completely"
                | "entirely"
                | "strictly"
                | "explicitly"
                | "automatically"
                | "stated"
                | "provided"
                | "by"
                | "from"
                | "of"
        ) {
            return None;
        }
    }
    None
}

/// Verdicts on "does the premise entail / does the hypothesis follow".
pub(super) fn relation_verdicts(ctx: &Context, s: &Sent) -> Vec<Verdict> {
    let mut out = Vec::new();
    for k in 0..s.toks.len() {
        let w = s.word(k);
        let (active, passive, follow, contradict, positive_ok) = (
            matches!(
                w,
                "entail"
                    | "entails"
                    | "imply"
                    | "implies"
                    | "support"
                    | "supports"
                    | "prove"
                    | "proves"
                    | "guarantee"
                    | "guarantees"
            ),
            matches!(
                w,
                "entailed"
                    | "inferred"
                    | "deduced"
                    | "derived"
                    | "concluded"
                    | "implied"
                    | "supported"
                    | "proven"
                    | "proved"
                    | "guaranteed"
            ),
            matches!(w, "follow" | "follows"),
            matches!(w, "contradicts" | "contradict" | "contradicted"),
            !matches!(
                w,
                "support"
                    | "supports"
                    | "supported"
                    | "prove"
                    | "proves"
                    | "proven"
                    | "proved"
                    | "guarantee"
                    | "guarantees"
                    | "guaranteed"
            ),
        );
        if !(active || passive || follow || contradict) {
            continue;
        }
        let g = verb_group(s, k, &[]);
        let object = object_role(ctx, s, k);
        // "The premise and hypothesis are related but do not entail each other."
        if w.starts_with("entail") && s.is(k + 1, "each") && s.is(k + 2, "other") && g.negated {
            let both = (0..k).any(|i| s.is(i, "premise")) && (0..k).any(|i| s.is(i, "hypothesis"));
            let fr = frame(s, 0);
            if both && !fr.conditional && !g.hedged && !fr.hedged {
                out.push((Decision::No, Strength::Firm, "do not entail each other".into()));
            }
            continue;
        }
        let statement_ok = follow && object == Some(Role::Premise);
        // "Based on the premise, it does not entail the hypothesis."
        let it_premise = active
            && g.start > 0
            && s.is(g.start - 1, "it")
            && (0..g.start - 1).any(|i| role_of(&s.toks[i], ctx) == Some(Role::Premise))
            && !(0..g.start - 1).any(|i| role_of(&s.toks[i], ctx) == Some(Role::Hypothesis));
        let Some((subject, subj_start)) = subject_role(ctx, s, g.start, statement_ok)
            .or_else(|| it_premise.then(|| (Role::Premise, g.start - 1)))
        else {
            continue;
        };
        let roles_ok = if active {
            subject == Role::Premise && object == Some(Role::Hypothesis)
                || w.starts_with("entail") && s.is(k + 1, "each") && s.is(k + 2, "other")
        } else if passive || follow {
            subject == Role::Hypothesis && object != Some(Role::Hypothesis)
                || w == "entailed" && s.is(k + 1, "by") && s.is(k + 2, "each")
        } else {
            object.is_some_and(|o| o != subject) || s.is(k + 1, "each")
        };
        if !roles_ok {
            continue;
        }
        let fr = frame(s, subj_start);
        let Some(v) = place(Decision::Yes, g, fr, (Decision::Yes, Decision::No), w) else {
            continue;
        };
        if contradict {
            // "contradicts the hypothesis" is a no; "does not contradict" decides nothing
            if v.0 == Decision::Yes {
                out.push((Decision::No, v.1, v.2));
            }
            continue;
        }
        // "supports the hypothesis" is weaker than entailment: only its negation counts
        if v.0 == Decision::Yes && !positive_ok {
            continue;
        }
        // "entails the opposite of the hypothesis"
        if v.0 == Decision::Yes && any_word(s, k + 1, k + 4, &["opposite", "negation", "contrary"]) {
            out.push((Decision::No, v.1, v.2));
            continue;
        }
        out.push(v);
    }
    // "there is no entailment", "this is not a case of entailment"
    for k in 0..s.toks.len() {
        if !s.is(k, "entailment") {
            continue;
        }
        let mut j = k;
        while j > 0
            && matches!(
                s.word(j - 1),
                "a" | "an"
                    | "clear"
                    | "direct"
                    | "logical"
                    | "strong"
                    | "case"
                    | "of"
                    | "example"
                    | "valid"
                    | "true"
            )
        {
            j -= 1;
        }
        let no_entailment = j >= 2
            && (s.is(j - 1, "no") && matches!(s.word(j - 2), "is" | "there")
                || s.is(j - 1, "not") && s.is(j - 2, "is"));
        let d = if no_entailment {
            Decision::No
        } else if j >= 2 && s.is(j - 1, "is") && matches!(s.word(j - 2), "there" | "this" | "it") {
            Decision::Yes
        } else {
            continue;
        };
        let fr = frame(s, j.saturating_sub(2));
        if fr.conditional {
            continue;
        }
        let d = if fr.negated {
            if d == Decision::Yes {
                Decision::No
            } else {
                Decision::Yes
            }
        } else {
            d
        };
        let st = if fr.hedged {
            Strength::Hedge
        } else {
            Strength::Firm
        };
        out.push((d, st, "entailment".into()));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::gold::testing::{CB, RTE, d};
    use crate::gold::{Decision, extract};

    #[test]
    fn a_negated_entailment_is_a_no() {
        let r = "No, the premise does not entail the hypothesis.  The premise states that Ely looked \
                 \"stunned,\" which suggests that she was surprised by his statement.";
        assert_eq!(d("CB", CB, r), Some(Decision::No));
    }

    #[test]
    fn a_stated_entailment_is_a_yes() {
        let r = "The premise does entail the hypothesis.  Here's why:  * The premise states that the \
                 speaker is \"not in my dotage yet\".";
        let ex = extract("CB", CB, r);
        assert_eq!(ex.decision, Some(Decision::Yes));
        assert_eq!(ex.rule, "entailment_statement");
    }

    #[test]
    fn a_hypothesis_that_does_not_necessarily_follow_is_a_no() {
        let r = "The hypothesis \"Maglev is commercially used\" does not necessarily follow from the \
                 premise \"The German technology was employed to build Shanghai's existing maglev line.\"";
        assert_eq!(d("RTE", RTE, r), Some(Decision::No));
    }

    #[test]
    fn cannot_be_inferred_is_a_no() {
        let r = "The hypothesis cannot be inferred from the premise, which only mentions German \
                 technology.";
        assert_eq!(d("RTE", RTE, r), Some(Decision::No));
    }

    #[test]
    fn a_better_hypothesis_that_follows_is_not_the_one_asked_about() {
        let r = "No, the hypothesis does not follow from the premise.  A more accurate hypothesis that \
                 follows from the premise would be: \"Shanghai has a maglev line.\"";
        assert_eq!(d("RTE", RTE, r), Some(Decision::No));
    }

    #[test]
    fn an_answer_that_restates_the_question_before_answering_is_read_by_its_verdict() {
        let r = "A fascinating and unsettling premise!  Now, the question is whether the premise \
                 entails the hypothesis.  I would argue that the premise does not necessarily entail \
                 the hypothesis.";
        assert_eq!(d("CB", CB, r), Some(Decision::No));
    }

    #[test]
    fn not_entailing_each_other_is_a_no() {
        let r = "The premise and hypothesis are related but do not entail each other.";
        assert_eq!(d("CB", CB, r), Some(Decision::No));
    }
}
