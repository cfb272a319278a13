"""The column-wise issue builders, flow and classification give the same tables as the
row-by-row versions in ``per_row_reference``: same rows, order, types and texts."""

from __future__ import annotations

import math
import tomllib
from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import per_row_reference as reference
from conftest import TINY_WAVE, canonical, csv_platform, row, tiny_instrument
from pipeline.columns import FILE_COLUMN, ROW_COLUMN
from pipeline.errors import (
    combine_issues,
    format_location,
    format_locations,
    issues_frame,
    issues_table,
    make_issue,
)
from pipeline.model.wave import Step
from pipeline.run.analyse import classify_rows, validation_config
from pipeline.stages.classify import classify_phase
from pipeline.stages.flow import _repeated, apply_steps
from pipeline.stages.validate import validate_responses

STEPS = tuple(Step(id=s["id"], rule=s["rule"], reason=s["reason"],
                   params={k: v for k, v in s.items() if k not in ("id", "rule", "reason")})
              for s in tomllib.loads(TINY_WAVE)["steps"])
#: As the run configures validation for the tiny wave (csv platform, max_invalid = 3).
CONFIG = validation_config(csv_platform(), STEPS)
SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_index_type=True)


# --------------------------------------------------------------------------------------------
# Issue builders
# --------------------------------------------------------------------------------------------

files = st.sampled_from(["export.csv", "b.csv", "", None, math.nan])
rows = st.one_of(st.integers(0, 30), st.none())
columns = st.sampled_from(["stage", "pid", "", None])
texts = st.sampled_from(["first", "unsure", "(blank)", "P1", "", "a b", "{x}"])
values = st.one_of(texts, st.integers(-2, 2), st.none(), st.just(1.5), st.just(True))
respondents = st.sampled_from(["R1", "R2", None, math.nan])


@SETTINGS
@given(st.lists(st.tuples(files, rows, respondents, st.integers(0, 3)), max_size=30),
       st.lists(values, min_size=4, max_size=4), columns)
def test_issues_table__cls_001__equals_make_issue_row_by_row(issues, group_values, column):
    params = [{"value": value} for value in group_values]
    expected = issues_frame([make_issue("CLS_001", file=f, row=r, column=column,
                                        respondent=who, **params[g])
                             for f, r, who, g in issues])
    got = issues_table("CLS_001", file=[i[0] for i in issues], row=[i[1] for i in issues],
                       column=column, respondent=[i[2] for i in issues],
                       group=[i[3] for i in issues], params=params)
    same(got, expected)


@SETTINGS
@given(st.lists(st.tuples(files, rows, respondents, st.integers(0, 2)), max_size=30),
       st.lists(st.tuples(texts, st.integers(2, 5), st.integers(1, 40)), min_size=3,
                max_size=3))
def test_issues_table__val_008__equals_make_issue_row_by_row(issues, groups):
    params = [{"value": value, "key": "pid", "n": n, "rule": "most complete then latest",
               "kept": kept} for value, n, kept in groups]
    expected = issues_frame([make_issue("VAL_008", file=f, row=r, column="pid",
                                        respondent=who, **params[g])
                             for f, r, who, g in issues])
    got = issues_table("VAL_008", file=[i[0] for i in issues], row=[i[1] for i in issues],
                       column="pid", respondent=[i[2] for i in issues],
                       group=[i[3] for i in issues], params=params)
    same(got, expected)


@SETTINGS
@given(st.lists(st.tuples(files, st.one_of(rows, st.just(np.int64(7)), st.just(3.0)),
                          columns)))
def test_format_locations__equal_format_location_one_by_one(places):
    for column in {c for _, _, c in places} or {None}:
        got = format_locations([f for f, _, _ in places], [r for _, r, _ in places], column)
        assert got == [format_location(f, r, column) for f, r, _ in places]


issue_records = st.lists(st.builds(
    lambda code, f, r, column, value, who: make_issue(
        code, file=f, row=r, column=column, value=value, respondent=who, kind="number",
        key="pid", n=2, rule="latest", kept=1, path="x", platform="csv", encoding="utf-8"),
    st.sampled_from(["VAL_001", "VAL_007", "CLS_001"]), files, rows, columns, values,
    respondents), max_size=8)


@SETTINGS
@given(st.lists(issue_records, min_size=1, max_size=4))
def test_combine_issues__equals_issues_frame_of_all_their_rows(tables):
    frames = [issues_frame(records) for records in tables]
    expected = issues_frame(pd.concat(frames, ignore_index=True).to_dict("records"))
    same(combine_issues(frames), expected)


def test_combine_issues__table_without_an_issue_column__is_filled_like_issues_frame():
    frames = [issues_frame([make_issue("CLS_001", file="a.csv", row=2, value="x")]),
              issues_frame([]).drop(columns="respondent")]
    expected = issues_frame(pd.concat(frames, ignore_index=True).to_dict("records"))
    same(combine_issues(frames), expected)


# --------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------

answers = st.one_of(st.sampled_from(["first", "second", "third", "unsure", "8", ""]),
                    st.none(), st.just(math.nan), st.integers(1, 2), st.just(1.0))


@SETTINGS
@given(st.lists(st.tuples(answers, st.sampled_from(["a.csv", "b.csv"]),
                          st.sampled_from(["R1", None])), max_size=30),
       st.booleans())
def test_classify_phase__any_answers__equal_the_row_by_row_version(cases, as_text):
    frame = pd.DataFrame({
        FILE_COLUMN: [f for _, f, _ in cases],
        ROW_COLUMN: np.arange(2, len(cases) + 2),
        "response_id": [who for _, _, who in cases],
        "stage": pd.Series([a for a, _, _ in cases], dtype="str" if as_text else object),
    }, index=pd.RangeIndex(len(cases)) * 3 + 5)
    instrument = tiny_instrument()
    got, expected = classify_phase(frame, instrument), reference.classify_phase(frame, instrument)
    pd.testing.assert_series_equal(got.phase, expected.phase, check_exact=True)
    same(got.issues, expected.issues)


# --------------------------------------------------------------------------------------------
# Flow and issue outcomes
# --------------------------------------------------------------------------------------------

responses = st.fixed_dictionaries({
    "channel": st.sampled_from(["email", "email", " Preview ", "preview"]),
    "finished": st.sampled_from(["1", "1", "1", "0"]),
    "progress": st.sampled_from(["100", "100", "35", ""]),
    "pid": st.sampled_from(["P1", "P2", "P3", "P2", ""]),
    "screen": st.sampled_from(["1", "1", "2", ""]),
    "year": st.sampled_from(["2012", "2106", "two", ""]),
    "staff": st.sampled_from(["1", "", "x"]),
    "barriers": st.sampled_from(["1", "1 2", "", "9"]),
    "stage": st.sampled_from(["1", "3", "4", "", "8"]),
    # Times in the platform's format, one re-saved by a spreadsheet, and unreadable ones.
    "submitted_at": st.sampled_from(["2016-06-01 10:00:00", "2016-07-01 10:00:00",
                                     "2016-05-01 09:00:00", "06/01/2016 10:00", "bad", ""]),
})


def validated(first: list[dict], second: list[dict]):
    """Two exports whose row numbers overlap, read and validated together."""
    instrument = tiny_instrument()
    exports = [canonical([row(response_id=f"R{start + i}", **r) for i, r in enumerate(rows)],
                         instrument, file_name=name)
               for name, start, rows in (("a.csv", 0, first), ("b.csv", 100, second)) if rows]
    frame = pd.concat([e.frame for e in exports], ignore_index=True)
    return exports, validate_responses(frame, instrument, CONFIG), instrument


def _answers(pid: str, submitted_at: str) -> dict:
    return {"channel": "email", "finished": "1", "progress": "100", "pid": pid, "screen": "1",
            "year": "2012", "staff": "1", "barriers": "1", "stage": "1",
            "submitted_at": submitted_at}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(responses, min_size=1, max_size=14), st.lists(responses, max_size=8),
       st.sampled_from([["most_complete", "latest"], ["earliest"], ["latest", "most_complete"],
                        []]))
# A time re-saved by a spreadsheet on the first row must not decide how the others are read.
@example([_answers("P1", "06/01/2016 10:00"), _answers("P2", "2016-07-01 10:00:00"),
          _answers("P2", "2016-06-01 10:00:00")], [], ["latest"])
def test_classify_rows__any_input__equals_the_row_by_row_versions(first, second, keep):
    exports, validation, instrument = validated(first, second)
    steps = tuple(Step(id=s.id, rule=s.rule, reason=s.reason,
                       params={**s.params, "keep": keep} if s.rule == "deduplicate"
                       else s.params) for s in STEPS)
    flow, analysed, classification, issues = classify_rows(
        exports, validation, SimpleNamespace(steps=steps), instrument,
        CONFIG.submitted_at_format)
    read_issues = [part for e in exports for part in (e.notes, e.issues)
                   if part is not None and len(part)]
    before = pd.concat([*read_issues, validation.issues], ignore_index=True) \
        if read_issues else validation.issues
    expected = reference.apply_steps(validation.frame, before, steps, instrument,
                                     CONFIG.submitted_at_format)
    for name in ("dispositions", "flow", "issues"):
        same(getattr(flow, name), getattr(expected, name))
    pd.testing.assert_index_equal(flow.analysed, expected.analysed, exact=True)
    same(analysed, validation.frame.loc[expected.analysed])
    phases = reference.classify_phase(analysed, instrument)
    same(classification.issues, phases.issues)
    same(issues, reference.all_issues([before, expected.issues, phases.issues],
                                      expected.dispositions))


def test_apply_steps__repeated_keys__raise_one_issue_per_submission_naming_the_kept_row():
    _exports, validation, instrument = validated(
        [dict(pid="P1", staff=""), dict(pid="P2"), dict(pid="P1"), dict(pid="P1", staff="")],
        [dict(pid="P2")])
    result = apply_steps(validation.frame, validation.issues, STEPS, instrument)
    duplicates = result.issues[result.issues["code"].eq("VAL_008")]
    assert list(zip(duplicates["file"], duplicates["row"], duplicates["value"], strict=True)) == [
        ("a.csv", 2, "P1"), ("a.csv", 3, "P2"), ("a.csv", 4, "P1"), ("a.csv", 5, "P1"),
        ("b.csv", 2, "P2")]
    # P1: the complete submission on row 4 wins; P2: equally complete, the later row wins.
    assert duplicates["rule"].str.contains("sent 3 submissions").tolist() == [
        True, False, True, True, False]
    assert duplicates["rule"].str.extract(r"row (\d+)")[0].tolist() == ["4", "2", "4", "4", "2"]


def test_classify_phase__answers_equal_but_of_other_types__each_read_as_given():
    frame = pd.DataFrame({FILE_COLUMN: "a.csv", ROW_COLUMN: [2, 3, 4, 5, 6],
                          "response_id": "R1",
                          "stage": pd.Series([1, 1.0, True, "first", None], dtype=object)})
    instrument = tiny_instrument()
    got = classify_phase(frame, instrument)
    same(got.issues, reference.classify_phase(frame, instrument).issues)
    assert got.issues["value"].tolist() == ["1", "1.0", "True", "(blank)"]


def test_apply_steps__row_breaking_two_rules__is_quarantined_with_both_in_order():
    _exports, validation, instrument = validated(
        [dict(pid="", year="two", staff="x", email="no address", stage="8"), dict(pid="P2")],
        [dict(year="two", staff="x", email="no address", stage="8")])
    result = apply_steps(validation.frame, validation.issues, STEPS, instrument)
    expected = reference.apply_steps(validation.frame, validation.issues, STEPS, instrument)
    same(result.dispositions, expected.dispositions)
    reasons = result.dispositions.set_index(["file", "row"])["reason"]
    assert reasons[("a.csv", 2)].count("VAL_") == 2
    assert reasons[("b.csv", 2)].count("VAL_") == 1


# -1 and -2 share a hash, as do 1, 1.0 and True: values with a shared hash are compared.
keys = st.one_of(st.sampled_from([-1, -2, 1, 1.0, True, 0, "P1", "P2", "", (1, 2)]),
                 st.text(max_size=2))


@SETTINGS
@given(st.lists(keys, max_size=40))
def test_repeated__equals_duplicated_keeping_none(values):
    series = pd.Series(values, dtype=object)
    expected = series.duplicated(keep=False).to_numpy(dtype=bool)
    assert _repeated(series).tolist() == expected.tolist()
