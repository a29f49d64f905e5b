//! WiC: meaning verdicts (`meaning_statement`). The answer says that the word asked about has
//! the same or different meanings in the two sentences; a clause about the sentences rather
//! than the word, or a definition of polysemy, says nothing.

use super::Decision;
use super::clause::{any_word, clause_start, frame, place, verb_group};
use super::lex::{Sent, Tok};
use super::prompt::Context;
use super::verdict::Verdict;

const MEANING_NOUNS: &[&str] = &[
    "meaning",
    "meanings",
    "sense",
    "senses",
    "definition",
    "definitions",
    "interpretation",
    "interpretations",
];

/// Modifiers allowed between `same`/`different` and the meaning noun.
const MEANING_MODIFIERS: &[&str] = &[
    "basic",
    "general",
    "core",
    "root",
    "underlying",
    "fundamental",
    "overall",
    "literal",
    "essential",
    "exact",
    "primary",
    "precise",
    "semantic",
    "lexical",
    "two",
    "very",
    "specific",
    "distinct",
    "separate",
    "entirely",
    "completely",
    "totally",
    "quite",
];

/// Verbs and fillers between the word and `the same meaning`.
const MEANING_GROUP: &[&str] = &[
    "the",
    "a",
    "an",
    "two",
    "have",
    "has",
    "had",
    "carry",
    "carries",
    "share",
    "shares",
    "convey",
    "conveys",
    "hold",
    "holds",
    "retain",
    "retains",
    "keep",
    "keeps",
    "with",
    "in",
    "used",
    "use",
    "uses",
    "mean",
    "means",
    "express",
    "expresses",
    "refer",
    "refers",
    "take",
    "takes",
    "on",
    "bear",
    "bears",
    "are",
    "is",
    "remains",
    "remain",
    "stays",
    "stay",
    "of",
    "both",
    "exactly",
    "same",
    "each",
    "sentence",
    "sentences",
    "its",
    "their",
];

fn mentions_word(ctx: &Context, s: &Sent, a: usize, b: usize) -> bool {
    (a..b.min(s.toks.len())).any(|i| match &s.toks[i] {
        Tok::Q(q) | Tok::W(q) => {
            (!ctx.word.is_empty() && (*q == ctx.word || q.starts_with(&ctx.word)))
                || matches!(q.as_str(), "word" | "words" | "term" | "it")
        }
        _ => false,
    })
}

/// Verdicts on "does the word have the same meaning".
pub(super) fn meaning_verdicts(ctx: &Context, s: &Sent) -> Vec<Verdict> {
    let mut out = Vec::new();
    let n = s.toks.len();
    // definitions ("polysemy, where a word can have distinct meanings") and other contexts
    if any_word(
        s,
        0,
        n,
        &[
            "polysemy",
            "polysemous",
            "homophones",
            "homonyms",
            "homographs",
            "homophone",
            "homonym",
            "homograph",
        ],
    ) || (0..n).any(|i| {
        s.is(i, "other")
            && matches!(
                s.word(i + 1),
                "contexts" | "context" | "situations" | "sentences" | "uses"
            )
    }) {
        return out;
    }
    for k in 0..n {
        let w = s.word(k);
        let same = matches!(w, "same" | "identical");
        let different = matches!(w, "different" | "distinct" | "differ" | "differs");
        if !same && !different {
            continue;
        }
        let base = if same { Decision::Yes } else { Decision::No };
        // (a) "the same (basic) meaning", "different senses", "differ in meaning"
        let mut j = k + 1;
        while j < n && MEANING_MODIFIERS.contains(&s.word(j)) {
            j += 1;
        }
        if matches!(w, "differ" | "differs") && s.is(j, "in") {
            j += 1;
        }
        if j < n && MEANING_NOUNS.contains(&s.word(j)) {
            let mut g = verb_group(s, k, MEANING_GROUP);
            // "can have different meanings (depending on the context)" is about the word in
            // general
            if any_word(s, g.start, k, &["can"]) || any_word(s, j, n, &["depending", "depend", "depends"]) {
                g.hedged = true;
            }
            let start = clause_start(s, g.start);
            let region = (0..g.start)
                .rev()
                .find(|&i| {
                    s.punct(i) == Some(';')
                        || matches!(
                            s.word(i),
                            "however" | "although" | "though" | "while" | "whereas" | "despite"
                        )
                })
                .map_or(0, |i| i + 1);
            // the clause must be about the word, not about the sentences
            let about_sentences = any_word(
                s,
                start,
                g.start,
                &["sentences", "sentence", "statements", "contexts"],
            ) && !mentions_word(ctx, s, start, k);
            let subject_ok = !about_sentences && mentions_word(ctx, s, region, k);
            if subject_ok {
                let fr = frame(s, start);
                if let Some(v) = place(base, g, fr, (Decision::Yes, Decision::No), w) {
                    out.push(v);
                }
            }
            continue;
        }
        // (b) "the meaning of "x" is the same", "the meanings are different", "the meanings differ"
        let g = verb_group(
            s,
            k,
            &[
                "the", "is", "are", "remains", "remain", "stays", "stay", "was", "were", "exactly",
                "slightly", "subtly", "a", "bit", "little",
            ],
        );
        let mut m = g.start;
        // "the meanings of "x" in both sentences"
        let lookback = m.saturating_sub(7);
        let noun = (lookback..m).rev().find(|&i| MEANING_NOUNS.contains(&s.word(i)));
        if let Some(noun_at) = noun {
            let between_ok = (noun_at + 1..m).all(|i| match &s.toks[i] {
                Tok::Q(_) => true,
                Tok::W(x) => {
                    matches!(
                        x.as_str(),
                        "of" | "the" | "word" | "in" | "both" | "two" | "sentences" | "each" | "contexts"
                    ) || *x == ctx.word
                }
                _ => false,
            });
            let verb_between = any_word(
                s,
                g.start,
                k,
                &["is", "are", "remains", "remain", "stays", "stay", "was", "were"],
            ) || matches!(w, "differ" | "differs");
            if between_ok && verb_between && !s.is(noun_at.saturating_sub(1), "same") {
                m = noun_at;
                let fr = frame(s, clause_start(s, m));
                if let Some(v) = place(base, g, fr, (Decision::Yes, Decision::No), w) {
                    out.push(v);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::gold::Decision;
    use crate::gold::testing::{WIC, d};

    #[test]
    fn a_word_that_does_not_have_the_same_meaning_is_a_no() {
        let r = "No, the word \"wall\" does not have the same meaning in the two sentences.";
        assert_eq!(d("WiC", WIC, r), Some(Decision::No));
    }

    #[test]
    fn slightly_different_meanings_are_a_no() {
        let r = "In the two sentences, the word \"wall\" has slightly different meanings.  In Sentence \
                 1, \"A wall of prejudice,\" the word \"wall\" is used metaphorically.";
        assert_eq!(d("WiC", WIC, r), Some(Decision::No));
    }

    #[test]
    fn a_meaning_that_is_the_same_is_a_yes() {
        let r = "In both sentences, the meaning of the word \"wall\" is the same: a barrier.";
        assert_eq!(d("WiC", WIC, r), Some(Decision::Yes));
    }

    #[test]
    fn sentences_with_different_meanings_say_nothing_about_the_word() {
        let r = "The two sentences have different meanings.";
        assert_eq!(d("WiC", WIC, r), None);
    }

    #[test]
    fn different_meanings_in_other_contexts_do_not_contradict_the_answer() {
        let r = "Yes, the word \"wall\" has the same meaning in both sentences.  The word \"wall\" has \
                 different meanings in other contexts, such as geography.";
        assert_eq!(d("WiC", WIC, r), Some(Decision::Yes));
    }
}
