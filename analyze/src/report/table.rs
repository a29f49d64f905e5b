//! The report's tables and number formats, shared by the HTML and Markdown outputs so both say
//! the same thing with the same digits.

/// A small table: a caption, a header and rows of already formatted cells.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// What the table shows.
    pub caption: String,
    /// Column headers.
    pub header: Vec<String>,
    /// Rows of cells (as many as the header).
    pub rows: Vec<Vec<String>>,
    /// Columns holding numbers (right-aligned).
    pub numeric: Vec<bool>,
}

impl Table {
    /// A table with a caption and header; columns are numeric unless named in `text_columns`.
    pub fn new(caption: impl Into<String>, header: &[&str], text_columns: usize) -> Self {
        Self {
            caption: caption.into(),
            header: header.iter().map(|h| (*h).to_string()).collect(),
            rows: Vec::new(),
            numeric: (0..header.len()).map(|i| i >= text_columns).collect(),
        }
    }

    /// Marks column `i` as text (left-aligned, free to wrap).
    pub fn text_column(mut self, i: usize) -> Self {
        if let Some(n) = self.numeric.get_mut(i) {
            *n = false;
        }
        self
    }

    /// Appends a row.
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// True when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// A number with about four significant digits and no exponent for everyday magnitudes
/// (`81556.7` → `81557`, `5.5739` → `5.574`, `0.012345` → `0.01235`); `–` for NaN.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_string();
    }
    let a = x.abs();
    let decimals = if a >= 1000.0 || a == 0.0 {
        0
    } else if a >= 100.0 {
        1
    } else if a >= 10.0 {
        2
    } else if a >= 1.0 {
        3
    } else if a >= 1e-4 {
        (-a.log10()).floor() as usize + 4
    } else {
        return format!("{x:.3e}");
    };
    let s = format!("{x:.decimals$}");
    if s == "-0" { "0".to_string() } else { s }
}

/// A count or degrees of freedom: an integer when whole (`3`), else as [`num`] (`11.37`).
pub fn count(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        num(x)
    }
}

/// A number with a fixed number of decimals; `–` for NaN.
pub fn fixed(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        "–".to_string()
    }
}

/// An optional number.
pub fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), num)
}

/// A p-value: four decimals, or two significant digits in scientific notation below 0.001
/// (`9.3e-5`); `–` for NaN.
pub fn pval(p: f64) -> String {
    if !p.is_finite() {
        "–".to_string()
    } else if p == 0.0 {
        "< 1e-300".to_string()
    } else if p < 1e-3 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// `p = 0.0128`, or `p < 1e-300` when the p-value underflowed to 0.
pub fn p_is(name: &str, p: f64) -> String {
    if p == 0.0 {
        format!("{name} < 1e-300")
    } else {
        format!("{name} = {}", pval(p))
    }
}

/// Joules in the most readable unit (J, kJ, MJ).
pub fn joules(j: f64) -> String {
    let a = j.abs();
    if a >= 1e6 {
        format!("{} MJ", num(j / 1e6))
    } else if a >= 1e3 {
        format!("{} kJ", num(j / 1e3))
    } else {
        format!("{} J", num(j))
    }
}

/// Seconds in the most readable unit (s, min, h).
pub fn seconds(s: f64) -> String {
    if s >= 3600.0 {
        format!("{} h", fixed(s / 3600.0, 2))
    } else if s >= 60.0 {
        format!("{} min", fixed(s / 60.0, 1))
    } else {
        format!("{} s", num(s))
    }
}

/// A ratio as `2.72×`.
pub fn times(r: f64) -> String {
    if r.is_finite() && r < 1.1 {
        // Small factors need a third decimal, or 1.004× reads as "1.00× more".
        format!("{r:.3}×")
    } else if r.is_finite() {
        format!("{r:.2}×")
    } else {
        "–".to_string()
    }
}

/// A signed percentage (`+15.3 %`).
pub fn percent(x: f64) -> String {
    if x.is_finite() && x != 0.0 && (100.0 * x).abs() < 0.05 {
        format!("{:+.1e} %", 100.0 * x)
    } else if x.is_finite() {
        format!("{:+.1} %", 100.0 * x)
    } else {
        "–".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_about_four_significant_digits() {
        assert_eq!(num(81556.687), "81557");
        assert_eq!(num(360.13455), "360.1");
        assert_eq!(num(5.5738912), "5.574");
        assert_eq!(num(0.0123456), "0.01235");
        assert_eq!(num(0.7332), "0.7332");
        assert_eq!(num(-0.00001), "-1.000e-5");
        assert_eq!(num(f64::NAN), "–");
    }

    #[test]
    fn p_values_switch_to_scientific_below_a_thousandth() {
        assert_eq!(pval(0.21799), "0.2180");
        assert_eq!(pval(9.276e-5), "9.3e-5");
        assert_eq!(pval(f64::NAN), "–");
    }

    #[test]
    fn energies_pick_their_unit() {
        assert_eq!(joules(950.0), "950.0 J");
        assert_eq!(joules(81556.687), "81.56 kJ");
        assert_eq!(joules(45_000_000.0), "45.00 MJ");
    }
}
