//! The report (`analyze DATA --report DIR`) on a small synthetic dataset built through the
//! `dataset` crate: `summary.md` is snapshot-tested, and the report's promises about DIR (only
//! its own files, nothing deleted), `--trace` and the simulated banner are checked.

mod common;

use dataset::{
    Dataset, Judgment, Manifest, Request, RunRow, SampleColumn, SampleTable, Trial, TrialFiles, TrialKey,
    TrialStatus,
};
use std::path::{Path, PathBuf};

/// 2025-03-14 09:00:00 UTC: the fixture's clock starts here.
const T0_MS: i64 = 1_741_942_800_000;

/// (generation, size, base GPU power in W, tokens per response).
const CONFIGS: [(&str, &str, f64, i64); 3] = [
    ("2", "7B", 240.0, 60),
    ("3.2", "1B", 90.0, 40),
    ("3.2", "3B", 150.0, 45),
];
const TASKS: [&str; 2] = ["BoolQ", "COPA"];
const REPETITIONS: i64 = 3;
const PROMPTS: i64 = 4;

/// One trial with analytic numbers: requests of 2 s each after a 2 s load phase, samples every
/// 200 ms at a power that depends on the configuration, task and repetition, a package counter
/// rising 40 J/s, and a DRAM counter rising 3 J/s.
fn trial(
    run: i64,
    rep: i64,
    order: i64,
    (generation, size, watts, tokens): (&str, &str, f64, i64),
    task: &str,
    simulated: bool,
) -> TrialFiles {
    let run_id = format!("run_{run}_repetition_{rep}");
    let start_ms = T0_MS + order * 60_000;
    let task_extra = if task == "COPA" { 1.25 } else { 1.0 };
    let gpu_w = watts * task_extra + rep as f64 * 3.0;
    // Generation 2 answers identically in every repetition; 3.2 varies with the repetition.
    let variant = if generation == "2" { 0 } else { rep };
    let requests: Vec<Request> = (0..PROMPTS)
        .map(|i| {
            let s = start_ms + 2000 + i * 2000;
            Request {
                run_id: run_id.clone(),
                index: i,
                item_id: Some(i),
                gold_label: Some("True".into()),
                prompt: format!("{task} question {i}"),
                response: format!("answer {i} variant {variant}"),
                start_ms: s,
                end_ms: s + 2000,
                completion_tokens: Some(tokens + i + variant),
                ..Default::default()
            }
        })
        .collect();
    let n = 60; // 12 s of samples at 200 ms
    let time_ms: Vec<i64> = (0..n).map(|k| start_ms + k * 200).collect();
    let power: Vec<f64> = (0..n)
        .map(|k| {
            if k < 10 {
                20_000.0
            } else {
                gpu_w * 1000.0 + (k % 3) as f64 * 500.0
            }
        })
        .collect();
    let package: Vec<f64> = (0..n).map(|k| 1000.0 + 8.0 * k as f64).collect();
    let dram: Vec<f64> = (0..n).map(|k| 50.0 + 0.6 * k as f64).collect();
    let provenance = serde_json::json!({
        "collector": "fixture 1.0",
        "hardware": {"gpu": "Fixture GPU 24 GB", "cpu": "Fixture CPU"},
    });
    TrialFiles {
        trial: Trial {
            key: TrialKey {
                run_id: run_id.clone().into(),
                run,
                repetition: rep,
                generation: generation.into(),
                model_size: size.into(),
                model: format!("Llama-{generation}-{size}").into(),
                task: task.into(),
                ..Default::default()
            },
            status: TrialStatus::Done,
            start_ms: start_ms + 2000,
            end_ms: start_ms + 2000 + PROMPTS * 2000,
            time_resolution_ms: 1000,
            sample_interval_ms: Some(200.0),
            simulated,
            provenance: provenance.to_string(),
            energy_sources: Some("nvml,rapl".into()),
            ..Default::default()
        },
        requests,
        samples: SampleTable {
            time_ms,
            columns: vec![
                SampleColumn::new("GPU0_POWER (mWatts)", power),
                SampleColumn::new("PACKAGE_ENERGY (J)", package),
                SampleColumn::new("DRAM_ENERGY (J)", dram),
            ],
        },
        baseline: None,
        server_metrics: Vec::new(),
    }
}

/// Builds the fixture dataset (18 trials) in `dir`.
fn fixture(dir: &Path, simulated: bool) -> PathBuf {
    fixture_edited(dir, simulated, |_| {})
}

/// The fixture with every trial passed through `edit` before it is written.
fn fixture_edited(dir: &Path, simulated: bool, edit: impl Fn(&mut TrialFiles)) -> PathBuf {
    let data = dir.join("data");
    let ds = Dataset::create(
        &data,
        &Manifest::new("report test fixture", simulated, "synthetic fixture"),
        false,
    )
    .expect("create dataset");
    let mut runs = Vec::new();
    let mut judgments = Vec::new();
    let mut order = 0;
    let (mut gold, mut judge) = (Vec::new(), Vec::new());
    let mut run = 0;
    for config in CONFIGS {
        for task in TASKS {
            for rep in 0..REPETITIONS {
                let mut files = trial(run, rep, order, config, task, simulated);
                edit(&mut files);
                runs.push(RunRow {
                    key: files.trial.key.clone(),
                    order,
                });
                // Deterministic gold and LLM-judge scores (one request without a gold
                // decision), so the accuracy section has something to compare.
                for i in 0..3 {
                    gold.push(Judgment {
                        run_id: files.trial.key.run_id.to_string(),
                        request_index: i,
                        scorer: "gold".into(),
                        score: (i != 1).then(|| ((run + rep + i) % 2) as f64),
                        reason: None,
                        details: None,
                    });
                    judge.push(Judgment {
                        run_id: files.trial.key.run_id.to_string(),
                        request_index: i,
                        scorer: "judge:fake:correctness".into(),
                        score: Some(((run + 2 * rep + i) % 2) as f64),
                        reason: None,
                        details: None,
                    });
                }
                for i in [0, 2] {
                    judgments.push(Judgment {
                        run_id: files.trial.key.run_id.to_string(),
                        request_index: i,
                        scorer: "published_relevancy".into(),
                        score: Some(((run * 7 + rep * 3 + i) % 10) as f64 / 10.0),
                        reason: None,
                        details: None,
                    });
                }
                ds.write_trial(&files, false).expect("write trial");
                order += 1;
            }
            run += 1;
        }
    }
    ds.write_runs(&runs).expect("write runs");
    ds.write_judgments("published_relevancy", &judgments)
        .expect("write judgments");
    ds.write_judgments("gold", &gold).expect("write judgments");
    ds.write_judgments("judge:fake:correctness", &judge)
        .expect("write judgments");
    data
}

fn report(data: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    common::analyze()
        .arg(data)
        .arg("--report")
        .arg(out)
        .arg("--no-png")
        .args(extra)
        .assert()
}

#[test]
fn summary_md_of_a_small_fixture_matches_its_snapshot() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = fixture(tmp.path(), false);
    let out = tmp.path().join("report");
    report(&data, &out, &[]).success();
    let summary = std::fs::read_to_string(out.join("summary.md")).expect("summary.md");
    insta::assert_snapshot!("fixture_summary", summary);
}

/// The fixture's energy and tokens worked out from its definition, not through the accounting:
/// the corrected window of a trial keeps samples 10 to 54 (requests from 2 s to 10 s, whole-
/// second timestamps, so up to 11 s), the GPU trapezoid over them, the package and DRAM
/// counters differenced. Per generation: (energy of each trial in J, tokens of each trial).
fn fixture_by_hand() -> Vec<(&'static str, Vec<f64>, Vec<i64>)> {
    let mut out: Vec<(&'static str, Vec<f64>, Vec<i64>)> = Vec::new();
    for (generation, _, watts, tokens) in CONFIGS {
        for task in TASKS {
            for rep in 0..REPETITIONS {
                let gpu_w = watts * if task == "COPA" { 1.25 } else { 1.0 } + rep as f64 * 3.0;
                let power_w = |k: i64| gpu_w + (k % 3) as f64 * 0.5;
                let gpu_j: f64 = (10..54).map(|k| (power_w(k) + power_w(k + 1)) / 2.0 * 0.2).sum();
                let energy_j = gpu_j + 8.0 * 44.0 + 0.6 * 44.0;
                let variant = if generation == "2" { 0 } else { rep };
                let trial_tokens = (0..PROMPTS).map(|i| tokens + i + variant).sum::<i64>();
                match out.iter_mut().find(|g| g.0 == generation) {
                    Some(g) => {
                        g.1.push(energy_j);
                        g.2.push(trial_tokens);
                    }
                    None => out.push((generation, vec![energy_j], vec![trial_tokens])),
                }
            }
        }
    }
    out
}

/// The number right after `prefix` in `text` (digits, `.`, `-`).
fn number_after(text: &str, prefix: &str) -> f64 {
    let at = text
        .find(prefix)
        .unwrap_or_else(|| panic!("`{prefix}` not in the summary"));
    let rest = &text[at + prefix.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(rest.len());
    rest[..end]
        .parse()
        .unwrap_or_else(|e| panic!("after `{prefix}`: {e}"))
}

#[test]
fn the_summary_headline_numbers_equal_the_fixture_worked_out_by_hand() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = fixture(tmp.path(), false);
    let out = tmp.path().join("report");
    report(&data, &out, &[]).success();
    let summary = std::fs::read_to_string(out.join("summary.md")).expect("summary.md");
    let by_hand = fixture_by_hand();
    let energy: f64 = by_hand.iter().flat_map(|g| g.1.iter()).sum();
    let tokens: i64 = by_hand.iter().flat_map(|g| g.2.iter()).sum();
    // Shown to 4 significant digits: equal to half a unit of the last digit shown.
    let close = |shown: f64, exact: f64, unit: f64| {
        assert!(
            (shown - exact).abs() <= unit / 2.0 + 1e-12,
            "shown {shown}, worked out {exact}"
        );
    };
    close(
        number_after(&summary, "**Total energy (corrected accounting)**: "),
        energy / 1e3,
        0.01,
    );
    assert_eq!(number_after(&summary, "**Output tokens**: ") as i64, tokens);
    close(
        number_after(&summary, &format!("**Output tokens**: {tokens} (")),
        energy / tokens as f64,
        0.001,
    );
    assert_eq!(number_after(&summary, "**Trials**: ") as usize, 18);
    for (generation, energies, _) in &by_hand {
        // Every treatment has 3 repetitions, so the run-level mean equals the trial mean.
        let mean_kj = energies.iter().sum::<f64>() / energies.len() as f64 / 1e3;
        let label = format!(" kJ (Llama {generation})");
        let at = summary
            .find(&label)
            .unwrap_or_else(|| panic!("no mean for {generation}"));
        let start = summary[..at].rfind(' ').map_or(0, |i| i + 1);
        close(summary[start..at].parse().expect("a number"), mean_kj, 0.001);
    }
}

#[test]
fn the_report_writes_only_its_own_files_and_deletes_nothing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = fixture(tmp.path(), false);
    let out = tmp.path().join("report");
    std::fs::create_dir_all(out.join("figures")).expect("mkdir");
    std::fs::write(out.join("notes.txt"), "mine").expect("write");
    std::fs::write(out.join("figures/keep.svg"), "<svg/>").expect("write");
    report(&data, &out, &[]).success();
    report(&data, &out, &[]).success();
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).expect("notes"),
        "mine"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("figures/keep.svg")).expect("keep"),
        "<svg/>"
    );
    let html = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    assert!(
        !html.contains("SIMULATED"),
        "real data carries no simulated banner"
    );
    for entry in std::fs::read_dir(out.join("figures")).expect("figures") {
        let name = entry.expect("entry").file_name().to_string_lossy().to_string();
        if name == "keep.svg" {
            continue;
        }
        let stem = name.trim_end_matches(".svg");
        assert!(
            html.contains(&format!("data-figure=\"{stem}\"")),
            "{name} is not in index.html"
        );
    }
    let top: Vec<String> = std::fs::read_dir(&out)
        .expect("out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    for name in &top {
        assert!(
            ["index.html", "summary.md", "figures", "tables", "notes.txt"].contains(&name.as_str()),
            "unexpected file {name} in DIR"
        );
    }
}

#[test]
fn simulated_data_gets_a_banner_in_both_outputs() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = fixture(tmp.path(), true);
    let out = tmp.path().join("report");
    report(&data, &out, &[]).success();
    let html = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    assert!(html.contains("id=\"simulated\""));
    let md = std::fs::read_to_string(out.join("summary.md")).expect("summary.md");
    assert!(md.contains("**SIMULATED DATA**"));
}

#[test]
fn trace_names_the_trial_whose_power_trace_is_drawn() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = fixture(tmp.path(), false);
    let out = tmp.path().join("report");
    report(&data, &out, &["--trace", "run_4_repetition_2"]).success();
    let svg = std::fs::read_to_string(out.join("figures/power_trace.svg")).expect("trace");
    assert!(svg.contains("run_4_repetition_2"));
    report(&data, &out, &["--trace", "run_99_repetition_0"])
        .failure()
        .stderr(predicates::str::contains(
            "--trace run_99_repetition_0: no such trial",
        ));
}

#[test]
fn png_copies_are_written_unless_no_png_is_given() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = fixture(tmp.path(), false);
    let out = tmp.path().join("report");
    common::analyze()
        .arg(&data)
        .arg("--report")
        .arg(&out)
        .assert()
        .success();
    let png = std::fs::read(out.join("figures/rq1_1_energy_box.png")).expect("png");
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let reader = decoder.read_info().expect("a PNG");
    assert_eq!((reader.info().width, reader.info().height), (960, 560));
}

#[test]
fn a_dataset_without_trials_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("empty");
    Dataset::create(&data, &Manifest::new("test", false, "empty"), false).expect("create");
    report(&data, &tmp.path().join("report"), &[])
        .failure()
        .stderr(predicates::str::contains("holds no trials"));
    assert!(!tmp.path().join("report/index.html").exists());
}

#[test]
fn treatments_measured_with_different_components_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    // The first configuration's trials lose their DRAM counter: cpu+gpu against cpu+gpu+dram.
    let data = fixture_edited(dir.path(), false, |f| {
        if f.trial.key.generation == CONFIGS[0].0 {
            f.samples.columns.retain(|c| !c.name.starts_with("DRAM"));
        }
    });
    let out = dir.path().join("report");
    report(&data, &out, &[]).success();
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("MIXED ENERGY COMPONENTS"), "{md}");
    assert!(md.contains("cpu+gpu: "), "{md}");
    assert!(md.contains("cpu+gpu+dram: "), "{md}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("id=\"mixed-components\""));
    // The uniform fixture states its components and raises no flag.
    let dir = tempfile::tempdir().unwrap();
    let data = fixture(dir.path(), false);
    let out = dir.path().join("report");
    report(&data, &out, &[]).success();
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("**Energy components**: cpu+gpu+dram (18 trials)"),
        "{md}"
    );
    assert!(!md.contains("MIXED ENERGY COMPONENTS"));
}
