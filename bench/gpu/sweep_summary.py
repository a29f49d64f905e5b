#!/usr/bin/env python3
"""The figures of the concurrency sweep (bench/gpu/concurrency_sweep.sh), read straight from
collect's dataset folders with pyarrow, so that they can be computed where analyze is not
built: per trial the energy per token over the trial's window and over its steady state, the
five validity gates, TTFT/TPOT and the power limit the trial recorded; per model the energy
per token at each concurrency and their ratio. Given `analyze metrics --csv/--requests-csv`
output for a folder (FOLDER=metrics.csv,requests.csv), it adds the conservation of the
per-request attribution and the prefill share.

The definitions follow analyze/src/model/serving.rs (ML.ENERGY's closed-loop steady state:
from the moment `concurrency` requests are first in flight to the last moment the number in
flight drops below it; gates: steady state >= 30 s above concurrency 1, every GPU power sample
in the window within [idle - 10 %, power limit], NVML counter vs integrated power within 5 %,
no sample gap above 3 intervals, GPU temperature rise over the trial <= 5 C).

    sweep_summary.py DATA [DATA...] [--analyze DATA=metrics.csv,requests.csv ...] [--json F]
"""
import argparse, csv, glob, json, math, os, statistics, sys

import pyarrow.parquet as pq

MIN_STEADY_S, IDLE_TOL, COUNTER_TOL, MAX_GAP, MAX_RISE_C = 30.0, 0.10, 0.05, 3.0, 5.0


def rows(path):
    t = pq.read_table(path)
    return t.to_pylist() if t.num_rows else []


def interp(times, values, t):
    """Linear interpolation of a sparse series (None cells skipped) at t; None outside it."""
    pts = [(a, v) for a, v in zip(times, values or []) if v is not None]
    for (a, va), (b, vb) in zip(pts, pts[1:]):
        if a <= t <= b:
            return va if b == a else va + (vb - va) * (t - a) / (b - a)
    return None


def integral(times, values, a, b):
    """Trapezoid integral of a piecewise-linear series over [a, b] (ms x value)."""
    pts = [(t, v) for t, v in zip(times, values or []) if v is not None]
    total = 0.0
    for (t0, v0), (t1, v1) in zip(pts, pts[1:]):
        lo, hi = max(t0, a), min(t1, b)
        if hi <= lo or t1 == t0:
            continue
        f = lambda t: v0 + (v1 - v0) * (t - t0) / (t1 - t0)
        total += (f(lo) + f(hi)) / 2 * (hi - lo)
    return total


def closed_loop_window(spans, c):
    ev = sorted([(s, 1) for s, e in spans if e >= s] + [(e, -1) for s, e in spans if e >= s])
    n, start, end, i = 0, None, None, 0
    while i < len(ev):
        t, before = ev[i][0], n
        while i < len(ev) and ev[i][0] == t:
            n += ev[i][1]
            i += 1
        if n >= c and start is None:
            start = t
        if before >= c and n < c:
            end = t
    return (start, end) if start is not None and end is not None and end > start else None


def tokens_in(r, a, b):
    n = r["completion_tokens"] or 0
    offs = r.get("chunk_offsets_us") or []
    if not n or not offs:
        return 0.0
    lo, hi = (a - r["start_ms"]) * 1000, (b - r["start_ms"]) * 1000
    return sum(n / len(offs) for o in offs if lo <= o <= hi)


def find_limits(prov):
    """The GPU power limit and its allowed range wherever the provenance records them."""
    out = {}

    def walk(v, path):
        if isinstance(v, dict):
            for k, x in v.items():
                if "power_limit" in k or k in ("power_min_w", "power_max_w") or "range" in k:
                    if not isinstance(x, (dict, list)):
                        out[f"{path}{k}"] = x
                    elif "range" in k or "power_limit" in k:
                        out[f"{path}{k}"] = x
                walk(x, f"{path}{k}.")
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, f"{path}{i}.")
    walk(prov, "")
    return out


def pctl(v, q):
    v = sorted(v)
    if not v:
        return None
    k = (len(v) - 1) * q
    f = math.floor(k)
    return v[f] + (v[min(f + 1, len(v) - 1)] - v[f]) * (k - f)


def trial_figures(part):
    tr = rows(os.path.join(part, "trial.parquet"))[0]
    reqs = rows(os.path.join(part, "requests.parquet"))
    s = pq.read_table(os.path.join(part, "samples.parquet")).to_pydict()
    bpath = os.path.join(part, "baseline.parquet")
    b = pq.read_table(bpath).to_pydict() if os.path.exists(bpath) else {}
    prov = json.loads(tr["provenance"])
    T = s["Time"]
    a, z = tr["start_ms"], tr["end_ms"]
    ok = [r for r in reqs if r["error"] is None]
    c = tr.get("concurrency")
    if c is None:  # a collect without the load factors: the folder's name says it (c8)
        name = os.path.basename(os.path.dirname(os.path.dirname(os.path.normpath(part))))
        digits = "".join(ch for ch in name if ch.isdigit())
        c = int(digits) if digits else None
    f = dict(run_id=tr["run_id"], model=tr["model"], status=tr["status"], concurrency=c,
             requests=len(reqs), failed_requests=len(reqs) - len(ok), duration_s=(z - a) / 1000)
    E = s.get("GPU0_ENERGY (mJ)")
    P = s.get("GPU0_POWER (mWatts)")
    e0, e1 = interp(T, E, a), interp(T, E, z)
    f["energy_j"] = (e1 - e0) / 1000 if e0 is not None and e1 is not None else None
    f["power_integral_j"] = integral(T, P, a, z) / 1e6 if P else None
    tokens = sum(r["completion_tokens"] or 0 for r in ok)
    f["tokens"] = tokens
    f["mean_completion_tokens"] = tokens / len(ok) if ok else None
    f["energy_per_token_j"] = f["energy_j"] / tokens if f["energy_j"] and tokens else None
    f["gpu_power_w"] = f["energy_j"] / f["duration_s"] if f["energy_j"] else None
    # Steady state.
    win = closed_loop_window([(r["start_ms"], r["end_ms"]) for r in ok], c) if c else None
    if win:
        sa, sz = win
        ea, ez = interp(T, E, sa), interp(T, E, sz)
        st = sum(tokens_in(r, sa, sz) for r in ok)
        f["steady_s"] = (sz - sa) / 1000
        f["steady_energy_per_token_j"] = (ez - ea) / 1000 / st if ea is not None and ez is not None and st else None
    else:
        f["steady_s"] = None
        f["steady_energy_per_token_j"] = None
    # Gates.
    limits = find_limits(prov)
    f["limits"] = limits
    limit = None
    for k, v in limits.items():
        if k.endswith("gpu_settings.0.power_limit_w") or k.endswith("gpus.0.power_limit_w") or k.endswith("power_limit_w"):
            if isinstance(v, (int, float)):
                limit = v if limit is None else min(limit, v)
    idle = None
    if b.get("GPU0_POWER (mWatts)"):
        bv = [x / 1000 for x in b["GPU0_POWER (mWatts)"] if x is not None]
        idle = sum(bv) / len(bv) if bv else None
    f["idle_gpu_w"], f["power_limit_w"] = idle, limit
    wp = [p / 1000 for t, p in zip(T, P) if p is not None and a <= t <= z] if P else []
    f["gpu_power_min_w"], f["gpu_power_max_w"] = (min(wp), max(wp)) if wp else (None, None)
    g = {}
    g["steady_state"] = True if (c or 0) <= 1 else (f["steady_s"] is not None and f["steady_s"] >= MIN_STEADY_S)
    lo = idle * (1 - IDLE_TOL) if idle is not None else -math.inf
    hi = limit if limit is not None else math.inf
    g["power_range"] = bool(wp) and all(lo <= p <= hi for p in wp) if (idle or limit) else None
    if f["energy_j"] and f["power_integral_j"]:
        f["counter_difference"] = abs(f["energy_j"] - f["power_integral_j"]) / f["energy_j"]
        g["counter_agreement"] = f["counter_difference"] <= COUNTER_TOL
    else:
        f["counter_difference"], g["counter_agreement"] = None, None
    steps = [(t1 - t0) for t0, t1 in zip(T, T[1:]) if t1 >= t0]
    iv = tr["sample_interval_ms"] or statistics.median(steps)
    f["largest_gap_intervals"] = max(steps) / iv if steps else None
    g["sample_gaps"] = f["largest_gap_intervals"] <= MAX_GAP if steps else None
    temp = [x for x in s.get("GPU0_TEMPERATURE", []) if x is not None]
    f["temperature_rise_c"] = temp[-1] - temp[0] if temp else None
    g["temperature"] = f["temperature_rise_c"] <= MAX_RISE_C if temp else None
    f["gates"] = g
    f["all_gates_pass"] = all(v is True for v in g.values())
    # Latencies.
    ttft = [r["ttft_ms"] for r in ok if r["ttft_ms"] is not None]
    tpot = [(r["end_ms"] - r["start_ms"] - r["ttft_ms"]) / (r["completion_tokens"] - 1)
            for r in ok if r["ttft_ms"] is not None and (r["completion_tokens"] or 0) > 1]
    f["ttft_p50_ms"], f["ttft_p90_ms"] = pctl(ttft, 0.5), pctl(ttft, 0.9)
    f["tpot_p50_ms"], f["tpot_p90_ms"] = pctl(tpot, 0.5), pctl(tpot, 0.9)
    # Server metrics: the running batch as the shim reported it.
    sm = os.path.join(part, "server_metrics.parquet")
    if os.path.exists(sm):
        run = [m["value"] for m in rows(sm) if m["metric"] == "vllm:num_requests_running"
               and tr["model"] in m["labels"]]
        f["server_running_max"] = max(run) if run else None
        f["server_running_median"] = pctl(run, 0.5)
    return f


def attribution(folder, metrics_csv, requests_csv, figs):
    m = {r["run_id"]: r for r in csv.DictReader(open(metrics_csv))}
    reqs = list(csv.DictReader(open(requests_csv)))
    num = lambda x: float(x) if x not in ("", None) else None
    for f in figs:
        t = m.get(f["run_id"])
        if not t:
            continue
        rs = [r for r in reqs if r["run_id"] == f["run_id"]]
        E, un = num(t["energy_j"]), num(t.get("unattributed_energy_j")) or 0.0
        att = sum(num(r["energy_j"]) or 0 for r in rs)
        win = sum(num(r.get("window_energy_j")) or 0 for r in rs)
        pre = sum(num(r.get("prefill_energy_j")) or 0 for r in rs)
        f["analyze_energy_j"], f["analyze_energy_per_token_j"] = E, num(t["energy_per_token"])
        f["analyze_gpu_source"] = t.get("gpu_source")
        f["attributed_j"], f["unattributed_j"] = att, un
        f["conservation_residual"] = (att + un - E) / E if E else None
        f["windows_over_trial"] = win / E if E else None
        f["prefill_share"] = pre / E if E else None
        for k in list(t):
            if k.startswith("gate_") or k.startswith("steady") or k in ("concurrency",):
                f[f"analyze_{k}"] = t[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="+")
    ap.add_argument("--analyze", action="append", default=[])
    ap.add_argument("--json")
    o = ap.parse_args()
    extra = dict(x.split("=", 1) for x in o.analyze)
    figs = []
    for d in o.data:
        fs = [trial_figures(p) for p in sorted(glob.glob(os.path.join(d, "trials", "*")))
              if os.path.exists(os.path.join(p, "trial.parquet"))]
        for f in fs:
            f["dataset"] = os.path.basename(os.path.normpath(d))
        if d in extra:
            mc, rc = extra[d].split(",")
            attribution(d, mc, rc, fs)
        figs += fs
    keys = ["dataset", "run_id", "model", "concurrency", "status", "requests", "tokens",
            "mean_completion_tokens", "duration_s", "steady_s", "energy_j", "energy_per_token_j",
            "steady_energy_per_token_j", "gpu_power_w", "idle_gpu_w", "power_limit_w",
            "gpu_power_min_w", "gpu_power_max_w", "counter_difference", "largest_gap_intervals",
            "temperature_rise_c", "ttft_p50_ms", "tpot_p50_ms", "server_running_median",
            "conservation_residual", "windows_over_trial", "prefill_share", "all_gates_pass"]
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)
    print("\t".join(keys))
    for f in sorted(figs, key=lambda f: (f["model"], f["concurrency"] or 0, f["run_id"])):
        print("\t".join(fmt(f.get(k)) for k in keys))
    print()
    for f in figs:
        failed = [k for k, v in f["gates"].items() if v is not True]
        if failed:
            print(f"{f['dataset']}/{f['run_id']} ({f['model']}, c={f['concurrency']}): gates not passed: {failed}")
    print(f"gates: {sum(f['all_gates_pass'] for f in figs)} of {len(figs)} trials pass all five")
    print()
    by = {}
    for f in figs:
        by.setdefault(f["model"], {}).setdefault(f["concurrency"], []).append(f)
    summary = {}
    for model, levels in sorted(by.items()):
        line = {}
        for c, fs in sorted(levels.items(), key=lambda x: x[0] or 0):
            ept = [f["energy_per_token_j"] for f in fs if f["energy_per_token_j"]]
            sept = [f["steady_energy_per_token_j"] for f in fs if f["steady_energy_per_token_j"]]
            line[c] = dict(trials=len(fs), energy_per_token_j=statistics.mean(ept) if ept else None,
                           steady_energy_per_token_j=statistics.mean(sept) if sept else None,
                           tpot_p50_ms=statistics.mean([f["tpot_p50_ms"] for f in fs if f["tpot_p50_ms"]] or [math.nan]),
                           ttft_p50_ms=statistics.mean([f["ttft_p50_ms"] for f in fs if f["ttft_p50_ms"]] or [math.nan]))
            print(f"{model} c={c}: {len(fs)} trials, energy/token {fmt(line[c]['energy_per_token_j'])} J "
                  f"(steady {fmt(line[c]['steady_energy_per_token_j'])} J), TTFT p50 {fmt(line[c]['ttft_p50_ms'])} ms, "
                  f"TPOT p50 {fmt(line[c]['tpot_p50_ms'])} ms")
        cs = sorted(c for c in line if c)
        if len(cs) >= 2 and line[cs[0]]["energy_per_token_j"] and line[cs[-1]]["energy_per_token_j"]:
            r = line[cs[0]]["energy_per_token_j"] / line[cs[-1]]["energy_per_token_j"]
            print(f"{model}: energy per token at c={cs[0]} / c={cs[-1]} = {r:.2f}x "
                  f"({'falls' if r > 1 else 'does NOT fall'} with concurrency)")
            line["ratio"] = r
        summary[model] = line
    res = [f["conservation_residual"] for f in figs if f.get("conservation_residual") is not None]
    if res:
        print(f"attribution: |sum(request energy) + unattributed - trial energy| / trial energy <= {max(map(abs, res)):.2e} "
              f"over {len(res)} trials")
    lim = {json.dumps(f["limits"], sort_keys=True) for f in figs}
    print("power limit as recorded in the provenance:", " | ".join(sorted(lim)))
    if o.json:
        json.dump(dict(trials=figs, summary={m: {str(k): v for k, v in l.items()} for m, l in summary.items()}),
                  open(o.json, "w"), indent=1, default=str)


if __name__ == "__main__":
    main()
