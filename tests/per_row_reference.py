"""Straightforward row-by-row versions of the flow, the phase classification and the issue
outcomes, kept as oracles for the column-wise versions in ``pipeline``.

Each function here looks rows up by label and builds one issue at a time with
:func:`pipeline.errors.make_issue`; the tests check the pipeline's versions give identical
tables. Nothing here calls the code it checks: duplicates are ranked by comparing each row's
sort key in plain Python, and submission times are read one by one with ``strptime`` in the
platform's declared format.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from pipeline.columns import FILE_COLUMN, PHASE_COLUMN, ROW_COLUMN
from pipeline.errors import issues_frame, make_issue
from pipeline.stages.classify import Classification
from pipeline.stages.flow import ANALYSED, EXCLUDED, FLOW_COLUMNS, QUARANTINED, FlowResult


def classify_phase(frame: pd.DataFrame, instrument) -> Classification:
    """Phase and one ``CLS_001`` issue per unclassified row, row by row."""
    categories = [*instrument.phase_order, instrument.unclassified]
    answers = frame[instrument.phase_question]
    lookup = instrument.phase_lookup
    placed = answers.map(lambda value: lookup.get(value) if isinstance(value, str) else None)
    placed = placed.where(placed.notna() & placed.ne(instrument.unclassified),
                          instrument.unclassified)
    phase = pd.Series(pd.Categorical(placed, categories=categories, ordered=True),
                      index=frame.index, name=PHASE_COLUMN)
    unclassified = phase.eq(instrument.unclassified)
    issues = [
        make_issue("CLS_001", file=frame.at[label, FILE_COLUMN] if FILE_COLUMN in frame else None,
                   row=int(frame.at[label, ROW_COLUMN]) if ROW_COLUMN in frame else None,
                   column=instrument.phase_question,
                   value="(blank)" if pd.isna(answers.at[label]) else answers.at[label],
                   respondent=frame.at[label, "response_id"] if "response_id" in frame
                   else None)
        for label in frame.index[unclassified.to_numpy()]
    ]
    return Classification(phase=phase, issues=issues_frame(issues))


def _step_mask(step, current: pd.DataFrame, issues: pd.DataFrame) -> tuple[pd.Series, dict]:
    params = step.params
    remaining = current.index
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
        values = {str(v) for v in params.get("values", [])}
        return current[params["question"]].isin(values).fillna(False).astype(bool), {}
    errors = issues[issues["severity"].eq("error")]
    keys = set(zip(errors["file"], errors["row"].astype("Int64"), strict=True))
    row_keys = list(zip(current[FILE_COLUMN], current[ROW_COLUMN], strict=True))
    removed = pd.Series([key in keys for key in row_keys], index=remaining)
    reasons = {}
    for label, key in zip(remaining, row_keys, strict=True):
        if key in keys:
            reasons[label] = "; ".join(f"{code}: {rule}" for file, number, code, rule in zip(
                errors["file"], errors["row"].astype("Int64"), errors["code"], errors["rule"],
                strict=True)
                if number is not pd.NA and (file, number) == key)
    return removed, reasons


def _answered(current: pd.DataFrame, label, instrument) -> int:
    """How many answerable questions row ``label`` answers (a check-all: any choice set)."""
    count = 0
    for question in instrument.answerable:
        if question.type == "select_multiple":
            names = [f"{question.name}/{choice.name}"
                     for choice in instrument.choices_for(question)]
            count += any(not pd.isna(current.at[label, name]) for name in names)
        elif question.name in current:
            count += not pd.isna(current.at[label, question.name])
    return count


def _submitted(value, form: str) -> datetime | None:
    """The submission time in the platform's declared format (ISO 8601 when none is)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        if form:
            return datetime.strptime(text, form)
        return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None


def _deduplicate(step, current: pd.DataFrame, instrument,
                 submitted_at_format: str) -> tuple[pd.Series, list[dict]]:
    """One winner per repeated key, chosen by comparing the rows' sort keys one by one."""
    key = step.params.get("key", instrument.respondent_key)
    keep = list(step.params.get("keep", ["most_complete", "latest"]))
    labels = list(current.index)
    groups: dict = {}
    for position, label in enumerate(labels):
        value = current.at[label, key]
        if not pd.isna(value):
            groups.setdefault(value, []).append((position, label))

    def rank(position: int, label) -> tuple:
        parts: list = []
        for order in keep:
            if order == "most_complete":
                parts.append(-_answered(current, label, instrument))
            elif order in ("latest", "earliest") and "submitted_at" in current:
                stamp = _submitted(current.at[label, "submitted_at"], submitted_at_format)
                # An unreadable time never wins over a readable one.
                seconds = 0.0 if stamp is None else (stamp - datetime(1, 1, 1)).total_seconds()
                parts.append((stamp is None, -seconds if order == "latest" else seconds))
        return (*parts, -position)

    winners = {value: min(members, key=lambda m: rank(*m))[1]
               for value, members in groups.items()}
    removed = pd.Series([not pd.isna(current.at[label, key]) and
                         winners[current.at[label, key]] != label for label in labels],
                        index=current.index, dtype=bool)
    rule_text = " then ".join(o.replace("_", " ") for o in keep)
    issues = []
    for value in sorted(v for v, members in groups.items() if len(members) > 1):
        for _, label in groups[value]:
            issues.append(make_issue(
                "VAL_008", file=current.at[label, FILE_COLUMN],
                row=int(current.at[label, ROW_COLUMN]), column=key, value=value,
                respondent=current.at[label, "response_id"], key=key,
                n=len(groups[value]), rule=rule_text,
                kept=int(current.at[winners[value], ROW_COLUMN])))
    return removed, issues


def apply_steps(frame: pd.DataFrame, issues: pd.DataFrame, steps, instrument,
                submitted_at_format: str = "") -> FlowResult:
    """Where every row went, step by step, with the whole frame of the remaining rows."""
    remaining = frame.index
    disposition = pd.Series(ANALYSED, index=frame.index, dtype=object)
    step_of = pd.Series("", index=frame.index, dtype=object)
    reason_of = pd.Series("", index=frame.index, dtype=object)
    flow_rows = [("read", len(frame), len(frame), 0, "rows read from the export")]
    step_issues: list[dict] = []
    for step in steps:
        n_in = len(remaining)
        current = frame.loc[remaining]
        if step.rule == "deduplicate":
            removed, new_issues = _deduplicate(step, current, instrument,
                                               submitted_at_format)
            step_issues.extend(new_issues)
            reasons: dict = {}
        else:
            removed, reasons = _step_mask(step, current, issues)
        removed_labels = remaining[removed.to_numpy(dtype=bool)]
        disposition.loc[removed_labels] = QUARANTINED if step.rule == "quarantine" else EXCLUDED
        step_of.loc[removed_labels] = step.id
        reason_of.loc[removed_labels] = [reasons.get(label, step.reason)
                                         for label in removed_labels]
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
    return FlowResult(dispositions=dispositions,
                      flow=pd.DataFrame(flow_rows, columns=list(FLOW_COLUMNS)),
                      analysed=remaining, issues=issues_frame(step_issues))


def all_issues(issues: list[pd.DataFrame], dispositions: pd.DataFrame) -> pd.DataFrame:
    """Every issue in one table with its row's outcome, looked up issue by issue."""
    table = issues_frame(pd.concat(issues, ignore_index=True).to_dict("records"))
    outcome_of = {(f, r): d for f, r, d in zip(dispositions["file"], dispositions["row"],
                                               dispositions["disposition"], strict=True)}
    table["outcome"] = [outcome_of.get((f, None if pd.isna(r) else int(r)), "")
                        for f, r in zip(table["file"], table["row"], strict=True)]
    return table
