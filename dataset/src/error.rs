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
    /// Several files could not be read (the files of one part, say); every one is listed.
    #[error("{}", list(errors))]
    Files { errors: Vec<DatasetError> },
}

fn list(errors: &[DatasetError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
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

    /// One error for several: the error itself when there is one, [`DatasetError::Files`] when
    /// there are more (nested lists are flattened); None for none.
    pub fn combine(errors: Vec<DatasetError>) -> Option<Self> {
        let mut flat = Vec::with_capacity(errors.len());
        for e in errors {
            match e {
                Self::Files { errors } => flat.extend(errors),
                e => flat.push(e),
            }
        }
        match flat.len() {
            0 => None,
            1 => flat.pop(),
            _ => Some(Self::Files { errors: flat }),
        }
    }

    /// True when the error is about the files themselves (truncated, missing, malformed),
    /// which a reader may skip with `--skip-damaged`; false for a file of a newer schema
    /// version (the tools need an upgrade, the file is fine), a read the system refused
    /// (permissions) and errors about the dataset as a whole (a lock, no manifest). [`DatasetError::Files`] is damage when every
    /// error in it is.
    pub fn is_damage(&self) -> bool {
        match self {
            // A missing or short file is damage; a refused or failing read (permissions, too
            // many open files) is a problem of the machine, not of the file.
            Self::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::InvalidData
            ),
            Self::Parse { .. } | Self::Invalid { .. } | Self::MissingColumn { .. } | Self::Parquet { .. } => {
                true
            }
            Self::NewerSchema { .. }
            | Self::AlreadyExists { .. }
            | Self::NotADataset { .. }
            | Self::Locked { .. } => false,
            Self::Files { errors } => errors.iter().all(Self::is_damage),
        }
    }

    /// The file the error concerns (None for [`DatasetError::Files`], which names several).
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Io { path, .. }
            | Self::Parse { path, .. }
            | Self::Invalid { path, .. }
            | Self::MissingColumn { path, .. }
            | Self::Parquet { path, .. }
            | Self::NewerSchema { path, .. }
            | Self::AlreadyExists { path }
            | Self::NotADataset { path } => Some(path),
            Self::Locked { lock, .. } => Some(lock),
            Self::Files { .. } => None,
        }
    }

    /// Why the file could not be used: the message without the path in front.
    pub fn reason(&self) -> String {
        match self {
            Self::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                "file missing".to_string()
            }
            Self::Io { source, .. } => source.to_string(),
            Self::Parse { line, message, .. } => format!("line {line}: {message}"),
            Self::Invalid { message, .. } | Self::Parquet { message, .. } => message.clone(),
            Self::MissingColumn { column, .. } => format!("missing required column `{column}`"),
            Self::NewerSchema { found, supported, .. } => format!(
                "written with dataset schema version {found}, this build reads up to {supported}; upgrade the tools"
            ),
            other => other.to_string(),
        }
    }

    /// Every file of the error with its reason: the files of [`DatasetError::Files`], else the
    /// error's own file (an error naming none gives an empty path).
    pub fn files(&self) -> Vec<(PathBuf, String)> {
        match self {
            Self::Files { errors } => errors.iter().flat_map(Self::files).collect(),
            e => vec![(e.path().map(Path::to_path_buf).unwrap_or_default(), e.reason())],
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
