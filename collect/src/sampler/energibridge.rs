//! The external `energibridge` binary as a recorder: for each recording collect starts
//! `energibridge -o <tmp.csv> -i <interval> [--gpu] cat` with a pipe on stdin, and stops it by
//! closing that pipe (`cat` exits, EnergiBridge writes its last row and exits). The CSV is read
//! with the contract's EnergiBridge reader, the same code `analyze import` uses.
//!
//! EnergiBridge timestamps rows with its own wall clock; it therefore cannot be mixed with the
//! polled sources. Its binary is `$ENERGIBRIDGE`, else `energibridge` on `PATH`.

use super::{Recorder, Recording, stat_cpu_s};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running or idle EnergiBridge.
#[derive(Debug)]
pub struct EnergiBridgeRecorder {
    binary: PathBuf,
    interval_ms: f64,
    gpu: bool,
    child: Option<(Child, PathBuf)>,
    recordings: u64,
}

fn locate() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ENERGIBRIDGE").map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("energibridge"))
            .find(|p| p.is_file())
    })
}

impl EnergiBridgeRecorder {
    /// Finds the binary; `--gpu` is passed when NVML works on this machine.
    pub fn open(interval_ms: f64) -> Result<Self> {
        let Some(binary) = locate() else {
            bail!(
                "the energibridge binary was not found (set ENERGIBRIDGE=/path/to/energibridge or put it on PATH; \
                 see https://github.com/tdurieux/EnergiBridge)"
            );
        };
        let gpu = super::nvml::NvmlSource::open(super::SamplerSettings::new(interval_ms)).is_ok();
        Ok(Self {
            binary,
            interval_ms,
            gpu,
            child: None,
            recordings: 0,
        })
    }
}

impl Recorder for EnergiBridgeRecorder {
    fn sources(&self) -> String {
        "energibridge".into()
    }

    fn provenance(&self) -> serde_json::Value {
        let version = Command::new(&self.binary)
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        serde_json::json!({"energibridge": {"binary": self.binary, "version": version, "gpu": self.gpu}})
    }

    fn begin_trial(&mut self, _model: &str, _power_hint_w: Option<f64>) {}

    fn start(&mut self) -> Result<()> {
        if self.child.is_some() {
            bail!("energibridge is already running");
        }
        self.recordings += 1;
        let csv = std::env::temp_dir().join(format!(
            "collect-energibridge-{}-{}.csv",
            std::process::id(),
            self.recordings
        ));
        let mut cmd = Command::new(&self.binary);
        cmd.arg("-o")
            .arg(&csv)
            .arg("-i")
            .arg(format!("{}", self.interval_ms.round() as u64));
        if self.gpu {
            cmd.arg("--gpu");
        }
        cmd.arg("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", self.binary.display()))?;
        self.child = Some((child, csv));
        // EnergiBridge writes its first row after one interval; wait for it so the first sample
        // precedes the first request.
        std::thread::sleep(Duration::from_secs_f64(self.interval_ms * 1.5 / 1000.0));
        Ok(())
    }

    fn stop(&mut self) -> Result<Recording> {
        let Some((mut child, csv)) = self.child.take() else {
            bail!("energibridge is not running");
        };
        // One more interval so a row follows the last request.
        std::thread::sleep(Duration::from_secs_f64(self.interval_ms * 1.5 / 1000.0));
        let cpu_s = std::fs::read_to_string(format!("/proc/{}/stat", child.id()))
            .ok()
            .and_then(|s| stat_cpu_s(&s))
            .unwrap_or(0.0);
        drop(child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
            }
        }
        let read = dataset::energibridge::read_samples_csv(&csv);
        let _ = std::fs::remove_file(&csv);
        let read = read.context("cannot read energibridge's samples")?;
        Ok(Recording {
            table: read.table,
            cpu_s,
            read_errors: 0,
        })
    }
}
