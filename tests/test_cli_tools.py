"""Small command-line conveniences: validate a wave folder, manifest --check, explain,
python -m pipeline."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import make_project
from pipeline.catalogue import CATALOGUE
from pipeline.cli.main import cli


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_validate__wave_folder__reads_the_wave_instead_of_a_traceback(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    result = invoke("validate", str(wave))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert result.exit_code == 0, result.output
    assert f"{wave}: 7 rows" in result.output


def test_validate__export_file_without_instrument__is_a_catalogue_error(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    result = invoke("validate", str(wave / "export.csv"))
    assert result.exit_code == 2
    assert "CLI_003" in result.output and "--instrument" in result.output


def test_manifest_check__matching_files__exit_0_and_write_nothing(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    before = (wave / "SHA256SUMS").read_bytes()
    result = invoke("manifest", str(wave), "--check")
    assert result.exit_code == 0, result.output
    assert "1 file(s) match" in result.output
    assert (wave / "SHA256SUMS").read_bytes() == before


def test_manifest_check__changed_export__exit_2_and_the_record_is_kept(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    before = (wave / "SHA256SUMS").read_bytes()
    with open(wave / "export.csv", "a", encoding="utf-8") as handle:
        handle.write("\n")
    result = invoke("manifest", str(wave), "--check")
    assert result.exit_code == 2
    assert "WAVE_005" in result.output
    assert (wave / "SHA256SUMS").read_bytes() == before


def test_explain__known_code__gives_severity_effect_and_fix():
    result = invoke("explain", "wave_005")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("WAVE_005 (fatal): checksum mismatch")
    assert "exit code 2" in result.output and "fix:" in result.output


def test_explain__misspelt_code__suggests_close_codes():
    result = invoke("explain", "WAEV_005")
    assert result.exit_code == 2
    assert "WAVE_005" in result.output


def test_python_m_pipeline__runs_the_command_line():
    result = subprocess.run([sys.executable, "-m", "pipeline", "explain", "VAL_004"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("VAL_004 (warning)")


def test_help__lists_every_command_without_importing_pandas_or_scipy():
    script = ("import sys; from click.testing import CliRunner; "
              "from pipeline.cli.main import cli; "
              "result = CliRunner().invoke(cli, ['--help']); print(result.output); "
              "print('heavy:', sorted(m for m in ('pandas', 'scipy', 'numpy') "
              "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert "heavy: []" in result.stdout
    for name in ("run", "validate", "manifest", "instrument", "sample", "crosstab",
                 "proportion", "ingest", "verify", "report", "bench", "init", "explain"):
        assert f"\n  {name} " in result.stdout, name


def test_lazy_commands__listed_help__is_each_command_s_own():
    import importlib

    from pipeline.cli.main import COMMANDS, INSTRUMENT_COMMANDS

    for name, (module, attribute, text) in {**COMMANDS, **INSTRUMENT_COMMANDS}.items():
        command = getattr(importlib.import_module(module), attribute)
        assert command.get_short_help_str(limit=1000) == text, name


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_explain__every_catalogue_code__names_severity_effect_problem_and_fix(code):
    entry = CATALOGUE[code]
    result = invoke("explain", code)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{code} ({entry.severity}): {entry.title}"
    assert [line.split(":")[0].strip() for line in lines[1:4]] == ["effect", "problem", "fix"]
    assert all(len(line.split(":", 1)[1].strip()) > 10 for line in lines[1:4]), lines


@pytest.mark.parametrize("typed", ["val4", "VAL-004", "val_4", " Val 004 ", "VAL004"])
def test_explain__code_typed_loosely__is_read_as_the_catalogue_code(typed):
    result = invoke("explain", typed)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("VAL_004 (warning)")


def test_readme__commands_block__names_every_command_and_subcommand():
    import click

    from conftest import PROJECT

    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("## Commands"):]
    block = block[:block.index("\n```\n")]
    context = click.Context(cli)
    named = []
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        if isinstance(command, click.Group):
            named += [f"{name} {sub}" for sub in command.list_commands(context)]
        else:
            named.append(name)
    assert [name for name in named if f"\npulsecheck {name} " not in block] == []
