"""Properties of the interval engine over random designs (Hypothesis).

* The API path (:func:`proportion_interval`) and the report-table path
  (:func:`single_choice_table`, through ``cells.column_cells``) give the same interval, under
  the same method name, for every method, including empty and full cells.
* No input of the engine's public functions raises anything but a catalogue error
  (:class:`PulsecheckError`) over tiny designs: 1-5 respondents, 1-3 PSUs, all-0 and
  all-1 outcomes, every method.
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import PulsecheckError
from pipeline.stats.design import LONELY_PSU_RULES, SurveyDesign, resolve_design
from pipeline.stats.estimates import mean_estimate, quantile_estimate, total_estimate
from pipeline.stats.intervals import design_interval, proportion_interval
from pipeline.stats.methods import BINOMIAL_METHODS, CI_METHODS, DESIGN_METHODS
from pipeline.stats.tabulate import crosstab_matrices, numeric_summary, single_choice_table

LEVELS = ["a", "b", "c"]
#: Modest example counts keep the quick suite fast; PULSECHECK_HYPOTHESIS_EXAMPLES=600 searches
#: further (the division by zero of a one-PSU table was found that way).
SETTINGS = settings(max_examples=int(os.environ.get("PULSECHECK_HYPOTHESIS_EXAMPLES", "40")),
                    deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def weighted_designs(draw, min_rows=2, max_rows=24):
    n = draw(st.integers(min_rows, max_rows))
    # Answers drawn from a subset of the levels, so that some cells are empty and, with
    # a single level, one cell is full.
    used = draw(st.lists(st.sampled_from(LEVELS), min_size=1, max_size=3, unique=True))
    answers = draw(st.lists(st.sampled_from(used), min_size=n, max_size=n))
    weights = draw(st.lists(st.sampled_from([0.1, 0.3, 0.7, 1.0, 1.1, 2.5, 13.0]),
                            min_size=n, max_size=n))
    n_psu = draw(st.integers(2, max(2, n)))
    psu = [i % n_psu for i in range(n)]
    frame = pd.DataFrame({"answer": answers, "w": weights, "psu": psu})
    design = draw(st.sampled_from([SurveyDesign(weights="w"),
                                   SurveyDesign(weights="w", cluster="psu")]))
    return frame, design


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == pytest.approx(b, rel=1e-9, abs=1e-11)


@SETTINGS
@given(case=weighted_designs(), method=st.sampled_from(DESIGN_METHODS))
def test_table_path_and_api_path__give_the_same_interval(case, method):
    frame, design = case
    result = single_choice_table(frame, "answer", levels=LEVELS, design=design,
                                 ci_method=method)
    resolved = resolve_design(frame, design)
    everyone = np.ones(len(frame), dtype=bool)
    for level in LEVELS:
        cell = result.table[result.table["row_level"] == level].iloc[0]
        api = proportion_interval((frame["answer"] == level).to_numpy(float), everyone,
                                  resolved, method=method)
        assert cell["ci_method"] == api.method, (level, cell["warnings"], api.warnings)
        assert _same(cell["pct"], 100 * api.estimate)
        assert _same(cell["ci_low"], 100 * api.low), (level, cell["ci_low"], api)
        assert _same(cell["ci_high"], 100 * api.high), (level, cell["ci_high"], api)


@SETTINGS
@given(case=weighted_designs(min_rows=1, max_rows=20), method=st.sampled_from(BINOMIAL_METHODS))
def test_table_path_and_api_path__agree_for_binomial_methods(case, method):
    frame, _ = case
    result = single_choice_table(frame, "answer", levels=LEVELS, ci_method=method)
    resolved = resolve_design(frame, SurveyDesign())
    for level in LEVELS:
        cell = result.table[result.table["row_level"] == level].iloc[0]
        api = proportion_interval((frame["answer"] == level).to_numpy(float),
                                  np.ones(len(frame), bool), resolved, method=method)
        assert (cell["ci_method"], cell["ci_low"], cell["ci_high"]) == \
            (api.method, 100 * api.low, 100 * api.high)


@st.composite
def tiny_designs(draw):
    n = draw(st.integers(1, 5))
    n_psu = draw(st.integers(1, 3))
    outcome = draw(st.sampled_from(["zeros", "ones", "mixed"]))
    if outcome == "mixed":
        y = draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n))
    else:
        y = [1 if outcome == "ones" else 0] * n
    frame = pd.DataFrame({
        "y": y,
        "w": draw(st.lists(st.sampled_from([0.5, 1.0, 2.0, 7.0]), min_size=n, max_size=n)),
        "psu": [i % n_psu for i in range(n)],
        "stratum": draw(st.lists(st.sampled_from([1, 2]), min_size=n, max_size=n)),
        "ssu": list(range(n)),
        "fpc1": [5] * n,
        "fpc2": [9] * n,
        "g": draw(st.lists(st.sampled_from(["p", "q"]), min_size=n, max_size=n)),
    })
    rule = draw(st.sampled_from(LONELY_PSU_RULES))
    design = draw(st.sampled_from([
        SurveyDesign(),
        SurveyDesign(weights="w"),
        SurveyDesign(weights="w", cluster="psu", lonely_psu=rule),
        SurveyDesign(weights="w", strata="stratum", cluster="psu", lonely_psu=rule),
        SurveyDesign(strata="stratum", fpc="fpc1", lonely_psu=rule),
        SurveyDesign(weights="w", cluster=("psu", "ssu"), fpc=("fpc1", "fpc2"),
                     lonely_psu=rule),
        SurveyDesign(weights="w", strata="stratum", cluster=("psu", "ssu"),
                     fpc=("fpc1", "fpc2"), lonely_psu=rule, adjust_domain_lonely=True),
    ]))
    return frame, design


@settings(max_examples=int(os.environ.get("PULSECHECK_HYPOTHESIS_EXAMPLES", "60")),
          deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=tiny_designs(), method=st.sampled_from(CI_METHODS),
       level=st.sampled_from([0.5, 0.9, 0.95, 0.999]))
def test_public_functions__tiny_designs__raise_only_catalogue_errors(case, method, level):
    frame, design = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calls = [
            lambda: proportion_interval(frame["y"].to_numpy(float),
                                        (frame["g"] == "p").to_numpy(), resolve_design(
                                            frame, design), method=method, level=level),
            lambda: single_choice_table(frame, "y", levels=[0, 1], col="g",
                                        col_levels=["p", "q"], design=design,
                                        ci_method=method, level=level,
                                        tests=("pearson", "lr", "fisher", "rao_scott_f",
                                               "rao_scott_chisq", "wald", "adj_wald"),
                                        pairwise="holm"),
            lambda: mean_estimate(frame["w"].to_numpy(float), (frame["g"] == "p").to_numpy(),
                                  resolve_design(frame, design), level=level, deff=True),
            lambda: total_estimate(frame["y"].to_numpy(float), (frame["g"] == "q").to_numpy(),
                                   resolve_design(frame, design), level=level, deff=True),
            lambda: quantile_estimate(frame["w"].to_numpy(float),
                                      np.ones(len(frame), bool), resolve_design(frame, design),
                                      0.5, level=level),
            lambda: numeric_summary(frame, "w", col="g", col_levels=["p", "q"],
                                    design=design, level=level),
            lambda: crosstab_matrices(frame, "y", "g", row_levels=[0, 1],
                                      col_levels=["p", "q"], design=design),
            lambda: design_interval(float(frame["y"].mean()), 0.01, n=len(frame),
                                    df=float(len(frame) - 1), method=method
                                    if method in DESIGN_METHODS else "logit", level=level,
                                    y=frame["y"].to_numpy(float),
                                    weights=frame["w"].to_numpy(float),
                                    successes=int(frame["y"].sum())),
        ]
        for call in calls:
            try:
                call()
            except PulsecheckError:
                pass


@SETTINGS
@given(case=weighted_designs(), method=st.sampled_from(DESIGN_METHODS))
def test_check_all_path_and_api_path__give_the_same_interval(case, method):
    from pipeline.stats.tabulate import check_all_table

    frame, design = case
    items = {f"i_{level}": (frame["answer"] == level).astype(int) for level in LEVELS}
    ticked = frame.assign(**items)
    result = check_all_table(ticked, list(items), design=design, ci_method=method)
    resolved = resolve_design(ticked, design)
    everyone = np.ones(len(frame), dtype=bool)
    for item in items:
        cell = result.table[result.table["row_level"] == item].iloc[0]
        api = proportion_interval(ticked[item].to_numpy(float), everyone, resolved,
                                  method=method)
        assert cell["ci_method"] == api.method, (item, cell["warnings"], api.warnings)
        assert _same(cell["ci_low"], 100 * api.low) and _same(cell["ci_high"], 100 * api.high)
