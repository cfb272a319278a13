"""One test per platform quirk the adapters must handle."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from fixtures.exports import write_kobo_csv
from pipeline.cli.main import cli
from pipeline.errors import PulsecheckError
from pipeline.ingest.adapters.assemble import (
    ANSWER,
    CHOICE,
    ROLE,
    Conventions,
    Table,
    Target,
    assemble,
)
from pipeline.ingest.adapters.forms import redcap_tables, xlsform_tables
from pipeline.ingest.adapters.labels import split_labels
from pipeline.ingest.adapters.responses import to_responses
from pipeline.ingest.adapters.spss import mr_set_targets
from pipeline.ingest.adapters.text import decode_text
from pipeline.ingest.readers import read_choice_versions, read_export
from pipeline.model.instrument import build_instrument, check_instrument


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def codes(issues: pd.DataFrame) -> list[str]:
    return sorted(issues["code"].tolist())


# --- encodings ---------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding, expected", [
    ("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"), ("utf-16", "utf-16"), ("cp1252", "cp1252")])
def test_decode_text__each_encoding__is_detected_and_text_survives(encoding, expected):
    text, used, _ = decode_text("pid,comment\nP1,Café — naïve\n".encode(encoding))
    assert (used, text.splitlines()[1]) == (expected, "P1,Café — naïve")


def test_read_export__cp1252_file__is_read_and_the_decision_is_an_info_issue(tmp_path, mini):
    path = write(tmp_path / "x.csv", "response_id,pid,comment\nR1,P1,Crème brûlée\n", "cp1252")
    exported = read_export(path, mini)
    assert exported.frame["comment"].tolist() == ["Crème brûlée"]
    note = exported.notes[exported.notes["code"] == "READ_011"]
    assert note["severity"].tolist() == ["info"] and "cp1252" in note["message"].iloc[0]


# --- detection ---------------------------------------------------------------------------------
def test_read_export__detection__names_the_platform_and_the_reason(tmp_path, mini):
    path = write_kobo_csv(tmp_path)
    notes = read_export(path, mini).notes
    message = notes.loc[notes["code"] == "READ_010", "message"].iloc[0]
    assert "KoboToolbox" in message and "_uuid" in message


def test_read_export__source_given__overrides_detection(tmp_path, mini):
    # A plain CSV whose header also fits Google Forms' first-column rule.
    path = write(tmp_path / "x.csv", "Timestamp,response_id,pid\n2016,R1,P1\n")
    assert read_export(path, mini).platform == "googleforms"
    assert read_export(path, mini, source="csv").platform == "csv"


def test_read_export__unknown_layout__stops_with_a_catalogue_error(tmp_path, mini):
    path = write(tmp_path / "x.csv", "a,b\n1,2\n")
    with pytest.raises(PulsecheckError) as error:
        read_export(path, mini)
    assert error.value.code == "READ_016"


# --- mapping -------------------------------------------------------------------------------------
def test_read_export__unknown_column__is_reported_not_dropped_silently(tmp_path, mini):
    path = write(tmp_path / "x.csv", "response_id,pid,shoe_size\nR1,P1,42\n")
    issues = read_export(path, mini).issues
    assert issues.loc[issues["code"] == "READ_006", "column"].tolist() == ["shoe_size"]


def test_read_export__mapping_file__maps_columns_the_names_cannot(tmp_path, mini, instrument_dir):
    path = write(tmp_path / "x.csv", "response_id,Partnership,B-money,B-data\nR1,P1,1,0\n")
    mapping = write(tmp_path / "map.csv", "export_column,question,choice\nPartnership,pid,\n"
                    "B-money,barriers,money\nB-data,barriers,data\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", str(path), "--instrument", str(instrument_dir),
                                 "--map", str(mapping), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    responses = pd.read_csv(tmp_path / "out" / "responses.csv", dtype=str,
                            keep_default_na=False)
    assert responses.loc[0, ["pid", "barriers/money", "barriers/data", "barriers/none"]
                         ].tolist() == ["P1", "1", "0", "0"]


def test_read_export__answer_matching_no_choice__is_an_issue(tmp_path, mini):
    path = write(tmp_path / "x.csv", "response_id,pid,barriers\nR1,P1,money Parking\n")
    exported = read_export(path, mini)
    assert exported.frame["barriers"].tolist() == ["money"]
    issues = exported.issues
    assert issues.loc[issues["code"] == "READ_012", "value"].tolist() == ["Parking"]


def test_split_labels__labels_holding_the_separator__are_split_by_the_instrument(mini):
    choices = mini.choices["bar"]
    found, rest = split_labels("Money, staff or time, Data sharing, my own, words", choices, ", ")
    assert ([c.name for c in found], rest) == (["money", "data"], "my own, words")


def test_qualtrics_label_row__truncated_with_ellipsis__still_finds_the_question(tmp_path, mini):
    path = write(tmp_path / "x.csv",
                 "V1,V2,V3,V4,V5,V6,V7,V8,V9,V10,pid,Q9,\n"
                 "ResponseID,ResponseSet,Name,ExternalDataReference,EmailAddress,IPAddress,"
                 "Status,StartDate,EndDate,Finished,Partnership ID,"
                 "\"Which stage, in your vi...\",\n"
                 "R1,,,,,,0,,,1,P1,3,\n", "utf-8-sig")
    frame = read_export(path, mini).frame
    assert frame[["response_id", "stage"]].values.tolist() == [["R1", "late"]]


# --- semantics ---------------------------------------------------------------------------------
def test_redcap_adapter__checkbox_zero_on_unanswered_row__is_skipped(tmp_path, mini):
    path = write(tmp_path / "x.csv", "record_id,pid,barriers___1,barriers___2,barriers___3,"
                 "barriers___4,barriers___5,pulse_complete\nR1,P1,0,0,0,0,0,0\n")
    exported = read_export(path, mini)
    responses = to_responses(exported.frame, mini, exported.none_selected)
    assert responses.loc[0, "barriers/money"] == "" and exported.none_selected == ()


def test_kobo_adapter__split_zeros__record_answered_with_none_ticked(tmp_path, mini):
    path = write(tmp_path / "x.csv", '"_uuid";"_submission_time";"pid";"core/barriers";'
                 '"core/barriers/money";"core/barriers/data"\n"u1";"2016";"P1";"";"0";"0"\n')
    exported = read_export(path, mini)
    responses = to_responses(exported.frame, mini, exported.none_selected)
    assert responses.loc[0, ["barriers/money", "barriers/none"]].tolist() == ["0", "0"]


def test_read_export__choice_added_in_a_later_version__is_refused_for_earlier_rows(
        tmp_path, mini, instrument_dir):
    path = write(tmp_path / "x.csv", '"_uuid";"_submission_time";"__version__";"pid";'
                 '"core/barriers"\n"u1";"t";"1";"P1";"trust data"\n"u2";"t";"2";"P2";"trust"\n')
    exported = read_export(path, mini, choice_versions=read_choice_versions(instrument_dir))
    assert exported.frame["barriers"].tolist() == ["data", "trust"]
    issues = exported.issues
    assert issues.loc[issues["code"] == "READ_013", "respondent"].tolist() == ["u1"]


def test_assemble__literal_na_and_none__stay_text(mini):
    table = Table("x", ("id", "comment"), (("R1", "N/A"), ("R2", "None")), (2, 3))
    built = assemble(table, [Target(ROLE, "response_id"), Target(ANSWER, "comment")], mini,
                     Conventions())
    assert built.frame["comment"].tolist() == ["N/A", "None"]


def test_assemble__user_missing_code_in_split_column__counts_as_skipped(mini):
    table = Table("x", ("id", "m", "d"), (("R1", "-99", "-99"),), (2,))
    targets = [Target(ROLE, "response_id"), Target(CHOICE, "barriers", "money"),
               Target(CHOICE, "barriers", "data")]
    built = assemble(table, targets, mini, Conventions(missing=("-99",)))
    assert built.frame["barriers"].tolist() == [""] and built.none_selected == ()


def test_spss_mr_set__dichotomy_variables__map_to_choices(mini):
    sets = {"$barriers": {"type": "D", "is_dichotomy": True, "counted_value": 1, "label": "",
                          "variable_list": ["B_a", "B_b"]}}
    labels = {"B_a": "Barriers - Data sharing", "B_b": "Barriers - None of these"}
    found = mr_set_targets(sets, labels, mini)
    assert {v: (t.name, t.choice) for v, (t, _) in found.items()} == {
        "B_a": ("barriers", "data"), "B_b": ("barriers", "none")}


def test_spss_adapter__user_missing_code__is_blank(tmp_path, mini):
    from fixtures.exports import write_spss
    frame = read_export(write_spss(tmp_path), mini).frame
    assert frame["year"].tolist()[2:4] == ["", ""]


# --- instruments -------------------------------------------------------------------------------
def test_xlsform_tables__kobo_workbook__give_a_sound_instrument():
    survey = pd.DataFrame({"type": ["start", "text", "begin group", "select_multiple bar",
                                    "end group"],
                           "name": ["start", "pid", "core", "barriers", ""],
                           "label::English (en)": ["", "Partnership", "Core", "Barriers", ""],
                           "required": ["", "true()", "", "false()", ""],
                           "relevant": ["", "", "${pid} != ''", "", ""]})
    choices = pd.DataFrame({"list name": ["bar", "bar"], "name": ["money", "data"],
                            "label::English (en)": ["Money", "Data"]})
    settings = pd.DataFrame({"form_id": ["mini"], "version": ["2016-06-01"]})
    tables = xlsform_tables({"survey": survey, "choices": choices, "settings": settings})
    assert check_instrument(tables).empty
    instrument = build_instrument(tables)
    assert (instrument.version, instrument.year, [q.name for q in instrument.questions],
            instrument.question("barriers").group_relevant) == (
        "2016-06-01", 2016, ["pid", "barriers"], ("${pid} != ''",))


def test_redcap_tables__data_dictionary__give_a_sound_instrument_with_codes():
    dictionary = pd.read_csv(io.StringIO(
        'Variable / Field Name,Form Name,Section Header,Field Type,Field Label,'
        '"Choices, Calculations, OR Slider Labels",Field Note,'
        'Text Validation Type OR Show Slider Number,Text Validation Min,Text Validation Max,'
        'Identifier?,Branching Logic (Show field only if...),Required Field?\n'
        'record_id,pulse,,text,Record ID,,,,,,,,\n'
        'barriers,pulse,,checkbox,Barriers,"1, Money | 4, Other",,,,,,,\n'
        'barriers_other,pulse,,text,Other barrier,,,,,,,[barriers(4)] = \'1\',\n'
        'year,pulse,,text,Year,,,integer,,,,,y\n'), dtype=str, keep_default_na=False)
    tables = redcap_tables(dictionary)
    assert check_instrument(tables).empty
    instrument = build_instrument(tables)
    assert ([(c.name, c.code) for c in instrument.choices["barriers"]],
            instrument.question("barriers_other").relevant,
            instrument.question("year").type) == (
        [("money", "1"), ("other", "4")], "selected(${barriers}, 'other')", "integer")


# --- command line ----------------------------------------------------------------------------
def test_ingest_command__writes_responses_and_issues(tmp_path, instrument_dir):
    path = write_kobo_csv(tmp_path)
    result = CliRunner().invoke(cli, ["ingest", str(path), "--instrument", str(instrument_dir),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    responses = pd.read_csv(tmp_path / "out" / "responses.csv", dtype=str,
                            keep_default_na=False)
    assert list(responses.columns[:4]) == ["response_id", "instrument_version", "pid", "stage"]
    assert responses["instrument_version"].tolist() == ["1", "2", "1", "2", "2", "1"]
    assert "READ_010" in pd.read_csv(tmp_path / "out" / "issues.csv")["code"].tolist()


def test_run__wave_with_platform_auto__detects_its_plain_export_and_analyses_it(
        tmp_path, tiny_rows):
    from conftest import TINY_WAVE, make_project
    from pipeline.run.analyse import run_wave

    wave = make_project(tmp_path, tiny_rows, TINY_WAVE.replace('platform = "csv"',
                                                               'platform = "auto"'))
    summary = run_wave(wave, tmp_path / "out")
    assert summary.counts["analysed"] == 4


@pytest.mark.parametrize("separator", [".", "-"])
def test_read_export__kobo_with_another_group_separator__reads_the_same_frame(
        tmp_path, mini, separator):
    # KoboToolbox lets the exporter choose the group separator ("/" by default; R tools
    # such as koboloadeR write "."): the same answers must come out whatever was chosen.
    slashed = write_kobo_csv(tmp_path)
    text = slashed.read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    (tmp_path / "other").mkdir()
    other = tmp_path / "other" / "kobo.csv"
    other.write_text(header.replace("/", separator) + "\n" + rest, encoding="utf-8")
    expected, got = read_export(slashed, mini), read_export(other, mini)
    assert got.platform == "kobo"
    pd.testing.assert_frame_equal(got.frame, expected.frame)
