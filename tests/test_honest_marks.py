"""Every mark of a hidden cell tells the truth: "<5" or "too few" only where the count is
below the threshold, in every file of every wave and of the trends (acceptance of the
honest-marks rule, A-DISC-1).

The oracle is independent of the code under test: it reads the true counts in ``internal/``
and the rendered files as a reader gets them (CSV display columns, workbooks read with
calamine, HTML text, PDF text through ``pdftotext`` or pypdf, notebooks).
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from conftest import PROJECT

WAVES = ("2014", "2016", "2018")
#: Words that say a count is small; never true of a cell hidden only to protect another.
SMALL_WORDS = re.compile(r"too few|based on few", re.I)


@pytest.fixture(scope="module")
def waves_run(tmp_path_factory) -> Path:
    """``pulsecheck run raw/pulse_check`` once (or the folder named by PULSECHECK_MARKS_RUN)."""
    given = os.environ.get("PULSECHECK_MARKS_RUN")
    if given:
        return Path(given)
    from click.testing import CliRunner

    from pipeline.cli.main import cli

    out = tmp_path_factory.mktemp("marks") / "out"
    result = CliRunner().invoke(cli, ["run", str(PROJECT / "raw" / "pulse_check"),
                                      "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    return out


def _threshold(wave: str) -> int:
    spec = PROJECT / "survey_instrument" / "pulse_check" / wave / "tables.toml"
    return int(tomllib.loads(spec.read_text(encoding="utf-8"))["settings"]
               ["disclosure_threshold"])


def _small_mark(text: str, threshold: int) -> bool:
    return bool(re.search(rf"<\s*{threshold}(?!\d)", text))


def _true_counts(folder: Path) -> dict[tuple[str, str, str], float]:
    counts = {}
    for path in (folder / "internal" / "tables").glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if not {"table_id", "row_level", "col_level", "n"} <= set(frame.columns):
            continue
        for row in frame.itertuples(index=False):
            if row.n != "":
                counts[(row.table_id, row.row_level, row.col_level)] = float(row.n)
    return counts


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext"):
        done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                              check=True, text=True)
        return done.stdout
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def _html_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r'src="data:[^"]*"', "", text)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", text))


def _sheet_strings(path: Path) -> dict[str, list[list[str]]]:
    frames = pd.read_excel(path, sheet_name=None, header=None, engine="calamine",
                           dtype=str)
    return {name: frame.fillna("").values.tolist() for name, frame in frames.items()}


def _documents(folder: Path) -> dict[str, str]:
    """Every document of a run folder as a reader sees its text."""
    texts = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.suffix == ".html":
            texts[name] = _html_text(path)
        elif path.suffix == ".pdf":
            texts[name] = _pdf_text(path)
        elif path.suffix == ".ipynb":
            notebook = json.loads(path.read_text(encoding="utf-8"))
            texts[name] = "\n".join(
                "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                + html_lib.unescape(re.sub(r"<[^>]+>", " ", "".join(
                    o.get("data", {}).get("text/html", ""))))
                for cell in notebook["cells"] for o in cell.get("outputs", []))
    return texts


@pytest.mark.slow
@pytest.mark.parametrize("wave", WAVES)
def test_csv_display_columns__mark_below_threshold_only_where_the_count_is(waves_run, wave):
    folder = waves_run / f"pulse_check-{wave}"
    threshold = _threshold(wave)
    truth = _true_counts(folder)
    checked, lies = 0, []
    for path in sorted(folder.rglob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if not {"n_display", "table_id", "row_level", "col_level"} <= set(frame.columns):
            continue
        for row in frame.itertuples(index=False):
            for shown in (row.n_display, getattr(row, "pct_display", "")):
                if not _small_mark(shown, threshold):
                    continue
                checked += 1
                n = truth[(row.table_id, row.row_level, row.col_level)]
                if not 0 <= n < threshold:
                    lies.append((path.name, row.row_level, row.col_level, n))
    assert checked > 0, "no small-count mark at all: nothing was checked"
    assert lies == [], lies[:10]


@pytest.mark.slow
@pytest.mark.parametrize("wave", WAVES)
def test_wave_documents__say_small_only_of_cells_below_the_threshold(waves_run, wave):
    """Published documents mark every hidden cell alike (A-DISC-1), so a wave's workbook,
    summary, pages and notebooks never say a count is small: a hidden cell may hold 29."""
    folder = waves_run / f"pulse_check-{wave}"
    threshold = _threshold(wave)
    texts = _documents(folder)
    assert any(name.startswith("published/funder_summary") for name in texts)
    for sheet, rows in _sheet_strings(folder / "published" / "tables.xlsx").items():
        texts[f"tables.xlsx:{sheet}"] = "\n".join(" ".join(r) for r in rows)
    said = {name: SMALL_WORDS.findall(text) for name, text in texts.items()}
    assert {k: v for k, v in said.items() if v} == {}
    marks = {name: len(re.findall(rf"<\s*{threshold}(?!\d)", text))
             for name, text in texts.items() if not name.startswith("internal/")}
    assert {k: v for k, v in marks.items() if v} == {}


@pytest.mark.slow
def test_trends_documents__mark_below_threshold_only_the_transition_counts_below_it(
        waves_run):
    folder = waves_run / "pulse_check-trends"
    threshold = min(_threshold(w) for w in WAVES)
    transitions = pd.read_csv(folder / "internal" / "transitions.csv")
    small = int(((transitions["count"] > 0) & (transitions["count"] < threshold)).sum())
    assert small > 0
    texts = _documents(folder)
    said = {name: SMALL_WORDS.findall(text) for name, text in texts.items()}
    assert {k: v for k, v in said.items() if v} == {}
    summary = (folder / "published" / "trends_summary.html").read_text(encoding="utf-8")
    section = summary.split('id="transitions"', 1)[1].split("</section>", 1)[0]
    outside = summary.replace(section, "")
    assert not _small_mark(html_lib.unescape(_html_text_of(outside)), threshold)
    cells = [html_lib.unescape(c) for c in re.findall(r'<td class="num">([^<]*)</td>',
                                                      section)]
    assert len(cells) == len(transitions)
    for shown, true in zip(cells, transitions["count"], strict=True):
        assert (shown == f"<{threshold}") == (0 < true < threshold), (shown, true)
    for sheet, rows in _sheet_strings(folder / "published" / "trends.xlsx").items():
        # A mark is a cell's whole value; a legend ("counts below 5 shown as <5") is not.
        marked = [r for r in rows if any(v.strip() == f"<{threshold}" for v in r)]
        if sheet == "Transitions":
            assert len(marked) == small
        else:
            assert marked == [], (sheet, marked[:3])


def _html_text_of(text: str) -> str:
    text = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", text, flags=re.S)
    return re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]*"', "", text))


@pytest.mark.slow
@pytest.mark.parametrize("wave", ("2016", "2018"))
def test_wave_tables__never_print_two_small_marks_that_add_up_to_a_large_base(waves_run,
                                                                             wave):
    """A column cannot say "<5" twice where its base is 32: the marks would contradict it."""
    folder = waves_run / f"pulse_check-{wave}"
    threshold = _threshold(wave)
    contradictions = []
    for path in sorted((folder / "internal" / "tables").glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "n_display" not in frame or frame["table_type"].iloc[0] != "single":
            continue
        body = frame[frame["row_type"] == "level"]
        for column, cells in body.groupby("col_level"):
            shown = [int(v) for v in cells["n_display"] if v.isdigit()]
            small = sum(_small_mark(v, threshold) for v in cells["n_display"])
            other = len(cells) - len(shown) - small
            base = int(float(cells["base_n"].iloc[0]))
            if small and not other and sum(shown) + small * (threshold - 1) < base:
                contradictions.append((path.name, column, base))
    assert contradictions == []
