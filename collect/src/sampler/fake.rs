//! A scripted energy source for tests and the demo: constant power per channel, with cumulative
//! counters that are the exact integral of that power at the sample's timestamp. The energy of
//! any window is therefore known in closed form: `P_W · (end_ms − start_ms) / 1000` J per
//! channel, which is what the accounting must give back.
//!
//! Channels: per GPU `GPU<i>_ENERGY (mJ)` (counter), `GPU<i>_POWER (mWatts)`, `GPU<i>_USAGE`,
//! `GPU<i>_TEMPERATURE`; `PACKAGE_ENERGY (J)` and `DRAM_ENERGY (J)` counters that wrap at the
//! recorded `wrap_range` (the package counter starts just below its range so the first trial
//! exercises a wrap).
//!
//! Against a batching fake server (`endpoint::fake` with `batching`, which answers
//! `GET /fake/energy`), the GPU channels follow the server's energy ledger instead of the
//! constant power: each sample's `GPU<i>_ENERGY (mJ)` is the server's cumulative energy counter
//! at the sample's timestamp (the same epoch-millisecond clock) and `GPU<i>_POWER (mWatts)` its
//! power then, split evenly over the GPUs, so the energy the accounting finds tracks the load
//! and each request's true share is known from the server. The source finds the route once per
//! endpoint (loopback `http://` only), at the start of a recording on the sampler's thread, and
//! reads it with a small blocking HTTP/1.1 request on a kept-alive connection; a failed read is
//! a missing value. CPU and DRAM stay scripted. The data are simulated either way.

use super::{ChannelSpec, Source};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The script.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeScript {
    /// Number of GPUs.
    pub gpus: u32,
    /// GPU board power per GPU, W (unless a trial's model gives a power hint).
    pub gpu_power_w: f64,
    /// CPU package power, W.
    pub cpu_power_w: f64,
    /// DRAM power, W.
    pub dram_power_w: f64,
    /// Wrap range of the package and DRAM counters, J (RAPL's 2^32 · 2^-14 J).
    pub wrap_j: f64,
    /// The package counter's value at the first sample, J.
    pub package_start_j: f64,
}

impl Default for FakeScript {
    fn default() -> Self {
        Self {
            gpus: 1,
            gpu_power_w: 250.0,
            cpu_power_w: 50.0,
            dram_power_w: 5.0,
            wrap_j: 262_144.0,
            package_start_j: 262_119.0,
        }
    }
}

/// The scripted source.
#[derive(Debug, Clone)]
pub struct FakeSource {
    script: FakeScript,
    /// Time of the first read, ms.
    origin_ms: Option<i64>,
    /// GPU counter value at `switch_ms`, mJ.
    gpu_base_mj: f64,
    /// Time the current GPU power took effect, ms.
    switch_ms: i64,
    /// Current GPU power, W.
    gpu_w: f64,
    /// Power to switch to at the next read.
    pending_w: Option<f64>,
    /// The endpoint's base URL, when the run told it.
    endpoint: Option<String>,
    /// The endpoint whose ledger route was looked for last.
    probed: Option<String>,
    /// The batching fake server's ledger, when the endpoint serves one.
    ledger: Option<LedgerReader>,
    /// Ledger reads that failed since the last `take_errors`.
    errors: u64,
}

impl FakeSource {
    /// A source following `script`.
    pub fn new(script: FakeScript) -> Self {
        Self {
            gpu_w: script.gpu_power_w,
            script,
            origin_ms: None,
            gpu_base_mj: 0.0,
            switch_ms: 0,
            pending_w: None,
            endpoint: None,
            probed: None,
            ledger: None,
            errors: 0,
        }
    }

    /// True when the GPU channels follow a batching fake server's energy ledger.
    pub fn follows_server(&self) -> bool {
        self.ledger.is_some()
    }

    /// The energy the script implies for the window `[start_ms, end_ms]`, J, as (GPU over all
    /// GPUs, CPU package, DRAM), at constant GPU power `gpu_w`.
    pub fn expected_j(script: &FakeScript, gpu_w: f64, start_ms: i64, end_ms: i64) -> (f64, f64, f64) {
        let s = (end_ms - start_ms) as f64 / 1000.0;
        (
            gpu_w * s * f64::from(script.gpus),
            script.cpu_power_w * s,
            script.dram_power_w * s,
        )
    }
}

impl Source for FakeSource {
    fn name(&self) -> &'static str {
        "fake"
    }

    fn channels(&self) -> Vec<ChannelSpec> {
        let mut c = Vec::new();
        for i in 0..self.script.gpus {
            c.push(ChannelSpec::plain(format!("GPU{i}_ENERGY (mJ)")));
            c.push(ChannelSpec::plain(format!("GPU{i}_POWER (mWatts)")));
            c.push(ChannelSpec::plain(format!("GPU{i}_USAGE")));
            c.push(ChannelSpec::plain(format!("GPU{i}_TEMPERATURE")));
        }
        c.push(ChannelSpec {
            name: "PACKAGE_ENERGY (J)".into(),
            wrap_range: Some(self.script.wrap_j),
        });
        c.push(ChannelSpec {
            name: "DRAM_ENERGY (J)".into(),
            wrap_range: Some(self.script.wrap_j),
        });
        c
    }

    fn read(&mut self, time_ms: i64, out: &mut Vec<Option<f64>>) {
        let origin = *self.origin_ms.get_or_insert(time_ms);
        if self.switch_ms == 0 {
            self.switch_ms = time_ms;
        }
        // The GPU counter stays continuous across a power change: it is the integral up to the
        // switch plus the new power since.
        let counter_at = |base: f64, from: i64, w: f64, t: i64| base + w * (t - from) as f64;
        if let Some(w) = self.pending_w.take() {
            self.gpu_base_mj = counter_at(self.gpu_base_mj, self.switch_ms, self.gpu_w, time_ms);
            self.switch_ms = time_ms;
            self.gpu_w = w;
        }
        // W · ms = mJ.
        let gpu_mj = counter_at(self.gpu_base_mj, self.switch_ms, self.gpu_w, time_ms);
        let elapsed_s = (time_ms - origin) as f64 / 1000.0;
        let gpus = f64::from(self.script.gpus.max(1));
        let served = match self.ledger.as_mut() {
            Some(ledger) => {
                let reading = ledger.read(Some(time_ms));
                if reading.is_none() {
                    self.errors += 1;
                }
                Some(reading)
            }
            None => None,
        };
        for _ in 0..self.script.gpus {
            match served {
                Some(Some(r)) => {
                    out.push(Some(r.energy_mj / gpus));
                    out.push(Some(r.power_mw / gpus));
                    out.push(Some(if r.batch > 0 { 90.0 } else { 10.0 }));
                }
                Some(None) => out.extend([None, None, None]),
                None => {
                    out.push(Some(gpu_mj));
                    out.push(Some(self.gpu_w * 1000.0));
                    out.push(Some(if self.gpu_w > 100.0 { 90.0 } else { 10.0 }));
                }
            }
            out.push(Some(40.0));
        }
        let package =
            (self.script.package_start_j + self.script.cpu_power_w * elapsed_s) % self.script.wrap_j;
        let dram = (self.script.dram_power_w * elapsed_s) % self.script.wrap_j;
        out.push(Some(package));
        out.push(Some(dram));
    }

    fn provenance(&self) -> serde_json::Value {
        serde_json::json!({
            "simulated": true,
            "gpus": self.script.gpus,
            "gpu_power_w": self.script.gpu_power_w,
            "cpu_power_w": self.script.cpu_power_w,
            "dram_power_w": self.script.dram_power_w,
            "gpu_energy_primary": "energy_counter",
        })
    }

    fn set_endpoint(&mut self, base_url: &str) {
        self.endpoint = Some(base_url.to_string());
    }

    fn start(&mut self) {
        if self.probed == self.endpoint {
            return;
        }
        self.probed = self.endpoint.clone();
        self.ledger = self
            .endpoint
            .as_deref()
            .and_then(LedgerReader::at)
            .and_then(|mut l| l.read(None).map(|_| l));
    }

    fn take_errors(&mut self) -> u64 {
        std::mem::take(&mut self.errors)
    }

    fn begin_trial(&mut self, _model: &str, power_hint_w: Option<f64>) {
        let w = power_hint_w.unwrap_or(self.script.gpu_power_w);
        if w != self.gpu_w {
            self.pending_w = Some(w);
        }
    }
}

/// One reading of a batching fake server's ledger.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Reading {
    /// Cumulative energy, mJ.
    energy_mj: f64,
    /// Power, mW.
    power_mw: f64,
    /// Requests in the step running then.
    batch: u64,
}

/// How long one ledger read may take before it counts as failed.
const LEDGER_TIMEOUT: Duration = Duration::from_millis(250);

/// Reads `GET /fake/energy?at_ms=T` from a fake server on loopback, over one kept-alive
/// HTTP/1.1 connection (opened again when the server closed it).
#[derive(Debug)]
struct LedgerReader {
    addr: SocketAddr,
    host: String,
    conn: Option<BufReader<TcpStream>>,
}

impl Clone for LedgerReader {
    /// The same server, on a connection of its own.
    fn clone(&self) -> Self {
        Self {
            addr: self.addr,
            host: self.host.clone(),
            conn: None,
        }
    }
}

impl LedgerReader {
    /// The reader for a base URL (`http://127.0.0.1:PORT`, with or without `/v1`); None for
    /// anything but plain HTTP to a loopback address.
    fn at(base_url: &str) -> Option<Self> {
        let rest = base_url.trim().strip_prefix("http://")?;
        let host = rest.split('/').next()?;
        let addr = host.to_socket_addrs().ok()?.find(|a| a.ip().is_loopback())?;
        Some(Self {
            addr,
            host: host.to_string(),
            conn: None,
        })
    }

    /// The ledger at `at_ms` (now on the server's clock without it); None when the server did
    /// not answer with one (after one retry on a fresh connection).
    fn read(&mut self, at_ms: Option<i64>) -> Option<Reading> {
        for _ in 0..2 {
            match self.get(at_ms) {
                Ok(r) => return r,
                Err(_) => self.conn = None,
            }
        }
        None
    }

    /// One request: Ok(None) when the server answered without a ledger (not batching).
    fn get(&mut self, at_ms: Option<i64>) -> io::Result<Option<Reading>> {
        let conn = match self.conn.as_mut() {
            Some(c) => c,
            None => {
                let tcp = TcpStream::connect_timeout(&self.addr, LEDGER_TIMEOUT)?;
                tcp.set_read_timeout(Some(LEDGER_TIMEOUT))?;
                tcp.set_write_timeout(Some(LEDGER_TIMEOUT))?;
                tcp.set_nodelay(true)?;
                self.conn.insert(BufReader::new(tcp))
            }
        };
        let query = at_ms.map_or(String::new(), |t| format!("?at_ms={t}"));
        write!(
            conn.get_mut(),
            "GET /fake/energy{query} HTTP/1.1\r\nHost: {}\r\n\r\n",
            self.host
        )?;
        let mut line = String::new();
        conn.read_line(&mut line)?;
        let ok = line.split_whitespace().nth(1) == Some("200");
        let (mut length, mut close) = (None, false);
        loop {
            line.clear();
            if conn.read_line(&mut line)? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "headers cut short"));
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse::<usize>().ok();
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.eq_ignore_ascii_case("close");
                }
            }
        }
        let Some(length) = length.filter(|&n| n <= 64 * 1024) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "no usable Content-Length",
            ));
        };
        let mut body = vec![0; length];
        conn.read_exact(&mut body)?;
        if close {
            self.conn = None;
        }
        if !ok {
            return Ok(None);
        }
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(io::Error::other)?;
        let num = |k: &str| v.get(k).and_then(serde_json::Value::as_f64);
        Ok(match (num("energy_mj"), num("power_mw")) {
            (Some(energy_mj), Some(power_mw)) => Some(Reading {
                energy_mj,
                power_mw,
                batch: v.get("batch").and_then(serde_json::Value::as_u64).unwrap_or(0),
            }),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataset::accounting::{Window, corrected};

    fn record(src: &mut FakeSource, times: &[i64]) -> dataset::SampleTable {
        let specs = src.channels();
        let mut rows = vec![Vec::new(); specs.len()];
        for &t in times {
            let mut out = Vec::new();
            src.read(t, &mut out);
            for (i, v) in out.into_iter().enumerate() {
                rows[i].push(v.unwrap_or(f64::NAN));
            }
        }
        dataset::SampleTable {
            time_ms: times.to_vec(),
            columns: specs
                .into_iter()
                .zip(rows)
                .map(|(s, v)| dataset::SampleColumn {
                    name: s.name,
                    values: v,
                    valid: None,
                    wrap_range: s.wrap_range,
                })
                .collect(),
        }
    }

    #[test]
    fn the_corrected_accounting_gives_back_the_scripted_energy_across_a_wrap() {
        let script = FakeScript::default();
        let mut src = FakeSource::new(script.clone());
        let t0 = 1_700_000_000_000;
        let times: Vec<i64> = (0..50).map(|k| t0 + k * 200 + (k % 3)).collect();
        let table = record(&mut src, &times);
        let w = Window {
            start_ms: t0 + 333,
            end_ms: t0 + 9_001,
            resolution_ms: 1,
        };
        let e = corrected(&table, w);
        let (gpu, cpu, dram) = FakeSource::expected_j(&script, 250.0, w.start_ms, w.end_ms);
        let (g, c) = (e.gpu_j.unwrap(), e.cpu_j.unwrap());
        assert!((g - gpu).abs() < 1e-9 * gpu, "{g} vs {gpu}");
        assert!((c - cpu).abs() < 1e-9 * cpu, "{c} vs {cpu}");
        assert!((e.dram_j.unwrap() - dram).abs() < 1e-9 * dram);
        assert_eq!(e.cpu_wraps, 1);
    }

    #[test]
    fn against_a_batching_server_the_gpu_channels_follow_its_ledger() {
        use crate::clock::clock;
        use endpoint::fake::{BatchModel, FakeScript as ServerScript, FakeServer};
        let server = FakeServer::spawn(ServerScript {
            batching: Some(BatchModel::default()),
            ..ServerScript::default()
        })
        .unwrap();
        let mut src = FakeSource::new(FakeScript {
            gpus: 2,
            ..FakeScript::default()
        });
        src.set_endpoint(&format!("{}/v1", server.base_url));
        src.start();
        assert!(src.follows_server());
        // The ledger starts when the server does: read a little after it (a sample before it
        // would be a missing value).
        std::thread::sleep(Duration::from_millis(5));
        let t = clock().now_ms();
        let mut out = Vec::new();
        src.read(t, &mut out);
        let ledger = server.stats.energy_at(t as f64).unwrap();
        // Split evenly over the two GPUs: idle power, the counter at the sample's time.
        assert_eq!(out[0], Some(ledger.energy_mj / 2.0));
        assert_eq!(out[1], Some(30_000.0));
        assert_eq!(out[4], out[0]);
        assert_eq!(src.take_errors(), 0);
        // A server without the route (or no endpoint at all) leaves the scripted power.
        let plain = FakeServer::spawn(ServerScript::default()).unwrap();
        src.set_endpoint(&plain.base_url);
        src.start();
        assert!(!src.follows_server());
        src.set_endpoint("https://example.invalid");
        src.start();
        assert!(!src.follows_server());
    }

    #[test]
    fn a_power_hint_changes_the_slope_without_a_jump() {
        let mut src = FakeSource::new(FakeScript::default());
        let mut out = Vec::new();
        src.read(1000, &mut out);
        src.begin_trial("m", Some(100.0));
        out.clear();
        src.read(2000, &mut out);
        assert_eq!(out[0], Some(250_000.0));
        out.clear();
        src.read(3000, &mut out);
        assert_eq!(out[0], Some(350_000.0));
    }
}
