//! The GPU settings through NVML (the process-wide handle of `sampler::nvml`). NVML reports
//! power in mW; the limits are set in whole mW. Setting needs root (or a driver configured to
//! allow it); reading does not.

use super::{Control, GpuState};
use crate::sampler::nvml::nvml;
use anyhow::{Context, Result};
use nvml_wrapper::enum_wrappers::device::Clock;
use nvml_wrapper::enums::device::GpuLockedClocksSetting;

/// NVML's GPU settings.
#[derive(Debug)]
pub struct NvmlControl {
    count: u32,
}

impl NvmlControl {
    /// Opens NVML (an error, not a crash, without the driver).
    pub fn open() -> Result<Self> {
        let count = nvml()?.device_count().context("NVML: cannot count GPUs")?;
        Ok(Self { count })
    }

    fn device(index: u32) -> Result<nvml_wrapper::Device<'static>> {
        nvml()?
            .device_by_index(index)
            .with_context(|| format!("NVML: cannot open GPU {index}"))
    }
}

fn watts(mw: u32) -> f64 {
    f64::from(mw) / 1000.0
}

impl Control for NvmlControl {
    fn name(&self) -> &'static str {
        "nvml"
    }

    fn state(&self) -> Result<Vec<GpuState>> {
        (0..self.count)
            .map(|index| {
                let d = Self::device(index)?;
                let range = d.power_management_limit_constraints().ok();
                Ok(GpuState {
                    index,
                    power_limit_w: d.power_management_limit().ok().map(watts),
                    power_limit_default_w: d.power_management_limit_default().ok().map(watts),
                    power_limit_min_w: range.as_ref().map(|r| watts(r.min_limit)),
                    power_limit_max_w: range.as_ref().map(|r| watts(r.max_limit)),
                    sm_clock_max_mhz: d.max_clock_info(Clock::SM).ok(),
                    sm_clock_mhz: d.clock_info(Clock::SM).ok(),
                })
            })
            .collect()
    }

    fn set_power_limit_w(&mut self, index: u32, w: f64) -> Result<()> {
        let mw = (w * 1000.0).round() as u32;
        Self::device(index)?
            .set_power_management_limit(mw)
            .with_context(|| format!("NVML refused a power limit of {w} W on GPU {index}"))
    }

    fn lock_sm_clock_mhz(&mut self, index: u32, mhz: u32) -> Result<()> {
        Self::device(index)?
            .set_gpu_locked_clocks(GpuLockedClocksSetting::Numeric {
                min_clock_mhz: mhz,
                max_clock_mhz: mhz,
            })
            .with_context(|| format!("NVML refused to lock GPU {index}'s clocks at {mhz} MHz"))
    }

    fn reset_sm_clock(&mut self, index: u32) -> Result<()> {
        Self::device(index)?
            .reset_gpu_locked_clocks()
            .with_context(|| format!("NVML refused to reset GPU {index}'s clock lock"))
    }
}
