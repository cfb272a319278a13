"""Tiny random inputs: the replicate and calibration estimators give numbers, NaN with a
warning, or a catalogue error — never any other exception."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.errors import PulsecheckError
from pipeline.stats.calibrate import (
    CALIBRATED_CI_METHODS,
    Margin,
    calibrated_mean,
    calibrated_proportion,
    poststratify,
    rake,
    trim_weights,
)
from pipeline.stats.design import SurveyDesign, resolve_design
from pipeline.stats.methods import DESIGN_CHISQ_STATISTICS
from pipeline.stats.replicate import (
    CONVERSION_TYPES,
    REPLICATE_CI_METHODS,
    ReplicateDesign,
    replicate_chisq,
    replicate_crosstab,
    replicate_mean,
    replicate_proportion,
    replicate_total,
    replicates_from_design,
    resolve_replicates,
)

#: PULSECHECK_HYPOTHESIS_EXAMPLES=600 searches further than the quick suite's 40 examples.
SETTINGS = settings(max_examples=int(os.environ.get("PULSECHECK_HYPOTHESIS_EXAMPLES", "40")),
                    deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def tiny(draw):
    n = draw(st.integers(1, 5))
    n_psu = draw(st.integers(1, 3))
    return pd.DataFrame({
        "y": draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n)),
        "g": draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n)),
        "h": draw(st.lists(st.sampled_from(["u", "v", "w"]), min_size=n, max_size=n)),
        "s": draw(st.lists(st.integers(1, 2), min_size=n, max_size=n)),
        "c": draw(st.lists(st.integers(1, n_psu), min_size=n, max_size=n)),
        "w": draw(st.lists(st.floats(0.5, 5.0), min_size=n, max_size=n)),
        "r1": draw(st.lists(st.floats(0.0, 5.0), min_size=n, max_size=n)),
        "r2": draw(st.lists(st.floats(0.0, 5.0), min_size=n, max_size=n)),
        "r3": draw(st.lists(st.floats(0.0, 5.0), min_size=n, max_size=n)),
    })


def _exercise(frame: pd.DataFrame, resolved) -> None:
    y = frame["y"].to_numpy(float)
    replicate_mean(y, resolved)
    replicate_total(y, resolved)
    for method in REPLICATE_CI_METHODS:
        replicate_proportion(y, resolved, method=method,
                             domain=(frame["g"] == "a").to_numpy())
    rows = (frame["g"] == "b").to_numpy(np.int64)
    cols = frame["h"].map({"u": 0, "v": 1, "w": 2}).to_numpy(np.int64)
    replicate_crosstab(rows, cols, 2, 3, resolved, method="logit")
    for statistic in DESIGN_CHISQ_STATISTICS:
        try:
            replicate_chisq(rows, cols, 2, 3, resolved, statistic=statistic)
        except PulsecheckError:
            pass


@SETTINGS
@given(tiny(), st.sampled_from(["JK1", "JKn", "BRR", "Fay", "bootstrap"]), st.booleans())
@example(pd.DataFrame({"y": [0.0, 0.0, 0.0], "g": ["a", "a", "b"], "h": ["u", "u", "v"],
                       "s": [1, 1, 1], "c": [1, 1, 1], "w": [1.0, 1.0, 1.0],
                       "r1": [0.0, 0.0, 0.0], "r2": [0.0, 0.0, 0.0], "r3": [0.0, 0.0, 1.0]}),
         "JK1", False)  # one non-zero replicate column: zero replicate df in the adjusted Wald
def test_given_replicate_columns__never_raise_outside_the_catalogue(frame, kind, mse):
    try:
        resolved = resolve_replicates(frame, ReplicateDesign(
            replicates=("r1", "r2", "r3"), type=kind, weights="w", mse=mse,
            rho=0.5 if kind == "Fay" else None,
            rscales=(0.5, 0.5, 0.5) if kind == "JKn" else None))
        _exercise(frame, resolved)
    except PulsecheckError:
        pass


@SETTINGS
@given(tiny(), st.sampled_from(CONVERSION_TYPES), st.booleans(), st.booleans())
def test_converted_designs__never_raise_outside_the_catalogue(frame, kind, strata, cluster):
    design = SurveyDesign(weights="w", strata="s" if strata else None,
                          cluster="c" if cluster else None)
    try:
        resolved = replicates_from_design(frame, design, kind, fay_rho=0.3)
        _exercise(frame, resolved)
    except PulsecheckError:
        pass


@SETTINGS
@given(tiny(), st.booleans(), st.floats(0.1, 3.0), st.floats(1.0, 6.0), st.booleans())
def test_calibration__never_raises_outside_the_catalogue(frame, raking, lower, upper, strict):
    margins = [Margin("g", ("a", "b"), (10.0, 20.0)), Margin("h", ("u", "v", "w"),
                                                             (5.0, 10.0, 15.0))]
    try:
        resolved = resolve_design(frame, SurveyDesign(weights="w", cluster="c"))
        cal = rake(frame, resolved.weights, margins) if raking else \
            poststratify(frame, resolved.weights, margins[0])
        cal = trim_weights(cal, lower=lower, upper=upper, strict=strict)
        calibrated_mean(frame["y"].to_numpy(float), resolved, cal,
                        (frame["g"] == "a").to_numpy())
        for method in CALIBRATED_CI_METHODS:
            calibrated_proportion(frame["y"].to_numpy(float), resolved, cal, method=method,
                                  domain=(frame["g"] == "a").to_numpy())
    except PulsecheckError:
        pass


def test_singular_replicate_table__is_reported_not_raised():
    # Every replicate equals the full sample: no variance, so the design effects are 0/0.
    frame = pd.DataFrame({"r": [0, 0, 1, 1], "c": [0, 1, 0, 1], "w": [1.0] * 4})
    for name in ("r1", "r2", "r3"):
        frame[name] = frame["w"]
    resolved = resolve_replicates(frame, ReplicateDesign(replicates=("r1", "r2", "r3"),
                                                         type="bootstrap", weights="w"))
    for statistic in DESIGN_CHISQ_STATISTICS:
        result = replicate_chisq(frame["r"].to_numpy(), frame["c"].to_numpy(), 2, 2, resolved,
                                 statistic=statistic)
        assert np.isnan(result.p_value) or 0 <= result.p_value <= 1
