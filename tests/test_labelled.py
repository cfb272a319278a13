"""Labelled exports for SPSS, Stata and R: read back with pyreadstat, labels checked against
the instrument's own CSV text (read here with the csv module, not through pipeline code)."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pyreadstat
import pytest

from conftest import INSTRUMENT_2016, TINY_CHOICES, TINY_SURVEY, tiny_instrument
from pipeline.report.labelled import legal_name, write_labelled

LEGAL = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,27}")


def _tiny_partnerships() -> pd.DataFrame:
    return pd.DataFrame({
        "pid": ["P1", "P2", "P3"],
        "response_id": ["R1", "R2", "R3"],
        "phase_group": ["Early", "Late", "unclassified"],
        "screen": ["yes", "yes", "no"],
        "year": pd.array([2012, None, 2001], dtype="Int64"),
        "staff": [2.5, None, 1.0],
        "barriers/money": pd.array([1, 0, 0], dtype="Int8"),
        "barriers/data": pd.array([1, 1, 0], dtype="Int8"),
        "barriers/other": pd.array([0, 0, 0], dtype="Int8"),
        "barriers/none": pd.array([0, 0, 1], dtype="Int8"),
        "barriers_other": ["", "Weather", ""],
        "stage": ["first", "third", "unsure"],
        "source_file": ["export.csv"] * 3,
        "source_row": [2, 3, 4],
    })


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_labelled__sav_read_back__has_question_text_and_choice_labels(tmp_path):
    written = write_labelled(tmp_path, _tiny_partnerships(), tiny_instrument())
    assert written == ["partnerships.sav", "partnerships.dta", "codebook.csv"]
    frame, meta = pyreadstat.read_sav(str(tmp_path / "partnerships.sav"))
    labels = meta.column_names_to_labels
    survey = {r["name"]: r["label"] for r in _rows(TINY_SURVEY)}
    choices = _rows(TINY_CHOICES)
    assert labels["year"] == survey["year"]
    assert labels["barriers_other"] == survey["barriers_other"]
    assert labels["barriers__money"] == f"{survey['barriers']}: Lack of money"
    # Single choices keep the instrument's numeric codes, labelled with the choice text.
    assert meta.variable_value_labels["stage"] == {
        float(r["code"]): r["label"] for r in choices if r["list_name"] == "stage"}
    assert frame["stage"].tolist() == [1.0, 3.0, 4.0]
    assert meta.variable_value_labels["barriers__none"] == {0.0: "not selected",
                                                            1.0: "selected"}
    assert meta.variable_value_labels["phase_group"] == {1.0: "Early", 2.0: "Late",
                                                         3.0: "unclassified"}
    assert frame["year"].isna().tolist() == [False, True, False]
    assert frame["barriers_other"].tolist() == ["", "Weather", ""]


def test_labelled__dta_read_back__has_the_same_variables_and_labels(tmp_path):
    write_labelled(tmp_path, _tiny_partnerships(), tiny_instrument())
    _sav, sav_meta = pyreadstat.read_sav(str(tmp_path / "partnerships.sav"))
    dta, dta_meta = pyreadstat.read_dta(str(tmp_path / "partnerships.dta"))
    assert dta_meta.column_names == sav_meta.column_names
    assert dta_meta.column_names_to_labels == sav_meta.column_names_to_labels
    assert dta_meta.variable_value_labels == sav_meta.variable_value_labels
    assert dta["staff"].tolist()[0] == pytest.approx(2.5)


def test_labelled__codebook__lists_every_column_with_its_original_name(tmp_path):
    write_labelled(tmp_path, _tiny_partnerships(), tiny_instrument())
    book = pd.read_csv(tmp_path / "codebook.csv", dtype=str, keep_default_na=False)
    assert book["source"].tolist() == list(_tiny_partnerships().columns)
    assert book.set_index("name").loc["year", ["type", "base", "missing"]].tolist() == \
        ["numeric", "2", "1"]
    assert book.set_index("name").loc["screen", "values"] == "1=Yes; 2=No"


def test_labelled__codebook__labels_the_values_partnerships_csv_holds(tmp_path):
    # partnerships.csv holds choice names ("yes", "third"), the labelled files their codes:
    # csv_values lets the CSV be labelled from the codebook alone.
    write_labelled(tmp_path, _tiny_partnerships(), tiny_instrument())
    book = pd.read_csv(tmp_path / "codebook.csv", dtype=str, keep_default_na=False)
    values = book.set_index("source")["csv_values"]
    stages = {r["name"]: r["label"] for r in _rows(TINY_CHOICES) if r["list_name"] == "stage"}
    assert values["stage"] == "; ".join(f"{k}={v}" for k, v in stages.items())
    assert values["screen"] == "yes=Yes; no=No"
    assert values["barriers/money"] == "0=not selected; 1=selected"
    assert values["phase_group"] == "Early=Early; Late=Late; unclassified=unclassified"
    assert values["year"] == "" and values["barriers_other"] == ""


def test_labelled__file_headers__are_dated_by_the_instrument_year_not_the_clock(tmp_path):
    # Reruns must give the same bytes; ReadStat would stamp the time of writing.
    write_labelled(tmp_path, _tiny_partnerships(), tiny_instrument())
    data = (tmp_path / "partnerships.sav").read_bytes()
    assert data[92:109] == b"01 Jan 1600:00:00"
    assert b"<timestamp>\x1101 Jan 2016 00:00</timestamp>" in \
        (tmp_path / "partnerships.dta").read_bytes()


@pytest.mark.parametrize("column, expected", [
    ("financing_sources/federal", "financing_sources__federal"),
    ("year_formed", "year_formed"),
    ("2nd question", "v2nd_question"),
    ("with", "with_"),
])
def test_legal_name__short_columns__follow_the_documented_rule(column, expected):
    assert legal_name(column) == expected


def test_legal_name__long_check_all_columns__stay_legal_and_distinct():
    columns = [f"backbone_functions/{c}" for c in
               ("vision_strategy", "aligned_activities", "shared_measurement", "vision_x")]
    names = [legal_name(c) for c in columns]
    assert all(LEGAL.fullmatch(n) for n in names), names
    assert len(set(names)) == len(names)


@pytest.mark.slow
def test_sample_run__partnerships_sav__every_variable_and_value_label(sample_run_dir):
    frame, meta = pyreadstat.read_sav(str(sample_run_dir / "internal" / "partnerships.sav"))
    columns = pd.read_csv(sample_run_dir / "internal" / "partnerships.csv",
                          nrows=0).columns.tolist()
    assert len(meta.column_names) == len(columns)
    assert all(LEGAL.fullmatch(n) for n in meta.column_names)
    assert not any("/" in n for n in meta.column_names)
    survey = {r["name"]: r for r in _rows((INSTRUMENT_2016 / "survey.csv").read_text(
        encoding="utf-8-sig"))}
    choices = _rows((INSTRUMENT_2016 / "choices.csv").read_text(encoding="utf-8-sig"))
    labels = meta.column_names_to_labels
    unlabelled = [n for n in meta.column_names if not labels.get(n)]
    assert unlabelled == []
    for column, name in zip(columns, meta.column_names, strict=True):
        question = survey.get(column.split("/")[0])
        if question is None:
            continue
        assert labels[name].startswith(question["label"]), column
        kind = question["type"].split()
        if kind[0] == "select_one":
            expected = {r["label"] for r in choices if r["list_name"] == kind[1]}
            assert set(meta.variable_value_labels[name].values()) == expected, column
        elif kind[0] == "select_multiple":
            assert set(meta.variable_value_labels[name]) == {0.0, 1.0}, column
    assert len(frame) == len(pd.read_csv(sample_run_dir / "internal" / "partnerships.csv"))
