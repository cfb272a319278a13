"""Real questionnaire forms accepted as the instrument (tests/real_exports/forms), and the
classes of form they showed, one test each.

Each folder of ``tests/real_exports/forms`` holds a form from a public repository (an XLSForm
as ``.xlsx``, ``.xls`` or ``.csv``, a REDCap data dictionary or a Qualtrics ``.qsf``), its
``SOURCE.md`` and a ``form.toml`` saying what to expect. A form is accepted when every question
a respondent answers once is kept, and every part that is not checked is named in a warning:
nothing is dropped silently. The sheets are read here with python-calamine or the csv module,
never with the project's readers.
"""

from __future__ import annotations

import csv
import io
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import InstrumentError, PulsecheckError
from pipeline.ingest.readers import read_instrument

CORPUS = Path(__file__).resolve().parent / "real_exports" / "forms"
FORMS = sorted(p.parent for p in CORPUS.glob("*/form.toml"))
#: XLSForm types that hold no answer of the respondent (device metadata, notes, structure).
_NO_ANSWER = {"start", "end", "today", "deviceid", "username", "phonenumber", "audit",
              "simserial", "subscriberid", "imei", "email", "note", "start-geopoint",
              "background-audio", "background-geopoint", "xml-external", "csv-external",
              "begin", "end_group", "begin_group", "end_repeat", "begin_repeat"}


def _calamine_sheets(path: Path) -> dict[str, list[list[str]]]:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path))

    def text(value) -> str:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()

    return {name.strip().lower(): [[text(v) for v in row]
                                   for row in book.get_sheet_by_name(name).to_python()]
            for name in book.sheet_names}


def _csv_sheets(path: Path) -> dict[str, list[list[str]]]:
    """An XLSForm saved as CSV: a sheet name in column 1 opens each sheet."""
    sheets: dict[str, list[list[str]]] = {}
    current = None
    for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
        if row and row[0].strip():
            current = sheets.setdefault(row[0].strip().lower(), [])
        elif current is not None and any(c.strip() for c in row[1:]):
            current.append([c.strip() for c in row[1:]])
    return sheets


def _expected_xlsform_questions(path: Path) -> list[str]:
    """Names of the survey rows a respondent answers once (outside repeats and loops)."""
    sheets = _csv_sheets(path) if path.suffix == ".csv" else _calamine_sheets(path)
    rows = sheets["survey"]
    header = [h.strip().lower() for h in rows[0]]
    type_at = next(i for i, h in enumerate(header) if h in ("type", "command"))
    name_at = next(i for i, h in enumerate(header) if h in ("name", "value", "tag"))
    depth, names = 0, []
    for row in rows[1:]:
        cells = row + [""] * (len(header) - len(row))
        words = cells[type_at].lower().replace("_", " ").split()
        if words[:2] in (["begin", "repeat"], ["begin", "loop"]):
            depth += 1
        elif words[:2] in (["end", "repeat"], ["end", "loop"]):
            depth -= 1
        elif (not depth and words and cells[name_at]
              and cells[type_at].strip().lower() not in _NO_ANSWER and words[0] not in
              ("begin", "end", "note") and " ".join(words) not in _NO_ANSWER):
            names.append(cells[name_at])
    return names


@pytest.mark.parametrize("form_dir", FORMS, ids=[p.name for p in FORMS])
def test_real_form__accepted__every_question_kept_or_named_in_a_warning(form_dir: Path):
    case = tomllib.loads((form_dir / "form.toml").read_text(encoding="utf-8"))
    assert (form_dir / "SOURCE.md").exists()
    path = form_dir / case["form"]
    if "refused" in case:
        # A form the pipeline cannot analyse: one catalogue message naming the form.
        with pytest.raises(PulsecheckError) as error:
            read_instrument(path)
        assert error.value.code == case["refused"] and path.name in str(error.value)
        return
    instrument = read_instrument(path)
    kept = {q.name for q in instrument.answerable}
    warned = " ".join(note["message"] for note in instrument.notes)
    if case.get("kind", "xlsform") == "xlsform":
        for name in _expected_xlsform_questions(path):
            assert name in kept or f"'{name}'" in warned, name
    for name in case.get("questions", []):
        assert name in kept, name
    for name, kind in case.get("types", {}).items():
        assert instrument.question(name).type == kind, name
    for name, choices in case.get("choices", {}).items():
        assert [c.name for c in instrument.choices_for(instrument.question(name))] == choices
    for name, codes in case.get("codes", {}).items():
        assert [c.code for c in instrument.choices_for(instrument.question(name))] == codes
    for name, label in case.get("labels", {}).items():
        assert instrument.question(name).label == label, name
    for name, relevant in case.get("relevant", {}).items():
        assert instrument.question(name).relevant == relevant, name
    for words in case.get("warned", []):
        assert words in warned, words
    assert len(kept) >= case.get("min_questions", 1)
    if "data" in case:
        _check_export_read_with_the_form(path, form_dir / case["data"])


def _check_export_read_with_the_form(form: Path, export: Path) -> None:
    """The form's own export, validated with the form as instrument: every row read, no
    question without its column, exit 0 or 1 (never a refusal)."""
    import json

    from click.testing import CliRunner

    from pipeline.cli.main import cli

    result = CliRunner().invoke(cli, ["validate", str(export), "--instrument", str(form),
                                      "--json", "--limit", "0"])
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    with open(export, encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in list(csv.reader(handle))[1:] if any(c.strip() for c in r)]
    assert report["rows"] == len(rows)
    codes = {issue["code"] for issue in report["issues"]}
    assert not codes & {"READ_007", "READ_044", "READ_006"}, codes


# --- the classes of form met in the corpus, one test each -------------------------------------
def _xlsform(survey: list[list[str]], choices: list[list[str]] | None = None,
             settings: list[list[str]] | None = None) -> dict:
    from pipeline.ingest.adapters.forms import xlsform_tables

    sheets = {"survey": pd.DataFrame(survey[1:], columns=survey[0])}
    if choices:
        sheets["choices"] = pd.DataFrame(choices[1:], columns=choices[0])
    if settings:
        sheets["settings"] = pd.DataFrame(settings[1:], columns=settings[0])
    return xlsform_tables(sheets, source="form.xlsx")


def _build(tables: dict):
    from pipeline.ingest.adapters.forms import relocate
    from pipeline.model.instrument import build_instrument, check_instrument

    problems = relocate(check_instrument(tables), tables.get("places", {}))
    assert problems.empty, problems["message"].tolist()
    return build_instrument(tables)


def test_xlsform__note_without_a_name__left_out_not_refused():
    tables = _xlsform([["type", "name", "label"], ["note", "", "Welcome"],
                       ["text", "who", "Who are you?"], ["note", "", "Thank you"]])
    assert [q.name for q in _build(tables).answerable] == ["who"]


def test_xlsform__row_with_an_unknown_type_and_no_name__left_out_with_a_warning():
    tables = _xlsform([["type", "name", "label"], ["text", "a", "A"],
                       ["party like it's 19999", "", ""]])
    assert [q.name for q in _build(tables).answerable] == ["a"]
    assert any("party like it's 19999" in w["message"] and "row 3" in w["message"]
               for w in tables["warnings"])


def test_xlsform__labels_in_the_default_language__whatever_the_column_order():
    tables = _xlsform(
        [["type", "name", "label::Français (fr)", "label::English (en)", "hint::English (en)"],
         ["select_one yn", "ok", "Ça va ?", "Are you well?", "Say yes or no"]],
        [["list_name", "name", "label::Français (fr)", "label::English (en)"],
         ["yn", "yes", "Oui", "Yes"], ["yn", "no", "Non", "No"]],
        [["form_id", "default_language"], ["f", "English (en)"]])
    instrument = _build(tables)
    question = instrument.question("ok")
    assert (question.label, question.hint) == ("Are you well?", "Say yes or no")
    assert [c.label for c in instrument.choices_for(question)] == ["Yes", "No"]
    assert instrument.languages[0] == "en"


def test_xlsform__old_bind_columns__relevant_and_constraint_kept():
    tables = _xlsform([["type", "name", "label", "bind:relevant", "bind:constraint",
                        "bind:jr:constraintMsg"],
                       ["integer", "age", "Age", "", ". >= 0", "Not negative"],
                       ["integer", "years", "Years", "${age} > 5", "", ""]])
    instrument = _build(tables)
    assert instrument.question("years").relevant == "${age} > 5"
    assert instrument.question("age").constraint == ". >= 0"
    assert instrument.question("age").constraint_message == "Not negative"


def test_xlsform__the_same_column_twice__the_first_read_and_the_second_warned():
    tables = _xlsform([["type", "name", "label", "label"], ["text", "a", "First", "Second"]])
    assert _build(tables).question("a").label == "First"
    assert any("label" in w["message"] and "column d" in w["message"].lower()
               for w in tables["warnings"])


def test_xlsform__conditional_required__not_made_unconditional_and_warned():
    tables = _xlsform([["type", "name", "label", "required"],
                       ["text", "a", "A", "yes"], ["text", "b", "B", "${a} != ''"]])
    instrument = _build(tables)
    assert instrument.question("a").required and not instrument.question("b").required
    assert any("'b'" in w["message"] and "required" in w["message"]
               for w in tables["warnings"])


def test_xlsform__choice_filter__named_in_a_warning_as_not_checked():
    tables = _xlsform([["type", "name", "label", "choice_filter"],
                       ["select_one s", "state", "State", ""],
                       ["select_one c", "city", "City", "state=${state}"]],
                      [["list_name", "name", "label", "state"], ["s", "a", "A", ""],
                       ["c", "x", "X", "a"]])
    _build(tables)
    assert any("'city'" in w["message"] and "choice_filter" in w["message"]
               for w in tables["warnings"])


def test_xlsform__group_named_like_a_question__both_kept():
    tables = _xlsform([["type", "name", "label"], ["begin_group", "housing", "Housing"],
                       ["text", "rooms", "Rooms"], ["end_group", "housing", ""],
                       ["select_one yn", "housing", "Own a house?"]],
                      [["list_name", "name", "label"], ["yn", "yes", "Yes"]])
    instrument = _build(tables)
    assert [q.name for q in instrument.answerable] == ["rooms", "housing"]


def test_xlsform__a_name_used_twice__the_message_cites_both_sheet_rows():
    tables = _xlsform([["type", "name", "label"], ["start", "start", ""],
                       ["note", "", "Hello"], ["text", "a", "A"], ["text", "a", "A again"]])
    from pipeline.ingest.adapters.forms import relocate
    from pipeline.model.instrument import check_instrument

    problems = relocate(check_instrument(tables), tables["places"])
    message = problems.loc[problems["code"] == "INST_004", "message"].iloc[0]
    assert "row 5" in message and "first at row 4" in message, message


def test_xlsform__every_question_in_a_repeat__refused_with_one_message_naming_the_row():
    with pytest.raises(PulsecheckError) as error:
        _xlsform([["type", "name", "label"], ["begin repeat", "member", "Member"],
                  ["text", "who", "Name"], ["end repeat", "", ""]])
    assert error.value.code == "INST_022"
    assert "form.xlsx sheet survey row 2" in str(error.value)


def test_xlsform_saved_as_csv__read_as_the_workbook_is(tmp_path):
    form = tmp_path / "form.csv"
    form.write_text("survey,,,\n,type,name,label\n,select_one yn,ok,Are you well?\n"
                    ",integer,age,Age\nchoices,,,\n,list_name,name,label\n,yn,yes,Yes\n"
                    ",yn,no,No\nsettings,,,\n,form_id,version,\n,csvform,2024,\n",
                    encoding="utf-8")
    instrument = read_instrument(form)
    assert [(q.name, q.type) for q in instrument.answerable] == [("ok", "select_one"),
                                                                 ("age", "integer")]
    assert instrument.id == "csvform" and instrument.year == 2024


def test_xlsform__empty_formatted_cells_far_to_the_right__accepted(tmp_path):
    import xlsxwriter

    form = tmp_path / "wide.xlsx"
    book = xlsxwriter.Workbook(str(form))
    sheet = book.add_worksheet("survey")
    for row, values in enumerate([("type", "name", "label"), ("text", "a", "A")]):
        sheet.write_row(row, 0, values)
    shade = book.add_format({"bg_color": "#FFFF00"})
    sheet.write_blank(0, 6000, None, shade)  # a formatted empty cell in column HWJ
    book.close()
    assert [q.name for q in read_instrument(form).answerable] == ["a"]


def test_redcap_dictionary__logic_the_pipeline_cannot_evaluate__warned_not_refused(tmp_path):
    dictionary = tmp_path / "dictionary.csv"
    header = ('"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
              '"Choices, Calculations, OR Slider Labels","Field Note",'
              '"Text Validation Type OR Show Slider Number","Text Validation Min",'
              '"Text Validation Max",Identifier?,"Branching Logic (Show field only if...)",'
              '"Required Field?"\n')
    dictionary.write_text(
        header + "record_id,f,,text,Record,,,,,,,,\n"
        "dob,f,,text,Birth,,,date_ymd,,,,,\n"
        'sex,f,,radio,Sex,"1, Male | 2, Female",,,,,,,\n'
        "age_note,f,,text,Age,,,,,,,\"datediff([dob], 'today', 'y') > 18\",\n"
        "preg,f,,yesno,Pregnant,,,,,,,[baseline_arm_1][sex] = '2',\n"
        "visit,f,,text,Visit,,,,,,,[sex] = '2',\n", encoding="utf-8")
    instrument = read_instrument(dictionary)
    assert [q.name for q in instrument.answerable] == ["record_id", "dob", "sex", "age_note",
                                                       "preg", "visit"]
    assert instrument.question("visit").relevant == "${sex} = 'female'"
    assert instrument.question("age_note").relevant == ""
    warned = " ".join(n["message"] for n in instrument.notes)
    assert "'age_note'" in warned and "'preg'" in warned
    assert "dictionary.csv row 5" in warned


def test_qsf_without_questions__refused_with_one_message(tmp_path):
    import json

    definition = tmp_path / "empty.qsf"
    definition.write_text(json.dumps({
        "SurveyEntry": {"SurveyName": "Template"},
        "SurveyElements": [{"Element": "BL", "Payload": [
            {"Type": "Default", "ID": "BL_1", "Description": "Block", "BlockElements": []}]}]}),
        encoding="utf-8")
    with pytest.raises(PulsecheckError) as error:
        read_instrument(definition)
    assert error.value.code == "INST_022" and "empty.qsf" in str(error.value)


def test_xlsform__early_type_spellings__read_as_their_types():
    tables = _xlsform([["type", "name", "label"], ["string", "s", "S"], ["int", "n", "N"],
                       ["select1 yn", "ok", "OK?"]],
                      [["list_name", "name", "label"], ["yn", "yes", "Yes"]])
    instrument = _build(tables)
    assert [(q.name, q.type) for q in instrument.answerable] == [
        ("s", "text"), ("n", "integer"), ("ok", "select_one")]
    assert tables["warnings"] == []


def test_redcap_dictionary_written_by_r__na_cells_read_as_blank(tmp_path):
    dictionary = tmp_path / "metadata.csv"
    dictionary.write_text(
        "field_name,form_name,section_header,field_type,field_label,"
        "select_choices_or_calculations,field_note,text_validation_type_or_show_slider_number,"
        "text_validation_min,text_validation_max,identifier,branching_logic,required_field\n"
        "record_id,f,NA,text,Record,NA,NA,NA,NA,NA,NA,NA,NA\n"
        "age,f,NA,text,Age,NA,NA,integer,0,120,NA,NA,NA\n", encoding="utf-8")
    instrument = read_instrument(dictionary)
    assert instrument.question("age").type == "integer"
    assert instrument.question("age").relevant == "" and not instrument.notes


def test_qsf_problem__located_at_the_question_of_the_survey_definition(tmp_path):
    import json

    definition = tmp_path / "broken.qsf"
    question = {"QuestionID": "QID1", "DataExportTag": "Q1", "QuestionType": "MC",
                "Selector": "SAVR", "QuestionText": "Pick", "Choices": {"1": {"Display": "A"}},
                "DisplayLogic": {"0": {"0": {"LogicType": "Question", "Operator": "Selected",
                                             "ChoiceLocator": "q://QID1/SelectableChoice/1"}}}}
    definition.write_text(json.dumps({"SurveyEntry": {"SurveyName": "S"}, "SurveyElements": [
        {"Element": "BL", "Payload": [{"Type": "Default", "ID": "BL_1", "Description": "B",
                                       "BlockElements": [{"Type": "Question",
                                                          "QuestionID": "QID1"}]}]},
        {"Element": "SQ", "Payload": question}]}), encoding="utf-8")
    with pytest.raises(InstrumentError) as error:
        read_instrument(definition)
    message = error.value.problems["message"].iloc[0]
    assert message.startswith("[broken.qsf, question Q1"), message


def test_xlsform_respondent_key__an_answer_everyone_gives__not_an_other_specify():
    tables = _xlsform([["type", "name", "label", "required", "relevant"],
                       ["select_one org", "org", "Organisation", "yes", ""],
                       ["text", "org_other", "Other organisation", "", "${org} = 'other'"],
                       ["begin_group", "g", "Group", "", "${org} = 'a'"],
                       ["text", "note_g", "In group", "yes", ""], ["end_group", "", "", "", ""],
                       ["text", "comment", "Comment", "", ""],
                       ["text", "village", "Village", "yes", ""]],
                      [["list_name", "name", "label"], ["org", "a", "A"],
                       ["org", "other", "Other"]])
    assert _build(tables).respondent_key == "village"


def test_qsf__forced_response__required_and_preferred_as_respondent_key(tmp_path):
    import json

    def question(qid, tag, kind, selector, force, **extra):
        return {"Element": "SQ", "Payload": {
            "QuestionID": qid, "DataExportTag": tag, "QuestionType": kind,
            "Selector": selector, "QuestionText": tag,
            "Validation": {"Settings": {"ForceResponse": force}}, **extra}}

    definition = tmp_path / "s.qsf"
    definition.write_text(json.dumps({"SurveyEntry": {"SurveyName": "S"}, "SurveyElements": [
        {"Element": "BL", "Payload": [{"Type": "Default", "ID": "BL_1", "Description": "B",
                                       "BlockElements": [{"Type": "Question", "QuestionID": q}
                                                         for q in ("QID1", "QID2", "QID3")]}]},
        question("QID1", "Q1", "MC", "SAVR", "OFF",
                 Choices={"1": {"Display": "A"}, "2": {"Display": "Other", "TextEntry": "true"}}),
        question("QID2", "Q2", "TE", "SL", "OFF"),
        question("QID3", "Q3", "TE", "SL", "ON")]}), encoding="utf-8")
    instrument = read_instrument(definition)
    assert instrument.question("Q3").required and not instrument.question("Q2").required
    assert instrument.respondent_key == "Q3"


def test_choice_name_with_blanks__accepted_for_single_choice_refused_for_check_all():
    from pipeline.ingest.adapters.forms import relocate
    from pipeline.model.instrument import check_instrument

    choices = [["list_name", "name", "label"], ["sector", "Cross cutting", "Cross cutting"],
               ["sector", "Health", "Health"]]
    single = _xlsform([["type", "name", "label"], ["select_one sector", "s", "Sector"]],
                      choices)
    instrument = _build(single)
    assert [c.name for c in instrument.choices_for(instrument.question("s"))] == \
        ["Cross cutting", "Health"]
    multiple = _xlsform([["type", "name", "label"], ["select_multiple sector", "s", "Sector"]],
                        choices)
    problems = relocate(check_instrument(multiple), multiple["places"])
    assert problems["code"].tolist() == ["INST_005"]
    assert problems["message"].iloc[0].startswith("[form.xlsx sheet choices row 2")


def test_instrument_check_of_a_form__sound__and_every_part_not_checked_listed():
    from click.testing import CliRunner

    from pipeline.cli.main import cli

    form = CORPUS / "sms_info" / "sms_info.xls"
    result = CliRunner().invoke(cli, ["instrument", "check", str(form)])
    assert result.exit_code == 0, result.output
    assert "is sound" in result.output
    assert "'gps' of type 'geopoint'" in result.output and "INST_021" in result.output


def test_qsf_loop_and_merge_block__left_out_with_one_warning_like_a_repeat(tmp_path):
    import json

    def block(bid, name, qids, **extra):
        return {"Type": "Standard", "ID": bid, "Description": name, **extra,
                "BlockElements": [{"Type": "Question", "QuestionID": q} for q in qids]}

    def text(qid, tag):
        return {"Element": "SQ", "Payload": {"QuestionID": qid, "DataExportTag": tag,
                                             "QuestionType": "TE", "Selector": "SL",
                                             "QuestionText": tag}}

    definition = tmp_path / "loop.qsf"
    definition.write_text(json.dumps({"SurveyEntry": {"SurveyName": "S"}, "SurveyElements": [
        {"Element": "BL", "Payload": [
            block("BL_1", "Intro", ["QID1"]),
            block("BL_2", "Per brand", ["QID2", "QID3"],
                  Options={"Looping": "Question", "LoopingOptions": {"QID": "QID1"}})]},
        text("QID1", "Q1"), text("QID2", "Q2"), text("QID3", "Q3")]}), encoding="utf-8")
    instrument = read_instrument(definition)
    assert [q.name for q in instrument.answerable] == ["Q1"]
    warned = [n["message"] for n in instrument.notes]
    assert len(warned) == 1 and "Per brand" in warned[0] and "loop" in warned[0].lower()


def test_xlsform__a_bind_attribute_named_like_a_column__not_taken_for_that_column():
    tables = _xlsform([["bind::type", "type", "name", "label", "bind::relevant"],
                       ["esriFieldTypeString", "text", "a", "A", ""],
                       ["", "integer", "b", "B", "${a} != ''"]])
    instrument = _build(tables)
    assert [(q.name, q.type) for q in instrument.answerable] == [("a", "text"),
                                                                 ("b", "integer")]
    assert instrument.question("b").relevant == "${a} != ''"
    assert not any("repeats column" in w["message"] for w in tables["warnings"])


def test_xlsform__default_language_named_without_its_code__still_chosen():
    tables = _xlsform([["type", "name", "label::French (fr)", "label::English (en)"],
                       ["text", "a", "Nom", "Name"]],
                      settings=[["form_id", "default_language", "year"], ["f", "English", "FY24"]])
    instrument = _build(tables)
    assert instrument.question("a").label == "Name"
    assert instrument.year == 0  # a year that is not a number is not guessed


def test_xlsform__settings_year_and_version_as_spreadsheet_numbers(tmp_path):
    import xlsxwriter

    form = tmp_path / "numbers.xlsx"
    book = xlsxwriter.Workbook(str(form))
    survey = book.add_worksheet("survey")
    survey.write_row(0, 0, ("type", "name", "label"))
    survey.write_row(1, 0, ("text", "a", "A"))
    settings = book.add_worksheet("settings")
    settings.write_row(0, 0, ("form_id", "version", "year"))
    settings.write_row(1, 0, ("f",))
    settings.write_number(1, 1, 2022081103)
    settings.write_number(1, 2, 2022)
    book.close()
    instrument = read_instrument(form)
    assert (instrument.version, instrument.year) == ("2022081103", 2022)


def test_qsf_constant_sum_and_bipolar_matrix__one_question_per_item(tmp_path):
    import json

    definition = tmp_path / "cs.qsf"
    items = {"1": {"Display": "Rent"}, "2": {"Display": "Food"}}
    definition.write_text(json.dumps({"SurveyEntry": {"SurveyName": "S"}, "SurveyElements": [
        {"Element": "BL", "Payload": [{"Type": "Default", "ID": "BL_1", "Description": "B",
                                       "BlockElements": [{"Type": "Question", "QuestionID": q}
                                                         for q in ("QID1", "QID2")]}]},
        {"Element": "SQ", "Payload": {"QuestionID": "QID1", "DataExportTag": "Q1",
                                      "QuestionType": "CS", "Selector": "VRTL",
                                      "QuestionText": "Share of spending", "Choices": items}},
        {"Element": "SQ", "Payload": {"QuestionID": "QID2", "DataExportTag": "Q2",
                                      "QuestionType": "Matrix", "Selector": "Bipolar",
                                      "QuestionText": "Feel", "Choices": items,
                                      "Answers": {"1": {"Display": "1"},
                                                  "2": {"Display": "2"}}}}]}),
        encoding="utf-8")
    instrument = read_instrument(definition)
    assert [(q.name, q.type) for q in instrument.answerable] == [
        ("Q1_1", "decimal"), ("Q1_2", "decimal"), ("Q2_1", "select_one"),
        ("Q2_2", "select_one")]


def test_xlsform_without_a_type_column__refused_naming_the_sheet_and_column():
    with pytest.raises(PulsecheckError) as error:
        _xlsform([["name", "label"], ["a", "A"]])
    assert error.value.code == "INST_003"
    assert str(error.value).startswith("[form.xlsx sheet survey row 1")


def test_workbook_without_a_survey_sheet__refused_naming_its_sheets():
    from pipeline.ingest.adapters.forms import xlsform_tables

    with pytest.raises(PulsecheckError) as error:
        xlsform_tables({"Sheet1": pd.DataFrame([["a"]], columns=["x"])}, source="f.xlsx")
    assert error.value.code == "INST_022" and "Sheet1" in str(error.value)


def test_form_problem__the_fix_names_the_forms_sheet_not_an_instrument_file():
    from pipeline.ingest.adapters.forms import relocate
    from pipeline.model.instrument import check_instrument

    tables = _xlsform([["type", "name", "label"], ["select_one missing", "a", "A"]])
    message = relocate(check_instrument(tables), tables["places"])["message"].iloc[0]
    assert "choices.csv" not in message and "form.xlsx sheet choices" in message, message


_DICTIONARY_HEADER = ["Variable / Field Name", "Form Name", "Section Header", "Field Type",
                      "Field Label", "Choices, Calculations, OR Slider Labels", "Field Note"]


def test_redcap_dictionary_saved_with_semicolons__read_as_with_commas(tmp_path):
    dictionary = tmp_path / "dictionary.csv"
    dictionary.write_text(";".join(f'"{h}"' for h in _DICTIONARY_HEADER) + "\n"
                          "record_id;f;;text;Record;;\n"
                          'sex;f;;radio;Sex;"1, Male | 2, Female";\n', encoding="utf-8")
    instrument = read_instrument(dictionary)
    assert [(q.name, q.type) for q in instrument.answerable] == [("record_id", "text"),
                                                                 ("sex", "select_one")]


def test_redcap_dictionary_field_of_an_unknown_type__read_as_text_with_a_warning(tmp_path):
    dictionary = tmp_path / "dictionary.csv"
    dictionary.write_text(",".join(f'"{h}"' for h in _DICTIONARY_HEADER) + "\n"
                          "record_id,f,,text,Record,,\n"
                          "term,f,,bioportal,Diagnosis term,,\n", encoding="utf-8")
    instrument = read_instrument(dictionary)
    assert instrument.question("term").type == "text"
    assert any("'term'" in n["message"] and "bioportal" in n["message"]
               and "row 3" in n["message"] for n in instrument.notes)


def test_xlsform_or_other__the_specify_text_question_is_kept_as_pyxform_makes_it():
    tables = _xlsform([["type", "name", "label"], ["select_one c or_other", "colour", "Colour"],
                       ["select_multiple c or_other", "likes", "Likes"]],
                      [["list_name", "name", "label"], ["c", "red", "Red"]])
    instrument = _build(tables)
    assert [(q.name, q.type) for q in instrument.answerable] == [
        ("colour", "select_one"), ("colour_other", "text"),
        ("likes", "select_multiple"), ("likes_other", "text")]
    assert instrument.question("colour_other").relevant == "selected(${colour}, 'other')"
    assert [c.name for c in instrument.choices_for(instrument.question("likes"))] == \
        ["red", "other"]


def test_unreadable_survey_definition__the_fix_fits_the_kind_of_file(tmp_path):
    definition = tmp_path / "broken.qsf"
    definition.write_text("{not json", encoding="utf-8")
    with pytest.raises(PulsecheckError) as error:
        read_instrument(definition)
    assert error.value.code == "INST_002" and "Qualtrics survey definition as exported (.qsf)" \
        in error.value.fix
