"""The report tables under the design of [settings.design]: replicate weights (given as
columns or converted from the linearisation design) and calibration, from tables.toml to the
table; configuration errors are catalogue messages."""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
import pytest

from conftest import tiny_instrument
from pipeline.errors import PulsecheckError
from pipeline.model.schema_check import ConfigError
from pipeline.stats.replicate import (
    ReplicateDesign,
    replicate_chisq,
    replicate_proportion,
    resolve_replicates,
)

SPEC = """\
[settings]
phase_basis = "self"
ci_method = "logit"
level = 0.95
disclosure_threshold = 1
test = "chisq"
trend = false
pairwise = "none"
pairwise_alpha = 0.05

[settings.design]
weights = "w"
{design}

[[tables]]
id = "stage"
title = "Stage"
kind = "single"
row = "stage"
"""
COLUMNS = """[settings.design.replicates]
type = "JK1"
columns = ["r1", "r2", "r3", "r4", "r5", "r6"]
scale = 0.8333333333333334
"""
STAGES = ["first", "second", "third"]


def spec(design: str):
    from pipeline.model.report_spec import build_spec

    return build_spec(tomllib.loads(SPEC.replace("{design}", design)))


def frame() -> pd.DataFrame:
    """Twelve partnerships in six PSUs of two, with weights and JK1 replicate weights."""
    from pipeline.report.tables import BANNER

    stages = ["first", "second", "third", "first", "second", "first",
              "third", "third", "second", "first", "first", "third"]
    phases = ["Early", "Late", "Early", "Early", "Late", "Late",
              "Early", "Late", "Early", "Late", "Early", "Early"]
    w = np.array([1.0, 2.0, 1.5, 1.0, 3.0, 2.5, 1.0, 2.0, 1.5, 1.0, 2.0, 1.2])
    psu = np.repeat(np.arange(6), 2)
    data = pd.DataFrame({"stage": stages, "w": w, "psu": psu + 1,
                         BANNER: pd.Categorical(phases, categories=["Early", "Late"])})
    for r in range(6):
        data[f"r{r + 1}"] = np.where(psu == r, 0.0, w * 6 / 5)
    return data


def table(design: str, data: pd.DataFrame | None = None, **kwargs):
    from pipeline.report.tables import build_report_tables

    data = frame() if data is None else data
    from pipeline.report.tables import BANNER

    return build_report_tables(data.drop(columns=BANNER), data[BANNER].astype(object),
                               tiny_instrument(), spec(design), **kwargs)


@pytest.mark.parametrize("extra, code, words", [
    ('typ = "JK1"\ntype = "JK1"\n', "CONF_002", "Did you mean 'type'?"),
    ('type = "JK1"\ncolumns = "r1"\n', "CONF_005", "a list in brackets"),
    ('type = "jackknife"\n', "CONF_005", "JKn"),
    ('type = "Fay"\n', "CONF_005", "rho given exactly when type is \"Fay\""),
    ('type = "bootstrap"\n', "CONF_005", "columns for type \"bootstrap\""),
    ('type = "JKn"\nscale = 0.5\n', "CONF_005", "no scale without columns"),
    ('type = "JK1"\ncolumns = ["r1", "r2"]\nrscales = [1.0, 1.0, 1.0]\n', "CONF_005",
     "one rscale, or one per column (2), not 3"),
    ('type = "JK1"\nmse = "yes"\n', "CONF_005", "true or false"),
])
def test_replicate_settings__misspelt_wrong_type_or_not_fitting__is_a_catalogue_error(
        extra, code, words):
    with pytest.raises(ConfigError) as caught:
        spec("[settings.design.replicates]\n" + extra)
    messages = "\n".join(caught.value.problems["message"])
    assert f"({code})" in messages and words in messages, messages
    assert "settings.design.replicates" in messages


def test_replicate_columns__every_cell_and_the_test__are_the_replicate_estimates():
    data = frame()
    tables = table(COLUMNS)
    result = tables.get("stage")
    resolved = resolve_replicates(data, ReplicateDesign(
        replicates=tuple(f"r{r + 1}" for r in range(6)), type="JK1", weights="w",
        scale=5 / 6))
    cells = result.table[result.table["row_type"] == "level"]
    for cell in cells.to_dict("records"):
        domain = np.ones(len(data), bool) if cell["col_level"] == "All" else \
            (data["_phase_banner"].astype(object) == cell["col_level"]).to_numpy()
        y = (data["stage"] == cell["row_level"]).to_numpy(float)
        expected = replicate_proportion(y, resolved, method="logit", domain=domain)
        assert cell["pct"] == pytest.approx(100 * expected.estimate, rel=1e-12)
        assert cell["se"] == pytest.approx(100 * expected.se, rel=1e-9)
        if cell["ci_method"] == "logit":
            assert cell["ci_low"] == pytest.approx(100 * expected.low, rel=1e-9, nan_ok=True)
    test = result.tests.iloc[0]
    codes = data["stage"].map({s: i for i, s in enumerate(STAGES)}).to_numpy()
    banner = data["_phase_banner"].astype(object).map({"Early": 0, "Late": 1}).to_numpy()
    expected = replicate_chisq(codes, banner, 3, 2, resolved, statistic="F")
    assert test["test"] == "rao_scott_f"
    assert test["statistic"] == pytest.approx(expected.statistic, rel=1e-9)
    assert "replicate weights" in tables.variance and "JK1" in tables.variance


def test_replicates_converted_from_the_design__name_the_conversion_in_the_methods():
    tables = table('cluster = ["psu"]\n[settings.design.replicates]\ntype = "JK1"\n')
    assert "as.svrepdesign" in tables.variance and "type='JK1'" in tables.variance
    cells = tables.get("stage").table
    assert cells.loc[cells["row_type"] == "level", "se"].notna().all()


def test_replicate_column_missing_from_the_data__is_stat_001():
    with pytest.raises(PulsecheckError) as caught:
        table(COLUMNS, frame().drop(columns="r4"))
    assert caught.value.code == "STAT_001" and "'r4'" in caught.value.message


def test_converted_bootstrap_type_mismatch__jkn_without_strata__is_rep_005():
    with pytest.raises(PulsecheckError) as caught:
        table('cluster = ["psu"]\n[settings.design.replicates]\ntype = "JKn"\n')
    assert caught.value.code == "REP_005"


def test_replicates_with_likelihood_intervals__are_refused_before_any_table():
    from pipeline.model.report_spec import build_spec
    from pipeline.report.tables import check_design_settings

    text = SPEC.replace("{design}", COLUMNS).replace('"logit"', '"likelihood"')
    with pytest.raises(PulsecheckError) as caught:
        check_design_settings(build_spec(tomllib.loads(text)), calibrated=False)
    assert caught.value.code == "STAT_004" and "likelihood" in caught.value.message


def test_replicates_in_a_calibrated_wave__are_refused():
    from pipeline.report.tables import check_design_settings

    with pytest.raises(PulsecheckError) as caught:
        check_design_settings(spec(COLUMNS), calibrated=True)
    assert caught.value.code == "REP_003" and "calibrat" in caught.value.message


def test_trend_test_under_a_design__is_refused_naming_the_table():
    from pipeline.model.report_spec import build_spec
    from pipeline.report.tables import check_design_settings

    text = SPEC.replace("{design}", COLUMNS).replace("trend = false", "trend = true")
    with pytest.raises(PulsecheckError) as caught:
        check_design_settings(build_spec(tomllib.loads(text)), calibrated=False)
    assert caught.value.code == "STAT_009" and "'stage'" in caught.value.message


def test_calibrated_tables__use_the_variance_after_calibration_and_say_so():
    from pipeline.stats.calibrate import Margin, calibrated_proportion, poststratify
    from pipeline.stats.design import SurveyDesign, resolve_design

    data = frame().assign(weight=1.0)
    margin = Margin("stage", ("first", "second", "third"), (50.0, 30.0, 40.0))
    calibration = poststratify(data, np.ones(len(data)), margin)
    data = data.assign(weight=calibration.weights)
    # Calibrated on stage: its shares are fixed; the by-phase shares are not.
    tables = table("", data.drop(columns="w").rename(columns={"weight": "w"}),
                   weights="w", calibration=calibration)
    cells = tables.get("stage").table
    early = cells[(cells["col_level"] == "Early") & (cells["row_level"] == "second")].iloc[0]
    domain = (data["_phase_banner"].astype(object) == "Early").to_numpy()
    expected = calibrated_proportion((data["stage"] == "second").to_numpy(float),
                                     resolve_design(data, SurveyDesign()), calibration,
                                     method="logit", domain=domain)
    assert early["se"] == pytest.approx(100 * expected.se, rel=1e-9)
    assert early["ci_high"] == pytest.approx(100 * expected.high, rel=1e-9)
    assert "after calibration" in tables.variance
    assert tables.get("stage").tests["test"].tolist() == ["rao_scott_f"]


@pytest.mark.slow
def test_calibrated_run__methods_name_the_variance_after_calibration(tmp_path):
    import json

    from click.testing import CliRunner

    from pipeline.cli.main import cli
    from test_run_calibration import SIZE_MARGINS, _weighted_project

    wave = _weighted_project(tmp_path, SIZE_MARGINS)
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(out), "--no-pdf",
                                      "--no-notebook"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    variance = manifest["statistics"]["variance"]
    assert "after calibration (rake" in variance
    tests = pd.read_csv(out / "internal" / "tables" / "tests.csv")
    assert set(tests["test"]) == {"rao_scott_f"}
    summary = (out / "published" / "funder_summary.html").read_text(encoding="utf-8")
    assert "after calibration" in summary
