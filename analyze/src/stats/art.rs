//! The aligned rank transform (ART) ANOVA with a random intercept per run, and its ART-C
//! contrasts, as the study's R script ran them with ARTool (`art(y ~ a*b + (1|run))`,
//! `anova()`, `art.con()`).
//!
//! **Alignment** (Wobbrock et al., CHI 2011; ARTool's `art()`): for each effect of the fixed
//! factors, every response is replaced by its residual from the mean of its design cell plus
//! the estimated effect of interest (from the cell, marginal and grand means, by
//! inclusion–exclusion); the aligned values are rounded to 8 decimals (ARTool's
//! `rank.comparison.digits`) and given average ranks. The run is ignored by the alignment.
//! With one factor the aligned response is `y − ȳ`, so the ranks are the ranks of `y`.
//!
//! **The test.** ARTool fits `lmer(rank ~ a*b + (1|run))` (sum-to-zero contrasts) and reports
//! `car::Anova(type = 3, test.statistic = "F")`: a Wald F with Kenward–Roger denominator
//! degrees of freedom. With *runs nested in the design cells* and *the same number n of
//! observations in every run* — the study's design: a run is one model on one task, repeated
//! n = 30 times — that model has a closed form:
//!
//! - every fixed column is constant within a run, so V⁻¹X = X/λ₁ with λ₁ = σ²ₑ + nσ²ᵣ: GLS is
//!   OLS, the cell means are the means of their runs' means, and Cov(μ̂_c) = τ²/R_c with
//!   τ² = λ₁/n (R_c runs in cell c);
//! - REML separates into the run means' residuals (d = R − C degrees of freedom, R runs, C
//!   cells) and the deviations within runs (N − R): τ̂² = SS_between/d, σ̂²ₑ = SS_within/(N − R).
//!   When τ̂² < σ̂²ₑ/n the run variance is at the boundary (σ̂²ᵣ = 0, lme4's singular fit) and
//!   REML gives one pooled variance, τ̂² = (SS_within + n·SS_between)/((N − C)·n);
//! - in Kenward–Roger, every matrix (Φ, P_i, Q_ij) is a multiple of X′X, so the bias term
//!   Q_ij − P_iΦP_j vanishes (Φ_A = Φ), and the variance parameters act only through λ₁, whose
//!   REML variance is 2λ₁²/d. Then A₁ = 2q²/d, A₂ = 2q/d, and the KR formulas give exactly
//!   m = d and scale λ = 1, at the boundary too (pbkrtest evaluates the same information
//!   matrix there). So F = (Lμ̂)′(L·diag(1/R_c)·L′)⁻¹(Lμ̂)/(q·τ̂²) on (q, R − C) degrees of
//!   freedom, and a contrast's t has R − C degrees of freedom.
//!
//! This stops holding when runs differ in size, when a run spans cells (a factor varying
//! within a run) or when a cell has no run: then these functions return an error rather than a
//! number that would differ from R's (the general Kenward–Roger computation is not
//! implemented). Reference values: `reference/art.R` (the alignment by hand, then lme4,
//! car::Anova with pbkrtest's KR and emmeans), output in `reference/art_r.txt`; the
//! published study's tables are checked in `analyze/tests/published_art.rs`.
//!
//! Estimates and standard errors of contrasts are in **aligned-rank units** (differences of
//! mean ranks), as ARTool's are.

use super::{StatsError, adjust, f_sf, rank::average_ranks, t_two_sided};
use nalgebra::{DMatrix, DVector};
use std::collections::HashMap;

const TEST: &str = "ART";

/// A design of one or two fixed factors with a random intercept per run.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// The number of levels of each fixed factor (one or two factors).
    pub levels: Vec<usize>,
    /// `factors[f][i]`: the level (0-based) of factor `f` of observation `i`.
    pub factors: Vec<Vec<usize>>,
    /// The run of each observation (any ids; a run is the random intercept's group).
    pub run: Vec<i64>,
}

/// An effect of the fixed factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    /// The main effect of factor `i`.
    Main(usize),
    /// The interaction of the two factors.
    Interaction,
}

/// One row of the ART ANOVA.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtTerm {
    /// The effect tested.
    pub term: Term,
    /// Wald F with Kenward–Roger degrees of freedom.
    pub f: f64,
    /// Numerator degrees of freedom.
    pub df1: f64,
    /// Denominator degrees of freedom (R − C).
    pub df2: f64,
    /// Upper-tail p-value.
    pub p_value: f64,
    /// REML run (random-intercept) variance of the aligned ranks; 0 at the boundary.
    pub run_variance: f64,
    /// REML residual variance of the aligned ranks.
    pub residual_variance: f64,
}

/// One pairwise contrast (ART-C), `a − b`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtContrast {
    /// First level (or cell) index.
    pub a: usize,
    /// Second level (or cell) index.
    pub b: usize,
    /// Difference of estimated marginal means, in aligned-rank units.
    pub estimate: f64,
    /// Its standard error, in aligned-rank units.
    pub se: f64,
    /// Degrees of freedom (Kenward–Roger; R − C).
    pub df: f64,
    /// t ratio.
    pub t: f64,
    /// Two-sided p-value, unadjusted.
    pub p_value: f64,
    /// Benjamini–Hochberg over all pairs of the family.
    pub p_adjusted: f64,
}

fn fail(reason: impl Into<String>) -> StatsError {
    StatsError::Distribution {
        test: TEST,
        reason: reason.into(),
    }
}

impl Design {
    fn validate(&self, y: &[f64]) -> Result<(), StatsError> {
        if self.levels.is_empty() || self.levels.len() > 2 || self.factors.len() != self.levels.len() {
            return Err(fail("needs one or two fixed factors"));
        }
        for (f, column) in self.factors.iter().enumerate() {
            if column.len() != y.len() {
                return Err(StatsError::LengthMismatch {
                    test: TEST,
                    left: y.len(),
                    right: column.len(),
                });
            }
            if column.iter().any(|&l| l >= self.levels[f]) {
                return Err(fail(format!(
                    "factor {f} has a level outside 0..{}",
                    self.levels[f]
                )));
            }
            if self.levels[f] < 2 {
                return Err(StatsError::TooFewGroups {
                    test: TEST,
                    needed: 2,
                    got: self.levels[f],
                });
            }
        }
        if self.run.len() != y.len() {
            return Err(StatsError::LengthMismatch {
                test: TEST,
                left: y.len(),
                right: self.run.len(),
            });
        }
        super::ensure_len(TEST, y, 2)?;
        super::ensure_finite(TEST, y)
    }

    fn cells(&self) -> usize {
        self.levels.iter().product()
    }

    /// The design cell of observation `i` (first factor major).
    fn cell(&self, i: usize) -> usize {
        match self.factors.len() {
            1 => self.factors[0][i],
            _ => self.factors[0][i] * self.levels[1] + self.factors[1][i],
        }
    }
}

/// Means of `y` by `key` (keys in `0..k`), given to every observation.
fn means_by(y: &[f64], key: impl Fn(usize) -> usize, k: usize) -> Vec<f64> {
    let mut sum = vec![0.0; k];
    let mut count = vec![0usize; k];
    for (i, v) in y.iter().enumerate() {
        sum[key(i)] += v;
        count[key(i)] += 1;
    }
    (0..y.len()).map(|i| sum[key(i)] / count[key(i)] as f64).collect()
}

/// The aligned responses for `term` (ARTool's `m$aligned`).
pub fn align(y: &[f64], design: &Design, term: Term) -> Result<Vec<f64>, StatsError> {
    design.validate(y)?;
    let n = y.len();
    let mu = super::mean(y);
    let cell = means_by(y, |i| design.cell(i), design.cells());
    let marginal = |f: usize| means_by(y, |i| design.factors[f][i], design.levels[f]);
    let aligned = match (design.factors.len(), term) {
        (1, Term::Main(0)) => (0..n).map(|i| y[i] - cell[i] + (cell[i] - mu)).collect(),
        (2, Term::Main(f)) if f < 2 => {
            let m = marginal(f);
            (0..n).map(|i| y[i] - cell[i] + (m[i] - mu)).collect()
        }
        (2, Term::Interaction) => {
            let (ma, mb) = (marginal(0), marginal(1));
            (0..n)
                .map(|i| y[i] - cell[i] + (cell[i] - ma[i] - mb[i] + mu))
                .collect()
        }
        _ => return Err(fail(format!("{term:?} is not an effect of this design"))),
    };
    Ok(aligned)
}

/// Average ranks of the aligned values rounded to 8 decimals (ARTool's
/// `rank(round(aligned, 8))`), so that values equal up to rounding error tie.
pub fn aligned_ranks(aligned: &[f64]) -> Vec<f64> {
    let rounded: Vec<f64> = aligned.iter().map(|v| (v * 1e8).round() / 1e8).collect();
    average_ranks(&rounded)
}

/// The REML fit of `r ~ cell + (1|run)` in its closed form (see the module docs).
#[derive(Debug, Clone)]
struct RunFit {
    /// Estimated cell means (means of their runs' means).
    mu: Vec<f64>,
    /// Runs per cell.
    runs_in: Vec<usize>,
    /// Variance of one run mean: σ²ᵣ + σ²ₑ/n.
    tau2: f64,
    /// Residual degrees of freedom at run level, R − C.
    d: f64,
    run_variance: f64,
    residual_variance: f64,
}

impl RunFit {
    fn new(r: &[f64], cell: impl Fn(usize) -> usize, cells: usize, run: &[i64]) -> Result<Self, StatsError> {
        let mut index: HashMap<i64, usize> = HashMap::new();
        let mut sum: Vec<f64> = Vec::new();
        let mut count: Vec<usize> = Vec::new();
        let mut run_cell: Vec<usize> = Vec::new();
        let mut of_obs = Vec::with_capacity(r.len());
        for (i, v) in r.iter().enumerate() {
            let j = *index.entry(run[i]).or_insert_with(|| {
                sum.push(0.0);
                count.push(0);
                run_cell.push(cell(i));
                sum.len() - 1
            });
            if run_cell[j] != cell(i) {
                return Err(fail(format!(
                    "run {} spans design cells; the closed form needs runs nested in the cells",
                    run[i]
                )));
            }
            sum[j] += v;
            count[j] += 1;
            of_obs.push(j);
        }
        let Some(&n) = count.first() else {
            return Err(StatsError::TooFewObservations {
                test: TEST,
                needed: 2,
                got: 0,
            });
        };
        if let (Some(lo), Some(hi)) = (count.iter().min(), count.iter().max())
            && lo != hi
        {
            return Err(fail(format!(
                "runs have {lo} to {hi} observations; the closed form needs the same number in \
                 every run (an unbalanced design needs the general Kenward–Roger computation)"
            )));
        }
        if n < 2 {
            return Err(fail(
                "one observation per run: run and residual variance are not separable",
            ));
        }
        let means: Vec<f64> = sum.iter().zip(&count).map(|(s, c)| s / *c as f64).collect();
        let mut runs_in = vec![0usize; cells];
        let mut cell_sum = vec![0.0; cells];
        for (j, &c) in run_cell.iter().enumerate() {
            runs_in[c] += 1;
            cell_sum[c] += means[j];
        }
        if let Some(empty) = runs_in.iter().position(|&k| k == 0) {
            return Err(fail(format!("design cell {empty} has no observations")));
        }
        let mu: Vec<f64> = cell_sum
            .iter()
            .zip(&runs_in)
            .map(|(s, k)| s / *k as f64)
            .collect();
        let (big_r, big_n) = (means.len(), r.len());
        if big_r <= cells {
            return Err(fail(format!(
                "{big_r} runs in {cells} cells leave no degrees of freedom for the run variance"
            )));
        }
        let ss_between: f64 = run_cell
            .iter()
            .zip(&means)
            .map(|(&c, m)| (m - mu[c]).powi(2))
            .sum();
        let ss_within: f64 = r.iter().zip(&of_obs).map(|(v, &j)| (v - means[j]).powi(2)).sum();
        let d = (big_r - cells) as f64;
        let nf = n as f64;
        let within = ss_within / (big_n - big_r) as f64;
        let between = ss_between / d;
        let (tau2, run_variance, residual_variance) = if between >= within / nf {
            (between, between - within / nf, within)
        } else {
            let pooled = (ss_within + nf * ss_between) / (big_n - cells) as f64;
            (pooled / nf, 0.0, pooled)
        };
        if !super::is_positive(tau2) {
            return Err(StatsError::ConstantInput { test: TEST });
        }
        Ok(Self {
            mu,
            runs_in,
            tau2,
            d,
            run_variance,
            residual_variance,
        })
    }

    /// Wald F of `L μ = 0` and its p-value on (rows of L, d) degrees of freedom.
    fn wald(&self, l: &DMatrix<f64>) -> Result<(f64, f64, f64), StatsError> {
        let mu = DVector::from_column_slice(&self.mu);
        let w = DMatrix::from_diagonal(&DVector::from_iterator(
            self.runs_in.len(),
            self.runs_in.iter().map(|&k| self.tau2 / k as f64),
        ));
        let est = l * mu;
        let cov = l * w * l.transpose();
        let q = l.nrows() as f64;
        let solved = cov
            .cholesky()
            .ok_or_else(|| fail("the hypothesis matrix is singular"))?
            .solve(&est);
        let f = est.dot(&solved) / q;
        Ok((f, q, f_sf(TEST, f, q, self.d)?))
    }

    /// A contrast `c′μ`: estimate, SE, t, p.
    fn contrast(&self, c: &[f64]) -> Result<(f64, f64, f64, f64), StatsError> {
        let est: f64 = c.iter().zip(&self.mu).map(|(a, m)| a * m).sum();
        let var: f64 = c
            .iter()
            .zip(&self.runs_in)
            .map(|(a, &k)| a * a * self.tau2 / k as f64)
            .sum();
        let se = var.sqrt();
        let t = est / se;
        Ok((est, se, t, t_two_sided(TEST, t, self.d)?))
    }
}

/// Rows of `(e_i − e_last)` for `i < k − 1`: a basis of the contrasts among `k` levels (any
/// basis gives the same F).
fn differences(k: usize) -> DMatrix<f64> {
    DMatrix::from_fn(k - 1, k, |i, j| {
        if j == i {
            1.0
        } else if j == k - 1 {
            -1.0
        } else {
            0.0
        }
    })
}

/// The type III hypothesis of `term` over the cells (first factor major), sum-to-zero coding.
fn hypothesis(design: &Design, term: Term) -> DMatrix<f64> {
    let avg = |k: usize| DMatrix::from_element(1, k, 1.0 / k as f64);
    match (design.levels.as_slice(), term) {
        ([a], _) => differences(*a),
        ([a, b], Term::Main(0)) => differences(*a).kronecker(&avg(*b)),
        ([a, b], Term::Main(_)) => avg(*a).kronecker(&differences(*b)),
        ([a, b], Term::Interaction) => differences(*a).kronecker(&differences(*b)),
        _ => DMatrix::zeros(0, 0),
    }
}

/// The terms of a design in R's order: main effects, then the interaction.
pub fn terms(design: &Design) -> Vec<Term> {
    let mut t: Vec<Term> = (0..design.levels.len()).map(Term::Main).collect();
    if design.levels.len() == 2 {
        t.push(Term::Interaction);
    }
    t
}

/// The ART ANOVA: for each term, align, rank, fit `rank ~ factors + (1|run)` and test the term.
pub fn anova(y: &[f64], design: &Design) -> Result<Vec<ArtTerm>, StatsError> {
    design.validate(y)?;
    terms(design)
        .into_iter()
        .map(|term| {
            let r = aligned_ranks(&align(y, design, term)?);
            let fit = RunFit::new(&r, |i| design.cell(i), design.cells(), &design.run)?;
            let (f, df1, p_value) = fit.wald(&hypothesis(design, term))?;
            Ok(ArtTerm {
                term,
                f,
                df1,
                df2: fit.d,
                p_value,
                run_variance: fit.run_variance,
                residual_variance: fit.residual_variance,
            })
        })
        .collect()
}

fn pairs(
    fit: &RunFit,
    k: usize,
    coefficients: impl Fn(usize, usize) -> Vec<f64>,
) -> Result<Vec<ArtContrast>, StatsError> {
    let mut out = Vec::new();
    for a in 0..k {
        for b in a + 1..k {
            let (estimate, se, t, p_value) = fit.contrast(&coefficients(a, b))?;
            out.push(ArtContrast {
                a,
                b,
                estimate,
                se,
                df: fit.d,
                t,
                p_value,
                p_adjusted: f64::NAN,
            });
        }
    }
    let p: Vec<f64> = out.iter().map(|c| c.p_value).collect();
    for (c, adj) in out.iter_mut().zip(adjust::benjamini_hochberg(&p)) {
        c.p_adjusted = adj;
    }
    Ok(out)
}

/// ART-C contrasts of every pair of levels of `factor` (`art.con(m, "factor")`): the ranks
/// aligned for its main effect, the full model, marginal means averaged over the other factor
/// with equal weights (emmeans' default), BH over all pairs.
pub fn contrasts(y: &[f64], design: &Design, factor: usize) -> Result<Vec<ArtContrast>, StatsError> {
    design.validate(y)?;
    if factor >= design.levels.len() {
        return Err(fail(format!("no factor {factor}")));
    }
    let r = aligned_ranks(&align(y, design, Term::Main(factor))?);
    let fit = RunFit::new(&r, |i| design.cell(i), design.cells(), &design.run)?;
    let levels = design.levels[factor];
    let coefficients = |a: usize, b: usize| -> Vec<f64> {
        (0..design.cells())
            .map(|c| {
                let (level, weight) = match (design.levels.as_slice(), factor) {
                    ([_], _) => (c, 1.0),
                    ([_, nb], 0) => (c / nb, 1.0 / *nb as f64),
                    ([na, nb], _) => (c % nb, 1.0 / *na as f64),
                    _ => (usize::MAX, 0.0),
                };
                if level == a {
                    weight
                } else if level == b {
                    -weight
                } else {
                    0.0
                }
            })
            .collect()
    };
    pairs(&fit, levels, coefficients)
}

/// ART-C contrasts of every pair of design cells (`art.con(m, "a:b", interaction = FALSE)`):
/// the factors combined into one, aligned and ranked for it (the ranks of `y`), BH over all
/// pairs. Cells are numbered first factor major: `level_a · levels_b + level_b`.
pub fn cell_contrasts(y: &[f64], design: &Design) -> Result<Vec<ArtContrast>, StatsError> {
    design.validate(y)?;
    let cells = design.cells();
    let combined = Design {
        levels: vec![cells],
        factors: vec![(0..y.len()).map(|i| design.cell(i)).collect()],
        run: design.run.clone(),
    };
    let r = aligned_ranks(&align(y, &combined, Term::Main(0))?);
    let fit = RunFit::new(&r, |i| combined.factors[0][i], cells, &design.run)?;
    pairs(&fit, cells, |a, b| {
        (0..cells)
            .map(|c| match c {
                c if c == a => 1.0,
                c if c == b => -1.0,
                _ => 0.0,
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::rel;
    use super::*;

    /// lme4 estimates the variances by numerical optimisation (converged to about 1e-7
    /// relative); the closed form is exact, so agreement is held to 1e-6.
    const LMER: f64 = 1e-6;

    /// `reference/art_r.txt`, written by `Rscript reference/art.R`.
    const REFS: &str = include_str!("reference/art_r.txt");

    /// The data line `DATA<k>` of the reference output: fields split on `:`.
    fn data(k: u32) -> Vec<Vec<String>> {
        let line = REFS
            .lines()
            .find(|l| l.starts_with(&format!("DATA{k} ")))
            .expect("data line");
        line.split_whitespace()
            .skip(1)
            .map(|f| f.split(':').map(str::to_string).collect())
            .collect()
    }

    /// The value `key=` of the reference line starting with `prefix`.
    fn value(prefix: &str, key: &str) -> f64 {
        let line = REFS
            .lines()
            .find(|l| l.starts_with(&format!("{prefix} ")))
            .unwrap_or_else(|| panic!("no reference line {prefix}"));
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in {line}"))
            .parse()
            .unwrap()
    }

    fn level(s: &str) -> usize {
        s[1..].parse::<usize>().unwrap() - 1
    }

    /// Design 1: A (2) × B (3), 9 runs nested in the 6 cells, 4 observations per run.
    fn design1() -> (Vec<f64>, Design) {
        let rows = data(1);
        let design = Design {
            levels: vec![2, 3],
            factors: vec![
                rows.iter().map(|r| level(&r[0])).collect(),
                rows.iter().map(|r| level(&r[1])).collect(),
            ],
            run: rows.iter().map(|r| r[2].parse().unwrap()).collect(),
        };
        (rows.iter().map(|r| r[3].parse().unwrap()).collect(), design)
    }

    /// Design 2: G (3), 2 + 2 + 4 runs, 5 observations each; REML's run variance is 0.
    fn design2() -> (Vec<f64>, Design) {
        let rows = data(2);
        let design = Design {
            levels: vec![3],
            factors: vec![rows.iter().map(|r| level(&r[0])).collect()],
            run: rows.iter().map(|r| r[1].parse().unwrap()).collect(),
        };
        (rows.iter().map(|r| r[2].parse().unwrap()).collect(), design)
    }

    #[test]
    fn two_factor_anova_equals_lmer_with_kenward_roger() {
        let (y, design) = design1();
        let rows = anova(&y, &design).unwrap();
        for (row, name) in rows.iter().zip(["A", "B", "AB"]) {
            let prefix = format!("D1 {name}");
            rel(row.f, value(&prefix, "F"), LMER);
            rel(row.df1, value(&prefix, "df"), 1e-12);
            rel(row.df2, value(&prefix, "df2"), LMER);
            rel(row.p_value, value(&prefix, "p"), LMER);
            rel(row.run_variance, value(&format!("{prefix} var"), "runvar"), LMER);
            rel(
                row.residual_variance,
                value(&format!("{prefix} var"), "resvar"),
                LMER,
            );
        }
    }

    #[test]
    fn main_effect_contrast_equals_emmeans() {
        let (y, design) = design1();
        let c = &contrasts(&y, &design, 0).unwrap()[0];
        let prefix = "D1 conA a1 - a2";
        rel(c.estimate, value(prefix, "est"), LMER);
        rel(c.se, value(prefix, "se"), LMER);
        rel(c.df, value(prefix, "df"), LMER);
        rel(c.t, value(prefix, "t"), LMER);
        rel(c.p_value, value(prefix, "p"), LMER);
        // One pair: BH leaves it alone.
        rel(c.p_adjusted, c.p_value, 1e-15);
    }

    #[test]
    fn run_variance_at_the_boundary_pools_the_residuals() {
        let (y, design) = design2();
        let row = &anova(&y, &design).unwrap()[0];
        assert_eq!(row.run_variance, 0.0);
        rel(row.residual_variance, value("D2", "resvar"), LMER);
        rel(row.f, value("D2 G", "F"), LMER);
        rel(row.df2, value("D2 G", "df2"), LMER);
        rel(row.p_value, value("D2 G", "p"), LMER);
        let pairs = contrasts(&y, &design, 0).unwrap();
        for (c, name) in pairs.iter().zip(["g1 - g2", "g1 - g3", "g2 - g3"]) {
            let prefix = format!("D2 con {name}");
            rel(c.estimate, value(&prefix, "est"), LMER);
            rel(c.se, value(&prefix, "se"), LMER);
            rel(c.t, value(&prefix, "t"), LMER);
            rel(c.p_value, value(&prefix, "p"), LMER);
        }
        // BH over the three pairs, by hand: p sorted 0.0096, 0.0680, 0.2228 → ×3/1, ×3/2, ×3/3.
        let p: Vec<f64> = pairs.iter().map(|c| c.p_value).collect();
        rel(pairs[1].p_adjusted, p[1] * 3.0, 1e-12);
        rel(pairs[0].p_adjusted, p[0] * 1.5, 1e-12);
        rel(pairs[2].p_adjusted, p[2], 1e-12);
    }

    #[test]
    fn one_factor_alignment_ranks_the_response() {
        let (y, design) = design2();
        let aligned = align(&y, &design, Term::Main(0)).unwrap();
        assert_eq!(aligned_ranks(&aligned), average_ranks(&y));
    }

    #[test]
    fn two_factor_aligned_responses_sum_to_zero_per_term() {
        let (y, design) = design1();
        for term in terms(&design) {
            let s: f64 = align(&y, &design, term).unwrap().iter().sum();
            assert!(s.abs() < 1e-9, "{term:?}: {s}");
        }
    }

    #[test]
    fn cell_contrasts_are_all_pairs_of_cells() {
        let (y, design) = design1();
        let pairs = cell_contrasts(&y, &design).unwrap();
        assert_eq!(pairs.len(), 15);
        assert_eq!((pairs[0].a, pairs[0].b), (0, 1));
        assert!(pairs.iter().all(|c| c.df == 3.0));
    }

    #[test]
    fn unbalanced_runs_are_an_error_not_a_number() {
        let (mut y, mut design) = design2();
        // Drop one observation of the first run: runs of 4 and 5.
        y.remove(0);
        design.factors[0].remove(0);
        design.run.remove(0);
        let err = anova(&y, &design).unwrap_err().to_string();
        assert!(err.contains("same number"), "{err}");
    }

    #[test]
    fn a_run_spanning_cells_is_an_error() {
        let (y, mut design) = design2();
        design.run = vec![1; y.len()];
        let err = anova(&y, &design).unwrap_err().to_string();
        assert!(err.contains("spans design cells"), "{err}");
    }

    #[test]
    fn empty_input_is_an_error() {
        let design = Design {
            levels: vec![2],
            factors: vec![vec![]],
            run: vec![],
        };
        assert!(anova(&[], &design).is_err());
        assert!(cell_contrasts(&[], &design).is_err());
    }

    #[test]
    fn runs_no_more_than_cells_is_an_error() {
        let (y, mut design) = design2();
        design.run = design.factors[0].iter().map(|&l| l as i64).collect();
        assert!(anova(&y, &design).is_err());
    }
}
