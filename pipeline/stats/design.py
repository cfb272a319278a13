"""Survey designs and design-based (Taylor-linearisation) variances.

A :class:`SurveyDesign` names the columns that describe how the sample was drawn, as R's
``svydesign(id=, strata=, weights=, fpc=)`` does. :func:`resolve_design` checks those columns
against a frame and returns a :class:`ResolvedDesign` of plain arrays, which the estimators
in the interval, test and table modules of :mod:`pipeline.stats` use.

Conventions (all as in R's ``survey`` package, so that numbers agree with it):

* No design (``SurveyDesign()``): every row is its own primary sampling unit (PSU), weight 1,
  one stratum, sampling with replacement.
* ``cluster`` names the PSU; PSUs are nested in strata (the same PSU code in two strata is two
  PSUs).
* ``fpc`` is either the population size of the stratum (number of PSUs in the population,
  any value above 1) or the sampling fraction (all values at most 1); it must be constant
  within a stratum. Without weights, weights are taken as population size / sample size.
* A stratum with a single PSU is an error (R's ``options(survey.lonely.psu = "fail")``),
  unless ``lonely_psu="certainty"``, when it contributes no variance.
* Domains (subgroups) are estimated on the whole design, with rows outside the domain
  contributing zero: the variance of a domain estimate keeps every PSU of the design.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.errors import PulsecheckError

#: Accepted values of :attr:`SurveyDesign.lonely_psu`.
LONELY_PSU_RULES = ("fail", "certainty")


@dataclass(frozen=True)
class SurveyDesign:
    """How the sample was drawn: the names of the design columns, or none.

    Parameters
    ----------
    weights : str, optional
        Column of sampling weights (inverse selection probabilities).
    strata : str, optional
        Column of stratum codes.
    cluster : str, optional
        Column of primary sampling unit (PSU) codes.
    fpc : str, optional
        Column of finite-population corrections: stratum population sizes (in PSUs) or
        sampling fractions.
    lonely_psu : {"fail", "certainty"}
        What to do with a stratum that has a single PSU.

    Notes
    -----
    ``SurveyDesign()`` is a simple random sample, unweighted, with replacement.
    """

    weights: str | None = None
    strata: str | None = None
    cluster: str | None = None
    fpc: str | None = None
    lonely_psu: str = "fail"

    @property
    def is_simple(self) -> bool:
        """True when no design column is given (unweighted simple random sample)."""
        return not any((self.weights, self.strata, self.cluster, self.fpc))

    def columns(self) -> tuple[str, ...]:
        """The design columns that are set."""
        return tuple(c for c in (self.weights, self.strata, self.cluster, self.fpc) if c)

    def describe(self) -> str:
        """A one-line description in the style of R's ``svydesign`` call."""
        if self.is_simple:
            return "simple random sample, unweighted"
        parts = [f"id=~{self.cluster or 1}"]
        if self.strata:
            parts.append(f"strata=~{self.strata}")
        if self.weights:
            parts.append(f"weights=~{self.weights}")
        if self.fpc:
            parts.append(f"fpc=~{self.fpc}")
        return "svydesign(" + ", ".join(parts) + ")"


@dataclass(frozen=True)
class ResolvedDesign:
    """A design resolved against one frame: arrays aligned with the frame's rows.

    Attributes
    ----------
    weights : ndarray
        Sampling weight of each row.
    stratum : ndarray of int
        Stratum index (0..H-1) of each row.
    psu : ndarray of int
        PSU index (0..P-1, unique across strata) of each row.
    psu_stratum : ndarray of int
        Stratum index of each PSU.
    n_psu : ndarray of int
        Number of PSUs in each stratum.
    fpc_fraction : ndarray of float
        Sampling fraction of PSUs in each stratum (0 when no fpc is given).
    stratum_labels : tuple of str
        Stratum codes as found, for messages.
    is_simple : bool
        True for the unweighted simple random sample.
    lonely_psu : str
        The rule for single-PSU strata.
    """

    weights: np.ndarray
    stratum: np.ndarray
    psu: np.ndarray
    psu_stratum: np.ndarray
    n_psu: np.ndarray
    fpc_fraction: np.ndarray
    stratum_labels: tuple[str, ...]
    is_simple: bool
    lonely_psu: str

    @property
    def n_rows(self) -> int:
        """Number of rows of the frame."""
        return int(self.weights.shape[0])


def _require_columns(frame: pd.DataFrame, names: tuple[str, ...]) -> None:
    for name in names:
        if name not in frame.columns:
            present = ", ".join(map(str, frame.columns[:20]))
            raise PulsecheckError("STAT_001", name=name, present=present)


def _sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values, sort=True)`` of integers, by counting when their range is small.

    Design codes (strata, PSUs) are usually small integers: marking the values present in a
    table as long as their range is linear, where factorising with sorting is not.
    """
    values = np.asarray(values)
    if values.size and np.issubdtype(values.dtype, np.integer):
        low, high = int(values.min()), int(values.max())
        if high - low <= 4 * values.size + 1024:
            shifted = values.astype(np.int64) - low
            present = np.bincount(shifted, minlength=high - low + 1) > 0
            position = np.cumsum(present) - 1
            return position[shifted], np.flatnonzero(present) + low
    codes, uniques = pd.factorize(values, sort=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques)


def _codes(series: pd.Series, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    if series.isna().any():
        raise PulsecheckError("STAT_002", name=name, problem="has blank values")
    if pd.api.types.is_integer_dtype(series.dtype):
        codes, uniques = _sorted_codes(series.to_numpy(dtype=np.int64))
        return codes, tuple(str(u) for u in uniques)
    codes, uniques = pd.factorize(series, sort=True)
    return np.asarray(codes, dtype=np.int64), tuple(str(u) for u in uniques)


def resolve_design(frame: pd.DataFrame, design: SurveyDesign) -> ResolvedDesign:
    """Check the design columns of ``frame`` and return the design as arrays.

    Parameters
    ----------
    frame : DataFrame
        The respondents, one row each. Not modified.
    design : SurveyDesign
        The design description.

    Returns
    -------
    ResolvedDesign

    Raises
    ------
    PulsecheckError
        ``STAT_001`` for a missing column, ``STAT_002`` for blank or non-positive weights,
        an fpc that varies within a stratum or is smaller than the sample, ``STAT_003`` for
        a stratum with one PSU (unless ``lonely_psu="certainty"``).

    References
    ----------
    .. [1] Lumley, T. (2004). Analysis of complex survey samples. *Journal of Statistical
       Software* 9(8). (R package ``survey``, function ``svydesign``.)
    """
    if design.lonely_psu not in LONELY_PSU_RULES:
        raise PulsecheckError("STAT_004", what="lonely_psu rule", value=design.lonely_psu,
                              supported=", ".join(LONELY_PSU_RULES))
    _require_columns(frame, design.columns())
    n = len(frame)
    if design.strata:
        stratum, stratum_labels = _codes(frame[design.strata], design.strata)
    else:
        stratum, stratum_labels = np.zeros(n, dtype=np.int64), ("all",)
    if design.cluster:
        cluster, _ = _codes(frame[design.cluster], design.cluster)
        # PSUs are nested within strata: the pair identifies the PSU.
        # One integer per (stratum, cluster) pair, ordered as the sorted pairs, so a single
        # factorisation numbers the PSUs.
        n_clusters = int(cluster.max()) + 1 if n else 1
        pairs = stratum * n_clusters + cluster
        psu, uniques = _sorted_codes(pairs)
        psu_stratum = np.asarray(uniques, dtype=np.int64) // n_clusters
    else:
        psu = np.arange(n, dtype=np.int64)
        psu_stratum = stratum.copy()
    n_strata = len(stratum_labels)
    n_psu = np.bincount(psu_stratum, minlength=n_strata).astype(np.int64)

    fpc_fraction = np.zeros(n_strata)
    if design.fpc:
        raw = pd.to_numeric(frame[design.fpc], errors="coerce").to_numpy(dtype=float)
        if np.isnan(raw).any() or (raw <= 0).any():
            raise PulsecheckError("STAT_002", name=design.fpc,
                                  problem="has blank, non-numeric or non-positive values")
        per_stratum = pd.Series(raw).groupby(stratum).agg(["min", "max"])
        if (per_stratum["min"] != per_stratum["max"]).any():
            raise PulsecheckError("STAT_002", name=design.fpc,
                                  problem="is not constant within a stratum")
        value = per_stratum["min"].reindex(range(n_strata)).to_numpy()
        if (raw <= 1).all():
            fpc_fraction = value
        else:
            if (value < n_psu).any():
                raise PulsecheckError("STAT_002", name=design.fpc,
                                      problem="is smaller than the number of sampled PSUs "
                                              "in a stratum")
            fpc_fraction = n_psu / value

    if design.weights:
        weights = pd.to_numeric(frame[design.weights], errors="coerce").to_numpy(dtype=float)
        if np.isnan(weights).any() or (weights <= 0).any():
            raise PulsecheckError("STAT_002", name=design.weights,
                                  problem="has blank, non-numeric or non-positive values")
    elif design.fpc:
        # As svydesign does: without weights, each PSU represents N_h / n_h PSUs.
        weights = 1.0 / fpc_fraction[stratum]
    else:
        weights = np.ones(n)

    # Without strata or clusters a single respondent is not a design problem: its variance
    # is simply not estimable (zero degrees of freedom), which the intervals report.
    if design.lonely_psu == "fail" and (design.strata or design.cluster):
        lonely = np.flatnonzero(n_psu == 1)
        if lonely.size:
            raise PulsecheckError("STAT_003", stratum=stratum_labels[lonely[0]])

    return ResolvedDesign(
        weights=np.array(weights, dtype=float),
        stratum=stratum,
        psu=psu,
        psu_stratum=psu_stratum,
        n_psu=n_psu,
        fpc_fraction=np.asarray(fpc_fraction, dtype=float),
        stratum_labels=stratum_labels,
        is_simple=design.is_simple,
        lonely_psu=design.lonely_psu,
    )


def total_covariance(resolved: ResolvedDesign, scores: np.ndarray) -> np.ndarray:
    """Design covariance of the totals of ``scores`` (already multiplied by the weights).

    For each stratum :math:`h` with :math:`n_h` PSUs, PSU totals :math:`z_{hi}` of the
    scores are centred on their stratum mean and

    .. math:: V = \\sum_h (1 - f_h) \\frac{n_h}{n_h - 1} \\sum_i (z_{hi} - \\bar z_h)
              (z_{hi} - \\bar z_h)^T

    (with-replacement, ultimate-cluster variance; :math:`f_h` is the sampling fraction).

    Parameters
    ----------
    resolved : ResolvedDesign
    scores : ndarray, shape (n,) or (n, k)
        Weighted linearised scores (influence values) of each row; rows outside a domain
        carry zero.

    Returns
    -------
    ndarray, shape (k, k)

    References
    ----------
    .. [1] Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed., ch. 6.
       Springer.
    .. [2] Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, sec. 2.2 and
       appendix C. Wiley. (R ``survey::svyrecvar``.)
    """
    z = np.asarray(scores, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    n_psu_total = resolved.psu_stratum.shape[0]
    # One pass per column with bincount: the same sums, in the same order, as np.add.at, but
    # tens of times faster on large surveys.
    psu_totals = np.column_stack([np.bincount(resolved.psu, weights=z[:, k],
                                              minlength=n_psu_total)
                                  for k in range(z.shape[1])]) if z.shape[1] else \
        np.zeros((n_psu_total, 0))
    return psu_covariance(resolved, psu_totals)


def _by_psu(resolved: ResolvedDesign, per_stratum: np.ndarray) -> np.ndarray:
    """Rows of ``per_stratum`` (one per stratum) for each PSU; with a single stratum, its
    one row, which broadcasts to every PSU (the same numbers, without a copy per PSU)."""
    if per_stratum.shape[0] == 1:
        return per_stratum
    return per_stratum[resolved.psu_stratum]


def _centred_psu_totals(resolved: ResolvedDesign, psu_totals: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """PSU totals centred on their stratum mean, and each stratum's variance factor
    ``(1 - f) n_h / (n_h - 1)`` (0 for a single-PSU or completely sampled stratum)."""
    psu_totals = np.asarray(psu_totals, dtype=float)
    n_strata = resolved.n_psu.shape[0]
    stratum_sums = np.zeros((n_strata, psu_totals.shape[1]))
    for k in range(psu_totals.shape[1]):
        stratum_sums[:, k] = np.bincount(resolved.psu_stratum, weights=psu_totals[:, k],
                                         minlength=n_strata)
    n_h = resolved.n_psu.astype(float)
    centred = psu_totals - _by_psu(resolved, stratum_sums / n_h[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n_h > 1, (1.0 - resolved.fpc_fraction) * n_h / (n_h - 1.0), 0.0)
    # A stratum sampled completely (f = 1) contributes nothing.
    scale = np.where(resolved.fpc_fraction >= 1.0 - 1e-12, 0.0, scale)
    return centred, scale


def psu_covariance(resolved: ResolvedDesign, psu_totals: np.ndarray, *,
                   blas: bool = True) -> np.ndarray:
    """Design covariance from PSU totals of weighted scores (sufficient statistics).

    Parameters
    ----------
    resolved : ResolvedDesign
    psu_totals : ndarray, shape (P, k)
        Total of each score over the rows of each PSU (PSU index as in ``resolved.psu``).
    blas : bool
        Form the cross-product with BLAS (default) or with numpy's own single-threaded
        loop, which is faster for narrow matrices on a busy machine.

    Returns
    -------
    ndarray, shape (k, k)
        As :func:`total_covariance`, which sums the rows and calls this.
    """
    centred, scale = _centred_psu_totals(resolved, psu_totals)
    weighted = centred * _by_psu(resolved, scale[:, None])
    if not blas:
        # einsum's own loop: a multithreaded BLAS product of a few columns can spend more on
        # waking its threads than on the arithmetic (the sums differ in the last bits).
        return np.einsum("pi,pj->ij", weighted, centred)
    return weighted.T @ centred


def psu_variances(resolved: ResolvedDesign, psu_totals: np.ndarray) -> np.ndarray:
    """Design variances (the diagonal of :func:`psu_covariance`) from PSU totals.

    Parameters
    ----------
    resolved : ResolvedDesign
    psu_totals : ndarray, shape (P, k)
        Total of each score over the rows of each PSU.

    Returns
    -------
    ndarray, shape (k,)
        The variance of the total of each score: the same terms as the diagonal of
        :func:`psu_covariance`, summed without a matrix product (a multithreaded matrix
        product of a few columns costs more in thread wake-ups than it saves).

    References
    ----------
    .. [1] Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed., ch. 6.
       Springer.
    .. [2] Lumley, T. (2010). *Complex Surveys*, appendix C; R ``survey::svyrecvar``. Wiley.
    """
    centred, scale = _centred_psu_totals(resolved, psu_totals)
    return (centred * centred * _by_psu(resolved, scale[:, None])).sum(axis=0)


def design_df(resolved: ResolvedDesign, domain: np.ndarray | None = None) -> int:
    """Design degrees of freedom: PSUs minus strata, counting only those in the domain.

    Parameters
    ----------
    resolved : ResolvedDesign
    domain : ndarray of bool, optional
        Rows of the domain; all rows when omitted.

    Returns
    -------
    int

    References
    ----------
    .. [1] Korn, E. L. and Graubard, B. I. (1999). *Analysis of Health Surveys*, sec. 5.2.
       Wiley. (R ``survey::degf``, which counts the PSUs and strata of a subset design.)
    """
    if domain is None:
        domain = np.ones(resolved.n_rows, dtype=bool)
    domain = np.asarray(domain, dtype=bool)
    # Distinct PSUs and strata by marking those seen (linear) rather than sorting.
    return int(_count_distinct(resolved.psu[domain], resolved.psu_stratum.shape[0])
               - _count_distinct(resolved.stratum[domain], resolved.n_psu.shape[0]))


def _count_distinct(codes: np.ndarray, size: int) -> int:
    """Number of distinct values among ``codes`` (each in ``0..size-1``)."""
    seen = np.zeros(size, dtype=bool)
    seen[codes] = True
    return int(np.count_nonzero(seen))


def ratio_estimate(resolved: ResolvedDesign, y: np.ndarray, domain: np.ndarray, *,
                   variance: bool = True) -> tuple[float, float, np.ndarray]:
    """Weighted domain mean of ``y`` with its linearisation variance.

    Parameters
    ----------
    resolved : ResolvedDesign
    y : ndarray
        Values; only rows in ``domain`` are used (they must not be NaN).
    domain : ndarray of bool
    variance : bool
        Compute the variance (otherwise NaN is returned for it, and the caller forms it
        from the scores).

    Returns
    -------
    estimate : float
    variance : float
    scores : ndarray
        The weighted influence values (zero outside the domain), for covariances.

    References
    ----------
    .. [1] Woodruff, R. S. (1971). A simple method for approximating the variance of a
       complicated estimate. *JASA* 66, 411–414.
    .. [2] Lumley, T. (2010). *Complex Surveys*, sec. 2.4 (``svymean`` on a subset). Wiley.
    """
    domain = np.asarray(domain, dtype=bool)
    w = np.where(domain, resolved.weights, 0.0)
    total_w = w.sum()
    if total_w <= 0:
        return float("nan"), float("nan"), np.zeros(resolved.n_rows)
    y_in = np.where(domain, np.asarray(y, dtype=float), 0.0)
    estimate = float((w * y_in).sum() / total_w)
    scores = w * (y_in - estimate) / total_w
    if not variance:
        return estimate, float("nan"), scores
    return estimate, float(total_covariance(resolved, scores)[0, 0]), scores
