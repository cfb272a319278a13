"""Small-cell protection of tidy tables: primary and complementary suppression.

Public API
----------
* :class:`DisclosureRule` — threshold (default 5), whether zeros are protected, the display
  symbol.
* ``suppress_table(table, rule)`` — a copy of a tidy table (:mod:`pipeline.stats.tabulate`) with
  ``suppressed`` (bool), ``suppression`` (``primary``/``complementary``/empty), and the display
  strings ``n_display`` and ``pct_display``. The analyst's numbers are left as they are.
* ``published_view(table, symbol)`` — the same table with the hidden numbers blanked, one
  mark and one label for every hidden cell, and no significance letters in a row with a
  hidden cell, for output that leaves the project.
* ``published_tests(tests, table)`` — the tests with every test computed from a hidden count
  withheld.
* ``recoverable_cells(values, suppressed, equations)`` — which suppressed cells the
  published numbers still determine (used to check the protection).

How it works: counts with ``0 < n < threshold`` (and zeros if ``suppress_zeros``) are
suppressed (primary). The published table also shows totals, so each table is described by
linear equations (each row of levels adds up to the ``All`` column, each column of levels
adds up to its base; for check-all tables, each item adds up across columns). Complementary
cells are then suppressed, smallest count first, until no suppressed cell can be solved
from the published cells and these equations. Where a column of the data is not shown
(respondents with a blank banner variable count in ``All`` only), the equation gets an
unknown slack term and so reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import linalg

from pipeline.errors import PulsecheckError

#: Columns added by :func:`suppress_table`.
DISCLOSURE_COLUMNS = ("suppressed", "suppression", "n_display", "pct_display")


@dataclass(frozen=True)
class DisclosureRule:
    """The small-cell rule.

    Parameters
    ----------
    threshold : int
        Counts below this (and above zero) are suppressed. Default 5, usual for data about
        organisations or partnerships that could be recognised.
    suppress_zeros : bool
        Also suppress zero counts (they can disclose that nobody in a group did something).
    complementary : bool
        Add complementary suppression so that suppressed cells cannot be recovered from
        totals. Switch off only for analyst-only views.
    symbol : str
        Display text of a cell suppressed for its own small count; ``{k}`` is replaced by
        the threshold.
    protect_symbol : str
        Display text of a cell hidden only so that another cannot be worked out
        (complementary or linked suppression): its count is at or above the threshold, so
        ``symbol`` would be a false statement about it.
    """

    threshold: int = 5
    suppress_zeros: bool = False
    complementary: bool = True
    symbol: str = "<{k}"
    protect_symbol: str = "[c]"


Equation = tuple[tuple[int, ...], tuple[float, ...], bool]


def recoverable_cells(values: np.ndarray, suppressed: np.ndarray,
                      equations: Sequence[Equation]) -> np.ndarray:
    """Which suppressed cells are determined by the published cells and the equations.

    Parameters
    ----------
    values : ndarray
        All cell values (only the shape is used).
    suppressed : ndarray of bool
    equations : sequence of (cells, coefficients, has_slack)
        Each equation says ``sum(coef * value) (+ slack) = 0``; ``has_slack`` adds an
        unpublished non-negative unknown.

    Returns
    -------
    ndarray of bool
        True for suppressed cells whose value is a linear function of published numbers.

    References
    ----------
    .. [1] Hundepool, A. et al. (2012). *Statistical Disclosure Control*, sec. 4.2
       (linked tables and the audit of suppression patterns). Wiley.
    """
    pinned = _pinned_at_zero(np.asarray(values, dtype=float), suppressed, equations)
    unknown = np.flatnonzero(suppressed & ~pinned)
    if unknown.size == 0:
        return pinned & suppressed
    index = {cell: k for k, cell in enumerate(unknown)}
    n_slack = sum(1 for eq in equations if eq[2])
    a = np.zeros((len(equations), unknown.size + n_slack))
    slack = unknown.size
    for row, (cells, coefs, has_slack) in enumerate(equations):
        for cell, coef in zip(cells, coefs, strict=True):
            if cell in index:
                a[row, index[cell]] += coef
        if has_slack:
            a[row, slack] = 1.0
            slack += 1
    # A cell is determined exactly when every solution of the homogeneous system leaves it
    # unchanged, i.e. the null space has no component on it.
    null = linalg.null_space(a) if a.size else np.eye(a.shape[1])
    free = np.abs(null[: unknown.size]).max(axis=1) > 1e-9 if null.size else \
        np.zeros(unknown.size, dtype=bool)
    out = pinned & suppressed
    out[unknown[~free]] = True
    return out


def _pinned_at_zero(values: np.ndarray, unknown: np.ndarray,
                    equations: Sequence[Equation]) -> np.ndarray:
    """Unknown cells that counts being non-negative pins at zero: in an equation whose
    unknowns all carry the same sign and whose published cells add up to zero, each unknown
    is zero (repeated until nothing more is pinned)."""
    pinned = np.zeros(len(values), dtype=bool)
    changed = True
    while changed:
        changed = False
        for cells, coefs, has_slack in equations:
            open_terms = [(c, k) for c, k in zip(cells, coefs, strict=True)
                          if unknown[c] and not pinned[c]]
            if not open_terms:
                continue
            signs = {np.sign(k) for _, k in open_terms}
            known = sum(k * values[c] for c, k in zip(cells, coefs, strict=True)
                        if not unknown[c] or pinned[c])
            if has_slack:
                # The slack is a non-negative unknown added with sign +1.
                if signs != {1.0} or abs(known) > 1e-9:
                    continue
            elif len(signs) != 1 or abs(known) > 1e-9:
                continue
            for c, _ in open_terms:
                pinned[c] = True
            changed = True
    return pinned


def _equations(group: pd.DataFrame) -> list[Equation]:
    """Linear relations among the published counts of one table (positions in ``group``)."""
    pos = {idx: k for k, idx in enumerate(group.index)}
    table_type = group["table_type"].iloc[0]
    equations: list[Equation] = []
    cols = [c for c in dict.fromkeys(group["col_level"]) if c != "All"]
    has_all = (group["col_level"] == "All").any()
    if table_type == "single":
        parts = group[group["row_type"].isin(["level", "missing"])]
        totals = group[group["row_type"] == "total"]
        line_rows = [*dict.fromkeys(parts["row_level"]), "__total__"]
        source = pd.concat([parts, totals])
    elif table_type == "multi":
        items = group[group["row_type"] == "item"]
        line_rows = list(dict.fromkeys(items["row_level"]))
        source = group[group["row_type"].isin(["item", "respondents", "mentions", "net"])]
        line_rows = list(dict.fromkeys(source["row_level"]))
    else:
        return equations
    cell = {(row_level, col_level): pos[i] for i, row_level, col_level
            in zip(source.index, source["row_level"], source["col_level"], strict=True)}
    n = group["n"]
    row_type = group["row_type"].to_numpy()
    # Across columns: each line adds up to its All cell.
    if has_all and cols:
        for row_level in line_rows:
            members = [cell[(row_level, c)] for c in cols if (row_level, c) in cell]
            if (row_level, "All") not in cell or not members:
                continue
            total = cell[(row_level, "All")]
            n_parts = n.iloc[members].sum()
            slack = bool(n.iloc[total] != n_parts)
            equations.append(((*members, total),
                              (*(1.0 for _ in members), -1.0), slack))
    # Down rows: levels add up to the base (single), items add up to mentions (multi).
    for c in (["All"] if has_all else []) + cols:
        if table_type == "single":
            members = [cell[(r, c)] for r in line_rows[:-1] if (r, c) in cell]
            total_key = ("__total__", c)
        else:
            members = [cell[(r, c)] for r in line_rows
                       if (r, c) in cell and row_type[cell[(r, c)]] == "item"]
            total_key = ("__mentions__", c)
        if total_key in cell and members:
            equations.append(((*members, cell[total_key]),
                              (*(1.0 for _ in members), -1.0), False))
    return equations


def _complementary(values: np.ndarray, suppressed: np.ndarray, is_total: np.ndarray,
                   equations: Sequence[Equation], protect: np.ndarray | None = None,
                   eligible: np.ndarray | None = None,
                   worth: np.ndarray | None = None,
                   prefer: np.ndarray | None = None, fallback: bool = True) -> np.ndarray:
    """Greedy complementary suppression: add, one at a time, the published cell (on an
    equation that exposes a protected cell) that leaves the fewest cells exposed, and
    among those a non-zero interior cell with the smallest count.

    ``suppressed`` marks every unknown of the equations (hidden cells, and cells that are
    never published such as the unshown column); ``protect`` those that must stay unknown
    (default: all of them); ``eligible`` the cells that may be hidden to protect them
    (default: every published one); ``worth`` the cells whose exposure matters when hidden
    as complements (default: all); ``prefer`` the cells to hide first among those that
    leave as few cells exposed (default: none); without ``fallback``, cells off the exposing
    equations are never tried. A base is published beside every cell of its column,
    so hiding it protects nothing: the caller leaves bases out of ``eligible``.
    """
    protect = suppressed.copy() if protect is None else protect
    worth = np.ones_like(suppressed) if worth is None else worth
    prefer = np.zeros_like(suppressed) if prefer is None else prefer
    eligible = np.ones_like(suppressed) if eligible is None else eligible
    extra = np.zeros_like(suppressed)
    current = suppressed.copy()

    # A zero is published where it is not hidden (unless the rule protects zeros), so a
    # hidden zero worked out is no disclosure; the caller says which cells count.
    def exposed_of(unknown: np.ndarray, added: np.ndarray) -> np.ndarray:
        return recoverable_cells(values, unknown, equations) & (protect | (added & worth))

    for _ in range(len(values) + 1):
        exposed = exposed_of(current, extra)
        if not exposed.any():
            break
        hot = set(np.flatnonzero(exposed).tolist())
        candidates = {c for cells, _, _ in equations if hot & set(cells) for c in cells
                      if not current[c] and eligible[c]}
        if not candidates and fallback:
            # Nothing on the exposing equations may be hidden: hide any other published
            # cell of the table, which at worst hides more than needed.
            candidates = set(np.flatnonzero(~current & eligible).tolist())
        if not candidates:
            break

        def score(c: int) -> tuple:
            trial, added = current.copy(), extra.copy()
            trial[c] = added[c] = True
            left = int(exposed_of(trial, added).sum())
            return (left, not prefer[c], bool(values[c] == 0), bool(is_total[c]), values[c], c)

        best = min(candidates, key=score)
        current[best] = True
        extra[best] = True
    return extra


#: The column of partnerships counted in ``All`` but in no shown column (no phase, or a
#: phase too small to show): never published, but worked out as ``All`` less the columns.
UNSHOWN_COLUMN = "\x00unshown"
#: Rows that hold a column's base (printed as ``base_n`` beside every cell of the column).
BASE_ROWS = ("total", "respondents")


def _small_columns(group: pd.DataFrame, threshold: int) -> set[str]:
    """Shown columns whose base counts 1 to ``threshold - 1`` respondents."""
    if "base_n" not in group:
        return set()
    body = group[group["row_type"].isin(["level", "item", *BASE_ROWS])]
    small = set()
    bases = pd.to_numeric(body["base_n"], errors="coerce")
    for column, base in zip(body["col_level"], bases, strict=True):
        if column != "All" and not pd.isna(base) and 0 < base < threshold:
            small.add(column)
    return small


def _unshown_rows(group: pd.DataFrame) -> pd.DataFrame:
    """One row per line of the table for the unshown column: ``All`` less the shown columns
    (empty when every respondent of ``All`` is in a shown column)."""
    columns = [c for c in dict.fromkeys(group["col_level"]) if c != "All"]
    if not columns or not (group["col_level"] == "All").any():
        return group.iloc[0:0]
    counts = pd.to_numeric(group["n"], errors="coerce").fillna(0.0)
    keys = ["row_level", "row_type"]
    whole = group[group["col_level"] == "All"].assign(n=counts)
    parts = group[group["col_level"] != "All"].assign(n=counts).groupby(
        keys, sort=False)["n"].sum()
    rest = whole.set_index(keys)["n"].sub(parts, fill_value=0.0)
    if not (rest != 0).any():
        return group.iloc[0:0]
    rows = whole.drop(columns="n").set_index(keys).loc[rest.index].reset_index()
    return rows.assign(col_level=UNSHOWN_COLUMN, n=rest.to_numpy())


#: Statistics of a numeric summary that are one respondent's own answer.
EXTREME_STATS = ("min", "max")


def _numeric_hidden(group: pd.DataFrame, primary: np.ndarray, threshold: int) -> np.ndarray:
    """Rows of a numeric summary to hide beyond groups that are too small.

    The minimum and maximum are each one respondent's answer (the oldest partnership's age
    is that partnership's), so they are never published. And ``All``'s mean times its count,
    less each published column's mean times its count, is the total of the respondents in
    no published column (unclassified, or in a column hidden as too small): when they are 1
    to ``threshold - 1``, ``All`` is hidden.
    """
    extra = group["stat"].isin(EXTREME_STATS).to_numpy(copy=True) if "stat" in group else \
        np.zeros(len(group), dtype=bool)
    columns = group["col_level"].to_numpy()
    counts = pd.to_numeric(group["n"], errors="coerce").to_numpy(dtype=float)
    n_of: dict[str, float] = {}
    hidden_column: dict[str, bool] = {}
    for column, n, hidden in zip(columns, counts, primary, strict=True):
        n_of.setdefault(column, n)
        hidden_column[column] = hidden_column.get(column, False) or bool(hidden)
    if "All" in n_of and len(n_of) > 1:
        published = sum(n for column, n in n_of.items()
                        if column != "All" and not hidden_column[column] and not np.isnan(n))
        rest = n_of["All"] - published
        if 0 < rest < threshold:
            extra = extra | (columns == "All")
    return extra


def _protect(group: pd.DataFrame, values: np.ndarray, primary: np.ndarray,
             unshown: pd.DataFrame, small_columns: set[str],
             rule: DisclosureRule) -> np.ndarray:
    """Complementary cells of one table, so that no hidden count and no small count of the
    unshown column (``All`` less the shown columns) can be worked out.

    The unshown column's cells are unknowns of the equations (they are never printed);
    those counting 1 to threshold - 1 respondents (or any, when the unshown column itself
    counts so few) must stay unknown, like a hidden cell. Bases are printed beside every
    cell, so a base is never hidden to protect another cell, and the base of a hidden small
    column, which the printed bases give together with the unshown column's, is not audited.
    """
    body = pd.concat([group, unshown], ignore_index=True) if len(unshown) else \
        group.reset_index(drop=True)
    n_real = len(group)
    counts = pd.to_numeric(body["n"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    counts[:n_real] = values
    is_base = body["row_type"].isin(BASE_ROWS).to_numpy()
    virtual = np.zeros(len(body), dtype=bool)
    virtual[n_real:] = True
    unknown = np.zeros(len(body), dtype=bool)
    unknown[:n_real] = primary
    small_unshown = False
    if len(unshown):
        bases = counts[virtual & is_base]
        small_unshown = bool(len(bases) and 0 < bases.max() < rule.threshold)
        # The unshown column's base is known (All less the shown bases) unless a shown
        # base is hidden too.
        unknown |= virtual & (~is_base | bool(small_columns))
    # A base cannot be protected by hiding cells (the other bases and All's are printed),
    # so a hidden small column's base is not audited: its size is All less the shown bases,
    # told together with the unshown column's; the answers of its respondents are.
    worth = (counts > 0) | rule.suppress_zeros
    protect = unknown & ~virtual & ~is_base & worth
    sensitive = worth & ((counts < rule.threshold) | small_unshown)
    protect |= virtual & unknown & sensitive
    eligible = ~virtual & ~is_base
    is_total = body["row_type"].isin(["total", "respondents", "mentions"]).to_numpy() | \
        (body["col_level"] == "All").to_numpy()
    equations = _equations(body)
    extra = np.zeros(len(body), dtype=bool)
    if len(unshown):
        # The unshown column is protected with All cells first (two hidden All cells hide
        # each other's unshown cells): that keeps the by-phase comparisons (tests, findings)
        # whole, where a hidden phase cell would withhold them.
        is_all = (body["col_level"] == "All").to_numpy()
        extra = _complementary(counts, unknown, is_total, equations, protect & virtual,
                               eligible & is_all, worth, fallback=False)
    extra |= _complementary(counts, unknown | extra, is_total, equations,
                            protect | (extra & worth), eligible, worth)
    return extra[:n_real]


def suppress_table(table: pd.DataFrame, rule: DisclosureRule) -> pd.DataFrame:
    """Apply primary and complementary suppression to a tidy table.

    Parameters
    ----------
    table : DataFrame
        A tidy table from :mod:`pipeline.stats.tabulate` (one or several ``table_id``); not
        modified.
    rule : DisclosureRule

    Returns
    -------
    DataFrame
        A copy with :data:`DISCLOSURE_COLUMNS` added. ``n`` and ``pct`` keep the analyst's
        numbers; ``n_display`` and ``pct_display`` show ``<k`` where a count is below the
        threshold and ``rule.protect_symbol`` where a cell is hidden to protect one. Numeric
        summaries (``table_type = "numeric"``) are suppressed when their group has fewer
        than ``threshold`` respondents.

    References
    ----------
    .. [1] Hundepool, A. et al. (2012). *Statistical Disclosure Control*, ch. 4 (magnitude
       and frequency tables; primary and secondary suppression). Wiley.
    .. [2] Cox, L. H. (1980). Suppression methodology and statistical disclosure control.
       *JASA* 75, 377–385.
    """
    if not isinstance(rule.threshold, (int, np.integer)) or rule.threshold < 1:
        raise PulsecheckError("STAT_008", name="threshold", value=rule.threshold,
                              expected="a whole number of at least 1")
    for column in ("table_id", "table_type", "n"):
        if column not in table.columns:
            present = ", ".join(map(str, table.columns[:20]))
            raise PulsecheckError("STAT_001", name=column, present=present)
    # A lazy copy: pandas copies a column of it only when it is changed.
    out = table.copy(deep=False)
    suppressed = np.zeros(len(out), dtype=bool)
    kind = np.array([""] * len(out), dtype=object)
    counts = pd.to_numeric(out["n"], errors="coerce").to_numpy(dtype=float)
    small = (counts < rule.threshold) & ((counts > 0) | rule.suppress_zeros)
    small &= ~np.isnan(counts)
    for _, group in out.groupby("table_id", sort=False):
        positions = out.index.get_indexer(group.index)
        values = counts[positions]
        primary = small[positions].copy()
        if group["table_type"].iloc[0] == "numeric":
            primary |= _numeric_hidden(group, primary, rule.threshold)
            suppressed[positions] = primary
            kind[positions[primary]] = "primary"
            continue
        # A column of 1 to threshold - 1 respondents is hidden whole, its base included:
        # every share in it describes those few (and its base is a small count itself).
        small_columns = _small_columns(group, rule.threshold)
        primary |= group["col_level"].isin(small_columns).to_numpy()
        extra = np.zeros_like(primary)
        unshown = _unshown_rows(group)
        if rule.complementary and (primary.any() or len(unshown)):
            extra = _protect(group, values, primary, unshown, small_columns, rule)
        suppressed[positions] = primary | extra
        kind[positions[primary]] = "primary"
        kind[positions[extra]] = "complementary"
    marks = np.where(kind == "primary", rule.symbol.format(k=rule.threshold),
                     rule.protect_symbol)
    out["suppressed"] = suppressed
    out["suppression"] = kind
    out["n_display"] = [m if s else ("" if np.isnan(v) else str(int(v)))
                        for s, v, m in zip(suppressed, counts, marks, strict=True)]
    if "pct" in out.columns:
        pct = pd.to_numeric(out["pct"], errors="coerce").to_numpy(dtype=float)
        out["pct_display"] = [m if s else ("" if np.isnan(p) else f"{p:.1f}")
                              for s, p, m in zip(suppressed, pct, marks, strict=True)]
    else:
        out["pct_display"] = ""
    return out


#: The mark of every hidden cell in published files unless ``survey_instrument/disclosure.toml``
#: names another (assumption A-DISC-1).
PUBLISHED_SYMBOL = "[c]"
#: The ``suppression`` value of every hidden cell in published files (one value whatever the
#: reason: a label saying "small count" would tell a reader the count is 1 to threshold - 1).
PUBLISHED_LABEL = "hidden"
#: Text of a withheld statistic in the ``warnings`` column of published tests.
WITHHELD = "withheld: computed from a hidden count"


#: Columns of a hidden row that published files keep (everything else is blank there).
KEPT_BESIDE_MARK = frozenset({
    "table_id", "table_type", "row_var", "row_level", "row_label", "row_type", "col_var",
    "col_level", "col_label", "col_letter", "base_n", "base_weighted", "stat",
    *DISCLOSURE_COLUMNS})


def published_view(table: pd.DataFrame, symbol: str | None = None) -> pd.DataFrame:
    """Blank the hidden numbers of a suppressed table (for output that leaves the project).

    Parameters
    ----------
    table : DataFrame
        Output of :func:`suppress_table`; not modified.
    symbol : str, optional
        The mark of every hidden cell in ``n_display`` and ``pct_display``; without it the
        marks of :func:`suppress_table` are kept.

    Returns
    -------
    DataFrame
        A copy where every column but the labels, the base and the mark
        (:data:`KEPT_BESIDE_MARK`) is blank on suppressed rows (counts, percentages,
        intervals, interval method, rank, warnings, design effect); ``suppression`` is
        :data:`PUBLISHED_LABEL` on every hidden row (primary or complementary alike); and
        the significance letters of a row are blank wherever a cell of that row is hidden,
        since they compare its cells.
    """
    if "suppressed" not in table.columns:
        raise PulsecheckError("STAT_001", name="suppressed",
                              present=", ".join(map(str, table.columns[:20])))
    out = table.copy()
    hidden = out["suppressed"].to_numpy(dtype=bool)
    # Only the cell's labels, its base and its mark are kept beside a hidden cell: any other
    # column (a rank, a warning, an interval method that changes at 0% or 100%, a design
    # effect) could narrow the count.
    for column in out.columns:
        if column not in KEPT_BESIDE_MARK and hidden.any():
            out[column] = out[column].astype(object)
            out.loc[hidden, column] = None
    # A hidden base (a column of too few respondents, hidden whole) is blank beside every
    # cell of its column.
    if {"table_id", "col_level", "row_type"} <= set(out.columns):
        keys = list(zip(out["table_id"], out["col_level"], strict=True))
        small = {key for key, h, kind in zip(keys, hidden, out["row_type"], strict=True)
                 if h and kind in BASE_ROWS}
        if small:
            rows = np.array([key in small for key in keys], dtype=bool)
            for column in ("base_n", "base_weighted"):
                if column in out.columns:
                    out[column] = out[column].astype(object)
                    out.loc[rows, column] = None
    if "suppression" in out.columns:
        out["suppression"] = np.where(hidden, PUBLISHED_LABEL, "")
    if symbol is not None:
        for column in ("n_display", "pct_display"):
            if column in out.columns:
                out[column] = out[column].astype(object)
                out.loc[hidden, column] = symbol
    if "sig_letters" in out.columns and {"table_id", "row_level"} <= set(out.columns):
        keys = list(zip(out["table_id"], out["row_level"], strict=True))
        touched = {key for key, h in zip(keys, hidden, strict=True) if h}
        rows = np.array([key in touched for key in keys], dtype=bool)
        out.loc[rows, "sig_letters"] = None
    return out


def published_tests(tests: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Withhold every test computed from a hidden count (for output that leaves the project).

    A test of one row (a level or an item against the phase columns) uses that row's counts
    in the phase columns and the phase bases; a test of the whole table uses every level in
    the phase columns. A test whose counts are all published is kept at full precision (it
    is a function of published numbers, so it reveals nothing more); any other has its
    statistic, degrees of freedom and p-value blanked and :data:`WITHHELD` as its warning.

    Parameters
    ----------
    tests : DataFrame
        Tests of one or more tables (``table_id``, ``row_level``, ``statistic``, ...).
    table : DataFrame
        The tables after suppression (:func:`suppress_table`), with ``table_id``.

    Returns
    -------
    DataFrame
        A copy of ``tests``.

    Notes
    -----
    Matching a printed statistic against each candidate value of a hidden count recovers
    the count exactly; rounding only shrinks the set of statistics an attacker must try, so
    the statistic is withheld instead (assumption A-DISC-2).
    """
    out = tests.copy()
    if out.empty:
        return out
    body = table[table["row_type"].isin(["level", "item", "total", "respondents"])
                 & (table["col_level"] != "All")]
    hidden_rows: dict[str, set] = {}
    whole: dict[str, bool] = {}
    bases_hidden: dict[str, bool] = {}
    for table_id, row_level, row_type, hidden in zip(body["table_id"], body["row_level"],
                                                     body["row_type"],
                                                     body["suppressed"].astype(bool), strict=True):
        if not hidden:
            continue
        if row_type in ("total", "respondents"):
            bases_hidden[table_id] = True
        else:
            hidden_rows.setdefault(table_id, set()).add(row_level)
            whole[table_id] = True
    withheld = []
    for table_id, row_level in zip(out["table_id"], out["row_level"], strict=True):
        if bases_hidden.get(table_id, False):
            withheld.append(True)
        elif isinstance(row_level, str) and row_level:
            withheld.append(row_level in hidden_rows.get(table_id, set()))
        else:
            withheld.append(whole.get(table_id, False))
    withheld = np.array(withheld, dtype=bool)
    for column in ("statistic", "df", "ddf", "p_value"):
        if column in out.columns:
            out[column] = out[column].astype(object)
            out.loc[withheld, column] = None
    if "warnings" in out.columns:
        out["warnings"] = out["warnings"].astype(object)
        out.loc[withheld, "warnings"] = WITHHELD
    return out


# --------------------------------------------------------------------------------------------
# Linked tables: suppression that holds across tables of the same variable
# --------------------------------------------------------------------------------------------

#: The column of respondents a tidy table counts in ``All`` but does not show.
_HIDDEN = "\x00hidden"


@dataclass(frozen=True)
class Link:
    """A published relation between two tables: in every column, the count of
    ``coarse_level`` in ``coarse_table`` equals the sum of ``fine_levels`` in ``fine_table``
    (e.g. a band "before 2010" and the year bands inside it, or a recode and its sources)."""

    coarse_table: str
    coarse_level: str
    fine_table: str
    fine_levels: tuple[str, ...]


def _columns(table: pd.DataFrame) -> tuple[list[str], dict[str, float]]:
    cells = table[table["row_type"].isin(["level", "item"])]
    shown = [c for c in dict.fromkeys(cells["col_level"]) if c != "All"]
    # The first base given in each column (NaN if none is).
    bases: dict[str, float] = {}
    for column, base_n in zip(cells["col_level"], cells["base_n"], strict=True):
        if pd.isna(bases.get(column, np.nan)):
            bases[column] = np.nan if pd.isna(base_n) else base_n
    if not shown:
        return ["All"], {"All": float(bases.get("All", np.nan))}
    base = {c: float(bases[c]) for c in shown}
    base[_HIDDEN] = float(bases["All"]) - sum(base.values())
    return [*shown, _HIDDEN], base


def _published_system(tables: Mapping[str, pd.DataFrame], links: Sequence[Link]):
    """Unknowns (every cell, plus a hidden column per table) and what publication fixes."""
    index: dict[tuple[str, str, str], int] = {}
    upper: list[float] = []
    rows: list[dict[int, float]] = []
    rhs: list[float] = []

    def var(table: str, level: str, column: str) -> int:
        key = (table, level, column)
        if key not in index:
            index[key] = len(index)
            upper.append(np.inf)
        return index[key]

    for name, table in tables.items():
        columns, base = _columns(table)
        cells = table[table["row_type"].isin(["level", "item"])]
        levels = list(dict.fromkeys(cells["row_level"]))
        # (suppressed, n) of each cell, by level (in table order) and column.
        by_level: dict[str, dict[str, tuple[bool, float]]] = {}
        for level, column, hidden, n in zip(cells["row_level"], cells["col_level"],
                                            cells["suppressed"], cells["n"], strict=True):
            by_level.setdefault(level, {})[column] = (bool(hidden), n)
        for level, by_col in by_level.items():
            parts = [var(name, level, c) for c in columns]
            all_cell = by_col.get("All")
            if columns != ["All"] and all_cell is not None and not all_cell[0]:
                rows.append({p: 1.0 for p in parts})
                rhs.append(float(all_cell[1]))
            for column, variable in zip(columns, parts, strict=True):
                upper[variable] = min(upper[variable], base[column])
                if column in by_col and not by_col[column][0]:
                    rows.append({variable: 1.0})
                    rhs.append(float(by_col[column][1]))
        if table["table_type"].iloc[0] == "single":
            for column in columns:
                rows.append({var(name, level, column): 1.0 for level in levels})
                rhs.append(base[column])
        else:
            mentions = table[(table["row_type"] == "mentions")
                             & ~table["suppressed"].astype(bool)].set_index("col_level")["n"]
            known = {c: float(mentions[c]) for c in mentions.index}
            shown = [c for c in columns if c != _HIDDEN]
            if _HIDDEN in columns and "All" in known and all(c in known for c in shown):
                known[_HIDDEN] = known["All"] - sum(known[c] for c in shown)
            for column in columns:
                if column in known:
                    rows.append({var(name, level, column): 1.0 for level in levels})
                    rhs.append(known[column])
    for link in links:
        coarse_columns, _ = _columns(tables[link.coarse_table])
        fine_columns, _ = _columns(tables[link.fine_table])
        if coarse_columns != fine_columns:
            continue
        for column in coarse_columns:
            terms = {var(link.coarse_table, link.coarse_level, column): 1.0}
            for level in link.fine_levels:
                terms[var(link.fine_table, level, column)] = \
                    terms.get(var(link.fine_table, level, column), 0.0) - 1.0
            rows.append(terms)
            rhs.append(0.0)
    return index, upper, rows, rhs


def linked_recoverable(tables: Mapping[str, pd.DataFrame], links: Sequence[Link]
                       ) -> list[tuple[str, str, str]]:
    """Suppressed cells that the published cells of linked tables pin to one whole number.

    Every table's cells add up to its bases (or mentions), the ``All`` column is the shown
    columns plus an unshown one (respondents without a banner value), and each :class:`Link`
    ties a coarse cell to the sum of fine cells. Each suppressed, non-zero cell is bounded by
    linear programming over all of it; the cell is recoverable when its bounds hold a single
    whole number.

    Parameters
    ----------
    tables : mapping of table id to DataFrame
        Tidy tables after :func:`suppress_table` (single-choice and check-all only).
    links : sequence of Link

    Returns
    -------
    list of (table id, row level, column level)

    References
    ----------
    .. [1] Hundepool, A. et al. (2012). *Statistical Disclosure Control*, sec. 4.2 and 4.4
       (auditing suppression in linked tables by linear programming). Wiley.
    """
    from scipy.optimize import linprog
    from scipy.sparse import lil_matrix

    index, upper, rows, rhs = _published_system(tables, links)
    matrix = lil_matrix((len(rows), len(index)))
    for r, terms in enumerate(rows):
        for c, coefficient in terms.items():
            matrix[r, c] = coefficient
    matrix = matrix.tocsr()
    bounds = [(0.0, None if np.isinf(u) else u) for u in upper]
    found = []
    for name, table in tables.items():
        columns, _ = _columns(table)
        hidden = table[table["suppressed"].astype(bool) & (table["n"] > 0)
                       & table["row_type"].isin(["level", "item"])]
        for cell in hidden.itertuples(index=False):
            if cell.col_level == "All" and columns != ["All"]:
                continue  # an All cell is the sum of its columns, which are audited
            target = index[(name, cell.row_level, cell.col_level)]
            cost = np.zeros(len(index))
            cost[target] = 1.0
            low = linprog(cost, A_eq=matrix, b_eq=rhs, bounds=bounds, method="highs")
            high = linprog(-cost, A_eq=matrix, b_eq=rhs, bounds=bounds, method="highs")
            if low.status != 0 or high.status != 0:
                continue
            if np.ceil(low.fun - 1e-6) == np.floor(-high.fun + 1e-6):
                found.append((name, cell.row_level, cell.col_level))
    return found


def _hide(table: pd.DataFrame, positions: Sequence[int], symbol: str) -> pd.DataFrame:
    out = table.copy()
    labels = out.index[list(positions)]
    out.loc[labels, "suppressed"] = True
    out.loc[labels, "suppression"] = "linked"
    out.loc[labels, "n_display"] = symbol
    out.loc[labels, "pct_display"] = symbol
    return out


def protect_linked(tables: Mapping[str, pd.DataFrame], links: Sequence[Link],
                   rule: DisclosureRule) -> dict[str, pd.DataFrame]:
    """Extend suppression until no cell of linked tables can be recovered.

    While :func:`linked_recoverable` finds a cell, one more cell is hidden in the same table
    and column (the smallest non-zero published cell, preferring the cell's siblings in a
    link), or failing that in the same row. Each round hides at least one more cell, so the
    loop ends; hiding more never lets an attacker learn more.

    Parameters
    ----------
    tables : mapping of table id to DataFrame
        Tables after :func:`suppress_table`; not modified.
    links : sequence of Link
    rule : DisclosureRule
        Supplies the display mark of a cell hidden to protect another.

    Returns
    -------
    dict
        Every table of ``tables``; cells hidden here have ``suppression = "linked"``.
    """
    linked = {link.coarse_table for link in links} | {link.fine_table for link in links}
    out = {name: table.copy(deep=False) for name, table in tables.items()}
    audited = {name: out[name] for name in linked if name in out}
    symbol = rule.protect_symbol
    siblings: dict[tuple[str, str], set[str]] = {}
    for link in links:
        for level in link.fine_levels:
            siblings.setdefault((link.fine_table, level), set()).update(link.fine_levels)
    for _ in range(sum(len(t) for t in audited.values()) + 1):
        leaks = linked_recoverable(audited, links)
        if not leaks:
            break
        name, level, column = leaks[0]
        table = audited[name]
        open_cells = table[~table["suppressed"].astype(bool) & (table["n"] > 0)
                           & table["row_type"].isin(["level", "item"])]
        same_column = open_cells[(open_cells["col_level"] == column)
                                 & (open_cells["row_level"] != level)]
        near = same_column[same_column["row_level"].isin(siblings.get((name, level), set()))]
        pool = near if not near.empty else same_column
        if pool.empty:
            pool = open_cells[(open_cells["row_level"] == level)
                              & (open_cells["col_level"] != "All")]
        if pool.empty:
            pool = open_cells
        if pool.empty:
            break
        chosen = pool.sort_values(["n", "row_level"], kind="stable").index[0]
        audited[name] = _hide(table, [table.index.get_loc(chosen)], symbol)
    out.update(audited)
    return out
