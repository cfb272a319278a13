"""The instrument checker and the 2016 instrument as data."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from conftest import (
    INSTRUMENT_2016,
    TINY_CHOICES,
    TINY_MANIFEST,
    TINY_PHASE_MAP,
    TINY_SURVEY,
    tables_from_text,
)
from pipeline.cli.main import cli
from pipeline.ingest.readers import read_instrument, read_instrument_tables
from pipeline.model.instrument import check_instrument


def codes(problems) -> list[str]:
    return sorted(problems["code"])


def test_check_instrument__tiny_sound_instrument__reports_nothing():
    assert check_instrument(tables_from_text()).empty


def test_check_instrument__duplicate_question_name__is_reported_with_both_rows():
    survey = TINY_SURVEY + "text,year,Again,no,,,,no\n"
    problems = check_instrument(tables_from_text(survey=survey))
    assert codes(problems) == ["INST_004"]
    assert problems.iloc[0]["row"] == 12
    assert "first at row 6" in problems.iloc[0]["message"]


def test_check_instrument__select_with_missing_list__is_reported():
    survey = TINY_SURVEY + "select_one colours,colour,Colour,no,,,,no\n"
    problems = check_instrument(tables_from_text(survey=survey))
    assert codes(problems) == ["INST_007"]
    assert "colours" in problems.iloc[0]["message"]


def test_check_instrument__expression_that_does_not_parse__is_reported():
    survey = TINY_SURVEY.replace(". > 0,More", ". > ,More")
    problems = check_instrument(tables_from_text(survey=survey))
    assert codes(problems) == ["INST_009"]
    assert problems.iloc[0]["column"] == "constraint"


def test_check_instrument__reference_to_unknown_question__is_reported():
    survey = TINY_SURVEY.replace("${screen} = 'yes'", "${screan} = 'yes'")
    problems = check_instrument(tables_from_text(survey=survey))
    assert codes(problems) == ["INST_010"]
    assert "${screan}" in problems.iloc[0]["message"]


def test_check_instrument__skip_logic_cycle__is_reported_once():
    survey = (TINY_SURVEY
              + "text,a,A,no,${b} = 'x',,,no\n"
              + "text,b,B,no,${c} = 'x',,,no\n"
              + "text,c,C,no,${a} = 'x',,,no\n")
    problems = check_instrument(tables_from_text(survey=survey))
    assert codes(problems) == ["INST_011"]
    assert "a → b → c → a" in problems.iloc[0]["message"]


def test_check_instrument__several_problems__are_all_reported_at_once():
    survey = (TINY_SURVEY.replace("integer,year", "integr,year")
              + "select_one nolist,q1,Q1,maybe,,,,no\n")
    choices = TINY_CHOICES + "bar,money,Money again,9,\n"
    problems = check_instrument(tables_from_text(survey=survey, choices=choices))
    assert codes(problems) == ["INST_006", "INST_007", "INST_008", "INST_017"]


def test_check_instrument__phase_map_missing_a_code__is_reported():
    phase_map = TINY_PHASE_MAP.replace("unsure,unclassified,sourced\n", "")
    problems = check_instrument(tables_from_text(phase_map=phase_map))
    assert codes(problems) == ["INST_012"]
    assert "'unsure'" in problems.iloc[0]["message"]


def test_check_instrument__phase_map_unknown_code_and_group__are_reported():
    phase_map = TINY_PHASE_MAP + "fourth,Middle,sourced\n"
    problems = check_instrument(tables_from_text(phase_map=phase_map))
    assert codes(problems) == ["INST_013", "INST_014"]


def test_check_instrument__exclusive_flag_on_single_choice_list__is_reported():
    choices = TINY_CHOICES.replace("stage,unsure,Not sure,4,", "stage,unsure,Not sure,4,yes")
    problems = check_instrument(tables_from_text(choices=choices))
    assert codes(problems) == ["INST_018"]


def test_check_instrument__two_choices_share_a_code__is_reported():
    choices = TINY_CHOICES.replace("bar,data,Data sharing,2,", "bar,data,Data sharing,1,")
    problems = check_instrument(tables_from_text(choices=choices))
    assert codes(problems) == ["INST_019"]


def test_check_instrument__unbalanced_group__is_reported():
    survey = TINY_SURVEY.replace("end_group,,,,,,,\n", "")
    problems = check_instrument(tables_from_text(survey=survey))
    assert codes(problems) == ["INST_016"]


def test_check_instrument__manifest_without_respondent_key__is_reported():
    manifest = TINY_MANIFEST.replace('respondent = "pid"', 'respondent = "pidd"')
    problems = check_instrument(tables_from_text(manifest=manifest))
    assert codes(problems) == ["INST_015"]


def test_instrument_check_command__broken_instrument__lists_problems_and_exits_2(tmp_path):
    for name, text in (("survey.csv", TINY_SURVEY + "select_one x,y,Y,no,,,,no\n"),
                       ("choices.csv", TINY_CHOICES), ("manifest.toml", TINY_MANIFEST),
                       ("phase_map.csv", TINY_PHASE_MAP)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["instrument", "check", str(tmp_path)])
    assert result.exit_code == 2
    assert "INST_007" in result.output
    assert "Traceback" not in result.output


def test_instrument_check_command__2016_instrument__is_sound():
    result = CliRunner().invoke(cli, ["instrument", "check", str(INSTRUMENT_2016)])
    assert result.exit_code == 0, result.output
    assert "is sound" in result.output


# --- the 2016 instrument covers the brief's domains ------------------------------------------

@pytest.fixture(scope="module")
def instrument_2016():
    return read_instrument(INSTRUMENT_2016)


def test_2016_instrument__has_17_sector_questions_with_four_roles(instrument_2016):
    sectors = [q for q in instrument_2016.questions if q.group == "sectors"]
    assert len(sectors) == 17
    assert {q.list_name for q in sectors} == {"sector_role"}
    roles = [c.name for c in instrument_2016.choices["sector_role"]]
    assert roles == ["not_involved", "involved", "active", "lead"]


def test_2016_instrument__barrier_checklist_names_every_barrier_in_the_brief(instrument_2016):
    barriers = {c.name for c in instrument_2016.choices["barrier"]} - {"other", "none"}
    assert len(barriers) >= 12
    assert {"measuring_progress", "infrastructure", "financing", "data_sharing", "authority",
            "fragile_infrastructure", "political_resistance", "win_win_exhausted",
            "vested_interests"} <= barriers


def test_2016_instrument__momentum_checklist_names_every_builder_in_the_brief(instrument_2016):
    builders = {c.name for c in instrument_2016.choices["momentum"]} - {"other", "none"}
    assert len(builders) >= 10
    assert {"engage_stakeholders", "shared_vision", "easy_wins", "influence",
            "long_view"} <= builders


def test_2016_instrument__pathway_has_five_stages_and_not_sure(instrument_2016):
    stages = [c.name for c in instrument_2016.choices["pathway"]]
    assert stages == ["campaign", "engage", "align", "redesign", "integrate", "not_sure"]


def test_2016_instrument__contact_fields_are_marked_personal(instrument_2016):
    assert set(instrument_2016.personal_questions) >= {
        "partnership_name", "respondent_name", "respondent_email", "respondent_phone"}


def test_2016_instrument__every_guess_in_the_phase_map_names_an_assumption():
    tables = read_instrument_tables(INSTRUMENT_2016)
    guesses = tables["phase_map"][tables["phase_map"]["basis"] == "GUESS"]
    assert len(guesses) == 5
    assert guesses["assumption"].str.match(r"^A-[A-Z]+-\d+$").all()
