"""Small-cell protection: primary cells, complementary cells, nothing recoverable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from pipeline.stats.disclosure import (
    WITHHELD,
    DisclosureRule,
    published_tests,
    published_view,
    suppress_table,
)
from pipeline.stats.tabulate import check_all_table, single_choice_table


def frame_from_counts(counts: np.ndarray) -> pd.DataFrame:
    rows = []
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            rows += [{"q": f"r{i}", "g": f"c{j}"}] * int(counts[i, j])
    return pd.DataFrame(rows, columns=["q", "g"])


def interval_of_suppressed_cells(out: pd.DataFrame) -> dict[int, tuple[float, float]]:
    """Range of each suppressed count given the published counts and totals (by LP,
    independently of the suppression code)."""
    cells = out[out["row_type"].isin(["level", "total"])].reset_index(drop=True)
    index = {(r.row_level, r.col_level): k for k, r in cells.iterrows()}
    unknown = [k for k in range(len(cells)) if cells.loc[k, "suppressed"]]
    var = {k: v for v, k in enumerate(unknown)}
    rows = sorted({r for r, _ in index if r != "__total__"})
    cols = sorted({c for _, c in index if c != "All"})
    eqs = [[(r, c) for c in cols] + [(r, "All")] for r in [*rows, "__total__"]]
    eqs += [[(r, c) for r in rows] + [("__total__", c)] for c in [*cols, "All"]]
    a_eq, b_eq = [], []
    for eq in eqs:
        coef = np.zeros(len(unknown))
        rhs = 0.0
        for pos, key in enumerate(eq):
            sign = -1.0 if pos == len(eq) - 1 else 1.0
            k = index[key]
            if k in var:
                coef[var[k]] += sign
            else:
                rhs -= sign * cells.loc[k, "n"]
        a_eq.append(coef)
        b_eq.append(rhs)
    ranges = {}
    for k in unknown:
        c = np.zeros(len(unknown))
        c[var[k]] = 1.0
        lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        # status 3: unbounded, i.e. nothing pins the cell down from that side.
        ranges[k] = (lo.fun if lo.status != 3 else -np.inf,
                     -hi.fun if hi.status != 3 else np.inf)
    return ranges


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 4).flatmap(lambda r: st.integers(2, 4).flatmap(
    lambda c: st.lists(st.lists(st.integers(0, 12), min_size=c, max_size=c),
                       min_size=r, max_size=r))))
def test_suppressed_cells__cannot_be_solved_from_the_margins(counts):
    counts = np.asarray(counts)
    if counts.sum() == 0:
        return
    frame = frame_from_counts(counts)
    levels = [f"r{i}" for i in range(counts.shape[0])]
    cols = [f"c{j}" for j in range(counts.shape[1])]
    tab = single_choice_table(frame, "q", levels=levels, col="g", col_levels=cols,
                              ci_method="wilson").table
    out = suppress_table(tab, DisclosureRule(threshold=5))
    small = (out["n"] > 0) & (out["n"] < 5)
    assert out.loc[small, "suppressed"].all()
    cells = out[out["row_type"].isin(["level", "total"])].reset_index(drop=True)
    for k, (low, high) in interval_of_suppressed_cells(out).items():
        # A hidden zero may be pinned at 0 by non-negativity. The base of a column of fewer
        # than 5, hidden whole, is All's base less the printed bases: no cell suppression
        # hides it (the answers in that column are what is protected).
        whole_column = cells.loc[k, "row_type"] == "total" and cells.loc[k, "n"] < 5
        if cells.loc[k, "n"] > 0 and not whole_column:
            assert high - low > 0.5, (k, low, high)


def test_suppression__shows_symbol_and_keeps_the_analysts_numbers():
    counts = np.array([[2, 10], [8, 12]])
    tab = single_choice_table(frame_from_counts(counts), "q", levels=["r0", "r1"], col="g",
                              col_levels=["c0", "c1"], ci_method="wilson").table
    before = tab.copy(deep=True)
    out = suppress_table(tab, DisclosureRule(threshold=5))
    pd.testing.assert_frame_equal(tab, before)
    cell = out[(out["row_level"] == "r0") & (out["col_level"] == "c0")].iloc[0]
    assert cell["n"] == 2 and cell["suppression"] == "primary"
    assert cell["n_display"] == "<5" and cell["pct_display"] == "<5"
    assert (out["suppression"] == "complementary").sum() >= 1


def test_published_view__blanks_every_number_of_a_suppressed_cell():
    counts = np.array([[2, 10], [8, 12]])
    tab = single_choice_table(frame_from_counts(counts), "q", levels=["r0", "r1"], col="g",
                              col_levels=["c0", "c1"], ci_method="wilson").table
    view = published_view(suppress_table(tab, DisclosureRule(threshold=5)))
    hidden = view[view["suppressed"]]
    assert hidden[["n", "pct", "ci_low", "ci_high"]].isna().all().all()
    assert view[~view["suppressed"]]["n"].notna().all()


def test_threshold__is_configurable_and_zeros_follow_the_rule():
    counts = np.array([[0, 9], [8, 12]])
    tab = single_choice_table(frame_from_counts(counts), "q", levels=["r0", "r1"], col="g",
                              col_levels=["c0", "c1"], ci_method="wilson").table
    loose = suppress_table(tab, DisclosureRule(threshold=3))
    assert not loose["suppressed"].any()
    strict = suppress_table(tab, DisclosureRule(threshold=10, suppress_zeros=True))
    zero = strict[(strict["row_level"] == "r0") & (strict["col_level"] == "c0")].iloc[0]
    assert zero["suppressed"] and zero["n_display"] == "<10"


def test_check_all_table__small_item_count_is_protected_across_columns():
    frame = pd.DataFrame({"i_a": [1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1],
                          "i_b": [0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1],
                          "g": ["x"] * 3 + ["y"] * 9})
    tab = check_all_table(frame, ["i_a", "i_b"], col="g", col_levels=["x", "y"],
                          ci_method="wilson").table
    out = suppress_table(tab, DisclosureRule(threshold=5)).set_index(["row_level", "col_level"])
    assert out.loc[("i_a", "x"), "suppression"] == "primary"
    # i_a in y = All - x: the y cell (or the All cell) must be hidden too.
    assert out.loc[("i_a", "y"), "suppressed"] or out.loc[("i_a", "All"), "suppressed"]


def test_bad_threshold__raises_stat_008():
    tab = single_choice_table(pd.DataFrame({"q": ["a"]}), "q", levels=["a"],
                              ci_method="wilson").table
    with pytest.raises(Exception) as info:
        suppress_table(tab, DisclosureRule(threshold=0))
    assert getattr(info.value, "code", "") == "STAT_008"


def _suppressed_2x3() -> pd.DataFrame:
    counts = np.array([[2, 10, 14], [8, 12, 9], [11, 7, 13]])
    tab = single_choice_table(frame_from_counts(counts), "q", levels=["r0", "r1", "r2"],
                              col="g", col_levels=["c0", "c1", "c2"], ci_method="wilson",
                              pairwise="holm", tests=["pearson", "trend"],
                              trend_scores=[1, 2, 3], table_id="t")
    return tab


def test_published_view__marks_every_hidden_cell_alike_whatever_the_reason():
    tab = _suppressed_2x3()
    out = suppress_table(tab.table, DisclosureRule(threshold=5))
    assert {"primary", "complementary"} <= set(out["suppression"])
    view = published_view(out, "[c]")
    hidden = view[view["suppressed"]]
    assert set(hidden["suppression"]) == {"hidden"}
    assert set(hidden["n_display"]) == {"[c]"} and set(hidden["pct_display"]) == {"[c]"}
    assert set(view.loc[~view["suppressed"], "suppression"]) == {""}


def test_published_view__drops_significance_letters_of_a_row_with_a_hidden_cell():
    tab = _suppressed_2x3()
    out = suppress_table(tab.table, DisclosureRule(threshold=5))
    view = published_view(out, "[c]")
    rows = set(out.loc[out["suppressed"], "row_level"])
    letters = view[view["row_level"].isin(rows)]["sig_letters"]
    assert letters.isna().all() or (letters.fillna("") == "").all()


def test_published_tests__withhold_every_test_computed_from_a_hidden_count():
    tab = _suppressed_2x3()
    out = suppress_table(tab.table, DisclosureRule(threshold=5))
    tests = published_tests(tab.tests, out)
    hidden_rows = set(out.loc[out["suppressed"] & (out["col_level"] != "All")
                              & (out["row_type"] == "level"), "row_level"])
    for test in tests.to_dict("records"):
        level = test["row_level"]
        uses_hidden = level in hidden_rows if isinstance(level, str) and level else True
        assert pd.isna(test["statistic"]) == uses_hidden, level
        assert (test["warnings"] == WITHHELD) == uses_hidden, level
    # A test that uses only published counts is kept exactly.
    kept = tests["statistic"].notna()
    assert kept.any()
    assert tests.loc[kept, "statistic"].astype(float).tolist() == \
        tab.tests.loc[kept, "statistic"].astype(float).tolist()


def _trend_rows(rows):
    from pipeline.multiwave.trends import TREND_COLUMNS

    out = []
    for measure, wave, phase, n, base in rows:
        out.append({"measure": measure, "label": measure, "family": "f", "wave": wave,
                    "phase": phase, "n": n, "base_n": base, "pct": 100.0 * n / base,
                    "ci_low": 0.0, "ci_high": 100.0, "ci_method": "wilson", "series": 1,
                    "comparability": "", "caveat": "", "question": "q", "choices": "a"})
    return pd.DataFrame(out, columns=list(TREND_COLUMNS))


def test_published_trends__hide_small_shares_a_neighbour_and_every_test_that_uses_them():
    from pipeline.multiwave.trends import WITHHELD, Settings, Trends, _changes, published_trends

    table = _trend_rows([
        ("m", "2016", "All", 40, 100), ("m", "2016", "Early", 3, 30),
        ("m", "2016", "Mid", 17, 40), ("m", "2016", "Late", 20, 30),
        ("m", "2018", "All", 50, 100), ("m", "2018", "Early", 10, 30),
        ("m", "2018", "Mid", 20, 40), ("m", "2018", "Late", 20, 30)])
    trends = Trends(table=table, changes=_changes(table, Settings()),
                    trend_tests=pd.DataFrame(columns=["measure", "phase", "waves",
                                                      "statistic", "p_value", "q_value"]),
                    caveats=pd.DataFrame())
    public = published_trends(trends, 5)
    shown = public.table.set_index(["wave", "phase"])
    assert shown.loc[("2016", "Early"), "suppressed"]
    assert pd.isna(shown.loc[("2016", "Early"), "n"]) and pd.isna(shown.loc[("2016", "Early"),
                                                                              "pct"])
    # All minus the shown phases would give a lone hidden phase away: Mid (17) is hidden too.
    assert shown.loc[("2016", "Mid"), "suppressed"]
    assert not shown.loc[("2016", "Late"), "suppressed"]
    changes = public.changes.set_index("phase")
    for phase in ("Early", "Mid"):
        assert changes.loc[phase, "test"] == WITHHELD
        assert pd.isna(changes.loc[phase, "statistic"]) and pd.isna(changes.loc[phase,
                                                                                "pct_from"])
    assert pd.notna(changes.loc["Late", "statistic"])
    # A share that counts a cell the wave's own tables hide is hidden as well.
    public = published_trends(trends, 5, wave_hidden=frozenset({("2018", "q", "a", "Late")}))
    assert public.table.set_index(["wave", "phase"]).loc[("2018", "Late"), "suppressed"]


def test_suppression__a_cell_hidden_only_to_protect_another_never_says_below_threshold():
    # Complementary cells hold 5 or more; "<5" on them would be a false statement.
    tab = _suppressed_2x3()
    out = suppress_table(tab.table, DisclosureRule(threshold=5))
    extra = out[out["suppression"] == "complementary"]
    assert not extra.empty and (extra["n"] >= 5).all()
    assert not extra["n_display"].str.contains("<").any(), extra[["n", "n_display"]]
    assert not extra["pct_display"].str.contains("<").any()
    primary = out[out["suppression"] == "primary"]
    assert set(primary["n_display"]) == {"<5"}
