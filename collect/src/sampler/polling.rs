//! The polling recorder: a [`PollingRecorder`] reads a set of [`Source`]s on its own thread at
//! a fixed interval, timestamping each row with the process clock just before the read, and
//! measures that thread's CPU time ([`thread_cpu_s`]) as the sampler's own cost.

use super::{ChannelSpec, Recorder, Recording, Source};
use crate::clock::clock;
use anyhow::{Context, Result, bail};
use dataset::{SampleColumn, SampleTable};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// CPU time of the calling thread, s: `/proc/thread-self/schedstat` (ns) where the kernel keeps
/// it, else utime + stime of `/proc/thread-self/stat` (clock ticks of 1/100 s, Linux's fixed
/// USER_HZ). No unsafe `getrusage` needed.
pub fn thread_cpu_s() -> Option<f64> {
    if let Ok(text) = std::fs::read_to_string("/proc/thread-self/schedstat")
        && let Some(ns) = text.split_whitespace().next().and_then(|v| v.parse::<u64>().ok())
        && ns > 0
    {
        return Some(ns as f64 / 1e9);
    }
    let text = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    stat_cpu_s(&text)
}

/// utime + stime of a `/proc/<pid>/stat` line, s.
pub fn stat_cpu_s(stat: &str) -> Option<f64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// Columns being filled by the sampling thread.
#[derive(Debug, Default)]
struct Columns {
    time_ms: Vec<i64>,
    values: Vec<Vec<f64>>,
    valid: Vec<Vec<bool>>,
}

impl Columns {
    fn new(n: usize) -> Self {
        Self {
            time_ms: Vec::with_capacity(1024),
            values: vec![Vec::with_capacity(1024); n],
            valid: vec![Vec::with_capacity(1024); n],
        }
    }

    fn push(&mut self, time_ms: i64, row: &[Option<f64>]) {
        self.time_ms.push(time_ms);
        for (i, v) in row.iter().enumerate() {
            self.values[i].push(v.unwrap_or(0.0));
            self.valid[i].push(v.is_some());
        }
    }

    fn into_table(self, specs: &[ChannelSpec]) -> SampleTable {
        let columns = specs
            .iter()
            .zip(self.values.into_iter().zip(self.valid))
            .map(|(spec, (values, valid))| SampleColumn {
                name: spec.name.clone(),
                values,
                valid: if valid.iter().all(|v| *v) {
                    None
                } else {
                    Some(valid)
                },
                wrap_range: spec.wrap_range,
            })
            .collect();
        SampleTable {
            time_ms: self.time_ms,
            columns,
        }
    }
}

type ThreadResult = (Vec<Box<dyn Source>>, Columns, f64, u64);

#[derive(Debug)]
struct Running {
    stop: mpsc::Sender<()>,
    handle: JoinHandle<ThreadResult>,
}

/// Polls a set of sources on a dedicated thread at a fixed interval.
#[derive(Debug)]
pub struct PollingRecorder {
    sources: Option<Vec<Box<dyn Source>>>,
    specs: Vec<ChannelSpec>,
    names: String,
    provenance: serde_json::Value,
    interval: Duration,
    running: Option<Running>,
}

impl PollingRecorder {
    /// A recorder over these sources; channel names must be unique.
    pub fn new(sources: Vec<Box<dyn Source>>, interval_ms: f64) -> Result<Self> {
        let mut specs: Vec<ChannelSpec> = Vec::new();
        for s in &sources {
            for c in s.channels() {
                if specs.iter().any(|x| x.name == c.name) {
                    bail!("two energy sources both produce the column `{}`", c.name);
                }
                specs.push(c);
            }
        }
        let names: Vec<&str> = sources.iter().map(|s| s.name()).collect();
        let provenance = serde_json::Value::Object(
            sources
                .iter()
                .map(|s| (s.name().to_string(), s.provenance()))
                .collect(),
        );
        Ok(Self {
            names: names.join(","),
            sources: Some(sources),
            specs,
            provenance,
            interval: Duration::from_secs_f64(interval_ms.max(1.0) / 1000.0),
            running: None,
        })
    }
}

/// Reads one row, timestamped just before the reads; returns its time.
fn sample_row(sources: &mut [Box<dyn Source>], row: &mut Vec<Option<f64>>) -> i64 {
    row.clear();
    let time_ms = clock().now_ms();
    for s in sources.iter_mut() {
        s.read(time_ms, row);
    }
    time_ms
}

impl Recorder for PollingRecorder {
    fn sources(&self) -> String {
        self.names.clone()
    }

    fn provenance(&self) -> serde_json::Value {
        self.provenance.clone()
    }

    fn begin_trial(&mut self, model: &str, power_hint_w: Option<f64>) {
        if let Some(sources) = self.sources.as_mut() {
            for s in sources.iter_mut() {
                s.begin_trial(model, power_hint_w);
            }
        }
    }

    fn set_endpoint(&mut self, base_url: &str) {
        if let Some(sources) = self.sources.as_mut() {
            for s in sources.iter_mut() {
                s.set_endpoint(base_url);
            }
        }
    }

    fn simulated(&self) -> bool {
        self.names.split(',').any(|n| n == "fake")
    }

    fn start(&mut self) -> Result<()> {
        let Some(mut sources) = self.sources.take() else {
            bail!("the sampler is already running");
        };
        let n = self.specs.len();
        let interval = self.interval;
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let (first_tx, first_rx) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name("collect-sampler".into())
            .spawn(move || {
                let cpu0 = thread_cpu_s();
                let mut cols = Columns::new(n);
                let mut row = Vec::with_capacity(n);
                for s in sources.iter_mut() {
                    s.start();
                    s.take_errors();
                }
                let t0 = Instant::now();
                let t = sample_row(&mut sources, &mut row);
                cols.push(t, &row);
                let _ = first_tx.send(());
                let mut k: u32 = 1;
                loop {
                    let mut next = t0 + interval * k;
                    let now = Instant::now();
                    // A late wake-up skips the missed ticks instead of sampling in a burst.
                    while next <= now {
                        k += 1;
                        next = t0 + interval * k;
                    }
                    let stop = !matches!(
                        stop_rx.recv_timeout(next - now),
                        Err(mpsc::RecvTimeoutError::Timeout)
                    );
                    if stop {
                        for s in sources.iter_mut() {
                            s.before_last_sample();
                        }
                    }
                    let t = sample_row(&mut sources, &mut row);
                    cols.push(t, &row);
                    if stop {
                        break;
                    }
                    k += 1;
                }
                let cpu_s = match (cpu0, thread_cpu_s()) {
                    (Some(a), Some(b)) => (b - a).max(0.0),
                    _ => 0.0,
                };
                let errors = sources.iter_mut().map(|s| s.take_errors()).sum();
                (sources, cols, cpu_s, errors)
            })
            .context("cannot start the sampler thread")?;
        // The first sample must precede the first request.
        let _ = first_rx.recv_timeout(Duration::from_secs(30));
        self.running = Some(Running {
            stop: stop_tx,
            handle,
        });
        Ok(())
    }

    fn stop(&mut self) -> Result<Recording> {
        let Some(running) = self.running.take() else {
            bail!("the sampler is not running");
        };
        let _ = running.stop.send(());
        let (sources, cols, cpu_s, read_errors) = running
            .handle
            .join()
            .map_err(|_| anyhow::anyhow!("the sampler thread panicked"))?;
        self.sources = Some(sources);
        Ok(Recording {
            table: cols.into_table(&self.specs),
            cpu_s,
            read_errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake;
    use super::*;

    #[test]
    fn stat_lines_give_user_plus_system_time() {
        let line = "123 (collect sampler) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
        assert_eq!(stat_cpu_s(line), Some(3.0));
    }

    #[test]
    fn the_polling_recorder_brackets_the_window_with_samples() {
        let src = fake::FakeSource::new(fake::FakeScript::default());
        let mut r = PollingRecorder::new(vec![Box::new(src)], 5.0).unwrap();
        r.start().unwrap();
        let a = clock().now_ms();
        std::thread::sleep(Duration::from_millis(30));
        let b = clock().now_ms();
        let rec = r.stop().unwrap();
        assert!(rec.table.time_ms[0] <= a);
        assert!(*rec.table.time_ms.last().unwrap() >= b);
        assert!(rec.table.len() >= 3, "{}", rec.table.len());
        // Started again, it records afresh.
        r.start().unwrap();
        let again = r.stop().unwrap();
        assert!(again.table.len() >= 2);
    }
}
