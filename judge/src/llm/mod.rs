//! The LLM judge stage: which requests are judged (`--sample`), which verdicts the cache
//! already holds, and the concurrent calls (`--jobs`, `--rps`) for the rest, with a progress
//! bar. One [`LlmJudge`] serves every dataset of a run.
//!
//! The stage also owns Ctrl-C while it lives: the first one stops the judging at the next
//! finished call (what was judged is cached and stored), a second one exits at once.

pub mod cache;
pub mod chat;
pub mod client;
pub mod ratelimit;
pub mod rubric;

use crate::options::LlmOptions;
use crate::sample;
use crate::workload::TrialRequests;
use anyhow::{Context, Result};
use cache::{Cache, Entry};
use client::Client;
use dataset::Judgment;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use rubric::{Judged, Rubric};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// One response to judge.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JudgeItem {
    /// Trial identifier.
    pub run_id: String,
    /// Request index within the trial.
    pub index: i64,
    /// Task name.
    pub task: String,
    /// Model generation of the trial.
    pub generation: String,
    /// The prompt (the question).
    pub prompt: String,
    /// The response to judge.
    pub response: String,
    /// Gold label, when known.
    pub gold_label: Option<String>,
}

/// Counts of one stage run (or of several, added up).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LlmStats {
    /// Responses with a judgment row from this run (new, cached or failed).
    pub judged: usize,
    /// Verdicts obtained by calls in this run.
    pub new: usize,
    /// Judgments (verdicts or answered failures) taken from the cache.
    pub cached: usize,
    /// Judgments without a score because the judge failed (cached failures included).
    pub failed: usize,
    /// Of the failures, calls that never got an answer (not cached; asked again next run).
    pub no_answer: usize,
    /// The first error of a call without an answer.
    pub first_error: Option<String>,
    /// How JSON was asked for at the end (`json_schema`, `json_object`, `instructions`).
    pub json_mode: Option<&'static str>,
    /// Requests not sent: the request itself failed, or the rubric needs a missing gold label.
    pub skipped: usize,
    /// HTTP requests made (retries included).
    pub http_requests: u64,
    /// Prompt tokens reported by the endpoint.
    pub prompt_tokens: u64,
    /// Generated tokens reported by the endpoint.
    pub completion_tokens: u64,
    /// Seconds spent calling the judge.
    pub call_s: f64,
    /// True when Ctrl-C stopped the stage.
    pub interrupted: bool,
    /// Mean score and count per generation, over the scored rows of this run.
    pub by_generation: BTreeMap<String, (f64, usize)>,
}

impl LlmStats {
    /// Adds another run's counts.
    pub fn add(&mut self, o: &LlmStats) {
        self.judged += o.judged;
        self.new += o.new;
        self.cached += o.cached;
        self.failed += o.failed;
        self.no_answer += o.no_answer;
        if self.first_error.is_none() {
            self.first_error.clone_from(&o.first_error);
        }
        if o.json_mode.is_some() {
            self.json_mode = o.json_mode;
        }
        self.skipped += o.skipped;
        self.http_requests += o.http_requests;
        self.prompt_tokens += o.prompt_tokens;
        self.completion_tokens += o.completion_tokens;
        self.call_s += o.call_s;
        self.interrupted |= o.interrupted;
        for (g, (sum, n)) in &o.by_generation {
            let e = self.by_generation.entry(g.clone()).or_default();
            e.0 += sum;
            e.1 += n;
        }
    }
}

/// What judging one dataset produced.
#[derive(Debug, Clone, Default)]
pub struct LlmRun {
    /// Judgment rows to merge into the scorer's file.
    pub rows: Vec<Judgment>,
    /// Counts.
    pub stats: LlmStats,
}

/// The LLM judge of a run.
#[derive(Debug)]
pub struct LlmJudge {
    opts: LlmOptions,
    rubric: Box<dyn Rubric>,
    client: Client,
    runtime: tokio::runtime::Runtime,
    interrupt: tokio::sync::watch::Receiver<bool>,
}

impl LlmJudge {
    /// Sets up the client, the runtime and the Ctrl-C watcher.
    pub fn new(opts: &LlmOptions) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let client = {
            let _guard = runtime.enter();
            Client::new(opts)?
        };
        let (tx, rx) = tokio::sync::watch::channel(false);
        runtime.spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if *tx.borrow() {
                    eprintln!("judge: interrupted twice; exiting (finished judgments are cached)");
                    std::process::exit(130);
                }
                eprintln!(
                    "judge: interrupted; stopping after the calls in flight (Ctrl-C again to exit now)"
                );
                let _ = tx.send(true);
            }
        });
        Ok(Self {
            opts: opts.clone(),
            rubric: opts.rubric.build(),
            client,
            runtime,
            interrupt: rx,
        })
    }

    /// `judge:<model>:<rubric>`.
    pub fn scorer(&self) -> String {
        format!("judge:{}:{}", self.opts.model, self.rubric.name())
    }

    /// True once Ctrl-C was pressed.
    pub fn interrupted(&self) -> bool {
        *self.interrupt.borrow()
    }

    /// The cache folder for a dataset.
    pub fn cache_dir(&self, dataset_root: &Path) -> std::path::PathBuf {
        self.opts
            .cache_dir
            .clone()
            .unwrap_or_else(|| dataset_root.join(cache::CACHE_DIR))
    }

    /// The requests of a trial to judge (all, or the `--sample`), and rows for the selected
    /// ones that cannot be sent (a failed request; no gold label for a rubric that needs one).
    pub fn select(&self, t: &TrialRequests) -> (Vec<JudgeItem>, Vec<Judgment>) {
        let picked = sample::pick(
            t.requests.len(),
            self.opts.sample,
            self.opts.seed,
            &t.trial.key.run_id,
        );
        let mut items = Vec::with_capacity(picked.len());
        let mut skipped = Vec::new();
        for i in picked {
            let r = &t.requests[i];
            let why = if let Some(err) = &r.error {
                Some(format!("not judged: the request failed ({err})"))
            } else if self.rubric.needs_gold() && r.gold_label.is_none() {
                Some(format!(
                    "not judged: the {} rubric needs a gold label and this request has none",
                    self.rubric.name()
                ))
            } else {
                None
            };
            match why {
                Some(reason) => skipped.push(Judgment {
                    run_id: r.run_id.clone(),
                    request_index: r.index,
                    scorer: self.scorer(),
                    score: None,
                    reason: Some(reason),
                    details: Some(json!({"skipped": true}).to_string()),
                }),
                None => items.push(JudgeItem {
                    run_id: r.run_id.clone(),
                    index: r.index,
                    task: t.trial.key.task.to_string(),
                    generation: t.trial.key.generation.to_string(),
                    prompt: r.prompt.clone(),
                    response: r.response.clone(),
                    gold_label: r.gold_label.clone(),
                }),
            }
        }
        (items, skipped)
    }

    /// Judges `items` (with the cache in `cache_dir`) and returns their rows, `skipped` rows
    /// included.
    pub fn judge(
        &self,
        cache_dir: &Path,
        items: Vec<JudgeItem>,
        skipped: Vec<Judgment>,
        progress: bool,
    ) -> Result<LlmRun> {
        let rubric = &*self.rubric;
        let cache = Cache::open(cache_dir, &self.opts.model, rubric.name(), rubric.version())?;
        if cache.skipped_lines() > 0 {
            eprintln!(
                "judge: warning: {}: skipped {} unreadable line(s) (an interrupted write); those responses are judged again",
                cache.path().display(),
                cache.skipped_lines()
            );
        }
        let scorer = self.scorer();
        let mut run = LlmRun::default();
        run.stats.skipped = skipped.len();
        run.stats.judged = skipped.len();
        run.rows.extend(skipped);

        // Cached responses are answered at once; the rest are grouped by key so that a
        // response appearing twice is judged once.
        let mut waiting: HashMap<String, Vec<(String, i64, String)>> = HashMap::new();
        let mut pending: Vec<(String, JudgeItem)> = Vec::new();
        for item in items {
            let gold = if rubric.needs_gold() {
                item.gold_label.as_deref()
            } else {
                None
            };
            let key = cache::key(
                &self.opts.model,
                rubric.name(),
                rubric.version(),
                &item.prompt,
                &item.response,
                gold,
            );
            if let Some(e) = cache.get(&key).filter(|e| !(e.failed && self.opts.retry_failed)) {
                run.stats.cached += 1;
                run.stats.failed += usize::from(e.failed);
                self.push_row(&mut run, &scorer, &item.run_id, item.index, &item.generation, e);
                continue;
            }
            let who = (item.run_id.clone(), item.index, item.generation.clone());
            match waiting.get_mut(&key) {
                Some(w) => w.push(who),
                None => {
                    waiting.insert(key.clone(), vec![who]);
                    pending.push((key, item));
                }
            }
        }

        let bar = if progress && !pending.is_empty() {
            let b = ProgressBar::new(pending.len() as u64);
            b.set_style(
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ({per_sec}, ETA {eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            b.set_prefix(scorer.clone());
            b
        } else {
            ProgressBar::hidden()
        };

        let before = (
            self.client.traffic.requests.load(Ordering::Relaxed),
            self.client.traffic.prompt_tokens.load(Ordering::Relaxed),
            self.client.traffic.completion_tokens.load(Ordering::Relaxed),
        );
        let started = Instant::now();
        let client: &dyn chat::Chat = &self.client;
        let mut interrupt = self.interrupt.clone();
        let result: Result<()> = self.runtime.block_on(async {
            let mut stream = futures_util::stream::iter(pending.iter())
                .map(|(key, item)| async move { (key, rubric.judge(item, client).await) })
                .buffer_unordered(self.opts.jobs);
            loop {
                tokio::select! {
                    biased;
                    // A closed channel (no signal handling on this platform) never interrupts.
                    Ok(_) = interrupt.wait_for(|stop| *stop) => {
                        run.stats.interrupted = true;
                        break;
                    }
                    next = stream.next() => {
                        let Some((key, judged)) = next else { break };
                        let who = waiting.remove(key).unwrap_or_default();
                        self.record(&cache, &mut run, &scorer, key, judged, &who)?;
                        if run.stats.failed > 0 {
                            bar.set_message(format!("{} failed", run.stats.failed));
                        }
                        bar.inc(1);
                    }
                }
            }
            Ok(())
        });
        bar.finish_and_clear();
        cache.sync()?;
        result?;
        run.stats.call_s = started.elapsed().as_secs_f64();
        if !pending.is_empty() {
            run.stats.json_mode = Some(self.client.json_mode().name());
        }
        run.stats.http_requests = self.client.traffic.requests.load(Ordering::Relaxed) - before.0;
        run.stats.prompt_tokens = self.client.traffic.prompt_tokens.load(Ordering::Relaxed) - before.1;
        run.stats.completion_tokens =
            self.client.traffic.completion_tokens.load(Ordering::Relaxed) - before.2;
        Ok(run)
    }

    /// Stores one finished judgment: in the cache (verdicts and answered failures) and as a
    /// row for every request with that key.
    fn record(
        &self,
        cache: &Cache,
        run: &mut LlmRun,
        scorer: &str,
        key: &str,
        judged: Judged,
        who: &[(String, i64, String)],
    ) -> Result<()> {
        let entry = |score: Option<f64>, reason: String, details: Value, failed: bool| Entry {
            key: key.to_string(),
            score,
            reason,
            details,
            failed,
            prompt_tokens: judged.usage.prompt_tokens,
            completion_tokens: judged.usage.completion_tokens,
            calls: judged.calls,
            judged_at_ms: dataset::store::now_ms(),
        };
        let e = match &judged.outcome {
            Ok(v) => {
                run.stats.new += who.len();
                entry(Some(v.score), v.reason.clone(), v.details.clone(), false)
            }
            Err(f) => {
                run.stats.failed += who.len();
                if !f.answered {
                    run.stats.no_answer += who.len();
                    if run.stats.first_error.is_none() {
                        run.stats.first_error = Some(f.reason.clone());
                    }
                }
                entry(
                    None,
                    f.reason.clone(),
                    json!({"failure": if f.answered { "unusable_answer" } else { "no_answer" }}),
                    true,
                )
            }
        };
        let answered = judged.outcome.as_ref().map_or_else(|f| f.answered, |_| true);
        if answered {
            cache.append(&e)?;
        }
        for (run_id, index, generation) in who {
            self.push_row(run, scorer, run_id, *index, generation, &e);
        }
        Ok(())
    }

    fn push_row(
        &self,
        run: &mut LlmRun,
        scorer: &str,
        run_id: &str,
        index: i64,
        generation: &str,
        e: &Entry,
    ) {
        let mut details = match &e.details {
            Value::Object(m) => m.clone(),
            other => {
                let mut m = serde_json::Map::new();
                m.insert("value".into(), other.clone());
                m
            }
        };
        details.insert("rubric_version".into(), Value::from(self.rubric.version()));
        details.insert(
            "tokens".into(),
            json!({"prompt": e.prompt_tokens, "completion": e.completion_tokens}),
        );
        details.insert("calls".into(), Value::from(e.calls));
        if let Some(s) = e.score {
            let g = run.stats.by_generation.entry(generation.to_string()).or_default();
            g.0 += s;
            g.1 += 1;
        }
        run.stats.judged += 1;
        run.rows.push(Judgment {
            run_id: run_id.to_string(),
            request_index: index,
            scorer: scorer.to_string(),
            score: e.score,
            reason: Some(e.reason.clone()),
            details: Some(Value::Object(details).to_string()),
        });
    }
}
