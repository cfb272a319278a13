"""The raw → analysed flow: each step, and every row ending in exactly one place."""

from __future__ import annotations

import tomllib

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TINY_WAVE, canonical, csv_platform, row, tiny_instrument
from pipeline.model.wave import Step
from pipeline.run.analyse import validation_config
from pipeline.stages.flow import apply_steps
from pipeline.stages.validate import validate_responses

STEPS = tuple(Step(id=s["id"], rule=s["rule"], reason=s["reason"],
                   params={k: v for k, v in s.items() if k not in ("id", "rule", "reason")})
              for s in tomllib.loads(TINY_WAVE)["steps"])
#: As the run configures validation for the tiny wave (csv platform, max_invalid = 3).
CONFIG = validation_config(csv_platform(), STEPS)


def flow_of(rows):
    instrument = tiny_instrument()
    exported = canonical(rows, instrument)
    validation = validate_responses(exported.frame, instrument, CONFIG)
    return apply_steps(validation.frame, validation.issues, STEPS, instrument,
                       submitted_at_format=CONFIG.submitted_at_format)


def where(result) -> dict[str, tuple[str, str]]:
    d = result.dispositions
    return {rid: (disp, step) for rid, disp, step in
            zip(d["response_id"], d["disposition"], d["step"], strict=True)}


def test_apply_steps__each_rule__removes_its_rows_with_its_reason(tiny_rows):
    result = flow_of(tiny_rows)
    assert where(result) == {
        "R1": ("analysed", ""), "R2": ("analysed", ""), "R3": ("analysed", ""),
        "R4": ("analysed", ""), "R5": ("excluded", "preview"),
        "R6": ("excluded", "incomplete"), "R7": ("excluded", "screened_out")}
    assert result.flow[["step", "n_in", "n_out", "n_removed"]].values.tolist() == [
        ["read", 7, 7, 0], ["preview", 7, 6, 1], ["incomplete", 6, 5, 1],
        ["screened_out", 5, 4, 1], ["quarantine", 4, 4, 0], ["duplicate", 4, 4, 0],
        ["analysed", 4, 4, 0]]


def test_apply_steps__row_with_error_issue__is_quarantined_with_the_rule():
    result = flow_of([row(), row(response_id="R2", pid="")])
    assert where(result)["R2"] == ("quarantined", "quarantine")
    reason = result.dispositions.set_index("response_id").loc["R2", "reason"]
    assert reason.startswith("VAL_007: the row has no pid")


def test_apply_steps__duplicate_partnership__keeps_the_most_complete_submission():
    result = flow_of([
        row(response_id="R1", pid="P1", staff="", submitted_at="2016-07-01 09:00:00"),
        row(response_id="R2", pid="P1", submitted_at="2016-06-01 09:00:00"),
    ])
    assert where(result) == {"R1": ("excluded", "duplicate"), "R2": ("analysed", "")}
    assert set(result.issues["code"]) == {"VAL_008"}


def test_apply_steps__duplicates_equally_complete__keep_the_latest():
    result = flow_of([
        row(response_id="R1", pid="P1", submitted_at="2016-07-01 09:00:00"),
        row(response_id="R2", pid="P1", submitted_at="2016-06-01 09:00:00"),
    ])
    assert where(result) == {"R1": ("analysed", ""), "R2": ("excluded", "duplicate")}


def test_apply_steps__inputs__are_not_modified(tiny_rows):
    instrument = tiny_instrument()
    exported = canonical(tiny_rows, instrument)
    validation = validate_responses(exported.frame, instrument, CONFIG)
    frame_before = validation.frame.copy(deep=True)
    issues_before = validation.issues.copy(deep=True)
    apply_steps(validation.frame, validation.issues, STEPS, instrument)
    pd.testing.assert_frame_equal(validation.frame, frame_before)
    pd.testing.assert_frame_equal(validation.issues, issues_before)


answers = st.fixed_dictionaries({
    "channel": st.sampled_from(["email", "email", "preview"]),
    "finished": st.sampled_from(["1", "1", "1", "0"]),
    "progress": st.sampled_from(["100", "100", "35", "", "abc"]),
    "pid": st.sampled_from(["P1", "P2", "P3", "P4", ""]),
    "screen": st.sampled_from(["1", "2", "", "7"]),
    "year": st.sampled_from(["2012", "1990", "2106", "two", "", "2012.5"]),
    "staff": st.sampled_from(["1", "", "-1", "x"]),
    "barriers": st.sampled_from(["1", "1 2", "4", "4 1", "9", ""]),
    "barriers_other": st.sampled_from(["", "Weather"]),
    "stage": st.sampled_from(["1", "2", "3", "4", "", "8"]),
    "submitted_at": st.sampled_from(["2016-06-01 10:00:00", "2016-07-01 10:00:00", "bad"]),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(answers, min_size=1, max_size=25))
def test_apply_steps__any_input__accounts_for_every_row_exactly_once(rows):
    rows = [row(response_id=f"R{i}", **r) for i, r in enumerate(rows)]
    result = flow_of(rows)
    d = result.dispositions
    assert len(d) == len(rows)
    assert sorted(d["response_id"]) == sorted(r["response_id"] for r in rows)
    assert set(d["disposition"]) <= {"analysed", "excluded", "quarantined"}
    counts = d["disposition"].value_counts()
    assert counts.get("analysed", 0) == len(result.analysed)
    assert sum(counts) == len(rows)
    # Every removal names its step and reason; analysed rows name none.
    removed = d[d["disposition"] != "analysed"]
    assert (removed["step"] != "").all() and (removed["reason"] != "").all()
    assert (d.loc[d["disposition"] == "analysed", "step"] == "").all()
    # The flow table chains: each step starts where the previous one ended.
    flow = result.flow
    assert (flow["n_out"].iloc[:-1].to_numpy() == flow["n_in"].iloc[1:].to_numpy()).all()
    assert flow["n_removed"].sum() == len(rows) - len(result.analysed)
