"""The raw → analysed flow: apply a wave's exclusion steps and account for every row.

Each step comes from the wave description (``wave.toml`` ``[[steps]]``) and uses one of a few
generic rules:

``metadata_in``
    Remove rows whose platform role (``role``, e.g. ``channel``) has one of ``values``.
``incomplete``
    Remove rows the platform marks unfinished, or whose progress is below ``min_progress``.
``answer_in``
    Remove rows whose answer to ``question`` is one of ``values`` (e.g. a screening question).
``quarantine``
    Move rows with an issue of *error* severity to quarantine.
``deduplicate``
    Keep one row per respondent key (``key``, default the instrument's); ``keep`` orders the
    candidates: ``most_complete`` (most answered questions), ``latest`` (latest submission),
    ``earliest``; the last row in the file breaks remaining ties.

Every row ends in exactly one place: ``analysed``, ``excluded`` (with the step's reason) or
``quarantined`` (with the rules it broke). The functions here are pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from pipeline.errors import PulsecheckError, issues_frame, make_issue
from pipeline.columns import FILE_COLUMN, ROW_COLUMN
from pipeline.instrument import Instrument
from pipeline.wave import STEP_RULES, Step

ANALYSED, EXCLUDED, QUARANTINED = "analysed", "excluded", "quarantined"
FLOW_COLUMNS = ("step", "n_in", "n_out", "n_removed", "reason")
DISPOSITION_COLUMNS = ("file", "row", "response_id", "disposition", "step", "reason")
_KEEP_ORDERS = ("most_complete", "latest", "earliest")


@dataclass(frozen=True)
class FlowResult:
    """Where every row went.

    Attributes
    ----------
    dispositions : pandas.DataFrame
        One row per input row: ``file, row, response_id, disposition, step, reason``.
    flow : pandas.DataFrame
        One row per step: ``step, n_in, n_out, n_removed, reason``.
    analysed : pandas.Index
        Index labels of the analysed rows, in input order.
    issues : pandas.DataFrame
        Issues raised by the steps themselves (e.g. ``VAL_008`` for duplicates).
    """

    dispositions: pd.DataFrame
    flow: pd.DataFrame
    analysed: pd.Index
    issues: pd.DataFrame


def _answered_count(frame: pd.DataFrame, instrument: Instrument) -> pd.Series:
    counts = pd.Series(0, index=frame.index)
    for question in instrument.answerable:
        if question.type == "select_multiple":
            columns = list(instrument.indicator_columns(question))
            counts += frame[columns].notna().any(axis=1).astype(int)
        elif question.name in frame:
            counts += frame[question.name].notna().astype(int)
    return counts


def _step_mask(step: Step, frame: pd.DataFrame, remaining: pd.Index,
               issues: pd.DataFrame, instrument: Instrument) -> tuple[pd.Series, dict]:
    """Rows of ``remaining`` that the step removes, and per-row reason overrides."""
    current = frame.loc[remaining]
    params = step.params
    if step.rule == "metadata_in":
        role = params.get("role", "")
        if role not in current:
            return pd.Series(False, index=remaining), {}
        values = {str(v).lower() for v in params.get("values", [])}
        return current[role].astype(str).str.strip().str.lower().isin(values), {}
    if step.rule == "incomplete":
        removed = ~current["finished"].astype(bool) if "finished" in current else \
            pd.Series(False, index=remaining)
        if "progress" in current and "min_progress" in params:
            removed |= current["progress"].fillna(0).lt(float(params["min_progress"])) \
                .astype(bool)
        return removed, {}
    if step.rule == "answer_in":
        question = params.get("question", "")
        if question not in current:
            raise PulsecheckError("WAVE_002", problem=f"step '{step.id}' names question "
                                  f"'{question}', which the instrument does not have")
        values = {str(v) for v in params.get("values", [])}
        return current[question].isin(values).fillna(False).astype(bool), {}
    if step.rule == "quarantine":
        errors = issues[issues["severity"].eq("error")]
        keys = set(zip(errors["file"], errors["row"].astype("Int64")))
        row_keys = list(zip(current[FILE_COLUMN], current[ROW_COLUMN]))
        removed = pd.Series([key in keys for key in row_keys], index=remaining)
        # Each row's errors in the issues' order, gathered in one pass over the errors.
        found: dict[tuple, list[str]] = {}
        for file, number, code, rule in zip(errors["file"], errors["row"].astype("Int64"),
                                            errors["code"], errors["rule"]):
            if number is not pd.NA:
                found.setdefault((file, number), []).append(f"{code}: {rule}")
        reasons = {label: "; ".join(found.get(key, ()))
                   for label, key in zip(remaining, row_keys) if key in keys}
        return removed, reasons
    raise PulsecheckError("WAVE_007", step=step.id, rule=step.rule, known=", ".join(STEP_RULES))


def _deduplicate(step: Step, frame: pd.DataFrame, remaining: pd.Index,
                 instrument: Instrument) -> tuple[pd.Series, list[dict]]:
    key = step.params.get("key", instrument.respondent_key)
    keep = list(step.params.get("keep", ["most_complete", "latest"]))
    for order in keep:
        if order not in _KEEP_ORDERS:
            raise PulsecheckError("WAVE_002", problem=f"step '{step.id}' has keep = '{order}' "
                                  f"(known: {', '.join(_KEEP_ORDERS)})")
    current = frame.loc[remaining]
    ranking = pd.DataFrame({"key": current[key], "position": range(len(current))},
                           index=remaining)
    sort_columns, ascending = [], []
    if "most_complete" in keep:
        ranking["answered"] = _answered_count(current, instrument)
    if "submitted_at" in current:
        ranking["submitted"] = pd.to_datetime(current["submitted_at"], errors="coerce")
    for order in keep:
        if order == "most_complete":
            sort_columns.append("answered")
            ascending.append(False)
        elif order in ("latest", "earliest") and "submitted" in ranking:
            sort_columns.append("submitted")
            ascending.append(order == "earliest")
    sort_columns.append("position")
    ascending.append(False)
    ordered = ranking[ranking["key"].notna()].sort_values(
        sort_columns, ascending=ascending, kind="stable", na_position="last")
    kept = ordered.drop_duplicates("key", keep="first")
    removed = ranking["key"].notna() & ~ranking.index.isin(kept.index)
    issues = []
    rule_text = " then ".join(o.replace("_", " ") for o in keep)
    # Only repeated keys make issues; singletons are left out before grouping.
    keyed = ranking[ranking["key"].notna()]
    repeated = keyed[keyed["key"].duplicated(keep=False)]
    winners = dict(zip(kept["key"], kept.index))
    for value, group in repeated.groupby("key", sort=True):
        if len(group) < 2:
            continue
        winner = winners[value]
        for label in group.index:
            issues.append(make_issue(
                "VAL_008", file=current.at[label, FILE_COLUMN],
                row=int(current.at[label, ROW_COLUMN]), column=key, value=value,
                respondent=current.at[label, "response_id"] if "response_id" in current
                else None,
                key=key, n=len(group), rule=rule_text,
                kept=int(current.at[winner, ROW_COLUMN])))
    return removed, issues


def apply_steps(frame: pd.DataFrame, issues: pd.DataFrame, steps: Sequence[Step],
                instrument: Instrument) -> FlowResult:
    """Apply the wave's steps in order and record where every row went.

    Parameters
    ----------
    frame : pandas.DataFrame
        Typed answers with the ``_file``, ``_row`` and platform role columns. Not modified.
    issues : pandas.DataFrame
        Validation issues; rows with *error* issues are moved by a ``quarantine`` step.
    steps : sequence of Step
        From the wave description.
    instrument : Instrument
        Supplies the default respondent key.
    """
    remaining = frame.index
    disposition = pd.Series(ANALYSED, index=frame.index, dtype=object)
    step_of = pd.Series("", index=frame.index, dtype=object)
    reason_of = pd.Series("", index=frame.index, dtype=object)
    flow_rows = [("read", len(frame), len(frame), 0, "rows read from the export")]
    step_issues: list[dict] = []
    for step in steps:
        n_in = len(remaining)
        if step.rule == "deduplicate":
            removed, new_issues = _deduplicate(step, frame, remaining, instrument)
            step_issues.extend(new_issues)
            reasons: dict = {}
        else:
            removed, reasons = _step_mask(step, frame, remaining, issues, instrument)
        removed_labels = remaining[removed.to_numpy(dtype=bool)]
        outcome = QUARANTINED if step.rule == "quarantine" else EXCLUDED
        disposition.loc[removed_labels] = outcome
        step_of.loc[removed_labels] = step.id
        if frame.index.is_unique:
            reason_of.loc[removed_labels] = [reasons.get(label, step.reason)
                                             for label in removed_labels]
        else:
            for label in removed_labels:
                reason_of.loc[label] = reasons.get(label, step.reason)
        remaining = remaining[~removed.to_numpy(dtype=bool)]
        flow_rows.append((step.id, n_in, len(remaining), n_in - len(remaining), step.reason))
    flow_rows.append(("analysed", len(remaining), len(remaining), 0,
                      "partnerships in the analysed set"))
    dispositions = pd.DataFrame({
        "file": frame[FILE_COLUMN],
        "row": frame[ROW_COLUMN].astype(int),
        "response_id": frame["response_id"] if "response_id" in frame else "",
        "disposition": disposition,
        "step": step_of,
        "reason": reason_of,
    }).reset_index(drop=True)
    flow = pd.DataFrame(flow_rows, columns=list(FLOW_COLUMNS))
    return FlowResult(dispositions=dispositions, flow=flow, analysed=remaining,
                      issues=issues_frame(step_issues))
