"""Replicate-weight designs against numbers computed by R (survey 4.1.1, R 4.2.2).

The reference numbers, the data and the script that made them are in
tests/oracles/r_survey/replicate/ (make_oracle.R). Tolerance: 1e-6 relative (absolute below
1e-12). Designs: replicate weights given as columns (JK1 with and without mse, bootstrap,
BRR, Fay) and linearisation designs converted to replicates (JKn of apistrat with fpc, JK1 of
apiclus1 with fpc, JKn, BRR and Fay of apiclus2 with paired districts).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import PulsecheckError
from pipeline.stats.design import SurveyDesign
from pipeline.stats.methods import DESIGN_CHISQ_STATISTICS
from pipeline.stats.replicate import (
    REPLICATE_CI_METHODS,
    ReplicateDesign,
    hadamard,
    replicate_chisq,
    replicate_crosstab,
    replicate_df,
    replicate_mean,
    replicate_proportion,
    replicate_total,
    replicates_from_design,
    resolve_replicates,
)

ORACLE = Path(__file__).parent / "oracles" / "r_survey"
HERE = ORACLE / "replicate"
REF = pd.read_csv(HERE / "reference.csv").set_index("id")["value"].astype(float).to_dict()
STRAT = pd.read_csv(ORACLE / "apistrat.csv")
CLUS1 = pd.read_csv(ORACLE / "apiclus1.csv")
CLUS2 = pd.read_csv(HERE / "clus2_pairs.csv")
JK1 = pd.read_csv(HERE / "clus1_jk1.csv")
BOOT = pd.read_csv(HERE / "clus1_boot.csv")
BRR = pd.read_csv(HERE / "clus2_brr.csv")
BAND = ["600to699", "700to799", "800plus", "lt600"]  # R's (sorted) level order
STYPES = ["E", "H", "M"]


def ref_vector(key: str) -> np.ndarray:
    out, i = [], 1
    while f"{key}[{i}]" in REF:
        out.append(REF[f"{key}[{i}]"])
        i += 1
    return np.asarray(out)


def close(actual: float, expected: float, rel: float = 1e-6) -> bool:
    if expected == 0:
        return abs(actual) < 1e-12
    return abs(actual - expected) <= rel * abs(expected)


def _fay_frame() -> pd.DataFrame:
    # R's Fay replicate weights (rho 0.3) for the paired apiclus2 design, as columns.
    n_rows, n_reps = (int(v) for v in ref_vector("convert/clus2_fay/dim"))
    weights = ref_vector("convert/clus2_fay/weights").reshape(n_reps, n_rows).T
    columns = pd.DataFrame(weights, columns=[f"f{i + 1}" for i in range(n_reps)])
    return pd.concat([CLUS2, columns], axis=1)


FAY = _fay_frame()


def _given(frame: pd.DataFrame, prefix: str, **kwargs) -> tuple[pd.DataFrame, object]:
    cols = tuple(c for c in frame.columns if c.startswith(prefix) and c[len(prefix):].isdigit())
    return frame, resolve_replicates(frame, ReplicateDesign(replicates=cols, weights="pw",
                                                            **kwargs))


def design(name: str):
    """The frame and the resolved replicate design of each reference design."""
    if name == "jk1":
        return _given(JK1, "rw", type="JK1", scale=REF["given/jk1/scale"])
    if name == "jk1_mse":
        return _given(JK1, "rw", type="JK1", scale=REF["given/jk1/scale"], mse=True)
    if name == "boot":
        return _given(BOOT, "rb", type="bootstrap")
    if name == "brr":
        return _given(BRR, "rh", type="BRR")
    if name == "fay":
        return _given(FAY, "f", type="Fay", rho=0.3)
    if name == "strat_jkn":
        return STRAT, replicates_from_design(
            STRAT, SurveyDesign(weights="pw", strata="stype", fpc="fpc"), "JKn")
    if name == "clus1_jk1":
        return CLUS1, replicates_from_design(
            CLUS1, SurveyDesign(weights="pw", cluster="dnum", fpc="fpc"), "JK1")
    linear = SurveyDesign(weights="pw", strata="pair", cluster="dnum")
    if name == "clus2_jkn":
        return CLUS2, replicates_from_design(CLUS2, linear, "JKn")
    if name == "clus2_brr":
        return CLUS2, replicates_from_design(CLUS2, linear, "BRR")
    if name == "clus2_fay":
        return CLUS2, replicates_from_design(CLUS2, linear, "Fay", fay_rho=0.3)
    raise KeyError(name)


GIVEN = ["jk1", "jk1_mse", "boot", "brr", "fay"]
CONVERTED = ["strat_jkn", "clus1_jk1", "clus2_jkn", "clus2_brr", "clus2_fay"]
ALL = GIVEN + CONVERTED


def test_reference_file__covers_every_design():
    assert {key.split("/")[0] for key in REF} >= set(ALL) | {"convert", "given", "calib"}


@pytest.mark.parametrize("name", CONVERTED)
def test_replicates_from_design__equal_r_as_svrepdesign(name):
    _, resolved = design(name)
    dims = ref_vector(f"convert/{name}/dim")
    assert resolved.replicates.shape == (int(dims[0]), int(dims[1]))
    assert close(resolved.scale, REF[f"convert/{name}/scale"])
    assert np.allclose(resolved.rscales, ref_vector(f"convert/{name}/rscales"), rtol=1e-12)
    full = ref_vector(f"convert/{name}/weights")
    if full.size:
        expected = full.reshape(int(dims[1]), int(dims[0])).T
        assert np.allclose(resolved.replicates, expected, rtol=1e-12, atol=0)
    else:
        assert np.allclose(resolved.replicates.sum(axis=0),
                           ref_vector(f"convert/{name}/colsums"), rtol=1e-12)
        assert np.allclose((resolved.replicates ** 2).sum(axis=0),
                           ref_vector(f"convert/{name}/colsumsq"), rtol=1e-12)


@pytest.mark.parametrize("name", ALL)
def test_degf__equals_r(name):
    frame, resolved = design(name)
    assert replicate_df(resolved) == REF[f"{name}/degf"]
    for g in STYPES:
        assert replicate_df(resolved, (frame["stype"] == g).to_numpy()) == \
            REF[f"{name}/degf_domain/{g}"], g


@pytest.mark.parametrize("name", ALL)
def test_means_and_totals__equal_r(name):
    frame, resolved = design(name)
    for var in ("api00", "meals"):
        result = replicate_mean(frame[var].to_numpy(float), resolved)
        assert close(result.estimate[0], REF[f"{name}/mean/{var}/estimate"])
        assert close(result.se[0], REF[f"{name}/mean/{var}/se"])
    total = replicate_total(frame["api00"].to_numpy(float), resolved)
    assert close(total.estimate[0], REF[f"{name}/total/api00/estimate"])
    assert close(total.se[0], REF[f"{name}/total/api00/se"])
    for g in STYPES:
        result = replicate_mean(frame["api00"].to_numpy(float), resolved,
                                (frame["stype"] == g).to_numpy())
        assert close(result.estimate[0], REF[f"{name}/by/api00/{g}/estimate"]), g
        assert close(result.se[0], REF[f"{name}/by/api00/{g}/se"]), g


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("method", REPLICATE_CI_METHODS)
def test_proportion_intervals__equal_r_svyciprop(name, method):
    frame, resolved = design(name)
    y = (frame["sch.wide"] == "Yes").to_numpy(float)
    for group in ("All", "E", "M"):
        domain = None if group == "All" else (frame["stype"] == group).to_numpy()
        interval = replicate_proportion(y, resolved, method=method, domain=domain)
        key = f"{name}/ciprop/{group}/{method}"
        assert close(interval.estimate, REF[f"{key}/estimate"]), group
        assert close(interval.se, REF[f"{key}/se"]), group
        assert close(interval.low, REF[f"{key}/ci[1]"]), (group, interval)
        assert close(interval.high, REF[f"{key}/ci[2]"]), (group, interval)


@pytest.mark.parametrize("name", ALL)
def test_crosstab_shares__equal_r(name):
    frame, resolved = design(name)
    rows = frame["api_band"].map({b: i for i, b in enumerate(BAND)}).to_numpy(np.int64)
    cols = frame["stype"].map({s: j for j, s in enumerate(STYPES)}).to_numpy(np.int64)
    table = replicate_crosstab(rows, cols, len(BAND), len(STYPES), resolved, method="mean")
    for cell in table.itertuples():
        group = "All" if cell.col < 0 else STYPES[cell.col]
        key = f"{name}/share/api_band/{group}/{BAND[cell.row]}"
        if np.isnan(REF[f"{key}/estimate"]):
            # R leaves a level no one in the column has out of the subset's table.
            assert cell.n == 0 and cell.share == 0, key
            continue
        assert close(cell.share, REF[f"{key}/estimate"]), key
        assert close(cell.se, REF[f"{key}/se"]), key


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("statistic", DESIGN_CHISQ_STATISTICS)
def test_chisq__equals_r_svychisq(name, statistic):
    frame, resolved = design(name)
    for row, levels in (("sch.wide", ["No", "Yes"]), ("api_band", BAND)):
        rows = frame[row].map({v: i for i, v in enumerate(levels)}).to_numpy(np.int64)
        cols = frame["stype"].map({s: j for j, s in enumerate(STYPES)}).to_numpy(np.int64)
        result = replicate_chisq(rows, cols, len(levels), 3, resolved, statistic=statistic)
        key = f"{name}/chisq/{row}/stype/{statistic}"
        assert close(result.p_value, REF[f"{key}/p_value"]), key
        if statistic == "Chisq":
            # As the linearisation engine: the statistic is X² divided by the mean design
            # effect (R reports X² and corrects only the p-value), so compare p and df.
            assert result.df == REF[f"{key}/parameter"], key
            continue
        assert close(result.statistic, REF[f"{key}/statistic"]), key
        parameter = ref_vector(f"{key}/parameter")
        if parameter.size:
            assert close(result.df, parameter[0]) and close(result.ddf, parameter[1]), key
        else:
            assert close(result.df, REF[f"{key}/parameter"]), key


# --------------------------------------------------------------------------------------------
# Hadamard matrices: the construction R uses, checked as a construction


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 8, 11, 12, 15, 19, 20, 23, 40, 43, 60])
def test_hadamard__is_hadamard_with_room_for_every_stratum(n):
    h = hadamard(n)
    signs = 2 * h - 1
    assert h.shape[0] == h.shape[1] > n
    assert np.array_equal(signs @ signs.T, h.shape[0] * np.eye(h.shape[0], dtype=int))


@pytest.mark.parametrize("n", [24, 25, 27, 33])
def test_hadamard__sizes_r_stores_are_refused(n):
    with pytest.raises(PulsecheckError) as caught:
        hadamard(n)
    assert caught.value.code == "REP_004"


# --------------------------------------------------------------------------------------------
# refusals


def test_unknown_replicate_type__is_rep_001():
    with pytest.raises(PulsecheckError) as caught:
        resolve_replicates(JK1, ReplicateDesign(replicates=("rw1", "rw2"), type="jackknife"))
    assert caught.value.code == "REP_001"
    assert "jackknife" in str(caught.value)


@pytest.mark.parametrize("kwargs, needle", [
    (dict(replicates=(), type="JK1"), "no replicate"),
    (dict(replicates=("rw1", "rw1"), type="JK1"), "twice"),
    (dict(replicates=("rw1", "rw2", "rw3"), type="JKn", rscales=(0.5, 0.5)), "rscales"),
    (dict(replicates=("rw1", "rw2"), type="JKn"), "rscales"),
    (dict(replicates=("rw1", "rw2"), type="Fay"), "rho"),
    (dict(replicates=("rw1", "rw2"), type="BRR", scale=0.5), "scale"),
])
def test_mismatched_replicate_columns__are_rep_003(kwargs, needle):
    with pytest.raises(PulsecheckError) as caught:
        resolve_replicates(JK1, ReplicateDesign(weights="pw", **kwargs))
    assert caught.value.code == "REP_003"
    assert needle in str(caught.value)


def test_missing_replicate_column__is_stat_001():
    with pytest.raises(PulsecheckError) as caught:
        resolve_replicates(JK1, ReplicateDesign(replicates=("rw1", "rw99"), type="JK1"))
    assert caught.value.code == "STAT_001"


def test_blank_replicate_weight__is_rep_002_naming_the_row():
    frame = JK1.copy()
    frame.loc[4, "rw3"] = np.nan
    with pytest.raises(PulsecheckError) as caught:
        resolve_replicates(frame, ReplicateDesign(replicates=("rw1", "rw2", "rw3"), type="JK1",
                                                  weights="pw"))
    assert caught.value.code == "REP_002"
    assert "row 5" in str(caught.value)


@pytest.mark.parametrize("frame, linear, kind", [
    (STRAT, SurveyDesign(weights="pw", strata="stype"), "JK1"),
    (CLUS1, SurveyDesign(weights="pw", cluster="dnum"), "JKn"),
    (CLUS1, SurveyDesign(weights="pw", cluster="dnum"), "BRR"),
    (STRAT, SurveyDesign(weights="pw", strata="stype"), "BRR"),
    (CLUS2, SurveyDesign(weights="pw", strata="pair", cluster="dnum", fpc="pw"), "BRR"),
])
def test_conversion_that_does_not_fit_the_design__is_rep_005(frame, linear, kind):
    with pytest.raises(PulsecheckError) as caught:
        replicates_from_design(frame, linear, kind)
    assert caught.value.code in ("REP_005", "STAT_002")


def test_conversion_to_bootstrap__is_refused_as_random():
    with pytest.raises(PulsecheckError) as caught:
        replicates_from_design(CLUS1, SurveyDesign(weights="pw", cluster="dnum"), "bootstrap")
    assert caught.value.code == "REP_001"


def test_likelihood_interval_on_replicates__is_refused_by_name():
    _, resolved = design("jk1")
    with pytest.raises(PulsecheckError) as caught:
        replicate_proportion(np.ones(resolved.n_rows), resolved, method="likelihood")
    assert caught.value.code == "STAT_004"


def test_inputs__are_not_modified():
    frame = JK1.copy()
    before = frame.copy()
    _, resolved = _given(frame, "rw", type="JK1")
    replicate_mean(frame["api00"].to_numpy(float), resolved)
    pd.testing.assert_frame_equal(frame, before)
