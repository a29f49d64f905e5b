//! Reader for EnergiBridge's output: the samples CSV (plain or gzip-compressed, any column set)
//! and its one-line summary. `analyze import` and `collect --energy energibridge` both read
//! EnergiBridge files through here.

use crate::error::{DatasetError, IoContext, Result};
use crate::samples::{SampleColumn, SampleTable};
use std::path::Path;

/// The result of reading one samples CSV: the table and the warnings worth showing the user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CsvRead {
    /// The samples.
    pub table: SampleTable,
    /// Non-fatal problems (time running backwards, undecodable header bytes), each naming the
    /// file and line.
    pub warnings: Vec<String>,
}

/// Reads a file and inflates it when it is gzip-compressed (by its magic bytes, not its name).
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).at(path)?;
    decode_maybe_gzip(raw, path)
}

/// Inflates bytes read from `path` when they are gzip-compressed (by their magic bytes);
/// returns them unchanged otherwise.
pub fn decode_maybe_gzip(raw: Vec<u8>, path: &Path) -> Result<Vec<u8>> {
    if raw.len() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
        inflate_gzip(&raw).map_err(|m| DatasetError::invalid(path, m))
    } else {
        Ok(raw)
    }
}

/// Inflates a gzip buffer with libdeflate (about 3x faster than zlib). The output size is taken
/// from the gzip trailer, checked against a sane bound so a truncated file cannot ask for
/// gigabytes.
pub fn inflate_gzip(raw: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    inflate_gzip_into(raw, &mut out)?;
    Ok(out)
}

/// [`inflate_gzip`] into a buffer the caller keeps: its capacity is reused, so a loop over many
/// files does not fault in fresh zeroed pages for every one.
pub fn inflate_gzip_into(raw: &[u8], out: &mut Vec<u8>) -> std::result::Result<(), String> {
    let bad = || "not a complete gzip stream (truncated or corrupt)".to_string();
    if raw.len() < 18 {
        return Err(bad());
    }
    let mut trailer = [0u8; 4];
    trailer.copy_from_slice(&raw[raw.len() - 4..]);
    let stated = u32::from_le_bytes(trailer) as usize;
    let limit = raw.len().saturating_mul(1032).max(1 << 20);
    let mut size = if stated > 0 && stated <= limit {
        stated
    } else {
        raw.len() * 8
    };
    let mut decompressor = libdeflater::Decompressor::new();
    loop {
        // Only the bytes not yet initialised are zeroed; a reused buffer has them already.
        out.resize(size, 0);
        match decompressor.gzip_decompress(raw, &mut out[..size]) {
            Ok(n) => {
                out.truncate(n);
                return Ok(());
            }
            Err(libdeflater::DecompressionError::InsufficientSpace) if size < limit => {
                size = (size * 2).min(limit);
            }
            Err(_) => {
                out.clear();
                return Err(bad());
            }
        }
    }
}

/// Reads an EnergiBridge samples CSV (`energibridge.csv` or `energibridge.csv.gz`).
pub fn read_samples_csv(path: &Path) -> Result<CsvRead> {
    let bytes = read_maybe_gzip(path)?;
    parse_samples_csv(&bytes, path)
}

/// Parses EnergiBridge CSV bytes. `Time` (ms since the epoch) is required; every other column
/// is kept as a float channel (an empty cell is a missing value). Errors name the file, the
/// line and the column; time running backwards is a warning, not an error.
pub fn parse_samples_csv(bytes: &[u8], path: &Path) -> Result<CsvRead> {
    // Quoted fields (which EnergiBridge never writes) go through a SIMD CSV splitter (memchr
    // over the inflated bytes, no copy of a field); everything else through one pass that
    // splits and parses at once (see `parse_unquoted`).
    parse_samples(bytes, path, memchr::memchr(b'"', bytes).is_some())
}

/// [`parse_samples_csv`] through the general CSV splitter (`quoted`) or the one-pass parser
/// for unquoted files.
fn parse_samples(bytes: &[u8], path: &Path, quoted: bool) -> Result<CsvRead> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DatasetError::invalid(
            path,
            "empty file: expected an EnergiBridge CSV header",
        ));
    }
    let mut warnings = Vec::new();
    let mut reader = simd_csv::ZeroCopyReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let header = reader
        .byte_headers()
        .map_err(|e| DatasetError::parse(path, 1, e.to_string()))?;
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect();
    if header.iter().any(|h| std::str::from_utf8(h).is_err()) {
        warnings.push(format!(
            "{}:1: header holds bytes that are not UTF-8; replaced by U+FFFD",
            path.display()
        ));
    }
    let time_col = names
        .iter()
        .position(|n| n == "Time")
        .ok_or_else(|| DatasetError::missing_column(path, "Time"))?;
    // Count the lines to allocate every column once: growing ~75 vectors by doubling cost a
    // copy and fresh zeroed pages each time (a fifth of the import's CPU in a profile), while
    // counting newlines is a vectorised pass over bytes already in cache.
    let estimate = memchr::memchr_iter(b'\n', bytes).count() + 1;
    let mut table = Builder::new(path, &names, time_col, estimate, warnings);
    if quoted {
        // The line a record starts on, from its byte offset: counted only when a message
        // needs it.
        let line_at = |offset: u64| -> u64 {
            let end = (offset as usize).min(bytes.len());
            1 + memchr::memchr_iter(b'\n', &bytes[..end]).count() as u64
        };
        loop {
            let offset = reader.position();
            let record = match reader.read_byte_record() {
                Ok(Some(record)) => record,
                Ok(None) => break,
                Err(e) => return Err(DatasetError::parse(path, line_at(offset), e.to_string())),
            };
            if record.len() == 1 && record.as_slice().trim_ascii().is_empty() {
                // A blank line (e.g. a trailing one) carries no sample.
                continue;
            }
            let line = || line_at(offset);
            table.check_width(record.len(), line)?;
            for (c, field) in record.unquoted_iter().enumerate() {
                table.field(c, field, line)?;
            }
            table.end_row();
        }
    } else {
        // Without quotes the header is the first line.
        let start = memchr::memchr(b'\n', bytes).map_or(bytes.len(), |i| i + 1);
        parse_unquoted(&bytes[start..], &mut table)?;
    }
    Ok(table.finish())
}

/// The records of an unquoted samples CSV (after its header), split and parsed in one pass:
/// the digits of a cell are accumulated as the separator is looked for, so each byte is read
/// once and a short non-negative integer (most EnergiBridge cells: clock frequencies, memory
/// sizes, milliwatts) never reaches a float parser. Any other cell (a decimal point, a sign,
/// an exponent, spaces, a `\r`) is taken whole to the next separator and parsed as the quoted
/// path parses it, with the same messages.
fn parse_unquoted(bytes: &[u8], table: &mut Builder<'_>) -> Result<()> {
    let n = bytes.len();
    let mut i = 0;
    // Line 1 is the header.
    let mut line = 1u64;
    while i < n {
        line += 1;
        // A blank line (e.g. a trailing one) carries no sample.
        let mut j = i;
        while j < n && matches!(bytes[j], b' ' | b'\t' | b'\r') {
            j += 1;
        }
        if j == n || bytes[j] == b'\n' {
            i = j + 1;
            continue;
        }
        let mut c = 0;
        loop {
            let start = i;
            let mut v = 0u64;
            while i < n {
                let d = bytes[i].wrapping_sub(b'0');
                if d > 9 {
                    break;
                }
                v = v * 10 + u64::from(d);
                i += 1;
            }
            let at_end = i == n || bytes[i] == b',' || bytes[i] == b'\n';
            if !at_end {
                i += memchr::memchr2(b',', b'\n', &bytes[i..]).unwrap_or(n - i);
            }
            let last = i == n || bytes[i] == b'\n';
            if c == table.width() {
                // More fields than the header: count them all for the message.
                let rest = &bytes[start..];
                let line_end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                let more = memchr::memchr_iter(b',', &rest[..line_end]).count();
                table.check_width(c + 1 + more, || line)?;
            }
            let digits = i - start;
            if at_end && digits > 0 && digits <= 15 && c != table.time_col {
                // Exact: up to 15 digits fit an f64's mantissa.
                table.value(c, Some(v as i64 as f64));
            } else {
                table.field(c, &bytes[start..i], || line)?;
            }
            c += 1;
            i += 1;
            if last {
                break;
            }
        }
        table.check_width(c, || line)?;
        table.end_row();
    }
    Ok(())
}

/// The columns of a samples CSV as its cells arrive, row by row.
struct Builder<'a> {
    path: &'a Path,
    names: &'a [String],
    time_col: usize,
    time_ms: Vec<i64>,
    values: Vec<Vec<f64>>,
    valid: Vec<Option<Vec<bool>>>,
    previous_time: Option<i64>,
    backwards: usize,
    row: usize,
    warnings: Vec<String>,
}

impl<'a> Builder<'a> {
    /// Columns for `rows` rows (an estimate: more are accepted).
    fn new(path: &'a Path, names: &'a [String], time_col: usize, rows: usize, warnings: Vec<String>) -> Self {
        let width = names.len();
        Builder {
            path,
            names,
            time_col,
            time_ms: Vec::with_capacity(rows),
            values: (0..width)
                .map(|c| {
                    if c == time_col {
                        Vec::new()
                    } else {
                        Vec::with_capacity(rows)
                    }
                })
                .collect(),
            valid: vec![None; width],
            previous_time: None,
            backwards: 0,
            row: 0,
            warnings,
        }
    }

    /// Fields per row, as in the header.
    fn width(&self) -> usize {
        self.names.len()
    }

    /// An error unless a record of `found` fields (on the line `line` gives) has the header's.
    fn check_width(&self, found: usize, line: impl Fn() -> u64) -> Result<()> {
        if found == self.width() {
            return Ok(());
        }
        Err(DatasetError::parse(
            self.path,
            line(),
            format!(
                "expected {} fields as in the header, found {found} (truncated file?)",
                self.width()
            ),
        ))
    }

    /// Cell `c` of the current row as it is in the file (on the line `line` gives).
    fn field(&mut self, c: usize, field: &[u8], line: impl Fn() -> u64) -> Result<()> {
        if c == self.time_col {
            let t = parse_time(field).ok_or_else(|| {
                DatasetError::parse(
                    self.path,
                    line(),
                    format!(
                        "column `Time`: `{}` is not a time in ms",
                        String::from_utf8_lossy(field)
                    ),
                )
            })?;
            if let Some(p) = self.previous_time
                && t < p
            {
                self.backwards += 1;
                if self.backwards <= 3 {
                    self.warnings.push(format!(
                        "{}:{}: time runs backwards ({t} ms after {p} ms); the corrected accounting leaves this sample out",
                        self.path.display(),
                        line()
                    ));
                }
            }
            self.previous_time = Some(t);
            self.time_ms.push(t);
            return Ok(());
        }
        let field = field.trim_ascii();
        let v = if field.is_empty() {
            None
        } else {
            match parse_number(field) {
                Some(v) if v.is_nan() => None,
                Some(v) => Some(v),
                None => {
                    return Err(DatasetError::parse(
                        self.path,
                        line(),
                        format!(
                            "column `{}`: `{}` is not a number",
                            self.names[c],
                            String::from_utf8_lossy(field)
                        ),
                    ));
                }
            }
        };
        self.value(c, v);
        Ok(())
    }

    /// Value `v` of channel `c` (not `Time`) in the current row; `None` is a missing value.
    fn value(&mut self, c: usize, v: Option<f64>) {
        match v {
            Some(v) => {
                self.values[c].push(v);
                if let Some(mask) = &mut self.valid[c] {
                    mask.push(true);
                }
            }
            None => {
                self.values[c].push(0.0);
                let row = self.row;
                self.valid[c].get_or_insert_with(|| vec![true; row]).push(false);
            }
        }
    }

    fn end_row(&mut self) {
        self.row += 1;
    }

    fn finish(mut self) -> CsvRead {
        if self.backwards > 3 {
            self.warnings.push(format!(
                "{}: time runs backwards at {} samples in all",
                self.path.display(),
                self.backwards
            ));
        }
        let time_col = self.time_col;
        let columns = self
            .names
            .iter()
            .zip(self.values)
            .zip(self.valid)
            .enumerate()
            .filter(|(c, _)| *c != time_col)
            .map(|(_, ((name, values), valid))| SampleColumn {
                name: name.clone(),
                values,
                valid,
                wrap_range: None,
            })
            .collect();
        CsvRead {
            table: SampleTable {
                time_ms: self.time_ms,
                columns,
            },
            warnings: self.warnings,
        }
    }
}

/// Parses one numeric cell. Most EnergiBridge cells are short non-negative integers (clock
/// frequencies, memory sizes, milliwatts), which are converted directly — exactly, since up to
/// 15 digits fit an f64's mantissa; everything else goes through `fast_float2`.
fn parse_number(field: &[u8]) -> Option<f64> {
    if !field.is_empty() && field.len() <= 15 {
        // One pass: accumulate digits until the first byte that is not one.
        let mut v = 0u64;
        let mut digits = true;
        for &b in field {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                digits = false;
                break;
            }
            v = v * 10 + u64::from(d);
        }
        if digits {
            return Some(v as f64);
        }
    }
    fast_float2::parse::<f64, _>(field).ok()
}

/// Parses a time in ms: an integer, or a float with no fractional part (some writers add `.0`).
fn parse_time(field: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(field).ok()?.trim();
    if let Ok(t) = s.parse::<i64>() {
        return Some(t);
    }
    let f: f64 = s.parse().ok()?;
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// EnergiBridge's one-line summary: `Energy consumption in joules: X for Y sec of execution.`
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// EnergiBridge's own CPU package energy, J (not wrap-aware: negative after a wrap).
    pub energy_j: f64,
    /// Execution time, s.
    pub duration_s: f64,
}

/// Parses `energibridge-summary.txt`.
pub fn read_summary(path: &Path) -> Result<Summary> {
    let bytes = std::fs::read(path).at(path)?;
    summary_from_bytes(&bytes, path)
}

/// Parses the bytes of `energibridge-summary.txt` read from `path`.
pub fn summary_from_bytes(bytes: &[u8], path: &Path) -> Result<Summary> {
    let text = String::from_utf8_lossy(bytes);
    parse_summary(&text).ok_or_else(|| {
        DatasetError::parse(
            path,
            1,
            "expected `Energy consumption in joules: X for Y sec of execution.`",
        )
    })
}

/// Parses the summary line.
pub fn parse_summary(text: &str) -> Option<Summary> {
    let rest = text.trim().strip_prefix("Energy consumption in joules:")?;
    let (energy, rest) = rest.split_once(" for ")?;
    // The trailing period is missing from the summaries EnergiBridge wrote after a wrap.
    let rest = rest.trim();
    let duration = rest
        .strip_suffix('.')
        .unwrap_or(rest)
        .strip_suffix("sec of execution")?;
    Some(Summary {
        energy_j: energy.trim().parse().ok()?,
        duration_s: duration.trim().parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses through both paths, which must agree (result or error message).
    fn parse(text: &str) -> Result<CsvRead> {
        let path = Path::new("t.csv");
        let one_pass = parse_samples(text.as_bytes(), path, false);
        let general = parse_samples(text.as_bytes(), path, true);
        assert_eq!(
            format!("{one_pass:?}"),
            format!("{general:?}"),
            "the two parsers differ on {text:?}"
        );
        parse_samples_csv(text.as_bytes(), path)
    }

    #[test]
    fn the_one_pass_parser_reads_what_the_csv_splitter_reads() {
        for text in [
            "Time,A,B\n1,2,3\n",
            "Time,A,B\n1,2,3",
            "Time,A,B\r\n1,2,3\r\n4,5,6\r\n",
            "Time,A,B\n1, 2 ,3.5\n\n2,-1,1e3\n   \n",
            "A,Time,B\n0.25,10,\n,11,7\n,12,\n",
            "Time,A\n1.0,2\n2,1234567890123456\n3,12345678901234567890\n4,0007\n",
            "Time,A\n1,NaN\n2,inf\n3,-0\n",
            "Time,A\n1,2,3\n",
            "Time,A,B\n1,2\n",
            "Time,A\n1,2\n2\n",
            "Time,A\nx,2\n",
            "Time,A\n1,2x\n",
            "Time,A\n1,2\n,3\n",
            "Time\n1\n2\n",
            "Time,A\n",
            "Time,A",
            "Time,A\r1,2\r2,3\r",
            "\u{feff}Time,A\n1,2\n",
        ] {
            let _ = parse(text);
        }
    }

    #[test]
    fn reads_any_column_set_and_keeps_names() {
        let r = parse("Delta,Time,GPU0_POWER (mWatts),CPU_ENERGY (J)\n0,1000,5000,1.5\n200,1200,6000,2.5\n")
            .unwrap();
        assert_eq!(r.table.time_ms, vec![1000, 1200]);
        let names: Vec<_> = r.table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Delta", "GPU0_POWER (mWatts)", "CPU_ENERGY (J)"]);
        assert_eq!(r.table.column("CPU_ENERGY (J)").unwrap().values, vec![1.5, 2.5]);
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn both_parsers_read_every_published_samples_file_alike() {
        let Some(root) = testkit::published_dataset() else {
            return;
        };
        let experiment = root.join("experiments/llama_profiling");
        let mut files = 0;
        for entry in std::fs::read_dir(&experiment).unwrap() {
            let path = entry.unwrap().path().join("energibridge.csv.gz");
            if !path.is_file() {
                continue;
            }
            let bytes = read_maybe_gzip(&path).unwrap();
            let one_pass = parse_samples(&bytes, &path, false).unwrap();
            let general = parse_samples(&bytes, &path, true).unwrap();
            assert!(one_pass == general, "{}: the two parsers differ", path.display());
            assert!(!one_pass.table.time_ms.is_empty(), "{}", path.display());
            files += 1;
        }
        assert_eq!(files, 900);
    }

    #[test]
    fn integer_cells_parse_exactly_like_the_general_parser() {
        for s in [
            "0",
            "7",
            "800",
            "5968",
            "134868701184",
            "999999999999999",
            "1000000000000000",
            "2.5",
            "-3",
            "1e3",
        ] {
            assert_eq!(parse_number(s.as_bytes()), s.parse::<f64>().ok(), "{s}");
        }
        assert_eq!(parse_number(b"abc"), None);
        assert_eq!(parse_number(b""), None);
    }

    #[test]
    fn empty_cells_are_missing_values() {
        let r = parse("Time,A\n1,\n2,3\n").unwrap();
        let a = r.table.column("A").unwrap();
        assert_eq!(a.get(0), None);
        assert_eq!(a.get(1), Some(3.0));
    }

    #[test]
    fn a_truncated_last_line_is_an_error_naming_its_line() {
        let e = parse("Time,A,B\n1,2,3\n2,3\n").unwrap_err().to_string();
        assert!(e.contains("t.csv:3:"), "{e}");
        assert!(e.contains("expected 3 fields"), "{e}");
    }

    #[test]
    fn a_non_numeric_cell_is_an_error_naming_line_and_column() {
        let e = parse("Time,A\n1,2\n2,abc\n").unwrap_err().to_string();
        assert!(
            e.contains("t.csv:3:") && e.contains("`A`") && e.contains("abc"),
            "{e}"
        );
    }

    #[test]
    fn missing_time_is_an_error() {
        let e = parse("Delta,A\n1,2\n").unwrap_err().to_string();
        assert!(e.contains("missing required column `Time`"), "{e}");
    }

    #[test]
    fn empty_input_is_an_error() {
        assert!(parse("").unwrap_err().to_string().contains("empty file"));
    }

    #[test]
    fn time_running_backwards_is_a_warning() {
        let r = parse("Time,A\n5,1\n3,1\n").unwrap();
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].contains("t.csv:3"), "{:?}", r.warnings);
    }

    #[test]
    fn gzip_and_plain_inputs_read_the_same() {
        let text = b"Time,A\n1,2\n";
        let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::default());
        let mut gz = vec![0; c.gzip_compress_bound(text.len())];
        let n = c.gzip_compress(text, &mut gz).unwrap();
        gz.truncate(n);
        assert_eq!(inflate_gzip(&gz).unwrap(), text);
        assert!(inflate_gzip(&gz[..n - 5]).is_err());
    }

    #[test]
    fn summary_lines_parse_including_negative_energy() {
        let s =
            parse_summary("Energy consumption in joules: -250123.5 for 225.53496 sec of execution.").unwrap();
        assert_eq!(s.energy_j, -250123.5);
        assert_eq!(s.duration_s, 225.53496);
        assert!(parse_summary("garbage").is_none());
        let s = parse_summary("Energy consumption in joules: -251951.2 for 192.07 sec of execution").unwrap();
        assert_eq!(s.energy_j, -251951.2);
    }
}
