"""Multiple comparisons: adjusted p-values and pairwise column tests with their letters.

* ``adjust_pvalues(p_values, *, method)`` — ``holm``, ``bh``, ``bonferroni``, ``none``.
* ``column_proportion_tests(counts, bases, *, adjust, alpha)`` and
  ``design_column_proportion_tests(estimates, covariances, df, *, adjust, alpha)`` —
  pairwise column comparisons; ``column_letters(...)`` turns them into SPSS-style letters.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from pipeline.stats.methods import ADJUST_METHODS, TestResult, as_table, check_method


def adjust_pvalues(p_values: Sequence[float], *, method: str) -> np.ndarray:
    """Adjust p-values for multiple comparisons.

    Parameters
    ----------
    p_values : sequence of float
        NaN entries are kept as NaN and not counted.
    method : {"none", "bonferroni", "holm", "bh", "hochberg", "hommel", "by"}
        ``holm``: Holm's step-down family-wise control; ``hochberg``: Hochberg's step-up;
        ``hommel``: Hommel's closed procedure; ``bh``: Benjamini–Hochberg false discovery
        rate; ``by``: Benjamini–Yekutieli (any dependence). Results equal R's ``p.adjust``.

    Returns
    -------
    ndarray

    References
    ----------
    .. [1] Holm, S. (1979). A simple sequentially rejective multiple test procedure.
       *Scandinavian Journal of Statistics* 6, 65–70.
    .. [2] Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate.
       *JRSS B* 57, 289–300.
    .. [3] Hochberg, Y. (1988). A sharper Bonferroni procedure for multiple tests of
       significance. *Biometrika* 75, 800–802.
    .. [4] Hommel, G. (1988). A stagewise rejective multiple test procedure based on a
       modified Bonferroni test. *Biometrika* 75, 383–386.
    .. [5] Benjamini, Y. and Yekutieli, D. (2001). The control of the false discovery rate
       in multiple testing under dependency. *Annals of Statistics* 29, 1165–1188.
    """
    check_method(method, ADJUST_METHODS, "p-value adjustment")
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    if method == "none":
        adj = q.copy()
    elif method == "bonferroni":
        adj = np.minimum(1.0, q * m)
    elif method == "holm":
        order = np.argsort(q, kind="stable")
        stepped = np.maximum.accumulate((m - np.arange(m)) * q[order])
        adj = np.empty(m)
        adj[order] = np.minimum(1.0, stepped)
    elif method == "hommel" and m > 2:
        adj = _hommel(q)
    elif method in ("hochberg", "hommel"):
        # (R's p.adjust treats Hommel with two p-values as Hochberg.)
        order = np.argsort(-q, kind="stable")
        stepped = np.minimum.accumulate((m + 1 - np.arange(m, 0, -1)) * q[order])
        adj = np.empty(m)
        adj[order] = np.minimum(1.0, stepped)
    else:
        order = np.argsort(-q, kind="stable")
        factor = float(np.sum(1.0 / np.arange(1, m + 1))) if method == "by" else 1.0
        stepped = np.minimum.accumulate(factor * m / np.arange(m, 0, -1) * q[order])
        adj = np.empty(m)
        adj[order] = np.minimum(1.0, stepped)
    out[ok] = adj
    return out


def _hommel(p: np.ndarray) -> np.ndarray:
    """Hommel's adjusted p-values (the closed-testing recursion of R's ``p.adjust``)."""
    m = p.size
    order = np.argsort(p, kind="stable")
    s = p[order]
    i = np.arange(1, m + 1)
    q = np.full(m, np.min(m * s / i))
    pa = q.copy()
    for j in range(m - 1, 1, -1):
        head = np.arange(m - j + 1)          # R's seq_len(n - j + 1), zero-based
        tail = np.arange(m - j + 1, m)       # R's (n - j + 2):n, zero-based
        q1 = np.min(j * s[tail] / np.arange(2, j + 1))
        q[head] = np.minimum(j * s[head], q1)
        q[tail] = q[m - j]
        pa = np.maximum(pa, q)
    adjusted = np.maximum(pa, s)
    out = np.empty(m)
    out[order] = adjusted
    return out


# --------------------------------------------------------------------------------------------
# pairwise column comparisons

PAIRWISE_COLUMNS = ("row", "col_a", "col_b", "estimate_a", "estimate_b", "statistic",
                    "p_value", "p_adjusted", "significant", "higher", "method")


def column_proportion_tests(counts: object, bases: Sequence[float], *, adjust: str,
                            alpha: float = 0.05) -> pd.DataFrame:
    """Pairwise z-tests of column proportions within each row (SPSS Custom Tables style).

    Parameters
    ----------
    counts : array_like, shape (r, c)
        Unweighted counts of each row level in each column.
    bases : sequence of float, length c
        Column bases.
    adjust : {"none", "bonferroni", "holm", "bh"}
        Adjustment over the pairs of columns within each row.
    alpha : float
        Significance level for the adjusted p-values.

    Returns
    -------
    DataFrame
        One row per (row, pair of columns): the columns of :data:`PAIRWISE_COLUMNS`.
        ``higher`` is the index of the column with the larger proportion when significant.

    Notes
    -----
    :math:`z = (p_a - p_b)/\\sqrt{\\bar p(1-\\bar p)(1/n_a + 1/n_b)}` with the pooled
    proportion :math:`\\bar p`; no test when the pooled proportion is 0 or 1.

    References
    ----------
    .. [1] IBM (2021). *SPSS Statistics Algorithms*, "CTABLES: column proportions test".
    .. [2] Fleiss, J. L., Levin, B. and Paik, M. C. (2003). *Statistical Methods for Rates
       and Proportions*, 3rd ed., sec. 2.6. Wiley.
    """
    check_method(adjust, ADJUST_METHODS, "p-value adjustment")
    x = as_table(counts)
    n = np.asarray(bases, dtype=float)
    records = []
    for i in range(x.shape[0]):
        row = []
        for a, b in combinations(range(x.shape[1]), 2):
            pa = x[i, a] / n[a] if n[a] > 0 else np.nan
            pb = x[i, b] / n[b] if n[b] > 0 else np.nan
            pooled = (x[i, a] + x[i, b]) / (n[a] + n[b]) if n[a] + n[b] > 0 else np.nan
            if n[a] > 0 and n[b] > 0 and 0 < pooled < 1:
                z = (pa - pb) / math.sqrt(pooled * (1 - pooled) * (1 / n[a] + 1 / n[b]))
                p = 2 * float(sps.norm.sf(abs(z)))
            else:
                z, p = np.nan, np.nan
            row.append([i, a, b, pa, pb, z, p])
        records.extend(_finish_pairs(row, adjust, alpha, "two-proportion z-test (pooled)"))
    return pd.DataFrame(records, columns=list(PAIRWISE_COLUMNS))


def _finish_pairs(row: list[list], adjust: str, alpha: float, method: str) -> list[list]:
    adjusted = adjust_pvalues([r[6] for r in row], method=adjust) if row else []
    out = []
    for r, padj in zip(row, adjusted, strict=True):
        significant = bool(not np.isnan(padj) and padj < alpha)
        higher = (r[1] if r[3] > r[4] else r[2]) if significant else -1
        out.append([*r, float(padj), significant, higher,
                    f"{method}; {adjust} adjustment within row"])
    return out


def design_column_proportion_tests(estimates: object, covariances: Sequence[np.ndarray],
                                   df: float, *, adjust: str,
                                   alpha: float = 0.05) -> pd.DataFrame:
    """Pairwise design-based t-tests of column proportions within each row.

    Parameters
    ----------
    estimates : array_like, shape (r, c)
        Weighted column proportions.
    covariances : sequence of ndarray (c, c)
        For each row level, the design covariance of its c column proportions (domain
        estimates share PSUs, so they are correlated).
    df : float
        Design degrees of freedom.
    adjust : {"none", "bonferroni", "holm", "bh"}
    alpha : float

    Returns
    -------
    DataFrame
        As :func:`column_proportion_tests`.

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys*, sec. 2.5 (contrasts of domain means,
       ``svycontrast``). Wiley.
    """
    check_method(adjust, ADJUST_METHODS, "p-value adjustment")
    est = np.asarray(estimates, dtype=float)
    records = []
    for i in range(est.shape[0]):
        cov = np.asarray(covariances[i], dtype=float)
        row = []
        for a, b in combinations(range(est.shape[1]), 2):
            var = cov[a, a] + cov[b, b] - 2 * cov[a, b]
            if var > 0 and df > 0:
                t = (est[i, a] - est[i, b]) / math.sqrt(var)
                p = 2 * float(sps.t.sf(abs(t), df))
            else:
                t, p = np.nan, np.nan
            row.append([i, a, b, est[i, a], est[i, b], t, p])
        records.extend(_finish_pairs(row, adjust, alpha, f"design-based t-test ({df} df)"))
    return pd.DataFrame(records, columns=list(PAIRWISE_COLUMNS))


def column_letters(pairs: pd.DataFrame, n_rows: int, n_cols: int,
                   letters: Sequence[str] | None = None) -> list[list[str]]:
    """SPSS-style letters: each cell lists the columns it is significantly higher than.

    Parameters
    ----------
    pairs : DataFrame
        From :func:`column_proportion_tests` or :func:`design_column_proportion_tests`.
    n_rows, n_cols : int
    letters : sequence of str, optional
        Letter of each column; ``A``, ``B``, ... by default.

    Returns
    -------
    list of list of str
        ``out[i][j]`` is e.g. ``"AC"`` (empty when none).

    References
    ----------
    .. [1] IBM (2021). *SPSS Statistics Algorithms*, "CTABLES: column proportions test".
    """
    keys = list(letters) if letters is not None else [column_letter(j) for j in range(n_cols)]
    out = [["" for _ in range(n_cols)] for _ in range(n_rows)]
    for rec in pairs.itertuples(index=False):
        if rec.significant:
            lower = rec.col_b if rec.higher == rec.col_a else rec.col_a
            out[rec.row][rec.higher] += keys[lower]
    return [["".join(sorted(cell)) for cell in row] for row in out]


def column_letter(j: int) -> str:
    letters = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def design_change_test(p1: float, v1: float, df1: float, p2: float, v2: float,
                       df2: float) -> TestResult:
    """Design-based test of the change of a proportion between two independent samples.

    Parameters
    ----------
    p1, p2 : float
        The two samples' (weighted) proportions.
    v1, v2 : float
        Their design-based variances.
    df1, df2 : float
        Their design degrees of freedom.

    Returns
    -------
    TestResult
        :math:`t = (\\hat p_2 - \\hat p_1)/\\sqrt{v_1 + v_2}` on :math:`df_1 + df_2`
        degrees of freedom, two-sided (``ddf``: the df). Samples drawn independently have no
        covariance; the df are those of the two designs taken as one design stratified by
        sample, as R's ``degf`` of the stacked design gives them, and the test is then R's
        ``svycontrast`` of ``svyby`` means on that design with a t reference. ``not
        tested`` when the difference has no variance or no degrees of freedom.

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys*, sec. 2.5 (``svycontrast``) and 3.3
       (independent samples as strata). Wiley.
    .. [2] Korn, E. L. and Graubard, B. I. (1999). *Analysis of Health Surveys*, sec. 5.2.
       Wiley.
    """
    variance = float(v1) + float(v2)
    df = float(df1) + float(df2)
    if not (math.isfinite(variance) and variance > 0 and df > 0):
        return TestResult(test="design_change", method="not tested (no variation)",
                          statistic=float("nan"), df=float("nan"), ddf=float("nan"),
                          p_value=float("nan"))
    t = (float(p2) - float(p1)) / math.sqrt(variance)
    return TestResult(test="design_change", method="design-based t test of the difference "
                      "(independent waves, df = df1 + df2)", statistic=t, df=df, ddf=df,
                      p_value=float(2.0 * sps.t.sf(abs(t), df)))
