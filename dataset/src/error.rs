//! Errors of the dataset contract: every message names the file (and the line and column
//! where there is one) so a user can open the culprit directly.

use std::path::{Path, PathBuf};

/// Everything that can go wrong reading or writing a dataset or one of its inputs.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The operating system refused a read, write, rename or directory listing.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A text input (CSV, TSV, JSON lines, summary) is malformed at a known place.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        /// 1-based line number in the (decompressed) file.
        line: u64,
        message: String,
    },
    /// A text input is malformed as a whole (empty, no header, not gzip).
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    /// A required column is absent from a CSV, TSV or Parquet file.
    #[error("{}: missing required column `{column}`", path.display())]
    MissingColumn { path: PathBuf, column: String },
    /// The Parquet or Arrow layer failed on a file.
    #[error("{}: {message}", path.display())]
    Parquet { path: PathBuf, message: String },
    /// A file was written by a newer version of the contract than this build understands.
    #[error("{}: written with dataset schema version {found}, this build reads up to {supported}; upgrade the tools", path.display())]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    /// The destination already holds a dataset and the caller did not ask to replace it.
    #[error("{} already holds a dataset; pass --force to replace it", path.display())]
    AlreadyExists { path: PathBuf },
    /// The path is not a dataset (no `dataset.json`).
    #[error("{} is not a dataset (no dataset.json); create one with `analyze import` or `collect`", path.display())]
    NotADataset { path: PathBuf },
    /// Another process holds the lock of a dataset folder or of one of its outputs (see
    /// [`crate::lock`]).
    #[error("{target} is in use: {holder}; lock file {}; {advice}", lock.display())]
    Locked {
        /// What the lock protects (`dataset data/x`).
        target: String,
        /// Who holds it (pid, host, start time, command), as its lock file records.
        holder: String,
        /// The lock file.
        lock: PathBuf,
        /// What to do about it.
        advice: String,
    },
}

/// The contract's result type.
pub type Result<T, E = DatasetError> = std::result::Result<T, E>;

impl DatasetError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// A parse error at a 1-based line of a file.
    pub fn parse(path: impl AsRef<Path>, line: u64, message: impl Into<String>) -> Self {
        Self::Parse {
            path: path.as_ref().to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// A whole-file validity error.
    pub fn invalid(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }

    /// A missing required column.
    pub fn missing_column(path: impl AsRef<Path>, column: impl Into<String>) -> Self {
        Self::MissingColumn {
            path: path.as_ref().to_path_buf(),
            column: column.into(),
        }
    }

    /// A Parquet/Arrow failure on a file.
    pub fn parquet(path: impl AsRef<Path>, err: impl std::fmt::Display) -> Self {
        Self::Parquet {
            path: path.as_ref().to_path_buf(),
            message: err.to_string(),
        }
    }
}

/// True when `err`, or an error in its `source()` chain, is a closed pipe (`collect --dry-run |
/// head`): the reader went away, which is not a failure. An `anyhow::Error` is passed as
/// `err.as_ref()`.
///
/// ```
/// use std::io::{Error, ErrorKind};
/// let closed = dataset::DatasetError::io("out.csv", Error::from(ErrorKind::BrokenPipe));
/// assert!(dataset::is_broken_pipe(&closed));
/// assert!(!dataset::is_broken_pipe(&Error::from(ErrorKind::NotFound)));
/// ```
pub fn is_broken_pipe(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        next = e.source();
    }
    false
}

/// Adds the path to `std::io::Result`s.
pub(crate) trait IoContext<T> {
    fn at(self, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|e| DatasetError::io(path, e))
    }
}
