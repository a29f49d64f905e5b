//! COPA: where an answer names a choice (`Choice 2`, `the first option`, `(b)`, or the
//! choice's own text), which choice a sentence selects (`choice_selected`), and the weak
//! fallback for an answer that names only one choice or names the other only to reject it
//! (`only_choice_named`, `other_choice_rejected`).

use super::Decision;
use super::clause::any_word;
use super::lex::{Sent, Tok};
use super::prompt::Context;
use super::verdict::{Found, Strength, Verdict};

/// Words that select the choice named after them in the same clause.
const SELECTORS: &[&str] = &[
    "choose",
    "chose",
    "choosing",
    "select",
    "selected",
    "selecting",
    "pick",
    "picked",
    "opt",
    "answer",
    "correct",
    "likely",
    "plausible",
    "probable",
    "best",
    "right",
    "logical",
    "reasonable",
    "appropriate",
    "sensible",
    "suitable",
    "prefer",
    "preferred",
    "say",
    "argue",
    "recommend",
];

/// Adjectives that select a choice named before them: `Choice 2 is the correct answer`.
const POST_SELECTORS: &[&str] = &[
    "correct",
    "likely",
    "plausible",
    "best",
    "right",
    "probable",
    "logical",
    "reasonable",
    "sensible",
    "appropriate",
    "suitable",
    "effective",
];

/// Nouns of a cause/effect frame: `the cause of … is Choice 2`.
const CAUSE_NOUNS: &[&str] = &[
    "cause",
    "effect",
    "result",
    "outcome",
    "consequence",
    "explanation",
    "reason",
    "answer",
    "choice",
    "option",
];

/// Words in a mention's clause that show it is analysed or compared, not selected.
const ANALYSIS: &[&str] = &[
    "choices", "options", "both", "each", "either", "analyze", "analyse", "evaluate", "consider", "compare",
    "let's", "let", "neither", "between", "about", "first", "second",
];

/// Discourse markers anywhere before a mention that show it is the rejected alternative.
const DISCOURSE: &[&str] = &[
    "other",
    "contrast",
    "additionally",
    "alternatively",
    "unlike",
    "whereas",
    "comparison",
    "compared",
    "if",
    "whether",
    "assuming",
    "suppose",
    "unless",
];

/// Words that reject a choice.
const REJECTORS: &[&str] = &[
    "less",
    "unlikely",
    "incorrect",
    "wrong",
    "not",
    "implausible",
    "impossible",
    "least",
    "no",
    "never",
    "rule",
    "eliminate",
    "can",
    "cannot",
    "fails",
];

const PRONOUNS: &[&str] = &["it", "he", "she", "they", "i", "we", "you", "his", "her", "their"];

/// Whether `words` occur at `k` (one word may differ in its ending: `rude`/`rudely`).
fn words_at(s: &Sent, k: usize, words: &[String]) -> bool {
    if words.is_empty() || k + words.len() > s.toks.len() {
        return false;
    }
    let mut misses = 0;
    for (o, w) in words.iter().enumerate() {
        let got = s.word(k + o);
        if got == w {
            continue;
        }
        let common = got.chars().zip(w.chars()).take_while(|(a, b)| a == b).count();
        if common >= 3 && words.len() >= 4 {
            misses += 1;
        } else {
            return false;
        }
    }
    misses <= 1
}

/// A named choice: first token, choice (0 or 1), span length.
type Mention = (usize, usize, usize);

/// Where a sentence names a choice; a label and the text right after it (`Choice 2: The
/// ring went down the drain`) form one mention.
fn choice_mentions(ctx: &Context, s: &Sent) -> Vec<Mention> {
    let mut raw: Vec<Mention> = Vec::new();
    let n = s.toks.len();
    let mut k = 0;
    while k < n {
        let w = s.word(k);
        // "choice 1", "option 2", "choice (1)", "choice #2", "alternative 1"
        if matches!(w, "choice" | "option" | "alternative" | "answer") {
            let mut j = k + 1;
            while matches!(s.punct(j), Some('(' | '#')) {
                j += 1;
            }
            if matches!(s.word(j), "1" | "2") {
                let c = usize::from(s.is(j, "2"));
                let mut end = j + 1;
                if s.punct(end) == Some(')') {
                    end += 1;
                }
                raw.push((k, c, end - k));
                k = end;
                continue;
            }
        }
        // "the first choice", "the second option"
        if matches!(w, "first" | "second") && matches!(s.word(k + 1), "choice" | "option" | "alternative") {
            raw.push((k, usize::from(w == "second"), 2));
            k += 2;
            continue;
        }
        // "(1)", "(2)", "(a)", "(b)"
        if s.punct(k) == Some('(')
            && matches!(s.word(k + 1), "1" | "2" | "a" | "b")
            && s.punct(k + 2) == Some(')')
        {
            raw.push((k, usize::from(matches!(s.word(k + 1), "2" | "b")), 3));
            k += 3;
            continue;
        }
        // the choice's own text or label, quoted: "Choice 1: She completed the puzzle."
        if let Tok::Q(q) = &s.toks[k] {
            let label = ["choice 1", "choice 2", "option 1", "option 2"]
                .iter()
                .position(|l| q == l || q.starts_with(&format!("{l} ")))
                .map(|i| i % 2);
            let text = ctx.choices.iter().position(|words| {
                let t = words.join(" ");
                !words.is_empty() && (*q == t || q.ends_with(&format!(" {t}")))
            });
            if let Some(c) = label.or(text)
                && text.is_none_or(|t| t == c)
            {
                raw.push((k, c, 1));
                k += 1;
                continue;
            }
        }
        let hit = ctx.choices.iter().position(|words| words_at(s, k, words));
        if let Some(c) = hit {
            raw.push((k, c, ctx.choices[c].len()));
            k += ctx.choices[c].len();
            continue;
        }
        // the text with its leading pronoun replaced: "It was stale" -> "the bread was stale"
        let hit = ctx.choices.iter().position(|words| {
            words.len() >= 3
                && PRONOUNS.contains(&words[0].as_str())
                && k > 0
                && matches!(s.toks[k - 1], Tok::W(_))
                && !s.is(k - 1, "not")
                && words_at(s, k, &words[1..])
        });
        if let Some(c) = hit {
            raw.push((k, c, ctx.choices[c].len() - 1));
            k += ctx.choices[c].len() - 1;
            continue;
        }
        k += 1;
    }
    // merge a label with the text that follows it
    let mut out: Vec<Mention> = Vec::new();
    for m in raw {
        if let Some(last) = out.last_mut() {
            let gap = m.0.saturating_sub(last.0 + last.2);
            let joined = (last.0 + last.2..m.0).all(|i| matches!(s.punct(i), Some(':' | '(' | '-')));
            if gap <= 2 && joined && last.1 == m.1 {
                last.2 = m.0 + m.2 - last.0;
                continue;
            }
        }
        out.push(m);
    }
    out
}

fn choice_decision(c: usize) -> Decision {
    if c == 0 {
        Decision::Choice1
    } else {
        Decision::Choice2
    }
}

/// Start of the COPA clause that ends before `k` (colons do not end it).
fn copa_clause_start(s: &Sent, k: usize) -> usize {
    (0..k)
        .rev()
        .find(|&i| {
            matches!(s.punct(i), Some(',' | ';'))
                || matches!(
                    s.word(i),
                    "whereas"
                        | "while"
                        | "but"
                        | "however"
                        | "although"
                        | "though"
                        | "unlike"
                        | "rather"
                        | "than"
                        | "instead"
                        | "because"
                        | "since"
                )
        })
        .map_or(0, |i| i + 1)
}

/// `is the (most) likely cause`, `would be the best answer`, `is correct` after a mention.
fn post_selected(s: &Sent, after: usize) -> bool {
    let mut j = after;
    while matches!(s.punct(j), Some(')' | '"' | ':')) {
        j += 1;
    }
    if !matches!(s.word(j), "is" | "would" | "seems" | "appears" | "was") {
        return false;
    }
    for i in j + 1..(j + 7).min(s.toks.len()) {
        let w = s.word(i);
        if POST_SELECTORS.contains(&w) {
            // "more likely to happen after …" and "would likely be a response" describe, they
            // do not select
            return !matches!(
                s.word(i + 1),
                "to" | "than" | "be" | "have" | "lead" | "cause" | "result" | "make" | "occur"
            );
        }
        if !matches!(w, "be" | "the" | "a" | "more" | "most" | "and" | "clearly" | "to") {
            return false;
        }
    }
    false
}

/// Choices named after a selecting phrase, or followed by one.
pub(super) fn choice_verdicts(ctx: &Context, s: &Sent) -> Vec<Verdict> {
    let mut out = Vec::new();
    if s.end == '?' {
        return out;
    }
    for (k, c, len) in choice_mentions(ctx, s) {
        let start = copa_clause_start(s, k);
        let after = k + len;
        let end = (after..s.toks.len())
            .find(|&i| {
                matches!(s.punct(i), Some(',' | ';'))
                    || matches!(
                        s.word(i),
                        "because" | "as" | "since" | "whereas" | "while" | "but"
                    )
            })
            .unwrap_or(s.toks.len());
        let selected_before = any_word(s, start, k, SELECTORS)
            || (s.is(k.saturating_sub(1), "with") && s.is(k.saturating_sub(2), "go"));
        // "the cause of X is Choice 2", "the effect would be: Choice 1", "is that <text>"
        let mut b = k;
        while b > start && (s.punct(b - 1) == Some(':') || s.is(b - 1, "that")) {
            b -= 1;
        }
        let cause_frame =
            b > start && matches!(s.word(b - 1), "is" | "be" | "was") && any_word(s, start, b, CAUSE_NOUNS);
        // "the most likely effect of the two choices is: Choice 2" selects despite "choices"
        let analysis = (!(cause_frame && selected_before) && any_word(s, start, k, ANALYSIS))
            || any_word(s, start, k, &["follows", "follow"])
            || any_word(s, 0, k, DISCOURSE)
            || matches!(s.word(k.saturating_sub(1)), "of" | "for" | "about" | "with")
                && !s.is(k.saturating_sub(2), "go");
        let rejected = any_word(s, start.max(k.saturating_sub(4)), k, REJECTORS)
            || any_word(s, after, end, REJECTORS)
            || any_word(s, after, end, &["possible", "may", "might", "could"]);
        let hedged = any_word(s, start, k, &["may", "might", "could", "possibly", "perhaps"]);
        if analysis || rejected {
            continue;
        }
        if selected_before || cause_frame || post_selected(s, after) {
            let st = if hedged { Strength::Hedge } else { Strength::Firm };
            out.push((choice_decision(c), st, format!("choice {}", c + 1)));
        }
    }
    out
}

/// A COPA answer that names only one of the two choices, or names the other one only to
/// reject it (`… is less likely`, `… does not explain`), and never rejects the first (weak).
pub(super) fn copa_fallback(ctx: &Context, sents: &[Sent], found: &mut Vec<Found>) {
    let mut kept = [false; 2];
    let mut rejected = [false; 2];
    let mut first_sent: [Option<usize>; 2] = [None, None];
    for (i, s) in sents.iter().enumerate() {
        for (k, c, len) in choice_mentions(ctx, s) {
            let start = copa_clause_start(s, k);
            let after = k + len;
            let clause_end = (after..s.toks.len())
                .find(|&m| matches!(s.punct(m), Some(',' | ';')) || s.is(m, "because"))
                .unwrap_or(s.toks.len());
            let near = (after + 8).min(s.toks.len());
            let rejecting = any_word(s, start.max(k.saturating_sub(4)), k, REJECTORS)
                || any_word(s, after, clause_end.max(near), REJECTORS);
            // a choice called possible is not ruled out
            let possible = any_word(s, start, clause_end, &["possible", "may", "might", "could"]);
            if rejecting && !possible || any_word(s, 0, k, &["if", "whether"]) {
                rejected[c] = true;
            } else {
                kept[c] = true;
                first_sent[c].get_or_insert(i);
            }
        }
    }
    for c in 0..2 {
        let other = 1 - c;
        if kept[c] && !rejected[c] && !kept[other] {
            found.push(Found {
                decision: choice_decision(c),
                rule: if rejected[other] {
                    "other_choice_rejected"
                } else {
                    "only_choice_named"
                },
                sent: first_sent[c].unwrap_or_default(),
                strength: Strength::Weak,
                cue: if rejected[other] {
                    "the choice not rejected".into()
                } else {
                    "the only choice named".into()
                },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::gold::testing::{COPA_JUICE, COPA_PUZZLE, COPA_RING, COPA_RUNNER, d};
    use crate::gold::{Decision, extract};

    #[test]
    fn a_choice_label_after_a_selector_is_that_choice() {
        let r = "  Based on the premise provided, I would choose Choice 2: The ring went down the \
                 drain.  The premise states that the woman's ring slipped off in the shower.";
        let ex = extract("COPA", COPA_RING, r);
        assert_eq!(ex.decision, Some(Decision::Choice2));
        assert_eq!(ex.rule, "choice_selected");
    }

    #[test]
    fn a_quoted_choice_text_counts_as_that_choice() {
        let r = "Based on the information provided, I would choose \"The forecast predicted high \
                 temperatures.\"  The reason is that the runner wore shorts.";
        assert_eq!(d("COPA", COPA_RUNNER, r), Some(Decision::Choice1));
    }

    #[test]
    fn a_rejected_alternative_does_not_contradict_the_choice() {
        let r = "The correct choice is: Choice 1: The juice turned to wine.  Fermentation converts \
                 sugar into alcohol.  The other option, Choice 2: The juice evaporated, is incorrect \
                 because evaporation is a physical process.";
        assert_eq!(d("COPA", COPA_JUICE, r), Some(Decision::Choice1));
    }

    #[test]
    fn an_analysis_of_both_choices_is_null() {
        let r = "The effect of the two choices would be as follows:  **Choice 1: She completed the \
                 puzzle.**  The girl would feel accomplished.  **Choice 2: She took apart the \
                 puzzle.**  The girl would start again.";
        let ex = extract("COPA", COPA_PUZZLE, r);
        assert_eq!(ex.decision, None);
        assert_eq!(ex.rule, "no_verdict");
    }

    #[test]
    fn a_refusal_is_null() {
        let r = "I cannot provide information or guidance on illegal or harmful activities. Can I help \
                 you with something else?";
        assert_eq!(d("COPA", COPA_RING, r), None);
    }
}
