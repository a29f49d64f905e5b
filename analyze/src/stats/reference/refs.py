"""Reference values for analyze/src/stats tests.

scipy 1.17.1, statsmodels 0.15.0, scikit-posthocs 0.17.1, pingouin 0.7.0, numpy 2.4.6.
Every line prints the call and repr() of the result so it can be pasted verbatim.
"""

import math

import numpy as np
import pandas as pd
import pingouin as pg
import scikit_posthocs as sp
from scipy import stats
from scipy.special import ndtri, ndtr
from statsmodels.stats.multitest import multipletests


def show(label, value):
    print(f"{label} -> {value!r}")


# ---------------------------------------------------------------- data sets
KW_A = [[2.9, 3.0, 2.5, 2.6, 3.2], [3.8, 2.7, 4.0, 2.4], [2.8, 3.4, 3.7, 2.2, 2.0]]
TIES = [[1, 2, 2, 3, 5], [2, 3, 3, 4, 6, 6], [5, 5, 7, 8, 8, 9]]
SYN4 = [
    [8.91, 8.53, 5.84, 12.57, 9.16, 10.44],
    [6.82, 5.85, 7.23, 4.59, 6.76, 7.01],
    [3.82, 3.8, 5.06, 5.07, 3.69, 3.45],
    [4.57, 3.46, 3.12, 2.28, 2.48, 2.71, 2.71, 2.7, 4.54, 3.5, 2.11, 3.43],
]

print("# ranks")
show("scipy.stats.rankdata([3.1, 1.2, 5.0, 1.2, 2.2, 5.0, 5.0])",
     list(stats.rankdata([3.1, 1.2, 5.0, 1.2, 2.2, 5.0, 5.0])))
show("scipy.stats.tiecorrect(scipy.stats.rankdata([3.1, 1.2, 5.0, 1.2, 2.2, 5.0, 5.0]))",
     stats.tiecorrect(stats.rankdata([3.1, 1.2, 5.0, 1.2, 2.2, 5.0, 5.0])))

print("# descriptive")
for x in ([2.9, 3.0, 2.5, 2.6, 3.2, 3.8, 2.7, 4.0, 2.4], [1, 2, 2, 3, 5, 5, 5, 8]):
    a = np.array(x, dtype=float)
    n = len(a)
    show(f"np.mean({x})", a.mean())
    show(f"np.median({x})", np.median(a))
    show(f"np.var({x}, ddof=1)", a.var(ddof=1))
    show(f"np.std({x}, ddof=1)", a.std(ddof=1))
    show(f"np.quantile({x}, [0.25, 0.75])  # method='linear' = R type 7", list(np.quantile(a, [0.25, 0.75])))
    show(f"scipy.stats.t.interval(0.95, {n - 1}, loc=np.mean(x), scale=scipy.stats.sem(x))",
         stats.t.interval(0.95, n - 1, loc=a.mean(), scale=stats.sem(a)))

print("# kruskal")
for name, g in (("KW_A", KW_A), ("TIES", TIES), ("SYN4", SYN4)):
    r = stats.kruskal(*g)
    N = sum(len(v) for v in g)
    show(f"scipy.stats.kruskal(*{name})", (r.statistic, r.pvalue))
    show(f"  epsilon2 = H/((N^2-1)/(N+1)), N={N}", r.statistic / ((N * N - 1) / (N + 1)))
show("scipy.stats.chi2.sf(21.2645, 3)", stats.chi2.sf(21.2645, 3))
show("21.265/29 (epsilon2 of the anchor, N=30)", 21.265 / 29)

print("# dunn")
for name, g in (("KW_A", KW_A), ("TIES", TIES), ("SYN4", SYN4)):
    raw = sp.posthoc_dunn(g, p_adjust=None)
    adj = sp.posthoc_dunn(g, p_adjust="fdr_bh")
    k = len(g)
    N = sum(len(v) for v in g)
    allv = np.concatenate([np.asarray(v, float) for v in g])
    ranks = stats.rankdata(allv)
    idx = np.cumsum([0] + [len(v) for v in g])
    mr = [ranks[idx[i]:idx[i + 1]].mean() for i in range(k)]
    _, counts = np.unique(allv, return_counts=True)
    ties = ((counts ** 3 - counts).sum()) / (12 * (N - 1))
    for i in range(k):
        for j in range(i + 1, k):
            z = (mr[i] - mr[j]) / math.sqrt((N * (N + 1) / 12 - ties) * (1 / len(g[i]) + 1 / len(g[j])))
            show(f"{name} pair ({i},{j}): z (mean rank diff formula); "
                 f"scikit_posthocs.posthoc_dunn({name}, p_adjust=None/'fdr_bh').iloc[{i},{j}]",
                 (z, raw.iloc[i, j], adj.iloc[i, j]))

print("# levene (Brown-Forsythe)")
for name, g in (("KW_A", KW_A), ("TIES", TIES), ("SYN4", SYN4)):
    r = stats.levene(*g, center="median")
    show(f"scipy.stats.levene(*{name}, center='median')", (r.statistic, r.pvalue))

print("# anova")
for name, g in (("KW_A", KW_A), ("TIES", TIES), ("SYN4", SYN4)):
    r = stats.f_oneway(*g)
    df = pd.DataFrame({"y": np.concatenate([np.asarray(v, float) for v in g]),
                       "g": np.repeat(np.arange(len(g)), [len(v) for v in g])})
    a = pg.anova(data=df, dv="y", between="g", detailed=True)
    show(f"scipy.stats.f_oneway(*{name})", (r.statistic, r.pvalue))
    show(f"pingouin.anova(dv='y', between='g', detailed=True) {name}: np2 (= eta2 one-way)",
         float(a["np2"].iloc[0]))
    w = pg.welch_anova(data=df, dv="y", between="g")
    show(f"pingouin.welch_anova(data=df_{name}, dv='y', between='g'): F, ddof1, ddof2, p_unc, np2",
         (float(w["F"].iloc[0]), float(w["ddof1"].iloc[0]), float(w["ddof2"].iloc[0]),
          float(w["p_unc"].iloc[0]), float(w["np2"].iloc[0])))
    # scipy >= 1.15 has f_oneway(equal_var=False) = Welch
    r2 = stats.f_oneway(*g, equal_var=False)
    show(f"scipy.stats.f_oneway(*{name}, equal_var=False)", (r2.statistic, r2.pvalue))

print("# welch t / hedges")
for a_, b_ in ((KW_A[0], KW_A[1]), (TIES[0], TIES[1]), (SYN4[0], SYN4[3])):
    r = stats.ttest_ind(a_, b_, equal_var=False)
    show(f"scipy.stats.ttest_ind({a_}, {b_}, equal_var=False)", (r.statistic, r.pvalue, r.df))
    g_ = pg.compute_effsize(a_, b_, paired=False, eftype="hedges")
    show("pingouin.compute_effsize(a, b, paired=False, eftype='hedges')", g_)
    ci = pg.compute_esci(stat=g_, nx=len(a_), ny=len(b_), eftype="hedges", confidence=0.95, decimals=15)
    show(f"pingouin.compute_esci(stat=g, nx={len(a_)}, ny={len(b_)}, eftype='hedges', confidence=0.95, decimals=15)",
         list(ci))

print("# mann-whitney")
for a_, b_ in ((KW_A[0], KW_A[1]), (TIES[0], TIES[1]), (TIES[2], TIES[0]), (SYN4[0], SYN4[3])):
    r = stats.mannwhitneyu(a_, b_, alternative="two-sided", method="asymptotic", use_continuity=True)
    show(f"scipy.stats.mannwhitneyu({a_}, {b_}, alternative='two-sided', method='asymptotic', use_continuity=True)",
         (r.statistic, r.pvalue))
    A = np.asarray(a_, float)
    B = np.asarray(b_, float)
    d = np.sign(A[:, None] - B[None, :])
    delta = d.mean()
    n1, n2 = len(A), len(B)
    di = d.mean(axis=1)
    dj = d.mean(axis=0)
    s2 = (n2 * n2 * ((di - delta) ** 2).sum() + n1 * n1 * ((dj - delta) ** 2).sum()
          - ((d - delta) ** 2).sum()) / (n1 * n2 * (n1 - 1) * (n2 - 1))
    s2 = max(s2, (1 - delta ** 2) / (n1 * n2 - 1))
    z = stats.norm.ppf(0.975)
    lo = (delta - delta ** 3 - z * math.sqrt(s2) * math.sqrt((1 - delta ** 2) ** 2 + z * z * s2)) / (1 - delta ** 2 + z * z * s2)
    hi = (delta - delta ** 3 + z * math.sqrt(s2) * math.sqrt((1 - delta ** 2) ** 2 + z * z * s2)) / (1 - delta ** 2 + z * z * s2)
    show("  cliffs delta = mean(sign(a_i - b_j)) (numpy); Cliff (1993) s2 and asymmetric 95% CI (numpy transcription)",
         (delta, s2, lo, hi))

print("# spearman")
SX = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
SY = [2.3, 1.9, 3.5, 3.1, 6.0, 4.4, 5.2, 8.8, 7.1, 9.9]
TX = [1, 2, 2, 3, 4, 4, 4, 5, 6, 7]
TY = [3, 1, 2, 2, 5, 4, 6, 6, 6, 9]
for x, y in ((SX, SY), (TX, TY), (SX, list(reversed(SX)))):
    r = stats.spearmanr(x, y)
    show(f"scipy.stats.spearmanr({x}, {y})", (r.statistic, r.pvalue))

print("# adjust")
P = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 0.5, 0.0001]
show(f"statsmodels multipletests({P}, method='fdr_bh')[1]", list(multipletests(P, method="fdr_bh")[1]))
show(f"statsmodels multipletests({P}, method='holm')[1]", list(multipletests(P, method="holm")[1]))
P2 = [0.9, 0.8, 0.85]
show(f"statsmodels multipletests({P2}, method='fdr_bh')[1]", list(multipletests(P2, method="fdr_bh")[1]))
show(f"statsmodels multipletests({P2}, method='holm')[1]", list(multipletests(P2, method="holm")[1]))

print("# shapiro")
SW = {
    "n3": [1.0, 2.0, 4.0],
    "n3_eq": [1.0, 2.0, 3.0],
    "n4": [1.0, 2.0, 3.0, 10.0],
    "n5": [2.9, 3.0, 2.5, 2.6, 3.2],
    "n6": [1.0, 1.5, 2.0, 2.2, 5.0, 9.0],
    "n10": [2.9, 3.0, 2.5, 2.6, 3.2, 3.8, 2.7, 4.0, 2.4, 3.3],
    "n11_skew": [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 2.0, 5.0, 40.0],
    "n18_ties": [1, 2, 2, 3, 5, 2, 3, 3, 4, 6, 6, 5, 5, 7, 8, 8, 9, 9],
    "syn30": [v for g in SYN4 for v in g],
}
for name, x in SW.items():
    r = stats.shapiro(x)
    show(f"scipy.stats.shapiro({name}={x})", (r.statistic, r.pvalue))


# Python transcription of scipy's swilk (the Cython code) with a switch between the AS 111
# `_ppnd`/AS 66 `_alnorm` approximations scipy uses and the exact ndtri/ndtr that R's swilk.c
# uses (qnorm/pnorm). With approx=True it must reproduce scipy.stats.shapiro, which validates the
# transcription; with approx=False it gives the R-equivalent values our Rust port targets.
def _ppnd(p):
    A0, A1, A2, A3 = 2.50662823884, -18.61500062529, 41.39119773534, -25.44106049637
    B1, B2, B3, B4 = -8.47351093090, 23.08336743743, -21.06224101826, 3.13082909833
    C0, C1, C2, C3 = -2.78718931138, -2.29796479134, 4.85014127135, 2.32121276858
    D1, D2 = 3.54388924762, 1.63706781897
    q = p - 0.5
    if abs(q) <= 0.42:
        r = q * q
        return q * (((A3 * r + A2) * r + A1) * r + A0) / ((((B4 * r + B3) * r + B2) * r + B1) * r + 1.0)
    r = p if q <= 0 else 1 - p
    r = math.sqrt(-math.log(r))
    t = (((C3 * r + C2) * r + C1) * r + C0) / ((D2 * r + D1) * r + 1.0)
    return -t if q < 0 else t


def _alnorm_upper(x):
    A1, A2, A3, A4, A5, A6, A7 = (0.398942280444, 0.399903438504, 5.75885480458, 29.8213557808,
                                  2.62433121679, 48.6959930692, 5.92885724438)
    B = (0.398942280385, 3.8052e-8, 1.00000615302, 3.98064794e-4, 1.98615381364, 0.151679116635,
         5.29330324926, 4.8385912808, 15.1508972451, 0.742380924027, 30.789933034, 3.99019417011)
    upper = True
    z = x
    if not (z > 0):
        upper = False
        z = -z
    if not ((z <= 7.0) or (upper and z <= 38.0)):
        return 0.0 if upper else 1.0
    y = 0.5 * z * z
    if z <= 1.28:
        t = 0.5 - z * (A1 - A2 * y / (y + A3 - A4 / (y + A5 + A6 / (y + A7))))
    else:
        t = B[0] * math.exp(-y) / (z - B[1] + B[2] / (z + B[3] + B[4] / (z - B[5] + B[6] / (z + B[7] - B[8] / (z + B[9] + B[10] / (z + B[11]))))))
    return t if upper else 1 - t


def _poly(c, x):
    res = c[0]
    if len(c) == 1:
        return res
    p = x * c[-1]
    for cc in reversed(c[1:-1]):
        p = (p + cc) * x
    return res + p


def swilk_py(xs, approx):
    x = np.sort(np.asarray(xs, float))
    x = x - np.median(x)
    n = len(x)
    nn2 = n // 2
    c1 = [0., 0.221157, -0.147981, -2.07119, 4.434685, -2.706056]
    c2 = [0., 0.042981, -0.293762, -1.752461, 5.682633, -3.582633]
    c3 = [0.544, -0.39978, 0.025054, -6.714e-4]
    c4 = [1.3822, -0.77857, 0.062767, -0.0020322]
    c5 = [-1.5861, -0.31082, -0.083751, 0.0038915]
    c6 = [-0.4803, -0.082676, 0.0030302]
    g = [-2.273, 0.459]
    a = np.zeros(nn2)
    an = float(n)
    if n == 3:
        a[0] = math.sqrt(0.5)
    else:
        an25 = an + 0.25
        summ2 = 0.0
        for i in range(nn2):
            p = (i + 1 - 0.375) / an25
            a[i] = _ppnd(p) if approx else ndtri(p)
            summ2 += a[i] ** 2
        summ2 *= 2
        ssumm2 = math.sqrt(summ2)
        rsn = 1 / math.sqrt(an)
        A1 = _poly(c1, rsn) - a[0] / ssumm2
        if n > 5:
            i1 = 2
            A2 = -a[1] / ssumm2 + _poly(c2, rsn)
            fac = math.sqrt((summ2 - 2 * a[0] ** 2 - 2 * a[1] ** 2) / (1 - 2 * A1 ** 2 - 2 * A2 ** 2))
            a[1] = A2
        else:
            i1 = 1
            fac = math.sqrt((summ2 - 2 * a[0] ** 2) / (1 - 2 * A1 ** 2))
        a[0] = A1
        for i in range(i1, nn2):
            a[i] *= -1.0 / fac
    rng = x[-1] - x[0]
    sx = 0.0
    sa = 0.0
    coef = np.zeros(n)
    for i in range(n):
        j = n - 1 - i
        coef[i] = 0.0 if i == j else (-1 if i < j else 1) * a[min(i, j)]
    xs_ = x / rng
    sa = coef.sum() / n
    sx = xs_.sum() / n
    ssa = ((coef - sa) ** 2).sum()
    ssx = ((xs_ - sx) ** 2).sum()
    sax = ((coef - sa) * (xs_ - sx)).sum()
    ssassx = math.sqrt(ssa * ssx)
    w1 = (ssassx - sax) * (ssassx + sax) / (ssa * ssx)
    w = 1 - w1
    if n == 3:
        return (w, max(0.0, 1 - 6 / math.pi * math.acos(math.sqrt(w))))
    y = math.log(w1)
    xx = math.log(an)
    if n <= 11:
        gamma = _poly(g, an)
        if y >= gamma:
            return (w, 1e-19 if approx else 1e-99)
        y = -math.log(gamma - y)
        m = _poly(c3, an)
        s = math.exp(_poly(c4, an))
    else:
        m = _poly(c5, xx)
        s = math.exp(_poly(c6, xx))
    z = (y - m) / s
    return (w, _alnorm_upper(z) if approx else float(ndtr(-z)))


for name, x in SW.items():
    ref = stats.shapiro(x)
    approx = swilk_py(x, True)
    exact = swilk_py(x, False)
    show(f"swilk_py({name}, approx=True) [transcription check vs scipy: dW, dp]",
         (approx[0] - ref.statistic, approx[1] - ref.pvalue))
    show(f"swilk_py({name}, approx=False)  # R swilk.c equivalent (qnorm/pnorm exact)", exact)
    show(f"  |exact - scipy| (W, p)", (abs(exact[0] - ref.statistic), abs(exact[1] - ref.pvalue)))

print("# misc distribution anchors")
show("scipy.stats.norm.ppf(0.975)", stats.norm.ppf(0.975))
