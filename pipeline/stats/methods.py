"""Statistics: the method names every statistic accepts, the results they return, argument checks.

Every function of :mod:`pipeline.stats` names its method in its result, and the method is always
an explicit argument: nothing switches method behind the caller's back. Where a method cannot
give a sensible answer (a proportion of exactly 0 or 1 under a design-based method), the fallback
used is named in the result's ``method`` and explained in its ``warnings``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

from pipeline.errors import PulsecheckError

#: Intervals for an unweighted simple random sample.
BINOMIAL_METHODS = ("wilson", "wilson_cc", "clopper_pearson")
#: Design-based intervals (R ``svyciprop``).
DESIGN_METHODS = ("logit", "likelihood", "asin", "beta", "mean", "xlogit")
#: Every interval method.
CI_METHODS = BINOMIAL_METHODS + DESIGN_METHODS
#: p-value adjustments.
ADJUST_METHODS = ("none", "bonferroni", "holm", "bh", "hochberg", "hommel", "by")
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


def check_level(level: float) -> None:
    if not (0.0 < level < 1.0):
        raise PulsecheckError("STAT_008", name="level", value=level,
                              expected="a confidence level strictly between 0 and 1")


def check_method(method: str, allowed: Sequence[str], what: str) -> None:
    if method not in allowed:
        raise PulsecheckError("STAT_004", what=what, value=method, supported=", ".join(allowed))


def as_table(table: object) -> np.ndarray:
    arr = np.asarray(table, dtype=float)
    if arr.ndim != 2:
        raise PulsecheckError("STAT_005", problem=f"has {arr.ndim} dimension(s), expected 2")
    if np.isnan(arr).any() or (arr < 0).any():
        raise PulsecheckError("STAT_005", problem="has negative or missing counts")
    return arr


def drop_empty_margins(arr: np.ndarray) -> np.ndarray:
    return arr[arr.sum(axis=1) > 0][:, arr.sum(axis=0) > 0]
