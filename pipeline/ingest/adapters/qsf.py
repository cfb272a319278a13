"""A Qualtrics survey definition (``.qsf``) as instrument tables (pure).

A ``.qsf`` file is JSON: ``SurveyEntry`` (the survey's name and dates) and ``SurveyElements``
— blocks (``BL``), the flow (``FL``) and one ``SQ`` element per question. Each question
becomes what the survey's exports hold, named by its export tag so that the exports read
without hand-written names:

* multiple choice (``MC``): a select-one (``SAVR``, ``SAHR``, ``SACOL``, ``DL``, ``SB``,
  ``NPS``) or select-multiple (``MAVR``, ``MAHR``, ``MACOL``, ``MSB``), its choices coded by
  their recode values; a choice with a text entry gets the follow-up text question
  ``<tag>_<choice id>_TEXT``, shown when the choice is picked;
* text entry (``TE``): a text question (a decimal when validated as a number); a form
  (``FORM``) one text question per field, ``<tag>_<field id>``;
* a matrix of single answers: one select-one per statement, ``<tag>_<statement id>`` (or
  ``<tag>_<statement export tag>`` when the statement has its own export tag); a matrix of
  multiple answers the same with one select-multiple per statement (split columns
  ``<tag>_<statement>_<recode>``);
* a slider: one decimal per slider, ``<tag>_<slider id>``;
* descriptive text (``DB``): a note.

Blocks become groups, in the order of the survey flow. Display logic that selects or
deselects a choice of an earlier question becomes ``relevant``; other logic, and question
types not listed, are reported in ``warnings`` and left out.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from pipeline.errors import make_issue
from pipeline.ingest.adapters.forms import guess_respondent_key

_SINGLE = ("SAVR", "SAHR", "SACOL", "DL", "SB", "NPS")
_MULTIPLE = ("MAVR", "MAHR", "MACOL", "MSB")
_TAGS = re.compile(r"<[^>]+>")


def _text(value: Any) -> str:
    return re.sub(r"\s+", " ", html.unescape(_TAGS.sub(" ", str(value or "")))).strip()


def _name(text: str) -> str:
    """An export tag as a question name (letters, digits, _, - and .; not a digit first)."""
    name = re.sub(r"[^A-Za-z0-9_.\-]+", "_", str(text)).strip("_")
    return name if re.match(r"^[A-Za-z_]", name) else f"q_{name}"


def _slug(text: str, used: set[str]) -> str:
    slug = re.sub(r"\W+", "_", text.casefold()).strip("_")[:40].strip("_") or "choice"
    slug = slug if re.match(r"^[A-Za-z_]", slug) else f"c_{slug}"
    while slug in used:
        slug += "_"
    used.add(slug)
    return slug


def _items(container: Any, start: int = 1) -> list[tuple[str, Any]]:
    """``Choices`` and ``Answers`` as (id, entry): a dict by id, or a list numbered from
    ``start``."""
    if isinstance(container, Mapping):
        return [(str(k), v) for k, v in container.items()]
    if isinstance(container, list):
        return [(str(i), v) for i, v in enumerate(container, start=start)]
    return []


def _ordered(payload: Mapping[str, Any], key: str, order_key: str) -> list[tuple[str, Any]]:
    order = [str(o) for o in payload.get(order_key) or []]
    container = payload.get(key)
    # A list of choices whose order counts from 0 has ids from 0 (choices 0 to 10 of a net
    # promoter score); a list without an order is numbered from 1.
    zero = isinstance(container, list) and \
        set(order) == {str(i) for i in range(len(container))}
    items = _items(container, start=0 if zero else 1)
    if order and set(order) <= {i for i, _ in items}:
        by_id = dict(items)
        return [(i, by_id[i]) for i in order]
    return items


def _blocks(elements: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The survey's blocks in the order of its flow (trash left out)."""
    blocks: dict[str, Mapping[str, Any]] = {}
    flow_ids: list[str] = []

    def walk(flow: Iterable[Mapping[str, Any]]) -> None:
        for step in flow or []:
            if step.get("Type") in ("Block", "Standard") and step.get("ID"):
                flow_ids.append(step["ID"])
            walk(step.get("Flow") or [])

    for element in elements:
        payload = element.get("Payload")
        if element.get("Element") == "BL":
            for _, block in _items(payload):
                if isinstance(block, Mapping) and block.get("Type") != "Trash":
                    blocks[str(block.get("ID"))] = block
        elif element.get("Element") == "FL" and isinstance(payload, Mapping):
            walk(payload.get("Flow") or [])
    ordered = [blocks[i] for i in dict.fromkeys(flow_ids) if i in blocks]
    return ordered + [b for i, b in blocks.items() if i not in flow_ids]


def qsf_tables(data: Mapping[str, Any], source: str = "") -> dict[str, Any]:
    """Instrument tables (manifest, survey, choices, warnings) from a parsed ``.qsf`` file."""
    where = source or "the survey definition"
    warnings: list[dict] = []

    def warn(question: str, problem: str) -> None:
        warnings.append(make_issue("INST_021", file=where, column=question, problem=problem))

    places: list[str | None] = []  # the question each survey row comes from

    elements = data.get("SurveyElements") or []
    if isinstance(elements, Mapping):
        elements = list(elements.values())
    entry = data.get("SurveyEntry") or {}
    payloads = {str(e["Payload"].get("QuestionID")): e["Payload"] for e in elements
                if e.get("Element") == "SQ" and isinstance(e.get("Payload"), Mapping)}
    names = {qid: _name(p.get("DataExportTag") or qid) for qid, p in payloads.items()}
    survey: list[dict] = []
    choices: list[dict] = []
    choice_names: dict[tuple[str, str], str] = {}  # (QID, choice id) -> choice name
    pending_logic: list[tuple[int, str, Any]] = []
    used_groups: set[str] = set()

    def add_choices(list_name: str, items: list[tuple[str, Any]], recodes: Mapping,
                    qid: str | None) -> list[tuple[str, str, Any]]:
        used: set[str] = set()
        made = []
        for choice_id, choice in items:
            label = _text(choice.get("Display") if isinstance(choice, Mapping) else choice)
            name = _slug(label, used)
            code = str(recodes.get(choice_id, choice_id))
            choices.append({"list_name": list_name, "name": name, "label": label,
                            "code": code})
            if qid:
                choice_names[(qid, choice_id)] = name
            made.append((choice_id, name, choice))
        return made

    for block in _blocks(elements):
        block_name = _slug(_text(block.get("Description")) or str(block.get("ID")),
                           used_groups)
        questions = [b.get("QuestionID") for b in block.get("BlockElements") or []
                     if isinstance(b, Mapping) and b.get("Type") == "Question"]
        if not any(q in payloads for q in questions):
            continue
        looping = str((block.get("Options") or {}).get("Looping") or "None")
        if looping not in ("None", "false", ""):
            # Loop and merge: the block's questions are exported once per loop (1_Q5, 2_Q5…),
            # many answers per respondent, as an XLSForm repeat group is.
            warnings.append(make_issue(
                "INST_021", file=where, column=block_name,
                problem=f"block '{_text(block.get('Description')) or block.get('ID')}' is a "
                        f"loop and merge: its questions "
                        f"({', '.join(names[q] for q in questions if q in payloads)}) are "
                        f"left out (one answer per respondent is analysed)"))
            continue
        survey.append({"type": "begin_group", "name": block_name,
                       "label": _text(block.get("Description"))})
        places.append(f"block {_text(block.get('Description')) or block.get('ID')}")
        for qid in questions:
            payload = payloads.get(qid)
            if payload is None:
                continue
            name, label = names[qid], _text(payload.get("QuestionText"))
            kind, selector = payload.get("QuestionType"), payload.get("Selector")
            start = len(survey)
            dynamic = str((payload.get("DynamicChoices") or {}).get("Locator", ""))
            source = re.match(r"^q://(QID\w+)/", dynamic)
            if kind == "MC" and selector in _SINGLE + _MULTIPLE and dynamic:
                # Choices carried forward from an earlier question: its list, whichever of
                # its choices the respondent was shown.
                origin = payloads.get(source.group(1)) if source else None
                if origin is None or origin.get("QuestionType") != "MC" or \
                        origin.get("DynamicChoices"):
                    warn(name, f"question '{name}' carries its choices forward from "
                               f"{dynamic or 'another question'}, which the import cannot "
                               f"read; it is left out")
                    continue
                base = "select_one" if selector in _SINGLE else "select_multiple"
                survey.append({"type": f"{base} {names[source.group(1)]}", "name": name,
                               "label": label})
                warn(name, f"the choices of '{name}' are carried forward from "
                           f"'{names[source.group(1)]}'; which of them were shown is not "
                           f"checked")
            elif kind == "MC" and selector in _SINGLE + _MULTIPLE:
                base = "select_one" if selector in _SINGLE else "select_multiple"
                made = add_choices(name, _ordered(payload, "Choices", "ChoiceOrder"),
                                   payload.get("RecodeValues") or {}, qid)
                survey.append({"type": f"{base} {name}", "name": name, "label": label})
                for choice_id, choice_name, choice in made:
                    if isinstance(choice, Mapping) and \
                            str(choice.get("TextEntry", "")).lower() == "true":
                        survey.append({"type": "text", "name": f"{name}_{choice_id}_TEXT",
                                       "label": f"{label} - {_text(choice.get('Display'))}",
                                       "relevant": f"selected(${{{name}}}, '{choice_name}')"})
            elif kind == "TE" and selector == "FORM":
                for choice_id, choice in _ordered(payload, "Choices", "ChoiceOrder"):
                    survey.append({"type": "text", "name": f"{name}_{choice_id}",
                                   "label": f"{label} - {_text(choice.get('Display'))}"})
            elif kind == "TE":
                content = str((payload.get("Validation") or {}).get("Settings", {})
                              .get("ContentType", ""))
                survey.append({"type": "decimal" if content == "ValidNumber" else "text",
                               "name": name, "label": label})
            elif kind == "Matrix" and payload.get("Selector") != "MaxDiff" and \
                    (payload.get("SubSelector") in ("SingleAnswer", "DL", "MultipleAnswer")
                     or payload.get("Selector") == "Bipolar"):
                # One question per statement (a check-all one when several answers are
                # allowed per row), and the typed text of an "Other:" statement.
                base = "select_multiple" if payload.get("SubSelector") == "MultipleAnswer" \
                    else "select_one"
                answers = _ordered(payload, "Answers", "AnswerOrder")
                add_choices(name, answers, (payload.get("RecodeValues") or {}), None)
                # A statement given its own export tag is exported as <tag>_<statement tag>.
                tags = payload.get("ChoiceDataExportTags")
                tags = tags if isinstance(tags, Mapping) else {}
                for choice_id, statement in _ordered(payload, "Choices", "ChoiceOrder"):
                    text = _text(statement.get("Display")) if isinstance(statement, Mapping) \
                        else _text(statement)
                    suffix = _name(tags[choice_id]) if tags.get(choice_id) else choice_id
                    survey.append({"type": f"{base} {name}", "name": f"{name}_{suffix}",
                                   "label": f"{label} - {text}"})
                    if isinstance(statement, Mapping) and \
                            str(statement.get("TextEntry", "")).lower() in ("true", "1"):
                        # A statement the respondent may type: its text, <statement>_TEXT.
                        survey.append({"type": "text", "name": f"{name}_{suffix}_TEXT",
                                       "label": f"{label} - {text} - text"})
            elif kind == "RO":
                # Rank order: the rank given to each item, 1 to the number of items.
                items = _ordered(payload, "Choices", "ChoiceOrder")
                for choice_id, item in items:
                    survey.append({"type": "integer", "name": f"{name}_{choice_id}",
                                   "label": f"{label} - {_text(item.get('Display'))}",
                                   "constraint": f". >= 1 and . <= {len(items)}"})
            elif kind in ("Slider", "CS"):
                # A slider, or a constant sum: one number per item (the amount given to it).
                for choice_id, choice in _ordered(payload, "Choices", "ChoiceOrder"):
                    survey.append({"type": "decimal", "name": f"{name}_{choice_id}",
                                   "label": f"{label} - {_text(choice.get('Display'))}"})
            elif kind == "DB":
                survey.append({"type": "note", "name": name, "label": label})
            else:
                warn(name, f"question '{name}' ({kind} {selector}) has a type the import "
                           f"does not know; it is left out")
                continue
            forced = str((payload.get("Validation") or {}).get("Settings", {})
                         .get("ForceResponse", "")).upper() == "ON"
            for row in survey[start:]:
                # A forced response is a required answer (of each statement of a matrix),
                # never of a follow-up text, which is asked only when its choice is picked.
                row["required"] = "yes" if forced and not row["name"].endswith("_TEXT") \
                    else "no"
            places.extend([f"question {name}"] * (len(survey) - start))
            if payload.get("DisplayLogic"):
                pending_logic.append((start, name, payload["DisplayLogic"]))
        survey.append({"type": "end_group", "name": "", "label": ""})
        places.append(None)

    for index, name, logic in pending_logic:
        relevant = _display_logic(logic, names, choice_names)
        if relevant is None:
            warn(name, f"the display logic of '{name}' is not one the import can write as "
                       f"relevant; the question is shown to everyone")
            continue
        survey[index]["relevant"] = relevant

    if not any(r["type"] not in ("note", "begin_group", "end_group") for r in survey):
        from pipeline.errors import PulsecheckError

        raise PulsecheckError("INST_022", file=where,
                              problem="the survey definition has no question the import "
                                      "can read")
    date = str(entry.get("LastModified") or entry.get("SurveyCreationDate") or "")
    year = int(date[:4]) if re.match(r"^\d{4}", date) else 0
    manifest = {
        "id": _name(entry.get("SurveyName") or entry.get("SurveyID") or "qualtrics"),
        "version": date[:10] or "1",
        "year": year,
        "title": str(entry.get("SurveyName") or ""),
        "languages": [str(entry.get("SurveyLanguage") or "EN").lower()],
        "keys": {"respondent": guess_respondent_key(
            pd.DataFrame(survey), frozenset(r["name"] for r in survey
                                            if r["name"].endswith("_TEXT")))},
    }
    return {"manifest": manifest,
            "survey": pd.DataFrame(survey, columns=["type", "name", "label", "required",
                                                    "relevant", "constraint"],
                                   dtype=object).fillna(""),
            "choices": pd.DataFrame(choices, columns=["list_name", "name", "label", "code"]),
            "warnings": warnings,
            # A problem is reported at the question it comes from (see relocate).
            "places": {"survey.csv": (where, places),
                       "choices.csv": (where, [f"choices of {c['list_name']}"
                                               for c in choices]),
                       "manifest.toml": (where, [])}}


_LOCATOR = re.compile(r"^q://(?P<qid>[^/]+)/SelectableChoice/(?P<choice>[^/]+)$")


def _display_logic(logic: Any, names: Mapping[str, str],
                   choice_names: Mapping[tuple[str, str], str]) -> str | None:
    """Display logic as an XLSForm expression, or ``None`` when it is not choice logic."""
    parts: list[str] = []
    for _, group in _items(logic):
        if not isinstance(group, Mapping):
            continue
        terms: list[str] = []
        for _, condition in _items(group):
            if not isinstance(condition, Mapping):
                continue
            match = _LOCATOR.match(str(condition.get("ChoiceLocator", "")))
            operator = condition.get("Operator")
            if condition.get("LogicType") != "Question" or not match or \
                    operator not in ("Selected", "NotSelected"):
                return None
            choice = choice_names.get((match["qid"], match["choice"]))
            if choice is None or match["qid"] not in names:
                return None
            test = f"selected(${{{names[match['qid']]}}}, '{choice}')"
            test = test if operator == "Selected" else f"not({test})"
            joiner = " or " if str(condition.get("Conjuction", "")).lower() == "or" else " and "
            terms.append((joiner if terms else "") + test)
        if terms:
            parts.append("(" + "".join(terms) + ")")
    return " and ".join(parts) if parts else None
