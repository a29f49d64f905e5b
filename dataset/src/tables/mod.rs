//! The contract's tables, each declared once in a file of its own with [`crate::table!`]: the
//! declaration is the row struct (doc lines and units), and from it come the Arrow schema
//! ([`schema`]), the writer ([`write`]), the reader by column name ([`read`]; a nullable column
//! absent from a file of an older schema version reads as null), the CSV export ([`write_csv`])
//! and the rows of `docs/dataset.md` ([`docs::render_markdown`]).
//!
//! Adding a column is one line in its table's declaration (with `#[since(N)]` when it is new in
//! schema version N, which must then be nullable). A column shared by several tables belongs in
//! the group they embed ([`key::TrialKey`]). A new field type implements [`Value`].

mod column;
pub mod declare;
pub mod docs;
pub mod judgments;
pub mod key;
pub mod metrics;
pub mod request_metrics;
pub mod requests;
pub mod runs;
pub mod samples;
pub mod server_metrics;
pub mod trials;

pub use arrow::array::ArrayRef;
pub use column::{
    ColumnAt, ColumnDoc, Kind, Label, Value, csv_float, csv_text, decode_labels, join_doc, label_array,
    null_label,
};

use crate::error::{DatasetError, Result};
use crate::io::{self, WriteMode};
use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// The schema version this build writes. Readers accept every version up to this one; a column
/// added in version `v` (its [`ColumnDoc::since`]) reads as null from files of older versions.
pub const SCHEMA_VERSION: u32 = 6;

/// Parquet key-value metadata key holding the schema version of a file.
pub const VERSION_KEY: &str = "llm_energy.schema_version";

/// A row type whose fields are columns (a table, or a group of columns a table embeds).
/// Implemented by [`crate::table!`]; nothing else should implement it by hand.
pub trait Columns: Sized + Default {
    /// Appends the documented columns, in file order.
    fn columns(out: &mut Vec<ColumnDoc>);
    /// Appends one array per column, for `rows`.
    fn arrays(rows: &[&Self], out: &mut Vec<ArrayRef>);
    /// Reads the rows of a batch, column by column, by name.
    fn decode(batch: &Batch<'_>) -> Result<Vec<Self>>;
    /// Appends the row's CSV fields, comma-separated (no line end).
    fn csv(&self, out: &mut String);
}

/// A table of the contract: a row type with a name and a place in the dataset folder.
pub trait Table: Columns {
    /// Table name (`requests`).
    const NAME: &'static str;
    /// Where its files live inside a dataset folder.
    const FILE: &'static str;
    /// What one row is, as the doc lines of the struct.
    const DOC: &'static [&'static str];
}

/// The documented columns of a row type.
pub fn columns<T: Columns>() -> Vec<ColumnDoc> {
    let mut out = Vec::new();
    T::columns(&mut out);
    out
}

/// The Arrow schema of a row type.
pub fn schema<T: Columns>() -> SchemaRef {
    Arc::new(Schema::new(
        columns::<T>().iter().map(ColumnDoc::field).collect::<Vec<_>>(),
    ))
}

/// The record batch of some rows.
pub fn batch<'a, T: Columns + 'a>(rows: impl IntoIterator<Item = &'a T>) -> RecordBatch {
    let rows: Vec<&T> = rows.into_iter().collect();
    let mut arrays = Vec::new();
    T::arrays(&rows, &mut arrays);
    RecordBatch::try_new(schema::<T>(), arrays).unwrap_or_else(|e| {
        // Every array is built from the same rows with the declared type, so a mismatch is a
        // bug in a `Value` implementation, not bad input.
        unreachable!("a declared table built an inconsistent batch: {e}")
    })
}

/// A record batch read from a file, as the reader of a table sees it.
#[derive(Debug)]
pub struct Batch<'a> {
    batch: &'a RecordBatch,
    path: &'a Path,
    skip: &'a [&'a str],
}

impl<'a> Batch<'a> {
    /// A batch read from `path`; columns named in `skip` are not decoded (they read as their
    /// default, e.g. empty text).
    pub fn new(batch: &'a RecordBatch, path: &'a Path, skip: &'a [&'a str]) -> Self {
        Self { batch, path, skip }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// The values of one column by name. An absent column reads as null when its type is
    /// nullable (a file of an older schema version) and is an error otherwise.
    pub fn column<T: Value>(&self, name: &str) -> Result<Vec<T>> {
        if self.skip.contains(&name) {
            return Ok((0..self.rows()).map(|_| T::default()).collect());
        }
        match self.batch.column_by_name(name) {
            Some(array) => T::decode(
                array,
                ColumnAt {
                    path: self.path,
                    column: name,
                },
            ),
            None if T::NULLABLE => Ok((0..self.rows()).map(|_| T::default()).collect()),
            None => Err(DatasetError::missing_column(self.path, name)),
        }
    }
}

/// Reads every row of a table's file.
pub fn read<T: Table>(path: &Path) -> Result<Vec<T>> {
    read_skipping(path, &[])
}

/// Reads a table's file without decoding the columns named in `skip` (they read as their
/// default): a timing-only read of requests skips the prompt and response text, which makes it
/// several times faster.
pub fn read_skipping<T: Table>(path: &Path, skip: &[&str]) -> Result<Vec<T>> {
    let projection: Vec<&str> = if skip.is_empty() {
        Vec::new()
    } else {
        columns::<T>()
            .iter()
            .map(|c| c.name)
            .filter(|n| !skip.contains(n))
            .collect()
    };
    let (batch, _version) = io::read_batch(path, (!skip.is_empty()).then_some(projection.as_slice()))?;
    T::decode(&Batch::new(&batch, path, skip))
}

/// Writes rows as a table's Parquet file in the given mode, with the contract's settings.
pub fn write<'a, T: Table + 'a>(
    path: &Path,
    rows: impl IntoIterator<Item = &'a T>,
    mode: WriteMode,
) -> Result<()> {
    io::write_batch_as(path, &batch(rows), mode, io::writer_properties())
}

/// A table's Parquet file written batch by batch over a long pass (the per-request energies of
/// a whole study), under a temporary name until [`TableStream::finish`] renames it into place:
/// memory holds the current row group, not the table. Dropped unfinished, nothing is left.
pub struct TableStream<T: Table> {
    file: io::AtomicFile,
    writer: parquet::arrow::ArrowWriter<std::fs::File>,
    rows: usize,
    _rows: std::marker::PhantomData<T>,
}

/// Rows per row group of a [`TableStream`] (parquet-rs buffers a row group's encoded pages).
const STREAM_ROW_GROUP: usize = 64 * 1024;

impl<T: Table> std::fmt::Debug for TableStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TableStream({}, {} rows)",
            self.file.path().display(),
            self.rows
        )
    }
}

impl<T: Columns> std::fmt::Debug for CsvStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CsvStream({})", self.file.path().display())
    }
}

impl<T: Table> TableStream<T> {
    /// Starts the file at `path`.
    pub fn create(path: &Path) -> Result<Self> {
        let mut file = io::AtomicFile::create(path)?;
        let props = io::writer_properties()
            .into_builder()
            .set_max_row_group_row_count(Some(STREAM_ROW_GROUP))
            .build();
        let handle = file.file().try_clone().map_err(|e| DatasetError::io(path, e))?;
        let writer = parquet::arrow::ArrowWriter::try_new(handle, schema::<T>(), Some(props))
            .map_err(|e| DatasetError::parquet(path, e))?;
        Ok(Self {
            file,
            writer,
            rows: 0,
            _rows: std::marker::PhantomData,
        })
    }

    /// Appends rows.
    pub fn write<'a>(&mut self, rows: impl IntoIterator<Item = &'a T>) -> Result<()>
    where
        T: 'a,
    {
        let batch = batch(rows);
        self.rows += batch.num_rows();
        self.writer
            .write(&batch)
            .map_err(|e| DatasetError::parquet(self.file.path(), e))
    }

    /// Closes the file and renames it into place; returns the number of rows.
    pub fn finish(self) -> Result<usize> {
        let Self {
            file, writer, rows, ..
        } = self;
        writer
            .close()
            .map_err(|e| DatasetError::parquet(file.path(), e))?;
        file.commit(false)?;
        Ok(rows)
    }
}

/// A CSV file of a row type written row by row over a long pass, atomically like
/// [`TableStream`] (header first, as [`write_csv`] writes it).
pub struct CsvStream<T: Columns> {
    out: std::io::BufWriter<std::fs::File>,
    file: io::AtomicFile,
    line: String,
    _rows: std::marker::PhantomData<T>,
}

impl<T: Columns> CsvStream<T> {
    /// Starts the file at `path` with its header line.
    pub fn create(path: &Path) -> Result<Self> {
        let mut file = io::AtomicFile::create(path)?;
        let handle = file.file().try_clone().map_err(|e| DatasetError::io(path, e))?;
        let mut out = std::io::BufWriter::new(handle);
        let mut line = csv_header::<T>();
        line.push('\n');
        out.write_all(line.as_bytes())
            .map_err(|e| DatasetError::io(path, e))?;
        Ok(Self {
            out,
            file,
            line,
            _rows: std::marker::PhantomData,
        })
    }

    /// Appends rows.
    pub fn write<'a>(&mut self, rows: impl IntoIterator<Item = &'a T>) -> Result<()>
    where
        T: 'a,
    {
        for row in rows {
            self.line.clear();
            row.csv(&mut self.line);
            self.line.push('\n');
            self.out
                .write_all(self.line.as_bytes())
                .map_err(|e| DatasetError::io(self.file.path(), e))?;
        }
        Ok(())
    }

    /// Flushes and renames the file into place.
    pub fn finish(self) -> Result<()> {
        let Self { out, file, .. } = self;
        out.into_inner()
            .map_err(|e| DatasetError::io(file.path(), e.into_error()))?;
        file.commit(false)
    }
}

/// The CSV header line of a row type (column names, comma-separated, no line end).
pub fn csv_header<T: Columns>() -> String {
    columns::<T>()
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(",")
}

/// Writes rows as CSV (header first; floats in their shortest exact form, null as empty, text
/// quoted where needed and when empty).
pub fn write_csv<'a, T: Columns + 'a>(
    rows: impl IntoIterator<Item = &'a T>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    write_rows::<T, &T>(rows, out)
}

/// [`write_csv`] over rows given by reference or by value.
fn write_rows<T: Columns, R: std::borrow::Borrow<T>>(
    rows: impl IntoIterator<Item = R>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut line = csv_header::<T>();
    line.push('\n');
    out.write_all(line.as_bytes())?;
    for row in rows {
        line.clear();
        row.borrow().csv(&mut line);
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

/// Writes rows as a CSV file, atomically (see [`write_csv`]).
pub fn write_csv_file<'a, T: Columns + 'a>(path: &Path, rows: impl IntoIterator<Item = &'a T>) -> Result<()> {
    io::write_with(path, false, |file| {
        let mut out = std::io::BufWriter::new(file);
        write_rows::<T, &T>(rows, &mut out).map_err(|e| DatasetError::io(path, e))
    })
}

/// [`write_csv_file`] of rows made one at a time (each written, then dropped): a table of
/// one row per trial is never held whole.
pub fn write_csv_file_from<T: Columns>(path: &Path, rows: impl IntoIterator<Item = T>) -> Result<()> {
    io::write_with(path, false, |file| {
        let mut out = std::io::BufWriter::new(file);
        write_rows::<T, T>(rows, &mut out).map_err(|e| DatasetError::io(path, e))
    })
}

#[cfg(test)]
mod tests;
