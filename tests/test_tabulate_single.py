"""Single-choice tables: bases, percentages, levels, missing answers, purity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import PulsecheckError
from pipeline.stats.design import SurveyDesign
from pipeline.stats.tabulate import TIDY_COLUMNS, single_choice_table

LEVELS = ["a", "b", "c", "d"]
GROUPS = [1, 2, 3]


@st.composite
def survey_frames(draw, weighted=False):
    n = draw(st.integers(3, 60))
    answers = draw(st.lists(st.sampled_from([*LEVELS[:3], None]), min_size=n, max_size=n))
    groups = draw(st.lists(st.sampled_from([*GROUPS, None]), min_size=n, max_size=n))
    frame = pd.DataFrame({"q": answers, "g": groups})
    if weighted:
        frame["w"] = draw(st.lists(st.floats(0.5, 5), min_size=n, max_size=n))
    return frame


def table(frame, **kwargs):
    options = dict(levels=LEVELS, col="g", col_levels=GROUPS, ci_method="wilson")
    options.update(kwargs)
    return single_choice_table(frame, "q", **options).table


@settings(max_examples=40, deadline=None)
@given(survey_frames(), st.sampled_from(["exclude", "show"]))
def test_counts__sum_to_the_base_of_every_column(frame, missing):
    out = table(frame, missing=missing)
    parts = out[out["row_type"].isin(["level", "missing"])]
    for col_level, cells in parts.groupby("col_level"):
        base = out[(out["row_type"] == "total") & (out["col_level"] == col_level)]["n"].item()
        assert cells["n"].sum() == base
        assert (cells["base_n"] == base).all()


@settings(max_examples=40, deadline=None)
@given(survey_frames(weighted=True))
def test_column_percentages__add_up_to_100_in_every_non_empty_column(frame):
    out = table(frame, design=SurveyDesign(weights="w"), ci_method="logit", missing="show")
    parts = out[out["row_type"].isin(["level", "missing"])]
    for _, cells in parts.groupby("col_level"):
        if cells["base_n"].iloc[0] > 0:
            assert cells["pct"].sum() == pytest.approx(100.0, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(survey_frames(weighted=True), st.randoms(use_true_random=False))
def test_results__do_not_depend_on_row_order(frame, rnd):
    order = list(range(len(frame)))
    rnd.shuffle(order)
    shuffled = frame.iloc[order].reset_index(drop=True)
    design = SurveyDesign(weights="w")
    a = table(frame, design=design, ci_method="logit")
    b = table(shuffled, design=design, ci_method="logit")
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12)


def test_empty_levels__are_kept_in_the_callers_order_with_their_labels():
    frame = pd.DataFrame({"q": ["c", "a", "c"]})
    out = single_choice_table(frame, "q", levels=["c", "b", "a"],
                              labels=["Cee", "Bee", "Ay"], ci_method="wilson").table
    levels = out[out["row_type"] == "level"]
    assert levels["row_level"].tolist() == ["c", "b", "a"]
    assert levels["row_label"].tolist() == ["Cee", "Bee", "Ay"]
    assert levels["n"].tolist() == [2, 0, 1]
    empty = levels[levels["row_level"] == "b"].iloc[0]
    assert empty["ci_low"] == 0.0 and empty["ci_high"] > 0.0


def test_missing_answers__shown_are_a_row_and_part_of_the_base():
    frame = pd.DataFrame({"q": ["a", None, "b", "a"]})
    shown = single_choice_table(frame, "q", levels=["a", "b"], ci_method="wilson",
                                missing="show").table
    excluded = single_choice_table(frame, "q", levels=["a", "b"], ci_method="wilson",
                                   missing="exclude").table
    assert shown[shown["row_type"] == "missing"]["n"].item() == 1
    assert shown[shown["row_level"] == "a"]["base_n"].item() == 4
    assert "missing" not in set(excluded["row_type"])
    assert excluded[excluded["row_level"] == "a"]["pct"].item() == pytest.approx(200 / 3)


def test_numeric_codes_with_blanks__match_integer_levels():
    frame = pd.DataFrame({"q": [1.0, 2.0, np.nan, 1.0]})  # as read from a CSV with blanks
    out = single_choice_table(frame, "q", levels=[1, 2, 3], ci_method="wilson").table
    assert out[out["row_type"] == "level"]["n"].tolist() == [2, 1, 0]


def test_value_outside_the_levels__is_an_error_not_a_dropped_row():
    frame = pd.DataFrame({"q": ["a", "z"]})
    with pytest.raises(PulsecheckError) as info:
        single_choice_table(frame, "q", levels=["a", "b"], ci_method="wilson")
    assert info.value.code == "STAT_006"
    assert "z" in str(info.value)


def test_table__does_not_modify_its_input():
    frame = pd.DataFrame({"q": ["a", "b", None, "a"], "g": [1, 2, 2, None],
                          "w": [1.0, 2.0, 3.0, 4.0]})
    before = frame.copy(deep=True)
    single_choice_table(frame, "q", levels=["a", "b"], col="g", col_levels=[1, 2],
                        design=SurveyDesign(weights="w"), ci_method="beta", missing="show",
                        tests=["rao_scott_f"], pairwise="holm")
    pd.testing.assert_frame_equal(frame, before)


def test_tidy_table__has_the_documented_columns_and_all_column():
    frame = pd.DataFrame({"q": ["a", "b", "a", "b"], "g": [1, 1, 2, 2]})
    out = table(frame)
    assert tuple(out.columns) == TIDY_COLUMNS
    assert "All" in set(out["col_level"])
    assert set(out["ci_method"]) <= {"wilson", "none"}


def test_tests__are_only_those_asked_for_and_name_their_method():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"q": rng.choice(["a", "b", "c"], 120), "g": rng.choice([1, 2, 3], 120)})
    result = single_choice_table(frame, "q", levels=["a", "b", "c"], col="g",
                                 col_levels=[1, 2, 3], ci_method="wilson",
                                 tests=["pearson", "fisher", "lr"])
    assert result.tests["test"].tolist() == ["pearson", "fisher", "lr"]
    assert result.tests["method"].str.len().min() > 5
    assert (result.tests["p_value"].between(0, 1)).all()


def test_trend_test__is_per_row_level_with_the_given_scores():
    frame = pd.DataFrame({"q": ["y"] * 2 + ["n"] * 8 + ["y"] * 5 + ["n"] * 5 + ["y"] * 8
                          + ["n"] * 2, "g": [1] * 10 + [2] * 10 + [3] * 10})
    result = single_choice_table(frame, "q", levels=["y", "n"], col="g", col_levels=[1, 2, 3],
                                 ci_method="wilson", tests=["trend"], trend_scores=[1, 2, 3])
    trend = result.tests.set_index("row_level")
    assert set(trend.index) == {"y", "n"}
    assert trend.loc["y", "p_value"] < 0.01
    # Hand check: p = (0.2, 0.5, 0.8), n = 10 each, pbar = 0.5, sbar = 2:
    # X² = [10(-0.3)(-1) + 0 + 10(0.3)(1)]² / (0.25 * 20) = 36 / 5 = 7.2.
    assert trend.loc["y", "statistic"] == pytest.approx(7.2, rel=1e-12)


def test_trend_test_without_scores__is_an_error():
    frame = pd.DataFrame({"q": ["y", "n"], "g": [1, 2]})
    with pytest.raises(PulsecheckError):
        single_choice_table(frame, "q", levels=["y", "n"], col="g", col_levels=[1, 2],
                            ci_method="wilson", tests=["trend"])


def test_design_based_pairwise_letters__use_the_design():
    rng = np.random.default_rng(7)
    n = 300
    g = rng.choice([1, 2], n)
    q = np.where(g == 1, rng.choice(["a", "b"], n, p=[0.8, 0.2]),
                 rng.choice(["a", "b"], n, p=[0.3, 0.7]))
    frame = pd.DataFrame({"q": q, "g": g, "w": rng.uniform(1, 3, n), "s": rng.choice([1, 2], n)})
    result = single_choice_table(frame, "q", levels=["a", "b"], col="g", col_levels=[1, 2],
                                 design=SurveyDesign(weights="w", strata="s"), ci_method="logit",
                                 pairwise="holm")
    cells = result.table.set_index(["row_level", "col_level"])["sig_letters"]
    assert cells[("a", "1")] == "B" and cells[("b", "2")] == "A"
    assert result.pairwise["method"].str.contains("design-based").all()
