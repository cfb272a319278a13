"""Paths from data stay inside their folder; raw data are only read; verify trusts nothing.

The one-line cases are rows of the bad-input catalogue (BAD-130 to BAD-137); these tests
check what the catalogue cannot: that nothing changed on disk, what ``--replace`` keeps, and
the run folders that ``report`` and ``verify`` are given.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from bad_inputs.builders import project, sample_over_recorded_export
from pipeline.cli.main import cli
from pipeline.errors import PulsecheckError
from pipeline.paths import contained, file_names, plain_name, safe_slug


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _everything(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


# --- the helpers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("relative", ["../x.toml", "a/../../x.toml", "/etc/passwd", "a\x00b"])
def test_contained__path_leading_out_of_its_root__is_refused(tmp_path, relative):
    with pytest.raises(PulsecheckError) as caught:
        contained(tmp_path / "root", relative, what="profile")
    assert caught.value.code == "PATH_001"


def test_contained__link_inside_the_root_pointing_out__is_refused(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "secret.toml").write_text("x")
    (tmp_path / "root" / "link.toml").symlink_to(tmp_path / "secret.toml")
    with pytest.raises(PulsecheckError):
        contained(tmp_path / "root", "link.toml", what="profile")
    assert contained(tmp_path / "root", "sub/../ok.toml", what="profile") == \
        tmp_path / "root" / "sub/../ok.toml"


@pytest.mark.parametrize("name", ["..", ".", "", "a/b", "a\\b", ".hidden", "../x"])
def test_plain_name__anything_but_one_ordinary_name__is_refused(name):
    with pytest.raises(PulsecheckError):
        plain_name(name, what="survey name")


@pytest.mark.parametrize("text, slug", [("P0123", "P0123"), ("../../x", "_.._x"),
                                        ("a b/c", "a_b_c"), ("...", "_"), ("é", "_")])
def test_safe_slug__gives_names_without_separators_or_leading_dots(text, slug):
    assert safe_slug(text) == slug


def test_file_names__two_ids_sharing_a_name__are_refused():
    assert file_names(["P1", "P2", "P1"], what="ids") == {"P1": "P1", "P2": "P2"}
    with pytest.raises(PulsecheckError) as caught:
        file_names(["P/1", "P_1"], what="ids")
    assert caught.value.code == "PATH_002"
    with pytest.raises(PulsecheckError):
        file_names(["ab", "AB"], what="ids")  # one file on a case-insensitive disk


# --- run folder names from wave.toml --------------------------------------------------------------

def test_run__survey_or_wave_name_with_a_path__writes_nothing(tmp_path):
    from conftest import TINY_WAVE

    wave = project(tmp_path, wave_text=TINY_WAVE.replace('survey = "tiny"',
                                                         'survey = "../../escaped"'))
    before = _everything(tmp_path.parent)
    result = CliRunner().invoke(cli, ["run", str(wave)])
    assert result.exit_code == 2 and "PATH_001" in result.output
    assert _everything(tmp_path.parent) == before


def test_run__out_inside_a_wave_folder__is_refused(tmp_path):
    wave = project(tmp_path)
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(wave / "out")])
    assert result.exit_code == 2 and "RAW_003" in result.output
    assert not (wave / "out").exists()


# --- sample and manifest never replace a recorded export silently ---------------------------------

def test_sample__over_a_recorded_export__changes_nothing(tmp_path):
    args = sample_over_recorded_export()(tmp_path)
    wave = Path(args[-1])
    before = _digests(wave)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "RAW_001" in result.output
    assert _digests(wave) == before


def test_sample__replace__keeps_the_old_export_and_its_checksums_aside(tmp_path):
    args = sample_over_recorded_export()(tmp_path)
    wave = Path(args[-1])
    before = _digests(wave)
    result = CliRunner().invoke(cli, [*args, "--replace"])
    assert result.exit_code == 0, result.output
    aside = wave / "replaced" / "1"
    assert _digests(aside) == {name: before[name] for name in
                               ("SHA256SUMS", "pulse_check_2016_qualtrics.csv")}
    assert _digests(wave)["pulse_check_2016_qualtrics.csv"] != \
        before["pulse_check_2016_qualtrics.csv"]
    # The new record is true of the new export.
    assert CliRunner().invoke(cli, ["manifest", str(wave)]).exit_code == 0


def test_manifest__export_changed_after_recording__is_refused_unless_replace(tmp_path):
    wave = project(tmp_path)
    sums = (wave / "SHA256SUMS").read_bytes()
    with open(wave / "export.csv", "a", encoding="utf-8") as handle:
        handle.write("R9,2016-06-01 10:00:00,1,100,email,P9,,1,2012,2,1,,1\n")
    result = CliRunner().invoke(cli, ["manifest", str(wave)])
    assert result.exit_code == 2 and "RAW_001" in result.output
    assert (wave / "SHA256SUMS").read_bytes() == sums
    result = CliRunner().invoke(cli, ["manifest", str(wave), "--replace"])
    assert result.exit_code == 0, result.output
    assert (wave / "replaced" / "1" / "SHA256SUMS").read_bytes() == sums
    assert (wave / "SHA256SUMS").read_bytes() != sums


def test_ingest__out_beside_its_input__writes_and_leaves_the_input(tmp_path):
    wave = project(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(wave / "export.csv", work / "export.csv")
    result = CliRunner().invoke(cli, ["ingest", str(work / "export.csv"), "--instrument",
                                      str(tmp_path / "instrument"), "--source", "csv",
                                      "--out", str(work)])
    assert result.exit_code == 0, result.output
    assert (work / "export.csv").read_bytes() == (wave / "export.csv").read_bytes()


# --- report: ids from the run folder --------------------------------------------------------------

@pytest.fixture
def run_copy(sample_run_dir, tmp_path) -> Path:
    folder = tmp_path / "runs" / "run"
    shutil.copytree(sample_run_dir, folder)
    return folder


def _keep_partnerships(folder: Path, ids: list[str]) -> None:
    frame = pd.read_csv(folder / "internal" / "partnerships.csv", dtype=str,
                        keep_default_na=False)
    frame = frame.head(len(ids)).assign(partnership_id=ids)
    frame.to_csv(folder / "internal" / "partnerships.csv", index=False, lineterminator="\n")


@pytest.mark.slow
def test_report__table_id_leading_out_of_the_run_folder__is_refused(run_copy):
    context = json.loads((run_copy / "published" / "report.json").read_text(encoding="utf-8"))
    first = context["tables"][0]["id"]
    # A table planted beside the run folder, named by report.json.
    shutil.copy(run_copy / "published" / "tables" / f"{first}.csv",
                run_copy.parent / "planted.csv")
    context["tables"][0]["id"] = "../../planted"
    (run_copy / "published" / "report.json").write_text(json.dumps(context), encoding="utf-8")
    result = CliRunner().invoke(cli, ["report", str(run_copy), "--no-notebook"])
    assert result.exit_code == 2 and "PATH_001" in result.output, result.output


@pytest.mark.slow
def test_report__partnership_id_with_a_path__is_written_inside_partners(run_copy):
    _keep_partnerships(run_copy, ["../../escaped", "P0001"])
    outside = _everything(run_copy.parent.parent) - {
        f"runs/run/{name}" for name in _everything(run_copy)}
    result = CliRunner().invoke(cli, ["report", str(run_copy), "--no-notebook",
                                      "--partner-reports"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (run_copy / "published" / "partners").iterdir()) == [
        "P0001.html", "P0001.pdf", "_.._escaped.html", "_.._escaped.pdf"]
    now = _everything(run_copy.parent.parent) - {
        f"runs/run/{name}" for name in _everything(run_copy)}
    assert now == outside
    settings = json.loads((run_copy / "run.json").read_text(encoding="utf-8"))["settings"]
    assert settings["partner_reports"] is True


@pytest.mark.slow
def test_report__two_partnership_ids_sharing_a_file_name__are_refused(run_copy):
    _keep_partnerships(run_copy, ["P/1", "P_1"])
    result = CliRunner().invoke(cli, ["report", str(run_copy), "--no-notebook",
                                      "--partner-reports"])
    assert result.exit_code == 2 and "PATH_002" in result.output, result.output
    partners = run_copy / "published" / "partners"
    assert not list(partners.glob("*")) if partners.exists() else True


# --- verify ---------------------------------------------------------------------------------------

@pytest.fixture
def tiny_run(tmp_path) -> Path:
    wave = project(tmp_path)
    out = tmp_path / "out"
    assert CliRunner().invoke(cli, ["run", str(wave), "--out", str(out)]).exit_code == 0
    return out


def test_verify__planted_and_missing_files__fail(tiny_run, tmp_path):
    shutil.copy(tmp_path / "raw" / "tiny" / "export.csv", tiny_run / "copy_of_raw.csv")
    (tiny_run / "internal" / "quarantine.csv").unlink()
    result = CliRunner().invoke(cli, ["verify", str(tiny_run)])
    assert result.exit_code == 2, result.output
    assert "not written by the run: copy_of_raw.csv" in result.output
    assert "missing: internal/quarantine.csv" in result.output


def test_verify__honest_run__passes(tiny_run):
    result = CliRunner().invoke(cli, ["verify", str(tiny_run)])
    assert result.exit_code == 0, result.output


def test_verify__run_json_input_outside_the_project__is_refused(tiny_run, tmp_path):
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    shutil.copy(tmp_path / "raw" / "tiny" / "export.csv", elsewhere / "export.csv")
    manifest = json.loads((tiny_run / "run.json").read_text(encoding="utf-8"))
    manifest["inputs"][0]["path"] = f"../{elsewhere.name}/export.csv"
    (tiny_run / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = CliRunner().invoke(cli, ["verify", str(tiny_run)])
    assert result.exit_code == 2 and "PATH_001" in result.output, result.output


# --- run.json records a dirty working tree --------------------------------------------------------

def test_run__uncommitted_change__is_recorded_in_run_json(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    wave = project(tmp_path)
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "tiny"], check=True)
    out = tmp_path.parent / f"{tmp_path.name}-out"
    assert CliRunner().invoke(cli, ["run", str(wave), "--out", str(out / "clean")]).exit_code == 0
    with open(tmp_path / "instrument" / "phase_map.csv", "a", encoding="utf-8") as handle:
        handle.write("\n")
    assert CliRunner().invoke(cli, ["run", str(wave), "--out", str(out / "dirty")]).exit_code == 0
    clean = json.loads((out / "clean" / "run.json").read_text())["code"]
    dirty = json.loads((out / "dirty" / "run.json").read_text())["code"]
    assert clean["dirty"] is False and clean["git_commit"]
    assert dirty["dirty"] is True and dirty["changed_files"] == ["instrument/phase_map.csv"]
