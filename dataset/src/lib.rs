//! The dataset contract shared by `collect`, `judge` and `analyze`: the tables, each declared
//! once under [`tables`] (row struct, Arrow schema, reader, writer, CSV export and the rows of
//! `docs/dataset.md`), the wide sample tables ([`samples`]), the physical layout of a dataset
//! folder ([`store`]), the one-writer-per-dataset locks ([`lock`]), atomic file writes and
//! Parquet I/O ([`io`]), the EnergiBridge reader ([`energibridge`]) and the energy accounting
//! ([`accounting`], with [`attribution`] splitting it across overlapping requests); readers of a whole dataset report every damaged file at once ([`damage`]).
//!
//! Parquet files are the only interface between the three binaries; this crate is the only
//! code that reads or writes them.

pub mod accounting;
pub mod attribution;
pub mod damage;
pub mod energibridge;
pub mod error;
pub mod io;
pub mod lock;
pub mod prompts;
pub mod samples;
pub mod store;
pub mod tables;

pub use accounting::{Accounting, Energy, GpuSource, Window};
pub use compact_str::CompactString;
pub use damage::{Balance, Damage, DamagedFile, DamagedPart};
pub use error::{DatasetError, Result, is_broken_pipe};
pub use samples::{Channel, SampleColumn, SampleTable};
pub use store::{Dataset, Manifest, ReadOptions, StagedDataset, TrialFiles};
pub use tables::SCHEMA_VERSION;
pub use tables::judgments::Judgment;
pub use tables::key::{TrialKey, normalize_generation};
pub use tables::metrics::MetricsRow;
pub use tables::request_metrics::RequestMetricsRow;
pub use tables::requests::Request;
pub use tables::runs::RunRow;
pub use tables::server_metrics::ServerMetric;
pub use tables::trials::{Trial, TrialStatus};
pub use tables::{Columns, Label, Table};
