//! What the user sees while trials run: an indicatif bar over the trials with its ETA and the
//! last trial's energy and J/token (on a terminal), or one line per trial on stderr (in logs).
//! Simulated runs say so on every line.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One finished trial, as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialLine {
    /// Trial id.
    pub run_id: String,
    /// Model.
    pub model: String,
    /// Task.
    pub task: String,
    /// `done` or `failed`.
    pub status: String,
    /// Energy in the inference window, J; None when no source measured any.
    pub energy_j: Option<f64>,
    /// J per generated token.
    pub energy_per_token: Option<f64>,
    /// Generated tokens.
    pub tokens: i64,
    /// Window length, s.
    pub duration_s: f64,
    /// Why it failed.
    pub reason: Option<String>,
}

/// The progress display.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    quiet: bool,
    tag: &'static str,
}

impl Progress {
    /// A display over `total` trials of which `done` are already complete.
    pub fn new(total: u64, done: u64, quiet: bool, simulated: bool) -> Self {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(total), target).with_position(done);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} trials, ETA {eta_precise}\n  {msg}",
        ) {
            bar.set_style(style);
        }
        bar.reset_eta();
        Self {
            bar,
            quiet,
            tag: if simulated { " [SIMULATED]" } else { "" },
        }
    }

    /// A message above the bar (or on stderr).
    pub fn note(&self, msg: &str) {
        if self.quiet {
            return;
        }
        if self.bar.is_hidden() {
            eprintln!("{msg}");
        } else {
            self.bar.println(msg);
        }
    }

    /// Shows the trial being prepared.
    pub fn starting(&self, run_id: &str, model: &str, task: &str) {
        self.bar
            .set_message(format!("running {run_id} ({model}, {task})"));
    }

    /// Records a finished trial.
    pub fn trial(&self, t: &TrialLine) {
        let per_token = t
            .energy_per_token
            .map_or_else(|| "- J/token".to_string(), |e| format!("{e:.4} J/token"));
        let line = match &t.reason {
            None => format!(
                "{} ({}, {}): {}, {} tokens, {per_token}, {:.1} s{}",
                t.run_id,
                t.model,
                t.task,
                t.energy_j
                    .map_or_else(|| "energy not measured".to_string(), |j| format!("{j:.1} J")),
                t.tokens,
                t.duration_s,
                self.tag
            ),
            Some(r) => format!("{} ({}, {}): FAILED: {r}{}", t.run_id, t.model, t.task, self.tag),
        };
        self.bar.inc(1);
        if self.bar.is_hidden() {
            if !self.quiet {
                eprintln!("{line}");
            }
        } else {
            self.bar.set_message(format!("last: {line}"));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
