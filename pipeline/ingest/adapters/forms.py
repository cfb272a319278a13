"""Instruments given as an XLSForm workbook or a REDCap data dictionary (pure).

Both are turned into the tables :func:`pipeline.ingest.readers.read_instrument_tables` returns for an
instrument folder, so the same checker and builder apply.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import pandas as pd

#: XLSForm question types that record device metadata, not answers; they are left out.
METADATA_TYPES = ("start", "end", "today", "deviceid", "username", "phonenumber", "audit",
                  "simserial", "subscriberid", "calculate", "start-geopoint")
_EXPRESSION_TRUE = {"true()": "yes", "false()": "no"}


def _column_name(name: str) -> str:
    """``list name`` → ``list_name``; ``label::English (en)`` → ``label``."""
    text = str(name).strip()
    base = text.split("::", 1)[0].strip().lower().replace(" ", "_")
    return base


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    renamed: dict[str, str] = {}
    for column in frame.columns:
        target = _column_name(column)
        if target not in renamed.values():
            renamed[column] = target
    tidy = frame[list(renamed)].rename(columns=renamed)
    return tidy.fillna("").astype(str).map(str.strip)


def xlsform_tables(sheets: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """Instrument tables from an XLSForm's ``survey``, ``choices`` and ``settings`` sheets.

    Notes
    -----
    ``settings.version`` becomes the instrument version and ``form_id`` its id. An XLSForm
    has no survey year or respondent key: the optional settings columns ``year`` and
    ``respondent_key`` give them; otherwise the year is the first four digits of the version
    and the key the first text question (assumption A-ADAPT-4).
    """
    by_name = {str(k).strip().lower(): v for k, v in sheets.items()}
    survey = _tidy(by_name.get("survey", pd.DataFrame(columns=["type", "name", "label"])))
    choices = _tidy(by_name.get("choices", pd.DataFrame(columns=["list_name", "name", "label"])))
    settings_frame = _tidy(by_name.get("settings", pd.DataFrame()))
    settings = settings_frame.iloc[0].to_dict() if len(settings_frame) else {}
    if "type" in survey:
        # "end" alone is the end-time metadata; "end group" closes a group.
        survey = survey[~survey["type"].str.strip().isin(METADATA_TYPES)].reset_index(drop=True)
        survey["type"] = survey["type"].str.replace(r"^(begin|end)\s+group", r"\1_group",
                                                    regex=True)
    for column in ("required",):
        if column in survey:
            survey[column] = survey[column].map(lambda v: _EXPRESSION_TRUE.get(v.lower(), v))
    version = str(settings.get("version", "")) or "1"
    year_text = str(settings.get("year", "")) or (re.findall(r"\d{4}", version) or ["0"])[0]
    key = str(settings.get("respondent_key", ""))
    if not key and "type" in survey:
        texts = survey.loc[survey["type"].eq("text"), "name"]
        key = texts.iloc[0] if len(texts) else ""
    manifest = {
        "id": str(settings.get("form_id", "") or "xlsform"),
        "version": version,
        "year": int(year_text),
        "title": str(settings.get("form_title", "") or settings.get("form_id", "")),
        "languages": [str(settings.get("default_language", "") or "en")],
        "keys": {"respondent": key},
    }
    return {"manifest": manifest, "survey": survey, "choices": choices}


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


def redcap_tables(dictionary: pd.DataFrame) -> dict[str, Any]:
    """Instrument tables from a REDCap data dictionary (one row per field).

    Choice names are made from the labels (lower case, words joined by ``_``) and keep the
    REDCap code as ``code``; branching logic is rewritten in XLSForm syntax. A dictionary
    has no version or year: version ``1`` and year 0 stand in (assumption A-ADAPT-5); the
    record id field (the first) is the respondent key.
    """
    frame = dictionary.fillna("").astype(str)
    columns = list(frame.columns)
    field, form, kind, label, options = columns[0], columns[1], columns[3], columns[4], columns[5]
    validation = columns[7] if len(columns) > 7 else None
    identifier = columns[10] if len(columns) > 10 else None
    branching = columns[11] if len(columns) > 11 else None
    required = columns[12] if len(columns) > 12 else None
    survey_rows, choice_rows = [], []
    names_by_code: dict[str, dict[str, str]] = {}
    for row in frame.to_dict("records"):
        field_type = row[kind].strip()
        name = row[field].strip()
        if field_type not in _FIELD_TYPES:
            continue
        base = _FIELD_TYPES[field_type]
        check = row[validation].strip() if validation else ""
        if field_type == "text" and check in _VALIDATION_TYPES:
            base = _VALIDATION_TYPES[check]
        elif field_type == "text" and _NUMBER_VALIDATION.match(check):
            base = "decimal"
        constraint = _bounds(base, field_type, row, columns)
        type_text = f"{base} {name}" if base.startswith("select") else base
        if base.startswith("select"):
            text = _FIXED_CHOICES.get(field_type, row[options])
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
                choice_rows.append({"list_name": name, "name": choice_name,
                                    "label": choice_label, "code": code})
        survey_rows.append({
            "type": type_text, "name": name, "label": re.sub(r"<[^>]+>", "", row[label]),
            "required": "yes" if required and row[required].lower() == "y" else "no",
            "relevant": row[branching] if branching else "",
            "personal": "yes" if identifier and row[identifier].lower() == "y" else "no",
            "constraint": constraint,
        })
    for entry in survey_rows:
        entry["relevant"] = redcap_logic(entry["relevant"], names_by_code)
    first_form = frame[form].iloc[0] if len(frame) else "redcap"
    manifest = {"id": first_form, "version": "1", "year": 0, "title": first_form,
                "languages": ["en"],
                "keys": {"respondent": frame[field].iloc[0] if len(frame) else ""}}
    return {"manifest": manifest,
            "survey": pd.DataFrame(survey_rows, columns=["type", "name", "label", "required",
                                                         "relevant", "personal",
                                                         "constraint"]),
            "choices": pd.DataFrame(choice_rows, columns=["list_name", "name", "label",
                                                          "code"])}


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
