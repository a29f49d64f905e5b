//! The one reader of the published layout's delimited tables (`run_table.csv`,
//! `prompts_out.tsv`, the study's run tables): a header whose named columns are looked up once,
//! then records with typed field access. Every error names the file, and the line where there
//! is one. Text that is not UTF-8 is read lossily; blank lines are skipped.

use dataset::DatasetError;
use std::path::Path;

/// A column found in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Position in each record.
    pub index: usize,
    /// The header's name for it, as error messages give it.
    pub name: &'static str,
}

/// A delimited file being read: its header, then its records (an iterator). The file is in
/// memory, so records are split with SIMD searches over it (simd-csv's `TotalReader`: several
/// times faster than a byte-at-a-time state machine on the published prompts' 97 MB of text);
/// a record's line is counted from its byte offset as the reader goes.
pub struct CsvTable<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    header: Vec<String>,
    reader: simd_csv::TotalReader<'a>,
    record: simd_csv::ByteRecord,
    /// The line of byte `counted`: lines are counted up to each record's start.
    counted: usize,
    line: u64,
}

impl<'a> CsvTable<'a> {
    /// Starts reading `bytes`, the contents of `path`, and reads its header (names trimmed).
    /// An empty file is an error saying it lacks `expected_header`.
    pub fn new(
        path: &'a Path,
        bytes: &'a [u8],
        delimiter: u8,
        expected_header: &str,
    ) -> Result<Self, DatasetError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(DatasetError::invalid(
                path,
                format!("empty file: expected a header `{expected_header}`"),
            ));
        }
        let mut reader = simd_csv::TotalReaderBuilder::new()
            .delimiter(delimiter)
            .from_bytes(bytes);
        let header = reader
            .byte_headers()
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_string())
            .collect();
        Ok(Self {
            path,
            bytes,
            header,
            reader,
            record: simd_csv::ByteRecord::new(),
            counted: 0,
            line: 1,
        })
    }

    /// The line the record starting at or after byte `offset` is on (blank lines before it
    /// skipped, as the reader skips them).
    fn line_at(&mut self, offset: usize) -> u64 {
        let rest = self.bytes.get(offset..).unwrap_or_default();
        let start = offset + rest.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
        let start = start.max(self.counted).min(self.bytes.len());
        self.line += memchr::memchr_iter(b'\n', &self.bytes[self.counted..start]).count() as u64;
        self.counted = start;
        self.line
    }

    /// The column called `name`, if the header has it.
    pub fn column(&self, name: &'static str) -> Option<Column> {
        let index = self.header.iter().position(|h| h == name)?;
        Some(Column { index, name })
    }

    /// The column called `name`; its absence is a `missing required column` error.
    pub fn require(&self, name: &'static str) -> Result<Column, DatasetError> {
        self.column(name)
            .ok_or_else(|| DatasetError::missing_column(self.path, name))
    }
}

impl std::fmt::Debug for CsvTable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvTable")
            .field("path", &self.path)
            .field("header", &self.header)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

impl<'a> Iterator for CsvTable<'a> {
    type Item = Result<Record<'a>, DatasetError>;

    /// The next non-blank record, which must have as many fields as the header.
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let offset = self.reader.position() as usize;
            if !self.reader.read_byte_record(&mut self.record) {
                return None;
            }
            let line = self.line_at(offset);
            let fields = &self.record;
            if fields.len() == 1 && fields.get(0).is_some_and(<[u8]>::is_empty) {
                continue;
            }
            if fields.len() != self.header.len() {
                let hint = if fields.len() < self.header.len() {
                    " (truncated file?)"
                } else {
                    ""
                };
                return Some(Err(DatasetError::parse(
                    self.path,
                    line,
                    format!(
                        "expected {} fields as in the header, found {}{hint}",
                        self.header.len(),
                        fields.len()
                    ),
                )));
            }
            return Some(Ok(Record {
                path: self.path,
                line,
                fields: fields.clone(),
            }));
        }
    }
}

/// One record of a [`CsvTable`].
#[derive(Debug)]
pub struct Record<'a> {
    path: &'a Path,
    line: u64,
    fields: simd_csv::ByteRecord,
}

impl Record<'_> {
    /// Its 1-based line number in the file.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// An error at this record's line.
    pub fn error(&self, message: impl Into<String>) -> DatasetError {
        DatasetError::parse(self.path, self.line, message)
    }

    /// The field's bytes as written.
    pub fn raw(&self, c: Column) -> &[u8] {
        self.fields.get(c.index).unwrap_or_default()
    }

    /// The field as text, trimmed (invalid UTF-8 replaced by U+FFFD).
    pub fn text(&self, c: Column) -> String {
        String::from_utf8_lossy(self.raw(c)).trim().to_string()
    }

    /// The field as text, untrimmed, and whether it had to be read lossily (it was not UTF-8).
    pub fn verbatim(&self, c: Column) -> (String, bool) {
        let b = self.raw(c);
        match std::str::from_utf8(b) {
            Ok(s) => (s.to_string(), false),
            Err(_) => (String::from_utf8_lossy(b).into_owned(), true),
        }
    }

    /// The field as a number.
    pub fn number(&self, c: Column) -> Result<f64, DatasetError> {
        self.number_from(c, &self.text(c))
    }

    /// The field as a number, `None` when it is empty.
    pub fn optional_number(&self, c: Column) -> Result<Option<f64>, DatasetError> {
        let s = self.text(c);
        if s.is_empty() {
            return Ok(None);
        }
        self.number_from(c, &s).map(Some)
    }

    /// `text`, derived from the field, as a number; an error names the field's column.
    pub fn number_from(&self, c: Column, text: &str) -> Result<f64, DatasetError> {
        text.trim()
            .parse()
            .map_err(|_| self.error(format!("column `{}`: `{text}` is not a number", c.name)))
    }

    /// The field as an integer (`12` or `12.0`).
    pub fn integer(&self, c: Column) -> Result<i64, DatasetError> {
        let s = self.text(c);
        s.parse::<i64>()
            .ok()
            .or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| self.error(format!("column `{}`: `{s}` is not an integer", c.name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table<'a>(bytes: &'a [u8]) -> CsvTable<'a> {
        match CsvTable::new(Path::new("t.csv"), bytes, b',', "a,b") {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn fields_are_read_by_named_column_and_blank_lines_are_skipped() {
        let mut t = table(b" a , b\n1,x y \n\n2.0, \n");
        let (a, b) = (t.require("a").expect("a"), t.require("b").expect("b"));
        let first = t.next().expect("a record").expect("readable");
        assert_eq!((first.line(), first.integer(a).expect("int")), (2, 1));
        assert_eq!(first.text(b), "x y");
        assert_eq!(first.verbatim(b), ("x y ".to_string(), false));
        let second = t.next().expect("a record").expect("readable");
        assert_eq!(second.number(a).expect("number"), 2.0);
        assert_eq!(second.optional_number(b).expect("empty"), None);
        assert!(t.next().is_none());
    }

    #[test]
    fn quoted_fields_are_unescaped_and_lines_count_from_byte_offsets() {
        let bytes = b"a\tb\r\n\"say \"\"hi\"\"\"\t\"two\nlines\"\n\n\n3\t\"x\ty\"\n4\n";
        let mut t = CsvTable::new(Path::new("t.tsv"), bytes, b'\t', "a b").expect("header");
        let (a, b) = (t.require("a").expect("a"), t.require("b").expect("b"));
        let first = t.next().expect("a record").expect("readable");
        assert_eq!(
            (first.line(), first.text(a), first.text(b)),
            (2, "say \"hi\"".into(), "two\nlines".into())
        );
        let second = t.next().expect("a record").expect("readable");
        assert_eq!((second.line(), second.raw(b)), (6, &b"x\ty"[..]));
        assert_eq!(
            t.next().expect("a record").expect_err("short").to_string(),
            "t.tsv:7: expected 2 fields as in the header, found 1 (truncated file?)"
        );
        assert!(t.next().is_none());
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        let mut t = table(b"a,b\nx,1\n1\n");
        assert_eq!(
            t.require("c").expect_err("no c").to_string(),
            "t.csv: missing required column `c`"
        );
        let a = t.require("a").expect("a");
        let first = t.next().expect("a record").expect("readable");
        assert_eq!(
            first.number(a).expect_err("not a number").to_string(),
            "t.csv:2: column `a`: `x` is not a number"
        );
        assert_eq!(
            t.next().expect("a record").expect_err("short").to_string(),
            "t.csv:3: expected 2 fields as in the header, found 1 (truncated file?)"
        );
        let empty = CsvTable::new(Path::new("e.csv"), b" \n", b',', "a,b").expect_err("empty");
        assert_eq!(empty.to_string(), "e.csv: empty file: expected a header `a,b`");
    }
}
