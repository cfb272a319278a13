"""Tests of change between waves under a sampling design, against R (survey 4.1.1).

Two independent samples stand for two waves: apistrat (stratified) as the first, apiclus1
(one-stage cluster sample) as the second, each with its own design. R stacks them as one
design stratified by wave and takes svycontrast of the svyby means with degf of the stacked
design (tests/oracles/r_survey/replicate/make_oracle_tables.R). Tolerance: 1e-6 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.model.crosswalk import build_crosswalk
from pipeline.multiwave.trends import WaveData, chain_measures, compute_trends
from pipeline.stats.comparisons import design_change_test
from pipeline.stats.design import SurveyDesign
from pipeline.stats.replicate import ReplicateConversion
from test_waves import NEW, OLD, _xwalk

ORACLE = Path(__file__).parent / "oracles" / "r_survey"
REF = pd.read_csv(ORACLE / "replicate" / "reference_tables.csv").set_index("id")["value"] \
    .astype(float).to_dict()
ITEMS = {"ca_sch_wide": ("sch.wide", "Yes"), "ca_awards": ("awards", "Yes")}


def close(actual: float, expected: float, rel: float = 1e-6) -> bool:
    return abs(actual - expected) <= rel * abs(expected)


def wave_frame(path: Path, column: str, value: str) -> pd.DataFrame:
    """A wave's answers: 'high' where the school has the value, with the design columns."""
    data = pd.read_csv(path)
    return pd.DataFrame({"pid": [f"P{i}" for i in range(len(data))],
                         "reliance": np.where(data[column] == value, "high", "low"),
                         "pw": data["pw"].to_numpy(), "stype": data["stype"].to_numpy(),
                         "dnum": data["dnum"].to_numpy()},
                        index=pd.RangeIndex(100, 100 + len(data)))


def chains():
    xw = _xwalk([("reliant", "Reliant", "F", "reliance", "high", "reliance", "high",
                  "comparable_with_caveat", "Scale changed.")])
    return chain_measures([build_crosswalk(xw, OLD, NEW)[0]])[0]


@pytest.mark.parametrize("item", list(ITEMS))
def test_change_between_designed_waves__equals_r_svycontrast_on_the_stacked_design(item):
    first = wave_frame(ORACLE / "apistrat.csv", *ITEMS[item])
    second = wave_frame(ORACLE / "apiclus1.csv", *ITEMS[item])
    waves = [WaveData("2016", OLD, first, pd.Series(["x"] * len(first), index=first.index),
                      design=SurveyDesign(weights="pw", strata="stype"), ci_method="logit"),
             WaveData("2018", NEW, second, pd.Series(["x"] * len(second), index=second.index),
                      design=SurveyDesign(weights="pw", cluster="dnum"), ci_method="logit")]
    result = compute_trends(waves, chains())
    shares = result.table.set_index("wave")["pct"]
    assert close(shares["2016"] / 100, REF[f"change/{item}/w1"])
    assert close(shares["2018"] / 100, REF[f"change/{item}/w2"])
    assert result.table["ci_method"].tolist() == ["logit", "logit"]
    change = result.changes.iloc[0]
    assert close(change["difference"] / 100, REF[f"change/{item}/difference"])
    assert close(change["p_value"], REF[f"change/{item}/p_value"])
    assert "design-based t test" in change["test"]
    assert REF["change/degf"] == REF["change/degf/w1"] + REF["change/degf/w2"]


def test_design_change_test__se_and_df_rule():
    result = design_change_test(0.4, 0.01, 10, 0.5, 0.015, 20)
    assert result.df == 30
    assert result.statistic == pytest.approx(0.1 / np.sqrt(0.025), rel=1e-12)
    from scipy import stats

    assert result.p_value == pytest.approx(2 * stats.t.sf(0.1 / np.sqrt(0.025), 30), rel=1e-12)


def test_design_change_test__no_variance__is_not_tested():
    result = design_change_test(0.0, 0.0, 10, 0.0, 0.0, 20)
    assert result.method.startswith("not tested") and np.isnan(result.p_value)


def test_trend_over_three_designed_waves__is_not_tested_and_says_why():
    frame = wave_frame(ORACLE / "apistrat.csv", "sch.wide", "Yes")
    design = SurveyDesign(weights="pw", strata="stype")
    third = frame.copy()
    xw = _xwalk([("reliant", "Reliant", "F", "reliance", "high", "reliance", "high",
                  "comparable_with_caveat", "Scale changed.")])
    crosswalks = [build_crosswalk(xw, OLD, NEW)[0]]
    # A third version of the instrument, the same questions.
    from test_waves import CHOICES_A, SURVEY_A, _instrument

    newest = _instrument(SURVEY_A, CHOICES_A.replace("rely,high,More than half,2",
                                                     "rely,half,About half,3\n"
                                                     "rely,high,More than half,2"), "2020")
    crosswalks.append(build_crosswalk(xw, NEW, newest)[0])
    phase = pd.Series(["x"] * len(frame), index=frame.index)
    waves = [WaveData("2016", OLD, frame, phase, design=design, ci_method="logit"),
             WaveData("2018", NEW, frame, phase, design=design, ci_method="logit"),
             WaveData("2020", newest, third, phase, design=design, ci_method="logit")]
    result = compute_trends(waves, chain_measures(crosswalks)[0])
    assert len(result.changes) == 2
    test = result.trend_tests.iloc[0]
    assert test["test"].startswith("not tested (a wave has a sampling design")
    assert np.isnan(test["p_value"])


def test_replicate_designed_wave__beside_an_unweighted_one__is_tested_by_design():
    first = wave_frame(ORACLE / "replicate" / "clus2_pairs.csv", "sch.wide", "Yes")
    pairs = pd.read_csv(ORACLE / "replicate" / "clus2_pairs.csv")["pair"].to_numpy()
    first = first.assign(pair=pairs)
    second = wave_frame(ORACLE / "apiclus1.csv", "sch.wide", "Yes")
    conversion = ReplicateConversion(SurveyDesign(weights="pw", strata="pair", cluster="dnum"),
                                     "JKn")
    waves = [WaveData("2016", OLD, first, pd.Series(["x"] * len(first), index=first.index),
                      design=conversion, ci_method="logit"),
             WaveData("2018", NEW, second, pd.Series(["x"] * len(second),
                                                     index=second.index))]
    result = compute_trends(waves, chains())
    change = result.changes.iloc[0]
    # The unweighted wave is a simple random sample: p(1-p)/(n-1) on n-1 df.
    p2 = (second["reliance"] == "high").mean()
    v2 = p2 * (1 - p2) / (len(second) - 1)
    assert result.table["ci_method"].tolist() == ["logit", "wilson"]
    assert "design-based t test" in change["test"] and np.isfinite(change["p_value"])
    assert change["difference"] == pytest.approx(100 * p2 - result.table["pct"].iloc[0])
    assert v2 > 0


def test_calibrated_wave__shares_take_the_variance_after_calibration():
    from pipeline.stats.calibrate import Margin, calibrated_proportion, poststratify
    from pipeline.stats.design import resolve_design

    first = wave_frame(ORACLE / "apistrat.csv", "awards", "Yes")
    second = wave_frame(ORACLE / "apiclus1.csv", "awards", "Yes")
    margin = Margin("stype", ("E", "H", "M"), (4421.0, 755.0, 1018.0))
    calibration = poststratify(first, first["pw"].to_numpy(float), margin)
    waves = [WaveData("2016", OLD, first, pd.Series(["x"] * len(first), index=first.index),
                      calibration=calibration, ci_method="logit"),
             WaveData("2018", NEW, second, pd.Series(["x"] * len(second), index=second.index),
                      design=SurveyDesign(weights="pw", cluster="dnum"), ci_method="logit")]
    result = compute_trends(waves, chains())
    row = result.table.iloc[0]
    expected = calibrated_proportion((first["reliance"] == "high").to_numpy(float),
                                     resolve_design(first, SurveyDesign()), calibration,
                                     method="logit")
    assert row["pct"] == pytest.approx(100 * expected.estimate, rel=1e-12)
    assert row["ci_low"] == pytest.approx(100 * expected.low, rel=1e-9)
    assert "design-based t test" in result.changes.iloc[0]["test"]
