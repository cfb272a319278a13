"""The schemas of the configuration files as Markdown (``docs/configuration.md``).

``python -m pipeline.model.schema_docs > docs/configuration.md`` regenerates the page; a test
fails when the committed page differs from the schemas.
"""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from pipeline.model.schema_check import field_type, item_type, optional_inner, unwrap
from pipeline.model.schemas import FILES


def _type_text(annotation: Any) -> str:
    annotation = unwrap(annotation)
    origin = get_origin(annotation)
    if origin is Literal:
        return " \\| ".join(f'`"{a}"`' for a in get_args(annotation))
    if origin in (Union, types.UnionType):
        members = [m for m in get_args(annotation) if m is not type(None)]
        if members and all(getattr(m, "model_fields", None) and "rule" in m.model_fields
                           for m in members):
            return "table (by `rule`)"
        return " or ".join(_type_text(m) for m in members)
    if origin is list:
        return f"list of {_type_text(get_args(annotation)[0])}"
    if origin is dict:
        return f"table of {_type_text(get_args(annotation)[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    return {"str": "string", "int": "whole number", "float": "number",
            "bool": "true/false"}.get(getattr(annotation, "__name__", ""), str(annotation))


def _model_rows(model: type[BaseModel], prefix: str, seen: set) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        shown = str(field.default).lower() if isinstance(field.default, bool) else field.default
        default = "required" if field.is_required() else (
            "—" if field.default is None or field.default_factory is not None else f"`{shown}`")
        rows.append(f"| `{key}` | {_type_text(field.annotation)} | {default} | "
                    f"{field.description or ''} |")
        inner = optional_inner(field.annotation)
        for candidate, suffix in ((inner, "."), (item_type(inner), "[]."),
                                  (field_type(inner, "x") if get_origin(inner) is dict else None,
                                   ".<name>.")):
            nested = unwrap(candidate)
            if get_origin(nested) is Union:
                for member in get_args(nested):
                    rule = get_args(member.model_fields["rule"].annotation)[0]
                    rows += _model_rows(member, f"{key}[rule={rule}].", seen)
            elif isinstance(nested, type) and issubclass(nested, BaseModel) and \
                    (nested, key) not in seen:
                seen.add((nested, key))
                rows += _model_rows(nested, f"{key}{suffix}", seen)
    return rows


def schema_markdown() -> str:
    """Every configuration file's keys, types and defaults as Markdown."""
    generated = ("Generated from `pipeline/model/schemas.py` by `python -m "
                 "pipeline.model.schema_docs`; do not edit by hand.")
    checked = ("Every key is checked: an unknown key is an error naming the nearest known key, "
               "a value of the wrong type is an error and is never converted (`values = "
               "\"no\"` is not `[\"no\"]`). Codes `CONF_001` to `CONF_005` in the error "
               "catalogue.")
    lines = ["# Configuration files", "", generated, "", checked, ""]
    for path, model in FILES:
        lines += [f"## `{path}`", "", (model.__doc__ or "").strip(), "",
                  "| key | type | default | meaning |", "|---|---|---|---|",
                  *_model_rows(model, "", set()), ""]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m pipeline.model.schema_docs > docs/configuration.md
    import sys

    sys.stdout.write(schema_markdown())
