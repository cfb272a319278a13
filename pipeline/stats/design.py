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
* ``cluster`` and ``fpc`` may name one column per sampling stage (``("dnum", "snum")``,
  ``("fpc1", "fpc2")``), as ``svydesign(id=~dnum+snum, fpc=~fpc1+fpc2)``: units of each stage
  are nested in those of the stage before, and with an fpc for every stage the variance is
  R's multistage recursion (``svyrecvar``): the first stage's variance plus, within each
  PSU, the next stage's variance scaled by the first stage's sampling fraction, and so on.
  Without an fpc only the first stage counts (the ultimate-cluster variance), as in R.
  Strata apply to the first stage; an fpc for some stages but not others is refused.
* A stratum with a single PSU follows R's ``options(survey.lonely.psu=)``
  (:data:`LONELY_PSU_RULES`): ``fail`` (an error, ``STAT_003``), ``certainty`` and
  ``remove`` (it contributes no variance), ``adjust`` (its PSU is centred on the grand mean
  instead of its stratum mean), ``average`` (it takes the average variance of the other
  strata). ``adjust_domain_lonely`` is R's ``options(survey.adjust.domain.lonely=)``: a
  domain with a single PSU in a stratum that has more is then treated by the same rule.
* Domains (subgroups) are estimated on the whole design, with rows outside the domain
  contributing zero: the variance of a domain estimate keeps every PSU of the design.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from pipeline.errors import PulsecheckError

#: Accepted values of :attr:`SurveyDesign.lonely_psu` (R's ``survey.lonely.psu``).
LONELY_PSU_RULES = ("fail", "certainty", "remove", "adjust", "average")


def _stage_columns(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(value)


@dataclass(frozen=True)
class SurveyDesign:
    """How the sample was drawn: the names of the design columns, or none.

    Parameters
    ----------
    weights : str, optional
        Column of sampling weights (inverse selection probabilities).
    strata : str, optional
        Column of stratum codes.
    cluster : str or tuple of str, optional
        Column of primary sampling unit (PSU) codes, or one column per sampling stage
        (first stage first; a comma-separated string is split).
    fpc : str or tuple of str, optional
        Column of finite-population corrections, one per stage: stratum population sizes
        (in units of that stage) or sampling fractions.
    lonely_psu : {"fail", "certainty", "remove", "adjust", "average"}
        What to do with a stratum that has a single PSU (R's ``survey.lonely.psu``).
    adjust_domain_lonely : bool
        Apply the rule also to a domain with a single PSU in a stratum (R's
        ``survey.adjust.domain.lonely``).

    Notes
    -----
    ``SurveyDesign()`` is a simple random sample, unweighted, with replacement.
    """

    weights: str | None = None
    strata: str | None = None
    cluster: str | tuple[str, ...] | None = None
    fpc: str | tuple[str, ...] | None = None
    lonely_psu: str = "fail"
    adjust_domain_lonely: bool = False

    @property
    def clusters(self) -> tuple[str, ...]:
        """The cluster column of each stage (empty: every row is a PSU)."""
        return _stage_columns(self.cluster)

    @property
    def fpcs(self) -> tuple[str, ...]:
        """The fpc column of each stage (empty: no finite-population correction)."""
        return _stage_columns(self.fpc)

    @property
    def is_simple(self) -> bool:
        """True when no design column is given (unweighted simple random sample)."""
        return not any((self.weights, self.strata, self.clusters, self.fpcs))

    def columns(self) -> tuple[str, ...]:
        """The design columns that are set."""
        return tuple(c for c in (self.weights, self.strata, *self.clusters, *self.fpcs) if c)

    def describe(self) -> str:
        """A one-line description in the style of R's ``svydesign`` call."""
        if self.is_simple:
            return "simple random sample, unweighted"
        parts = [f"id=~{'+'.join(self.clusters) or 1}"]
        if self.strata:
            parts.append(f"strata=~{self.strata}")
        if self.weights:
            parts.append(f"weights=~{self.weights}")
        if self.fpcs:
            parts.append(f"fpc=~{'+'.join(self.fpcs)}")
        text = "svydesign(" + ", ".join(parts) + ")"
        if self.lonely_psu != "fail" or self.adjust_domain_lonely:
            text += f"; lonely PSU: {self.lonely_psu}"
            if self.adjust_domain_lonely:
                text += " (also in domains)"
        return text


def design_from_settings(settings: object | None) -> SurveyDesign:
    """The :class:`SurveyDesign` of a configuration's ``[settings.design]`` table
    (:class:`pipeline.model.schemas.DesignSettings`); ``SurveyDesign()`` for none."""
    if settings is None:
        return SurveyDesign()
    cluster = tuple(getattr(settings, "cluster", ()) or ())
    fpc = tuple(getattr(settings, "fpc", ()) or ())
    return SurveyDesign(
        weights=getattr(settings, "weights", None), strata=getattr(settings, "strata", None),
        cluster=(cluster[0] if len(cluster) == 1 else cluster) or None,
        fpc=(fpc[0] if len(fpc) == 1 else fpc) or None,
        lonely_psu=getattr(settings, "lonely_psu", "fail"),
        adjust_domain_lonely=bool(getattr(settings, "adjust_domain_lonely", False)))


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
    adjust_domain_lonely : bool
        R's ``survey.adjust.domain.lonely``.
    unit : ndarray of int, optional
        Sampling unit of the last stage (0..U-1) of each row, for multistage designs; the
        PSU otherwise (``None``). Variances are formed from totals per such unit.
    stages : tuple of LaterStage
        The second and later stages of a multistage design with an fpc at every stage
        (empty for a one-stage design or the ultimate-cluster variance).
    score_residuals : callable, optional
        Applied to the weighted scores of every variance :func:`total_covariance` forms
        (rows × estimates in, the same shape out): after calibration, their residuals from
        the calibration (:func:`pipeline.stats.calibrate.calibrated_design`), as R's
        ``svyrecvar`` takes them on a calibrated design. ``None``: the scores as they are.
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
    adjust_domain_lonely: bool = False
    unit: np.ndarray | None = None
    unit_psu: np.ndarray | None = None
    stages: tuple[LaterStage, ...] = ()
    score_residuals: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def n_rows(self) -> int:
        """Number of rows of the frame."""
        return int(self.weights.shape[0])

    @property
    def units(self) -> np.ndarray:
        """The last-stage sampling unit of each row (the PSU for a one-stage design)."""
        return self.psu if self.unit is None else self.unit

    @property
    def n_units(self) -> int:
        """Number of last-stage sampling units (PSUs for a one-stage design)."""
        return int(self.psu_stratum.shape[0]) if self.unit_psu is None else \
            int(self.unit_psu.shape[0])

    @property
    def general(self) -> bool:
        """True when the variance needs R's general recursion rather than the one-stage
        shortcut: later stages, the ``average`` rule, or the domain lonely-PSU option."""
        return bool(self.stages) or self.lonely_psu == "average" or self.adjust_domain_lonely


@dataclass(frozen=True)
class LaterStage:
    """Stage two or later of a multistage design, on the last-stage units.

    Attributes
    ----------
    unit_of : ndarray of int
        The unit of this stage of each last-stage unit.
    stratum_of : ndarray of int
        The stratum of each unit of this stage: the unit of the stage before it belongs
        to (R's ``interaction(strata, ids[, stage - 1])``).
    n_units : ndarray of int
        Units sampled in each stratum.
    f : ndarray of float
        R's finite-population factor ``(N - n) / N`` of each stratum (1 without fpc).
    factor : ndarray of float
        Product of the sampling fractions ``n / N`` of the stratum's ancestors, which
        scales this stage's variance (R's ``nPSUs / fpcs`` in ``multistage``).
    labels : tuple of str
        Each stratum's code, for messages.
    """

    unit_of: np.ndarray
    stratum_of: np.ndarray
    n_units: np.ndarray
    f: np.ndarray
    factor: np.ndarray
    labels: tuple[str, ...]


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
    clusters, fpcs = design.clusters, design.fpcs
    n_stages = max(1, len(clusters))
    if fpcs and len(fpcs) != n_stages:
        raise PulsecheckError(
            "STAT_004", what="design",
            value=f"{len(fpcs)} fpc column(s) for {n_stages} sampling stage(s)",
            supported="one fpc column per cluster stage (as svydesign's fpc=~fpc1+fpc2), "
                      "or no fpc")
    if design.strata and "," in design.strata:
        raise PulsecheckError("STAT_004", what="design", value=f"strata {design.strata}",
                              supported="strata at the first stage only (one column)")
    _require_columns(frame, design.columns())
    n = len(frame)
    if design.strata:
        stratum, stratum_labels = _codes(frame[design.strata], design.strata)
    else:
        stratum, stratum_labels = np.zeros(n, dtype=np.int64), ("all",)
    if clusters:
        cluster, _ = _codes(frame[clusters[0]], clusters[0])
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

    # Units of the later stages, each nested in the unit of the stage before.
    stage_units = [psu]
    for name in clusters[1:]:
        codes, _ = _codes(frame[name], name)
        parent = stage_units[-1]
        width = int(codes.max()) + 1 if n else 1
        unit, _ = _sorted_codes(parent * width + codes)
        stage_units.append(np.asarray(unit, dtype=np.int64))

    raw_fpcs = []
    for name in fpcs:
        raw = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        if np.isnan(raw).any() or (raw <= 0).any():
            raise PulsecheckError("STAT_002", name=name,
                                  problem="has blank, non-numeric or non-positive values")
        raw_fpcs.append(raw)
    # As R's as.fpc: all population sizes (some above 1) or all sampling fractions.
    as_fraction = bool(raw_fpcs) and all((raw <= 1).all() for raw in raw_fpcs)

    def stage_fraction(raw: np.ndarray, name: str, strat: np.ndarray, n_strat: int,
                       sampled: np.ndarray) -> np.ndarray:
        per_stratum = pd.Series(raw).groupby(strat).agg(["min", "max"])
        if (per_stratum["min"] != per_stratum["max"]).any():
            raise PulsecheckError("STAT_002", name=name,
                                  problem="is not constant within a stratum")
        value = per_stratum["min"].reindex(range(n_strat)).to_numpy()
        if as_fraction:
            return value
        if (value < sampled).any():
            raise PulsecheckError("STAT_002", name=name,
                                  problem="is smaller than the number of sampled units "
                                          "in a stratum")
        return sampled / value

    fpc_fraction = np.zeros(n_strata)
    if fpcs:
        fpc_fraction = stage_fraction(raw_fpcs[0], fpcs[0], stratum, n_strata, n_psu)

    # Later stages (only with an fpc at every stage: otherwise R's variance is the
    # ultimate-cluster one and the later stages do not enter it).
    unit_psu = None
    later: list[LaterStage] = []
    row_fraction = fpc_fraction[stratum] if fpcs else None
    if len(clusters) > 1:
        finest = stage_units[-1]
        n_finest = int(finest.max()) + 1 if n else 0
        first_row = np.full(n_finest, -1, dtype=np.int64)
        first_row[finest[::-1]] = np.arange(n)[::-1]
        unit_psu = psu[first_row]
        factor_row = fpc_fraction[stratum] if fpcs else np.ones(n)
        for k in range(1, len(clusters)):
            unit_row = stage_units[k]
            parent_row = stage_units[k - 1]
            n_parent = int(parent_row.max()) + 1 if n else 0
            n_unit = int(unit_row.max()) + 1 if n else 0
            unit_parent = np.zeros(n_unit, dtype=np.int64)
            unit_parent[unit_row] = parent_row
            sampled = np.bincount(unit_parent, minlength=n_parent).astype(np.int64)
            if fpcs:
                fraction = stage_fraction(raw_fpcs[k], fpcs[k], parent_row, n_parent,
                                          sampled)
                row_fraction = row_fraction * fraction[parent_row]
                factor = np.zeros(n_parent)
                factor[parent_row] = factor_row
                factor_row = factor_row * fraction[parent_row]
                later.append(LaterStage(
                    unit_of=unit_row[first_row], stratum_of=unit_parent, n_units=sampled,
                    f=1.0 - fraction, factor=factor,
                    labels=tuple(str(i) for i in range(n_parent))))

    if design.weights:
        weights = pd.to_numeric(frame[design.weights], errors="coerce").to_numpy(dtype=float)
        if np.isnan(weights).any() or (weights <= 0).any():
            raise PulsecheckError("STAT_002", name=design.weights,
                                  problem="has blank, non-numeric or non-positive values")
    elif fpcs:
        # As svydesign does: without weights, each unit represents N / n units at every
        # stage.
        weights = 1.0 / row_fraction
    else:
        weights = np.ones(n)

    # Without strata or clusters a single respondent is not a design problem: its variance
    # is simply not estimable (zero degrees of freedom), which the intervals report.
    # A stratum sampled completely (R: (N - n) / N < 1e-7) contributes no variance and is
    # never lonely.
    if design.lonely_psu == "fail" and (design.strata or clusters):
        lonely = np.flatnonzero((n_psu == 1) & (1.0 - fpc_fraction >= 1e-7))
        if lonely.size:
            raise PulsecheckError("STAT_003", stratum=stratum_labels[lonely[0]], stage=1)
        for number, stage in enumerate(later, start=2):
            lonely = np.flatnonzero((stage.n_units == 1) & (stage.f >= 1e-7))
            if lonely.size:
                raise PulsecheckError("STAT_003", stage=number,
                                      stratum=f"within unit {int(lonely[0]) + 1}")

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
        adjust_domain_lonely=design.adjust_domain_lonely,
        unit=stage_units[-1] if len(clusters) > 1 else None,
        unit_psu=unit_psu,
        stages=tuple(later),
    )


def total_covariance(resolved: ResolvedDesign, scores: np.ndarray,
                     domain: np.ndarray | None = None) -> np.ndarray:
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
    domain : ndarray of bool, optional
        The rows of the domain. Needed only by the ``average`` rule and the domain
        lonely-PSU option, which count the strata and PSUs the domain reaches (as R, which
        drops the other rows of a subset); all rows by default.

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
    if resolved.score_residuals is not None:
        z = resolved.score_residuals(z)
    n_units = resolved.n_units
    units = resolved.units
    # One pass per column with bincount: the same sums, in the same order, as np.add.at, but
    # tens of times faster on large surveys.
    unit_totals = np.column_stack([np.bincount(units, weights=z[:, k], minlength=n_units)
                                   for k in range(z.shape[1])]) if z.shape[1] else \
        np.zeros((n_units, 0))
    return psu_covariance(resolved, unit_totals, present=present_units(resolved, domain))


def present_units(resolved: ResolvedDesign, domain: np.ndarray | None) -> np.ndarray | None:
    """Which last-stage units have rows in ``domain`` (``None``: all of them, or not needed
    because the design's variance does not depend on it)."""
    if domain is None or not resolved.general:
        return None
    return np.bincount(resolved.units[np.asarray(domain, dtype=bool)],
                       minlength=resolved.n_units) > 0


def _to_psu(resolved: ResolvedDesign, unit_totals: np.ndarray) -> np.ndarray:
    """Totals per last-stage unit summed to totals per PSU (the same array for a one-stage
    design)."""
    if resolved.unit_psu is None:
        return unit_totals
    n_psu = resolved.psu_stratum.shape[0]
    return np.column_stack([np.bincount(resolved.unit_psu, weights=unit_totals[:, k],
                                        minlength=n_psu)
                            for k in range(unit_totals.shape[1])]) \
        if unit_totals.shape[1] else np.zeros((n_psu, 0))


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
    means = stratum_sums / n_h[:, None]
    f = 1.0 - resolved.fpc_fraction
    if resolved.lonely_psu == "adjust":
        # R's "adjust": a lonely PSU is centred on the grand mean (zero for scores), its
        # stratum keeps the factor f.
        means = np.where((n_h == 1)[:, None], 0.0, means)
        lonely_scale = f
    else:
        # "certainty" and "remove": the lonely PSU, centred on itself, adds nothing.
        lonely_scale = np.zeros_like(f)
    centred = psu_totals - _by_psu(resolved, means)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n_h > 1, f * n_h / (n_h - 1.0), lonely_scale)
    # A stratum sampled completely contributes nothing (R: (N - n) / N < 1e-7).
    scale = np.where(f < 1e-7, 0.0, scale)
    return centred, scale


def _strata_terms(totals: np.ndarray, present: np.ndarray, stratum_of: np.ndarray,
                  n_units: np.ndarray, f: np.ndarray, rule: str, domain_lonely: bool
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Each stratum's covariance term at one stage, as R's ``onestrat``, and whether it is
    missing (``NA`` in R: the ``average`` rule's lonely strata).

    ``totals`` are the totals of the stage's units (zero for units outside the domain,
    which is R's zero padding of the units a subset lost).
    """
    n_strata = n_units.shape[0]
    k = totals.shape[1]
    n_h = n_units.astype(float)
    n_sub = np.bincount(stratum_of, weights=present.astype(float), minlength=n_strata)
    sums = np.zeros((n_strata, k))
    for j in range(k):
        sums[:, j] = np.bincount(stratum_of, weights=totals[:, j], minlength=n_strata)
    centre = (rule != "adjust") | (n_sub > 1) | ((n_h > 1) & (not domain_lonely))
    means = np.where(centre[:, None], sums / n_h[:, None], 0.0)
    centred = totals - means[stratum_of]
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n_h > 1, f * n_h / (n_h - 1.0), f)
    complete = f < 1e-7
    missing = ~complete & (rule == "average") & \
        ((n_h == 1) | ((n_sub == 1) & (n_h > 1) & domain_lonely))
    scale = np.where(complete | missing, 0.0, scale)
    weighted = centred * scale[stratum_of][:, None]
    terms = np.zeros((n_strata, k, k))
    np.add.at(terms, stratum_of, weighted[:, :, None] * centred[:, None, :])
    return terms, missing


def _general_covariance(resolved: ResolvedDesign, unit_totals: np.ndarray,
                        present: np.ndarray | None) -> np.ndarray:
    """R's ``multistage`` recursion with every lonely-PSU rule.

    The first stage's strata (those the domain reaches) give the first term, scaled by
    (strata reached) / (strata without a missing term) for the ``average`` rule; each later
    stage adds, within every unit of the stage before that the domain reaches, its own
    term times the sampling fractions of the stages above (missing: NaN, as in R).
    """
    z = np.asarray(unit_totals, dtype=float)
    if present is None:
        present = np.ones(z.shape[0], dtype=bool)
    unit_psu = resolved.unit_psu if resolved.unit_psu is not None else \
        np.arange(z.shape[0])
    n_psu = resolved.psu_stratum.shape[0]
    psu_totals = _to_psu(resolved, z)
    psu_present = np.bincount(unit_psu, weights=present.astype(float),
                              minlength=n_psu) > 0
    terms, missing = _strata_terms(psu_totals, psu_present, resolved.psu_stratum,
                                   resolved.n_psu, 1.0 - resolved.fpc_fraction,
                                   resolved.lonely_psu, resolved.adjust_domain_lonely)
    reached = np.bincount(resolved.psu_stratum, weights=psu_present.astype(float),
                          minlength=resolved.n_psu.shape[0]) > 0
    n_reached = int(reached.sum())
    n_ok = int((reached & ~missing).sum())
    if n_reached == 0:
        return np.zeros((z.shape[1], z.shape[1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        total = terms[reached & ~missing].sum(axis=0) * (n_reached / n_ok if n_ok else
                                                         float("nan"))
    for stage in resolved.stages:
        n_stage_units = stage.stratum_of.shape[0]
        stage_totals = np.column_stack([
            np.bincount(stage.unit_of, weights=z[:, j], minlength=n_stage_units)
            for j in range(z.shape[1])]) if z.shape[1] else np.zeros((n_stage_units, 0))
        stage_present = np.bincount(stage.unit_of, weights=present.astype(float),
                                    minlength=n_stage_units) > 0
        terms, missing = _strata_terms(stage_totals, stage_present, stage.stratum_of,
                                       stage.n_units, stage.f, resolved.lonely_psu,
                                       resolved.adjust_domain_lonely)
        reached = np.bincount(stage.stratum_of, weights=stage_present.astype(float),
                              minlength=stage.n_units.shape[0]) > 0
        if (reached & missing).any():
            return np.full_like(total, np.nan)
        total = total + (terms[reached] * stage.factor[reached][:, None, None]).sum(axis=0)
    return total


def psu_covariance(resolved: ResolvedDesign, psu_totals: np.ndarray, *,
                   blas: bool = True, present: np.ndarray | None = None) -> np.ndarray:
    """Design covariance from PSU totals of weighted scores (sufficient statistics).

    Parameters
    ----------
    resolved : ResolvedDesign
    psu_totals : ndarray, shape (P, k)
        Total of each score over the rows of each PSU (PSU index as in ``resolved.psu``);
        for a multistage design, of each last-stage unit (``resolved.units``).
    present : ndarray of bool, optional
        The units a domain reaches (:func:`present_units`); all by default.
    blas : bool
        Form the cross-product with BLAS (default) or with numpy's own single-threaded
        loop, which is faster for narrow matrices on a busy machine.

    Returns
    -------
    ndarray, shape (k, k)
        As :func:`total_covariance`, which sums the rows and calls this.
    """
    if resolved.general:
        return _general_covariance(resolved, psu_totals, present)
    centred, scale = _centred_psu_totals(resolved, _to_psu(resolved, psu_totals))
    weighted = centred * _by_psu(resolved, scale[:, None])
    if not blas:
        # einsum's own loop: a multithreaded BLAS product of a few columns can spend more on
        # waking its threads than on the arithmetic (the sums differ in the last bits).
        return np.einsum("pi,pj->ij", weighted, centred)
    return weighted.T @ centred


def psu_variances(resolved: ResolvedDesign, psu_totals: np.ndarray,
                  present: np.ndarray | None = None) -> np.ndarray:
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
    if resolved.general:
        return np.diagonal(_general_covariance(resolved, psu_totals, present)).copy()
    centred, scale = _centred_psu_totals(resolved, _to_psu(resolved, psu_totals))
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
    return estimate, float(total_covariance(resolved, scores, domain)[0, 0]), scores
