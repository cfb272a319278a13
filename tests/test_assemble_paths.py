"""The column-at-a-time assembly gives exactly what the row-by-row reading gives (issue 9).

Every platform fixture, the sample waves and damaged copies of them are read both ways; the
canonical frame, the issues (codes, rows, columns, values, messages, order) and the rows
answered with nothing ticked must be identical.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import pipeline.ingest.adapters.arrays as arrays_module
import pipeline.ingest.adapters.assemble as assemble_module
from fixtures.exports import WRITERS
from pipeline.errors import PulsecheckError
from pipeline.ingest.readers import read_export
from pipeline.ingest.wave_folder import load_wave

ROOT = Path(__file__).resolve().parents[1]


def both_ways(monkeypatch, read):
    """``read()`` with the column reading, then with the row reading forced."""
    by_column = read()
    with monkeypatch.context() as patch:
        patch.setattr(assemble_module, "_assemble_by_column", assemble_module._assemble_by_row)
        by_row = read()
    return by_column, by_row


def assert_same(by_column, by_row) -> None:
    pd.testing.assert_frame_equal(by_column.frame, by_row.frame)
    pd.testing.assert_frame_equal(by_column.issues, by_row.issues)
    assert by_column.none_selected == by_row.none_selected


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_assemble__every_platform_fixture__column_and_row_readings_agree(fmt, mini, tmp_path,
                                                                        monkeypatch):
    path = WRITERS[fmt](tmp_path)
    assert_same(*both_ways(monkeypatch, lambda: read_export(path, mini)))


@pytest.mark.parametrize("year", ["2014", "2016", "2018", "2020"])
def test_assemble__sample_waves__column_and_row_readings_agree(year, monkeypatch):
    by_column, by_row = both_ways(
        monkeypatch, lambda: load_wave(ROOT / "raw" / "pulse_check" / year).exports)
    assert len(by_column) == len(by_row) > 0
    for one, other in zip(by_column, by_row, strict=True):
        assert_same(one, other)


@pytest.mark.parametrize("seed", range(6))
def test_assemble__damaged_cells__column_and_row_readings_agree(seed, tmp_path, monkeypatch):
    # Unknown codes, labels, stray text and blanks scattered over the sample's answer cells.
    loaded = load_wave(ROOT / "raw" / "pulse_check" / "2016")
    wave, instrument, platform = loaded.wave, loaded.instrument, loaded.platform
    versions = loaded.choice_versions
    lines = wave.files[0].read_text(encoding="utf-8-sig").splitlines()
    chosen = random.Random(seed)
    junk = ["99", "1,99", "x y", " 2 ", "", "N/A", "1,,3", "Other: a farm", "0", "1;2"]
    damaged = lines[:3]
    for line in lines[3:60]:
        cells = line.split('","')
        for _ in range(4):
            at = chosen.randrange(17, len(cells) - 1)
            cells[at] = chosen.choice(junk)
        damaged.append('","'.join(cells))
    path = tmp_path / "export.csv"
    path.write_text("\n".join(damaged) + "\n", encoding="utf-8")

    def read():
        try:
            return read_export(path, instrument, platform, choice_versions=versions,
                               root=wave.root)
        except PulsecheckError as error:
            return error.code

    by_column, by_row = both_ways(monkeypatch, read)
    if isinstance(by_column, str):
        assert by_column == by_row
    else:
        assert_same(by_column, by_row)
        assert len(by_column.issues)


# Cells chosen to hit every branch: blanks, padding, missing codes in other cases, values
# whose case folding is longer than themselves ("ß" folds to "ss"), unknown codes.
ROLE_CELLS = ["", " ", "R1", " R2 ", "-99", " -99", "N/A", "n/a", "ß", "SS", "1", "True",
              " true ", "TRUE", "0", "yes", "İ"]
VERSION_CELLS = ["", " ", "1", "2", " 2 ", "10"]
ANSWER_CELLS = ["", "1", "2", " 3 ", "early", " Late ", "x", "-99", "N/A", "1,2"]
TICK_CELLS = ["", "1", "0", " 1 ", "-99", "yes", "n/a"]
OTHER_CELLS = ["", " ", "a farm", "-99"]
COLUMNS = [("ResponseId", assemble_module.Target(assemble_module.ROLE, "response_id")),
           ("Finished", assemble_module.Target(assemble_module.ROLE, "finished")),
           ("Channel", assemble_module.Target(assemble_module.ROLE, "channel")),
           ("Version", assemble_module.Target(assemble_module.VERSION)),
           ("Stage", assemble_module.Target(assemble_module.ANSWER, "stage")),
           ("Money", assemble_module.Target(assemble_module.CHOICE, "barriers", "money")),
           ("Trust", assemble_module.Target(assemble_module.CHOICE, "barriers", "trust")),
           ("Other", assemble_module.Target(assemble_module.OTHER, "barriers", "other")),
           ("Year", assemble_module.Target(assemble_module.ANSWER, "year"))]
CELLS = [ROLE_CELLS, ROLE_CELLS, ROLE_CELLS, VERSION_CELLS, ANSWER_CELLS, TICK_CELLS,
         TICK_CELLS, OTHER_CELLS, ANSWER_CELLS]
row_cells = st.tuples(*(st.sampled_from(cells) for cells in CELLS))


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row_cells, max_size=12),
       missing=st.sampled_from([(), ("-99",), ("-99", "N/A"), ("ss",)]),
       finished_true=st.sampled_from([("1",), ("1", "True"), ("ss", "i̇")]))
# The same cells in a version that has the choice and in one that has not.
@example(rows=[("R1", "1", "", "2", "1", "1", "1", "", "")] * 2
         + [("R2", "1", "", "1", "1", "1", "1", "", "")] * 2,
         missing=(), finished_true=("1",))
def test_assemble__every_cell_kind__column_and_row_readings_agree(rows, missing, finished_true,
                                                                  mini, monkeypatch):
    table = assemble_module.Table("export.csv", tuple(name for name, _ in COLUMNS),
                                  tuple(rows), tuple(range(2, len(rows) + 2)))
    conventions = assemble_module.Conventions(missing=missing, finished_true=finished_true)

    def read():
        return assemble_module.assemble(table, [target for _, target in COLUMNS], mini,
                                        conventions, choice_versions={("bar", "trust"): "2"})

    by_column, by_row = both_ways(monkeypatch, read)
    pd.testing.assert_frame_equal(by_column.frame, by_row.frame)
    assert by_column.issues == by_row.issues
    assert by_column.none_selected == by_row.none_selected


@given(values=st.lists(st.sampled_from(ROLE_CELLS) | st.text(max_size=4), max_size=30),
       members=st.sets(st.sampled_from(ROLE_CELLS) | st.text(max_size=3), max_size=3))
def test_assemble__folded_in__is_each_values_case_folding_looked_up(values, members):
    members = {member.casefold() for member in members}
    found = arrays_module.folded_in(arrays_module.as_objects(values), members)
    assert found.tolist() == [value.casefold() in members for value in values]


def test_assemble__case_folding__never_shortens_a_character():
    # _folded_in skips values longer than every member on the strength of this.
    assert all(len(chr(point).casefold()) >= 1 for point in range(0x110000))


@given(columns=st.lists(st.lists(st.integers(0, 3), min_size=6, max_size=6), min_size=1,
                        max_size=3))
def test_assemble__combination_codes__number_combinations_in_order_of_appearance(columns):
    arrays = [arrays_module.as_objects([str(v) for v in column]) for column in columns]
    codes, first = arrays_module.combination_codes([arrays_module.factorize(a)
                                                       for a in arrays])
    seen: dict[tuple, int] = {}
    expected = [seen.setdefault(combination, len(seen))
                for combination in zip(*columns, strict=True)]
    assert codes.tolist() == expected
    assert first.tolist() == [expected.index(code) for code in range(len(seen))]
