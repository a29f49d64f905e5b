//! A GPU whose settings live in a JSON file (`--fake-gpu-control FILE`, hidden): the tests'
//! NVML. It enforces the range it reports, refuses changes when told to (as a driver refuses an
//! unprivileged process), and appends every change to the file's `log`, so a test can check
//! what was set and that it was restored — across processes, after a crash too. A missing file
//! is created as one GPU like an H200 (700 W, allowed 200–700 W, SM clock up to 1980 MHz).

use super::{Control, GpuState};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FakeGpus {
    /// The GPUs.
    pub gpus: Vec<FakeGpu>,
    /// Refuse every change, as NVML does without privileges.
    #[serde(default)]
    pub refuse: bool,
    /// Every change, in order (`gpu0 power 300`, `gpu0 clock 1410`, `gpu0 clock reset`).
    #[serde(default)]
    pub log: Vec<String>,
}

/// One fake GPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FakeGpu {
    /// Power limit in force, W.
    pub power_limit_w: f64,
    /// Default power limit, W.
    pub default_w: f64,
    /// Allowed range, W.
    pub min_w: f64,
    /// Allowed range, W.
    pub max_w: f64,
    /// Highest SM clock, MHz.
    pub sm_clock_max_mhz: u32,
    /// Locked SM clock, MHz.
    pub sm_clock_locked_mhz: Option<u32>,
}

impl Default for FakeGpus {
    fn default() -> Self {
        Self {
            gpus: vec![FakeGpu {
                power_limit_w: 700.0,
                default_w: 700.0,
                min_w: 200.0,
                max_w: 700.0,
                sm_clock_max_mhz: 1980,
                sm_clock_locked_mhz: None,
            }],
            refuse: false,
            log: Vec::new(),
        }
    }
}

impl FakeGpus {
    /// Reads the file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&text).with_context(|| format!("{}: not a fake GPU file", path.display()))
    }

    /// Writes the file atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        dataset::io::write_atomic(path, &serde_json::to_vec_pretty(self)?, false)
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// The control over a [`FakeGpus`] file.
#[derive(Debug)]
pub struct FakeControl {
    path: PathBuf,
}

impl FakeControl {
    /// Opens (or creates) the file.
    pub fn open(path: &Path) -> Result<Self> {
        if !path.exists() {
            FakeGpus::default().save(path)?;
        }
        FakeGpus::load(path)?;
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    fn change(&self, index: u32, what: &str, f: impl FnOnce(&mut FakeGpu) -> Result<()>) -> Result<()> {
        let mut s = FakeGpus::load(&self.path)?;
        if s.refuse {
            bail!("Insufficient Permissions (fake GPU {index})");
        }
        let Some(g) = s.gpus.get_mut(index as usize) else {
            bail!("no fake GPU {index}");
        };
        f(g)?;
        s.log.push(format!("gpu{index} {what}"));
        s.save(&self.path)
    }
}

impl Control for FakeControl {
    fn name(&self) -> &'static str {
        "fake"
    }

    fn state(&self) -> Result<Vec<GpuState>> {
        let s = FakeGpus::load(&self.path)?;
        Ok(s.gpus
            .iter()
            .enumerate()
            .map(|(i, g)| GpuState {
                index: i as u32,
                power_limit_w: Some(g.power_limit_w),
                power_limit_default_w: Some(g.default_w),
                power_limit_min_w: Some(g.min_w),
                power_limit_max_w: Some(g.max_w),
                sm_clock_max_mhz: Some(g.sm_clock_max_mhz),
                sm_clock_mhz: Some(g.sm_clock_locked_mhz.unwrap_or(g.sm_clock_max_mhz)),
            })
            .collect())
    }

    fn set_power_limit_w(&mut self, index: u32, w: f64) -> Result<()> {
        self.change(index, &format!("power {w}"), |g| {
            if w < g.min_w || w > g.max_w {
                bail!("Invalid Argument: {w} W is outside {}–{} W", g.min_w, g.max_w);
            }
            g.power_limit_w = w;
            Ok(())
        })
    }

    fn lock_sm_clock_mhz(&mut self, index: u32, mhz: u32) -> Result<()> {
        self.change(index, &format!("clock {mhz}"), |g| {
            if mhz > g.sm_clock_max_mhz {
                bail!("Invalid Argument: {mhz} MHz is above {} MHz", g.sm_clock_max_mhz);
            }
            g.sm_clock_locked_mhz = Some(mhz);
            Ok(())
        })
    }

    fn reset_sm_clock(&mut self, index: u32) -> Result<()> {
        self.change(index, "clock reset", |g| {
            g.sm_clock_locked_mhz = None;
            Ok(())
        })
    }
}
