//! Files: every write atomic (temporary sibling, then rename; [`write_atomic`] and
//! [`write_with`] are the one implementation the workspace uses), and Parquet record batches
//! read and written with the schema version stamped in the file metadata.

use crate::error::{DatasetError, IoContext, Result};
use crate::tables::{SCHEMA_VERSION, VERSION_KEY};
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{ArrowPrimitiveType, DataType, Float64Type, Int64Type, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowSchemaConverter, ArrowWriter, add_encoded_arrow_schema_to_metadata};
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type as ParquetInt64};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::schema::types::ColumnPath;
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

/// Data page size of the sample tables: a page is what a reader decodes at once, and the
/// encoder's buffer per column stays this small (parquet's default, 1 MiB, held a whole part's
/// column in one growing buffer).
const SAMPLE_PAGE_BYTES: usize = 64 * 1024;

/// Writer settings for sample tables, the bulk of an import: no dictionary encoding for the
/// float channels (building the dictionaries cost an eighth of an import's CPU time for
/// little gain after snappy) and column-chunk statistics for `run_id` and `Time` only (no
/// reader selects by a channel's range; computing min and max of every channel cost a
/// twentieth of an import). Data pages of at most [`SAMPLE_PAGE_BYTES`].
pub fn sample_writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_data_page_size_limit(SAMPLE_PAGE_BYTES)
        .set_dictionary_enabled(false)
        .set_column_dictionary_enabled(ColumnPath::from("run_id"), true)
        .set_statistics_enabled(EnabledStatistics::None)
        .set_column_statistics_enabled(ColumnPath::from("run_id"), EnabledStatistics::Chunk)
        .set_column_statistics_enabled(ColumnPath::from("Time"), EnabledStatistics::Chunk)
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

/// Writes a file atomically: `write` fills a temporary sibling, which is fsynced when `sync` and
/// then renamed onto `path`, so a reader sees the old file or the complete new one, never half
/// of it. The parent folder is created when missing; on failure the temporary file is removed.
/// This (with [`AtomicFile`], which it uses) is the workspace's one temporary-file-then-rename.
pub fn write_with(path: &Path, sync: bool, write: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    write(file.file())?;
    file.commit(sync)
}

/// A file being written under a temporary sibling name, renamed onto its path by
/// [`AtomicFile::commit`]; dropped uncommitted (an error, a panic), the temporary file is
/// removed. For files filled over a long pass ([`crate::tables::TableStream`]); one-shot
/// writes use [`write_with`].
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<File>,
    /// The folders `create` made, deepest first: removed again (when empty) if the file is
    /// never committed, so a failed run leaves the tree as it found it.
    created: Vec<PathBuf>,
}

impl AtomicFile {
    /// Creates the temporary sibling of `path` (and the parent folder when missing).
    pub fn create(path: &Path) -> Result<Self> {
        let mut created = Vec::new();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
            let mut missing = Some(dir);
            while let Some(d) = missing.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
                created.push(d.to_path_buf());
                missing = d.parent();
            }
            std::fs::create_dir_all(dir).at(dir)?;
        }
        let tmp = temp_path(path);
        let file = File::create(&tmp).at(&tmp);
        let mut this = Self {
            path: path.to_path_buf(),
            tmp,
            file: None,
            created,
        };
        this.file = Some(file?);
        Ok(this)
    }

    /// The file to write to.
    pub fn file(&mut self) -> &mut File {
        self.file
            .as_mut()
            .expect("an AtomicFile holds its file until committed")
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// fsyncs the file when `sync`, then renames it onto its path.
    pub fn commit(mut self, sync: bool) -> Result<()> {
        let file = self.file.take().expect("committed once");
        if sync {
            file.sync_all().at(&self.tmp)?;
        }
        drop(file);
        std::fs::rename(&self.tmp, &self.path).at(&self.path)?;
        self.tmp = PathBuf::new();
        self.created.clear();
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            drop(self.file.take());
            let _ = std::fs::remove_file(&self.tmp);
            for dir in &self.created {
                if std::fs::remove_dir(dir).is_err() {
                    break;
                }
            }
        }
    }
}

/// Writes bytes atomically (see [`write_with`]).
pub fn write_atomic(path: &Path, bytes: &[u8], sync: bool) -> Result<()> {
    write_with(path, sync, |f| f.write_all(bytes).at(path))
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
    /// when complete (a staged import, a part), where per-file renames would be wasted system
    /// calls.
    Direct,
}

/// Writes bytes in the given mode.
pub fn write_file(path: &Path, mode: WriteMode, write: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    match mode {
        WriteMode::Atomic { sync } => write_with(path, sync, write),
        WriteMode::Direct => write(&mut File::create(path).at(path)?),
    }
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
    write_file(path, mode, |file| {
        let mut writer =
            ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| DatasetError::parquet(path, e))?;
        for batch in batches {
            writer.write(batch).map_err(|e| DatasetError::parquet(path, e))?;
        }
        writer.close().map_err(|e| DatasetError::parquet(path, e))?;
        Ok(())
    })
}

/// Writes record batches of one schema as one row group through parquet's column writers,
/// column after column, handing each array's values to the encoder as they are. For the
/// sample tables, the bulk of a dataset: `ArrowWriter` first builds an index of every non-null
/// value (8 bytes per sample) and gathers the values through it into a new vector, a second
/// copy of each sample that cost a tenth of an import. The file is the one `ArrowWriter`
/// writes (the Arrow schema, field metadata included, stored the same way); columns may be
/// Float64, Int64 or Utf8, nullable or not.
pub fn write_columns_as(
    path: &Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
    mode: WriteMode,
    mut props: WriterProperties,
) -> Result<()> {
    let fail = |e: ParquetError| DatasetError::parquet(path, e);
    let descr = ArrowSchemaConverter::new()
        .with_coerce_types(props.coerce_types())
        .convert(&schema)
        .map_err(fail)?;
    add_encoded_arrow_schema_to_metadata(&schema, &mut props);
    write_file(path, mode, |file| {
        let mut writer =
            SerializedFileWriter::new(file, descr.root_schema_ptr(), Arc::new(props)).map_err(fail)?;
        let mut group = writer.next_row_group().map_err(fail)?;
        for (c, field) in schema.fields().iter().enumerate() {
            let mut column = group.next_column().map_err(fail)?.ok_or_else(|| {
                DatasetError::invalid(path, format!("no column writer for `{}`", field.name()))
            })?;
            let nullable = descr.column(c).max_def_level() > 0;
            for batch in batches {
                write_column(&mut column, batch.column(c), nullable)
                    .map_err(|e| DatasetError::parquet(path, format!("column `{}`: {e}", field.name())))?;
            }
            column.close().map_err(fail)?;
        }
        group.close().map_err(fail)?;
        writer.into_inner().map_err(fail)?;
        Ok(())
    })
}

/// One batch's array into its column writer: the values slice itself where nothing is null,
/// definition levels and the valid values where something may be.
fn write_column(
    column: &mut SerializedColumnWriter<'_>,
    array: &ArrayRef,
    nullable: bool,
) -> std::result::Result<(), ParquetError> {
    let levels = |array: &dyn Array| -> Option<Vec<i16>> {
        nullable.then(|| match array.nulls() {
            Some(nulls) => nulls.iter().map(i16::from).collect(),
            None => vec![1; array.len()],
        })
    };
    match array.data_type() {
        DataType::Float64 => write_primitive::<Float64Type, DoubleType>(column, array, levels)?,
        DataType::Int64 => write_primitive::<Int64Type, ParquetInt64>(column, array, levels)?,
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            // Runs of one value (a part's run id) share one buffer.
            let mut values: Vec<ByteArray> = Vec::with_capacity(a.len());
            for s in a.iter().flatten() {
                match values.last() {
                    Some(last) if last.data() == s.as_bytes() => values.push(last.clone()),
                    _ => values.push(ByteArray::from(s)),
                }
            }
            column
                .typed::<ByteArrayType>()
                .write_batch(&values, levels(a).as_deref(), None)?;
        }
        other => {
            return Err(ParquetError::General(format!(
                "type {other} is not written by write_columns_as"
            )));
        }
    }
    Ok(())
}

/// A primitive array into a column writer of the same physical type: its values slice as it
/// is when nothing is null, else the valid values with their definition levels.
fn write_primitive<A, P>(
    column: &mut SerializedColumnWriter<'_>,
    array: &ArrayRef,
    levels: impl Fn(&dyn Array) -> Option<Vec<i16>>,
) -> std::result::Result<(), ParquetError>
where
    A: ArrowPrimitiveType,
    P: parquet::data_type::DataType<T = A::Native>,
{
    let a = array.as_primitive::<A>();
    let writer = column.typed::<P>();
    match a.nulls() {
        None => writer.write_batch(a.values(), levels(a).as_deref(), None)?,
        Some(_) => {
            let valid: Vec<A::Native> = a.iter().flatten().collect();
            writer.write_batch(&valid, levels(a).as_deref(), None)?
        }
    };
    Ok(())
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

/// Reads a whole Parquet file (optionally only some columns) into one record batch, checking
/// its schema version.
pub fn read_batch(path: &Path, columns: Option<&[&str]>) -> Result<(RecordBatch, u32)> {
    read_batch_where(path, |name| columns.is_none_or(|c| c.contains(&name)))
}

/// Reads the columns of a Parquet file for which `keep` is true into one record batch, checking
/// its schema version. The file is read into memory with one read (the dataset's files are
/// small): parquet-rs reading from a `File` duplicates the descriptor, seeks and reads once per
/// column chunk, which made up a third of the time of loading a study of small parts.
pub fn read_batch_where(path: &Path, keep: impl Fn(&str) -> bool) -> Result<(RecordBatch, u32)> {
    let bytes = bytes::Bytes::from(std::fs::read(path).at(path)?);
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(|e| footer_error(path, &e))?;
    let version = file_version(path, builder.metadata().file_metadata().key_value_metadata())?;
    let schema = builder.schema().clone();
    let indices: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| keep(schema.field(i).name()))
        .collect();
    let projected = indices.len() < schema.fields().len();
    let builder = if projected {
        let mask = parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), indices.iter().copied());
        builder.with_projection(mask)
    } else {
        builder
    };
    let reader = builder
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| DatasetError::parquet(path, e))?;
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| DatasetError::parquet(path, e))?;
    let schema = match batches.first() {
        Some(b) => b.schema(),
        None if projected => Arc::new(
            schema
                .project(&indices)
                .map_err(|e| DatasetError::parquet(path, e))?,
        ),
        None => schema,
    };
    let batch = match batches.len() {
        1 => batches.into_iter().next().expect("one batch"),
        _ => arrow::compute::concat_batches(&schema, &batches).map_err(|e| DatasetError::parquet(path, e))?,
    };
    Ok((batch, version))
}

/// The Parquet footer's closing marker: every complete Parquet file ends with it.
const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

/// The error of a Parquet file whose footer (its metadata, at the end) cannot be read, saying
/// what is wrong with the file when it can tell: empty or too short, starting like a Parquet
/// file but not ending like one (truncated: a copy or a write cut short), not a Parquet file at
/// all, else a damaged footer.
pub fn footer_error(path: &Path, err: &dyn std::fmt::Display) -> DatasetError {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let ends = (|| -> std::io::Result<(u64, [u8; 4], [u8; 4])> {
        let mut f = File::open(path)?;
        let len = f.metadata()?.len();
        let (mut head, mut tail) = ([0u8; 4], [0u8; 4]);
        if len >= 4 {
            f.read_exact(&mut head)?;
            f.seek(SeekFrom::End(-4))?;
            f.read_exact(&mut tail)?;
        }
        Ok((len, head, tail))
    })();
    let message = match ends {
        Ok((0, ..)) => "truncated Parquet file: empty (0 bytes)".to_string(),
        Ok((len, ..)) if len < 12 => {
            format!("truncated Parquet file: {len} bytes, too short to hold a Parquet footer")
        }
        Ok((len, head, _)) if &head != PARQUET_MAGIC => {
            format!("not a Parquet file ({len} bytes): it does not start with the Parquet marker")
        }
        Ok((len, _, tail)) if &tail != PARQUET_MAGIC => {
            format!("truncated Parquet file ({len} bytes): it does not end with a Parquet footer")
        }
        Ok((len, ..)) => format!("damaged Parquet footer ({len} bytes): {err}"),
        Err(_) => format!("unreadable Parquet footer: {err}"),
    };
    DatasetError::parquet(path, message)
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
