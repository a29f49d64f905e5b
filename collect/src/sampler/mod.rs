//! Energy sampling. Every pollable source (NVML, RAPL, procfs, the scripted fake) implements
//! [`Source`]: a fixed set of channels named in EnergiBridge's vocabulary and one `read` per
//! sample. A [`PollingRecorder`] reads all of them on its own thread at a fixed interval,
//! timestamping each row with the process clock just before the read, and measures the CPU time
//! of that thread (its own cost). EnergiBridge samples on its own and is the other
//! [`Recorder`].
//!
//! This file holds the traits and the types they share; [`selection`] parses `--energy` and
//! opens the sources ([`open`]), [`polling`] is the polling recorder and its thread.
//!
//! Adding a source is one new file implementing [`Source`] plus one line in [`open`].

pub mod energibridge;
pub mod fake;
pub mod nvml;
pub mod polling;
pub mod procfs;
pub mod rapl;
pub mod selection;

pub use polling::{PollingRecorder, stat_cpu_s, thread_cpu_s};
pub use selection::{EnergySelection, SamplerSettings, SourceKind, open};

use anyhow::Result;
use dataset::SampleTable;
use std::fmt;

/// One column a source produces.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelSpec {
    /// Column name (`GPU0_ENERGY (mJ)`).
    pub name: String,
    /// The counter's wrap range in the column's unit, when it is a wrapping counter.
    pub wrap_range: Option<f64>,
}

impl ChannelSpec {
    /// A channel without wrap range.
    pub fn plain(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            wrap_range: None,
        }
    }
}

/// A pollable measurement source.
pub trait Source: Send + fmt::Debug {
    /// Short name (`nvml`, `rapl`, `procfs`, `fake`).
    fn name(&self) -> &'static str;
    /// The channels, fixed for the source's life, in the order `read` pushes them.
    fn channels(&self) -> Vec<ChannelSpec>;
    /// Reads every channel once and pushes one value per channel (None when a read failed).
    /// `time_ms` is the sample's timestamp, taken just before the call.
    fn read(&mut self, time_ms: i64, out: &mut Vec<Option<f64>>);
    /// What the source is (hardware, driver, which channel is primary), for provenance.
    fn provenance(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
    /// Called before each recording starts.
    fn start(&mut self) {}
    /// Called just before the last sample of a recording (sources that read some channels
    /// only now and then read them all on the last sample, so every recording ends with them).
    fn before_last_sample(&mut self) {}
    /// Energy or power readings that failed since the last call (stored as missing values).
    fn take_errors(&mut self) -> u64 {
        0
    }
    /// Called before a trial of `model`; `power_hint_w` is the config's `power_w` for it.
    fn begin_trial(&mut self, _model: &str, _power_hint_w: Option<f64>) {}
    /// Called once the run knows the base URL its requests go to (the `fake` source follows
    /// a batching fake server's energy ledger there).
    fn set_endpoint(&mut self, _base_url: &str) {}
}

/// What one recording produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// The samples.
    pub table: SampleTable,
    /// CPU time the sampler itself used, s.
    pub cpu_s: f64,
    /// Energy/power readings that failed (stored as missing values).
    pub read_errors: u64,
}

/// Something that records samples between `start` and `stop`.
pub trait Recorder: Send + fmt::Debug {
    /// The sources, comma-separated (`nvml,rapl,procfs`).
    fn sources(&self) -> String;
    /// Provenance of every source.
    fn provenance(&self) -> serde_json::Value;
    /// Announces the next trial's model.
    fn begin_trial(&mut self, model: &str, power_hint_w: Option<f64>);
    /// Tells the sources the base URL the run's requests go to ([`Source::set_endpoint`]).
    fn set_endpoint(&mut self, _base_url: &str) {}
    /// Starts recording; returns once the first sample has been taken.
    fn start(&mut self) -> Result<()>;
    /// Takes a last sample, stops and returns everything recorded since `start`.
    fn stop(&mut self) -> Result<Recording>;
    /// True when samples are simulated.
    fn simulated(&self) -> bool {
        false
    }
}
