//! The contract round-trips: what the writers write, the readers read back unchanged, and
//! `docs/dataset.md` is exactly what the schema renders.

#![allow(clippy::unwrap_used)]

use dataset::store::StagedDataset;
use dataset::tables::docs::render_markdown;
use dataset::tables::{self, Table};
use dataset::*;

/// Every field of a trial's identity set to a value no other field has.
fn key(run_id: &str) -> TrialKey {
    TrialKey {
        run_id: run_id.to_string().into(),
        run: 3,
        repetition: 7,
        generation: "3.1".into(),
        model_size: "8B".into(),
        model: "Llama-3.1-8B".into(),
        task: "CB".into(),
        concurrency: Some(8),
        arrival_rate_per_s: Some(2.5),
        power_limit_w: Some(450.0),
        sm_clock_mhz: Some(1410),
    }
}

/// A trial whose every field of every table holds a value distinct from the others', so a
/// reader that swapped two columns of one type would fail the round trip.
fn trial(run_id: &str) -> TrialFiles {
    let trial = Trial {
        key: key(run_id),
        status: TrialStatus::Failed,
        failure_reason: Some("server went away".into()),
        start_ms: 1_000,
        end_ms: 9_000,
        time_resolution_ms: 1000,
        sample_interval_ms: Some(200.0),
        simulated: true,
        provenance: r#"{"a":1}"#.into(),
        energy_sources: Some("fake".into()),
        sampler_cpu_s: Some(0.25),
        baseline_start_ms: Some(400),
        baseline_end_ms: Some(600),
        testbed: Some("gpu-box-1".into()),
    };
    let requests = vec![
        Request {
            run_id: run_id.into(),
            index: 0,
            item_id: Some(12),
            gold_label: Some("entailment".into()),
            prompt: "Does it \"follow\"?\tyes".into(),
            response: "Yes — it does. ünïcode".into(),
            start_ms: 1_000,
            end_ms: 4_000,
            ttft_ms: Some(12.5),
            prompt_tokens: Some(40),
            completion_tokens: Some(17),
            finish_reason: Some("stop".into()),
            error: Some("retried once".into()),
            tokens_estimated: Some(true),
            seed: Some(42),
            attempts: Some(2),
            chunks: Some(16),
            gap_mean_ms: Some(10.0),
            gap_p50_ms: Some(9.0),
            gap_p95_ms: Some(20.0),
            gap_max_ms: Some(31.5),
            chunk_offsets_us: Some(vec![120_250, 151_000, 182_500]),
            chunk_tokens: None,
        },
        Request {
            run_id: run_id.into(),
            index: 1,
            start_ms: 4_000,
            end_ms: 9_000,
            error: Some("timeout".into()),
            ..Default::default()
        },
    ];
    let mut power = SampleColumn::new("GPU0_POWER (mWatts)", vec![1.0, 0.0, 3.0]);
    power.valid = Some(vec![true, false, true]);
    let mut pkg = SampleColumn::new("PACKAGE_ENERGY (J)", vec![5.0, 6.0, 7.0]);
    pkg.wrap_range = Some(262_144.0);
    let samples = SampleTable {
        time_ms: vec![1_000, 1_200, 1_400],
        columns: vec![power, pkg],
    };
    let baseline = Some(SampleTable {
        time_ms: vec![400, 600],
        columns: vec![SampleColumn::new("GPU0_POWER (mWatts)", vec![70_000.0, 71_000.0])],
    });
    TrialFiles {
        trial,
        requests,
        samples,
        baseline,
        server_metrics: Vec::new(),
    }
}

#[test]
fn a_trial_written_is_read_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::create(dir.path().join("d"), &Manifest::new("test", false, ""), false).unwrap();
    let files = trial("run_3_repetition_7");
    ds.write_trial(&files, true).unwrap();
    assert_eq!(ds.trial_ids().unwrap(), vec!["run_3_repetition_7"]);
    assert_eq!(ds.read_trial("run_3_repetition_7").unwrap(), files.trial);
    assert_eq!(
        ds.read_requests("run_3_repetition_7", true).unwrap(),
        files.requests
    );
    assert_eq!(
        ds.read_samples("run_3_repetition_7", false).unwrap(),
        files.samples
    );
    assert_eq!(
        ds.read_baseline("run_3_repetition_7", false).unwrap(),
        files.baseline
    );
    let timing = ds.read_requests("run_3_repetition_7", false).unwrap();
    assert_eq!(timing[0].prompt, "");
    assert_eq!(timing[0].completion_tokens, Some(17));
    // The server's metrics, when scraped, are read only when asked for.
    let mut with_metrics = trial("run_3_repetition_8");
    for r in &mut with_metrics.requests {
        r.run_id = "run_3_repetition_8".into();
    }
    with_metrics.server_metrics = vec![
        ServerMetric {
            run_id: "run_3_repetition_8".into(),
            time_ms: 1_000,
            metric: "vllm:num_requests_running".into(),
            labels: "model_name=\"m\"".into(),
            value: 3.0,
        },
        ServerMetric {
            run_id: "run_3_repetition_8".into(),
            time_ms: 2_000,
            metric: "vllm:gpu_cache_usage_perc".into(),
            labels: String::new(),
            value: 0.25,
        },
    ];
    ds.write_trial(&with_metrics, true).unwrap();
    let all = ReadOptions {
        text: true,
        server_metrics: true,
        ..ReadOptions::default()
    };
    assert_eq!(
        ds.read_trial_files("run_3_repetition_8", all).unwrap(),
        with_metrics
    );
    let plain = ds
        .read_trial_files("run_3_repetition_8", ReadOptions::default())
        .unwrap();
    assert!(plain.server_metrics.is_empty());
    let names: Vec<String> = ds
        .part_files("run_3_repetition_8")
        .unwrap()
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert_eq!(
        names,
        [
            "requests.parquet",
            "samples.parquet",
            "baseline.parquet",
            "server_metrics.parquet",
            "trial.parquet"
        ]
    );
}

/// A trial of `trial()` under another run id, with `extra` more samples.
fn trial_as(run_id: &str, extra: usize) -> TrialFiles {
    let mut t = trial(run_id);
    for r in &mut t.requests {
        r.run_id = run_id.into();
    }
    for k in 0..extra {
        t.samples.time_ms.push(1_600 + 200 * k as i64);
        for c in &mut t.samples.columns {
            c.values.push(k as f64);
            if let Some(v) = &mut c.valid {
                v.push(true);
            }
        }
    }
    t
}

#[test]
fn a_part_of_several_trials_is_read_back_trial_by_trial() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::create(dir.path().join("d"), &Manifest::new("test", false, ""), false).unwrap();
    let mut trials = vec![
        trial_as("run_3_repetition_2", 0),
        trial_as("run_3_repetition_1", 5),
    ];
    trials[1].baseline = None;
    ds.write_part("run_3", &trials, false).unwrap();
    ds.write_trial(&trial_as("run_4_repetition_1", 1), false).unwrap();
    assert_eq!(ds.parts().unwrap(), vec!["run_3", "run_4_repetition_1"]);
    assert_eq!(
        ds.trial_ids().unwrap(),
        vec!["run_3_repetition_1", "run_3_repetition_2", "run_4_repetition_1"]
    );
    let part = ds.read_part("run_3", ReadOptions::default()).unwrap();
    assert_eq!(part.len(), 2);
    assert_eq!(part[0].trial, trials[0].trial);
    assert_eq!(part[1].samples, trials[1].samples);
    assert_eq!(part[1].baseline, None);
    assert_eq!(part[0].baseline, trials[0].baseline);
    let opts = ReadOptions {
        text: true,
        ..ReadOptions::default()
    };
    for t in &trials {
        let read = ds.read_trial_files(&t.trial.key.run_id, opts).unwrap();
        assert_eq!(&read, t);
        assert_eq!(ds.read_samples(&t.trial.key.run_id, false).unwrap(), t.samples);
        assert_eq!(ds.read_requests(&t.trial.key.run_id, true).unwrap(), t.requests);
        assert!(ds.has_trial(&t.trial.key.run_id).unwrap());
    }
    assert!(!ds.has_trial("run_9_repetition_9").unwrap());
    let err = ds.read_trial("run_9_repetition_9").unwrap_err().to_string();
    assert!(err.contains("no committed trial `run_9_repetition_9`"), "{err}");
    let skipped = ds
        .read_part(
            "run_3",
            ReadOptions {
                skip_samples: true,
                ..ReadOptions::default()
            },
        )
        .unwrap();
    assert!(
        skipped
            .iter()
            .all(|t| t.samples.is_empty() && t.baseline.is_none())
    );
}

#[test]
fn trials_of_one_part_must_share_sample_channels() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::create(dir.path().join("d"), &Manifest::new("test", false, ""), false).unwrap();
    let mut other = trial_as("run_3_repetition_2", 0);
    other.samples.columns.pop();
    let err = ds
        .write_part("run_3", &[trial_as("run_3_repetition_1", 0), other], false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("other sample channels"), "{err}");
    assert!(ds.parts().unwrap().is_empty(), "a failed commit leaves no part");
    let err = ds
        .write_part(
            "run_3",
            &[
                trial_as("run_3_repetition_1", 0),
                trial_as("run_3_repetition_1", 0),
            ],
            false,
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("given twice"), "{err}");
}

#[test]
fn a_trial_in_two_parts_is_an_error_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::create(dir.path().join("d"), &Manifest::new("test", false, ""), false).unwrap();
    ds.write_part("a", &[trial_as("run_3_repetition_1", 0)], false)
        .unwrap();
    ds.write_part("b", &[trial_as("run_3_repetition_1", 0)], false)
        .unwrap();
    let err = ds.trial_ids().unwrap_err().to_string();
    assert!(
        err.contains("run_3_repetition_1") && err.contains("`a`") && err.contains("`b`"),
        "{err}"
    );
}

#[test]
fn samples_of_a_trial_the_part_does_not_list_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::create(dir.path().join("d"), &Manifest::new("test", false, ""), false).unwrap();
    let t = trial_as("run_3_repetition_1", 0);
    ds.write_trial(&t, false).unwrap();
    // Replace the samples file with one that also holds rows of a stranger.
    let path = ds.trial_dir("run_3_repetition_1").join("samples.parquet");
    SampleTable::write_many(
        &path,
        &[
            ("run_3_repetition_1", &t.samples),
            ("run_8_repetition_8", &t.samples),
        ],
        io::WriteMode::Direct,
    )
    .unwrap();
    let err = ds
        .read_samples("run_3_repetition_1", false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("run_8_repetition_8") && err.contains("samples.parquet"),
        "{err}"
    );
}

#[test]
fn run_tables_judgments_and_metrics_round_trip_with_every_field_set() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::create(dir.path(), &Manifest::new("test", true, "x"), false).unwrap();
    let runs = vec![
        RunRow {
            key: key("run_3_repetition_7"),
            order: 11,
        },
        RunRow {
            key: TrialKey {
                run_id: "run_0_repetition_0".into(),
                run: 0,
                repetition: 0,
                generation: "2".into(),
                model_size: "7B".into(),
                model: "Llama-2-7B".into(),
                task: "WiC".into(),
                ..Default::default()
            },
            order: 0,
        },
    ];
    ds.write_runs(&runs).unwrap();
    assert_eq!(ds.read_runs().unwrap(), runs);
    let j = vec![
        Judgment {
            run_id: "run_0_repetition_0".into(),
            request_index: 4,
            scorer: "gold".into(),
            score: Some(0.75),
            reason: Some("decided yes".into()),
            details: Some("{}".into()),
        },
        Judgment {
            run_id: "run_0_repetition_0".into(),
            request_index: 5,
            scorer: "gold".into(),
            score: None,
            reason: None,
            details: None,
        },
    ];
    ds.write_judgments("gold", &j).unwrap();
    assert_eq!(ds.read_judgments().unwrap(), j);
    assert!(ds.manifest().unwrap().simulated);

    let metrics = vec![MetricsRow {
        key: key("run_3_repetition_7"),
        cpu_j: Some(1.5),
        gpu_j: Some(2.5),
        dram_j: Some(3.5),
        energy_j: Some(4.5),
        energy_components: Some("cpu+gpu+dram".into()),
        duration_s: 5.5,
        tokens: 6,
        energy_per_token: Some(7.5),
        power_w: Some(8.5),
        accuracy: Some(0.125),
        accounting: Accounting::Published,
        samples_in_window: 9,
        requests: 10,
        gpu_source: GpuSource::PowerTimesInterval,
        cpu_wraps: 11,
        backwards_samples: 12,
        simulated: true,
        accuracy_gold: Some(0.25),
        accuracy_judge: Some(0.375),
        baseline_power_w: Some(13.5),
        idle_energy_j: Some(14.5),
        energy_above_idle_j: Some(15.5),
        testbed: Some("local".into()),
        unattributed_energy_j: Some(0.25),
    }];
    ds.write_metrics(Accounting::Published, &metrics).unwrap();
    assert_eq!(
        tables::read::<MetricsRow>(&ds.metrics_path(Accounting::Published)).unwrap(),
        metrics
    );

    let requests = vec![RequestMetricsRow {
        run_id: "run_3_repetition_7".into(),
        index: 2,
        start_ms: 3,
        end_ms: 4,
        cpu_j: Some(5.5),
        gpu_j: Some(6.5),
        dram_j: Some(7.5),
        energy_j: Some(8.5),
        energy_components: Some("cpu+gpu".into()),
        completion_tokens: Some(9),
        energy_per_token: Some(10.5),
        ttft_ms: Some(11.5),
        window_energy_j: Some(19.5),
        prefill_energy_j: Some(2.5),
        decode_energy_j: Some(6.0),
        attribution: Some("shared".into()),
        attribution_error_j: Some(1.25),
        mlenergy_energy_j: Some(9.0),
        tpot_ms: Some(12.25),
        itl_p50_ms: Some(11.0),
        itl_p90_ms: Some(14.5),
        itl_p99_ms: None,
    }];
    ds.write_request_metrics(&requests).unwrap();
    assert_eq!(
        tables::read::<RequestMetricsRow>(&ds.request_metrics_path()).unwrap(),
        requests
    );
}

#[test]
fn every_table_writes_a_csv_with_its_declared_columns() {
    let files = trial("run_3_repetition_7");
    let mut out = Vec::new();
    tables::write_csv(&files.requests, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert_eq!(header.split(',').count(), tables::columns::<Request>().len());
    assert!(
        header.starts_with("run_id,index,item_id,gold_label,prompt,response,"),
        "{header}"
    );
    assert_eq!(
        lines.next().unwrap(),
        "run_3_repetition_7,0,12,entailment,\"Does it \"\"follow\"\"?\tyes\",Yes — it does. ünïcode,1000,4000,12.5,40,17,stop,retried once,true,42,2,16,10.0,9.0,20.0,31.5,\"[120250,151000,182500]\","
    );
    assert_eq!(
        lines.next().unwrap(),
        "run_3_repetition_7,1,,,\"\",\"\",4000,9000,,,,,timeout,,,,,,,,,,"
    );
    assert_eq!(Request::NAME, "requests");
}

#[test]
fn an_existing_dataset_is_not_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let m = Manifest::new("test", false, "");
    Dataset::create(dir.path(), &m, false).unwrap();
    let err = Dataset::create(dir.path(), &m, false).unwrap_err();
    assert!(err.to_string().contains("--force"), "{err}");
    assert!(StagedDataset::begin(dir.path(), &m, false).is_err());
    Dataset::create(dir.path(), &m, true).unwrap();
}

#[test]
fn a_dropped_staged_dataset_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    {
        let staged = StagedDataset::begin(&target, &Manifest::new("t", false, ""), false).unwrap();
        staged
            .dataset()
            .write_trial(&trial("run_1_repetition_1"), false)
            .unwrap();
    }
    assert!(!target.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn unsafe_run_ids_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::create(dir.path(), &Manifest::new("t", false, ""), false).unwrap();
    for bad in ["../x", ".hidden", "a/b", ""] {
        assert!(ds.write_trial(&trial(bad), false).is_err(), "{bad}");
    }
}

#[test]
fn files_of_schema_version_1_read_with_the_new_columns_null() {
    // A version-1 trial row (no collect columns) written as an older build would have.
    use arrow::array::RecordBatch;
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::create(dir.path(), &Manifest::new("t", false, ""), false).unwrap();
    let files = trial("run_3_repetition_7");
    ds.write_trial(&files, false).unwrap();
    let path = ds.trial_dir("run_3_repetition_7").join("requests.parquet");
    let (batch, _) = io::read_batch(&path, None).unwrap();
    let v1: Vec<usize> = tables::columns::<Request>()
        .iter()
        .enumerate()
        .filter(|(_, c)| c.since == 1)
        .map(|(i, _)| i)
        .collect();
    let old: RecordBatch = batch.project(&v1).unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_key_value_metadata(Some(vec![parquet::file::metadata::KeyValue::new(
            tables::VERSION_KEY.to_string(),
            "1".to_string(),
        )]))
        .build();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&path).unwrap(),
        old.schema(),
        Some(props),
    )
    .unwrap();
    w.write(&old).unwrap();
    w.close().unwrap();
    let read = ds.read_requests("run_3_repetition_7", true).unwrap();
    assert_eq!(read[0].prompt, files.requests[0].prompt);
    assert_eq!(read[0].seed, None);
    assert_eq!(read[0].gap_max_ms, None);
}

#[test]
fn a_file_of_a_newer_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::create(dir.path(), &Manifest::new("t", false, ""), false).unwrap();
    ds.write_trial(&trial("run_3_repetition_7"), false).unwrap();
    let path = ds.trial_dir("run_3_repetition_7").join("trial.parquet");
    let (batch, _) = io::read_batch(&path, None).unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_key_value_metadata(Some(vec![parquet::file::metadata::KeyValue::new(
            tables::VERSION_KEY.to_string(),
            "99".to_string(),
        )]))
        .build();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&path).unwrap(),
        batch.schema(),
        Some(props),
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let err = ds.read_trial("run_3_repetition_7").unwrap_err().to_string();
    assert!(
        err.contains("schema version 99") && err.contains("upgrade"),
        "{err}"
    );
    // A newer file is no damage a reader may skip: the pass over the dataset stops.
    let err = ds.trial_rows_checked().unwrap_err();
    assert!(
        !err.is_damage() && err.to_string().contains("schema version 99"),
        "{err}"
    );
}

#[test]
fn docs_dataset_md_matches_the_schema() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/dataset.md");
    let rendered = render_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == rendered,
        "docs/dataset.md is out of date: run `UPDATE_DOCS=1 cargo test -p dataset --test contract`"
    );
}
