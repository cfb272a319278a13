"""Calibration (post-stratification, raking, trimming) against R (survey 4.1.1, R 4.2.2).

The reference numbers, the margins and the script that made them are in
tests/oracles/r_survey/replicate/ (make_oracle.R). Tolerance: 1e-6 relative. Designs:
apiclus1 (one-stage cluster sample with fpc) and apistrat (stratified with fpc), each
post-stratified and raked to counts from the population they were drawn from, and trimmed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import PulsecheckError
from pipeline.stats.calibrate import (
    CALIBRATED_CI_METHODS,
    Margin,
    calibrated_mean,
    calibrated_proportion,
    calibrated_total,
    margins_from_frame,
    poststratify,
    rake,
    trim_weights,
    uncalibrated,
)
from pipeline.stats.design import SurveyDesign, resolve_design

ORACLE = Path(__file__).parent / "oracles" / "r_survey"
HERE = ORACLE / "replicate"
REF = pd.read_csv(HERE / "reference.csv").set_index("id")["value"].astype(float).to_dict()
DATA = {"clus1": pd.read_csv(ORACLE / "apiclus1.csv"),
        "strat": pd.read_csv(ORACLE / "apistrat.csv")}
DESIGNS = {"clus1": SurveyDesign(weights="pw", cluster="dnum", fpc="fpc"),
           "strat": SurveyDesign(weights="pw", strata="stype", fpc="fpc")}
MARGINS = {name: margins_from_frame(pd.read_csv(HERE / f"margins_{name}.csv"))
           for name in ("clus1", "strat")}


def ref_vector(key: str) -> np.ndarray:
    out, i = [], 1
    while f"{key}[{i}]" in REF:
        out.append(REF[f"{key}[{i}]"])
        i += 1
    return np.asarray(out)


def close(actual: float, expected: float, rel: float = 1e-6, floor: float = 1e-12) -> bool:
    if abs(expected) < floor:
        return abs(actual) < floor * 10
    return abs(actual - expected) <= rel * abs(expected)


def margin(name: str, variable: str) -> Margin:
    return next(m for m in MARGINS[name] if m.variable == variable)


def calibrate(case: str):
    data = "clus1" if case.startswith("clus1") else "strat"
    frame = DATA[data]
    resolved = resolve_design(frame, DESIGNS[data])
    w = resolved.weights
    if case == "clus1_ps":
        cal = poststratify(frame, w, margin("clus1", "stype"))
    elif case == "strat_ps":
        cal = poststratify(frame, w, margin("strat", "api_band"))
    elif case in ("clus1_rake", "clus1_rake_trim"):
        cal = rake(frame, w, MARGINS["clus1"])
        if case == "clus1_rake_trim":
            cal = trim_weights(cal, lower=30, upper=50, strict=True)
    elif case == "strat_rake":
        cal = rake(frame, w, MARGINS["strat"])
    elif case == "strat_trim":
        cal = trim_weights(uncalibrated(w), lower=17, upper=38)
    elif case == "strat_trim_strict":
        cal = trim_weights(uncalibrated(w), lower=17, upper=38, strict=True)
    else:
        raise KeyError(case)
    return frame, resolved, cal


CASES = ["clus1_ps", "strat_ps", "clus1_rake", "strat_rake", "clus1_rake_trim", "strat_trim",
         "strat_trim_strict"]


@pytest.mark.parametrize("case", CASES)
def test_calibrated_weights__equal_r(case):
    _, _, cal = calibrate(case)
    assert np.allclose(cal.weights, ref_vector(f"calib/{case}/weights"), rtol=1e-9, atol=0)


@pytest.mark.parametrize("case", CASES)
def test_means_and_totals_after_calibration__equal_r_svymean(case):
    frame, resolved, cal = calibrate(case)
    key = f"calib/{case}"
    est, var, _ = calibrated_mean(frame["api00"].to_numpy(float), resolved, cal)
    assert close(est, REF[f"{key}/mean/api00/estimate"])
    assert close(np.sqrt(var), REF[f"{key}/mean/api00/se"])
    est, var, _ = calibrated_mean((frame["sch.wide"] == "Yes").to_numpy(float), resolved, cal)
    assert close(est, REF[f"{key}/mean/sch_wide_yes/estimate"])
    # Raked to sch.wide, the share is fixed and R's SE is rounding noise around zero.
    assert close(np.sqrt(max(var, 0.0)), REF[f"{key}/mean/sch_wide_yes/se"], floor=1e-9)
    total, var = calibrated_total(frame["api00"].to_numpy(float), resolved, cal)
    assert close(total, REF[f"{key}/total/api00/estimate"])
    assert close(np.sqrt(var), REF[f"{key}/total/api00/se"])
    for g in ("E", "H", "M"):
        est, var, _ = calibrated_mean(frame["api00"].to_numpy(float), resolved, cal,
                                      (frame["stype"] == g).to_numpy())
        assert close(est, REF[f"{key}/by/api00/{g}/estimate"]), g
        assert close(np.sqrt(var), REF[f"{key}/by/api00/{g}/se"]), g


def test_rake__reports_its_passes_and_reaches_every_margin():
    frame = DATA["strat"]
    cal = rake(frame, frame["pw"].to_numpy(float), MARGINS["strat"])
    assert cal.converged and 1 <= cal.iterations <= 10 and cal.max_change < 1
    for m in MARGINS["strat"]:
        got = frame.groupby(frame[m.variable].astype(str))["pw"].size()  # every level present
        assert set(got.index) == set(m.levels)
        sums = pd.Series(cal.weights).groupby(frame[m.variable].astype(str).to_numpy()).sum()
        expected = dict(zip(m.levels, m.counts, strict=True))
        # The last margin is met exactly; the others within the convergence tolerance.
        assert all(abs(sums[k] - expected[k]) < 1 for k in expected)


def test_rake_that_runs_out_of_passes__is_calib_003_where_r_warns():
    assert REF["calib/strat_rake_maxit1/warned"] == 1
    frame = DATA["strat"]
    with pytest.raises(PulsecheckError) as caught:
        rake(frame, frame["pw"].to_numpy(float), MARGINS["strat"], max_iterations=1,
             epsilon=1e-9)
    assert caught.value.code == "CALIB_003"
    assert "1 passes" in str(caught.value)


def test_sample_level_missing_from_margins__is_calib_002_naming_the_level():
    frame = DATA["clus1"]
    partial = Margin("stype", ("E", "M"), (4421.0, 1018.0))
    with pytest.raises(PulsecheckError) as caught:
        poststratify(frame, frame["pw"].to_numpy(float), partial)
    assert caught.value.code == "CALIB_002"
    assert "'H'" in str(caught.value) and "stype" in str(caught.value)


def test_margin_level_missing_from_sample__is_calib_002_naming_the_level():
    frame = DATA["clus1"]
    extra = Margin("stype", ("E", "H", "M", "K"), (4421.0, 755.0, 1018.0, 10.0))
    with pytest.raises(PulsecheckError) as caught:
        rake(frame, frame["pw"].to_numpy(float), [extra])
    assert caught.value.code == "CALIB_002"
    assert "'K'" in str(caught.value)


def test_blank_calibration_variable__is_calib_004():
    frame = DATA["clus1"].copy()
    frame.loc[3, "stype"] = None
    with pytest.raises(PulsecheckError) as caught:
        poststratify(frame, frame["pw"].to_numpy(float), margin("clus1", "stype"))
    assert caught.value.code == "CALIB_004"
    assert "row 4" in str(caught.value)


@pytest.mark.parametrize("text, needle", [
    ("variable,level\nstype,E\n", "no column 'count'"),
    ("variable,level,count\nstype,E,10\nstype,E,20\n", "twice"),
    ("variable,level,count\nstype,E,0\n", "not a positive number"),
    ("variable,level,count\nstype,,5\n", "blank"),
    ("variable,level,count\n", "no rows"),
])
def test_bad_margins__are_calib_001(text, needle):
    from io import StringIO

    with pytest.raises(PulsecheckError) as caught:
        margins_from_frame(pd.read_csv(StringIO(text)), file="margins.csv")
    assert caught.value.code == "CALIB_001"
    assert needle in str(caught.value)
    assert "margins.csv" in str(caught.value)


@pytest.mark.parametrize("lower, upper", [(40, 20), (35, 40), (1, 2)])
def test_impossible_trimming__is_calib_005(lower, upper):
    w = DATA["strat"]["pw"].to_numpy(float)
    with pytest.raises(PulsecheckError) as caught:
        trim_weights(uncalibrated(w), lower=lower, upper=upper, strict=True)
    assert caught.value.code == "CALIB_005"


def test_trimming__keeps_the_total_and_the_bounds():
    w = DATA["strat"]["pw"].to_numpy(float)
    cal = trim_weights(uncalibrated(w), lower=17, upper=38, strict=True)
    assert np.isclose(cal.weights.sum(), w.sum())
    assert cal.weights.min() >= 17 - 1e-9 and cal.weights.max() <= 38 + 1e-9
    assert cal.trim_rounds >= 1 and cal.method == "trim"


def test_calibration__does_not_modify_its_inputs():
    frame = DATA["clus1"].copy()
    before = frame.copy()
    w = frame["pw"].to_numpy(float).copy()
    w_before = w.copy()
    rake(frame, w, MARGINS["clus1"])
    pd.testing.assert_frame_equal(frame, before)
    assert np.array_equal(w, w_before)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("method", CALIBRATED_CI_METHODS)
def test_proportion_intervals_after_calibration__equal_r_svyciprop(case, method):
    frame, resolved, cal = calibrate(case)
    y = (frame["awards"] == "Yes").to_numpy(float)
    for group in ("All", "E"):
        domain = None if group == "All" else (frame["stype"] == group).to_numpy()
        interval = calibrated_proportion(y, resolved, cal, method=method, domain=domain)
        key = f"calib/{case}/ciprop/awards/{group}/{method}"
        assert close(interval.estimate, REF[f"{key}/estimate"]), group
        assert close(interval.se, REF[f"{key}/se"]), group
        assert close(interval.low, REF[f"{key}/ci[1]"]), (group, interval)
        assert close(interval.high, REF[f"{key}/ci[2]"]), (group, interval)
