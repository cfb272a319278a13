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

import pipeline.adapters.assemble as assemble_module
from fixtures.exports import WRITERS
from pipeline.ingest import (read_choice_versions, read_export, read_instrument, read_platform,
                             read_wave)
from pipeline.errors import PulsecheckError

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


@pytest.mark.parametrize("year", ["2014", "2016", "2018"])
def test_assemble__sample_waves__column_and_row_readings_agree(year, monkeypatch):
    wave = read_wave(ROOT / "raw" / "pulse_check" / year)
    instrument = read_instrument(wave.instrument_path)
    platform = read_platform(wave.platform, wave.root)
    versions = read_choice_versions(wave.instrument_path)
    for path in wave.files:
        assert_same(*both_ways(monkeypatch, lambda: read_export(
            path, instrument, platform, choice_versions=versions, root=wave.root)))


@pytest.mark.parametrize("seed", range(6))
def test_assemble__damaged_cells__column_and_row_readings_agree(seed, tmp_path, monkeypatch):
    # Unknown codes, labels, stray text and blanks scattered over the sample's answer cells.
    wave = read_wave(ROOT / "raw" / "pulse_check" / "2016")
    instrument = read_instrument(wave.instrument_path)
    platform = read_platform(wave.platform, wave.root)
    versions = read_choice_versions(wave.instrument_path)
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
