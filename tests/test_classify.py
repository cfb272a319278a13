"""Phase classification through the instrument's phase map."""

from __future__ import annotations

import pandas as pd

from conftest import canonical, row, tiny_instrument
from pipeline.stages.classify import classify_phase
from pipeline.stages.validate import ValidationConfig, validate_responses


def typed(stages: list[str]) -> pd.DataFrame:
    rows = [row(response_id=f"R{i}", pid=f"P{i}", stage=s) for i, s in enumerate(stages)]
    instrument = tiny_instrument()
    exported = canonical(rows, instrument)
    return validate_responses(exported.frame, instrument,
                              ValidationConfig(multiple_separator=" ")).frame


def test_classify_phase__mapped_codes__take_their_phase_group():
    result = classify_phase(typed(["1", "2", "3"]), tiny_instrument())
    assert result.phase.astype(str).tolist() == ["Early", "Early", "Late"]
    assert result.issues.empty


def test_classify_phase__not_sure_and_blank__go_to_unclassified_and_are_reported():
    result = classify_phase(typed(["4", "", "3"]), tiny_instrument())
    assert result.phase.astype(str).tolist() == ["unclassified", "unclassified", "Late"]
    assert list(zip(result.issues["code"], result.issues["value"], strict=True)) == [
        ("CLS_001", "unsure"), ("CLS_001", "(blank)")]


def test_classify_phase__categories__follow_the_instruments_phase_order():
    result = classify_phase(typed(["3", "1"]), tiny_instrument())
    assert list(result.phase.cat.categories) == ["Early", "Late", "unclassified"]
    assert result.phase.cat.ordered


def test_classify_phase__keeps_every_row_and_its_index():
    frame = typed(["1", "4", "", "3", "2"])
    result = classify_phase(frame, tiny_instrument())
    assert result.phase.index.equals(frame.index)


def test_classify_phase__input__is_not_modified():
    frame = typed(["1", "4"])
    before = frame.copy(deep=True)
    classify_phase(frame, tiny_instrument())
    pd.testing.assert_frame_equal(frame, before)
