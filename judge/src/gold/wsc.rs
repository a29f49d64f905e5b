//! WSC: reference verdicts (`reference_statement`). The answer says that the pronoun asked
//! about refers (or does not refer) to a noun phrase, which is the candidate of the prompt (a
//! yes) or another noun phrase of the passage (a no).

use super::Decision;
use super::clause::{CLAUSE_BREAKS, any_word, count_negators, frame, place, verb_group};
use super::lex::{Sent, Tok};
use super::prompt::Context;
use super::verdict::{Strength, Verdict};

const DETERMINERS: &[&str] = &["the", "a", "an", "this", "that", "these", "those"];

const NOT_REFERENTS: &[&str] = &[
    "it",
    "he",
    "she",
    "they",
    "him",
    "her",
    "them",
    "his",
    "its",
    "their",
    "someone",
    "somebody",
    "something",
    "person",
    "people",
    "subject",
    "object",
    "noun",
    "pronoun",
    "antecedent",
    "male",
    "female",
    "individual",
    "one",
    "thing",
    "entity",
    "same",
    "either",
    "both",
    "previous",
    "previously",
    "mentioned",
    "whom",
    "who",
    "what",
    "speaker",
    "narrator",
    "sentence",
    "clause",
    "word",
    "action",
    "group",
    "plural",
    "singular",
];

/// Words that end a named noun phrase.
const NP_STOPS: &[&str] = &[
    "to",
    "being",
    "compared",
    "than",
    "with",
    "at",
    "by",
    "for",
    "from",
    "not",
    "in",
    "because",
    "or",
    "rather",
    "as",
    "here",
    "there",
    "is",
    "was",
    "are",
    "were",
    "and",
    "who",
    "which",
    "that",
    "since",
    "when",
    "while",
    "but",
    "so",
    "on",
    "whom",
    "whose",
    "instead",
    "throughout",
    "earlier",
    "mentioned",
    "previously",
];

fn content_words(words: &[String]) -> Vec<String> {
    words
        .iter()
        .filter(|w| !DETERMINERS.contains(&w.as_str()))
        .map(|w| w.trim_end_matches("'s").to_string())
        .collect()
}

/// Whether a named referent is the candidate (one's words contain the other's).
fn same_referent(named: &[String], candidate: &[String]) -> bool {
    let head: Vec<String> = named
        .iter()
        .take_while(|w| !NP_STOPS.contains(&w.as_str()) && w.as_str() != "of")
        .cloned()
        .collect();
    let n = content_words(&head);
    let c = content_words(candidate);
    if n.is_empty() || c.is_empty() {
        return false;
    }
    c.iter().all(|w| n.contains(w)) || n.iter().all(|w| c.contains(w))
}

/// The noun phrase starting at `j` (a quoted span, or words up to a stop word) and the index
/// just after it.
fn noun_phrase_at(s: &Sent, mut j: usize) -> (Vec<String>, usize) {
    if matches!(s.word(j), "the" | "a" | "an") && matches!(s.toks.get(j + 1), Some(Tok::Q(_))) {
        j += 1;
    }
    match s.toks.get(j) {
        Some(Tok::Q(q)) => (q.split(' ').map(str::to_string).collect(), j + 1),
        _ => {
            let mut v = Vec::new();
            while let Some(Tok::W(x)) = s.toks.get(j) {
                if NP_STOPS.contains(&x.as_str()) || v.len() >= 6 {
                    break;
                }
                v.push(x.clone());
                j += 1;
            }
            (v, j)
        }
    }
}

/// Verdicts on "does <pronoun> refer to <candidate>".
pub(super) fn reference_verdicts(ctx: &Context, s: &Sent) -> Vec<Verdict> {
    let mut out = Vec::new();
    if ctx.pronoun.is_empty() || ctx.candidate.is_empty() {
        return out;
    }
    let n = s.toks.len();
    for k in 0..n {
        let w = s.word(k);
        if !matches!(w, "refers" | "refer" | "referring" | "referred") {
            continue;
        }
        let mut g = verb_group(s, k, &["used", "most", "likely", "here", "clearly", "correctly"]);
        // "does not necessarily refer to X" leaves the question open
        if any_word(s, g.start, k, &["necessarily"]) {
            g.hedged = true;
        }
        // the pronoun (quoted or not) or "the pronoun" shortly before the verb group,
        // allowing "in this sentence" between
        let mut subj = None;
        let mut j = g.start;
        while j > 0 && g.start - j < 7 {
            j -= 1;
            match &s.toks[j] {
                Tok::Q(q) | Tok::W(q) if *q == ctx.pronoun || q == "pronoun" => {
                    subj = Some(j);
                    break;
                }
                // '"his" is a possessive pronoun, and in this context, it refers to …'
                Tok::W(x)
                    if x == "it"
                        && j + 1 == g.start
                        && (0..j).any(|i| matches!(&s.toks[i], Tok::Q(q) if *q == ctx.pronoun)) =>
                {
                    subj = Some(j);
                    break;
                }
                // '"he" is a pronoun that refers to Paul' (but not '"they" is not a pronoun
                // that refers to …')
                Tok::W(x)
                    if matches!(x.as_str(), "that" | "which")
                        && s.is(j.saturating_sub(1), "pronoun")
                        && count_negators(s, j.saturating_sub(5), j) == 0 => {}
                Tok::W(x) if CLAUSE_BREAKS.contains(&x.as_str()) && x != "as" || x == "to" => {
                    break;
                }
                _ => {}
            }
        }
        let Some(subj) = subj else {
            continue;
        };
        // "refers to X", "refers back to X"
        let mut j = k + 1;
        while matches!(
            s.word(j),
            "back" | "directly" | "specifically" | "clearly" | "only"
        ) {
            j += 1;
        }
        if !s.is(j, "to") {
            continue;
        }
        j += 1;
        let (named, np_end) = noun_phrase_at(s, j);
        // "refers to the person who dropped the ice cream, which is Tommy": a generic noun
        // phrase is named by the `, which is …` or `namely …` that follows it
        let generic = content_words(&named)
            .first()
            .is_some_and(|w| NOT_REFERENTS.contains(&w.as_str()));
        let (named, after_np) = if generic {
            (np_end..s.toks.len().min(np_end + 20))
                .find(|&i| {
                    s.punct(i) == Some(',') && s.is(i + 1, "which") && s.is(i + 2, "is") || s.is(i, "namely")
                })
                .map(|i| if s.is(i, "namely") { i + 1 } else { i + 3 })
                .map(|i| noun_phrase_at(s, i))
                .filter(|(np, _)| !np.is_empty())
                .map_or((named, np_end), |found| found)
        } else {
            (named, np_end)
        };
        if named.is_empty() {
            continue;
        }
        let fr = frame(s, subj);
        let Some((polarity, mut st, cue)) = place(Decision::Yes, g, fr, (Decision::Yes, Decision::No), w)
        else {
            continue;
        };
        // "refers to either X or Y", "both": hedge
        if named.first().is_some_and(|x| x == "either" || x == "both")
            || s.is(after_np, "or")
            || s.is(after_np + 1, "or") && s.punct(after_np) == Some(',')
        {
            st = Strength::Hedge;
        }
        let matches_candidate = same_referent(&named, &ctx.candidate);
        let content = content_words(&named);
        let real_np = !content.is_empty()
            && !content.iter().any(|x| NOT_REFERENTS.contains(&x.as_str()))
            && content
                .iter()
                .take_while(|x| !NP_STOPS.contains(&x.as_str()) && x.as_str() != "of")
                .any(|x| {
                    ctx.text
                        .iter()
                        .any(|t| t.trim_end_matches("'s") == x || x.len() >= 4 && t.starts_with(x.as_str()))
                });
        let d = match (polarity, matches_candidate) {
            (Decision::Yes, true) => Decision::Yes,
            (Decision::Yes, false) if real_np => Decision::No,
            (Decision::No, true) => Decision::No,
            _ => continue,
        };
        out.push((d, st, format!("{cue} to {}", named.join(" "))));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::gold::testing::{WSC_BOY, WSC_CAT, WSC_SUSAN, WSC_WORM, d};
    use crate::gold::{Decision, extract};

    #[test]
    fn naming_another_referent_is_a_no() {
        let r = "In the sentence, \"it\" refers to \"the mouse\".  The reason is that the sentence is \
                 describing the mouse's behavior.";
        let ex = extract("WSC", WSC_CAT, r);
        assert_eq!(ex.decision, Some(Decision::No));
        assert_eq!(ex.rule, "reference_statement");
    }

    #[test]
    fn naming_the_candidate_is_a_yes() {
        let r = "The pronoun \"it\" is likely referring to the cat, which was lying by the mouse hole.";
        assert_eq!(d("WSC", WSC_CAT, r), Some(Decision::Yes));
    }

    #[test]
    fn a_pronoun_that_does_not_refer_to_the_candidate_is_a_no() {
        let r = "In this sentence, \"his\" does not refer to \"the boy\".   The pronoun \"his\" is a \
                 possessive pronoun.";
        assert_eq!(d("WSC", WSC_BOY, r), Some(Decision::No));
    }

    #[test]
    fn yes_with_another_referent_contradicts_itself() {
        let r = "Yes, \"she\" refers to \"Andrea\".   The sentence states \"As Andrea in the crop \
                 duster passed over Susan\".";
        let ex = extract("WSC", WSC_SUSAN, r);
        assert_eq!(ex.decision, None);
        assert_eq!(ex.rule, "contradiction");
    }

    #[test]
    fn a_generic_referent_is_named_by_the_which_clause_after_it() {
        let prompt = "When Tommy dropped his ice cream, Timmy giggled, so father gave him a sympathetic \
                      look.\n\nIn the sentence above, does \"him\" refer to \"Timmy\"? Explain your choice.";
        let r = "In the sentence, the pronoun \"him\" refers to \"Timmy\".   The reason is that \"him\" \
                 is used to refer to the person who dropped the ice cream, which is Tommy.";
        let ex = extract("WSC", prompt, r);
        assert_eq!(ex.decision, None);
        assert_eq!(ex.rule, "contradiction");
    }

    #[test]
    fn a_reference_to_either_noun_is_a_hedge() {
        let r = "A classic case of ambiguity!  In this sentence, \"It\" can actually refer to either \
                 \"The fish\" or \"The worm\".";
        assert_eq!(d("WSC", WSC_WORM, r), None);
    }
}
