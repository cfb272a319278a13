"""Cross-tabulation: tidy frequency tables with intervals and tests, for report tables.

All functions are pure: a frame (never modified) and explicit arguments in, a frozen
:class:`TableResult` out. Levels, labels and their order always come from the caller
(normally the instrument), so empty levels are kept, in order, and a value outside the
levels is an error (``STAT_006``) rather than a silently dropped row.

Public API
----------
* ``single_choice_table(frame, row, *, levels, labels, col, col_levels, col_labels, design,
  ci_method, level, missing, tests, trend_scores, pairwise, alpha, table_id)``
  — one-way (``col=None``) or two-way table of a single-choice question.
* ``check_all_table(frame, items, *, labels, row_var, col, col_levels, col_labels, design,
  ci_method, level, nets, tests, trend_scores, pairwise, alpha, table_id)`` — a check-all
  question from its 0/1 indicator columns (blank = not answered); the base is the respondents who
  answered the question, and respondents and mentions are counted separately.
* ``any_of_net(frame, items)`` — the "any of" indicator (1, 0, or blank if not answered).
* ``numeric_summary(frame, var, *, col, col_levels, col_labels, design, level, quantiles,
  table_id)`` — mean (with design-based t interval), quantiles, min, max by group.
* ``crosstab_matrices(frame, row, col, *, row_levels, col_levels, design)`` — the matrices
  and headline tests of a two-way table (used by ``pulsecheck crosstab --json``).
* Small-cell protection lives in :mod:`pipeline.stats.disclosure` (``suppress_table``).

The tidy table (:data:`TIDY_COLUMNS`) has one row per (row level, column level): ``n`` is the
unweighted count, ``base_n`` the unweighted base of the column, ``pct`` the (weighted,
when a design is given) column percentage in 0–100 with ``ci_low``/``ci_high`` and the
interval method in ``ci_method``. The overall column has ``col_level = "All"``. ``row_type``
tells levels (``level``), shown missing answers (``missing``), the base (``total``), check-all
items (``item``), nets (``net``), respondents (``respondents``) and mentions (``mentions``)
apart; the special rows have ``row_level`` ``__missing__``, ``__total__``, ``net:<label>``,
``__respondents__`` and ``__mentions__``. ``sig_letters`` lists the columns (by
``col_letter``) that a cell is significantly higher than, when pairwise tests were asked for.
``warnings`` is never silent.

Columns of the tests frame: :data:`TEST_COLUMNS`.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from pipeline.errors import PulsecheckError
from pipeline.stats import cells as cellkit
from pipeline.stats.calibrate import Calibration
from pipeline.stats.cells import (
    ALL,
    MISSING_RULES,
    NUMERIC_COLUMNS,
    TABLE_TESTS,
    TEST_COLUMNS,
    TIDY_COLUMNS,
    TableResult,
    level_key,
)
from pipeline.stats.contingency import (
    design_chisq,
    pearson_chisq,
)
from pipeline.stats.design import (
    SurveyDesign,
    design_df,
    ratio_estimate,
    resolve_design,
)
from pipeline.stats.fisher import fisher_exact
from pipeline.stats.methods import TestResult
from pipeline.stats.quantiles import sorted_weighted_quantiles
from pipeline.stats.replicate import ResolvedReplicates, replicate_df, replicate_mean

__all__ = ["ALL", "NUMERIC_COLUMNS", "TABLE_TESTS", "TEST_COLUMNS", "TIDY_COLUMNS", "TableResult",
           "any_of_net", "check_all_table", "crosstab_matrices", "level_key",
           "numeric_summary", "single_choice_table"]


def single_choice_table(
    frame: pd.DataFrame,
    row: str,
    *,
    levels: Sequence[Any],
    labels: Sequence[str] | Mapping[Any, str] | None = None,
    col: str | None = None,
    col_levels: Sequence[Any] | None = None,
    col_labels: Sequence[str] | Mapping[Any, str] | None = None,
    design: cellkit.AnyDesign = SurveyDesign(),
    calibration: Calibration | None = None,
    ci_method: str,
    level: float = 0.95,
    missing: str = "exclude",
    missing_label: str = "Missing",
    tests: Sequence[str] = (),
    trend_scores: Sequence[float] | None = None,
    pairwise: str | None = None,
    alpha: float = 0.05,
    table_id: str | None = None,
    deff: bool = False,
) -> TableResult:
    """One-way or two-way frequency table of a single-choice question.

    Parameters
    ----------
    frame : DataFrame
        Respondents, one row each (not modified).
    row : str
        Column of the question tabulated.
    levels, labels : sequence
        The question's levels in instrument order and their labels (default: the codes).
    col, col_levels, col_labels : optional
        Column (banner) variable with its ordered levels and labels. Respondents with a
        blank column variable count in the ``All`` column only.
    design : SurveyDesign, ReplicateDesign or ReplicateConversion
        ``SurveyDesign()`` for an unweighted simple random sample; replicate-weight columns
        (:class:`pipeline.stats.replicate.ReplicateDesign`) or a linearisation design
        converted to replicates (:class:`pipeline.stats.replicate.ReplicateConversion`):
        every share, interval, test and pairwise comparison is then computed from the
        replicates, as R's ``svyciprop`` and ``svychisq`` on a ``svrepdesign`` (interval
        methods :data:`pipeline.stats.replicate.REPLICATE_CI_METHODS`).
    calibration : Calibration, optional
        Weights calibrated to population counts (:mod:`pipeline.stats.calibrate`) for a
        linearisation ``design``: they replace its weights, and every variance is that
        after calibration (the residuals of the scores), as R on a ``rake``'d or
        ``postStratify``'d design.
    ci_method : str
        One of :data:`pipeline.stats.methods.CI_METHODS` (binomial methods only without a design).
    level : float
        Confidence level.
    missing : {"exclude", "show"}
        ``exclude``: blank answers are left out of the base; ``show``: they are a row
        (``row_type = "missing"``) and part of the base.
    tests : sequence of str
        Any of :data:`TABLE_TESTS` (needs ``col``). Tests use the shown levels only (never
        the missing row). ``trend`` needs ``trend_scores`` (one per column level) and is
        computed for each row level.
    pairwise : {"none", "bonferroni", "holm", "bh"}, optional
        Pairwise column-proportion tests (SPSS-style letters in ``sig_letters``).
    alpha : float
        Significance level of the pairwise tests.
    table_id : str, optional
        Identifier of the table (default: ``row`` or ``row_by_col``).
    deff : bool
        Add the columns ``deff`` and ``n_effective`` (design effect and effective n of each
        cell's proportion, as R's ``svymean(deff = TRUE)``; NaN for binomial methods and for
        cells of 0% or 100%).

    Returns
    -------
    TableResult

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys*, ch. 2 and 6. Wiley.
    .. [2] Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., ch. 2–3. Wiley.
    """
    cellkit.check_choice(missing, MISSING_RULES, "missing rule")
    cellkit.require(frame, row, col)
    if tests and col is None:
        raise PulsecheckError("STAT_008", name="tests", value=list(tests),
                              expected="no tests for a one-way table (give col=)")
    table_id = table_id or (row if col is None else f"{row}_by_{col}")
    resolved = cellkit.resolve_any(frame, design, calibration)
    row_codes = cellkit.level_codes(frame[row], levels, row)
    row_names = cellkit.level_labels(levels, labels, row)
    col_codes, columns = cellkit.column_spec(frame, col, col_levels, col_labels)
    base_mask = row_codes >= 0 if missing == "exclude" else np.ones(len(frame), dtype=bool)

    shown: list[tuple[str, str, str]] = [
        (str(level_key(lev)), row_names[i], "level") for i, lev in enumerate(levels)]
    if missing == "show":
        shown.append(("__missing__", missing_label, "missing"))
    # The shown row of each respondent: its level, or the missing row after the levels.
    shown_codes = np.where(row_codes >= 0, row_codes, len(levels))

    # Respondents of the base by shown row and banner group: every unweighted count of the
    # table (cells, totals, tests, pairwise comparisons) is a sum of these.
    n_col = len(columns) - 1
    by_group = cellkit.tally(shown_codes[base_mask], cellkit.groups(col_codes, n_col)[base_mask],
                      (len(shown), n_col + 1))

    letters, pair_frame = cellkit.pairwise_letters(
        shown, columns, by_group[:, :n_col], by_group[:, :n_col].sum(axis=0),
        lambda: [(shown_codes == i).astype(float) for i in range(len(shown))],
        resolved, pairwise if col is not None else None, alpha, base_mask)

    counted = cellkit.counted_cells(resolved, ci_method)
    w = resolved.weights
    out = []
    for j, (col_level, col_label, letter, col_mask) in enumerate(columns):
        counts = cellkit.column_counts(by_group, j)
        base_n = int(counts.sum())
        if counted:
            cells = cellkit.cells_from_counts(counts, base_n, ci_method, level)
            base_w = float(base_n)
        else:
            domain = col_mask & base_mask
            cells = cellkit.column_cells(domain, resolved, ci_method, level, codes=shown_codes,
                                  n_shown=len(shown), deff=deff)
            base_w = float(w[domain].sum())
        for i, (row_level, row_label, row_type) in enumerate(shown):
            out.append({"table_id": table_id, "table_type": "single", "row_var": row,
                        "row_level": row_level, "row_label": row_label, "row_type": row_type,
                        "col_var": col, "col_level": col_level, "col_label": col_label,
                        "col_letter": letter, "sig_letters": letters[i][j],
                        **cells[i]})
        out.append({"table_id": table_id, "table_type": "single", "row_var": row,
                    "row_level": "__total__", "row_label": "Total", "row_type": "total",
                    "col_var": col, "col_level": col_level, "col_label": col_label,
                    "col_letter": letter, "n": base_n, "base_n": base_n,
                    "n_weighted": base_w, "base_weighted": base_w,
                    "pct": 100.0 if base_n else float("nan"), "ci_method": "none",
                    "sig_letters": "", "warnings": ""})
    table = cellkit.finish(out, cellkit.DEFF_COLUMNS if deff else ())

    results: list[tuple[str | None, TestResult]] = []
    if col is not None and tests:
        # The complete cases: a level (not the missing row) and a column level.
        complete = by_group[:len(levels), :n_col].astype(float)
        results.extend((None, res) for res in cellkit.run_tests(
            [t for t in tests if t != "trend"], complete, lambda: (row_codes, col_codes),
            resolved))
        if "trend" in tests:
            for i, res in cellkit.trend_tests(complete, complete.sum(axis=0), trend_scores,
                                       resolved):
                results.append((shown[i][0], res))
    tests_frame = cellkit.tests_frame(table_id, row, col, results)
    warnings = tuple(dict.fromkeys(w for r in results for w in r[1].warnings))
    return TableResult(table=table, tests=tests_frame, pairwise=pair_frame, warnings=warnings)


# --------------------------------------------------------------------------------------------
# check-all

def _indicator_flags(frame: pd.DataFrame, items: Sequence[str]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Which respondents left each check-all item blank and which ticked it.

    Returns
    -------
    blank, ticked : ndarray of bool, shape (items, respondents)
        One row per item (so each item's flags are contiguous). An item is ticked when its
        value is 1; values other than 0, 1 and blank are an error (``STAT_007``).
    """
    cellkit.require(frame, *items)
    blank = np.empty((len(items), len(frame)), dtype=bool)
    ticked = np.empty_like(blank)
    for k, item in enumerate(items):
        values = cellkit.numbers(frame[item])
        missing = np.isnan(values)
        # Valid: 0, 1, or blank (a value that is not a number is not blank).
        bad = ~((values == 0) | (values == 1) | (missing & frame[item].isna().to_numpy()))
        if bad.any():
            found = sorted({str(v) for v in frame[item][bad].tolist()})
            raise PulsecheckError("STAT_007", name=item, values=", ".join(found[:10]))
        blank[k] = missing
        ticked[k] = values > 0.5
    return blank, ticked


def any_of_net(frame: pd.DataFrame, items: Sequence[str]) -> pd.Series:
    """The "any of" net of check-all items: 1 if any item is chosen, 0 if the question was
    answered with none of them, blank if it was not answered.

    Parameters
    ----------
    frame : DataFrame
    items : sequence of str
        Indicator columns (0/1, blank = not answered).

    Returns
    -------
    Series of float, aligned with ``frame``.
    """
    blank, ticked = _indicator_flags(frame, items)
    answered = ~blank.all(axis=0)
    chosen = ticked.any(axis=0)
    return pd.Series(np.where(answered, chosen.astype(float), np.nan), index=frame.index,
                     name="any_of")


def check_all_table(
    frame: pd.DataFrame,
    items: Sequence[str],
    *,
    labels: Sequence[str] | Mapping[str, str] | None = None,
    row_var: str | None = None,
    col: str | None = None,
    col_levels: Sequence[Any] | None = None,
    col_labels: Sequence[str] | Mapping[Any, str] | None = None,
    design: cellkit.AnyDesign = SurveyDesign(),
    calibration: Calibration | None = None,
    ci_method: str,
    level: float = 0.95,
    nets: Mapping[str, Sequence[str]] | None = None,
    tests: Sequence[str] = (),
    trend_scores: Sequence[float] | None = None,
    pairwise: str | None = None,
    alpha: float = 0.05,
    table_id: str | None = None,
    deff: bool = False,
) -> TableResult:
    """Table of a check-all (multiple-response) question.

    Parameters
    ----------
    frame : DataFrame
    items : sequence of str
        The indicator columns, in instrument order: 1 chosen, 0 not chosen, blank not
        answered. A respondent answered the question when any item is non-blank; blank
        items of such a respondent count as not chosen (with a warning).
    labels : sequence or mapping, optional
        Label of each item.
    row_var : str, optional
        Name of the question (default: the common prefix of the items, or ``items``).
    col, col_levels, col_labels : optional
        Banner variable.
    design : SurveyDesign
    ci_method : str
    level : float
    nets : mapping of label to items, optional
        "Any of" nets, e.g. ``{"Any funding barrier": ["b_money", "b_staff"]}``.
    tests : sequence of str
        Tests of each item (and net) against ``col`` (see :func:`single_choice_table`),
        on the respondents who answered.
    trend_scores : sequence of float, optional
        Scores of the column levels for the ``trend`` test of each item.
    pairwise : str, optional
        p-value adjustment for pairwise column tests of each item.
    alpha : float
    table_id : str, optional
    deff : bool
        Add the columns ``deff`` and ``n_effective``, as :func:`single_choice_table`.

    Returns
    -------
    TableResult
        Rows ``item`` and ``net`` carry respondents choosing (``n``) over respondents who
        answered (``base_n``), and ``pct_of_mentions`` (share of all ticks); a
        ``respondents`` row gives the base and a ``mentions`` row the number of ticks.

    References
    ----------
    .. [1] Bilder, C. R. and Loughin, T. M. (2004). Testing for marginal independence
       between two categorical variables with multiple responses. *Biometrics* 60, 241–248.
    .. [2] Lumley, T. (2010). *Complex Surveys*, ch. 2. Wiley.
    """
    if not items:
        raise PulsecheckError("STAT_008", name="items", value="[]",
                              expected="at least one indicator column")
    cellkit.require(frame, col)
    blank, item_ticks = _indicator_flags(frame, items)
    answered = ~blank.all(axis=0)
    partial = answered & blank.any(axis=0)
    table_warnings: list[str] = []
    if partial.any():
        table_warnings.append(f"{int(partial.sum())} respondent(s) left some items blank; "
                              "those items count as not chosen")
    row_var = row_var or _common_prefix(items)
    table_id = table_id or (row_var if col is None else f"{row_var}_by_{col}")
    item_labels = cellkit.level_labels(list(items), labels, row_var)
    resolved = cellkit.resolve_any(frame, design, calibration)
    col_codes, columns = cellkit.column_spec(frame, col, col_levels, col_labels)

    # Shown rows (items, then nets) and, row by row, the respondents choosing them: only
    # respondents who answered can tick an item.
    shown: list[tuple[str, str, str]] = [
        (item, item_labels[k], "item") for k, item in enumerate(items)]
    net_ticks = []
    for net_label, members in (nets or {}).items():
        unknown = [m for m in members if m not in items]
        if unknown:
            raise PulsecheckError("STAT_008", name=f"net '{net_label}'", value=unknown,
                                  expected="items of this question")
        idx = [list(items).index(m) for m in members]
        shown.append((f"net:{net_label}", net_label, "net"))
        net_ticks.append(item_ticks[idx].any(axis=0))
    ticks = np.concatenate([item_ticks, np.array(net_ticks)]) if net_ticks else item_ticks

    # Respondents who answered, and those choosing each shown row, by banner group: every
    # unweighted count of the table is a sum of these.
    n_col = len(columns) - 1
    groups = cellkit.groups(col_codes, n_col)
    bases = np.bincount(groups[answered], minlength=n_col + 1)
    # One bincount per row of (group, chosen or not) pairs: no gather of the rows.
    pairs = 2 * groups
    by_group = np.array([np.bincount(pairs + t, minlength=2 * (n_col + 1))[1::2]
                         for t in ticks], dtype=np.int64).reshape(len(shown), n_col + 1)

    letters, pair_frame = cellkit.pairwise_letters(
        shown, columns, by_group[:, :n_col], bases[:n_col], lambda: list(ticks), resolved,
        pairwise if col is not None else None, alpha, answered)

    counted = cellkit.counted_cells(resolved, ci_method)
    w = resolved.weights
    out = []
    for j, (col_level, col_label, letter, col_mask) in enumerate(columns):
        counts = cellkit.column_counts(by_group, j)
        base_n = int(cellkit.column_counts(bases, j))
        mentions = int(counts[:len(items)].sum())
        if counted:
            cells = cellkit.cells_from_counts(counts, base_n, ci_method, level)
        else:
            domain = col_mask & answered
            cells = cellkit.column_cells(domain, resolved, ci_method, level, indicators=ticks.T,
                                  n_shown=len(shown), deff=deff)
        if resolved.is_simple:
            # Weights of one: the weighted totals are the counts.
            base_w, mentions_w = float(base_n), float(mentions)
        else:
            domain = col_mask & answered
            base_w = float(w[domain].sum())
            ticked = np.ascontiguousarray(item_ticks.T[domain], dtype=float)
            mentions_w = float((ticked * w[domain, None]).sum())
        common = {"table_id": table_id, "table_type": "multi", "row_var": row_var,
                  "col_var": col, "col_level": col_level, "col_label": col_label,
                  "col_letter": letter}
        for i, (row_level, row_label, row_type) in enumerate(shown):
            cell = cells[i]
            share = (100.0 * cell["n_weighted"] / mentions_w
                     if row_type == "item" and mentions_w > 0 else float("nan"))
            out.append({**common, "row_level": row_level, "row_label": row_label,
                        "row_type": row_type, "sig_letters": letters[i][j],
                        "pct_of_mentions": share, **cell})
        out.append({**common, "row_level": "__respondents__", "row_label": "Respondents",
                    "row_type": "respondents", "n": base_n, "base_n": base_n,
                    "n_weighted": base_w, "base_weighted": base_w,
                    "pct": 100.0 if base_n else float("nan"), "ci_method": "none",
                    "sig_letters": "", "warnings": "; ".join(table_warnings)})
        out.append({**common, "row_level": "__mentions__", "row_label": "Mentions",
                    "row_type": "mentions", "n": mentions, "base_n": base_n,
                    "n_weighted": mentions_w, "base_weighted": base_w,
                    "pct": float("nan"), "ci_method": "none", "pct_of_mentions": 100.0
                    if mentions else float("nan"), "sig_letters": "", "warnings": ""})
    table = cellkit.finish(out, cellkit.DEFF_COLUMNS if deff else ())

    results: list[tuple[str | None, TestResult]] = []
    if tests:
        if col is None:
            raise PulsecheckError("STAT_008", name="tests", value=list(tests),
                                  expected="no tests for a one-way table (give col=)")
        chosen = by_group[:, :n_col].astype(float)
        answering = bases[:n_col].astype(float)
        for i, (row_level, _, _) in enumerate(shown):
            # (not chosen, chosen) × column level, among the respondents who answered.
            counts = np.vstack([answering - chosen[i], chosen[i]])
            def codes(t: np.ndarray = ticks[i]) -> tuple[np.ndarray, np.ndarray]:
                return np.where(answered, t.astype(np.int64), -1), col_codes

            results.extend((row_level, res) for res in cellkit.run_tests(
                [t for t in tests if t != "trend"], counts, codes, resolved))
        if "trend" in tests:
            for i, res in cellkit.trend_tests(chosen, answering, trend_scores, resolved):
                results.append((shown[i][0], res))
    tests_frame = cellkit.tests_frame(table_id, row_var, col, results)
    warnings = tuple(dict.fromkeys(table_warnings + [w for r in results for w in r[1].warnings]))
    return TableResult(table=table, tests=tests_frame, pairwise=pair_frame, warnings=warnings)


def _common_prefix(items: Sequence[str]) -> str:
    prefix = str(items[0])
    for item in items[1:]:
        while not str(item).startswith(prefix):
            prefix = prefix[:-1]
    prefix = prefix.rstrip("_/.")
    return prefix or "items"


# --------------------------------------------------------------------------------------------
# numeric summaries

def numeric_summary(
    frame: pd.DataFrame,
    var: str,
    *,
    col: str | None = None,
    col_levels: Sequence[Any] | None = None,
    col_labels: Sequence[str] | Mapping[Any, str] | None = None,
    design: cellkit.AnyDesign = SurveyDesign(),
    calibration: Calibration | None = None,
    level: float = 0.95,
    quantiles: Sequence[float] = (0.25, 0.5, 0.75),
    table_id: str | None = None,
) -> TableResult:
    """Mean, quantiles, minimum and maximum of a numeric variable by group.

    Parameters
    ----------
    frame : DataFrame
    var : str
        Numeric column; blanks are left out (their count is ``n_missing``).
    col, col_levels, col_labels : optional
        Grouping variable.
    design : SurveyDesign
    level : float
        Confidence level of the mean's interval: :math:`\\bar y \\pm t_{df}\\, se`, with the
        linearisation standard error and the domain's design df (``ci_method = "mean_t"``);
        R's ``confint(svymean(...), df = degf(design))``.
    quantiles : sequence of float
        Weighted quantiles (definition in :func:`pipeline.stats.quantiles.weighted_quantile`); rows
        ``stat = "q0.25"`` etc. (``median`` for 0.5). No interval is given for quantiles.
    table_id : str, optional

    Returns
    -------
    TableResult
        ``table`` has columns :data:`NUMERIC_COLUMNS`, one row per group and statistic.

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys*, sec. 2.4 (``svymean``, ``svyby``). Wiley.
    .. [2] Hyndman, R. J. and Fan, Y. (1996). *The American Statistician* 50, 361–365.
    """
    cellkit.require(frame, var, col)
    values = cellkit.numbers(frame[var])
    bad = ~frame[var].isna().to_numpy() & np.isnan(values)
    if bad.any():
        found = sorted({str(v) for v in frame[var][bad].tolist()})
        raise PulsecheckError("STAT_008", name=var, value=", ".join(found[:5]),
                              expected="numbers or blanks")
    table_id = table_id or (var if col is None else f"{var}_by_{col}")
    resolved = cellkit.resolve_any(frame, design, calibration)
    present = ~np.isnan(values)
    filled = np.nan_to_num(values)
    # Respondents with a value, ordered by it (ties in row order), with their values,
    # weights and banner columns in that order: each group's values in order are then the
    # entries of its column, so one sort serves every group's quantiles.
    col_codes, columns = cellkit.column_spec(frame, col, col_levels, col_labels)
    with_value = np.flatnonzero(present)
    by_value = with_value[cellkit.stable_order(values[with_value])]
    sorted_values = values[by_value]
    sorted_weights = resolved.weights[by_value]
    sorted_columns = col_codes[by_value]
    alpha = 1.0 - level
    out = []
    for j, (col_level, col_label, _, col_mask) in enumerate(columns):
        domain = col_mask & present
        common = {"table_id": table_id, "table_type": "numeric", "row_var": var,
                  "col_var": col, "col_level": col_level, "col_label": col_label,
                  "n": int(domain.sum()), "n_missing": int((col_mask & ~present).sum())}
        if not domain.any():
            out.append({**common, "stat": "mean", "value": float("nan"), "ci_method": "mean_t",
                        "warnings": "no respondents in this group"})
            continue
        if isinstance(resolved, ResolvedReplicates):
            mean = replicate_mean(filled, resolved, domain)
            est, var_est = float(mean.estimate[0]), float(mean.covariance[0, 0])
            df = replicate_df(resolved, domain)
        else:
            est, var_est, _ = ratio_estimate(resolved, filled, domain)
            df = design_df(resolved, domain)
        se = float(np.sqrt(max(var_est, 0.0)))
        warn = ""
        if df > 0:
            q = float(sps.t.ppf(1 - alpha / 2, df))
            low, high = est - q * se, est + q * se
        else:
            low = high = float("nan")
            warn = f"design degrees of freedom are {df}; no interval"
        out.append({**common, "stat": "mean", "value": est, "se": se, "ci_low": low,
                    "ci_high": high, "ci_method": "mean_t", "warnings": warn})
        in_group = slice(None) if j == 0 else sorted_columns == j - 1
        group_values = sorted_values[in_group]
        found = sorted_weighted_quantiles(group_values, sorted_weights[in_group],
                                                quantiles)
        for q_, value in zip(quantiles, found, strict=True):
            name = "median" if q_ == 0.5 else f"q{q_:g}"
            out.append({**common, "stat": name, "value": value, "ci_method": "none"})
        lowest, highest = group_values[0], group_values[-1]
        if lowest == 0 or highest == 0:
            # A zero can be signed: take it as the minimum (maximum) of the rows gives it.
            lowest, highest = values[domain].min(), values[domain].max()
        out.append({**common, "stat": "min", "value": float(lowest), "ci_method": "none"})
        out.append({**common, "stat": "max", "value": float(highest), "ci_method": "none"})
    table = pd.DataFrame(out)
    for column in NUMERIC_COLUMNS:
        if column not in table.columns:
            table[column] = None
    return TableResult(table=table[list(NUMERIC_COLUMNS)], tests=cellkit.empty_tests(),
                       pairwise=pd.DataFrame())


# --------------------------------------------------------------------------------------------
# matrices for scripting

def crosstab_matrices(frame: pd.DataFrame, row: str, col: str, *, row_levels: Sequence[Any],
                      col_levels: Sequence[Any],
                      design: SurveyDesign = SurveyDesign()) -> dict[str, Any]:
    """Counts, proportions and headline tests of a two-way table, as plain lists.

    Parameters
    ----------
    frame : DataFrame
    row, col : str
    row_levels, col_levels : sequence
        Ordered levels (empty levels are kept as zero rows or columns).
    design : SurveyDesign

    Returns
    -------
    dict
        ``row_levels``, ``col_levels``, ``unweighted_counts``, ``weighted_counts`` (row-major
        matrices), ``row_proportions``, ``col_proportions`` (weighted), and ``tests`` with
        ``pearson`` (unweighted counts), ``fisher`` and, for a weighted or complex design,
        ``rao_scott`` (second-order F). Each test carries its ``method`` and ``warnings``.

    References
    ----------
    .. [1] Rao, J. N. K. and Scott, A. J. (1984). *Annals of Statistics* 12, 46–60.
    .. [2] Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., ch. 3. Wiley.
    """
    cellkit.require(frame, row, col)
    resolved = resolve_design(frame, design)
    rc = cellkit.level_codes(frame[row], row_levels, row)
    cc = cellkit.level_codes(frame[col], col_levels, col)
    ok = (rc >= 0) & (cc >= 0)
    shape = (len(row_levels), len(col_levels))
    counts = cellkit.cross_counts(rc[ok], cc[ok], shape)
    weighted = cellkit.cross_counts(rc[ok], cc[ok], shape, resolved.weights[ok])
    with np.errstate(invalid="ignore", divide="ignore"):
        row_prop = weighted / weighted.sum(axis=1, keepdims=True)
        col_prop = weighted / weighted.sum(axis=0, keepdims=True)

    def clean(matrix: np.ndarray) -> list[list[float | None]]:
        return [[None if np.isnan(v) else float(v) for v in line] for line in matrix]

    tests: dict[str, Any] = {}
    try:
        res = pearson_chisq(counts, continuity=False)
        tests["pearson"] = {"statistic": res.statistic, "df": res.df, "p_value": res.p_value,
                            "method": res.method, "warnings": list(res.warnings)}
    except PulsecheckError as error:
        tests["pearson"] = {"statistic": None, "df": None, "p_value": None,
                            "warnings": [error.message]}
    try:
        res = fisher_exact(counts)
        tests["fisher"] = {"p_value": res.p_value, "method": res.method,
                           "warnings": list(res.warnings)}
    except PulsecheckError as error:
        tests["fisher"] = {"p_value": None, "warnings": [error.message]}
    if not resolved.is_simple:
        try:
            res = design_chisq(rc, cc, shape[0], shape[1], resolved, statistic="F")
            tests["rao_scott"] = {"statistic": res.statistic, "ndf": res.df, "ddf": res.ddf,
                                  "p_value": res.p_value, "method": res.method,
                                  "warnings": list(res.warnings)}
        except PulsecheckError as error:
            tests["rao_scott"] = {"statistic": None, "ndf": None, "ddf": None,
                                  "p_value": None, "warnings": [error.message]}
    return {
        "row_var": row,
        "col_var": col,
        "design": design.describe(),
        "row_levels": [level_key(v) for v in row_levels],
        "col_levels": [level_key(v) for v in col_levels],
        "unweighted_counts": [[int(v) for v in line] for line in counts],
        "weighted_counts": clean(weighted),
        "row_proportions": clean(row_prop),
        "col_proportions": clean(col_prop),
        "tests": tests,
    }
