"""Confidence intervals for proportions (:class:`~pipeline.stats.methods.Interval`).

* ``binomial_interval(successes, trials, *, method, level=0.95)`` — ``wilson``,
  ``wilson_cc``, ``clopper_pearson`` for an unweighted simple random sample;
  ``binomial_intervals(successes, trials, ...)`` for several counts of one base.
* ``design_interval(estimate, variance, *, n, df, method, level=0.95)`` — R
  ``svyciprop`` methods ``logit``, ``likelihood``, ``asin``, ``beta``, ``mean``, ``xlogit``
  from a design-based estimate and its linearisation variance.
* ``proportion_interval(y, domain, resolved, *, method, level=0.95)`` — estimate,
  variance and interval for a 0/1 variable in a domain of a resolved design.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy import special
from scipy import stats as sps

from pipeline.errors import PulsecheckError
from pipeline.stats.design import (
    ResolvedDesign,
    design_df,
    present_units,
    psu_variances,
    ratio_estimate,
)
from pipeline.stats.methods import (
    BINOMIAL_METHODS,
    CI_METHODS,
    DEGENERATE_FALLBACK,
    DESIGN_METHODS,
    Interval,
    check_level,
    check_method,
)

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
    check_method(method, BINOMIAL_METHODS, "binomial interval method")
    check_level(level)
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
    check_method(method, BINOMIAL_METHODS, "binomial interval method")
    check_level(level)
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


#: R's binomial inverse link clamps the linear predictor beyond +-30 (``THRESH`` in
#: ``family.c``), so a fitted probability is never closer to 0 or 1 than this.
_R_EPS = float(np.finfo(float).eps)


def _r_expit(eta: np.ndarray | float) -> np.ndarray:
    """The inverse logit as R's ``binomial()$linkinv``: ``exp`` replaced by ``DBL_EPSILON``
    below -30 and by ``1 / DBL_EPSILON`` above 30, so that the profile's deviance stays
    finite however far the profile steps (and equals R's there)."""
    eta = np.asarray(eta, dtype=float)
    with np.errstate(over="ignore"):
        e = np.where(eta < -30.0, _R_EPS, np.where(eta > 30.0, 1.0 / _R_EPS, np.exp(eta)))
    return e / (1.0 + e)


def _binomial_deviance(y: np.ndarray, w: np.ndarray, mu: float | np.ndarray) -> float:
    """``sum(binomial()$dev.resids(y, mu, w))`` for 0/1 ``y``: ``2 w log(1/mu)`` for a one,
    ``2 w log(1/(1 - mu))`` for a zero (never ``log(0)``: ``mu`` is clamped as R's)."""
    mu = np.broadcast_to(np.asarray(mu, dtype=float), y.shape)
    with np.errstate(divide="ignore"):
        terms = np.where(y > 0.5, np.log(1.0 / mu), np.log(1.0 / (1.0 - mu)))
    return float(2.0 * np.sum(w * terms))


def _irls_intercept(y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Intercept-only logistic fit by iteratively reweighted least squares.

    Returns the fitted log-odds and the sum of the working weights of the last iteration,
    following the steps (start values, convergence rule) of R's ``glm.fit``, on which the
    model-based variance in R's likelihood interval depends.
    """
    mu = (w * y + 0.5) / (w + 1.0)
    eta = special.logit(mu)

    def deviance(m: np.ndarray) -> float:
        return _binomial_deviance(y, w, m)

    dev_old = deviance(mu)
    beta, weight_sum = float("nan"), float("nan")
    for _ in range(25):
        work = w * mu * (1 - mu)
        z = eta + (y - mu) / (mu * (1 - mu))
        beta = float((work * z).sum() / work.sum())
        weight_sum = float(work.sum())
        eta = np.full(y.shape, beta)
        mu = _r_expit(eta)
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
    # R's sqrt(qf(a, 1, n - 1, lower.tail = FALSE)), through the identity F(1, d) = t(d)^2:
    # scipy's F quantile loses about six digits this far in the tail (a ~ 1e-12 at one
    # design degree of freedom), its t quantile does not.
    zmax = abs(float(sps.t.isf(unscaled / 4.0, n - 1)))
    step_size = zmax / 5.0

    def deviance(beta: float) -> float:
        return _binomial_deviance(y, w, float(_r_expit(beta)))

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
    lo_beta, hi_beta = _approx_as_r(fitted, grid, np.array([cut, -cut]))
    return float(special.expit(lo_beta)), float(special.expit(hi_beta))


def _approx_as_r(x: np.ndarray, y: np.ndarray, xout: np.ndarray) -> np.ndarray:
    """Linear interpolation as R's ``approx(x, y, xout)`` (``rule = 1``, ``ties = mean``):
    the points are sorted by ``x``, tied ``x`` share the mean of their ``y``, and values
    outside the range of ``x`` are NaN. Where the profile flattens (R's clamped deviance)
    the spline has tied values, which ``np.interp`` alone would treat otherwise."""
    keys, inverse = np.unique(x, return_inverse=True)
    means = np.bincount(inverse, weights=y) / np.bincount(inverse)
    if keys.size < 2:
        return np.where(xout == keys[0], means[0], np.nan) if keys.size else \
            np.full(xout.shape, np.nan)
    return np.interp(xout, keys, means, left=np.nan, right=np.nan)


#: A design variance below this multiple of p(1 - p) (a standard error 1e-12 of the
#: binomial one) is rounding, taken as zero by :func:`design_interval`.
ZERO_VARIANCE = 1e-24


def design_interval(estimate: float, variance: float, *, n: int, df: float, method: str,
                    level: float = 0.95, y: np.ndarray | None = None,
                    weights: np.ndarray | None = None,
                    successes: int | None = None) -> Interval:
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
    successes : int, optional
        The number of respondents of the domain with the value 1. When given, a cell of
        0% or 100% is recognised from this count (``0`` or ``n``), not from the weighted
        share, whose floating-point sum can fall a few units in the last place short of
        1; every caller in :mod:`pipeline.stats` passes it.

    Returns
    -------
    Interval
        When :math:`\\hat p` is 0 or 1, or the variance is 0 (to rounding:
        :data:`ZERO_VARIANCE`), every design-based method is
        undefined or of zero width; the Korn–Graubard interval with :math:`n_{eff} = n`
        (the Clopper–Pearson interval on the domain's respondents, df-adjusted) is returned
        instead, with ``method = "beta_n"`` and a warning naming the requested method.
        When the ``likelihood`` profile does not reach its cut-off (R returns NA: tiny
        domains at one or two design df), the Korn–Graubard interval is returned under the
        name ``beta``, with a warning.

    Notes
    -----
    The ``likelihood`` bounds are found as R finds them: a spline through the profile at
    up to nine steps each side, inverted by linear interpolation, around R's iteratively
    reweighted fit. The exact roots of the profile differ from these by up to about 5e-4
    relative (``tests/test_stats_intervals.py`` finds the exact roots independently).

    References
    ----------
    .. [1] Korn, E. L. and Graubard, B. I. (1998). Confidence intervals for proportions with
       small expected number of positive counts estimated from survey data. *Survey
       Methodology* 24, 193–201.
    .. [2] Rao, J. N. K., Yung, W. and Hidiroglou, M. A. (2002). Estimating equations for the
       analysis of survey data using poststratification information. *Sankhya A* 64, 364–378.
    .. [3] Lumley, T. (2010). *Complex Surveys*, sec. 2.3.1; R ``survey::svyciprop``. Wiley.
    """
    check_method(method, DESIGN_METHODS, "design-based interval method")
    check_level(level)
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
    if successes is not None:
        if not 0 <= successes <= n:
            raise PulsecheckError("STAT_008", name="successes", value=successes,
                                  expected=f"a count between 0 and n = {n}")
        if successes in (0, n):
            # Decided from the count: the weighted share is then exactly 0 or 1.
            p = 0.0 if successes == 0 else 1.0
            v = 0.0
            base.update(estimate=p, se=0.0)
    # A variance that is zero but for rounding (a design whose calibration or strata fix the
    # share in every PSU leaves about 1e-36) is zero: which side of 0 the rounding falls on
    # must not choose between an interval and none.
    if p <= 0.0 or p >= 1.0 or v <= ZERO_VARIANCE * p * (1.0 - p):
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
        if not (math.isfinite(low) and math.isfinite(high)):
            # R's profile stops short of the cut-off (its confint returns NA): the
            # Korn-Graubard interval is the documented stand-in, under its own name.
            n_eff = p * (1 - p) / v * (_qt(alpha / 2, n - 1) / _qt(alpha / 2, df)) ** 2
            low, high = _korn_graubard(p, n_eff, alpha)
            note = (f"the likelihood profile does not reach its cut-off at {df:g} design "
                    f"degrees of freedom and n = {n} (R returns no interval); the "
                    f"Korn-Graubard (beta) interval is shown")
            return Interval(low=float(low), high=float(high), method="beta",
                            warnings=(note,), **base)
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
    check_method(method, CI_METHODS, "interval method")
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
        resolved, np.bincount(resolved.units, weights=scores,
                              minlength=resolved.n_units)[:, None],
        present_units(resolved, domain))[0]) if math.isfinite(estimate) else float("nan")
    y_domain = y_clean[domain]
    return design_interval(estimate, variance, n=n, df=design_df(resolved, domain),
                           method=method, level=level, y=y_domain,
                           weights=resolved.weights[domain],
                           successes=int(np.count_nonzero(y_domain > 0.5)))


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
