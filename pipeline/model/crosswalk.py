"""Crosswalks: how the items of two instrument versions map to harmonised measures (pure).

A crosswalk is data: one CSV per pair of versions (``crosswalks/<old>__<new>.csv`` beside the
instrument versions) with the columns of :data:`COLUMNS`. Each row maps an answer of the old
version (``from_question``, ``from_choice``) and an answer of the new one (``to_question``,
``to_choice``) to a measure. A measure is the share of partnerships whose answer to the
question is one of the measure's choices (for a check-all question: that ticked any of them),
among those who answered; several rows of a measure list several choices.

``comparability`` is one of :data:`COMPARABILITY`. The checker refuses (every problem at once):

* ``identical`` when the two sides are not on the same scale — question types differ, a select
  question's options differ (:func:`pipeline.model.instrument_diff.scale_changed`), or the sides
  combine a different number of answers — or when the wording of the question or of a mapped
  choice changed: such a mapping must be ``comparable_with_caveat`` (or ``not_comparable``);
* a caveat missing where one is required (``comparable_with_caveat``, ``not_comparable``);
* names that are not questions or choices of the version, and a measure whose rows disagree.

Measures marked ``not_comparable`` are shown for each wave but never pooled or tested across
the two versions (:mod:`pipeline.multiwave.trends`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipeline.errors import issues_frame, make_issue
from pipeline.model.instrument import Instrument
from pipeline.model.instrument_diff import scale_changed

COLUMNS = ("measure", "label", "family", "from_question", "from_choice", "to_question",
           "to_choice", "comparability", "caveat")
IDENTICAL, WITH_CAVEAT, NOT_COMPARABLE = "identical", "comparable_with_caveat", "not_comparable"
COMPARABILITY = (IDENTICAL, WITH_CAVEAT, NOT_COMPARABLE)


@dataclass(frozen=True)
class MeasureSide:
    """A measure in one version: a question and the answers that count."""

    question: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class MeasureLink:
    """One harmonised measure across two versions."""

    measure: str
    label: str
    family: str
    old: MeasureSide
    new: MeasureSide
    comparability: str
    caveat: str


@dataclass(frozen=True)
class Crosswalk:
    """Every measure linking version ``old`` to version ``new``."""

    old: str
    new: str
    links: tuple[MeasureLink, ...]

    def get(self, measure: str) -> MeasureLink | None:
        for link in self.links:
            if link.measure == measure:
                return link
        return None


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else \
        str(value).strip()


def build_crosswalk(table: pd.DataFrame, old: Instrument, new: Instrument,
                    file: str = "crosswalk.csv") -> tuple[Crosswalk, pd.DataFrame]:
    """Check a crosswalk table against its two versions and build it.

    Parameters
    ----------
    table : pandas.DataFrame
        The crosswalk file as strings, with the columns of :data:`COLUMNS`.
    old, new : Instrument
        The versions it links (old → new).
    file : str
        Its name, for messages.

    Returns
    -------
    (Crosswalk, pandas.DataFrame)
        The crosswalk (measures with problems left out) and the issues table (``XWALK_``
        codes), empty when the crosswalk is sound.
    """
    issues: list[dict] = []
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        issues.append(make_issue("XWALK_001", file=file, row=1, names=", ".join(missing)))
        return Crosswalk(old.version, new.version, ()), issues_frame(issues)
    rows = [{c: _text(r[c]) for c in COLUMNS} | {"line": i}
            for i, r in zip(range(2, len(table) + 2), table.to_dict("records"), strict=True)]
    bad_measures: set[str] = set()

    def add(code: str, row: dict, column: str | None = None, **params: Any) -> None:
        issues.append(make_issue(code, file=file, row=row["line"], column=column, **params))
        bad_measures.add(row["measure"])

    known = {old.version: old, new.version: new}
    for row in rows:
        if row["comparability"] not in COMPARABILITY:
            add("XWALK_003", row, "comparability", value=row["comparability"],
                known=", ".join(COMPARABILITY))
        for side, version in (("from", old.version), ("to", new.version)):
            instrument = known[version]
            question, choice = row[f"{side}_question"], row[f"{side}_choice"]
            try:
                q = instrument.question(question)
            except KeyError:
                add("XWALK_002", row, f"{side}_question", value=question, name=question,
                    version=version)
                continue
            if not q.is_select or choice not in {c.name for c in instrument.choices_for(q)}:
                add("XWALK_002", row, f"{side}_choice", value=choice,
                    name=f"{question}/{choice}", version=version)
    links: list[MeasureLink] = []
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["measure"], []).append(row)
    for measure, group in grouped.items():
        first = group[0]
        for key in ("label", "family", "comparability", "caveat", "from_question",
                    "to_question"):
            values = {r[key] for r in group}
            if len(values) > 1:
                add("XWALK_007", first, key, measure=measure, field=key,
                    values=" | ".join(sorted(values)))
        if measure in bad_measures:
            continue
        old_side = MeasureSide(first["from_question"],
                               tuple(dict.fromkeys(r["from_choice"] for r in group)))
        new_side = MeasureSide(first["to_question"],
                               tuple(dict.fromkeys(r["to_choice"] for r in group)))
        comparability, caveat = first["comparability"], first["caveat"]
        if comparability in (WITH_CAVEAT, NOT_COMPARABLE) and not caveat:
            add("XWALK_006", first, "caveat", measure=measure, comparability=comparability)
            continue
        if comparability == IDENTICAL:
            changed = scale_changed(old, old_side.question, new, new_side.question) or \
                len(old_side.choices) != len(new_side.choices)
            if changed:
                add("XWALK_004", first, "comparability", measure=measure,
                    old=f"{old.version} {old_side.question}",
                    new=f"{new.version} {new_side.question}")
                continue
            reworded = _reworded(old, old_side, new, new_side)
            if reworded:
                add("XWALK_005", first, "comparability", measure=measure, what=reworded)
                continue
        links.append(MeasureLink(measure=measure, label=first["label"] or measure,
                                 family=first["family"], old=old_side, new=new_side,
                                 comparability=comparability, caveat=caveat))
    return Crosswalk(old.version, new.version, tuple(links)), issues_frame(issues)


def _reworded(old: Instrument, old_side: MeasureSide, new: Instrument,
              new_side: MeasureSide) -> str:
    """What wording differs between the two sides ('' when none)."""
    a, b = old.question(old_side.question), new.question(new_side.question)
    if a.label != b.label:
        return f"question '{a.label}' → '{b.label}'"
    labels_a = [next(c.label for c in old.choices_for(a) if c.name == n)
                for n in old_side.choices]
    labels_b = [next(c.label for c in new.choices_for(b) if c.name == n)
                for n in new_side.choices]
    for x, y in zip(labels_a, labels_b, strict=True):
        if x != y:
            return f"choice '{x}' → '{y}'"
    return ""
