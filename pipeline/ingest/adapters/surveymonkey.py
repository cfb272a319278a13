"""SurveyMonkey CSV/XLSX exports: question text above a group's first column only (pure).

Row 1 holds metadata names and question text; a question's text stands only above its first
column, so it is carried right across the blank cells that follow. Row 2 says what each
column is: a whole answer ("Response", "Open-Ended Response"), a check-all choice (its label;
the cell holds the label when ticked), or the typed text of the other choice ("Other (please
specify)").
"""

from __future__ import annotations

from typing import Any, Mapping

from pipeline.ingest.adapters.assemble import ANSWER, CHOICE, OTHER, UNMAPPED, Table, Target
from pipeline.ingest.adapters.generic import resolve_roles, split_grid
from pipeline.ingest.adapters.labels import find_choice, find_question, normalise, other_specify
from pipeline.ingest.adapters.mapping import classify_mapped, classify_meta
from pipeline.ingest.adapters.text import Grid
from pipeline.model.instrument import Instrument


def carry_right(cells: list[str]) -> list[str]:
    """Fill each blank header cell with the nearest text to its left."""
    filled, last = [], ""
    for cell in cells:
        last = cell if cell.strip() else last
        filled.append(last)
    return filled


def read_columns(grid: Grid, instrument: Instrument, settings: Mapping[str, Any],
                 mapping: Mapping[str, tuple[str, str, str]] | None = None
                 ) -> tuple[Table, list[Target], list[dict]]:
    """Classify SurveyMonkey columns from the two header rows."""
    names, headings, table, issues = split_grid(grid, settings)
    settings = resolve_roles(settings, names)
    carried = carry_right(names)
    answer_headings = {normalise(h) for h in settings.get("headings", {}).get("answer", ())}
    other_headings = {normalise(h) for h in settings.get("headings", {}).get("other", ())}
    targets: list[Target] = []
    for name, text, heading in zip(names, carried, headings, strict=True):
        target = classify_mapped(f"{text} / {heading}" if heading.strip() else text, "",
                                 mapping or {}, instrument) \
            or classify_mapped(text, heading, mapping or {}, instrument) \
            or (classify_meta(name, settings) if name else None)
        if target is None:
            target = _question_column(text, heading, instrument, answer_headings,
                                      other_headings)
        targets.append(target)
    display = tuple(f"{c} / {h}" if h.strip() and not classify_meta(n, settings) else c
                    for n, c, h in zip(names, carried, headings, strict=True))
    return Table(table.file_name, display, table.records, table.rows, table.header_row), \
        targets, issues


def _question_column(text: str, heading: str, instrument: Instrument,
                     answer_headings: set[str], other_headings: set[str]) -> Target:
    question = find_question(text, instrument.answerable)
    if question is None and heading.strip():
        # A matrix or multi-field question: each row's column is a question of its own,
        # known by the row's text, alone or after the question's.
        for candidate in (heading, f"{text} - {heading}", f"{text} {heading}"):
            row_question = find_question(candidate, instrument.answerable)
            if row_question is not None:
                return Target(ANSWER, row_question.name, by="label")
    if question is None:
        return Target(UNMAPPED)
    wanted = normalise(heading)
    if not wanted or wanted in answer_headings:
        return Target(ANSWER, question.name, by="label")
    if wanted in other_headings and question.is_select:
        followups = other_specify(instrument, question)
        if followups:
            return Target(OTHER, question.name, next(iter(followups)), by="label")
        return Target(UNMAPPED)
    if question.is_select:
        # A check-all question, or a single-choice one exported "expanded": one column per
        # choice, holding the choice's label when it was picked.
        choice = find_choice(heading, instrument.choices_for(question))
        if choice is not None:
            return Target(CHOICE, question.name, choice.name, by="label")
    return Target(UNMAPPED)
