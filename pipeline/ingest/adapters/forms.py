"""Instruments given as an XLSForm workbook or a REDCap data dictionary (pure).

Both are turned into the tables :func:`pipeline.ingest.readers.read_instrument_tables` returns
for an instrument folder, so the same checker and builder apply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

#: XLSForm question types that record device metadata, not answers; they are left out.
METADATA_TYPES = ("start", "end", "today", "deviceid", "username", "phonenumber", "audit",
                  "simserial", "subscriberid", "start-geopoint", "email", "imei",
                  "background-audio", "xml-external", "csv-external")
#: XLSForm types kept as text: the export holds their value as written (a calculation's
#: result, coordinates, a file name, a time), which the pipeline reads but does not analyse.
TEXT_TYPES = ("calculate", "geopoint", "geotrace", "geoshape", "barcode", "image", "audio",
              "video", "file", "acknowledge", "trigger", "hidden", "datetime", "time",
              "select_one_from_file", "select_multiple_from_file", "rank")
#: XLSForm types the pipeline analyses as they are.
_ANALYSED = ("text", "integer", "decimal", "date", "select_one", "select_multiple", "note",
             "begin_group", "end_group")


#: Other spellings of XLSForm columns (as pyxform accepts them) → the column read here.
_COLUMN_ALIASES = {"caption": "label", "relevance": "relevant", "calculate": "calculation",
                   "constraining_message": "constraint_message", "command": "type",
                   "tag": "name", "value": "name", "jr:constraintmsg": "constraint_message",
                   "jr:requiredmsg": "required_message", "requiredmsg": "required_message",
                   "jr:count": "repeat_count", "count": "repeat_count"}
#: Prefixes of the early column spellings (``bind:relevant``, ``control:appearance``).
_COLUMN_PREFIXES = ("bind::", "bind:", "control::", "control:", "media::", "media:")
#: The columns the early ``bind:``/``control:``/``media:`` spellings stand for.
_PREFIXED_COLUMNS = ("relevant", "constraint", "required", "calculate", "readonly",
                     "jr:", "appearance", "image", "audio", "video", "big-image")
#: The XLSForm types this reader knows (others are read as text with a warning).
_KNOWN_TYPES = {*METADATA_TYPES, *TEXT_TYPES, *_ANALYSED, "range", "select_one_external",
                "begin_repeat", "end_repeat", "begin_loop", "end_loop", "osm", "photo",
                "start-geopoint", "background-geopoint"}


def _header(name: object) -> tuple[str, str]:
    """A column header as (column, language): ``label::English (en)`` → (``label``,
    ``English (en)``), ``list name`` → (``list_name``, ``""``), ``bind:relevant`` →
    (``relevant``, ``""``), ``jr:constraintMsg::fr`` → (``constraint_message``, ``fr``)."""
    text = str(name).strip()
    lowered = text.lower()
    for prefix in _COLUMN_PREFIXES:
        if lowered.startswith(prefix):
            rest = lowered[len(prefix):]
            if not rest.startswith(_PREFIXED_COLUMNS):
                # Another bind or control attribute (``bind::type`` of Survey123, say): a
                # column of its own, never the question's type.
                return lowered, ""
            text, lowered = text[len(prefix):], rest
            break
    for alias in ("jr:constraintmsg", "jr:requiredmsg", "jr:count"):
        if lowered.startswith(alias):
            return _COLUMN_ALIASES[alias], text[len(alias):].lstrip(":").strip()
    parts = re.split(r"::?", text, maxsplit=1)
    base = parts[0].strip().lower().replace(" ", "_")
    return _COLUMN_ALIASES.get(base, base), parts[1].strip() if len(parts) > 1 else ""


def _column_name(name: str) -> str:
    """``list name`` → ``list_name``; ``label::English (en)`` and ``label:English`` → ``label``."""
    return _header(name)[0]


def _letter(position: int) -> str:
    letters, number = "", position + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _languages(frame: pd.DataFrame) -> list[str]:
    """The languages of a sheet's label columns, in sheet order (``""``: no language)."""
    found = [language for base, language in map(_header, frame.columns) if base == "label"]
    return list(dict.fromkeys(found))


def _matching_language(wanted: str, languages: list[str]) -> str | None:
    """The label language that ``default_language`` names: exactly, or by its name or code
    alone (``English`` and ``en`` both name ``English (en)``), case aside."""
    def parts(text: str) -> set[str]:
        match = re.match(r"^\s*(.*?)\s*(?:\(([^()]*)\))?\s*$", text)
        return {p.casefold() for p in (match.group(1), match.group(2)) if p} if match else set()

    if wanted in languages:
        return wanted
    found = [x for x in languages if x and parts(wanted) & parts(x)]
    return found[0] if found else None


def _tidy(frame: pd.DataFrame, language: str = "", sheet: str = "",
          warn: Any = None) -> pd.DataFrame:
    """The sheet's columns under their plain names, each translated column in ``language``
    (else the column without a language, else the first); a column repeated is warned and
    the first kept."""
    first: dict[tuple[str, str], int] = {}
    for position, column in enumerate(frame.columns):
        base, column_language = _header(column)
        if not base:
            continue  # a column without a header holds nothing pyxform reads
        if (base, column_language) in first:
            if warn is not None:
                warn(sheet, 1, base, f"column {_letter(position)} ('{str(column).strip()}') "
                     f"repeats column {_letter(first[base, column_language])}; the first "
                     f"is read")
            continue
        first[(base, column_language)] = position
    options: dict[str, dict[str, int]] = {}
    for (base, column_language), position in first.items():
        options.setdefault(base, {})[column_language] = position
    picked = {base: by_language.get(language, by_language.get("",
                                                               next(iter(by_language.values()))))
              for base, by_language in options.items()}
    tidy = frame.iloc[:, list(picked.values())].copy()
    tidy.columns = list(picked)
    return tidy.fillna("").astype(str).map(str.strip)


def xlsform_csv_sheets(rows: list[list[str]]) -> dict[str, pd.DataFrame] | None:
    """The sheets of an XLSForm saved as CSV (as pyxform reads it), or ``None``.

    A row whose first cell names a sheet (``survey``, ``choices``, ``settings``) opens it; the
    rows after it, first cell blank, are that sheet's header and rows.
    """
    first = next((row for row in rows if any(cell.strip() for cell in row)), None)
    if first is None or first[0].strip().lower() not in ("survey", "choices", "settings"):
        return None
    tables: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in rows:
        if row and row[0].strip():
            current = tables.setdefault(row[0].strip().lower(), [])
        elif current is not None:
            current.append([cell.strip() for cell in row[1:]])
    sheets = {}
    for name, table in tables.items():
        while table and not any(table[0]):
            table.pop(0)
        if not table:
            continue
        width = max(len(row) for row in table)
        padded = [row + [""] * (width - len(row)) for row in table]
        sheets[name] = pd.DataFrame(padded[1:], columns=padded[0], dtype=object)
    return sheets


#: Early spellings of XLSForm types that pyxform still reads.
_TYPE_ALIASES = {"string": "text", "int": "integer", "select1": "select_one",
                 "select_all_that_apply": "select_multiple"}


def _base_type(type_text: str) -> tuple[str, str]:
    """``select_one list or_other`` → (``select_one``, ``list``); ``begin repeat`` →
    (``begin_repeat``, ``""``); a blank between words of a type is an underscore."""
    words = type_text.split()
    if not words:
        return "", ""
    first = _TYPE_ALIASES.get(words[0].lower(), words[0].lower())
    if first in ("begin", "end") and len(words) > 1:
        return f"{first}_{words[1].lower()}", ""
    if first in ("select_one", "select_multiple", "select_one_from_file",
                 "select_multiple_from_file", "rank"):
        return first, words[1] if len(words) > 1 else ""
    if first == "select" and "from" in words[:-1]:
        # The early spelling: "select one from LIST", "select all that apply from LIST".
        kind = "select_one" if words[1].lower() == "one" else "select_multiple"
        return kind, words[words.index("from") + 1]
    if first == "select" and len(words) > 2 and words[1] in ("one", "multiple"):
        return f"select_{words[1]}", words[2]
    return first, ""


def _range_constraint(parameters: str) -> tuple[str, str]:
    """A ``range`` question's type and constraint from its ``start``, ``end`` and ``step``."""
    values = dict(re.findall(r"(\w+)\s*=\s*([-+0-9.]+)", parameters or ""))
    start, end, step = values.get("start", "1"), values.get("end", "10"), values.get("step", "1")
    kind = "integer" if all(re.fullmatch(r"[-+]?\d+", v) for v in (start, end, step)) \
        else "decimal"
    return kind, f". >= {start} and . <= {end}"


def xlsform_tables(sheets: Mapping[str, pd.DataFrame], source: str = "") -> dict[str, Any]:
    """Instrument tables from an XLSForm's ``survey``, ``choices`` and ``settings`` sheets.

    The form is read as pyxform accepts it: every type is kept or left out, never refused.
    Metadata types (``start``, ``deviceid`` …) and notes are left out; types the pipeline reads
    but does not analyse (``calculate``, ``geopoint``, ``image`` …) become text questions;
    ``range`` becomes a number with its bounds as constraint; ``or_other`` adds an ``other``
    choice; the questions of a repeat group or loop are left out; an expression the pipeline
    cannot evaluate, a conditional ``required`` and a ``choice_filter`` are not checked. Each
    such decision is listed in ``warnings`` (``INST_021``), at the sheet, row and column.

    Raises
    ------
    PulsecheckError
        ``INST_022`` when no question is left that a respondent answers once (every question
        sits in a repeat group).

    Notes
    -----
    ``settings.version`` becomes the instrument version and ``form_id`` its id. Labels and
    hints are read in ``settings.default_language`` when the form has columns in it, else in
    the columns without a language, else in the first language of the survey sheet. An
    XLSForm has no survey year or respondent key: the optional settings columns ``year`` and
    ``respondent_key`` give them; otherwise the year is the first four digits of the version
    and the key the first text question, or the first question when there is no text one
    (assumption A-ADAPT-4).
    """
    from pipeline.errors import PulsecheckError, make_issue
    from pipeline.model import expressions

    warnings: list[dict] = []
    where = source or "the XLSForm"

    def warn(sheet: str, row: int | None, column: str, problem: str) -> None:
        warnings.append(make_issue("INST_021", file=f"{where} sheet {sheet}", row=row,
                                   column=column, problem=problem))

    by_name = {str(k).strip().lower(): v for k, v in sheets.items()}
    if "survey" not in by_name:
        # A workbook whose one sheet with type and name columns is not called "survey".
        found = [v for v in by_name.values()
                 if {"type", "name"} <= {_column_name(c) for c in v.columns}]
        if len(found) == 1:
            by_name["survey"] = found[0]
    if "survey" not in by_name:
        raise PulsecheckError(
            "INST_022", file=where, problem="the workbook has no sheet named 'survey' (its "
            "sheets: " + (", ".join(f"'{k}'" for k in sheets) or "none") + ")")
    raw_survey = by_name["survey"]
    headers = [_header(c)[0] for c in raw_survey.columns]
    for needed in ("type", "name"):
        if needed not in headers and not raw_survey.empty:
            raise PulsecheckError("INST_003", file=f"{where} sheet survey", row=1,
                                  name=needed, present=", ".join(
                                      str(c) for c in raw_survey.columns if str(c).strip()))
    settings_frame = _tidy(by_name.get("settings", pd.DataFrame()), sheet="settings", warn=warn)
    settings = settings_frame.iloc[0].to_dict() if len(settings_frame) else {}
    languages = _languages(raw_survey)
    default = str(settings.get("default_language", "")).strip()
    language = _matching_language(default, languages) if default else None
    if language is None:
        language = "" if "" in languages or not languages else languages[0]
    if len(languages) > 1:
        others = ", ".join(f"'{x}'" for x in languages if x != language and x)
        warn("survey", 1, "label", f"labels are read in "
             f"{repr(language) if language else 'the column without a language'}; the form "
             f"also has {others or 'other languages'}")
    survey = _tidy(raw_survey, language, "survey", warn)
    choices = _tidy(by_name.get("choices", pd.DataFrame(columns=["list_name", "name", "label"])),
                    language, "choices", warn)
    for frame, needed in ((survey, ("type", "name", "label")),
                          (choices, ("list_name", "name", "label"))):
        for column in needed:
            if column not in frame:
                # A label-less form uses its names as labels (pyxform allows it).
                frame[column] = frame["name"] if column == "label" and "name" in frame else ""
    if "label" in choices:
        choices["label"] = choices["label"].where(choices["label"].ne(""), choices["name"])
    choices = choices[choices["list_name"].ne("") | choices["name"].ne("")]

    # Choices: the first of a repeated name is kept (choice filters repeat them).
    seen_choices: set[tuple[str, str]] = set()
    keep_choice = []
    for position, row in zip(choices.index + 2, choices.to_dict("records"), strict=True):
        key = (row["list_name"], row["name"])
        keep_choice.append(key not in seen_choices)
        if key in seen_choices:
            warn("choices", int(position), "name", f"choice '{row['name']}' of list "
                 f"'{row['list_name']}' repeats an earlier one; the first is kept")
        seen_choices.add(key)
    choices = choices.loc[pd.Series(keep_choice, index=choices.index, dtype=bool)]
    choice_sheet_rows: list[int | None] = [int(i) + 2 for i in choices.index]
    choices = choices.reset_index(drop=True)
    extra_choices: list[dict] = []

    rows: list[dict] = []
    survey_sheet_rows: list[int | None] = []
    repeat_depth = 0
    first_repeat: int | None = None
    computed: list[str] = []  # read as text but not typed by the respondent as text
    sheet_names = set(survey["name"]) if "name" in survey else set()
    for position, row in enumerate(survey.to_dict("records"), start=2):
        type_text = row.get("type", "").strip()
        name = row.get("name", "")
        if not type_text and not name:
            continue
        base, list_name = _base_type(type_text)
        if base in ("begin_repeat", "begin_loop"):
            if repeat_depth == 0:
                first_repeat = first_repeat or position
                warn("survey", position, "type", f"repeat group '{name}' is "
                     f"left out with its questions (one answer per respondent is analysed)")
            repeat_depth += 1
            continue
        if base in ("end_repeat", "end_loop"):
            repeat_depth = max(0, repeat_depth - 1)
            continue
        if repeat_depth:
            continue
        if base in METADATA_TYPES or type_text == "end":
            continue
        if not name and base == "note":
            continue  # a note without a name records nothing (pyxform names it itself)
        if not name and base not in _KNOWN_TYPES:
            warn("survey", position, "type", f"the row of type '{type_text}' has no name "
                 f"and is not a question; it is left out")
            continue
        entry = dict(row)
        follow_up: dict | None = None
        if base == "range":
            kind, bounds = _range_constraint(row.get("parameters", ""))
            entry["type"] = kind
            entry["constraint"] = " and ".join(
                p for p in (row.get("constraint", ""), bounds) if p)
        elif base in TEXT_TYPES or base in ("select_one_from_file",):
            entry["type"] = "text"
            computed.append(name)
            warn("survey", position, "type", f"'{name}' of type '{type_text}' "
                 f"is read as text and not analysed")
        elif base in ("select_one", "select_multiple"):
            entry["type"] = f"{base} {list_name}"
            if "or_other" in type_text.split():
                if (list_name, "other") not in seen_choices:
                    seen_choices.add((list_name, "other"))
                    extra_choices.append({"list_name": list_name, "name": "other",
                                          "label": "Other"})
                    choice_sheet_rows.append(None)
                if f"{name}_other" not in sheet_names:
                    # pyxform adds the text of the other answer as <name>_other.
                    follow_up = {"type": "text", "name": f"{name}_other",
                                 "label": "Specify other.",
                                 "relevant": f"selected(${{{name}}}, 'other')"}
        elif base in _ANALYSED:
            entry["type"] = base  # as the checker spells it (``int`` → ``integer``)
        elif base not in _ANALYSED:
            entry["type"] = "text"
            computed.append(name)
            warn("survey", position, "type", f"'{name}' has type "
                 f"'{type_text}', which is read as text and not analysed" if type_text else
                 f"'{name}' has no type; it is read as text and not analysed")
        rows.append(entry)
        survey_sheet_rows.append(position)
        if follow_up:
            rows.append(follow_up)
            survey_sheet_rows.append(position)
    if extra_choices:
        choices = pd.concat([choices, pd.DataFrame(extra_choices)], ignore_index=True) \
            .fillna("")
    columns = list(dict.fromkeys([*survey.columns, *(k for r in rows for k in r)]))
    survey = pd.DataFrame(rows, columns=columns).fillna("") if rows else survey.iloc[0:0]
    _rename_groups(survey)

    def sheet_row(index: Any) -> int | None:
        return survey_sheet_rows[int(index)]

    # Expressions the pipeline cannot evaluate, or that name a question left out, are dropped.
    names = set(survey["name"]) if "name" in survey else set()
    for column in ("relevant", "constraint"):
        if column not in survey:
            continue
        for index, text in survey[column].items():
            if not text:
                continue
            try:
                unknown = sorted(expressions.references(expressions.parse(text)) - names)
            except expressions.ExpressionError:
                unknown = ["(an unsupported expression)"]
            if unknown:
                survey.loc[index, column] = ""
                warn("survey", sheet_row(index), column, f"the {column} of "
                     f"'{survey.loc[index, 'name']}' ({text}) is not checked: it names "
                     f"{', '.join(unknown)}")
    if "required" in survey:
        for index, value in survey["required"].items():
            flag = _REQUIRED_FLAGS.get(value.strip().lower())
            if flag is None:
                # A condition (``${a} = 'yes'``): the answer is not required everywhere.
                warn("survey", sheet_row(index), "required", f"'{survey.loc[index, 'name']}' "
                     f"is required only when {value}; that is not checked")
            survey.loc[index, "required"] = flag or "no"
    if "choice_filter" in survey:
        for index, text in survey["choice_filter"].items():
            if text:
                warn("survey", sheet_row(index), "choice_filter", f"the choice_filter of "
                     f"'{survey.loc[index, 'name']}' ({text}) is not checked: every choice of "
                     f"its list is accepted")
    answerable = survey.loc[~survey["type"].isin(("note", "begin_group", "end_group")),
                            "name"] if "type" in survey else pd.Series(dtype=str)
    if answerable.empty:
        raise PulsecheckError(
            "INST_022", file=f"{where} sheet survey", row=first_repeat, column="type",
            problem="every question of the form is inside a repeat group or loop"
            if first_repeat else "the form has no question")
    version = str(settings.get("version", "")) or "1"
    year_text = str(settings.get("year", "")).strip() or \
        (re.findall(r"\d{4}", version) or ["0"])[0]
    if not year_text.isdigit():
        warn("settings", 2, "year", f"the year '{year_text}' is not a number; the form's "
             f"year is left unknown (0)")
        year_text = "0"
    key = str(settings.get("respondent_key", "")) or \
        guess_respondent_key(survey, frozenset(computed))
    code = re.search(r"\(([^()]+)\)\s*$", language)
    manifest = {
        "id": str(settings.get("form_id", "") or "xlsform"),
        "version": version,
        "year": int(year_text),
        "title": str(settings.get("form_title", "") or settings.get("form_id", "")),
        "languages": [code.group(1) if code else (language or default or "en"),
                      *(x for x in languages if x and x != language)],
        "keys": {"respondent": key},
    }
    return {"manifest": manifest, "survey": survey, "choices": choices, "warnings": warnings,
            "places": {"survey.csv": (f"{where} sheet survey", survey_sheet_rows),
                       "choices.csv": (f"{where} sheet choices", choice_sheet_rows),
                       "manifest.toml": (f"{where} sheet settings", [])}}


def guess_respondent_key(survey: pd.DataFrame, not_answers: frozenset[str] = frozenset()
                         ) -> str:
    """The question that stands for the respondent when the form names none.

    Every row without this answer is an error (VAL_007), so the guess is an answer that every
    respondent gives: a question shown to everyone (no ``relevant`` of its own or of its
    groups), required before optional, typed text before other types, never one of
    ``not_answers`` (values the form computes or the device records, read as text);
    otherwise the first question (assumption A-ADAPT-4).
    """
    survey = survey.fillna("")
    candidates: list[tuple[int, int, str]] = []
    shown: list[bool] = []  # whether each open group is shown to everyone
    first = ""
    for row in survey.to_dict("records"):
        kind = str(row.get("type", "")).split(" ")[0]
        condition = str(row.get("relevant", "") or "").strip()
        if kind == "begin_group":
            shown.append(not condition)
            continue
        if kind == "end_group":
            if shown:
                shown.pop()
            continue
        if kind in ("note", "") or not row.get("name"):
            continue
        first = first or row["name"]
        if condition or not all(shown) or row["name"] in not_answers:
            continue
        required = _REQUIRED_FLAGS.get(str(row.get("required", "")).strip().lower()) == "yes"
        candidates.append((0 if required else 1, 0 if kind == "text" else 1, row["name"]))
    return min(candidates, key=lambda c: c[:2])[2] if candidates else first


#: ``required`` as XLSForm writes it; anything else is a condition.
_REQUIRED_FLAGS = {**dict.fromkeys(("yes", "true", "true()", "1", "y"), "yes"),
                   **dict.fromkeys(("no", "false", "false()", "0", "n", ""), "no")}


def _rename_groups(survey: pd.DataFrame) -> None:
    """Give a group that shares its name with a question (or another group) a name of its
    own: XLSForm names need only be unique among siblings, and a group holds no answer."""
    if "type" not in survey or survey.empty:
        return
    is_group = survey["type"].eq("begin_group")
    taken = set(survey.loc[~is_group & ~survey["type"].eq("end_group"), "name"])
    for index in survey.index[is_group]:
        name = survey.loc[index, "name"]
        if not name:
            continue
        new = name
        while new in taken:
            new += "_group"
        survey.loc[index, "name"] = new
        taken.add(new)


_LOCATION = re.compile(r"^\[[^\]]*\]")


def relocate(problems: pd.DataFrame, places: Mapping[str, Any]) -> pd.DataFrame:
    """Problems found in the tables of a form, placed in the form itself.

    ``places`` maps a table (``survey.csv``, ``choices.csv``, ``manifest.toml``) to the
    form's name for it and the form row of each table row (``None`` where the table row was
    added): a problem in the XLSForm's survey table is reported at the workbook, sheet and
    row it comes from.
    """
    if problems.empty or not places:
        return problems
    moved = problems.copy()
    for index, problem in problems.iterrows():
        if problem["file"] not in places:
            continue
        name, rows = places[problem["file"]]
        row = problem["row"]
        position = None if pd.isna(row) else int(row) - 2
        found = rows[position] if position is not None and 0 <= position < len(rows) else None
        # A row of a sheet or dictionary, or a named place (a question of a survey
        # definition).
        at = f" row {found}" if isinstance(found, int) else (f", {found}" if found else "")
        where = f"[{name}" + at + \
            (f", column {problem['column']}" if isinstance(problem["column"], str) and
             problem["column"] else "") + "]"
        moved.at[index, "file"] = name
        moved.at[index, "row"] = found if isinstance(found, int) else pd.NA
        message = _LOCATION.sub(where, str(problem["message"]), count=1)

        def first_row(match: re.Match, rows: Any = rows) -> str:
            at = int(match.group(1)) - 2
            found = rows[at] if 0 <= at < len(rows) else None
            return f"first at row {found}" if isinstance(found, int) else \
                f"first at {found}" if found else match.group(0)

        # A repeated name's first row is a table row too: cite it in the form; and the fix
        # names the form's sheet, not a file of an instrument folder the user does not have.
        message = re.sub(r"first at row (\d+)", first_row, message)
        for table, (place, _) in places.items():
            message = message.replace(f"to {table}", f"to {place}") \
                .replace(f"Fix {table}", f"Fix {place}")
        moved.at[index, "message"] = message
    return moved


_FIELD_TYPES = {"radio": "select_one", "dropdown": "select_one", "yesno": "select_one",
                "truefalse": "select_one", "checkbox": "select_multiple", "notes": "text",
                "text": "text", "descriptive": "note",
                # Read as they are exported, never recomputed: a slider's position, a
                # calculated field's result, an uploaded file's or signature's name, the value
                # picked from a database query.
                "slider": "integer", "calc": "decimal", "file": "text", "sql": "text"}
#: Text validations that make a text field a number or a date. The export writes every date
#: as YYYY-MM-DD whatever its display order; decimal commas and datetimes stay text.
_VALIDATION_TYPES = {"integer": "integer", "number": "decimal", "date_ymd": "date",
                     "date_mdy": "date", "date_dmy": "date"}
_NUMBER_VALIDATION = re.compile(r"^number_\d+dp$")
#: A slider's scale when the dictionary gives no minimum or maximum.
_SLIDER_BOUNDS = ("0", "100")
_FIXED_CHOICES = {"yesno": "1, Yes | 0, No", "truefalse": "1, True | 0, False"}


def _slug(text: str) -> str:
    slug = re.sub(r"\W+", "_", text.casefold()).strip("_")
    return slug if re.match(r"^[A-Za-z_]", slug or "0") else f"c_{slug}"


def redcap_tables(dictionary: pd.DataFrame, source: str = "") -> dict[str, Any]:
    """Instrument tables from a REDCap data dictionary (one row per field).

    Choice names are made from the labels (lower case, words joined by ``_``) and keep the
    REDCap code as ``code``; branching logic is rewritten in XLSForm syntax. A dictionary
    has no version or year: version ``1`` and year 0 stand in (assumption A-ADAPT-5); the
    record id field (the first) is the respondent key.
    """
    # A dictionary written from R (REDCapR's metadata) holds NA in every empty cell.
    frame = dictionary.fillna("").astype(str).replace("NA", "")
    columns = list(frame.columns)
    field, form, kind, label, options = columns[0], columns[1], columns[3], columns[4], columns[5]
    validation = columns[7] if len(columns) > 7 else None
    identifier = columns[10] if len(columns) > 10 else None
    branching = columns[11] if len(columns) > 11 else None
    required = columns[12] if len(columns) > 12 else None
    survey_rows, choice_rows = [], []
    names_by_code: dict[str, dict[str, str]] = {}
    from pipeline.errors import make_issue

    survey_places: list[int | None] = []
    choice_places: list[int | None] = []
    warnings: list[dict] = []
    unknown_types: list[tuple[int, str, str]] = []
    for line, row in enumerate(frame.to_dict("records"), start=2):
        field_type = row[kind].strip()
        name = row[field].strip()
        if not field_type and not name:
            continue  # an empty row
        if field_type not in _FIELD_TYPES:
            # A field type this reader does not know (a newer REDCap's or a module's): its
            # value is exported as written, so it is read as text, and the user is told.
            unknown_types.append((line, name, field_type))
        base = _FIELD_TYPES.get(field_type, "text")
        check = row[validation].strip() if validation else ""
        if field_type == "text" and check in _VALIDATION_TYPES:
            base = _VALIDATION_TYPES[check]
        elif field_type == "text" and _NUMBER_VALIDATION.match(check):
            base = "decimal"
        constraint = _bounds(base, field_type, row, columns)
        text = _FIXED_CHOICES.get(field_type, row[options])
        if base.startswith("select") and not any("," in part for part in text.split("|")):
            # A choice field without choices (REDCap saves one, e.g. a radio field used
            # as descriptive text): its values are read as text, never refused.
            warnings.append(make_issue(
                "INST_021", file=source or "the data dictionary", column=name,
                problem=f"{field_type} field '{name}' (row {line}) has no choices; its "
                        f"values are read as text"))
            base = "text"
        type_text = f"{base} {name}" if base.startswith("select") else base
        if base.startswith("select"):
            used: set[str] = set()
            for part in text.split("|"):
                if "," not in part:
                    continue
                code, choice_label = (p.strip() for p in part.split(",", 1))
                choice_name = _slug(choice_label) or f"c_{code}"
                while choice_name in used:
                    choice_name += "_"
                used.add(choice_name)
                names_by_code.setdefault(name, {})[code] = choice_name
                choice_places.append(line)
                choice_rows.append({"list_name": name, "name": choice_name,
                                    "label": choice_label, "code": code})
        survey_places.append(line)
        survey_rows.append({
            "type": type_text, "name": name, "label": re.sub(r"<[^>]+>", "", row[label]),
            "required": "yes" if required and row[required].lower() == "y" else "no",
            "relevant": row[branching] if branching else "",
            "personal": "yes" if identifier and row[identifier].lower() == "y" else "no",
            "constraint": constraint,
        })
    from pipeline.model import expressions

    warnings.extend(make_issue(
        "INST_021", file=source or "the data dictionary", row=line, column=kind,
        problem=f"field '{name}' has the type '{field_type}', which is read as text and "
                f"not analysed") for line, name, field_type in unknown_types)
    fields = {entry["name"] for entry in survey_rows}
    for entry, line in zip(survey_rows, survey_places, strict=True):
        written = entry["relevant"]
        entry["relevant"] = redcap_logic(written, names_by_code)
        if not entry["relevant"]:
            continue
        try:
            unknown = sorted(expressions.references(expressions.parse(entry["relevant"]))
                             - fields)
        except expressions.ExpressionError:
            unknown = ["a function or form the pipeline does not evaluate"]
        if unknown:
            # Logic on another event's value, or with REDCap functions: the field is then
            # validated as shown to everyone, and the user is told so.
            entry["relevant"] = ""
            warnings.append(make_issue(
                "INST_021", file=source or "the data dictionary", row=line,
                column=branching, problem=f"the branching logic of '{entry['name']}' "
                f"({written.strip()}) is not checked: it names {', '.join(unknown)}"))
    first_form = frame[form].iloc[0] if len(frame) else "redcap"
    manifest = {"id": first_form, "version": "1", "year": 0, "title": first_form,
                "languages": ["en"],
                "keys": {"respondent": frame[field].iloc[0] if len(frame) else ""}}
    return {"manifest": manifest,
            "survey": pd.DataFrame(survey_rows, columns=["type", "name", "label", "required",
                                                         "relevant", "personal",
                                                         "constraint"]),
            "choices": pd.DataFrame(choice_rows, columns=["list_name", "name", "label",
                                                          "code"]),
            "warnings": warnings,
            # A problem is reported at the dictionary's row (see relocate).
            "places": {"survey.csv": (source or "the data dictionary", survey_places),
                       "choices.csv": (source or "the data dictionary", choice_places),
                       "manifest.toml": (source or "the data dictionary", [])}}


def _bounds(base: str, field_type: str, row: Mapping[str, str], columns: list[str]) -> str:
    """The constraint of a number field from its validation minimum and maximum (columns 9
    and 10 of a dictionary); a slider without them runs from 0 to 100."""
    if base not in ("integer", "decimal"):
        return ""
    low = row[columns[8]].strip() if len(columns) > 8 else ""
    high = row[columns[9]].strip() if len(columns) > 9 else ""
    if field_type == "slider":
        low, high = low or _SLIDER_BOUNDS[0], high or _SLIDER_BOUNDS[1]
    parts = []
    for operator, bound in ((">=", low), ("<=", high)):
        try:
            float(bound)
        except ValueError:
            continue  # blank, or a date or "today": not a number bound
        parts.append(f". {operator} {bound}")
    return " and ".join(parts)


def redcap_logic(text: str, names_by_code: Mapping[str, Mapping[str, str]]) -> str:
    """REDCap branching logic → XLSForm: ``[f(2)] = '1'`` → ``selected(${f}, 'name')``."""
    if not text.strip():
        return ""

    def checkbox(match: re.Match) -> str:
        field, code, value = match.group(1), match.group(2), match.group(3)
        choice = names_by_code.get(field, {}).get(code, code)
        test = f"selected(${{{field}}}, '{choice}')"
        return test if value == "1" else f"not({test})"

    def equals(match: re.Match) -> str:
        field, operator, value = match.group(1), match.group(2), match.group(3)
        choice = names_by_code.get(field, {}).get(value, value)
        operator = "!=" if operator == "<>" else operator
        return f"${{{field}}} {operator} '{choice}'"

    result = re.sub(r"\[(\w+)\((\w+)\)\]\s*=\s*['\"]?([01])['\"]?", checkbox, text)
    result = re.sub(r"\[(\w+)\]\s*(<>|!=|=)\s*['\"]([^'\"]*)['\"]", equals, result)
    return re.sub(r"\[(\w+)\]", r"${\1}", result)
