//! Writes a synthetic dataset for `bench/judge_throughput.sh`:
//! `cargo run -p judge --example bench_dataset -- OUT N` creates `OUT` with N BoolQ requests
//! (80 per trial, as the study), each with a distinct three-sentence answer.

use dataset::{Dataset, Manifest, Request, SampleTable, Trial, TrialFiles, TrialStatus};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(out), Some(n)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: bench_dataset OUT N");
    };
    let n: usize = n.parse()?;
    let ds = Dataset::create(&out, &Manifest::new("judge bench", true, "synthetic"), true)?;
    let prompt = "Passage: Water covers most of the Earth.  Question: is water wet  Explain your choice.";
    for (t, start) in (0..n).step_by(80).enumerate() {
        let run_id = format!("run_{t}_repetition_0");
        let requests = (start..n.min(start + 80))
            .enumerate()
            .map(|(i, k)| Request {
                run_id: run_id.clone(),
                index: i as i64,
                prompt: prompt.into(),
                response: format!("Yes. Water is wet, as answer {k} says. This part is irrelevant."),
                ..Default::default()
            })
            .collect();
        let trial = Trial {
            key: dataset::TrialKey {
                run_id: run_id.as_str().into(),
                generation: "3".into(),
                task: "BoolQ".into(),
                ..Default::default()
            },
            status: TrialStatus::Done,
            time_resolution_ms: 1,
            simulated: true,
            provenance: "{}".into(),
            ..Default::default()
        };
        ds.write_trial(
            &TrialFiles {
                trial,
                requests,
                samples: SampleTable::default(),
                baseline: None,
                server_metrics: Vec::new(),
            },
            false,
        )?;
    }
    println!("{out}: {n} requests");
    Ok(())
}
