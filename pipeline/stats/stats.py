"""Survey statistics: intervals for proportions, tests of association and trend, adjustment.

Pure functions on numbers and arrays; no I/O. Every function names its method in its result,
and the method is always an explicit argument: nothing switches method behind the caller's
back. Where a method cannot give a sensible answer (a proportion of exactly 0 or 1 under a
design-based method), the fallback used is named in the result's ``method`` and explained in
its ``warnings``.

Public API
----------
Intervals (:class:`Interval`):

* ``binomial_interval(successes, trials, *, method, level=0.95)`` — ``wilson``,
  ``wilson_cc``, ``clopper_pearson`` for an unweighted simple random sample;
  ``binomial_intervals(successes, trials, ...)`` for several counts of one base.
* ``design_interval(estimate, variance, *, n, df, method, level=0.95)`` — R
  ``svyciprop`` methods ``logit``, ``likelihood``, ``asin``, ``beta``, ``mean``, ``xlogit``
  from a design-based estimate and its linearisation variance.
* ``proportion_interval(y, domain, resolved, *, method, level=0.95)`` — estimate,
  variance and interval for a 0/1 variable in a domain of a resolved design.

Tests (:class:`TestResult`):

* ``pearson_chisq(table, *, continuity)`` — Pearson X² (Yates only for 2×2, on request).
* ``likelihood_ratio_chisq(table)`` — G².
* ``fisher_exact(table, *, max_steps=...)`` — exact test for r×c tables, as R ``fisher.test``
  (any number of columns with two rows; larger tables up to a work limit, then ``STAT_010``).
* ``fisher_monte_carlo(table, *, n_sim, seed)`` — Monte Carlo p-value for larger tables.
* ``design_chisq(row_codes, col_codes, n_row_levels, n_col_levels, resolved, *, statistic)``
  — R ``svychisq``: ``"F"`` (Rao–Scott second order), ``"Chisq"`` (first order),
  ``"Wald"``, ``"adjWald"``.
* ``cochran_armitage(successes, totals, scores)`` — trend in proportions, as R
  ``prop.trend.test``.
* ``adjust_pvalues(p_values, *, method)`` — ``holm``, ``bh``, ``bonferroni``, ``none``.
* ``column_proportion_tests(counts, bases, *, adjust, alpha)`` and
  ``design_column_proportion_tests(estimates, covariances, df, *, adjust, alpha)`` —
  pairwise column comparisons; ``column_letters(...)`` turns them into SPSS-style letters.
* ``expected_count_warnings(expected)`` — Cochran's rule for small expected counts.

Quantiles:

* ``weighted_quantile(values, weights, q)`` — inverse of the weighted empirical CDF;
  ``sorted_weighted_quantiles(values, weights, quantiles)`` — several at once of values
  already in order.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from itertools import combinations
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special
from scipy import stats as sps

from pipeline.stats.design import (ResolvedDesign, design_df, psu_covariance, psu_variances,
                             ratio_estimate, total_covariance)
from pipeline.errors import PulsecheckError

#: Intervals for an unweighted simple random sample.
BINOMIAL_METHODS = ("wilson", "wilson_cc", "clopper_pearson")
#: Design-based intervals (R ``svyciprop``).
DESIGN_METHODS = ("logit", "likelihood", "asin", "beta", "mean", "xlogit")
#: Every interval method.
CI_METHODS = BINOMIAL_METHODS + DESIGN_METHODS
#: p-value adjustments.
ADJUST_METHODS = ("none", "bonferroni", "holm", "bh")
#: Design-based tests of association (R ``svychisq`` ``statistic=``).
DESIGN_CHISQ_STATISTICS = ("F", "Chisq", "Wald", "adjWald")

#: Name of the interval used when a design-based method meets a proportion of 0 or 1.
DEGENERATE_FALLBACK = "beta_n"


@dataclass(frozen=True)
class Interval:
    """A proportion with its confidence interval.

    Attributes
    ----------
    estimate, low, high : float
        Proportion and interval bounds, in 0–1.
    method : str
        The interval actually computed (one of :data:`CI_METHODS`, or
        :data:`DEGENERATE_FALLBACK`).
    level : float
        Confidence level.
    se : float
        Standard error of the estimate (NaN for exact methods on counts).
    df : float
        Degrees of freedom used for t quantiles (``inf`` for normal quantiles).
    n : int
        Number of respondents behind the estimate.
    warnings : tuple of str
    """

    estimate: float
    low: float
    high: float
    method: str
    level: float
    se: float = float("nan")
    df: float = float("inf")
    n: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class TestResult:
    """The result of a hypothesis test.

    Attributes
    ----------
    test : str
        Short identifier (``pearson``, ``pearson_yates``, ``lr``, ``fisher``,
        ``rao_scott_f``, ``rao_scott_chisq``, ``wald``, ``adj_wald``, ``trend``).
    method : str
        Human-readable name of the method.
    statistic : float
    df : float
        Degrees of freedom (numerator for F tests); NaN when not applicable.
    ddf : float
        Denominator degrees of freedom of F tests; NaN otherwise.
    p_value : float
    warnings : tuple of str
    """

    test: str
    method: str
    statistic: float
    df: float
    ddf: float
    p_value: float
    warnings: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        """Plain dictionary (warnings joined by ``"; "``)."""
        out = asdict(self)
        out["warnings"] = "; ".join(self.warnings)
        return out


# --------------------------------------------------------------------------------------------
# helpers

def _check_level(level: float) -> None:
    if not (0.0 < level < 1.0):
        raise PulsecheckError("STAT_008", name="level", value=level,
                              expected="a confidence level strictly between 0 and 1")


def _check_method(method: str, allowed: Sequence[str], what: str) -> None:
    if method not in allowed:
        raise PulsecheckError("STAT_004", what=what, value=method, supported=", ".join(allowed))


def _as_table(table: object) -> np.ndarray:
    arr = np.asarray(table, dtype=float)
    if arr.ndim != 2:
        raise PulsecheckError("STAT_005", problem=f"has {arr.ndim} dimension(s), expected 2")
    if np.isnan(arr).any() or (arr < 0).any():
        raise PulsecheckError("STAT_005", problem="has negative or missing counts")
    return arr


def _drop_empty_margins(arr: np.ndarray) -> np.ndarray:
    return arr[arr.sum(axis=1) > 0][:, arr.sum(axis=0) > 0]


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
    arr = _as_table(table)
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
# intervals

def binomial_interval(successes: int, trials: int, *, method: str,
                      level: float = 0.95) -> Interval:
    """Confidence interval for a binomial proportion (unweighted simple random sample).

    Parameters
    ----------
    successes, trials : int
        Count of the category and the base (``0 <= successes <= trials``).
    method : {"wilson", "wilson_cc", "clopper_pearson"}
        ``wilson``: score interval; ``wilson_cc``: score interval with continuity correction
        (Newcombe's method 4); ``clopper_pearson``: exact interval from beta quantiles.
    level : float
        Confidence level.

    Returns
    -------
    Interval
        At 0% and 100% the interval is one-sided but never of zero width.

    Notes
    -----
    ``wilson`` equals R's ``prop.test(correct=FALSE)`` interval and ``clopper_pearson``
    R's ``binom.test``. ``wilson_cc`` equals ``prop.test(correct=TRUE)`` except when the count
    is exactly half the base: R then shrinks the correction to the distance from the null
    value 0.5 (to zero), while this function always applies the correction of 1/(2n).

    References
    ----------
    .. [1] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
       inference. *JASA* 22, 209–212.
    .. [2] Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion:
       comparison of seven methods. *Statistics in Medicine* 17, 857–872.
    .. [3] Clopper, C. J. and Pearson, E. S. (1934). The use of confidence or fiducial limits
       illustrated in the case of the binomial. *Biometrika* 26, 404–413.
    """
    _check_method(method, BINOMIAL_METHODS, "binomial interval method")
    _check_level(level)
    z = float(sps.norm.ppf(1 - (1.0 - level) / 2)) if method != "clopper_pearson" else 0.0
    return _binomial(successes, trials, method, level, z)


def binomial_intervals(successes: Sequence[int], trials: int, *, method: str,
                       level: float = 0.95) -> list[Interval]:
    """:func:`binomial_interval` of several counts out of the same base (for example the
    cells of one column), computing the normal quantile once.

    Parameters
    ----------
    successes : sequence of int
    trials : int
    method : {"wilson", "wilson_cc", "clopper_pearson"}
    level : float

    Returns
    -------
    list of Interval
        The same intervals as :func:`binomial_interval` gives count by count.
    """
    _check_method(method, BINOMIAL_METHODS, "binomial interval method")
    _check_level(level)
    z = float(sps.norm.ppf(1 - (1.0 - level) / 2)) if method != "clopper_pearson" else 0.0
    return [_binomial(x, trials, method, level, z) for x in successes]


def _binomial(successes: int, trials: int, method: str, level: float, z: float) -> Interval:
    """One binomial interval (``z``: the normal quantile of ``level``, for Wilson)."""
    x, n = int(successes), int(trials)
    if n <= 0 or x < 0 or x > n or x != successes or n != trials:
        raise PulsecheckError("STAT_008", name="successes/trials", value=f"{successes}/{trials}",
                              expected="whole numbers with 0 <= successes <= trials and trials > 0")
    p = x / n
    alpha = 1.0 - level
    if method == "clopper_pearson":
        low = 0.0 if x == 0 else float(sps.beta.ppf(alpha / 2, x, n - x + 1))
        high = 1.0 if x == n else float(sps.beta.ppf(1 - alpha / 2, x + 1, n - x))
    else:
        cc = 0.5 / n if method == "wilson_cc" else 0.0
        z22n = z * z / (2 * n)

        def bound(centre: float, sign: float) -> float:
            half = z * math.sqrt(centre * (1 - centre) / n + z22n / (2 * n))
            return (centre + z22n + sign * half) / (1 + 2 * z22n)

        up_c, low_c = p + cc, p - cc
        high = 1.0 if up_c >= 1 else bound(up_c, +1.0)
        low = 0.0 if low_c <= 0 else bound(low_c, -1.0)
    return Interval(estimate=p, low=max(0.0, low), high=min(1.0, high), method=method,
                    level=level, se=math.sqrt(p * (1 - p) / n), df=float("inf"), n=n)


def _qt(prob: float, df: float) -> float:
    return float(sps.t.ppf(prob, df)) if math.isfinite(df) else float(sps.norm.ppf(prob))


def _korn_graubard(p: float, n_eff: float, alpha: float) -> tuple[float, float]:
    low = 0.0 if p <= 0 else float(sps.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1))
    high = 1.0 if p >= 1 else float(sps.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p)))
    return low, high


def _profile_bounds(p: float, variance: float, n: int, q: float) -> tuple[float, float]:
    """Roots of the design-scaled binomial profile deviance (see :func:`design_interval`)."""
    # Scaled deviance 2(n-1) KL(p || pi) equals q^2 times the coefficient's design effect.
    target = q * q * n * variance / (p * (1 - p))

    def excess(pi: float) -> float:
        kl = p * math.log(p / pi) + (1 - p) * math.log((1 - p) / (1 - pi))
        return 2.0 * (n - 1) * kl - target

    tiny = 1e-300
    low = optimize.brentq(excess, tiny, p, xtol=1e-15, rtol=1e-14, maxiter=500) \
        if excess(tiny) > 0 else 0.0
    high = optimize.brentq(excess, p, 1 - 1e-16, xtol=1e-15, rtol=1e-14, maxiter=500) \
        if excess(1 - 1e-16) > 0 else 1.0
    return low, high


def _fmm_spline(x: np.ndarray, y: np.ndarray, xout: np.ndarray) -> np.ndarray:
    """Cubic interpolating spline with Forsythe–Malcolm–Moler end conditions."""
    n = x.size
    if n < 2:
        return np.full(xout.shape, y[0] if n else np.nan)
    if n < 3:
        slope = (y[1] - y[0]) / (x[1] - x[0])
        return y[0] + slope * (xout - x[0])
    b = np.zeros(n)
    c = np.zeros(n)
    d = np.zeros(n)
    last = n - 1
    d[0] = x[1] - x[0]
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, last):
        d[i] = x[i + 1] - x[i]
        b[i] = 2.0 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    # End conditions: third derivatives match those of the cubics through the end points.
    b[0] = -d[0]
    b[last] = -d[n - 2]
    c[0] = c[last] = 0.0
    if n > 3:
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        c[last] = c[n - 2] / (x[last] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
        c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
        c[last] = -c[last] * d[n - 2] * d[n - 2] / (x[last] - x[n - 4])
    for i in range(1, n):
        t = d[i - 1] / b[i - 1]
        b[i] -= t * d[i - 1]
        c[i] -= t * c[i - 1]
    c[last] /= b[last]
    for i in range(n - 2, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[last] = (y[last] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[last])
    for i in range(last):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] = 3.0 * c[i]
    c[last] = 3.0 * c[last]
    d[last] = d[n - 2]
    idx = np.clip(np.searchsorted(x, xout, side="right") - 1, 0, last)
    dx = xout - x[idx]
    return y[idx] + dx * (b[idx] + dx * (c[idx] + dx * d[idx]))


def _irls_intercept(y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Intercept-only logistic fit by iteratively reweighted least squares.

    Returns the fitted log-odds and the sum of the working weights of the last iteration,
    following the steps (start values, convergence rule) of R's ``glm.fit``, on which the
    model-based variance in R's likelihood interval depends.
    """
    mu = (w * y + 0.5) / (w + 1.0)
    eta = special.logit(mu)

    def deviance(m: np.ndarray) -> float:
        return float(2.0 * np.sum(w * np.where(y > 0.5, -np.log(m), -np.log1p(-m))))

    dev_old = deviance(mu)
    beta, weight_sum = float("nan"), float("nan")
    for _ in range(25):
        work = w * mu * (1 - mu)
        z = eta + (y - mu) / (mu * (1 - mu))
        beta = float((work * z).sum() / work.sum())
        weight_sum = float(work.sum())
        eta = np.full(y.shape, beta)
        mu = special.expit(eta)
        dev = deviance(mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < 1e-8:
            break
        dev_old = dev
    return beta, weight_sum


def _profile_bounds_as_r(variance: float, df: float, level: float, y: np.ndarray,
                         weights: np.ndarray) -> tuple[float, float]:
    """The likelihood interval computed as R's ``confint.svyglm(method="likelihood")``.

    The quasi-binomial deviance, divided by the design-based dispersion, is profiled at up
    to nine steps each side of the fitted log-odds; a cubic spline through those points is
    evaluated at ``3 * points`` equally spaced values, and the cut-offs
    :math:`\\pm t_{df}\\sqrt{\\lambda}` (:math:`\\lambda` the design effect of the
    log-odds) are found by linear interpolation.
    """
    alpha = 1.0 - level
    n = y.size
    w = weights / weights.mean()
    beta_hat, weight_sum = _irls_intercept(y, w)
    p = float(special.expit(beta_hat))
    se_beta = math.sqrt(variance) / (p * (1 - p))
    design_effect = se_beta ** 2 * weight_sum
    phi = pearson_dispersion(y, weights, p)
    unscaled = float(sps.norm.cdf(_qt(alpha / 2, df) * math.sqrt(design_effect)))
    zmax = math.sqrt(float(sps.f.isf(unscaled / 2.0, 1, n - 1)))
    step_size = zmax / 5.0

    def deviance(beta: float) -> float:
        pi = float(special.expit(beta))
        return float(2.0 * np.sum(w * np.where(y > 0.5, -math.log(pi), -math.log1p(-pi))))

    dev_hat = deviance(beta_hat)
    zs, betas = [0.0], [beta_hat]
    for sign in (-1.0, 1.0):
        step, z = 0, 0.0
        while step + 1 < 10 and abs(z) < zmax:
            step += 1
            beta = beta_hat + sign * step * step_size * se_beta
            z = sign * math.sqrt(max((deviance(beta) - dev_hat) / phi, 0.0))
            zs.append(z)
            betas.append(beta)
    order = np.argsort(zs, kind="stable")
    z_arr, b_arr = np.asarray(zs)[order], np.asarray(betas)[order]
    b_sorted = np.argsort(b_arr, kind="stable")
    grid = np.linspace(b_arr.min(), b_arr.max(), 3 * b_arr.size)
    fitted = _fmm_spline(b_arr[b_sorted], z_arr[b_sorted], grid)
    cut = float(sps.norm.ppf(unscaled))
    inv = np.argsort(fitted, kind="stable")
    lo_beta, hi_beta = np.interp([cut, -cut], fitted[inv], grid[inv], left=np.nan,
                                 right=np.nan)
    return float(special.expit(lo_beta)), float(special.expit(hi_beta))


def design_interval(estimate: float, variance: float, *, n: int, df: float, method: str,
                    level: float = 0.95, y: np.ndarray | None = None,
                    weights: np.ndarray | None = None) -> Interval:
    """Design-based confidence interval for a proportion, as R's ``svyciprop``.

    Parameters
    ----------
    estimate : float
        Weighted proportion :math:`\\hat p` (0–1).
    variance : float
        Its design-based (linearisation) variance.
    n : int
        Number of respondents in the domain (rows with positive weight).
    df : float
        Design degrees of freedom (PSUs minus strata in the domain); ``inf`` for normal
        quantiles.
    method : {"logit", "likelihood", "asin", "beta", "mean", "xlogit"}
        ``mean``: Wald interval :math:`\\hat p \\pm t_{df} se`.
        ``logit`` and ``xlogit``: Wald interval on the log-odds scale, back-transformed
        (identical formulas; R reaches ``logit`` through a quasi-binomial GLM).
        ``asin``: Wald interval on the :math:`\\arcsin\\sqrt p` scale (angles clipped to
        :math:`[0, \\pi/2]`).
        ``beta``: Korn–Graubard: Clopper–Pearson with effective sample size
        :math:`n_{eff} = \\hat p(1-\\hat p)/v \\cdot (t_{n-1}/t_{df})^2`.
        ``likelihood``: design-scaled profile likelihood (Rao–Scott scaling of the binomial
        deviance): the bounds :math:`\\pi` solve
        :math:`2(n-1)\\,KL(\\hat p\\,\\|\\,\\pi) = t_{df}^2\\, n v / (\\hat p(1-\\hat p))`.
    level : float
        Confidence level.
    y, weights : ndarray, optional
        The domain's 0/1 values and sampling weights; needed by ``likelihood`` only (the
        profile deviance and its design-based dispersion are computed from them).

    Returns
    -------
    Interval
        When :math:`\\hat p` is 0 or 1, or the variance is 0, every design-based method is
        undefined or of zero width; the Korn–Graubard interval with :math:`n_{eff} = n`
        (the Clopper–Pearson interval on the domain's respondents, df-adjusted) is returned
        instead, with ``method = "beta_n"`` and a warning naming the requested method.

    Notes
    -----
    The ``likelihood`` bounds are found as R finds them: a spline through the profile at
    up to nine steps each side, inverted by linear interpolation, around R's iteratively
    reweighted fit. The exact roots of the profile differ from these by up to about 5e-4
    relative (see ``_profile_bounds``).

    References
    ----------
    .. [1] Korn, E. L. and Graubard, B. I. (1998). Confidence intervals for proportions with
       small expected number of positive counts estimated from survey data. *Survey
       Methodology* 24, 193–201.
    .. [2] Rao, J. N. K., Yung, W. and Hidiroglou, M. A. (2002). Estimating equations for the
       analysis of survey data using poststratification information. *Sankhya A* 64, 364–378.
    .. [3] Lumley, T. (2010). *Complex Surveys*, sec. 2.3.1; R ``survey::svyciprop``. Wiley.
    """
    _check_method(method, DESIGN_METHODS, "design-based interval method")
    _check_level(level)
    p = float(estimate)
    v = float(variance)
    alpha = 1.0 - level
    base = dict(estimate=p, level=level, se=math.sqrt(max(v, 0.0)), df=float(df), n=int(n))
    if not math.isfinite(p) or n <= 0:
        return Interval(low=float("nan"), high=float("nan"), method=method,
                        warnings=("no respondents in this cell",), **base)
    if not (df > 0):
        return Interval(low=float("nan"), high=float("nan"), method=method,
                        warnings=(f"design degrees of freedom are {df}; no interval",), **base)
    q = abs(_qt(alpha / 2, df))
    if p <= 0.0 or p >= 1.0 or v <= 0.0:
        n_eff = n * (_qt(alpha / 2, n - 1) / _qt(alpha / 2, df)) ** 2 if n > 1 else 1.0
        low, high = _korn_graubard(p, n_eff, alpha)
        note = (f"estimate is {p:.0%} with zero design variance, so the {method} interval is "
                f"undefined; the Korn-Graubard interval with effective n = {n} is shown")
        return Interval(low=low, high=high, method=DEGENERATE_FALLBACK, warnings=(note,), **base)
    se = math.sqrt(v)
    if method == "mean":
        low, high = p - q * se, p + q * se
    elif method in ("logit", "xlogit"):
        centre = math.log(p / (1 - p))
        half = q * se / (p * (1 - p))
        low, high = special.expit(centre - half), special.expit(centre + half)
    elif method == "asin":
        centre = math.asin(math.sqrt(p))
        half = q * se / (2 * math.sqrt(p * (1 - p)))
        low = math.sin(max(centre - half, 0.0)) ** 2
        high = math.sin(min(centre + half, math.pi / 2)) ** 2
    elif method == "beta":
        n_eff = p * (1 - p) / v * (_qt(alpha / 2, n - 1) / _qt(alpha / 2, df)) ** 2
        low, high = _korn_graubard(p, n_eff, alpha)
    else:  # likelihood
        if y is None or weights is None or len(y) != n or n < 2:
            raise PulsecheckError("STAT_008", name="y/weights", value="missing",
                                  expected="the domain's values and weights for the "
                                           "likelihood interval")
        low, high = _profile_bounds_as_r(v, df, level, np.asarray(y, float),
                                         np.asarray(weights, float))
    return Interval(low=float(low), high=float(high), method=method, **base)


def proportion_interval(y: np.ndarray, domain: np.ndarray, resolved: ResolvedDesign, *,
                        method: str, level: float = 0.95) -> Interval:
    """Estimate a proportion in a domain of a design, with the chosen interval.

    Parameters
    ----------
    y : ndarray of 0/1
        The indicator (rows outside ``domain`` are ignored and may be NaN).
    domain : ndarray of bool
        Rows forming the base of the proportion.
    resolved : ResolvedDesign
    method : str
        One of :data:`CI_METHODS`. Binomial methods need the unweighted simple design.
    level : float

    Returns
    -------
    Interval

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys*, sec. 2.3. Wiley.
    .. [2] Newcombe, R. G. (1998). *Statistics in Medicine* 17, 857–872.
    """
    _check_method(method, CI_METHODS, "interval method")
    domain = np.asarray(domain, dtype=bool)
    n = int(domain.sum())
    if method in BINOMIAL_METHODS:
        if not resolved.is_simple:
            raise PulsecheckError("STAT_009", method=method)
        if n == 0:
            return Interval(estimate=float("nan"), low=float("nan"), high=float("nan"),
                            method=method, level=level, n=0,
                            warnings=("no respondents in this cell",))
        successes = int(np.asarray(y, dtype=float)[domain].sum())
        return binomial_interval(successes, n, method=method, level=level)
    y_clean = np.nan_to_num(np.asarray(y, float))
    estimate, _, scores = ratio_estimate(resolved, y_clean, domain, variance=False)
    # The variance alone: no matrix product, for one column.
    variance = float(psu_variances(
        resolved, np.bincount(resolved.psu, weights=scores,
                              minlength=resolved.psu_stratum.shape[0])[:, None])[0]) \
        if math.isfinite(estimate) else float("nan")
    return design_interval(estimate, variance, n=n, df=design_df(resolved, domain),
                           method=method, level=level, y=y_clean[domain],
                           weights=resolved.weights[domain])


def pearson_dispersion(y: np.ndarray, weights: np.ndarray, estimate: float) -> float:
    """Design-based dispersion of an intercept-only quasi-binomial model.

    The weighted variance (with the :math:`n/(n-1)` factor) of the Pearson residuals
    :math:`(y_i - \\hat p)/\\sqrt{\\hat p(1-\\hat p)}`.

    Parameters
    ----------
    y, weights : ndarray
        Values and weights of the domain's respondents.
    estimate : float
        The weighted proportion.

    Returns
    -------
    float

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys*, sec. 5.2; R ``survey::summary.svyglm``
       and ``svyvar``. Wiley.
    """
    w = np.asarray(weights, dtype=float)
    n = w.size
    # The sampling weights enter through the weighted variance, not the residuals.
    resid = (np.asarray(y, float) - estimate) / math.sqrt(estimate * (1 - estimate))
    centre = (w * resid).sum() / w.sum()
    return float(n / (n - 1.0) * (w * (resid - centre) ** 2).sum() / w.sum())


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
    arr = _drop_empty_margins(_as_table(table))
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
    arr = _drop_empty_margins(_as_table(table))
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


def _allocations(caps: tuple[int, ...], total: int):
    """All vectors x with sum(x) == total and 0 <= x_i <= caps_i."""
    if len(caps) == 1:
        if total <= caps[0]:
            yield (total,)
        return
    rest = sum(caps[1:])
    for first in range(max(0, total - rest), min(caps[0], total) + 1):
        for tail in _allocations(caps[1:], total - first):
            yield (first,) + tail


@lru_cache(maxsize=4096)
def _allocation_array(caps: tuple[int, ...], total: int) -> np.ndarray:
    out = np.array(list(_allocations(caps, total)), dtype=np.int64)
    return out.reshape(-1, len(caps))


def _even_fill(caps: np.ndarray, total: int) -> np.ndarray:
    """Most even allocation of ``total`` under ``caps`` (maximises -sum log x!)."""
    x = np.zeros_like(caps)
    order = np.argsort(caps)
    left = total
    k = len(caps)
    for pos, idx in enumerate(order):
        share = left // (k - pos)
        take = min(caps[idx], share)
        x[idx] = take
        left -= take
    # Distribute the remainder one unit at a time to rows with spare capacity.
    for idx in order[::-1]:
        if left == 0:
            break
        spare = min(caps[idx] - x[idx], left)
        x[idx] += spare
        left -= spare
    return x


def _greedy_fill(caps: np.ndarray, total: int) -> np.ndarray:
    """Most concentrated allocation (minimises -sum log x!)."""
    x = np.zeros_like(caps)
    left = total
    for idx in np.argsort(-caps, kind="stable"):
        take = min(caps[idx], left)
        x[idx] = take
        left -= take
    return x


def fisher_exact(table: object, *, max_steps: int = 20_000_000) -> TestResult:
    """Fisher's exact test of independence for an r×c table (two-sided).

    The p-value is the total probability, under the multivariate hypergeometric
    distribution with the observed margins, of all tables no more probable than the
    observed one (with R's relative tolerance of 1e-7).

    Parameters
    ----------
    table : array_like of int, shape (r, c)
    max_steps : int
        Limit on the work (partial tables examined); beyond it ``STAT_010`` is raised
        rather than returning an approximation.

    Returns
    -------
    TestResult
        ``test = "fisher"``; ``statistic`` is the probability of the observed table.

    Notes
    -----
    Columns are filled one at a time (a network algorithm): partial tables with the same
    remaining row totals and the same probability so far are merged, and a node is settled
    as soon as bounds on the remaining probability show that all, or none, of its
    completions count. The last columns are finished from memoised sorted lists of their
    completions. Tables with two rows (or two columns) of any survey size take well under a
    second; 3×4 with 200 respondents about one second; 4×4 with 150 or 3×5 with 240 exceed
    the default work limit, and :func:`fisher_monte_carlo` is the explicit alternative.

    References
    ----------
    .. [1] Mehta, C. R. and Patel, N. R. (1983). A network algorithm for performing Fisher's
       exact test in r×c contingency tables. *JASA* 78, 427–434.
    .. [2] Freeman, G. H. and Halton, J. H. (1951). Note on an exact treatment of contingency,
       goodness of fit and other problems of significance. *Biometrika* 38, 141–149.
    """
    arr = _drop_empty_margins(_as_table(table))
    if not np.allclose(arr, np.round(arr)):
        raise PulsecheckError("STAT_005", problem="has non-integer counts (Fisher's exact "
                                                  "test needs unweighted counts)")
    arr = np.round(arr).astype(np.int64)
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        return TestResult(test="fisher", method="Fisher's exact test", statistic=1.0,
                          df=float("nan"), ddf=float("nan"), p_value=1.0,
                          warnings=("fewer than two non-empty rows or columns",))
    if arr.shape[0] > arr.shape[1]:
        arr = arr.T
    n = int(arr.sum())
    lf = special.gammaln(np.arange(n + 2) + 1.0)
    rows = arr.sum(axis=1)
    cols = np.sort(arr.sum(axis=0))[::-1]
    const = float(lf[rows].sum() - lf[n])
    obs = const + float(lf[arr.sum(axis=0)].sum() - lf[arr].sum())
    threshold = obs + math.log1p(1e-7)
    n_cols = len(cols)
    col_lf = lf[cols]

    def bounds(state: tuple[int, ...], k: int) -> tuple[float, float]:
        caps = np.asarray(state, dtype=np.int64)
        if k == n_cols - 1:
            exact = float(col_lf[k] - lf[caps].sum())
            return exact, exact
        # Two relaxations of the remaining table (dropping either the row or the column
        # totals); each gives valid bounds, and the tighter one is kept.
        rest_cols = cols[k:]
        col_sum = float(col_lf[k:].sum())
        even_by_col = sum(lf[_even_fill(caps, int(c))].sum() for c in rest_cols)
        conc_by_col = sum(lf[_greedy_fill(caps, int(c))].sum() for c in rest_cols)
        even_by_row = sum(lf[_even_fill(rest_cols, int(r))].sum() for r in caps)
        conc_by_row = sum(lf[_greedy_fill(rest_cols, int(r))].sum() for r in caps)
        hi = col_sum - max(even_by_col, even_by_row)
        lo = col_sum - min(conc_by_col, conc_by_row)
        return float(hi), float(lo)

    n_rows = len(rows)
    radix = n + 1

    def encode(states: np.ndarray) -> np.ndarray:
        return states @ (radix ** np.arange(n_rows, dtype=np.int64))

    # The last columns are finished from memoised, sorted lists of all their completions
    # (meet in the middle), as long as those lists stay small.
    tail_start = n_cols - 1
    size = 1.0
    while tail_start > 0:
        size *= math.comb(int(cols[tail_start - 1]) + n_rows - 1, n_rows - 1)
        if size > 200_000:
            break
        tail_start -= 1
    tail_start = min(tail_start, n_cols - 1)
    memo: dict[tuple[int, tuple[int, ...]], tuple[np.ndarray, np.ndarray, float]] = {}

    def completions(k: int, state: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, float]:
        key = (k, state)
        if key in memo:
            return memo[key]
        if k == n_cols - 1:
            values = np.array([col_lf[k] - lf[list(state)].sum()])
        else:
            alloc = _allocation_array(state, int(cols[k]))
            term = col_lf[k] - lf[alloc].sum(axis=1)
            kids = np.sort(np.asarray(state, dtype=np.int64) - alloc, axis=1)
            parts = [t + completions(k + 1, tuple(int(v) for v in kid))[0]
                     for t, kid in zip(term, kids)]
            values = np.sort(np.concatenate(parts))
        top = float(values[-1])
        cum = np.r_[0.0, np.cumsum(np.exp(values - top))]
        memo[key] = (values, cum, top)
        return memo[key]

    p_value = 0.0
    steps = 0
    # Each level maps a state (sorted remaining row totals) to the distinct log-probabilities
    # of the partial tables reaching it and how many partial tables share each value.
    level = {tuple(sorted(int(r) for r in rows)): (np.zeros(1), np.ones(1))}
    for k in range(n_cols):
        child_keys, child_states, values, mults = [], [], [], []
        for state, (past, mult) in level.items():
            hi, lo = bounds(state, k)
            rest_total = float(lf[sum(state)] - lf[list(state)].sum())
            steps += past.size
            settled = const + past + hi <= threshold
            if settled.any():
                p_value += float((mult[settled] * np.exp(const + past[settled]
                                                         + rest_total)).sum())
            active = ~settled & (const + past + lo <= threshold)
            if not active.any():
                continue
            past_a, mult_a = past[active], mult[active]
            if k == tail_start:
                # Finish every table from here at once: the node's completions are sorted,
                # so the tables at or below the threshold are found by binary search.
                values, cum, top = completions(k, state)
                idx = np.searchsorted(values, threshold - const - past_a, side="right")
                p_value += float((mult_a * np.exp(const + past_a + top) * cum[idx]).sum())
                steps += past_a.size
                continue
            alloc = _allocation_array(state, int(cols[k]))
            term = col_lf[k] - lf[alloc].sum(axis=1)
            kids = np.sort(np.asarray(state, dtype=np.int64) - alloc, axis=1)
            steps += alloc.shape[0] * past_a.size
            if steps > max_steps:
                raise PulsecheckError("STAT_010", shape=f"{arr.shape[0]}×{arr.shape[1]}",
                                      n=n, limit=max_steps)
            child_keys.append(np.repeat(encode(kids), past_a.size))
            child_states.append(np.repeat(kids, past_a.size, axis=0))
            values.append((term[:, None] + past_a[None, :]).ravel())
            mults.append(np.tile(mult_a, alloc.shape[0]))
        if not child_keys:
            break
        keys = np.concatenate(child_keys)
        kid_states = np.concatenate(child_states)
        vals = np.concatenate(values)
        mlts = np.concatenate(mults)
        # Partial tables with the same state and (to 1e-9) the same probability merge.
        vkey = np.round(vals * 1e9).astype(np.int64)
        order = np.lexsort((vkey, keys))
        keys, vkey, vals, mlts = keys[order], vkey[order], vals[order], mlts[order]
        kid_states = kid_states[order]
        new_group = np.ones(keys.size, dtype=bool)
        new_group[1:] = (keys[1:] != keys[:-1]) | (vkey[1:] != vkey[:-1])
        starts = np.flatnonzero(new_group)
        merged_m = np.add.reduceat(mlts, starts)
        merged_v = vals[starts]
        merged_k = keys[starts]
        merged_s = kid_states[starts]
        state_start = np.flatnonzero(np.r_[True, merged_k[1:] != merged_k[:-1]])
        bounds_idx = np.r_[state_start, merged_k.size]
        level = {}
        for a, b in zip(bounds_idx[:-1], bounds_idx[1:]):
            level[tuple(int(v) for v in merged_s[a])] = (merged_v[a:b], merged_m[a:b])
    return TestResult(test="fisher", method="Fisher's exact test", statistic=math.exp(obs),
                      df=float("nan"), ddf=float("nan"), p_value=float(min(1.0, p_value)))


def fisher_monte_carlo(table: object, *, n_sim: int, seed: int) -> TestResult:
    """Fisher's test of independence with a Monte Carlo p-value (for tables too large to
    enumerate).

    Random tables with the observed margins are drawn; the p-value is
    :math:`(1 + \\#\\{P(T) \\le P(T_{obs})\\}) / (B + 1)`, as R's
    ``fisher.test(simulate.p.value = TRUE)`` computes it.

    Parameters
    ----------
    table : array_like of int, shape (r, c)
    n_sim : int
        Number of random tables :math:`B`; the p-value's Monte Carlo standard error is about
        :math:`\\sqrt{p(1-p)/B}`.
    seed : int
        Seed of the random generator, so that the result can be reproduced.

    Returns
    -------
    TestResult
        ``test = "fisher_mc"``; the method names ``n_sim`` and ``seed``.

    References
    ----------
    .. [1] Patefield, W. M. (1981). Algorithm AS 159: an efficient method of generating
       random r×c tables with given row and column totals. *Applied Statistics* 30, 91–97.
    .. [2] Hope, A. C. A. (1968). A simplified Monte Carlo significance test procedure.
       *JRSS B* 30, 582–598.
    """
    if int(n_sim) < 1:
        raise PulsecheckError("STAT_008", name="n_sim", value=n_sim,
                              expected="a positive number of simulated tables")
    arr = _drop_empty_margins(_as_table(table))
    if not np.allclose(arr, np.round(arr)):
        raise PulsecheckError("STAT_005", problem="has non-integer counts (Fisher's test "
                                                  "needs unweighted counts)")
    arr = np.round(arr).astype(np.int64)
    method = f"Fisher's exact test, Monte Carlo p-value ({int(n_sim)} tables, seed {seed})"
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        return TestResult(test="fisher_mc", method=method, statistic=1.0, df=float("nan"),
                          ddf=float("nan"), p_value=1.0,
                          warnings=("fewer than two non-empty rows or columns",))
    sims = sps.random_table(arr.sum(axis=1), arr.sum(axis=0),
                            seed=np.random.default_rng(seed)).rvs(size=int(n_sim))
    observed = -special.gammaln(arr + 1.0).sum()
    simulated = -special.gammaln(sims + 1.0).sum(axis=(1, 2))
    hits = int((simulated <= observed + math.log1p(1e-7)).sum())
    rows, cols, n = arr.sum(axis=1), arr.sum(axis=0), int(arr.sum())
    log_p = float(special.gammaln(rows + 1.0).sum() + special.gammaln(cols + 1.0).sum()
                  - special.gammaln(n + 1.0) + observed)
    return TestResult(test="fisher_mc", method=method, statistic=math.exp(log_p),
                      df=float("nan"), ddf=float("nan"),
                      p_value=(1 + hits) / (int(n_sim) + 1))


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


def adjust_pvalues(p_values: Sequence[float], *, method: str) -> np.ndarray:
    """Adjust p-values for multiple comparisons.

    Parameters
    ----------
    p_values : sequence of float
        NaN entries are kept as NaN and not counted.
    method : {"none", "bonferroni", "holm", "bh"}
        ``holm``: Holm's step-down family-wise control; ``bh``: Benjamini–Hochberg false
        discovery rate. Results equal R's ``p.adjust``.

    Returns
    -------
    ndarray

    References
    ----------
    .. [1] Holm, S. (1979). A simple sequentially rejective multiple test procedure.
       *Scandinavian Journal of Statistics* 6, 65–70.
    .. [2] Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate.
       *JRSS B* 57, 289–300.
    """
    _check_method(method, ADJUST_METHODS, "p-value adjustment")
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
    else:
        order = np.argsort(q, kind="stable")[::-1]
        stepped = np.minimum.accumulate(m / np.arange(m, 0, -1) * q[order])
        adj = np.empty(m)
        adj[order] = np.minimum(1.0, stepped)
    out[ok] = adj
    return out


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
    _check_method(statistic, DESIGN_CHISQ_STATISTICS, "design-based test statistic")
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
        n_psu = resolved.psu_stratum.shape[0]
        cell_w = np.bincount(resolved.psu[complete] * k + cell[complete], weights=w[complete],
                             minlength=n_psu * k).reshape(n_psu, k)
        psu_w = np.bincount(resolved.psu, weights=w, minlength=n_psu)
        v = psu_covariance(resolved, (cell_w - psu_w[:, None] * props[None, :]) / total_w,
                           blas=False)
        n_obs = int(complete.sum())
        table = props.reshape(nc, nr).T * n_obs
        exp = expected_counts(table)
        x2 = float(((table - exp) ** 2 / exp).sum())
        # Contrasts of the interaction, orthogonal to the main-effects design.
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
        delta = np.linalg.solve(denom, numer)
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
    v = total_covariance(resolved, w[:, None] * influence)
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
    _check_method(adjust, ADJUST_METHODS, "p-value adjustment")
    x = _as_table(counts)
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
    for r, padj in zip(row, adjusted):
        significant = bool(not np.isnan(padj) and padj < alpha)
        higher = (r[1] if r[3] > r[4] else r[2]) if significant else -1
        out.append(r + [float(padj), significant, higher,
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
    _check_method(adjust, ADJUST_METHODS, "p-value adjustment")
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
    keys = list(letters) if letters is not None else [_letter(j) for j in range(n_cols)]
    out = [["" for _ in range(n_cols)] for _ in range(n_rows)]
    for rec in pairs.itertuples(index=False):
        if rec.significant:
            lower = rec.col_b if rec.higher == rec.col_a else rec.col_a
            out[rec.row][rec.higher] += keys[lower]
    return [["".join(sorted(cell)) for cell in row] for row in out]


def _letter(j: int) -> str:
    letters = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _check_quantile(q: float) -> None:
    if not (0.0 <= q <= 1.0):
        raise PulsecheckError("STAT_008", name="quantile", value=q, expected="a number in [0, 1]")


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Quantile of a weighted distribution: the smallest value whose cumulative weight
    share is at least ``q`` (inverse of the weighted empirical CDF).

    With equal weights this is R's ``quantile(type = 1)``; for the median of an even
    number of values it returns the lower middle value.

    Parameters
    ----------
    values, weights : ndarray
    q : float in [0, 1]

    Returns
    -------
    float

    References
    ----------
    .. [1] Hyndman, R. J. and Fan, Y. (1996). Sample quantiles in statistical packages.
       *The American Statistician* 50, 361–365 (definition 1).
    """
    _check_quantile(q)
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    if v.size == 0:
        return float("nan")
    order = np.argsort(v, kind="stable")
    return sorted_weighted_quantiles(v[order], w[order], (q,))[0]


def sorted_weighted_quantiles(values: np.ndarray, weights: np.ndarray,
                              quantiles: Sequence[float]) -> list[float]:
    """Several quantiles (as :func:`weighted_quantile`) of values already in order.

    Parameters
    ----------
    values : ndarray
        Values in ascending order, ties in their original order (a stable sort), so that
        the result equals :func:`weighted_quantile` of the unsorted values.
    weights : ndarray
        The weight of each value, in the same order.
    quantiles : sequence of float in [0, 1]

    Returns
    -------
    list of float
        One quantile per entry of ``quantiles`` (NaN for no values).
    """
    for q in quantiles:
        _check_quantile(q)
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    if v.size == 0:
        return [float("nan") for _ in quantiles]
    share = np.cumsum(w) / w.sum()
    return [float(v[min(int(np.searchsorted(share, q - 1e-12, side="left")), v.size - 1)])
            for q in quantiles]
