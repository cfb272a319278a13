"""Hostile text and personal data: inert spreadsheet cells, escaped HTML, masked contacts,
no remote resources, and raw files that are only ever read."""

from __future__ import annotations

import csv
import hashlib
import re
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from bad_inputs.builders import sample_copy, tiny_rows
from conftest import make_project, row
from pipeline.cli.main import cli
from pipeline.ingest.readers import write_checksums
from pipeline.stages.privacy import (
    EMAIL_MASK,
    PHONE_MASK,
    inert_cell,
    inert_frame,
    mask_contacts,
    mask_frame,
)

SCRIPT = "<script>alert(1)</script>"
FORMULAS = ['=HYPERLINK("http://example.com/x","click")', "+1+1", "-2+3", "@SUM(A1:A9)",
            "\tTabbed", "\rReturned"]


# --- the helpers ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", FORMULAS)
def test_inert_cell__text_starting_with_a_formula_trigger__gets_an_apostrophe(text):
    assert inert_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["-3", "+1.5", "-0.25", "plain text", "", 12, -4.5, None])
def test_inert_cell__numbers_and_ordinary_text__are_left_alone(value):
    assert inert_cell(value) == value


def test_inert_frame__input_frame__is_not_modified():
    frame = pd.DataFrame({"a": ["=1+1", "ok"], "n": [-1, 2]})
    out = inert_frame(frame)
    assert frame["a"].tolist() == ["=1+1", "ok"]
    assert out["a"].tolist() == ["'=1+1", "ok"] and out["n"].tolist() == [-1, 2]


@pytest.mark.parametrize("text, expected", [
    ("mail jo.bloggs+x@health.example.org please", f"mail {EMAIL_MASK} please"),
    ("call +1 (555) 123-4567 today", f"call {PHONE_MASK} today"),
    ("office 020 7946 0958", f"office {PHONE_MASK}"),
    ("desk 555-0123", f"desk {PHONE_MASK}"),
    ("ring 202.555.0143 or 0044 20 7946 0958", f"ring {PHONE_MASK} or {PHONE_MASK}"),
])
def test_mask_contacts__emails_and_phone_numbers__are_replaced(text, expected):
    assert mask_contacts(text) == expected


@pytest.mark.parametrize("text", ["formed 2010-2016 with 1,250 members", "since 2016",
                                  "ages 18-65, 3 sites", "budget 2.5 million", "P0123"])
def test_mask_contacts__years_counts_and_ids__are_not_taken_for_phone_numbers(text):
    assert mask_contacts(text) == text


def test_mask_frame__masks_only_the_named_columns():
    frame = pd.DataFrame({"note": ["a@b.org"], "id": ["x@y.org"]})
    assert mask_frame(frame, ["note"]).iloc[0].tolist() == [EMAIL_MASK, "x@y.org"]


# --- a whole run on hostile answers --------------------------------------------------------

def _csv_cells(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [cell for line in csv.reader(handle) for cell in line]


def _assert_inert(path: Path) -> None:
    dangerous = [c for c in _csv_cells(path)
                 if c.startswith(("=", "+", "-", "@", "\t", "\r"))
                 and not re.fullmatch(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?", c)]
    assert not dangerous, f"{path.name}: {dangerous[:3]}"


@pytest.fixture(scope="module")
def hostile_tiny(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    rows = tiny_rows()
    for number, formula in enumerate(FORMULAS):
        rows.append(row(response_id=f"H{number}", pid=f"H{number}", barriers="1 3",
                        barriers_other=formula, stage="=1+1" if number == 0 else "2"))
    rows.append(row(response_id="S1", pid="S1", barriers="1 3", barriers_other=SCRIPT,
                    staff=SCRIPT))
    wave = make_project(root, rows)
    out = root / "out"
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    return out


def test_run__formula_like_answers__are_inert_in_every_csv_output(hostile_tiny):
    files = sorted(hostile_tiny.rglob("*.csv"))
    assert files
    for path in files:
        _assert_inert(path)
    partnerships = pd.read_csv(hostile_tiny / "internal" / "partnerships.csv", dtype=str)
    assert "'=HYPERLINK(\"http://example.com/x\",\"click\")" in set(partnerships["barriers_other"])


def test_run__script_in_an_answer__is_escaped_in_every_html_output(hostile_tiny):
    pages = sorted(hostile_tiny.rglob("*.html"))
    assert pages
    for page in pages:
        assert SCRIPT not in page.read_text(encoding="utf-8"), page.name


@pytest.fixture(scope="module")
def hostile_sample(tmp_path_factory) -> Path:
    """The sample wave with scripts, formulas and contact details typed into open answers."""
    root = tmp_path_factory.mktemp("hostile_sample")
    wave = sample_copy(root)
    export = wave / "pulse_check_2016_qualtrics.csv"
    with open(export, newline="", encoding="utf-8-sig") as handle:
        records = list(csv.reader(handle))
    names = records[0]
    planted = [SCRIPT, FORMULAS[0], "ask jo.bloggs@example.org or +1 (555) 123-4567"]
    for column in ("barriers_other", "momentum_other"):
        position = names.index(column)
        for offset, record in enumerate(records[3:40]):
            if record[position].strip():
                record[position] = planted[offset % len(planted)]
    with open(export, "w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(records)
    write_checksums(wave, [export.name])
    out = root / "out"
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    return out


@pytest.mark.slow
def test_sample_run__hostile_open_answers__never_run_as_script_or_formula(hostile_sample):
    for page in hostile_sample.rglob("*.html"):
        assert SCRIPT not in page.read_text(encoding="utf-8"), page.name
    for path in hostile_sample.rglob("*.csv"):
        _assert_inert(path)
    with zipfile.ZipFile(hostile_sample / "published" / "tables.xlsx") as book:
        for name in book.namelist():
            part = book.read(name).decode("utf-8")
            assert "<f>" not in part and "<f " not in part, name
            assert SCRIPT not in part


@pytest.mark.slow
def test_sample_run__contact_details_typed_in_open_answers__do_not_reach_shared_reports(
        hostile_sample):
    shared = [p for p in hostile_sample.rglob("*") if p.suffix in (".html", ".json", ".xlsx")
              and p.name != "run.json"]
    for path in shared:
        data = path.read_bytes()
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                data = b"".join(book.read(n) for n in book.namelist())
        assert b"jo.bloggs@example.org" not in data and b"123-4567" not in data, path.name


@pytest.mark.slow
def test_sample_run__no_html_output__loads_anything_remote(sample_run_dir):
    pages = sorted(sample_run_dir.rglob("*.html"))
    assert pages
    remote = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//"""
                        r"""|url\(\s*["']?\s*(?:https?:)?//"""
                        r"""|@import\s+["']?(?:https?:)?//""", re.IGNORECASE)
    for page in pages:
        found = remote.findall(page.read_text(encoding="utf-8"))
        assert not found, f"{page.name}: {found[:3]}"


# --- personal questions in pulsecheck ingest ------------------------------------------------

def test_ingest__personal_questions__are_left_out_unless_kept(tmp_path):
    wave = make_project(tmp_path, tiny_rows())
    args = ["ingest", str(wave / "export.csv"), "--instrument", str(tmp_path / "instrument"),
            "--source", "csv"]
    assert CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "a")]).exit_code == 0
    assert CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "b"),
                                    "--keep-personal"]).exit_code == 0
    assert "email" not in pd.read_csv(tmp_path / "a" / "responses.csv").columns
    assert "a@example.org" not in (tmp_path / "a" / "responses.csv").read_text()
    assert "email" in pd.read_csv(tmp_path / "b" / "responses.csv").columns


# --- raw files are only read ------------------------------------------------------------------

def test_run__raw_files__are_opened_read_only_and_left_unchanged(tmp_path):
    wave = make_project(tmp_path, tiny_rows())
    raw_files = sorted(p for p in wave.iterdir() if p.is_file())
    before = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
              for p in raw_files}
    opened: list[tuple[str, str]] = []
    watching = [True]

    def audit(event: str, args: tuple) -> None:
        # Every open() in the process is audited; only the raw folder's files are recorded.
        if watching[0] and event == "open" and args and isinstance(args[0], (str, Path)) \
                and str(args[0]).startswith(str(wave)):
            opened.append((str(args[0]), str(args[1])))

    sys.addaudithook(audit)
    for path in [wave, *raw_files]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(tmp_path / "out")])
    finally:
        watching[0] = False
        for path in [wave, *raw_files]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert result.exit_code == 0, result.output
    assert opened, "the audit hook saw no raw file being opened"
    writable = [(path, mode) for path, mode in opened if set(mode) & set("wax+")]
    assert not writable
    assert before == {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
                      for p in raw_files}
