"""Check parsed TOML against its schema and turn every problem into a catalogue message.

pydantic reports each problem with its location in the file; this module names that location
as a key path (``steps[2].min_progress``), finds the nearest known key for an unknown one
(:mod:`difflib`), says which type was expected and what was found (a TOML date, a string
where a list belongs), and collects all of them into one :class:`ConfigError`
(``CONF_002`` unknown key, ``CONF_004`` missing key, ``CONF_005`` wrong value, under
``CONF_003``). Pure: parsed TOML in, a model or the error out.
"""

from __future__ import annotations

import difflib
import types
from typing import Annotated, Any, Mapping, Union, get_args, get_origin

import pandas as pd
from pydantic import BaseModel, ValidationError

from pipeline.errors import PulsecheckError, issues_frame, make_issue


class ConfigError(PulsecheckError):
    """A configuration file breaks its schema; ``problems`` is the issues table."""

    def __init__(self, file: str, problems: pd.DataFrame) -> None:
        self.problems = problems
        super().__init__("CONF_003", file=file, n=len(problems))


def _key_path(loc: tuple, model: type[BaseModel]) -> str:
    """``steps[2].min_progress`` from pydantic's location (union tags left out)."""
    parts: list[str] = []
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
            current = item_type(current)
            continue
        tagged = tag_member(current, part)
        if tagged is not None:
            current = tagged
            continue
        parts.append(f".{part}" if parts else str(part))
        current = field_type(current, part)
    return "".join(parts)


def unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def field_type(current: Any, name: str) -> Any:
    current = unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        field = current.model_fields.get(name)
        return optional_inner(field.annotation) if field else None
    if get_origin(current) is dict:
        return optional_inner(get_args(current)[1])
    return None


def item_type(current: Any) -> Any:
    current = unwrap(current)
    if get_origin(current) is list and get_args(current):
        return optional_inner(get_args(current)[0])
    return None


def optional_inner(annotation: Any) -> Any:
    annotation = unwrap(annotation)
    members = [m for m in get_args(annotation) if m is not type(None)] \
        if get_origin(annotation) in (Union, types.UnionType) else []
    if len(members) == 1:
        return unwrap(members[0])
    return annotation


def tag_member(current: Any, tag: Any) -> Any:
    """The member of a discriminated union whose tag is ``tag`` (``None`` if not a union)."""
    current = unwrap(current)
    if get_origin(current) is not Union:
        return None
    for member in get_args(current):
        field = getattr(member, "model_fields", {}).get("rule")
        if field is not None and tag in get_args(field.annotation):
            return member
    return None


def _known_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys allowed in the table at ``loc`` (the parent of an unknown key)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            current = item_type(current)
        elif (tagged := tag_member(current, part)) is not None:
            current = tagged
        else:
            current = field_type(current, part)
    current = unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _expected(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    names = {"string_type": "a quoted string", "int_type": "a whole number",
             "float_type": "a number", "bool_type": "true or false",
             "list_type": "a list in brackets, e.g. [\"a\", \"b\"]",
             "dict_type": "a table", "model_type": "a table",
             "model_attributes_type": "a table"}
    if kind in names:
        return names[kind]
    if kind == "literal_error":
        return "one of " + error["ctx"]["expected"]
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return str(error["msg"]).replace("Input should be ", "a value ")
    if kind == "too_short":
        return "at least one entry"
    if kind == "value_error":
        # A rule across keys of one table (a model validator): its own words.
        return str(error["msg"]).removeprefix("Value error, ")
    return str(error["msg"]).replace("Input should be ", "")


#: Longest value quoted in a message; longer ones are cut with "...".
SHOWN_CHARS = 60


def _describe(value: Any) -> str:
    text = repr(value)
    kind = type(value).__name__
    if kind in ("date", "datetime", "time"):
        return f"the TOML {kind} {value.isoformat()}"
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 3] + "..."


def schema_problems(data: Mapping[str, Any], schema: type[BaseModel], file: str
                    ) -> tuple[BaseModel | None, pd.DataFrame]:
    """Validate parsed TOML against its schema.

    Returns
    -------
    tuple
        The model (``None`` when invalid) and the issues table: one row per problem, with
        the key path, the rule broken and the fix (``CONF_002`` unknown key with the nearest
        known key, ``CONF_004`` missing key, ``CONF_005`` value of the wrong type or out of
        range).
    """
    try:
        return schema.model_validate(data), issues_frame([])
    except ValidationError as error:
        issues = []
        for item in error.errors(include_url=False):
            loc = tuple(item["loc"])
            key = _key_path(loc, schema) or "(top level)"
            if item["type"] == "extra_forbidden":
                known = [k for k in _known_keys(schema, loc[:-1])]
                close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
                hint = f"Did you mean '{close[0]}'? " if close else ""
                issues.append(make_issue("CONF_002", file=file, key=key,
                                         known=", ".join(known) or "none", hint=hint))
            elif item["type"] == "missing":
                issues.append(make_issue("CONF_004", file=file, key=key))
            elif item["type"] == "union_tag_invalid":
                tags = str(item["ctx"]["expected_tags"]).replace("'", "")
                got = str(item["ctx"]["tag"])
                close = difflib.get_close_matches(got, tags.split(", "), n=1, cutoff=0.6)
                hint = f"Did you mean '{close[0]}'? " if close else ""
                issues.append(make_issue("CONF_005", file=file,
                                         key=f"{key}.rule", value=got, found=repr(got),
                                         expected=f"one of {tags}", hint=hint))
            else:
                value = item.get("input")
                literal = item["type"] == "literal_error"
                close = difflib.get_close_matches(
                    str(value), [t.strip(" '") for t in str(item["ctx"]["expected"])
                                 .replace(" or ", ", ").split(",")], n=1, cutoff=0.6) \
                    if literal else []
                hint = f"Did you mean '{close[0]}'? " if close else ""
                issues.append(make_issue("CONF_005", file=file, key=key,
                                         value=value, found=_describe(value),
                                         expected=_expected(item), hint=hint))
        return None, issues_frame(issues)


def validate_config(data: Mapping[str, Any], schema: type[BaseModel], file: str) -> Any:
    """The validated model of ``data``; raise :class:`ConfigError` listing every problem."""
    model, problems = schema_problems(data, schema, file)
    if model is None:
        raise ConfigError(file, problems)
    return model
