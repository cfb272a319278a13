"""Check-all (multiple-response) tables: the base, respondents vs mentions, nets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import PulsecheckError
from pipeline.stats.tabulate import any_of_net, check_all_table

ITEMS = ["b_money", "b_staff", "b_time"]


@st.composite
def check_all_frames(draw):
    n = draw(st.integers(2, 50))
    rows = []
    for _ in range(n):
        seen = draw(st.booleans())
        ticks = draw(st.lists(st.integers(0, 1), min_size=3, max_size=3))
        rows.append({item: (float(t) if seen else np.nan)
                     for item, t in zip(ITEMS, ticks, strict=True)})
    frame = pd.DataFrame(rows, columns=ITEMS)
    frame["g"] = draw(st.lists(st.sampled_from(["x", "y"]), min_size=n, max_size=n))
    return frame


@settings(max_examples=40, deadline=None)
@given(check_all_frames())
def test_check_all_bases__never_exceed_the_respondents_who_saw_the_question(frame):
    out = check_all_table(frame, ITEMS, col="g", col_levels=["x", "y"],
                          ci_method="wilson", nets={"any": ITEMS}).table
    saw = frame[ITEMS].notna().any(axis=1)
    for col_level, cells in out.groupby("col_level"):
        in_col = saw if col_level == "All" else saw & (frame["g"] == col_level)
        assert (cells["base_n"] <= int(in_col.sum())).all()
        items = cells[cells["row_type"] == "item"]
        assert (items["base_n"] == int(in_col.sum())).all()
        assert (items["n"] <= items["base_n"]).all()


@settings(max_examples=40, deadline=None)
@given(check_all_frames())
def test_mentions__are_counted_apart_from_respondents(frame):
    out = check_all_table(frame, ITEMS, ci_method="wilson").table.set_index("row_level")
    ticks = int(np.nansum(frame[ITEMS].to_numpy()))
    assert out.loc["__mentions__", "n"] == ticks
    assert out.loc["__respondents__", "n"] == int(frame[ITEMS].notna().any(axis=1).sum())
    if ticks:
        shares = out[out["row_type"] == "item"]["pct_of_mentions"]
        assert shares.sum() == pytest.approx(100.0)


def test_check_all_base__is_those_who_answered_not_all_respondents():
    frame = pd.DataFrame({"b_money": [1, 0, np.nan, 1], "b_staff": [0, 0, np.nan, 1],
                          "b_time": [0, 1, np.nan, 0]})
    out = check_all_table(frame, ITEMS, ci_method="wilson",
                          labels=["Money", "Staff", "Time"]).table.set_index("row_level")
    assert out.loc["b_money", "base_n"] == 3
    assert out.loc["b_money", "pct"] == pytest.approx(200 / 3)
    assert out.loc["b_money", "row_label"] == "Money"
    assert out.loc["b_money", "row_var"] == "b"


def test_any_of_net__is_one_zero_or_blank():
    frame = pd.DataFrame({"b_money": [1, 0, np.nan], "b_staff": [0, 0, np.nan],
                          "b_time": [0, 0, np.nan]})
    net = any_of_net(frame, ITEMS)
    assert net.iloc[0] == 1.0 and net.iloc[1] == 0.0 and np.isnan(net.iloc[2])


def test_partly_blank_answers__count_as_not_chosen_with_a_warning():
    frame = pd.DataFrame({"b_money": [1, 1], "b_staff": [np.nan, 0], "b_time": [0, 0]})
    result = check_all_table(frame, ITEMS, ci_method="wilson")
    assert result.warnings and "blank" in result.warnings[0]
    assert result.table.set_index("row_level").loc["b_staff", "base_n"] == 2


def test_indicator_with_other_codes__is_an_error():
    frame = pd.DataFrame({"b_money": [1, 2], "b_staff": [0, 0], "b_time": [0, 0]})
    with pytest.raises(PulsecheckError) as info:
        check_all_table(frame, ITEMS, ci_method="wilson")
    assert info.value.code == "STAT_007"


def test_check_all_table__does_not_modify_its_input():
    frame = pd.DataFrame({"b_money": [1, 0, np.nan], "b_staff": [0, 1, np.nan],
                          "b_time": [1, 1, np.nan], "g": ["x", "y", "x"]})
    before = frame.copy(deep=True)
    check_all_table(frame, ITEMS, col="g", col_levels=["x", "y"], ci_method="wilson",
                    nets={"any": ITEMS}, tests=["fisher"], pairwise="bh")
    pd.testing.assert_frame_equal(frame, before)


def test_check_all_trend__is_tested_per_item_over_the_respondents_who_answered():
    # Item b_money chosen by 1/5, 3/5, 5/5 across three ordered groups; one blank row per
    # group must not enter the bases.
    money = [1, 0, 0, 0, 0, np.nan, 1, 1, 1, 0, 0, np.nan, 1, 1, 1, 1, 1, np.nan]
    frame = pd.DataFrame({"b_money": money, "b_staff": [v if np.isnan(v) else 0 for v in money],
                          "b_time": [v if np.isnan(v) else 0 for v in money],
                          "g": [1] * 6 + [2] * 6 + [3] * 6})
    result = check_all_table(frame, ITEMS, col="g", col_levels=[1, 2, 3], ci_method="wilson",
                             tests=["trend"], trend_scores=[1, 2, 3])
    trend = result.tests.set_index("row_level")
    # Hand check: p = (0.2, 0.6, 1.0), n = 5 each, pbar = 0.6, sbar = 2:
    # X² = [5(-0.4)(-1) + 0 + 5(0.4)(1)]² / (0.24 * 10) = 16 / 2.4.
    assert trend.loc["b_money", "statistic"] == pytest.approx(16 / 2.4, rel=1e-12)
    assert np.isnan(trend.loc["b_staff", "statistic"])
