"""SPSS ``.sav`` files, read with pyreadstat keeping user-missing values.

Numeric answers are choice codes (decoded by the instrument's codes, or by the value label
when the code is not the instrument's); user-missing codes (for example ``-99``, "seen but
not answered") become blank. A check-all question comes as a multiple-dichotomy set (or as
``<question>_<code>`` variables): the counted value means ticked, any other value means
shown and not ticked, a missing value means skipped.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from pipeline.errors import PulsecheckError
from pipeline.ingest.adapters.assemble import CHOICE, UNMAPPED, Table, Target
from pipeline.ingest.adapters.labels import find_choice, find_question
from pipeline.ingest.adapters.mapping import classify_columns
from pipeline.ingest.adapters.text import cell_text
from pipeline.model.instrument import Instrument


def read_sav(path: Path) -> tuple[pd.DataFrame, Any]:
    """Read a ``.sav`` file's data and metadata (the file edge).

    Notes
    -----
    pyreadstat converts date, date-time and time variables itself and gives up on the whole
    file when one value lies outside the calendar Python can hold (a date-time in the year
    201,000 is a valid SPSS value). The file is then read again with the numbers as stored
    and those variables are converted here, cell by cell: a value that cannot be a date is
    kept as the number it is, for validation to report, and the rest of the file is read.
    """
    import pyreadstat  # imported here: only .sav files need it

    try:
        return pyreadstat.read_sav(str(path), user_missing=True)
    except Exception as error:  # pyreadstat raises its own error types
        first = error
    try:
        frame, meta = pyreadstat.read_sav(str(path), user_missing=True,
                                          disable_datetime_conversion=True)
    except Exception:  # unreadable either way: the first reason is the one to report
        reason = str(first).splitlines()[0] if str(first) else "unreadable"
        raise PulsecheckError("READ_017", file=Path(path).name, platform="SPSS",
                              reason=reason) from first
    formats = dict(getattr(meta, "original_variable_types", {}) or {})
    converted = {name: [_spss_time(value, formats.get(name, "")) for value in frame[name]]
                 for name in frame.columns if _time_kind(formats.get(name, ""))}
    return frame.assign(**{k: pd.Series(v, index=frame.index, dtype=object)
                           for k, v in converted.items()}), meta


#: The day SPSS counts its date and time values from, in seconds.
_SPSS_EPOCH = dt.datetime(1582, 10, 14)
_DATE_FORMATS = ("DATE", "ADATE", "EDATE", "JDATE", "SDATE", "QYR", "MOYR", "WKYR")
_DATETIME_FORMATS = ("DATETIME", "YMDHMS")


def _time_kind(spss_format: str) -> str:
    """``date``, ``datetime``, ``time`` or ``""`` for an SPSS print format (``ADATE10``)."""
    word = re.match(r"[A-Za-z]*", str(spss_format)).group().upper()
    if word in _DATETIME_FORMATS:
        return "datetime"
    if word in _DATE_FORMATS:
        return "date"
    return "time" if word == "TIME" else ""


def _spss_time(value: Any, spss_format: str) -> Any:
    """One stored SPSS time value as a date, date-time or time; the number when it is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return value
    kind = _time_kind(spss_format)
    try:
        if kind == "time":
            if not 0 <= value < 86400:
                return value  # a duration of a day or more is not a time of day
            return (dt.datetime.min + dt.timedelta(seconds=float(value))).time()
        moment = _SPSS_EPOCH + dt.timedelta(seconds=float(value))
    except (OverflowError, ValueError, TypeError):
        return value
    return moment.date() if kind == "date" else moment


def _is_missing(value: Any, ranges: list[Mapping[str, Any]]) -> bool:
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return True
    for bounds in ranges:
        try:
            if bounds["lo"] <= value <= bounds["hi"]:
                return True
        except TypeError:
            if value in (bounds["lo"], bounds["hi"]):
                return True
    return False


def mr_set_targets(mr_sets: Mapping[str, Mapping[str, Any]], labels: Mapping[str, str],
                   instrument: Instrument) -> dict[str, tuple[Target, str]]:
    """Variables of multiple-dichotomy sets → (choice target, counted value).

    The set is matched to a question by its name (without ``$``) or label; each variable
    to a choice by the code or name after the last ``_`` of its name, or by its label (the
    part after the last `` - `` or ``: `` when the label repeats the question).
    """
    found: dict[str, tuple[Target, str]] = {}
    multiples = [q for q in instrument.answerable if q.type == "select_multiple"]
    for set_name, info in mr_sets.items():
        if not info.get("is_dichotomy", info.get("type") == "D"):
            continue
        question = find_question(set_name.lstrip("$"), multiples) \
            or find_question(str(info.get("label", "")), multiples)
        if question is None:
            continue
        choices = instrument.choices_for(question)
        counted = cell_text(info.get("counted_value", 1))
        for variable in info.get("variable_list", ()):
            label = str(labels.get(variable) or "")
            tail = label
            for marker in (" - ", ": "):
                tail = tail.rsplit(marker, 1)[-1]
            choice = find_choice(variable.rsplit("_", 1)[-1], choices) or find_choice(tail, choices)
            if choice is not None:
                found[variable] = (Target(CHOICE, question.name, choice.name, by="mr set"),
                                   counted)
    return found


def table_from_sav(frame: pd.DataFrame, meta: Any, file_name: str, instrument: Instrument,
                   settings: Mapping[str, Any],
                   mapping: Mapping[str, tuple[str, str, str]] | None = None
                   ) -> tuple[Table, list[Target], list[dict]]:
    """Turn pyreadstat's data and metadata into a table of strings and column targets."""
    names = [str(c) for c in frame.columns]
    labels_by_name = dict(getattr(meta, "column_names_to_labels", {}) or {})
    labels = [str(labels_by_name.get(n) or "") for n in names]
    targets = classify_columns(names, labels, instrument, settings, mapping)
    from_sets = mr_set_targets(getattr(meta, "mr_sets", {}) or {}, labels_by_name, instrument)
    counted: dict[str, str] = {}
    for position, name in enumerate(names):
        if name in from_sets and targets[position].kind in (UNMAPPED, CHOICE):
            targets[position], counted[name] = from_sets[name]
    missing = dict(getattr(meta, "missing_ranges", {}) or {})
    value_labels = dict(getattr(meta, "variable_value_labels", {}) or {})
    questions = {q.name: q for q in instrument.answerable}
    columns = []
    for name, target in zip(names, targets, strict=True):
        ranges = missing.get(name, [])
        cells = []
        for value in frame[name].tolist():
            if _is_missing(value, ranges):
                cells.append("")
                continue
            text = cell_text(value)
            if target.kind == CHOICE:
                text = "1" if text == counted.get(name, "1") else "0"
            elif target.name in questions and questions[target.name].is_select:
                choices = instrument.choices_for(questions[target.name])
                label = value_labels.get(name, {}).get(value)
                if find_choice(text, choices) is None and label is not None:
                    text = str(label)
            cells.append(text)
        columns.append(cells)
    records = tuple(zip(*columns, strict=True)) if columns else ()
    table = Table(file_name=file_name, columns=tuple(names), records=records,
                  rows=tuple(range(2, len(frame) + 2)), header_row=1)
    return table, targets, []
