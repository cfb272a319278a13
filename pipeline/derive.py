"""Derive: compute the report's derived variables from analysed partnerships (pure).

Each derived variable is declared in the report specification (see :mod:`pipeline.spec`)
with a generic kind; the rules and thresholds are data. Missing answers stay missing: a band
of a missing number is missing, a count over questions with any answer missing is missing
(so bases shrink honestly rather than counting a blank as "not selected").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.columns import MULTI_SEPARATOR
from pipeline.instrument import Instrument
from pipeline.spec import Derived, ReportSpec


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


def _band_labels(values: pd.Series, derived: Derived) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    result = pd.Series(pd.NA, index=values.index, dtype="object")
    for band in reversed(derived.bands):
        inside = numbers.notna()
        if band.min is not None:
            inside &= numbers >= float(band.min)
        if band.max is not None:
            inside &= numbers <= float(band.max)
        result = result.mask(inside, band.label)
    return result.astype("str").where(result.notna(), pd.NA)


def _answered_all(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    return frame[columns].notna().all(axis=1)


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

    def get(name: str) -> pd.Series:
        return columns[name] if name in columns else frame[name]

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
            indicators = frame[list(instrument.indicator_columns(question))]
            counts = indicators.fillna(0).sum(axis=1).astype("Int64")
            columns[derived.name] = counts.where(indicators.notna().any(axis=1), pd.NA)
        elif derived.kind == "count_at_least":
            values = pd.concat([pd.to_numeric(get(s), errors="coerce").astype(float)
                                for s in derived.sources], axis=1)
            counts = (values >= derived.threshold).sum(axis=1).astype("Int64")
            columns[derived.name] = counts.where(values.notna().all(axis=1), pd.NA)
        elif derived.kind == "count_matching":
            sources = _sources(derived, instrument)
            hits = pd.concat([get(s).isin(derived.values) for s in sources], axis=1)
            counts = hits.sum(axis=1).astype("Int64")
            complete = pd.concat([get(s).notna() for s in sources], axis=1).all(axis=1)
            columns[derived.name] = counts.where(complete, pd.NA)
        elif derived.kind == "indicators":
            for source in _sources(derived, instrument):
                answer = get(source)
                values = np.where(answer.isin(derived.values).to_numpy(dtype=bool), 1, 0)
                indicator = pd.Series(pd.array(values, dtype="Int8"), index=frame.index)
                columns[f"{derived.name}{MULTI_SEPARATOR}{source}"] = indicator.where(
                    answer.notna(), pd.NA)
        elif derived.kind == "difference":
            numbers = pd.to_numeric(get(derived.source), errors="coerce").astype("Float64")
            columns[derived.name] = derived.constant - numbers
    return pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)


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
