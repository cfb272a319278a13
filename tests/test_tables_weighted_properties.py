"""Properties of the report tables under replicate weights and calibration (Hypothesis).

* The table path (:func:`single_choice_table`, :func:`check_all_table`) gives, cell by cell,
  the interval of the API path (:func:`replicate_proportion`, :func:`calibrated_proportion`)
  under the same method name, for every method those paths offer, including empty and full
  cells.
* Over tiny designs (1-5 respondents, 1-3 PSUs, all-0 and all-1 outcomes) the table functions
  raise nothing but catalogue errors under every replication method and after calibration.
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.errors import PulsecheckError
from pipeline.stats.calibrate import (
    CALIBRATED_CI_METHODS,
    Margin,
    calibrated_proportion,
    poststratify,
)
from pipeline.stats.design import SurveyDesign, resolve_design
from pipeline.stats.replicate import (
    REPLICATE_CI_METHODS,
    ReplicateConversion,
    replicate_proportion,
    resolve_replicate_design,
)
from pipeline.stats.tabulate import check_all_table, numeric_summary, single_choice_table

LEVELS = ["a", "b", "c"]
SETTINGS = settings(max_examples=int(os.environ.get("PULSECHECK_HYPOTHESIS_EXAMPLES", "30")),
                    deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def weighted_frames(draw, min_rows=4, max_rows=24):
    n = draw(st.integers(min_rows, max_rows))
    used = draw(st.lists(st.sampled_from(LEVELS), min_size=1, max_size=3, unique=True))
    answers = draw(st.lists(st.sampled_from(used), min_size=n, max_size=n))
    weights = draw(st.lists(st.sampled_from([0.3, 0.7, 1.0, 1.1, 2.5, 13.0]),
                            min_size=n, max_size=n))
    n_psu = draw(st.integers(2, max(2, n // 2)))
    return pd.DataFrame({"answer": answers, "w": weights, "psu": [i % n_psu for i in range(n)],
                         "g": [("p", "q")[i % 2] for i in range(n)]})


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == pytest.approx(b, rel=1e-9, abs=1e-11)


@SETTINGS
@given(frame=weighted_frames(), method=st.sampled_from(REPLICATE_CI_METHODS))
def test_replicate_table_and_api__give_the_same_interval(frame, method):
    conversion = ReplicateConversion(SurveyDesign(weights="w", cluster="psu"), "JK1")
    result = single_choice_table(frame, "answer", levels=LEVELS, col="g",
                                 col_levels=["p", "q"], design=conversion, ci_method=method)
    resolved = resolve_replicate_design(frame, conversion)
    for cell in result.table[result.table["row_type"] == "level"].to_dict("records"):
        domain = np.ones(len(frame), bool) if cell["col_level"] == "All" else \
            (frame["g"] == cell["col_level"]).to_numpy()
        if not domain.any():
            continue
        y = (frame["answer"] == cell["row_level"]).to_numpy(float)
        api = replicate_proportion(y, resolved, method=method, domain=domain)
        if cell["n"] in (0, cell["base_n"]):
            # The table decides 0% and 100% from the counts (Korn–Graubard, beta_n), where
            # the design has degrees of freedom for an interval at all.
            assert cell["ci_method"] == "beta_n" or (
                math.isnan(cell["ci_low"]) and math.isnan(api.low))
            continue
        assert cell["ci_method"] == api.method, (cell, api)
        assert _same(cell["pct"], 100 * api.estimate) and _same(cell["se"], 100 * api.se)
        assert _same(cell["ci_low"], 100 * api.low) and _same(cell["ci_high"], 100 * api.high)


def _found(answers: str, weights: list[float]) -> pd.DataFrame:
    """A frame found by random search: two PSUs that are also the calibration's groups."""
    n = len(answers)
    return pd.DataFrame({"answer": list(answers), "w": weights,
                         "psu": [i % 2 for i in range(n)],
                         "g": [("p", "q")[i % 2] for i in range(n)]})


@SETTINGS
@given(frame=weighted_frames(min_rows=6), method=st.sampled_from(CALIBRATED_CI_METHODS))
# Calibrated on groups that are the PSUs, every share's variance is zero but for rounding
# (1e-36): the table and the API must both take it as zero.
@example(frame=_found("aaaabaaa", [0.3, 0.3, 0.3, 13.0, 0.3, 0.3, 0.3, 1.0]), method="beta")
@example(frame=_found("aaaaaaab", [0.3, 0.3, 0.3, 0.7, 0.7, 1.0, 1.0, 0.3]), method="logit")
def test_calibrated_table_and_api__give_the_same_interval(frame, method):
    design = SurveyDesign(weights="w", cluster="psu")
    margin = Margin("g", ("p", "q"), (40.0, 60.0))
    calibration = poststratify(frame, frame["w"].to_numpy(float), margin)
    items = {f"i_{level}": (frame["answer"] == level).astype(int) for level in LEVELS}
    ticked = frame.assign(**items)
    result = check_all_table(ticked, list(items), design=design, calibration=calibration,
                             ci_method=method)
    resolved = resolve_design(ticked, design)
    everyone = np.ones(len(frame), dtype=bool)
    for item in items:
        cell = result.table[result.table["row_level"] == item].iloc[0]
        api = calibrated_proportion(ticked[item].to_numpy(float), resolved, calibration,
                                    method=method, domain=everyone)
        if cell["n"] in (0, cell["base_n"]):
            assert cell["ci_method"] == "beta_n" or (
                math.isnan(cell["ci_low"]) and math.isnan(api.low))
            continue
        assert cell["ci_method"] == api.method, (item, cell["warnings"], api.warnings)
        assert _same(cell["se"], 100 * api.se)
        assert _same(cell["ci_low"], 100 * api.low) and _same(cell["ci_high"], 100 * api.high)


@st.composite
def tiny_frames(draw):
    n = draw(st.integers(1, 5))
    n_psu = draw(st.integers(1, 3))
    outcome = draw(st.sampled_from(["zeros", "ones", "mixed"]))
    y = draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n)) \
        if outcome == "mixed" else [1 if outcome == "ones" else 0] * n
    frame = pd.DataFrame({
        "y": y, "w": draw(st.lists(st.sampled_from([0.5, 1.0, 7.0]), min_size=n, max_size=n)),
        "psu": [i % n_psu for i in range(n)],
        "stratum": draw(st.lists(st.sampled_from([1, 2]), min_size=n, max_size=n)),
        "g": draw(st.lists(st.sampled_from(["p", "q"]), min_size=n, max_size=n)),
    })
    kind = draw(st.sampled_from(["JK1", "JKn", "BRR", "Fay", "calibrated"]))
    if kind == "calibrated":
        return frame, SurveyDesign(weights="w", cluster="psu"), "calibrated"
    linear = SurveyDesign(weights="w", strata=None if kind == "JK1" else "stratum",
                          cluster="psu")
    return frame, ReplicateConversion(linear, kind, rho=0.5 if kind == "Fay" else 0.0), None


@settings(max_examples=int(os.environ.get("PULSECHECK_HYPOTHESIS_EXAMPLES", "60")),
          deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=tiny_frames(), method=st.sampled_from(REPLICATE_CI_METHODS),
       level=st.sampled_from([0.5, 0.95, 0.999]))
def test_table_functions__tiny_weighted_designs__raise_only_catalogue_errors(case, method,
                                                                             level):
    frame, design, calibrated = case
    tests = ("rao_scott_f", "rao_scott_chisq", "wald", "adj_wald", "pearson")

    def calibration():
        if calibrated is None:
            return None
        levels = tuple(sorted(set(frame["g"])))
        return poststratify(frame, frame["w"].to_numpy(float),
                            Margin("g", levels, tuple(10.0 for _ in levels)))

    calls = [
        lambda: single_choice_table(frame, "y", levels=[0, 1], col="g", col_levels=["p", "q"],
                                    design=design, calibration=calibration(),
                                    ci_method=method, level=level, tests=tests,
                                    pairwise="holm"),
        lambda: check_all_table(frame, ["y"], col="g", col_levels=["p", "q"], design=design,
                                calibration=calibration(), ci_method=method, level=level,
                                tests=tests, pairwise="bh"),
        lambda: numeric_summary(frame, "w", col="g", col_levels=["p", "q"], design=design,
                                calibration=calibration(), level=level),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for call in calls:
            try:
                call()
            except PulsecheckError:
                pass
