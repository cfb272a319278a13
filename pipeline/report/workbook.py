"""Render the report tables as an Excel workbook people can read without any code.

One sheet per table (title, what the numbers are, a two-row header with frozen panes, the
levels or items with n, % and the interval (at the configured level) per column, the base,
the tests and the footnotes, then a bar chart of the percentages with the numbers it plots)
and a contents sheet that links to each. Small cells are shown as the disclosure
rule displays them; the analyst's unsuppressed numbers are in ``internal/tables/*.csv``.

The file is byte-identical on every run: its document properties carry a fixed date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_range_formula

from pipeline.model.report_spec import ReportSpec
from pipeline.report.content import level_text
from pipeline.stages.results import ReportTables

_SHEET_NAME_LIMIT = 31
_NUMERIC_LABELS = {"mean": "Mean", "median": "Median", "q25": "25th percentile",
                   "q75": "75th percentile", "min": "Minimum", "max": "Maximum",
                   "sd": "Standard deviation"}


def _sheet_name(table_id: str, used: set[str]) -> str:
    name = table_id[:_SHEET_NAME_LIMIT]
    suffix = 2
    while name in used:
        tail = f"~{suffix}"
        name = table_id[:_SHEET_NAME_LIMIT - len(tail)] + tail
        suffix += 1
    used.add(name)
    return name


def _formats(book: xlsxwriter.Workbook) -> dict:
    base = {"font_name": "Arial", "font_size": 10, "valign": "top"}
    return {
        "title": book.add_format({**base, "bold": True, "font_size": 14}),
        "subtitle": book.add_format({**base, "italic": True, "font_color": "#52606D"}),
        "head": book.add_format({**base, "bold": True, "bg_color": "#E4E7EB", "border": 1,
                                 "align": "center", "text_wrap": True}),
        "head_left": book.add_format({**base, "bold": True, "bg_color": "#E4E7EB",
                                      "border": 1, "text_wrap": True}),
        "label": book.add_format({**base, "text_wrap": True}),
        "label_bold": book.add_format({**base, "bold": True}),
        "count": book.add_format({**base, "num_format": "0", "align": "right"}),
        "pct": book.add_format({**base, "num_format": "0.0", "align": "right"}),
        "number": book.add_format({**base, "num_format": "0.0", "align": "right"}),
        "text_right": book.add_format({**base, "align": "right"}),
        "ci": book.add_format({**base, "font_color": "#52606D", "align": "right"}),
        "note": book.add_format({**base, "font_color": "#52606D", "text_wrap": True}),
        "p": book.add_format({**base, "num_format": "0.0000", "align": "right"}),
        "link": book.add_format({**base, "font_color": "#0B5FA5", "underline": 1}),
    }


def _cell_value(row: pd.Series, column: str, display: str):
    """The number, or the disclosure display text when the cell is suppressed."""
    if bool(row.get("suppressed", False)):
        return row.get(display, "")
    value = row.get(column)
    return None if pd.isna(value) else float(value)


#: How the pairwise adjustment of a table is named under its significance letters.
_PAIRWISE_TEXT = {"holm": "Holm-adjusted", "bonferroni": "Bonferroni-adjusted",
                  "bh": "Benjamini–Hochberg-adjusted", "none": "not adjusted for multiple "
                  "comparisons"}


def _write_header(sheet, f: dict, start: int, left: Sequence[str],
                  groups: Sequence[tuple[str, Sequence[str]]]) -> int:
    """The two-row header of a table: the row-label columns (``left``, each merged over both
    rows), then per group (a column of the table, or a wave) its heading merged over its
    sub-columns. Returns the first column after the left ones; every table of both workbooks
    writes its header here."""
    for position, text in enumerate(left):
        sheet.merge_range(start, position, start + 1, position, text, f["head_left"])
    first = len(left)
    column = first
    for heading, subheads in groups:
        if len(subheads) > 1:
            sheet.merge_range(start, column, start, column + len(subheads) - 1, heading,
                              f["head"])
        else:
            sheet.write(start, column, heading, f["head"])
        for offset, text in enumerate(subheads):
            sheet.write(start + 1, column + offset, text, f["head"])
        column += len(subheads)
    return first


def _write_estimate(sheet, f: dict, row: int, first: int, count, pct, low, high) -> None:
    """n, % and the interval's lower and upper bounds in their own cells.

    ``count`` and ``pct`` are numbers, or the disclosure mark of a hidden cell (written as
    text); a hidden cell's bounds are left blank, so no number is ever shown for it.
    """
    for offset, value, fmt in ((0, count, "count"), (1, pct, "pct")):
        if isinstance(value, float):
            sheet.write_number(row, first + offset, value, f[fmt])
        elif value is not None and str(value) != "":
            sheet.write_string(row, first + offset, str(value), f["text_right"])
    if isinstance(pct, float) and low is not None and high is not None \
            and pd.notna(low) and pd.notna(high):
        sheet.write_number(row, first + 2, float(low), f["pct"])
        sheet.write_number(row, first + 3, float(high), f["pct"])


def _frequency_subheads(level: float, letters: bool) -> tuple[str, ...]:
    bounds = (f"{level_text(level)} CI lower", f"{level_text(level)} CI upper")
    return ("n", "%", *bounds, *(("higher than",) if letters else ()))


def _write_frequency(sheet, f: dict, table: pd.DataFrame, columns: Sequence[str],
                     start: int, level: float, letters: bool = False) -> int:
    """Levels or items × columns: n, %, interval bounds (and significance letters) each;
    returns the next free row."""
    subheads = _frequency_subheads(level, letters)
    width = len(subheads)
    groups = []
    for column in columns:
        letter = table.loc[table["col_level"] == column, "col_letter"].dropna()
        groups.append((column if letter.empty or not letter.iloc[0] else
                       f"{column} ({letter.iloc[0]})", subheads))
    _write_header(sheet, f, start, [""], groups)
    row_index = start + 2
    body = table[table["row_type"].isin(["level", "item", "net", "missing"])]
    order = list(dict.fromkeys(body["row_level"]))
    for row_level in order:
        cells = body[body["row_level"] == row_level].set_index("col_level")
        sheet.write(row_index, 0, cells["row_label"].iloc[0], f["label"])
        for position, column in enumerate(columns):
            if column not in cells.index:
                continue
            cell = cells.loc[column]
            first = 1 + width * position
            hidden = bool(cell.get("suppressed", False))
            _write_estimate(sheet, f, row_index, first, _cell_value(cell, "n", "n_display"),
                            _cell_value(cell, "pct", "pct_display"),
                            None if hidden else cell.get("ci_low"),
                            None if hidden else cell.get("ci_high"))
            found = cell.get("sig_letters")
            if letters and not hidden and isinstance(found, str) and found:
                sheet.write_string(row_index, first + 4, found, f["text_right"])
        row_index += 1
    bases = table.drop_duplicates("col_level").set_index("col_level")["base_n"]
    respondents = table[table["row_type"] == "respondents"].set_index("col_level")
    sheet.write(row_index, 0, "Base (partnerships)", f["label_bold"])
    for position, column in enumerate(columns):
        source = respondents["n"] if not respondents.empty else bases
        if column in source.index and pd.notna(source.loc[column]):
            sheet.write(row_index, 1 + width * position, float(source.loc[column]),
                        f["count"])
    mentions = table[table["row_type"] == "mentions"].set_index("col_level")
    if not mentions.empty:
        row_index += 1
        sheet.write(row_index, 0, "Mentions (ticks)", f["label"])
        for position, column in enumerate(columns):
            if column in mentions.index:
                value = _cell_value(mentions.loc[column], "n", "n_display")
                sheet.write(row_index, 1 + width * position, value,
                            f["count"] if isinstance(value, float) else f["text_right"])
    sheet.set_column(0, 0, 46)
    sheet.set_column(1, width * len(columns), 8)
    return row_index + 2


def _chart_rows(table: pd.DataFrame) -> list[str]:
    """The levels or items a chart shows, in the sheet's order (no nets, no missing row)."""
    body = table[table["row_type"].isin(["level", "item"])]
    return list(dict.fromkeys(body["row_level"]))


def _write_chart(book: xlsxwriter.Workbook, sheet, name: str, f: dict, table: pd.DataFrame,
                 columns: Sequence[str], start: int,
                 colours: Sequence[str] | None = None) -> int:
    """A bar chart of the percentages of every shown column, with the data it plots.

    The chart reads a block of plain numbers written under the table: a hidden (suppressed)
    percentage is a blank cell there, drawn as a gap, never as zero. Returns the next free
    row below the chart.
    """
    levels = _chart_rows(table)
    if not levels:
        return start
    sheet.write(start, 0, "Chart data: % (blank where a count is hidden)", f["head_left"])
    for position, column in enumerate(columns):
        sheet.write(start, 1 + position, column, f["head"])
    first = start + 1
    for offset, level in enumerate(levels):
        cells = table[table["row_level"] == level].set_index("col_level")
        sheet.write(first + offset, 0, cells["row_label"].iloc[0], f["label"])
        for position, column in enumerate(columns):
            if column not in cells.index:
                continue
            pct = _cell_value(cells.loc[column], "pct", "pct_display")
            if isinstance(pct, float):
                sheet.write_number(first + offset, 1 + position, pct, f["pct"])
    last = first + len(levels) - 1
    # The interval as error bars: how far below and above each percentage its bounds lie,
    # in a block of their own under the chart data (blank where the cell is hidden).
    errors = last + 2
    sheet.write(errors, 0, "Chart error bars: points below / above the % (the interval)",
                f["head_left"])
    for position, column in enumerate(columns):
        sheet.write(errors, 1 + 2 * position, f"{column} below", f["head"])
        sheet.write(errors, 2 + 2 * position, f"{column} above", f["head"])
    for offset, level in enumerate(levels):
        cells = table[table["row_level"] == level].set_index("col_level")
        sheet.write(errors + 1 + offset, 0, cells["row_label"].iloc[0], f["label"])
        for position, column in enumerate(columns):
            if column not in cells.index:
                continue
            cell = cells.loc[column]
            pct = _cell_value(cell, "pct", "pct_display")
            if isinstance(pct, float) and pd.notna(cell.get("ci_low")) \
                    and pd.notna(cell.get("ci_high")):
                sheet.write_number(errors + 1 + offset, 1 + 2 * position,
                                   max(pct - float(cell["ci_low"]), 0.0), f["pct"])
                sheet.write_number(errors + 1 + offset, 2 + 2 * position,
                                   max(float(cell["ci_high"]) - pct, 0.0), f["pct"])
    bottom = errors + len(levels)
    chart = book.add_chart({"type": "bar"})
    for position, column in enumerate(columns):
        # Custom error bars take a range as a formula (a list would be read as values).
        below = "=" + xl_range_formula(name, errors + 1, 1 + 2 * position, bottom,
                                       1 + 2 * position)
        above = "=" + xl_range_formula(name, errors + 1, 2 + 2 * position, bottom,
                                       2 + 2 * position)
        chart.add_series({
            "name": [name, start, 1 + position],
            "categories": [name, first, 0, last, 0],
            "values": [name, first, 1 + position, last, 1 + position],
            "fill": {"color": colours[position] if colours else
                     _column_colour(column, columns)},
            "border": {"none": True},
            "x_error_bars": {"type": "custom", "plus_values": above, "minus_values": below,
                             "end_style": 1, "line": {"color": "#1F2933", "width": 1}},
        })
    chart.set_x_axis({"name": "% of partnerships", "min": 0, "max": 100,
                      "major_gridlines": {"visible": True, "line": {"color": "#D9E2EC"}}})
    # Categories top to bottom in the sheet's order; with the axis reversed the bars of a
    # category run top to bottom in column order too, and a legend at the top lists the
    # columns left to right in that same order (overall, then the phases in phase order).
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "top" if len(columns) > 1 else "none"})
    chart.show_blanks_as("gap")
    height = max(260, 28 * len(levels) * max(1, (len(columns) + 1) // 2) + 90)
    chart.set_size({"width": 760, "height": height})
    chart.set_title({"none": True})
    sheet.insert_chart(bottom + 2, 0, chart)
    return bottom + 2 + int(height / 20) + 2


def _column_colour(column: str, columns: Sequence[str]) -> str:
    """The colour of a table column in a chart: the funder charts' colour of its phase (by
    place in the phase order), the overall colour for the first column when phases follow it
    or when it is alone."""
    from pipeline.report.charts import OVERALL_COLOUR, group_colour

    phases = list(columns[1:])
    if column in phases:
        return group_colour(phases.index(column))
    return OVERALL_COLOUR if phases else group_colour(0)


def _write_numeric(sheet, f: dict, table: pd.DataFrame, columns: Sequence[str],
                   start: int, level: float) -> int:
    bounds = (f"{level_text(level)} CI lower", f"{level_text(level)} CI upper")
    _write_header(sheet, f, start, [""], [(c, ("value", *bounds)) for c in columns])
    row_index = start + 2
    for stat in list(dict.fromkeys(table["stat"])):
        cells = table[table["stat"] == stat].set_index("col_level")
        sheet.write(row_index, 0, _NUMERIC_LABELS.get(stat, stat), f["label"])
        for position, column in enumerate(columns):
            if column not in cells.index:
                continue
            cell = cells.loc[column]
            first = 1 + 3 * position
            if bool(cell.get("suppressed", False)):
                sheet.write(row_index, first, cell.get("n_display", ""), f["text_right"])
                continue
            if pd.notna(cell["value"]):
                sheet.write(row_index, first, float(cell["value"]), f["number"])
            if pd.notna(cell.get("ci_low")) and pd.notna(cell.get("ci_high")):
                sheet.write_number(row_index, first + 1, float(cell["ci_low"]), f["number"])
                sheet.write_number(row_index, first + 2, float(cell["ci_high"]), f["number"])
        row_index += 1
    sheet.write(row_index, 0, "Base (partnerships with an answer)", f["label_bold"])
    counts = table.drop_duplicates("col_level").set_index("col_level")["n"]
    for position, column in enumerate(columns):
        if column in counts.index and pd.notna(counts.loc[column]):
            sheet.write(row_index, 1 + 3 * position, float(counts.loc[column]), f["count"])
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, 3 * len(columns), 10)
    return row_index + 2


def _write_tests(sheet, f: dict, tests: pd.DataFrame, start: int) -> int:
    if tests.empty:
        return start
    sheet.write(start, 0, "Tests of association with phase", f["label_bold"])
    headers = ("Row", "Test", "Statistic", "df", "p-value", "Warnings")
    for offset, text in enumerate(headers):
        sheet.write(start + 1, offset, text, f["head_left"])
    row_index = start + 2
    for test in tests.itertuples(index=False):
        level = test.row_level if isinstance(test.row_level, str) else "whole table"
        sheet.write(row_index, 0, level, f["label"])
        sheet.write(row_index, 1, test.method, f["label"])
        for offset, value, fmt in ((2, test.statistic, "number"), (3, test.df, "number"),
                                   (4, test.p_value, "p")):
            if pd.notna(value):
                sheet.write(row_index, offset, float(value), f[fmt])
        if isinstance(test.warnings, str) and test.warnings:
            sheet.write(row_index, 5, test.warnings, f["note"])
        row_index += 1
    return row_index + 1


def write_workbook(path: Path, tables: ReportTables, protected: Mapping[str, pd.DataFrame],
                   spec: ReportSpec, *, title: str, columns: Sequence[str],
                   notes: Sequence[str], created: dt.datetime,
                   symbol: str | None = None) -> None:
    """Write ``tables.xlsx``.

    Parameters
    ----------
    path : Path
        Where to write.
    tables : ReportTables
        The computed tables and tests.
    protected : mapping
        Table id → the table after :func:`pipeline.stats.disclosure.suppress_table`.
    spec : ReportSpec
        For titles, sections and footnotes.
    title : str
        Shown on the contents sheet.
    columns : sequence of str
        The column levels in display order (``All`` then the phases).
    notes : sequence of str
        General notes for the contents sheet (method, suppression, phase basis, data).
    created : datetime
        Fixed document date, so reruns are byte-identical.
    symbol : str, optional
        The mark of a hidden cell (default ``<k``, k the threshold), explained under every
        table.
    """
    symbol = symbol or f"<{spec.disclosure_threshold}"
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                           "strings_to_urls": False})
    book.set_properties({"title": title, "author": "pulsecheck", "created": created,
                         "comments": "Generated by pulsecheck"})
    f = _formats(book)
    contents = book.add_worksheet("Contents")
    used = {"Contents"}
    contents.write(0, 0, title, f["title"])
    row_index = 2
    for note in notes:
        contents.merge_range(row_index, 0, row_index, 2, note, f["note"])
        contents.set_row(row_index, 28)
        row_index += 1
    row_index += 1
    for offset, text in enumerate(("Section", "Sheet", "Table")):
        contents.write(row_index, offset, text, f["head_left"])
    contents.freeze_panes(row_index + 1, 0)
    row_index += 1
    contents.set_column(0, 0, 24)
    contents.set_column(1, 1, 28)
    contents.set_column(2, 2, 70)
    contents.set_paper(9)
    contents.fit_to_pages(1, 0)  # one page wide when printed, as the table sheets
    for report in tables.tables:
        name = _sheet_name(report.spec.id, used)
        contents.write(row_index, 0, report.spec.section, f["label"])
        contents.write_url(row_index, 1, f"internal:'{name}'!A1", f["link"], name)
        contents.write(row_index, 2, report.spec.title, f["label"])
        row_index += 1

        sheet = book.add_worksheet(name)
        sheet.write(0, 0, report.spec.title, f["title"])
        shown = [c for c in columns if report.spec.by_phase or c == columns[0]]
        table = protected[report.spec.id]
        if report.spec.kind == "numeric":
            sheet.write(1, 0, f"Mean ({level_text(spec.level)} t interval), median and "
                        "quartiles; by phase where shown.", f["subtitle"])
            next_row = _write_numeric(sheet, f, table, shown, 3, spec.level)
        else:
            method = table["ci_method"].dropna()
            method_text = method.iloc[0] if not method.empty else spec.ci_method
            base = "partnerships that answered" if report.spec.kind == "multi" else \
                "partnerships with an answer"
            letters = "" if not report.spec.by_phase or len(shown) < 2 else (
                " Letters in the column 'higher than' name the phase columns this one is "
                f"significantly higher than ({_PAIRWISE_TEXT[report.spec.pairwise]}, "
                f"at {level_text(report.spec.pairwise_alpha)}).")
            sheet.write(1, 0, f"Percent of {base}, with {level_text(spec.level)} intervals "
                        f"({method_text}).{letters}", f["subtitle"])
            next_row = _write_frequency(sheet, f, table, shown, 3, spec.level,
                                        letters=bool(letters))
        sheet.freeze_panes(5, 1)
        next_row = _write_tests(sheet, f, report.tests, next_row)
        for footnote in report.spec.footnotes:
            sheet.merge_range(next_row, 0, next_row, 6, footnote, f["note"])
            next_row += 1
        sheet.merge_range(next_row, 0, next_row, 6,
                          f"{symbol}: hidden to protect the partnerships concerned (a "
                          f"count below {spec.disclosure_threshold}, or a cell hidden so that "
                          "such a count cannot be worked out); tests computed from a hidden "
                          "count are withheld.", f["note"])
        if report.spec.kind != "numeric":
            _write_chart(book, sheet, name, f, table, shown, next_row + 2)
        _print_setup(sheet, wide=len(shown) > 1)
    book.close()


def _print_setup(sheet, *, wide: bool) -> None:
    """Print every column on one page width (as many pages down as needed), landscape where
    the table is wide, with the header rows repeated on each page."""
    if wide:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(3, 4)
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)


# --------------------------------------------------------------------------------------------
# trends.xlsx: the trends folder as a finished workbook
# --------------------------------------------------------------------------------------------

def _trend_wave_columns(level: float) -> tuple[str, ...]:
    return ("n", "base", "%", f"{level_text(level)} CI lower", f"{level_text(level)} CI upper",
            "note")
_CHANGE_COLUMNS = (("measure", "Measure"), ("phase", "Phase"), ("from_wave", "From"),
                   ("to_wave", "To"), ("pct_from", "% from"), ("pct_to", "% to"),
                   ("difference", "Difference (points)"), ("test", "Test"),
                   ("statistic", "Statistic"), ("p_value", "p"), ("q_value", "q (adjusted)"),
                   ("significant", "Significant"))


def _small(count: float, threshold: int) -> bool:
    return not pd.isna(count) and 0 < int(count) < threshold


def _write_trend_family(sheet, f: dict, rows: pd.DataFrame, waves: Sequence[str], level: float,
                        threshold: int, hidden_symbol: str) -> tuple[int, list[str]]:
    """Measures × phases with waves as columns; returns the next row and the footnotes."""
    subheads = _trend_wave_columns(level)
    width = len(subheads)
    _write_header(sheet, f, 3, ["Measure", "Phase"], [(wave, subheads) for wave in waves])
    notes: list[str] = []
    index = 5
    for (_measure, phase), group in rows.groupby(["measure", "phase"], sort=False):
        sheet.write(index, 0, str(group["label"].iloc[0]), f["label"])
        sheet.write(index, 1, str(phase), f["label"])
        by_wave = group.set_index(group["wave"].astype(str))
        for position, wave in enumerate(waves):
            first = 2 + width * position
            if wave not in by_wave.index:
                continue
            cell = by_wave.loc[wave]
            # A published trends table has the hidden counts blank already.
            n_hidden = pd.isna(cell["n"]) or _small(cell["n"], threshold)
            base_hidden = pd.isna(cell["base_n"]) or _small(cell["base_n"], threshold)
            hidden = n_hidden or base_hidden or str(cell.get("suppressed", "")) == "True"
            symbol = hidden_symbol
            if n_hidden:
                sheet.write(index, first, symbol, f["text_right"])
            else:
                sheet.write_number(index, first, float(cell["n"]), f["count"])
            if base_hidden:
                sheet.write(index, first + 1, symbol, f["text_right"])
            else:
                sheet.write_number(index, first + 1, float(cell["base_n"]), f["count"])
            if not hidden:
                sheet.write_number(index, first + 2, float(cell["pct"]), f["pct"])
                if pd.notna(cell["ci_low"]) and pd.notna(cell["ci_high"]):
                    sheet.write_number(index, first + 3, float(cell["ci_low"]), f["pct"])
                    sheet.write_number(index, first + 4, float(cell["ci_high"]), f["pct"])
            mark = []
            if str(cell["series"]) != "1":
                same = by_wave[by_wave["series"].astype(str) == str(cell["series"])]
                mark.append(f"new series from {min(same.index)}")
            caveat = cell["caveat"]
            if isinstance(caveat, str) and caveat:
                if caveat not in notes:
                    notes.append(caveat)
                mark.append(f"[{notes.index(caveat) + 1}]")
            if mark:
                sheet.write(index, first + 5, " ".join(mark), f["note"])
        index += 1
    sheet.set_column(0, 0, 46)
    sheet.set_column(1, 1, 10)
    sheet.set_column(2, 1 + width * len(waves), 9)
    return index + 1, notes


def _wave_colours(count: int) -> list[str]:
    """Waves from light (oldest) to dark (newest) in the overall colour's family, so that no
    wave takes a phase's colour."""
    from pipeline.report.charts import WAVE_COLOURS

    return list(WAVE_COLOURS[-count:]) if count <= len(WAVE_COLOURS) else \
        [WAVE_COLOURS[i % len(WAVE_COLOURS)] for i in range(count)]


def _overall_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """A family's overall shares in the shape of a report table (measures × waves), for its
    chart: a share hidden in the published trends is a hidden cell, drawn as a gap."""
    overall = rows[rows["phase"].astype(str) == "All"]
    hidden = overall["pct"].isna() | overall["n"].isna()
    if "suppressed" in overall:
        hidden |= overall["suppressed"].astype(str).str.lower().eq("true")
    return pd.DataFrame({
        "row_type": "item", "row_level": overall["measure"].astype(str),
        "row_label": overall["label"].astype(str), "col_level": overall["wave"].astype(str),
        "pct": overall["pct"], "ci_low": overall["ci_low"], "ci_high": overall["ci_high"],
        "suppressed": hidden, "pct_display": ""})


def _write_changes(sheet, f: dict, changes: pd.DataFrame, start: int) -> int:
    if changes.empty:
        return start
    sheet.write(start, 0, "Tests of change between consecutive waves (p-values adjusted "
                "together, Benjamini–Hochberg)", f["label_bold"])
    start += 1
    for j, (_, name) in enumerate(_CHANGE_COLUMNS):
        sheet.write(start, j, name, f["head_left"])
    start += 1
    for row in changes.itertuples(index=False):
        for j, (column, _) in enumerate(_CHANGE_COLUMNS):
            value = getattr(row, column)
            if column == "measure":
                value = row.label
            if isinstance(value, (int, float)) and not isinstance(value, bool) \
                    and not pd.isna(value):
                fmt = f["p"] if column in ("p_value", "q_value") else f["number"]
                sheet.write_number(start, j, float(value), fmt)
            elif value is None or (isinstance(value, float) and pd.isna(value)):
                sheet.write_blank(start, j, None)
            else:
                sheet.write_string(start, j, str(value), f["label"])
        start += 1
    return start + 1


def _write_plain(sheet, f: dict, frame: pd.DataFrame, start: int) -> int:
    for j, column in enumerate(frame.columns):
        sheet.write(start, j, str(column), f["head_left"])
    for i, row in enumerate(frame.itertuples(index=False), start=start + 1):
        for j, value in enumerate(row):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                sheet.write_blank(i, j, None)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                sheet.write_number(i, j, float(value), f["number"])
            else:
                sheet.write_string(i, j, str(value), f["label"])
    return start + len(frame) + 2


def write_trends_workbook(path: Path, bundle, rule, *, created_year: int) -> None:
    """Write ``trends.xlsx``: contents, one sheet per measure family with waves as columns
    (n, base, %, interval; caveats as numbered footnotes; tests of change with q-values),
    trend tests, phase transitions (small counts as ``<k``) and every caveat.

    Parameters
    ----------
    path : Path
        Where to write.
    bundle : pipeline.report.trend_content.TrendsBundle
        The trends folder's tables.
    rule : pipeline.stats.disclosure.DisclosureRule
        Counts (and bases) below its threshold are shown as ``<k`` with no percentage.
    created_year : int
        Fixed document date (1 January), so reruns are byte-identical.
    """
    trends, changes = bundle.trends, bundle.changes
    waves = sorted(trends["wave"].astype(str).unique())
    threshold = int(rule.threshold)
    # The level the trends were computed at (trends.toml, recorded in run.json).
    level = float(bundle.manifest.get("settings", {}).get("trends", {}).get("level", 0.95))
    hidden_symbol = str(bundle.manifest.get("published_symbol") or f"<{threshold}")
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                           "strings_to_urls": False})
    title = "Pulse Check: trends across waves " + ", ".join(waves)
    book.set_properties({"title": title, "author": "pulsecheck",
                         "created": dt.datetime(created_year, 1, 1),
                         "comments": "Generated by pulsecheck"})
    f = _formats(book)
    contents = book.add_worksheet("Contents")
    used = {"Contents"}
    contents.write(0, 0, title, f["title"])
    notes = [
        f"Percent of partnerships that answered, per wave, with {level_text(level)} "
        "intervals; waves are "
        "columns. A measure compared with a caveat carries a numbered footnote; 'new series "
        "from' marks the waves of a question that changed (not comparable with the earlier "
        "waves, never tested against them).",
        f"{hidden_symbol}: hidden to protect the partnerships concerned (a count or base "
        f"below {threshold}, or a phase hidden so that such a count cannot be worked out "
        "from the overall figure), without a percentage; tests that use a hidden figure are "
        "withheld.",
        "Tests of change compare consecutive waves; p-values are adjusted together "
        "(q). Only a significant difference is a change.",
    ]
    if bundle.manifest.get("synthetic"):
        notes.insert(0, "SYNTHETIC SAMPLE DATA: no real partnership is described here.")
    general = bundle.caveats[bundle.caveats["measure"].astype(str).str.startswith("(")]
    notes += [str(c) for c in general["caveat"]]
    row_index = 2
    for note in notes:
        contents.merge_range(row_index, 0, row_index, 2, note, f["note"])
        contents.set_row(row_index, 42)
        row_index += 1
    row_index += 1
    for offset, text in enumerate(("Sheet", "What it holds")):
        contents.write(row_index, offset, text, f["head_left"])
    contents.freeze_panes(row_index + 1, 0)
    row_index += 1
    contents.set_column(0, 0, 28)
    contents.set_column(1, 1, 80)
    contents.set_column(2, 2, 20)

    def entry(name: str, text: str) -> str:
        nonlocal row_index
        sheet_name = _sheet_name(name, used)
        contents.write_url(row_index, 0, f"internal:'{sheet_name}'!A1", f["link"], sheet_name)
        contents.write(row_index, 1, text, f["label"])
        row_index += 1
        return sheet_name

    for family, rows in trends.groupby("family", sort=False):
        name = entry(str(family), f"{family}: every measure by wave and phase, with the "
                                  "tests of change")
        sheet = book.add_worksheet(name)
        sheet.write(0, 0, f"{family} by wave", f["title"])
        sheet.write(1, 0, f"n / base, percent and {level_text(level)} interval per wave; "
                    "phases where the wave asked for one.", f["subtitle"])
        next_row, footnotes = _write_trend_family(sheet, f, rows, waves, level, threshold,
                                                  hidden_symbol)
        sheet.freeze_panes(5, 2)
        family_changes = changes[changes["family"] == family]
        next_row = _write_changes(sheet, f, family_changes, next_row)
        for number, text in enumerate(footnotes, start=1):
            sheet.merge_range(next_row, 0, next_row, 11, f"[{number}] {text}", f["note"])
            sheet.set_row(next_row, 28)
            next_row += 1
        for text in general["caveat"]:
            sheet.merge_range(next_row, 0, next_row, 11, str(text), f["note"])
            next_row += 1
        _write_chart(book, sheet, name, f, _overall_frame(rows), waves, next_row + 1,
                     colours=_wave_colours(len(waves)))
        _print_setup(sheet, wide=True)

    plain = [("Trend tests", "Cochran–Armitage test over each comparable series",
              bundle.trend_tests)]
    transitions = bundle.transitions.copy()
    if not transitions.empty:
        transitions["count"] = [f"<{threshold}" if 0 < int(c) < threshold else str(int(c))
                                for c in transitions["count"]]
    plain += [("Transitions", f"Phase transitions of partnerships that answered in two "
               f"waves (counts below {threshold} shown as <{threshold})", transitions),
              ("Caveats", "Every caveat, with the measure and waves it concerns",
               bundle.caveats)]
    for name, text, frame in plain:
        sheet_name = entry(name, text)
        sheet = book.add_worksheet(sheet_name)
        sheet.write(0, 0, text, f["title"])
        _write_plain(sheet, f, frame, 2)
        sheet.freeze_panes(3, 0)
        sheet.set_column(0, max(len(frame.columns) - 1, 0), 16)
    book.close()
