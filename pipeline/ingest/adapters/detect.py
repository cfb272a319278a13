"""Recognising an export's platform from its header (pure).

Each profile's ``[detect]`` table says what its exports look like: names that must all be in
row 1 (``first_row_all``), or all the names of one of several lists (``first_row_any_of``, for the
header variants of one platform's exports), a name ending found in row 1
(``first_row_suffix_any``), the first cell (``first_cell``), how row 3 starts (``row3_prefix``),
or file name endings (``suffixes``). The matching profile with the highest ``priority`` wins;
the reason is reported so a user can see why, and ``--platform`` overrides it.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence


def match_profile(settings: Mapping[str, Any], first_rows: Sequence[Sequence[str]],
                  suffix: str) -> str | None:
    """Why the header fits the profile, or ``None`` when it does not."""
    rules = settings.get("detect", {})
    if not rules:
        return None
    reasons = []
    row1 = [c.strip() for c in first_rows[0]] if first_rows else []
    if "suffixes" in rules:
        if suffix.lower() not in rules["suffixes"]:
            return None
        reasons.append(f"the file name ends with {suffix.lower()}")
    if "first_row_all" in rules:
        if not set(rules["first_row_all"]) <= set(row1):
            return None
        reasons.append("row 1 has " + ", ".join(rules["first_row_all"]))
    if "first_row_any_of" in rules:
        # Variants of one platform's header: row 1 must hold every name of one of the lists.
        fitting = [names for names in rules["first_row_any_of"] if set(names) <= set(row1)]
        if not fitting:
            return None
        reasons.append("row 1 has " + ", ".join(fitting[0]))
    if "first_row_suffix_any" in rules:
        hits = [c for c in row1 if any(c.endswith(s) for s in rules["first_row_suffix_any"])]
        if not hits:
            return None
        reasons.append(f"row 1 has {hits[0]}")
    if "first_cell" in rules:
        if not row1 or row1[0] not in rules["first_cell"]:
            return None
        reasons.append(f"the first column is {row1[0]}")
    if "row3_prefix" in rules:
        if len(first_rows) < 3 or not first_rows[2] or \
                not first_rows[2][0].strip().startswith(rules["row3_prefix"]):
            return None
        reasons.append(f"row 3 starts with {rules['row3_prefix']}")
    return "; ".join(reasons) if reasons else None


def detect_platform(profiles: Sequence[Mapping[str, Any]], first_rows: Sequence[Sequence[str]],
                    suffix: str, family: str | None = None
                    ) -> tuple[Mapping[str, Any], str] | None:
    """The best matching profile and why (optionally only among one family)."""
    candidates = [p for p in profiles if family in (None, "auto", p.get("family", p["name"]))]
    matches = []
    for profile in candidates:
        reason = match_profile(profile, first_rows, suffix)
        if reason is not None:
            matches.append((int(profile.get("detect", {}).get("priority", 0)), profile, reason))
    if not matches:
        return None
    matches.sort(key=lambda m: -m[0])
    return matches[0][1], matches[0][2]
