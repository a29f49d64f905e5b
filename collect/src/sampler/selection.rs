//! Which energy sources the user asked for and opening them: `--energy` parsed into an
//! [`EnergySelection`] of [`SourceKind`]s, the [`SamplerSettings`] and [`open`], the one place
//! that turns a selection into a [`Recorder`].

use super::polling::PollingRecorder;
use super::{Recorder, Source, energibridge, fake, nvml, procfs, rapl};
use anyhow::Result;
use std::fmt;
use std::str::FromStr;

/// A source kind named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// NVIDIA GPUs through NVML.
    Nvml,
    /// Intel/AMD RAPL counters through /sys/class/powercap.
    Rapl,
    /// CPU utilisation, frequency and memory from /proc and /sys.
    Procfs,
    /// The external `energibridge` binary.
    EnergiBridge,
    /// The scripted fake.
    Fake,
}

impl SourceKind {
    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Nvml => "nvml",
            SourceKind::Rapl => "rapl",
            SourceKind::Procfs => "procfs",
            SourceKind::EnergiBridge => "energibridge",
            SourceKind::Fake => "fake",
        }
    }
}

/// `--energy`: `auto` or a comma-separated list of sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnergySelection {
    /// NVML and RAPL where they work, plus procfs.
    Auto,
    /// Exactly these; each must work.
    List(Vec<SourceKind>),
}

impl FromStr for EnergySelection {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let mut kinds = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let kind = match part {
                "auto" => {
                    return if s.trim() == "auto" {
                        Ok(EnergySelection::Auto)
                    } else {
                        Err("`auto` cannot be combined with other sources".into())
                    };
                }
                "nvml" => SourceKind::Nvml,
                "rapl" => SourceKind::Rapl,
                "procfs" => SourceKind::Procfs,
                "energibridge" => SourceKind::EnergiBridge,
                "fake" => SourceKind::Fake,
                other => {
                    return Err(format!(
                        "unknown energy source `{other}` (expected auto, nvml, rapl, procfs, energibridge or fake)"
                    ));
                }
            };
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if kinds.is_empty() {
            return Err("no energy source given".into());
        }
        if kinds.contains(&SourceKind::EnergiBridge) && kinds.len() > 1 {
            return Err(
                "energibridge samples on its own clock and cannot be combined with other sources".into(),
            );
        }
        Ok(EnergySelection::List(kinds))
    }
}

impl fmt::Display for EnergySelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnergySelection::Auto => f.write_str("auto"),
            EnergySelection::List(k) => {
                let names: Vec<&str> = k.iter().map(|k| k.as_str()).collect();
                f.write_str(&names.join(","))
            }
        }
    }
}

/// How to sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplerSettings {
    /// Interval between samples, ms.
    pub interval_ms: f64,
    /// Least time between two reads of NVML's energy counter, ms (0 = every sample). Reading
    /// it costs ~3.9 ms of CPU on an H200 (driver 580), against microseconds for power; see
    /// `nvml.rs`.
    pub counter_interval_ms: f64,
}

impl SamplerSettings {
    /// Every channel at `interval_ms`, the NVML counter at most once per second.
    pub fn new(interval_ms: f64) -> Self {
        Self {
            interval_ms,
            counter_interval_ms: 1000.0,
        }
    }
}

/// Opens the selected sources. `auto` takes NVML and RAPL where they work and always procfs;
/// what it skipped and why is returned as notes.
pub fn open(
    selection: &EnergySelection,
    settings: SamplerSettings,
    fake: &fake::FakeScript,
) -> Result<(Box<dyn Recorder>, Vec<String>)> {
    let interval_ms = settings.interval_ms;
    let mut notes = Vec::new();
    let mut sources: Vec<Box<dyn Source>> = Vec::new();
    match selection {
        EnergySelection::Auto => {
            match nvml::NvmlSource::open(settings) {
                Ok(s) => sources.push(Box::new(s)),
                Err(e) => notes.push(format!("energy: no NVML ({e:#})")),
            }
            match rapl::RaplSource::open() {
                Ok(s) => sources.push(Box::new(s)),
                Err(e) => notes.push(format!("energy: no RAPL ({e:#})")),
            }
            if sources.is_empty() {
                notes.push(
                    "energy: no energy source is available; the samples hold only CPU utilisation and memory"
                        .into(),
                );
            }
            sources.push(Box::new(procfs::ProcfsSource::open()?));
        }
        EnergySelection::List(kinds) => {
            for kind in kinds {
                match kind {
                    SourceKind::Nvml => sources.push(Box::new(nvml::NvmlSource::open(settings)?)),
                    SourceKind::Rapl => sources.push(Box::new(rapl::RaplSource::open()?)),
                    SourceKind::Procfs => sources.push(Box::new(procfs::ProcfsSource::open()?)),
                    SourceKind::Fake => sources.push(Box::new(fake::FakeSource::new(fake.clone()))),
                    SourceKind::EnergiBridge => {
                        return Ok((
                            Box::new(energibridge::EnergiBridgeRecorder::open(interval_ms)?),
                            notes,
                        ));
                    }
                }
            }
        }
    }
    Ok((Box::new(PollingRecorder::new(sources, interval_ms)?), notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn energy_lists_parse_and_reject_mixtures() {
        assert_eq!("auto".parse::<EnergySelection>(), Ok(EnergySelection::Auto));
        assert_eq!(
            "nvml, rapl".parse::<EnergySelection>(),
            Ok(EnergySelection::List(vec![SourceKind::Nvml, SourceKind::Rapl]))
        );
        assert!("nvml,auto".parse::<EnergySelection>().is_err());
        assert!("energibridge,nvml".parse::<EnergySelection>().is_err());
        assert!("gpu".parse::<EnergySelection>().unwrap_err().contains("`gpu`"));
    }
}
