"""Labelled exports of the analysed set for SPSS, Stata and R: ``partnerships.sav``,
``partnerships.dta`` and ``codebook.csv`` (the output edge).

The instrument supplies the labels: each question's text becomes its variable label, each
choice's label the label of its value, and a check-all answer ``q/choice`` becomes a 0/1
variable labelled "question: choice". Values of a single-choice question are the choice codes
of the instrument when they are all whole numbers (so they match the platform's numeric
export), else the choices' positions 1, 2, …; a phase column is coded by the instrument's
phase order.

Variable names are made legal for both formats by one documented, reversible rule
(:func:`legal_name`); ``codebook.csv`` lists every variable with its original column
(``source``), so ``partnerships.csv`` and the labelled files can always be matched.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.columns import MULTI_SEPARATOR, PHASE_COLUMN
from pipeline.model.instrument import Instrument, Question
from pipeline.stages.privacy import inert_frame

#: Longest variable name written: Stata allows 32 characters and SPSS 64 bytes, but pyreadstat
#: names each Stata value-label set after its variable plus a running number (up to 4 digits
#: here), and a label-set name has Stata's limit of 32 too.
MAX_NAME = 28
#: Longest variable label each format keeps.
MAX_LABEL = {"sav": 256, "dta": 80}
#: What a check-all column's ``/`` becomes in a variable name.
NAME_SEPARATOR = "__"
#: Words neither SPSS nor Stata accepts as a variable name.
RESERVED = frozenset({
    "all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with",
    "_all", "_b", "_coef", "_cons", "_n", "_pi", "_pred", "_rc", "_se", "_skip", "byte",
    "double", "float", "if", "in", "int", "long", "str", "strl", "using",
})
#: Labels of the bookkeeping columns of ``partnerships.csv`` (not instrument content).
BOOKKEEPING_LABELS = {
    "response_id": "Response id given by the survey platform",
    PHASE_COLUMN: "Phase group used in the report",
    "phase_self": "Phase group by self-placement",
    "phase_criteria": "Phase group by the criteria-based placement",
    "criteria_points": "Points of the criteria-based placement",
    "source_file": "Raw export file the answer was read from",
    "source_row": "Row of the raw export file (as a spreadsheet shows it)",
}
#: Value labels of a check-all indicator.
INDICATOR_LABELS = {0: "not selected", 1: "selected"}


def legal_name(column: str) -> str:
    """A variable name SPSS and Stata both accept, for a column of ``partnerships.csv``.

    The rule, applied in order: ``/`` (question/choice) becomes ``__``; any other character
    but letters, digits and ``_`` becomes ``_``; a name not starting with a letter gets a
    leading ``v``; a reserved word gets a trailing ``_``; a name longer than 28 characters
    keeps its first 22 and ends in ``_`` and 5 hexadecimal digits of the SHA-1 of the
    original column. ``codebook.csv`` records the original beside each name.

    Notes
    -----
    Without the hash, two long check-all columns of one question would collide after
    truncation; with it the name is still stable from run to run.
    """
    name = column.replace(MULTI_SEPARATOR, NAME_SEPARATOR)
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not re.match(r"[A-Za-z]", name):
        name = f"v{name}"
    if name.lower() in RESERVED:
        name = f"{name}_"
    if len(name) > MAX_NAME:
        digest = hashlib.sha1(column.encode("utf-8")).hexdigest()[:5]
        name = f"{name[:MAX_NAME - 6]}_{digest}"
    return name


@dataclass(frozen=True)
class Variable:
    """One variable of the labelled files."""

    name: str
    source: str
    label: str
    kind: str  # "numeric" or "string"
    value_labels: Mapping[int, str]
    #: The values as ``partnerships.csv`` writes them → their labels (choice names there).
    csv_labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LabelledData:
    """The analysed set with legal names and numeric codes, and its metadata."""

    frame: pd.DataFrame
    variables: tuple[Variable, ...]

    def column_labels(self, file_format: str) -> dict[str, str]:
        """Variable labels, cut to what ``file_format`` (``sav`` or ``dta``) keeps."""
        return {v.name: v.label[:MAX_LABEL[file_format]] for v in self.variables}

    @property
    def value_labels(self) -> dict[str, dict[int, str]]:
        return {v.name: dict(v.value_labels) for v in self.variables if v.value_labels}


def _choice_codes(question: Question, instrument: Instrument) -> dict[str, tuple[int, str]]:
    """choice name → (value, label) of a single-choice question."""
    choices = instrument.choices_for(question)
    codes = [str(c.code).strip() for c in choices]
    numeric = all(re.fullmatch(r"-?\d+", code) for code in codes) and \
        len(set(codes)) == len(codes)
    return {c.name: (int(code) if numeric else index, c.label)
            for index, (c, code) in enumerate(zip(choices, codes, strict=True), start=1)}


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.replace("", np.nan), errors="coerce").astype("float64")


def _as_text(values: pd.Series) -> pd.Series:
    """Values as text ('' for missing); 0/1 for booleans, whole numbers without '.0'."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if len(whole) == 0 or (whole.astype("float64") % 1 == 0).all():
            values = values.astype("Int64")
    return values.astype("string").fillna("").astype(object)


def _strings(values: pd.Series) -> pd.Series:
    return values.where(values != "", None).astype(object)


def _coded(values: pd.Series, codes: Mapping[str, int]) -> pd.Series:
    return values.map({name: float(code) for name, code in codes.items()}).astype("float64")


def labelled_data(partnerships: pd.DataFrame, instrument: Instrument) -> LabelledData:
    """Legal names, numeric codes and labels for the analysed set (``partnerships.csv``).

    Parameters
    ----------
    partnerships
        The analysed set as written to ``partnerships.csv`` (not modified).
    instrument
        The instrument the wave was read with: question text and choice labels.
    """
    questions = {q.name: q for q in instrument.answerable}
    indicators = {column: (q, choice)
                  for q in instrument.answerable if q.type == "select_multiple"
                  for column, choice in zip(instrument.indicator_columns(q),
                                            instrument.choices_for(q), strict=True)}
    phases = (*instrument.phase_order, instrument.unclassified)
    phase_codes = {name: index for index, name in enumerate(phases, start=1)}
    columns: dict[str, pd.Series] = {}
    variables: list[Variable] = []
    for column in partnerships.columns:
        values = partnerships[column]
        text = _as_text(values)
        labels: dict[int, str] = {}
        csv_labels: dict[str, str] = {}
        if column in indicators:
            question, choice = indicators[column]
            label = f"{question.label}: {choice.label}"
            data, kind, labels = _numbers(text), "numeric", dict(INDICATOR_LABELS)
            csv_labels = {str(code): word for code, word in INDICATOR_LABELS.items()}
        elif column in questions and questions[column].type == "select_one":
            question = questions[column]
            codes = _choice_codes(question, instrument)
            label = question.label
            data, kind = _coded(text, {k: v[0] for k, v in codes.items()}), "numeric"
            labels = {value: choice_label for value, choice_label in codes.values()}
            csv_labels = {name: choice_label for name, (_, choice_label) in codes.items()}
        elif column in questions and questions[column].type in ("integer", "decimal"):
            label = questions[column].label
            data, kind = _numbers(text), "numeric"
        elif column in questions:
            label = questions[column].label
            data, kind = _strings(text), "string"
        elif (text != "").any() and set(text[text != ""]) <= set(phases):
            label = BOOKKEEPING_LABELS.get(column, column)
            data, kind, labels = _coded(text, phase_codes), "numeric", \
                {code: name for name, code in phase_codes.items()}
            csv_labels = {name: name for name in phases}
        else:
            label = BOOKKEEPING_LABELS.get(column, column)
            numbers = _numbers(text)
            if numbers.notna().sum() == (text != "").sum() and (text != "").any():
                data, kind = numbers, "numeric"
            else:
                data, kind = _strings(text), "string"
        name = legal_name(str(column))
        if name in columns:
            raise ValueError(f"columns '{column}' and another both become '{name}'")
        columns[name] = data
        variables.append(Variable(name=name, source=str(column), label=label,
                                  kind=kind, value_labels=labels,
                                  csv_labels=csv_labels))
    return LabelledData(frame=pd.DataFrame(columns, index=partnerships.index),
                        variables=tuple(variables))


def codebook(data: LabelledData) -> pd.DataFrame:
    """One row per variable: name, source column, label, type, values, base, missing, and
    ``csv_values``: the values as ``partnerships.csv`` writes them with their labels (a
    single-choice answer is its choice name there, its code in the labelled files)."""
    rows = []
    for variable in data.variables:
        values = data.frame[variable.name]
        missing = int(values.isna().sum())
        rows.append({
            "name": variable.name,
            "source": variable.source,
            "label": variable.label,
            "type": variable.kind,
            "values": "; ".join(f"{code}={text}"
                                for code, text in variable.value_labels.items()),
            "base": int(len(values) - missing),
            "missing": missing,
            "csv_values": "; ".join(f"{value}={text}"
                                    for value, text in variable.csv_labels.items()),
        })
    return pd.DataFrame(rows, columns=["name", "source", "label", "type", "values", "base",
                                       "missing", "csv_values"])


def _fix_sav_date(path: Path, year: int) -> None:
    # ReadStat stamps the header with the clock (creation date at byte 92, time at 101);
    # the wave's year keeps reruns byte-identical, as for the PDFs.
    data = bytearray(path.read_bytes())
    data[92:109] = f"01 Jan {year % 100:02d}00:00:00".encode("ascii")
    path.write_bytes(bytes(data))


def _fix_dta_date(path: Path, year: int) -> None:
    data = path.read_bytes()
    start = data.index(b"<timestamp>") + len(b"<timestamp>")
    end = data.index(b"</timestamp>", start)
    stamp = f"01 Jan {year:04d} 00:00".encode("ascii")
    path.write_bytes(data[:start] + bytes([len(stamp)]) + stamp + data[end:])


def write_labelled(folder: Path, partnerships: pd.DataFrame, instrument: Instrument,
                   stem: str = "partnerships") -> list[str]:
    """Write ``<stem>.sav``, ``<stem>.dta`` and ``codebook.csv`` into ``folder``.

    Returns
    -------
    list of str
        The names of the files written.
    """
    import pyreadstat

    data = labelled_data(partnerships, instrument)
    folder = Path(folder)
    title = f"{instrument.title} ({instrument.id} {instrument.version})"
    sav, dta = folder / f"{stem}.sav", folder / f"{stem}.dta"
    pyreadstat.write_sav(data.frame, str(sav), file_label=title[:64],
                         column_labels=data.column_labels("sav"),
                         variable_value_labels=data.value_labels)
    _fix_sav_date(sav, instrument.year)
    pyreadstat.write_dta(data.frame, str(dta), file_label=title[:80],
                         column_labels=data.column_labels("dta"),
                         variable_value_labels=data.value_labels)
    _fix_dta_date(dta, instrument.year)
    # Like every CSV output, no cell can run as a spreadsheet formula.
    inert_frame(codebook(data)).to_csv(folder / "codebook.csv", index=False,
                                       lineterminator="\n")
    return [sav.name, dta.name, "codebook.csv"]
