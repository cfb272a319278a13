"""The instrument model: a questionnaire version held as data, checked, then frozen.

An instrument is a folder with XLSForm-shaped tables kept as CSV (``survey.csv``,
``choices.csv``), a ``manifest.toml`` and a ``phase_map.csv``. Reading those files is done at
the edge (:func:`pipeline.ingest.readers.read_instrument`); this module only checks the tables
(:func:`check_instrument`, every problem at once, as an issues table) and builds the frozen
:class:`Instrument` (:func:`build_instrument`).

Columns of ``survey.csv``: ``type, name, label, hint, required, relevant, constraint,
constraint_message, personal``. Columns of ``choices.csv``: ``list_name, name, label`` and the
optional ``code`` (the numeric value a platform exports) and ``exclusive`` (``yes`` for an
answer such as "none of these" that cannot be ticked with others).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import pandas as pd

from pipeline.columns import MULTI_SEPARATOR
from pipeline.errors import issues_frame, make_issue
from pipeline.model import expressions

#: Question types the pipeline understands (XLSForm names).
QUESTION_TYPES = ("text", "integer", "decimal", "date", "select_one", "select_multiple", "note")
GROUP_TYPES = ("begin_group", "end_group", "begin group", "end group")
SURVEY_COLUMNS = ("type", "name", "label", "hint", "required", "relevant", "constraint",
                  "constraint_message", "personal")
REQUIRED_SURVEY_COLUMNS = ("type", "name", "label")
CHOICE_COLUMNS = ("list_name", "name", "label")
PHASE_MAP_COLUMNS = ("value", "phase_group", "basis")
PHASE_BASES = ("sourced", "GUESS")
#: Question names as XLSForm allows them (XML names: hyphens and dots after the first
#: character), which is also what ``${name}`` in an expression accepts.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
#: Choice names as the XLSForm specification allows them: numbers (``1``) and hyphens
#: (``mid-slope``) included; no blanks (they separate the choices of a select-multiple
#: answer) and no quotes (they delimit a choice in an expression).
_CHOICE_NAME = re.compile(r"""^[^\s'"/]+$""")
#: A choice only ever picked alone (its list serves no select_multiple question) may hold
#: blanks, as pyxform allows: ``Cross cutting``.
_SINGLE_CHOICE_NAME = re.compile(r"""^[^'"/]*[^\s'"/][^'"/]*$""")
_YES = {"yes", "true", "1", "y"}
_NO = {"no", "false", "0", "n", ""}



@dataclass(frozen=True)
class Choice:
    """One answer option of a choice list."""

    list_name: str
    name: str
    label: str
    code: str
    exclusive: bool = False
    #: An answer that says "no information" ("Not sure"): user-missing in labelled exports.
    missing: bool = False


@dataclass(frozen=True)
class Question:
    """One question of the instrument.

    ``relevant`` is the question's own skip logic; ``group_relevant`` holds the skip logic of
    the groups around it, which applies too. ``row`` is the line in ``survey.csv``.
    """

    name: str
    type: str
    label: str
    list_name: str | None = None
    hint: str = ""
    required: bool = False
    relevant: str = ""
    constraint: str = ""
    constraint_message: str = ""
    personal: bool = False
    group: str | None = None
    group_relevant: tuple[str, ...] = ()
    row: int = 0

    @property
    def conditions(self) -> tuple[str, ...]:
        """Every skip-logic expression that must hold for the question to be asked."""
        return self.group_relevant + ((self.relevant,) if self.relevant else ())

    @property
    def is_select(self) -> bool:
        return self.type in ("select_one", "select_multiple")


@dataclass(frozen=True)
class PhaseRule:
    """One row of the phase map: a self-placement answer and the phase group it places."""

    value: str
    phase_group: str
    basis: str
    assumption: str = ""
    note: str = ""


@dataclass(frozen=True)
class Instrument:
    """A checked, immutable instrument version."""

    id: str
    version: str
    year: int
    title: str
    languages: tuple[str, ...]
    respondent_key: str
    phase_question: str
    phase_order: tuple[str, ...]
    unclassified: str
    questions: tuple[Question, ...]
    choices: Mapping[str, tuple[Choice, ...]]
    phase_map: tuple[PhaseRule, ...]
    reconstruction: bool = False
    source: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: Warnings met while reading a form written for another tool (an XLSForm's parts that
    #: are read as text or left out), as issue rows; empty for an instrument folder.
    notes: tuple[Mapping[str, Any], ...] = ()

    def question(self, name: str) -> Question:
        """The question called ``name`` (KeyError if there is none)."""
        for question in self.questions:
            if question.name == name:
                return question
        raise KeyError(name)

    @property
    def answerable(self) -> tuple[Question, ...]:
        """Questions that hold answers (every type but ``note``)."""
        return tuple(q for q in self.questions if q.type != "note")

    def choices_for(self, question: Question) -> tuple[Choice, ...]:
        """The ordered choices of a select question (empty for other types)."""
        return self.choices.get(question.list_name or "", ())

    def indicator_columns(self, question: Question) -> tuple[str, ...]:
        """Column names ``question/choice`` of a select-multiple question, in choice order."""
        return tuple(f"{question.name}{MULTI_SEPARATOR}{c.name}"
                     for c in self.choices_for(question))

    @property
    def personal_questions(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.questions if q.personal)

    @property
    def phase_lookup(self) -> Mapping[str, str]:
        return MappingProxyType({rule.value: rule.phase_group for rule in self.phase_map})


# --------------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------------

def _flag(value: Any) -> bool | None:
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    return None


def _split_type(type_text: str) -> tuple[str, str | None]:
    parts = str(type_text).split()
    if not parts:
        return "", None
    base = parts[0]
    if base in ("begin", "end") and len(parts) > 1 and parts[1] == "group":
        return f"{base}_group", None
    return base, (parts[1] if len(parts) > 1 else None)


def check_instrument(tables: Mapping[str, Any]) -> pd.DataFrame:
    """Check an instrument's tables and report every problem at once.

    Parameters
    ----------
    tables : mapping
        ``survey``, ``choices`` and ``phase_map`` as string DataFrames (blank cells as ``""``)
        and ``manifest`` as a dict, as returned by
        :func:`pipeline.ingest.readers.read_instrument_tables`.

    Returns
    -------
    pandas.DataFrame
        The issues table (empty when the instrument is sound). Checked: required columns,
        unique valid names, known types, every list exists and has unique names and codes,
        balanced groups, yes/no flags, expressions parse and refer to questions, skip logic
        has no cycles, exclusive flags sit on select-multiple lists, the manifest has its
        fields, and the phase map covers every code of the phase question exactly.
    """
    issues: list[dict] = []
    survey: pd.DataFrame = tables["survey"]
    choices: pd.DataFrame = tables["choices"]
    phase_map: pd.DataFrame | None = tables.get("phase_map")
    manifest: Mapping[str, Any] = tables.get("manifest", {})

    def add(code: str, file: str, row: int | None = None, column: str | None = None, **kw):
        issues.append(make_issue(code, file=file, row=row, column=column, **kw))

    for name, frame, required in (("survey.csv", survey, REQUIRED_SURVEY_COLUMNS),
                                  ("choices.csv", choices, CHOICE_COLUMNS)):
        for column in required:
            if column not in frame.columns:
                add("INST_003", name, 1, None, name=column, present=", ".join(frame.columns))
    if any(i["code"] == "INST_003" for i in issues):
        return issues_frame(issues)

    # Choice lists.
    check_all_lists = {_split_type(str(t).strip())[1] for t in survey["type"]
                       if _split_type(str(t).strip())[0] == "select_multiple"}
    lists: dict[str, list[str]] = {}
    for position, row in enumerate(choices.itertuples(index=False), start=2):
        record = row._asdict()
        list_name, name = record["list_name"].strip(), record["name"].strip()
        if not list_name and not name:
            continue
        rule = _CHOICE_NAME if list_name in check_all_lists else _SINGLE_CHOICE_NAME
        if not rule.match(name):
            add("INST_005", "choices.csv", position, "name", value=name, name=name)
        if name in lists.get(list_name, []):
            add("INST_008", "choices.csv", position, "name", list_name=list_name, name=name)
        lists.setdefault(list_name, []).append(name)
        for flag in ("exclusive", "missing"):
            if flag in choices.columns and _flag(record.get(flag, "")) is None:
                add("INST_017", "choices.csv", position, flag,
                    value=record[flag], field=flag)
    if "code" in choices.columns:
        for list_name, group in choices.assign(line=range(2, len(choices) + 2)).groupby(
                "list_name", sort=False):
            seen: dict[str, str] = {}
            for row in group.itertuples(index=False):
                code = str(row.code).strip()
                if not code:
                    continue
                if code in seen:
                    add("INST_019", "choices.csv", row.line, "code", list_name=list_name,
                        choice_code=code, first=seen[code], second=row.name)
                else:
                    seen[code] = row.name

    # Questions, groups and names.
    first_row: dict[str, int] = {}
    group_stack: list[str] = []
    multi_lists: set[str] = set()
    parsed: dict[str, list[tuple[str, expressions.Node, int]]] = {}
    questions_seen: list[str] = []
    for position, row in enumerate(survey.itertuples(index=False), start=2):
        record = row._asdict()
        type_text, name = record["type"].strip(), record["name"].strip()
        if not type_text and not name:
            continue
        base, list_name = _split_type(type_text)
        if base == "end_group":
            if not group_stack:
                add("INST_016", "survey.csv", position, "type", name=name or "(unnamed)",
                    problem="closed but never opened")
            else:
                group_stack.pop()
            continue
        if not _NAME.match(name):
            add("INST_005", "survey.csv", position, "name", value=name, name=name)
        if name in first_row:
            add("INST_004", "survey.csv", position, "name", name=name,
                first_row=first_row[name])
        else:
            first_row[name] = position
        if base == "begin_group":
            group_stack.append(name)
        elif base not in QUESTION_TYPES:
            add("INST_006", "survey.csv", position, "type", value=type_text, type=type_text,
                supported=", ".join(QUESTION_TYPES))
        else:
            questions_seen.append(name)
            if base in ("select_one", "select_multiple"):
                if not list_name or list_name not in lists:
                    add("INST_007", "survey.csv", position, "type",
                        list_name=list_name or "(none given)")
                if base == "select_multiple" and list_name:
                    multi_lists.add(list_name)
        for flag_column in ("required", "personal"):
            if flag_column in survey.columns and _flag(record.get(flag_column, "")) is None:
                add("INST_017", "survey.csv", position, flag_column,
                    value=record[flag_column], field=flag_column)
        for column in ("relevant", "constraint"):
            text = str(record.get(column, "") or "").strip()
            if not text:
                continue
            try:
                node = expressions.parse(text)
            except expressions.ExpressionError as error:
                add("INST_009", "survey.csv", position, column, value=text, field=column,
                    expression=text, reason=str(error))
                continue
            parsed.setdefault(name, []).append((column, node, position))
    for open_group in group_stack:
        add("INST_016", "survey.csv", first_row.get(open_group), "type", name=open_group,
            problem="opened but never closed")

    # Exclusive flags only make sense on lists used by select_multiple questions.
    if "exclusive" in choices.columns:
        for position, row in enumerate(choices.itertuples(index=False), start=2):
            if _flag(row.exclusive) and row.list_name not in multi_lists:
                add("INST_018", "choices.csv", position, "exclusive",
                    list_name=row.list_name, name=row.name)

    # References and cycles in skip logic.
    known = set(first_row)
    dependencies: dict[str, set[str]] = {}
    for name, entries in parsed.items():
        for column, node, position in entries:
            for reference in sorted(expressions.references(node)):
                if reference not in known:
                    add("INST_010", "survey.csv", position, column, value=reference,
                        field=column, name=reference)
                elif column == "relevant":
                    dependencies.setdefault(name, set()).add(reference)
    for cycle in _find_cycles(dependencies):
        add("INST_011", "survey.csv", first_row.get(cycle[0]), "relevant",
            cycle=" → ".join([*cycle, cycle[0]]))

    issues.extend(_check_manifest(manifest, set(questions_seen)))
    if phase_map is not None:
        issues.extend(_check_phase_map(phase_map, manifest, survey, choices))
    return issues_frame(issues)


def _find_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Elementary cycles found by depth-first search, each reported once."""
    cycles: list[list[str]] = []
    seen_keys: set[frozenset[str]] = set()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycle = path[path.index(target):]
                key = frozenset(cycle)
                if key not in seen_keys:
                    seen_keys.add(key)
                    cycles.append(list(cycle))
            elif state.get(target) is None:
                visit(target, path)
        path.pop()
        state[node] = 2

    for start in sorted(graph):
        if state.get(start) is None:
            visit(start, [])
    return cycles


def _check_manifest(manifest: Mapping[str, Any], questions: set[str]) -> list[dict]:
    issues = []

    def add(field_name: str, problem: str):
        issues.append(make_issue("INST_015", file="manifest.toml", column=field_name,
                                 field=field_name, problem=problem))

    for key in ("id", "version", "year", "languages"):
        if key not in manifest:
            add(key, "is missing")
    if "version" in manifest and not isinstance(manifest["version"], str):
        add("version", "must be a quoted string, e.g. version = \"2016\"")
    if "year" in manifest and not isinstance(manifest["year"], int):
        add("year", "must be a whole number")
    respondent = manifest.get("keys", {}).get("respondent")
    if not respondent:
        add("keys.respondent", "is missing (the question that identifies a respondent)")
    elif respondent not in questions:
        add("keys.respondent", f"names '{respondent}', which is not a question")
    phase = manifest.get("phase", {})
    if phase and not phase.get("question"):
        # A version without a self-placement question (e.g. a first wave) names only the
        # group every partnership falls in; it has no phase order and no phase map.
        if not phase.get("unclassified_group"):
            add("phase.unclassified_group", "is missing (the group of partnerships when the "
                "instrument has no phase question)")
    elif phase:
        if phase.get("question") not in questions:
            add("phase.question", f"names '{phase.get('question')}', which is not a question")
        if not phase.get("order"):
            add("phase.order", "is missing (the phase groups in developmental order)")
        if not phase.get("unclassified_group"):
            add("phase.unclassified_group", "is missing")
    return issues


def _check_phase_map(phase_map: pd.DataFrame, manifest: Mapping[str, Any],
                     survey: pd.DataFrame, choices: pd.DataFrame) -> list[dict]:
    issues = []
    phase = manifest.get("phase", {})
    issues.extend(make_issue("INST_003", file="phase_map.csv", row=1, name=column,
                             present=", ".join(phase_map.columns))
                  for column in PHASE_MAP_COLUMNS if column not in phase_map.columns)
    if issues or not phase:
        return issues
    allowed_groups = [*phase.get("order", []), phase.get("unclassified_group", "")]
    question_rows = survey[survey["name"].str.strip() == phase.get("question", "")]
    if question_rows.empty:
        return issues
    _, list_name = _split_type(question_rows.iloc[0]["type"])
    codes = choices.loc[choices["list_name"] == list_name, "name"].str.strip().tolist()
    mapped = phase_map["value"].str.strip().tolist()
    for position, row in enumerate(phase_map.itertuples(index=False), start=2):
        if row.value.strip() not in codes:
            issues.append(make_issue("INST_013", file="phase_map.csv", row=position,
                                     column="value", value=row.value, name=row.value,
                                     list_name=list_name))
        if row.phase_group.strip() not in allowed_groups:
            issues.append(make_issue("INST_014", file="phase_map.csv", row=position,
                                     column="phase_group", value=row.phase_group,
                                     field="phase_group", expected=", ".join(allowed_groups)))
        if row.basis.strip() not in PHASE_BASES:
            issues.append(make_issue("INST_014", file="phase_map.csv", row=position,
                                     column="basis", value=row.basis,
                                     field="basis", expected=", ".join(PHASE_BASES)))
    issues.extend(make_issue("INST_012", file="phase_map.csv", name=code, list_name=list_name)
                  for code in codes if code not in mapped)
    return issues


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------

def build_instrument(tables: Mapping[str, Any], source: Mapping[str, str] | None = None
                     ) -> Instrument:
    """Build the frozen instrument from tables that passed :func:`check_instrument`.

    Parameters
    ----------
    tables : mapping
        As for :func:`check_instrument`.
    source : mapping, optional
        File name → sha256 of the files the tables came from (recorded in run manifests).
    """
    manifest = tables["manifest"]
    choices_table: pd.DataFrame = tables["choices"]
    lists: dict[str, list[Choice]] = {}
    for row in choices_table.itertuples(index=False):
        record = row._asdict()
        if not record["list_name"].strip():
            continue
        code = str(record.get("code", "") or "").strip() or record["name"].strip()
        lists.setdefault(record["list_name"].strip(), []).append(Choice(
            list_name=record["list_name"].strip(),
            name=record["name"].strip(),
            label=record["label"].strip(),
            code=code,
            exclusive=bool(_flag(record.get("exclusive", "")) or False),
            missing=bool(_flag(record.get("missing", "")) or False),
        ))

    questions: list[Question] = []
    group_stack: list[tuple[str, str]] = []
    for position, row in enumerate(tables["survey"].itertuples(index=False), start=2):
        record = row._asdict()
        base, list_name = _split_type(record["type"].strip())
        if not base:
            continue
        if base == "begin_group":
            group_stack.append((record["name"].strip(),
                                str(record.get("relevant", "") or "").strip()))
            continue
        if base == "end_group":
            group_stack.pop()
            continue
        questions.append(Question(
            name=record["name"].strip(),
            type=base,
            label=record["label"].strip(),
            list_name=list_name,
            hint=str(record.get("hint", "") or "").strip(),
            required=bool(_flag(record.get("required", ""))),
            relevant=str(record.get("relevant", "") or "").strip(),
            constraint=str(record.get("constraint", "") or "").strip(),
            constraint_message=str(record.get("constraint_message", "") or "").strip(),
            personal=bool(_flag(record.get("personal", ""))),
            group=group_stack[-1][0] if group_stack else None,
            group_relevant=tuple(expr for _, expr in group_stack if expr),
            row=position,
        ))

    phase = manifest.get("phase", {})
    rules = tuple(
        PhaseRule(value=r.value.strip(), phase_group=r.phase_group.strip(),
                  basis=r.basis.strip(),
                  assumption=str(getattr(r, "assumption", "") or "").strip(),
                  note=str(getattr(r, "note", "") or "").strip())
        for r in tables["phase_map"].itertuples(index=False)
    ) if tables.get("phase_map") is not None else ()
    return Instrument(
        id=str(manifest["id"]),
        version=str(manifest["version"]),
        year=int(manifest["year"]),
        title=str(manifest.get("title", manifest["id"])),
        languages=tuple(manifest.get("languages", ["en"])),
        respondent_key=manifest["keys"]["respondent"],
        phase_question=phase.get("question", ""),
        phase_order=tuple(phase.get("order", ())),
        unclassified=str(phase.get("unclassified_group", "")),
        questions=tuple(questions),
        choices=MappingProxyType({k: tuple(v) for k, v in lists.items()}),
        phase_map=rules,
        reconstruction=bool(manifest.get("reconstruction", False)),
        source=MappingProxyType(dict(source or {})),
        notes=tuple(MappingProxyType(dict(n)) for n in tables.get("warnings", ())),
    )
