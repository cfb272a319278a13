"""Tests of association and trend on contingency tables.

Each returns a :class:`~pipeline.stats.methods.TestResult`:

* ``pearson_chisq(table, *, continuity)`` — Pearson X² (Yates only for 2×2, on request).
* ``likelihood_ratio_chisq(table)`` — G².
* ``cochran_armitage(successes, totals, scores)`` — trend in proportions, as R
  ``prop.trend.test``.
* ``design_chisq(row_codes, col_codes, n_row_levels, n_col_levels, resolved, *, statistic)``
  — R ``svychisq``: ``"F"`` (Rao–Scott second order), ``"Chisq"`` (first order),
  ``"Wald"``, ``"adjWald"``.
* ``expected_count_warnings(expected)`` — Cochran's rule for small expected counts.

Fisher's exact test is in :mod:`pipeline.stats.fisher`.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy import stats as sps

from pipeline.errors import PulsecheckError
from pipeline.stats.design import (
    ResolvedDesign,
    design_df,
    present_units,
    psu_covariance,
    total_covariance,
)
from pipeline.stats.methods import (
    DESIGN_CHISQ_STATISTICS,
    TestResult,
    as_table,
    check_method,
    drop_empty_margins,
)


def interaction_deltas(props: np.ndarray, v: np.ndarray, n_obs: int, nr: int,
                       nc: int) -> np.ndarray:
    """The Rao–Scott design-effect matrix of an ``nr`` × ``nc`` table (R's ``svychisq``).

    ``props`` are the cell proportions in column-major order (rows vary fastest) and ``v``
    their covariance under the design; the contrasts of the interaction are taken
    orthogonal to the main-effects design. Raises ``numpy.linalg.LinAlgError`` when the
    multinomial covariance of the contrasts is singular.
    """
    k = nr * nc
    grid_r = np.tile(np.arange(nr), nc)
    grid_c = np.repeat(np.arange(nc), nr)
    main = np.column_stack([np.ones(k)] + [(grid_r == i).astype(float) for i in range(1, nr)]
                           + [(grid_c == j).astype(float) for j in range(1, nc)])
    inter = np.column_stack([((grid_r == i) & (grid_c == j)).astype(float)
                             for j in range(1, nc) for i in range(1, nr)])
    coef, *_ = np.linalg.lstsq(main, inter, rcond=None)
    contrast = inter - main @ coef
    inv_p = np.where(props > 0, 1.0 / np.where(props > 0, props, 1.0), 0.0)
    denom = contrast.T @ (inv_p[:, None] / n_obs * contrast)
    numer = contrast.T @ (inv_p[:, None] * v * inv_p[None, :]) @ contrast
    return np.linalg.solve(denom, numer)


def expected_counts(table: object) -> np.ndarray:
    """Expected counts under independence, :math:`E_{ij} = r_i c_j / n`.

    Parameters
    ----------
    table : array_like, shape (r, c)

    Returns
    -------
    ndarray

    References
    ----------
    .. [1] Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., sec. 3.2. Wiley.
    """
    arr = as_table(table)
    total = arr.sum()
    if total <= 0:
        raise PulsecheckError("STAT_005", problem="has no respondents")
    return np.outer(arr.sum(axis=1), arr.sum(axis=0)) / total


def expected_count_warnings(expected: np.ndarray) -> tuple[str, ...]:
    """Warnings under Cochran's rule: any expected count below 1, or over 20% below 5.

    Parameters
    ----------
    expected : ndarray

    Returns
    -------
    tuple of str
        Empty when the chi-square approximation is considered adequate.

    References
    ----------
    .. [1] Cochran, W. G. (1954). Some methods for strengthening the common χ² tests.
       *Biometrics* 10, 417–451.
    """
    exp = np.asarray(expected, dtype=float).ravel()
    out = []
    below5 = float((exp < 5).mean()) if exp.size else 0.0
    if exp.size and exp.min() < 1:
        out.append(f"smallest expected count is {exp.min():.2f} (below 1); the chi-square "
                   "approximation may be poor, consider Fisher's exact test")
    elif below5 > 0.2:
        out.append(f"{below5:.0%} of expected counts are below 5; the chi-square "
                   "approximation may be poor, consider Fisher's exact test")
    return tuple(out)


# --------------------------------------------------------------------------------------------
# tests on counts

def pearson_chisq(table: object, *, continuity: bool) -> TestResult:
    """Pearson's chi-square test of independence for an r×c table of counts.

    Parameters
    ----------
    table : array_like, shape (r, c)
        Counts. Rows or columns that are entirely empty are dropped first.
    continuity : bool
        Apply Yates's continuity correction; only allowed for 2×2 tables (as R applies it,
        each :math:`|O-E|` is reduced by :math:`\\min(0.5, |O-E|)`).

    Returns
    -------
    TestResult
        ``test`` is ``pearson`` or ``pearson_yates``; warnings follow Cochran's rule.

    References
    ----------
    .. [1] Pearson, K. (1900). On the criterion that a given system of deviations ...
       *Philosophical Magazine* 50, 157–175.
    .. [2] Yates, F. (1934). Contingency tables involving small numbers and the χ² test.
       *Suppl. J. Royal Statistical Society* 1, 217–235.
    """
    arr = drop_empty_margins(as_table(table))
    r, c = arr.shape
    if r < 2 or c < 2:
        raise PulsecheckError("STAT_005",
                              problem=f"has {r}×{c} non-empty rows×columns; at least 2×2 needed")
    if continuity and (r, c) != (2, 2):
        raise PulsecheckError("STAT_008", name="continuity", value=True,
                              expected="False for tables larger than 2×2")
    exp = expected_counts(arr)
    dev = np.abs(arr - exp)
    if continuity:
        dev = dev - np.minimum(0.5, dev)
    stat = float((dev ** 2 / exp).sum())
    df = (r - 1) * (c - 1)
    return TestResult(
        test="pearson_yates" if continuity else "pearson",
        method="Pearson chi-square" + (" with Yates continuity correction" if continuity else ""),
        statistic=stat, df=float(df), ddf=float("nan"),
        p_value=float(sps.chi2.sf(stat, df)), warnings=expected_count_warnings(exp))


def likelihood_ratio_chisq(table: object) -> TestResult:
    """Likelihood-ratio (G²) test of independence, :math:`G^2 = 2\\sum O \\ln(O/E)`.

    Parameters
    ----------
    table : array_like, shape (r, c)

    Returns
    -------
    TestResult

    References
    ----------
    .. [1] Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., sec. 3.2.1. Wiley.
    """
    arr = drop_empty_margins(as_table(table))
    r, c = arr.shape
    if r < 2 or c < 2:
        raise PulsecheckError("STAT_005",
                              problem=f"has {r}×{c} non-empty rows×columns; at least 2×2 needed")
    exp = expected_counts(arr)
    pos = arr > 0
    stat = float(2.0 * (arr[pos] * np.log(arr[pos] / exp[pos])).sum())
    df = (r - 1) * (c - 1)
    return TestResult(test="lr", method="likelihood-ratio chi-square (G²)", statistic=stat,
                      df=float(df), ddf=float("nan"), p_value=float(sps.chi2.sf(stat, df)),
                      warnings=expected_count_warnings(exp))


def cochran_armitage(successes: Sequence[float], totals: Sequence[float],
                     scores: Sequence[float]) -> TestResult:
    """Cochran–Armitage chi-square test for a linear trend in proportions (1 df).

    Parameters
    ----------
    successes, totals : sequence of numbers
        Count of the category and the base in each ordered group.
    scores : sequence of numbers
        Score of each group (e.g. 1, 2, 3, ... for ordered phases); always explicit.

    Returns
    -------
    TestResult
        :math:`X^2 = [\\sum n_i(p_i - \\bar p)(s_i - \\bar s)]^2 /
        [\\bar p(1-\\bar p)\\sum n_i (s_i - \\bar s)^2]` with :math:`\\bar s` weighted by
        :math:`n_i`; equal to R's ``prop.trend.test``.

    References
    ----------
    .. [1] Armitage, P. (1955). Tests for linear trends in proportions and frequencies.
       *Biometrics* 11, 375–386.
    .. [2] Cochran, W. G. (1954). *Biometrics* 10, 417–451.
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(totals, dtype=float)
    s = np.asarray(scores, dtype=float)
    if not (x.shape == n.shape == s.shape) or x.ndim != 1 or x.size < 2:
        raise PulsecheckError("STAT_005", problem="needs successes, totals and scores of the "
                                                  "same length, at least 2")
    if (n <= 0).any() or (x < 0).any() or (x > n).any():
        raise PulsecheckError("STAT_005", problem="has a group with no respondents or with "
                                                  "more successes than respondents")
    p_bar = x.sum() / n.sum()
    s_bar = (n * s).sum() / n.sum()
    denom = p_bar * (1 - p_bar) * (n * (s - s_bar) ** 2).sum()
    if denom <= 0:
        return TestResult(test="trend", method="Cochran-Armitage trend test",
                          statistic=float("nan"), df=1.0, ddf=float("nan"),
                          p_value=float("nan"),
                          warnings=("no variation in the outcome or the scores",))
    stat = float(((x - n * p_bar) * (s - s_bar)).sum() ** 2 / denom)
    return TestResult(test="trend", method="Cochran-Armitage trend test", statistic=stat,
                      df=1.0, ddf=float("nan"), p_value=float(sps.chi2.sf(stat, 1)))


# --------------------------------------------------------------------------------------------
# design-based tests of association

def design_chisq(row_codes: np.ndarray, col_codes: np.ndarray, n_row_levels: int,
                 n_col_levels: int, resolved: ResolvedDesign, *, statistic: str) -> TestResult:
    """Design-based test of association in a two-way table, as R's ``svychisq``.

    Parameters
    ----------
    row_codes, col_codes : ndarray of int
        Level index of each row of the data (``-1`` for missing; such rows are left out
        but keep their PSU in the variance).
    n_row_levels, n_col_levels : int
        Levels that are tested; levels with no respondents are dropped, as R does.
    resolved : ResolvedDesign
    statistic : {"F", "Chisq", "Wald", "adjWald"}
        ``F``: Rao–Scott second-order correction, :math:`F = X^2/\\mathrm{tr}(\\Delta)` on
        :math:`(d, d\\nu)` df with :math:`d = \\mathrm{tr}(\\Delta)^2/\\mathrm{tr}(\\Delta^2)`;
        ``Chisq``: first-order correction, :math:`X^2/\\bar\\delta` on :math:`(r-1)(c-1)` df
        (the statistic returned is the corrected one); ``Wald``: Wald test of
        :math:`N_{ij} - N_{i\\cdot}N_{\\cdot j}/N = 0`, divided by its df, on
        :math:`((r-1)(c-1), \\nu)` df; ``adjWald``: the same with the Felegi
        adjustment. :math:`X^2` is Pearson's statistic on the weighted table rescaled to the
        number of respondents, and :math:`\\nu` the design df.

    Returns
    -------
    TestResult

    References
    ----------
    .. [1] Rao, J. N. K. and Scott, A. J. (1984). On chi-squared tests for multiway
       contingency tables with cell proportions estimated from survey data. *Annals of
       Statistics* 12, 46–60.
    .. [2] Koch, G. G., Freeman, D. H. and Freeman, J. L. (1975). Strategies in the
       multivariate analysis of data from complex surveys. *International Statistical
       Review* 43, 59–78.
    .. [3] Lumley, T. (2010). *Complex Surveys*, sec. 6.2; R ``survey::svychisq``. Wiley.
    """
    check_method(statistic, DESIGN_CHISQ_STATISTICS, "design-based test statistic")
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            result = _design_chisq(row_codes, col_codes, n_row_levels, n_col_levels, resolved,
                                   statistic)
    except (np.linalg.LinAlgError, ZeroDivisionError):
        result = None
    if result is None or not math.isfinite(result.statistic):
        # Too few PSUs or respondents: the design gives the table no usable covariance.
        test = {"F": "rao_scott_f", "Chisq": "rao_scott_chisq", "Wald": "wald",
                "adjWald": "adj_wald"}[statistic]
        return TestResult(test=test, method="not tested", statistic=float("nan"),
                          df=float("nan"), ddf=float("nan"), p_value=float("nan"),
                          warnings=("not tested: the design gives this table no usable "
                                    "variance (too few PSUs or respondents)",))
    return result


def _design_chisq(row_codes: np.ndarray, col_codes: np.ndarray, n_row_levels: int,
                  n_col_levels: int, resolved: ResolvedDesign, statistic: str) -> TestResult:
    rc = np.asarray(row_codes, dtype=np.int64)
    cc = np.asarray(col_codes, dtype=np.int64)
    complete = (rc >= 0) & (cc >= 0)
    # Levels present, in order, by counting (linear) rather than sorting the rows.
    present_r = np.flatnonzero(np.bincount(rc[complete], minlength=n_row_levels))
    present_c = np.flatnonzero(np.bincount(cc[complete], minlength=n_col_levels))
    nr, nc = present_r.size, present_c.size
    if nr < 2 or nc < 2:
        raise PulsecheckError("STAT_005",
                              problem=f"has {nr}×{nc} non-empty rows×columns; at least 2×2 needed")
    # Position of each level among the present ones (a lookup, not a search per row).
    r_pos = np.zeros(max(int(present_r[-1]) + 1, 1), dtype=np.int64)
    r_pos[present_r] = np.arange(nr)
    c_pos = np.zeros(max(int(present_c[-1]) + 1, 1), dtype=np.int64)
    c_pos[present_c] = np.arange(nc)
    r_idx = np.where(complete, r_pos[np.clip(rc, 0, r_pos.size - 1)], 0)
    c_idx = np.where(complete, c_pos[np.clip(cc, 0, c_pos.size - 1)], 0)
    w = np.where(complete, resolved.weights, 0.0)
    cell = np.where(complete, c_idx * nr + r_idx, 0)  # column-major cell index
    k = nr * nc
    nu = design_df(resolved)
    if statistic in ("F", "Chisq"):
        total_w = w.sum()
        props = np.bincount(cell[complete], weights=w[complete], minlength=k) / total_w
        # Sufficient statistics: the PSU totals of the scores w (indicator - props) / total_w
        # are (weight of each cell in the PSU - props × weight of the PSU) / total_w, so no
        # rows × cells matrix is ever built.
        if resolved.score_residuals is not None:
            # After calibration the variance is that of the scores' residuals, which needs
            # the scores of the rows themselves.
            scores = np.zeros((resolved.n_rows, k))
            rows = np.flatnonzero(complete)
            scores[rows, cell[rows]] = w[rows]
            scores[rows] -= w[rows, None] * props[None, :]
            v = total_covariance(resolved, scores / total_w, complete)
        else:
            n_unit = resolved.n_units
            units = resolved.units
            cell_w = np.bincount(units[complete] * k + cell[complete], weights=w[complete],
                                 minlength=n_unit * k).reshape(n_unit, k)
            unit_w = np.bincount(units, weights=w, minlength=n_unit)
            v = psu_covariance(resolved,
                               (cell_w - unit_w[:, None] * props[None, :]) / total_w,
                               blas=False, present=present_units(resolved, complete))
        n_obs = int(complete.sum())
        table = props.reshape(nc, nr).T * n_obs
        exp = expected_counts(table)
        x2 = float(((table - exp) ** 2 / exp).sum())
        delta = interaction_deltas(props, v, n_obs, nr, nc)
        tr = float(np.trace(delta))
        tr2 = float(np.trace(delta @ delta))
        warnings = expected_count_warnings(exp)
        if statistic == "F":
            d0 = tr * tr / tr2
            f = x2 / tr
            return TestResult(test="rao_scott_f", method="Rao-Scott second-order corrected F "
                              "(Pearson X² on the weighted table)", statistic=f, df=d0,
                              ddf=d0 * nu, p_value=float(sps.f.sf(f, d0, d0 * nu)),
                              warnings=warnings)
        mean_delta = tr / delta.shape[0]
        chisq = x2 / mean_delta
        return TestResult(test="rao_scott_chisq", method="Rao-Scott first-order corrected "
                          "chi-square", statistic=chisq, df=float(delta.shape[0]),
                          ddf=float("nan"), p_value=float(sps.chi2.sf(chisq, delta.shape[0])),
                          warnings=warnings)
    # Wald tests on the linearised residuals N_ij - N_i. N_.j / N.
    indicators = np.zeros((resolved.n_rows, k))
    indicators[np.flatnonzero(complete), cell[complete]] = 1.0
    row_ind = np.zeros((resolved.n_rows, nr))
    row_ind[np.flatnonzero(complete), r_idx[complete]] = 1.0
    col_ind = np.zeros((resolved.n_rows, nc))
    col_ind[np.flatnonzero(complete), c_idx[complete]] = 1.0
    n_cell = (w[:, None] * indicators).sum(axis=0)
    n_row = (w[:, None] * row_ind).sum(axis=0)
    n_col = (w[:, None] * col_ind).sum(axis=0)
    n_all = w.sum()
    grid_r = np.tile(np.arange(nr), nc)
    grid_c = np.repeat(np.arange(nc), nr)
    resid = n_cell - n_row[grid_r] * n_col[grid_c] / n_all
    influence = (indicators
                 - row_ind[:, grid_r] * (n_col[grid_c] / n_all)
                 - col_ind[:, grid_c] * (n_row[grid_r] / n_all)
                 + (n_row[grid_r] * n_col[grid_c] / n_all ** 2)[None, :])
    v = total_covariance(resolved, w[:, None] * influence, complete)
    use = (grid_r > 0) & (grid_c > 0)
    wald = float(resid[use] @ np.linalg.solve(v[np.ix_(use, use)], resid[use]))
    ndf = (nr - 1) * (nc - 1)
    if statistic == "Wald":
        stat, ddf = wald / ndf, float(nu)
        test, name = "wald", "design-based Wald test"
    else:
        ddf = float(nu - ndf + 1)
        stat = wald * ddf / (ndf * nu)
        test, name = "adj_wald", "design-based adjusted Wald test"
    warnings = () if ddf > 0 else (f"denominator df {ddf} is not positive",)
    p = float(sps.f.sf(stat, ndf, ddf)) if ddf > 0 else float("nan")
    return TestResult(test=test, method=name, statistic=stat, df=float(ndf), ddf=ddf,
                      p_value=p, warnings=warnings)
