//! CPU utilisation and frequency per logical core and host memory, from `/proc/stat`,
//! `/sys/devices/system/cpu/cpu<i>/cpufreq/scaling_cur_freq` and `/proc/meminfo`, named as
//! EnergiBridge names them: `CPU_USAGE_<i>` (%, since the previous sample; missing on a
//! recording's first sample), `CPU_FREQUENCY_<i>` (MHz, where cpufreq is readable),
//! `TOTAL_MEMORY`, `USED_MEMORY`, `TOTAL_SWAP`, `USED_SWAP` (bytes).

use super::{ChannelSpec, Source};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// Busy and total jiffies of one core.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Jiffies {
    idle: u64,
    total: u64,
}

/// The procfs source.
#[derive(Debug)]
pub struct ProcfsSource {
    proc_root: PathBuf,
    cores: Vec<u32>,
    freq_paths: Vec<Option<PathBuf>>,
    previous: Vec<Option<Jiffies>>,
}

/// Per-core jiffies from `/proc/stat` text, by core number.
fn parse_stat(text: &str) -> Vec<(u32, Jiffies)> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let name = f.next()?;
            let core: u32 = name.strip_prefix("cpu")?.parse().ok()?;
            let v: Vec<u64> = f.filter_map(|x| x.parse().ok()).collect();
            if v.len() < 4 {
                return None;
            }
            // user nice system idle iowait irq softirq steal (guest time is inside user).
            let idle = v[3] + v.get(4).copied().unwrap_or(0);
            let total: u64 = v.iter().take(8).sum();
            Some((core, Jiffies { idle, total }))
        })
        .collect()
}

/// (MemTotal, MemAvailable, SwapTotal, SwapFree) in bytes.
fn parse_meminfo(text: &str) -> [Option<f64>; 4] {
    let mut out = [None; 4];
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let (Some(key), Some(value)) = (f.next(), f.next()) else {
            continue;
        };
        let Ok(kb) = value.parse::<f64>() else { continue };
        let slot = match key {
            "MemTotal:" => 0,
            "MemAvailable:" => 1,
            "SwapTotal:" => 2,
            "SwapFree:" => 3,
            _ => continue,
        };
        out[slot] = Some(kb * 1024.0);
    }
    out
}

impl ProcfsSource {
    /// Opens `/proc` and `/sys`.
    pub fn open() -> Result<Self> {
        Self::open_at(Path::new("/proc"), Path::new("/sys"))
    }

    /// Opens the given proc and sys roots (tests pass fake trees).
    pub fn open_at(proc_root: &Path, sys_root: &Path) -> Result<Self> {
        let stat = proc_root.join("stat");
        let text =
            std::fs::read_to_string(&stat).with_context(|| format!("cannot read {}", stat.display()))?;
        let cores: Vec<u32> = parse_stat(&text).into_iter().map(|(c, _)| c).collect();
        if cores.is_empty() {
            bail!("{}: no per-core cpu lines", stat.display());
        }
        let freq_paths = cores
            .iter()
            .map(|c| {
                let p = sys_root.join(format!("devices/system/cpu/cpu{c}/cpufreq/scaling_cur_freq"));
                std::fs::read_to_string(&p).is_ok().then_some(p)
            })
            .collect();
        Ok(Self {
            previous: vec![None; cores.len()],
            proc_root: proc_root.to_path_buf(),
            cores,
            freq_paths,
        })
    }
}

impl Source for ProcfsSource {
    fn name(&self) -> &'static str {
        "procfs"
    }

    fn channels(&self) -> Vec<ChannelSpec> {
        let mut c: Vec<ChannelSpec> = self
            .cores
            .iter()
            .map(|i| ChannelSpec::plain(format!("CPU_USAGE_{i}")))
            .collect();
        for (i, p) in self.cores.iter().zip(&self.freq_paths) {
            if p.is_some() {
                c.push(ChannelSpec::plain(format!("CPU_FREQUENCY_{i}")));
            }
        }
        for name in ["TOTAL_MEMORY", "USED_MEMORY", "TOTAL_SWAP", "USED_SWAP"] {
            c.push(ChannelSpec::plain(name));
        }
        c
    }

    fn read(&mut self, _time_ms: i64, out: &mut Vec<Option<f64>>) {
        let now = std::fs::read_to_string(self.proc_root.join("stat"))
            .map(|t| parse_stat(&t))
            .unwrap_or_default();
        for (k, core) in self.cores.iter().enumerate() {
            let cur = now.iter().find(|(c, _)| c == core).map(|(_, j)| *j);
            let usage = match (self.previous[k], cur) {
                (Some(a), Some(b)) if b.total > a.total => {
                    let busy = (b.total - a.total).saturating_sub(b.idle.saturating_sub(a.idle));
                    Some(100.0 * busy as f64 / (b.total - a.total) as f64)
                }
                (Some(_), Some(_)) => Some(0.0),
                _ => None,
            };
            self.previous[k] = cur;
            out.push(usage);
        }
        for p in self.freq_paths.iter().flatten() {
            out.push(
                std::fs::read_to_string(p)
                    .ok()
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .map(|khz| khz / 1000.0),
            );
        }
        let mem = std::fs::read_to_string(self.proc_root.join("meminfo"))
            .map(|t| parse_meminfo(&t))
            .unwrap_or([None; 4]);
        out.push(mem[0]);
        out.push(mem[0].zip(mem[1]).map(|(t, a)| t - a));
        out.push(mem[2]);
        out.push(mem[2].zip(mem[3]).map(|(t, f)| t - f));
    }

    fn start(&mut self) {
        self.previous.iter_mut().for_each(|p| *p = None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_usage_is_the_busy_share_of_jiffies_since_the_previous_sample() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path();
        std::fs::write(p.join("stat"), "cpu 1 1 1 1\ncpu0 100 0 100 800 0 0 0 0 0 0\n").unwrap();
        std::fs::write(
            p.join("meminfo"),
            "MemTotal: 1000 kB\nMemAvailable: 250 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
        )
        .unwrap();
        let mut s = ProcfsSource::open_at(p, p).unwrap();
        assert_eq!(s.channels().len(), 5);
        let mut out = Vec::new();
        s.read(0, &mut out);
        assert_eq!(out[0], None);
        assert_eq!(out[2], Some(750.0 * 1024.0));
        std::fs::write(p.join("stat"), "cpu0 130 0 130 840 0 0 0 0 0 0\n").unwrap();
        out.clear();
        s.read(0, &mut out);
        assert_eq!(out[0], Some(60.0));
    }
}
