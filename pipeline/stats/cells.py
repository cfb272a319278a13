"""The machinery of the report tables: levels and codes, counts, cells with intervals, tests.

:mod:`pipeline.stats.tabulate` builds each kind of table (single-choice, check-all, numeric)
from these pieces. All are pure functions of arrays and frames, which they never modify.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.errors import PulsecheckError
from pipeline.stats.calibrate import calibrated_design
from pipeline.stats.comparisons import (
    column_letter,
    column_letters,
    column_proportion_tests,
    design_column_proportion_tests,
)
from pipeline.stats.contingency import (
    cochran_armitage,
    design_chisq,
    likelihood_ratio_chisq,
    pearson_chisq,
)
from pipeline.stats.design import (
    ResolvedDesign,
    SurveyDesign,
    design_df,
    psu_variances,
    ratio_estimate,
    resolve_design,
    total_covariance,
)
from pipeline.stats.fisher import fisher_exact
from pipeline.stats.intervals import (
    binomial_interval,
    binomial_intervals,
    design_interval,
    proportion_interval,
)
from pipeline.stats.methods import BINOMIAL_METHODS, CI_METHODS, Interval, TestResult, check_method
from pipeline.stats.replicate import (
    REPLICATE_CI_METHODS,
    ReplicateConversion,
    ReplicateDesign,
    ResolvedReplicates,
    replicate_chisq,
    replicate_df,
    replicate_interval,
    replicate_sums,
    replicate_variance,
    resolve_replicate_design,
)

#: Label of the overall column.
ALL = "All"

TIDY_COLUMNS = (
    "table_id", "table_type", "row_var", "row_level", "row_label", "row_type",
    "col_var", "col_level", "col_label", "col_letter", "n", "base_n", "n_weighted",
    "base_weighted", "pct", "se", "ci_low", "ci_high", "ci_method", "pct_of_mentions",
    "sig_letters", "warnings",
)

TEST_COLUMNS = ("table_id", "row_var", "row_level", "col_var", "test", "method", "statistic",
                "df", "ddf", "p_value", "warnings")

NUMERIC_COLUMNS = ("table_id", "table_type", "row_var", "col_var", "col_level", "col_label",
                   "n", "n_missing", "stat", "value", "se", "ci_low", "ci_high", "ci_method",
                   "warnings")

#: Tests a table can ask for.
TABLE_TESTS = ("pearson", "pearson_yates", "lr", "fisher", "rao_scott_f", "rao_scott_chisq",
               "wald", "adj_wald", "trend")

MISSING_RULES = ("exclude", "show")

#: What a table's ``design`` may be: a linearisation design, replicate-weight columns, a
#: linearisation design converted to replicate weights, or replicate weights already made
#: for the frame's rows (:func:`pipeline.stats.replicate.resolve_replicate_design`).
AnyDesign = SurveyDesign | ReplicateDesign | ReplicateConversion | ResolvedReplicates
#: A design resolved against the table's frame.
Resolved = ResolvedDesign | ResolvedReplicates


def resolve_any(frame: pd.DataFrame, design: AnyDesign, calibration: Any = None) -> Resolved:
    """The table's design as arrays: linearisation (optionally after calibration, whose
    variance it then gives) or replicate weights.

    Raises
    ------
    PulsecheckError
        The design's own errors (``STAT_001``-``STAT_004``, ``REP_001``-``REP_005``);
        ``STAT_008`` for a calibration given with a replicate design (calibrate the
        replicate weights before, as their columns).
    """
    if isinstance(design, ResolvedReplicates):
        # Replicate weights made once (a conversion is the costly part) serve many tables.
        if design.n_rows != len(frame):
            raise PulsecheckError("STAT_008", name="design", value=f"{design.n_rows} rows",
                                  expected=f"replicate weights for the {len(frame)} rows of "
                                           "the table's frame")
        return design
    if isinstance(design, (ReplicateDesign, ReplicateConversion)):
        if calibration is not None:
            raise PulsecheckError("STAT_008", name="calibration", value="given",
                                  expected="no calibration with replicate weights (their "
                                           "columns carry any calibration)")
        return resolve_replicate_design(frame, design)
    resolved = resolve_design(frame, design)
    if calibration is None:
        return resolved
    return calibrated_design(resolved, calibration)


@dataclass(frozen=True)
class TableResult:
    """A tabulation: the tidy table, its tests and pairwise comparisons.

    Attributes
    ----------
    table : DataFrame
        Columns :data:`TIDY_COLUMNS` (or :data:`NUMERIC_COLUMNS` for numeric summaries).
    tests : DataFrame
        Columns :data:`TEST_COLUMNS`.
    pairwise : DataFrame
        Pairwise column comparisons (:data:`pipeline.stats.comparisons.PAIRWISE_COLUMNS` plus
        ``row_level``); empty when not asked for.
    warnings : tuple of str
        Table-level warnings (also repeated in the rows they concern).
    """

    table: pd.DataFrame
    tests: pd.DataFrame
    pairwise: pd.DataFrame
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# helpers

def level_key(value: Any) -> str | None:
    """Comparable text of a code: 1, 1.0 and "1" are the same level."""
    if value is None:
        return None
    if isinstance(value, float):
        if np.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    if isinstance(value, (np.integer,)):
        return str(int(value))
    if isinstance(value, np.floating):
        return level_key(float(value))
    return str(value)


def require(frame: pd.DataFrame, *names: str | None) -> None:
    for name in names:
        if name is not None and name not in frame.columns:
            present = ", ".join(map(str, frame.columns[:20]))
            raise PulsecheckError("STAT_001", name=name, present=present)


def level_codes(series: pd.Series, levels: Sequence[Any], name: str) -> np.ndarray:
    """Index of each value in ``levels`` (-1 for missing); unknown values are an error."""
    lookup = {level_key(level): i for i, level in enumerate(levels)}
    if len(lookup) != len(levels):
        raise PulsecheckError("STAT_008", name=f"levels of {name}", value=list(levels),
                              expected="distinct levels")
    # Survey answers take few distinct values: key each distinct value once, not each row.
    values = series
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "python":
        # Text held as Python strings: numbering the strings themselves is the same and
        # quicker than numbering them through the text column.
        values = series.to_numpy(dtype=object)
    positions, uniques = pd.factorize(values, use_na_sentinel=True)
    keys = [level_key(v) if not pd.isna(v) else None for v in uniques]
    unknown = sorted({k for k in keys if k is not None and k not in lookup})
    if unknown:
        raise PulsecheckError("STAT_006", name=name, values=", ".join(unknown[:10]),
                              levels=", ".join(level_key(v) or "" for v in levels))
    # The trailing -1 is what a missing value's position (-1) picks.
    mapping = np.asarray([lookup[k] if k is not None else -1 for k in keys] + [-1],
                         dtype=np.int64)
    return mapping[np.asarray(positions, dtype=np.int64)]


def numbers(series: pd.Series) -> np.ndarray:
    """The values as floats: NaN for blanks and for values that are not numbers."""
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)


def stable_order(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")`` of values without NaN, sorting whole numbers
    in a narrow range as 16-bit keys (a radix sort, same order) rather than as floats."""
    if values.size and np.isfinite(values).all():
        lowest = values.min()
        keys = values - lowest
        if keys.max() < 2 ** 16 and (keys == np.floor(keys)).all():
            return np.argsort(keys.astype(np.uint16), kind="stable")
    return np.argsort(values, kind="stable")


def level_labels(levels: Sequence[Any], labels: Sequence[str] | Mapping[Any, str] | None,
            name: str) -> list[str]:
    if labels is None:
        return [str(level_key(level)) for level in levels]
    if isinstance(labels, Mapping):
        by_key = {level_key(k): v for k, v in labels.items()}
        return [str(by_key.get(level_key(level), level_key(level))) for level in levels]
    if len(labels) != len(levels):
        raise PulsecheckError("STAT_008", name=f"labels of {name}", value=len(labels),
                              expected=f"{len(levels)} labels, one per level")
    return [str(label) for label in labels]


def check_choice(value: str, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise PulsecheckError("STAT_004", what=what, value=value, supported=", ".join(allowed))


def column_spec(frame: pd.DataFrame, col: str | None, col_levels: Sequence[Any] | None,
             col_labels: Any) -> tuple[np.ndarray, list[tuple[str, str, str, np.ndarray]]]:
    """Column codes and the list of (level, label, letter, mask), All first."""
    n = len(frame)
    everyone = np.ones(n, dtype=bool)
    columns = [(ALL, ALL, "", everyone)]
    if col is None:
        return np.zeros(n, dtype=np.int64), columns
    if col_levels is None:
        raise PulsecheckError("STAT_008", name="col_levels", value=None,
                              expected="the ordered levels of the column variable")
    codes = level_codes(frame[col], col_levels, col)
    names = level_labels(col_levels, col_labels, col)
    for j, level in enumerate(col_levels):
        columns.append((str(level_key(level)), names[j], column_letter(j), codes == j))
    return codes, columns


def cross_counts(row_codes: np.ndarray, col_codes: np.ndarray, shape: tuple[int, int],
                  weights: np.ndarray | None = None) -> np.ndarray:
    """Counts (or weight totals) of each (row, column) pair: one bincount, not a loop."""
    cells = row_codes * shape[1] + col_codes
    return np.bincount(cells, weights=weights, minlength=shape[0] * shape[1]) \
        .astype(float).reshape(shape)


def tally(row_codes: np.ndarray, col_codes: np.ndarray,
           shape: tuple[int, int]) -> np.ndarray:
    """Unweighted counts (int) of each (row, column) pair of codes within ``shape``."""
    cells = row_codes * shape[1] + col_codes
    return np.bincount(cells, minlength=shape[0] * shape[1]).reshape(shape)


def groups(col_codes: np.ndarray, n_col: int) -> np.ndarray:
    """Banner group of each respondent: its column level, or ``n_col`` for none."""
    return np.where(col_codes >= 0, col_codes, n_col)


def column_counts(by_group: np.ndarray, j: int) -> np.ndarray:
    """Counts of column ``j`` of a table (0 = All) from counts by banner group (last axis:
    the column levels, then respondents outside every level)."""
    return by_group.sum(axis=-1) if j == 0 else by_group[..., j - 1]


def empty_tests() -> pd.DataFrame:
    return pd.DataFrame(columns=list(TEST_COLUMNS))


def no_respondents(method: str, level: float) -> Interval:
    return Interval(estimate=float("nan"), low=float("nan"), high=float("nan"),
                          method=method, level=level, n=0,
                          warnings=("no respondents in this column",))


def cell_interval(y: np.ndarray, domain: np.ndarray, resolved: ResolvedDesign, method: str,
              level: float) -> Interval:
    if not domain.any():
        return no_respondents(method, level)
    return proportion_interval(y, domain, resolved, method=method, level=level)


def cell_of(count: int, base_n: int, n_weighted: float, base_weighted: float,
             interval: Interval) -> dict[str, Any]:
    """One cell of the tidy table from its counts and interval."""
    return {
        "n": count,
        "base_n": base_n,
        "n_weighted": n_weighted,
        "base_weighted": base_weighted,
        "pct": 100.0 * interval.estimate,
        "se": 100.0 * interval.se,
        "ci_low": 100.0 * interval.low,
        "ci_high": 100.0 * interval.high,
        "ci_method": interval.method,
        "warnings": "; ".join(interval.warnings),
    }


def counted_cells(resolved: ResolvedDesign, method: str) -> bool:
    """True when every cell follows from unweighted counts alone: a binomial interval on an
    unweighted simple random sample (weights of one, so weighted sums are the counts)."""
    return resolved.is_simple and method in BINOMIAL_METHODS


def cells_from_counts(counts: np.ndarray, base_n: int, method: str,
                       level: float) -> list[dict[str, Any]]:
    """The cells of one column from unweighted counts, with binomial intervals.

    Parameters
    ----------
    counts : ndarray of int
        Respondents of the column in each shown row.
    base_n : int
        Respondents of the column (the base of every cell).
    method : str
        One of :data:`pipeline.stats.methods.BINOMIAL_METHODS`.
    level : float

    Returns
    -------
    list of dict
        What :func:`column_cells` gives for an unweighted simple random sample, where the
        weighted sums (of weights of one) are the counts exactly.
    """
    if base_n == 0:
        empty = cell_of(0, 0, 0.0, 0.0, no_respondents(method, level))
        return [dict(empty) for _ in range(len(counts))]
    check_method(method, CI_METHODS, "interval method")
    intervals = binomial_intervals([int(count) for count in counts], base_n,
                                         method=method, level=level)
    return [cell_of(int(count), base_n, float(count), float(base_n), interval)
            for count, interval in zip(counts, intervals, strict=True)]


#: Columns added to a tidy table when design effects are asked for.
DEFF_COLUMNS = ("deff", "n_effective")


def cell_deff(estimate: float, variance: float, n: int, base_weighted: float
              ) -> tuple[float, float]:
    """Design effect and effective n of a proportion in a domain, as R's
    ``svymean(deff = TRUE)``: the variance over ``s^2 (N - n) / (N n)``, where ``s^2`` is the
    weighted variance of the 0/1 values with the ``n / (n - 1)`` factor
    (p (1 - p) n / (n - 1)) and ``N`` the domain's total weight; NaN where
    that is not positive (0% or 100%, one respondent, weights totalling less than n)."""
    if n < 2 or not (base_weighted > n) or not (0.0 < estimate < 1.0):
        return float("nan"), float("nan")
    vsrs = estimate * (1 - estimate) * n / (n - 1) * (base_weighted - n) / (base_weighted * n)
    deff = variance / vsrs
    return deff, (n / deff if deff > 0 else float("nan"))


def column_cells(domain: np.ndarray, resolved: ResolvedDesign, method: str, level: float,
                  *, codes: np.ndarray | None = None, indicators: np.ndarray | None = None,
                  n_shown: int, deff: bool = False) -> list[dict[str, Any]]:
    """The cells of one column (``domain``) for every shown row at once.

    The shown rows are either mutually exclusive (``codes``: the shown row of each
    respondent, any value for rows outside ``domain``) or overlapping 0/1 ``indicators``
    (one column per shown row, as check-all items and nets). Counts, weighted sums and,
    for a design-based interval, the PSU totals of every cell's linearisation scores come
    from a few ``bincount`` passes over the column's respondents instead of several passes
    over all rows per cell; each cell's interval is then computed from these sums exactly
    as :func:`pipeline.stats.intervals.proportion_interval` computes it from the rows.

    Returns
    -------
    list of dict
        One ``_cell``-style dict per shown row, in order, with the domain's design df
        (``df``; 0 for binomial intervals).
    """
    # Row numbers of the column's respondents, found once and shared by every gather below.
    rows = np.flatnonzero(domain)
    base_n = int(rows.size)
    if base_n == 0:
        empty = cell_interval(np.zeros(0), domain, resolved, method, level)
        cell = {"n": 0, "base_n": 0, "n_weighted": 0.0, "base_weighted": 0.0,
                "pct": 100.0 * empty.estimate, "se": 100.0 * empty.se,
                "ci_low": 100.0 * empty.low, "ci_high": 100.0 * empty.high,
                "ci_method": empty.method, "warnings": "; ".join(empty.warnings)}
        return [dict(cell) for _ in range(n_shown)]
    check_method(method, CI_METHODS, "interval method")
    binomial = method in BINOMIAL_METHODS
    if binomial and not resolved.is_simple:
        raise PulsecheckError("STAT_009", method=method)
    if isinstance(resolved, ResolvedReplicates):
        return replicate_column_cells(rows, resolved, method, level, codes=codes,
                                      indicators=indicators, n_shown=n_shown, deff=deff)
    w_d = resolved.weights[rows]
    base_w = float(w_d.sum())
    if codes is not None:
        c_d = np.asarray(codes, dtype=np.int64)[rows]
        counts = np.bincount(c_d, minlength=n_shown)[:n_shown]
        sums = np.bincount(c_d, weights=w_d, minlength=n_shown)[:n_shown]
    else:
        chosen_d = np.asarray(indicators)[rows] > 0.5
        counts = chosen_d.sum(axis=0)
        # Unit weights: the weighted sums are the counts (exactly, as sums of ones are).
        sums = counts.astype(float) if resolved.is_simple else \
            np.array([w_d[chosen_d[:, i]].sum() for i in range(n_shown)])
    estimates = sums / base_w
    variances = np.full(n_shown, np.nan)
    df = 0
    if not binomial:
        # PSU totals of the scores w (y - p) / W of each cell are
        # (weight chosen in the PSU - p × weight of the PSU) / W: no rows × cells matrix.
        n_psu = resolved.psu_stratum.shape[0]
        psu_d = resolved.psu[rows]
        # Design df of the domain (as design_df): its PSUs minus their strata, counted from
        # the PSUs the domain's respondents fall in (PSUs are nested in strata).
        in_domain = np.bincount(psu_d, minlength=n_psu) > 0
        df = int(np.count_nonzero(in_domain)
                 - np.count_nonzero(np.bincount(resolved.psu_stratum[in_domain],
                                                minlength=resolved.n_psu.shape[0])))
        # Totals per sampling unit of the last stage (the PSU of a one-stage design).
        n_unit = resolved.n_units
        unit_d = psu_d if resolved.unit is None else resolved.unit[rows]
        unit_w = np.bincount(unit_d, weights=w_d, minlength=n_unit)
        if codes is not None:
            chosen_w = np.bincount(unit_d * n_shown + c_d, weights=w_d,
                                   minlength=n_unit * n_shown).reshape(n_unit, n_shown)
        else:
            chosen_w = np.column_stack([np.bincount(unit_d, weights=w_d * chosen_d[:, i],
                                                    minlength=n_unit)
                                        for i in range(n_shown)])
        totals = (chosen_w - unit_w[:, None] * estimates[None, :]) / base_w
        present = np.bincount(unit_d, minlength=n_unit) > 0 if resolved.general else None
        if resolved.score_residuals is not None:
            variances = _calibrated_variances(resolved, rows, w_d, base_w, estimates,
                                              c_d if codes is not None else None,
                                              None if codes is not None else chosen_d,
                                              n_shown)
        else:
            variances = psu_variances(resolved, totals, present)
    out = []
    for i in range(n_shown):
        if binomial:
            interval = binomial_interval(int(counts[i]), base_n, method=method,
                                               level=level)
        elif resolved.score_residuals is not None and 0 < int(counts[i]) < base_n:
            # As R's svyciprop on a calibrated design, whose domains keep every row (the
            # beta interval's t on n - 1 counts them); 0% and 100% are decided from the
            # counts as in every table.
            interval = replace(design_interval(
                float(estimates[i]), float(variances[i]), n=resolved.n_rows, df=df,
                method=method, level=level), n=base_n)
        else:
            y_d = None
            if method == "likelihood":
                # The profile likelihood needs the domain's values, not only their sums.
                y_d = (c_d == i).astype(float) if codes is not None \
                    else chosen_d[:, i].astype(float)
            interval = design_interval(float(estimates[i]), float(variances[i]),
                                             n=base_n, df=df, method=method, level=level,
                                             y=y_d, weights=w_d, successes=int(counts[i]))
        out.append({
            "n": int(counts[i]),
            "base_n": base_n,
            "n_weighted": float(sums[i]),
            "base_weighted": base_w,
            "pct": 100.0 * interval.estimate,
            "se": 100.0 * interval.se,
            "ci_low": 100.0 * interval.low,
            "ci_high": 100.0 * interval.high,
            "ci_method": interval.method,
            "warnings": "; ".join(interval.warnings),
            "df": df,
        })
        if deff:
            out[-1]["deff"], out[-1]["n_effective"] = (float("nan"), float("nan")) \
                if binomial else cell_deff(float(estimates[i]), float(variances[i]), base_n,
                                           base_w)
    return out


def _calibrated_variances(resolved: ResolvedDesign, rows: np.ndarray, w_d: np.ndarray,
                          base_w: float, estimates: np.ndarray, c_d: np.ndarray | None,
                          chosen_d: np.ndarray | None, n_shown: int) -> np.ndarray:
    """Variances of a column's shares after calibration: the residuals of the rows' scores
    (every row of the design takes part, so the scores are built row by row)."""
    y = np.zeros((rows.size, n_shown))
    if c_d is not None:
        inside = c_d < n_shown
        y[np.flatnonzero(inside), c_d[inside]] = 1.0
    else:
        y[:] = chosen_d
    scores = np.zeros((resolved.n_rows, n_shown))
    scores[rows] = w_d[:, None] * (y - estimates[None, :]) / base_w
    domain = np.zeros(resolved.n_rows, dtype=bool)
    domain[rows] = True
    return np.diag(total_covariance(resolved, scores, domain)).copy()


def replicate_column_cells(rows: np.ndarray, resolved: ResolvedReplicates, method: str,
                           level: float, *, codes: np.ndarray | None = None,
                           indicators: np.ndarray | None = None, n_shown: int,
                           deff: bool = False) -> list[dict[str, Any]]:
    """The cells of one column under replicate weights, every shown row at once.

    Each share is the domain's weighted mean of the row's indicator under the full-sample
    weights and under each replicate's (one product of the replicate weights with the
    indicators), its variance :func:`pipeline.stats.replicate.replicate_variance` of those,
    its design df the rank of the domain's replicate weights less one and its interval
    :func:`pipeline.stats.replicate.replicate_interval`: R's ``svyciprop`` on the subset of
    a ``svrepdesign``, as :func:`pipeline.stats.replicate.replicate_proportion`.
    """
    check_method(method, REPLICATE_CI_METHODS, "replicate-design interval method")
    base_n = int(rows.size)
    w_d = resolved.weights[rows]
    base_w = float(w_d.sum())
    y = np.zeros((base_n, n_shown))
    if codes is not None:
        c_d = np.asarray(codes, dtype=np.int64)[rows]
        inside = c_d < n_shown
        y[np.flatnonzero(inside), c_d[inside]] = 1.0
    else:
        y[:] = np.asarray(indicators)[rows] > 0.5
    counts = y.sum(axis=0).astype(int)
    sums = w_d @ y
    estimates = sums / base_w
    domain = np.zeros(resolved.n_rows, dtype=bool)
    domain[rows] = True
    replicated = replicate_sums(resolved, np.column_stack([y, np.ones(base_n)]), domain)
    with np.errstate(invalid="ignore", divide="ignore"):
        thetas = replicated[:, :-1] / replicated[:, -1:]
    df = replicate_df(resolved, domain)
    out = []
    for i in range(n_shown):
        variance = float(replicate_variance(thetas[:, i], estimates[i], resolved)[0, 0])
        interval = replicate_interval(float(estimates[i]), variance, thetas[:, i], resolved,
                                      n=base_n, df=df, method=method, level=level,
                                      successes=int(counts[i]))
        out.append({**cell_of(int(counts[i]), base_n, float(sums[i]), base_w, interval),
                    "df": df})
        if deff:
            out[-1]["deff"], out[-1]["n_effective"] = cell_deff(
                float(estimates[i]), variance, base_n, base_w)
    return out


def run_tests(tests: Sequence[str], counts: np.ndarray,
               codes: Callable[[], tuple[np.ndarray, np.ndarray]],
               resolved: ResolvedDesign) -> list[TestResult]:
    """Tests of association on the complete cases of the shown levels.

    ``counts`` is the unweighted (row level × column level) table of the complete cases;
    ``codes`` gives the row and column code of each respondent (-1: not in the table), and
    is called only for the design-based tests, which need the respondents themselves.
    """
    n_row, n_col = counts.shape
    results = []
    testable = (counts.sum(axis=1) > 0).sum() >= 2 and (counts.sum(axis=0) > 0).sum() >= 2
    for test in tests:
        check_choice(test, TABLE_TESTS, "test")
        if test == "trend":
            continue
        if not testable:
            # A level chosen by nobody (or by everybody) carries no information about an
            # association; say so rather than stop the whole table.
            results.append(TestResult(
                test=test, method="not tested", statistic=float("nan"), df=float("nan"),
                ddf=float("nan"), p_value=float("nan"),
                warnings=("not tested: fewer than two non-empty rows or columns",)))
            continue
        if test == "pearson":
            results.append(pearson_chisq(counts, continuity=False))
        elif test == "pearson_yates":
            results.append(pearson_chisq(counts, continuity=True))
        elif test == "lr":
            results.append(likelihood_ratio_chisq(counts))
        elif test == "fisher":
            try:
                results.append(fisher_exact(counts))
            except PulsecheckError as error:
                if error.code != "STAT_010":
                    raise
                results.append(TestResult(
                    test=test, method="not tested", statistic=float("nan"), df=float("nan"),
                    ddf=float("nan"), p_value=float("nan"),
                    warnings=(f"not tested: {error.message}",)))
        else:
            statistic = {"rao_scott_f": "F", "rao_scott_chisq": "Chisq", "wald": "Wald",
                         "adj_wald": "adjWald"}[test]
            row_codes, col_codes = codes()
            if isinstance(resolved, ResolvedReplicates):
                results.append(replicate_chisq(row_codes, col_codes, n_row, n_col, resolved,
                                               statistic=statistic))
            else:
                results.append(design_chisq(row_codes, col_codes, n_row, n_col, resolved,
                                            statistic=statistic))
        if not resolved.is_simple and test in ("pearson", "pearson_yates", "lr", "fisher"):
            note = "computed on unweighted counts; the design is ignored by this test"
            last = results[-1]
            results[-1] = TestResult(**{**last.__dict__,
                                              "warnings": (*last.warnings, note)})
    return results


def trend_tests(counts: np.ndarray, bases: np.ndarray, scores: Sequence[float] | None,
                 resolved: ResolvedDesign) -> list[tuple[int, TestResult]]:
    """Cochran–Armitage trend test of each shown row across the column levels."""
    if scores is None:
        raise PulsecheckError("STAT_008", name="trend_scores", value=None,
                              expected="one score per column level for the trend test")
    if not resolved.is_simple:
        raise PulsecheckError("STAT_009", method="Cochran-Armitage trend")
    if len(scores) != counts.shape[1]:
        raise PulsecheckError("STAT_008", name="trend_scores", value=list(scores),
                              expected=f"{counts.shape[1]} scores, one per column level")
    keep = bases > 0
    return [(i, cochran_armitage(counts[i, keep], bases[keep],
                                       np.asarray(scores, float)[keep]))
            for i in range(counts.shape[0])]


def pairwise_letters(shown: Sequence[tuple[str, str, str]], columns: Sequence[tuple],
                      counts: np.ndarray, bases: np.ndarray,
                      indicators: Callable[[], list[np.ndarray]], resolved: ResolvedDesign,
                      adjust: str | None, alpha: float, base_mask: np.ndarray
                      ) -> tuple[list[list[str]], pd.DataFrame]:
    """The significance letters of every shown row and column, and the pairwise tests.

    Without ``adjust`` (no pairwise tests asked, or no banner) every letter is blank and the
    tests frame is empty; otherwise as :func:`pairwise_tests`, each test row named by its level.
    """
    letters = [["" for _ in columns] for _ in shown]
    if adjust is None:
        return letters, pd.DataFrame()
    masks = [c[3] for c in columns[1:]]
    pair_frame = pairwise_tests(counts, bases, indicators, masks, resolved, adjust, alpha,
                           base_mask)
    grid = column_letters(pair_frame, len(shown), len(masks))
    for i in range(len(shown)):
        letters[i][1:] = grid[i]
    return letters, pair_frame.assign(row_level=[shown[i][0] for i in pair_frame["row"]])


def pairwise_tests(counts: np.ndarray, bases: np.ndarray,
              indicators: Callable[[], list[np.ndarray]], col_masks: list[np.ndarray],
              resolved: ResolvedDesign, adjust: str, alpha: float,
              base_mask: np.ndarray) -> pd.DataFrame:
    """Pairwise column tests for each shown row (rows of the result: row index).

    ``counts`` (shown rows × column levels) and ``bases`` (column levels) are the unweighted
    counts in the base, all a simple random sample needs; a complex design estimates each
    row's proportions from the 0/1 indicators of the rows, which ``indicators`` gives.
    """
    if resolved.is_simple:
        return column_proportion_tests(np.asarray(counts, dtype=float),
                                             np.asarray(bases, dtype=float), adjust=adjust,
                                             alpha=alpha)
    rows = indicators()
    n_rows, n_cols = len(rows), len(col_masks)
    estimates = np.zeros((n_rows, n_cols))
    covariances = []
    if isinstance(resolved, ResolvedReplicates):
        # Each column's share under every replicate: the covariance of the shares of one
        # row across the columns, from the same replicates.
        masks = np.column_stack([m & base_mask for m in col_masks]).astype(float)
        full = resolved.weights @ masks
        reps = resolved.replicates.T @ masks
        for i, y in enumerate(rows):
            with np.errstate(invalid="ignore", divide="ignore"):
                estimates[i] = (resolved.weights * y) @ masks / full
                thetas = (resolved.replicates.T * y) @ masks / reps
            covariances.append(replicate_variance(thetas, estimates[i], resolved))
        return design_column_proportion_tests(estimates, covariances, replicate_df(resolved),
                                              adjust=adjust, alpha=alpha)
    for i, y in enumerate(rows):
        scores = []
        for j, m in enumerate(col_masks):
            est, _, sc = ratio_estimate(resolved, y, m & base_mask)
            estimates[i, j] = est
            scores.append(sc)
        covariances.append(total_covariance(resolved, np.column_stack(scores)))
    df = design_df(resolved)
    return design_column_proportion_tests(estimates, covariances, df, adjust=adjust,
                                                alpha=alpha)


def tests_frame(table_id: str, row_var: str, col_var: str | None,
                 results: Sequence[tuple[str | None, TestResult]]) -> pd.DataFrame:
    if not results:
        return empty_tests()
    rows = []
    for row_level, res in results:
        d = res.as_dict()
        rows.append({"table_id": table_id, "row_var": row_var, "row_level": row_level,
                     "col_var": col_var, **{k: d[k] for k in TEST_COLUMNS[4:]}})
    return pd.DataFrame(rows, columns=list(TEST_COLUMNS))


def finish(rows: list[dict[str, Any]], extra: Sequence[str] = ()) -> pd.DataFrame:
    """The tidy table: the :data:`TIDY_COLUMNS`, then any ``extra`` columns asked for."""
    frame = pd.DataFrame(rows)
    columns = [*TIDY_COLUMNS, *extra]
    for column in columns:
        if column not in frame.columns:
            frame[column] = None
    return frame[columns].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# single choice
