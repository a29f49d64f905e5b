# Reference values for the figure statistics of analyze/src/stats (density, boxplot,
# regression, agreement) and for Spearman's p-value as R's cor.test computes it (rank); the
# other reference values come from refs.py.
#
# Base R only (no CRAN package): R 4.2.2 (Debian r-base-core).
#   Rscript analyze/src/stats/reference/refs.R > analyze/src/stats/reference/refs_r.txt
# Every line prints the call and its value in the fewest digits that read back as the same
# double (as Python's repr does), so it can be pasted verbatim into a test.

shortest <- function(v) {
  if (is.na(v)) return("NA")
  for (d in 15:17) {
    s <- sprintf(paste0("%.", d, "g"), v)
    if (as.numeric(s) == v) return(s)
  }
  s
}

show <- function(label, value) {
  v <- if (length(value) == 0) {
    "numeric(0)"
  } else if (is.numeric(value)) {
    paste(vapply(value, shortest, ""), collapse = ", ")
  } else {
    paste(value, collapse = ", ")
  }
  cat(label, " -> ", v, "\n", sep = "")
}

# ---------------------------------------------------------------- bandwidth (bw.nrd0)
# Silverman (1986, eq. 3.31): 0.9 * min(sd, IQR/1.34) * n^(-1/5); R falls back to sd, then
# abs(x[1]), then 1 when the spread is 0.
cat("# bandwidth\n")
D1 <- c(1, 2, 2.5, 3, 7)                     # IQR/1.34 < sd
D2 <- c(0.1, 0.2, 0.3, 5.1, 5.2, 5.3)       # sd < IQR/1.34
D3 <- c(4, 4, 4, 4, 4, 10)                  # IQR = 0, sd > 0: sd
show("bw.nrd0(c(1, 2, 2.5, 3, 7))", bw.nrd0(D1))
show("density(c(1, 2, 2.5, 3, 7))$bw", density(D1)$bw)
show("bw.nrd0(c(0.1, 0.2, 0.3, 5.1, 5.2, 5.3))", bw.nrd0(D2))
show("bw.nrd0(c(4, 4, 4, 4, 4, 10))", bw.nrd0(D3))
show("sd(c(4, 4, 4, 4, 4, 10))", sd(D3))
show("bw.nrd0(c(3, 3, 3))  # spread 0: abs(x[1])", bw.nrd0(c(3, 3, 3)))
show("bw.nrd0(c(-2.5, -2.5, -2.5, -2.5))  # abs(x[1])", bw.nrd0(c(-2.5, -2.5, -2.5, -2.5)))
show("bw.nrd0(c(0, 0))  # abs(x[1]) = 0: 1", bw.nrd0(c(0, 0)))
show("tryCatch(bw.nrd0(5), error = conditionMessage)", tryCatch(bw.nrd0(5), error = conditionMessage))
show("0.9 * abs(5) * 1^(-0.2)  # bw.nrd0's fallback for n = 1", 0.9 * abs(5) * 1^(-0.2))

# ---------------------------------------------------------------- kernel density
# The Gaussian kernel sum, exactly: f(t) = mean(dnorm(t, x, bw)). R's density() bins the data
# and convolves by FFT, so it only approximates this sum; both are shown.
cat("# density\n")
P1 <- c(-2, 0, 2, 4, 6, 8, 10)
exact <- function(x, t) sapply(t, function(u) mean(dnorm(u, mean = x, sd = bw.nrd0(x))))
show("sapply(c(-2, 0, 2, 4, 6, 8, 10), function(u) mean(dnorm(u, c(1, 2, 2.5, 3, 7), bw.nrd0(c(1, 2, 2.5, 3, 7)))))",
     exact(D1, P1))
show("density(c(1, 2, 2.5, 3, 7), n = 7, from = -2, to = 10)$y",
     density(D1, n = 7, from = -2, to = 10)$y)
P2 <- c(0, 2.5, 5.2)
show("sapply(c(0, 2.5, 5.2), function(u) mean(dnorm(u, c(0.1, 0.2, 0.3, 5.1, 5.2, 5.3), bw.nrd0(c(0.1, 0.2, 0.3, 5.1, 5.2, 5.3)))))",
     exact(D2, P2))
show("density(c(0.1, 0.2, 0.3, 5.1, 5.2, 5.3), n = 3, from = 0, to = 5.2)$y",
     density(D2, n = 3, from = 0, to = 5.2)$y)
show("sapply(c(2, 3, 4), function(u) mean(dnorm(u, c(3, 3, 3), bw.nrd0(c(3, 3, 3)))))",
     exact(c(3, 3, 3), c(2, 3, 4)))

# ---------------------------------------------------------------- box plot statistics
# Tukey (1977): box = quartiles, whiskers to the most extreme values within 1.5 IQR of the box,
# the rest drawn as outliers. We take the quartiles by quantile(type = 7); boxplot.stats takes
# Tukey's hinges (fivenum), which are the same quartiles when n = 4m + 1 (B1, B2) and differ
# otherwise (B3), so for B3 the whisker rule is applied by hand to the type-7 quartiles.
cat("# box plot\n")
whiskers7 <- function(x) {
  q <- quantile(x, c(0.25, 0.75), type = 7, names = FALSE)
  f <- 1.5 * (q[2] - q[1])
  inside <- x[x >= q[1] - f & x <= q[2] + f]
  list(range = range(inside), out = sort(x[x < q[1] - f | x > q[2] + f]))
}
B1 <- c(1, 2, 3, 4, 100)
B2 <- c(-10, 1.2, 2.5, 2.7, 3.1, 3.3, 3.6, 4.0, 12.5)
B3 <- c(1, 2, 3, 4, 5, 6, 7, 12)
for (nm in c("B1", "B2", "B3")) {
  x <- get(nm)
  lit <- paste0("c(", paste(x, collapse = ", "), ")")
  show(sprintf("quantile(%s, c(0.25, 0.5, 0.75), type = 7)  # %s", lit, nm),
       quantile(x, c(0.25, 0.5, 0.75), type = 7, names = FALSE))
  show(sprintf("mean(%s)", lit), mean(x))
  w <- whiskers7(x)
  show(sprintf("range(x[x >= q1 - 1.5 IQR & x <= q3 + 1.5 IQR]), type-7 quartiles, x = %s", nm), w$range)
  show(sprintf("sort(x[x < q1 - 1.5 IQR | x > q3 + 1.5 IQR]), type-7 quartiles, x = %s", nm), w$out)
  show(sprintf("boxplot.stats(%s)$stats", lit), boxplot.stats(x)$stats)
  show(sprintf("sort(boxplot.stats(%s)$out)", lit), sort(boxplot.stats(x)$out))
}
show("boxplot.stats(c(5))$stats", boxplot.stats(c(5))$stats)
show("boxplot.stats(c(2, 2, 2))$stats", boxplot.stats(c(2, 2, 2))$stats)

# ---------------------------------------------------------------- least squares
cat("# least squares\n")
show("coef(lm(y ~ x)), x = c(1, 2, 3, 4, 5, 6), y = c(2.1, 3.9, 6.2, 7.8, 10.1, 12.2)",
     coef(lm(c(2.1, 3.9, 6.2, 7.8, 10.1, 12.2) ~ c(1, 2, 3, 4, 5, 6))))
show("coef(lm(y ~ x)), x = c(0, 1, 2), y = c(1, 3, 5)", coef(lm(c(1, 3, 5) ~ c(0, 1, 2))))
show("coef(lm(y ~ x)), x = c(-3.5, 0.25, 1e3, 12), y = c(7, -1, 40, 2.5)",
     coef(lm(c(7, -1, 40, 2.5) ~ c(-3.5, 0.25, 1e3, 12))))
show("coef(lm(y ~ x)), x = c(1, 1), y = c(1, 2)  # one distinct x: slope NA",
     coef(lm(c(1, 2) ~ c(1, 1))))

# ---------------------------------------------------------------- Cohen's kappa
# Cohen (1960): (p_o - p_e) / (1 - p_e) from a 2x2 table of two raters.
cat("# cohen's kappa\n")
kappa2 <- function(yy, yn, ny, nn) {
  t <- matrix(c(yy, ny, yn, nn), 2)  # rows: rater 1 yes/no; columns: rater 2 yes/no
  n <- sum(t)
  po <- sum(diag(t)) / n
  pe <- sum(rowSums(t) * colSums(t)) / n^2
  (po - pe) / (1 - pe)
}
for (t in list(c(2, 1, 0, 2), c(20, 5, 10, 15), c(40, 9, 6, 45), c(3, 0, 0, 2), c(0, 5, 5, 0),
               c(4, 0, 0, 0))) {
  show(sprintf("kappa2(%s)  # t <- matrix(c(yy, ny, yn, nn), 2); (po - pe)/(1 - pe)",
               paste(t, collapse = ", ")),
       kappa2(t[1], t[2], t[3], t[4]))
}

# ---------------------------------------------------------------- Spearman's rho
# cor.test(x, y, method = "spearman"), two-sided; each line gives rho, then p. Without ties and
# n <= 1290 (cor.test's pspearman tests n <= 1290) the p-value is AS 89 (Best & Roberts 1975),
# R's prho: all n! permutations for n <= 9, the Edgeworth series above, clamped to [0, 1], so
# that strong correlations at n >= 10 get p = 0. With a tie, or n > 1290: the t approximation
# on n - 2 df (R warns that it cannot compute an exact p-value with ties; silenced here).
# x = 1:n and y = s * x + w * n * lcg(n) come from the Park-Miller minimal standard generator
# (integers below 2^46, exact in doubles), which the tests of rank.rs rebuild.
cat("# spearman\n")
lcg <- function(n, seed = 20240607) {
  u <- numeric(n)
  for (i in seq_len(n)) {
    seed <- (16807 * seed) %% 2147483647
    u[i] <- seed
  }
  u / 2147483647
}
spear <- function(xlab, ylab, x, y, setup = "") {
  ct <- suppressWarnings(cor.test(x, y, method = "spearman"))
  show(sprintf("%scor.test(%s, %s, method = \"spearman\")[c(\"estimate\", \"p.value\")]",
               setup, xlab, ylab),
       c(ct$estimate, ct$p.value))
}
lit <- function(v) paste0("c(", paste(v, collapse = ", "), ")")
X4 <- c(2.5, -1, 7, 3.25)
for (y in list(c(0.2, 0.1, 0.4, 0.3), c(0.3, 0.4, 0.1, 0.2), c(4, 2, 3, 1), c(1, 2, 4, 3),
               c(3, 4, 2, 1))) {
  spear(lit(X4), lit(y), X4, y)
}
X7 <- c(1, 2, 3, 4, 5, 6, 7)
for (y in list(c(2, 1, 4, 3, 7, 5, 6), c(5, 7, 1, 3, 2, 6, 4), c(6, 7, 5, 3, 4, 1, 2),
               c(7, 6, 5, 4, 3, 2, 1))) {
  spear(lit(X7), lit(y), X7, y)
}
SY <- c(2.3, 1.9, 3.5, 3.1, 6.0, 4.4, 5.2, 8.8, 7.1, 9.9)
spear("1:10", lit(SY), 1:10, SY)
spear("1:10", "10:1", 1:10, 10:1)
for (case in list(
  list(9, c(0, 1), c(1, 1.5), c(-1, 0.6), c(1, 0.3), c(-1, 0.3)),
  list(10, c(0, 1), c(1, 1.5), c(-1, 1.5), c(-1, 0.6), c(1, 0.3)),
  list(12, c(0, 1), c(1, 1.5), c(-1, 0.6), c(1, 0.6)),
  list(30, c(0, 1), c(1, 1.5), c(-1, 1.5), c(1, 0.6), c(-1, 0.6), c(1, 0.3)),
  list(80, c(0, 1), c(1, 1.5), c(-1, 1.5), c(-1, 0.6)),
  list(200, c(0, 1), c(1, 3), c(-1, 3), c(1, 0.6)),
  list(1290, c(0, 1), c(1, 1.5)),
  list(1291, c(0, 1), c(1, 1.5)))) {
  n <- case[[1]]
  x <- as.numeric(1:n)
  for (sw in case[-1]) {
    spear("x", sprintf("%g * x + %g * %d * lcg(%d)", sw[1], sw[2], n, n),
          x, sw[1] * x + sw[2] * n * lcg(n), setup = sprintf("x <- 1:%d; ", n))
  }
}
# with ties: the t approximation
TX <- c(1, 2, 2, 3, 4, 4, 4, 5, 6, 7)
TY <- c(3, 1, 2, 2, 5, 4, 6, 6, 6, 9)
spear(lit(TX), lit(TY), TX, TY)
x <- as.numeric(1:30)
spear("floor(x / 2)", "floor(x / 3 + 5 * lcg(30))", floor(x / 2), floor(x / 3 + 5 * lcg(30)),
      setup = "x <- 1:30; ")
spear("x", "floor(-x / 3 + 5 * lcg(30))", x, floor(-x / 3 + 5 * lcg(30)), setup = "x <- 1:30; ")
spear("c(1, 1, 2, 3)", "c(1, 1, 2, 3)", c(1, 1, 2, 3), c(1, 1, 2, 3))
# prho itself, through the routine cor.test calls (stats' C_pRho(is, n, lower.tail)):
# P(S >= is), or P(S < is) with lower.tail.
for (a in list(c(5, 0, 0), c(5, 0, 1), c(5, 40, 0), c(5, 41, 0), c(5, 41, 1), c(5, 20, 0),
               c(5, 20, 1), c(9, 100, 0), c(9, 100, 1), c(10, 100, 0), c(10, 100, 1),
               c(10, 2, 1), c(10, 330, 0), c(1290, 3.58e8, 0), c(1290, 3.58e8, 1))) {
  show(sprintf(".Call(stats:::C_pRho, %.10g, %d, %s)", a[2], a[1], as.logical(a[3])),
       .Call(stats:::C_pRho, a[2], a[1], as.logical(a[3])))
}
# The normal tails AS 89's series adds to (R's pnorm, Cody's algorithm).
for (x in c(0.5, 1, 3, 6, 10)) {
  show(sprintf("pnorm(%g, lower.tail = FALSE)", x), pnorm(x, lower.tail = FALSE))
  show(sprintf("pnorm(%g)", x), pnorm(x))
}
