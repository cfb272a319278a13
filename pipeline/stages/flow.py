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
    ``earliest``; the last row in the file breaks remaining ties. Submission times are read
    with the platform's declared format (ISO 8601 when it declares none); a time in another
    form ranks after every readable one (A-FLOW-4).

Every row ends in exactly one place: ``analysed``, ``excluded`` (with the step's reason) or
``quarantined`` (with the rules it broke). Blank records of an export (an empty line, or a
line of bare delimiters), which are not responses, are excluded with the reason "blank
record" (:func:`account_blank_records`, assumption A-LIMIT-2). The functions here are pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.columns import FILE_COLUMN, ROW_COLUMN
from pipeline.errors import PulsecheckError, combine_issues, issues_frame, issues_table, make_issue
from pipeline.model.instrument import Instrument
from pipeline.model.wave import STEP_RULES, Step

ANALYSED, EXCLUDED, QUARANTINED = "analysed", "excluded", "quarantined"
FLOW_COLUMNS = ("step", "n_in", "n_out", "n_removed", "reason")
DISPOSITION_COLUMNS = ("file", "row", "response_id", "disposition", "step", "reason")
_KEEP_ORDERS = ("most_complete", "latest", "earliest")
#: The step and reason of a blank record (no cell holds anything).
BLANK_STEP, BLANK_REASON = "blank", "blank record"


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


def _answered_columns(frame: pd.DataFrame, instrument: Instrument) -> list[str]:
    """The columns :func:`_answered_count` reads."""
    columns: list[str] = []
    for question in instrument.answerable:
        if question.type == "select_multiple":
            columns.extend(instrument.indicator_columns(question))
        elif question.name in frame:
            columns.append(question.name)
    return list(dict.fromkeys(columns))


def _column(frame: pd.DataFrame, name: str, where: np.ndarray) -> pd.Series:
    """One column of the rows at positions ``where`` (the rows still in the flow)."""
    # Positions only ever leave the flow, so as many positions as rows means all of them.
    return frame[name] if len(where) == len(frame) else frame[name].take(where)


def _step_mask(step: Step, frame: pd.DataFrame, where: np.ndarray,
               issues: pd.DataFrame) -> tuple[np.ndarray, dict]:
    """Which rows at positions ``where`` the step removes, and reasons by position."""
    params = step.params
    none = np.zeros(len(where), dtype=bool)
    if step.rule == "metadata_in":
        role = params.get("role", "")
        if role not in frame:
            return none, {}
        values = {str(v).lower() for v in params.get("values", [])}
        return _normalised_in(_column(frame, role, where), values), {}
    if step.rule == "incomplete":
        removed = ~_column(frame, "finished", where).astype(bool).to_numpy(dtype=bool) \
            if "finished" in frame else none
        if "progress" in frame and "min_progress" in params:
            removed = removed | _column(frame, "progress", where).fillna(0) \
                .lt(float(params["min_progress"])).astype(bool).to_numpy(dtype=bool)
        return removed, {}
    if step.rule == "answer_in":
        question = params.get("question", "")
        if question not in frame:
            raise PulsecheckError("WAVE_002", problem=f"step '{step.id}' names question "
                                  f"'{question}', which the instrument does not have")
        values = {str(v) for v in params.get("values", [])}
        return _column(frame, question, where).isin(values).fillna(False).astype(bool) \
            .to_numpy(dtype=bool), {}
    if step.rule == "quarantine":
        return _quarantined(frame, where, issues)
    raise PulsecheckError("WAVE_007", step=step.id, rule=step.rule, known=", ".join(STEP_RULES))


def _normalised_in(values: pd.Series, wanted: set[str]) -> np.ndarray:
    """Whether each value, as stripped lower-case text, is one of ``wanted``.

    Text values are normalised once per distinct value; values of other types, which may
    compare equal yet read differently, are normalised one by one.
    """
    def normalise(part: pd.Series) -> np.ndarray:
        return part.astype(str).str.strip().str.lower().isin(wanted).to_numpy(dtype=bool)

    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        return normalise(values)
    codes, distinct = pd.factorize(values)
    hit = normalise(pd.Series(distinct, dtype=values.dtype))[np.maximum(codes, 0)] \
        if len(distinct) else np.zeros(len(values), dtype=bool)
    missing = codes < 0
    if missing.any():
        hit[missing] = normalise(values[missing])
    return hit


def _quarantined(frame: pd.DataFrame, where: np.ndarray,
                 issues: pd.DataFrame) -> tuple[np.ndarray, dict]:
    """Rows with an issue of error severity, and the rules each broke (in the issues' order)."""
    errors = issues[issues["severity"].eq("error")]
    error_rows = errors["row"].astype("Int64")
    keys = set(zip(errors["file"], error_rows, strict=True))
    # Each row's errors in the issues' order, gathered in one pass over the errors.
    found: dict[tuple, list[str]] = {}
    for file, number, code, rule in zip(errors["file"], error_rows, errors["code"],
                                        errors["rule"], strict=True):
        if number is not pd.NA:
            found.setdefault((file, number), []).append(f"{code}: {rule}")
    removed = np.zeros(len(where), dtype=bool)
    # Only rows whose number has an error can match; they are checked by (file, row).
    numbers = _column(frame, ROW_COLUMN, where)
    candidates = np.flatnonzero(numbers.isin(error_rows.dropna().unique()).to_numpy(dtype=bool))
    reasons = {}
    for position, key in zip(candidates.tolist(),
                             zip(_column(frame, FILE_COLUMN, where).take(candidates),
                                 numbers.take(candidates), strict=True), strict=True):
        if key in keys:
            removed[position] = True
            reasons[int(where[position])] = "; ".join(found.get(key, ()))
    return removed, reasons


def submission_times(values: pd.Series, submitted_at_format: str = "") -> pd.Series:
    """Submission times read in the platform's declared format; NaT where unreadable.

    Parameters
    ----------
    values : pandas.Series
        The ``submitted_at`` role as the platform wrote it.
    submitted_at_format : str
        The ``strptime`` format the platform profile declares; empty: ISO 8601, with times
        that carry an offset converted to UTC and times without one taken as UTC.

    Notes
    -----
    The format is never guessed from the values: a spreadsheet re-save turns
    ``2016-06-01 10:00:00`` into ``01/06/2016 10:00`` (1 June or 6 January), and a format
    guessed from such a row would make every other time unreadable.
    """
    text = values.astype("string").str.strip()
    text = text.where(text.ne(""))
    if submitted_at_format:
        return pd.to_datetime(text, format=submitted_at_format, errors="coerce")
    return pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True).dt.tz_localize(None)


def _deduplicate(step: Step, frame: pd.DataFrame, where: np.ndarray, instrument: Instrument,
                 submitted_at_format: str = "") -> tuple[np.ndarray, pd.DataFrame | None]:
    """Which rows at positions ``where`` lose to another submission with the same key.

    Only rows whose key is repeated are ranked; the others are kept and raise no issue.
    """
    key = step.params.get("key", instrument.respondent_key)
    keep = list(step.params.get("keep", ["most_complete", "latest"]))
    for order in keep:
        if order not in _KEEP_ORDERS:
            raise PulsecheckError("WAVE_002", problem=f"step '{step.id}' has keep = '{order}' "
                                  f"(known: {', '.join(_KEEP_ORDERS)})")
    keys = _column(frame, key, where)
    removed = np.zeros(len(where), dtype=bool)
    keyed = keys.notna().to_numpy(dtype=bool)
    repeated = keyed.copy()
    repeated[keyed] = _repeated(keys if keyed.all() else keys[keyed])
    if not repeated.any():
        return removed, None
    rows = np.flatnonzero(repeated)
    current = frame[[name for name in dict.fromkeys(
        [key, FILE_COLUMN, ROW_COLUMN, "response_id", *_answered_columns(frame, instrument)])
        if name in frame]].take(where[rows])
    # ``position`` is the place among the rows still in the flow: later rows win ties.
    ranking = pd.DataFrame({"key": keys.take(rows).reset_index(drop=True), "position": rows})
    sort_columns, ascending = [], []
    if "most_complete" in keep:
        ranking["answered"] = _answered_count(current, instrument).to_numpy()
    if "submitted_at" in frame:
        submitted = submission_times(_column(frame, "submitted_at", where).take(rows),
                                     submitted_at_format)
        ranking["submitted"] = submitted.reset_index(drop=True)
    for order in keep:
        if order == "most_complete":
            sort_columns.append("answered")
            ascending.append(False)
        elif order in ("latest", "earliest") and "submitted" in ranking:
            sort_columns.append("submitted")
            ascending.append(order == "earliest")
    sort_columns.append("position")
    ascending.append(False)
    ordered = ranking.sort_values(sort_columns, ascending=ascending, kind="stable",
                                  na_position="last")
    kept = ordered.drop_duplicates("key", keep="first").index.to_numpy()
    removed[rows] = True
    removed[rows[kept]] = False
    return removed, _duplicate_issues(key, keep, ranking, kept, current)


def _repeated(values: pd.Series) -> np.ndarray:
    """Whether each value occurs more than once (``values.duplicated(keep=False)``).

    Equal values have equal hashes, so a value whose hash no other value shares is unique;
    only values with a shared hash are compared.
    """
    hashes = np.fromiter(map(hash, values.to_numpy(dtype=object)), dtype=np.int64,
                         count=len(values))
    ordered = np.sort(hashes)
    shared = np.isin(hashes, ordered[1:][ordered[1:] == ordered[:-1]])
    repeated = np.zeros(len(values), dtype=bool)
    if shared.any():
        repeated[shared] = values[shared].duplicated(keep=False).to_numpy(dtype=bool)
    return repeated


def _duplicate_issues(key: str, keep: list[str], ranking: pd.DataFrame, kept: np.ndarray,
                      current: pd.DataFrame) -> pd.DataFrame:
    """One ``VAL_008`` issue per submission of a repeated key, by key then position."""
    group = ranking.groupby("key", sort=True).ngroup().to_numpy()
    order = np.argsort(group, kind="stable")
    sizes = np.bincount(group)
    numbers = current[ROW_COLUMN].tolist()
    winner = np.empty(len(sizes), dtype=np.intp)
    winner[group[kept]] = kept
    first = order[np.r_[0, np.cumsum(sizes)[:-1]]]
    rule_text = " then ".join(o.replace("_", " ") for o in keep)
    values = ranking["key"].tolist()
    params = [{"value": values[row], "key": key, "n": int(size), "rule": rule_text,
               "kept": int(numbers[winner[number]])}
              for number, (row, size) in enumerate(zip(first.tolist(), sizes.tolist(),
                                                       strict=True))]
    # A key seen once among the rows ranked is no duplicate.
    order = order[sizes[group[order]] >= 2]
    respondents = current["response_id"].take(order).tolist() if "response_id" in current \
        else [None] * len(order)
    return issues_table("VAL_008", file=current[FILE_COLUMN].take(order).tolist(),
                        row=[int(numbers[row]) for row in order.tolist()], column=key,
                        respondent=respondents, group=group[order], params=params)


def apply_steps(frame: pd.DataFrame, issues: pd.DataFrame, steps: Sequence[Step],
                instrument: Instrument, submitted_at_format: str = "") -> FlowResult:
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
    submitted_at_format : str
        The platform's declared format of ``submitted_at`` (see :func:`submission_times`).
    """
    remaining = frame.index
    # Positions of the rows still in the flow; outcomes are recorded by position.
    where = np.arange(len(frame))
    # Per row: disposition, step and reason, filled in place and used as the table's columns.
    outcome = np.empty((3, len(frame)), dtype=object)
    outcome[0], outcome[1], outcome[2] = ANALYSED, "", ""
    flow_rows = [("read", len(frame), len(frame), 0, "rows read from the export")]
    step_issues: list[pd.DataFrame] = []
    for step in steps:
        n_in = len(remaining)
        if step.rule == "deduplicate":
            removed, new_issues = _deduplicate(step, frame, where, instrument,
                                               submitted_at_format)
            if new_issues is not None:
                step_issues.append(new_issues)
            reasons: dict = {}
        else:
            removed, reasons = _step_mask(step, frame, where, issues)
        gone = where[removed]
        outcome[0, gone] = QUARANTINED if step.rule == "quarantine" else EXCLUDED
        outcome[1, gone] = step.id
        outcome[2, gone] = [reasons.get(position, step.reason) for position in gone.tolist()] \
            if reasons else step.reason
        remaining = remaining[~removed]
        where = where[~removed]
        flow_rows.append((step.id, n_in, len(remaining), n_in - len(remaining), step.reason))
    flow_rows.append(("analysed", len(remaining), len(remaining), 0,
                      "partnerships in the analysed set"))
    located = pd.DataFrame({
        "file": frame[FILE_COLUMN],
        "row": frame[ROW_COLUMN].astype(int),
        "response_id": frame["response_id"] if "response_id" in frame else "",
    }).reset_index(drop=True)
    dispositions = pd.concat([located, pd.DataFrame(
        outcome.T, columns=list(DISPOSITION_COLUMNS[3:]), dtype=object, copy=False)], axis=1)
    flow = pd.DataFrame(flow_rows, columns=list(FLOW_COLUMNS))
    return FlowResult(dispositions=dispositions, flow=flow, analysed=remaining,
                      issues=_all_of(step_issues))


def _all_of(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The steps' issues tables as one."""
    if not tables:
        return issues_frame([])
    return tables[0] if len(tables) == 1 else combine_issues(tables)


def account_blank_records(flow: FlowResult, blank: Sequence[tuple[str, int]],
                          files: Sequence[str]) -> FlowResult:
    """Give every blank record of the exports a disposition (pure).

    Parameters
    ----------
    flow : FlowResult
        The flow of the exports' responses (:func:`apply_steps`). Not modified.
    blank : sequence of (str, int)
        ``(file, row)`` of each blank record, rows numbered as the spreadsheet shows them.
    files : sequence of str
        The export files in reading order (orders the dispositions).

    Returns
    -------
    FlowResult
        The dispositions with one ``excluded`` row per blank record (step ``blank``, reason
        "blank record"), in file and row order; the flow with those records counted as read
        and removed by a ``blank`` step; an info issue (``READ_026``) per blank record.
    """
    if not len(blank):
        return flow
    added = pd.DataFrame({
        "file": [name for name, _ in blank],
        "row": [int(number) for _, number in blank],
        "response_id": "",
        "disposition": EXCLUDED,
        "step": BLANK_STEP,
        "reason": BLANK_REASON,
    })
    order = {name: position for position, name in enumerate(files)}
    dispositions = pd.concat([flow.dispositions, added.astype(flow.dispositions.dtypes.to_dict())
                              if len(flow.dispositions) else added], ignore_index=True)
    sort = np.lexsort((dispositions["row"].to_numpy(dtype=np.int64),
                       dispositions["file"].map(lambda name: order.get(name, len(order)))
                       .to_numpy(dtype=np.int64)))
    dispositions = dispositions.take(sort).reset_index(drop=True)
    n_blank = len(added)
    steps = flow.flow.to_dict("records")
    read = steps[0]
    total = int(read["n_in"]) + n_blank
    rows = [{**read, "n_in": total, "n_out": total},
            {"step": BLANK_STEP, "n_in": total, "n_out": total - n_blank,
             "n_removed": n_blank, "reason": BLANK_REASON}, *steps[1:]]
    notes = issues_frame([make_issue("READ_026", file=name, row=number)
                          for name, number in zip(added["file"], added["row"], strict=True)])
    issues = combine_issues([flow.issues, notes]) if len(flow.issues) else notes
    return FlowResult(dispositions=dispositions,
                      flow=pd.DataFrame(rows, columns=list(FLOW_COLUMNS)),
                      analysed=flow.analysed, issues=issues)
