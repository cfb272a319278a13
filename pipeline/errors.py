"""The error catalogue: every problem pulsecheck can report, with a stable code.

The entries themselves are data in :mod:`pipeline.catalogue`; this module fills them in,
raises them and collects them into the issues table.

Each entry has a code ``<AREA>_<NNN>`` (never reused), a severity, a title, the rule that was
broken and the fix, both as ``str.format`` templates. Messages read location → rule → fix::

    [export.csv row 14, column year_formed] value '2106' is outside 1950–2016. Correct the
    year in the export, or leave it blank if unknown. (VAL_004)

Two kinds of use:

* **Fatal problems** (unusable input or configuration) raise :class:`PulsecheckError`, which
  the CLI turns into the message and exit code 2 — never a traceback.
* **Data problems** become rows of one tidy *issues* table (:func:`make_issue`,
  :func:`issues_frame`), collected lazily so a user sees every problem at once.

Areas: ``CLI`` command line, ``INST`` instrument, ``WAVE`` wave description and manifest,
``READ`` reading exports, ``VAL`` validating answers, ``CLS`` classification, ``STAT``
statistics engine, ``RUN`` running and writing outputs, ``PATH`` paths from data and
configuration, ``RAW`` raw data that commands only read.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.catalogue import CATALOGUE, ENTRIES, SEVERITIES, ErrorSpec

#: Columns of the issues table, in order.
ISSUE_COLUMNS = (
    "code",
    "severity",
    "file",
    "row",
    "column",
    "value",
    "respondent",
    "rule",
    "fix",
    "message",
)

#: Exit codes of the command line.
EXIT_OK = 0
EXIT_DATA_ERRORS = 1
EXIT_UNUSABLE = 2
#: A fault of pulsecheck itself (a bug): the traceback is shown, with this exit code so that it
#: is never mistaken for "rows quarantined".
EXIT_INTERNAL = 3




def spec(code: str) -> ErrorSpec:
    """Return the catalogue entry for ``code``.

    Raises
    ------
    KeyError
        If the code is not in the catalogue (a programming error, not a user error).
    """
    return CATALOGUE[code]


def format_location(file: str | None = None, row: int | None = None,
                    column: str | None = None) -> str:
    """Render a location as ``file row R, column C`` (parts omitted when unknown)."""
    parts = []
    if file:
        parts.append(str(file))
    if row is not None and not pd.isna(row):
        parts.append(f"row {int(row)}")
    where = " ".join(parts)
    if column:
        where = f"{where}, column {column}" if where else f"column {column}"
    return where


def render_message(code: str, *, file: str | None = None, row: int | None = None,
                   column: str | None = None, **params: Any) -> tuple[str, str, str]:
    """Fill an entry's templates.

    Returns
    -------
    tuple of str
        ``(rule, fix, message)`` where ``message`` is ``[location] rule fix (CODE)``.
    """
    rule, fix, text = _texts(code, params)
    where = format_location(file, row, column)
    return rule, fix, f"[{where}] {text}" if where else text


def _texts(code: str, params: Mapping[str, Any]) -> tuple[str, str, str]:
    """An entry's filled rule and fix, and the message without its location."""
    entry = spec(code)
    rule = entry.rule.format(**params)
    fix = entry.fix.format(**params)
    return rule, fix, f"{_capitalise(rule)} {fix} ({code})"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


class PulsecheckError(Exception):
    """A problem the user can fix, carrying its catalogue code and location.

    The CLI prints ``str(error)`` and exits with :attr:`exit_code`; no traceback is shown.
    """

    exit_code = EXIT_UNUSABLE

    def __init__(self, code: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None, **params: Any) -> None:
        self.code = code
        self.file = file
        self.row = row
        self.column = column
        self.params = params
        self.rule, self.fix, self.message = render_message(
            code, file=file, row=row, column=column, **params)
        super().__init__(self.message)


class InstrumentError(PulsecheckError):
    """The instrument cannot be used; ``problems`` is its issues table."""

    def __init__(self, path: str, problems: pd.DataFrame) -> None:
        self.problems = problems
        super().__init__("INST_020", path=path, n=len(problems))


class SpecError(PulsecheckError):
    """The report specification cannot be used; ``problems`` is its issues table."""

    def __init__(self, path: str, problems: pd.DataFrame) -> None:
        self.problems = problems
        super().__init__("SPEC_005", path=path, n=len(problems))


def make_issue(code: str, *, file: str | None = None, row: int | None = None,
               column: str | None = None, value: Any = None, respondent: str | None = None,
               **params: Any) -> dict[str, Any]:
    """Build one row of the issues table.

    Parameters
    ----------
    code : str
        Catalogue code.
    file, row, column : optional
        Where the problem is. ``row`` is the 1-based line number in the file as a user sees it
        in a text editor or spreadsheet.
    value : optional
        The offending value, as found.
    respondent : str, optional
        The platform's response id, so research staff can find the response there.
    **params
        Values for the entry's templates.
    """
    entry = spec(code)
    rule, fix, message = render_message(code, file=file, row=row, column=column,
                                        value=value, **params)
    return {
        "code": code,
        "severity": entry.severity,
        "file": file,
        "row": row,
        "column": column,
        "value": None if value is None else str(value),
        "respondent": respondent,
        "rule": rule,
        "fix": fix,
        "message": message,
    }


def issues_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Collect issue rows into the tidy issues table, sorted by file, row, column and code."""
    return _tidy(pd.DataFrame(list(records), columns=list(ISSUE_COLUMNS)))


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a newly built issues table its row type and order (see :func:`issues_frame`)."""
    frame["row"] = frame["row"].astype("Int64")
    if frame.empty:
        return frame
    severity_rank = frame["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    frame = frame.assign(_rank=severity_rank).sort_values(
        ["file", "row", "column", "_rank", "code"], na_position="first", kind="stable")
    return frame.drop(columns="_rank").reset_index(drop=True)


def _from_columns(columns: Mapping[str, list]) -> pd.DataFrame:
    """The tidy issues table of issue rows given column by column.

    A table built from equal-length lists of the values :func:`make_issue` gives infers the same
    column types as one built from the rows themselves; only an empty table differs, so that
    one is built from no rows.
    """
    if not len(columns[ISSUE_COLUMNS[0]]):
        return issues_frame([])
    return _tidy(pd.DataFrame(dict(columns), columns=list(ISSUE_COLUMNS)))


def combine_issues(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Collect several issues tables into one tidy table.

    Equal to :func:`issues_frame` of all their rows in order, built column by column.

    Parameters
    ----------
    frames : sequence of pandas.DataFrame
        Issues tables (at least one). Not modified.
    """
    combined = pd.concat(frames, ignore_index=True)
    if any(column not in combined for column in ISSUE_COLUMNS):
        return issues_frame(combined.to_dict("records"))
    return _from_columns({column: combined[column].tolist() for column in ISSUE_COLUMNS})


def format_locations(files: Sequence[Any], rows: Sequence[Any],
                     column: str | None) -> list[str]:
    """:func:`format_location` of each ``(file, row)`` pair, all in one column."""
    tail = f", column {column}" if column else ""
    return [f"{file} row {row}{tail}" if type(row) is int and type(file) is str and file
            else format_location(file, row, column)
            for file, row in zip(files, rows, strict=True)]


def issues_table(code: str, *, file: Sequence[Any], row: Sequence[Any], column: str | None,
                 respondent: Sequence[Any], group: Sequence[int],
                 params: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Many issues of one code as a tidy issues table, each distinct text rendered once.

    Equal to :func:`issues_frame` of ``make_issue(code, file=file[i], row=row[i],
    column=column, respondent=respondent[i], **params[group[i]])`` for each ``i`` in order.

    Parameters
    ----------
    code : str
        Catalogue code.
    file, row, respondent : sequence
        Per issue, as for :func:`make_issue`.
    column : str or None
        The column of every issue.
    group : sequence of int
        Per issue, the position in ``params`` of its template values.
    params : sequence of mapping
        Template values shared by issues; each includes ``value``, the offending value.
    """
    group = np.asarray(group, dtype=np.intp)
    used = np.unique(group)
    texts: dict[int, tuple[str | None, str, str, str]] = {}
    for number in used.tolist():
        value = params[number].get("value")
        texts[number] = (None if value is None else str(value),
                         *_texts(code, {**params[number], "value": value}))
    per_issue = [texts[number] for number in group.tolist()]
    where = format_locations(file, row, column)
    n = len(per_issue)
    return _from_columns({
        "code": [code] * n,
        "severity": [spec(code).severity] * n,
        "file": list(file),
        "row": list(row),
        "column": [column] * n,
        "value": [text[0] for text in per_issue],
        "respondent": list(respondent),
        "rule": [text[1] for text in per_issue],
        "fix": [text[2] for text in per_issue],
        "message": [f"[{place}] {text[3]}" if place else text[3]
                    for place, text in zip(where, per_issue, strict=True)],
    })


def catalogue_frame() -> pd.DataFrame:
    """The whole catalogue as a table (for documentation and the README)."""
    return pd.DataFrame(
        [(e.code, e.severity, e.title, e.rule, e.fix) for e in ENTRIES],
        columns=["code", "severity", "title", "rule", "fix"],
    )


def catalogue_markdown() -> str:
    """The catalogue as a Markdown table (code, severity, exit code, problem) for the README."""
    exits = {"fatal": EXIT_UNUSABLE, "error": EXIT_DATA_ERRORS}
    lines = ["| code | severity | exit | problem |", "|---|---|---|---|"]
    lines += [f"| `{entry.code}` | {entry.severity} | {exits.get(entry.severity, EXIT_OK)} "
              f"| {entry.title} |" for entry in ENTRIES]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m pipeline.errors --markdown
    import sys

    if sys.argv[1:] == ["--markdown"]:
        sys.stdout.write(catalogue_markdown())
    else:
        sys.stderr.write("usage: python -m pipeline.errors --markdown\n")
        sys.exit(EXIT_UNUSABLE)
