"""Reading every platform's export into the one canonical form (issue: platform adapters)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fixtures.exports import DETECTED, RESPONDENTS, WRITERS, expected_responses
from pipeline.ingest.adapters.responses import to_responses
from pipeline.ingest.readers import read_export, read_platform
from pipeline.run.analyse import validation_config
from pipeline.stages.validate import validate_responses


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
        # Validated as the run validates an export of the platform it was read as.
        exported = read_export(exports[name], mini)
        result = validate_responses(exported.frame, mini,
                                    validation_config(read_platform(exported.platform)))
        columns = [c for c in result.frame.columns if c.split("/")[0] in
                   {q.name for q in mini.answerable}]
        return result.frame[columns].reset_index(drop=True)

    pd.testing.assert_frame_equal(typed(fmt), typed("plain_csv"))


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_every_adapter_with_a_finished_column__validation_sees_who_finished(fmt, exports, mini):
    # REDCap writes 2 / "Complete", Qualtrics 1 / True: after the adapter and the run's
    # validation settings, exactly the respondents who finished count as finished.
    exported = read_export(exports[fmt], mini)
    if "finished" not in exported.frame:
        pytest.skip(f"{fmt} exports no finished column")
    result = validate_responses(exported.frame, mini,
                                validation_config(read_platform(exported.platform)))
    assert result.frame["finished"].tolist() == [r["finished"] for r in RESPONDENTS]


@pytest.mark.parametrize("fmt", [f for f in WRITERS if f != "googleforms_csv"])
def test_every_adapter__response_id__is_the_platforms_respondent_id(fmt, exports, mini):
    frame = read_export(exports[fmt], mini).frame
    assert frame["response_id"].tolist() == [r["id"] for r in RESPONDENTS]
