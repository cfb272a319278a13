"""Each validation rule, on the tiny inline instrument (see conftest)."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import canonical, row, tiny_instrument
from pipeline.stages.validate import WITHHELD, ValidationConfig, validate_responses

CONFIG = ValidationConfig(multiple_separator=" ", finished_true=("1",), max_invalid=3)


def validate(rows, config=CONFIG):
    exported = canonical(rows)
    return validate_responses(exported.frame, tiny_instrument(), config)


def found(result) -> list[tuple]:
    """Issues as compact (row, column, code) tuples."""
    return sorted(zip(result.issues["row"].astype(int), result.issues["column"].fillna(""),
                      result.issues["code"], strict=True))


def test_validate__valid_response__yields_no_issues_and_typed_values():
    result = validate([row()])
    assert result.issues.empty
    typed = result.frame.iloc[0]
    assert (typed["screen"], typed["year"], typed["staff"]) == ("yes", 2012, 2.5)
    assert (typed["barriers/money"], typed["barriers/data"], typed["barriers/none"]) == (1, 1, 0)


def test_validate__text_in_number_field__warns_and_sets_missing():
    result = validate([row(staff="two")])
    assert found(result) == [(2, "staff", "VAL_001")]
    assert pd.isna(result.frame.loc[0, "staff"])


def test_validate__number_with_thousands_separators__is_read_with_an_info_note():
    # Spreadsheets write 1,250 for 1250; the number is not in doubt, so it is read and the
    # assumption is noted (VAL_012) instead of the answer being dropped as VAL_001.
    result = validate([row(staff="1,250")])
    assert found(result) == [(2, "staff", "VAL_012")]
    assert result.issues["severity"].tolist() == ["info"]
    assert result.frame.loc[0, "staff"] == 1250


def test_validate__comma_that_may_be_a_decimal_comma__is_not_guessed():
    result = validate([row(staff="2,5")])
    assert found(result) == [(2, "staff", "VAL_001")]


def test_validate__submission_time_in_a_local_format__is_reported_not_guessed():
    config = ValidationConfig(multiple_separator=" ", finished_true=("1",),
                              submitted_at_format="%Y-%m-%d %H:%M:%S")
    result = validate([row(submitted_at="01/06/2016 10:00")], config)
    assert found(result) == [(2, "submitted_at", "VAL_013")]


def test_validate__fraction_in_integer_field__warns_integer_expected():
    result = validate([row(year="2012.5")])
    assert found(result) == [(2, "year", "VAL_009")]


def test_validate__integer_written_with_trailing_zero_decimal__is_accepted():
    result = validate([row(year="2012.0")])
    assert result.issues.empty
    assert result.frame.loc[0, "year"] == 2012


def test_validate__unknown_code_in_select_one__warns_and_sets_missing():
    result = validate([row(stage="9")])
    assert found(result) == [(2, "stage", "VAL_002")]
    assert pd.isna(result.frame.loc[0, "stage"])
    assert "1=first" in result.issues.iloc[0]["message"]


def test_validate__select_one_given_as_label_name_or_excel_float__decodes_to_name():
    result = validate([row(stage="Second stage"), row(response_id="R2", pid="P2", stage="third"),
                       row(response_id="R3", pid="P3", stage="1.0")])
    assert result.issues.empty
    assert result.frame["stage"].tolist() == ["second", "third", "first"]


def test_read_and_validate__unknown_code_in_select_multiple__is_reported_and_not_ticked():
    # The adapter reports the code it cannot place (READ_012) and keeps the known ticks.
    exported = canonical([row(barriers="1 7")])
    assert list(zip(exported.issues["code"], exported.issues["value"], strict=True)) == [
        ("READ_012", "7")]
    result = validate_responses(exported.frame, tiny_instrument(), CONFIG)
    assert result.issues.empty
    assert result.frame.loc[0, ["barriers/money", "barriers/data"]].tolist() == [1, 0]


def test_validate__canonical_frame_with_an_unknown_choice_name__makes_whole_answer_missing():
    # A canonical frame built by other means may still hold a name the instrument lacks.
    frame = canonical([row()]).frame.assign(barriers="money rain")
    result = validate_responses(frame, tiny_instrument(), CONFIG)
    assert found(result) == [(2, "barriers", "VAL_002")]
    assert result.frame.loc[0, ["barriers/money", "barriers/data"]].isna().all()


def test_validate__exclusive_choice_with_others__warns_and_sets_missing():
    result = validate([row(barriers="4 1")])
    assert found(result) == [(2, "barriers", "VAL_005")]
    assert "'none' is exclusive but was ticked with money" in result.issues.iloc[0]["message"]
    assert result.frame.filter(like="barriers/").iloc[0].isna().all()


def test_validate__exclusive_choice_alone__is_valid():
    result = validate([row(barriers="4")])
    assert result.issues.empty
    assert result.frame.loc[0, "barriers/none"] == 1


def test_validate__required_answer_missing_on_finished_response__warns():
    result = validate([row(year="")])
    assert found(result) == [(2, "year", "VAL_003")]


def test_validate__required_answer_missing_on_unfinished_response__is_not_reported():
    result = validate([row(year="", finished="0", progress="50")])
    assert result.issues.empty


def test_validate__constraint_broken__warns_with_the_authors_message_and_sets_missing():
    result = validate([row(year="2106")])
    assert found(result) == [(2, "year", "VAL_004")]
    assert "Year between 1950 and 2016" in result.issues.iloc[0]["message"]
    assert pd.isna(result.frame.loc[0, "year"])


def test_validate__answer_hidden_by_group_skip_logic__warns_and_is_ignored():
    result = validate([row(screen="2", stage="1", barriers="", year="", staff="")])
    assert found(result) == [(2, "stage", "VAL_006")]
    assert pd.isna(result.frame.loc[0, "stage"])


def test_validate__answer_hidden_by_question_skip_logic__warns():
    result = validate([row(barriers="1", barriers_other="Weather")])
    assert found(result) == [(2, "barriers_other", "VAL_006")]


def test_validate__skip_logic_satisfied__keeps_the_dependent_answer():
    result = validate([row(barriers="1 3", barriers_other="Weather")])
    assert result.issues.empty
    assert result.frame.loc[0, "barriers_other"] == "Weather"


def test_validate__missing_respondent_key__is_an_error_reported_once():
    result = validate([row(pid="")])
    assert found(result) == [(2, "pid", "VAL_007")]
    assert result.issues.iloc[0]["severity"] == "error"


def test_validate__repeated_response_id__is_an_error_on_every_copy():
    result = validate([row(), row(pid="P2")])
    assert found(result) == [(2, "response_id", "VAL_011"), (3, "response_id", "VAL_011")]
    assert "rows 2, 3" in result.issues.iloc[0]["message"]


def test_validate__more_invalid_answers_than_the_limit__quarantines_the_row():
    result = validate([row(year="x", staff="y", stage="9", email="not an email")])
    assert ("VAL_010", "error") in set(zip(result.issues["code"], result.issues["severity"],
                                           strict=True))


def test_validate__invalid_personal_answer__is_reported_without_its_value():
    result = validate([row(email="jane.doe at example.org")])
    assert found(result) == [(2, "email", "VAL_004")]
    issue = result.issues.iloc[0]
    assert issue["value"] == WITHHELD
    assert "jane.doe" not in issue["message"]


def test_validate__input_frame__is_not_modified():
    exported = canonical([row(year="2106", barriers="4 1"), row(response_id="R2", pid="")])
    before = exported.frame.copy(deep=True)
    validate_responses(exported.frame, tiny_instrument(), CONFIG)
    pd.testing.assert_frame_equal(exported.frame, before)


@pytest.mark.parametrize("cell", ["1,2", "1 2", "1, 2"])
def test_read_and_validate__select_multiple_separators_of_the_platform__give_the_ticks(cell):
    # The csv profile joins codes with a space; a comma is read as well (label separator).
    result = validate([row(barriers=cell)])
    assert result.issues.empty
    assert result.frame.loc[0, ["barriers/money", "barriers/data"]].tolist() == [1, 1]


def test_validate__number_with_more_digits_than_can_be_held__is_not_a_number():
    result = validate([row(year="2012000000000000000000")])
    assert found(result) == [(2, "year", "VAL_001")]
