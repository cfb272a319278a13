"""Both workbooks of an all-waves run as a reader gets them: intervals as numbers in their
own cells, significance letters in their own column, every hidden cell shown by its mark and
never by a number (in tables.xlsx, and in trends.xlsx for the cells the wave tables hid),
charts in the funder charts' phase colours with error bars, printing fit to one page wide.
The run is made once for the module (or read from PULSECHECK_WORKBOOK_RUN)."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from conftest import PROJECT

WAVES = ("2014", "2016", "2018")
#: Okabe & Ito's blue, orange and bluish green: the phases' colours in the funder charts,
#: after the dark slate of the overall column.
PHASE_HEX = ["0072B2", "E69F00", "009E73"]
OVERALL_HEX = "3E4C59"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    given = os.environ.get("PULSECHECK_WORKBOOK_RUN")
    if given:
        return Path(given)
    from click.testing import CliRunner

    from pipeline.cli.main import cli

    out = tmp_path_factory.mktemp("books")
    result = CliRunner().invoke(cli, ["run", str(PROJECT / "raw" / "pulse_check"), "--out",
                                      str(out), "--no-notebook"])
    assert result.exit_code in (0, 1), result.output
    return out


def _sheet(path: Path, name: str) -> list[list[object]]:
    """A sheet as rows of values (read with calamine): numbers as floats, blanks as None."""
    frame = pd.read_excel(path, sheet_name=name, header=None, engine="calamine",
                          keep_default_na=False, na_values=[""])
    return frame.astype(object).where(frame.notna(), None).values.tolist()


def _published_tables(run: Path, wave: str) -> dict[str, pd.DataFrame]:
    folder = run / f"pulse_check-{wave}" / "published" / "tables"
    return {p.stem: pd.read_csv(p, keep_default_na=False, na_values=[""])
            for p in sorted(folder.glob("*.csv")) if p.stem != "tests"}


def _frequency_cells(rows, table: pd.DataFrame):
    """(row label, column) → the five cells n, %, lower, upper, letters of the sheet."""
    header, sub = rows[3], rows[4]
    starts = {}
    for j, value in enumerate(header):
        if isinstance(value, str) and value:
            starts[re.sub(r" \([A-Z]\)$", "", value)] = j
    out = {}
    for row in rows[5:]:
        if not isinstance(row[0], str) or row[0].startswith("Base"):
            break
        for column, j in starts.items():
            out[(row[0], column)] = row[j:j + 5]
    return out, sub


@pytest.mark.slow
@pytest.mark.parametrize("wave", WAVES)
def test_tables_workbook__intervals_are_numbers_and_letters_have_their_own_column(run, wave):
    path = run / f"pulse_check-{wave}" / "published" / "tables.xlsx"
    checked = 0
    for table_id, table in _published_tables(run, wave).items():
        if table["table_type"].iloc[0] == "numeric":
            continue
        cells, sub = _frequency_cells(_sheet(path, table_id[:31]), table)
        assert sub[1:5] == ["n", "%", "95% CI lower", "95% CI upper"], table_id
        body = table[table["row_type"].isin(["level", "item"])]
        for cell in body.itertuples():
            shown = cells[(cell.row_label, cell.col_level)]
            if bool(cell.suppressed):
                continue
            assert shown[2] == pytest.approx(cell.ci_low) and \
                shown[3] == pytest.approx(cell.ci_high), (table_id, cell.row_label)
            letters = cell.sig_letters if isinstance(cell.sig_letters, str) else None
            if len(shown) == 5 and sub[5:6] == ["higher than"]:
                assert shown[4] == letters, (table_id, cell.row_label, cell.col_level)
            checked += 1
    assert checked > 50


@pytest.mark.slow
@pytest.mark.parametrize("wave", WAVES)
def test_tables_workbook__a_hidden_cell_shows_its_mark_and_no_number(run, wave):
    path = run / f"pulse_check-{wave}" / "published" / "tables.xlsx"
    hidden = 0
    for table_id, table in _published_tables(run, wave).items():
        if table["table_type"].iloc[0] == "numeric":
            continue
        cells, _ = _frequency_cells(_sheet(path, table_id[:31]), table)
        body = table[table["row_type"].isin(["level", "item"]) & table["suppressed"]]
        for cell in body.itertuples():
            shown = cells[(cell.row_label, cell.col_level)]
            assert [str(shown[0]), str(shown[1])] == [str(cell.n_display),
                                                      str(cell.pct_display)]
            assert not any(isinstance(v, (int, float)) for v in shown), (table_id, shown)
            hidden += 1
    if wave != "2014":
        assert hidden > 0


@pytest.mark.slow
def test_tables_workbook__charts_use_the_phase_colours_in_phase_order_with_error_bars(run):
    path = run / "pulse_check-2016" / "published" / "tables.xlsx"
    with zipfile.ZipFile(path) as book:
        charts = [book.read(n).decode() for n in sorted(book.namelist())
                  if n.startswith("xl/charts/chart")]
    by_phase = [c for c in charts if c.count("<c:ser>") == 4]
    assert by_phase
    for chart in by_phase:
        colours = re.findall(r'<c:spPr><a:solidFill><a:srgbClr val="([0-9A-F]{6})"', chart)
        assert colours[:4] == [OVERALL_HEX, *PHASE_HEX]
        assert chart.count("<c:errBars>") == 4
        # Each bar's interval is read from the sheet's error-bar block, not typed in.
        assert chart.count("<c:plus><c:numRef>") == 4 and \
            chart.count("<c:minus><c:numRef>") == 4
    names = re.findall(r"<c:tx><c:strRef><c:f>[^<]*</c:f><c:strCache><c:ptCount val=\"1\"/>"
                       r"<c:pt idx=\"0\"><c:v>([^<]*)</c:v>", by_phase[0])
    assert names in ([], ["All", "Earlier", "Middle", "Later"])


@pytest.mark.slow
@pytest.mark.parametrize("book", ["pulse_check-2016/published/tables.xlsx",
                                  "pulse_check-trends/published/trends.xlsx"])
def test_workbooks__print_one_page_wide(run, book):
    with zipfile.ZipFile(run / book) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist()
                  if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
    printed = [s for s in sheets if "<pageSetup" in s and "fitToPage" in s]
    assert len(printed) >= len(sheets) - 4
    for sheet in printed:
        assert 'fitToHeight="0"' in sheet and 'fitToWidth' not in sheet.replace(
            'fitToWidth="1"', "")


@pytest.mark.slow
def test_trends_workbook__intervals_are_numbers_in_their_own_cells(run):
    path = run / "pulse_check-trends" / "published" / "trends.xlsx"
    rows = _sheet(path, "Barriers")
    assert rows[4][2:8] == ["n", "base", "%", "95% CI lower", "95% CI upper", "note"]
    trends = pd.read_csv(run / "pulse_check-trends" / "published" / "trends.csv",
                         dtype={"wave": str})
    shown = trends[(trends["family"] == "Barriers") & ~trends["suppressed"]]
    table = []
    for r in rows[5:]:
        if r[0] is None:  # the blank row before the tests of change
            break
        table.append(r)
    first = {r[0]: r for r in table if r[1] == "All"}
    for row in shown[shown["phase"] == "All"].itertuples():
        cells = first[row.label]
        j = 2 + 6 * sorted(trends["wave"].unique()).index(row.wave)
        assert cells[j + 3] == pytest.approx(row.ci_low)
        assert cells[j + 4] == pytest.approx(row.ci_high)


@pytest.mark.slow
def test_trends_workbook__never_prints_a_number_for_a_cell_the_wave_tables_hid(run):
    """A share of trends.xlsx that counts a cell hidden in a wave's own published table is
    shown without n, % or interval (otherwise the two files together give the cell away)."""
    trends = pd.read_csv(run / "pulse_check-trends" / "internal" / "trends.csv",
                         dtype={"wave": str}, keep_default_na=False, na_values=[""])
    hidden = set()
    for wave in WAVES:
        for table in _published_tables(run, wave).values():
            if "suppressed" not in table or "row_level" not in table:
                continue  # a numeric summary: no share of it is trended
            for cell in table[table["suppressed"]].itertuples():
                hidden.add((wave, str(cell.row_var), str(cell.row_level), str(cell.col_level)))
    exposed = [r for r in trends.itertuples()
               if any((r.wave, r.question, c, r.phase) in hidden for c in str(r.choices).split())]
    assert exposed, "the sample has trend shares built on hidden wave cells"
    path = run / "pulse_check-trends" / "published" / "trends.xlsx"
    waves = sorted(trends["wave"].unique())
    checked = 0
    for family in trends["family"].unique():
        rows = _sheet(path, str(family)[:31])
        for r in (e for e in exposed if e.family == family):
            line = next(x for x in rows[5:] if x[0] == r.label and x[1] == r.phase)
            j = 2 + 6 * waves.index(r.wave)
            cells = [line[j], line[j + 2], line[j + 3], line[j + 4]]
            assert not any(isinstance(v, (int, float)) for v in cells), (r.measure, r.wave,
                                                                          r.phase, cells)
            checked += 1
    assert checked == len(exposed)
