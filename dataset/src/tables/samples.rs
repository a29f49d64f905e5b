//! The wide sample tables (`samples.parquet`, `baseline.parquet`) as documentation: two fixed
//! columns plus one float column per measured channel, which [`crate::samples::SampleTable`]
//! reads and writes. The channels the accounting understands are listed in [`CHANNELS`].

use super::docs::TableDoc;
use super::{ColumnDoc, Kind};

const RUN_ID: ColumnDoc = ColumnDoc {
    name: "run_id",
    kind: Kind::Text,
    nullable: false,
    unit: "",
    since: 1,
    doc: &["Trial identifier."],
};

const TIME: ColumnDoc = ColumnDoc {
    name: "Time",
    kind: Kind::Int,
    nullable: false,
    unit: "ms since Unix epoch",
    since: 1,
    doc: &["When the sample was read."],
};

/// The samples table's fixed columns; every measured channel adds one float column.
pub fn samples() -> TableDoc {
    TableDoc {
        name: "samples",
        location: "trials/<part>/samples.parquet",
        doc: "The energy/power samples of one trial, one row per sample. Besides the fixed columns below, every channel the sampler measured is one float64 column named as EnergiBridge names it (see the channel table), nullable in a file where some trial misses a value of it and required otherwise. Written with snappy compression, plain encoding for the channels (dictionary for `run_id`), and column-chunk statistics for `run_id` and `Time` only.".into(),
        columns: vec![RUN_ID, TIME],
    }
}

/// Idle samples measured before a trial (`collect` with a baseline window).
pub fn baseline() -> TableDoc {
    TableDoc {
        name: "baseline",
        location: "trials/<part>/baseline.parquet",
        doc: "Optional (schema 2): the samples of the idle window measured just before the trial, same columns as `samples`. `analyze metrics` subtracts its mean power from the trial.".into(),
        columns: vec![ColumnDoc { since: 2, ..RUN_ID }, ColumnDoc { since: 2, ..TIME }],
    }
}

/// The sample channels the accounting understands, with their units (documentation only:
/// any other column is kept as it is).
pub const CHANNELS: &[(&str, &str, &str)] = &[
    (
        "Delta",
        "ms",
        "Time since the previous sample (EnergiBridge; 0 on the first row).",
    ),
    (
        "GPU<i>_POWER (mWatts)",
        "mW",
        "Board power of GPU i (NVML). On recent GPUs a 1 s average.",
    ),
    (
        "GPU<i>_ENERGY (mJ)",
        "mJ",
        "Total-energy counter of GPU i since driver load (NVML `nvmlDeviceGetTotalEnergyConsumption`); preferred over power when present.",
    ),
    (
        "GPU<i>_POWER_AVERAGE (mWatts)",
        "mW",
        "NVML's 1 s average board power (`collect`), kept next to the instantaneous reading.",
    ),
    ("GPU<i>_USAGE", "%", "GPU utilisation."),
    (
        "GPU<i>_SM_CLOCK (MHz), GPU<i>_MEMORY_CLOCK (MHz)",
        "MHz",
        "GPU clocks (`collect`).",
    ),
    ("GPU<i>_TEMPERATURE", "°C", "GPU temperature."),
    ("GPU<i>_MEMORY_USED, GPU<i>_MEMORY_TOTAL", "MiB", "GPU memory."),
    (
        "PACKAGE_ENERGY (J) (also spelt PACAKGE_ENERGY (J)); PACKAGE<n>_ENERGY (J) for socket n ≥ 1",
        "J",
        "Intel RAPL package counter, cumulative, wraps.",
    ),
    (
        "CPU_ENERGY (J)",
        "J",
        "AMD package counter, cumulative, wraps (lower range).",
    ),
    (
        "PP0_ENERGY (J), PP1_ENERGY (J), CORE<i>_ENERGY (J)",
        "J",
        "RAPL core/uncore counters, cumulative, wrap.",
    ),
    (
        "DRAM_ENERGY (J); DRAM<n>_ENERGY (J) for socket n ≥ 1",
        "J",
        "RAPL DRAM counter, cumulative, wraps; sockets are unwrapped separately and summed.",
    ),
    ("CPU_FREQUENCY_<i>, CPU_USAGE_<i>", "MHz, %", "Per logical core."),
    (
        "TOTAL_MEMORY, USED_MEMORY, TOTAL_SWAP, USED_SWAP",
        "bytes",
        "Host memory.",
    ),
];
