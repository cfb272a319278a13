"""The edges of the interval engine: degenerate cells decided from counts, the likelihood
profile at one or two design degrees of freedom and in domains of two or three respondents,
and the report-table path agreeing with the API path."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.stats.design import SurveyDesign, resolve_design
from pipeline.stats.intervals import proportion_interval
from pipeline.stats.methods import DEGENERATE_FALLBACK, DESIGN_METHODS
from pipeline.stats.tabulate import single_choice_table

#: Weights whose sum in bincount order divided by their numpy sum is 0.9999999999999997.
AWKWARD_WEIGHTS = [2.1, 1.1, 1.1, 1.5, 2.2, 2.8, 1.7, 2.5, 0.1, 1.3, 1.9, 0.4, 1.7, 1.2,
                   1.4, 0.6]


def _full_cell_frame() -> pd.DataFrame:
    return pd.DataFrame({"answer": ["a"] * len(AWKWARD_WEIGHTS), "w": AWKWARD_WEIGHTS})


def test_awkward_weights__share_in_bincount_order__is_not_exactly_one():
    w = np.asarray(AWKWARD_WEIGHTS)
    share = np.bincount(np.zeros(w.size, dtype=np.int64), weights=w)[0] / w.sum()
    assert share == 0.9999999999999997


@pytest.mark.parametrize("method", DESIGN_METHODS)
def test_table_cell__everyone_chosen_with_awkward_weights__uses_the_degenerate_rule(method):
    frame = _full_cell_frame()
    result = single_choice_table(frame, "answer", levels=["a", "b"],
                                 design=SurveyDesign(weights="w"), ci_method=method)
    full = result.table[result.table["row_level"] == "a"].iloc[0]
    assert full["ci_method"] == DEGENERATE_FALLBACK
    assert full["pct"] == 100.0
    assert full["ci_high"] == 100.0
    assert full["ci_low"] < 90.0
    assert "Korn-Graubard" in full["warnings"]
    empty = result.table[result.table["row_level"] == "b"].iloc[0]
    assert empty["ci_method"] == DEGENERATE_FALLBACK
    assert empty["pct"] == 0.0 and empty["ci_low"] == 0.0 and empty["ci_high"] > 10.0


@pytest.mark.parametrize("method", DESIGN_METHODS)
def test_table_cell__full_cell__equals_the_api_interval(method):
    frame = _full_cell_frame()
    design = SurveyDesign(weights="w")
    result = single_choice_table(frame, "answer", levels=["a", "b"], design=design,
                                 ci_method=method)
    cell = result.table[result.table["row_level"] == "a"].iloc[0]
    api = proportion_interval(np.ones(len(frame)), np.ones(len(frame), bool),
                              resolve_design(frame, design), method=method)
    assert (cell["ci_method"], cell["ci_low"], cell["ci_high"]) == \
        (api.method, 100 * api.low, 100 * api.high)


def _two_psu_frame() -> pd.DataFrame:
    # Two clusters in one stratum: one design degree of freedom.
    return pd.DataFrame({"psu": [1, 1, 1, 2, 2, 2],
                         "y": [1, 0, 1, 0, 0, 1],
                         "w": [1.0, 2.0, 1.5, 1.0, 3.0, 2.0]})


def test_likelihood__one_design_df__gives_an_interval_around_the_estimate():
    frame = _two_psu_frame()
    resolved = resolve_design(frame, SurveyDesign(weights="w", cluster="psu"))
    interval = proportion_interval(frame["y"].to_numpy(float), np.ones(6, bool), resolved,
                                   method="likelihood")
    assert interval.df == 1
    assert 0.0 <= interval.low < interval.estimate < interval.high <= 1.0
    assert math.isfinite(interval.low) and math.isfinite(interval.high)


def test_likelihood__domain_of_two_respondents__does_not_crash():
    frame = pd.DataFrame({"y": [1, 0, 1, 1, 0, 0, 1, 0],
                          "g": [1, 1, 0, 0, 0, 0, 0, 0],
                          "w": [1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]})
    resolved = resolve_design(frame, SurveyDesign(weights="w"))
    interval = proportion_interval(frame["y"].to_numpy(float), frame["g"].to_numpy(bool),
                                   resolved, method="likelihood")
    assert interval.n == 2
    assert 0.0 <= interval.low <= interval.estimate <= interval.high <= 1.0


def test_design_chisq__one_psu__is_not_tested_rather_than_a_division_by_zero():
    from pipeline.stats.contingency import design_chisq

    frame = pd.DataFrame({"y": [0, 0, 1], "g": [0, 0, 1], "w": [0.5, 0.5, 0.5],
                          "psu": [0, 0, 0]})
    resolved = resolve_design(frame, SurveyDesign(weights="w", cluster="psu",
                                                  lonely_psu="certainty"))
    for statistic in ("F", "Chisq", "Wald", "adjWald"):
        result = design_chisq(frame["y"].to_numpy(), frame["g"].to_numpy(), 2, 2, resolved,
                              statistic=statistic)
        assert result.method == "not tested" and math.isnan(result.p_value)
        assert "no usable variance" in result.warnings[0]
