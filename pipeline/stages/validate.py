"""Validate: decode and type every answer against the instrument, and report every problem.

Validation is lazy: nothing stops at the first bad cell. Each problem becomes a row of the
issues table (see :mod:`pipeline.errors`) and, by severity:

* ``warning`` — the cell is unusable (not a number, unknown code, broken constraint, an
  exclusive choice ticked with others, an answer that skip logic hides) and is set to missing;
  the row is kept. A required answer that is missing is reported the same way.
* ``error`` — the row cannot be analysed (no respondent key, a repeated response id, a ragged
  record, too many invalid answers); the run's quarantine step moves it to ``quarantine.csv``.

The typed frame has one column per select-one, number and text question, and one column
``question/choice`` (1/0, missing when unanswered) per choice of a select-multiple question.
Inputs are never modified.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipeline.columns import FILE_COLUMN, MULTI_SEPARATOR, ROLES, ROW_COLUMN
from pipeline.errors import issues_frame, make_issue
from pipeline.model import expressions
from pipeline.model.instrument import Instrument, Question

_INTEGER = re.compile(r"^[+-]?\d+(?:\.0+)?$")
_DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EXCEL_CODE = re.compile(r"^(\d+)\.0+$")
# Commas every three digits before any decimal point: "1,250" or "12,500.5". A comma with
# other spacing ("1,5") may be a decimal comma and is not guessed at.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")

_SHOWN_CHOICES = 8
#: :func:`_distinct` does not hash a column when most of its first this many rows differ.
_PROBE_ROWS = 1000
#: Question types whose answers are decoded from their stripped text.
_DECODED_TYPES = ("select_one", "select_multiple", "integer", "decimal", "date")
#: Shown instead of the value when an invalid answer is personal data.
WITHHELD = "(personal data withheld)"


@dataclass(frozen=True)
class ValidationConfig:
    """Settings of validation (from the wave description).

    Parameters
    ----------
    multiple_separator : str
        How the platform joins select-multiple codes in one cell.
    finished_true : tuple of str
        Values of the platform's ``finished`` role that mean the response was completed;
        required answers are only checked on completed responses.
    max_invalid : int
        A row with more invalid answers than this is quarantined (``VAL_010``).
    submitted_at_format : str
        ``strptime`` format of the ``submitted_at`` role; values in another form are
        reported (``VAL_013``). Empty: not checked.
    """

    multiple_separator: str = ","
    finished_true: tuple[str, ...] = ("1",)
    max_invalid: int = 10
    submitted_at_format: str = ""


@dataclass(frozen=True)
class ValidationResult:
    """The typed frame and the issues found (one row per problem)."""

    frame: pd.DataFrame
    issues: pd.DataFrame


class _Context:
    """Gives expressions access to the typed answers built so far."""

    def __init__(self, columns: Mapping[str, pd.Series], instrument: Instrument,
                 current: str | None = None):
        self.columns = columns
        self.instrument = instrument
        self.current = current

    def _question(self, name: str | None) -> Question:
        return self.instrument.question(name or self.current)

    def take(self, positions: np.ndarray) -> "_Context":
        """The same answers for the rows at ``positions`` only."""
        return _Context(_Rows(self.columns, positions), self.instrument, self.current)

    def value(self, name: str | None) -> pd.Series:
        question = self._question(name)
        if question.type == "select_multiple":
            # Space-separated names of the ticked choices, as ODK stores them; blank when
            # the question was not answered.
            joined: pd.Series | None = None
            answered: pd.Series | None = None
            for choice, column in zip(self.instrument.choices_for(question),
                                      self.instrument.indicator_columns(question), strict=True):
                indicator = self.columns[column]
                hit = indicator.eq(1).fillna(False).astype(bool)
                if joined is None:
                    joined = pd.Series("", index=indicator.index, dtype=object)
                    answered = pd.Series(False, index=indicator.index)
                joined = joined.where(~hit, joined + " " + choice.name)
                answered = answered | indicator.notna()
            return joined.str.strip().where(answered, None)
        return self.columns[question.name]

    def selected(self, name: str | None, choice: str) -> pd.Series:
        question = self._question(name)
        if question.type == "select_multiple":
            column = f"{question.name}{MULTI_SEPARATOR}{choice}"
            if column not in self.columns:
                return pd.Series(False, index=next(iter(self.columns.values())).index)
            return self.columns[column].eq(1).fillna(False).astype(bool)
        return self.columns[question.name].eq(choice).fillna(False).astype(bool)

    def count_selected(self, name: str | None) -> pd.Series:
        question = self._question(name)
        if question.type == "select_multiple":
            indicators = [self.columns[c] for c in self.instrument.indicator_columns(question)]
            return pd.concat(indicators, axis=1).fillna(0).sum(axis=1).astype(float)
        return self.columns[question.name].notna().astype(float)


class _Rows(Mapping):
    """Typed columns restricted to some rows; a column is taken when first asked for."""

    def __init__(self, columns: Mapping[str, pd.Series], positions: np.ndarray):
        self._columns = columns
        self._positions = positions
        self._taken: dict[str, pd.Series] = {}

    def __getitem__(self, name: str) -> pd.Series:
        if name not in self._taken:
            self._taken[name] = self._columns[name].iloc[self._positions].reset_index(drop=True)
        return self._taken[name]

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


def _blank(series: pd.Series) -> pd.Series:
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=False) == "string":
        # Only text (the usual export): nothing is missing and str() changes nothing.
        blank = np.fromiter((not value.strip() for value in series.to_numpy()), dtype=bool,
                            count=len(series))
        return pd.Series(blank, index=series.index, name=series.name)
    return series.isna() | series.astype(str).str.strip().eq("")


def _stripped(series: pd.Series) -> pd.Series:
    """``series.astype(str).str.strip()``; a column of text only stays an object column."""
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=False) == "string":
        return pd.Series([value.strip() for value in series.to_numpy()], index=series.index,
                         name=series.name, dtype=object)
    return series.astype(str).str.strip()


def _one_by_one(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """:func:`_distinct`'s result with every row a value of its own."""
    return np.arange(len(values)), values.reset_index(drop=True)


def _distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Each row's position among the distinct values, and those values (first seen first).

    Missing values count as one distinct value (placed last): every decoding step treats
    them alike, as blank. Columns whose first rows are mostly distinct (identifiers) are not
    hashed: each row is its own value.
    """
    probe = values.iloc[:_PROBE_ROWS]
    if len(values) > 2 * _PROBE_ROWS and 2 * probe.nunique(dropna=False) > len(probe):
        return _one_by_one(values)
    codes, uniques = pd.factorize(values)
    if values.dtype == object and pd.api.types.infer_dtype(uniques, skipna=True) not in (
            "string", "empty"):
        # Hashing treats 1, 1.0 and True as one value although their text differs: cells
        # that are not all text are decoded one by one. (Text never equals other values, so
        # the column is all text when its distinct values are.)
        return _one_by_one(values)
    distinct = list(uniques)
    if (codes < 0).any():
        distinct.append(values.iloc[int(np.flatnonzero(codes < 0)[0])])
        codes = np.where(codes < 0, len(distinct) - 1, codes)
    return codes, pd.Series(distinct, dtype=values.dtype, name=values.name)


def _spread(values: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """Values computed per distinct value, back on every row (dtype and name kept)."""
    return pd.Series(values.array.take(codes), index=index, name=values.name, copy=False)


def _choice_lookup(instrument: Instrument, question: Question) -> dict[str, str]:
    """Accept a choice's code, its name, or its label (case-insensitive) → choice name."""
    lookup: dict[str, str] = {}
    for choice in instrument.choices_for(question):
        lookup[choice.label.strip().lower()] = choice.name
    for choice in instrument.choices_for(question):
        lookup[choice.name.lower()] = choice.name
    for choice in instrument.choices_for(question):
        lookup[choice.code.lower()] = choice.name
    return lookup


def _normalise_code(text: str) -> str:
    text = text.strip()
    match = _EXCEL_CODE.match(text)
    return (match.group(1) if match else text).lower()


def validate_responses(frame: pd.DataFrame, instrument: Instrument,
                       config: ValidationConfig = ValidationConfig()) -> ValidationResult:
    """Decode, type and check every answer of a canonical export frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        The canonical string frame from :func:`pipeline.ingest.readers.read_export` (or several
        concatenated). Not modified.
    instrument : Instrument
        The instrument version the answers belong to.
    config : ValidationConfig
        Validation settings.

    Returns
    -------
    ValidationResult
        The typed frame (same index and row order as ``frame``) and the issues table.
    """
    issues: list[dict[str, Any]] = []
    index = frame.index
    files = frame[FILE_COLUMN] if FILE_COLUMN in frame else pd.Series("", index=index)
    rows = frame[ROW_COLUMN] if ROW_COLUMN in frame else pd.Series(range(1, len(frame) + 1),
                                                                     index=index)
    respondents = frame["response_id"] if "response_id" in frame else pd.Series(
        "", index=index)

    personal = set(instrument.personal_questions)

    def record(code: str, positions: np.ndarray, column: str, values: list | None,
               per_row: dict[str, list], fixed: dict[str, Any]) -> None:
        """One issue per row at ``positions``; ``values`` and ``per_row`` hold one per row."""
        shown = [None] * len(positions) if values is None else values
        for j, (file, row, respondent) in enumerate(zip(
                _pick(files, positions), _pick(rows, positions),
                _pick(respondents, positions), strict=True)):
            issues.append(make_issue(
                code, file=file, row=int(row), column=column, value=shown[j],
                respondent=respondent, **fixed, **{k: v[j] for k, v in per_row.items()}))

    def withheld(column: str, positions: np.ndarray) -> list | None:
        # Personal answers never travel into issue tables, even when invalid.
        return [WITHHELD] * len(positions) if column in personal else None

    def report(code: str, mask: pd.Series, column: str, values: pd.Series | None = None,
               **params: Any) -> None:
        positions = np.flatnonzero(mask.to_numpy(dtype=bool))
        if len(positions):
            record(code, positions, column,
                   None if values is None else
                   withheld(column, positions) or _pick(values, positions),
                   {k: _pick_labels(v, positions, index) for k, v in params.items()
                    if isinstance(v, pd.Series)},
                   {k: v for k, v in params.items() if not isinstance(v, pd.Series)})

    columns: dict[str, pd.Series] = {}
    for name in (FILE_COLUMN, ROW_COLUMN, *ROLES):
        if name in frame:
            columns[name] = frame[name]
    if "finished" in frame:
        # Per distinct value, as in decoding.
        codes, raw = _distinct(frame["finished"])
        finished = _spread(raw.astype(str).str.strip().isin(config.finished_true), codes, index)
    else:
        finished = pd.Series(True, index=index)
    if "progress" in frame:
        codes, raw = _distinct(frame["progress"])
        columns["progress"] = _spread(
            pd.to_numeric(raw, errors="coerce").astype("Float64"), codes, index)
    columns["finished"] = finished

    invalid = np.zeros(len(index), dtype=np.int64)  # invalid answers per row
    decode_failed: dict[str, pd.Series] = {}
    # Per question, each row's code among the question's distinct answers (rows with one code
    # have equal typed answers) and the number of codes: expressions are evaluated once per
    # distinct combination of the answers they refer to.
    keys: dict[str, tuple[np.ndarray, int]] = {}
    # Which rows answer each question, as decoded (phase 2 blanks a question's answers only
    # while checking that question).
    answered_at_decode: dict[str, pd.Series] = {}
    evaluated: dict[tuple[str, str | None], tuple[tuple[np.ndarray, ...], pd.Series]] = {}

    # 1. Decode and type each question's answers. Every step is a function of the cell
    # alone, so it runs once per distinct value and is spread back over the rows.
    for question in instrument.answerable:
        found = frame[question.name] if question.name in frame else pd.Series("", index=index)
        codes, raw = _distinct(found)
        keys[question.name] = _key(codes, len(raw))

        def spread(values: pd.Series, codes: np.ndarray = codes) -> pd.Series:
            return _spread(values, codes, index)

        def report_distinct(code: str, mask: pd.Series, column: str,
                            values: pd.Series | None = None, *, codes: np.ndarray = codes,
                            found: pd.Series = found, raw: pd.Series = raw,
                            **params: Any) -> None:
            # ``mask``, ``values`` and Series in ``params`` hold one entry per distinct value.
            if not mask.any():
                return
            positions = np.flatnonzero(mask.to_numpy(dtype=bool)[codes])
            shown = None if values is None else withheld(column, positions) or (
                _pick(found, positions) if values is raw else _pick(values, codes[positions]))
            record(code, positions, column, shown,
                   {k: _pick_labels(v, positions, index, codes) for k, v in params.items()
                    if isinstance(v, pd.Series)},
                   {k: v for k, v in params.items() if not isinstance(v, pd.Series)})

        blank = _blank(raw)
        text = raw.where(~blank, "").astype(str).str.strip() \
            if question.type in _DECODED_TYPES else None
        failed = pd.Series(False, index=raw.index)
        typed: dict[str, pd.Series] = {}
        if question.type == "select_one":
            lookup = _choice_lookup(instrument, question)
            decoded = text.map(
                lambda v, lookup=lookup: lookup.get(_normalise_code(v)) if v else None)
            failed = ~blank & decoded.isna()
            report_distinct("VAL_002", failed, question.name, raw, list_name=question.list_name,
                   choices=_choices_hint(instrument, question))
            typed[question.name] = decoded.astype("str").where(decoded.notna(), pd.NA)
        elif question.type == "select_multiple":
            lookup = _choice_lookup(instrument, question)
            # Codes and names never contain blanks, so blanks separate them as well as the
            # platform's separator does.
            splitter = re.compile(rf"[{re.escape(config.multiple_separator)}\s]+")
            tokens = text.map(lambda v, splitter=splitter: [
                t for t in (_normalise_code(p) for p in splitter.split(v)) if t])
            names = tokens.map(lambda ts, lookup=lookup: [lookup.get(t) for t in ts])
            failed = ~blank & names.map(lambda ns: (not ns) or any(n is None for n in ns))
            report_distinct("VAL_002", failed, question.name, raw, list_name=question.list_name,
                   choices=_choices_hint(instrument, question))
            usable = ~blank & ~failed
            chosen = names.where(usable, None)
            exclusive = {c.name for c in instrument.choices_for(question) if c.exclusive}
            clash = usable & chosen.map(
                lambda ns, exclusive=exclusive: bool(ns) and bool(exclusive & set(ns))
                and len(set(ns)) > 1)
            if clash.any():
                report_distinct("VAL_005", clash, question.name, raw,
                       exclusive=chosen.where(clash, None).map(
                           lambda ns, exclusive=exclusive:
                           ", ".join(sorted(exclusive & set(ns))) if ns else ""),
                       others=chosen.where(clash, None).map(
                           lambda ns, exclusive=exclusive:
                           ", ".join(n for n in ns if n not in exclusive) if ns else ""))
                failed = failed | clash
                chosen = chosen.where(~clash, None)
            for choice in instrument.choices_for(question):
                indicator = chosen.map(lambda ns, c=choice.name: (c in ns) if ns else None)
                values = pd.array([pd.NA if v is None else int(v) for v in indicator],
                                  dtype="Int8")
                typed[f"{question.name}{MULTI_SEPARATOR}{choice.name}"] = pd.Series(
                    values, index=raw.index)
        elif question.type in ("integer", "decimal"):
            # Only surrounding white space is dropped: digits split by spaces inside ("+44 20
            # 7946 0321") are a phone number or an id, not a number to be glued together.
            cleaned = text.str.strip()
            pattern = _INTEGER if question.type == "integer" else _DECIMAL
            # Spreadsheets format numbers with thousands separators; the number is not in
            # doubt, so it is read and the assumption noted (VAL_012) rather than dropped.
            grouped = ~blank & cleaned.str.match(_THOUSANDS.pattern)
            cleaned = cleaned.where(~grouped, cleaned.str.replace(",", "", regex=False))
            ok = cleaned.str.match(pattern.pattern)
            report_distinct("VAL_012", grouped & ok, question.name, raw, number=cleaned)
            # More than 15 digits cannot be held exactly; such a "number" is not an answer.
            huge = ok & cleaned.str.replace(r"^[+-]|\.\d*$", "", regex=True).str.len().gt(15)
            ok = ok & ~huge
            if question.type == "integer":
                fractional = ~blank & ~ok & ~huge & cleaned.str.match(_DECIMAL.pattern)
                report_distinct("VAL_009", fractional, question.name, raw)
                not_number = ~blank & ~ok & ~fractional
            else:
                fractional = pd.Series(False, index=raw.index)
                not_number = ~blank & ~ok
            report_distinct("VAL_001", not_number, question.name, raw,
                   kind="whole number" if question.type == "integer" else "number")
            failed = fractional | not_number
            numbers = pd.to_numeric(cleaned.where(ok & ~blank, None), errors="coerce")
            dtype = "Int64" if question.type == "integer" else "Float64"
            typed[question.name] = numbers.round().astype(dtype) \
                if question.type == "integer" else numbers.astype(dtype)
        elif question.type == "date":
            ok = text.str.match(_ISO_DATE.pattern)
            parsed = pd.to_datetime(text.where(ok & ~blank, None), format="%Y-%m-%d",
                                    errors="coerce")
            failed = ~blank & parsed.isna()
            report_distinct("VAL_001", failed, question.name, raw, kind="date (YYYY-MM-DD)")
            typed[question.name] = parsed
        else:
            typed[question.name] = raw.where(~blank, pd.NA).astype("str").where(~blank, pd.NA)
        for name, values in typed.items():
            columns[name] = spread(values)
        answered_at_decode[question.name] = spread(_answered_distinct(typed, question))
        failed = spread(failed)
        decode_failed[question.name] = failed
        invalid += failed.to_numpy()

    # 2. Skip logic, required answers and constraints, in instrument order.
    for question in instrument.answerable:
        answered = answered_at_decode[question.name]
        failed = decode_failed[question.name]
        relevant = pd.Series(True, index=index)
        for condition in question.conditions:
            relevant &= _holds(condition, _Context(columns, instrument, question.name), keys,
                               index, evaluated)
        hidden = answered & ~relevant
        if hidden.any():
            report("VAL_006", hidden, question.name,
                   _display(columns, instrument, question, hidden), question=question.name,
                   relevant=" and ".join(question.conditions))
            _set_missing(columns, keys, instrument, question, hidden)
            answered = answered & relevant
        if question.required and question.name != instrument.respondent_key:
            # A missing respondent key is reported once, as the row-level VAL_007.
            missing = relevant & ~answered & ~failed & finished
            report("VAL_003", missing, question.name, question=question.name)
        if question.constraint:
            holds = _holds(question.constraint, _Context(columns, instrument, question.name),
                           keys, index, evaluated)
            broken = answered & ~holds
            if broken.any():
                text = question.constraint_message.rstrip(". ")
                message = f" ({text})" if text else ""
                report("VAL_004", broken, question.name,
                       _display(columns, instrument, question, broken),
                       constraint=question.constraint, message=message)
                _set_missing(columns, keys, instrument, question, broken)
                invalid += broken.to_numpy()

    # 3. Row-level rules.
    if "submitted_at" in frame and config.submitted_at_format:
        # The submission time only decides between duplicate submissions; one that is not in
        # the platform's format is reported, not guessed (a spreadsheet re-save turns
        # 2016-06-01 10:00:00 into 01/06/2016 10:00, which is 1 June or 6 January).
        codes, raw = _distinct(frame["submitted_at"])
        stamp = raw.astype(str).str.strip()
        parsed = pd.to_datetime(stamp.where(stamp.ne(""), None),
                                format=config.submitted_at_format, errors="coerce")
        unreadable = stamp.ne("") & parsed.isna()
        if unreadable.any():
            report("VAL_013", _spread(unreadable, codes, index), "submitted_at",
                   _spread(stamp, codes, index), expected=config.submitted_at_format)
    key = instrument.respondent_key
    no_key = ~_answered(columns, instrument, instrument.question(key))
    report("VAL_007", no_key & ~decode_failed[key], key, key=key)
    if "response_id" in frame:
        ids = _stripped(frame["response_id"])
        repeated = ids.duplicated(keep=False) & ids.ne("")
        if repeated.any():
            where = rows.groupby(ids.where(repeated)).agg(
                lambda r: ", ".join(str(int(x)) for x in r))
            report("VAL_011", repeated, "response_id", ids, rows=ids.map(where))
    invalid = pd.Series(invalid, index=index)
    too_many = invalid > config.max_invalid
    report("VAL_010", too_many, None, n=invalid, limit=config.max_invalid)

    # The columns are new or read-only views of ``frame`` (copy-on-write): no copy needed.
    return ValidationResult(frame=pd.DataFrame(columns, index=index, copy=False),
                            issues=issues_frame(issues))


def _choices_hint(instrument: Instrument, question: Question) -> str:
    choices = instrument.choices_for(question)
    shown = ", ".join(f"{c.code}={c.name}" for c in choices[:_SHOWN_CHOICES])
    return shown + (f", … ({len(choices)} in all)" if len(choices) > _SHOWN_CHOICES else "")


def _answered_distinct(typed: dict[str, pd.Series], question: Question) -> pd.Series:
    """Which distinct answers are answers, from the typed columns decoded from them.

    The same as :func:`_answered` on those columns.
    """
    if question.type == "select_multiple":
        present = np.logical_or.reduce([values.notna().to_numpy() for values in typed.values()])
        return pd.Series(present, index=next(iter(typed.values())).index)
    return typed[question.name].notna()


def _answered(columns: dict[str, pd.Series], instrument: Instrument,
              question: Question) -> pd.Series:
    if question.type == "select_multiple":
        indicators = [columns[c] for c in instrument.indicator_columns(question)]
        present = np.logical_or.reduce([column.notna().to_numpy() for column in indicators])
        return pd.Series(present, index=indicators[0].index)
    return columns[question.name].notna()


def _display(columns: dict[str, pd.Series], instrument: Instrument, question: Question,
             mask: pd.Series) -> pd.Series:
    """The answers as expressions see them, on the rows of ``mask`` (elsewhere: None).

    Select-multiple answers are joined only on those rows; other answers are the typed column.
    """
    context = _Context(columns, instrument, question.name)
    if question.type != "select_multiple":
        return context.value(None)
    positions = np.flatnonzero(mask.to_numpy(dtype=bool))
    shown = np.full(len(mask), None, dtype=object)
    shown[positions] = context.take(positions).value(None).to_numpy()
    return pd.Series(shown, index=mask.index)


def _holds(text: str, context: _Context, keys: dict[str, tuple[np.ndarray, int]],
           index: pd.Index,
           evaluated: dict[tuple[str, str | None], tuple[tuple[np.ndarray, ...], pd.Series]]
           ) -> pd.Series:
    """Evaluate an expression to booleans, once per distinct combination of its answers.

    ``evaluated`` remembers results; one is reused while the codes of every question the
    expression refers to are the same arrays (:func:`_set_missing` replaces them).
    """
    node = expressions.parse(text)
    current = context.current if expressions.refers_to_current(node) else None
    names = sorted(expressions.references(node)) + ([] if current is None else [current])
    if not all(name in keys for name in names):
        return expressions.evaluate_bool(node, context, index)
    used = tuple(keys[name][0] for name in names)
    remembered = evaluated.get((text, current))
    if remembered is not None and len(remembered[0]) == len(used) and all(
            a is b for a, b in zip(remembered[0], used, strict=True)):
        return remembered[1]
    result = expressions.evaluate_bool_distinct(node, context, index,
                                                [keys[name] for name in names])
    evaluated[(text, current)] = (used, result)
    return result


def _set_missing(columns: dict[str, pd.Series], keys: dict[str, tuple[np.ndarray, int]],
                 instrument: Instrument, question: Question, mask: pd.Series) -> None:
    """Blank the question's answers where ``mask``; its masked rows get a code of their own."""
    names = instrument.indicator_columns(question) if question.type == "select_multiple" \
        else (question.name,)
    for name in names:
        columns[name] = columns[name].mask(mask)
    keys[question.name] = _masked_key(keys[question.name], mask.to_numpy(dtype=bool))


def _masked_key(key: tuple[np.ndarray, int], mask: np.ndarray) -> tuple[np.ndarray, int]:
    """The key after blanking the rows of ``mask``: they get a new code of their own."""
    codes, count = key
    return _key(np.where(mask, np.int64(count), codes.astype(np.int64)), count + 1)


def _key(codes: np.ndarray, count: int) -> tuple[np.ndarray, int]:
    """Codes in ``range(count)`` held in the smallest integer type that fits them."""
    return codes.astype(np.min_scalar_type(-count), copy=False), count


def _pick(values: pd.Series, positions: np.ndarray) -> list:
    """The values at ``positions``, each as ``values.iloc[position]`` gives it."""
    return list(values.array[positions])


def _pick_labels(values: pd.Series, positions: np.ndarray, index: pd.Index,
                 codes: np.ndarray | None = None) -> list:
    """``values.loc[index[position]]`` for each position.

    ``values`` is aligned with ``index``, or (given ``codes``) holds one value per distinct
    answer and ``codes`` each row's.
    """
    if index.is_unique:
        return _pick(values, positions if codes is None else codes[positions])
    aligned = values if codes is None else _spread(values, codes, index)
    return [aligned.loc[index[position]] for position in positions]
