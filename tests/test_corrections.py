"""corrections.csv: answers corrected after reading, before validation; the export untouched."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import canonical, make_project, row, tiny_instrument
from pipeline.cli.main import cli
from pipeline.errors import PulsecheckError
from pipeline.ingest.readers import sha256_file
from pipeline.stages.corrections import apply_corrections

HEADER = "respondent,question,old_value,new_value,reason,who\n"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def corrections(*lines: str) -> pd.DataFrame:
    rows = [line.split(",") for line in lines]
    return pd.DataFrame(rows, columns=HEADER.strip().split(","), dtype=str)


def test_apply_corrections__matching_old_value__sets_new_value_and_lists_it():
    exported = canonical([row(response_id="R1", pid="P1", year="2106"),
                          row(response_id="R2", pid="P2")])
    frame = exported.frame
    before = frame.copy()
    result = apply_corrections(frame, corrections("R1,year,2106,2016,typo confirmed,ab"),
                               tiny_instrument())
    assert result.frame["year"].tolist() == ["2016", "2012"]
    pd.testing.assert_frame_equal(frame, before)  # the input is not mutated
    assert result.issues[["code", "severity", "column", "respondent"]].values.tolist() == [
        ["CORR_007", "info", "year", "R1"]]
    assert result.count == 1


def test_apply_corrections__partnership_id_of_one_response__is_accepted():
    frame = canonical([row(response_id="R1", pid="P1", stage="1")]).frame
    result = apply_corrections(frame, corrections("P1,stage,first,second,phone call,ab"),
                               tiny_instrument())
    assert result.frame["stage"].tolist() == ["second"]


@pytest.mark.parametrize(("line", "code", "column"), [
    ("R9,year,2106,2016,typo,ab", "CORR_002", "respondent"),
    ("R1,yaer,2106,2016,typo,ab", "CORR_003", "question"),
    ("R1,year,2016,2017,typo,ab", "CORR_004", "old_value"),
    ("R1,year,2106,2016,,", "CORR_008", "reason"),
])
def test_apply_corrections__bad_row__is_a_catalogue_problem_naming_file_row_column(
        line, code, column):
    frame = canonical([row(response_id="R1", pid="P1", year="2106")]).frame
    with pytest.raises(PulsecheckError) as raised:
        apply_corrections(frame, corrections(line), tiny_instrument())
    error = raised.value
    assert error.code == "CORR_006" and error.exit_code == 2
    problem = error.problems.iloc[0]
    assert (problem["code"], problem["file"], problem["row"], problem["column"]) == (
        code, "corrections.csv", 2, column)
    assert problem["fix"]


def test_apply_corrections__same_answer_corrected_twice__is_an_error():
    frame = canonical([row(response_id="R1", pid="P1", year="2106")]).frame
    with pytest.raises(PulsecheckError) as raised:
        apply_corrections(frame, corrections("R1,year,2106,2016,typo,ab",
                                             "P1,year,2106,2015,other,cd"), tiny_instrument())
    assert raised.value.problems["code"].tolist() == ["CORR_005"]
    assert raised.value.problems["row"].tolist() == [3]


def test_run__corrections_csv__applied_listed_recorded_and_export_untouched(tmp_path, tiny_rows):
    rows = [*tiny_rows[:3], row(response_id="R4", pid="P4", year="2106")]
    wave = make_project(tmp_path, rows)
    (wave / "corrections.csv").write_text(
        HEADER + "R4,year,2106,2016,confirmed by phone,A. Analyst\n", encoding="utf-8")
    export_sum = sha256_file(wave / "export.csv")
    out = tmp_path / "out"
    result = invoke("run", str(wave), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sha256_file(wave / "export.csv") == export_sum
    partnerships = pd.read_csv(out / "internal" / "partnerships.csv", dtype=str)
    assert partnerships.set_index("pid").loc["P4", "year"] == "2016"
    issues = pd.read_csv(out / "internal" / "issues.csv", dtype=str)
    assert "VAL_004" not in issues["code"].tolist()
    applied = issues[issues["code"].eq("CORR_007")]
    assert applied[["respondent", "column"]].values.tolist() == [["R4", "year"]]
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["corrections"]["count"] == 1
    assert manifest["corrections"]["sha256"] == sha256_file(wave / "corrections.csv")
    # No corrected value, reason or name in run.json or the published part.
    for text in [json.dumps(manifest)] + [p.read_text(encoding="utf-8", errors="replace")
                                          for p in (out / "published").rglob("*")
                                          if p.is_file()]:
        assert "A. Analyst" not in text and "confirmed by phone" not in text


def test_run__correction_with_stale_old_value__stops_with_exit_2_and_writes_nothing(
        tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    (wave / "corrections.csv").write_text(HEADER + "R1,year,1999,2000,typo,ab\n",
                                          encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("run", str(wave), "--out", str(out))
    assert result.exit_code == 2
    assert "CORR_006" in result.output and "CORR_004" in result.output
    assert "corrections.csv row 2" in result.output
    assert not out.exists()


def test_catalogue__fixes_point_to_corrections_not_to_editing_the_export():
    from pipeline.errors import CATALOGUE

    for code in ("VAL_001", "VAL_002", "VAL_004", "VAL_009"):
        assert "corrections.csv" in CATALOGUE[code].fix, code
        assert "Correct the answer" not in CATALOGUE[code].fix


def test_verify__replays_corrections_and_notices_a_changed_corrections_file(tmp_path, tiny_rows):
    rows = [*tiny_rows[:3], row(response_id="R4", pid="P4", year="2106")]
    wave = make_project(tmp_path, rows)
    corrections_file = wave / "corrections.csv"
    corrections_file.write_text(HEADER + "R4,year,2106,2016,confirmed,ab\n", encoding="utf-8")
    out = tmp_path / "reports" / "out" / "tiny"
    assert invoke("run", str(wave), "--out", str(out)).exit_code == 0
    checked = invoke("verify", str(out))
    assert checked.exit_code == 0, checked.output
    corrections_file.write_text(HEADER + "R4,year,2106,2015,confirmed,ab\n", encoding="utf-8")
    checked = invoke("verify", str(out))
    assert checked.exit_code == 2
    assert "VERIFY_004" in checked.output and "corrections.csv" in checked.output


def test_validate__wave_folder__applies_its_corrections(tmp_path, tiny_rows):
    rows = [*tiny_rows[:3], row(response_id="R4", pid="P4", year="2106")]
    wave = make_project(tmp_path, rows)
    before = invoke("validate", str(wave), "--out", str(tmp_path / "a"))
    assert "VAL_004" in before.output
    (wave / "corrections.csv").write_text(HEADER + "R4,year,2106,2016,confirmed,ab\n",
                                          encoding="utf-8")
    after = invoke("validate", str(wave), "--out", str(tmp_path / "b"))
    assert after.exit_code == 0, after.output
    issues = pd.read_csv(tmp_path / "b" / "issues.csv", dtype=str)
    assert "VAL_004" not in issues["code"].tolist()
    assert issues["code"].eq("CORR_007").sum() == 1
