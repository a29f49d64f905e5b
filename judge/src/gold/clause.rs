//! Clause analysis shared by the verdict extractors of CB, RTE, WiC, WSC and BoolQ (COPA, which
//! selects rather than asserts, uses only [`any_word`]): where a clause starts, the verb group
//! right before a verdict word (auxiliaries, adverbs, negators, hedges), the frame before its
//! subject (a condition, purpose or question; `we cannot conclude that …`; `it is possible
//! that …`), and [`place`], which turns a verdict word's decision into a [`Verdict`] under
//! both. The negator, hedge and clause-break word lists live here.

use super::Decision;
use super::lex::{Sent, Tok};
use super::verdict::{Strength, Verdict};

/// Negators of a verb group or a frame.
pub(super) const NEGATORS: &[&str] = &[
    "not", "no", "never", "neither", "nor", "fails", "fail", "failed", "unable", "unlikely", "hardly",
    "cannot",
];

/// Words that hedge a verb group or a frame.
const HEDGES: &[&str] = &[
    "may",
    "might",
    "could",
    "would",
    "should",
    "must",
    "possibly",
    "perhaps",
    "potentially",
    "partially",
    "partly",
    "somewhat",
    "seem",
    "seems",
    "seemed",
    "appear",
    "appears",
    "arguably",
    "indirectly",
    "implicitly",
    "loosely",
];

/// Auxiliaries and adverbs that may stand between a subject and its verdict word.
const GROUP_WORDS: &[&str] = &[
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "does",
    "do",
    "did",
    "has",
    "have",
    "had",
    "can",
    "will",
    "shall",
    "to",
    "necessarily",
    "directly",
    "logically",
    "actually",
    "really",
    "entirely",
    "fully",
    "completely",
    "strictly",
    "clearly",
    "explicitly",
    "simply",
    "automatically",
    "just",
    "also",
    "indeed",
    "therefore",
    "thus",
    "hence",
    "still",
    "truly",
    "strongly",
    "reasonably",
    "certainly",
    "definitely",
    "then",
    "always",
    "most",
    "more",
    "likely",
    "probably",
    "only",
    "reliably",
    "validly",
    "accurately",
    "necessary",
    "immediately",
    "obviously",
    "evidently",
    "plainly",
    "therefore",
    "thereby",
    "in",
    "fact",
    "correctly",
    "specifically",
    "exactly",
    "quite",
    "precisely",
    "totally",
    "very",
    "essentially",
    "basically",
    "generally",
    "typically",
    "primarily",
    "mainly",
];

/// Words that end a clause (for frames and subjects).
pub(super) const CLAUSE_BREAKS: &[&str] = &[
    "but",
    "however",
    "although",
    "though",
    "while",
    "whereas",
    "because",
    "since",
    "so",
    "yet",
    "that",
    "which",
    "who",
    "and",
    "as",
    "therefore",
    "thus",
    "hence",
    "instead",
    "rather",
    "where",
    "when",
    "whether",
    "if",
    "or",
    "than",
];

fn is_clause_break(s: &Sent, i: usize) -> bool {
    match s.toks.get(i) {
        Some(Tok::P(c)) => matches!(c, ',' | ';' | ':' | '(' | ')' | '-'),
        Some(Tok::W(w)) => CLAUSE_BREAKS.contains(&w.as_str()),
        _ => false,
    }
}

/// Start of the clause that ends just before `k`.
pub(super) fn clause_start(s: &Sent, k: usize) -> usize {
    (0..k).rev().find(|&i| is_clause_break(s, i)).map_or(0, |i| i + 1)
}

pub(super) fn any_word(s: &Sent, a: usize, b: usize, set: &[&str]) -> bool {
    (a..b.min(s.toks.len())).any(|i| set.contains(&s.word(i)))
}

pub(super) fn count_negators(s: &Sent, a: usize, b: usize) -> usize {
    (a..b.min(s.toks.len()))
        .filter(|&i| {
            let w = s.word(i);
            NEGATORS.contains(&w)
                && !(w == "not" && matches!(s.word(i + 1), "only" | "just" | "merely"))
                && !(w == "no" && matches!(s.word(i + 1), "doubt" | "longer"))
        })
        .count()
}

/// The auxiliaries, adverbs and negators right before a verdict word.
#[derive(Debug, Clone, Copy)]
pub(super) struct Group {
    /// Index of the first word of the group (the verdict word itself when empty).
    pub(super) start: usize,
    pub(super) negated: bool,
    pub(super) hedged: bool,
    /// The group opens with `to`: a purpose clause ("information to be supported").
    pub(super) infinitive: bool,
}

pub(super) fn verb_group(s: &Sent, k: usize, extra: &[&str]) -> Group {
    let mut i = k;
    let mut neg = 0;
    let mut hedged = false;
    while i > 0 {
        let w = s.word(i - 1);
        if NEGATORS.contains(&w) {
            if !(w == "not" && matches!(s.word(i), "only" | "just" | "merely")) {
                neg += 1;
            }
        } else if HEDGES.contains(&w) {
            hedged = true;
        } else if !(GROUP_WORDS.contains(&w) || extra.contains(&w)) {
            break;
        }
        i -= 1;
    }
    Group {
        start: i,
        negated: neg % 2 == 1,
        hedged,
        infinitive: i < k && s.is(i, "to"),
    }
}

/// What the words before a verdict's subject do to it.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Frame {
    /// A condition, purpose or question: no verdict at all.
    pub(super) conditional: bool,
    /// `it is not true that …`, `I don't think …`: flips the verdict.
    pub(super) negated: bool,
    /// `it is possible that …`, `one interpretation is that …`: hedges it.
    pub(super) hedged: bool,
}

pub(super) const FRAME_HEDGES: &[&str] = &[
    "possible",
    "possibly",
    "may",
    "might",
    "could",
    "unclear",
    "uncertain",
    "interpretation",
    "perhaps",
    "seems",
    "appears",
    "ambiguous",
    "difficult",
    "hard",
    "assume",
    "tempting",
];

/// Verbs after `to` that make a purpose or requirement clause.
const PURPOSE_VERBS: &[&str] = &[
    "make",
    "show",
    "entail",
    "follow",
    "be",
    "infer",
    "determine",
    "prove",
    "establish",
    "conclude",
    "support",
    "answer",
    "decide",
    "say",
    "see",
    "ensure",
    "demonstrate",
    "draw",
    "disprove",
    "refute",
    "confirm",
    "assess",
    "evaluate",
    "strengthen",
    "link",
    "connect",
    "get",
    "fully",
    "truly",
    "have",
    "claim",
    "reach",
];

const THINK_VERBS: &[&str] = &[
    "think", "believe", "say", "mean", "means", "conclude", "assume", "claim", "argue", "feel",
];

pub(super) fn frame(s: &Sent, subj: usize) -> Frame {
    let mut f = Frame::default();
    if s.end == '?' {
        f.conditional = true;
        return f;
    }
    // the sentence-level clause before the subject
    let region = (0..subj)
        .rev()
        .find(|&i| {
            s.punct(i) == Some(';')
                || matches!(s.word(i), "but" | "however" | "although" | "whereas" | "while")
        })
        .map_or(0, |i| i + 1);
    for i in region..subj {
        let w = s.word(i);
        if matches!(
            w,
            "if" | "whether" | "unless" | "order" | "suppose" | "assuming" | "imagine" | "when"
        ) || (w == "to" && PURPOSE_VERBS.contains(&s.word(i + 1)))
        {
            f.conditional = true;
        }
    }
    if s.is(0, "for") || s.is(0, "to") {
        f.conditional = true;
    }
    // "while it's possible to interpret "it" as referring to …", "it may look like it has …"
    let clause = (region..subj)
        .rev()
        .find(|&i| is_clause_break(s, i) || s.is(i, "like"))
        .map_or(region, |i| i + 1);
    let clause = if clause >= subj {
        (region..subj.saturating_sub(1))
            .rev()
            .find(|&i| is_clause_break(s, i))
            .map_or(region, |i| i + 1)
    } else {
        clause
    };
    if any_word(
        s,
        clause,
        subj,
        &[
            "possible",
            "possibly",
            "may",
            "might",
            "could",
            "perhaps",
            "unclear",
            "uncertain",
            "tempting",
            "seems",
            "appears",
            "interpreted",
        ],
    ) || (clause..subj).any(|i| s.is(i, "interpretation") && !s.is(i.saturating_sub(2), "given"))
    {
        f.hedged = true;
    }
    // `that`-clause or think-verb frames
    let mut j = subj;
    while j > 0 && (s.punct(j - 1) == Some(',') || s.is(j - 1, "that")) {
        j -= 1;
    }
    let framed = j < subj && s.is(j, "that") || j > 0 && THINK_VERBS.contains(&s.word(j - 1));
    if framed {
        // the frame runs back over nested `that`-clauses to the previous clause break
        let start = (region..j)
            .rev()
            .find(|&i| {
                matches!(s.punct(i), Some(',' | ';' | ':'))
                    || matches!(
                        s.word(i),
                        "so" | "therefore"
                            | "thus"
                            | "hence"
                            | "and"
                            | "because"
                            | "since"
                            | "which"
                            | "but"
                            | "however"
                            | "although"
                            | "while"
                            | "whereas"
                    )
            })
            .map_or(region, |i| i + 1);
        if count_negators(s, start, j) % 2 == 1 {
            f.negated = true;
        }
        if any_word(s, start, j, FRAME_HEDGES) {
            f.hedged = true;
        }
    }
    f
}

pub(super) fn place(
    d: Decision,
    group: Group,
    fr: Frame,
    flip: (Decision, Decision),
    cue: &str,
) -> Option<Verdict> {
    if fr.conditional || group.infinitive {
        return None;
    }
    let negated = group.negated != fr.negated;
    let d = if negated {
        if d == flip.0 { flip.1 } else { flip.0 }
    } else {
        d
    };
    let st = if group.hedged || fr.hedged {
        Strength::Hedge
    } else {
        Strength::Firm
    };
    Some((d, st, cue.to_string()))
}

#[cfg(test)]
mod tests {
    use crate::gold::Decision;
    use crate::gold::testing::{CB, RTE, d};

    #[test]
    fn a_purpose_clause_after_the_verdict_does_not_contradict_it() {
        let r = "No, the hypothesis does not follow from the premise.  The premise only mentions the \
                 technology.  To make the hypothesis follow from the premise, additional information \
                 would be needed.";
        assert_eq!(d("RTE", RTE, r), Some(Decision::No));
    }

    #[test]
    fn a_framed_negation_flips_the_verdict() {
        let r = "The premise only describes her face. Therefore, we cannot conclude that the premise \
                 entails the hypothesis.";
        assert_eq!(d("CB", CB, r), Some(Decision::No));
    }
}
