"""Real exports and forms from public repositories, read as they come (tests/real_exports).

Each case folder holds an export, the instrument it is read with, a ``case.toml`` saying what
to expect and a ``SOURCE.md`` naming where the files come from. Every case must read whole
with platform detection: every data row kept, no ragged-row report on a well-formed file, no
question without its column, and the values equal to the raw file. The raw cells are read
here by an independent reader (the csv module, or pyreadstat directly), never by the
project's readers.
"""

from __future__ import annotations

import csv
import math
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from pipeline.ingest.readers import read_export, read_instrument, read_mapping

CORPUS = Path(__file__).resolve().parent / "real_exports"
CASES = sorted(p.parent for p in CORPUS.glob("*/*/case.toml"))
#: Cells each case must compare with the raw file (fewer only when the file holds fewer).
MIN_CELLS = 20


def _raw_table(path: Path, case: dict) -> tuple[list[str], list[list[str]]]:
    """Header names and data rows of the raw export, read without the project's readers."""
    if path.suffix == ".sav":
        import pyreadstat

        try:
            frame, _ = pyreadstat.read_sav(str(path))
        except OverflowError:  # a date pyreadstat cannot convert: see _stored_times
            frame = _stored_times(path)
        rows = [["" if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) else
                 (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                 for v in record] for record in frame.itertuples(index=False)]
        return list(frame.columns), rows
    text = path.read_bytes().decode(case.get("encoding", "utf-8-sig"))
    records = list(csv.reader(text.splitlines(keepends=True), delimiter=case.get("delimiter", ",")))
    names = [c.strip() for c in records[case.get("name_row", 1) - 1]]
    data = [r for r in records[case.get("header_rows", 1):] if any(c.strip() for c in r)]
    return names, data


def _stored_times(path: Path) -> pd.DataFrame:
    """A .sav file's values with its date, date-time and time variables turned from the
    stored seconds since 14 October 1582 by calendar-day arithmetic (a value beyond the
    year 9999 stays the number stored)."""
    import datetime as dt

    import pyreadstat

    frame, meta = pyreadstat.read_sav(str(path), disable_datetime_conversion=True)
    start = dt.date(1582, 10, 14).toordinal()

    def when(seconds, kind):
        if seconds is None or math.isnan(seconds):
            return None
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        clock = dt.time(int(hours), int(minutes), int(secs), round((secs % 1) * 1e6))
        if kind == "TIME":
            return str(clock)
        if start + int(days) > dt.date.max.toordinal():
            return seconds
        day = dt.date.fromordinal(start + int(days))
        return str(day) if kind == "DATE" else f"{day} {clock}"

    for name, spss_format in meta.original_variable_types.items():
        kind = next((k for k in ("DATETIME", "TIME", "DATE") if k in spss_format), None)
        if kind:
            frame[name] = [when(v, kind) for v in frame[name]]
    return frame


def _expected(question, instrument, raw_cells: dict[str, str], joiner: str) -> str | None:
    """What the canonical frame should hold for ``question``, from the raw cells, or None
    when the raw file gives no column for it."""
    choices = instrument.choices_for(question) if question.is_select else []
    if question.name in raw_cells:
        raw = raw_cells[question.name].strip()
        if not question.is_select:
            return raw_cells[question.name]
        if question.type == "select_one":
            found = [c.name for c in choices if raw in (c.code, c.name, c.label.strip())]
            return found[0] if found else raw
        parts = raw.replace(",", " ").split()
        ticked = [c.name for c in choices
                  if any(part.strip() in (c.code, c.name) for part in parts)]
        return " ".join(ticked)
    split = {c.name: raw_cells.get(f"{question.name}{joiner}{c.code}") for c in choices}
    if any(v is not None for v in split.values()):
        return " ".join(name for name, v in split.items() if (v or "").strip() == "1")
    return None


@pytest.mark.parametrize("case_dir", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_real_export__read_as_it_comes__every_row_and_value_kept(case_dir: Path):
    case = tomllib.loads((case_dir / "case.toml").read_text(encoding="utf-8"))
    assert (case_dir / "SOURCE.md").exists()
    instrument = read_instrument(case_dir / case["instrument"])
    mapping = read_mapping(case_dir / case["map"], instrument) if "map" in case else None
    export = read_export(case_dir / case["export"], instrument, mapping=mapping)
    if "platform" in case:
        assert export.platform == case["platform"]
    names, rows = _raw_table(case_dir / case["export"], case)
    assert len(export.frame) == len(rows)
    codes = set(export.issues["code"]) if len(export.issues) else set()
    assert "READ_008" not in codes
    assert "READ_007" not in codes, \
        export.issues[export.issues["code"] == "READ_007"]["message"].tolist()
    columns = case.get("columns", {})
    compared = 0
    for position, record in enumerate(rows):
        # A short row is padded; a long row's cells beyond the header have no name.
        raw = dict(zip(names, record + [""] * (len(names) - len(record)), strict=False))
        def cell(c, record=record, raw=raw):
            if isinstance(c, int):
                return record[c - 1] if c <= len(record) else ""
            return raw.get(c, "")

        raw.update({q: cell(c) for q, c in columns.items()})
        # An answer the platform splits over several columns, read as their values joined.
        for q, parts in case.get("joined_columns", {}).items():
            raw[q] = " ".join(v for v in (cell(c).strip() for c in parts) if v)
        # A choice read from its own column (ticked when the cell is not blank): stands for
        # the REDCap-style <question>___<code> split column the oracle reads.
        for q, by_choice in case.get("choice_columns", {}).items():
            codes = {c.name: c.code for c in instrument.choices_for(instrument.question(q))}
            for choice, c in by_choice.items():
                value = cell(c).strip()
                raw[f"{q}___{codes[choice]}"] = \
                    "1" if value and value not in case.get("unticked", ()) else ""
        for question in instrument.answerable:
            joiner = "___" if question.name in case.get("choice_columns", {}) else \
                case.get("split_joiner", "___")
            expected = _expected(question, instrument, raw, joiner)
            if expected is None or question.name not in export.frame:
                continue
            assert export.frame[question.name].iloc[position] == expected, \
                (position, question.name)
            compared += 1
    assert compared >= min(MIN_CELLS, len(rows) * len(instrument.answerable))
    if "response_ids" in case:
        assert export.frame["response_id"].tolist()[:len(case["response_ids"])] == \
            case["response_ids"]


FORMS = sorted(p.parent for p in CORPUS.glob("xlsform/*/form.toml"))


def _sheet(workbook: Path, wanted: str) -> list[dict[str, str]]:
    """A sheet's rows as dicts of text, read with calamine directly (no project reader)."""
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(workbook))
    names = {n.strip().lower(): n for n in book.sheet_names}
    if wanted not in names:
        return []
    rows = book.get_sheet_by_name(names[wanted]).to_python()
    header = [str(c).strip().lower().split(":")[0].replace(" ", "_") for c in rows[0]]
    def text(value) -> str:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))  # a choice name typed as a number
        return str(value).strip()

    return [{h: text(v) for h, v in zip(header, row, strict=True) if h} for row in rows[1:]]


@pytest.mark.parametrize("form_dir", FORMS, ids=[p.name for p in FORMS])
def test_real_xlsform__read_as_pyxform_accepts_it__every_choice_question_kept(form_dir: Path):
    case = tomllib.loads((form_dir / "form.toml").read_text(encoding="utf-8"))
    assert (form_dir / "SOURCE.md").exists()
    workbook = form_dir / case["form"]
    instrument = read_instrument(workbook)
    survey = _sheet(workbook, "survey")
    depth, expected = 0, {}
    for row in survey:
        words = row.get("type", "").split()
        if words[:2] in (["begin", "repeat"], ["begin_repeat"], ["begin", "loop"]):
            depth += 1
        elif words[:2] in (["end", "repeat"], ["end_repeat"], ["end", "loop"]):
            depth -= 1
        elif not depth and words and words[0] in ("select_one", "select_multiple"):
            expected[row["name"]] = words[1]
    kept = {q.name: q for q in instrument.answerable}
    for name, list_name in expected.items():
        assert name in kept, name
        sheet_names = list(dict.fromkeys(r["name"] for r in _sheet(workbook, "choices")
                                         if r.get("list_name") == list_name))
        assert [c.name for c in instrument.choices_for(kept[name])][:len(sheet_names)] == \
            sheet_names


# --- the classes of form and export met above, one at a time ----------------------------------
def _xlsform(survey_rows, choice_rows, settings=None):
    import pandas as pd

    from pipeline.ingest.adapters.forms import xlsform_tables

    survey = pd.DataFrame(survey_rows, columns=["type", "name", "label", "parameters"])
    choices = pd.DataFrame(choice_rows, columns=["list_name", "name", "label"])
    sheets = {"survey": survey, "choices": choices}
    if settings:
        sheets["settings"] = pd.DataFrame([settings])
    return xlsform_tables(sheets, source="form.xlsx")


def test_xlsform__range_calculate_geopoint_repeat__kept_or_left_out_with_one_warning_each():
    from pipeline.model.instrument import build_instrument, check_instrument

    tables = _xlsform(
        [("integer", "age", "Age", ""), ("range", "score", "Score", "start=0 end=10 step=1"),
         ("calculate", "twice", "", ""), ("geopoint", "where", "Where", ""),
         ("begin repeat", "visit", "Visits", ""), ("text", "visit_note", "Note", ""),
         ("end repeat", "", "", ""), ("select_one slope", "slope", "Slope", "")],
        [("slope", "1", "Flat"), ("slope", "mid-slope", "Mid slope"), ("slope", "2", "Steep")])
    assert check_instrument(tables).empty
    instrument = build_instrument(tables)
    assert [(q.name, q.type) for q in instrument.answerable] == [
        ("age", "integer"), ("score", "integer"), ("twice", "text"), ("where", "text"),
        ("slope", "select_one")]
    assert instrument.question("score").constraint == ". >= 0 and . <= 10"
    assert [c.name for c in instrument.choices_for(instrument.question("slope"))] == \
        ["1", "mid-slope", "2"]
    warned = [w["message"] for w in tables["warnings"]]
    assert len(warned) == 3  # calculate, geopoint, the repeat group (once)
    assert sum("visit" in m for m in warned) == 1 and all("form.xlsx" in m for m in warned)
    # With no text question the first question identifies the respondent.
    assert instrument.respondent_key == "age"


def test_redcap_dictionary__slider_calc_file_and_dated_text__kept_with_their_types():
    import io

    import pandas as pd

    from pipeline.ingest.adapters.forms import redcap_tables
    from pipeline.model.instrument import build_instrument, check_instrument

    dictionary = pd.read_csv(io.StringIO(
        'Variable / Field Name,Form Name,Section Header,Field Type,Field Label,'
        '"Choices, Calculations, OR Slider Labels",Field Note,'
        'Text Validation Type OR Show Slider Number,Text Validation Min,Text Validation Max\n'
        'record_id,f,,text,Record,,,,,\n'
        'mood,f,,slider,Mood,Low | | High,,number,,\n'
        'bmi,f,,calc,BMI,[weight]/([height]^2),,,,\n'
        'scan,f,,file,Scan,,,,,\n'
        'seen,f,,text,Seen on,,,date_mdy,,\n'
        'dose,f,,text,Dose,,,number_1dp,0.5,4\n'), dtype=str, keep_default_na=False)
    tables = redcap_tables(dictionary)
    assert check_instrument(tables).empty
    instrument = build_instrument(tables)
    assert [(q.name, q.type, q.constraint) for q in instrument.answerable] == [
        ("record_id", "text", ""), ("mood", "integer", ". >= 0 and . <= 100"),
        ("bmi", "decimal", ""), ("scan", "text", ""), ("seen", "date", ""),
        ("dose", "decimal", ". >= 0.5 and . <= 4")]


def test_map__roles_named_by_the_user__are_the_response_id_and_submission_time(tmp_path):
    import pandas as pd

    from pipeline.model.instrument import build_instrument

    export = tmp_path / "answers.csv"
    export.write_text("Ticket,When,age\nT-1,2016-01-02 10:00:00,31\nT-2,2016-01-03 11:00:00,45\n",
                      encoding="utf-8")
    instrument = build_instrument({
        "manifest": {"id": "m", "version": "1", "year": 2016, "keys": {"respondent": "age"}},
        "survey": pd.DataFrame({"type": ["integer"], "name": ["age"], "label": ["Age"]}),
        "choices": pd.DataFrame(columns=["list_name", "name", "label"])})
    rows = tmp_path / "map.csv"
    rows.write_text("export_column,question\nTicket,response_id\nWhen,submitted_at\n"
                    "Nowhere,age\n", encoding="utf-8")
    export_read = read_export(export, instrument, source="csv",
                              mapping=read_mapping(rows, instrument))
    assert export_read.frame["response_id"].tolist() == ["T-1", "T-2"]
    assert export_read.frame["submitted_at"].tolist()[0] == "2016-01-02 10:00:00"
    codes = export_read.issues["code"].tolist()
    assert "READ_006" not in codes and codes.count("READ_043") == 1


def test_qualtrics__other_text_without_a_choice_code__goes_to_the_follow_up_question(tmp_path):
    from pipeline.model.instrument import build_instrument

    instrument = build_instrument({
        "manifest": {"id": "m", "version": "1", "year": 2016, "keys": {"respondent": "name"}},
        "survey": pd.DataFrame({
            "type": ["text", "select_one kind", "text"], "name": ["name", "kind", "kind_other"],
            "label": ["Name", "Kind", "Other kind"],
            "relevant": ["", "", "${kind} = 'other'"]}),
        "choices": pd.DataFrame({"list_name": ["kind", "kind"], "name": ["club", "other"],
                                 "label": ["Club", "Other"], "code": ["1", "2"]})})
    export = tmp_path / "q.csv"
    export.write_text(
        'ResponseId,name,kind,kind_TEXT\nResponse ID,Name,Kind,Kind - Text\n'
        '"{""ImportId"":""_recordId""}","{""ImportId"":""QID1_TEXT""}",'
        '"{""ImportId"":""QID2""}","{""ImportId"":""QID2_TEXT""}"\n'
        'R_1,Ann,2,Book circle\nR_2,Bo,1,\n', encoding="utf-8")
    frame = read_export(export, instrument).frame
    assert frame[["kind", "kind_other"]].values.tolist() == [["other", "Book circle"],
                                                               ["club", ""]]


def test_googleforms__check_all_joined_with_semicolons__every_choice_kept(tmp_path):
    from pipeline.model.instrument import build_instrument

    instrument = build_instrument({
        "manifest": {"id": "m", "version": "1", "year": 2016, "keys": {"respondent": "name"}},
        "survey": pd.DataFrame({"type": ["text", "select_multiple sector"],
                                "name": ["name", "sector"],
                                "label": ["Your partnership", "Sectors taking part"]}),
        "choices": pd.DataFrame({"list_name": ["sector"] * 3,
                                 "name": ["health", "schools", "housing"],
                                 "label": ["Health, care", "Schools", "Housing"]})})
    export = tmp_path / "form.csv"
    export.write_text('Timestamp,Your partnership,Sectors taking part\n'
                      '2016/05/01 10:00:00 AM GMT+1,North,"Health, care;Housing"\n'
                      '2016/05/02 11:00:00 AM GMT+1,South,Schools\n', encoding="utf-8")
    exported = read_export(export, instrument)
    assert exported.frame["sector"].tolist() == ["health housing", "schools"]
    assert "READ_012" not in set(exported.issues["code"])


def test_xlsx__date_answers_stored_as_spreadsheet_dates__read_as_dates(tmp_path):
    import datetime as dt

    import xlsxwriter

    from pipeline.model.instrument import build_instrument

    instrument = build_instrument({
        "manifest": {"id": "m", "version": "1", "year": 2016, "keys": {"respondent": "name"}},
        "survey": pd.DataFrame({"type": ["text", "date"], "name": ["name", "founded"],
                                "label": ["Your partnership", "Date founded"]}),
        "choices": pd.DataFrame(columns=["list_name", "name", "label"])})
    export = tmp_path / "form.xlsx"
    book = xlsxwriter.Workbook(str(export))
    sheet, when = book.add_worksheet(), book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, ["ID", "Start time", "Completion time", "Your partnership",
                           "Date founded"])
    for row, (name, day) in enumerate([("North", dt.datetime(2011, 3, 4)),
                                       ("South", dt.datetime(2014, 12, 31))], start=1):
        sheet.write_row(row, 0, [row, "2016-05-01 10:00:00", "2016-05-01 10:05:00", name])
        sheet.write_datetime(row, 4, day, when)
    book.close()
    frame = read_export(export, instrument).frame
    assert frame["founded"].tolist() == ["2011-03-04", "2014-12-31"]


def test_instrument_import__real_qsf__writes_a_folder_that_reads_the_surveys_export(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli.main import cli

    source = CORPUS / "qsf" / "qualtrics_health" / "qualtrics_health.qsf"
    result = CliRunner().invoke(cli, ["instrument", "import", str(source),
                                      "--out", str(tmp_path / "health")])
    assert result.exit_code == 0, result.output
    folder = read_instrument(tmp_path / "health")
    direct = read_instrument(source)
    assert [(q.name, q.type, q.list_name) for q in folder.questions] == \
        [(q.name, q.type, q.list_name) for q in direct.questions]
    # An export of the survey in Qualtrics' current layout, with its codes as exported.
    export = tmp_path / "health.csv"
    export.write_text(
        "ResponseId,Finished,Q2,Q23,Q15\n"
        "Response ID,Finished,\"First of all, ?\",Gender:,(do 15?\n"
        '"{""ImportId"":""_recordId""}","{""ImportId"":""finished""}",'
        '"{""ImportId"":""QID2""}","{""ImportId"":""QID23""}","{""ImportId"":""QID15""}"\n'
        "R_a,1,1,2,none\nR_b,1,4,1,two a day\n", encoding="utf-8")
    frame = read_export(export, folder).frame
    assert frame[["Q2", "Q23", "Q15"]].values.tolist() == [["excellent", "female", "none"],
                                                            ["poor", "male", "two a day"]]


def test_question_without_column__warned__and_an_error_when_a_column_carries_its_label(tmp_path):
    from pipeline.model.instrument import build_instrument

    instrument = build_instrument({
        "manifest": {"id": "m", "version": "1", "year": 2016, "keys": {"respondent": "name"}},
        "survey": pd.DataFrame({"type": ["text", "integer", "integer"],
                                "name": ["name", "staff", "year"],
                                "label": ["Name", "Number of staff", "Year formed"]}),
        "choices": pd.DataFrame(columns=["list_name", "name", "label"])})
    export = tmp_path / "plain.csv"
    export.write_text("response_id,name,Q7 Number of staff\nr1,North,3\n", encoding="utf-8")
    issues = read_export(export, instrument, source="csv").issues.set_index("code")
    assert issues.loc["READ_044", "severity"] == "error"
    assert issues.loc["READ_044", "column"] == "Q7 Number of staff"
    assert issues.loc["READ_007", "severity"] == "warning"
    assert issues.loc["READ_007", "column"] == "year"


def test_plain_table_without_platform_header__read_by_its_question_names(tmp_path):
    from pipeline.model.instrument import build_instrument

    instrument = build_instrument({
        "manifest": {"id": "m", "version": "1", "year": 2016, "keys": {"respondent": "name"}},
        "survey": pd.DataFrame({"type": ["text", "integer"], "name": ["name", "staff"],
                                "label": ["Name", "Number of staff"]}),
        "choices": pd.DataFrame(columns=["list_name", "name", "label"])})
    export = tmp_path / "table.csv"
    export.write_text("name,staff\nNorth,3\nSouth,12\n", encoding="utf-8")
    exported = read_export(export, instrument)
    assert exported.platform == "csv"
    assert exported.frame[["response_id", "name", "staff"]].values.tolist() == [
        ["table-2", "North", "3"], ["table-3", "South", "12"]]


def test_surveymonkey__matrix_rows__each_read_as_its_own_question(tmp_path):
    from pipeline.model.instrument import build_instrument

    instrument = build_instrument({
        "manifest": {"id": "m", "version": "1", "year": 2016, "keys": {"respondent": "trust"}},
        "survey": pd.DataFrame({"type": ["select_one agree", "select_one agree"],
                                "name": ["trust", "goals"],
                                "label": ["Partners trust each other", "Goals are shared"]}),
        "choices": pd.DataFrame({"list_name": ["agree"] * 2, "name": ["yes", "no"],
                                 "label": ["Agree", "Disagree"]})})
    export = tmp_path / "monkey.csv"
    export.write_text(
        "Respondent ID,Collector ID,How much do you agree?,\n"
        ",,Partners trust each other,Goals are shared\n"
        "11,7,Agree,Disagree\n12,7,Disagree,\n", encoding="utf-8")
    frame = read_export(export, instrument).frame
    assert frame[["trust", "goals"]].values.tolist() == [["yes", "no"], ["no", ""]]


def test_xlsform_problem__located_at_the_workbook_sheet_and_row(tmp_path):
    import xlsxwriter

    from pipeline.errors import InstrumentError

    form = tmp_path / "form.xlsx"
    book = xlsxwriter.Workbook(str(form))
    survey = book.add_worksheet("survey")
    for row, values in enumerate([("type", "name", "label"), ("start", "start", ""),
                                  ("text", "name", "Name"),
                                  ("select_one missing_list", "kind", "Kind")]):
        survey.write_row(row, 0, values)
    book.add_worksheet("choices").write_row(0, 0, ("list_name", "name", "label"))
    book.close()
    with pytest.raises(InstrumentError) as error:
        read_instrument(form)
    problem = error.value.problems.iloc[0]
    assert (problem["file"], problem["row"]) == ("form.xlsx sheet survey", 4)
    assert problem["message"].startswith("[form.xlsx sheet survey row 4, column type]")


def test_redcap__label_headers_with_raw_values__checkboxes_and_status_read():
    case = CORPUS / "redcap_labels" / "longitudinal-multiform"
    instrument = read_instrument(case / "dictionary.csv")
    text = (case / "export.csv").read_text(encoding="utf-8")
    raw_values = (text.replace(",Checked", ",1").replace(",Unchecked", ",0")
                  .replace(",Female,", ",0,").replace(",Male,", ",1,")
                  .replace(",Complete\n", ",2\n").replace(",Complete,", ",2,"))
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "raw_values.csv"
        path.write_text(raw_values, encoding="utf-8")
        exported = read_export(path, instrument)
    assert exported.frame[["sex", "race", "finished"]].values.tolist() == [
        ["female", "white", "1"], ["", "asian", ""], ["male", "", "0"]]
    assert "READ_012" not in set(exported.issues["code"])


def test_redcap_dictionary_problem__located_at_the_dictionary_row(tmp_path):
    from pipeline.errors import InstrumentError

    dictionary = tmp_path / "project_dictionary.csv"
    dictionary.write_text(
        '"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
        '"Choices, Calculations, OR Slider Labels"\n'
        'record_id,f,,text,Record,\nage,f,,text,Age,\nsex,f,,radio,Sex,"1, Male | 1, Female"\n',
        encoding="utf-8")
    with pytest.raises(InstrumentError) as error:
        read_instrument(dictionary)
    problem = error.value.problems.iloc[0]
    assert (problem["file"], problem["row"]) == ("project_dictionary.csv", 4)


# --- classes met in the second collection of real exports --------------------------------------
def _instrument(survey: dict, choices: dict | None = None, key: str = ""):
    from pipeline.model.instrument import build_instrument

    survey_frame = pd.DataFrame(survey)
    return build_instrument({
        "manifest": {"id": "m", "version": "1", "year": 2016,
                     "keys": {"respondent": key or survey_frame["name"].iloc[0]}},
        "survey": survey_frame,
        "choices": pd.DataFrame(choices or {"list_name": [], "name": [], "label": []})})


def test_qualtrics__codeless_text_column_and_two_followups__text_goes_to_the_picked_one(tmp_path):
    instrument = _instrument(
        {"type": ["text", "select_one kind", "text", "text"],
         "name": ["name", "kind", "kind_2_TEXT", "kind_3_TEXT"],
         "label": ["Name", "Kind", "Other kind", "Why none"],
         "relevant": ["", "", "selected(${kind}, 'other')", "selected(${kind}, 'none')"]},
        {"list_name": ["kind"] * 3, "name": ["club", "other", "none"],
         "label": ["Club", "Other", "None of these"], "code": ["1", "5", "6"]})
    export = tmp_path / "q.csv"
    export.write_text(
        "ResponseID,ResponseSet,name,kind,kind_TEXT\nResponseID,ResponseSet,Name,Kind,Kind\n"
        "{'ImportId': 'responseId'},{'ImportId': 'responseSetId'},{'ImportId': 'QID9-TEXT'},"
        "{'ImportId': 'QID1'},{'ImportId': 'QID1-TEXT'}\n"
        "R_1,Default,Ann,5,Book circle\nR_2,Default,Bo,6,Not my thing\nR_3,Default,Cy,1,\n",
        encoding="utf-8")
    frame = read_export(export, instrument).frame
    assert frame[["kind", "kind_2_TEXT", "kind_3_TEXT"]].values.tolist() == [
        ["other", "Book circle", ""], ["none", "", "Not my thing"], ["club", "", ""]]


def _qsf_matrix(tags) -> dict:
    statements = {"1": {"Display": "Trust"}, "2": {"Display": "Goals"}}
    return {"SurveyEntry": {"SurveyName": "s", "LastModified": "2016-05-01 10:00:00"},
            "SurveyElements": [
                {"Element": "BL", "Payload": [{"Type": "Default", "ID": "BL_1",
                                               "Description": "B",
                                               "BlockElements": [{"Type": "Question",
                                                                  "QuestionID": "QID1"}]}]},
                {"Element": "SQ", "Payload": {
                    "QuestionID": "QID1", "DataExportTag": "Q3", "QuestionType": "Matrix",
                    "Selector": "Likert", "SubSelector": "SingleAnswer",
                    "QuestionText": "How much do you agree?", "Choices": statements,
                    "ChoiceDataExportTags": tags,
                    "Answers": {"1": {"Display": "Agree"}, "2": {"Display": "Disagree"}}}}]}


def test_qsf__matrix_statements_with_their_own_export_tags__named_by_the_tags():
    from pipeline.ingest.adapters.qsf import qsf_tables

    tagged = qsf_tables(_qsf_matrix({"1": "trust", "2": "goals"}))["survey"]
    plain = qsf_tables(_qsf_matrix(False))["survey"]
    assert [n for n in tagged["name"] if n.startswith("Q3")] == ["Q3_trust", "Q3_goals"]
    assert [n for n in plain["name"] if n.startswith("Q3")] == ["Q3_1", "Q3_2"]


def test_qualtrics_legacy__statement_tags_repeated_across_matrices__each_read_by_its_label(
        tmp_path):
    instrument = _instrument(
        {"type": ["text"] + ["select_one agree"] * 4,
         "name": ["name", "Q3_trust", "Q3_goals", "Q5_trust", "Q5_goals"],
         "label": ["Name", "Partners in the first year - Trust", "Partners in the first year "
                   "- Goals", "Partners today - Trust", "Partners today - Goals"]},
        {"list_name": ["agree"] * 2, "name": ["yes", "no"], "label": ["Agree", "Disagree"],
         "code": ["1", "2"]})
    export = tmp_path / "legacy.csv"
    export.write_text(
        "\ufeffV1,V2,V3,V4,V5,V6,V7,V8,V9,V10,name,trust,goals,trust,goals,\n"
        "ResponseID,ResponseSet,Name,ExternalDataReference,EmailAddress,IPAddress,Status,"
        "StartDate,EndDate,Finished,Name,Partners in the fi...-Trust,Partners in the fi...-Goals,"
        "Partners to...-Trust,Partners to...-Goals,\n"
        "R_1,Default,Anonymous,,,,0,2016-05-01 10:00:00,2016-05-01 10:05:00,1,Ann,1,2,2,1,\n",
        encoding="utf-8")
    exported = read_export(export, instrument)
    assert exported.frame[["Q3_trust", "Q3_goals", "Q5_trust", "Q5_goals"]].values.tolist() \
        == [["yes", "no", "no", "yes"]]
    assert "READ_006" not in set(exported.issues["code"])


def test_redcap__checkbox_codes_folded_into_column_names__ticks_read(tmp_path):
    instrument = _instrument(
        {"type": ["text", "select_multiple why"], "name": ["record_id", "why"],
         "label": ["Record", "Why"]},
        {"list_name": ["why"] * 3, "name": ["red", "unknown", "no_answer"],
         "label": ["Red", "Unknown", "Not given"], "code": ["Aa", "-99", "-98"]})
    export = tmp_path / "data.csv"
    export.write_text("record_id,why___aa,why____99,why____98,form_1_complete\n"
                      "1,1,0,1,2\n2,0,1,0,2\n", encoding="utf-8")
    exported = read_export(export, instrument)
    assert exported.frame["why"].tolist() == ["red no_answer", "unknown"]
    assert "READ_006" not in set(exported.issues["code"])


def test_redcap_dictionary__choice_field_without_choices__read_as_text_with_a_warning():
    import io

    from pipeline.ingest.adapters.forms import redcap_tables
    from pipeline.model.instrument import build_instrument, check_instrument

    dictionary = pd.read_csv(io.StringIO(
        "field_name,form_name,section_header,field_type,field_label,"
        "select_choices_or_calculations,field_note,text_validation_type_or_show_slider_number\n"
        "record_id,f,,text,Record,,,\n"
        "colour,f,,radio,Colour,\"1, Red | 2, Blue\",,\n"
        "heading,f,,radio,Meant as descriptive text,,,\n"), dtype=str, keep_default_na=False)
    tables = redcap_tables(dictionary, source="dictionary.csv")
    assert check_instrument(tables).empty
    instrument = build_instrument(tables)
    assert [(q.name, q.type) for q in instrument.answerable] == [
        ("record_id", "text"), ("colour", "select_one"), ("heading", "text")]
    assert [w["code"] for w in tables["warnings"]] == ["INST_021"]
    assert "heading" in tables["warnings"][0]["message"]


def test_spss__a_date_beyond_pythons_calendar__file_read_and_the_value_kept_as_stored():
    case = CORPUS / "spss" / "out-of-range-dates"
    exported = read_export(case / "datetime.sav", read_instrument(case / "instrument"))
    assert exported.frame[["date", "date.posix", "time"]].values.tolist() == [
        ["2014-09-22", "6306150067200", "12:11:10.090000"],
        ["2014-09-23", "2014-09-23 15:59:20", "15:59:20.010000"]]


def test_odk__a_geopoint_split_over_four_columns__read_as_one_answer(tmp_path):
    instrument = _instrument({"type": ["text", "text"], "name": ["name", "where"],
                              "label": ["Name", "Where"]})
    export = tmp_path / "briefcase.csv"
    export.write_text(
        "SubmissionDate,name,where-Latitude,where-Longitude,where-Altitude,where-Accuracy,KEY\n"
        '"Apr 26, 2018 8:58:20 AM",North,43.31,-1.98,71.8,15.4,uuid:1\n'
        '"Apr 27, 2018 9:00:00 AM",South,,,,,uuid:2\n', encoding="utf-8")
    exported = read_export(export, instrument)
    assert exported.platform == "odk"
    assert exported.frame["where"].tolist() == ["43.31 -1.98 71.8 15.4", ""]
    assert not {"READ_005", "READ_006", "READ_007"} & set(exported.issues["code"])


def test_qsf__matrix_of_multiple_answers__one_check_all_per_statement_and_its_typed_text():
    from pipeline.ingest.adapters.qsf import qsf_tables

    definition = _qsf_matrix({"1": "trust", "2": "goals"})
    payload = definition["SurveyElements"][1]["Payload"]
    payload["SubSelector"] = "MultipleAnswer"
    payload["Choices"]["2"]["TextEntry"] = "true"
    payload["RecodeValues"] = {"1": "10", "2": "11"}
    tables = qsf_tables(definition)
    survey = tables["survey"]
    rows = survey[survey["name"].str.startswith("Q3")]
    assert rows[["type", "name"]].values.tolist() == [
        ["select_multiple Q3", "Q3_trust"], ["select_multiple Q3", "Q3_goals"],
        ["text", "Q3_goals_TEXT"]]
    assert tables["choices"]["code"].tolist() == ["10", "11"]
    assert not tables["warnings"]


TEXT_CASES = [p for p in CASES if tomllib.loads((p / "case.toml").read_text(encoding="utf-8"))
              ["export"].endswith(".csv")]


@pytest.mark.parametrize("case_dir", TEXT_CASES,
                         ids=[f"{p.parent.name}/{p.name}" for p in TEXT_CASES])
def test_real_export__saved_as_utf16_tab_separated__reads_the_same(case_dir: Path, tmp_path):
    """Qualtrics also exports TSV in UTF-16; any CSV export re-saved that way (or by Excel's
    "Unicode text") must read to the same answers."""
    case = tomllib.loads((case_dir / "case.toml").read_text(encoding="utf-8"))
    instrument = read_instrument(case_dir / case["instrument"])
    mapping = read_mapping(case_dir / case["map"], instrument) if "map" in case else None
    source = case_dir / case["export"]
    text = source.read_bytes().decode(case.get("encoding", "utf-8-sig"))
    rows = list(csv.reader(text.splitlines(keepends=True),
                           delimiter=case.get("delimiter", ",")))
    resaved = tmp_path / source.name
    with resaved.open("w", encoding="utf-16", newline="") as handle:
        csv.writer(handle, delimiter="\t", lineterminator="\r\n").writerows(rows)
    original = read_export(source, instrument, mapping=mapping).frame
    again = read_export(resaved, instrument, mapping=mapping).frame
    pd.testing.assert_frame_equal(original, again)


@pytest.mark.slow
@pytest.mark.parametrize("case_dir", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_real_export__through_the_cli_with_detection__exit_0_or_1_never_a_traceback(
        case_dir: Path, tmp_path):
    from click.testing import CliRunner

    from pipeline.cli.main import cli

    case = tomllib.loads((case_dir / "case.toml").read_text(encoding="utf-8"))
    common = [str(case_dir / case["export"]), "--instrument", str(case_dir / case["instrument"])]
    runs = [["ingest", *common, "--out", str(tmp_path / "in")], ["validate", *common]]
    if "map" in case:  # validate takes no --map: the mapped export is read by ingest only
        runs = [[*runs[0], "--map", str(case_dir / case["map"])]]
    for args in runs:
        result = CliRunner().invoke(cli, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            result.exception
        assert result.exit_code in (0, 1), result.output[-600:]
