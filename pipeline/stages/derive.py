"""Derive: compute the report's derived variables from analysed partnerships (pure).

Each derived variable is declared in the report specification (see
:mod:`pipeline.model.report_spec`) with a generic kind; the rules and thresholds are data.
Missing answers stay missing: a band of a missing number is missing, a count over questions with
any answer missing is missing (so bases shrink honestly rather than counting a blank as "not
selected").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.columns import MULTI_SEPARATOR
from pipeline.model.instrument import Instrument
from pipeline.model.report_spec import Derived, ReportSpec


@dataclass(frozen=True)
class Item:
    """One row of a multi-response table: its indicator column and label."""

    name: str
    column: str
    label: str


def _sources(derived: Derived, instrument: Instrument) -> list[str]:
    if derived.sources:
        return list(derived.sources)
    return [q.name for q in instrument.questions if q.group == derived.group]


def _numbers(values: pd.Series) -> np.ndarray:
    """The values as floats (blank or not a number: NaN)."""
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(values, errors="coerce").astype(float).to_numpy()


def _text(labels: np.ndarray, index: pd.Index) -> pd.Series:
    """Text labels (``None`` for blank) as a text column."""
    return pd.Series(labels, index=index, dtype="str", copy=False)


def _whole_numbers(counts: np.ndarray, known: np.ndarray, index: pd.Index) -> pd.Series:
    """Counts as a nullable integer column, blank where not ``known``."""
    return pd.Series(pd.arrays.IntegerArray(np.where(known, counts, 0).astype(np.int64),
                                            ~known), index=index, copy=False)


def _band_labels(values: pd.Series, derived: Derived) -> pd.Series:
    numbers = _numbers(values)
    # Index of each value's band (-1: none); the first band that holds a value wins.
    band = np.full(numbers.shape[0], -1, dtype=np.int64)
    for i in reversed(range(len(derived.bands))):
        inside = ~np.isnan(numbers)
        if derived.bands[i].min is not None:
            inside &= numbers >= float(derived.bands[i].min)
        if derived.bands[i].max is not None:
            inside &= numbers <= float(derived.bands[i].max)
        band[inside] = i
    labels = np.array([b.label for b in derived.bands] + [None], dtype=object)
    return _text(labels[band], values.index)


def _counts_of_indicators(indicators: pd.DataFrame) -> pd.Series:
    """Number of items chosen, blank when every item is blank."""
    answered = np.zeros(len(indicators), dtype=bool)
    for name in indicators.columns:
        answered |= indicators[name].notna().to_numpy()
    if all(pd.api.types.is_integer_dtype(t) or pd.api.types.is_bool_dtype(t)
           for t in indicators.dtypes):
        # Whole-number items: add them column by column (exact) rather than row-wise.
        total = np.zeros(len(indicators), dtype=np.int64)
        for name in indicators.columns:
            total += indicators[name].to_numpy(dtype=np.int64, na_value=0)
        return _whole_numbers(total, answered, indicators.index)
    counts = indicators.fillna(0).sum(axis=1).astype("Int64")
    return counts.where(answered, pd.NA)


def derive_variables(frame: pd.DataFrame, instrument: Instrument,
                     spec: ReportSpec) -> pd.DataFrame:
    """Add the specification's derived variables to a copy of ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Analysed partnerships (typed answers). Not modified.
    instrument : Instrument
        Supplies groups and select-multiple items.
    spec : ReportSpec
        Declares the derived variables, in order (a variable may use earlier ones).

    Returns
    -------
    pandas.DataFrame
        ``frame`` with one column per derived variable (``indicators`` add one column
        ``name/item`` per source question).
    """
    columns: dict[str, pd.Series] = {}
    index = frame.index
    # Answers matched by several variables are matched once (text comparisons are costly).
    hits: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}
    answered: dict[str, np.ndarray] = {}

    def get(name: str) -> pd.Series:
        return columns[name] if name in columns else frame[name]

    def matching(name: str, values: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Which answers to ``name`` are one of ``values``, and which are not blank."""
        if name in columns:
            answer = columns[name]
            return answer.isin(values).to_numpy(dtype=bool), answer.notna().to_numpy()
        if (name, values) not in hits:
            hits[(name, values)] = frame[name].isin(values).to_numpy(dtype=bool)
        if name not in answered:
            answered[name] = frame[name].notna().to_numpy()
        return hits[(name, values)], answered[name]

    for derived in spec.derived:
        if derived.kind == "bands":
            columns[derived.name] = _band_labels(get(derived.source), derived)
        elif derived.kind == "recode":
            source = get(derived.source)
            # Recode each distinct answer once, then spread it to the rows.
            lookup = {v: derived.mapping.get(str(v)) for v in source.dropna().unique()}
            mapped = source.map(lookup)
            columns[derived.name] = mapped.astype("str").where(mapped.notna(), pd.NA)
        elif derived.kind == "count_selected":
            question = instrument.question(derived.source)
            columns[derived.name] = _counts_of_indicators(
                frame[list(instrument.indicator_columns(question))])
        elif derived.kind == "count_at_least":
            values = np.column_stack([_numbers(get(s)) for s in derived.sources])
            columns[derived.name] = _whole_numbers(
                (values >= derived.threshold).sum(axis=1), ~np.isnan(values).any(axis=1),
                index)
        elif derived.kind == "count_matching":
            counts = np.zeros(len(frame), dtype=np.int64)
            complete = np.ones(len(frame), dtype=bool)
            for source in _sources(derived, instrument):
                hit, present = matching(source, derived.values)
                counts += hit & present
                if derived.blank == "missing":
                    complete &= present
            columns[derived.name] = _whole_numbers(counts, complete, index)
        elif derived.kind == "indicators":
            for source in _sources(derived, instrument):
                hit, present = matching(source, derived.values)
                # blank = "zero": a blank answer is a 0, not a missing item.
                known = present if derived.blank == "missing" \
                    else np.ones(len(frame), dtype=bool)
                columns[f"{derived.name}{MULTI_SEPARATOR}{source}"] = pd.Series(
                    pd.arrays.IntegerArray((hit & present).astype(np.int8), ~known),
                    index=index, copy=False)
        elif derived.kind == "difference":
            numbers = pd.to_numeric(get(derived.source), errors="coerce").astype("Float64")
            columns[derived.name] = derived.constant - numbers
        elif derived.kind == "ratio":
            numerator = _numbers(get(derived.numerator))
            denominator = _numbers(get(derived.denominator))
            known = ~np.isnan(numerator) & ~np.isnan(denominator) & (denominator != 0)
            shares = np.divide(derived.scale * numerator, denominator,
                               out=np.zeros(len(frame)), where=known)
            columns[derived.name] = pd.Series(pd.arrays.FloatingArray(shares, ~known),
                                              index=index, copy=False)
    return pd.concat([frame, pd.DataFrame(columns, index=index, copy=False)], axis=1)


def multi_items(name: str, instrument: Instrument, spec: ReportSpec) -> list[Item]:
    """The items of a multi-response variable: a select-multiple question or an
    ``indicators`` family, in instrument order."""
    for derived in spec.derived:
        if derived.name == name and derived.kind == "indicators":
            return [Item(name=s, column=f"{name}{MULTI_SEPARATOR}{s}",
                         label=instrument.question(s).label)
                    for s in _sources(derived, instrument)]
    question = instrument.question(name)
    return [Item(name=c.name, column=f"{name}{MULTI_SEPARATOR}{c.name}", label=c.label)
            for c in instrument.choices_for(question)]


def single_levels(name: str, instrument: Instrument, spec: ReportSpec
                  ) -> list[tuple[str, str]]:
    """Ordered ``(level, label)`` pairs of a single-choice variable (question or derived)."""
    for derived in spec.derived:
        if derived.name == name:
            if derived.kind == "bands":
                return [(b.label, b.label) for b in derived.bands]
            if derived.kind == "recode":
                seen: list[str] = []
                for group in derived.mapping.values():
                    if group not in seen:
                        seen.append(group)
                return [(g, g) for g in seen]
    question = instrument.question(name)
    return [(c.name, c.label) for c in instrument.choices_for(question)]
