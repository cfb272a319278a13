"""Matching platform text to the instrument: question labels, choice labels, other-specify.

Platforms decorate and truncate text: HTML tags, ``- Selected Choice``, ``(choice=…)``,
``...`` at the end of a long label. These helpers undo that so an export column or an answer
can be found by its text when its name is not the instrument's (pure functions).
"""

from __future__ import annotations

import html
import re
from typing import Iterable

from pipeline.model.instrument import Choice, Instrument, Question

_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_ELLIPSIS = re.compile(r"\s*(\.\.\.|…)\s*$")
#: Shortest prefix accepted for a label the platform truncated.
MIN_PREFIX = 8


def normalise(text: str) -> str:
    """Label text for comparison: no HTML, entities decoded, one space, case-folded."""
    text = html.unescape(_TAGS.sub(" ", str(text)))
    return _SPACE.sub(" ", text).strip().casefold()


def is_truncated(text: str) -> bool:
    """Whether a platform cut the label short (it ends with ``...`` or ``…``)."""
    return bool(_ELLIPSIS.search(str(text)))


def label_matches(found: str, label: str) -> bool:
    """Whether export text ``found`` is the instrument ``label``, allowing truncation."""
    found_n, label_n = normalise(found), normalise(label)
    if not found_n or not label_n:
        return False
    if found_n == label_n:
        return True
    if is_truncated(found):
        stem = normalise(_ELLIPSIS.sub("", str(found)))
        return len(stem) >= MIN_PREFIX and label_n.startswith(stem)
    return False


def find_question(text: str, questions: Iterable[Question]) -> Question | None:
    """The one question whose label (or name) the text is; ``None`` if none or ambiguous."""
    candidates = list(questions)
    for question in candidates:
        if str(text).strip() == question.name:
            return question
    exact = [q for q in candidates if normalise(text) == normalise(q.label)]
    if len(exact) == 1:
        return exact[0]
    loose = [q for q in candidates if label_matches(text, q.label)]
    return loose[0] if len(loose) == 1 else None


def find_choice(text: str, choices: Iterable[Choice]) -> Choice | None:
    """The choice that ``text`` names by name, code or label (truncation allowed)."""
    value = str(text).strip()
    options = list(choices)
    for key in ("name", "code"):
        for choice in options:
            if value == getattr(choice, key):
                return choice
    exact = [c for c in options if normalise(value) == normalise(c.label)]
    if len(exact) == 1:
        return exact[0]
    loose = [c for c in options if label_matches(value, c.label)]
    return loose[0] if len(loose) == 1 else None


def split_labels(cell: str, choices: Iterable[Choice], separator: str
                 ) -> tuple[list[Choice], str]:
    """Split a cell of joined choice labels, where labels may contain the separator.

    Reads left to right, taking at each point the longest choice label followed by the
    separator or the end of the cell. Whatever no label matches, from that point on, is
    returned as free text: platforms that let a respondent type an "other" answer into the
    same cell put it last, because the other option is always the last choice.

    Returns
    -------
    tuple
        The choices found, in cell order, and the remaining free text (``""`` if none).
    """
    options = sorted(choices, key=lambda c: len(c.label.strip()), reverse=True)
    sep = separator.strip() or separator
    rest = str(cell).strip()
    found: list[Choice] = []
    while rest:
        match, after = None, ""
        for choice in options:
            label = choice.label.strip()
            if label and rest.casefold().startswith(label.casefold()):
                after = rest[len(label):].lstrip()
                if not after or after.startswith(sep):
                    match = choice
                    break
        if match is None:
            return found, rest.removesuffix(sep).strip()
        found.append(match)
        rest = after[len(sep):].lstrip() if after.startswith(sep) else after
    return found, ""


_SELECTED = re.compile(r"selected\(\s*\$\{(?P<q>\w+)\}\s*,\s*'(?P<c>[^']+)'\s*\)")
_EQUALS = re.compile(r"\$\{(?P<q>\w+)\}\s*=\s*'(?P<c>[^']+)'")


def other_specify(instrument: Instrument, question: Question) -> dict[str, str]:
    """Choices of ``question`` that have a follow-up text question: choice → text question.

    Found from skip logic: a text question shown when the choice is picked
    (``selected(${q}, 'c')`` or ``${q} = 'c'``) is where that choice's typed answer goes.
    """
    found: dict[str, str] = {}
    for candidate in instrument.questions:
        if candidate.type != "text":
            continue
        for pattern in (_SELECTED, _EQUALS):
            for match in pattern.finditer(candidate.relevant):
                if match.group("q") == question.name:
                    found.setdefault(match.group("c"), candidate.name)
    return found
