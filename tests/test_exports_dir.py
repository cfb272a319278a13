"""Raw exports outside the project, only through wave.toml's explicit `exports_dir`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from conftest import PROJECT, TINY_WAVE, make_project
from pipeline.cli.main import cli
from pipeline.ingest.readers import sha256_file, write_checksums


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def outside_wave(tmp_path, rows, exports_dir: str | None = None):
    """A tiny project whose export lives in a folder outside it."""
    project = tmp_path / "project"
    wave = make_project(project, rows)
    secure = tmp_path / "secure" / "tiny"
    secure.mkdir(parents=True)
    shutil.move(wave / "export.csv", secure / "export.csv")
    (wave / "SHA256SUMS").unlink()
    text = TINY_WAVE.replace('files = ["export.csv"]',
                             f'exports_dir = "{exports_dir or secure}"\n'
                             'files = ["export.csv"]')
    (wave / "wave.toml").write_text(text, encoding="utf-8")
    return wave, secure


def test_run__exports_dir_outside_project__manifest_check_run_and_verify(tmp_path, tiny_rows):
    wave, secure = outside_wave(tmp_path, tiny_rows)
    recorded = invoke("manifest", str(wave))
    assert recorded.exit_code == 0, recorded.output
    sums = (wave / "SHA256SUMS").read_text(encoding="utf-8")
    assert sums == f"{sha256_file(secure / 'export.csv')}  export.csv\n"
    assert not (secure / "SHA256SUMS").exists()
    assert invoke("manifest", str(wave), "--check").exit_code == 0
    out = tmp_path / "project" / "reports" / "out" / "tiny"
    result = invoke("run", str(wave), "--out", str(out))
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["inputs"][0]["sha256"] == sha256_file(secure / "export.csv")
    assert invoke("verify", str(out)).exit_code == 0
    # A changed outside export is caught like any other.
    with open(secure / "export.csv", "a", encoding="utf-8") as handle:
        handle.write("\n")
    assert invoke("manifest", str(wave), "--check").exit_code == 2
    changed = invoke("run", str(wave), "--out", str(tmp_path / "other"))
    assert changed.exit_code == 2 and "WAVE_005" in changed.output


def test_run__exports_dir_relative_to_the_wave_folder__is_read(tmp_path, tiny_rows):
    relative = os.path.relpath(tmp_path / "secure" / "tiny", tmp_path / "project" / "raw" / "tiny")
    wave, secure = outside_wave(tmp_path, tiny_rows, exports_dir=relative)
    recorded = invoke("manifest", str(wave))
    assert recorded.exit_code == 0, recorded.output
    assert (wave / "SHA256SUMS").read_text(encoding="utf-8").endswith("  export.csv\n")
    assert secure.is_dir() and not (secure / "SHA256SUMS").exists()
    assert invoke("run", str(wave), "--out", str(tmp_path / "out")).exit_code == 0


def test_run__export_path_outside_project_without_exports_dir__still_refused(tmp_path,
                                                                            tiny_rows):
    wave = make_project(tmp_path / "project", tiny_rows)
    (tmp_path / "elsewhere.csv").write_text("x", encoding="utf-8")
    text = TINY_WAVE.replace('files = ["export.csv"]', 'files = ["../../../elsewhere.csv"]')
    (wave / "wave.toml").write_text(text, encoding="utf-8")
    result = invoke("run", str(wave), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "WAVE_003" in result.output


@pytest.mark.parametrize("name", ["../escape.csv", "link.csv"])
def test_run__file_leaving_exports_dir__is_refused(tmp_path, tiny_rows, name):
    wave, secure = outside_wave(tmp_path, tiny_rows)
    (tmp_path / "secure" / "escape.csv").write_text("x", encoding="utf-8")
    (secure / "link.csv").symlink_to(tmp_path / "secure" / "escape.csv")
    text = (wave / "wave.toml").read_text(encoding="utf-8").replace(
        'files = ["export.csv"]', f'files = ["{name}"]')
    (wave / "wave.toml").write_text(text, encoding="utf-8")
    result = invoke("run", str(wave), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "PATH_001" in result.output


def test_run__out_inside_exports_dir__is_refused_as_raw_data(tmp_path, tiny_rows):
    wave, secure = outside_wave(tmp_path, tiny_rows)
    write_checksums(wave, [])  # an empty record; the guard acts before any reading
    result = invoke("run", str(wave), "--out", str(secure / "run"))
    assert result.exit_code == 2 and "RAW_003" in result.output
    assert not (secure / "run").exists()


def _ignored(path: str) -> bool:
    done = subprocess.run(["git", "-C", str(PROJECT), "check-ignore", "--no-index", "-q", path],
                          check=False)
    return done.returncode == 0


@pytest.mark.skipif(shutil.which("git") is None or not (PROJECT / ".git").exists(),
                    reason="needs git and a checkout")
def test_gitignore__raw_exports_ignored_except_committed_synthetic_samples():
    for path in ("raw/pulse_check/2022/pulse_check_2022_qualtrics.csv",
                 "raw/pulse_check/2020/export.xlsx", "raw/pulse_check/2022/export.sav",
                 "raw/pulse_check/2022/export.json", "raw/pulse_check/2020/corrections.csv",
                 "raw/pulse_check/2016/replaced/1/pulse_check_2016_qualtrics.csv",
                 "raw/other/2016/responses.tsv"):
        assert _ignored(path), path
    for path in ("raw/pulse_check/2014/pulse_check_2014_qualtrics.csv",
                 "raw/pulse_check/2016/pulse_check_2016_qualtrics.csv",
                 "raw/pulse_check/2018/pulse_check_2018_qualtrics.csv",
                 "raw/pulse_check/2020/pulse_check_2020_qualtrics.csv",
                 "raw/pulse_check/2022/wave.toml", "raw/pulse_check/2020/SHA256SUMS",
                 "raw/README.md"):
        assert not _ignored(path), path
