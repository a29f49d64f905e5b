//! From validated options to a finished run: loads the config and prompts, applies the
//! command-line overrides, builds the study, and either prints the plan (`--dry-run`), runs the
//! trials, or runs the probe. Returns the process exit code.

use crate::agent::AgentOptions;
use crate::config::Config;
use crate::demo;
use crate::options::{CollectOptions, Command, OnlyFilter};
use crate::plan::{self, Design};
use crate::probe;
use crate::prompts::{self, TaskPrompts};
use crate::runner::{self, Study, Summary};
use crate::sampler::fake::FakeScript;
use crate::sampler::{EnergySelection, SourceKind};
use anyhow::{Context, Result, bail};
use std::io::Write;

/// Exit code when some trials failed (they are committed as `failed`; a rerun redoes them).
pub const EXIT_FAILED_TRIALS: i32 = 3;
/// Exit code after Ctrl-C.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Runs a command; returns the exit code.
pub fn run(command: Command) -> Result<i32> {
    match command {
        Command::Probe(p) => {
            probe::run(&p, &mut std::io::stdout().lock())?;
            Ok(0)
        }
        Command::Collect(o) => collect(&o),
        Command::Agent(a) => agent(&a),
        Command::FakeServer(f) => {
            let script = endpoint::fake::FakeScript {
                models: if f.models.is_empty() {
                    vec!["fake-model".into()]
                } else {
                    f.models
                },
                token_delay: f.token_delay,
                batching: f.batching.then(endpoint::fake::BatchModel::default),
                metrics: f.batching,
                ..Default::default()
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(endpoint::fake::serve_forever(script, f.port))?;
            Ok(0)
        }
    }
}

fn check_only(config: &Config, only: &[OnlyFilter]) -> Result<()> {
    for f in only {
        if let Some(m) = &f.model
            && config.model(m).is_none()
        {
            let known: Vec<&str> = config.models.iter().map(|m| m.name.as_str()).collect();
            bail!(
                "--only model={m}: no such model in the config (known: {})",
                known.join(", ")
            );
        }
        if let Some(t) = &f.task
            && !config.tasks.contains(t)
        {
            bail!(
                "--only task={t}: no such task in the config (known: {})",
                config.tasks.join(", ")
            );
        }
    }
    Ok(())
}

/// The study the options describe (config loaded, overrides applied, prompts read). With
/// `lenient_prompts` (dry runs) missing prompts are a warning, not an error.
pub fn study(o: &CollectOptions, lenient_prompts: bool) -> Result<(Study, Vec<String>)> {
    let mut warnings = Vec::new();
    let mut config = if o.demo {
        demo::config()?
    } else {
        Config::load(&o.config).with_context(|| {
            if o.config.exists() {
                "invalid experiment config".to_string()
            } else {
                format!(
                    "cannot read the experiment config {} (--config FILE)",
                    o.config.display()
                )
            }
        })?
    };
    if let Some(r) = o.reps {
        config.repetitions = r;
    }
    if let Some(s) = o.seed {
        config.seed = s;
    }
    if let Some(c) = o.cooldown_s {
        config.cooldown_s = c;
    }
    if let Some(i) = o.interval_ms {
        config.interval_ms = i;
    }
    if let Some(b) = o.baseline_s {
        config.baseline_s = b;
    }
    if let Some(c) = o.concurrency {
        config.load.set_concurrency(c);
    }
    if let Some(m) = o.max_prompts {
        config.max_prompts = Some(m);
    }
    if let Some(p) = &o.prompts {
        config.prompts = p.clone();
    }
    check_only(&config, &o.only)?;
    let energy = match &o.energy {
        Some(e) => e.clone(),
        None => config
            .energy
            .parse::<EnergySelection>()
            .map_err(|m| anyhow::anyhow!("experiment.energy = \"{}\" in the config: {m}", config.energy))?,
    };
    let prompts: Vec<TaskPrompts> = if o.demo {
        demo::task_prompts(config.max_prompts)?
    } else {
        match prompts::load(&config.prompts, &config.tasks, config.max_prompts) {
            Ok(p) => p,
            Err(e) if lenient_prompts => {
                warnings.push(format!("warning: {e:#}; the plan assumes 80 prompts per task"));
                Vec::new()
            }
            Err(e) => return Err(e),
        }
    };
    let simulated = o.demo || matches!(&energy, EnergySelection::List(k) if k.contains(&SourceKind::Fake));
    let design = Design::new(&config, &prompts, simulated);
    let study = if o.demo {
        let mut s = demo::study(config, prompts, o.out.clone(), o.force, o.quiet);
        s.only = o.only.clone();
        s.shard = o.shard;
        s
    } else {
        Study {
            design,
            prompts,
            out: o.out.clone(),
            force: o.force,
            only: o.only.clone(),
            shard: o.shard,
            energy,
            fake_energy: FakeScript::default(),
            endpoint: o.endpoint.clone(),
            quiet: o.quiet,
            created_by: format!("collect {}", env!("CARGO_PKG_VERSION")),
            agent: o.agent.clone(),
            gpu_control: o.gpu_control.clone(),
            testbed: "local".into(),
            config,
        }
    };
    Ok((study, warnings))
}

fn duration_text(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h} h {m:02} min")
    } else if m > 0 {
        format!("{m} min {sec:02} s")
    } else {
        format!("{sec} s")
    }
}

/// Prints the plan of a study.
pub fn print_plan(study: &Study, out: &mut dyn Write) -> Result<()> {
    let c = &study.config;
    let d = &study.design;
    let runs = plan::plan(d);
    let excluded = c
        .models
        .iter()
        .flat_map(|m| c.tasks.iter().filter(|t| c.is_excluded(&m.name, t)))
        .count();
    let pairs = c.models.len() * c.tasks.len() - excluded;
    let levels = d.treatments.len().checked_div(pairs).unwrap_or(1);
    writeln!(
        out,
        "experiment {}: {} models x {} tasks - {} excluded{} = {} treatments x {} repetitions = {} trials{}",
        c.name,
        c.models.len(),
        c.tasks.len(),
        excluded,
        if levels > 1 {
            format!(" x {levels} levels of the other factors")
        } else {
            String::new()
        },
        d.treatments.len(),
        d.repetitions,
        runs.len(),
        if d.simulated { " [SIMULATED]" } else { "" }
    )?;
    let per_task: Vec<(String, usize)> = c
        .tasks
        .iter()
        .map(|t| {
            let n = study
                .prompts
                .iter()
                .find(|p| &p.task == t)
                .map_or(c.max_prompts.unwrap_or(80).min(80), |p| p.prompts.len());
            (t.clone(), n)
        })
        .collect();
    let listing: Vec<String> = per_task.iter().map(|(t, n)| format!("{t} {n}")).collect();
    writeln!(
        out,
        "prompts per trial: {} (from {})",
        listing.join(", "),
        c.prompts.display()
    )?;
    let endpoint = study
        .endpoint
        .clone()
        .or_else(|| c.server.endpoint.clone())
        .unwrap_or_else(|| "serve template per model".into());
    writeln!(
        out,
        "endpoint: {endpoint}; energy: {}; interval {} ms; baseline {} s; cooldown {} s; {}",
        study.energy,
        c.interval_ms,
        c.baseline_s,
        c.cooldown_s,
        c.load.describe()
    )?;
    let factors = study.design.factors();
    if !factors.is_empty() {
        let listing: Vec<String> = factors.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(
            out,
            "factors beyond model × task (crossed with them, shuffled like them): {}",
            listing.join("; ")
        )?;
    }
    if let Some(gpu) = crate::gpu::describe(&study.gpu_control, &c.power_limit_w, &c.sm_clock_mhz) {
        writeln!(out, "{gpu}")?;
    }
    let mut total_s = 0.0;
    for r in &runs {
        let n = per_task
            .iter()
            .find(|(t, _)| *t == r.key.task)
            .map_or(80, |x| x.1) as f64;
        // Closed loop: the requests share `concurrency` slots; open loop: they arrive at the rate
        // (and the last one takes a request's time).
        let requests_s = match (r.key.arrival_rate_per_s, r.key.concurrency) {
            (Some(rate), _) => n / rate + c.estimated_request_s,
            (None, Some(k)) if k > 1 => (n / k as f64).ceil() * c.estimated_request_s,
            _ => n * c.estimated_request_s,
        };
        total_s += c.baseline_s + requests_s + c.cooldown_s;
    }
    let todo: Vec<_> = runs.iter().filter(|r| study.selects(r)).collect();
    writeln!(
        out,
        "estimated duration: {} ({} s per request as configured, plus baselines and cooldowns; model start-up not included)",
        duration_text(total_s),
        c.estimated_request_s
    )?;
    if dataset::Dataset::exists(&study.out) {
        let done = todo
            .iter()
            .filter(|r| {
                study
                    .out
                    .join("trials")
                    .join(&r.key.run_id)
                    .join("trial.parquet")
                    .is_file()
            })
            .count();
        writeln!(
            out,
            "dataset {} exists: {done} of these trials are committed (a run resumes if the design is unchanged)",
            study.out.display()
        )?;
    } else {
        writeln!(out, "dataset {} will be created", study.out.display())?;
    }
    match (study.only.is_empty(), study.shard) {
        (true, None) => {}
        (false, None) => writeln!(out, "--only selects {} of these trials for this run", todo.len())?,
        (true, Some(s)) => writeln!(out, "shard {s} (--shard): {} of these trials", todo.len())?,
        (false, Some(s)) => writeln!(out, "shard {s} and --only select {} of these trials", todo.len())?,
    }
    writeln!(out, "order (seed {}):", d.seed)?;
    writeln!(out, "{:>6}  {:<28} {:<36} task", "order", "run_id", "model")?;
    for r in todo {
        writeln!(
            out,
            "{:>6}  {:<28} {:<36} {}",
            r.order, r.key.run_id, r.key.model, r.key.task
        )?;
    }
    Ok(())
}

fn print_summary(s: &Summary, out: &mut dyn Write) -> Result<()> {
    let tag = if s.simulated {
        "  [SIMULATED DATA: fake endpoint and/or scripted energy]"
    } else {
        ""
    };
    writeln!(
        out,
        "collect: {} trials done, {} failed, {} already done{} in {:.1} s -> {}{tag}",
        s.done,
        s.failed,
        s.skipped,
        if s.filtered > 0 {
            format!(
                ", {} left for later (--only) or other shards (--shard)",
                s.filtered
            )
        } else {
            String::new()
        },
        s.elapsed_s,
        s.out.display()
    )?;
    if s.done > 0 {
        match s.energy_j {
            Some(energy_j) => {
                let per_token = if s.tokens > 0 {
                    format!(", {:.4} J/token", energy_j / s.tokens as f64)
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "energy of the trials run now: {energy_j:.1} J for {} tokens{per_token} (corrected accounting)",
                    s.tokens
                )?;
            }
            None => writeln!(
                out,
                "energy of the trials run now: not measured (no energy source measured any component)"
            )?,
        }
    }
    if !s.remeasured.is_empty() {
        let list: Vec<String> = s
            .remeasured
            .iter()
            .map(|(id, kept)| match kept {
                Some(dir) => format!("{id} (damaged files kept in {})", dir.display()),
                None => id.clone(),
            })
            .collect();
        writeln!(
            out,
            "measured again {} damaged trial(s): {}",
            s.remeasured.len(),
            list.join(", ")
        )?;
    }
    if s.damaged > s.remeasured.len() {
        writeln!(
            out,
            "{} damaged trial(s) not measured again in this run (left out by --only, or the run stopped); a run that selects them measures them again",
            s.damaged - s.remeasured.len()
        )?;
    }
    if s.interrupted {
        writeln!(out, "interrupted: run the same command again to resume")?;
    } else if s.failed > 0 {
        writeln!(
            out,
            "{} trial(s) failed (see failure_reason); run the same command again to redo them",
            s.failed
        )?;
    }
    writeln!(out, "next: analyze metrics {}", s.out.display())?;
    Ok(())
}

async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// `collect agent`: the study of the agent's config, served until Ctrl-C or SIGTERM.
fn agent(a: &AgentOptions) -> Result<i32> {
    let (mut study, warnings) = study(&a.collect, false)?;
    for w in &warnings {
        eprintln!("{w}");
    }
    study.testbed = dataset::lock::hostname();
    study.created_by = format!("collect {} agent", env!("CARGO_PKG_VERSION"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(crate::agent::server::serve(a, &study))?;
    Ok(0)
}

fn collect(o: &CollectOptions) -> Result<i32> {
    let (study, warnings) = study(o, o.dry_run)?;
    for w in &warnings {
        eprintln!("{w}");
    }
    let stdout = &mut std::io::stdout().lock();
    if o.dry_run {
        print_plan(&study, stdout)?;
        return Ok(0);
    }
    if o.demo && !o.quiet {
        eprintln!(
            "collect --demo: SIMULATED data from a fake endpoint and a scripted energy source, never measurements"
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let summary = rt.block_on(async {
        if o.demo {
            demo::run(study, ctrl_c()).await
        } else {
            runner::run(&study, ctrl_c()).await
        }
    })?;
    print_summary(&summary, stdout)?;
    Ok(if summary.interrupted {
        EXIT_INTERRUPTED
    } else if summary.failed > 0 {
        EXIT_FAILED_TRIALS
    } else {
        0
    })
}
