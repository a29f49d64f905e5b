//! Verdicts and their resolution, for all six tasks: the [`Verdict`] an extractor finds in a
//! sentence, the [`Found`] it becomes with its rule, sentence and [`Strength`], and
//! [`resolve`], which turns all of an answer's findings into one [`Extraction`], or a null
//! that says why (`contradiction`, `hedge`, `no_verdict`).

use super::lex::Sent;
use super::{Decision, Extraction, null};

/// How much a verdict counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strength {
    /// An explicit verdict; all firm verdicts must agree.
    Firm,
    /// An indirect verdict, used only when there is no firm one.
    Weak,
    /// A hedged verdict; never decides.
    Hedge,
}

/// A verdict found in one sentence.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub(super) decision: Decision,
    pub(super) rule: &'static str,
    pub(super) sent: usize,
    pub(super) strength: Strength,
    /// The word that carried the verdict.
    pub(super) cue: String,
}

/// A verdict of one sentence before it is placed: decision, strength, cue word.
pub(super) type Verdict = (Decision, Strength, String);

/// The decision of an answer from all its findings: that of the firm verdicts, else that of the
/// weak ones, all of a tier agreeing; otherwise a null that says why.
pub(super) fn resolve(sents: &[Sent], found: &[Found]) -> Extraction {
    let describe = |f: &Found| {
        format!(
            "sentence {} says {} ({}, \"{}\"): {}",
            f.sent + 1,
            f.decision.as_str(),
            f.rule,
            f.cue,
            sents.get(f.sent).map(Sent::text).unwrap_or_default()
        )
    };
    for strength in [Strength::Firm, Strength::Weak] {
        let tier: Vec<&Found> = found.iter().filter(|f| f.strength == strength).collect();
        let Some(first) = tier.first() else {
            continue;
        };
        if let Some(other) = tier.iter().find(|f| f.decision != first.decision) {
            return null(
                "contradiction",
                format!(
                    "the answer contradicts itself: {}; but {}",
                    describe(first),
                    describe(other)
                ),
            );
        }
        return Extraction {
            decision: Some(first.decision),
            rule: first.rule,
            reason: describe(first),
        };
    }
    if let Some(h) = found.first() {
        return null("hedge", format!("the answer only hedges: {}", describe(h)));
    }
    null(
        "no_verdict",
        "no sentence states a decision on the question".to_string(),
    )
}

#[cfg(test)]
mod tests {
    use crate::gold::extract;
    use crate::gold::testing::CB;

    #[test]
    fn a_yes_that_is_later_contradicted_is_null() {
        let r = "Yes, the premise entails the hypothesis.  The premise is about her face.  Therefore, \
                 the premise does not entail the hypothesis, and it is not a sufficient condition.";
        let ex = extract("CB", CB, r);
        assert_eq!(ex.decision, None);
        assert_eq!(ex.rule, "contradiction");
        assert!(ex.reason.contains("contradicts"));
    }

    #[test]
    fn a_hedged_entailment_is_null() {
        let r = "However, the premise may not entail the hypothesis in several ways.";
        let ex = extract("CB", CB, r);
        assert_eq!(ex.decision, None);
        assert_eq!(ex.rule, "hedge");
    }
}
