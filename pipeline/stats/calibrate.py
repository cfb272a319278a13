"""Calibration of weights to known population counts: post-stratification, raking, trimming.

Population margins are data: a table with one row per (variable, level) and the number of
population units at that level (:func:`margins_from_frame`). :func:`poststratify` scales the
weights of each level of one variable to its count (R ``postStratify``); :func:`rake`
post-stratifies on each variable in turn until the weighted joint table stops changing
(R ``rake``); :func:`trim_weights` bounds the weights and spreads what was cut over the rest
(R ``trimWeights``). Each returns a :class:`Calibration`, which carries the calibrated
weights, the convergence record and what the variance needs: an estimate's linearised
scores are replaced by their residuals from the calibration (:func:`calibrated_scores`), so
that :func:`calibrated_mean` and :func:`calibrated_total` equal R's ``svymean`` and
``svytotal`` on the calibrated design.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.errors import PulsecheckError
from pipeline.stats.design import ResolvedDesign, design_df, total_covariance
from pipeline.stats.intervals import design_interval
from pipeline.stats.methods import Interval, check_method

#: Columns of a margins table.
MARGIN_COLUMNS = ("variable", "level", "count")
#: Calibration methods.
CALIBRATION_METHODS = ("poststratify", "rake")
#: Rounds of strict trimming before the bounds are declared impossible.
MAX_TRIM_ROUNDS = 1000


@dataclass(frozen=True)
class Margin:
    """The population count of each level of one variable.

    Attributes
    ----------
    variable : str
        The column of the respondents' frame.
    levels : tuple of str
        Level codes as text (``1``, ``1.0`` and ``"1"`` are the same level).
    counts : tuple of float
        Population count of each level (positive).
    """

    variable: str
    levels: tuple[str, ...]
    counts: tuple[float, ...]


@dataclass(frozen=True)
class CalibrationStep:
    """One post-stratification: the level of each row, the weights before and after."""

    codes: np.ndarray
    before: np.ndarray
    after: np.ndarray


@dataclass(frozen=True)
class Calibration:
    """Calibrated weights and how they were reached.

    Attributes
    ----------
    weights : ndarray
        The calibrated (and, if asked, trimmed) weight of each row.
    method : str
        ``poststratify`` or ``rake`` (``+trim`` when trimmed afterwards).
    iterations : int
        Passes over the margins (1 for post-stratification).
    max_change : float
        Largest change of a cell of the weighted joint table in the last pass (0 for
        post-stratification, which reaches its counts in one pass).
    converged : bool
    steps : tuple of CalibrationStep
        The post-stratifications of the last pass, in order (what the variance uses).
    trim_rounds : int
        Rounds of trimming (0 when not trimmed).
    """

    weights: np.ndarray
    method: str
    iterations: int
    max_change: float
    converged: bool
    steps: tuple[CalibrationStep, ...] = field(default=())
    trim_rounds: int = 0

    def record(self) -> dict:
        """A plain summary for a run's record."""
        return {"method": self.method, "iterations": self.iterations,
                "max_change": self.max_change, "converged": self.converged,
                "trim_rounds": self.trim_rounds, "n": int(self.weights.size),
                "weight_total": float(self.weights.sum()),
                "weight_min": float(self.weights.min()) if self.weights.size else None,
                "weight_max": float(self.weights.max()) if self.weights.size else None}


def _key(value: object) -> str | None:
    """Comparable text of a level: 1, 1.0 and "1" are the same level."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if pd.isna(value):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value).strip()


def margins_from_frame(table: pd.DataFrame, *, file: str | None = None) -> tuple[Margin, ...]:
    """Population margins from a table of ``variable``, ``level``, ``count``.

    Parameters
    ----------
    table : DataFrame
        One row per (variable, level); variables in the order they are raked. Not modified.
    file : str, optional
        Name of the file the table came from, for messages.

    Returns
    -------
    tuple of Margin

    Raises
    ------
    PulsecheckError
        ``CALIB_001`` for a missing column, a blank variable or level, a level listed twice
        for one variable, or a population count that is not a positive number.
    """
    missing = [c for c in MARGIN_COLUMNS if c not in table.columns]
    if missing:
        raise PulsecheckError("CALIB_001", file=file,
                              problem=f"has no column '{missing[0]}' (it needs "
                                      f"{', '.join(MARGIN_COLUMNS)})")
    if table.empty:
        raise PulsecheckError("CALIB_001", file=file, problem="has no rows")
    counts = pd.to_numeric(table["count"], errors="coerce").to_numpy(dtype=float)
    order: list[str] = []
    by_variable: dict[str, list[tuple[str, float]]] = {}
    for i, (variable, level) in enumerate(zip(table["variable"], table["level"],
                                              strict=True)):
        row = i + 2  # the header is line 1
        name, key = _key(variable), _key(level)
        if name is None or key is None:
            raise PulsecheckError("CALIB_001", file=file, row=row,
                                  problem="has a blank variable or level")
        if not (math.isfinite(counts[i]) and counts[i] > 0):
            raise PulsecheckError("CALIB_001", file=file, row=row, column="count",
                                  problem=f"has count '{table['count'].iloc[i]}', "
                                          "not a positive number")
        levels = by_variable.setdefault(name, [])
        if name not in order:
            order.append(name)
        if any(k == key for k, _ in levels):
            raise PulsecheckError("CALIB_001", file=file, row=row,
                                  problem=f"lists level '{key}' of '{name}' twice")
        levels.append((key, float(counts[i])))
    return tuple(Margin(variable=v, levels=tuple(k for k, _ in by_variable[v]),
                        counts=tuple(c for _, c in by_variable[v])) for v in order)


def _margin_codes(frame: pd.DataFrame, margin: Margin) -> np.ndarray:
    """Index of each row's level in ``margin.levels``; every problem is a catalogue error."""
    if margin.variable not in frame.columns:
        present = ", ".join(map(str, frame.columns[:20]))
        raise PulsecheckError("STAT_001", name=margin.variable, present=present)
    keys = [_key(v) for v in frame[margin.variable].tolist()]
    blank = [i for i, k in enumerate(keys) if k is None]
    if blank:
        raise PulsecheckError("CALIB_004", variable=margin.variable, count=len(blank),
                              row_number=blank[0] + 1)
    lookup = {k: i for i, k in enumerate(margin.levels)}
    unknown = sorted({k for k in keys if k not in lookup})
    if unknown:
        raise PulsecheckError("CALIB_002", variable=margin.variable, level=unknown[0],
                              where="the sample", other="the population margins")
    codes = np.asarray([lookup[k] for k in keys], dtype=np.int64)
    seen = np.bincount(codes, minlength=len(margin.levels))
    absent = [margin.levels[i] for i in np.flatnonzero(seen == 0)]
    if absent:
        raise PulsecheckError("CALIB_002", variable=margin.variable, level=absent[0],
                              where="the population margins", other="the sample")
    return codes


def _poststratify_step(weights: np.ndarray, codes: np.ndarray,
                       margin: Margin) -> CalibrationStep:
    totals = np.bincount(codes, weights=weights, minlength=len(margin.levels))
    factor = np.asarray(margin.counts) / totals
    return CalibrationStep(codes=codes, before=weights, after=weights * factor[codes])


def _check_weights(weights: np.ndarray, n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,) or np.isnan(w).any() or (w <= 0).any():
        raise PulsecheckError("STAT_008", name="weights", value="given",
                              expected=f"{n} positive weights, one per row")
    return w


def poststratify(frame: pd.DataFrame, weights: np.ndarray, margin: Margin) -> Calibration:
    """Post-stratify the weights to the population count of each level of one variable.

    Parameters
    ----------
    frame : DataFrame
        The respondents (the margin's variable is read). Not modified.
    weights : ndarray
        Weights before calibration (sampling weights, or ones).
    margin : Margin

    Returns
    -------
    Calibration
        Each weight multiplied by :math:`N_c / \\hat N_c`, the population count of its
        level over the level's weighted sample count.

    Raises
    ------
    PulsecheckError
        ``CALIB_002`` naming a level found in the sample but not in the margins or the
        reverse (as R's ``postStratify`` refuses both by default); ``CALIB_004`` for blank
        values of the variable; ``STAT_001`` for a missing column.

    References
    ----------
    .. [1] Holt, D. and Smith, T. M. F. (1979). Post stratification. *JRSS A* 142, 33–46.
    .. [2] Lumley, T. (2010). *Complex Surveys*, sec. 7.3; R ``survey::postStratify``.
       Wiley.
    """
    w = _check_weights(weights, len(frame))
    step = _poststratify_step(w, _margin_codes(frame, margin), margin)
    return Calibration(weights=step.after, method="poststratify", iterations=1,
                       max_change=0.0, converged=True, steps=(step,))


def _joint_codes(codes: Sequence[np.ndarray], sizes: Sequence[int]) -> np.ndarray:
    joint = np.zeros(codes[0].shape, dtype=np.int64)
    for c, size in zip(codes, sizes, strict=True):
        joint = joint * size + c
    return joint


def rake(frame: pd.DataFrame, weights: np.ndarray, margins: Sequence[Margin], *,
         max_iterations: int = 10, epsilon: float = 1.0) -> Calibration:
    """Rake the weights to several margins (iterative proportional fitting).

    Parameters
    ----------
    frame : DataFrame
        Not modified.
    weights : ndarray
        Weights before calibration.
    margins : sequence of Margin
        Post-stratified on in this order, pass after pass.
    max_iterations : int
        Passes allowed (R's ``maxit``, default 10).
    epsilon : float
        Convergence when no cell of the weighted joint table of the margin variables changes
        by ``epsilon`` or more in a pass; below 1 it is a fraction of the total weight
        before raking (R's ``control$epsilon``).

    Returns
    -------
    Calibration
        ``iterations`` passes, the ``max_change`` of the last one.

    Raises
    ------
    PulsecheckError
        ``CALIB_003`` when the table still changes after ``max_iterations`` passes (R only
        warns); the errors of :func:`poststratify` for each margin; ``STAT_008`` for a bad
        ``max_iterations`` or ``epsilon``.

    References
    ----------
    .. [1] Deming, W. E. and Stephan, F. F. (1940). On a least squares adjustment of a
       sampled frequency table when the expected marginal totals are known. *Annals of
       Mathematical Statistics* 11, 427–444.
    .. [2] Lumley, T. (2010). *Complex Surveys*, sec. 7.4; R ``survey::rake``. Wiley.
    """
    if not margins:
        raise PulsecheckError("CALIB_001", problem="has no margins to rake to")
    if not (isinstance(max_iterations, int) and max_iterations >= 1):
        raise PulsecheckError("STAT_008", name="max_iterations", value=max_iterations,
                              expected="a whole number of at least 1")
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise PulsecheckError("STAT_008", name="epsilon", value=epsilon,
                              expected="a positive number")
    names = [m.variable for m in margins]
    if len(set(names)) != len(names):
        raise PulsecheckError("CALIB_001", problem="gives margins of one variable twice")
    w = _check_weights(weights, len(frame))
    codes = [_margin_codes(frame, m) for m in margins]
    tolerance = epsilon * w.sum() if epsilon < 1 else epsilon
    joint = _joint_codes(codes, [len(m.levels) for m in margins])
    cells = int(np.prod([len(m.levels) for m in margins]))

    def table(current: np.ndarray) -> np.ndarray:
        return np.bincount(joint, weights=current, minlength=cells)

    old = table(w)
    change = float("inf")
    steps: tuple[CalibrationStep, ...] = ()
    for iteration in range(1, max_iterations + 1):
        steps = ()
        for c, m in zip(codes, margins, strict=True):
            step = _poststratify_step(w, c, m)
            steps = (*steps, step)
            w = step.after
        new = table(w)
        change = float(np.abs(old - new).max())
        if change < tolerance:
            return Calibration(weights=w, method="rake", iterations=iteration,
                               max_change=change, converged=True, steps=steps)
        old = new
    raise PulsecheckError("CALIB_003", iterations=max_iterations, change=f"{change:.6g}",
                          epsilon=f"{tolerance:.6g}")


def trim_weights(calibration: Calibration, *, lower: float = -math.inf,
                 upper: float = math.inf, strict: bool = False) -> Calibration:
    """Bound the weights to ``[lower, upper]``, sharing what is cut among the others.

    Parameters
    ----------
    calibration : Calibration
        Weights to trim (from :func:`poststratify` or :func:`rake`, or
        :func:`uncalibrated`).
    lower, upper : float
        Bounds. Weights outside are set to the bound; the total cut (or added) is spread
        equally over the weights inside, so the total weight is kept.
    strict : bool
        Repeat until no weight is outside the bounds (the spreading can push weights past
        a bound again), as R's ``strict=TRUE``.

    Returns
    -------
    Calibration
        The same record with the trimmed weights and ``trim_rounds``. The calibration steps
        are kept for the variance, as R keeps them (the trimmed design's residuals are
        still taken from the calibration).

    Raises
    ------
    PulsecheckError
        ``CALIB_005`` when the bounds cannot hold: ``lower > upper``, the mean weight
        outside them, or strict trimming that does not settle.

    References
    ----------
    .. [1] Potter, F. J. (1990). A study of procedures to identify and trim extreme sampling
       weights. *Proceedings of the Survey Research Methods Section, ASA*, 225–230.
    .. [2] Lumley, T.; R ``survey::trimWeights``.
    """
    w = np.asarray(calibration.weights, dtype=float)
    mean = float(w.mean()) if w.size else 0.0
    if not lower <= upper or not (lower <= mean <= upper):
        raise PulsecheckError("CALIB_005", lower=lower, upper=upper,
                              problem=f"the mean weight is {mean:.6g}"
                              if lower <= upper else "lower is above upper")
    rounds = 0
    while True:
        outside = (w < lower) | (w > upper)
        if not outside.any():
            break
        if outside.all():
            raise PulsecheckError("CALIB_005", lower=lower, upper=upper,
                                  problem="every weight is outside them")
        rounds += 1
        if rounds > MAX_TRIM_ROUNDS:
            raise PulsecheckError("CALIB_005", lower=lower, upper=upper,
                                  problem=f"strict trimming did not settle in "
                                          f"{MAX_TRIM_ROUNDS} rounds")
        clipped = np.clip(w, lower, upper)
        cut = float((w - clipped).sum())
        clipped[~outside] += cut / int((~outside).sum())
        w = clipped
        if not strict:
            break
    if rounds == 0 or calibration.method.endswith("trim"):
        method = calibration.method
    else:
        method = "trim" if calibration.method == "none" else f"{calibration.method}+trim"
    return Calibration(weights=w, method=method, iterations=calibration.iterations,
                       max_change=calibration.max_change, converged=calibration.converged,
                       steps=calibration.steps, trim_rounds=calibration.trim_rounds + rounds)


def uncalibrated(weights: np.ndarray) -> Calibration:
    """The weights as they are, as a :class:`Calibration` with no steps (to trim them)."""
    w = np.asarray(weights, dtype=float)
    return Calibration(weights=w, method="none", iterations=0, max_change=0.0,
                       converged=True)


# --------------------------------------------------------------------------------------------
# variance after calibration

#: Passes of the back-fitting that gives the residuals of a raked design (as R).
RAKE_RESIDUAL_PASSES = 10


def calibrated_scores(scores: np.ndarray, calibration: Calibration) -> np.ndarray:
    """Residuals of weighted linearised scores from the calibration, as R's ``svyrecvar``.

    Parameters
    ----------
    scores : ndarray, shape (n,) or (n, k)
        Scores already multiplied by the calibrated weights.
    calibration : Calibration

    Returns
    -------
    ndarray, shape (n, k)
        Post-stratification: each score less its level's mean (per unit weight, averaged
        with the weights before calibration) times the row's weight. Raking: ten passes of
        removing, margin by margin, each level's unweighted mean of score per unit weight,
        with the weights of that margin's last post-stratification.

    References
    ----------
    .. [1] Särndal, C.-E., Swensson, B. and Wretman, J. (1992). *Model Assisted Survey
       Sampling*, sec. 7.6. Springer.
    .. [2] Lumley, T. (2010). *Complex Surveys*, sec. 7.3–7.4; R ``survey::svyrecvar``.
       Wiley.
    """
    x = np.asarray(scores, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    x = x.copy()
    steps = calibration.steps
    if not steps:
        return x
    if calibration.method.startswith("poststratify"):
        step = steps[0]
        size = int(step.codes.max()) + 1
        psw, old = step.after, step.before
        sums = np.column_stack([np.bincount(step.codes, weights=x[:, j] * old / psw,
                                            minlength=size) for j in range(x.shape[1])])
        means = sums / np.bincount(step.codes, weights=old, minlength=size)[:, None]
        return x - means[step.codes] * psw[:, None]
    for _ in range(RAKE_RESIDUAL_PASSES):
        for step in steps:
            size = int(step.codes.max()) + 1
            psw = step.after
            counts = np.bincount(step.codes, minlength=size).astype(float)
            sums = np.column_stack([np.bincount(step.codes, weights=x[:, j] / psw,
                                                minlength=size) for j in range(x.shape[1])])
            x = x - psw[:, None] * (sums / counts[:, None])[step.codes]
    return x


def calibrated_design(resolved: ResolvedDesign, calibration: Calibration) -> ResolvedDesign:
    """The design with the calibrated weights, whose variances are those after calibration.

    Parameters
    ----------
    resolved : ResolvedDesign
        The sampling design (strata, PSUs, fpc); its weights are replaced.
    calibration : Calibration
        Weights of the same rows.

    Returns
    -------
    ResolvedDesign
        Every variance formed through :func:`pipeline.stats.design.total_covariance` (the
        report tables' cells, their tests, pairwise comparisons and means) is then that of
        the calibration residuals of the scores (:func:`calibrated_scores`), as R's
        ``svymean``, ``svyciprop`` and ``svychisq`` compute it on a ``rake``'d or
        ``postStratify``'d design; without calibration steps (trimming alone) the scores are
        used as they are, as R does.

    Raises
    ------
    PulsecheckError
        ``STAT_008`` when the calibration has other than one weight per row.

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys*, sec. 7.3-7.4; R ``survey::svyrecvar``.
       Wiley.
    """
    weights = np.asarray(calibration.weights, dtype=float)
    if weights.shape != (resolved.n_rows,):
        raise PulsecheckError("STAT_008", name="calibration", value=f"{weights.size} weights",
                              expected=f"one weight per row of the design ({resolved.n_rows})")

    def residuals(scores: np.ndarray) -> np.ndarray:
        return calibrated_scores(scores, calibration)

    return replace(resolved, weights=weights, is_simple=False,
                   score_residuals=residuals if calibration.steps else None)


def _domain(domain: np.ndarray | None, n: int) -> np.ndarray:
    rows = np.ones(n, dtype=bool) if domain is None else np.asarray(domain, dtype=bool)
    if rows.shape != (n,):
        raise PulsecheckError("STAT_008", name="domain", value=f"{rows.shape[0]} rows",
                              expected=f"one flag per row of the design ({n})")
    return rows


def calibrated_mean(y: np.ndarray, resolved: ResolvedDesign, calibration: Calibration,
                    domain: np.ndarray | None = None) -> tuple[float, float, int]:
    """Weighted mean of ``y`` in a domain of a calibrated design, with its variance.

    Parameters
    ----------
    y : ndarray
        Values (a 0/1 indicator gives a proportion); rows of the domain must not be NaN.
    resolved : ResolvedDesign
        The design (strata, PSUs, fpc); its weights are replaced by the calibrated ones.
    calibration : Calibration
    domain : ndarray of bool, optional

    Returns
    -------
    estimate : float
    variance : float
        The linearisation variance of the calibration residuals of the scores (R's
        ``svymean`` on the calibrated design, ``svyby`` for a domain).
    df : int
        Design degrees of freedom of the domain.
    """
    rows = _domain(domain, resolved.n_rows)
    w = np.where(rows, calibration.weights, 0.0)
    total = w.sum()
    if total <= 0:
        return float("nan"), float("nan"), 0
    values = np.where(rows, np.asarray(y, dtype=float), 0.0)
    if np.isnan(values).any():
        raise PulsecheckError("STAT_008", name="y", value="blank in the domain",
                              expected="a value for every row of the domain")
    estimate = float((w * values).sum() / total)
    scores = calibrated_scores(w * (values - estimate) / total, calibration)
    variance = float(total_covariance(resolved, scores)[0, 0])
    return estimate, variance, design_df(resolved, rows)


def calibrated_total(y: np.ndarray, resolved: ResolvedDesign, calibration: Calibration,
                     domain: np.ndarray | None = None) -> tuple[float, float]:
    """Weighted total of ``y`` in a domain of a calibrated design, with its variance.

    Parameters
    ----------
    y : ndarray
    resolved : ResolvedDesign
    calibration : Calibration
    domain : ndarray of bool, optional

    Returns
    -------
    estimate, variance : float
        As R's ``svytotal`` on the calibrated design.
    """
    rows = _domain(domain, resolved.n_rows)
    w = np.where(rows, calibration.weights, 0.0)
    values = np.where(rows, np.asarray(y, dtype=float), 0.0)
    if np.isnan(values).any():
        raise PulsecheckError("STAT_008", name="y", value="blank in the domain",
                              expected="a value for every row of the domain")
    scores = calibrated_scores(w * values, calibration)
    return float((w * values).sum()), float(total_covariance(resolved, scores)[0, 0])


#: Interval methods for a proportion after calibration (R ``svyciprop`` on the calibrated
#: design); the profile likelihood is not offered.
CALIBRATED_CI_METHODS = ("logit", "asin", "beta", "mean", "xlogit")


def calibrated_proportion(y: np.ndarray, resolved: ResolvedDesign, calibration: Calibration,
                          *, method: str, level: float = 0.95,
                          domain: np.ndarray | None = None) -> Interval:
    """A proportion in a domain of a calibrated design with its interval (R ``svyciprop``).

    Parameters
    ----------
    y : ndarray of 0/1
    resolved : ResolvedDesign
    calibration : Calibration
    method : {"logit", "asin", "beta", "mean", "xlogit"}
        As :func:`pipeline.stats.intervals.design_interval`, with the variance after
        calibration (:func:`calibrated_mean`); for an intercept-only model R's ``logit``
        interval is the same Wald interval on the log-odds.
    level : float
    domain : ndarray of bool, optional

    Returns
    -------
    Interval

    Notes
    -----
    R keeps every row in a domain of a calibrated design (rows outside it get zero weight),
    so the ``beta`` interval's :math:`t_{n-1}` uses all rows there; after trimming alone the
    design is not calibrated and a domain's rows are its own, as here.
    """
    check_method(method, CALIBRATED_CI_METHODS, "calibrated-design interval method")
    rows = _domain(domain, resolved.n_rows)
    estimate, variance, df = calibrated_mean(y, resolved, calibration, rows)
    n = resolved.n_rows if calibration.steps else int(rows.sum())
    interval = design_interval(estimate, variance, n=n, df=df, method=method, level=level)
    return replace(interval, n=int(rows.sum()))
