# Reference values for analyze/src/stats/art.rs: the aligned rank transform done by hand (as
# ARTool's art() does it: cell means of the fixed factors, residual + estimated effect, rounded
# to 8 digits, average ranks), then lme4::lmer with a random intercept per run, car::Anova
# type III F tests with Kenward-Roger df (pbkrtest), and emmeans contrasts (KR df). lme4, car,
# pbkrtest and emmeans are Debian packages (r-cran-*); ARTool itself is not packaged.
# Run: Rscript analyze/src/stats/reference/art.R 2>/dev/null | grep -v "^NOTE" > analyze/src/stats/reference/art_r.txt
suppressPackageStartupMessages({ library(lme4); library(car); library(emmeans); library(pbkrtest) })
options(contrasts = c("contr.sum", "contr.poly"), digits = 17)
emm_options(lmer.df = "kenward-roger")
rk <- function(a) rank(round(a, 8))
align2 <- function(y, A, B) {
  mu <- mean(y); ma <- ave(y, A); mb <- ave(y, B); mc <- ave(y, interaction(A, B, drop = TRUE))
  res <- y - mc
  list(A = rk(res + ma - mu), B = rk(res + mb - mu), AB = rk(res + mc - ma - mb + mu))
}
show_anova <- function(label, fit, term) {
  a <- car::Anova(fit, type = 3, test.statistic = "F")
  cat(sprintf("%s F=%.17g df=%.17g df2=%.17g p=%.17g\n", label, a[term, "F"], a[term, "Df"], a[term, "Df.res"], a[term, "Pr(>F)"]))
}
show_con <- function(label, fit, spec) {
  e <- as.data.frame(pairs(emmeans(fit, spec), adjust = "none"))
  for (i in seq_len(nrow(e))) cat(sprintf("%s %s est=%.17g se=%.17g df=%.17g t=%.17g p=%.17g\n", label, e$contrast[i], e$estimate[i], e$SE[i], e$df[i], e$t.ratio[i], e$p.value[i]))
}
# Design 1: two factors A (2) x B (3); runs nested in cells, cell (a2, b3) has two runs; 4 reps per run.
set.seed(11)
d <- expand.grid(rep = 1:4, run = 1:9)
cell_of_run <- data.frame(run = 1:9, A = c("a1","a1","a1","a1","a2","a2","a2","a2","a2"), B = c("b1","b1","b2","b3","b1","b2","b2","b3","b3"))
d <- merge(d, cell_of_run)
run_eff <- rnorm(9, sd = 2)
d$y <- round(10 + (d$A == "a2") * 3 + as.integer(factor(d$B)) + run_eff[d$run] + rnorm(nrow(d)), 2)
d$A <- factor(d$A); d$B <- factor(d$B); d$run <- factor(d$run)
cat("DATA1", paste(d$A, d$B, d$run, d$y, sep = ":"), "\n")
al <- align2(d$y, d$A, d$B)
for (t in c("A", "B", "AB")) {
  d$r <- al[[t]]
  fit <- lmer(r ~ A * B + (1 | run), data = d)
  term <- if (t == "AB") "A:B" else t
  show_anova(paste0("D1 ", t), fit, term)
  cat(sprintf("D1 %s var runvar=%.17g resvar=%.17g\n", t, as.data.frame(VarCorr(fit))$vcov[1], sigma(fit)^2))
  if (t == "A") show_con("D1 conA", fit, ~A)
}
# Design 2: one factor G (3 levels), runs nested (2, 2, 4 runs), 5 reps; no run effect, and a
# seed for which REML puts the run variance at the boundary (0).
set.seed(1)
d2 <- expand.grid(rep = 1:5, run = 1:8)
d2$G <- factor(c("g1","g1","g2","g2","g3","g3","g3","g3")[d2$run]); d2$run <- factor(d2$run)
d2$y <- round(d2$rep * 0 + as.integer(d2$G) * 0.8 + rnorm(nrow(d2)), 2)
cat("DATA2", paste(d2$G, d2$run, d2$y, sep = ":"), "\n")
d2$r <- rk(d2$y - mean(d2$y))
fit2 <- lmer(r ~ G + (1 | run), data = d2)
cat(sprintf("D2 runvar=%.17g resvar=%.17g singular=%s\n", as.data.frame(VarCorr(fit2))$vcov[1], sigma(fit2)^2, isSingular(fit2)))
show_anova("D2 G", fit2, "G")
show_con("D2 con", fit2, ~G)
