//! The one declaration of a table: [`crate::table!`] turns a documented struct into the struct
//! itself and its [`Columns`](super::Columns) (and [`Table`](super::Table)) implementation, from
//! which come the Arrow schema, the writer, the reader by column name, the CSV export and the
//! rows of `docs/dataset.md`.
//!
//! Why a `macro_rules!` and not a derive or `serde_arrow`: the field's doc comment *is* the
//! column's documentation, and a column carries its unit and the schema version that added it,
//! which serde has no place for; a declarative macro gives all of it from one declaration with
//! no new dependency or proc-macro crate, and the expansion is plain calls to the [`Value`]
//! trait, so a new field type (a list, an enum) is one trait implementation.
//!
//! ```text
//! dataset::table! {
//!     /// One row per prompt sent during a trial.
//!     #[table(name = "requests", file = "trials/<part>/requests.parquet")]
//!     #[derive(Debug, Clone, PartialEq, Default)]
//!     pub struct Request {
//!         /// Trial identifier.
//!         pub run_id: String,
//!         /// Time to first token; null when not measured.
//!         #[unit("ms")]
//!         pub ttft_ms: Option<f64>,
//!         /// Sampling seed sent with the request.
//!         #[since(2)]
//!         pub seed: Option<i64>,
//!     }
//! }
//! ```
//!
//! A group of columns shared by several tables (the trial's identity) is declared the same way
//! without `#[table(...)]`, and embedded as the first field with `#[flatten]`: its columns come
//! first in the file, its struct is a field of the row.
//!
//! [`Value`]: super::Value

/// Declares a table (with `#[table(name = ..., file = ...)]`) or a group of columns (without):
/// see the [module documentation](crate::tables::declare).
#[macro_export]
macro_rules! table {
    (
        $(#[doc = $tdoc:literal])*
        #[table(name = $tname:literal, file = $tfile:literal)]
        $(#[$meta:meta])*
        pub struct $name:ident { $($body:tt)* }
    ) => {
        $crate::table! {
            @columns
            $(#[doc = $tdoc])*
            $(#[$meta])*
            pub struct $name { $($body)* }
        }

        impl $crate::tables::Table for $name {
            const NAME: &'static str = $tname;
            const FILE: &'static str = $tfile;
            const DOC: &'static [&'static str] = &[$($tdoc),*];
        }
    };
    (
        @columns
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                #[flatten]
                $(#[doc = $gdoc:literal])*
                pub $gfield:ident : $gty:ty,
            )?
            $(
                $(#[doc = $doc:literal])*
                $(#[since($since:literal)])?
                $(#[unit($unit:literal)])?
                pub $field:ident : $ty:ty
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $(
                $(#[doc = $gdoc])*
                pub $gfield: $gty,
            )?
            $(
                $(#[doc = $doc])*
                $(
                    #[doc = ""]
                    #[doc = concat!("Unit: ", $unit, ".")]
                )?
                pub $field: $ty,
            )*
        }

        impl $crate::tables::Columns for $name {
            fn columns(out: &mut Vec<$crate::tables::ColumnDoc>) {
                $( <$gty as $crate::tables::Columns>::columns(out); )?
                $(
                    out.push($crate::tables::ColumnDoc {
                        name: stringify!($field),
                        kind: <$ty as $crate::tables::Value>::KIND,
                        nullable: <$ty as $crate::tables::Value>::NULLABLE,
                        unit: $crate::__or!($($unit)?; ""),
                        since: $crate::__or!($($since)?; 1),
                        doc: &[$($doc),*],
                    });
                )*
            }

            fn arrays(rows: &[&Self], out: &mut Vec<$crate::tables::ArrayRef>) {
                $({
                    let group: Vec<&$gty> = rows.iter().map(|r| &r.$gfield).collect();
                    <$gty as $crate::tables::Columns>::arrays(&group, out);
                })?
                $(
                    out.push(<$ty as $crate::tables::Value>::array(rows.iter().map(|r| &r.$field)));
                )*
            }

            fn decode(batch: &$crate::tables::Batch<'_>) -> $crate::Result<Vec<Self>> {
                $( let mut $gfield = <$gty as $crate::tables::Columns>::decode(batch)?.into_iter(); )?
                $( let mut $field = batch.column::<$ty>(stringify!($field))?.into_iter(); )*
                Ok((0..batch.rows())
                    .map(|_| Self {
                        $( $gfield: $gfield.next().unwrap_or_default(), )?
                        $( $field: $field.next().unwrap_or_default(), )*
                    })
                    .collect())
            }

            fn csv(&self, out: &mut String) {
                let mut sep = "";
                $(
                    out.push_str(sep);
                    <$gty as $crate::tables::Columns>::csv(&self.$gfield, out);
                    sep = ",";
                )?
                $(
                    out.push_str(sep);
                    <$ty as $crate::tables::Value>::csv(&self.$field, out);
                    sep = ",";
                )*
                let _ = sep;
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($body:tt)* }
    ) => {
        $crate::table! {
            @columns
            $(#[$meta])*
            pub struct $name { $($body)* }
        }
    };
}

/// The given value, or the default when none is given (`__or!(; 1)` is 1).
#[doc(hidden)]
#[macro_export]
macro_rules! __or {
    (; $default:expr) => {
        $default
    };
    ($value:expr; $default:expr) => {
        $value
    };
}
