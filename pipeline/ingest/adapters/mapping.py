"""Which instrument question (and choice) each export column holds (pure).

Columns are recognised, in this order: an explicit mapping file; the platform's role,
version and metadata columns; the instrument's names (with group prefixes and split-column
suffixes as the platform's profile describes them); then the text of the column's label,
robust to truncation and platform decorations. Anything else is reported, never dropped
silently.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from pipeline.columns import ROLES
from pipeline.errors import make_issue
from pipeline.ingest.adapters.assemble import (
    ANSWER,
    ANY_FOLLOWUP,
    CHOICE,
    METADATA,
    OTHER,
    PART,
    ROLE,
    UNMAPPED,
    VERSION,
    Target,
)
from pipeline.ingest.adapters.labels import (
    MIN_PREFIX,
    find_choice,
    find_question,
    normalise,
    other_specify,
)
from pipeline.model.instrument import Instrument, Question

#: Role of the column holding the form version, in a profile's ``[roles]``.
VERSION_ROLE = "instrument_version"
#: Roles a ``--map`` row may give a column instead of a question.
MAPPABLE_ROLES = (*ROLES, VERSION_ROLE)


def _names(settings: Mapping[str, Any]) -> Mapping[str, Any]:
    return settings.get("names", {})


def classify_meta(name: str, settings: Mapping[str, Any]) -> Target | None:
    """A role, version or metadata column of the platform, by its exact name or pattern."""
    roles = settings.get("roles", {})
    for role, column in roles.items():
        if column == name:
            return Target(VERSION if role == VERSION_ROLE else ROLE,
                          "" if role == VERSION_ROLE else role, by="name")
    for role, aliases in settings.get("role_aliases", {}).items():
        # Other names of a role column in older or variant exports of the platform.
        if name in aliases:
            return Target(VERSION if role == VERSION_ROLE else ROLE,
                          "" if role == VERSION_ROLE else role, by="alias")
    for role, pattern in settings.get("role_patterns", {}).items():
        if re.search(pattern, name):
            return Target(VERSION if role == VERSION_ROLE else ROLE,
                          "" if role == VERSION_ROLE else role, by="pattern")
    metadata = settings.get("metadata", {})
    if name in metadata.get("columns", ()) or name in metadata.get("personal", ()):
        return Target(METADATA, by="name")
    if any(re.search(p, name) for p in metadata.get("patterns", ())):
        return Target(METADATA, by="pattern")
    return None


def _stems(name: str, separators: Sequence[str]) -> list[str]:
    """The name, then the name without each leading group (``g/h/q`` → ``h/q``, ``q``)."""
    stems = [name]
    for separator in separators:
        text = name
        while separator in text:
            text = text.split(separator, 1)[1]
            stems.append(text)
    return stems


def _split_choice(stem: str, joiners: Sequence[str], questions: Mapping[str, Question],
                  instrument: Instrument, kinds: tuple[str, ...]) -> tuple[str, str] | None:
    """``q<joiner>c`` where ``q`` is a select question of ``kinds`` and ``c`` one of its
    choices by name or code; every split point is tried (names may hold the joiner)."""
    for joiner in joiners:
        start = 0
        while (at := stem.find(joiner, start)) > 0:
            left, right = stem[:at], stem[at + len(joiner):]
            question = questions.get(left)
            if question is not None and question.type in kinds:
                choices = instrument.choices_for(question)
                options = [c for c in choices if right in (c.name, c.code)]
                if not options:
                    # A platform may write the code in a column name folded (REDCap: lower
                    # case, "-" and other signs as "_": code -99 → "<q>____99").
                    options = [c for c in choices if _folded(c.code) == _folded(right)]
                    options = options if len(options) == 1 else []
                if options:
                    return question.name, options[0].name
            start = at + 1
    return None


def _folded(code: str) -> str:
    """A choice code as a column name may hold it: lower case, signs as ``_``."""
    return re.sub(r"[^0-9a-z_]", "_", str(code).casefold())


def classify_name(name: str, instrument: Instrument, settings: Mapping[str, Any]
                  ) -> Target | None:
    """A question column found by the instrument's names, as the profile lays them out."""
    names = _names(settings)
    questions = {q.name: q for q in instrument.answerable}
    joiners = tuple(names.get("choice_joiners", ("/",)))
    suffix = names.get("other_suffix", "")
    for stem in _stems(name.strip(), tuple(names.get("group_separators", ()))):
        if stem in questions:
            return Target(ANSWER, stem, by="name")
        for part in names.get("part_suffixes", ()):
            # One answer split over several columns (an ODK geopoint's -Latitude, ...).
            question = questions.get(stem.removesuffix(part)) if stem.endswith(part) else None
            if question is not None and not question.is_select:
                return Target(ANSWER, question.name, by=PART)
        if suffix and stem.endswith(suffix):
            found = _split_choice(stem[:-len(suffix)], joiners, questions, instrument,
                                  ("select_one", "select_multiple"))
            if found:
                return Target(OTHER, found[0], found[1], by="name")
            # <question>_TEXT without a choice code: the typed text of whichever of the
            # question's choices with a follow-up text question was picked (the choice is
            # settled row by row: ANY_FOLLOWUP).
            question = questions.get(stem[:-len(suffix)])
            if question is not None and question.is_select:
                followups = other_specify(instrument, question)
                if len(followups) == 1:
                    return Target(OTHER, question.name, next(iter(followups)), by="name")
                if followups:
                    return Target(OTHER, question.name, ANY_FOLLOWUP, by="name")
        found = _split_choice(stem, joiners, questions, instrument, ("select_multiple",))
        if found:
            return Target(CHOICE, found[0], found[1], by="name")
    return None


def classify_label(label: str, instrument: Instrument, settings: Mapping[str, Any]
                   ) -> Target | None:
    """A question column found by its label text, through the profile's label patterns.

    Each pattern of ``[labels] patterns`` is a regular expression with a ``question`` group
    and optionally a ``choice`` group; ``kind`` says whether a match is a whole answer, a
    split choice column or typed other text. The plain label is tried last.
    """
    questions = instrument.answerable
    for rule in settings.get("labels", {}).get("patterns", ()):
        match = re.match(rule["pattern"], label.strip(), flags=re.DOTALL)
        if not match:
            continue
        question = find_question(match.group("question"), questions)
        if question is None:
            continue
        kind = rule.get("kind", ANSWER)
        if kind == ANSWER:
            return Target(ANSWER, question.name, by="label")
        choice = find_choice(match.group("choice"), instrument.choices_for(question))
        if choice is None:
            continue
        if kind == CHOICE and question.type == "select_multiple":
            return Target(CHOICE, question.name, choice.name, by="label")
        if kind == OTHER and question.is_select:
            return Target(OTHER, question.name, choice.name, by="label")
    question = find_question(label, questions)
    if question is not None:
        return Target(ANSWER, question.name, by="label")
    return None


def classify_mapped(name: str, label: str, mapping: Mapping[str, tuple[str, str, str]],
                    instrument: Instrument) -> Target | None:
    """A column named in the user's mapping file (by export column name or label)."""
    for key in (name.strip(), label.strip()):
        if key and key in mapping:
            question, choice, kind = mapping[key]
            if not question:
                return Target(METADATA, by="map")
            if kind == ROLE:
                return Target(VERSION if question == VERSION_ROLE else ROLE,
                              "" if question == VERSION_ROLE else question, by="map")
            if kind:
                return Target(kind, question, choice, by="map")
            return Target(CHOICE if choice else ANSWER, question, choice, by="map")
    return None


_WORDS = re.compile(r"[\W_]+")


def _pieces_in_order(found: str, label: str) -> bool:
    """Whether every piece of ``found`` (cut at each ``...``) occurs in ``label`` in order,
    letters and digits only: a label the platform truncated in several places."""
    target = _WORDS.sub("", normalise(label))
    position = 0
    pieces = [_WORDS.sub("", normalise(p)) for p in re.split(r"\.\.\.|…", str(found))]
    if sum(len(p) for p in pieces) < MIN_PREFIX:
        return False
    for piece in pieces:
        at = target.find(piece, position) if piece else position
        if at < 0 or (position == 0 and piece and at != 0):
            return False
        position = at + len(piece)
    return True


def classify_tail(name: str, label: str, instrument: Instrument,
                  settings: Mapping[str, Any], taken: set[str]) -> Target | None:
    """A column named by the last part of a question's name (``stmt`` for ``q_stmt``), or
    by its parts run together (``qstmt_TEXT`` for ``q_stmt_TEXT``).

    Qualtrics' legacy exports write a matrix statement that has its own export tag under
    that tag alone, so several matrices give columns of the same name. The question is the
    one (not yet read from another column) whose name ends in ``<joiner><name>`` and whose
    label the column's label is, allowing the platform's truncation (``...``) in the
    middle and at the end.
    """
    stem = name.strip()
    if not stem:
        return None
    joiners = tuple(_names(settings).get("choice_joiners", ()))
    candidates = [q for q in instrument.answerable if q.name not in taken
                  and any(q.name.endswith(f"{j}{stem}") for j in joiners)]
    if not candidates:
        # The same parts joined without one of the joiners (the legacy exporter's
        # <tag><statement tag>_TEXT for a matrix statement's typed text).
        candidates = [q for q in instrument.answerable if q.name not in taken and any(
            j and q.name.replace(j, "") == stem.replace(j, "") for j in joiners)]
    if len(candidates) > 1 and label:
        candidates = [q for q in candidates if _pieces_in_order(label, q.label)]
    if len(candidates) == 1:
        return Target(ANSWER, candidates[0].name, by="name tail")
    return None


def classify_columns(names: Sequence[str], labels: Sequence[str], instrument: Instrument,
                     settings: Mapping[str, Any],
                     mapping: Mapping[str, tuple[str, str, str]] | None = None
                     ) -> list[Target]:
    """Classify every column by mapping, platform metadata, name, label, then name tail."""
    targets = []
    for name, label in zip(names, labels, strict=True):
        target = (classify_mapped(name, label, mapping or {}, instrument)
                  or classify_meta(name, settings)
                  or classify_name(name, instrument, settings)
                  or (classify_label(label, instrument, settings) if label else None)
                  or Target(UNMAPPED))
        targets.append(target)
    taken = {t.name for t in targets if t.kind in (ANSWER, CHOICE, OTHER)}
    for position, (name, label) in enumerate(zip(names, labels, strict=True)):
        if targets[position].kind == UNMAPPED:
            found = classify_tail(name, label, instrument, settings, taken)
            if found is not None:
                targets[position] = found
                taken.add(found.name)
    return targets


def check_mapping(rows: Sequence[Mapping[str, str]], instrument: Instrument
                  ) -> tuple[dict[str, tuple[str, str, str]], list[str]]:
    """Turn mapping-file rows into ``column → (question, choice, kind)``; list problems.

    A row with an empty ``question`` marks a column as metadata to ignore.
    """
    mapping: dict[str, tuple[str, str, str]] = {}
    problems: list[str] = []
    questions = {q.name: q for q in instrument.answerable}
    for number, row in enumerate(rows, start=2):
        column = (row.get("export_column") or "").strip()
        question = (row.get("question") or "").strip()
        choice = (row.get("choice") or "").strip()
        kind = (row.get("kind") or "").strip()
        if not column:
            problems.append(f"row {number} has no export_column")
            continue
        if question and question not in questions and question in MAPPABLE_ROLES:
            # A platform role (response id, submission time, ...), not a question.
            if choice or kind not in ("", ROLE):
                problems.append(f"row {number} names the role '{question}' with a choice "
                                f"or kind; give the role alone")
                continue
            mapping[column] = (question, "", ROLE)
            continue
        if question and question not in questions:
            problems.append(f"row {number} names question '{question}', which is neither in "
                            f"the instrument nor a role ({', '.join(MAPPABLE_ROLES)})")
            continue
        if choice:
            names = [c.name for c in instrument.choices_for(questions[question])]
            if choice not in names:
                problems.append(f"row {number} names choice '{choice}', not a choice of "
                                f"'{question}'")
                continue
        if kind and kind not in (ANSWER, CHOICE, OTHER):
            problems.append(f"row {number} has kind '{kind}' (use answer, choice or other)")
            continue
        mapping[column] = (question, choice, kind)
    return mapping, problems


def unused_mapping(mapping: Mapping[str, tuple[str, str, str]] | None, grid: Any,
                   table: Any) -> list[dict]:
    """A warning for every mapping row whose ``export_column`` is no column name or label.

    The header cells of the export's first rows (names and labels) and the column names as
    issues print them are what a row may name.
    """
    if not mapping:
        return []
    known = {str(c).strip() for c in table.columns}
    if grid is not None:
        for record in grid.records[:max(1, int(table.header_row) + 2)]:
            known.update(str(c).strip() for c in record)
    return [make_issue("READ_043", file=table.file_name, row=None, column=key, name=key)
            for key in mapping if key not in known]
