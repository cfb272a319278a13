"""From classified export columns to the canonical string frame (pure).

Every adapter ends here: it says what each export column is (a :class:`Target`) and which
conventions its platform follows (:class:`Conventions`), and :func:`assemble` builds the
canonical frame that :func:`pipeline.stages.validate.validate_responses` consumes:

``_file``, ``_row``, the platform roles present, ``instrument_version``, then one string
column per answerable question — a select-one as its choice *name*, a select-multiple as the
ticked choice names joined by a space (blank when skipped), anything else verbatim.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.columns import FILE_COLUMN, ROLES, ROW_COLUMN
from pipeline.errors import make_issue
from pipeline.ingest.adapters import arrays
from pipeline.ingest.adapters.columnar import ColumnRecords
from pipeline.ingest.adapters.labels import (
    MIN_PREFIX,
    find_choice,
    normalise,
    other_specify,
    split_labels,
)
from pipeline.model.instrument import Instrument, Question

#: Column of the canonical frame holding the instrument version a row was answered in.
VERSION_COLUMN = "instrument_version"
#: How the canonical frame joins the ticked choice names of a select-multiple.
TICK_SEPARATOR = " "
#: The canonical ``finished`` of a completed response (an unfinished one is ``0``).
FINISHED_TRUE = "1"

# What an export column holds.
ROLE = "role"          # a platform role (response id, finished, ...): ``name`` is the role
VERSION = "version"    # the form version the row was answered in
ANSWER = "answer"      # a whole answer to question ``name``
CHOICE = "choice"      # one choice ``choice`` of select-multiple ``name`` (a split column)
OTHER = "other"        # typed text for choice ``choice`` of question ``name``
#: The choice of an OTHER column whose text belongs to whichever of the question's choices
#: with a follow-up text question the row picked (Qualtrics' code-less ``<tag>_TEXT``).
ANY_FOLLOWUP = ""
#: How a column holding one part of an answer split over several columns is found.
PART = "part"
METADATA = "metadata"  # platform bookkeeping, never analysed
UNMAPPED = "unmapped"  # nothing known: reported


@dataclass(frozen=True)
class Target:
    """What one export column holds, and how that was found (``by``: name, label, map)."""

    kind: str
    name: str = ""
    choice: str = ""
    by: str = ""


@dataclass(frozen=True)
class Table:
    """An export's data rows as strings, with a display name per column."""

    file_name: str
    columns: tuple[str, ...]
    #: A tuple of tuples, or the same records held column-wise (:class:`ColumnRecords`).
    records: tuple[tuple[str, ...], ...] | ColumnRecords
    rows: tuple[int, ...]
    header_row: int = 1


@dataclass(frozen=True)
class Conventions:
    """How a platform writes values (``[values]`` of its profile).

    Parameters
    ----------
    ticked, unticked : tuple of str
        Values of a split select-multiple column meaning ticked / shown but not ticked.
    missing : tuple of str
        Codes meaning "shown, not answered" (user-missing codes such as ``-99``): blank.
    zeros_mean_seen : bool
        Whether an unticked value shows the question was answered. REDCap writes 0 for every
        checkbox of every record, shown or not, so there it proves nothing.
    text_ticks : bool
        Whether a split column holding any other text (the choice label) means ticked.
    label_separator : str
        How labels are joined when a select-multiple cell holds labels.
    other_label_separators : tuple of str
        Other joiners some exports of the platform use (a Google Forms CSV download joins
        with ``;``); a cell is split by the first joiner that leaves no text unmatched.
    other_in_cell : bool
        Whether typed "other" text is written into the answer cell itself.
    finished_true : tuple of str
        Values of the ``finished`` role meaning completed (normalised to ``1``/``0``).
    """

    ticked: tuple[str, ...] = ("1",)
    unticked: tuple[str, ...] = ("0",)
    missing: tuple[str, ...] = ()
    zeros_mean_seen: bool = True
    text_ticks: bool = False
    label_separator: str = ","
    other_label_separators: tuple[str, ...] = ()
    other_in_cell: bool = False
    finished_true: tuple[str, ...] = ("1",)


def conventions_from(settings: Mapping[str, Any]) -> Conventions:
    """Read :class:`Conventions` from a profile's ``[values]`` table."""
    values = settings.get("values", {})
    base = Conventions()
    return Conventions(
        ticked=tuple(values.get("ticked", base.ticked)),
        unticked=tuple(values.get("unticked", base.unticked)),
        missing=tuple(values.get("missing", base.missing)),
        zeros_mean_seen=bool(values.get("zeros_mean_seen", base.zeros_mean_seen)),
        text_ticks=bool(values.get("text_ticks", base.text_ticks)),
        label_separator=str(values.get("label_separator", base.label_separator)),
        other_label_separators=tuple(values.get("other_label_separators", ())),
        other_in_cell=bool(values.get("other_in_cell", base.other_in_cell)),
        finished_true=tuple(values.get("finished_true", base.finished_true)),
    )


@dataclass(frozen=True)
class Assembled:
    """The canonical frame, issues, and where a check-all question was answered with none."""

    frame: pd.DataFrame
    issues: list[dict]
    none_selected: tuple[tuple[int, str], ...] = ()


def version_key(version: str) -> tuple:
    """Order versions naturally (``2`` before ``10``; ``2016-06`` before ``2016-07``)."""
    return tuple((0, int(p)) if p.isdigit() else (1, p)
                 for p in re.split(r"(\d+)", str(version)) if p)


@dataclass
class _Answer:
    """What one row says about one question while columns are being read."""

    raw: str | None = None
    ticks: list[str] = field(default_factory=list)
    seen: bool = False
    others: dict[str, str] = field(default_factory=dict)


def assemble(table: Table, targets: Sequence[Target], instrument: Instrument,
             conventions: Conventions, *,
             response_ids: Sequence[str] | None = None,
             choice_versions: Mapping[tuple[str, str], str] = MappingProxyType({})
             ) -> Assembled:
    """Build the canonical string frame from classified columns (see module docstring).

    Parameters
    ----------
    table : Table
        The export's data rows.
    targets : sequence of Target
        One per column of ``table``.
    instrument : Instrument
        The instrument the answers belong to.
    conventions : Conventions
        The platform's value conventions.
    response_ids : sequence of str, optional
        Ids to use when the export carries none (one per row).
    choice_versions : mapping, optional
        ``(list_name, choice name)`` → the first instrument version offering the choice.

    Notes
    -----
    A check-all question counts as skipped unless a choice was ticked, or the platform shows
    that it was answered with nothing ticked (``zeros_mean_seen``): then it is listed in
    ``none_selected`` (assumption A-ADAPT-2).
    """
    issues: list[dict] = []
    questions = {q.name: q for q in instrument.answerable}
    followups = {name: other_specify(instrument, q) for name, q in questions.items()
                 if q.is_select}
    ticked = {v.casefold() for v in conventions.ticked}
    unticked = {v.casefold() for v in conventions.unticked}
    missing = {v.casefold() for v in conventions.missing}
    finished_true = {v.casefold() for v in conventions.finished_true}

    for column, target in zip(table.columns, targets, strict=True):
        if target.kind == UNMAPPED and column.strip():
            issues.append(make_issue("READ_006", file=table.file_name, row=table.header_row,
                                     column=column, name=column, version=instrument.version))
    mapped = {t.name for t in targets if t.kind in (ANSWER, CHOICE, OTHER)}
    unmatched = [c for c, t in zip(table.columns, targets, strict=True) if t.kind == UNMAPPED]
    # Where typed "other" text is written into the answer cell, a follow-up question is read
    # from its select question's column.
    in_cell = {followup for question, by_choice in followups.items()
               for followup in by_choice.values()
               if conventions.other_in_cell and question in mapped}
    for name, question in questions.items():
        if name not in mapped and name not in in_cell and \
                not _is_followup(name, followups, targets):
            label = normalise(question.label)
            carrier = next((c for c in unmatched if len(label) >= MIN_PREFIX
                            and label in normalise(c)), None)
            if carrier is not None:
                issues.append(make_issue("READ_044", file=table.file_name,
                                         row=table.header_row, column=carrier, name=name,
                                         found=carrier))
            else:
                issues.append(make_issue("READ_007", file=table.file_name, column=name,
                                         name=name))

    role_columns = [r for r in ROLES if any(t.kind == ROLE and t.name == r for t in targets)]
    if response_ids is not None and "response_id" not in role_columns:
        role_columns.insert(0, "response_id")
    context = _Context(table, targets, instrument, conventions, questions, followups,
                       ticked, unticked, missing, finished_true, tuple(role_columns),
                       choice_versions)
    width = len(table.columns)
    if isinstance(table.records, ColumnRecords):
        # Held column-wise: every record is full width by construction.
        full_width = len(table.records.columns) == width
    else:
        full_width = all(len(record) == width for record in table.records)
    if full_width:
        frame, found, none_selected = _assemble_by_column(context, response_ids)
    else:
        # Rows of another width (only from callers that build tables themselves): the
        # row-by-row reading keeps what each short or long row means exactly.
        frame, found, none_selected = _assemble_by_row(context, response_ids)
    return Assembled(frame=frame, issues=issues + found, none_selected=none_selected)


def _assemble_by_row(context: "_Context", response_ids: Sequence[str] | None
                     ) -> tuple[pd.DataFrame, list[dict], tuple[tuple[int, str], ...]]:
    """The canonical frame read one row at a time (any row widths; the reference reading)."""
    table, targets, instrument = context.table, context.targets, context.instrument
    questions, missing, role_columns = context.questions, context.missing, context.role_columns
    issues: list[dict] = []
    out: dict[str, list[str]] = {name: [] for name in
                                 (*role_columns, VERSION_COLUMN, *questions)}
    none_selected: list[tuple[int, str]] = []

    numbered = zip(table.records, table.rows, strict=True)
    for position, (record, row_number) in enumerate(numbered):
        roles: dict[str, str] = {}
        version = instrument.version
        answers: dict[str, _Answer] = {name: _Answer() for name in questions}

        def problem(code: str, column: str, value: str, *, row_number: int = row_number,
                    roles: dict[str, str] = roles, **params: Any) -> None:
            issues.append(make_issue(code, file=table.file_name, row=row_number,
                                     column=column, value=value,
                                     respondent=roles.get("response_id"), **params))

        # A short row has no cells for its last columns; a long row's extra cells have none.
        for _column, target, cell in zip(table.columns, targets, record, strict=False):
            if target.kind == ROLE:
                # "[not completed]" and similar placeholders are no value.
                roles[target.name] = "" if cell.strip().casefold() in missing else cell.strip()
            elif target.kind == VERSION and cell.strip():
                version = cell.strip()
        if response_ids is not None and "response_id" not in roles:
            roles["response_id"] = response_ids[position]
        if roles.get("finished"):
            roles["finished"] = FINISHED_TRUE \
                if roles["finished"].casefold() in context.finished_true else "0"

        # As above, a row of another width is read as far as it and the header both go.
        for column, target, cell in zip(table.columns, targets, record, strict=False):
            if target.kind not in (ANSWER, CHOICE, OTHER):
                continue
            question = questions[target.name]
            _read_cell(context, question, target, cell, answers[target.name],
                       lambda v, column=column, name=question.name: problem(
                           "READ_012", column, v, question=name))

        for name in role_columns:
            out[name].append(roles.get(name, ""))
        out[VERSION_COLUMN].append(version)
        texts: dict[str, str] = {}
        for name, question in questions.items():
            settled = _settle(context, question, answers[name], version)
            for code, value, params in settled.answer_problems:
                problem(code, name, value, **params)
            texts.update(settled.texts)
            out[name].append(settled.output)
            if settled.none_selected:
                none_selected.append((position, name))
        for name, text in texts.items():
            index = len(out[name]) - 1
            if not out[name][index].strip():
                out[name][index] = text

    data: dict[str, Any] = {
        FILE_COLUMN: pd.Series([table.file_name] * len(table.records), dtype=object),
        ROW_COLUMN: pd.Series(list(table.rows), dtype=int),
    }
    for name, values in out.items():
        data[name] = pd.Series(values, dtype=object)
    return pd.DataFrame(data), issues, tuple(none_selected)




@dataclass(frozen=True)
class _Context:
    """What every row of one export is read with (see :func:`assemble`)."""

    table: Table
    targets: Sequence[Target]
    instrument: Instrument
    conventions: Conventions
    questions: Mapping[str, Question]
    followups: Mapping[str, Mapping[str, str]]
    ticked: frozenset[str] | set[str]
    unticked: frozenset[str] | set[str]
    missing: frozenset[str] | set[str]
    finished_true: frozenset[str] | set[str]
    role_columns: tuple[str, ...]
    choice_versions: Mapping[tuple[str, str], str]


@dataclass(frozen=True)
class _Decision:
    """What one combination of a question's cells (and the row's version) comes to.

    ``cell_problems`` are raised while the columns are read (column index, code, value,
    params); ``answer_problems`` once the answer is settled (code, value, params).
    """

    output: str
    none_selected: bool
    cell_problems: tuple[tuple[int, str, str, dict], ...]
    answer_problems: tuple[tuple[str, str, dict], ...]
    texts: tuple[tuple[str, str], ...]


def _read_cell(context: _Context, question: Question, target: Target, cell: str,
               answer: _Answer, unmatched: Callable[[str], None]) -> None:
    """Fold one cell of ``question``'s columns into ``answer`` (both readings use this).

    ``unmatched`` is called with a value that matches no choice (``READ_012``).
    """
    value = cell.strip()
    if target.kind == ANSWER:
        if question.is_select:
            _read_select(question, context.instrument, cell, context.conventions, answer,
                         context.followups[question.name], unmatched)
        elif question.type == "date":
            answer.raw = _date_text(cell)
        elif target.by == PART:
            # The parts of one answer, in column order, joined by a space.
            answer.raw = " ".join(p for p in (answer.raw or "", value) if p)
        else:
            answer.raw = cell
    elif target.kind == CHOICE:
        folded = value.casefold()
        if not value or folded in context.missing:
            return
        if folded in context.ticked or (context.conventions.text_ticks
                                        and folded not in context.unticked):
            answer.ticks.append(target.choice)
        elif folded in context.unticked:
            answer.seen = True
        else:
            unmatched(cell)
    elif target.kind == OTHER and value:
        answer.others[target.choice] = cell
        if target.choice == ANY_FOLLOWUP:
            return  # the row's picked choice says whose text it is (see _settle)
        if question.type == "select_multiple":
            answer.ticks.append(target.choice)
        elif not (answer.raw or "").strip():
            answer.raw = target.choice


_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00(:00(\.0+)?)?$")


def _date_text(cell: str) -> str:
    """A date answer without the midnight time a spreadsheet's date cell is read with."""
    match = _MIDNIGHT.match(cell.strip())
    return match.group(1) if match else cell


def _settle(context: _Context, question: Question, answer: _Answer, version: str
            ) -> _Decision:
    """What a row's answer to ``question``, read from all its cells, comes to.

    The decision's ``cell_problems`` are empty: those are raised while the cells are read.
    """
    instrument, name = context.instrument, question.name
    answer_problems: list[tuple[str, str, dict]] = []
    texts: list[tuple[str, str]] = []
    for others_choice, text in answer.others.items():
        by_choice = context.followups.get(name, {})
        choice_name = others_choice
        if choice_name == ANY_FOLLOWUP:
            # The follow-up of the first picked choice that has one; else the first.
            choice_name = next((c for c in answer.ticks if c in by_choice),
                               next(iter(by_choice), ANY_FOLLOWUP))
        target_question = by_choice.get(choice_name)
        if target_question is None:
            answer_problems.append(("READ_014", text, {"question": name,
                                                       "choice": choice_name}))
        else:
            texts.append((target_question, text))
    none_selected = False
    if question.is_select:
        picked = _allowed(question, instrument, answer, version, context.choice_versions,
                          lambda v: answer_problems.append(
                              ("READ_013", v, {"question": name, "version": version})))
        if question.type == "select_multiple":
            order = [c.name for c in instrument.choices_for(question)]
            names = sorted(set(picked), key=lambda n: order.index(n)
                           if n in order else len(order))
            output = TICK_SEPARATOR.join(names)
            none_selected = not names and answer.seen and context.conventions.zeros_mean_seen
        else:
            output = picked[0] if picked else (answer.raw or "")
    else:
        output = answer.raw or ""
    return _Decision(output, bool(none_selected), (), tuple(answer_problems), tuple(texts))


def _decide(context: _Context, question: Question,
            cells: Sequence[tuple[int, Target, str]], version: str) -> _Decision:
    """One row's answer to ``question`` from its columns' cells (as the row reading does)."""
    answer = _Answer()
    cell_problems: list[tuple[int, str, str, dict]] = []
    for index, target, cell in cells:
        _read_cell(context, question, target, cell, answer,
                   lambda v, index=index: cell_problems.append(
                       (index, "READ_012", v, {"question": question.name})))
    settled = _settle(context, question, answer, version)
    return dataclasses.replace(settled, cell_problems=tuple(cell_problems))


def _assemble_by_column(context: _Context, response_ids: Sequence[str] | None
                        ) -> tuple[pd.DataFrame, list[dict], tuple[tuple[int, str], ...]]:
    """The canonical frame read a column at a time, each distinct value decided once.

    Gives exactly what :func:`_assemble_by_row` gives for a table whose rows all have the
    header's width: a question's answer depends only on its own columns' cells and the row's
    version, so each distinct combination of those is decided once and spread over its rows;
    problems are collected with their place in the row reading's order and sorted back.
    """
    table, targets, questions = context.table, context.targets, context.questions
    n = len(table.records)
    if isinstance(table.records, ColumnRecords):
        columns = list(table.records.columns)
    else:
        columns = ([arrays.as_objects(column) for column in zip(*table.records, strict=True)]
                   if n else [arrays.as_objects([]) for _ in table.columns])

    roles: dict[str, np.ndarray] = {}
    version = np.full(n, context.instrument.version, dtype=object)
    for values, target in zip(columns, targets, strict=True):
        if target.kind == ROLE:
            # "[not completed]" and similar placeholders are no value.
            found = arrays.stripped(values)
            roles[target.name] = arrays.replaced(
                found, arrays.folded_in(found, context.missing), "")
        elif target.kind == VERSION:
            found = arrays.stripped(values)
            version = np.where(found != "", found, version)
    if response_ids is not None and "response_id" not in roles:
        roles["response_id"] = arrays.as_objects(list(response_ids))
    if "finished" in roles:
        finished = roles["finished"]
        normalised = np.full(n, "0", dtype=object)
        normalised[arrays.folded_in(finished, context.finished_true)] = FINISHED_TRUE
        normalised[finished == ""] = ""  # blank stays blank
        roles["finished"] = normalised
    respondent = roles.get("response_id")

    out: dict[str, np.ndarray] = {}
    for name in context.role_columns:
        out[name] = roles.get(name, np.full(n, "", dtype=object))
    out[VERSION_COLUMN] = version
    by_question: dict[str, list[int]] = {}
    for index, target in enumerate(targets[:len(columns)]):
        if target.kind in (ANSWER, CHOICE, OTHER):
            questions[target.name]  # an unknown question fails as in the row reading
            by_question.setdefault(target.name, []).append(index)

    found: list[tuple[tuple[int, int, int, int], str, str, str, dict]] = []
    texts: dict[str, np.ndarray] = {}
    flagged: list[tuple[int, int, str]] = []
    version_codes: tuple[np.ndarray, int] | None = None
    for number, (name, question) in enumerate(questions.items()):
        indices = by_question.get(name, [])
        if not indices:
            out[name] = np.full(n, "", dtype=object)
            continue
        if not question.is_select and question.type != "date" and len(indices) == 1 and \
                targets[indices[0]].kind == ANSWER:
            # A text, number or date answer is kept verbatim.
            out[name] = columns[indices[0]]
            continue
        keys = [arrays.factorize(columns[i]) for i in indices]
        if question.is_select and context.choice_versions:
            if version_codes is None:
                version_codes = arrays.factorize(version)
            if version_codes[1] > 1:  # one version throughout tells nothing apart
                keys.append(version_codes)
        codes, first = arrays.combination_codes(keys)
        decisions = [_decide(context, question,
                             [(i, targets[i], columns[i][row]) for i in indices],
                             version[row]) for row in first]
        out[name] = arrays.as_objects([d.output for d in decisions])[codes]
        if any(d.none_selected for d in decisions):
            flagged.extend((int(row), number, name) for row in
                           np.flatnonzero(np.array([d.none_selected for d in decisions])[codes]))
        if any(d.texts for d in decisions):
            for row in np.flatnonzero(np.array([bool(d.texts) for d in decisions])[codes]):
                for target_question, text in decisions[codes[row]].texts:
                    texts.setdefault(target_question, np.full(n, None, dtype=object))[row] = text
        if any(d.cell_problems or d.answer_problems for d in decisions):
            has = np.array([bool(d.cell_problems or d.answer_problems) for d in decisions])
            for row in np.flatnonzero(has[codes]):
                decision = decisions[codes[row]]
                for sub, (index, code, value, params) in enumerate(decision.cell_problems):
                    found.append(((int(row), 0, index, sub), code, table.columns[index],
                                  value, params))
                for sub, (code, value, params) in enumerate(decision.answer_problems):
                    found.append(((int(row), 1, number, sub), code, name, value, params))
    for name, text in texts.items():
        current = out[name]
        fill = np.not_equal(text, None) & (arrays.stripped(current) == "")
        if fill.any():
            out[name] = np.where(fill, text, current)

    found.sort(key=lambda item: item[0])
    issues = [make_issue(code, file=table.file_name, row=table.rows[place[0]], column=column,
                         value=value,
                         respondent=None if respondent is None else respondent[place[0]],
                         **params)
              for place, code, column, value, params in found]
    # The arrays are final: the frame holds them as they are (no copy into one block).
    data: dict[str, Any] = {
        FILE_COLUMN: pd.Series(np.full(n, table.file_name, dtype=object), dtype=object,
                               copy=False),
        ROW_COLUMN: pd.Series(np.array(table.rows, dtype=int), copy=False),
    }
    for name, values in out.items():
        data[name] = pd.Series(values, dtype=object, copy=False)
    flagged.sort()
    return pd.DataFrame(data, copy=False), issues, \
        tuple((row, name) for row, _, name in flagged)

def _is_followup(name: str, followups: Mapping[str, Mapping[str, str]],
                 targets: Sequence[Target]) -> bool:
    """Whether an other-specify text question is filled from another column's typed text."""
    for question, by_choice in followups.items():
        if name in by_choice.values():
            choice = next(c for c, q in by_choice.items() if q == name)
            if any(t.kind == OTHER and t.name == question
                   and t.choice in (choice, ANY_FOLLOWUP) for t in targets):
                return True
    return False


def _read_select(question: Question, instrument: Instrument, cell: str,
                 conventions: Conventions, answer: _Answer, followups: Mapping[str, str],
                 unmatched) -> None:
    """Decode a whole select answer (codes, names or labels) into choice names."""
    value = cell.strip()
    if not value or value.casefold() in {m.casefold() for m in conventions.missing}:
        return
    choices = instrument.choices_for(question)
    other_choice = next(iter(followups), None)
    if question.type == "select_one":
        choice = find_choice(value, choices)
        if choice is not None:
            answer.ticks.append(choice.name)
        elif conventions.other_in_cell and other_choice:
            answer.ticks.append(other_choice)
            answer.others[other_choice] = cell.strip()
        else:
            # Left as found: validation reports it against the choice list (VAL_002).
            answer.raw = cell
        return
    found, rest = split_labels(value, choices, conventions.label_separator)
    for separator in conventions.other_label_separators:
        if not rest:
            break
        other_found, other_rest = split_labels(value, choices, separator)
        if not other_rest or len(other_found) > len(found):
            found, rest = other_found, other_rest
    if rest and not conventions.other_in_cell:
        # Names and codes never contain blanks: try the cell as names or codes instead.
        separator = re.escape(conventions.label_separator.strip() or ",")
        tokens = [t for t in re.split(rf"[{separator}\s]+", value) if t]
        by_token = {t: next((c for c in choices if t in (c.name, c.code)), None)
                    for t in tokens}
        if any(by_token.values()):
            answer.ticks.extend(c.name for c in by_token.values() if c)
            for token, choice in by_token.items():
                if choice is None:
                    unmatched(token)
            return
    answer.ticks.extend(c.name for c in found)
    if rest:
        if conventions.other_in_cell and other_choice:
            answer.ticks.append(other_choice)
            answer.others[other_choice] = rest
        else:
            unmatched(rest)


def _allowed(question: Question, instrument: Instrument, answer: _Answer, version: str,
             choice_versions: Mapping[tuple[str, str], str], report) -> list[str]:
    """Ticked choices that exist in the row's instrument version (others reported)."""
    kept = []
    for name in answer.ticks:
        since = choice_versions.get((question.list_name or "", name))
        if since is not None and version_key(version) < version_key(since):
            report(name)
            continue
        kept.append(name)
    return kept
