"""Chi-square family, trend, p-value adjustment and pairwise column tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import PulsecheckError
from pipeline.stats.comparisons import adjust_pvalues, column_letters, column_proportion_tests
from pipeline.stats.contingency import cochran_armitage, design_chisq, pearson_chisq
from pipeline.stats.design import SurveyDesign, resolve_design
from pipeline.stats.quantiles import weighted_quantile


def test_yates_correction_on_larger_table__is_refused_not_ignored():
    with pytest.raises(PulsecheckError) as info:
        pearson_chisq([[3, 4, 5], [6, 7, 8]], continuity=True)
    assert info.value.code == "STAT_008"


def test_pearson_chisq__small_expected_counts__are_warned_about():
    result = pearson_chisq([[1, 0], [0, 2]], continuity=False)
    assert result.warnings and "expected count" in result.warnings[0]
    assert not pearson_chisq([[30, 20], [25, 25]], continuity=False).warnings


def test_pearson_chisq__empty_rows_are_dropped_before_testing():
    with_empty = pearson_chisq([[10, 20], [0, 0], [30, 40]], continuity=False)
    without = pearson_chisq([[10, 20], [30, 40]], continuity=False)
    assert with_empty.statistic == without.statistic and with_empty.df == 1


def test_pearson_chisq__one_non_empty_row__is_an_unusable_table():
    with pytest.raises(PulsecheckError) as info:
        pearson_chisq([[10, 20], [0, 0]], continuity=False)
    assert info.value.code == "STAT_005"


def test_cochran_armitage__no_trend__gives_zero_statistic():
    result = cochran_armitage([5, 10, 15], [10, 20, 30], [1, 2, 3])
    assert result.statistic == pytest.approx(0.0, abs=1e-12)
    assert result.p_value == pytest.approx(1.0)


def test_cochran_armitage__reversing_scores__keeps_the_statistic():
    a = cochran_armitage([2, 5, 9], [10, 10, 10], [1, 2, 3])
    b = cochran_armitage([2, 5, 9], [10, 10, 10], [3, 2, 1])
    assert a.statistic == pytest.approx(b.statistic, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=15),
       st.sampled_from(["holm", "bh", "bonferroni"]))
def test_adjusted_pvalues__are_at_least_the_raw_ones_and_at_most_one(p, method):
    adjusted = adjust_pvalues(p, method=method)
    assert np.all(adjusted >= np.asarray(p) - 1e-15)
    assert np.all(adjusted <= 1.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=15))
def test_adjusted_pvalues__keep_the_order_of_the_raw_ones(p):
    for method in ("holm", "bh"):
        adjusted = adjust_pvalues(p, method=method)
        order = np.argsort(p, kind="stable")
        assert np.all(np.diff(adjusted[order]) >= -1e-15)


def test_adjust_pvalues__missing_values__stay_missing_and_are_not_counted():
    adjusted = adjust_pvalues([0.01, np.nan, 0.02], method="bonferroni")
    assert np.isnan(adjusted[1])
    assert adjusted[0] == pytest.approx(0.02) and adjusted[2] == pytest.approx(0.04)


def test_column_proportion_tests__letters_mark_the_higher_column_spss_style():
    # 80% in A, 20% in B, 50% in C (100 each): A > B, A > C, C > B.
    counts = [[80, 20, 50]]
    pairs = column_proportion_tests(counts, [100, 100, 100], adjust="bonferroni")
    letters = column_letters(pairs, 1, 3)
    assert letters == [["BC", "", "B"]]


def test_column_proportion_tests__pooled_z_matches_a_hand_computation():
    # 30/50 against 20/50: pooled 0.5, z = 0.2 / sqrt(0.25 * 0.04) = 2.0.
    pairs = column_proportion_tests([[30, 20]], [50, 50], adjust="none")
    assert pairs.loc[0, "statistic"] == pytest.approx(2.0, rel=1e-12)
    assert pairs.loc[0, "p_value"] == pytest.approx(0.04550026389635842, rel=1e-9)


def test_design_chisq__on_simple_random_sample__is_close_to_pearson():
    rng = np.random.default_rng(3)
    rows, cols = rng.integers(0, 3, 400), rng.integers(0, 2, 400)
    frame = pd.DataFrame({"r": rows, "c": cols})
    resolved = resolve_design(frame, SurveyDesign())
    counts = np.zeros((3, 2))
    np.add.at(counts, (rows, cols), 1)
    pearson = pearson_chisq(counts, continuity=False)
    first_order = design_chisq(rows, cols, 3, 2, resolved, statistic="Chisq")
    # With an SRS the design effects are (n-1)/n-ish: the corrected X² stays within 1%.
    assert first_order.statistic == pytest.approx(pearson.statistic, rel=0.01)


def test_design_chisq__unknown_statistic__raises_stat_004():
    frame = pd.DataFrame({"r": [0, 1, 0, 1], "c": [0, 0, 1, 1]})
    resolved = resolve_design(frame, SurveyDesign())
    with pytest.raises(PulsecheckError) as info:
        design_chisq(frame["r"].to_numpy(), frame["c"].to_numpy(), 2, 2, resolved,
                           statistic="lincom")
    assert info.value.code == "STAT_004"


def test_weighted_quantile__equal_weights__is_the_lower_median():
    values = np.array([4.0, 1.0, 3.0, 2.0])
    assert weighted_quantile(values, np.ones(4), 0.5) == 2.0


def test_weighted_quantile__heavy_weight__pulls_the_median_to_its_value():
    values = np.array([4.0, 1.0, 3.0, 2.0])
    assert weighted_quantile(values, np.array([10.0, 1, 1, 1]), 0.5) == 4.0
