//! Parquet reading and writing of the contract's tables: typed rows in, Arrow record batches
//! through the `parquet` crate out, every file written atomically (temporary file + rename) and
//! stamped with the schema version.

use crate::error::{DatasetError, IoContext, Result};
use crate::records::{Judgment, MetricsRow, Request, RequestMetricsRow, RunRow, Trial, TrialStatus};
use crate::schema::{
    JUDGMENTS, Kind, METRICS, REQUEST_METRICS, REQUESTS, RUNS, SCHEMA_VERSION, TRIALS, TableDoc, VERSION_KEY,
};
use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Writer settings shared by every table: snappy, dictionary encoding where it pays, and the
/// schema version in the file metadata. Snappy rather than zstd because a dataset is hundreds
/// of small files read often: parquet-rs creates a zstd context per column chunk, which made up
/// a quarter of the CPU time of loading the published dataset; snappy costs ~30 % more disk.
pub fn writer_properties() -> WriterProperties {
    properties(Compression::SNAPPY)
}

/// Writer settings for sample tables, the bulk of an import: no dictionary encoding for the
/// float channels (building the dictionaries cost an eighth of an import's CPU time for
/// little gain after snappy) and column-chunk statistics only.
pub fn sample_writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(false)
        .set_column_dictionary_enabled(parquet::schema::types::ColumnPath::from("run_id"), true)
        .set_statistics_enabled(parquet::file::properties::EnabledStatistics::Chunk)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            VERSION_KEY.to_string(),
            SCHEMA_VERSION.to_string(),
        )]))
        .build()
}

fn properties(compression: Compression) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(compression)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            VERSION_KEY.to_string(),
            SCHEMA_VERSION.to_string(),
        )]))
        .build()
}

/// The temporary sibling a file is written to before it is renamed into place.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

/// Writes bytes atomically: temporary sibling, optional fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8], sync: bool) -> Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = File::create(&tmp).at(&tmp)?;
        f.write_all(bytes).at(&tmp)?;
        if sync {
            f.sync_all().at(&tmp)?;
        }
        std::fs::rename(&tmp, path).at(path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes one record batch as a Parquet file, atomically.
pub fn write_batch(path: &Path, batch: &RecordBatch, sync: bool) -> Result<()> {
    write_batch_with(path, batch, sync, writer_properties())
}

/// Writes one record batch as a Parquet file with the given settings, atomically.
pub fn write_batch_with(path: &Path, batch: &RecordBatch, sync: bool, props: WriterProperties) -> Result<()> {
    write_batch_as(path, batch, WriteMode::Atomic { sync }, props)
}

/// How a file is put in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Temporary sibling, then rename (and fsync first when `sync`): readers never see half a
    /// file.
    Atomic {
        /// fsync the file before the rename.
        sync: bool,
    },
    /// Straight to its name: only for files inside a folder that is itself renamed into place
    /// when complete (a staged import), where per-file renames would be wasted system calls.
    Direct,
}

/// Writes one record batch as a Parquet file in the given mode.
pub fn write_batch_as(
    path: &Path,
    batch: &RecordBatch,
    mode: WriteMode,
    props: WriterProperties,
) -> Result<()> {
    write_batches_as(path, batch.schema(), std::slice::from_ref(batch), mode, props)
}

/// Writes record batches of one schema, one after the other, as a Parquet file in the given
/// mode (no concatenated copy is made).
pub fn write_batches_as(
    path: &Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
    mode: WriteMode,
    props: WriterProperties,
) -> Result<()> {
    let write = |file: File| -> Result<File> {
        let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props.clone()))
            .map_err(|e| DatasetError::parquet(path, e))?;
        for batch in batches {
            writer.write(batch).map_err(|e| DatasetError::parquet(path, e))?;
        }
        writer.into_inner().map_err(|e| DatasetError::parquet(path, e))
    };
    let sync = match mode {
        WriteMode::Direct => {
            write(File::create(path).at(path)?)?;
            return Ok(());
        }
        WriteMode::Atomic { sync } => sync,
    };
    let tmp = temp_path(path);
    let result = (|| {
        let file = write(File::create(&tmp).at(&tmp)?)?;
        if sync {
            file.sync_all().at(&tmp)?;
        }
        drop(file);
        std::fs::rename(&tmp, path).at(path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Reads a whole Parquet file (optionally only some columns) into one record batch, checking
/// its schema version.
pub fn read_batch(path: &Path, columns: Option<&[&str]>) -> Result<(RecordBatch, u32)> {
    let file = File::open(path).at(path)?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| DatasetError::parquet(path, e))?;
    let version = file_version(path, builder.metadata().file_metadata().key_value_metadata())?;
    let builder = match columns {
        Some(names) => {
            let schema = builder.schema().clone();
            let indices: Vec<usize> = names.iter().filter_map(|n| schema.index_of(n).ok()).collect();
            let mask = parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), indices);
            builder.with_projection(mask)
        }
        None => builder,
    };
    let schema = builder.schema().clone();
    let reader = builder
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| DatasetError::parquet(path, e))?;
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| DatasetError::parquet(path, e))?;
    let schema = match batches.first() {
        Some(b) => b.schema(),
        None => match columns {
            Some(names) => Arc::new(Schema::new(
                schema
                    .fields()
                    .iter()
                    .filter(|f| names.contains(&f.name().as_str()))
                    .cloned()
                    .collect::<Vec<_>>(),
            )),
            None => schema,
        },
    };
    let batch =
        arrow::compute::concat_batches(&schema, &batches).map_err(|e| DatasetError::parquet(path, e))?;
    Ok((batch, version))
}

fn file_version(path: &Path, kv: Option<&Vec<KeyValue>>) -> Result<u32> {
    let found = kv
        .and_then(|kv| kv.iter().find(|k| k.key == VERSION_KEY))
        .and_then(|k| k.value.as_deref())
        .and_then(|v| v.parse::<u32>().ok())
        // A file without the key was written by another tool; read it as the current version.
        .unwrap_or(SCHEMA_VERSION);
    if found > SCHEMA_VERSION {
        return Err(DatasetError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(found)
}

/// Builds a record batch column by column, in the order of a [`TableDoc`].
#[derive(Debug, Default)]
pub(crate) struct BatchBuilder {
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
}

impl BatchBuilder {
    pub(crate) fn text<'a>(mut self, name: &str, v: impl Iterator<Item = &'a str>) -> Self {
        self.push(
            name,
            DataType::Utf8,
            false,
            Arc::new(v.map(Some).collect::<StringArray>()),
        );
        self
    }
    pub(crate) fn opt_text<'a>(mut self, name: &str, v: impl Iterator<Item = Option<&'a str>>) -> Self {
        self.push(name, DataType::Utf8, true, Arc::new(v.collect::<StringArray>()));
        self
    }
    pub(crate) fn int(mut self, name: &str, v: impl Iterator<Item = i64>) -> Self {
        self.push(name, DataType::Int64, false, Arc::new(v.collect::<Int64Array>()));
        self
    }
    pub(crate) fn opt_int(mut self, name: &str, v: impl Iterator<Item = Option<i64>>) -> Self {
        self.push(name, DataType::Int64, true, Arc::new(v.collect::<Int64Array>()));
        self
    }
    pub(crate) fn float(mut self, name: &str, v: impl Iterator<Item = f64>) -> Self {
        self.push(
            name,
            DataType::Float64,
            false,
            Arc::new(v.collect::<Float64Array>()),
        );
        self
    }
    pub(crate) fn opt_float(mut self, name: &str, v: impl Iterator<Item = Option<f64>>) -> Self {
        self.push(
            name,
            DataType::Float64,
            true,
            Arc::new(v.collect::<Float64Array>()),
        );
        self
    }
    pub(crate) fn opt_bool(mut self, name: &str, v: impl Iterator<Item = Option<bool>>) -> Self {
        self.push(
            name,
            DataType::Boolean,
            true,
            Arc::new(v.collect::<BooleanArray>()),
        );
        self
    }
    pub(crate) fn boolean(mut self, name: &str, v: impl Iterator<Item = bool>) -> Self {
        self.push(
            name,
            DataType::Boolean,
            false,
            Arc::new(v.map(Some).collect::<BooleanArray>()),
        );
        self
    }
    pub(crate) fn array(mut self, field: Field, array: ArrayRef) -> Self {
        self.fields.push(field);
        self.arrays.push(array);
        self
    }
    fn push(&mut self, name: &str, dt: DataType, nullable: bool, array: ArrayRef) {
        self.fields.push(Field::new(name, dt, nullable));
        self.arrays.push(array);
    }

    /// Finishes the batch. In debug builds, checks it against the documented table.
    pub(crate) fn finish(self, table: &TableDoc) -> RecordBatch {
        debug_assert!(
            table
                .columns
                .iter()
                .zip(&self.fields)
                .all(|(c, f)| c.name == f.name() && &c.kind.data_type() == f.data_type()),
            "batch for {} does not follow its documented columns",
            table.name
        );
        let schema = Arc::new(Schema::new(self.fields));
        RecordBatch::try_new(schema, self.arrays).unwrap_or_else(|e| {
            // Every column was built from the same row slice, so lengths always agree.
            unreachable!("inconsistent batch for {}: {e}", table.name)
        })
    }
}

/// Typed, checked access to the columns of a batch read from a file.
#[derive(Debug)]
pub(crate) struct BatchView<'a> {
    pub(crate) batch: &'a RecordBatch,
    pub(crate) path: &'a Path,
    pub(crate) table: &'a TableDoc,
}

/// A column read as the documented type, or absent (an optional column from an older file).
pub(crate) enum Col {
    Text(StringArray),
    Int(Int64Array),
    Float(Float64Array),
    Bool(BooleanArray),
    Absent,
}

impl Col {
    pub(crate) fn text(&self, i: usize) -> Option<&str> {
        match self {
            Col::Text(a) if a.is_valid(i) => Some(a.value(i)),
            _ => None,
        }
    }
    pub(crate) fn int(&self, i: usize) -> Option<i64> {
        match self {
            Col::Int(a) if a.is_valid(i) => Some(a.value(i)),
            _ => None,
        }
    }
    pub(crate) fn float(&self, i: usize) -> Option<f64> {
        match self {
            Col::Float(a) if a.is_valid(i) => Some(a.value(i)),
            _ => None,
        }
    }
    pub(crate) fn boolean(&self, i: usize) -> Option<bool> {
        match self {
            Col::Bool(a) if a.is_valid(i) => Some(a.value(i)),
            _ => None,
        }
    }
}

impl BatchView<'_> {
    /// Fetches a documented column, cast to its documented type. A non-nullable column must be
    /// present and hold no nulls.
    pub(crate) fn col(&self, name: &str) -> Result<Col> {
        let doc = self
            .table
            .column(name)
            .unwrap_or_else(|| unreachable!("{name} is not a column of {}", self.table.name));
        let Some(array) = self.batch.column_by_name(name) else {
            if doc.nullable {
                return Ok(Col::Absent);
            }
            return Err(DatasetError::missing_column(self.path, name));
        };
        if !doc.nullable && array.null_count() > 0 {
            return Err(DatasetError::invalid(
                self.path,
                format!("column `{name}` holds nulls but the contract requires a value"),
            ));
        }
        let cast = arrow::compute::cast(array, &doc.kind.data_type()).map_err(|e| {
            DatasetError::invalid(
                self.path,
                format!("column `{name}` cannot be read as {:?}: {e}", doc.kind),
            )
        })?;
        Ok(match doc.kind {
            Kind::Text => Col::Text(cast.as_string::<i32>().clone()),
            Kind::Int => Col::Int(cast.as_primitive::<Int64Type>().clone()),
            Kind::Float => Col::Float(cast.as_primitive::<Float64Type>().clone()),
            Kind::Bool => Col::Bool(cast.as_boolean().clone()),
        })
    }
}

fn read_rows<T>(
    path: &Path,
    table: &TableDoc,
    f: impl Fn(&BatchView<'_>, usize) -> Result<Vec<T>>,
) -> Result<Vec<T>> {
    let (batch, _version) = read_batch(path, None)?;
    let view = BatchView {
        batch: &batch,
        path,
        table,
    };
    f(&view, batch.num_rows())
}

fn req_text(c: &Col, i: usize) -> String {
    c.text(i).unwrap_or_default().to_string()
}

// ---------------------------------------------------------------------------------------------
// runs

/// The record batch of a run table.
pub fn runs_batch(rows: &[RunRow]) -> RecordBatch {
    BatchBuilder::default()
        .text("run_id", rows.iter().map(|r| r.run_id.as_str()))
        .int("run", rows.iter().map(|r| r.run))
        .int("repetition", rows.iter().map(|r| r.repetition))
        .int("order", rows.iter().map(|r| r.order))
        .text("generation", rows.iter().map(|r| r.generation.as_str()))
        .text("model_size", rows.iter().map(|r| r.model_size.as_str()))
        .text("model", rows.iter().map(|r| r.model.as_str()))
        .text("task", rows.iter().map(|r| r.task.as_str()))
        .finish(&RUNS)
}

/// Reads a run table.
pub fn read_runs(path: &Path) -> Result<Vec<RunRow>> {
    read_rows(path, &RUNS, |v, n| {
        let (id, run, rep, order) = (
            v.col("run_id")?,
            v.col("run")?,
            v.col("repetition")?,
            v.col("order")?,
        );
        let (g, s, m, t) = (
            v.col("generation")?,
            v.col("model_size")?,
            v.col("model")?,
            v.col("task")?,
        );
        Ok((0..n)
            .map(|i| RunRow {
                run_id: req_text(&id, i),
                run: run.int(i).unwrap_or_default(),
                repetition: rep.int(i).unwrap_or_default(),
                order: order.int(i).unwrap_or_default(),
                generation: req_text(&g, i),
                model_size: req_text(&s, i),
                model: req_text(&m, i),
                task: req_text(&t, i),
            })
            .collect())
    })
}

// ---------------------------------------------------------------------------------------------
// trials

/// The record batch of trial rows.
pub fn trials_batch(rows: &[Trial]) -> RecordBatch {
    BatchBuilder::default()
        .text("run_id", rows.iter().map(|r| r.run_id.as_str()))
        .int("run", rows.iter().map(|r| r.run))
        .int("repetition", rows.iter().map(|r| r.repetition))
        .text("generation", rows.iter().map(|r| r.generation.as_str()))
        .text("model_size", rows.iter().map(|r| r.model_size.as_str()))
        .text("model", rows.iter().map(|r| r.model.as_str()))
        .text("task", rows.iter().map(|r| r.task.as_str()))
        .text("status", rows.iter().map(|r| r.status.as_str()))
        .opt_text("failure_reason", rows.iter().map(|r| r.failure_reason.as_deref()))
        .int("start_ms", rows.iter().map(|r| r.start_ms))
        .int("end_ms", rows.iter().map(|r| r.end_ms))
        .int("time_resolution_ms", rows.iter().map(|r| r.time_resolution_ms))
        .opt_float("sample_interval_ms", rows.iter().map(|r| r.sample_interval_ms))
        .boolean("simulated", rows.iter().map(|r| r.simulated))
        .text("provenance", rows.iter().map(|r| r.provenance.as_str()))
        .opt_text("energy_sources", rows.iter().map(|r| r.energy_sources.as_deref()))
        .opt_float("sampler_cpu_s", rows.iter().map(|r| r.sampler_cpu_s))
        .opt_int("baseline_start_ms", rows.iter().map(|r| r.baseline_start_ms))
        .opt_int("baseline_end_ms", rows.iter().map(|r| r.baseline_end_ms))
        .finish(&TRIALS)
}

/// Reads trial rows.
pub fn read_trials(path: &Path) -> Result<Vec<Trial>> {
    read_rows(path, &TRIALS, |v, n| {
        let c = |name| v.col(name);
        let (id, run, rep, g, s, m, t) = (
            c("run_id")?,
            c("run")?,
            c("repetition")?,
            c("generation")?,
            c("model_size")?,
            c("model")?,
            c("task")?,
        );
        let (status, reason, start, end, res, interval, sim, prov) = (
            c("status")?,
            c("failure_reason")?,
            c("start_ms")?,
            c("end_ms")?,
            c("time_resolution_ms")?,
            c("sample_interval_ms")?,
            c("simulated")?,
            c("provenance")?,
        );
        let (sources, cpu, b0, b1) = (
            c("energy_sources")?,
            c("sampler_cpu_s")?,
            c("baseline_start_ms")?,
            c("baseline_end_ms")?,
        );
        (0..n)
            .map(|i| {
                let label = status.text(i).unwrap_or_default();
                let status = TrialStatus::parse(label).ok_or_else(|| {
                    DatasetError::invalid(v.path, format!("row {i}: unknown trial status `{label}`"))
                })?;
                Ok(Trial {
                    run_id: req_text(&id, i),
                    run: run.int(i).unwrap_or_default(),
                    repetition: rep.int(i).unwrap_or_default(),
                    generation: req_text(&g, i),
                    model_size: req_text(&s, i),
                    model: req_text(&m, i),
                    task: req_text(&t, i),
                    status,
                    failure_reason: reason.text(i).map(str::to_string),
                    start_ms: start.int(i).unwrap_or_default(),
                    end_ms: end.int(i).unwrap_or_default(),
                    time_resolution_ms: res.int(i).unwrap_or(1),
                    sample_interval_ms: interval.float(i),
                    simulated: sim.boolean(i).unwrap_or(false),
                    provenance: req_text(&prov, i),
                    energy_sources: sources.text(i).map(str::to_string),
                    sampler_cpu_s: cpu.float(i),
                    baseline_start_ms: b0.int(i),
                    baseline_end_ms: b1.int(i),
                })
            })
            .collect()
    })
}

// ---------------------------------------------------------------------------------------------
// requests

/// The record batch of request rows.
pub fn requests_batch(rows: &[Request]) -> RecordBatch {
    requests_batch_refs(&rows.iter().collect::<Vec<_>>())
}

/// The record batch of request rows gathered from several trials.
pub fn requests_batch_refs(rows: &[&Request]) -> RecordBatch {
    BatchBuilder::default()
        .text("run_id", rows.iter().map(|r| r.run_id.as_str()))
        .int("index", rows.iter().map(|r| r.index))
        .opt_int("item_id", rows.iter().map(|r| r.item_id))
        .opt_text("gold_label", rows.iter().map(|r| r.gold_label.as_deref()))
        .text("prompt", rows.iter().map(|r| r.prompt.as_str()))
        .text("response", rows.iter().map(|r| r.response.as_str()))
        .int("start_ms", rows.iter().map(|r| r.start_ms))
        .int("end_ms", rows.iter().map(|r| r.end_ms))
        .opt_float("ttft_ms", rows.iter().map(|r| r.ttft_ms))
        .opt_int("prompt_tokens", rows.iter().map(|r| r.prompt_tokens))
        .opt_int("completion_tokens", rows.iter().map(|r| r.completion_tokens))
        .opt_text("finish_reason", rows.iter().map(|r| r.finish_reason.as_deref()))
        .opt_text("error", rows.iter().map(|r| r.error.as_deref()))
        .opt_bool("tokens_estimated", rows.iter().map(|r| r.tokens_estimated))
        .opt_int("seed", rows.iter().map(|r| r.seed))
        .opt_int("attempts", rows.iter().map(|r| r.attempts))
        .opt_int("chunks", rows.iter().map(|r| r.chunks))
        .opt_float("gap_mean_ms", rows.iter().map(|r| r.gap_mean_ms))
        .opt_float("gap_p50_ms", rows.iter().map(|r| r.gap_p50_ms))
        .opt_float("gap_p95_ms", rows.iter().map(|r| r.gap_p95_ms))
        .opt_float("gap_max_ms", rows.iter().map(|r| r.gap_max_ms))
        .finish(&REQUESTS)
}

/// Reads request rows.
pub fn read_requests(path: &Path) -> Result<Vec<Request>> {
    read_requests_with(path, true)
}

/// Reads request rows; without `text`, the prompt and response columns are not decoded (they
/// read as empty strings), which makes timing-only reads of large trials several times faster.
pub fn read_requests_with(path: &Path, text: bool) -> Result<Vec<Request>> {
    let projection: Vec<&str> = REQUESTS
        .columns
        .iter()
        .map(|c| c.name)
        .filter(|n| text || !matches!(*n, "prompt" | "response"))
        .collect();
    let (batch, _version) = read_batch(path, (!text).then_some(projection.as_slice()))?;
    let n = batch.num_rows();
    let v = &BatchView {
        batch: &batch,
        path,
        table: &REQUESTS,
    };
    {
        let c = |name| v.col(name);
        let (id, index, item, gold, prompt, response, start, end) = (
            c("run_id")?,
            c("index")?,
            c("item_id")?,
            c("gold_label")?,
            if text { c("prompt")? } else { Col::Absent },
            if text { c("response")? } else { Col::Absent },
            c("start_ms")?,
            c("end_ms")?,
        );
        let (ttft, pt, ct, fr, err) = (
            c("ttft_ms")?,
            c("prompt_tokens")?,
            c("completion_tokens")?,
            c("finish_reason")?,
            c("error")?,
        );
        let extra: Vec<Col> = [
            "tokens_estimated",
            "seed",
            "attempts",
            "chunks",
            "gap_mean_ms",
            "gap_p50_ms",
            "gap_p95_ms",
            "gap_max_ms",
        ]
        .iter()
        .map(|name| c(name))
        .collect::<Result<_>>()?;
        Ok((0..n)
            .map(|i| Request {
                run_id: req_text(&id, i),
                index: index.int(i).unwrap_or_default(),
                item_id: item.int(i),
                gold_label: gold.text(i).map(str::to_string),
                prompt: req_text(&prompt, i),
                response: req_text(&response, i),
                start_ms: start.int(i).unwrap_or_default(),
                end_ms: end.int(i).unwrap_or_default(),
                ttft_ms: ttft.float(i),
                prompt_tokens: pt.int(i),
                completion_tokens: ct.int(i),
                finish_reason: fr.text(i).map(str::to_string),
                error: err.text(i).map(str::to_string),
                tokens_estimated: extra[0].boolean(i),
                seed: extra[1].int(i),
                attempts: extra[2].int(i),
                chunks: extra[3].int(i),
                gap_mean_ms: extra[4].float(i),
                gap_p50_ms: extra[5].float(i),
                gap_p95_ms: extra[6].float(i),
                gap_max_ms: extra[7].float(i),
            })
            .collect())
    }
}

// ---------------------------------------------------------------------------------------------
// judgments

/// The record batch of judgment rows.
pub fn judgments_batch(rows: &[Judgment]) -> RecordBatch {
    BatchBuilder::default()
        .text("run_id", rows.iter().map(|r| r.run_id.as_str()))
        .int("request_index", rows.iter().map(|r| r.request_index))
        .text("scorer", rows.iter().map(|r| r.scorer.as_str()))
        .opt_float("score", rows.iter().map(|r| r.score))
        .opt_text("reason", rows.iter().map(|r| r.reason.as_deref()))
        .opt_text("details", rows.iter().map(|r| r.details.as_deref()))
        .finish(&JUDGMENTS)
}

/// Reads judgment rows.
pub fn read_judgments(path: &Path) -> Result<Vec<Judgment>> {
    read_rows(path, &JUDGMENTS, |v, n| {
        let c = |name| v.col(name);
        let (id, idx, scorer, score, reason, details) = (
            c("run_id")?,
            c("request_index")?,
            c("scorer")?,
            c("score")?,
            c("reason")?,
            c("details")?,
        );
        Ok((0..n)
            .map(|i| Judgment {
                run_id: req_text(&id, i),
                request_index: idx.int(i).unwrap_or_default(),
                scorer: req_text(&scorer, i),
                score: score.float(i),
                reason: reason.text(i).map(str::to_string),
                details: details.text(i).map(str::to_string),
            })
            .collect())
    })
}

// ---------------------------------------------------------------------------------------------
// metrics

/// The record batch of metrics rows.
pub fn metrics_batch(rows: &[MetricsRow]) -> RecordBatch {
    BatchBuilder::default()
        .text("run_id", rows.iter().map(|r| r.run_id.as_str()))
        .int("run", rows.iter().map(|r| r.run))
        .int("repetition", rows.iter().map(|r| r.repetition))
        .text("generation", rows.iter().map(|r| r.generation.as_str()))
        .text("model_size", rows.iter().map(|r| r.model_size.as_str()))
        .text("task", rows.iter().map(|r| r.task.as_str()))
        .float("cpu_j", rows.iter().map(|r| r.cpu_j))
        .float("gpu_j", rows.iter().map(|r| r.gpu_j))
        .opt_float("dram_j", rows.iter().map(|r| r.dram_j))
        .float("energy_j", rows.iter().map(|r| r.energy_j))
        .float("duration_s", rows.iter().map(|r| r.duration_s))
        .int("tokens", rows.iter().map(|r| r.tokens))
        .opt_float("energy_per_token", rows.iter().map(|r| r.energy_per_token))
        .opt_float("power_w", rows.iter().map(|r| r.power_w))
        .opt_float("accuracy", rows.iter().map(|r| r.accuracy))
        .text("model", rows.iter().map(|r| r.model.as_str()))
        .text("accounting", rows.iter().map(|r| r.accounting.as_str()))
        .int("samples_in_window", rows.iter().map(|r| r.samples_in_window))
        .int("requests", rows.iter().map(|r| r.requests))
        .text("gpu_source", rows.iter().map(|r| r.gpu_source.as_str()))
        .int("cpu_wraps", rows.iter().map(|r| r.cpu_wraps))
        .int("backwards_samples", rows.iter().map(|r| r.backwards_samples))
        .boolean("simulated", rows.iter().map(|r| r.simulated))
        .opt_float("accuracy_gold", rows.iter().map(|r| r.accuracy_gold))
        .opt_float("accuracy_judge", rows.iter().map(|r| r.accuracy_judge))
        .opt_float("baseline_power_w", rows.iter().map(|r| r.baseline_power_w))
        .opt_float("idle_energy_j", rows.iter().map(|r| r.idle_energy_j))
        .opt_float("energy_above_idle_j", rows.iter().map(|r| r.energy_above_idle_j))
        .finish(&METRICS)
}

/// Reads metrics rows.
pub fn read_metrics(path: &Path) -> Result<Vec<MetricsRow>> {
    read_rows(path, &METRICS, |v, n| {
        let c = |name| v.col(name);
        let cols: Vec<Col> = METRICS.columns.iter().map(|d| c(d.name)).collect::<Result<_>>()?;
        let get = |name: &str| {
            let pos = METRICS
                .columns
                .iter()
                .position(|d| d.name == name)
                .unwrap_or_default();
            &cols[pos]
        };
        Ok((0..n)
            .map(|i| MetricsRow {
                run_id: req_text(get("run_id"), i),
                run: get("run").int(i).unwrap_or_default(),
                repetition: get("repetition").int(i).unwrap_or_default(),
                generation: req_text(get("generation"), i),
                model_size: req_text(get("model_size"), i),
                task: req_text(get("task"), i),
                cpu_j: get("cpu_j").float(i).unwrap_or_default(),
                gpu_j: get("gpu_j").float(i).unwrap_or_default(),
                dram_j: get("dram_j").float(i),
                energy_j: get("energy_j").float(i).unwrap_or_default(),
                duration_s: get("duration_s").float(i).unwrap_or_default(),
                tokens: get("tokens").int(i).unwrap_or_default(),
                energy_per_token: get("energy_per_token").float(i),
                power_w: get("power_w").float(i),
                accuracy: get("accuracy").float(i),
                model: req_text(get("model"), i),
                accounting: req_text(get("accounting"), i),
                samples_in_window: get("samples_in_window").int(i).unwrap_or_default(),
                requests: get("requests").int(i).unwrap_or_default(),
                gpu_source: req_text(get("gpu_source"), i),
                cpu_wraps: get("cpu_wraps").int(i).unwrap_or_default(),
                backwards_samples: get("backwards_samples").int(i).unwrap_or_default(),
                simulated: get("simulated").boolean(i).unwrap_or_default(),
                accuracy_gold: get("accuracy_gold").float(i),
                accuracy_judge: get("accuracy_judge").float(i),
                baseline_power_w: get("baseline_power_w").float(i),
                idle_energy_j: get("idle_energy_j").float(i),
                energy_above_idle_j: get("energy_above_idle_j").float(i),
            })
            .collect())
    })
}

// ---------------------------------------------------------------------------------------------
// request metrics

/// The record batch of per-request energy rows.
pub fn request_metrics_batch(rows: &[RequestMetricsRow]) -> RecordBatch {
    BatchBuilder::default()
        .text("run_id", rows.iter().map(|r| r.run_id.as_str()))
        .int("index", rows.iter().map(|r| r.index))
        .int("start_ms", rows.iter().map(|r| r.start_ms))
        .int("end_ms", rows.iter().map(|r| r.end_ms))
        .float("cpu_j", rows.iter().map(|r| r.cpu_j))
        .float("gpu_j", rows.iter().map(|r| r.gpu_j))
        .opt_float("dram_j", rows.iter().map(|r| r.dram_j))
        .float("energy_j", rows.iter().map(|r| r.energy_j))
        .opt_int("completion_tokens", rows.iter().map(|r| r.completion_tokens))
        .opt_float("energy_per_token", rows.iter().map(|r| r.energy_per_token))
        .opt_float("ttft_ms", rows.iter().map(|r| r.ttft_ms))
        .finish(&REQUEST_METRICS)
}
