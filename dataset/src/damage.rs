//! Damaged files: a reader of a whole dataset goes on past a file it cannot read (a truncated
//! Parquet file, a missing one), so that every damaged file is found in one pass and listed at
//! once. What happens then is the caller's choice: `analyze` and `judge` fail naming every
//! file, or, with `--skip-damaged`, go on without the trials those files hold and say how that
//! changed the design's balance ([`Damage::balance`]); `collect` measures such a trial again.
//! A damaged file is only ever reported, never changed or removed by a reader.

use crate::TrialKey;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A file that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedFile {
    /// The file.
    pub path: PathBuf,
    /// Why it could not be read (`truncated Parquet file: …`, `file missing`).
    pub reason: String,
}

impl fmt::Display for DamagedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

impl DamagedFile {
    /// Every file an error names, with its reason.
    pub fn from_error(err: &crate::DatasetError) -> Vec<Self> {
        err.files()
            .into_iter()
            .map(|(path, reason)| Self { path, reason })
            .collect()
    }
}

/// A part (a folder under `trials/`) one or more of whose files could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct DamagedPart {
    /// The part's name.
    pub part: String,
    /// Its damaged files.
    pub files: Vec<DamagedFile>,
    /// The trials it holds, when known: from its `trial.parquet`, or, when that file is the
    /// damaged one, from the run table (see [`DamagedPart::inferred`]). Empty when unknown.
    pub trials: Vec<TrialKey>,
    /// True when `trials` were inferred from the run table because the part's `trial.parquet`
    /// is damaged and the part is named after a treatment (`run_<R>`, `run_<R>.<k>`, as
    /// `analyze import` names them): the run table's trials of that treatment that no readable
    /// part holds. False when they are exact: read from `trial.parquet`, or the one trial a
    /// part named after a run id holds (as `collect` names them).
    pub inferred: bool,
}

impl DamagedPart {
    /// A damaged part from the error of reading it.
    pub fn new(part: impl Into<String>, trials: Vec<TrialKey>, err: &crate::DatasetError) -> Self {
        Self {
            part: part.into(),
            files: DamagedFile::from_error(err),
            trials,
            inferred: false,
        }
    }

    /// The treatment a part's name gives, as `analyze import` names its parts: `run_7`,
    /// `run_7.2` and `run_7.2.1` give 7.
    pub fn treatment(&self) -> Option<i64> {
        let rest = self.part.strip_prefix("run_")?;
        let run = rest.split_once('.').map_or(rest, |(r, k)| {
            if k.split('.')
                .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            {
                r
            } else {
                ""
            }
        });
        run.parse().ok()
    }
}

/// Everything damaged that a pass over a dataset found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Damage {
    /// Damaged parts, by name.
    pub parts: Vec<DamagedPart>,
    /// Damaged files outside the parts (a judgments file; the run table, when it was needed to
    /// name the trials of a part whose `trial.parquet` is damaged).
    pub other: Vec<DamagedFile>,
}

/// How skipping damaged trials changed one treatment's repetitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// Treatment index.
    pub run: i64,
    /// Its model.
    pub model: String,
    /// Its task.
    pub task: String,
    /// Repetitions left.
    pub after: usize,
    /// Repetitions the dataset holds, damaged ones included.
    pub before: usize,
}

impl fmt::Display for Balance {
    /// `run 7 (Llama-3-8B × CB): 29 of 30 repetitions`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "run {} ({} × {}): {} of {} repetitions",
            self.run, self.model, self.task, self.after, self.before
        )
    }
}

impl Damage {
    /// True when nothing is damaged.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty() && self.other.is_empty()
    }

    /// Sorts the parts by name and their files by path (a parallel pass finds them in any
    /// order).
    pub fn sort(&mut self) {
        self.parts.sort_by(|a, b| a.part.cmp(&b.part));
        for p in &mut self.parts {
            p.files.sort_by(|a, b| a.path.cmp(&b.path));
        }
        self.other.sort_by(|a, b| a.path.cmp(&b.path));
    }

    /// The same damage with every path relative to `root`, the dataset's folder
    /// (`trials/run_3/samples.parquet`): for outputs that must not name the machine's folders.
    pub fn relative_to(&self, root: &Path) -> Self {
        let rel = |f: &DamagedFile| DamagedFile {
            path: f.path.strip_prefix(root).unwrap_or(&f.path).to_path_buf(),
            reason: f.reason.clone(),
        };
        Self {
            parts: self
                .parts
                .iter()
                .map(|p| DamagedPart {
                    files: p.files.iter().map(rel).collect(),
                    ..p.clone()
                })
                .collect(),
            other: self.other.iter().map(rel).collect(),
        }
    }

    /// Every damaged file: those of the parts, then the others.
    pub fn files(&self) -> impl Iterator<Item = &DamagedFile> {
        self.parts.iter().flat_map(|p| &p.files).chain(&self.other)
    }

    /// The trials of the damaged parts that are known, sorted by (run, repetition, run id).
    pub fn trials(&self) -> Vec<&TrialKey> {
        let mut t: Vec<&TrialKey> = self.parts.iter().flat_map(|p| &p.trials).collect();
        t.sort_by(|a, b| (a.run, a.repetition, &a.run_id).cmp(&(b.run, b.repetition, &b.run_id)));
        t
    }

    /// Damaged parts whose trials are unknown (their `trial.parquet` is damaged and the run
    /// table does not name them).
    pub fn unknown_parts(&self) -> impl Iterator<Item = &DamagedPart> {
        self.parts.iter().filter(|p| p.trials.is_empty())
    }

    /// The treatments that lost repetitions, by treatment index: the repetitions left among
    /// `kept` (the trials that were read) against those the dataset holds (`kept` plus the
    /// damaged trials).
    pub fn balance<'a>(&self, kept: impl IntoIterator<Item = &'a TrialKey>) -> Vec<Balance> {
        let damaged = self.trials();
        let mut by_run: BTreeMap<i64, Balance> = BTreeMap::new();
        for k in &damaged {
            by_run.entry(k.run).or_insert_with(|| Balance {
                run: k.run,
                model: k.model.to_string(),
                task: k.task.to_string(),
                after: 0,
                before: 0,
            });
        }
        for k in kept {
            if let Some(b) = by_run.get_mut(&k.run) {
                b.after += 1;
                b.before += 1;
            }
        }
        for k in damaged {
            if let Some(b) = by_run.get_mut(&k.run) {
                b.before += 1;
            }
        }
        by_run.into_values().collect()
    }

    /// The error of a reader that stops at damage: every damaged file, one per line, and
    /// `flag`, the option that goes on without them.
    pub fn error_message(&self, root: &Path, flag: &str) -> String {
        let files: Vec<&DamagedFile> = self.files().collect();
        let trials = self.trials().len();
        let mut out = format!(
            "{}: {} damaged file{} ({}):",
            root.display(),
            files.len(),
            if files.len() == 1 { "" } else { "s" },
            self.holding(trials),
        );
        for f in files {
            out.push_str(&format!("\n  {f}"));
        }
        out.push_str(&format!(
            "\nthe damaged files are left as they are: restore them from a copy (or import the data again), \
             let `collect` measure those trials again (it does on resume), or pass {flag} to go on without them"
        ));
        out
    }

    /// `holding 2 trials`, `holding 2 trials, 1 part whose trials are unknown`, `in 1 part
    /// whose trials are unknown`, `outside the trials`, ….
    fn holding(&self, trials: usize) -> String {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let unknown = self.unknown_parts().count();
        let mut what = Vec::new();
        if trials > 0 {
            what.push(format!("{trials} trial{}", plural(trials)));
        }
        if unknown > 0 {
            what.push(format!(
                "{unknown} part{} whose trials are unknown",
                plural(unknown)
            ));
        }
        let mut s = if what.is_empty() {
            String::new()
        } else if trials > 0 {
            format!("holding {}", what.join(", "))
        } else {
            format!("in {}", what.join(", "))
        };
        let others = self.other.len();
        if others > 0 {
            if !s.is_empty() {
                s.push_str(", ");
            }
            if others == self.files().count() {
                s.push_str("outside the trials");
            } else {
                s.push_str(&format!("{others} file{} outside the trials", plural(others)));
            }
        }
        s
    }

    /// What a reader that went on without the damaged trials left out, one line per damaged
    /// part, as `analyze import --keep-going` reports its skipped trials: `skipped: <run_id>
    /// (<model> × <task>): <file>: <reason>` for a part of one trial (several trials are
    /// counted and their first and last run ids given), then the damaged files outside the
    /// trials.
    pub fn skipped_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for p in &self.parts {
            let reasons = p
                .files
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            let mut keys: Vec<&TrialKey> = p.trials.iter().collect();
            keys.sort_by(|a, b| (a.run, a.repetition, &a.run_id).cmp(&(b.run, b.repetition, &b.run_id)));
            let mut treatments: Vec<String> =
                keys.iter().map(|k| format!("{} × {}", k.model, k.task)).collect();
            treatments.dedup();
            let what = match keys.as_slice() {
                [] => format!("part {} (its trials are unknown)", p.part),
                [one] => format!("{} ({})", one.run_id, treatments.join(", ")),
                [first, .., last] => format!(
                    "{} trials of part {} ({} to {}; {})",
                    keys.len(),
                    p.part,
                    first.run_id,
                    last.run_id,
                    treatments.join(", ")
                ),
            };
            let inferred = if p.inferred {
                " [trials inferred from the run table]"
            } else {
                ""
            };
            lines.push(format!("skipped: {what}{inferred}: {reasons}"));
        }
        for f in &self.other {
            lines.push(format!("skipped: {f}"));
        }
        lines
    }

    /// What was skipped, in one phrase: `2 damaged files skipped (--skip-damaged), holding 2
    /// trials`.
    pub fn headline(&self) -> String {
        let files = self.files().count();
        format!(
            "{files} damaged file{} skipped (--skip-damaged), {}",
            if files == 1 { "" } else { "s" },
            self.holding(self.trials().len())
        )
    }

    /// The summary of a reader that went on: the [`Damage::headline`], and the balance, one
    /// line per treatment that lost repetitions (`  run 7 (Llama-3-8B × CB): 29 of 30
    /// repetitions`).
    pub fn summary_lines<'a>(&self, kept: impl IntoIterator<Item = &'a TrialKey>) -> Vec<String> {
        let mut lines = vec![self.headline()];
        let balance = self.balance(kept);
        if !balance.is_empty() {
            lines.push("repetitions per treatment, after skipping:".to_string());
            lines.extend(balance.iter().map(|b| format!("  {b}")));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_part_names_give_their_treatment() {
        let part = |name: &str| DamagedPart {
            part: name.into(),
            files: Vec::new(),
            trials: Vec::new(),
            inferred: false,
        };
        for (name, run) in [
            ("run_7", Some(7)),
            ("run_7.2", Some(7)),
            ("run_7.2.1", Some(7)),
            ("run_7.x", None),
            ("run_7.", None),
            ("run_7_repetition_2", None),
        ] {
            assert_eq!(part(name).treatment(), run, "{name}");
        }
    }

    fn key(run: i64, rep: i64) -> TrialKey {
        TrialKey {
            run_id: format!("run_{run}_repetition_{rep}").into(),
            run,
            repetition: rep,
            model: format!("m{run}").into(),
            task: "CB".into(),
            ..TrialKey::default()
        }
    }

    #[test]
    fn the_balance_counts_the_repetitions_left_of_each_treatment_that_lost_some() {
        let damage = Damage {
            parts: vec![DamagedPart {
                part: "run_7_repetition_2".into(),
                files: vec![DamagedFile {
                    path: "t/run_7_repetition_2/samples.parquet".into(),
                    reason: "truncated".into(),
                }],
                trials: vec![key(7, 2)],
                inferred: false,
            }],
            other: Vec::new(),
        };
        let kept: Vec<TrialKey> = (0..3)
            .flat_map(|rep| [key(1, rep), key(7, rep)])
            .filter(|k| k.run_id != "run_7_repetition_2")
            .collect();
        let b = damage.balance(&kept);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].to_string(), "run 7 (m7 × CB): 2 of 3 repetitions");
        let lines = damage.skipped_lines();
        assert_eq!(
            lines,
            ["skipped: run_7_repetition_2 (m7 × CB): t/run_7_repetition_2/samples.parquet: truncated"]
        );
        let msg = damage.error_message(Path::new("d"), "--skip-damaged");
        assert!(
            msg.starts_with("d: 1 damaged file (holding 1 trial):\n  t/run_7"),
            "{msg}"
        );
    }
}
