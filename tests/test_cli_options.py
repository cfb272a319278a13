"""The command line's shared behaviour: progress only on a terminal, one --platform option,
--json on stdout, validate's list of problems, the shared rendering options and shell
completion."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from conftest import make_project
from pipeline.cli import options
from pipeline.cli.main import cli


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def terminal(monkeypatch):
    """stderr behaves as a terminal (CliRunner's own stderr is not one)."""
    monkeypatch.setattr(options, "stderr_is_terminal", lambda: True)


# -- progress -------------------------------------------------------------------------------

def test_progress__stderr_not_a_terminal__says_nothing(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    result = invoke("validate", str(wave))
    assert result.exit_code == 0, result.output
    assert "s] " not in result.stderr


def test_progress__on_a_terminal__reports_the_steps_on_stderr_only(tmp_path, tiny_rows,
                                                                   terminal):
    wave = make_project(tmp_path, tiny_rows)
    result = invoke("validate", str(wave))
    assert result.exit_code == 0, result.output
    assert "s] validating 7 rows" in result.stderr
    assert "s] " not in result.stdout


def test_progress__run_on_a_terminal__reports_analysis_and_writing(tmp_path, tiny_rows,
                                                                   terminal):
    wave = make_project(tmp_path, tiny_rows)
    result = invoke("run", str(wave), "--out", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    for step in ("read 7 rows", "validating, classifying and tabulating",
                 "writing the labelled data"):
        assert f"s] {step}" in result.stderr, result.stderr
    quiet = invoke("--quiet", "run", str(wave), "--out", str(tmp_path / "run2"))
    assert quiet.exit_code == 0 and "s] " not in quiet.stderr


@pytest.mark.parametrize("args", [("--quiet", "validate"), ("validate", "--quiet"),
                                  ("validate", "-q"), ("validate", "--json")])
def test_progress__quiet_or_json__says_nothing_on_a_terminal(tmp_path, tiny_rows, terminal,
                                                             args):
    wave = make_project(tmp_path, tiny_rows)
    result = invoke(*args, str(wave))
    assert result.exit_code == 0, result.output
    assert "s] " not in result.stderr


def test_progress_reporter__real_isatty__decides(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    shown = Terminal()
    monkeypatch.setattr(sys, "stderr", shown)
    with click.Context(click.Command("x")):
        options.progress_reporter()("rendering")
    assert shown.getvalue().endswith("s] rendering\n")
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    with click.Context(click.Command("x")):
        options.progress_reporter()("rendering")
    assert piped.getvalue() == ""


def test_progress__stages_and_renderers_never_import_click():
    import ast
    from pathlib import Path

    package = Path(options.__file__).resolve().parents[1]
    for path in package.rglob("*.py"):
        if "cli" in path.relative_to(package).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.Import) for alias in node.names}
        names |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom)}
        assert "click" not in names, path


# -- one platform option -------------------------------------------------------------------

@pytest.mark.parametrize("command", ["validate", "ingest"])
def test_platform_option__default_auto_on_every_command(command):
    help_text = invoke(command, "--help").output
    assert "--platform" in help_text
    assert "[default: auto]" in " ".join(help_text.split())
    assert "--source" not in help_text


def test_ingest__platform_csv__reads_the_export(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "in"
    result = invoke("ingest", str(wave / "export.csv"), "--instrument",
                    str(tmp_path / "instrument"), "--platform", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "deprecated" not in result.stderr
    assert (out / "responses.csv").exists()


def test_ingest__source_alias__still_works_with_a_one_line_warning(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "in"
    result = invoke("ingest", str(wave / "export.csv"), "--instrument",
                    str(tmp_path / "instrument"), "--source", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "deprecated" in line]
    assert warnings == ["warning: --source is deprecated; use --platform."]
    assert (out / "responses.csv").exists()


def test_ingest__source_and_platform_disagree__is_a_catalogue_error(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    result = invoke("ingest", str(wave / "export.csv"), "--instrument",
                    str(tmp_path / "instrument"), "--source", "csv", "--platform", "kobo",
                    "--out", str(tmp_path / "in"))
    assert result.exit_code == 2
    assert "CLI_003" in result.stderr


def test_validate__export_file_with_platform_auto__detects_it(tmp_path, tiny_rows,
                                                              monkeypatch):
    wave = make_project(tmp_path, tiny_rows)
    monkeypatch.chdir(tmp_path)
    result = invoke("validate", str(wave / "export.csv"), "--instrument",
                    str(tmp_path / "instrument"))
    assert result.exit_code == 0, result.output
    assert "7 rows" in result.stdout


# -- --json ---------------------------------------------------------------------------------

def test_validate_json__one_object_on_stdout(tmp_path, tiny_rows):
    tiny_rows[0]["year"] = "2106"
    wave = make_project(tmp_path, tiny_rows)
    result = invoke("validate", str(wave), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["command"] == "validate" and payload["exit_code"] == 0
    assert payload["status"] == "ok" and payload["rows"] == 7
    codes = [(i["code"], i["row"], i["column"]) for i in payload["issues"]]
    assert ("VAL_004", 2, "year") in codes


def test_validate_json__quarantined_rows__exit_1_in_the_object_too(tmp_path, tiny_rows):
    tiny_rows[1]["response_id"] = "R1"  # a repeated response id quarantines the row
    wave = make_project(tmp_path, tiny_rows)
    result = invoke("validate", str(wave), "--json")
    payload = json.loads(result.stdout)
    assert result.exit_code == 1 == payload["exit_code"]
    assert payload["counts"]["error"] >= 1


def test_json__catalogue_error__is_a_json_object_with_the_same_exit_code(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    result = invoke("validate", str(wave / "export.csv"), "--json")
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload["exit_code"] == 2 and payload["status"] == "error"
    assert payload["error"]["code"] == "CLI_003"
    assert set(payload["error"]) >= {"file", "row", "column", "rule", "fix", "message"}


def test_json__missing_path__error_names_the_file(tmp_path):
    result = invoke("ingest", str(tmp_path / "nope.csv"), "--instrument",
                    str(tmp_path / "nope"), "--out", str(tmp_path / "o"), "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"].startswith(("CLI_", "INST_"))


def test_ingest_json__counts_and_files(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "in"
    result = invoke("ingest", str(wave / "export.csv"), "--instrument",
                    str(tmp_path / "instrument"), "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["counts"]["rows"] == 7
    assert payload["files"] == [str(out / "responses.csv"), str(out / "issues.csv")]
    assert payload["platform"] == "csv"


def test_verify_json__not_a_run_folder__error_object(tmp_path):
    result = invoke("verify", str(tmp_path), "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"].startswith("VERIFY_")


def test_run_json__tiny_wave__one_object_with_counts_and_files(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "run"
    result = invoke("run", str(wave), "--out", str(out), "--json", "--no-pdf", "--no-notebook")
    payload = json.loads(result.stdout)
    assert payload["exit_code"] == result.exit_code == 0
    assert payload["counts"]["analysed"] == 4
    assert "internal/partnerships.csv" in payload["files"]
    assert all((out / name).is_file() for name in payload["files"])


def test_verify_json__rebuilt_run__identical_counts_and_exit_0(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "run"
    assert invoke("run", str(wave), "--out", str(out)).exit_code == 0
    (out / "internal" / "notes.txt").write_text("mine", encoding="utf-8")
    result = invoke("verify", str(out), "--json")
    payload = json.loads(result.stdout)
    assert result.exit_code == payload["exit_code"] == 2
    assert payload["files"]["not_written_by_the_run"] == ["internal/notes.txt"]
    assert payload["error"]["code"] == "VERIFY_005"
    (out / "internal" / "notes.txt").unlink()
    again = invoke("verify", str(out), "--json")
    payload = json.loads(again.stdout)
    assert again.exit_code == payload["exit_code"] == 0
    assert payload["counts"]["identical"] > 5 and payload["counts"]["differs"] == 0


# -- validate lists each problem -------------------------------------------------------------

def test_validate__lists_each_problem_with_file_row_column_and_code(tmp_path, tiny_rows):
    tiny_rows[0]["year"] = "2106"
    tiny_rows[2]["staff"] = "lots"
    wave = make_project(tmp_path, tiny_rows)
    result = invoke("validate", str(wave))
    lines = result.stdout.splitlines()
    assert any("[export.csv row 2, column year]" in line and "VAL_004" in line
               for line in lines), result.stdout
    assert any("[export.csv row 4, column staff]" in line and "VAL_001" in line
               for line in lines), result.stdout


def test_validate__limit__lists_that_many_and_says_how_many_more(tmp_path, tiny_rows):
    for item in tiny_rows[:4]:
        item["staff"] = "lots"
    wave = make_project(tmp_path, tiny_rows)
    result = invoke("validate", str(wave), "--limit", "1")
    listed = [line for line in result.stdout.splitlines() if "(VAL_001)" in line]
    assert len(listed) == 1
    assert "… and 3 more" in result.stdout
    everything = invoke("validate", str(wave), "--limit", "0")
    assert len([line for line in everything.stdout.splitlines() if "(VAL_001)" in line]) == 4


def test_validate__problem_lines__mask_contact_details(tmp_path, tiny_rows):
    tiny_rows[0]["staff"] = "ring 0161 496 0000 or jo.bloggs@example.org"
    wave = make_project(tmp_path, tiny_rows)
    result = invoke("validate", str(wave))
    line = next(line for line in result.stdout.splitlines() if "column staff" in line)
    assert "0161 496 0000" not in line and "jo.bloggs@example.org" not in line
    assert "[email removed]" in line
    as_json = invoke("validate", str(wave), "--json").stdout
    assert "jo.bloggs" not in as_json and "496 0000" not in as_json


def test_validate__wave_folder_reads_through_load_wave__changed_export_refused(tmp_path,
                                                                               tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    with open(wave / "export.csv", "a", encoding="utf-8") as handle:
        handle.write("\n")
    result = invoke("validate", str(wave))
    assert result.exit_code == 2
    assert "WAVE_005" in result.stderr


def test_validate__wave_folder_with_instrument__is_a_catalogue_error(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    result = invoke("validate", str(wave), "--instrument", str(tmp_path / "instrument"))
    assert result.exit_code == 2 and "CLI_003" in result.stderr


def test_ingest__wave_folder__is_a_catalogue_error_not_a_traceback(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    result = invoke("ingest", str(wave), "--instrument", str(tmp_path / "instrument"),
                    "--out", str(tmp_path / "in"))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "CLI_003" in result.stderr and "pulsecheck validate" in result.stderr


# -- shared rendering options -------------------------------------------------------------

def test_no_pdf_no_notebook__run_and_report_share_one_definition():
    from pipeline.cli.report import report

    def described(command: click.Command) -> dict:
        return {p.name: (p.opts, p.help, p.default) for p in command.params
                if p.name in ("no_pdf", "no_notebook")}

    run = cli.get_command(click.Context(cli), "run")
    assert described(run) == described(report)
    assert set(described(run)) == {"no_pdf", "no_notebook"}


def test_echo_skipped__warns_once_per_cause(capsys):
    class Part:
        def __init__(self, message: str) -> None:
            self.message = message

    options.echo_skipped([Part("no Pango"), Part("no Pango"), Part("no nbclient")])
    assert capsys.readouterr().err.splitlines() == ["warning: no Pango",
                                                     "warning: no nbclient"]


# -- shell completion -----------------------------------------------------------------------

@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o nosort -F"),
                                               ("zsh", "compdef"), ("fish", "complete")])
def test_shell_completion__script_is_produced(shell, marker):
    env = {**os.environ, "_PULSECHECK_COMPLETE": f"{shell}_source"}
    done = subprocess.run([sys.executable, "-m", "pipeline"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert marker in done.stdout and "_PULSECHECK_COMPLETE" in done.stdout


def test_shell_completion__completes_command_names():
    env = {**os.environ, "_PULSECHECK_COMPLETE": "bash_complete", "COMP_WORDS": "pulsecheck va",
           "COMP_CWORD": "1"}
    done = subprocess.run([sys.executable, "-m", "pipeline"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert "plain,validate" in done.stdout.split()


@pytest.mark.slow
def test_progress__report_on_a_terminal__names_each_document(sample_run_dir, tmp_path,
                                                             terminal):
    import shutil

    folder = tmp_path / "run"
    shutil.copytree(sample_run_dir, folder)
    result = invoke("report", str(folder), "--no-pdf", "--no-notebook", "--partner-reports")
    assert result.exit_code == 0, result.output
    assert "s] rendering the funder summary (HTML)" in result.stderr
    assert "s] rendering partnership page 1 of " in result.stderr


def test_version__is_the_installed_package_s_version():
    from importlib import metadata

    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"pulsecheck, version {metadata.version('pulsecheck')}"


def test_version__answers_without_reading_package_metadata():
    done = subprocess.run([sys.executable, "-c",
                           "import sys; from pipeline.cli.main import main; "
                           "sys.argv = ['pulsecheck', '--version']\n"
                           "try:\n    main()\nexcept SystemExit:\n    pass\n"
                           "print('importlib.metadata' in sys.modules)"],
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.splitlines()[-1] == "False"
