"""Which columns identify a response, and which column plays each role (pure).

After the columns are classified, three facts about an export are settled here, the same way
for every platform:

* **one column per role.** Several columns may fit a role (a REDCap project with several
  forms has one ``<form>_complete`` and one ``<form>_timestamp`` per form). The column the
  user named with ``--map`` wins, then one named in the profile, then the first one found by
  a profile pattern; the others become platform metadata, and the choice is reported.
* **the response id.** A profile's ``[keys] response_id_parts`` lists columns that, with the
  response id column, tell one response apart (REDCap's ``redcap_event_name``,
  ``redcap_repeat_instrument`` and ``redcap_repeat_instance``: one response is one record at
  one event and one instance). The id is their non-blank values joined with ``/``.
* **an id column that is also a question** (a REDCap record id field that the data
  dictionary lists as its first field) feeds both: the question keeps its answers.

Where no column holds a response id, ``<file stem>-<row>`` stands in for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.errors import make_issue
from pipeline.ingest.adapters.assemble import ANSWER, METADATA, ROLE, Table, Target
from pipeline.ingest.adapters.columnar import ColumnRecords
from pipeline.ingest.adapters.labels import find_question
from pipeline.model.instrument import Instrument

#: How a role column was found, most trusted first.
_TRUST = ("map", "name", "alias", "pattern")
#: Joins the parts of a response id made from several columns.
PART_JOINER = "/"


def _column_values(table: Table, index: int) -> list[str]:
    if isinstance(table.records, ColumnRecords):
        return [str(v) for v in table.records.columns[index]]
    return [record[index] if index < len(record) else "" for record in table.records]


def settle_roles(table: Table, targets: Sequence[Target]) -> tuple[list[Target], list[dict]]:
    """Keep one column per role (see module docstring); report a choice among several."""
    settled = list(targets)
    issues: list[dict] = []
    by_role: dict[str, list[int]] = {}
    for index, target in enumerate(settled):
        if target.kind == ROLE:
            by_role.setdefault(target.name, []).append(index)
    for role, indices in by_role.items():
        if len(indices) < 2:
            continue
        ranked = sorted(indices, key=lambda i: (_TRUST.index(settled[i].by)
                                                if settled[i].by in _TRUST else len(_TRUST), i))
        chosen = ranked[0]
        for index in ranked[1:]:
            settled[index] = Target(METADATA, by="role")
        if settled[chosen].by not in ("map",):
            issues.append(make_issue(
                "READ_042", file=table.file_name, row=table.header_row,
                column=table.columns[chosen], role=role, chosen=table.columns[chosen],
                columns=", ".join(table.columns[i] for i in sorted(indices))))
    return settled, issues


def response_keys(table: Table, targets: Sequence[Target], instrument: Instrument,
                  settings: Mapping[str, Any], stem: str
                  ) -> tuple[list[Target], list[str] | None, list[dict]]:
    """The targets, the response ids to use (``None``: the id column as it is) and notes.

    Parameters
    ----------
    table : Table
        The export's data rows.
    targets : sequence of Target
        One per column, roles already settled (:func:`settle_roles`).
    instrument : Instrument
        The instrument: a question named like the id column keeps its answers.
    settings : mapping
        The platform profile (``[keys] response_id_parts``, ``response_id_from_row``).
    stem : str
        The export's file name without its ending, for ids made from row numbers.
    """
    settled = list(targets)
    issues: list[dict] = []
    id_at = [i for i, t in enumerate(settled) if t.kind == ROLE and t.name == "response_id"]
    if not id_at:
        ids = [f"{stem}-{row}" for row in table.rows]
        if not settings.get("response_id_from_row"):
            issues.append(make_issue(
                "READ_040", file=table.file_name, row=table.header_row,
                name=settings.get("roles", {}).get("response_id", "none in the profile"),
                example=ids[0] if ids else f"{stem}-2"))
        return settled, ids, issues
    index = id_at[0]
    column = table.columns[index]
    # The id column may be a question too: named as it (raw export) or headed by its label.
    question = find_question(column, instrument.answerable)
    answered = {t.name for t in settled if t.kind == ANSWER}
    shared = question is not None and question.name not in answered
    parts = [table.columns.index(name)
             for name in settings.get("keys", {}).get("response_id_parts", ())
             if name in table.columns]
    if not shared and not parts:
        return settled, None, issues
    values = [v.strip() for v in _column_values(table, index)]
    used_parts = []
    for part in parts:
        part_values = [v.strip() for v in _column_values(table, part)]
        if any(part_values):
            used_parts.append(table.columns[part])
            values = [PART_JOINER.join(p for p in (v, w) if p) if v else v
                      for v, w in zip(values, part_values, strict=True)]
        settled[part] = Target(METADATA, by="key")
    settled[index] = Target(ANSWER, question.name, by="name") if shared and question \
        else Target(METADATA, by="key")
    if used_parts:
        longest = max(values, key=lambda v: v.count(PART_JOINER)) if values else ""
        issues.append(make_issue("READ_041", file=table.file_name, row=table.header_row,
                                 parts=", ".join([column, *used_parts]), example=longest))
    return settled, values, issues
