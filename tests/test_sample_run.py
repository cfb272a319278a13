"""The committed sample wave, run end to end as `make report` does."""

from __future__ import annotations

import csv
import json
import re
import zipfile

import pandas as pd
import pytest

from conftest import SAMPLE_WAVE, sample_personal_values


@pytest.fixture
def run_dir(sample_run_dir):
    return sample_run_dir


@pytest.mark.slow
def test_sample_run__flow__reports_260_in_and_237_analysed(run_dir):
    flow = pd.read_csv(run_dir / "internal" / "flow.csv")
    assert flow.iloc[0]["n_in"] == 260
    assert flow.iloc[-1]["n_out"] == 237
    assert flow["n_removed"].sum() == 260 - 237
    removed = flow[flow["n_removed"] > 0]
    assert removed["reason"].str.len().gt(10).all()


@pytest.mark.slow
def test_sample_run__every_raw_row__ends_in_exactly_one_place(run_dir):
    with open(SAMPLE_WAVE / "pulse_check_2016_qualtrics.csv", encoding="utf-8-sig") as f:
        raw_ids = [r["ResponseId"] for r in list(csv.DictReader(f))[2:]]
    dispositions = pd.read_csv(run_dir / "internal" / "dispositions.csv")
    assert sorted(dispositions["response_id"]) == sorted(raw_ids)
    counts = dispositions["disposition"].value_counts().to_dict()
    assert counts == {"analysed": 237, "excluded": 23}
    partnerships = pd.read_csv(run_dir / "internal" / "partnerships.csv")
    analysed = dispositions.loc[dispositions["disposition"] == "analysed", "response_id"]
    assert sorted(partnerships["response_id"]) == sorted(analysed)
    assert not partnerships["partnership_id"].duplicated().any()


@pytest.mark.slow
def test_sample_run__phases__clear_majority_earlier_and_middle_above_later(run_dir):
    phases = pd.read_csv(run_dir / "internal" / "partnerships.csv")["phase_group"].value_counts()
    classified = phases[["Earlier", "Middle", "Later"]].sum()
    assert phases["Earlier"] > classified / 2
    assert phases["Middle"] > phases["Later"] > 0


@pytest.mark.slow
def test_sample_run__issues__name_file_row_column_rule_and_fix(run_dir):
    issues = pd.read_csv(run_dir / "internal" / "issues.csv")
    cells = issues[issues["severity"] == "warning"]
    assert len(cells) >= 4
    assert cells["file"].eq("pulse_check_2016_qualtrics.csv").all()
    assert cells["row"].gt(3).all() and cells["column"].notna().all()
    assert cells["rule"].str.len().gt(0).all() and cells["fix"].str.len().gt(0).all()


@pytest.mark.slow
def test_sample_run__no_personal_value_from_the_raw_export__reaches_any_output(run_dir):
    values = sample_personal_values()
    assert len(values) > 500
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".xlsx" for p in files)
    for path in files:
        text = _text_of(path)
        # Whole words only: a first name such as "Brin" may begin an ordinary word.
        leaked = [v for v in values
                  if v in text and re.search(rf"(?<!\w){re.escape(v)}(?!\w)", text)]
        assert not leaked, f"{path.name} contains {leaked[:3]}"


def _text_of(path) -> str:
    """A file's text; for an XLSX, the text of every XML part inside it."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as book:
            return "\n".join(book.read(name).decode("utf-8") for name in book.namelist())
    if path.suffix in (".sav", ".dta"):
        import pyreadstat

        read = pyreadstat.read_sav if path.suffix == ".sav" else pyreadstat.read_dta
        frame, meta = read(str(path))
        return "\n".join([frame.astype(str).to_csv(), str(meta.column_names_to_labels),
                          str(meta.variable_value_labels), str(meta.file_label)])
    if path.suffix == ".parquet":
        import pandas as pd

        frame = pd.read_parquet(path)
        return "\n".join([frame.astype(str).to_csv(), " ".join(map(str, frame.columns))])
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(path).pages)
    return path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_sample_run__run_json__records_the_raw_checksum_from_the_manifest(run_dir):
    manifest = json.loads((run_dir / "run.json").read_text())
    recorded = (SAMPLE_WAVE / "SHA256SUMS").read_text().split()[0]
    assert manifest["inputs"][0]["sha256"] == recorded
    assert manifest["counts"]["analysed"] == 237
