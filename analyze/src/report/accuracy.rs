//! Accuracy by every scorer present — the study's own LLM-judge relevancy
//! (`published_relevancy`), `judge`'s gold-label scorer (`gold`) and its LLM judges
//! (`judge:<model>:<rubric>`) — and how far they agree with the gold labels: a 2×2 confusion
//! table and Cohen's κ per scorer, on the requests both scored.

use crate::model::{GOLD_SCORER, JUDGE_SCORER_PREFIX, PUBLISHED_SCORER, Study};
use crate::report::table::{Table, num};
use crate::stats::agreement::cohens_kappa;
use dataset::Judgment;
use std::collections::{BTreeMap, HashMap};

/// A score at or above this counts as "correct" when a continuous score (relevancy) is
/// compared with the 0/1 gold score.
pub const AGREEMENT_THRESHOLD: f64 = 0.5;

/// Agreement of one scorer with the gold scorer on the requests both scored.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    /// The other scorer.
    pub scorer: String,
    /// Requests scored by both.
    pub pairs: usize,
    /// Counts: [gold 1 & other 1, gold 1 & other 0, gold 0 & other 1, gold 0 & other 0].
    pub confusion: [usize; 4],
    /// Cohen's κ; None when undefined (one category only).
    pub kappa: Option<f64>,
}

/// Agreement of every non-gold scorer with `gold`.
pub fn agreements(judgments: &[Judgment]) -> Vec<Agreement> {
    let gold: HashMap<(&str, i64), f64> = judgments
        .iter()
        .filter(|j| j.scorer == GOLD_SCORER)
        .filter_map(|j| j.score.map(|s| ((j.run_id.as_str(), j.request_index), s)))
        .collect();
    let mut by_scorer: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for j in judgments.iter().filter(|j| j.scorer != GOLD_SCORER) {
        let (Some(s), Some(&g)) = (j.score, gold.get(&(j.run_id.as_str(), j.request_index))) else {
            continue;
        };
        let cell = match (g >= AGREEMENT_THRESHOLD, s >= AGREEMENT_THRESHOLD) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        };
        by_scorer.entry(j.scorer.as_str()).or_default()[cell] += 1;
    }
    by_scorer
        .into_iter()
        .map(|(scorer, confusion)| Agreement {
            scorer: scorer.to_string(),
            pairs: confusion.iter().sum(),
            confusion,
            kappa: cohens_kappa(confusion),
        })
        .collect()
}

/// Reads one accuracy column of a metrics row.
type AccuracyOf = fn(&dataset::MetricsRow) -> Option<f64>;

/// The section: sentences and tables, or a hint when no scorer but the study's own is present.
#[derive(Debug, Clone, Default)]
pub struct AccuracySection {
    /// Plain-language statements.
    pub sentences: Vec<String>,
    /// Coverage, accuracy per generation, agreement.
    pub tables: Vec<Table>,
}

impl AccuracySection {
    /// Builds the section from the judgments and the per-trial accuracies.
    pub fn new(judgments: &[Judgment], study: &Study) -> Self {
        let mut s = Self::default();
        let mut coverage: BTreeMap<&str, (usize, usize, f64)> = BTreeMap::new();
        for j in judgments {
            let e = coverage.entry(j.scorer.as_str()).or_default();
            e.0 += 1;
            if let Some(v) = j.score {
                e.1 += 1;
                e.2 += v;
            }
        }
        if !coverage
            .keys()
            .any(|k| *k == GOLD_SCORER || k.starts_with(JUDGE_SCORER_PREFIX))
        {
            s.sentences.push(
                "Only the study's own LLM-judge relevancy scores are in this dataset. Run `judge DATA` to score every answer against its gold label (free, no network) and `judge DATA --endpoint URL --model NAME` for an LLM judge; this section then compares them."
                    .to_string(),
            );
        }
        let mut t = Table::new(
            "Scorers present: responses scored, responses without a score (no clear decision, or a failed judge call) and the mean score",
            &["scorer", "rows", "scored", "without score", "mean score"],
            1,
        );
        for (scorer, (rows, scored, sum)) in &coverage {
            t.push(vec![
                (*scorer).to_string(),
                rows.to_string(),
                scored.to_string(),
                (rows - scored).to_string(),
                if *scored > 0 {
                    num(sum / *scored as f64)
                } else {
                    "–".into()
                },
            ]);
        }
        s.tables.push(t);

        let columns: [(&str, AccuracyOf); 3] = [
            (PUBLISHED_SCORER, |r| r.accuracy),
            (GOLD_SCORER, |r| r.accuracy_gold),
            ("judge (all LLM-judge scorers)", |r| r.accuracy_judge),
        ];
        let present: Vec<_> = columns
            .iter()
            .filter(|(_, f)| study.metrics.iter().any(|r| f(r).is_some()))
            .collect();
        let mut header = vec!["generation"];
        header.extend(present.iter().map(|(n, _)| *n));
        let mut t = Table::new(
            "Mean accuracy per trial, by generation and scorer (trial level)",
            &header,
            1,
        );
        for g in &study.generations {
            let mut row = vec![g.clone()];
            for (_, f) in &present {
                let v: Vec<f64> = study
                    .metrics
                    .iter()
                    .filter(|r| r.key.generation == g)
                    .filter_map(f)
                    .collect();
                row.push(if v.is_empty() {
                    "–".into()
                } else {
                    num(v.iter().sum::<f64>() / v.len() as f64)
                });
            }
            t.push(row);
        }
        s.tables.push(t);

        let agree = agreements(judgments);
        if agree.is_empty() {
            if coverage.contains_key(GOLD_SCORER) {
                s.sentences.push("No other scorer shares responses with the gold scorer, so there is no agreement to report.".into());
            }
            return s;
        }
        let mut t = Table::new(
            format!(
                "Agreement with the gold labels on the responses both scored (a score ≥ {AGREEMENT_THRESHOLD} counts as correct)"
            ),
            &[
                "scorer",
                "pairs",
                "both correct",
                "gold only",
                "scorer only",
                "both wrong",
                "Cohen's κ",
            ],
            1,
        );
        for a in &agree {
            let [yy, yn, ny, nn] = a.confusion;
            t.push(vec![
                a.scorer.clone(),
                a.pairs.to_string(),
                yy.to_string(),
                yn.to_string(),
                ny.to_string(),
                nn.to_string(),
                a.kappa.map_or("–".into(), num),
            ]);
            let verdict = match a.kappa {
                Some(k) if k < 0.2 => "slight or no agreement",
                Some(k) if k < 0.4 => "fair agreement",
                Some(k) if k < 0.6 => "moderate agreement",
                Some(k) if k < 0.8 => "substantial agreement",
                Some(_) => "almost perfect agreement",
                None => "undefined agreement (one category only)",
            };
            s.sentences.push(format!(
                "`{}` and the gold labels: {} on {} responses scored by both (κ = {}; Landis & Koch).{}",
                a.scorer,
                verdict,
                a.pairs,
                a.kappa.map_or("–".into(), num),
                if a.scorer == PUBLISHED_SCORER {
                    " The study's relevancy rubric asks whether an answer addresses the question, not whether it is right, so it is not an accuracy measure."
                } else {
                    ""
                }
            ));
        }
        s.tables.push(t);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_pairs_requests_scored_by_both() {
        let j = |scorer: &str, idx: i64, score: Option<f64>| Judgment {
            run_id: "r".into(),
            request_index: idx,
            scorer: scorer.into(),
            score,
            reason: None,
            details: None,
        };
        let rows = vec![
            j("gold", 0, Some(1.0)),
            j("gold", 1, Some(0.0)),
            j("gold", 2, None),
            j("judge:m:correctness", 0, Some(1.0)),
            j("judge:m:correctness", 1, Some(1.0)),
            j("judge:m:correctness", 2, Some(1.0)),
            j("published_relevancy", 0, Some(0.75)),
        ];
        let a = agreements(&rows);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].scorer, "judge:m:correctness");
        assert_eq!((a[0].pairs, a[0].confusion), (2, [1, 0, 1, 0]));
        assert_eq!(a[1].scorer, "published_relevancy");
        assert_eq!(a[1].confusion, [1, 0, 0, 0]);
    }
}
