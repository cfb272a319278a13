"""Reading every platform's export into the one canonical form (issue: platform adapters)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fixtures.exports import DETECTED, RESPONDENTS, WRITERS, expected_responses
from pipeline.ingest.adapters.responses import to_responses
from pipeline.ingest.readers import read_export
from pipeline.stages.validate import ValidationConfig, validate_responses

CANONICAL = ValidationConfig(multiple_separator=" ", finished_true=("1",))


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("exports")
    return {name: write(folder) for name, write in WRITERS.items()}


ANSWERS = list(expected_responses().columns)


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_every_adapter__same_respondents__give_the_same_canonical_responses(fmt, exports, mini):
    exported = read_export(exports[fmt], mini)
    responses = to_responses(exported.frame, mini, exported.none_selected)
    assert exported.platform == DETECTED[fmt]
    assert responses[ANSWERS].to_dict("records") == expected_responses().to_dict("records")
    unexpected = exported.issues[exported.issues["severity"].isin(["error", "warning"])]
    assert unexpected.empty, unexpected["message"].tolist()


@pytest.mark.parametrize("fmt", [f for f in WRITERS if f != "plain_csv"])
def test_every_adapter__typed_frame_after_validation__equals_the_plain_csv_one(fmt, exports,
                                                                              mini):
    def typed(name):
        frame = read_export(exports[name], mini).frame
        result = validate_responses(frame, mini, CANONICAL)
        columns = [c for c in result.frame.columns if c.split("/")[0] in
                   {q.name for q in mini.answerable}]
        return result.frame[columns].reset_index(drop=True)

    pd.testing.assert_frame_equal(typed(fmt), typed("plain_csv"))


@pytest.mark.parametrize("fmt", [f for f in WRITERS if f != "googleforms_csv"])
def test_every_adapter__response_id__is_the_platforms_respondent_id(fmt, exports, mini):
    frame = read_export(exports[fmt], mini).frame
    assert frame["response_id"].tolist() == [r["id"] for r in RESPONDENTS]
