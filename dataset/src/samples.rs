//! Energy/power samples of one trial: a `Time` column (ms since the Unix epoch) plus one float
//! column per measured channel, named as EnergiBridge names it. Channel names are classified
//! here so the accounting can find GPU power, GPU energy counters and RAPL counters whatever
//! machine wrote the file.

use crate::error::{DatasetError, Result};
use crate::io::{
    WriteMode, read_batch, read_batch_where, sample_writer_properties, write_batch_as, write_columns_as,
};
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, SchemaRef};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Field metadata key carrying a cumulative counter's wrap range (in the column's unit), when
/// the sampler knew it (RAPL's `max_energy_range_uj`).
pub const WRAP_RANGE_KEY: &str = "llm_energy.wrap_range";

/// One measured channel.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleColumn {
    /// Column name (EnergiBridge vocabulary, e.g. `GPU0_POWER (mWatts)`).
    pub name: String,
    /// One value per sample; 0 where `valid` says the value is missing.
    pub values: Vec<f64>,
    /// Validity per sample; None when every value is present.
    pub valid: Option<Vec<bool>>,
    /// The counter's wrap range in the column's unit, when known exactly.
    pub wrap_range: Option<f64>,
}

impl SampleColumn {
    /// A fully valid column.
    pub fn new(name: impl Into<String>, values: Vec<f64>) -> Self {
        Self {
            name: name.into(),
            values,
            valid: None,
            wrap_range: None,
        }
    }

    /// The value at `i`, None when missing.
    pub fn get(&self, i: usize) -> Option<f64> {
        match &self.valid {
            Some(v) if !v[i] => None,
            _ => self.values.get(i).copied(),
        }
    }
}

/// All samples of one trial, in file order (not necessarily sorted: time can run backwards).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SampleTable {
    /// Sample times, ms since the Unix epoch.
    pub time_ms: Vec<i64>,
    /// Every other channel.
    pub columns: Vec<SampleColumn>,
}

/// What a sample column measures, as far as the accounting is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// `GPU<i>_POWER (mWatts)`: board power, mW.
    GpuPower(u32),
    /// `GPU<i>_ENERGY (mJ)`: cumulative energy counter, mJ.
    GpuEnergy(u32),
    /// `PACKAGE_ENERGY (J)` / `PACAKGE_ENERGY (J)` (socket 0) or `PACKAGE<n>_ENERGY (J)`
    /// (socket n): Intel RAPL package counter, J.
    IntelPackage(u32),
    /// `CPU_ENERGY (J)`: AMD package counter, J.
    AmdPackage,
    /// `DRAM_ENERGY (J)` (socket 0) or `DRAM<n>_ENERGY (J)` (socket n): DRAM counter, J.
    Dram(u32),
    /// Anything else (kept, not accounted).
    Other,
}

impl Channel {
    /// Classifies a column name.
    pub fn classify(name: &str) -> Channel {
        match name {
            "PACKAGE_ENERGY (J)" | "PACAKGE_ENERGY (J)" => return Channel::IntelPackage(0),
            "CPU_ENERGY (J)" => return Channel::AmdPackage,
            "DRAM_ENERGY (J)" => return Channel::Dram(0),
            _ => {}
        }
        let socket = |prefix: &str| -> Option<u32> {
            let digits = name.strip_prefix(prefix)?.strip_suffix("_ENERGY (J)")?;
            (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok())?
        };
        if let Some(n) = socket("PACKAGE") {
            return Channel::IntelPackage(n);
        }
        if let Some(n) = socket("DRAM") {
            return Channel::Dram(n);
        }
        if let Some(rest) = name.strip_prefix("GPU") {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(i) = digits.parse::<u32>() {
                match &rest[digits.len()..] {
                    "_POWER (mWatts)" => return Channel::GpuPower(i),
                    "_ENERGY (mJ)" => return Channel::GpuEnergy(i),
                    _ => {}
                }
            }
        }
        Channel::Other
    }
}

impl SampleTable {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.time_ms.len()
    }

    /// True when there is no sample.
    pub fn is_empty(&self) -> bool {
        self.time_ms.is_empty()
    }

    /// A column by exact name.
    pub fn column(&self, name: &str) -> Option<&SampleColumn> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Columns of one channel kind, sorted by GPU index where there is one.
    pub fn channels(&self) -> HashMap<Channel, Vec<&SampleColumn>> {
        let mut map: HashMap<Channel, Vec<&SampleColumn>> = HashMap::new();
        for c in &self.columns {
            map.entry(Channel::classify(&c.name)).or_default().push(c);
        }
        map
    }

    /// The column names the accounting needs (for projected reads).
    pub fn is_accounting_column(name: &str) -> bool {
        !matches!(Channel::classify(name), Channel::Other)
    }

    /// Converts to a record batch tagged with the trial's `run_id` (copies the samples; see
    /// [`SampleTable::into_batch`]).
    pub fn to_batch(&self, run_id: &str) -> RecordBatch {
        self.clone().into_batch(run_id)
    }

    /// Converts to a record batch tagged with the trial's `run_id`, moving the samples into
    /// Arrow buffers without a copy. A channel is nullable exactly when it has a missing value
    /// ([`unify_batches`] widens that to the trials of one file).
    pub fn into_batch(self, run_id: &str) -> RecordBatch {
        // The fixed columns of `tables::samples`, then one float column per channel.
        let rows = self.len();
        let mut fields = vec![
            Field::new("run_id", DataType::Utf8, false),
            Field::new("Time", DataType::Int64, false),
        ];
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n(run_id, rows))),
            Arc::new(Int64Array::from(self.time_ms)),
        ];
        for c in self.columns {
            let nulls = c.valid.map(NullBuffer::from);
            let mut field = Field::new(c.name, DataType::Float64, nulls.is_some());
            if let Some(range) = c.wrap_range {
                field = field.with_metadata(HashMap::from([(WRAP_RANGE_KEY.to_string(), range.to_string())]));
            }
            fields.push(field);
            arrays.push(Arc::new(Float64Array::new(c.values.into(), nulls)));
        }
        RecordBatch::try_new(Arc::new(arrow::datatypes::Schema::new(fields)), arrays).unwrap_or_else(|e| {
            // Every column has one value per sample by construction.
            unreachable!("inconsistent sample batch: {e}")
        })
    }

    /// Reads a record batch back (any float/int channel columns; `run_id` dropped).
    pub fn from_batch(batch: &RecordBatch, path: &Path) -> Result<Self> {
        let time = batch
            .column_by_name("Time")
            .ok_or_else(|| DatasetError::missing_column(path, "Time"))?;
        let time =
            arrow::compute::cast(time, &DataType::Int64).map_err(|e| DatasetError::parquet(path, e))?;
        let time = time.as_primitive::<Int64Type>();
        if time.null_count() > 0 {
            return Err(DatasetError::invalid(path, "column `Time` holds nulls"));
        }
        let mut table = SampleTable {
            time_ms: time.values().to_vec(),
            columns: Vec::new(),
        };
        let schema = batch.schema();
        for (field, array) in schema.fields().iter().zip(batch.columns()) {
            if field.name() == "Time" || field.name() == "run_id" {
                continue;
            }
            if !field.data_type().is_numeric() {
                continue;
            }
            let cast = arrow::compute::cast(array, &DataType::Float64)
                .map_err(|e| DatasetError::parquet(path, e))?;
            let floats = cast.as_primitive::<Float64Type>();
            let valid = floats
                .nulls()
                .filter(|n| n.null_count() > 0)
                .map(|n| n.iter().collect::<Vec<bool>>());
            let mut values = floats.values().to_vec();
            if let Some(mask) = &valid {
                for (v, ok) in values.iter_mut().zip(mask) {
                    if !ok {
                        *v = 0.0;
                    }
                }
            }
            table.columns.push(SampleColumn {
                name: field.name().clone(),
                values,
                valid,
                wrap_range: field.metadata().get(WRAP_RANGE_KEY).and_then(|v| v.parse().ok()),
            });
        }
        Ok(table)
    }

    /// Writes the samples of one trial (atomically).
    pub fn write(&self, path: &Path, run_id: &str, sync: bool) -> Result<()> {
        self.write_as(path, run_id, WriteMode::Atomic { sync })
    }

    /// Writes the samples of one trial in the given mode.
    pub fn write_as(&self, path: &Path, run_id: &str, mode: WriteMode) -> Result<()> {
        write_batch_as(path, &self.to_batch(run_id), mode, sample_writer_properties())
    }

    /// A key equal for two tables exactly when their record batches share a schema (channel
    /// names, order and wrap ranges): the trials of one multi-trial part must agree on it.
    pub fn layout_key(&self) -> String {
        let mut key = String::new();
        for c in &self.columns {
            key.push_str(&c.name);
            if let Some(r) = c.wrap_range {
                key.push_str(&format!("@{r}"));
            }
            key.push('\u{1f}');
        }
        key
    }

    /// Writes the samples of several trials into one file, trial after trial. They must share
    /// a [`SampleTable::layout_key`]; an empty list writes an empty table.
    pub fn write_many(path: &Path, tables: &[(&str, &SampleTable)], mode: WriteMode) -> Result<()> {
        let batches = tables.iter().map(|(id, t)| (*id, t.to_batch(id))).collect();
        write_sample_batches(path, batches, mode)
    }

    /// Reads a samples file holding the samples of the trials `run_ids` (one or more) and
    /// splits it by `run_id`: one table per id, in the order given, with a flag saying whether
    /// the file held any row for it (a trial without rows gets an empty table with the file's
    /// channels). A row of a trial not in `run_ids` is an error. Rows of a file without a
    /// `run_id` column (schema version 1, one trial per file) belong to the only id given.
    pub fn read_many(
        path: &Path,
        accounting_only: bool,
        run_ids: &[&str],
    ) -> Result<Vec<(SampleTable, bool)>> {
        let batch = Self::read_batch(path, accounting_only)?;
        let Some(ids) = batch.column_by_name("run_id") else {
            if let [_] = run_ids {
                return Ok(vec![(Self::from_batch(&batch, path)?, batch.num_rows() > 0)]);
            }
            return Err(DatasetError::missing_column(path, "run_id"));
        };
        let ids = arrow::compute::cast(ids, &DataType::Utf8).map_err(|e| DatasetError::parquet(path, e))?;
        let ids = ids.as_string::<i32>();
        if ids.null_count() > 0 {
            return Err(DatasetError::invalid(path, "column `run_id` holds nulls"));
        }
        let slot: HashMap<&str, usize> = run_ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        // Row ranges of each trial; a writer of this crate puts each trial's rows together.
        let mut ranges: Vec<Vec<std::ops::Range<usize>>> = vec![Vec::new(); run_ids.len()];
        let mut start = 0;
        for i in 1..=ids.len() {
            if i < ids.len() && ids.value(i) == ids.value(start) {
                continue;
            }
            let id = ids.value(start);
            let Some(&g) = slot.get(id) else {
                return Err(DatasetError::invalid(
                    path,
                    format!(
                        "row {start}: samples of trial `{id}`, which its part's trial.parquet does not list"
                    ),
                ));
            };
            ranges[g].push(start..i);
            start = i;
        }
        ranges
            .into_iter()
            .map(|r| {
                let present = !r.is_empty();
                let part = match r.as_slice() {
                    [] => batch.slice(0, 0),
                    [one] if one.len() == batch.num_rows() => batch.clone(),
                    [one] => batch.slice(one.start, one.len()),
                    _ => {
                        let idx = arrow::array::UInt32Array::from_iter_values(
                            r.into_iter().flatten().map(|i| i as u32),
                        );
                        arrow::compute::take_record_batch(&batch, &idx)
                            .map_err(|e| DatasetError::parquet(path, e))?
                    }
                };
                Ok((Self::from_batch(&part, path)?, present))
            })
            .collect()
    }

    /// The record batch of a samples file: every column, or with `accounting_only` only
    /// `run_id`, `Time`, the accounting channels and the GPUs' temperatures (which the
    /// validity gates read).
    fn read_batch(path: &Path, accounting_only: bool) -> Result<RecordBatch> {
        if !accounting_only {
            return Ok(read_batch(path, None)?.0);
        }
        Ok(read_batch_where(path, |n| {
            n == "Time" || n == "run_id" || Self::is_accounting_column(n) || Self::is_gpu_temperature(n)
        })?
        .0)
    }

    /// True for a GPU temperature channel (`GPU0_TEMPERATURE`).
    pub fn is_gpu_temperature(name: &str) -> bool {
        name.starts_with("GPU") && name.ends_with("_TEMPERATURE")
    }

    /// Reads a samples file; with `accounting_only`, only `Time` and the channels the
    /// accounting uses are decoded (much faster on wide EnergiBridge files).
    pub fn read(path: &Path, accounting_only: bool) -> Result<Self> {
        let batch = Self::read_batch(path, accounting_only)?;
        Self::from_batch(&batch, path)
    }
}

/// Writes sample batches (from [`SampleTable::into_batch`], each with its trial's run id) into
/// one file, trial after trial; an empty list writes an empty table.
pub fn write_sample_batches(path: &Path, batches: Vec<(&str, RecordBatch)>, mode: WriteMode) -> Result<()> {
    let (schema, batches) = unify_batches(path, batches)?;
    write_columns_as(path, schema, &batches, mode, sample_writer_properties())
}

/// One schema for the sample batches of one file: the same channels in the same order with
/// the same wrap ranges (an error names the first trial that differs), a channel nullable when
/// it is in any trial. A channel without a missing value in the whole file is stored as a
/// required column, which spares writer and readers its definition levels.
fn unify_batches(path: &Path, batches: Vec<(&str, RecordBatch)>) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let Some((first_id, first)) = batches.first() else {
        return Ok((SampleTable::default().into_batch("").schema(), Vec::new()));
    };
    let first_id = first_id.to_string();
    let mut fields: Vec<Field> = first
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    for (id, batch) in &batches {
        let schema = batch.schema();
        let same = schema.fields().len() == fields.len()
            && schema.fields().iter().zip(&fields).all(|(a, b)| {
                a.name() == b.name() && a.data_type() == b.data_type() && a.metadata() == b.metadata()
            });
        if !same {
            return Err(DatasetError::invalid(
                path,
                format!(
                    "trial `{id}` has other sample channels than trial `{first_id}`; trials of one part must share them"
                ),
            ));
        }
        for (f, g) in fields.iter_mut().zip(schema.fields()) {
            if g.is_nullable() && !f.is_nullable() {
                *f = f.clone().with_nullable(true);
            }
        }
    }
    let schema: SchemaRef = Arc::new(arrow::datatypes::Schema::new(fields));
    let batches = batches
        .into_iter()
        .map(|(_, b)| {
            if b.schema() == schema {
                Ok(b)
            } else {
                // Only nullability differs: the same arrays under the widened schema.
                RecordBatch::try_new(schema.clone(), b.columns().to_vec())
                    .map_err(|e| DatasetError::parquet(path, e))
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((schema, batches))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_of_every_energibridge_flavour_are_classified() {
        assert_eq!(Channel::classify("GPU0_POWER (mWatts)"), Channel::GpuPower(0));
        assert_eq!(Channel::classify("GPU12_POWER (mWatts)"), Channel::GpuPower(12));
        assert_eq!(Channel::classify("GPU1_ENERGY (mJ)"), Channel::GpuEnergy(1));
        assert_eq!(Channel::classify("PACKAGE_ENERGY (J)"), Channel::IntelPackage(0));
        assert_eq!(Channel::classify("PACKAGE1_ENERGY (J)"), Channel::IntelPackage(1));
        assert_eq!(Channel::classify("DRAM1_ENERGY (J)"), Channel::Dram(1));
        assert_eq!(Channel::classify("GPU0_POWER_AVERAGE (mWatts)"), Channel::Other);
        assert_eq!(Channel::classify("PACAKGE_ENERGY (J)"), Channel::IntelPackage(0));
        assert_eq!(Channel::classify("CPU_ENERGY (J)"), Channel::AmdPackage);
        assert_eq!(Channel::classify("DRAM_ENERGY (J)"), Channel::Dram(0));
        assert_eq!(Channel::classify("GPU0_USAGE"), Channel::Other);
        assert_eq!(Channel::classify("GPUX_POWER (mWatts)"), Channel::Other);
        assert_eq!(Channel::classify("CORE3_ENERGY (J)"), Channel::Other);
    }

    #[test]
    fn the_column_writer_writes_what_arrow_writer_writes() {
        // Two trials, one with a missing value (the column becomes nullable), a wrap range.
        let table = |t0: i64, hole: bool| SampleTable {
            time_ms: vec![t0, t0 + 100, t0 + 200],
            columns: vec![
                SampleColumn {
                    name: "PACKAGE_ENERGY (J)".into(),
                    values: vec![1.5, 0.0, 3.25],
                    valid: hole.then(|| vec![true, false, true]),
                    wrap_range: Some(262_143.0),
                },
                SampleColumn {
                    name: "GPU0_POWER (mWatts)".into(),
                    values: vec![60_000.0, 61_000.5, -0.0],
                    valid: None,
                    wrap_range: None,
                },
            ],
        };
        let batches = vec![
            (
                "run_0_repetition_0",
                table(1_000, false).into_batch("run_0_repetition_0"),
            ),
            (
                "run_0_repetition_1",
                table(5_000, true).into_batch("run_0_repetition_1"),
            ),
        ];
        let dir = tempfile::tempdir().expect("temp dir");
        let (ours, arrows) = (dir.path().join("ours.parquet"), dir.path().join("arrow.parquet"));
        let (schema, unified) = unify_batches(&ours, batches.clone()).expect("one schema");
        write_sample_batches(&ours, batches, WriteMode::Direct).expect("column writer");
        crate::io::write_batches_as(
            &arrows,
            schema,
            &unified,
            WriteMode::Direct,
            sample_writer_properties(),
        )
        .expect("arrow writer");
        let (a, va) = read_batch(&ours, None).expect("ours read back");
        let (b, vb) = read_batch(&arrows, None).expect("arrow's read back");
        assert_eq!(va, vb);
        assert_eq!(a.schema(), b.schema());
        assert_eq!(a, b);
        assert_eq!(a.num_rows(), 6);
        assert_eq!(a.column(2).null_count(), 1);
        let back = SampleTable::from_batch(&a.slice(0, 3), &ours).expect("a sample table");
        assert_eq!(back.columns[0].wrap_range, Some(262_143.0));
    }
}
