//! The declaration machinery itself: every field type round-trips through Arrow, absent
//! nullable columns read as null, bad files are refused with the column and row, CSV follows
//! its rules, and every table keeps the versioning rule.

use super::*;
use crate::accounting::{Accounting, GpuSource};
use arrow::array::Int64Array;

crate::table! {
    /// A table using every kind of field, for these tests only.
    #[table(name = "every_kind", file = "test/every_kind.parquet")]
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct EveryKind {
        #[flatten]
        /// The embedded identity.
        pub key: key::TrialKey,
        /// Text.
        pub text: String,
        /// Maybe text.
        pub maybe_text: Option<String>,
        /// Count.
        pub count: i64,
        /// Maybe a count.
        pub maybe_count: Option<i64>,
        /// Value.
        #[unit("J")]
        pub value: f64,
        /// Maybe a value.
        pub maybe_value: Option<f64>,
        /// Flag.
        pub flag: bool,
        /// Maybe a flag.
        pub maybe_flag: Option<bool>,
        /// Per-chunk offsets.
        #[since(2)]
        #[unit("us")]
        pub offsets: Option<Vec<i64>>,
        /// Per-chunk values.
        pub values: Vec<f64>,
        /// An enum.
        pub accounting: Accounting,
        /// Maybe an enum.
        #[since(3)]
        pub source: Option<GpuSource>,
    }
}

fn full(i: i64) -> EveryKind {
    EveryKind {
        key: key::TrialKey {
            run_id: format!("run_{i}_repetition_1").into(),
            run: i,
            repetition: 1,
            generation: "3.1".into(),
            model_size: "8B".into(),
            model: "Llama-3.1-8B".into(),
            task: "CB".into(),
            ..Default::default()
        },
        text: "a, \"quoted\" one".into(),
        maybe_text: Some(String::new()),
        count: -7,
        maybe_count: Some(8),
        value: 0.5,
        maybe_value: Some(3.281767575450493e-9),
        flag: true,
        maybe_flag: Some(false),
        offsets: Some(vec![1, 20, 300]),
        values: vec![],
        accounting: Accounting::Published,
        source: Some(GpuSource::PowerTimesInterval),
    }
}

fn decode(batch: &RecordBatch) -> Result<Vec<EveryKind>> {
    EveryKind::decode(&Batch::new(batch, Path::new("t.parquet"), &[]))
}

#[test]
fn every_field_kind_round_trips_through_a_batch() {
    let rows = vec![full(1), EveryKind::default(), full(3)];
    let b = batch(&rows);
    assert_eq!(b.num_columns(), 11 + 12);
    assert_eq!(decode(&b).unwrap(), rows);
}

#[test]
fn the_schema_follows_the_declaration() {
    let cols = columns::<EveryKind>();
    let names: Vec<&str> = cols.iter().map(|c| c.name).collect();
    assert_eq!(
        &names[..12],
        [
            "run_id",
            "run",
            "repetition",
            "generation",
            "model_size",
            "model",
            "task",
            "concurrency",
            "arrival_rate_per_s",
            "power_limit_w",
            "sm_clock_mhz",
            "text"
        ]
    );
    let offsets = cols.iter().find(|c| c.name == "offsets").unwrap();
    assert_eq!(
        (offsets.kind, offsets.nullable, offsets.unit, offsets.since),
        (Kind::IntList, true, "us", 2)
    );
    assert_eq!(offsets.text(), "Per-chunk offsets.");
    let value = cols.iter().find(|c| c.name == "value").unwrap();
    assert_eq!(
        (value.kind, value.nullable, value.unit, value.since),
        (Kind::Float, false, "J", 1)
    );
    assert_eq!(
        cols.iter().find(|c| c.name == "accounting").unwrap().kind,
        Kind::Text
    );
}

#[test]
fn absent_nullable_columns_read_as_null_and_absent_required_ones_are_refused() {
    let b = batch(&[full(1)]);
    let without = |name: &str| {
        let keep: Vec<usize> = (0..b.num_columns())
            .filter(|&i| b.schema().field(i).name() != name)
            .collect();
        b.project(&keep).unwrap()
    };
    let read = decode(&without("source")).unwrap();
    assert_eq!(read[0].source, None);
    assert_eq!(read[0].offsets, full(1).offsets);
    let err = decode(&without("count")).unwrap_err().to_string();
    assert!(
        err.contains("t.parquet") && err.contains("missing required column `count`"),
        "{err}"
    );
}

#[test]
fn skipped_columns_are_not_decoded() {
    let b = batch(&[full(1)]);
    let read = EveryKind::decode(&Batch::new(&b, Path::new("t.parquet"), &["text"])).unwrap();
    assert_eq!(read[0].text, "");
    assert_eq!(read[0].count, -7);
}

/// `b` with the column `name` replaced by `array` (its field taking the array's type and
/// nullability).
fn replaced(b: &RecordBatch, name: &str, array: ArrayRef) -> RecordBatch {
    let i = b.schema().index_of(name).unwrap();
    let mut cols = b.columns().to_vec();
    let mut fields: Vec<_> = b.schema().fields().iter().cloned().collect();
    fields[i] = Arc::new(arrow::datatypes::Field::new(
        name,
        array.data_type().clone(),
        array.null_count() > 0,
    ));
    cols[i] = array;
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
}

#[test]
fn an_unknown_label_and_a_null_in_a_required_column_name_the_row() {
    let b = batch(&[full(1), full(2)]);
    let bad = replaced(
        &b,
        "accounting",
        Arc::new(arrow::array::StringArray::from(vec!["published", "guessed"])),
    );
    let err = decode(&bad).unwrap_err().to_string();
    assert!(err.contains("row 1: unknown accounting `guessed`"), "{err}");
    let bad = replaced(&b, "count", Arc::new(Int64Array::from(vec![Some(1), None])));
    let err = decode(&bad).unwrap_err().to_string();
    assert!(err.contains("column `count` holds nulls"), "{err}");
}

#[test]
fn a_column_stored_with_a_narrower_type_is_cast() {
    let b = batch(&[full(1)]);
    let narrow = replaced(&b, "count", Arc::new(arrow::array::Int32Array::from(vec![-7])));
    assert_eq!(decode(&narrow).unwrap()[0].count, -7);
}

#[test]
fn csv_quotes_empty_and_special_text_and_writes_null_as_empty() {
    let mut out = Vec::new();
    write_csv(&[full(1), EveryKind::default()], &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], csv_header::<EveryKind>());
    assert_eq!(
        lines[1],
        "run_1_repetition_1,1,1,3.1,8B,Llama-3.1-8B,CB,,,,,\"a, \"\"quoted\"\" one\",\"\",-7,8,0.5,3.281767575450493e-9,true,false,\"[1,20,300]\",[],published,power_x_interval"
    );
    assert_eq!(
        lines[2],
        "\"\",0,0,\"\",\"\",\"\",\"\",,,,,\"\",,0,,0.0,,false,,,[],corrected,"
    );
    let mut s = String::new();
    for (v, text) in [
        (9.276467917989647e-5, "0.00009276467917989647"),
        (1.265444562692245e31, "1.265444562692245e+31"),
        (f64::NAN, "NaN"),
        (3.0, "3.0"),
    ] {
        s.clear();
        csv_float(v, &mut s);
        assert_eq!(s, text);
    }
}

#[test]
fn columns_added_after_a_table_was_introduced_are_nullable() {
    for table in docs::tables() {
        let first = table.since();
        for c in &table.columns {
            assert!(
                c.since == first || c.nullable,
                "{}.{} is new in version {} but not nullable: files of older versions could not be read",
                table.name,
                c.name,
                c.since
            );
            assert!(c.since <= SCHEMA_VERSION, "{}.{}", table.name, c.name);
            assert!(!c.text().is_empty(), "{}.{} has no doc", table.name, c.name);
        }
    }
}
