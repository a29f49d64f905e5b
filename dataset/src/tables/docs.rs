//! `docs/dataset.md`, rendered from the declarations (a test keeps the file equal to
//! [`render_markdown`]).

use super::{ColumnDoc, Table, columns, join_doc};
use super::{
    SCHEMA_VERSION, judgments, metrics, request_metrics, requests, runs, samples, server_metrics, trials,
};
use std::fmt::Write as _;

/// One documented table.
#[derive(Debug, Clone)]
pub struct TableDoc {
    /// Table name.
    pub name: &'static str,
    /// Where its files live inside a dataset folder.
    pub location: &'static str,
    /// What one row is.
    pub doc: String,
    /// Its columns (the wide sample tables: their fixed columns).
    pub columns: Vec<ColumnDoc>,
}

impl TableDoc {
    /// The documentation of a declared table.
    pub fn of<T: Table>() -> Self {
        Self {
            name: T::NAME,
            location: T::FILE,
            doc: join_doc(T::DOC),
            columns: columns::<T>(),
        }
    }

    /// The schema version that introduced the table (its earliest column).
    pub fn since(&self) -> u32 {
        self.columns.iter().map(|c| c.since).min().unwrap_or(1)
    }
}

/// Every table of the contract, in documentation order.
pub fn tables() -> Vec<TableDoc> {
    vec![
        TableDoc::of::<runs::RunRow>(),
        TableDoc::of::<trials::Trial>(),
        TableDoc::of::<requests::Request>(),
        samples::samples(),
        samples::baseline(),
        TableDoc::of::<server_metrics::ServerMetric>(),
        TableDoc::of::<judgments::Judgment>(),
        TableDoc::of::<metrics::MetricsRow>(),
        TableDoc::of::<request_metrics::RequestMetricsRow>(),
    ]
}

/// Renders the contract as Markdown (the body of `docs/dataset.md`).
pub fn render_markdown() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!-- generated from the table declarations in dataset/src/tables/ by `cargo test -p dataset` (UPDATE_DOCS=1 rewrites it) -->\n"
    );
    let _ = writeln!(out, "# Dataset contract, schema version {SCHEMA_VERSION}\n");
    let _ = writeln!(out, "{}\n", include_str!("../../../docs/dataset-intro.md").trim());
    for table in tables() {
        let _ = writeln!(
            out,
            "## `{}` — `{}`\n\n{}\n",
            table.name, table.location, table.doc
        );
        let _ = writeln!(out, "| column | type | null | unit | since | meaning |");
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for c in &table.columns {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} |",
                c.name,
                c.kind.label(),
                if c.nullable { "yes" } else { "no" },
                c.unit,
                c.since,
                c.text()
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
    for (name, unit, doc) in samples::CHANNELS {
        let _ = writeln!(out, "| `{name}` | {unit} | {doc} |");
    }
    out
}
