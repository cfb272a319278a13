"""Multistage designs, lonely-PSU rules, design effects, totals, quantiles, p.adjust and the
likelihood interval at the edges, against numbers computed by R (survey 4.1.1, R 4.2.2).

The data, the reference numbers and the script that made them are in tests/oracles/r_survey/
(make_oracle_designs.R). Tolerance: 1e-6 relative (absolute below 1e-12).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.stats.comparisons import adjust_pvalues
from pipeline.stats.contingency import design_chisq
from pipeline.stats.design import SurveyDesign, design_df, resolve_design
from pipeline.stats.estimates import mean_estimate, quantile_estimate, total_estimate
from pipeline.stats.intervals import proportion_interval
from pipeline.stats.methods import DESIGN_METHODS
from pipeline.stats.tabulate import single_choice_table

ORACLE = Path(__file__).parent / "oracles" / "r_survey"
REL = 1e-6
REF = pd.read_csv(ORACLE / "reference_designs.csv").set_index("id")["value"] \
    .astype(float).to_dict()
CLUS2 = pd.read_csv(ORACLE / "apiclus2.csv")
STRAT = pd.read_csv(ORACLE / "apistrat.csv")
STRAT["yes"] = (STRAT["sch.wide"] == "Yes").astype(float)
STRAT["lonely"] = STRAT["stype"]
STRAT.loc[STRAT.groupby("stype").head(1).index[STRAT.groupby("stype").head(1)["stype"]
                                                .isin(["E", "H"])], "lonely"] = \
    "X" + STRAT["stype"]
STRAT["dom"] = (STRAT["stype"] == "E") | ~STRAT["stype"].duplicated()
EDGES = pd.read_csv(ORACLE / "edges.csv")

DESIGNS = {
    "clus2_fpc": (CLUS2, SurveyDesign(cluster=("dnum", "snum"), fpc=("fpc1", "fpc2"))),
    "clus2_fpc_w": (CLUS2, SurveyDesign(weights="pw", cluster="dnum,snum", fpc="fpc1,fpc2")),
    "clus2_nofpc": (CLUS2, SurveyDesign(weights="pw", cluster=("dnum", "snum"))),
}
for _rule in ("certainty", "remove", "adjust", "average"):
    for _dl in (False, True):
        _tag = _rule + ("_domain" if _dl else "")
        DESIGNS[f"lonely_strat/{_tag}"] = (STRAT, SurveyDesign(
            weights="pw", strata="lonely", lonely_psu=_rule, adjust_domain_lonely=_dl))
        DESIGNS[f"lonely_clus/{_tag}"] = (STRAT, SurveyDesign(
            weights="pw", strata="lonely", cluster="dnum", lonely_psu=_rule,
            adjust_domain_lonely=_dl))


def close(actual: float, expected: float, rel: float = REL) -> bool:
    if expected == 0:
        return abs(actual) < 1e-12
    return abs(actual - expected) <= rel * abs(expected)


def ref(key: str, n: int) -> list[float]:
    return [REF[f"{key}[{i}]"] for i in range(1, n + 1)]


def domains(name: str, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    out = {"All": np.ones(len(frame), bool), "E": (frame["stype"] == "E").to_numpy()}
    if name.startswith("clus2"):
        out["H"] = (frame["stype"] == "H").to_numpy()
    else:
        out["dom"] = frame["dom"].to_numpy(bool)
    return out


CASES = [(name, group) for name, (frame, _) in DESIGNS.items()
         for group in domains(name, frame)]


def test_reference_file__has_every_section():
    assert {k.split("/")[0] for k in REF} >= {"clus2_fpc", "clus2_fpc_w", "clus2_nofpc",
                                              "lonely_strat", "lonely_clus", "edges",
                                              "padjust"}
    assert len(REF) > 1900


@pytest.mark.parametrize("name", list(DESIGNS))
def test_design_df__equals_r(name):
    frame, design = DESIGNS[name]
    assert design_df(resolve_design(frame, design)) == REF[f"{name}/degf"]


@pytest.mark.parametrize(("name", "group"), CASES)
def test_mean_total_and_design_effects__equal_r(name, group):
    frame, design = DESIGNS[name]
    resolved = resolve_design(frame, design)
    domain = domains(name, frame)[group]
    mean = mean_estimate(frame["api00"].to_numpy(float), domain, resolved, deff=True)
    expected = ref(f"{name}/{group}/mean", 3)
    assert close(mean.estimate, expected[0]) and close(mean.se, expected[1]), (mean, expected)
    assert close(mean.deff, expected[2]), (mean.deff, expected[2])
    assert close(mean.n_effective, domain.sum() / expected[2])
    total = total_estimate(frame["api00"].to_numpy(float), domain, resolved, deff=True)
    expected = ref(f"{name}/{group}/total", 3)
    assert close(total.estimate, expected[0]) and close(total.se, expected[1]), \
        (total, expected)
    assert close(total.deff, expected[2])


@pytest.mark.parametrize(("name", "group"), CASES)
def test_proportions_and_every_interval__equal_r(name, group):
    frame, design = DESIGNS[name]
    resolved = resolve_design(frame, design)
    domain = domains(name, frame)[group]
    y = frame["yes"].to_numpy(float)
    estimate, se = ref(f"{name}/{group}/prop", 2)
    for method in DESIGN_METHODS:
        interval = proportion_interval(y, domain, resolved, method=method)
        assert close(interval.estimate, estimate) and close(interval.se, se)
        key = f"{name}/{group}/ciprop/{method}[1]"
        if key not in REF or (method == "asin" and not 0 < interval.low < interval.high < 1):
            continue  # a clipped asin angle: R folds it back (README, Differences from R)
        assert close(interval.low, REF[key]), (method, interval, REF[key])
        assert close(interval.high, REF[key.replace("[1]", "[2]")]), (method, interval)


@pytest.mark.parametrize(("name", "group"), CASES)
def test_table_path__equals_r_on_the_same_designs(name, group):
    frame, design = DESIGNS[name]
    domain = domains(name, frame)[group]
    sub = frame.assign(band=np.where(domain, frame["sch.wide"], None))
    result = single_choice_table(sub, "band", levels=["No", "Yes"], design=design,
                                 ci_method="logit", deff=True)
    cell = result.table[result.table["row_level"] == "Yes"].iloc[0]
    estimate, se, deff = ref(f"{name}/{group}/prop", 3)
    assert close(cell["pct"], 100 * estimate) and close(cell["se"], 100 * se)
    assert close(cell["deff"], deff), (cell["deff"], deff)
    assert close(cell["n_effective"], cell["base_n"] / deff)


@pytest.mark.parametrize(("name", "group"), CASES)
def test_quantiles_with_woodruff_intervals__equal_r(name, group):
    frame, design = DESIGNS[name]
    resolved = resolve_design(frame, design)
    domain = domains(name, frame)[group]
    expected = ref(f"{name}/{group}/quantile", 12)
    for i, q in enumerate((0.25, 0.5, 0.9)):
        est = quantile_estimate(frame["api00"].to_numpy(float), domain, resolved, q)
        for actual, wanted in zip((est.estimate, est.low, est.high, est.se),
                                  expected[4 * i: 4 * i + 4], strict=True):
            if np.isnan(wanted):
                assert np.isnan(actual)
            else:
                assert close(actual, wanted), (q, est, expected[4 * i: 4 * i + 4])


def test_multistage_rao_scott__equals_r():
    frame, design = DESIGNS["clus2_fpc"]
    resolved = resolve_design(frame, design)
    rc = (frame["sch.wide"] == "Yes").to_numpy(np.int64)
    cc = frame["stype"].map({"E": 0, "H": 1, "M": 2}).to_numpy(np.int64)
    result = design_chisq(rc, cc, 2, 3, resolved, statistic="F")
    statistic, ndf, ddf, p = ref("clus2_fpc/svychisq/F", 4)
    assert close(result.statistic, statistic) and close(result.df, ndf)
    assert close(result.ddf, ddf) and close(result.p_value, p)


EDGE_CASES = sorted({k.rsplit("[", 1)[0] for k in REF if k.startswith("edges/")})


@pytest.mark.parametrize("key", EDGE_CASES)
def test_intervals_at_one_and_two_design_df__equal_r(key):
    _, case, level, method = key.split("/")
    frame = EDGES[EDGES["psu"] < 3] if case == "df1" else EDGES
    domain = np.ones(len(frame), bool) if case in ("df1", "df2") else \
        (frame["g"] == case.split("_")[1]).to_numpy()
    resolved = resolve_design(frame, SurveyDesign(weights="w", cluster="psu"))
    interval = proportion_interval(frame["y"].to_numpy(float), domain, resolved,
                                   method=method, level=float(level))
    low, high = REF[f"{key}[1]"], REF[f"{key}[2]"]
    if method == "asin" and not 0 < interval.low < interval.high < 1:
        pytest.skip("a clipped asin angle: R folds it back (README, Differences from R)")
    assert interval.method == method
    assert close(interval.low, low, 1e-6) and close(interval.high, high, 1e-6), \
        (interval, low, high)


@pytest.mark.parametrize("method", ["hochberg", "hommel", "BY"])
def test_p_adjust__equals_r(method):
    p = [0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.04, 0.0001, 0.04]
    got = adjust_pvalues(p, method=method.lower())
    assert all(close(a, b) for a, b in zip(got, ref(f"padjust/{method}", 9), strict=True))
    got = adjust_pvalues([0.02, 0.03], method=method.lower())
    assert all(close(a, b) for a, b in zip(got, ref(f"padjust2/{method}", 2), strict=True))


def test_configuration_design__two_stage_with_fpc__equals_r():
    from pipeline.model.schemas import DesignSettings
    from pipeline.stats.design import design_from_settings

    settings = DesignSettings(cluster=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    design = design_from_settings(settings)
    assert design.describe() == "svydesign(id=~dnum+snum, fpc=~fpc1+fpc2)"
    mean = mean_estimate(CLUS2["api00"].to_numpy(float), np.ones(len(CLUS2), bool),
                         resolve_design(CLUS2, design))
    assert close(mean.se, REF["clus2_fpc/All/mean[2]"])


def test_configuration_design__unknown_lonely_rule__is_refused():
    from pydantic import ValidationError

    from pipeline.model.schemas import DesignSettings

    with pytest.raises(ValidationError):
        DesignSettings(lonely_psu="drop")


def test_fpc_for_some_stages_only__is_a_catalogue_refusal():
    from pipeline.errors import PulsecheckError

    with pytest.raises(PulsecheckError) as caught:
        resolve_design(CLUS2, SurveyDesign(cluster=("dnum", "snum"), fpc="fpc1"))
    assert caught.value.code == "STAT_004"
    assert "one fpc column per cluster stage" in caught.value.message
