//! Intel/AMD RAPL energy counters through the Linux powercap interface
//! (`/sys/class/powercap/intel-rapl:<N>[:<M>]`, which AMD CPUs expose under the same name).
//!
//! Every domain is recorded as a cumulative counter in joules with its exact wrap range
//! (`max_energy_range_uj`), named as EnergiBridge names it: socket 0 gives `PACKAGE_ENERGY (J)`,
//! `PP0_ENERGY (J)` (core), `PP1_ENERGY (J)` (uncore) and `DRAM_ENERGY (J)`; further sockets
//! `PACKAGE<N>_ENERGY (J)`, `PP0_<N>_ENERGY (J)`, ...; the platform domain `PSYS_ENERGY (J)`.
//! The accounting uses socket 0's package and DRAM counters.
//!
//! Since 2020 (CVE-2020-8694) `energy_uj` is readable by root only; the error says how to open it.

use super::{ChannelSpec, Source};
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};

/// The default powercap root.
pub const POWERCAP: &str = "/sys/class/powercap";

#[derive(Debug, Clone)]
struct Domain {
    column: String,
    energy_path: PathBuf,
    range_j: Option<f64>,
}

/// All readable RAPL domains.
#[derive(Debug)]
pub struct RaplSource {
    domains: Vec<Domain>,
    root: PathBuf,
    errors: u64,
}

fn read_trim(p: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(p).map(|s| s.trim().to_string())
}

/// The column of a domain named `name` (`package-0`, `core`, `dram`...) on socket `socket`.
fn column_name(name: &str, socket: u32) -> Option<String> {
    let suffix = |base: &str| {
        if socket == 0 {
            format!("{base}_ENERGY (J)")
        } else {
            format!("{base}{socket}_ENERGY (J)")
        }
    };
    if name.starts_with("package") {
        return Some(suffix("PACKAGE"));
    }
    match name {
        "core" => Some(if socket == 0 {
            "PP0_ENERGY (J)".into()
        } else {
            format!("PP0_{socket}_ENERGY (J)")
        }),
        "uncore" => Some(if socket == 0 {
            "PP1_ENERGY (J)".into()
        } else {
            format!("PP1_{socket}_ENERGY (J)")
        }),
        "dram" => Some(suffix("DRAM")),
        "psys" => Some("PSYS_ENERGY (J)".into()),
        _ => None,
    }
}

impl RaplSource {
    /// Opens the domains under [`POWERCAP`].
    pub fn open() -> Result<Self> {
        Self::open_at(Path::new(POWERCAP))
    }

    /// Opens the domains under `root` (a powercap folder; tests pass a fake tree).
    pub fn open_at(root: &Path) -> Result<Self> {
        let Ok(entries) = std::fs::read_dir(root) else {
            bail!(
                "{} does not exist (no RAPL powercap driver on this machine)",
                root.display()
            );
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("intel-rapl:"))
            })
            .collect();
        dirs.sort();
        if dirs.is_empty() {
            bail!(
                "{} holds no intel-rapl domain (no RAPL on this machine)",
                root.display()
            );
        }
        let mut domains = Vec::new();
        let mut denied = Vec::new();
        for dir in dirs {
            let Some(id) = dir
                .file_name()
                .and_then(|n| n.to_str())
                .map(|n| n["intel-rapl:".len()..].to_string())
            else {
                continue;
            };
            let socket: u32 = id.split(':').next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let Ok(name) = read_trim(&dir.join("name")) else {
                continue;
            };
            let Some(column) = column_name(&name, socket) else {
                continue;
            };
            let energy_path = dir.join("energy_uj");
            match read_trim(&energy_path) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    denied.push(energy_path);
                    continue;
                }
                Err(_) => continue,
            }
            let range_j = read_trim(&dir.join("max_energy_range_uj"))
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .map(|uj| uj / 1e6);
            if domains.iter().any(|d: &Domain| d.column == column) {
                continue;
            }
            domains.push(Domain {
                column,
                energy_path,
                range_j,
            });
        }
        if domains.is_empty() {
            if let Some(first) = denied.first() {
                bail!(
                    "permission denied reading {} (RAPL counters are root-only since CVE-2020-8694); run \
                     `sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj \
                     /sys/class/powercap/intel-rapl:*:*/energy_uj` (until reboot) or run collect as root",
                    first.display()
                );
            }
            bail!("{}: no readable RAPL domain", root.display());
        }
        Ok(Self {
            domains,
            root: root.to_path_buf(),
            errors: 0,
        })
    }
}

impl Source for RaplSource {
    fn name(&self) -> &'static str {
        "rapl"
    }

    fn channels(&self) -> Vec<ChannelSpec> {
        self.domains
            .iter()
            .map(|d| ChannelSpec {
                name: d.column.clone(),
                wrap_range: d.range_j,
            })
            .collect()
    }

    fn read(&mut self, _time_ms: i64, out: &mut Vec<Option<f64>>) {
        for d in &self.domains {
            let v = read_trim(&d.energy_path)
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .map(|uj| uj / 1e6);
            self.errors += u64::from(v.is_none());
            out.push(v);
        }
    }

    fn take_errors(&mut self) -> u64 {
        std::mem::take(&mut self.errors)
    }

    fn provenance(&self) -> serde_json::Value {
        serde_json::json!({
            "root": self.root,
            "domains": self.domains.iter().map(|d| serde_json::json!({
                "column": d.column, "wrap_range_j": d.range_j, "file": d.energy_path,
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(root: &Path, id: &str, name: &str, uj: u64, range: u64) {
        let d = root.join(format!("intel-rapl:{id}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("name"), format!("{name}\n")).unwrap();
        std::fs::write(d.join("energy_uj"), format!("{uj}\n")).unwrap();
        std::fs::write(d.join("max_energy_range_uj"), format!("{range}\n")).unwrap();
    }

    #[test]
    fn powercap_domains_become_energibridge_columns_with_their_wrap_range() {
        let tmp = tempfile::tempdir().unwrap();
        domain(tmp.path(), "0", "package-0", 1_500_000, 262_143_328_850);
        domain(tmp.path(), "0:0", "core", 7, 262_143_328_850);
        domain(tmp.path(), "0:1", "dram", 2_000_000, 65_712_999_613);
        domain(tmp.path(), "1", "package-1", 3, 262_143_328_850);
        let mut s = RaplSource::open_at(tmp.path()).unwrap();
        let names: Vec<String> = s.channels().into_iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "PACKAGE_ENERGY (J)",
                "PP0_ENERGY (J)",
                "DRAM_ENERGY (J)",
                "PACKAGE1_ENERGY (J)"
            ]
        );
        assert_eq!(s.channels()[2].wrap_range, Some(65_712.999_613));
        let mut out = Vec::new();
        s.read(0, &mut out);
        assert_eq!(out[0], Some(1.5));
        assert_eq!(out[2], Some(2.0));
    }

    #[test]
    fn a_machine_without_powercap_is_explained() {
        let err = RaplSource::open_at(Path::new("/nonexistent/powercap")).unwrap_err();
        assert!(err.to_string().contains("no RAPL"), "{err}");
    }
}
