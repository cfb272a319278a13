"""The failure contract: every raw record accounted for, and a wave with nothing to analyse
still says where every row went (the catalogue rows are in tests/bad_inputs/cases.py)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from conftest import (
    EXPORT_HEADER,
    INSTRUMENT_2016,
    PROJECT,
    SAMPLE_WAVE,
    make_project,
    row,
)
from pipeline.cli.main import cli


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_run__blank_records__each_get_a_disposition_and_are_counted_in_the_flow(tmp_path):
    rows = [row(response_id=f"R{n}", pid=f"P{n}", stage=str(1 + n % 3)) for n in range(1, 6)]
    wave = make_project(tmp_path, rows)
    export = wave / "export.csv"
    lines = export.read_text(encoding="utf-8").split("\n")
    # Row numbers as a spreadsheet shows them: header 1, responses from 2.
    lines[2:2] = ["", "," * (len(EXPORT_HEADER) - 1)]
    lines[-1:-1] = ['"",""," "']
    export.write_text("\n".join(lines), encoding="utf-8")
    from pipeline.ingest.readers import write_checksums
    write_checksums(wave, ["export.csv"])

    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    dispositions = _read(tmp_path / "out" / "internal" / "dispositions.csv")
    placed = list(zip(dispositions["row"], dispositions["disposition"], dispositions["reason"],
                      strict=True))
    assert placed == [("2", "analysed", ""), ("3", "excluded", "blank record"),
                      ("4", "excluded", "blank record"), ("5", "analysed", ""),
                      ("6", "analysed", ""), ("7", "analysed", ""), ("8", "analysed", ""),
                      ("9", "excluded", "blank record")]
    flow = _read(tmp_path / "out" / "internal" / "flow.csv").set_index("step")
    assert flow.loc["read", "n_in"] == "8"
    assert (flow.loc["blank", "n_removed"], flow.loc["analysed", "n_out"]) == ("3", "5")
    issues = _read(tmp_path / "out" / "internal" / "issues.csv")
    assert sorted(issues.loc[issues["code"].eq("READ_026"), "row"]) == ["3", "4", "9"]


def test_run__sample_listed_twice__writes_the_accounting_and_stops_with_a_reason(tmp_path):
    shutil.copytree(PROJECT / "survey_instrument" / "platforms",
                    tmp_path / "survey_instrument" / "platforms")
    shutil.copytree(INSTRUMENT_2016, tmp_path / "survey_instrument" / "pulse_check" / "2016")
    wave = tmp_path / "raw" / "pulse_check" / "2016"
    shutil.copytree(SAMPLE_WAVE, wave)
    text = (wave / "wave.toml").read_text(encoding="utf-8")
    name = "pulse_check_2016_qualtrics.csv"
    (wave / "wave.toml").write_text(text.replace(f'files = ["{name}"]',
                                                 f'files = ["{name}", "{name}"]'),
                                    encoding="utf-8")
    with open(wave / name, encoding="utf-8", newline="") as handle:
        n_responses = sum(1 for _ in csv.reader(handle)) - 3  # three header rows
    out = tmp_path / "out"

    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "(RUN_003)" in result.output and "STAT_" not in result.output
    assert f"of {2 * n_responses} raw row(s)" in result.output
    dispositions = _read(out / "internal" / "dispositions.csv")
    assert len(dispositions) == 2 * n_responses
    assert not dispositions["disposition"].eq("analysed").any()
    assert len(_read(out / "internal" / "quarantine.csv")) == dispositions["disposition"].eq(
        "quarantined").sum()
    assert _read(out / "internal" / "flow.csv").set_index("step").loc["analysed", "n_out"] == "0"


def test_main__a_fault_of_pulsecheck__shows_the_traceback_with_exit_3_never_1(
        tmp_path, monkeypatch, capsys):
    import sys

    import pytest

    from pipeline.cli import main as entry

    def broken(*args, **kwargs):
        raise RuntimeError("a slip in the code")

    # The command imports the run when it runs (lazy imports keep --help quick).
    monkeypatch.setattr("pipeline.run.analyse.run_wave", broken)
    wave = make_project(tmp_path, [row()])
    monkeypatch.setattr(sys, "argv", ["pulsecheck", "run", str(wave),
                                      "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as stopped:
        entry.main()
    assert stopped.value.code == 3
    err = capsys.readouterr().err
    assert "RuntimeError: a slip in the code" in err and "internal fault" in err


def test_run_of_waves__a_wave_with_nothing_to_analyse__writes_its_accounting_and_stops(
        tmp_path):
    from bad_inputs.builders import with_export_twice

    with_export_twice()(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "raw"), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "(RUN_003)" in result.output
    dispositions = _read(out / "tiny-2016" / "internal" / "dispositions.csv")
    assert len(dispositions) == 10 and not dispositions["disposition"].eq("analysed").any()
    assert not (out / "tiny-trends").exists()
