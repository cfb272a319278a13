"""The adapter for exports with header rows of names and/or labels (most platforms).

Qualtrics (current and legacy), REDCap (raw and labels), KoboToolbox, ODK Central, Google
Forms, Microsoft Forms and plain CSV/XLSX differ only in facts held in their profiles under
``survey_instrument/platforms/``: how many header rows, which row holds names and which
labels, role and metadata columns, how groups and split choice columns are named, label
decorations, and value conventions. This module applies those facts (pure).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from pipeline.errors import PulsecheckError, make_issue
from pipeline.ingest.adapters.assemble import Table, Target
from pipeline.ingest.adapters.columnar import ColumnRecords
from pipeline.ingest.adapters.mapping import classify_columns
from pipeline.ingest.adapters.text import Grid
from pipeline.model.instrument import Instrument


def resolve_roles(settings: Mapping[str, Any], names: list[str]) -> dict[str, Any]:
    """The profile with ``@first`` (the first column, e.g. REDCap's record id) resolved."""
    roles = {role: (names[0] if column == "@first" and names else column)
             for role, column in settings.get("roles", {}).items()}
    return {**settings, "roles": roles}


def split_grid(grid: Grid, settings: Mapping[str, Any]
               ) -> tuple[list[str], list[str], Table, list[dict]]:
    """Header names, labels and the data :class:`Table` of a grid, per the profile.

    Rows whose cells are all blank are skipped; a row with more fields than the header is
    trimmed when the extra fields are blank (the legacy Qualtrics trailing comma) and
    reported otherwise, like a row with too few.
    """
    header_rows = int(settings.get("header_rows", 1))
    name_row = int(settings.get("name_row", 1))
    label_row = int(settings.get("label_row", 0))
    if len(grid.records) < header_rows:
        raise PulsecheckError("READ_003", file=grid.file_name, expected=header_rows,
                              found=len(grid.records))
    names = [c.strip() for c in grid.records[name_row - 1]]
    labels = list(grid.records[label_row - 1]) if label_row else []
    # A column is part of the header when any header row names it: some platforms write a
    # group's text only above its first column, so row 1 can end in blanks above columns
    # that row 2 names.
    width = max((i + 1 for i, c in enumerate(names) if c), default=0)
    width = max([width, *(i + 1 for i, c in enumerate(labels) if c.strip())])
    names = (names + [""] * width)[:width]
    labels = (labels + [""] * width)[:width]
    if isinstance(grid.records, ColumnRecords):
        table = _column_table(grid, grid.records, names, header_rows, name_row)
        if table is not None:
            return names, labels, table, []
    issues: list[dict] = []
    records, rows = [], []
    # Some exports end a row at its last non-empty field: a short row is then whole.
    pad_short = settings.get("short_rows") == "pad"
    for offset, record in enumerate(grid.records[header_rows:]):
        number = header_rows + offset + 1
        if not any(cell.strip() for cell in record):
            continue
        cells = list(record)
        if (len(cells) != width and any(c.strip() for c in cells[width:])) or \
                (len(cells) < width and not pad_short):
            issues.append(make_issue("READ_008", file=grid.file_name, row=number,
                                     found=len(cells), expected=width))
        cells = (cells + [""] * width)[:width]
        records.append(tuple(cells))
        rows.append(number)
    table = Table(file_name=grid.file_name, columns=tuple(names), records=tuple(records),
                  rows=tuple(rows), header_row=name_row)
    return names, labels, table, issues


def _column_table(grid: Grid, records: ColumnRecords, names: list[str], header_rows: int,
                  name_row: int) -> Table | None:
    """The data :class:`Table` of column-wise records, as the record loop builds it.

    ``None`` when some data record would be reported (a non-blank cell beyond the header's
    width): the record loop then builds the table and its issues.
    """
    n, width = len(records), len(names)
    if not width:
        return None
    data = slice(min(header_rows, n), n)
    for column in records.columns[width:]:
        if any(value.strip() for value in pd.unique(column[data])):
            return None
    keep = ~records.empty[data]
    for index in records.maybe_blank[records.maybe_blank >= header_rows]:
        # Only records without a visible character can be blank; look at those alone.
        if not any(cell.strip() for cell in records[int(index)]):
            keep[index - header_rows] = False
    if keep.all():
        columns = tuple(column[data] for column in records.columns[:width])
        rows = tuple(range(header_rows + 1, n + 1))
    else:
        columns = tuple(column[data][keep] for column in records.columns[:width])
        rows = tuple((np.flatnonzero(keep) + header_rows + 1).tolist())
    return Table(file_name=grid.file_name, columns=tuple(names), records=ColumnRecords(columns),
                 rows=rows, header_row=name_row)


def read_columns(grid: Grid, instrument: Instrument, settings: Mapping[str, Any],
                 mapping: Mapping[str, tuple[str, str, str]] | None = None
                 ) -> tuple[Table, list[Target], list[dict]]:
    """Classify the columns of a names/labels export (see module docstring)."""
    names, labels, table, issues = split_grid(grid, settings)
    settings = resolve_roles(settings, names)
    targets = classify_columns(names, labels, instrument, settings, mapping)
    return table, targets, issues
