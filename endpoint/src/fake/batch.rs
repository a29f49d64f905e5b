//! The fake server's batching mode ([`BatchModel`]): one scheduler task runs forward *steps*,
//! as continuous-batching servers (vLLM, llama.cpp's server with parallel slots) do. Each step
//! serves every request in the batch: those admitted since the last step do their prefill in
//! it (their whole prompt, and their first token, which goes out at the end of that step), the
//! others decode one token each; after the step each request's new token goes out on its
//! stream. A request that arrives while a step runs waits for the next one (it counts as
//! `waiting` in `/metrics` until then), as do requests beyond [`BatchModel::max_batch`]; a
//! request whose client went away leaves the batch at the next step.
//!
//! The cost model, with `b` the batch size of a step and `p` the prompt tokens prefilled in it:
//!
//! * step time, ms: `base_ms + per_seq_ms · b^0.5 + prefill_ms_per_token · p` — sub-linear in
//!   the batch (a decode step is bound by reading the weights, which the batch shares), linear
//!   in the prompt tokens of a prefill;
//! * power while a step runs, W: `idle_w + dyn_w · b / (b + half_batch)` — saturating: the
//!   dynamic power approaches `dyn_w` as the batch fills the GPU; `idle_w` between steps.
//!
//! A step lasts at least its modelled time: the timer may wake a little later, and the ledger
//! uses the time the step actually took, so it stays exact. Steps follow one another without a
//! gap while there is work.
//!
//! The server keeps an exact ledger ([`Ledger`]): the cumulative energy as a function of time
//! (piecewise linear: constant power per step and per idle gap) on the clock `collect` uses —
//! milliseconds since the Unix epoch from a monotonic clock anchored once to the wall clock —
//! which `GET /fake/energy?at_ms=T` answers; and each request's true energy: each step's
//! energy is split over the requests in it by the tokens each processed in it (a prompt token
//! weighs what a generated one does, the attribution's default prefill weight), the prompt
//! tokens' part being its prefill energy, the generated token's its decode energy. Energy
//! between steps belongs to no request.

use super::Stats;
use std::collections::VecDeque;
use std::sync::{Arc, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// The batching server's cost model (see the module documentation for the formulas).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchModel {
    /// Fixed time of a step, ms.
    pub base_ms: f64,
    /// Time per √(batch size), ms.
    pub per_seq_ms: f64,
    /// Time per prompt token prefilled in the step, ms.
    pub prefill_ms_per_token: f64,
    /// Power with no step running, W.
    pub idle_w: f64,
    /// Dynamic power a full batch approaches, W.
    pub dyn_w: f64,
    /// Batch size at which the dynamic power is half of `dyn_w`.
    pub half_batch: f64,
    /// Most requests in one step; the others wait.
    pub max_batch: usize,
}

impl Default for BatchModel {
    fn default() -> Self {
        Self {
            base_ms: 6.0,
            per_seq_ms: 2.0,
            prefill_ms_per_token: 0.02,
            idle_w: 60.0,
            dyn_w: 340.0,
            half_batch: 4.0,
            max_batch: 256,
        }
    }
}

impl BatchModel {
    /// The modelled time of a step of `batch` requests prefilling `prompt_tokens`, ms.
    pub fn step_ms(&self, batch: usize, prompt_tokens: u64) -> f64 {
        self.base_ms
            + self.per_seq_ms * (batch as f64).sqrt()
            + self.prefill_ms_per_token * prompt_tokens as f64
    }

    /// The power while a step of `batch` requests runs (`idle_w` for none), W.
    pub fn power_w(&self, batch: usize) -> f64 {
        if batch == 0 {
            return self.idle_w;
        }
        let b = batch as f64;
        self.idle_w + self.dyn_w * b / (b + self.half_batch.max(0.0))
    }
}

/// One request's true energy, from the ledger.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestEnergy {
    /// Its attempt number (counting every chat request since the server started from 1).
    pub attempt: u64,
    /// The text of its messages, joined by newlines.
    pub prompt: String,
    /// Its `seed` (0 without one).
    pub seed: i64,
    /// Its prompt tokens (as `usage` reports them).
    pub prompt_tokens: u64,
    /// Tokens generated so far.
    pub generated_tokens: u64,
    /// Its share of the steps' energy for its prompt tokens, J.
    pub prefill_j: f64,
    /// Its share of the steps' energy for its generated tokens, J.
    pub decode_j: f64,
    /// When it joined the queue, ms since the Unix epoch.
    pub arrived_ms: f64,
    /// When its first token went out, ms since the Unix epoch.
    pub first_token_ms: Option<f64>,
    /// When it left the batch, ms since the Unix epoch.
    pub end_ms: Option<f64>,
    /// Every token it asked for went out (false while running, or when its client went away).
    pub complete: bool,
}

impl RequestEnergy {
    /// Its whole true energy, J.
    pub fn energy_j(&self) -> f64 {
        self.prefill_j + self.decode_j
    }
}

/// The energy counter at one time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnergyReading {
    /// The time asked for, ms since the Unix epoch.
    pub at_ms: f64,
    /// The cumulative energy since the server started, mJ.
    pub energy_mj: f64,
    /// The power at that time, W.
    pub power_w: f64,
    /// Requests in the step running at that time (0 when idle).
    pub batch: usize,
}

/// Most points the energy curve keeps (one per step start and per idle gap; about 3 hours of
/// back-to-back 10 ms steps); past it the older half is dropped.
const CURVE_MAX: usize = 1_000_000;

/// The batching server's ledger: the energy curve, each request's energy and the queue.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    /// (time ms, counter mJ, power W from then on, batch), in time order.
    curve: Vec<(f64, f64, f64, usize)>,
    /// One entry per request (the first [`super::RECORDED_MAX`]).
    requests: Vec<RequestEnergy>,
    /// Requests in the step now running.
    pub(super) running: usize,
    /// Requests waiting for a step.
    pub(super) waiting: usize,
}

impl Ledger {
    /// Starts the curve at `at_ms`, idle.
    pub(super) fn start(&mut self, at_ms: f64, idle_w: f64) {
        self.curve = vec![(at_ms, 0.0, idle_w, 0)];
    }

    /// The counter at `at_ms`: the last point's value plus its power since (also past the last
    /// point, the current power extrapolated); None before the curve starts or without one.
    pub(super) fn energy_at(&self, at_ms: f64) -> Option<EnergyReading> {
        let k = self.curve.partition_point(|p| p.0 <= at_ms);
        let &(t, e, w, batch) = self.curve.get(k.checked_sub(1)?)?;
        // W · ms = mJ.
        Some(EnergyReading {
            at_ms,
            energy_mj: e + w * (at_ms - t),
            power_w: w,
            batch,
        })
    }

    /// From `at_ms` on, the power is `power_w` with `batch` requests in the step.
    fn set_power(&mut self, at_ms: f64, power_w: f64, batch: usize) {
        let Some(&(last, ..)) = self.curve.last() else {
            self.curve.push((at_ms, 0.0, power_w, batch));
            return;
        };
        let at_ms = at_ms.max(last);
        let e = self.energy_at(at_ms).map_or(0.0, |r| r.energy_mj);
        if self.curve.len() >= CURVE_MAX {
            self.curve.drain(..CURVE_MAX / 2);
        }
        self.curve.push((at_ms, e, power_w, batch));
    }

    /// Records a new request; returns its index (None past the first RECORDED_MAX).
    pub(super) fn admit(&mut self, request: RequestEnergy) -> Option<usize> {
        (self.requests.len() < super::RECORDED_MAX).then(|| {
            self.requests.push(request);
            self.requests.len() - 1
        })
    }

    /// Every request's energy so far.
    pub(super) fn requests(&self) -> Vec<RequestEnergy> {
        self.requests.clone()
    }

    fn request(&mut self, index: Option<usize>) -> Option<&mut RequestEnergy> {
        self.requests.get_mut(index?)
    }
}

/// The fake server's clock: an `Instant` as ms since the Unix epoch, anchored once to the wall
/// clock (the basis of `collect`'s clock, so both read the same time).
pub(super) fn epoch_ms(t: Instant) -> f64 {
    static ANCHOR: OnceLock<(Instant, f64)> = OnceLock::new();
    let &(anchor, anchor_ms) = ANCHOR.get_or_init(|| {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        (Instant::now(), ms)
    });
    if t >= anchor {
        anchor_ms + t.duration_since(anchor).as_secs_f64() * 1000.0
    } else {
        anchor_ms - anchor.duration_since(t).as_secs_f64() * 1000.0
    }
}

/// One request handed to the scheduler.
#[derive(Debug)]
pub(super) struct Job {
    /// Its prompt tokens.
    pub(super) prompt_tokens: u64,
    /// Tokens to generate.
    pub(super) tokens: u64,
    /// Its entry in the ledger.
    pub(super) record: Option<usize>,
    /// One message per generated token, sent when the step that made it ends; dropped when
    /// the request leaves the batch.
    pub(super) out: mpsc::UnboundedSender<()>,
}

/// A job in the batch and how many tokens it has generated.
#[derive(Debug)]
struct InBatch {
    job: Job,
    generated: u64,
}

/// The scheduler: runs steps while requests are in flight, keeps the ledger in `stats`, until
/// every sender of `jobs` is gone.
pub(super) async fn schedule(model: BatchModel, stats: Arc<Stats>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let mut waiting: VecDeque<Job> = VecDeque::new();
    let mut batch: Vec<InBatch> = Vec::new();
    // The start of the next step when it follows the last one without a gap.
    let mut next_start: Option<Instant> = None;
    let max_batch = model.max_batch.max(1);
    loop {
        if batch.is_empty() && waiting.is_empty() {
            let Some(job) = jobs.recv().await else {
                return;
            };
            waiting.push_back(job);
            next_start = None;
        }
        while let Ok(job) = jobs.try_recv() {
            waiting.push_back(job);
        }
        while batch.len() < max_batch
            && let Some(job) = waiting.pop_front()
        {
            batch.push(InBatch { job, generated: 0 });
        }
        let start = next_start.unwrap_or_else(Instant::now);
        let b = batch.len();
        let prompt: u64 = batch
            .iter()
            .filter(|r| r.generated == 0)
            .map(|r| r.job.prompt_tokens)
            .sum();
        let power_w = model.power_w(b);
        {
            let mut ledger = stats.ledger.lock().unwrap_or_else(PoisonError::into_inner);
            ledger.set_power(epoch_ms(start), power_w, b);
            ledger.running = b;
            ledger.waiting = waiting.len();
        }
        let planned = Duration::from_secs_f64(model.step_ms(b, prompt).max(0.0) / 1000.0);
        tokio::time::sleep_until((start + planned).into()).await;
        let end = Instant::now();
        let end_ms = epoch_ms(end);
        // Tokens each request processed in the step: its prompt and first token in its
        // prefill, one token in each later step.
        let weights: Vec<(f64, f64)> = batch
            .iter()
            .map(|r| {
                let prefill = if r.generated == 0 {
                    r.job.prompt_tokens as f64
                } else {
                    0.0
                };
                let decode = if r.generated < r.job.tokens { 1.0 } else { 0.0 };
                (prefill, decode)
            })
            .collect();
        let total: f64 = weights.iter().map(|w| w.0 + w.1).sum();
        let step_j = power_w * end.duration_since(start).as_secs_f64();
        let mut ledger = stats.ledger.lock().unwrap_or_else(PoisonError::into_inner);
        for (r, &(prefill, decode)) in batch.iter_mut().zip(&weights) {
            let first = r.generated == 0;
            let asked = r.job.tokens;
            let gone = if decode > 0.0 {
                r.generated += 1;
                r.job.out.send(()).is_err()
            } else {
                false
            };
            let Some(rec) = ledger.request(r.job.record) else {
                continue;
            };
            if total > 0.0 {
                rec.prefill_j += step_j * prefill / total;
                rec.decode_j += step_j * decode / total;
            } else {
                // Nothing processed at all (empty prompts, nothing asked): shared evenly.
                rec.prefill_j += step_j / b as f64;
            }
            if decode > 0.0 {
                rec.generated_tokens = r.generated;
                if first {
                    rec.first_token_ms = Some(end_ms);
                }
            }
            if gone || r.generated >= asked {
                rec.end_ms = Some(end_ms);
                rec.complete = !gone;
            }
        }
        batch.retain(|r| r.generated < r.job.tokens && !r.job.out.is_closed());
        while let Ok(job) = jobs.try_recv() {
            waiting.push_back(job);
        }
        if batch.is_empty() && waiting.is_empty() {
            ledger.set_power(end_ms, model.idle_w, 0);
            ledger.running = 0;
            ledger.waiting = 0;
            next_start = None;
        } else {
            next_start = Some(end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_time_is_sub_linear_in_the_batch_and_power_saturates() {
        let m = BatchModel::default();
        assert_eq!(m.step_ms(1, 0), 8.0);
        assert_eq!(m.step_ms(16, 100), 6.0 + 8.0 + 2.0);
        assert!(m.step_ms(32, 0) < 4.0 * m.step_ms(1, 0));
        assert_eq!(m.power_w(0), 60.0);
        assert_eq!(m.power_w(4), 60.0 + 170.0);
        assert!(m.power_w(1000) < 60.0 + 340.0);
    }

    #[test]
    fn the_counter_is_the_integral_of_the_power_and_extrapolates_ahead() {
        let mut l = Ledger::default();
        assert_eq!(l.energy_at(5.0), None);
        l.start(1000.0, 50.0);
        l.set_power(1010.0, 200.0, 3);
        l.set_power(1020.0, 50.0, 0);
        assert_eq!(l.energy_at(999.0), None);
        let at = |t: f64| l.energy_at(t).map(|r| r.energy_mj);
        assert_eq!(at(1005.0), Some(250.0));
        assert_eq!(at(1015.0), Some(500.0 + 1000.0));
        assert_eq!(
            l.energy_at(1015.0).map(|r| (r.power_w, r.batch)),
            Some((200.0, 3))
        );
        // Past the last point the current (idle) power goes on.
        assert_eq!(at(1030.0), Some(500.0 + 2000.0 + 500.0));
    }
}
