//! The dataset contract shared by `collect`, `judge` and `analyze`: record types with their
//! units ([`records`], documented column by column in [`schema`]), the Parquet readers and
//! writers ([`table`], [`samples`]), the physical layout of a dataset folder ([`store`]), the
//! EnergiBridge reader ([`energibridge`]) and the energy accounting ([`accounting`]).
//!
//! Parquet files are the only interface between the three binaries; this crate is the only
//! code that reads or writes them.

pub mod accounting;
pub mod energibridge;
pub mod error;
pub mod prompts;
pub mod records;
pub mod samples;
pub mod schema;
pub mod store;
pub mod table;

pub use accounting::{Accounting, Energy, GpuSource, Window};
pub use error::{DatasetError, Result, is_broken_pipe};
pub use records::{
    Judgment, MetricsRow, Request, RequestMetricsRow, RunRow, Trial, TrialStatus, normalize_generation,
};
pub use samples::{Channel, SampleColumn, SampleTable};
pub use schema::SCHEMA_VERSION;
pub use store::{Dataset, Manifest, ReadOptions, StagedDataset, TrialFiles};
