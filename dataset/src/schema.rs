//! The dataset contract as data: every table, every column, its type, unit and meaning.
//!
//! This one table of column descriptions builds the Arrow schemas the writers use, tells the
//! readers which columns are required and which arrived in a later schema version, and renders
//! `docs/dataset.md` (a test keeps that file equal to [`render_markdown`]).

use arrow::datatypes::{DataType, Field, Schema};
use std::sync::Arc;

/// The schema version this build writes. Readers accept every version up to this one; a column
/// added in version `v` (its [`ColumnDoc::since`]) reads as null from files of older versions.
pub const SCHEMA_VERSION: u32 = 3;

/// Parquet key-value metadata key holding the schema version of a file.
pub const VERSION_KEY: &str = "llm_energy.schema_version";

/// Physical type of a column, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// UTF-8 text.
    Text,
    /// 64-bit signed integer.
    Int,
    /// 64-bit float.
    Float,
    /// Boolean.
    Bool,
}

impl Kind {
    /// The Arrow type written for this kind.
    pub fn data_type(self) -> DataType {
        match self {
            Self::Text => DataType::Utf8,
            Self::Int => DataType::Int64,
            Self::Float => DataType::Float64,
            Self::Bool => DataType::Boolean,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Text => "string",
            Self::Int => "int64",
            Self::Float => "float64",
            Self::Bool => "bool",
        }
    }
}

/// One documented column.
#[derive(Debug, Clone, Copy)]
pub struct ColumnDoc {
    /// Column name in the Parquet file.
    pub name: &'static str,
    /// Physical type.
    pub kind: Kind,
    /// Whether the column may hold nulls.
    pub nullable: bool,
    /// Unit of the values (`""` for none).
    pub unit: &'static str,
    /// Schema version that introduced the column.
    pub since: u32,
    /// What the column means.
    pub doc: &'static str,
}

/// One documented table.
#[derive(Debug, Clone, Copy)]
pub struct TableDoc {
    /// Table name.
    pub name: &'static str,
    /// Where its files live inside a dataset folder.
    pub location: &'static str,
    /// What one row is.
    pub doc: &'static str,
    /// Its fixed columns (the samples table adds one column per measured channel).
    pub columns: &'static [ColumnDoc],
}

impl TableDoc {
    /// The Arrow schema of the fixed columns.
    pub fn arrow_schema(&self) -> Arc<Schema> {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|c| Field::new(c.name, c.kind.data_type(), c.nullable))
                .collect::<Vec<_>>(),
        ))
    }

    /// Looks a column up by name.
    pub fn column(&self, name: &str) -> Option<&ColumnDoc> {
        self.columns.iter().find(|c| c.name == name)
    }
}

const fn col(
    name: &'static str,
    kind: Kind,
    nullable: bool,
    unit: &'static str,
    doc: &'static str,
) -> ColumnDoc {
    ColumnDoc {
        name,
        kind,
        nullable,
        unit,
        since: 1,
        doc,
    }
}

/// A column added in schema version 2 (what `collect` records); always nullable.
const fn v2(name: &'static str, kind: Kind, unit: &'static str, doc: &'static str) -> ColumnDoc {
    ColumnDoc {
        name,
        kind,
        nullable: true,
        unit,
        since: 2,
        doc,
    }
}

use Kind::{Bool, Float, Int, Text};

/// The run table: the planned design, one row per trial in execution order.
pub const RUNS: TableDoc = TableDoc {
    name: "runs",
    location: "runs.parquet",
    doc: "The experiment design: one row per planned trial (treatment x repetition), in execution order.",
    columns: &[
        col(
            "run_id",
            Text,
            false,
            "",
            "Trial identifier, `run_<R>_repetition_<K>`; unique in the dataset.",
        ),
        col(
            "run",
            Int,
            false,
            "",
            "Treatment index R (one model x task combination).",
        ),
        col(
            "repetition",
            Int,
            false,
            "",
            "Repetition index K within the treatment, from 0.",
        ),
        col(
            "order",
            Int,
            false,
            "",
            "Position of the trial in the (shuffled) execution order, from 0.",
        ),
        col(
            "generation",
            Text,
            false,
            "",
            "Model generation label, normalised (`2`, `3`, `3.1`, `3.2`: `2.0` is written `2`).",
        ),
        col(
            "model_size",
            Text,
            false,
            "",
            "Model size label as published (`7B`, `6.7B`); parsed to billions of parameters by analyze.",
        ),
        col(
            "model",
            Text,
            false,
            "",
            "Model name (as served, or `Llama-<generation>-<size>` for imported data).",
        ),
        col(
            "task",
            Text,
            false,
            "",
            "Task name (`BoolQ`, `CB`, `COPA`, `RTE`, `WiC`, `WSC`).",
        ),
    ],
};

/// One row per executed trial, stored in the trial's own folder.
pub const TRIALS: TableDoc = TableDoc {
    name: "trials",
    location: "trials/<part>/trial.parquet",
    doc: "One row per executed trial (the row of `runs` plus what happened).",
    columns: &[
        col("run_id", Text, false, "", "Trial identifier, as in `runs`."),
        col("run", Int, false, "", "Treatment index."),
        col(
            "repetition",
            Int,
            false,
            "",
            "Repetition index within the treatment.",
        ),
        col(
            "generation",
            Text,
            false,
            "",
            "Model generation label, normalised.",
        ),
        col("model_size", Text, false, "", "Model size label."),
        col("model", Text, false, "", "Model name."),
        col("task", Text, false, "", "Task name."),
        col(
            "status",
            Text,
            false,
            "",
            "`done` (every request answered or recorded with its error) or `failed` (see `failure_reason`).",
        ),
        col(
            "failure_reason",
            Text,
            true,
            "",
            "Why a failed trial failed; null when done.",
        ),
        col(
            "start_ms",
            Int,
            false,
            "ms since Unix epoch",
            "Start of the first request (the inference window opens).",
        ),
        col(
            "end_ms",
            Int,
            false,
            "ms since Unix epoch",
            "End of the last request (the inference window closes, see `time_resolution_ms`).",
        ),
        col(
            "time_resolution_ms",
            Int,
            false,
            "ms",
            "Resolution of the request timestamps: 1000 for the published data (whole seconds, floored), 1 for `collect`. A request that ends at `end_ms` ended before `end_ms + time_resolution_ms`.",
        ),
        col(
            "sample_interval_ms",
            Float,
            true,
            "ms",
            "Nominal interval between energy samples (200 for the published data).",
        ),
        col(
            "simulated",
            Bool,
            false,
            "",
            "True when the trial came from a fake endpoint or a scripted energy source (`collect --demo`): never real measurements.",
        ),
        col(
            "provenance",
            Text,
            false,
            "JSON",
            "JSON object: where the trial came from (source files with sizes and xxh3-128 hashes, tool versions, hardware, EnergiBridge's own summary).",
        ),
        v2(
            "energy_sources",
            Text,
            "",
            "Energy sources sampled, comma-separated (`nvml,rapl,procfs`, `fake`).",
        ),
        v2(
            "sampler_cpu_s",
            Float,
            "s",
            "CPU time the sampler thread itself used during the trial (its own cost).",
        ),
        v2(
            "baseline_start_ms",
            Int,
            "ms since Unix epoch",
            "Start of the idle baseline window measured before the trial; null without baseline.",
        ),
        v2(
            "baseline_end_ms",
            Int,
            "ms since Unix epoch",
            "End of the idle baseline window; its samples are in `baseline.parquet`.",
        ),
    ],
};

/// One row per prompt sent.
pub const REQUESTS: TableDoc = TableDoc {
    name: "requests",
    location: "trials/<part>/requests.parquet",
    doc: "One row per prompt sent during a trial, in the order sent.",
    columns: &[
        col("run_id", Text, false, "", "Trial identifier."),
        col(
            "index",
            Int,
            false,
            "",
            "Position of the request within the trial, from 0.",
        ),
        col(
            "item_id",
            Int,
            true,
            "",
            "Task item id (`idx` of `<Task>.jsonl`); null when unknown.",
        ),
        col(
            "gold_label",
            Text,
            true,
            "",
            "Gold label of the task item as text: JSON strings as they are (`entailment`), booleans `true`/`false`, numbers `0`/`1`; null when unknown.",
        ),
        col(
            "prompt",
            Text,
            false,
            "",
            "Prompt text as sent (the published data replaced tabs and newlines by spaces).",
        ),
        col(
            "response",
            Text,
            false,
            "",
            "Response text (empty when the request failed).",
        ),
        col(
            "start_ms",
            Int,
            false,
            "ms since Unix epoch",
            "When the request was sent (floored to whole seconds in the published data).",
        ),
        col(
            "end_ms",
            Int,
            false,
            "ms since Unix epoch",
            "When the last byte of the answer arrived (floored to whole seconds in the published data).",
        ),
        col(
            "ttft_ms",
            Float,
            true,
            "ms",
            "Time to first token; null when not measured.",
        ),
        col(
            "prompt_tokens",
            Int,
            true,
            "tokens",
            "Prompt tokens as reported by the server's `usage`; null when unknown.",
        ),
        col(
            "completion_tokens",
            Int,
            true,
            "tokens",
            "Generated tokens (server `usage`, or the published `response_tokens`, counted with the model's tokenizer).",
        ),
        col(
            "finish_reason",
            Text,
            true,
            "",
            "Why generation stopped (`stop`, `length`, ...); null when unknown.",
        ),
        col(
            "error",
            Text,
            true,
            "",
            "Error of a failed request; null when it succeeded.",
        ),
        v2(
            "tokens_estimated",
            Bool,
            "",
            "True when the server sent no `usage` and completion_tokens counts streamed chunks instead.",
        ),
        v2("seed", Int, "", "Sampling seed sent with the request."),
        v2("attempts", Int, "", "Attempts made (1 = no retry)."),
        v2("chunks", Int, "", "Streamed content chunks received."),
        v2(
            "gap_mean_ms",
            Float,
            "ms",
            "Mean gap between consecutive streamed chunks.",
        ),
        v2("gap_p50_ms", Float, "ms", "Median gap between chunks."),
        v2("gap_p95_ms", Float, "ms", "95th percentile gap between chunks."),
        v2("gap_max_ms", Float, "ms", "Largest gap between chunks."),
    ],
};

/// Scores of individual responses.
pub const JUDGMENTS: TableDoc = TableDoc {
    name: "judgments",
    location: "judgments/<scorer>.parquet",
    doc: "One row per (request, scorer): a score of one response. The import stores the study's own LLM-judge scores under the scorer `published_relevancy`.",
    columns: &[
        col("run_id", Text, false, "", "Trial identifier."),
        col("request_index", Int, false, "", "`index` of the judged request."),
        col(
            "scorer",
            Text,
            false,
            "",
            "Who scored: `published_relevancy`, `gold`, `judge:<model>:<rubric>`.",
        ),
        col(
            "score",
            Float,
            true,
            "[0, 1]",
            "The score; null when no score could be given (see `reason`).",
        ),
        col(
            "reason",
            Text,
            true,
            "",
            "Why the score is what it is, or why it is null.",
        ),
        col(
            "details",
            Text,
            true,
            "JSON",
            "Scorer-specific details (extracted decision, verdicts, judge tokens).",
        ),
    ],
};

/// The samples table's fixed columns; every measured channel adds one float column.
pub const SAMPLES: TableDoc = TableDoc {
    name: "samples",
    location: "trials/<part>/samples.parquet",
    doc: "The energy/power samples of one trial, one row per sample. Besides the fixed columns below, every channel the sampler measured is one float64 column named as EnergiBridge names it (see the channel table).",
    columns: &[
        col("run_id", Text, false, "", "Trial identifier."),
        col(
            "Time",
            Int,
            false,
            "ms since Unix epoch",
            "When the sample was read.",
        ),
    ],
};

/// Idle samples measured before a trial (`collect` with a baseline window).
pub const BASELINE: TableDoc = TableDoc {
    name: "baseline",
    location: "trials/<part>/baseline.parquet",
    doc: "Optional (schema 2): the samples of the idle window measured just before the trial, same columns as `samples`. `analyze metrics` subtracts its mean power from the trial.",
    columns: &[
        v2("run_id", Text, "", "Trial identifier."),
        v2("Time", Int, "ms since Unix epoch", "When the sample was read."),
    ],
};

/// The derived per-trial metrics written by `analyze metrics`.
pub const METRICS: TableDoc = TableDoc {
    name: "metrics",
    location: "derived/metrics_<accounting>.parquet",
    doc: "Derived: one row per trial with its energy accounting (`corrected` or `published`). Rewritten by `analyze metrics`.",
    columns: &[
        col("run_id", Text, false, "", "Trial identifier."),
        col("run", Int, false, "", "Treatment index."),
        col("repetition", Int, false, "", "Repetition index."),
        col("generation", Text, false, "", "Model generation label."),
        col("model_size", Text, false, "", "Model size label."),
        col("task", Text, false, "", "Task name."),
        col(
            "cpu_j",
            Float,
            false,
            "J",
            "CPU package energy in the inference window.",
        ),
        col(
            "gpu_j",
            Float,
            false,
            "J",
            "GPU energy in the inference window, summed over GPUs (the published accounting adds the CPU energy again here, as the study did).",
        ),
        col(
            "dram_j",
            Float,
            true,
            "J",
            "DRAM energy in the inference window; null when not measured.",
        ),
        col(
            "energy_j",
            Float,
            false,
            "J",
            "cpu_j + gpu_j + dram_j (absent parts count 0).",
        ),
        col(
            "duration_s",
            Float,
            false,
            "s",
            "Length of the inference window as measured by the samples (see docs/accounting.md).",
        ),
        col("tokens", Int, false, "tokens", "Generated tokens in the trial."),
        col(
            "energy_per_token",
            Float,
            true,
            "J/token",
            "energy_j / tokens; null when no token was generated.",
        ),
        col(
            "power_w",
            Float,
            true,
            "W",
            "energy_j / duration_s; null for a zero-length window.",
        ),
        col(
            "accuracy",
            Float,
            true,
            "[0, 1]",
            "Published accuracy: mean of the `published_relevancy` scores (the published accounting divides their sum by 5).",
        ),
        col("model", Text, false, "", "Model name."),
        col("accounting", Text, false, "", "`corrected` or `published`."),
        col("samples_in_window", Int, false, "", "Energy samples used."),
        col("requests", Int, false, "", "Requests in the trial."),
        col(
            "gpu_source",
            Text,
            false,
            "",
            "How gpu_j was measured: `energy_counter`, `power_integral`, `power_x_interval` (published) or `none`.",
        ),
        col(
            "cpu_wraps",
            Int,
            false,
            "",
            "CPU package counter wraps inside the window.",
        ),
        col(
            "backwards_samples",
            Int,
            false,
            "",
            "Samples left out because their time ran backwards.",
        ),
        col(
            "simulated",
            Bool,
            false,
            "",
            "True when the trial's data are simulated.",
        ),
        v2(
            "accuracy_gold",
            Float,
            "[0, 1]",
            "Mean of the trial's `gold` scores (gold-label scorer of `judge`); null when not judged.",
        ),
        v2(
            "accuracy_judge",
            Float,
            "[0, 1]",
            "Mean of the trial's `judge:<model>:<rubric>` scores (LLM judge); null when not judged.",
        ),
        v2(
            "baseline_power_w",
            Float,
            "W",
            "Mean power of the idle baseline window measured before the trial (same accounting); null without baseline.",
        ),
        v2(
            "idle_energy_j",
            Float,
            "J",
            "baseline_power_w × duration_s: what the machine would have used idling.",
        ),
        v2(
            "energy_above_idle_j",
            Float,
            "J",
            "energy_j − idle_energy_j: the energy attributable to inference.",
        ),
    ],
};

/// Derived: the energy of each request (`collect` data with millisecond timestamps only).
pub const REQUEST_METRICS: TableDoc = TableDoc {
    name: "request_metrics",
    location: "derived/request_metrics.parquet",
    doc: "Derived (schema 2): one row per request of trials with millisecond timestamps: counters differenced and power integrated over the request's own window, values interpolated at its edges (corrected accounting). Concurrent requests overlap, so their energies add up to more than the trial's.",
    columns: &[
        v2("run_id", Text, "", "Trial identifier."),
        v2("index", Int, "", "Request index."),
        v2("start_ms", Int, "ms since Unix epoch", "Request start."),
        v2("end_ms", Int, "ms since Unix epoch", "Request end."),
        v2("cpu_j", Float, "J", "CPU package energy in the request's window."),
        v2("gpu_j", Float, "J", "GPU energy in the request's window."),
        v2("dram_j", Float, "J", "DRAM energy; null when not measured."),
        v2("energy_j", Float, "J", "cpu_j + gpu_j + dram_j."),
        v2("completion_tokens", Int, "tokens", "Generated tokens."),
        v2(
            "energy_per_token",
            Float,
            "J/token",
            "energy_j / completion_tokens.",
        ),
        v2("ttft_ms", Float, "ms", "Time to first token."),
    ],
};

/// Every table of the contract, in documentation order.
pub const TABLES: [&TableDoc; 8] = [
    &RUNS,
    &TRIALS,
    &REQUESTS,
    &SAMPLES,
    &BASELINE,
    &JUDGMENTS,
    &METRICS,
    &REQUEST_METRICS,
];

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

/// Renders the contract as Markdown (the body of `docs/dataset.md`).
pub fn render_markdown() -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!-- generated from dataset/src/schema.rs by `cargo test -p dataset` (UPDATE_DOCS=1 rewrites it) -->\n"
    );
    let _ = writeln!(out, "# Dataset contract, schema version {SCHEMA_VERSION}\n");
    let _ = writeln!(out, "{}\n", include_str!("../../docs/dataset-intro.md").trim());
    for table in TABLES {
        let _ = writeln!(
            out,
            "## `{}` — `{}`\n\n{}\n",
            table.name, table.location, table.doc
        );
        let _ = writeln!(out, "| column | type | null | unit | since | meaning |");
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for c in table.columns {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} |",
                c.name,
                c.kind.label(),
                if c.nullable { "yes" } else { "no" },
                c.unit,
                c.since,
                c.doc
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "## Sample channels\n");
    let _ = writeln!(
        out,
        "Every channel is a float64 column; columns not listed here are kept as they are.\n"
    );
    let _ = writeln!(out, "| column | unit | meaning |");
    let _ = writeln!(out, "|---|---|---|");
    for (name, unit, doc) in CHANNELS {
        let _ = writeln!(out, "| `{name}` | {unit} | {doc} |");
    }
    out
}
