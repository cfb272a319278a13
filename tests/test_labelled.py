"""Labelled exports for SPSS, Stata and R: read back with pyreadstat, labels checked against
the instrument's own CSV text (read here with the csv module, not through pipeline code)."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess

import pandas as pd
import pyreadstat
import pytest

from conftest import INSTRUMENT_2016, TINY_CHOICES, TINY_SURVEY, tiny_instrument
from pipeline.report import optional
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
    assert written == ["partnerships.sav", "partnerships.dta", "partnerships.parquet",
                       "codebook.csv", "codebook.html"]
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


# -- user-missing answers, the HTML codebook, Parquet ---------------------------------------

#: The tiny choices with "Not sure" marked as an answer that carries no information.
MISSING_CHOICES = "\n".join(
    line + (",missing" if number == 0 else ",yes" if line.startswith("stage,unsure,") else ",")
    for number, line in enumerate(TINY_CHOICES.strip().splitlines())) + "\n"


def _with_missing(tmp_path):
    instrument = tiny_instrument(choices=MISSING_CHOICES)
    write_labelled(tmp_path, _tiny_partnerships(), instrument)
    return instrument


def test_labelled__missing_choice__is_user_missing_in_the_sav(tmp_path):
    _with_missing(tmp_path)
    frame, meta = pyreadstat.read_sav(str(tmp_path / "partnerships.sav"), user_missing=True)
    assert meta.missing_ranges == {"stage": [{"lo": 4.0, "hi": 4.0}]}
    assert frame["stage"].tolist() == [1.0, 3.0, 4.0]  # the code is kept
    assert meta.variable_value_labels["stage"][4.0] == "Not sure"
    plain, _ = pyreadstat.read_sav(str(tmp_path / "partnerships.sav"))
    assert plain["stage"].isna().tolist() == [False, False, True]


def test_labelled__missing_choice__is_tagged_missing_in_the_dta(tmp_path):
    _with_missing(tmp_path)
    frame, meta = pyreadstat.read_dta(str(tmp_path / "partnerships.dta"), user_missing=True)
    assert meta.missing_user_values == {"stage": ["a"]}
    assert frame["stage"].tolist() == [1.0, 3.0, "a"]
    assert meta.variable_value_labels["stage"] == {1: "First stage", 2: "Second stage",
                                                   3: "Third stage", "a": "Not sure"}


def test_labelled__no_missing_column__declares_nothing(tmp_path):
    write_labelled(tmp_path, _tiny_partnerships(), tiny_instrument())
    _, meta = pyreadstat.read_sav(str(tmp_path / "partnerships.sav"), user_missing=True)
    assert meta.missing_ranges == {}


def test_labelled__codebook__counts_user_missing_outside_the_base(tmp_path):
    _with_missing(tmp_path)
    book = pd.read_csv(tmp_path / "codebook.csv", dtype=str, keep_default_na=False)
    stage = book.set_index("name").loc["stage"]
    assert (stage["user_missing"], stage["base"], stage["missing"]) == ("4=Not sure", "2", "1")
    assert list(book.columns) == ["name", "source", "label", "type", "values",
                                  "user_missing", "base", "missing", "csv_values"]


def test_labelled__codebook_html__one_row_per_variable_with_escaped_text(tmp_path):
    partnerships = _tiny_partnerships()
    partnerships["barriers_other"] = ["", "<script>x</script>", ""]
    write_labelled(tmp_path, partnerships, tiny_instrument(choices=MISSING_CHOICES))
    page = (tmp_path / "codebook.html").read_text(encoding="utf-8")
    book = pd.read_csv(tmp_path / "codebook.csv", dtype=str, keep_default_na=False)
    assert page.count("<tr>") == len(book) + 1  # the header row too
    for header in ("name", "label", "type", "values", "base", "missing"):
        assert f"<th>{header}</th>" in page
    assert "<td>Year formed</td>" in page and "4=Not sure" in page
    assert "<script>" not in page


def test_labelled__parquet__labelled_variables_are_categoricals_in_code_order(tmp_path):
    _with_missing(tmp_path)
    frame = pd.read_parquet(tmp_path / "partnerships.parquet")
    stage = frame["stage"]
    assert isinstance(stage.dtype, pd.CategoricalDtype)
    assert list(stage.cat.categories) == ["First stage", "Second stage", "Third stage",
                                          "Not sure"]
    assert stage.tolist() == ["First stage", "Third stage", "Not sure"]
    assert frame["barriers__money"].tolist() == ["selected", "not selected", "not selected"]
    assert frame["year"].tolist()[0] == 2012


def test_labelled__without_pyarrow__parquet_left_out_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(optional, "parquet_problem",
                        lambda: ("pyarrow is not installed", "Install it."))
    skipped: list = []
    written = write_labelled(tmp_path, _tiny_partnerships(), tiny_instrument(),
                             skipped=skipped)
    assert "partnerships.parquet" not in written
    assert not (tmp_path / "partnerships.parquet").exists()
    assert [item.code for item in skipped] == ["RENDER_009"]
    assert "pyarrow is not installed" in skipped[0].message


def test_instrument__missing_flag_not_yes_or_no__is_inst_017():
    from conftest import tables_from_text
    from pipeline.model.instrument import check_instrument

    bad = MISSING_CHOICES.replace("unsure,Not sure,4,,yes", "unsure,Not sure,4,,maybe")
    problems = check_instrument(tables_from_text(choices=bad))
    assert problems["code"].tolist() == ["INST_017"]
    assert problems["column"].tolist() == ["missing"]


R_CHECK = """
library(haven)
p <- read_sav("{folder}/partnerships.sav", user_na = TRUE)
stopifnot(identical(attr(p$year, "label"), "Year formed"))
stopifnot(identical(attr(p$barriers__money, "label"), "Barriers: Lack of money"))
stopifnot(identical(as.numeric(attr(p$stage, "na_values")), 4))
stopifnot(identical(names(attr(p$stage, "labels")),
                    c("First stage", "Second stage", "Third stage", "Not sure")))
stopifnot(identical(as.character(as_factor(p$phase_group)), c("Early", "Late", "unclassified")))
d <- read_dta("{folder}/partnerships.dta")
stopifnot(identical(attr(d$year, "label"), "Year formed"))
stopifnot(identical(is_tagged_na(d$stage, "a"), c(FALSE, FALSE, TRUE)))
stopifnot(identical(names(attr(d$stage, "labels")),
                    c("First stage", "Second stage", "Third stage", "Not sure")))
cat("ok\n")
"""


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_labelled__read_back_with_r_haven__labels_and_missing_codes(tmp_path):
    _with_missing(tmp_path)
    done = subprocess.run(["Rscript", "-e", R_CHECK.format(folder=tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    if "there is no package called" in done.stderr:
        pytest.skip("R package haven is not installed")
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_labelled__parquet__text_is_stored_plainly_for_byte_scans(tmp_path):
    # The personal-data sweeps scan every output's bytes; a compressed file would hide text.
    partnerships = _tiny_partnerships()
    # Repetitive text, which compression would fold; neither the smallest nor the largest
    # value, which the file's statistics would keep plainly anyway.
    marker = "Planted marker, " * 8
    partnerships["barriers_other"] = ["A", marker, "zzz"]
    write_labelled(tmp_path, partnerships, tiny_instrument())
    assert marker.encode() in (tmp_path / "partnerships.parquet").read_bytes()
