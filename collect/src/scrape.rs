//! The model server's own metrics during a trial: its Prometheus endpoint (`/metrics`, which
//! vLLM and llama.cpp's server (with `--metrics`) expose) scraped at the start of the trial's
//! requests, about once a second, and once after the last request, into the trial's
//! `server_metrics.parquet` (long format). A server without the endpoint is no error: after the
//! first failed scrape none is tried again in that trial. Histogram buckets and the Python
//! process's own metrics are left out; sums and counts stay.

use crate::clock::clock;
use dataset::ServerMetric;
use std::time::Duration;
use tokio::sync::Notify;

/// Scrape interval.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// The metrics URL of an OpenAI base URL (`http://h:p/v1` → `http://h:p/metrics`).
pub fn metrics_url(base: &str) -> String {
    let b = base.trim_end_matches('/');
    format!("{}/metrics", b.strip_suffix("/v1").unwrap_or(b))
}

/// Scrapes `url` until `stop` is notified, then once more; returns every sample (empty when
/// the server exposes no metrics).
pub async fn scrape_until(
    http: &reqwest::Client,
    url: &str,
    run_id: &str,
    stop: &Notify,
) -> Vec<ServerMetric> {
    let mut out = Vec::new();
    let mut ticker = tokio::time::interval(INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopped = tokio::select! {
            _ = ticker.tick() => false,
            () = stop.notified() => true,
        };
        if !scrape_once(http, url, run_id, &mut out).await {
            return out;
        }
        if stopped {
            return out;
        }
    }
}

/// One scrape; false when the server has no usable metrics endpoint.
async fn scrape_once(http: &reqwest::Client, url: &str, run_id: &str, out: &mut Vec<ServerMetric>) -> bool {
    let Ok(resp) = http.get(url).timeout(Duration::from_secs(2)).send().await else {
        return false;
    };
    if !resp.status().is_success() {
        return false;
    }
    let Ok(text) = resp.text().await else {
        return false;
    };
    let time_ms = clock().now_ms();
    let before = out.len();
    for line in text.lines() {
        if let Some((metric, labels, value)) = parse_line(line)
            && keep(metric)
        {
            out.push(ServerMetric {
                run_id: run_id.to_string(),
                time_ms,
                metric: metric.to_string(),
                labels: labels.to_string(),
                value,
            });
        }
    }
    out.len() > before || !text.trim().is_empty()
}

fn keep(metric: &str) -> bool {
    !(metric.ends_with("_bucket") || metric.starts_with("python_") || metric.starts_with("process_"))
}

/// One sample line of the Prometheus text format: `name{labels} value [timestamp]`; None for
/// comments, blank lines and lines that do not parse.
pub fn parse_line(line: &str) -> Option<(&str, &str, f64)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = &line[..name_end];
    let (labels, rest) = if line[name_end..].starts_with('{') {
        // The closing brace outside quoted values.
        let body = &line[name_end + 1..];
        let mut quoted = false;
        let mut escaped = false;
        let mut close = None;
        for (i, c) in body.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                '}' if !quoted => {
                    close = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let close = close?;
        (&body[..close], &body[close + 1..])
    } else {
        ("", &line[name_end..])
    };
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    (!name.is_empty()).then_some((name, labels, value))
}

/// The prefix-cache hit rate over a trial from vLLM's counters (hits / queries between the
/// first and last scrape, summed over label sets); None without both counters or queries.
pub fn prefix_cache_hit_rate(metrics: &[ServerMetric]) -> Option<f64> {
    let delta = |name: &str| -> Option<f64> {
        let rows: Vec<&ServerMetric> = metrics
            .iter()
            .filter(|m| m.metric == name || m.metric == format!("{name}_total"))
            .collect();
        let first = rows.iter().map(|m| m.time_ms).min()?;
        let last = rows.iter().map(|m| m.time_ms).max()?;
        let at = |t: i64| {
            rows.iter()
                .filter(|m| m.time_ms == t)
                .map(|m| m.value)
                .sum::<f64>()
        };
        Some(at(last) - at(first))
    };
    let queries = delta("vllm:prefix_cache_queries")?;
    let hits = delta("vllm:prefix_cache_hits")?;
    (queries > 0.0).then(|| hits / queries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_lines_parse_with_labels_escapes_and_specials() {
        assert_eq!(
            parse_line(r#"vllm:num_requests_running{model_name="m"} 3"#),
            Some(("vllm:num_requests_running", r#"model_name="m""#, 3.0))
        );
        assert_eq!(
            parse_line(r#"x{a="b}\"c",le="+Inf"} +Inf 1700000000"#),
            Some(("x", r#"a="b}\"c",le="+Inf""#, f64::INFINITY))
        );
        assert_eq!(parse_line("up 1e3"), Some(("up", "", 1000.0)));
        assert_eq!(parse_line("# TYPE up gauge"), None);
        assert_eq!(parse_line("broken{a=\"1\" 2"), None);
        assert_eq!(metrics_url("http://h:1/v1/"), "http://h:1/metrics");
        assert_eq!(metrics_url("http://h:1"), "http://h:1/metrics");
        assert!(!keep("vllm:e2e_request_latency_seconds_bucket"));
    }

    #[test]
    fn the_hit_rate_is_the_counters_change_over_the_trial() {
        let m = |t: i64, name: &str, v: f64| ServerMetric {
            run_id: "r".into(),
            time_ms: t,
            metric: name.into(),
            labels: String::new(),
            value: v,
        };
        let rows = [
            m(0, "vllm:prefix_cache_queries_total", 100.0),
            m(0, "vllm:prefix_cache_hits_total", 10.0),
            m(1000, "vllm:prefix_cache_queries_total", 300.0),
            m(1000, "vllm:prefix_cache_hits_total", 160.0),
        ];
        assert_eq!(prefix_cache_hit_rate(&rows), Some(0.75));
        assert_eq!(prefix_cache_hit_rate(&rows[..1]), None);
    }
}
