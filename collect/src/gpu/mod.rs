//! GPU settings as factors of the design: the power limit (`power_limit_w = [...]`) and a
//! locked SM clock (`sm_clock_mhz = [...]`), set through NVML before each trial, read back, and
//! restored after it. Every control implements [`Control`]: [`nvml`] the real one, [`fake`] a
//! file-backed one for tests (`--fake-gpu-control FILE`, hidden) that behaves like a GPU whose
//! driver enforces the limits NVML reports.
//!
//! **Restoring.** The settings found before the first change are written to
//! `DATA/.gpu-settings.json` (atomically, before anything is changed) and restored after each
//! trial, when the run ends, on Ctrl-C (the trial in flight is abandoned, then the settings are
//! restored) and, when the process was killed, by the next `collect` on that dataset, before it
//! does anything else. The file is removed once the settings are back.
//!
//! **Before the run.** [`Settings::open`] checks every level against the range the driver
//! reports and that the driver lets this process change the setting (setting the current power
//! limit again, resetting the clock lock), so a run that cannot apply its design says so and
//! runs nothing. Without these factors nothing is ever changed: the state is only read, for
//! each trial's provenance (the limit it ran under and the range allowed).

pub mod fake;
pub mod nvml;

use anyhow::{Context, Result, bail};
use dataset::TrialKey;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One GPU's settings now and the range its driver allows; `None` where the driver does not say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuState {
    /// NVML index.
    pub index: u32,
    /// Power limit in force, W.
    pub power_limit_w: Option<f64>,
    /// The driver's default power limit, W.
    pub power_limit_default_w: Option<f64>,
    /// Lowest power limit allowed, W.
    pub power_limit_min_w: Option<f64>,
    /// Highest power limit allowed, W.
    pub power_limit_max_w: Option<f64>,
    /// Highest SM clock, MHz.
    pub sm_clock_max_mhz: Option<u32>,
    /// SM clock now, MHz.
    pub sm_clock_mhz: Option<u32>,
}

/// Reads and changes GPU settings.
pub trait Control: Send + std::fmt::Debug {
    /// `nvml` or `fake`.
    fn name(&self) -> &'static str;
    /// Every GPU's state.
    fn state(&self) -> Result<Vec<GpuState>>;
    /// Sets GPU `index`'s power limit, W.
    fn set_power_limit_w(&mut self, index: u32, watts: f64) -> Result<()>;
    /// Locks GPU `index`'s SM clock at `mhz`.
    fn lock_sm_clock_mhz(&mut self, index: u32, mhz: u32) -> Result<()>;
    /// Removes GPU `index`'s SM clock lock.
    fn reset_sm_clock(&mut self, index: u32) -> Result<()>;
}

/// Which control a run uses.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ControlChoice {
    /// NVML (the default).
    #[default]
    Nvml,
    /// The file-backed fake of [`fake`] (`--fake-gpu-control FILE`).
    Fake(PathBuf),
    /// None: the GPU is neither read nor changed (`--demo`, whose GPU is simulated).
    None,
}

impl ControlChoice {
    /// Opens the control.
    pub fn open(&self) -> Result<Box<dyn Control>> {
        Ok(match self {
            ControlChoice::Nvml => Box::new(nvml::NvmlControl::open()?),
            ControlChoice::Fake(path) => Box::new(fake::FakeControl::open(path)?),
            ControlChoice::None => bail!("no GPU control in this run (the demo's GPU is simulated)"),
        })
    }
}

/// The journal's file name in the dataset folder.
pub const JOURNAL: &str = ".gpu-settings.json";

/// What was in force before collect changed anything: written before the first change,
/// removed once it is restored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Journal {
    /// Host and process that changed the settings.
    host: String,
    pid: u32,
    /// The control that changed them.
    control: String,
    /// Each GPU's power limit before, W (`None`: not changed).
    power_limit_w: Vec<(u32, Option<f64>)>,
    /// Whether collect locked the SM clocks.
    clock_locked: bool,
}

/// The GPU settings of a run: the control, what the design asks, what to restore.
#[derive(Debug)]
pub struct Settings {
    control: Box<dyn Control>,
    journal_path: PathBuf,
    /// The state before the run, restored after each trial.
    original: Vec<GpuState>,
    /// The design sets power limits / locks clocks.
    sets_power: bool,
    sets_clock: bool,
    /// A change is in force (the journal is on disk).
    changed: bool,
}

impl Settings {
    /// Opens the control for a run on the dataset at `data`: restores settings a killed run left
    /// changed (its journal), then, when the design sets a power limit or a clock, checks every
    /// level and that the driver lets this process change it. Returns the notes to show.
    /// Without such factors, a control that cannot be opened is no error (`Ok(None)`): there
    /// is nothing to set, and the state is only recorded where it can be read.
    pub fn open(
        choice: &ControlChoice,
        data: &Path,
        power_levels_w: &[f64],
        clock_levels_mhz: &[u32],
    ) -> Result<(Option<Self>, Vec<String>)> {
        let sets_power = !power_levels_w.is_empty();
        let sets_clock = !clock_levels_mhz.is_empty();
        let journal_path = data.join(JOURNAL);
        let needed = sets_power || sets_clock || journal_path.exists();
        let control = match choice.open() {
            Ok(c) => c,
            Err(e) if needed => {
                return Err(e.context(if journal_path.exists() {
                    format!(
                        "{} records GPU settings an interrupted run changed, and they cannot be restored",
                        journal_path.display()
                    )
                } else {
                    "the design sets GPU power limits or clocks, which needs NVML".to_string()
                }));
            }
            Err(_) => return Ok((None, Vec::new())),
        };
        let mut notes = Vec::new();
        let mut s = Self {
            control,
            journal_path,
            original: Vec::new(),
            sets_power,
            sets_clock,
            changed: false,
        };
        if let Some(j) = s.read_journal()? {
            s.restore_journal(&j)?;
            notes.push(format!(
                "restored the GPU settings that an interrupted run (pid {} on {}) had changed: {}",
                j.pid,
                j.host,
                describe_journal(&j)
            ));
        }
        s.original = s.control.state()?;
        if s.original.is_empty() && needed {
            bail!(
                "the design sets GPU power limits or clocks, but {} finds no GPU",
                s.control.name()
            );
        }
        if sets_power {
            s.check_power_levels(power_levels_w)?;
        }
        if sets_clock {
            s.check_clock_levels(clock_levels_mhz)?;
        }
        Ok((Some(s), notes))
    }

    fn check_power_levels(&mut self, levels: &[f64]) -> Result<()> {
        for g in &self.original {
            for &w in levels {
                let (lo, hi) = (g.power_limit_min_w, g.power_limit_max_w);
                if lo.is_some_and(|lo| w < lo - 1e-9) || hi.is_some_and(|hi| w > hi + 1e-9) {
                    bail!(
                        "experiment.power_limit_w: {w} W is outside GPU {}'s allowed range {}; the run would not measure its design, so nothing was run",
                        g.index,
                        range_text(lo, hi, "W")
                    );
                }
            }
            // Setting the limit in force again changes nothing, and tells whether the driver
            // lets this process set it at all.
            let Some(now) = g.power_limit_w else {
                bail!(
                    "experiment.power_limit_w: {} does not report GPU {}'s power limit, so it cannot be set and restored; nothing was run",
                    self.control.name(),
                    g.index
                );
            };
            self.control.set_power_limit_w(g.index, now).with_context(|| {
                format!(
                    "experiment.power_limit_w: {} does not let this process set GPU {}'s power limit (root, or `nvidia-smi -pm 1` persistence, is usually needed); nothing was run",
                    self.control.name(),
                    g.index
                )
            })?;
        }
        Ok(())
    }

    fn check_clock_levels(&mut self, levels: &[u32]) -> Result<()> {
        for g in &self.original {
            for &mhz in levels {
                if g.sm_clock_max_mhz.is_some_and(|m| mhz > m) {
                    bail!(
                        "experiment.sm_clock_mhz: {mhz} MHz is above GPU {}'s highest SM clock ({} MHz); nothing was run",
                        g.index,
                        g.sm_clock_max_mhz.unwrap_or_default()
                    );
                }
            }
            // Collect locks clocks only for the run and resets them after; resetting first
            // checks the permission without choosing a clock.
            self.control.reset_sm_clock(g.index).with_context(|| {
                format!(
                    "experiment.sm_clock_mhz: {} does not let this process lock GPU {}'s clocks (root is usually needed); nothing was run",
                    self.control.name(),
                    g.index
                )
            })?;
        }
        Ok(())
    }

    /// Applies a trial's levels (its key's `power_limit_w` and `sm_clock_mhz`) to every GPU and
    /// reads them back; the journal is written before the first change.
    pub fn apply(&mut self, key: &TrialKey) -> Result<()> {
        let power = key.power_limit_w.filter(|_| self.sets_power);
        let clock = key
            .sm_clock_mhz
            .and_then(|c| u32::try_from(c).ok())
            .filter(|_| self.sets_clock);
        if power.is_none() && clock.is_none() {
            return Ok(());
        }
        if !self.changed {
            self.write_journal()?;
            self.changed = true;
        }
        let indices: Vec<u32> = self.original.iter().map(|g| g.index).collect();
        for &i in &indices {
            if let Some(w) = power {
                self.control
                    .set_power_limit_w(i, w)
                    .with_context(|| format!("{}: cannot set GPU {i}'s power limit to {w} W", key.run_id))?;
            }
            if let Some(mhz) = clock {
                self.control.lock_sm_clock_mhz(i, mhz).with_context(|| {
                    format!("{}: cannot lock GPU {i}'s SM clock at {mhz} MHz", key.run_id)
                })?;
            }
        }
        if let Some(w) = power {
            for g in self.control.state()? {
                let now = g.power_limit_w;
                if now.is_none_or(|now| (now - w).abs() > 0.5) {
                    bail!(
                        "{}: GPU {}'s power limit reads {} after setting {w} W",
                        key.run_id,
                        g.index,
                        now.map_or("nothing".into(), |n| format!("{n} W"))
                    );
                }
            }
        }
        Ok(())
    }

    /// Restores the settings in force before the run, if anything was changed, and removes the
    /// journal.
    pub fn restore(&mut self) -> Result<()> {
        if !self.changed {
            return Ok(());
        }
        let original = self.original.clone();
        for g in &original {
            if self.sets_power
                && let Some(w) = g.power_limit_w
            {
                self.control
                    .set_power_limit_w(g.index, w)
                    .with_context(|| format!("cannot restore GPU {}'s power limit to {w} W", g.index))?;
            }
            if self.sets_clock {
                self.control
                    .reset_sm_clock(g.index)
                    .with_context(|| format!("cannot reset GPU {}'s SM clock lock", g.index))?;
            }
        }
        self.changed = false;
        match std::fs::remove_file(&self.journal_path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).with_context(|| format!("cannot remove {}", self.journal_path.display())),
        }
    }

    /// Every GPU's state now, for a trial's provenance (`None` when it cannot be read).
    pub fn state_json(&self) -> serde_json::Value {
        match self.control.state() {
            Ok(s) => serde_json::json!({"control": self.control.name(), "gpus": s}),
            Err(e) => serde_json::json!({"control": self.control.name(), "error": format!("{e:#}")}),
        }
    }

    fn write_journal(&self) -> Result<()> {
        let j = Journal {
            host: dataset::lock::hostname(),
            pid: std::process::id(),
            control: self.control.name().into(),
            power_limit_w: self
                .original
                .iter()
                .map(|g| (g.index, g.power_limit_w.filter(|_| self.sets_power)))
                .collect(),
            clock_locked: self.sets_clock,
        };
        let text = serde_json::to_vec_pretty(&j)?;
        dataset::io::write_atomic(&self.journal_path, &text, true)
            .with_context(|| format!("cannot write {}", self.journal_path.display()))
    }

    fn read_journal(&self) -> Result<Option<Journal>> {
        let text = match std::fs::read(&self.journal_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", self.journal_path.display())),
        };
        serde_json::from_slice(&text).map(Some).with_context(|| {
            format!(
                "{}: not a GPU settings journal; restore the GPU's settings by hand, then delete it",
                self.journal_path.display()
            )
        })
    }

    fn restore_journal(&mut self, j: &Journal) -> Result<()> {
        for &(i, w) in &j.power_limit_w {
            if let Some(w) = w {
                self.control.set_power_limit_w(i, w).with_context(|| {
                    format!(
                        "cannot restore GPU {i}'s power limit to {w} W from {}",
                        self.journal_path.display()
                    )
                })?;
            }
            if j.clock_locked {
                self.control.reset_sm_clock(i).with_context(|| {
                    format!(
                        "cannot reset GPU {i}'s SM clock lock from {}",
                        self.journal_path.display()
                    )
                })?;
            }
        }
        std::fs::remove_file(&self.journal_path)
            .with_context(|| format!("cannot remove {}", self.journal_path.display()))
    }
}

impl Drop for Settings {
    fn drop(&mut self) {
        // Error paths and panics end here; a failure leaves the journal for the next run.
        let _ = self.restore();
    }
}

fn range_text(lo: Option<f64>, hi: Option<f64>, unit: &str) -> String {
    let f = |v: Option<f64>| v.map_or("?".to_string(), |v| format!("{v}"));
    format!("{}–{} {unit}", f(lo), f(hi))
}

fn describe_journal(j: &Journal) -> String {
    let mut parts: Vec<String> = j
        .power_limit_w
        .iter()
        .filter_map(|(i, w)| w.map(|w| format!("GPU {i} power limit back to {w} W")))
        .collect();
    if j.clock_locked {
        parts.push("SM clock locks reset".into());
    }
    parts.join(", ")
}

/// What a dry run says about the GPUs' settings and the design's levels.
pub fn describe(choice: &ControlChoice, power_levels_w: &[f64], clock_levels_mhz: &[u32]) -> Option<String> {
    let control = choice.open().ok()?;
    let state = control.state().ok()?;
    let mut lines = Vec::new();
    for g in &state {
        lines.push(format!(
            "GPU {}: power limit {} (default {}, allowed {}), SM clock {} of at most {}",
            g.index,
            g.power_limit_w.map_or("?".into(), |w| format!("{w} W")),
            g.power_limit_default_w.map_or("?".into(), |w| format!("{w} W")),
            range_text(g.power_limit_min_w, g.power_limit_max_w, "W"),
            g.sm_clock_mhz.map_or("?".into(), |c| format!("{c} MHz")),
            g.sm_clock_max_mhz.map_or("?".into(), |c| format!("{c} MHz")),
        ));
        for &w in power_levels_w {
            if g.power_limit_min_w.is_some_and(|lo| w < lo) || g.power_limit_max_w.is_some_and(|hi| w > hi) {
                lines.push(format!(
                    "  power limit level {w} W is outside GPU {}'s range: the run will refuse it",
                    g.index
                ));
            }
        }
        for &c in clock_levels_mhz {
            if g.sm_clock_max_mhz.is_some_and(|m| c > m) {
                lines.push(format!(
                    "  SM clock level {c} MHz is above GPU {}'s highest: the run will refuse it",
                    g.index
                ));
            }
        }
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}
