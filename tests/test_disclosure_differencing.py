"""Attacks by differencing on one published table: overall versus by phase, small groups.

A by-phase table publishes an ``All`` column and one column per phase; partnerships with no
phase (unclassified) are counted in ``All`` only. The difference ``All - Σ phases`` is then a
count of unclassified partnerships, published by subtraction: when it is 1 to 4 it is as
disclosive as a small count printed in a cell. A phase with 1 to 4 partnerships is a small
count too, printed as the base of every cell of its column, and every share in that column
describes those few partnerships.

The attacker here shares no code with :mod:`pipeline.stats.disclosure`: it reads only the
published view (counts and bases as printed, blanks where hidden), writes every relation a
reader can (cells add up to ``All`` with an unshown column, levels add up to their base,
items to the mentions, the unshown column to ``All``'s base less the shown bases) and bounds
each sensitive count by linear programming.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from pipeline.stats.disclosure import DisclosureRule, published_view, suppress_table
from pipeline.stats.tabulate import check_all_table, single_choice_table

K = 5
UNSHOWN = "(unshown)"


def _num(value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def sensitive_true_counts(analyst: pd.DataFrame, k: int = K) -> dict[tuple, int]:
    """What must stay unknown, from the analyst's (true) table: every count 1..k-1 of a shown
    column or of the unshown one, and every non-zero count of a group of 1..k-1 partnerships.
    The size of the group not shown by phase is All's base less the printed bases (not
    audited here: no cell suppression can hide it). Zeros are published (the rule does not
    protect them unless told to), so a zero worked out is no finding."""
    body = analyst[analyst["row_type"].isin(["level", "item"])]
    columns = [c for c in dict.fromkeys(body["col_level"]) if c != "All"]
    bases = {c: float(b) for c, b in zip(body["col_level"], body["base_n"], strict=True)}
    out = {}
    for level, group in body.groupby("row_level", sort=False):
        n = dict(zip(group["col_level"], group["n"].astype(float), strict=True))
        for column in columns:
            small_group = 0 < bases[column] < k
            if 0 < n[column] < k or (small_group and n[column] > 0):
                out[(level, column)] = int(n[column])
        if columns and "All" in n:
            rest = n["All"] - sum(n[c] for c in columns)
            rest_base = bases["All"] - sum(bases[c] for c in columns)
            if 0 < rest < k or (0 < rest_base < k and rest > 0):
                out[(level, UNSHOWN)] = int(rest)
    return out


def attack(published: pd.DataFrame) -> dict[tuple, tuple[float, float]]:
    """Least and greatest value of every unknown count, from the published view alone."""
    kind = published["table_type"].iloc[0]
    body = published[published["row_type"].isin(["level", "item"])]
    columns = [c for c in dict.fromkeys(body["col_level"]) if c != "All"]
    levels = list(dict.fromkeys(body["row_level"]))
    all_columns = ["All", *columns, UNSHOWN] if columns else ["All"]
    index: dict[tuple, int] = {}

    def var(key):
        return index.setdefault(key, len(index))

    rows, rhs = [], []

    def equation(terms: dict, value: float) -> None:
        rows.append(terms)
        rhs.append(value)

    printed = {(r["row_level"], r["col_level"]): _num(r["n"]) for r in body.to_dict("records")}
    base_printed = {}
    for column, base in zip(body["col_level"], body["base_n"], strict=True):
        if not math.isnan(_num(base)):
            base_printed[column] = _num(base)
    for level in levels:
        for column in all_columns:
            value = printed.get((level, column), math.nan)
            if not math.isnan(value):
                equation({var((level, column)): 1.0}, value)
        if columns:
            terms = {var((level, c)): 1.0 for c in [*columns, UNSHOWN]}
            terms[var((level, "All"))] = -1.0
            equation(terms, 0.0)
    for column in all_columns:
        base_key = ("__base__", column)
        var(base_key)
        if column in base_printed:
            equation({index[base_key]: 1.0}, base_printed[column])
        if kind == "single":
            terms = {var((level, column)): 1.0 for level in levels}
            terms[index[base_key]] = -1.0
            equation(terms, 0.0)
        else:
            mentions = published[(published["row_type"] == "mentions")
                                 & (published["col_level"] == column)]["n"].map(_num)
            if len(mentions) and not math.isnan(mentions.iloc[0]):
                equation({var((level, column)): 1.0 for level in levels}, mentions.iloc[0])
            for level in levels:  # an item is ticked by at most every respondent
                equation({var((level, column)): 1.0, var(("__slack__", level, column)): 1.0,
                          index[base_key]: -1.0}, 0.0)
    if columns:
        terms = {var(("__base__", c)): 1.0 for c in [*columns, UNSHOWN]}
        terms[var(("__base__", "All"))] = -1.0
        equation(terms, 0.0)
    a = np.zeros((len(rows), len(index)))
    for r, terms in enumerate(rows):
        for c, coefficient in terms.items():
            a[r, c] += coefficient
    out = {}
    for key, position in index.items():
        if key[0] == "__slack__":
            continue
        cost = np.zeros(len(index))
        cost[position] = 1.0
        low = linprog(cost, A_eq=a, b_eq=rhs, bounds=(0, None), method="highs")
        high = linprog(-cost, A_eq=a, b_eq=rhs, bounds=(0, None), method="highs")
        out[key] = (low.fun if low.status == 0 else -math.inf,
                    -high.fun if high.status == 0 else math.inf)
    return out


def recovered(analyst: pd.DataFrame, k: int = K) -> list[tuple]:
    """Sensitive counts the published view pins to one whole number."""
    published = published_view(suppress_table(analyst, DisclosureRule(threshold=k)), "[c]")
    bounds = attack(published)
    truth = sensitive_true_counts(analyst, k)
    found = []
    for key, true in truth.items():
        low, high = bounds.get(key, (-math.inf, math.inf))
        assert low - 1e-6 <= true <= high + 1e-6, (key, true, low, high)  # a sound attack
        if math.isfinite(low) and math.isfinite(high) and \
                math.ceil(low - 1e-6) == math.floor(high + 1e-6):
            found.append((key, true))
    return found


def single(cells: dict[str, list[int]], levels=("a", "b", "c")) -> pd.DataFrame:
    """A by-phase single-choice table from counts per column (``None``: no phase)."""
    rows = [{"q": level, "g": column} for column, counts in cells.items()
            for level, count in zip(levels, counts, strict=True) for _ in range(count)]
    frame = pd.DataFrame(rows, columns=["q", "g"])
    shown = [c for c in cells if c is not None]
    return single_choice_table(frame, "q", levels=list(levels), col="g", col_levels=shown,
                               ci_method="wilson").table


def test_overall_minus_phases__small_unclassified_count__is_not_published_by_subtraction():
    table = single({"c0": [10, 9, 8], "c1": [8, 12, 7], None: [2, 5, 6]})
    assert recovered(table) == []


def test_phase_with_three_partnerships__its_base_and_cells__cannot_be_worked_out():
    table = single({"c0": [10, 9, 8], "c1": [0, 3, 0], "c2": [7, 8, 9]})
    assert recovered(table) == []


def test_phase_with_three_partnerships__base_is_not_printed_beside_its_cells():
    table = single({"c0": [10, 9, 8], "c1": [0, 3, 0], "c2": [7, 8, 9]})
    published = published_view(suppress_table(table, DisclosureRule(threshold=K)), "[c]")
    bases = published[published["col_level"] == "c1"]["base_n"].map(_num)
    assert bases.isna().all(), bases.tolist()


def test_check_all__overall_minus_phases__small_unclassified_count__is_not_published():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"a": rng.integers(0, 2, 40), "b": rng.integers(0, 2, 40),
                          "c": rng.integers(0, 2, 40),
                          "g": ["c0"] * 18 + ["c1"] * 17 + [None] * 5})
    table = check_all_table(frame, ["a", "b", "c"], col="g", col_levels=["c0", "c1"],
                            ci_method="wilson").table
    assert recovered(table) == []


counts = st.lists(st.integers(0, 12), min_size=3, max_size=3)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(counts, min_size=2, max_size=3), st.lists(st.integers(0, 4), min_size=3,
                                                           max_size=3))
@example([[10, 9, 8], [8, 12, 7]], [2, 0, 1])
@example([[10, 9, 8], [0, 3, 0]], [0, 0, 0])
def test_by_phase_tables__nothing_sensitive__can_be_worked_out(phases, unclassified):
    cells = {f"c{j}": column for j, column in enumerate(phases)}
    cells[None] = unclassified
    if sum(map(sum, phases)) == 0:
        return
    assert recovered(single(cells)) == []


@pytest.mark.slow
def test_sample_run__overall_minus_phases__publishes_no_small_count(sample_run_dir):
    found = []
    for path in sorted((sample_run_dir / "published" / "tables").glob("*.csv")):
        if path.name == "tests.csv":
            continue
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        if table["table_type"].iloc[0] not in ("single", "multi"):
            continue
        body = table[table["row_type"].isin(["level", "item"])]
        phases = [c for c in dict.fromkeys(body["col_level"]) if c != "All"]
        for level, group in body.groupby("row_level", sort=False):
            n = dict(zip(group["col_level"], group["n"].map(_num), strict=True))
            if phases and not any(math.isnan(n.get(c, math.nan)) for c in ["All", *phases]):
                rest = n["All"] - sum(n[c] for c in phases)
                if 0 < rest < K:
                    found.append((path.stem, level, rest))
    assert found == []


# --- numeric summaries --------------------------------------------------------------------------

def numeric_published(values: list[float], groups: list[str | None]) -> pd.DataFrame:
    from pipeline.stats.tabulate import numeric_summary

    frame = pd.DataFrame({"x": values, "g": groups})
    shown = [g for g in dict.fromkeys(groups) if g is not None]
    table = numeric_summary(frame, "x", col="g", col_levels=shown).table
    return published_view(suppress_table(table, DisclosureRule(threshold=K)), "[c]")


def _stat(published: pd.DataFrame, column: str, stat: str) -> float:
    row = published[(published["col_level"] == column) & (published["stat"] == stat)]
    return _num(row["value"].iloc[0]) if len(row) else math.nan


def test_numeric__minimum_and_maximum__are_not_published():
    # The largest value is one partnership's own answer (the oldest partnership's age).
    published = numeric_published([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 41],
                                  ["a"] * 6 + ["b"] * 6)
    shown = [(c, s) for c in ("All", "a", "b") for s in ("min", "max")
             if not math.isnan(_stat(published, c, s))]
    assert shown == []


def test_numeric__overall_mean_less_phase_means__does_not_give_an_unclassified_value():
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 40]
    published = numeric_published(values, ["a"] * 6 + ["b"] * 6 + [None])
    n = {c: _num(published[published["col_level"] == c]["n"].iloc[0]) for c in ("All", "a", "b")}
    means = {c: _stat(published, c, "mean") for c in ("All", "a", "b")}
    rest = n["All"] - n["a"] - n["b"]
    if not any(math.isnan(v) for v in [*means.values(), *n.values()]) and 0 < rest < K:
        worked_out = (means["All"] * n["All"] - means["a"] * n["a"] - means["b"] * n["b"]) / rest
        assert abs(worked_out - 40) > 0.5, worked_out


# --- a tiny wave, end to end ----------------------------------------------------------------------

def _tiny_wave(root):
    """The 2016 sample cut to 12 partnerships: 6 Earlier, 3 Middle, 2 Later, 1 unclassified."""
    import csv

    from bad_inputs.builders import sample_copy
    from pipeline.ingest.readers import write_checksums

    wave = sample_copy(root)
    export = wave / "pulse_check_2016_qualtrics.csv"
    with open(export, newline="", encoding="utf-8-sig") as handle:
        records = list(csv.reader(handle))
    names = records[0]
    at = {name: names.index(name) for name in names}
    kept, seen = [], set()
    for record in records[3:]:
        pid = record[at["partnership_id"]]
        if record[at["Finished"]] == "1" and record[at["is_multisector"]] == "1" and \
                record[at["DistributionChannel"]] != "preview" and pid not in seen:
            seen.add(pid)
            kept.append(record)
        if len(kept) == 12:
            break
    for record, stage in zip(kept, ["1"] * 6 + ["3"] * 3 + ["4"] * 2 + ["6"], strict=True):
        record[at["pathway_stage"]] = stage
    with open(export, "w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(
            records[:3] + kept)
    write_checksums(wave, [export.name])
    return wave


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from click.testing import CliRunner

    from pipeline.cli.main import cli

    root = tmp_path_factory.mktemp("tiny")
    wave = _tiny_wave(root)
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(root / "out")])
    assert result.exit_code in (0, 1), result.output
    return root / "out"


def _tables(folder):
    for path in sorted(folder.glob("*.csv")):
        if path.name != "tests.csv":
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
            if "table_type" in table and table["table_type"].iloc[0] in ("single", "multi"):
                yield path.stem, table


@pytest.mark.slow
def test_tiny_wave__no_published_base__counts_fewer_than_five(tiny_run):
    small = []
    for name, table in _tables(tiny_run / "published" / "tables"):
        for column, base in zip(table["col_level"], table["base_n"].map(_num), strict=True):
            if 0 < base < K:
                small.append((name, column, base))
    assert sorted(set(small)) == []


@pytest.mark.slow
def test_tiny_wave__no_sensitive_count__can_be_worked_out_from_a_published_table(tiny_run):
    found = {}
    truth_of = dict(_tables(tiny_run / "internal" / "tables"))
    for name, published in _tables(tiny_run / "published" / "tables"):
        analyst = truth_of[name]
        for column in ("n", "base_n"):
            analyst = analyst.assign(**{column: analyst[column].map(_num)})
        bounds = attack(published)
        for key, true in sensitive_true_counts(analyst).items():
            low, high = bounds.get(key, (-math.inf, math.inf))
            if math.isfinite(low) and math.isfinite(high) and \
                    math.ceil(low - 1e-6) == math.floor(high + 1e-6):
                found.setdefault(name, []).append((key, true))
    assert found == {}


def test_published_view__hidden_row__keeps_only_its_labels_base_and_mark():
    # Any other column beside the mark (a rank, a warning, an interval method, a design
    # effect) can narrow the hidden count; an interval method that changes at 0% or 100%
    # would tell it outright.
    table = single({"c0": [10, 2, 8], "c1": [8, 12, 7], None: [6, 5, 6]})
    table = table.assign(rank=range(len(table)), deff=1.5, warnings="interval at 0%",
                         ci_method="beta_n")
    published = published_view(suppress_table(table, DisclosureRule(threshold=K)), "[c]")
    hidden = published[published["suppressed"].astype(bool)]
    assert len(hidden)
    kept = {"table_id", "table_type", "row_var", "row_level", "row_label", "row_type",
            "col_var", "col_level", "col_label", "col_letter", "base_n", "base_weighted",
            "stat", "suppressed", "suppression", "n_display", "pct_display"}
    leaking = {c: hidden[c].tolist() for c in hidden.columns
               if c not in kept and hidden[c].notna().any()}
    assert leaking == {}
