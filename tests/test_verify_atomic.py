"""Reproducibility (`pulsecheck verify`) and atomic publication under random kills."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SAMPLE_WAVE, make_project, row, write_export
from pipeline.cli.main import cli
from pipeline.ingest.readers import write_checksums


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_verify__untouched_run__is_rebuilt_byte_for_byte(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "out"
    assert invoke("run", str(wave), "--out", str(out)).exit_code == 0
    result = invoke("verify", str(out))
    assert result.exit_code == 0, result.output
    assert "Verified" in result.output


def test_verify__edited_output__is_reported_as_different_and_exits_2(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "out"
    invoke("run", str(wave), "--out", str(out))
    flow = out / "internal" / "flow.csv"
    flow.write_text(flow.read_text().replace("read,7", "read,8"))
    result = invoke("verify", str(out))
    assert result.exit_code == 2 and "(VERIFY_005)" in result.output
    assert "differs: internal/flow.csv" in result.output


def test_verify__raw_input_changed_since_the_run__stops_with_exit_2(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "out"
    invoke("run", str(wave), "--out", str(out))
    write_export(wave / "export.csv", tiny_rows[:4])
    result = invoke("verify", str(out))
    assert result.exit_code == 2
    assert "VERIFY_004" in result.output and "export.csv" in result.output


def test_verify__run_with_partner_reports__records_and_rebuilds_the_setting(
        tmp_path, tiny_rows, monkeypatch):
    import pipeline.run.verify as verify_module

    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "out"
    assert invoke("run", str(wave), "--out", str(out), "--partner-reports").exit_code == 0
    settings = json.loads((out / "run.json").read_text(encoding="utf-8"))["settings"]
    assert settings["partner_reports"] is True
    rebuilt_with = []
    real = verify_module.run_wave

    def recording(*args, **kwargs):
        rebuilt_with.append(kwargs.get("partner_reports"))
        return real(*args, **kwargs)

    monkeypatch.setattr(verify_module, "run_wave", recording)
    result = invoke("verify", str(out))
    assert result.exit_code == 0, result.output
    assert rebuilt_with == [True]


@pytest.mark.slow
def test_verify__sample_run_with_partner_reports__is_rebuilt_byte_for_byte(tmp_path):
    out = tmp_path / "run"
    assert invoke("run", str(SAMPLE_WAVE), "--out", str(out),
                  "--partner-reports").exit_code == 0
    assert any((out / "published" / "partners").glob("*.html"))
    result = invoke("verify", str(out))
    assert result.exit_code == 0, result.output


def test_verify__folder_without_run_json__is_refused(tmp_path):
    result = invoke("verify", str(tmp_path))
    assert result.exit_code == 2 and "VERIFY_001" in result.output


def _many_rows(n: int, stage: str) -> list[dict]:
    return [row(response_id=f"R{i}", pid=f"P{i}", stage=stage) for i in range(n)]


@pytest.mark.slow
def test_run__killed_at_random_moments__leaves_the_previous_output_or_the_new_one_whole(
        tmp_path):
    wave = make_project(tmp_path, _many_rows(1500, "1"))
    out = tmp_path / "out"
    assert invoke("run", str(wave), "--out", str(out)).exit_code == 0
    before = snapshot(out)
    # The next run reads a different export, so its complete output differs from `before`.
    write_export(wave / "export.csv", _many_rows(1500, "3"))
    write_checksums(wave, ["export.csv"])
    command = [sys.executable, "-m", "pipeline.cli.main", "run", str(wave), "--out", str(out)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    started = time.monotonic()
    subprocess.run(command, capture_output=True, env=env, check=False)
    duration = time.monotonic() - started
    after = snapshot(out)
    assert after != before
    write_export(wave / "export.csv", _many_rows(1500, "1"))
    write_checksums(wave, ["export.csv"])
    assert invoke("run", str(wave), "--out", str(out)).exit_code == 0
    write_export(wave / "export.csv", _many_rows(1500, "3"))
    write_checksums(wave, ["export.csv"])

    chooser = random.Random(20161)
    outcomes = set()
    killed_mid_run = 0
    for _ in range(6):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, env=env)
        time.sleep(chooser.uniform(0.05, duration * 1.1))
        process.send_signal(signal.SIGKILL)
        # A run that ended before the signal exits normally; only a killed one proves anything.
        killed_mid_run += process.wait() == -signal.SIGKILL
        state = snapshot(out)
        assert state in (before, after), "a killed run left a partial output folder"
        outcomes.add("old" if state == before else "new")
        if state == after:  # put the previous output back for the next attempt
            write_export(wave / "export.csv", _many_rows(1500, "1"))
            write_checksums(wave, ["export.csv"])
            invoke("run", str(wave), "--out", str(out))
            write_export(wave / "export.csv", _many_rows(1500, "3"))
            write_checksums(wave, ["export.csv"])
    # At least one run was killed while it worked, and a kill before publication left the
    # previous output in place.
    assert killed_mid_run >= 1
    assert "old" in outcomes
