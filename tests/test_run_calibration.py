"""The optional calibration step of a run: wave.toml's [calibration], the margins file, the
weights written to internal/, the step in run.json and the weighted tables."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import PROJECT, SAMPLE_WAVE, make_project
from pipeline.cli.main import cli
from pipeline.errors import PulsecheckError
from pipeline.ingest.readers import read_wave

CALIBRATION = """
[calibration]
method = "rake"
margins = "margins.csv"
"""


def test_wave_without_calibration__is_unweighted(tmp_path, tiny_rows):
    wave = read_wave(make_project(tmp_path, tiny_rows))
    assert wave.calibration is None and wave.margins_path is None


def test_calibration__names_a_margins_file_inside_the_wave_folder(tmp_path, tiny_rows):
    from conftest import TINY_WAVE

    wave_dir = make_project(tmp_path, tiny_rows, TINY_WAVE + CALIBRATION)
    (wave_dir / "margins.csv").write_text("variable,level,count\nscreen,yes,10\n")
    wave = read_wave(wave_dir)
    assert wave.calibration.method == "rake" and wave.calibration.max_iterations == 10
    assert Path(wave.margins_path).name == "margins.csv"


def test_margins_outside_the_wave_folder__are_refused(tmp_path, tiny_rows):
    from conftest import TINY_WAVE

    wave_dir = make_project(tmp_path, tiny_rows,
                            TINY_WAVE + CALIBRATION.replace("margins.csv", "../margins.csv"))
    (wave_dir.parent / "margins.csv").write_text("variable,level,count\nscreen,yes,10\n")
    with pytest.raises(PulsecheckError) as caught:
        read_wave(wave_dir)
    assert caught.value.code == "WAVE_003"


def test_unknown_calibration_key__is_a_schema_error(tmp_path, tiny_rows):
    from conftest import TINY_WAVE

    wave_dir = make_project(tmp_path, tiny_rows,
                            TINY_WAVE + CALIBRATION + 'trim_uper = 3.0\n')
    (wave_dir / "margins.csv").write_text("variable,level,count\nscreen,yes,10\n")
    with pytest.raises(PulsecheckError) as caught:
        read_wave(wave_dir)
    assert caught.value.code == "CONF_003"
    assert "trim_upper" in str(caught.value.problems["message"].tolist())


def _weighted_project(root: Path, margins: str, *, ci_method: str = "logit") -> Path:
    """A copy of the sample project whose wave is raked to ``margins``."""
    shutil.copytree(PROJECT / "survey_instrument", root / "survey_instrument")
    tables = root / "survey_instrument" / "pulse_check" / "2016" / "tables.toml"
    text = tables.read_text(encoding="utf-8")
    text = text.replace('ci_method = "wilson"', f'ci_method = "{ci_method}"')
    text = text.replace("trend = true", "trend = false")
    tables.write_text(text, encoding="utf-8")
    wave = root / "raw" / "pulse_check" / "2016"
    shutil.copytree(SAMPLE_WAVE, wave)
    with open(wave / "wave.toml", "a", encoding="utf-8") as handle:
        handle.write(CALIBRATION)
    (wave / "margins.csv").write_text(margins, encoding="utf-8")
    return wave


SIZE_MARGINS = """variable,level,count
population_served,under_50k,100
population_served,from_50k_to_100k,120
population_served,from_100k_to_250k,200
population_served,from_250k_to_500k,180
population_served,from_500k_to_1m,150
population_served,over_1m,130
"""
GEO_MARGINS = """variable,level,count
geo_level,neighborhood,40
geo_level,city,120
geo_level,county,300
geo_level,multi_county,250
geo_level,statewide,120
geo_level,multi_state,50
"""


@pytest.mark.slow
def test_calibrated_run__writes_weights_records_the_step_and_weights_the_tables(tmp_path):
    wave = _weighted_project(tmp_path, SIZE_MARGINS)
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(out), "--no-pdf",
                                      "--no-notebook"])
    assert result.exit_code == 0, result.output
    weights = pd.read_csv(out / "internal" / "calibrated_weights.csv")
    partnerships = pd.read_csv(out / "internal" / "partnerships.csv")
    assert list(weights.columns) == ["partnership_id", "weight"]
    assert sorted(weights["partnership_id"]) == sorted(partnerships["partnership_id"])
    assert np.isclose(weights["weight"].sum(), 880)
    by_level = weights.merge(partnerships[["partnership_id", "population_served"]]) \
        .groupby("population_served")["weight"].sum()
    assert np.isclose(by_level["under_50k"], 100) and np.isclose(by_level["over_1m"], 130)
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    step = manifest["statistics"]["calibration"]
    assert step["method"] == "rake" and step["converged"] and step["iterations"] >= 1
    assert step["margins"]["path"].endswith("margins.csv") and len(step["margins"]["sha256"]) == 64
    assert manifest["statistics"]["weighted"] is True


@pytest.mark.slow
def test_calibrated_run_with_a_missing_margin_level__stops_naming_the_level(tmp_path):
    wave = _weighted_project(tmp_path, SIZE_MARGINS.replace("population_served,over_1m,130\n",
                                                            ""))
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(tmp_path / "run"),
                                      "--no-pdf", "--no-notebook"])
    assert result.exit_code == 2
    assert "CALIB_002" in result.output and "'over_1m'" in result.output


@pytest.mark.slow
def test_calibrated_run_with_a_blank_answer__stops_naming_the_export_row(tmp_path):
    # One analysed partnership of the sample left geo_level blank.
    wave = _weighted_project(tmp_path, GEO_MARGINS)
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(tmp_path / "run"),
                                      "--no-pdf", "--no-notebook"])
    assert result.exit_code == 2
    assert "CALIB_004" in result.output and "pulse_check_2016_qualtrics.csv row" in result.output


@pytest.mark.slow
def test_calibrated_run_with_unweighted_interval__is_calib_006(tmp_path):
    wave = _weighted_project(tmp_path, SIZE_MARGINS, ci_method="wilson")
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(tmp_path / "run"),
                                      "--no-pdf", "--no-notebook"])
    assert result.exit_code == 2
    assert "CALIB_006" in result.output and "wilson" in result.output
