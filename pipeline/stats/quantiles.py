"""Weighted quantiles.

* ``weighted_quantile(values, weights, q)`` — inverse of the weighted empirical CDF;
  ``sorted_weighted_quantiles(values, weights, quantiles)`` — several at once of values
  already in order.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from pipeline.errors import PulsecheckError


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
