//! The gold scorer over a dataset: [`score_trial`] turns one trial's labelled requests into
//! `gold` judgments with [`crate::gold::score`], and [`GoldTally`] counts what it found — the
//! extraction rate and the confusion table per task, the accuracy per generation — for the
//! report printed at the end.

use crate::gold;
use crate::workload::TrialRequests;
use dataset::Judgment;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The scorer name of gold-label judgments.
pub const GOLD_SCORER: &str = "gold";

/// Counts of one task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskTally {
    /// Responses with a gold label.
    pub labelled: usize,
    /// Responses whose decision was extracted.
    pub extracted: usize,
    /// Responses scored (extracted and the label known).
    pub scored: usize,
    /// Scored responses that were right.
    pub correct: usize,
    /// Labels that name no decision of the task.
    pub unknown_labels: usize,
    /// (gold decision, extracted decision or `null`) → count.
    pub confusion: BTreeMap<(String, String), usize>,
}

/// Counts of one model generation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GenerationTally {
    /// Responses with a gold label.
    pub labelled: usize,
    /// Responses scored.
    pub scored: usize,
    /// Scored responses that were right.
    pub correct: usize,
}

/// What the gold scorer found in a set of trials.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GoldTally {
    /// Trials with at least one labelled response.
    pub trials: usize,
    /// Per task.
    pub tasks: BTreeMap<String, TaskTally>,
    /// Per model generation.
    pub generations: BTreeMap<String, GenerationTally>,
}

/// Scores every labelled request of a trial; requests without a gold label get no row.
pub fn score_trial(t: &TrialRequests) -> (Vec<Judgment>, GoldTally) {
    let mut tally = GoldTally::default();
    let mut rows = Vec::new();
    let task = t.trial.key.task.as_str();
    for r in &t.requests {
        let Some(label) = &r.gold_label else { continue };
        let g = gold::score(task, &r.prompt, &r.response, label);
        let mut details = g.details;
        if let (Value::Object(map), Some(id)) = (&mut details, r.item_id) {
            map.insert("item_id".into(), Value::from(id));
        }
        let decision = details["decision"].as_str().map(str::to_string);
        let gold_decision = details["gold"].as_str().map(str::to_string);
        let tt = tally.tasks.entry(task.to_string()).or_default();
        let gt = tally
            .generations
            .entry(t.trial.key.generation.to_string())
            .or_default();
        tt.labelled += 1;
        gt.labelled += 1;
        tt.extracted += usize::from(decision.is_some());
        match gold_decision {
            Some(gd) => {
                let col = decision.unwrap_or_else(|| "null".into());
                *tt.confusion.entry((gd, col)).or_default() += 1;
            }
            None => tt.unknown_labels += 1,
        }
        if let Some(s) = g.score {
            tt.scored += 1;
            gt.scored += 1;
            let right = usize::from(s >= 1.0);
            tt.correct += right;
            gt.correct += right;
        }
        rows.push(Judgment {
            run_id: r.run_id.clone(),
            request_index: r.index,
            scorer: GOLD_SCORER.to_string(),
            score: g.score,
            reason: Some(g.reason),
            details: Some(details.to_string()),
        });
    }
    if !rows.is_empty() {
        tally.trials = 1;
    }
    (rows, tally)
}

impl GoldTally {
    /// Adds another tally's counts to this one.
    pub fn add(&mut self, other: &GoldTally) {
        self.trials += other.trials;
        for (task, o) in &other.tasks {
            let t = self.tasks.entry(task.clone()).or_default();
            t.labelled += o.labelled;
            t.extracted += o.extracted;
            t.scored += o.scored;
            t.correct += o.correct;
            t.unknown_labels += o.unknown_labels;
            for (k, n) in &o.confusion {
                *t.confusion.entry(k.clone()).or_default() += n;
            }
        }
        for (g, o) in &other.generations {
            let t = self.generations.entry(g.clone()).or_default();
            t.labelled += o.labelled;
            t.scored += o.scored;
            t.correct += o.correct;
        }
    }

    /// Responses with a gold label.
    pub fn labelled(&self) -> usize {
        self.tasks.values().map(|t| t.labelled).sum()
    }

    /// The report: extraction rate and accuracy per task, accuracy per generation, and the
    /// confusion table of each task (rows: gold decision, columns: extracted decision).
    pub fn render(&self) -> String {
        let mut s = String::new();
        let total = self.labelled();
        let extracted: usize = self.tasks.values().map(|t| t.extracted).sum();
        let scored: usize = self.tasks.values().map(|t| t.scored).sum();
        let correct: usize = self.tasks.values().map(|t| t.correct).sum();
        let _ = writeln!(
            s,
            "gold: {total} labelled responses in {} trials, decision extracted from {extracted} ({})",
            self.trials,
            percent(extracted, total)
        );
        let _ = writeln!(
            s,
            "  {:<10} {:>9} {:>9} {:>9} {:>9}",
            "task", "labelled", "extracted", "rate", "accuracy"
        );
        for (task, t) in &self.tasks {
            let _ = writeln!(
                s,
                "  {:<10} {:>9} {:>9} {:>9} {:>9}",
                task,
                t.labelled,
                t.extracted,
                percent(t.extracted, t.labelled),
                ratio(t.correct, t.scored)
            );
        }
        let _ = writeln!(
            s,
            "  {:<10} {:>9} {:>9} {:>9} {:>9}",
            "all",
            total,
            extracted,
            percent(extracted, total),
            ratio(correct, scored)
        );
        let _ = writeln!(
            s,
            "gold accuracy per generation (mean score of the extracted decisions):"
        );
        let _ = writeln!(
            s,
            "  {:<10} {:>9} {:>9} {:>9}",
            "generation", "labelled", "scored", "accuracy"
        );
        let mut gens: Vec<(&String, &GenerationTally)> = self.generations.iter().collect();
        gens.sort_by(|a, b| generation_order(a.0, b.0));
        for (g, t) in gens {
            let _ = writeln!(
                s,
                "  {:<10} {:>9} {:>9} {:>9}",
                g,
                t.labelled,
                t.scored,
                ratio(t.correct, t.scored)
            );
        }
        let _ = writeln!(s, "gold confusion per task (rows: gold, columns: extracted):");
        for (task, t) in &self.tasks {
            let mut golds: Vec<&str> = t.confusion.keys().map(|(g, _)| g.as_str()).collect();
            let mut cols: Vec<&str> = t
                .confusion
                .keys()
                .map(|(_, c)| c.as_str())
                .filter(|c| *c != "null")
                .collect();
            for d in decisions_of(task) {
                golds.push(d);
                cols.push(d);
            }
            golds.sort_by_key(|d| decision_rank(d));
            golds.dedup();
            cols.sort_by_key(|d| decision_rank(d));
            cols.dedup();
            cols.push("null");
            let _ = write!(s, "  {:<10}", task);
            for c in &cols {
                let _ = write!(s, " {c:>8}");
            }
            let _ = writeln!(s);
            for g in &golds {
                let _ = write!(s, "    {g:<8}");
                for c in &cols {
                    let n = t
                        .confusion
                        .get(&(g.to_string(), c.to_string()))
                        .copied()
                        .unwrap_or(0);
                    let _ = write!(s, " {n:>8}");
                }
                let _ = writeln!(s);
            }
            if t.unknown_labels > 0 {
                let _ = writeln!(
                    s,
                    "    ({} response(s) with a label unknown to the task)",
                    t.unknown_labels
                );
            }
        }
        s
    }
}

fn decisions_of(task: &str) -> &'static [&'static str] {
    if task.eq_ignore_ascii_case("copa") {
        &["choice1", "choice2"]
    } else {
        &["yes", "no"]
    }
}

fn decision_rank(d: &str) -> usize {
    ["yes", "no", "choice1", "choice2"]
        .iter()
        .position(|x| *x == d)
        .unwrap_or(usize::MAX)
}

/// Generations sort by their number (`2`, `3`, `3.1`, `10`), labels that are no number last.
fn generation_order(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| {
        s.split('.')
            .map(|p| p.parse::<u64>().unwrap_or(u64::MAX))
            .collect::<Vec<_>>()
    };
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

fn percent(n: usize, d: usize) -> String {
    if d == 0 {
        "-".into()
    } else {
        format!("{:.2} %", 100.0 * n as f64 / d as f64)
    }
}

fn ratio(n: usize, d: usize) -> String {
    if d == 0 {
        "-".into()
    } else {
        format!("{:.4}", n as f64 / d as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataset::{Request, Trial};

    const CB: &str = "Premise: It rained.  Hypothesis: The street is wet.  Does the premise entail the \
                      hypothesis? Explain your choice.";

    fn trial(generation: &str, task: &str, answers: &[(&str, Option<&str>)]) -> TrialRequests {
        TrialRequests {
            trial: Trial {
                key: dataset::TrialKey {
                    run_id: format!("run_{generation}_{task}").into(),
                    generation: generation.into(),
                    task: task.into(),
                    ..Default::default()
                },
                ..Default::default()
            },
            requests: answers
                .iter()
                .enumerate()
                .map(|(i, (response, label))| Request {
                    run_id: format!("run_{generation}_{task}"),
                    index: i as i64,
                    item_id: Some(i as i64 + 100),
                    gold_label: label.map(str::to_string),
                    prompt: CB.into(),
                    response: (*response).into(),
                    ..Default::default()
                })
                .collect(),
            label_mismatches: 0,
            labels_from_prompts: 0,
            task_file_missing: false,
        }
    }

    #[test]
    fn labelled_requests_become_gold_judgments_and_unlabelled_ones_do_not() {
        let t = trial(
            "3",
            "CB",
            &[
                ("Yes, the premise entails the hypothesis.", Some("entailment")),
                ("No, it does not.", Some("entailment")),
                ("I like turtles.", Some("neutral")),
                ("Yes.", None),
            ],
        );
        let (rows, tally) = score_trial(&t);
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows.iter().map(|r| r.score).collect::<Vec<_>>(),
            [Some(1.0), Some(0.0), None]
        );
        assert!(rows.iter().all(|r| r.scorer == GOLD_SCORER && r.reason.is_some()));
        let details: Value =
            serde_json::from_str(rows[0].details.as_deref().expect("details")).expect("json");
        assert_eq!(details["decision"], "yes");
        assert_eq!(details["item_id"], 100);
        let cb = &tally.tasks["CB"];
        assert_eq!((cb.labelled, cb.extracted, cb.scored, cb.correct), (3, 2, 2, 1));
        assert_eq!(cb.confusion[&("yes".to_string(), "no".to_string())], 1);
        assert_eq!(cb.confusion[&("no".to_string(), "null".to_string())], 1);
    }

    #[test]
    fn the_report_shows_rates_generations_and_confusion() {
        let mut tally = GoldTally::default();
        for t in [
            trial(
                "3.1",
                "CB",
                &[
                    ("Yes, the premise entails the hypothesis.", Some("entailment")),
                    ("No.", Some("contradiction")),
                    ("Hmm.", Some("neutral")),
                ],
            ),
            trial(
                "2",
                "CB",
                &[("No.", Some("entailment")), ("Yes.", Some("whatever"))],
            ),
        ] {
            tally.add(&score_trial(&t).1);
        }
        insta::assert_snapshot!(tally.render());
    }

    #[test]
    fn generations_sort_by_number() {
        let mut g = vec!["3.2", "10", "2", "3", "3.1", "x"];
        g.sort_by(|a, b| generation_order(a, b));
        assert_eq!(g, ["2", "3", "3.1", "3.2", "10", "x"]);
    }
}
