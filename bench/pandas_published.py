#!/usr/bin/env python3
"""The published per-trial procedure in pandas: the baseline `bench/import_vs_pandas.sh` times
`analyze import` + `analyze metrics --accounting published` against.

For each trial folder of the published layout (run_<R>_repetition_<K>/ with energibridge.csv[.gz]
and prompts_out.tsv): keep the samples with start_first <= Time/1000 <= end_last (the first
prompt's start, the last prompt's end, whole seconds); cpu_diff = difference of
PACKAGE_ENERGY (J) to the previous kept sample (0 for the first; the counter value itself where
the difference is negative); gpu_joules = sum(GPU0_POWER (mWatts)/5000 + cpu_diff);
cpu_joules = sum(cpu_diff); energy = cpu + gpu; duration_ms = last - first kept Time;
tokens = sum(response_tokens); accuracy = sum(judged scores)/5 (the dataset README, "How the
published per-trial numbers were computed"). Writes one CSV row per trial.

    python3 bench/pandas_published.py EXPERIMENT_DIR OUT.csv
"""
import os
import sys

import pandas as pd


def trial(folder):
    name = "energibridge.csv.gz" if os.path.exists(os.path.join(folder, "energibridge.csv.gz")) else "energibridge.csv"
    samples = pd.read_csv(os.path.join(folder, name))
    prompts = pd.read_csv(os.path.join(folder, "prompts_out.tsv"), sep="\t")
    start, end = prompts["start"].iloc[0], prompts["end"].iloc[-1]
    t = samples["Time"] / 1000.0
    kept = samples[(t >= start) & (t <= end)]
    package = next(c for c in kept.columns if c in ("PACKAGE_ENERGY (J)", "PACAKGE_ENERGY (J)", "CPU_ENERGY (J)"))
    pkg = kept[package]
    diff = pkg.diff()
    cpu_diff = diff.where(diff >= 0, pkg).fillna(0.0)
    cpu_diff.iloc[:1] = 0.0
    gpu = (kept["GPU0_POWER (mWatts)"] / 5000.0 + cpu_diff).sum()
    cpu = cpu_diff.sum()
    return {
        "run_id": os.path.basename(folder),
        "cpu_j": cpu,
        "gpu_j": gpu,
        "energy_j": cpu + gpu,
        "duration_ms": int(kept["Time"].iloc[-1] - kept["Time"].iloc[0]) if len(kept) else 0,
        "tokens": int(prompts["response_tokens"].sum()),
        "accuracy": prompts["accuracy"].sum() / 5.0,
    }


def main():
    src, out = sys.argv[1], sys.argv[2]
    folders = sorted(
        os.path.join(src, d) for d in os.listdir(src) if d.startswith("run_") and os.path.isdir(os.path.join(src, d))
    )
    pd.DataFrame([trial(f) for f in folders]).to_csv(out, index=False)


if __name__ == "__main__":
    main()
