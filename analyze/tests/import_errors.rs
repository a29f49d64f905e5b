//! Issue 2 acceptance: bad input gives a clear error naming the file (and line), or a warning
//! and a skipped trial under `--keep-going`; never a panic, and nothing is left at the
//! destination after a failed import.

#![allow(clippy::unwrap_used)]

mod common;

use predicates::prelude::*;
use std::path::{Path, PathBuf};

const HEADER: &str = "Delta,Time,GPU0_POWER (mWatts),PACKAGE_ENERGY (J),DRAM_ENERGY (J)";

fn energy_csv(start_ms: i64, n: usize) -> String {
    let mut s = format!("{HEADER}\n");
    for i in 0..n {
        s.push_str(&format!(
            "200,{},{},{},0\n",
            start_ms + 200 * i as i64,
            100_000 + i,
            1000.0 + 10.0 * i as f64
        ));
    }
    s
}

fn prompts_tsv(start_s: i64, n: usize) -> String {
    let mut s = "start\tend\tprompt\tresponse\tresponse_tokens\taccuracy\n".to_string();
    for i in 0..n as i64 {
        let acc = if i == 0 { "1.0" } else { "" };
        s.push_str(&format!(
            "{}\t{}\tQuestion {i}?\t\"Yes, \"\"quoted\"\" answer\"\t{}\t{acc}\n",
            start_s + 2 * i,
            start_s + 2 * i + 1,
            10 + i
        ));
    }
    s
}

/// A two-trial experiment in the published layout.
fn experiment(dir: &Path) -> PathBuf {
    let exp = dir.join("exp");
    std::fs::create_dir_all(&exp).unwrap();
    std::fs::write(
        exp.join("run_table.csv"),
        "__run_id,__done,generation,model_size,task,energy\nrun_0_repetition_0,DONE,2.0,7B,CB,10.0\nrun_1_repetition_0,DONE,3.2,1B,CB,11.0\n",
    )
    .unwrap();
    for (k, id) in ["run_0_repetition_0", "run_1_repetition_0"].iter().enumerate() {
        let t = exp.join(id);
        std::fs::create_dir_all(&t).unwrap();
        let base = 1_700_000_000 + 100 * k as i64;
        std::fs::write(t.join("energibridge.csv"), energy_csv(base * 1000 - 1000, 60)).unwrap();
        std::fs::write(
            t.join("energibridge-summary.txt"),
            "Energy consumption in joules: 590.0 for 12.0 sec of execution.",
        )
        .unwrap();
        std::fs::write(t.join("prompts_out.tsv"), prompts_tsv(base, 4)).unwrap();
    }
    exp
}

fn import(exp: &Path, out: &Path) -> assert_cmd::assert::Assert {
    common::analyze()
        .arg("import")
        .arg(exp)
        .arg("--out")
        .arg(out)
        .assert()
}

fn assert_nothing_at(out: &Path) {
    assert!(
        !out.exists(),
        "{} should not exist after a failed import",
        out.display()
    );
    let parent = out.parent().unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(parent)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("staging"))
        .collect();
    assert!(leftovers.is_empty(), "staging leftovers: {leftovers:?}");
}

#[test]
fn a_well_formed_experiment_imports_and_its_metrics_read() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    let out = dir.path().join("data");
    import(&exp, &out).success().stdout(predicate::str::contains(
        "imported 2 trials (8 requests, 120 samples, 2 published judgments)",
    ));
    let ds = dataset::Dataset::open(&out).unwrap();
    let req = ds.read_requests("run_0_repetition_0", true).unwrap();
    assert_eq!(req[0].response, "Yes, \"quoted\" answer");
    assert_eq!(ds.read_trial("run_0_repetition_0").unwrap().key.generation, "2");
    common::analyze()
        .arg("metrics")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("2 trials, corrected accounting"));
}

#[test]
fn import_refuses_to_overwrite_an_existing_dataset_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    let out = dir.path().join("data");
    import(&exp, &out).success();
    import(&exp, &out)
        .failure()
        .stderr(predicate::str::contains("--force"));
    common::analyze()
        .arg("import")
        .arg(&exp)
        .arg("--out")
        .arg(&out)
        .arg("--force")
        .assert()
        .success();
}

#[test]
fn import_rejects_a_truncated_energy_csv_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    let f = exp.join("run_1_repetition_0/energibridge.csv");
    let mut text = std::fs::read_to_string(&f).unwrap();
    text.truncate(text.len() - 12);
    std::fs::write(&f, text).unwrap();
    let out = dir.path().join("data");
    import(&exp, &out)
        .failure()
        .stderr(
            predicate::str::contains("run_1_repetition_0/energibridge.csv:61:")
                .and(predicate::str::contains("truncated")),
        )
        .stderr(predicate::str::contains("panicked").not());
    assert_nothing_at(&out);
}

#[test]
fn import_rejects_an_energy_csv_without_time() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    let f = exp.join("run_0_repetition_0/energibridge.csv");
    let text = std::fs::read_to_string(&f).unwrap().replacen("Time", "Tijd", 1);
    std::fs::write(&f, text).unwrap();
    let out = dir.path().join("data");
    import(&exp, &out).failure().stderr(predicate::str::contains(
        "run_0_repetition_0/energibridge.csv: missing required column `Time`",
    ));
    assert_nothing_at(&out);
}

#[test]
fn import_rejects_a_non_numeric_cell_naming_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    let f = exp.join("run_0_repetition_0/energibridge.csv");
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replacen(",100005,", ",lots,", 1);
    std::fs::write(&f, text).unwrap();
    import(&exp, &dir.path().join("data"))
        .failure()
        .stderr(predicate::str::contains(
            "energibridge.csv:7: column `GPU0_POWER (mWatts)`: `lots` is not a number",
        ));
}

#[test]
fn import_rejects_empty_csv_and_tsv_files() {
    for file in ["energibridge.csv", "prompts_out.tsv"] {
        let dir = tempfile::tempdir().unwrap();
        let exp = experiment(dir.path());
        std::fs::write(exp.join("run_0_repetition_0").join(file), "").unwrap();
        let out = dir.path().join("data");
        import(&exp, &out)
            .failure()
            .stderr(predicate::str::contains(format!(
                "run_0_repetition_0/{file}: empty file"
            )));
        assert_nothing_at(&out);
    }
}

#[test]
fn import_rejects_a_tsv_without_a_required_column() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    let f = exp.join("run_0_repetition_0/prompts_out.tsv");
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replacen("response_tokens", "tokens", 1);
    std::fs::write(&f, text).unwrap();
    import(&exp, &dir.path().join("data"))
        .failure()
        .stderr(predicate::str::contains(
            "prompts_out.tsv: missing required column `response_tokens`",
        ));
}

#[test]
fn import_rejects_a_listed_trial_without_its_folder_unless_keep_going() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    std::fs::remove_dir_all(exp.join("run_1_repetition_0")).unwrap();
    let out = dir.path().join("data");
    import(&exp, &out).failure().stderr(
        predicate::str::contains("run_1_repetition_0").and(predicate::str::contains("folder is missing")),
    );
    assert_nothing_at(&out);
    common::analyze()
        .arg("import")
        .arg(&exp)
        .arg("--out")
        .arg(&out)
        .arg("--keep-going")
        .assert()
        .success()
        .stderr(predicate::str::contains("skipped: run_1_repetition_0"))
        .stdout(predicate::str::contains("imported 1 trials"));
}

#[test]
fn import_rejects_binary_garbage_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(exp.join("run_0_repetition_0/energibridge.csv"), &garbage).unwrap();
    // A gzip header followed by garbage: a corrupt or truncated download.
    let mut fake_gzip = vec![0x1f, 0x8b, 8, 0];
    fake_gzip.extend_from_slice(&garbage[..100]);
    std::fs::write(exp.join("run_1_repetition_0/energibridge.csv.gz"), fake_gzip).unwrap();
    std::fs::remove_file(exp.join("run_1_repetition_0/energibridge.csv")).unwrap();
    let out = dir.path().join("data");
    let assert = import(&exp, &out)
        .failure()
        .stderr(predicate::str::contains("panicked").not());
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("run_0_repetition_0/energibridge.csv"), "{stderr}");
    assert_nothing_at(&out);
    // A fake gzip stream is named too.
    std::fs::write(
        exp.join("run_0_repetition_0/energibridge.csv"),
        energy_csv(1_699_999_999_000, 60),
    )
    .unwrap();
    import(&exp, &out).failure().stderr(
        predicate::str::contains("run_1_repetition_0/energibridge.csv.gz")
            .and(predicate::str::contains("gzip")),
    );
}

#[test]
fn non_utf8_text_and_time_running_backwards_import_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    let tsv = exp.join("run_0_repetition_0/prompts_out.tsv");
    let mut bytes = std::fs::read(&tsv).unwrap();
    let pos = bytes.windows(10).position(|w| w == b"Question 1").unwrap();
    bytes[pos] = 0xff;
    std::fs::write(&tsv, bytes).unwrap();
    let csv = exp.join("run_1_repetition_0/energibridge.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(10, 11);
    std::fs::write(&csv, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("data");
    import(&exp, &out)
        .success()
        .stderr(predicate::str::contains(
            "run_0_repetition_0/prompts_out.tsv:3: text is not valid UTF-8",
        ))
        .stderr(predicate::str::contains(
            "run_1_repetition_0/energibridge.csv:12: time runs backwards",
        ));
    let req = dataset::Dataset::open(&out)
        .unwrap()
        .read_requests("run_0_repetition_0", true)
        .unwrap();
    assert!(req[1].prompt.starts_with('\u{fffd}'));
}

#[test]
fn gzip_and_plain_energy_files_import_identically() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    let out1 = dir.path().join("a");
    import(&exp, &out1).success();
    let f = exp.join("run_0_repetition_0/energibridge.csv");
    let plain = std::fs::read(&f).unwrap();
    let gz = gzip(&plain);
    std::fs::remove_file(&f).unwrap();
    std::fs::write(exp.join("run_0_repetition_0/energibridge.csv.gz"), gz).unwrap();
    let out2 = dir.path().join("b");
    import(&exp, &out2).success();
    let a = dataset::Dataset::open(&out1)
        .unwrap()
        .read_samples("run_0_repetition_0", false)
        .unwrap();
    let b = dataset::Dataset::open(&out2)
        .unwrap()
        .read_samples("run_0_repetition_0", false)
        .unwrap();
    assert_eq!(a, b);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip is installed");
    child.stdin.take().unwrap().write_all(data).unwrap();
    child.wait_with_output().unwrap().stdout
}

#[test]
fn a_missing_source_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    import(&dir.path().join("nope"), &dir.path().join("data"))
        .failure()
        .stderr(predicate::str::contains("nope: no such folder"));
    common::analyze()
        .arg("metrics")
        .arg(dir.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("is not a dataset"));
}

#[test]
fn a_treatment_of_more_than_30_repetitions_is_imported_as_parts_of_at_most_30() {
    let dir = tempfile::tempdir().unwrap();
    let exp = dir.path().join("exp");
    std::fs::create_dir_all(&exp).unwrap();
    let mut table = "__run_id,__done,generation,model_size,task,energy\n".to_string();
    for rep in 0..61 {
        let id = format!("run_0_repetition_{rep}");
        table.push_str(&format!("{id},DONE,2.0,7B,CB,10.0\n"));
        let t = exp.join(&id);
        std::fs::create_dir_all(&t).unwrap();
        let base = 1_700_000_000 + 100 * rep as i64;
        std::fs::write(t.join("energibridge.csv"), energy_csv(base * 1000 - 1000, 60)).unwrap();
        std::fs::write(t.join("prompts_out.tsv"), prompts_tsv(base, 4)).unwrap();
    }
    std::fs::write(exp.join("run_table.csv"), table).unwrap();
    let out = dir.path().join("data");
    import(&exp, &out).success().stdout(predicate::str::contains(
        "imported 61 trials (244 requests, 3660 samples, 61 published judgments)",
    ));
    let mut parts: Vec<String> = std::fs::read_dir(out.join("trials"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    parts.sort();
    assert_eq!(parts, ["run_0.1", "run_0.2", "run_0.3"]);
    let ds = dataset::Dataset::open(&out).unwrap();
    let held: Vec<usize> = parts
        .iter()
        .map(|p| ds.read_part_trials(p).unwrap().len())
        .collect();
    assert_eq!(held, [30, 30, 1]);
    assert_eq!(ds.read_judgments().unwrap().len(), 61);
    common::analyze()
        .arg("metrics")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("61 trials, corrected accounting"));
}
