//! The end summary: what was judged, how much came from the cache, what failed, the tokens
//! the judge used and the time it took.

use crate::llm::LlmStats;
use std::fmt::Write as _;

/// Totals over every dataset of a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Datasets judged.
    pub datasets: usize,
    /// Gold judgments written.
    pub gold_scored: usize,
    /// Of those, responses whose decision was extracted.
    pub gold_extracted: usize,
    /// The LLM judge's scorer and counts, when it ran.
    pub llm: Option<(String, LlmStats)>,
    /// Wall time of the run, s.
    pub elapsed_s: f64,
    /// Damaged trials left out (`--skip-damaged`).
    pub damaged_skipped: usize,
}

impl Summary {
    /// The summary block.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "judge: {} dataset{} in {:.1} s",
            self.datasets,
            if self.datasets == 1 { "" } else { "s" },
            self.elapsed_s
        );
        if self.damaged_skipped > 0 {
            let _ = writeln!(
                s,
                "  {} damaged trial{} skipped (--skip-damaged): not judged, their stored judgments kept",
                self.damaged_skipped,
                if self.damaged_skipped == 1 { "" } else { "s" }
            );
        }
        if self.gold_scored > 0 {
            let _ = writeln!(
                s,
                "  gold: {} responses scored, decision extracted from {}",
                self.gold_scored, self.gold_extracted
            );
        }
        if let Some((scorer, l)) = &self.llm {
            let _ = writeln!(
                s,
                "  {scorer}: {} judged ({} new, {} cached), {} failed, {} skipped",
                l.judged, l.new, l.cached, l.failed, l.skipped
            );
            let rate = if l.call_s > 0.0 {
                l.new as f64 / l.call_s
            } else {
                0.0
            };
            let _ = writeln!(
                s,
                "  {} HTTP requests, tokens used: {} prompt + {} completion; {:.1} s calling the judge ({rate:.1} new judgments/s)",
                l.http_requests, l.prompt_tokens, l.completion_tokens, l.call_s
            );
            if let Some(mode) = l.json_mode {
                let _ = writeln!(s, "  JSON asked for by: {mode}");
            }
            if l.interrupted {
                let _ = writeln!(s, "  interrupted: rerun the same command to judge the rest");
            }
        }
        s
    }
}

/// The mean judge score per generation, one line each.
pub fn render_llm_scores(scorer: &str, stats: &LlmStats) -> String {
    let mut s = String::new();
    if stats.by_generation.is_empty() {
        return s;
    }
    let _ = writeln!(s, "{scorer}: mean score per generation:");
    let _ = writeln!(s, "  {:<10} {:>9} {:>9}", "generation", "scored", "mean");
    for (g, (sum, n)) in &stats.by_generation {
        let _ = writeln!(s, "  {:<10} {:>9} {:>9.4}", g, n, sum / *n as f64);
    }
    s
}
