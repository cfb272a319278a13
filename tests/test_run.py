"""`pulsecheck run` and `pulsecheck validate` end to end on tiny projects."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from conftest import make_project, row, write_export
from pipeline.cli.main import cli

OUTPUTS = {"run.json", "internal/README.txt", "internal/flow.csv", "internal/dispositions.csv",
           "internal/issues.csv", "internal/quarantine.csv", "internal/partnerships.csv",
           "internal/partnerships.sav", "internal/partnerships.dta", "internal/codebook.csv",
           "internal/partnerships.parquet", "internal/codebook.html",
           "internal/overview.html"}


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_run__tiny_wave__writes_every_output_and_exits_0(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "out"
    result = invoke("run", str(wave), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} == OUTPUTS
    flow = pd.read_csv(out / "internal" / "flow.csv")
    assert flow.iloc[0][["step", "n_in"]].tolist() == ["read", 7]
    assert flow.iloc[-1][["step", "n_out"]].tolist() == ["analysed", 4]
    partnerships = pd.read_csv(out / "internal" / "partnerships.csv", dtype=str)
    assert partnerships[["pid", "phase_group"]].values.tolist() == [
        ["P1", "Early"], ["P2", "Late"], ["P3", "unclassified"], ["P4", "Early"]]


def test_run__personal_questions__are_dropped_from_partnerships_unless_kept(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    invoke("run", str(wave), "--out", str(tmp_path / "a"))
    invoke("run", str(wave), "--out", str(tmp_path / "b"), "--keep-personal")
    assert "email" not in pd.read_csv(tmp_path / "a" / "internal" / "partnerships.csv").columns
    assert "email" in pd.read_csv(tmp_path / "b" / "internal" / "partnerships.csv").columns
    for name in OUTPUTS:
        assert b"a@example.org" not in (tmp_path / "a" / name).read_bytes()


def test_run__quarantined_row__exits_1_and_lists_it(tmp_path, tiny_rows):
    wave = make_project(tmp_path, [*tiny_rows, row(response_id="R9", pid="")])
    out = tmp_path / "out"
    result = invoke("run", str(wave), "--out", str(out))
    assert result.exit_code == 1
    quarantine = pd.read_csv(out / "internal" / "quarantine.csv")
    assert quarantine["response_id"].tolist() == ["R9"]
    assert quarantine["reason"].iloc[0].startswith("VAL_007")


def test_run__rerun__gives_byte_identical_outputs(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    invoke("run", str(wave), "--out", str(tmp_path / "a"))
    invoke("run", str(wave), "--out", str(tmp_path / "b"))
    for name in OUTPUTS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_run__run_json__records_inputs_instrument_and_packages_without_machine_paths(
        tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "out"
    invoke("run", str(wave), "--out", str(out))
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["inputs"][0]["path"] == "raw/tiny/export.csv"
    assert len(manifest["inputs"][0]["sha256"]) == 64
    assert (manifest["instrument"]["id"], manifest["instrument"]["version"]) == ("tiny", "1")
    assert {"python", "pandas", "numpy"} <= set(manifest["packages"])
    assert manifest["counts"] == {"raw": 7, "analysed": 4, "excluded": 3, "quarantined": 0}
    assert str(tmp_path) not in (out / "run.json").read_text()


def test_run__raw_file_changed_after_manifest__stops_with_checksum_error(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    write_export(wave / "export.csv", tiny_rows[:3])
    result = invoke("run", str(wave), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "WAVE_005" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_run__wave_pointing_outside_the_project__is_refused(tmp_path, tiny_rows):
    from conftest import TINY_WAVE
    wave = make_project(tmp_path / "project", tiny_rows,
                        TINY_WAVE.replace('files = ["export.csv"]',
                                          'files = ["../../../secret.csv"]'))
    (tmp_path / "secret.csv").write_text("x\n")
    result = invoke("run", str(wave), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "WAVE_003" in result.output


def test_run__missing_wave_description__explains_and_exits_2(tmp_path):
    result = invoke("run", str(tmp_path))
    assert result.exit_code == 2
    assert "WAVE_001" in result.output


def test_run__output_folder_not_made_by_pulsecheck__is_not_replaced(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = invoke("run", str(wave), "--out", str(out))
    assert result.exit_code == 2 and "RUN_001" in result.output
    assert (out / "notes.txt").read_text() == "keep me"


def test_run__earlier_run_folder__is_replaced_whole(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "out"
    invoke("run", str(wave), "--out", str(out))
    # A file the earlier run wrote (its run.json lists it) that this run does not write.
    (out / "stale.csv").write_text("old")
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    manifest["outputs"]["stale.csv"] = "0" * 64
    (out / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert invoke("run", str(wave), "--out", str(out)).exit_code == 0
    assert not (out / "stale.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_validate_command__lists_issue_counts_and_writes_issues(tmp_path, tiny_rows):
    wave = make_project(tmp_path, [*tiny_rows, row(response_id="R9", pid="P9", year="2106")])
    result = invoke("validate", str(wave / "export.csv"), "--instrument",
                    str(tmp_path / "instrument"), "--platform", "csv", "--out",
                    str(tmp_path / "checks"))
    assert result.exit_code == 0, result.output
    assert "VAL_004" in result.output
    issues = pd.read_csv(tmp_path / "checks" / "issues.csv")
    assert issues["code"].tolist() == ["VAL_004"]
