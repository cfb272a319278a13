"""Configuration that cannot lie: every TOML file checked against its schema, every key used.

A misspelt key, a value of the wrong type or a damaged file is a catalogue message with exit
code 2 naming the file, the key, the rule and the fix — never a silent default, a converted
value or a traceback.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from bad_inputs import builders as b
from conftest import PROJECT, TINY_WAVE, tiny_instrument
from pipeline.cli.main import cli
from pipeline.errors import CATALOGUE, PulsecheckError
from pipeline.model import schemas
from pipeline.model.schema_check import ConfigError, schema_problems
from pipeline.model.schema_docs import schema_markdown

TINY_SPEC = """\
[settings]
phase_basis = "self"
ci_method = "wilson"
level = 0.95
disclosure_threshold = 1
test = "chisq"
trend = true
pairwise = "holm"
pairwise_alpha = 0.05

[[tables]]
id = "stage"
title = "Stage"
kind = "single"
row = "stage"
"""


def _run(builder, tmp_path: Path):
    args = builder(tmp_path)
    result = CliRunner().invoke(cli, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _wave(old: str, new: str) -> str:
    assert old in TINY_WAVE
    return TINY_WAVE.replace(old, new)


# --- wave.toml -----------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, suggestion", [
    ('title = "Tiny test wave"', 'title = "Tiny test wave"\nsynthetc = true', "synthetic"),
    ("min_progress = 100", "min_progres = 100", "min_progress"),
    ('keep = ["most_complete", "latest"]', 'kep = ["latest"]', "keep"),
    ('rule = "incomplete"', 'rule = "incomplet"', "incomplete"),
])
def test_wave_toml__misspelt_key__is_refused_with_a_did_you_mean(old, new, suggestion,
                                                                 tmp_path):
    result = _run(b.with_wave(_wave(old, new)), tmp_path)
    assert result.exit_code == 2, result.output
    assert f"Did you mean '{suggestion}'?" in result.output
    assert "wave.toml" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_wave_toml__values_given_as_a_string__is_refused_not_read_as_letters(tmp_path):
    result = _run(b.with_wave(_wave('values = ["no"]', 'values = "no"')), tmp_path)
    assert result.exit_code == 2, result.output
    assert "(CONF_005)" in result.output
    assert "steps[2].values" in result.output and "'no'" in result.output


def test_wave_toml__a_toml_date_where_text_is_expected__is_refused(tmp_path):
    result = _run(b.with_wave(_wave('wave = "2016"', "wave = 2016-06-01")), tmp_path)
    assert result.exit_code == 2, result.output
    assert "Key 'wave' is the TOML date 2016-06-01, expected a quoted string" in result.output


def test_wave_toml__max_invalid_as_text__is_refused(tmp_path):
    result = _run(b.with_wave(_wave("max_invalid = 3", 'max_invalid = "3"')), tmp_path)
    assert result.exit_code == 2, result.output
    assert "steps[3].max_invalid" in result.output and "whole number" in result.output


def test_wave_toml__nested_5000_deep__is_a_catalogue_message_not_a_recursion_error(tmp_path):
    deep = TINY_WAVE + "x = " + "[" * 5000 + "]" * 5000 + "\n"
    result = _run(b.with_wave(deep), tmp_path)
    assert result.exit_code == 2, result.output
    assert "(CONF_001)" in result.output and "nested too deeply" in result.output


def test_wave_toml__every_problem__is_listed_at_once(tmp_path):
    text = _wave("min_progress = 100", "min_progres = 100").replace(
        'title = "Tiny test wave"', 'title = "Tiny test wave"\nsynthetc = true')
    result = _run(b.with_wave(text), tmp_path)
    assert "2 problem(s)" in result.output
    assert result.output.count("(CONF_002)") == 2


def test_limits_table__misspelt_limit__is_refused_with_a_did_you_mean(tmp_path):
    result = _run(b.with_wave(TINY_WAVE + "\n[limits]\nmax_row = 10\n"), tmp_path)
    assert result.exit_code == 2, result.output
    assert "Did you mean 'max_rows'?" in result.output


# --- platform profiles ---------------------------------------------------------------------

def test_platform_profile__malformed__exits_2_with_a_catalogue_message(tmp_path):
    def damage(wave: Path) -> None:
        (tmp_path / "survey_instrument" / "platforms" / "csv.toml").write_text(
            'name = "csv"\nheader_rows = "one"\n[roles\n', encoding="utf-8")

    result = _run(b.with_wave(TINY_WAVE, damage), tmp_path)
    assert result.exit_code == 2, result.output
    assert "(CONF_001)" in result.output and "csv.toml" in result.output


def test_platform_profile__wrong_type__exits_2_naming_the_key(tmp_path):
    def damage(wave: Path) -> None:
        path = tmp_path / "survey_instrument" / "platforms" / "csv.toml"
        path.write_text(path.read_text(encoding="utf-8").replace(
            "header_rows = 1", 'header_rows = "1"'), encoding="utf-8")

    result = _run(b.with_wave(TINY_WAVE, damage), tmp_path)
    assert result.exit_code == 2, result.output
    assert "Key 'header_rows' is '1', expected a whole number" in result.output


def test_platform_profile__malformed__in_a_real_process_exits_2_without_traceback(tmp_path):
    import sys

    args = b.with_wave(TINY_WAVE, lambda wave: (
        tmp_path / "survey_instrument" / "platforms" / "csv.toml").write_text(
        "name = [[[\n", encoding="utf-8"))(tmp_path)
    done = subprocess.run([sys.executable, "-m", "pipeline.cli.main", *args], cwd=PROJECT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "(CONF_001)" in done.stderr


# --- the report specification --------------------------------------------------------------

def _spec(text: str = TINY_SPEC):
    from pipeline.model.report_spec import build_spec

    return build_spec(tomllib.loads(text))


@pytest.mark.parametrize("line, code, words", [
    ('sort = "descendng"', "CONF_005", "Did you mean 'descending'?"),
    ('base = "answered"', "CONF_002", "tables[0].base"),
    ('test = "fischer"', "CONF_005", "Did you mean 'fisher'?"),
    ('pairwise = "holmes"', "CONF_005", "holm"),
    ("by_phase = 1", "CONF_005", "true or false"),
])
def test_table_entry__misspelt_or_unused_setting__is_an_error(line, code, words):
    with pytest.raises(ConfigError) as caught:
        _spec(TINY_SPEC + line + "\n")
    messages = "\n".join(caught.value.problems["message"])
    assert f"({code})" in messages and words in messages, messages


@pytest.mark.parametrize("key", ["test", "trend", "pairwise", "pairwise_alpha"])
def test_spec_settings__a_statistical_choice_left_out__is_an_error_not_a_hidden_default(key):
    text = "\n".join(line for line in TINY_SPEC.splitlines()
                     if not line.startswith(f"{key} ")) + "\n"
    with pytest.raises(ConfigError) as caught:
        _spec(text)
    assert f"Key 'settings.{key}' is required" in caught.value.problems["message"].iloc[0]


def _stage_table(spec_text: str):
    import pandas as pd

    from pipeline.report.tables import BANNER, build_table

    instrument = tiny_instrument()
    spec = _spec(spec_text)
    stages = ["first"] * 4 + ["second"] * 3 + ["third"] * 5
    phases = ["Early"] * 2 + ["Late"] * 2 + ["Early"] * 3 + ["Late"] * 1 + ["Early"] * 4
    frame = pd.DataFrame({"stage": stages, BANNER: pd.Categorical(
        phases, categories=["Early", "Late"])})
    return build_table(frame, spec.tables[0], instrument, spec)


def test_table_test_fisher__is_computed_as_fisher_not_pearson():
    table = _stage_table(TINY_SPEC + 'test = "fisher"\n')
    tests = table.tests[table.tests["test"] != "trend"]
    assert tests["test"].tolist() == ["fisher"]
    # stage (first, second, third) × phase (Early, Late) of the frame in _stage_table.
    assert tests["p_value"].iloc[0] == pytest.approx(_fisher_r_by_2([(2, 2), (3, 0), (4, 1)]),
                                                     rel=1e-9)


def _fisher_r_by_2(table: list[tuple[int, int]]) -> float:
    """Exact Fisher p-value of an r×2 table, by enumerating every table with its margins.

    P(table) = ∏ row! ∏ col! / (n! ∏ cell!); the p-value sums the tables no more likely than
    the one observed (Agresti 2013, §3.5.7).
    """
    from itertools import product
    from math import factorial, prod

    rows = [a + b for a, b in table]
    first = sum(a for a, _ in table)
    n = sum(rows)
    second = n - first

    def probability(cells: list[tuple[int, int]]) -> float:
        top = prod(factorial(r) for r in rows) * factorial(first) * factorial(second)
        return top / (factorial(n) * prod(factorial(a) * factorial(b) for a, b in cells))

    observed = probability(table)
    total = 0.0
    for column in product(*(range(r + 1) for r in rows)):
        if sum(column) == first:
            p = probability([(a, r - a) for a, r in zip(column, rows, strict=True)])
            if p <= observed * (1 + 1e-7):
                total += p
    return total


def test_table_trend_false__leaves_out_the_trend_test():
    text = TINY_SPEC.replace("trend = true", "trend = false")
    table = _stage_table(text)
    assert "trend" not in set(table.tests["test"])


def test_table_pairwise_none__is_used_for_the_letters():
    holm = _stage_table(TINY_SPEC)
    none = _stage_table(TINY_SPEC + 'pairwise = "none"\n')
    assert holm.table is not None and none.table is not None
    # The letters come from unadjusted p-values: never fewer than with Holm's adjustment.
    count = lambda t: int(t.table["sig_letters"].fillna("").str.len().sum())  # noqa: E731
    assert count(none) >= count(holm)


# --- every committed file ------------------------------------------------------------------

def _committed_toml() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "*.toml"], cwd=PROJECT, capture_output=True,
                            text=True, check=True).stdout.split()
    # The real-export corpus describes each fixture in a case.toml/form.toml of the tests'
    # own (what to read it with, what to expect): test data, not configuration pulsecheck reads.
    return [PROJECT / name for name in listed
            if name != "pyproject.toml" and not name.endswith("sample_profile.toml")
            and not name.startswith("tests/real_exports/")]


def _schema_for(path: Path):
    relative = path.relative_to(PROJECT).as_posix()
    if "/platforms/" in relative:
        return schemas.PlatformFile
    by_name = {"wave.toml": schemas.WaveFile, "manifest.toml": schemas.ManifestFile,
               "tables.toml": schemas.TablesFile, "phase_criteria.toml": schemas.CriteriaFile,
               "limits.toml": schemas.LimitsFile, "trends.toml": schemas.TrendsFile,
               "report.toml": schemas.ReportLayoutFile,
               "recommendations.toml": schemas.RecommendationsFile,
               "published.toml": schemas.PublishedFiguresFile,
               "disclosure.toml": schemas.DisclosureFile}
    if relative == "reports/funder/wording.toml":
        return schemas.FunderWordingFile
    if relative == "reports/trends/wording.toml":
        return schemas.TrendsWordingFile
    return by_name[path.name]


@pytest.mark.parametrize("path", _committed_toml(), ids=lambda p: p.relative_to(PROJECT)
                         .as_posix())
def test_committed_toml__is_valid_under_its_schema(path: Path):
    _, problems = schema_problems(tomllib.loads(path.read_text(encoding="utf-8")),
                                          _schema_for(path), path.name)
    assert problems.empty, problems["message"].tolist()


def test_every_schema__refuses_unknown_keys_and_converts_nothing():
    for _, model in schemas.FILES:
        assert model.model_config.get("extra") == "forbid", model
        assert model.model_config.get("strict") is True, model


def test_docs_configuration__is_generated_from_the_schemas():
    committed = (PROJECT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == schema_markdown(), \
        "regenerate with: python -m pipeline.model.schema_docs > docs/configuration.md"


def test_catalogue__has_the_configuration_codes():
    for code in ("CONF_001", "CONF_002", "CONF_003", "CONF_004", "CONF_005"):
        assert code in CATALOGUE


def test_read_toml__not_utf8__is_conf_001(tmp_path):
    from pipeline.ingest.config import parse_toml

    path = tmp_path / "x.toml"
    path.write_bytes(b'a = "\xff"\n')
    with pytest.raises(PulsecheckError) as caught:
        parse_toml(path)
    assert caught.value.code == "CONF_001" and "UTF-8" in caught.value.message


# --- a minimal wave, a wave left out of the trends -------------------------------------------

MINIMAL_WAVE = """\
survey = "tiny"
wave = "2016"
instrument = "../../instrument"
platform = "csv"
files = ["export.csv"]
steps = []
"""


def test_minimal_wave__without_incomplete_and_deduplicate_steps__warns_naming_both(tmp_path):
    import pandas as pd

    result = _run(b.with_wave(MINIMAL_WAVE), tmp_path)
    assert result.exit_code == 0, result.output
    issues = pd.read_csv(tmp_path / "out" / "internal" / "issues.csv", dtype=str,
                         keep_default_na=False)
    warned = issues[issues["code"] == "CONF_006"]
    assert len(warned) == 2 and set(warned["severity"]) == {"warning"}
    messages = " ".join(warned["message"])
    assert "no 'incomplete' step" in messages and "no 'deduplicate' step" in messages
    assert "CONF_006" in result.output


def test_full_wave__with_every_expected_step__gives_no_step_warning(tmp_path):
    import pandas as pd

    result = _run(b.with_wave(TINY_WAVE), tmp_path)
    issues = pd.read_csv(tmp_path / "out" / "internal" / "issues.csv", dtype=str,
                         keep_default_na=False)
    assert "CONF_006" not in set(issues["code"]), result.output


def test_waves_left_out__a_wave_no_crosswalk_reaches__is_named_with_the_missing_file():
    from pipeline.model.crosswalk import MeasureSide
    from pipeline.multiwave.trends import MeasureChain, waves_left_out

    side = MeasureSide(question="q", choices=("a",))
    chain = MeasureChain(measure="m", label="M", family="F",
                         sides={"2016": side, "2018": side}, links={})
    warnings = waves_left_out(["2014", "2016", "2018"], [chain])
    assert [w["code"] for w in warnings] == ["CONF_007"]
    assert "Wave 2014 is left out of the trends" in warnings[0]["message"]
    assert "2014__2016.csv" in warnings[0]["message"]
    assert waves_left_out(["2014", "2016", "2018"],
                          [MeasureChain(measure="m", label="M", family="F",
                                        sides={"2014": side, "2016": side, "2018": side},
                                        links={})]) == []


# --- the configured level, printed wherever a level is printed -------------------------------

def _with_report_spec(spec_text: str):
    """A tiny project whose instrument names a report specification (``tables.toml``)."""
    def build(root: Path) -> list[str]:
        args = b.with_rows(b.tiny_rows() * 1)(root)
        instrument = root / "instrument"
        (instrument / "tables.toml").write_text(spec_text, encoding="utf-8")
        manifest = instrument / "manifest.toml"
        manifest.write_text(manifest.read_text(encoding="utf-8")
                            + '[report]\ntables = "tables.toml"\n', encoding="utf-8")
        return args
    return build


def _sheet_texts(path: Path) -> str:
    import pandas as pd

    sheets = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
    return " ".join(str(v) for frame in sheets.values() for v in frame.to_numpy().ravel()
                    if isinstance(v, str))


@pytest.fixture(scope="module")
def level_90_run(tmp_path_factory) -> Path:
    """A tiny wave whose report specification sets a 90% level, run once for this module."""
    root = tmp_path_factory.mktemp("level90")
    result = _run(_with_report_spec(TINY_SPEC.replace("level = 0.95", "level = 0.9")), root)
    assert result.exit_code in (0, 1), result.output
    return root / "out"


def test_configured_level_90__is_printed_as_90_in_workbook_notes_and_funder_summary(
        level_90_run):
    import json

    out = level_90_run
    workbook = _sheet_texts(out / "published" / "tables.xlsx")
    assert "90% CI" in workbook and "with 90% intervals" in workbook
    assert "95%" not in workbook
    summary = (out / "published" / "funder_summary.html").read_text(encoding="utf-8")
    assert "90% interval" in summary and "95%" not in summary
    notebook = (out / "internal" / "analyst.html").read_text(encoding="utf-8")
    assert "Intervals are 90% wilson intervals" in notebook
    assert "Intervals are 95%" not in notebook
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["statistics"]["level"] == 0.9
    assert manifest["statistics"]["tables"]["stage"] == {
        "test": "chisq", "trend": True, "pairwise": "holm", "pairwise_alpha": 0.05,
        "sort": "instrument"}
    assert "tables.toml" in manifest["instrument"]["files"]
    assert any(name.endswith("platforms/csv.toml") for name in manifest["configuration"])
    assert "reports/funder/wording.toml" in manifest["configuration"]
    assert "Percentages are unweighted" in workbook


@pytest.mark.slow
def test_run_waves__a_wave_without_crosswalk__is_warned_about_and_not_counted(tmp_path):
    import json
    import shutil

    import pandas as pd

    shutil.copytree(PROJECT / "survey_instrument", tmp_path / "survey_instrument")
    shutil.copytree(PROJECT / "raw" / "pulse_check", tmp_path / "raw" / "pulse_check")
    (tmp_path / "survey_instrument" / "pulse_check" / "crosswalks" / "2014__2016.csv").unlink()
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "raw" / "pulse_check"),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code in (0, 1), result.output
    assert "Wave 2014 is left out of the trends" in result.output
    assert "2014__2016.csv" in result.output
    assert "over 3 waves (2016, 2018, 2020)" in result.output
    trends = tmp_path / "out" / "pulse_check-trends"
    caveats = pd.read_csv(trends / "published" / "caveats.csv", dtype=str,
                          keep_default_na=False)
    assert caveats["caveat"].str.startswith("Wave 2014 is left out").any()
    manifest = json.loads((trends / "run.json").read_text(encoding="utf-8"))
    assert [entry["wave"] for entry in manifest["left_out"]] == ["2014"]


# --- rendering failures name their real cause --------------------------------------------

def test_report_command__a_genuine_bug__keeps_its_traceback_not_disguised_as_configuration(
        level_90_run, monkeypatch):
    from pipeline.report import html as render

    def broken(bundle):
        raise KeyError("something unforeseen")

    monkeypatch.setattr(render, "render_funder_html", broken)
    result = CliRunner().invoke(cli, ["report", str(level_90_run), "--no-notebook"])
    assert isinstance(result.exception, KeyError), result.output
    assert "RENDER_003" not in result.output and "configuration" not in result.output


def test_report_command__a_misspelt_wording_placeholder__names_it_with_render_006(
        level_90_run, monkeypatch):
    from pipeline.report import html as render

    layout, wording, recommendations = render.read_report_data()
    methods = {**wording["methods"], "suppression": "Counts below {treshold} are hidden."}
    monkeypatch.setattr(render, "read_report_data", lambda: (
        layout, {**wording, "methods": methods}, recommendations))
    result = CliRunner().invoke(cli, ["report", str(level_90_run), "--no-notebook"])
    assert result.exit_code == 2, result.output
    assert "(RENDER_006)" in result.output
    assert "{treshold} is not one of its values (its values: threshold)" in result.output
    assert "Traceback" not in result.output


def test_report_command__a_disk_that_refuses_writes__names_the_cause_with_render_003(
        level_90_run, monkeypatch):
    import errno

    from pipeline.report import html as render

    def full(html, folder, stem, *args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(render, "write_html_and_pdf", full)
    result = CliRunner().invoke(cli, ["report", str(level_90_run), "--no-notebook"])
    assert result.exit_code == 2, result.output
    assert "(RENDER_003)" in result.output and "No space left on device" in result.output
