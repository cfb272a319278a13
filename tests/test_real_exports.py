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
import tomllib
from pathlib import Path

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

        frame, _ = pyreadstat.read_sav(str(path))
        rows = [["" if v is None or v != v else
                 (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                 for v in record] for record in frame.itertuples(index=False)]
        return list(frame.columns), rows
    text = path.read_bytes().decode(case.get("encoding", "utf-8-sig"))
    records = list(csv.reader(text.splitlines(keepends=True), delimiter=case.get("delimiter", ",")))
    names = [c.strip() for c in records[case.get("name_row", 1) - 1]]
    data = [r for r in records[case.get("header_rows", 1):] if any(c.strip() for c in r)]
    return names, data


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
        ticked = [c.name for c in choices
                  if any(part.strip() in (c.code, c.name) for part in raw.replace(",", " ").split())]
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
    assert "READ_007" not in codes, export.issues[export.issues["code"] == "READ_007"]["message"].tolist()
    columns = case.get("columns", {})
    compared = 0
    for position, record in enumerate(rows):
        raw = dict(zip(names, record + [""] * (len(names) - len(record))))
        cell = (lambda c: (record[c - 1] if c <= len(record) else "")
                if isinstance(c, int) else raw.get(c, ""))
        raw.update({q: cell(c) for q, c in columns.items()})
        # A choice read from its own column (ticked when the cell is not blank): stands for
        # the REDCap-style <question>___<code> split column the oracle reads.
        for q, by_choice in case.get("choice_columns", {}).items():
            codes = {c.name: c.code for c in instrument.choices_for(instrument.question(q))}
            for choice, c in by_choice.items():
                raw[f"{q}___{codes[choice]}"] = "1" if cell(c).strip() else ""
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
