"""Labelled exports of the analysed set for SPSS, Stata and R: ``partnerships.sav``,
``partnerships.dta``, ``partnerships.parquet`` (when pyarrow is installed), ``codebook.csv``
and ``codebook.html`` (the output edge).

The instrument supplies the labels: each question's text becomes its variable label, each
choice's label the label of its value, and a check-all answer ``q/choice`` becomes a 0/1
variable labelled "question: choice". Values of a single-choice question are the choice codes
of the instrument when they are all whole numbers (so they match the platform's numeric
export), else the choices' positions 1, 2, …; a phase column is coded by the instrument's
phase order.

Variable names are made legal for both formats by one documented, reversible rule
(:func:`legal_name`); ``codebook.csv`` lists every variable with its original column
(``source``), so ``partnerships.csv`` and the labelled files can always be matched.

A choice marked ``missing = yes`` in ``choices.csv`` (an answer such as "Not sure" that gives
no information) keeps its code and label and is declared *user-missing*: a discrete missing
value in SPSS, a tagged missing value (``.a``, ``.b``, …) in Stata. ``partnerships.parquet``
holds each labelled variable as a pandas categorical of its labels, in code order (a
user-missing answer stays a category there, as Parquet has no user-missing values).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
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
#: SPSS keeps at most three discrete missing values per variable; Stata has 26 tags .a-.z.
MAX_USER_MISSING = 3
#: Columns of ``codebook.csv`` and ``codebook.html``.
CODEBOOK_COLUMNS = ["name", "source", "label", "type", "values", "user_missing", "base",
                    "missing", "csv_values"]


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
    #: Codes that are answers but carry no information (user-missing), in code order.
    user_missing: tuple[int, ...] = ()


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

    @property
    def missing_ranges(self) -> dict[str, list[int]]:
        """SPSS user-missing values: each as a discrete value."""
        return {v.name: list(v.user_missing) for v in self.variables if v.user_missing}

    def stata(self) -> tuple[pd.DataFrame, dict[str, list[str]], dict[str, dict]]:
        """The frame, tagged missing values and value labels for Stata.

        Each user-missing code becomes a tagged missing value, ``.a`` for the first, ``.b``
        for the next, labelled as the code was.
        """
        frame = self.frame.copy()
        tags: dict[str, list[str]] = {}
        labels = self.value_labels
        for variable in self.variables:
            if not variable.user_missing:
                continue
            letters = dict(zip(variable.user_missing, "abcdefghijklmnopqrstuvwxyz",
                               strict=False))
            values = frame[variable.name].astype(object)
            frame[variable.name] = values.map(
                lambda value, letters=letters: letters.get(value, value)
                if pd.notna(value) else value)
            tags[variable.name] = list(letters.values())
            labels[variable.name] = {letters.get(code, code): text
                                     for code, text in variable.value_labels.items()}
        return frame, tags, labels

    def categorical(self) -> pd.DataFrame:
        """The frame with every labelled variable as a categorical of its labels."""
        columns = {}
        for variable in self.variables:
            values = self.frame[variable.name]
            if variable.value_labels:
                codes = list(variable.value_labels)
                columns[variable.name] = pd.Categorical(
                    values.map({float(code): text
                                for code, text in variable.value_labels.items()}),
                    categories=[variable.value_labels[code] for code in codes])
            elif variable.kind == "string":
                columns[variable.name] = values.astype("string")
            else:
                columns[variable.name] = values
        return pd.DataFrame(columns, index=self.frame.index)


def _user_missing(question: Question, instrument: Instrument,
                  codes: Mapping[str, tuple[int, str]]) -> tuple[int, ...]:
    """Codes of the question's choices marked ``missing`` in ``choices.csv``."""
    return tuple(sorted(codes[c.name][0] for c in instrument.choices_for(question)
                        if c.missing))[:MAX_USER_MISSING]


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
        user_missing: tuple[int, ...] = ()
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
            user_missing = _user_missing(question, instrument, codes)
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
                                  csv_labels=csv_labels, user_missing=user_missing))
    return LabelledData(frame=pd.DataFrame(columns, index=partnerships.index),
                        variables=tuple(variables))


def codebook(data: LabelledData) -> pd.DataFrame:
    """One row per variable: name, source column, label, type, values, user-missing codes,
    base (answers that carry information), missing (system- or user-missing) and
    ``csv_values``: the values as ``partnerships.csv`` writes them with their labels (a
    single-choice answer is its choice name there, its code in the labelled files)."""
    rows = []
    for variable in data.variables:
        values = data.frame[variable.name]
        missing = int((values.isna() | values.isin(variable.user_missing)).sum())
        rows.append({
            "name": variable.name,
            "source": variable.source,
            "label": variable.label,
            "type": variable.kind,
            "values": "; ".join(f"{code}={text}"
                                for code, text in variable.value_labels.items()),
            "user_missing": "; ".join(f"{code}={variable.value_labels[code]}"
                                      for code in variable.user_missing),
            "base": int(len(values) - missing),
            "missing": missing,
            "csv_values": "; ".join(f"{value}={text}"
                                    for value, text in variable.csv_labels.items()),
        })
    return pd.DataFrame(rows, columns=CODEBOOK_COLUMNS)


def codebook_html(book: pd.DataFrame, title: str) -> str:
    """``codebook.html``: the codebook as one self-contained page (all text escaped)."""
    head = "".join(f"<th>{escape(column)}</th>" for column in book.columns)
    body = []
    for record in book.itertuples(index=False):
        cells = []
        for column, value in zip(book.columns, record, strict=True):
            text = escape(str(value))
            if column == "values" and text:
                text = "<br>".join(text.split("; "))
            cells.append(f"<td>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    rows = "\n".join(body)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Codebook: {escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
th, td {{ border: 1px solid #bbb; padding: 0.3em 0.5em; text-align: left;
          vertical-align: top; }}
th {{ background: #eee; position: sticky; top: 0; }}
</style>
</head>
<body>
<h1>Codebook: {escape(title)}</h1>
<p>One row per variable of partnerships.sav, partnerships.dta and partnerships.parquet.
<em>source</em> is the column of partnerships.csv; <em>user_missing</em> lists answers that
carry no information (user-missing in SPSS, tagged missing in Stata); <em>base</em> counts
the answers that carry information and <em>missing</em> the rest.</p>
<table>
<thead><tr>{head}</tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""


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


def write_parquet(data: LabelledData, path: Path) -> None:
    """``partnerships.parquet``: labelled variables as categoricals (needs pyarrow).

    Notes
    -----
    Written uncompressed: the file is small, and its text stays readable to the byte scans
    that check no output holds personal data.
    """
    data.categorical().to_parquet(path, engine="pyarrow", index=False, compression=None)


def write_labelled(folder: Path, partnerships: pd.DataFrame, instrument: Instrument,
                   stem: str = "partnerships", skipped: list | None = None) -> list[str]:
    """Write ``<stem>.sav``, ``<stem>.dta``, ``<stem>.parquet``, ``codebook.csv`` and
    ``codebook.html`` into ``folder``.

    The Parquet file needs pyarrow (the ``parquet`` extra); without it the file is left out
    and, when ``skipped`` is a list, a warning (RENDER_009) naming the fix is added to it.

    Returns
    -------
    list of str
        The names of the files written.
    """
    import pyreadstat

    from pipeline.report.optional import parquet_problem
    from pipeline.report.optional import skipped as skip

    data = labelled_data(partnerships, instrument)
    folder = Path(folder)
    title = f"{instrument.title} ({instrument.id} {instrument.version})"
    sav, dta = folder / f"{stem}.sav", folder / f"{stem}.dta"
    pyreadstat.write_sav(data.frame, str(sav), file_label=title[:64],
                         column_labels=data.column_labels("sav"),
                         variable_value_labels=data.value_labels,
                         missing_ranges=data.missing_ranges)
    _fix_sav_date(sav, instrument.year)
    stata, tags, stata_labels = data.stata()
    pyreadstat.write_dta(stata, str(dta), file_label=title[:80],
                         column_labels=data.column_labels("dta"),
                         variable_value_labels=stata_labels, missing_user_values=tags)
    _fix_dta_date(dta, instrument.year)
    written = [sav.name, dta.name]
    problem = parquet_problem()
    if problem is None:
        write_parquet(data, folder / f"{stem}.parquet")
        written.append(f"{stem}.parquet")
    elif skipped is not None:
        skipped.append(skip("RENDER_009", f"{stem}.parquet", *problem))
    book = codebook(data)
    # Like every CSV output, no cell can run as a spreadsheet formula.
    inert_frame(book).to_csv(folder / "codebook.csv", index=False, lineterminator="\n")
    (folder / "codebook.html").write_text(codebook_html(book, title), encoding="utf-8")
    return [*written, "codebook.csv", "codebook.html"]
