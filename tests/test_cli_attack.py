"""Every command against bad input: a missing path, a folder where a file belongs and a file
where a folder belongs, an empty file, binary garbage, an --out that cannot be written,
unknown options and bad option values.

The contract: never a traceback; bad input is a catalogue message with exit code 2 (a usage
error too); ``--json`` keeps stdout one JSON object even for an error or a usage error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import make_project, row
from pipeline.cli.main import cli

#: The kinds of bad path each command is given where it expects a file or a folder.
BAD_PATHS = ("missing", "folder", "empty", "garbage", "file")
#: The kinds of --out that cannot be written.
BAD_OUTS = ("under_a_file", "a_file")

WAVE = "raw/tiny"
EXPORT = "raw/tiny/export.csv"
INSTRUMENT = "instrument"
DATA = "data.csv"
MARGINS = "margins.csv"

#: Commands with a slot ``{bad}`` for a bad path; ``{out}`` is a writable folder.
PATH_COMMANDS = (
    ("run", "{bad}", "--no-pdf", "--no-notebook"),
    ("run", "{bad}", "--json"),
    ("report", "{bad}", "--no-pdf", "--no-notebook"),
    ("verify", "{bad}"),
    ("verify", "{bad}", "--json"),
    ("ingest", "{bad}", "--instrument", INSTRUMENT, "--out", "{out}"),
    ("ingest", EXPORT, "--instrument", "{bad}", "--out", "{out}", "--json"),
    ("ingest", EXPORT, "--instrument", INSTRUMENT, "--map", "{bad}", "--out", "{out}"),
    ("validate", "{bad}"),
    ("validate", "{bad}", "--json"),
    ("validate", "{bad}", "--instrument", INSTRUMENT),
    ("validate", EXPORT, "--instrument", "{bad}", "--json"),
    ("instrument", "check", "{bad}"),
    ("instrument", "diff", INSTRUMENT, "{bad}"),
    ("instrument", "diff", "{bad}", INSTRUMENT, "--json"),
    ("instrument", "import", "{bad}", "--out", "{out}"),
    ("manifest", "{bad}"),
    ("manifest", "{bad}", "--check"),
    ("sample", "{bad}", "--out", "{out}"),
    ("sample", INSTRUMENT, "--out", "{out}", "--profile", "{bad}"),
    ("crosstab", "{bad}", "--row", "a", "--col", "b"),
    ("crosstab", "{bad}", "--row", "a", "--col", "b", "--json"),
    ("crosstab", DATA, "--row", "phase", "--col", "sector", "--instrument", "{bad}"),
    ("proportion", "{bad}", "--var", "a", "--level", "1", "--ci", "wilson", "--json"),
    ("mean", "{bad}", "--var", "a"),
    ("mean", "{bad}", "--var", "a", "--json"),
    ("calibrate", "{bad}", "--margins", MARGINS, "--method", "rake", "--json"),
    ("calibrate", DATA, "--margins", "{bad}", "--method", "rake"),
    ("replicate", "{bad}", "--var", "a", "--level", "1", "--type", "JK1",
     "--replicates", "rw*", "--ci", "logit", "--json"),
    ("new-wave", "raw/next", "--from", "{bad}"),
    ("--project", "{bad}", "validate", WAVE),
    ("--project", "{bad}", "run", WAVE, "--json"),
)

#: Commands with a slot ``{bad}`` for an --out (or target folder) that cannot be written.
OUT_COMMANDS = (
    ("run", WAVE, "--out", "{bad}", "--no-pdf", "--no-notebook"),
    ("run", WAVE, "--out", "{bad}", "--no-pdf", "--no-notebook", "--json"),
    ("ingest", EXPORT, "--instrument", INSTRUMENT, "--out", "{bad}", "--json"),
    ("validate", WAVE, "--out", "{bad}"),
    ("sample", INSTRUMENT, "--out", "{bad}"),
    ("init", "{bad}"),
    ("new-wave", "{bad}", "--from", WAVE),
    ("calibrate", DATA, "--margins", MARGINS, "--method", "rake", "--out", "{bad}"),
    ("instrument", "import", "instrument/survey.csv", "--out", "{bad}"),
)

#: Every command, as its words on the command line.
ALL_COMMANDS = (
    ("run",), ("report",), ("verify",), ("ingest",), ("validate",), ("manifest",),
    ("sample",), ("crosstab",), ("proportion",), ("mean",), ("calibrate",), ("replicate",),
    ("bench",), ("init",), ("new-wave",), ("explain",), ("instrument",),
    ("instrument", "check"), ("instrument", "diff"), ("instrument", "import"),
)
#: Commands that take --json.
JSON_COMMANDS = (
    ("run",), ("verify",), ("ingest",), ("validate",), ("crosstab",), ("proportion",),
    ("mean",), ("calibrate",), ("replicate",), ("instrument", "diff"),
)

#: Bad option values on good inputs.
BAD_VALUES = (
    ("validate", WAVE, "--limit", "-1"),
    ("validate", WAVE, "--limit", "-1", "--json"),
    ("validate", WAVE, "--platform", "nonesuch"),
    ("validate", EXPORT, "--instrument", INSTRUMENT, "--platform", "nonesuch", "--json"),
    ("run", WAVE, "--phase-basis", "nonesuch", "--json"),
    ("crosstab", DATA, "--row", "phase", "--col", "sectr"),
    ("crosstab", DATA, "--row", "phase", "--col", "sector", "--tests", "nonesuch", "--json"),
    ("crosstab", DATA, "--row", "phase", "--col", "sector", "--weight", "phase"),
    ("crosstab", DATA, "--row", "phase", "--col", "sector", "--cluster", ",,,"),
    ("proportion", DATA, "--var", "phase", "--level", "nonesuch", "--ci", "wilson"),
    ("proportion", DATA, "--var", "phase", "--level", "Early", "--ci", "nonesuch", "--json"),
    ("mean", DATA, "--var", "phase", "--json"),
    ("mean", DATA, "--var", "score", "--quantiles", "2"),
    ("mean", DATA, "--var", "score", "--quantiles", "half", "--json"),
    ("calibrate", DATA, "--margins", MARGINS, "--method", "rake", "--max-iterations", "0"),
    ("calibrate", DATA, "--margins", MARGINS, "--method", "rake", "--trim-lower", "5",
     "--trim-upper", "1"),
    ("calibrate", DATA, "--margins", DATA, "--method", "poststratify", "--json"),
    ("replicate", DATA, "--var", "phase", "--level", "Early", "--type", "JK1",
     "--replicates", "rw*", "--ci", "logit"),
    ("replicate", DATA, "--var", "phase", "--level", "Early", "--type", "JK1",
     "--replicates", "[", "--ci", "logit", "--json"),
    ("bench", "--sizes", "many"),
    ("bench", "--sizes", "0"),
    ("bench", "--render-max", "-5", "--sizes", "-10"),
    ("explain", ""),
    ("explain", "NONESUCH_999"),
    ("new-wave", "raw/tiny", "--from", WAVE),
    ("new-wave", "raw/next", "--from", "nonesuch"),
    ("manifest", WAVE, "--check", "--replace"),
    ("init", WAVE),
)


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A tiny project (instrument, wave, a data file with its margins) and bad paths,
    with the working directory in it."""
    make_project(tmp_path, [row(response_id=f"R{n}", pid=f"P{n}", stage=str(1 + n % 3))
                            for n in range(1, 6)])
    (tmp_path / DATA).write_text(
        "phase,sector,score,rw1,rw2\n" + "".join(
            f"{p},{s},{n},1,2\n" for n, (p, s) in
            enumerate([("Early", "a"), ("Late", "b"), ("Early", "b"), ("Late", "a")] * 3)),
        encoding="utf-8")
    (tmp_path / MARGINS).write_text("variable,level,count\nphase,Early,60\nphase,Late,40\n",
                                    encoding="utf-8")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "folder").mkdir()
    (bad / "empty").write_bytes(b"")
    (bad / "garbage").write_bytes(bytes(range(256)) * 16)
    (bad / "file").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "writable").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _bad_path(kind: str) -> str:
    return {"missing": "bad/nonesuch", "folder": "bad/folder", "empty": "bad/empty",
            "garbage": "bad/garbage", "file": "bad/file"}[kind]


def _bad_out(kind: str) -> str:
    return {"under_a_file": "bad/file/sub", "a_file": "bad/file"}[kind]


def _fill(words: tuple[str, ...], bad: str) -> list[str]:
    return [word.replace("{bad}", bad).replace("{out}", "writable") for word in words]


def _check(args: list[str]) -> None:
    """Run ``pulsecheck ARGS`` and hold it to the contract."""
    result = CliRunner().invoke(cli, args)
    shown = f"pulsecheck {' '.join(args)}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    # An exception that escaped the command is a traceback for the user (exit 3 from main).
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{shown}\n{type(result.exception).__name__}: {result.exception}")
    assert "Traceback" not in result.output, shown
    assert result.exit_code in (0, 1, 2), shown
    if "--json" in args and "--help" not in args:
        try:
            payload = json.loads(result.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"--json printed something other than one JSON object\n{shown}")
        if result.exit_code == 2:
            assert payload["exit_code"] == 2, shown
            assert re.fullmatch(r"[A-Z]+_\d{3}", payload["error"]["code"]), shown
    elif result.exit_code == 2:
        # A catalogue message ends with its code; a usage error is click's usage text.
        assert re.search(r"\([A-Z]+_\d{3}\)", result.stderr) or "Usage:" in result.stderr, (
            shown)


@pytest.mark.parametrize("kind", BAD_PATHS)
@pytest.mark.parametrize("words", PATH_COMMANDS, ids=" ".join)
def test_cli__bad_path__catalogue_message_never_a_traceback(project, words, kind):
    _check(_fill(words, _bad_path(kind)))


@pytest.mark.parametrize("kind", BAD_OUTS)
@pytest.mark.parametrize("words", OUT_COMMANDS, ids=" ".join)
def test_cli__unwritable_out__catalogue_message_never_a_traceback(project, words, kind):
    _check(_fill(words, _bad_out(kind)))


@pytest.mark.parametrize("words", BAD_VALUES, ids=" ".join)
def test_cli__bad_option_value__catalogue_message_or_usage_error(project, words):
    _check(list(words))


@pytest.mark.parametrize("words", ALL_COMMANDS, ids=" ".join)
def test_cli__unknown_option__usage_error_exit_2(project, words):
    result = CliRunner().invoke(cli, [*words, "--nonesuch"])
    assert result.exit_code == 2 and "No such option" in result.stderr, result.output


@pytest.mark.parametrize("words", JSON_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("mistake", [("--nonesuch",), ()], ids=["unknown option",
                                                                 "missing argument"])
def test_cli__usage_error_under_json__is_one_json_object_exit_2(project, words, mistake):
    result = CliRunner().invoke(cli, [*words, "--json", *mistake])
    assert result.exit_code == 2, result.output
    payload = json.loads(result.stdout)
    assert (payload["status"], payload["exit_code"]) == ("error", 2)
    assert payload["error"]["code"] == "CLI_005"
    # The message names the problem and where to look, as click's would.
    assert "--help" in payload["error"]["fix"], payload


@pytest.mark.parametrize("words", [("nonesuch", "--json"), ("--json",), ("--json", "run"),
                                   ("--nonesuch", "--json")], ids=" ".join)
def test_cli__usage_error_of_the_group_under_json__is_one_json_object(project, words):
    result = CliRunner().invoke(cli, list(words))
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "CLI_005"


@pytest.mark.parametrize("command", ["run", "manifest"])
def test_cli__export_file_given_for_a_wave_folder__says_so_not_toml(project, command):
    result = CliRunner().invoke(cli, [command, EXPORT])
    assert result.exit_code == 2, result.output
    assert "TOML" not in result.stderr and "CONF_001" not in result.stderr, result.stderr
    assert "wave folder" in result.stderr and "pulsecheck validate" in result.stderr, (
        result.stderr)


def test_init__existing_project__says_init_needs_a_new_folder_not_a_run_folder(project):
    result = CliRunner().invoke(cli, ["init", "."])
    assert result.exit_code == 2, result.output
    assert "earlier run" not in result.stderr, result.stderr
    assert "--project" in result.stderr, result.stderr


def test_instrument_import__into_an_instrument_folder__is_refused_and_it_is_kept(project):
    form = project / "form"
    form.mkdir()
    (form / "survey.csv").write_bytes((project / INSTRUMENT / "survey.csv").read_bytes())
    (form / "choices.csv").write_bytes((project / INSTRUMENT / "choices.csv").read_bytes())
    (form / "manifest.toml").write_bytes((project / INSTRUMENT / "manifest.toml").read_bytes())
    # An XLSForm-like folder is not a form file; a REDCap dictionary is: build one in place.
    dictionary = project / "dict" / "survey.csv"
    dictionary.parent.mkdir()
    dictionary.write_text(
        "Variable / Field Name,Form Name,Section Header,Field Type,Field Label,"
        "Choices, Calculations, OR Slider Labels\n"
        "record_id,f,,text,Record,\nq,f,,radio,Question,\"1, Yes | 2, No\"\n",
        encoding="utf-8")
    before = {path: path.read_bytes() for path in (*form.iterdir(), dictionary)}
    for source, out in ((dictionary, form), (dictionary, dictionary.parent)):
        result = CliRunner().invoke(cli, ["instrument", "import", str(source),
                                          "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert re.search(r"\((CLI_007|RAW_002)\)", result.stderr), result.stderr
    assert {path: path.read_bytes() for path in before} == before
