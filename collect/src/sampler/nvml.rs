//! NVIDIA GPUs through NVML (`nvml-wrapper`, which loads `libnvidia-ml.so` at run time and
//! returns an error, not a crash, on a machine without the driver).
//!
//! Per GPU `i`: `GPU<i>_ENERGY (mJ)` (the total-energy counter since driver load, Volta and
//! newer), `GPU<i>_POWER (mWatts)`, `GPU<i>_USAGE` (%), `GPU<i>_MEMORY_USED` and
//! `GPU<i>_MEMORY_TOTAL` (MiB), `GPU<i>_TEMPERATURE` (°C), `GPU<i>_SM_CLOCK (MHz)` and
//! `GPU<i>_MEMORY_CLOCK (MHz)`. Only channels that answer when the source opens are recorded.
//!
//! **Power.** `nvmlDeviceGetPowerUsage` is a 1 s moving average on recent GPUs (Ampere,
//! Hopper), which smears short requests. Where the driver offers the instantaneous reading
//! (field `NVML_FI_DEV_POWER_INSTANT`), `GPU<i>_POWER (mWatts)` is that, and the 1 s average is
//! kept as `GPU<i>_POWER_AVERAGE (mWatts)`; otherwise `GPU<i>_POWER (mWatts)` is the plain
//! reading. The provenance says which.
//!
//! **Energy counter and cost.** Measured on an H200 with driver 580: reading the counter
//! (`nvmlDeviceGetTotalEnergyConsumption`, or the same field through `nvmlDeviceGetFieldValues`)
//! costs ~3.9 ms of CPU per call (the driver waits ~2.9 ms for it), every other reading a few
//! microseconds. Reading it every 200 ms would cost ~1.9 % of a core, every 10 ms ~39 %. So the
//! counter is read at most once per `counter_interval_ms` (default 1 s), and always on a
//! recording's first and last sample so it brackets every trial; between reads its cells are
//! missing. `counter_interval_ms = 0` reads it on every sample.
//!
//! At intervals under 100 ms the slow-changing channels (utilisation, memory, temperature,
//! clocks) are read only every ~100 ms and left missing in between.

use super::{ChannelSpec, SamplerSettings, Source};
use anyhow::{Context, Result, bail};
use nvml_wrapper::Nvml;
use nvml_wrapper::device::Device;
use nvml_wrapper::enum_wrappers::device::{Clock, TemperatureSensor};
use nvml_wrapper::enums::device::SampleValue;
use nvml_wrapper::structs::device::FieldId;
use std::sync::OnceLock;

/// `NVML_FI_DEV_POWER_INSTANT`: instantaneous board power, mW.
const FIELD_POWER_INSTANT: u32 = 186;

/// NVML, initialised once per process and kept for its whole life (devices borrow it).
pub(crate) fn nvml() -> Result<&'static Nvml> {
    static NVML: OnceLock<std::result::Result<Nvml, String>> = OnceLock::new();
    match NVML.get_or_init(|| Nvml::init().map_err(|e| e.to_string())) {
        Ok(n) => Ok(n),
        Err(e) => bail!(
            "cannot initialise NVML ({e}); is the NVIDIA driver installed and libnvidia-ml.so loadable?"
        ),
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Has {
    energy: bool,
    power_instant: bool,
    power_average: bool,
    usage: bool,
    memory: bool,
    temperature: bool,
    sm_clock: bool,
    mem_clock: bool,
}

struct Gpu {
    index: u32,
    device: Device<'static>,
    has: Has,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gpu")
            .field("index", &self.index)
            .field("has", &self.has)
            .finish()
    }
}

fn sample_f64(v: &SampleValue) -> Option<f64> {
    match *v {
        SampleValue::F64(x) => Some(x),
        SampleValue::U32(x) => Some(f64::from(x)),
        SampleValue::U64(x) => Some(x as f64),
        SampleValue::I64(x) => Some(x as f64),
    }
}

fn power_instant(d: &Device<'static>) -> Option<f64> {
    let values = d.field_values_for(&[FieldId(FIELD_POWER_INSTANT)]).ok()?;
    let sample = values.into_iter().next()?.ok()?;
    sample.value.ok().as_ref().and_then(sample_f64)
}

/// Every NVIDIA GPU of the machine.
#[derive(Debug)]
pub struct NvmlSource {
    gpus: Vec<Gpu>,
    aux_every: u64,
    reads: u64,
    counter_interval_ms: f64,
    interval_ms: f64,
    last_counter_ms: Option<i64>,
    force_counter: bool,
    errors: u64,
    provenance: serde_json::Value,
}

const MIB: f64 = 1024.0 * 1024.0;

impl NvmlSource {
    /// Opens every GPU; fails when NVML is missing or there is no GPU.
    pub fn open(settings: SamplerSettings) -> Result<Self> {
        let nvml = nvml()?;
        let count = nvml.device_count().context("NVML: cannot count GPUs")?;
        if count == 0 {
            bail!("NVML reports no GPU");
        }
        let driver = nvml.sys_driver_version().unwrap_or_default();
        let cuda = nvml.sys_cuda_driver_version().ok();
        let mut gpus = Vec::new();
        let mut info = Vec::new();
        for index in 0..count {
            let device = nvml
                .device_by_index(index)
                .with_context(|| format!("NVML: cannot open GPU {index}"))?;
            let has = Has {
                energy: device.total_energy_consumption().is_ok(),
                power_instant: power_instant(&device).is_some(),
                power_average: device.power_usage().is_ok(),
                usage: device.utilization_rates().is_ok(),
                memory: device.memory_info().is_ok(),
                temperature: device.temperature(TemperatureSensor::Gpu).is_ok(),
                sm_clock: device.clock_info(Clock::SM).is_ok(),
                mem_clock: device.clock_info(Clock::Memory).is_ok(),
            };
            info.push(serde_json::json!({
                "index": index,
                "name": device.name().ok(),
                "uuid": device.uuid().ok(),
                "power_limit_w": device.enforced_power_limit().ok().map(|mw| f64::from(mw) / 1000.0),
                "energy_counter": has.energy,
                "gpu_energy_primary": if has.energy { "energy_counter" } else { "power_integral" },
                "power_channel": if has.power_instant {
                    "NVML_FI_DEV_POWER_INSTANT (instantaneous); the 1 s average is GPU<i>_POWER_AVERAGE"
                } else {
                    "nvmlDeviceGetPowerUsage (a 1 s average on recent GPUs)"
                },
            }));
            gpus.push(Gpu { index, device, has });
        }
        if gpus
            .iter()
            .all(|g| !g.has.energy && !g.has.power_instant && !g.has.power_average)
        {
            bail!("NVML: no GPU reports energy or power");
        }
        let interval_ms = settings.interval_ms;
        let aux_every = if interval_ms < 100.0 {
            (100.0 / interval_ms).ceil().max(1.0) as u64
        } else {
            1
        };
        Ok(Self {
            gpus,
            aux_every,
            reads: 0,
            counter_interval_ms: settings.counter_interval_ms.max(0.0),
            interval_ms,
            last_counter_ms: None,
            force_counter: false,
            errors: 0,
            provenance: serde_json::json!({
                "driver_version": driver,
                "cuda_driver_version": cuda,
                "gpus": info,
                "counter_interval_ms": settings.counter_interval_ms,
                "note": "GPU energy comes from the NVML total-energy counter where present (read at most once per \
                         counter_interval_ms and on each recording's first and last sample; missing in between); \
                         power is instantaneous where the driver offers it",
                "aux_channels_every_n_samples": aux_every,
            }),
        })
    }

    /// Short description of the GPUs for the console.
    pub fn describe(&self) -> String {
        let names: Vec<String> = self
            .gpus
            .iter()
            .map(|g| format!("GPU{} {}", g.index, g.device.name().unwrap_or_default()))
            .collect();
        names.join(", ")
    }

    fn counter_due(&self, time_ms: i64) -> bool {
        self.force_counter
            || self.counter_interval_ms <= 0.0
            || self.last_counter_ms.is_none_or(|t| {
                // Half an interval of slack so jitter does not push a read a whole tick later.
                (time_ms - t) as f64 >= self.counter_interval_ms - self.interval_ms / 2.0
            })
    }
}

impl Source for NvmlSource {
    fn name(&self) -> &'static str {
        "nvml"
    }

    fn channels(&self) -> Vec<ChannelSpec> {
        let mut c = Vec::new();
        for g in &self.gpus {
            let i = g.index;
            let h = g.has;
            let mut add = |on: bool, name: String| {
                if on {
                    c.push(ChannelSpec::plain(name));
                }
            };
            add(h.energy, format!("GPU{i}_ENERGY (mJ)"));
            add(
                h.power_instant || h.power_average,
                format!("GPU{i}_POWER (mWatts)"),
            );
            add(
                h.power_instant && h.power_average,
                format!("GPU{i}_POWER_AVERAGE (mWatts)"),
            );
            add(h.usage, format!("GPU{i}_USAGE"));
            add(h.memory, format!("GPU{i}_MEMORY_USED"));
            add(h.memory, format!("GPU{i}_MEMORY_TOTAL"));
            add(h.temperature, format!("GPU{i}_TEMPERATURE"));
            add(h.sm_clock, format!("GPU{i}_SM_CLOCK (MHz)"));
            add(h.mem_clock, format!("GPU{i}_MEMORY_CLOCK (MHz)"));
        }
        c
    }

    fn read(&mut self, time_ms: i64, out: &mut Vec<Option<f64>>) {
        let aux = self.reads.is_multiple_of(self.aux_every) || self.force_counter;
        let counter = self.counter_due(time_ms);
        if counter {
            self.last_counter_ms = Some(time_ms);
        }
        self.reads += 1;
        for g in &self.gpus {
            let d = &g.device;
            let h = g.has;
            if h.energy {
                let v = counter
                    .then(|| d.total_energy_consumption().ok().map(|v| v as f64))
                    .flatten();
                self.errors += u64::from(counter && v.is_none());
                out.push(v);
            }
            let power = if h.power_instant {
                power_instant(d)
            } else if h.power_average {
                d.power_usage().ok().map(f64::from)
            } else {
                Some(0.0)
            };
            if h.power_instant || h.power_average {
                self.errors += u64::from(power.is_none());
                out.push(power);
            }
            if h.power_instant && h.power_average {
                out.push(d.power_usage().ok().map(f64::from));
            }
            if h.usage {
                out.push(
                    aux.then(|| d.utilization_rates().ok().map(|u| f64::from(u.gpu)))
                        .flatten(),
                );
            }
            if h.memory {
                let m = aux.then(|| d.memory_info().ok()).flatten();
                out.push(m.as_ref().map(|m| m.used as f64 / MIB));
                out.push(m.as_ref().map(|m| m.total as f64 / MIB));
            }
            if h.temperature {
                out.push(
                    aux.then(|| d.temperature(TemperatureSensor::Gpu).ok().map(f64::from))
                        .flatten(),
                );
            }
            if h.sm_clock {
                out.push(aux.then(|| d.clock_info(Clock::SM).ok().map(f64::from)).flatten());
            }
            if h.mem_clock {
                out.push(
                    aux.then(|| d.clock_info(Clock::Memory).ok().map(f64::from))
                        .flatten(),
                );
            }
        }
        self.force_counter = false;
    }

    fn provenance(&self) -> serde_json::Value {
        self.provenance.clone()
    }

    fn start(&mut self) {
        self.reads = 0;
        self.last_counter_ms = None;
        self.force_counter = false;
    }

    fn before_last_sample(&mut self) {
        self.force_counter = true;
    }

    fn take_errors(&mut self) -> u64 {
        std::mem::take(&mut self.errors)
    }
}
