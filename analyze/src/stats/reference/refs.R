# Reference values for the figure statistics of analyze/src/stats (density, boxplot,
# regression, agreement); the other reference values come from refs.py.
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
