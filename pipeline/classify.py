"""Classify: place each partnership in a developmental phase from its self-placement.

The phase question and the table that groups its answers into phases both live in the
instrument (``manifest.toml`` ``[phase]`` and ``phase_map.csv``); nothing here knows a stage
or phase name. A partnership whose answer is missing or maps to no phase is *unclassified*:
it stays in the analysed set, is counted in overall figures, and is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.errors import issues_frame, make_issue
from pipeline.columns import FILE_COLUMN, PHASE_COLUMN, ROW_COLUMN
from pipeline.instrument import Instrument


@dataclass(frozen=True)
class Classification:
    """Phase group per row (same index as the input) and the rows reported as unclassified."""

    phase: pd.Series
    issues: pd.DataFrame


def classify_phase(frame: pd.DataFrame, instrument: Instrument) -> Classification:
    """Map each row's self-placement through the instrument's phase map.

    Parameters
    ----------
    frame : pandas.DataFrame
        Typed answers (from :func:`pipeline.validate.validate_responses`). Not modified.
    instrument : Instrument
        Supplies the phase question, the phase map and the name of the unclassified group.

    Returns
    -------
    Classification
        ``phase`` is a categorical Series with the phase groups in developmental order
        followed by the unclassified group; ``issues`` has one ``CLS_001`` row per
        unclassified partnership.

    Notes
    -----
    The grouping of Pathway stages into phases is assumption A-PHASE-1.
    """
    answers = frame[instrument.phase_question]
    lookup = instrument.phase_lookup
    placed = answers.map(lambda value: lookup.get(value) if isinstance(value, str) else None)
    placed = placed.where(placed.notna() & placed.ne(instrument.unclassified),
                          instrument.unclassified)
    categories = list(instrument.phase_order) + [instrument.unclassified]
    phase = pd.Series(pd.Categorical(placed, categories=categories, ordered=True),
                      index=frame.index, name=PHASE_COLUMN)
    unclassified = phase.eq(instrument.unclassified)
    issues = [
        make_issue("CLS_001", file=frame.at[label, FILE_COLUMN] if FILE_COLUMN in frame else None,
                   row=int(frame.at[label, ROW_COLUMN]) if ROW_COLUMN in frame else None,
                   column=instrument.phase_question,
                   value="(blank)" if pd.isna(answers.at[label]) else answers.at[label],
                   respondent=frame.at[label, "response_id"] if "response_id" in frame
                   else None)
        for label in frame.index[unclassified.to_numpy()]
    ]
    return Classification(phase=phase, issues=issues_frame(issues))
