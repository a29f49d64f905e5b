//! collect's added time per request over a bare HTTP client, against the in-process fake server
//! (64 tokens per answer, no artificial delay, so the server and the network cost as little as
//! possible and what remains is client work).
//!
//! * bare: reqwest POSTs the same streaming body and drains the response, nothing else;
//! * collect: what the runner does per request: build the body (with its seed), send it through
//!   `ChatClient::complete` (SSE parsing, per-chunk timestamps, usage, gap summary, retry
//!   wrapper) and turn the result into the contract's `Request` row;
//! * collect + sampler: the same while the scripted sampler polls every 10 ms on its thread.
//!
//! Blocks of the three alternate so machine noise hits them alike; the figure is the difference
//! of the medians. Run with `bench/collect_overhead.sh` or
//! `cargo bench -p collect --bench request_overhead`.

use collect::client::{ChatClient, ClientSettings, chat_url, request_body};
use collect::config::GenerationConfig;
use collect::sampler::fake::{FakeScript as EnergyScript, FakeSource};
use collect::sampler::{PollingRecorder, Recorder};
use endpoint::fake::{FakeScript, FakeServer};
use futures_util::StreamExt;
use std::time::{Duration, Instant};

const BLOCK: usize = 100;
const BLOCKS: usize = 10;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

async fn bare(http: &reqwest::Client, url: &str, body: &serde_json::Value) -> usize {
    let resp = match http.post(url).json(body).send().await {
        Ok(r) => r,
        Err(e) => panic!("bare request failed: {e}"),
    };
    let mut stream = resp.bytes_stream();
    let mut n = 0;
    while let Some(part) = stream.next().await {
        n += part.map(|b| b.len()).unwrap_or(0);
    }
    n
}

async fn collect_one(client: &ChatClient, base: &str, generation: &GenerationConfig, i: usize) -> usize {
    let seed = collect::plan::request_seed(7, "run_0_repetition_0", i);
    let body = request_body(
        "fake-model",
        "What is the cause of the following? Explain.",
        generation,
        Some(seed),
    );
    let c = client.complete(base, &body).await;
    assert!(c.error.is_none(), "{:?}", c.error);
    let row = dataset::Request {
        run_id: "run_0_repetition_0".into(),
        index: i as i64,
        prompt: "What is the cause of the following? Explain.".into(),
        response: c.text,
        start_ms: c.start_ms,
        end_ms: c.end_ms,
        ttft_ms: c.ttft_ms,
        completion_tokens: c.completion_tokens,
        chunks: Some(c.chunks),
        gap_mean_ms: c.gaps.map(|g| g.mean_ms),
        gap_p50_ms: c.gaps.map(|g| g.p50_ms),
        gap_p95_ms: c.gaps.map(|g| g.p95_ms),
        gap_max_ms: c.gaps.map(|g| g.max_ms),
        chunk_offsets_us: Some(c.chunk_offsets_us.clone()),
        chunk_tokens: c.chunk_tokens.clone(),
        ..Default::default()
    };
    std::hint::black_box(row).response.len()
}

fn main() {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("no runtime: {e}"),
    };
    rt.block_on(async {
        let server = match FakeServer::start(FakeScript {
            tokens_min: 64,
            tokens_max: 64,
            first_token_delay: Duration::ZERO,
            token_delay: Duration::ZERO,
            ..FakeScript::default()
        })
        .await
        {
            Ok(s) => s,
            Err(e) => panic!("no fake server: {e}"),
        };
        let base = server.base_url.clone();
        let url = chat_url(&base);
        let generation = GenerationConfig {
            max_tokens: 64,
            ..GenerationConfig::default()
        };
        let bare_body = request_body(
            "fake-model",
            "What is the cause of the following? Explain.",
            &generation,
            Some(1),
        );
        let http = match reqwest::Client::builder().tcp_nodelay(true).build() {
            Ok(h) => h,
            Err(e) => panic!("no client: {e}"),
        };
        let client = match ChatClient::new(ClientSettings::default()) {
            Ok(c) => c,
            Err(e) => panic!("no client: {e}"),
        };
        let mut recorder =
            match PollingRecorder::new(vec![Box::new(FakeSource::new(EnergyScript::default()))], 10.0) {
                Ok(r) => r,
                Err(e) => panic!("no sampler: {e}"),
            };
        // Warm-up: connections, allocator, server.
        for i in 0..200 {
            bare(&http, &url, &bare_body).await;
            collect_one(&client, &base, &generation, i).await;
        }
        let (mut t_bare, mut t_collect, mut t_sampled) = (Vec::new(), Vec::new(), Vec::new());
        for b in 0..BLOCKS {
            for _ in 0..BLOCK {
                let t = Instant::now();
                bare(&http, &url, &bare_body).await;
                t_bare.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            for i in 0..BLOCK {
                let t = Instant::now();
                collect_one(&client, &base, &generation, b * BLOCK + i).await;
                t_collect.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            if let Err(e) = recorder.start() {
                panic!("sampler: {e}");
            }
            for i in 0..BLOCK {
                let t = Instant::now();
                collect_one(&client, &base, &generation, b * BLOCK + i).await;
                t_sampled.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            if let Err(e) = recorder.stop() {
                panic!("sampler: {e}");
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (mb, mc, ms) = (mean(&t_bare), mean(&t_collect), mean(&t_sampled));
        let (pb, pc, ps) = (
            median(&mut t_bare),
            median(&mut t_collect),
            median(&mut t_sampled),
        );
        println!(
            "requests per variant: {} (64 streamed tokens each)",
            BLOCK * BLOCKS
        );
        println!("bare reqwest         : median {pb:.3} ms, mean {mb:.3} ms");
        println!("collect              : median {pc:.3} ms, mean {mc:.3} ms");
        println!("collect + sampler    : median {ps:.3} ms, mean {ms:.3} ms (scripted source every 10 ms)");
        println!(
            "added per request    : {:.3} ms (median), {:.3} ms (mean); with sampler {:.3} ms (median)",
            pc - pb,
            mc - mb,
            ps - pb
        );
    });
}
