//! BoolQ: the weak verdict of an answer that restates the question as a statement
//! (`question_restated`), and what marks a sentence as speaking of the passage's silence
//! rather than answering (also read by `leading_yes_no`: `No, the passage does not state …`).

use super::Decision;
use super::clause::{FRAME_HEDGES, NEGATORS, any_word, clause_start, count_negators, frame, verb_group};
use super::lex::{Sent, Tok};
use super::prompt::Context;
use super::verdict::{Found, Strength};

const STOPWORDS: &[&str] = &[
    "is", "are", "was", "were", "do", "does", "did", "the", "a", "an", "of", "in", "on", "to", "for", "and",
    "or", "be", "been", "can", "could", "will", "would", "has", "have", "had", "there", "it", "its", "at",
    "by", "with", "as", "from", "that", "this", "any", "same", "not", "no", "ever", "you", "your", "we",
    "they", "their",
];

fn stem(w: &str) -> &str {
    let w = w.trim_end_matches("'s");
    if w.len() > 4 {
        w.strip_suffix('s').unwrap_or(w)
    } else {
        w
    }
}

/// Words that make a restatement no verdict: the answer talks about the passage's silence,
/// hedges, or asks.
const SILENCE: &[&str] = &[
    "unclear",
    "uncertain",
    "whether",
    "if",
    "may",
    "might",
    "could",
    "possibly",
    "perhaps",
    "question",
    "asks",
    "asking",
    "depends",
    "depend",
    "debate",
    "ambiguous",
    "necessarily",
];

/// Word beginnings that, negated, mean the passage is silent: `does not mention / state …`,
/// `there is no confirmation / information / evidence …`.
const SILENT_VERBS: &[&str] = &[
    "mention",
    "state",
    "say",
    "specif",
    "provid",
    "indicat",
    "explicit",
    "clear",
    "confirm",
    "directly",
    "address",
    "enough",
    "sufficient",
    "information",
    "evidence",
    "definitive",
    "official",
    "direct",
    "specific",
];

/// Whether a negator from token `from` on is followed within three words by a [`SILENT_VERBS`]
/// word: the sentence says that the passage is silent (`the passage does not explicitly state
/// …`) rather than answering.
pub(super) fn says_passage_is_silent(s: &Sent, from: usize) -> bool {
    let n = s.toks.len();
    (from..n).any(|j| {
        NEGATORS.contains(&s.word(j))
            && (j + 1..(j + 4).min(n)).any(|m| SILENT_VERBS.iter().any(|v| s.word(m).starts_with(v)))
    })
}

/// Words that show a restatement describes, compares or qualifies instead of answering.
const NOT_AN_ANSWER: &[&str] = &[
    "varies",
    "vary",
    "depends",
    "related",
    "relate",
    "relates",
    "compares",
    "compared",
    "compare",
    "mentioned",
    "mentions",
    "includes",
    "include",
    "included",
    "different",
    "difference",
    "differences",
    "rather",
    "instead",
    "than",
    "classify",
    "determine",
    "nickname",
    "statement",
    "correct",
    "sentence",
    "choose",
    "chose",
    "similar",
    "unknown",
    "requirement",
    "requirements",
    "refer",
    "refers",
    "term",
    "name",
    "called",
    "option",
    "choice",
    "exactly",
    "technically",
    "partially",
    "partly",
    "sometimes",
    "often",
    "usually",
    "generally",
    "typically",
    "always",
    "never",
    "only",
    "some",
    "certain",
    "conditions",
    "limitations",
    "exceptions",
    "except",
    "unless",
    "however",
    "although",
    "case",
    "cases",
    "during",
    "context",
];

/// Words that open a yes/no question.
const QUESTION_OPENERS: &[&str] = &[
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "has", "have", "had",
    "should", "must", "may", "shall",
];

/// A sentence among the first two (or a conclusion) that restates the question as a
/// statement (weak): its polarity against the question's gives yes or no.
pub(super) fn boolq_echo(ctx: &Context, sents: &[Sent], found: &mut Vec<Found>) {
    let q: Vec<&str> = ctx
        .text
        .iter()
        .map(String::as_str)
        .filter(|w| !STOPWORDS.contains(w))
        .map(stem)
        .collect();
    if q.len() < 3
        || !ctx
            .text
            .first()
            .is_some_and(|w| QUESTION_OPENERS.contains(&w.as_str()))
    {
        return;
    }
    let q_neg = count_negators_words(&ctx.text) % 2 == 1;
    let leading = sents
        .iter()
        .enumerate()
        .filter(|(_, s)| s.end != '!')
        .take(2)
        .map(|(i, _)| i);
    let conclusions = sents.iter().enumerate().filter_map(|(i, s)| {
        (matches!(s.word(0), "therefore" | "thus" | "hence" | "so" | "overall")
            || s.is(0, "in") && matches!(s.word(1), "conclusion" | "summary" | "short"))
        .then_some(i)
    });
    let mut verdicts: Vec<(usize, Decision)> = Vec::new();
    for i in leading.chain(conclusions) {
        if verdicts.iter().any(|v| v.0 == i) {
            continue;
        }
        // quoted words count as the answer's own ("I would choose: "each state has …"")
        let s = &sents[i];
        let mut toks: Vec<Tok> = Vec::with_capacity(s.toks.len());
        for t in &s.toks {
            match t {
                Tok::Q(q) => toks.extend(q.split([' ', '-']).map(|w| Tok::W(w.to_string()))),
                // "sgian-dubh" answers a question about "sgian dubh"
                Tok::W(w) if w.contains('-') => {
                    toks.extend(w.split('-').map(|p| Tok::W(p.to_string())));
                }
                // "the United Kingdom" answers a question about "the uk"
                Tok::W(w) if w == "kingdom" && toks.last() == Some(&Tok::W("united".into())) => {
                    toks.pop();
                    toks.push(Tok::W("uk".into()));
                }
                other => toks.push(other.clone()),
            }
        }
        let flat = Sent { toks, end: s.end };
        if flat.end == '?' {
            continue;
        }
        let positions: Vec<usize> = (0..flat.toks.len())
            .filter(|&j| q.contains(&stem(flat.word(j))))
            .collect();
        let hit = q
            .iter()
            .filter(|w| positions.iter().any(|&j| stem(flat.word(j)) == **w))
            .count();
        // all of the question's content words (one may be missing from six on), in the
        // question's order
        let needed = if q.len() <= 5 { q.len() } else { q.len() - 1 };
        let said: Vec<&str> = positions.iter().map(|&j| stem(flat.word(j))).collect();
        if hit < needed
            || common_subsequence(&q, &said) < needed
            || any_word(&flat, 0, flat.toks.len(), NOT_AN_ANSWER)
        {
            continue;
        }
        let (Some(&first), Some(&last)) = (positions.first(), positions.last()) else {
            continue;
        };
        let n = flat.toks.len();
        let silent = says_passage_is_silent(&flat, 0);
        // "the passage states that …" reports, "while …" concedes, "but …" qualifies
        let reported = (0..n).any(|j| {
            flat.is(j, "passage")
                && matches!(
                    flat.word(j + 1),
                    "states" | "mentions" | "says" | "describes" | "notes" | "suggests" | "implies"
                )
        });
        let concessive = any_word(
            &flat,
            0,
            first,
            &["while", "although", "though", "whereas", "despite"],
        );
        if silent || reported || concessive || any_word(&flat, 0, n, SILENCE) {
            continue;
        }
        let g = verb_group(&flat, first, &[]);
        let start = clause_start(&flat, g.start);
        // a negator outside the restated span (and its `that`-frame) makes the polarity
        // unclear
        let framed = start > 0 && flat.is(start - 1, "that");
        let before = if framed {
            0
        } else {
            count_negators(&flat, 0, start)
        };
        if before + count_negators(&flat, last + 1, n) > 0 {
            continue;
        }
        let neg = count_negators(&flat, start, last + 1) % 2 == 1;
        let fr = frame(&flat, start);
        // "it appears / seems that …" is how these answers state their verdict
        let hedged = fr.hedged
            && any_word(
                &flat,
                0,
                start,
                FRAME_HEDGES
                    .iter()
                    .filter(|w| !matches!(**w, "seems" | "appears"))
                    .copied()
                    .collect::<Vec<_>>()
                    .as_slice(),
            );
        if fr.conditional || hedged {
            continue;
        }
        let d = if (neg != fr.negated) == q_neg {
            Decision::Yes
        } else {
            Decision::No
        };
        verdicts.push((i, d));
    }
    for (i, d) in verdicts {
        found.push(Found {
            decision: d,
            rule: "question_restated",
            sent: i,
            strength: Strength::Weak,
            cue: "restated question".into(),
        });
    }
}

/// Length of the longest common subsequence of two word lists.
fn common_subsequence(a: &[&str], b: &[&str]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        let mut diag = 0;
        for (j, y) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = if x == y { diag + 1 } else { up.max(row[j]) };
            diag = up;
        }
    }
    row[b.len()]
}

fn count_negators_words(words: &[String]) -> usize {
    words.iter().filter(|w| NEGATORS.contains(&w.as_str())).count()
}

#[cfg(test)]
mod tests {
    use crate::gold::testing::{BOOLQ_FALLEN, BOOLQ_JERSEY, d};
    use crate::gold::{Decision, extract};

    #[test]
    fn a_negated_restatement_of_the_question_is_a_no() {
        let r = "Based on the passage, I would say that the Jersey currency (the Jersey pound) is not \
                 legal tender in the United Kingdom. Here's why:";
        let ex = extract("BoolQ", BOOLQ_JERSEY, r);
        assert_eq!(ex.decision, Some(Decision::No));
        assert_eq!(ex.rule, "question_restated");
    }

    #[test]
    fn a_passage_that_is_silent_is_not_an_answer() {
        let r = "No, the passage does not explicitly state that the Fallen movie is going to have a \
                 sequel. However, it does mention that the sequel, \"Torment\", is in development, which \
                 suggests that the sequel may be possible.";
        assert_eq!(d("BoolQ", BOOLQ_FALLEN, r), None);
    }

    #[test]
    fn a_possible_sequel_is_a_hedge() {
        let r = "Based on the passage, it is possible that a sequel to the Fallen movie may be made, but \
                 it is not confirmed.";
        assert_eq!(d("BoolQ", BOOLQ_FALLEN, r), None);
    }
}
