"""Corrections: answers put right after reading, before validation, the export left as it is (pure).

A wave folder may hold ``corrections.csv`` (columns :data:`CORRECTION_COLUMNS`): one row per
answer to change, naming the response (its response id, or the partnership id of a single
response), the question, the value as pulsecheck read it, the value to use instead, why and
who decided. :func:`apply_corrections` checks every row against the canonical frame and the
instrument and either applies them all — returning a new frame and one ``CORR_007`` issue per
correction for ``issues.csv`` — or none, raising :class:`CorrectionsError` (``CORR_006``,
exit 2) with every problem listed (file, row, column, rule, fix).

Values are compared as read: after the platform's adapter has turned codes into choice names
(a check-all answer is its ticked choice names separated by a space) and before validation,
so a corrected answer is validated like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipeline.errors import PulsecheckError, issues_frame, make_issue
from pipeline.model.instrument import Instrument
from pipeline.model.wave import CORRECTION_COLUMNS, CORRECTIONS_FILE

__all__ = ["CORRECTIONS_FILE", "CORRECTION_COLUMNS", "Corrected", "CorrectionsError",
           "apply_corrections"]

#: The row of ``corrections.csv`` a spreadsheet shows for its first correction.
_FIRST_ROW = 2


class CorrectionsError(PulsecheckError):
    """``corrections.csv`` cannot be applied; ``problems`` is its issues table."""

    def __init__(self, path: str, problems: pd.DataFrame) -> None:
        self.problems = problems
        super().__init__("CORR_006", path=path, n=len(problems))


@dataclass(frozen=True)
class Corrected:
    """The frame with corrections applied, and one ``CORR_007`` issue per correction."""

    frame: pd.DataFrame
    issues: pd.DataFrame
    count: int


def apply_corrections(frame: pd.DataFrame, corrections: pd.DataFrame | None,
                      instrument: Instrument, *, file: str = CORRECTIONS_FILE) -> Corrected:
    """Apply ``corrections`` to the canonical ``frame`` (pure; neither input is changed).

    Parameters
    ----------
    frame : DataFrame
        The canonical answers of the wave's exports (strings, ``""`` for no answer).
    corrections : DataFrame or None
        ``corrections.csv`` as strings, with :data:`CORRECTION_COLUMNS`; ``None`` or empty
        when the wave has none.
    instrument : Instrument
        Names the questions that may be corrected and the respondent key.
    file : str
        The name shown in messages.

    Returns
    -------
    Corrected

    Raises
    ------
    CorrectionsError
        ``CORR_006`` listing each problem: an unknown respondent (``CORR_002``) or question
        (``CORR_003``), an old value that is not what was read (``CORR_004``), an answer
        corrected twice (``CORR_005``), a row without its reason or author (``CORR_008``).

    Notes
    -----
    A personal question's values are left out of its ``CORR_007`` message, and neither a
    personal question's value nor an open answer is quoted by ``CORR_004``.
    """
    if corrections is None or not len(corrections):
        return Corrected(frame=frame, issues=issues_frame([]), count=0)
    answerable = {q.name: q for q in instrument.answerable}
    key = instrument.respondent_key
    ids = frame["response_id"].astype(str).tolist() if "response_id" in frame else []
    keys = frame[key].astype(str).tolist() if key in frame else []
    by_id: dict[str, list[int]] = {}
    by_key: dict[str, list[int]] = {}
    for position, value in enumerate(ids):
        by_id.setdefault(value, []).append(position)
    for position, value in enumerate(keys):
        by_key.setdefault(value, []).append(position)
    problems: list[dict[str, Any]] = []
    changes: list[tuple[int, str, str]] = []
    applied: list[dict[str, Any]] = []
    seen: dict[tuple[int, str], int] = {}
    for number, entry in enumerate(corrections.itertuples(index=False), start=_FIRST_ROW):
        respondent, question, old, new, reason, who = (
            str(getattr(entry, column)) for column in CORRECTION_COLUMNS)

        def problem(code: str, column: str, value: str, *, row: int = number,
                    **params: Any) -> None:
            problems.append(make_issue(code, file=file, row=row, column=column, value=value,
                                       **params))
        if not reason.strip() or not who.strip():
            missing = "reason" if not reason.strip() else "who"
            problem("CORR_008", missing, "", missing=missing)
            continue
        positions = by_id.get(respondent) or by_key.get(respondent) or []
        if len(positions) != 1:
            detail = "" if not positions else \
                f" (the {key} '{respondent}' has {len(positions)} responses; give the " \
                "response id)"
            problem("CORR_002", "respondent", respondent, detail=detail, key=key)
            continue
        if question not in answerable or question not in frame:
            problem("CORR_003", "question", question, instrument=instrument.id)
            continue
        position = positions[0]
        first = seen.get((position, question))
        if first is not None:
            problem("CORR_005", "question", question, response=respondent, first=first)
            continue
        seen[(position, question)] = number
        found = frame[question].iloc[position]
        found = "" if pd.isna(found) else str(found)
        if found != old:
            # An open answer is not quoted either: the message is printed by the command,
            # and free text may name people in ways no masking can find.
            shown = "(not shown: a personal question)" if answerable[question].personal \
                else f"(not shown: an open answer of {len(found)} characters)" \
                if answerable[question].type == "text" and found else f"'{found}'"
            problem("CORR_004", "old_value", "" if answerable[question].personal else old,
                    found=shown, response=respondent, question=question)
            continue
        changes.append((position, question, new))
        personal = answerable[question].personal
        response = ids[position] if ids else respondent
        applied.append(make_issue(
            "CORR_007", file=str(frame["_file"].iloc[position]) if "_file" in frame else None,
            row=int(frame["_row"].iloc[position]) if "_row" in frame else None,
            column=question, value=None if personal else new, respondent=response,
            question=question, line=number,
            change="(values of a personal question are not shown)" if personal
            else f"from '{old}' to '{new}'",
            reason=reason, who=who, source=file))
    if problems:
        raise CorrectionsError(file, issues_frame(problems))
    corrected = frame.copy()
    for position, question, new in changes:
        corrected.iloc[position, corrected.columns.get_loc(question)] = new
    return Corrected(frame=corrected, issues=issues_frame(applied), count=len(changes))
