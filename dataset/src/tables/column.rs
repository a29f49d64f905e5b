//! What a column is: its physical [`Kind`], its documentation ([`ColumnDoc`]) and the [`Value`]
//! trait that moves one Rust type in and out of an Arrow array and a CSV field. Every field type
//! a table declaration may use implements [`Value`]; the declaration itself ([`crate::table!`])
//! only names fields and types.

use crate::error::{DatasetError, Result};
use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Float64Builder, Int64Array, Int64Builder,
    ListBuilder, StringArray,
};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type};
use compact_str::CompactString;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

/// Physical type of a column, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// UTF-8 text (also every enum, stored by its label).
    Text,
    /// 64-bit signed integer.
    Int,
    /// 64-bit float.
    Float,
    /// Boolean.
    Bool,
    /// A list of 64-bit signed integers.
    IntList,
    /// A list of 64-bit floats.
    FloatList,
}

impl Kind {
    /// The Arrow type written for this kind.
    pub fn data_type(self) -> DataType {
        match self {
            Self::Text => DataType::Utf8,
            Self::Int => DataType::Int64,
            Self::Float => DataType::Float64,
            Self::Bool => DataType::Boolean,
            Self::IntList => DataType::List(Arc::new(Field::new_list_field(DataType::Int64, false))),
            Self::FloatList => DataType::List(Arc::new(Field::new_list_field(DataType::Float64, false))),
        }
    }

    /// The type as `docs/dataset.md` names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Text => "string",
            Self::Int => "int64",
            Self::Float => "float64",
            Self::Bool => "bool",
            Self::IntList => "list<int64>",
            Self::FloatList => "list<float64>",
        }
    }
}

/// One documented column.
#[derive(Debug, Clone, Copy)]
pub struct ColumnDoc {
    /// Column name in the file.
    pub name: &'static str,
    /// Physical type.
    pub kind: Kind,
    /// Whether the column may hold nulls.
    pub nullable: bool,
    /// Unit of the values (`""` for none).
    pub unit: &'static str,
    /// Schema version that introduced the column.
    pub since: u32,
    /// What the column means, as the doc lines of its field.
    pub doc: &'static [&'static str],
}

impl ColumnDoc {
    /// The doc lines joined into one paragraph.
    pub fn text(&self) -> String {
        join_doc(self.doc)
    }

    /// The Arrow field written for this column.
    pub fn field(&self) -> Field {
        Field::new(self.name, self.kind.data_type(), self.nullable)
    }
}

/// Doc-comment lines (each with its leading space) joined into one paragraph.
pub fn join_doc(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where a column is being read, for error messages.
#[derive(Debug, Clone, Copy)]
pub struct ColumnAt<'a> {
    /// The file.
    pub path: &'a Path,
    /// The column's name.
    pub column: &'a str,
}

impl ColumnAt<'_> {
    /// An error about this column.
    pub fn error(&self, message: impl std::fmt::Display) -> DatasetError {
        DatasetError::invalid(self.path, format!("column `{}`: {message}", self.column))
    }
}

/// A Rust type that can be a column: how it is written to Arrow and CSV and read back.
pub trait Value: Sized + Default {
    /// The physical type.
    const KIND: Kind;
    /// Whether the column may hold nulls (true exactly for `Option<_>`).
    const NULLABLE: bool;
    /// The array of a column holding these values, in row order.
    fn array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef
    where
        Self: 'a;
    /// Every value of a column read from a file (cast to [`Value::KIND`] first). A non-nullable
    /// type refuses a column with nulls.
    fn decode(array: &ArrayRef, at: ColumnAt<'_>) -> Result<Vec<Self>>;
    /// Appends the value as one CSV field (quoted where needed; null is empty).
    fn csv(&self, out: &mut String);
}

/// Casts a column read from a file to the kind the declaration expects (a file may store an
/// integer column as int32, or text dictionary-encoded).
fn cast(array: &ArrayRef, kind: Kind, at: ColumnAt<'_>) -> Result<ArrayRef> {
    if array.data_type() == &kind.data_type() {
        return Ok(array.clone());
    }
    arrow::compute::cast(array, &kind.data_type())
        .map_err(|e| at.error(format_args!("cannot be read as {}: {e}", kind.label())))
}

fn no_nulls(array: &ArrayRef, at: ColumnAt<'_>) -> Result<()> {
    if array.null_count() > 0 {
        return Err(DatasetError::invalid(
            at.path,
            format!(
                "column `{}` holds nulls but the contract requires a value",
                at.column
            ),
        ));
    }
    Ok(())
}

/// Appends text as a CSV field: quoted when empty (so it differs from null) or when it holds a
/// comma, a quote or a line break, quotes doubled. This is the rule of the tables this project
/// wrote before (polars' `QuoteStyle::Necessary`), kept so their files stay byte-identical.
pub fn csv_text(s: &str, out: &mut String) {
    if s.is_empty() || s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Appends a float as a CSV field: the shortest text that reads back as the same number
/// (`ryu`: `3.0`, `0.00009276`, `3.28e-9`, `NaN`, `inf`), a positive exponent written with its
/// sign (`1.27e+31`) as this project's tables always had it.
pub fn csv_float(v: f64, out: &mut String) {
    let mut buf = ryu::Buffer::new();
    let text = buf.format(v);
    match text.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => {
            out.push_str(mantissa);
            out.push_str("e+");
            out.push_str(exp);
        }
        _ => out.push_str(text),
    }
}

/// Each scalar type twice: as itself (non-nullable) and as `Option<_>` (nullable). `$item`
/// borrows the value as the array builder wants it (text is not copied).
macro_rules! scalar {
    ($ty:ty, $kind:ident, $array:ty, $as:ident, $item:expr, $csv:expr) => {
        scalar!($ty, $kind, $array, $as, $item, $csv, |values: Vec<_>| {
            values.into_iter().collect::<$array>()
        });
    };
    ($ty:ty, $kind:ident, $array:ty, $as:ident, $item:expr, $csv:expr, $collect:expr) => {
        impl Value for $ty {
            const KIND: Kind = Kind::$kind;
            const NULLABLE: bool = false;
            fn array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
                let collect: fn(Vec<_>) -> $array = $collect;
                Arc::new(collect(values.map(|v| Some($item(v))).collect()))
            }
            fn decode(array: &ArrayRef, at: ColumnAt<'_>) -> Result<Vec<Self>> {
                no_nulls(array, at)?;
                let cast = cast(array, Kind::$kind, at)?;
                Ok($as(&cast)
                    .iter()
                    .map(|v| v.map(Into::into).unwrap_or_default())
                    .collect())
            }
            fn csv(&self, out: &mut String) {
                let write: fn(&$ty, &mut String) = $csv;
                write(self, out)
            }
        }

        impl Value for Option<$ty> {
            const KIND: Kind = Kind::$kind;
            const NULLABLE: bool = true;
            fn array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
                let collect: fn(Vec<_>) -> $array = $collect;
                Arc::new(collect(values.map(|v| v.as_ref().map($item)).collect()))
            }
            fn decode(array: &ArrayRef, at: ColumnAt<'_>) -> Result<Vec<Self>> {
                let cast = cast(array, Kind::$kind, at)?;
                Ok($as(&cast).iter().map(|v| v.map(Into::into)).collect())
            }
            fn csv(&self, out: &mut String) {
                if let Some(v) = self {
                    v.csv(out)
                }
            }
        }
    };
}

fn as_text(a: &ArrayRef) -> &StringArray {
    a.as_string::<i32>()
}
fn as_int(a: &ArrayRef) -> &Int64Array {
    a.as_primitive::<Int64Type>()
}
fn as_float(a: &ArrayRef) -> &Float64Array {
    a.as_primitive::<Float64Type>()
}
fn as_bool(a: &ArrayRef) -> &BooleanArray {
    a.as_boolean()
}

// The builder closure of `scalar!` takes `&Self`, here `&String`.
#[allow(clippy::ptr_arg)]
fn str_of(v: &String) -> &str {
    v.as_str()
}

/// A text column with its bytes allocated once at their total: collected value by value, the
/// builder grew by doubling, which faulted in twice the prompts' and responses' size of fresh
/// pages (a tenth of an import's CPU time on a VM).
fn text_array(values: Vec<Option<&str>>) -> StringArray {
    let bytes = values.iter().flatten().map(|s| s.len()).sum();
    let mut builder = arrow::array::StringBuilder::with_capacity(values.len(), bytes);
    for v in values {
        builder.append_option(v);
    }
    builder.finish()
}

scalar!(
    String,
    Text,
    StringArray,
    as_text,
    str_of,
    |v, out| csv_text(v, out),
    text_array
);
scalar!(
    CompactString,
    Text,
    StringArray,
    as_text,
    CompactString::as_str,
    |v, out| csv_text(v, out),
    text_array
);
scalar!(i64, Int, Int64Array, as_int, |v: &i64| *v, |v, out| {
    let _ = write!(out, "{v}");
});
scalar!(f64, Float, Float64Array, as_float, |v: &f64| *v, |v, out| {
    csv_float(*v, out)
});
scalar!(bool, Bool, BooleanArray, as_bool, |v: &bool| *v, |v, out| {
    out.push_str(if *v { "true" } else { "false" })
});

/// List columns (per-chunk times, per-chunk token counts): `Vec<_>` is an empty list where
/// nothing was recorded, `Option<Vec<_>>` null.
macro_rules! list {
    ($elem:ty, $kind:ident, $builder:ty, $as:ident) => {
        impl Value for Vec<$elem> {
            const KIND: Kind = Kind::$kind;
            const NULLABLE: bool = false;
            fn array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
                let mut b = ListBuilder::new(<$builder>::new()).with_field(Arc::new(Field::new_list_field(
                    <$elem as Value>::KIND.data_type(),
                    false,
                )));
                for v in values {
                    b.values().append_slice(v);
                    b.append(true);
                }
                Arc::new(b.finish())
            }
            fn decode(array: &ArrayRef, at: ColumnAt<'_>) -> Result<Vec<Self>> {
                no_nulls(array, at)?;
                Ok(<Option<Vec<$elem>>>::decode(array, at)?
                    .into_iter()
                    .map(Option::unwrap_or_default)
                    .collect())
            }
            fn csv(&self, out: &mut String) {
                let items: Vec<String> = self
                    .iter()
                    .map(|x| {
                        let mut s = String::new();
                        x.csv(&mut s);
                        s
                    })
                    .collect();
                csv_text(&format!("[{}]", items.join(",")), out);
            }
        }

        impl Value for Option<Vec<$elem>> {
            const KIND: Kind = Kind::$kind;
            const NULLABLE: bool = true;
            fn array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
                let mut b = ListBuilder::new(<$builder>::new()).with_field(Arc::new(Field::new_list_field(
                    <$elem as Value>::KIND.data_type(),
                    false,
                )));
                for v in values {
                    match v {
                        Some(v) => {
                            b.values().append_slice(v);
                            b.append(true);
                        }
                        None => b.append(false),
                    }
                }
                Arc::new(b.finish())
            }
            fn decode(array: &ArrayRef, at: ColumnAt<'_>) -> Result<Vec<Self>> {
                let cast = cast(array, Kind::$kind, at)?;
                let list = cast.as_list::<i32>();
                (0..list.len())
                    .map(|i| {
                        if list.is_null(i) {
                            return Ok(None);
                        }
                        let inner = list.value(i);
                        let values = $as(&inner);
                        if values.null_count() > 0 {
                            return Err(at.error(format_args!("row {i}: a list holds a null")));
                        }
                        Ok(Some(values.values().to_vec()))
                    })
                    .collect()
            }
            fn csv(&self, out: &mut String) {
                if let Some(v) = self {
                    v.csv(out)
                }
            }
        }
    };
}

list!(i64, IntList, Int64Builder, as_int);
list!(f64, FloatList, Float64Builder, as_float);

/// An enum stored as text by its label.
pub trait Label: Copy + Default + 'static {
    /// What the labels name, for errors (`trial status`).
    const WHAT: &'static str;
    /// The label written.
    fn as_str(self) -> &'static str;
    /// The value of a stored label, None when unknown.
    fn parse(label: &str) -> Option<Self>;
}

/// Implements [`Value`] for enums with a [`Label`] (and their `Option`).
#[macro_export]
macro_rules! label_value {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::tables::Value for $ty {
            const KIND: $crate::tables::Kind = $crate::tables::Kind::Text;
            const NULLABLE: bool = false;
            fn array<'a>(values: impl Iterator<Item = &'a Self>) -> $crate::tables::ArrayRef {
                $crate::tables::label_array(values.map(|v| Some(*v)))
            }
            fn decode(
                array: &$crate::tables::ArrayRef,
                at: $crate::tables::ColumnAt<'_>,
            ) -> $crate::Result<Vec<Self>> {
                <Option<$ty> as $crate::tables::Value>::decode(array, at)?
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| v.ok_or_else(|| $crate::tables::null_label::<$ty>(at, i)))
                    .collect()
            }
            fn csv(&self, out: &mut String) {
                out.push_str($crate::tables::Label::as_str(*self));
            }
        }

        impl $crate::tables::Value for Option<$ty> {
            const KIND: $crate::tables::Kind = $crate::tables::Kind::Text;
            const NULLABLE: bool = true;
            fn array<'a>(values: impl Iterator<Item = &'a Self>) -> $crate::tables::ArrayRef {
                $crate::tables::label_array(values.copied())
            }
            fn decode(
                array: &$crate::tables::ArrayRef,
                at: $crate::tables::ColumnAt<'_>,
            ) -> $crate::Result<Vec<Self>> {
                $crate::tables::decode_labels(array, at)
            }
            fn csv(&self, out: &mut String) {
                if let Some(v) = self {
                    out.push_str($crate::tables::Label::as_str(*v));
                }
            }
        }
    )*};
}

/// The text array of some labels.
pub fn label_array<T: Label>(values: impl Iterator<Item = Option<T>>) -> ArrayRef {
    Arc::new(values.map(|v| v.map(T::as_str)).collect::<StringArray>())
}

/// Reads labels, refusing an unknown one with its row.
pub fn decode_labels<T: Label>(array: &ArrayRef, at: ColumnAt<'_>) -> Result<Vec<Option<T>>> {
    let cast = cast(array, Kind::Text, at)?;
    as_text(&cast)
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            None => Ok(None),
            Some(label) => T::parse(label).map(Some).ok_or_else(|| {
                DatasetError::invalid(at.path, format!("row {i}: unknown {} `{label}`", T::WHAT))
            }),
        })
        .collect()
}

/// The error of a null in a required label column.
pub fn null_label<T: Label>(at: ColumnAt<'_>, row: usize) -> DatasetError {
    DatasetError::invalid(
        at.path,
        format!(
            "row {row}: column `{}` holds no {} but the contract requires one",
            at.column,
            T::WHAT
        ),
    )
}
