//! Where a trial came from, as the JSON object stored in `Trial.provenance`: collect's version,
//! the host (name, CPU model, cores, kernel, memory), the energy sources with their hardware
//! (GPU model, driver, power limit, which GPU channel is primary), the server (name, version,
//! model entry, serve command), the model (path, revision), the config (path, xxh3 hash) and the
//! measurement settings.

use crate::server::ServerInfo;
use serde_json::{Value, json};

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// The host this process runs on.
pub fn host() -> Value {
    let cpu_model = read("/proc/cpuinfo").and_then(|text| {
        text.lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    });
    let memory_bytes = read("/proc/meminfo").and_then(|text| {
        text.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    json!({
        "hostname": read("/proc/sys/kernel/hostname"),
        "cpu_model": cpu_model,
        "logical_cpus": std::thread::available_parallelism().map(|n| n.get()).ok(),
        "kernel": read("/proc/sys/kernel/osrelease"),
        "memory_bytes": memory_bytes,
    })
}

/// The parts of the provenance that are the same for every trial of a run.
#[derive(Debug, Clone)]
pub struct RunProvenance {
    /// The JSON object, without the per-trial parts.
    pub base: Value,
}

impl RunProvenance {
    /// Provenance shared by the run's trials.
    pub fn new(config_path: Option<&str>, config_hash: &str, energy: Value, settings: Value) -> Self {
        Self {
            base: json!({
                "collect_version": env!("CARGO_PKG_VERSION"),
                "host": host(),
                "energy": energy,
                "config": {"path": config_path, "xxh3": config_hash},
                "settings": settings,
            }),
        }
    }

    /// The provenance of one trial.
    pub fn trial(&self, server: Option<&ServerInfo>, model: Value, extra: Value) -> String {
        let mut v = self.base.clone();
        if let Some(map) = v.as_object_mut() {
            map.insert("server".into(), server.map_or(Value::Null, |s| json!(s)));
            map.insert("model".into(), model);
            map.insert("trial".into(), extra);
        }
        v.to_string()
    }
}
