"""The lossless canonical responses table written by ``pulsecheck ingest`` (pure)."""

from __future__ import annotations

import re
from typing import Iterable

import pandas as pd

from pipeline.columns import MULTI_SEPARATOR
from pipeline.ingest.adapters.assemble import VERSION_COLUMN
from pipeline.model.instrument import Instrument


def to_responses(frame: pd.DataFrame, instrument: Instrument,
                 none_selected: Iterable[tuple[int, str]] = ()) -> pd.DataFrame:
    """One row per export row: ``response_id``, ``instrument_version``, then the answers.

    A select-one holds its choice name, a select-multiple one column
    ``<question>/<choice>`` per choice holding 1 or 0 (blank when the question was skipped;
    0 throughout when the platform shows it was answered with nothing ticked), and every other
    answer is kept verbatim. Values that match no choice stay as found, so nothing is lost.
    """
    answered_empty = set(none_selected)
    columns: dict[str, list] = {
        "response_id": frame.get("response_id", pd.Series([""] * len(frame))).tolist(),
        VERSION_COLUMN: frame.get(VERSION_COLUMN,
                                  pd.Series([instrument.version] * len(frame))).tolist(),
    }
    for question in instrument.answerable:
        cells = frame[question.name].tolist() if question.name in frame \
            else [""] * len(frame)
        if question.type != "select_multiple":
            columns[question.name] = ["" if pd.isna(c) else str(c) for c in cells]
            continue
        names = [[t for t in re.split(r"\s+", str(c).strip()) if t] if not pd.isna(c) else []
                 for c in cells]
        for choice in instrument.choices_for(question):
            columns[f"{question.name}{MULTI_SEPARATOR}{choice.name}"] = [
                "1" if choice.name in ticked else
                ("0" if ticked or (position, question.name) in answered_empty else "")
                for position, ticked in enumerate(names)]
    return pd.DataFrame(columns, dtype=object)
