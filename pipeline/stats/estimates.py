"""Design-based means, totals and quantiles with design effects, as R's ``survey``.

* ``mean_estimate(y, domain, resolved, *, level=0.95, deff=False)`` — ``svymean`` (with
  ``deff=TRUE``): the weighted mean, its linearisation SE, a t interval on the design df,
  the design effect and the effective sample size.
* ``total_estimate(y, domain, resolved, *, level=0.95, deff=False)`` — ``svytotal``.
* ``quantile_estimate(y, domain, resolved, q, *, level=0.95)`` — ``svyquantile`` with its
  defaults (``qrule="math"``, ``interval.type="mean"``): the Woodruff interval.

Each works on a domain of a resolved design (rows outside it contribute zero to the
variance, as R's ``subset``), and returns an :class:`Estimate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from pipeline.errors import PulsecheckError
from pipeline.stats.design import ResolvedDesign, design_df, ratio_estimate, total_covariance
from pipeline.stats.methods import check_level


@dataclass(frozen=True)
class Estimate:
    """A design-based estimate.

    Attributes
    ----------
    statistic : str
        ``mean``, ``total`` or ``quantile``.
    estimate, se, low, high : float
        The estimate, its standard error and its confidence interval.
    df : float
        Design degrees of freedom of the domain.
    n : int
        Respondents in the domain.
    level : float
        Confidence level.
    deff : float
        Design effect (R's ``deff=TRUE``: the variance over that of a simple random sample
        without replacement of the same size from a population of the weights' total);
        NaN when not asked for or not defined.
    n_effective : float
        Effective sample size ``n / deff`` (Kish); NaN with ``deff``.
    method : str
    warnings : tuple of str
    """

    statistic: str
    estimate: float
    se: float
    low: float
    high: float
    df: float
    n: int
    level: float
    deff: float = float("nan")
    n_effective: float = float("nan")
    method: str = ""
    warnings: tuple[str, ...] = ()


def _values(y: np.ndarray, domain: np.ndarray, name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    domain = np.asarray(domain, dtype=bool)
    if y.shape != domain.shape:
        raise PulsecheckError("STAT_008", name=name, value=f"{y.size} values",
                              expected=f"{domain.size} values, one per row")
    if np.isnan(y[domain]).any():
        raise PulsecheckError("STAT_008", name=name, value="blank values in the domain",
                              expected="numbers (leave blank rows out of the domain)")
    return np.where(domain, y, 0.0), domain


def _t(level: float, df: float) -> float:
    alpha = 1.0 - level
    return float(sps.t.isf(alpha / 2, df)) if math.isfinite(df) else \
        float(sps.norm.isf(alpha / 2))


def _srs_variance(y: np.ndarray, w: np.ndarray) -> float:
    """R's ``svyvar``: the weighted variance with the ``n / (n - 1)`` factor."""
    n = y.size
    if n < 2:
        return float("nan")
    centre = (w * y).sum() / w.sum()
    return float((w * (y - centre) ** 2).sum() / w.sum() * n / (n - 1))


def _finish(statistic: str, estimate: float, variance: float, df: float, n: int,
            level: float, vsrs: float | None, method: str,
            warnings: tuple[str, ...] = ()) -> Estimate:
    se = math.sqrt(variance) if variance >= 0 else float("nan")
    if df > 0 and math.isfinite(se):
        half = _t(level, df) * se
        low, high = estimate - half, estimate + half
    else:
        low = high = float("nan")
        warnings = (*warnings, f"design degrees of freedom are {df}; no interval")
    deff = n_eff = float("nan")
    if vsrs is not None:
        if vsrs > 0 and math.isfinite(vsrs):
            deff = variance / vsrs
            n_eff = n / deff if deff > 0 else float("nan")
        else:
            warnings = (*warnings, "design effect not defined (no variance under simple "
                                   "random sampling)")
    return Estimate(statistic=statistic, estimate=estimate, se=se, low=low, high=high,
                    df=float(df), n=n, level=level, deff=deff, n_effective=n_eff,
                    method=method, warnings=warnings)


def mean_estimate(y: np.ndarray, domain: np.ndarray, resolved: ResolvedDesign, *,
                  level: float = 0.95, deff: bool = False) -> Estimate:
    """Weighted mean of ``y`` in a domain, as R's ``svymean`` (``confint`` on the design df).

    Parameters
    ----------
    y : ndarray
        Values (rows outside ``domain`` are ignored and may be NaN).
    domain : ndarray of bool
    resolved : ResolvedDesign
    level : float
    deff : bool
        Also the design effect and effective n.

    Returns
    -------
    Estimate

    Notes
    -----
    The design effect is R's ``deff=TRUE``: ``v / (s^2 (N - n) / (N n))`` with ``s^2`` the
    weighted variance (``svyvar``) and ``N`` the domain's total weight; it is undefined
    (NaN, with a warning) when the weights total less than the sample size, where R warns
    and returns NA too.

    References
    ----------
    .. [1] Kish, L. (1965). *Survey Sampling*, sec. 8.2. Wiley.
    .. [2] Lumley, T. (2010). *Complex Surveys*, sec. 2.2; R ``survey::svymean``. Wiley.
    """
    check_level(level)
    values, domain = _values(y, domain)
    n = int(domain.sum())
    if n == 0:
        return Estimate("mean", *(float("nan"),) * 4, df=0.0, n=0, level=level,
                        method="weighted mean", warnings=("no respondents in this domain",))
    estimate, variance, _ = ratio_estimate(resolved, values, domain)
    vsrs = None
    if deff:
        w = resolved.weights[domain]
        psum = float(w.sum())
        vsrs = _srs_variance(values[domain], w) * (psum - n) / (psum * n) if psum >= n \
            else float("nan")
    return _finish("mean", estimate, variance, design_df(resolved, domain), n, level, vsrs,
                   "weighted mean, linearisation SE, t interval on the design df")


def total_estimate(y: np.ndarray, domain: np.ndarray, resolved: ResolvedDesign, *,
                   level: float = 0.95, deff: bool = False) -> Estimate:
    """Weighted total of ``y`` in a domain, as R's ``svytotal``.

    The variance is that of the totals of :math:`w_i y_i` (zero outside the domain); the
    design effect is R's: ``v / (s^2 W^2 (N - n) / (N n))`` with ``W = N`` the domain's total
    weight.

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys*, sec. 2.2; R ``survey::svytotal``. Wiley.
    """
    check_level(level)
    values, domain = _values(y, domain)
    n = int(domain.sum())
    w_all = np.where(domain, resolved.weights, 0.0)
    estimate = float((w_all * values).sum())
    variance = float(total_covariance(resolved, w_all * values, domain)[0, 0])
    vsrs = None
    if deff:
        w = resolved.weights[domain]
        big_n = float(w.sum())
        vsrs = _srs_variance(values[domain], w) * big_n ** 2 * (big_n - n) / (big_n * n) \
            if n else float("nan")
    return _finish("total", estimate, variance, design_df(resolved, domain), n, level, vsrs,
                   "weighted total, linearisation SE, t interval on the design df")


def _qrule_math(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """R's ``survey:::qrule_math``: the value at the last cumulative weight at most
    ``p`` times the total when it is hit exactly, otherwise the next value.

    When ``p`` lies below the first value's share, R's search starts from the first value
    and so returns the second; this is kept, so that intervals equal R's (README,
    "Differences from R").
    """
    order = np.argsort(x, kind="stable")
    # R's cumsum and sum accumulate in long double; with equal weights the share of the
    # 90th of 100 values is exactly 0.9 only when summed as R sums.
    cumulative = np.cumsum(w[order].astype(np.longdouble))
    xs, cumw = x[order], cumulative.astype(float)
    total = float(cumulative[-1])
    at_most = np.flatnonzero(cumw <= p * total)
    pos = int(at_most[-1]) if at_most.size else 0
    nxt = pos if pos == xs.size - 1 else pos + 1
    return float(xs[pos]) if p - cumw[pos] / total == 0 else float(xs[nxt])


def quantile_estimate(y: np.ndarray, domain: np.ndarray, resolved: ResolvedDesign,
                      q: float, *, level: float = 0.95) -> Estimate:
    """A quantile with its Woodruff interval, as R's ``svyquantile`` defaults.

    The quantile is R's ``qrule="math"`` (:func:`_qrule_math`; the smallest value whose
    weighted cumulative share is at least ``q``, but for ``q`` below the first share).
    The interval (``interval.type="mean"``) is Woodruff's: a Wald
    interval :math:`\\hat F \\pm t_{df}\\,se(\\hat F)` for the share of the domain at or
    below the quantile, mapped back through the weighted distribution; a bound whose share
    falls outside [0, 1] is NaN (as in R). The SE is the interval's width over
    :math:`2 t_{df}`, as R reports it.

    References
    ----------
    .. [1] Woodruff, R. S. (1952). Confidence intervals for medians and other position
       measures. *JASA* 47, 635–646.
    .. [2] Lumley, T. (2010). *Complex Surveys*, sec. 2.4.1; R ``survey::svyquantile``.
    """
    check_level(level)
    if not (0.0 <= q <= 1.0):
        raise PulsecheckError("STAT_008", name="quantile", value=q, expected="a number in [0, 1]")
    values, domain = _values(y, domain)
    n = int(domain.sum())
    df = design_df(resolved, domain)
    method = "weighted quantile (R qrule 'math') with the Woodruff interval"
    if n == 0:
        return Estimate("quantile", *(float("nan"),) * 4, df=0.0, n=0, level=level,
                        method=method, warnings=("no respondents in this domain",))
    x_d, w_d = values[domain], resolved.weights[domain]
    qhat = _qrule_math(x_d, w_d, q)
    below = (values <= qhat).astype(float)
    share, variance, _ = ratio_estimate(resolved, below, domain)
    if not (df > 0) or not math.isfinite(variance):
        return Estimate("quantile", qhat, float("nan"), float("nan"), float("nan"),
                        df=float(df), n=n, level=level, method=method,
                        warnings=(f"design degrees of freedom are {df}; no interval",))
    t = _t(level, df)
    p_low, p_high = share - t * math.sqrt(variance), share + t * math.sqrt(variance)
    low = _qrule_math(x_d, w_d, p_low) if p_low >= 0 else float("nan")
    high = _qrule_math(x_d, w_d, p_high) if p_high <= 1 else float("nan")
    return Estimate("quantile", qhat, (high - low) / (2 * t), low, high, df=float(df), n=n,
                    level=level, method=method)
