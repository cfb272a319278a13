"""Straightforward row-by-row versions of the flow, the phase classification and the issue
outcomes, kept as oracles for the column-wise versions in ``pipeline``.

Each function here looks rows up by label and builds one issue at a time with
:func:`pipeline.errors.make_issue`; the tests check the pipeline's versions give identical
tables.
"""

from __future__ import annotations

import pandas as pd

from pipeline.stages.classify import Classification
from pipeline.columns import FILE_COLUMN, PHASE_COLUMN, ROW_COLUMN
from pipeline.errors import issues_frame, make_issue
from pipeline.stages.flow import ANALYSED, EXCLUDED, FLOW_COLUMNS, QUARANTINED, FlowResult, \
    _answered_count


def classify_phase(frame: pd.DataFrame, instrument) -> Classification:
    """Phase and one ``CLS_001`` issue per unclassified row, row by row."""
    categories = list(instrument.phase_order) + [instrument.unclassified]
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
    keys = set(zip(errors["file"], errors["row"].astype("Int64")))
    row_keys = list(zip(current[FILE_COLUMN], current[ROW_COLUMN]))
    removed = pd.Series([key in keys for key in row_keys], index=remaining)
    reasons = {}
    for label, key in zip(remaining, row_keys):
        if key in keys:
            reasons[label] = "; ".join(f"{code}: {rule}" for file, number, code, rule in zip(
                errors["file"], errors["row"].astype("Int64"), errors["code"], errors["rule"])
                if number is not pd.NA and (file, number) == key)
    return removed, reasons


def _deduplicate(step, current: pd.DataFrame, instrument) -> tuple[pd.Series, list[dict]]:
    key = step.params.get("key", instrument.respondent_key)
    keep = list(step.params.get("keep", ["most_complete", "latest"]))
    ranking = pd.DataFrame({"key": current[key], "position": range(len(current))},
                           index=current.index)
    if "most_complete" in keep:
        ranking["answered"] = _answered_count(current, instrument)
    if "submitted_at" in current:
        ranking["submitted"] = pd.to_datetime(current["submitted_at"], errors="coerce")
    sort_columns, ascending = [], []
    for order in keep:
        if order == "most_complete":
            sort_columns.append("answered")
            ascending.append(False)
        elif order in ("latest", "earliest") and "submitted" in ranking:
            sort_columns.append("submitted")
            ascending.append(order == "earliest")
    ordered = ranking[ranking["key"].notna()].sort_values(
        sort_columns + ["position"], ascending=ascending + [False], kind="stable",
        na_position="last")
    kept = ordered.drop_duplicates("key", keep="first")
    removed = ranking["key"].notna() & ~ranking.index.isin(kept.index)
    winners = dict(zip(kept["key"], kept.index))
    rule_text = " then ".join(o.replace("_", " ") for o in keep)
    keyed = ranking[ranking["key"].notna()]
    issues = []
    for value, group in keyed[keyed["key"].duplicated(keep=False)].groupby("key", sort=True):
        for label in group.index:
            issues.append(make_issue(
                "VAL_008", file=current.at[label, FILE_COLUMN],
                row=int(current.at[label, ROW_COLUMN]), column=key, value=value,
                respondent=current.at[label, "response_id"], key=key, n=len(group),
                rule=rule_text, kept=int(current.at[winners[value], ROW_COLUMN])))
    return removed, issues


def apply_steps(frame: pd.DataFrame, issues: pd.DataFrame, steps, instrument) -> FlowResult:
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
            removed, new_issues = _deduplicate(step, current, instrument)
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
                                               dispositions["disposition"])}
    table["outcome"] = [outcome_of.get((f, None if pd.isna(r) else int(r)), "")
                        for f, r in zip(table["file"], table["row"])]
    return table
