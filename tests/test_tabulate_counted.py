"""Tables computed from counts agree with the respondents they count.

Single-choice and check-all tables take every unweighted count, and for an unweighted simple
random sample every cell, from counts by banner group; numeric summaries sort each table's
values once. These tests rebuild the numbers from the rows, one cell at a time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import PulsecheckError
from pipeline.stats.contingency import pearson_chisq
from pipeline.stats.design import SurveyDesign
from pipeline.stats.intervals import binomial_interval, binomial_intervals
from pipeline.stats.quantiles import sorted_weighted_quantiles, weighted_quantile
from pipeline.stats.tabulate import check_all_table, numeric_summary, single_choice_table

ITEMS = ["c_one", "c_two", "c_three"]
LEVELS = ["a", "b", "c"]
BANNER = ["x", "y", "z"]  # "z" may be empty: a column with no respondents


def _column(frame: pd.DataFrame, col_level: str) -> pd.Series:
    return pd.Series(True, index=frame.index) if col_level == "All" else frame["g"] == col_level


def _bits(value: float) -> bytes:
    return np.float64(value).tobytes()


@st.composite
def single_frames(draw):
    n = draw(st.integers(1, 60))
    answers = draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n))
    banner = draw(st.lists(st.sampled_from(["x", "y", None]), min_size=n, max_size=n))
    return pd.DataFrame({"q": pd.array(answers, dtype="str"),
                         "g": pd.Series(banner, dtype=object)})


@settings(max_examples=60, deadline=None)
@given(single_frames(), st.sampled_from(["exclude", "show"]),
       st.sampled_from(["wilson", "clopper_pearson"]))
def test_single_choice_cells__are_the_counts_of_their_respondents(frame, missing, method):
    out = single_choice_table(frame, "q", levels=LEVELS, col="g", col_levels=BANNER,
                              ci_method=method, missing=missing).table
    answered = frame["q"].notna() if missing == "exclude" else pd.Series(True, frame.index)
    for cell in out.itertuples(index=False):
        in_base = _column(frame, cell.col_level) & answered
        base = int(in_base.sum())
        if cell.row_type == "total":
            chosen = base
        elif cell.row_type == "missing":
            chosen = int((in_base & frame["q"].isna()).sum())
        else:
            chosen = int((in_base & (frame["q"] == cell.row_level)).sum())
        assert (cell.n, cell.base_n) == (chosen, base)
        assert (cell.n_weighted, cell.base_weighted) == (float(chosen), float(base))
        if cell.row_type != "total":
            if base:
                expected = binomial_interval(chosen, base, method=method)
                assert _bits(cell.pct) == _bits(100.0 * expected.estimate)
                assert _bits(cell.ci_low) == _bits(100.0 * expected.low)
                assert _bits(cell.ci_high) == _bits(100.0 * expected.high)
            else:
                assert np.isnan(cell.pct) and cell.warnings == "no respondents in this column"


@settings(max_examples=40, deadline=None)
@given(single_frames())
def test_single_choice_tests__use_the_complete_cases(frame):
    result = single_choice_table(frame, "q", levels=LEVELS, col="g", col_levels=BANNER,
                                 ci_method="wilson", missing="show", tests=["pearson"])
    complete = frame.dropna()
    counts = pd.crosstab(pd.Categorical(complete["q"], categories=LEVELS),
                         pd.Categorical(complete["g"], categories=BANNER),
                         dropna=False).to_numpy(dtype=float)
    test = result.tests.iloc[0]
    if (counts.sum(axis=1) > 0).sum() >= 2 and (counts.sum(axis=0) > 0).sum() >= 2:
        expected = pearson_chisq(counts, continuity=False)
        assert _bits(test["statistic"]) == _bits(expected.statistic)
    else:
        assert test["method"] == "not tested"


@st.composite
def check_all_frames(draw):
    n = draw(st.integers(1, 60))
    rows = []
    for _ in range(n):
        answered = draw(st.booleans())
        ticks = draw(st.lists(st.sampled_from([0.0, 1.0, np.nan]), min_size=3, max_size=3))
        rows.append([t if answered else np.nan for t in ticks])
    frame = pd.DataFrame(rows, columns=ITEMS)
    frame["c_two"] = frame["c_two"].astype("Int8")  # item columns as the pipeline types them
    frame["g"] = pd.Series(draw(st.lists(st.sampled_from(["x", "y", None]), min_size=n,
                                         max_size=n)), dtype=object)
    return frame


@settings(max_examples=60, deadline=None)
@given(check_all_frames())
def test_check_all_cells__are_the_counts_of_their_respondents(frame):
    out = check_all_table(frame, ITEMS, col="g", col_levels=BANNER, ci_method="wilson",
                          nets={"first two": ITEMS[:2]}).table
    ticks = frame[ITEMS].astype(float).fillna(0).to_numpy() > 0.5
    answered = frame[ITEMS].notna().any(axis=1).to_numpy()
    for cell in out.itertuples(index=False):
        in_base = _column(frame, cell.col_level).to_numpy() & answered
        base = int(in_base.sum())
        if cell.row_type == "item":
            chosen = int((in_base & ticks[:, ITEMS.index(cell.row_level)]).sum())
        elif cell.row_type == "net":
            chosen = int((in_base & ticks[:, :2].any(axis=1)).sum())
        elif cell.row_type == "mentions":
            chosen = int(ticks[in_base].sum())
        else:
            chosen = base
        assert (cell.n, cell.base_n) == (chosen, base)
        assert (cell.n_weighted, cell.base_weighted) == (float(chosen), float(base))
        if cell.row_type in ("item", "net") and base:
            expected = binomial_interval(chosen, base, method="wilson")
            assert _bits(cell.pct) == _bits(100.0 * expected.estimate)


@settings(max_examples=30, deadline=None)
@given(check_all_frames())
def test_check_all__unit_weights_give_the_unweighted_table(frame):
    """A design with weights of one takes the weighted path (sums over the rows); the
    unweighted sample takes its totals from the counts: the tables are the same."""
    options = dict(col="g", col_levels=BANNER, ci_method="logit", nets={"all": ITEMS})
    plain = check_all_table(frame, ITEMS, **options).table
    weighted = check_all_table(frame.assign(w=1.0), ITEMS,
                               design=SurveyDesign(weights="w"), **options).table
    pd.testing.assert_frame_equal(plain, weighted, check_exact=True)


values_with_ties = st.one_of(
    st.lists(st.integers(-3, 3).map(float), min_size=1, max_size=40),
    st.lists(st.sampled_from([0.0, -0.0, 1.5, -2.25, 1e6, np.nan]), min_size=1, max_size=40),
    st.lists(st.integers(0, 10 ** 6).map(float), min_size=1, max_size=40),
)


@settings(max_examples=80, deadline=None)
@given(values_with_ties, st.data())
def test_numeric_summary__quantiles_and_extremes_are_those_of_each_group(values, data):
    n = len(values)
    groups = data.draw(st.lists(st.sampled_from(["x", "y", None]), min_size=n, max_size=n))
    # Weights tell tied values apart: the quantile depends on the order of the ties.
    weights = data.draw(st.lists(st.sampled_from([0.5, 1.0, 3.0]), min_size=n, max_size=n))
    frame = pd.DataFrame({"v": values, "g": pd.Series(groups, dtype=object), "w": weights})
    qs = (0.1, 0.5, 0.9)
    out = numeric_summary(frame, "v", col="g", col_levels=BANNER, quantiles=qs,
                          design=SurveyDesign(weights="w")).table
    for col_level, cells in out.groupby("col_level"):
        rows = frame[_column(frame, col_level) & frame["v"].notna()]
        mine, w = rows["v"].to_numpy(), rows["w"].to_numpy()
        by_stat = cells.set_index("stat")["value"]
        if not mine.size:
            assert list(cells["stat"]) == ["mean"]
            continue
        for q, name in zip(qs, ("q0.1", "median", "q0.9"), strict=True):
            assert _bits(by_stat[name]) == _bits(weighted_quantile(mine, w, q))
        assert _bits(by_stat["min"]) == _bits(mine.min())
        assert _bits(by_stat["max"]) == _bits(mine.max())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.01, 10.0), min_size=1, max_size=30), st.data())
def test_sorted_weighted_quantiles__equal_the_one_at_a_time_quantile(weights, data):
    values = np.array(data.draw(st.lists(st.integers(-5, 5).map(float),
                                         min_size=len(weights), max_size=len(weights))))
    w = np.array(weights)
    order = np.argsort(values, kind="stable")
    qs = (0.0, 0.25, 0.5, 0.75, 1.0)
    together = sorted_weighted_quantiles(values[order], w[order], qs)
    assert together == [weighted_quantile(values, w, q) for q in qs]


def test_sorted_weighted_quantiles__checks_every_quantile():
    with pytest.raises(PulsecheckError) as error:
        sorted_weighted_quantiles(np.array([1.0]), np.array([1.0]), (0.5, 1.5))
    assert error.value.code == "STAT_008"


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 500), st.data(), st.sampled_from(["wilson", "wilson_cc", "clopper_pearson"]),
       st.sampled_from([0.9, 0.95, 0.99]))
def test_binomial_intervals__equal_the_one_at_a_time_interval(trials, data, method, level):
    counts = data.draw(st.lists(st.integers(0, trials), min_size=1, max_size=8))
    together = binomial_intervals(counts, trials, method=method, level=level)
    assert together == [binomial_interval(c, trials, method=method, level=level)
                        for c in counts]


def test_binomial_intervals__refuse_a_count_above_the_base():
    with pytest.raises(PulsecheckError) as error:
        binomial_intervals([1, 4], 3, method="wilson")
    assert error.value.code == "STAT_008"
