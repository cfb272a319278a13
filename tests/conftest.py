"""Shared fixtures: tiny inline instruments and waves, built from CSV text inside the tests."""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
import textwrap
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings as hypothesis_settings

from pipeline.ingest.readers import Platform, read_export, read_platform, write_checksums
from pipeline.model.instrument import Instrument, build_instrument, check_instrument

# In CI every property test draws the same examples, so a red build is the code's fault and
# can be reproduced; on a developer's machine the examples vary from run to run and keep
# looking for new failures, which then become explicit ``@example`` cases.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _working_directory_kept():
    """``pulsecheck --project DIR`` changes the working directory, as a new process started
    there would; invoked in-process by a test, it must not move the tests that follow."""
    start = os.getcwd()
    yield
    os.chdir(start)
INSTRUMENT_2016 = PROJECT / "survey_instrument" / "pulse_check" / "2016"
SAMPLE_WAVE = PROJECT / "raw" / "pulse_check" / "2016"

TINY_SURVEY = """\
type,name,label,required,relevant,constraint,constraint_message,personal
text,pid,Partnership id,yes,,,,no
text,email,Email,no,,"regex(., '^[^@ ]+@[^@ ]+$')",Enter an email.,yes
select_one yn,screen,Multi-sector?,yes,,,,no
begin_group,core,Core,,${screen} = 'yes',,,
integer,year,Year formed,yes,,. >= 1950 and . <= 2016,Year between 1950 and 2016,no
decimal,staff,Staff FTE,no,,. > 0,More than zero,no
select_multiple bar,barriers,Barriers,yes,,,,no
text,barriers_other,Other barrier,no,"selected(${barriers}, 'other')",,,no
select_one stage,stage,Stage,yes,,,,no
end_group,,,,,,,
"""
TINY_CHOICES = """\
list_name,name,label,code,exclusive
yn,yes,Yes,1,
yn,no,No,2,
bar,money,Lack of money,1,
bar,data,Data sharing,2,
bar,other,Other,3,
bar,none,None of these,4,yes
stage,first,First stage,1,
stage,second,Second stage,2,
stage,third,Third stage,3,
stage,unsure,Not sure,4,
"""
TINY_MANIFEST = """\
id = "tiny"
version = "1"
year = 2016
languages = ["en"]
[keys]
respondent = "pid"
[phase]
question = "stage"
map = "phase_map.csv"
order = ["Early", "Late"]
unclassified_group = "unclassified"
"""
TINY_PHASE_MAP = """\
value,phase_group,basis
first,Early,GUESS
second,Early,GUESS
third,Late,GUESS
unsure,unclassified,sourced
"""
TINY_WAVE = """\
survey = "tiny"
wave = "2016"
title = "Tiny test wave"
instrument = "../../instrument"
platform = "csv"
files = ["export.csv"]

[[steps]]
id = "preview"
rule = "metadata_in"
role = "channel"
values = ["preview"]
reason = "Preview"

[[steps]]
id = "incomplete"
rule = "incomplete"
min_progress = 100
reason = "Partial"

[[steps]]
id = "screened_out"
rule = "answer_in"
question = "screen"
values = ["no"]
reason = "Not multi-sector"

[[steps]]
id = "quarantine"
rule = "quarantine"
max_invalid = 3
reason = "Error-severity problem"

[[steps]]
id = "duplicate"
rule = "deduplicate"
keep = ["most_complete", "latest"]
reason = "Duplicate"
"""
#: Header of the tiny exports (the csv platform: one header row of names).
EXPORT_HEADER = ["response_id", "submitted_at", "finished", "progress", "channel",
                 "pid", "email", "screen", "year", "staff", "barriers", "barriers_other",
                 "stage"]


def tables_from_text(survey: str = TINY_SURVEY, choices: str = TINY_CHOICES,
                     manifest: str = TINY_MANIFEST, phase_map: str | None = TINY_PHASE_MAP
                     ) -> dict:
    """Instrument tables as :func:`pipeline.ingest.readers.read_instrument_tables` returns them."""
    def read(text: str) -> pd.DataFrame:
        return pd.read_csv(io.StringIO(textwrap.dedent(text)), dtype=str,
                           keep_default_na=False)
    tables = {"survey": read(survey), "choices": read(choices),
              "manifest": tomllib.loads(manifest)}
    if phase_map is not None:
        tables["phase_map"] = read(phase_map)
    return tables


def tiny_instrument(**overrides) -> Instrument:
    tables = tables_from_text(**overrides)
    problems = check_instrument(tables)
    assert problems.empty, problems["message"].tolist()
    return build_instrument(tables)


def csv_platform() -> Platform:
    return read_platform("csv", PROJECT)


def row(**answers) -> dict:
    """A complete, valid tiny response; keyword arguments override answers."""
    base = {"response_id": "R1", "submitted_at": "2016-06-01 10:00:00", "finished": "1",
            "progress": "100", "channel": "email", "pid": "P1", "email": "a@example.org",
            "screen": "1", "year": "2012", "staff": "2.5", "barriers": "1 2",
            "barriers_other": "", "stage": "1"}
    base.update(answers)
    return base


def canonical(rows: list[dict], instrument: Instrument | None = None,
              file_name: str = "export.csv"):
    """Tiny rows written as a csv-platform export and read as the run reads it."""
    instrument = instrument or tiny_instrument()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / file_name
        write_export(path, rows)
        return read_export(path, instrument, csv_platform())


def write_export(path: Path, rows: list[dict], header: list[str] | None = None) -> None:
    header = header or EXPORT_HEADER
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for r in rows:
            writer.writerow([r.get(column, "") for column in header])


def make_project(root: Path, rows: list[dict], wave_text: str = TINY_WAVE) -> Path:
    """A tiny project: instrument, csv platform profile and a wave with its checksums."""
    instrument_dir = root / "instrument"
    instrument_dir.mkdir(parents=True, exist_ok=True)
    (instrument_dir / "survey.csv").write_text(TINY_SURVEY, encoding="utf-8")
    (instrument_dir / "choices.csv").write_text(TINY_CHOICES, encoding="utf-8")
    (instrument_dir / "manifest.toml").write_text(TINY_MANIFEST, encoding="utf-8")
    (instrument_dir / "phase_map.csv").write_text(TINY_PHASE_MAP, encoding="utf-8")
    platforms = root / "survey_instrument" / "platforms"
    platforms.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT / "survey_instrument" / "platforms" / "csv.toml", platforms)
    wave_dir = root / "raw" / "tiny"
    wave_dir.mkdir(parents=True, exist_ok=True)
    (wave_dir / "wave.toml").write_text(wave_text, encoding="utf-8")
    write_export(wave_dir / "export.csv", rows)
    write_checksums(wave_dir, ["export.csv"])
    return wave_dir


@pytest.fixture
def tiny_rows() -> list[dict]:
    """Seven responses: four analysed, one preview, one partial, one screened out."""
    return [
        row(response_id="R1", pid="P1", stage="1"),
        row(response_id="R2", pid="P2", stage="3", barriers="4", staff=""),
        row(response_id="R3", pid="P3", stage="4"),
        row(response_id="R4", pid="P4", stage="2", barriers="1 3", barriers_other="Weather"),
        row(response_id="R5", pid="P5", channel="preview"),
        row(response_id="R6", pid="P6", finished="0", progress="40", year="", barriers="",
            stage=""),
        row(response_id="R7", pid="P7", screen="2", year="", staff="", barriers="", stage=""),
    ]


#: Fixtures that run the full sample wave end to end: every test using one is marked slow, so
#: that ``make test`` stays quick (``make test-slow`` and CI run them).
END_TO_END_FIXTURES = frozenset({"sample_run_dir", "all_waves_run"})


def pytest_collection_modifyitems(config, items):
    unmarked = [item.nodeid for item in items
                if END_TO_END_FIXTURES & set(getattr(item, "fixturenames", ()))
                and item.get_closest_marker("slow") is None]
    if unmarked:
        raise pytest.UsageError("end-to-end tests must be marked @pytest.mark.slow: "
                                + ", ".join(unmarked))


@pytest.fixture(scope="session")
def sample_run_dir(tmp_path_factory) -> Path:
    """The committed sample wave run once per test session (tests only read it)."""
    from click.testing import CliRunner

    from pipeline.cli.main import cli

    out = tmp_path_factory.mktemp("sample") / "run"
    result = CliRunner().invoke(cli, ["run", str(SAMPLE_WAVE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def instrument_dir(tmp_path_factory) -> Path:
    """The small instrument that the platform export fixtures are written for."""
    from fixtures.exports import CHOICES, MANIFEST, SURVEY

    folder = tmp_path_factory.mktemp("mini")
    (folder / "survey.csv").write_text(SURVEY, encoding="utf-8")
    (folder / "choices.csv").write_text(CHOICES, encoding="utf-8")
    (folder / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def mini(instrument_dir):
    """That instrument, read and checked."""
    from pipeline.ingest.readers import read_instrument

    return read_instrument(instrument_dir)


def sample_personal_values() -> set[str]:
    """Every personal value (longer than 3 characters) in the committed sample export: the
    platform's personal metadata and the instrument's personal questions."""
    import csv as csv_module

    profile = tomllib.loads((PROJECT / "survey_instrument" / "platforms" / "qualtrics.toml")
                            .read_text(encoding="utf-8"))
    survey = pd.read_csv(INSTRUMENT_2016 / "survey.csv", dtype=str, keep_default_na=False)
    personal = set(profile["metadata"]["personal"]) | set(
        survey.loc[survey["personal"] == "yes", "name"])
    with open(SAMPLE_WAVE / "pulse_check_2016_qualtrics.csv", encoding="utf-8-sig") as f:
        rows = list(csv_module.DictReader(f))[2:]
    return {r[c].strip() for r in rows for c in personal if c in r and len(r[c].strip()) > 3}


def pages_ending_in_a_heading(pdf: Path) -> list[tuple[int, str]]:
    """(page, heading) for each page but the last whose lowest line above the footer is an
    ``h2`` or ``h3`` heading of the same document's HTML (``<stem>.html`` beside the PDF).

    The lines and their positions come from poppler's ``pdftotext -bbox-layout``, chart
    text included, so "lowest" is what a reader sees last on the page; a heading that wraps
    counts by its last line.
    """
    import html
    import re
    import subprocess

    source = pdf.with_suffix(".html").read_text(encoding="utf-8")
    headings = [" ".join(re.sub(r"<[^>]+>", "", html.unescape(h)).split())
                for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", source, re.S)]
    layout = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], check=True,
                            capture_output=True, text=True).stdout
    found = []
    pages = re.findall(r'<page width="[\d.]+" height="([\d.]+)">(.*?)</page>', layout, re.S)
    for number, (height, body) in enumerate(pages[:-1], start=1):
        lines = []
        for bottom, inner in re.findall(r'<line xMin="[\d.]+" yMin="[\d.]+" xMax="[\d.]+" '
                                        r'yMax="([\d.]+)">(.*?)</line>', body, re.S):
            if float(bottom) < float(height) - 50:  # above the footer (2 cm margin)
                words = re.findall(r">([^<]*)</word>", inner)
                lines.append((float(bottom), html.unescape(" ".join(words))))
        if not lines:
            continue
        lowest = max(bottom for bottom, _ in lines)
        last = " ".join(text for bottom, text in lines if abs(bottom - lowest) < 1).strip()
        found += [(number, h) for h in headings if last and (h == last or h.endswith(last))]
    return found
