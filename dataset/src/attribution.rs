//! Energy per request when requests overlap (concurrency above 1, open-loop arrivals).
//!
//! A request's own window (`request_metrics`' `window_energy_j`) counts every joule spent
//! while it was in flight, so overlapping requests count the same joules several times.
//! [`attribute`] splits instead: the trial's window is cut at every sample time into sample
//! intervals; each interval's energy (the corrected accounting, [`split_energy`]) is shared by
//! the requests in flight in proportion to the tokens each processed in it:
//!
//! * **prefill** — a request's prompt tokens, spread evenly over its prefill (send → first
//!   content chunk, `ttft_ms`), each weighted by [`Settings::prefill_weight`] (default 1: a
//!   prompt token costs what a generated one does; a documented setting, not a measurement);
//! * **decode** — its generated tokens, each chunk's spread over the time the server spent
//!   producing it: from the previous chunk's arrival (the send, for the first chunk, which
//!   prefill produces) to its own (`chunk_offsets_us`; the server's per-chunk counts
//!   `chunk_tokens` where reported, else `completion_tokens` spread evenly over the chunks; without chunk times, spread evenly over first chunk → end, or
//!   over the whole window without a TTFT).
//!
//! An interval with requests in flight but no token processed in it (a pause between chunks
//! longer than the sampling interval) is shared evenly by those requests. The energy of
//! intervals with no request in flight is the trial's `unattributed_energy_j`. The pieces are
//! scaled to the trial's corrected energy (a factor within rounding of 1), so requests plus
//! unattributed equal the trial's energy exactly (conservation, to 1e-12 relative).
//!
//! A request alone in flight for its whole window is `measured` (its share is the energy of its
//! window's intervals, up to the partial intervals at its edges); otherwise `shared`. Its error
//! bound is the energy of the two sample intervals holding its start and end: where inside them
//! the request began and ended is known, how the energy was spread inside is not. Beside it,
//! ML.ENERGY's attribution: the trial's joules per generated token times the request's
//! generated tokens. `docs/accounting.md` gives the method with an example.

use crate::accounting::{self, Accounting, split_energy};
use crate::{Request, SampleTable, Trial};

/// Settings of the attribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Weight of a prompt (prefill) token relative to a generated token.
    pub prefill_weight: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self { prefill_weight: 1.0 }
    }
}

/// One request's share.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Share {
    /// Its attributed energy, J.
    pub energy_j: f64,
    /// The part of it attributed to its prefill, J.
    pub prefill_j: f64,
    /// The part attributed to its decode, J.
    pub decode_j: f64,
    /// Alone in flight for its whole window.
    pub alone: bool,
    /// Energy of the sample intervals holding its start and end, J.
    pub error_j: f64,
    /// ML.ENERGY's attribution: the trial's J per generated token × its generated tokens.
    pub mlenergy_j: Option<f64>,
}

/// The attribution of one trial.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attribution {
    /// One share per request, in the order given.
    pub shares: Vec<Share>,
    /// Energy of the intervals with no request in flight, J.
    pub unattributed_j: f64,
    /// The trial's corrected energy, J (shares + unattributed).
    pub trial_j: f64,
}

/// One request's token events: prefill span (ms) with its weighted prompt tokens, and decode
/// tokens at times (ms).
struct Work {
    start: f64,
    end: f64,
    /// Prompt tokens (weighted) spread evenly over (from, to).
    prefill: (f64, f64, f64),
    /// Generated tokens of each chunk, spread over the time the server spent producing them:
    /// (previous chunk's arrival or the send, this chunk's arrival, tokens), in time order.
    decode: Vec<(f64, f64, f64)>,
    /// Generated tokens spread evenly over (from, to), when no chunk times were recorded.
    decode_spread: (f64, f64, f64),
}

/// Tokens spread evenly over `[p0, p1]` that fall into `[a, b]` (all of them when the span is
/// an instant inside it).
fn spread_in((p0, p1, tokens): (f64, f64, f64), a: f64, b: f64) -> f64 {
    if tokens == 0.0 {
        0.0
    } else if p1 > p0 {
        tokens * overlap(p0, p1, a, b) / (p1 - p0)
    } else if p0 >= a && p0 <= b {
        tokens
    } else {
        0.0
    }
}

fn work(r: &Request, w: f64) -> Work {
    let start = r.start_ms as f64;
    let end = (r.end_ms as f64).max(start);
    let first = r.ttft_ms.map_or(end, |t| (start + t).min(end));
    let prompt = r.prompt_tokens.unwrap_or(0).max(0) as f64 * w;
    let generated = r.completion_tokens.unwrap_or(0).max(0) as f64;
    let mut decode_spread = (first, end, 0.0);
    let decode = match &r.chunk_offsets_us {
        Some(offsets) if !offsets.is_empty() => {
            let counts: Vec<f64> = match &r.chunk_tokens {
                Some(c) if c.len() == offsets.len() => c.iter().map(|&n| n.max(0) as f64).collect(),
                _ => vec![generated / offsets.len() as f64; offsets.len()],
            };
            let mut from = start;
            offsets
                .iter()
                .zip(counts)
                .map(|(&o, n)| {
                    let to = (start + o as f64 / 1000.0).clamp(from, end);
                    let span = (from, to, n);
                    from = to;
                    span
                })
                .collect()
        }
        // No chunk times: evenly over first chunk → end (the whole window without a TTFT).
        _ => {
            decode_spread = if end > first {
                (first, end, generated)
            } else {
                (start, end, generated)
            };
            Vec::new()
        }
    };
    Work {
        start,
        end,
        prefill: (start, first, prompt),
        decode,
        decode_spread,
    }
}

/// Overlap of `[a, b]` and `[c, d]`, ms.
fn overlap(a: f64, b: f64, c: f64, d: f64) -> f64 {
    (b.min(d) - a.max(c)).max(0.0)
}

/// Splits a trial's corrected energy across its requests; None for whole-second data (request
/// windows too coarse to separate requests), a trial without requests, or one whose energy no
/// source measured.
pub fn attribute(
    trial: &Trial,
    requests: &[Request],
    samples: &SampleTable,
    settings: Settings,
) -> Option<Attribution> {
    if trial.time_resolution_ms >= 1000 || requests.is_empty() {
        return None;
    }
    let window = accounting::trial_window(trial, requests, Accounting::Corrected);
    let total = accounting::corrected(samples, window).total_j()?;
    let mut boundaries: Vec<i64> = vec![window.start_ms];
    boundaries.extend(
        samples
            .time_ms
            .iter()
            .copied()
            .filter(|&t| t > window.start_ms && t < window.end_ms),
    );
    boundaries.push(window.end_ms.max(window.start_ms));
    boundaries.sort_unstable();
    boundaries.dedup();
    if boundaries.len() < 2 {
        boundaries.push(window.start_ms + 1);
    }
    let pieces = split_energy(samples, &boundaries)?;
    let sum: f64 = pieces.iter().sum();
    // The pieces add up to the whole-window integral up to rounding; scaling makes the split
    // conserve the trial's energy exactly. With no net energy the pieces are used as they are.
    let scale = if sum.abs() > f64::EPSILON * total.abs().max(1.0) {
        total / sum
    } else {
        1.0
    };
    let pieces: Vec<f64> = pieces.iter().map(|p| p * scale).collect();
    let works: Vec<Work> = requests
        .iter()
        .map(|r| work(r, settings.prefill_weight))
        .collect();
    let n = pieces.len();
    // The sample interval holding time t.
    let interval_of = |t: f64| -> usize {
        let k = boundaries.partition_point(|&b| (b as f64) <= t);
        k.saturating_sub(1).min(n - 1)
    };
    let mut shares: Vec<Share> = vec![Share::default(); works.len()];
    let mut unattributed = 0.0;
    // Requests sorted by start, to find those in flight per interval without a full scan.
    let mut by_start: Vec<usize> = (0..works.len()).collect();
    by_start.sort_by(|&a, &b| works[a].start.total_cmp(&works[b].start));
    let mut cursor = vec![0usize; works.len()];
    let mut active: Vec<usize> = Vec::new();
    let mut next = 0;
    for (k, &energy) in pieces.iter().enumerate() {
        let (a, b) = (boundaries[k] as f64, boundaries[k + 1] as f64);
        while next < by_start.len() && works[by_start[next]].start <= b {
            active.push(by_start[next]);
            next += 1;
        }
        active.retain(|&r| works[r].end >= a);
        let in_flight: Vec<usize> = active
            .iter()
            .copied()
            .filter(|&r| {
                overlap(works[r].start, works[r].end, a, b) > 0.0
                    || (works[r].start == works[r].end && works[r].start >= a && works[r].start <= b)
            })
            .collect();
        if in_flight.is_empty() {
            unattributed += energy;
            continue;
        }
        let mut weights: Vec<(usize, f64, f64)> = Vec::with_capacity(in_flight.len());
        for &r in &in_flight {
            let w = &works[r];
            let pre = spread_in(w.prefill, a, b);
            let mut dec = spread_in(w.decode_spread, a, b);
            let spans = &w.decode;
            while cursor[r] < spans.len() && spans[cursor[r]].1 < a {
                cursor[r] += 1;
            }
            let mut c = cursor[r];
            while c < spans.len() && spans[c].0 <= b {
                dec += spread_in(spans[c], a, b);
                c += 1;
            }
            weights.push((r, pre, dec));
        }
        let total_w: f64 = weights.iter().map(|w| w.1 + w.2).sum();
        for (r, pre, dec) in weights {
            let s = &mut shares[r];
            if total_w > 0.0 {
                s.prefill_j += energy * pre / total_w;
                s.decode_j += energy * dec / total_w;
            } else {
                // In flight, nothing processed: shared evenly, by the phase it was in.
                let e = energy / in_flight.len() as f64;
                if (a + b) / 2.0 < works[r].prefill.1 {
                    s.prefill_j += e;
                } else {
                    s.decode_j += e;
                }
            }
        }
    }
    let generated: i64 = requests
        .iter()
        .filter_map(|r| r.completion_tokens)
        .filter(|&t| t > 0)
        .sum();
    for (i, s) in shares.iter_mut().enumerate() {
        let w = &works[i];
        s.energy_j = s.prefill_j + s.decode_j;
        s.alone = works
            .iter()
            .enumerate()
            .all(|(j, o)| j == i || overlap(w.start, w.end, o.start, o.end) == 0.0);
        let (first, last) = (interval_of(w.start), interval_of(w.end));
        s.error_j = pieces[first].abs() + if last != first { pieces[last].abs() } else { 0.0 };
        s.mlenergy_j = (generated > 0)
            .then(|| total / generated as f64 * requests[i].completion_tokens.unwrap_or(0).max(0) as f64);
    }
    Some(Attribution {
        shares,
        unattributed_j: unattributed,
        trial_j: total,
    })
}
