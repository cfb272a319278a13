"""The column-wise reading of delimited text gives exactly what the record reading gives.

A cleanly quoted delimited export is parsed by pandas' C parser a column at a time
(pipeline/ingest/adapters/columnar.py); anything else is read record by record with the csv module.
Random text, every bad input of the catalogue, every platform fixture, the sample waves and
Hypothesis-damaged exports are read both ways: the records (or the error), and the exports
(frame, issues, row count, none-selected rows, notes) must be identical.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipeline.ingest.adapters.text as text_module
from bad_inputs.cases import CASES
from conftest import SAMPLE_WAVE
from fixtures.exports import WRITERS
from pipeline.errors import PulsecheckError
from pipeline.ingest.adapters import columnar
from pipeline.ingest.adapters.columnar import ColumnRecords, read_columns_fast
from pipeline.ingest.adapters.text import read_grid
from pipeline.ingest.readers import read_export
from pipeline.ingest.wave_folder import load_wave
from test_fuzz_readers import apply_damage, damage

ROOT = Path(__file__).resolve().parents[1]
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])


def both_ways(monkeypatch, read):
    """``read()`` as it is, then with the record reading forced (errors as their message)."""
    def attempt():
        try:
            return read()
        except PulsecheckError as error:
            return f"{error.code}: {error.message}"

    fast = attempt()
    with monkeypatch.context() as patch:
        patch.setattr(text_module, "read_columns_fast", lambda *args: None)
        slow = attempt()
    return fast, slow


def assert_same_export(fast, slow) -> None:
    if isinstance(slow, str) or isinstance(fast, str):
        assert fast == slow
        return
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    pd.testing.assert_frame_equal(fast.issues, slow.issues)
    pd.testing.assert_frame_equal(fast.notes, slow.notes)
    assert fast.n_rows == slow.n_rows
    assert fast.none_selected == slow.none_selected
    assert fast.platform == slow.platform


def assert_same_grid(fast, slow) -> None:
    if isinstance(slow, str) or isinstance(fast, str):
        assert fast == slow
        return
    assert [tuple(r) for r in fast.records] == [tuple(r) for r in slow.records]
    assert (fast.encoding, fast.reason, fast.delimiter, fast.mixed_lines) == \
        (slow.encoding, slow.reason, slow.delimiter, slow.mixed_lines)


# Text made of the characters that decide how records and fields are split.
pieces = st.lists(st.sampled_from(["a", "b", " ", ",", ";", "\t", '"', '""', "\n", "\r\n",
                                   "\r", "é", "\u00a0", "x,y", '"q"', '"a,b"', '"l\nm"']),
                  max_size=40)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(parts=pieces, delimiter=st.sampled_from([",", ";", "\t"]))
def test_read_paths__random_text__fast_records_are_the_csv_modules_or_none(parts, delimiter):
    text = "".join(parts)
    fast = read_columns_fast(text.encode("utf-8"), delimiter)
    if fast is None:
        return
    expected = [tuple(r) for r in csv.reader(io.StringIO(text, newline=""),
                                             delimiter=delimiter)]
    assert list(fast) == expected
    assert [fast[i] for i in range(len(fast))] == expected


@pytest.mark.parametrize("chunk", [1, 2, 7, 64])
def test_read_paths__records_across_scan_chunks__are_the_csv_modules(chunk, monkeypatch):
    # Quoted and unquoted fields, embedded delimiters, quotes and line breaks, blank and
    # short records, stray characters: the scan reads the bytes in chunks of ``chunk``.
    monkeypatch.setattr(columnar, "CHUNK_BYTES", chunk)
    chosen = random.Random(chunk)
    values = ["", "a", " ", "\u00a0", "é", 'x"y', "a,b", "l\nm", "l\r\nm", " b ", "1;2", "\t"]
    for _ in range(400):
        delimiter, width = chosen.choice(",;\t"), chosen.randrange(1, 5)
        lines, full_width = [], True
        for _ in range(chosen.randrange(1, 6)):
            cells = []
            count = width if chosen.random() < 0.85 else chosen.randrange(0, width + 2)
            full_width &= count == width
            for _ in range(count):
                value = chosen.choice(values)
                if chosen.random() < 0.5 or any(c in value for c in (delimiter, '"', "\n")):
                    value = '"' + value.replace('"', '""') + '"'
                cells.append(value)
            lines.append(delimiter.join(cells))
        text = chosen.choice(["\n", "\r\n"]).join(lines) + chosen.choice(["", "\n"])
        damaged = chosen.random() < 0.2
        if damaged:
            at = chosen.randrange(len(text) + 1)
            text = text[:at] + chosen.choice(['"', ",", "\n", " "]) + text[at:]
        fast = read_columns_fast(text.encode("utf-8"), delimiter)
        if fast is None:
            # Cleanly quoted full-width records are never left to the record reading (pandas
            # takes the width from the first line, so that must not be empty).
            assert damaged or not full_width or not lines[0], repr((text, delimiter))
            continue
        expected = [tuple(r) for r in csv.reader(io.StringIO(text, newline=""),
                                                 delimiter=delimiter)]
        assert list(fast) == expected
        candidates = set(fast.maybe_blank.tolist())
        assert all(i in candidates for i, record in enumerate(expected)
                   if record and not any(cell.strip() for cell in record))


def test_read_paths__clean_export__is_read_column_wise():
    text = 'id,a,b\r\n1,"x, ""y""",\r\n\r\n2,"two\r\nlines",z\r\n'
    fast = read_columns_fast(text.encode("utf-8"), ",")
    assert isinstance(fast, ColumnRecords)
    assert list(fast) == [("id", "a", "b"), ("1", 'x, "y"', ""), (), ("2", "two\r\nlines", "z")]


@pytest.mark.parametrize("text", ['id,a\n1\n', 'id,a\n1,2,3\n', 'id,a\n1,"open\n',
                                  'id,a\n1,x"y\n', 'id,a\n"1"x,2\n', "id,a\r1,2\r",
                                  "\ufeffid,a\n1,2\n", "id,a\n  \n1,2\n"])
def test_read_paths__damaged_text__is_left_to_the_record_reading(text):
    assert read_columns_fast(text.encode("utf-8"), ",") is None


@pytest.mark.parametrize("saved", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
@pytest.mark.parametrize("given", [None, "utf-8", "utf-8-sig"])
def test_read_paths__every_encoding__reads_the_same_both_ways(saved, given, tmp_path,
                                                              monkeypatch):
    path = tmp_path / "export.csv"
    path.write_bytes('id,"a, b"\r\n1,"é ""x"""\r\n\r\n2,\u00a0\r\n'.encode(saved))
    assert_same_grid(*both_ways(monkeypatch, lambda: read_grid(path, encoding=given)))


# Bytes that decide splitting, and bytes that are or break UTF-8: a lone Latin-1 byte, a
# two-, three- and four-byte character, an encoded surrogate, a cut-off character.
byte_pieces = st.lists(st.sampled_from([b"a", b" ", b",", b";", b'"', b"\n", b"\r\n", b"\r",
                                        b"\xe9", b"\xc3\xa9", b"\xe2\x82\xac",
                                        b"\xf0\x9f\x98\x80", b"\xed\xa0\x80", b"\xe2\x82",
                                        b"\xa0", b'"x\xc3\xa9"', b"\xef\xbb\xbf"]),
                       max_size=30)


@FUZZ
@given(parts=byte_pieces, delimiter=st.sampled_from([",", ";"]),
       chunk=st.sampled_from([1, 2, 3, 5, 64, 1 << 23]), begin=st.sampled_from([0, 1]))
def test_read_paths__random_bytes__fast_records_are_the_decoded_texts_or_none(
        parts, delimiter, chunk, begin, monkeypatch):
    # Only UTF-8 is read column-wise (the scan proves it, however the chunks fall); the
    # records are then those of the decoded text.
    data = b"".join(parts)
    with monkeypatch.context() as patch:
        patch.setattr(columnar, "CHUNK_BYTES", chunk)
        fast = read_columns_fast(data, delimiter, begin)
    try:
        text = data[begin:].decode("utf-8")
    except UnicodeDecodeError:
        assert fast is None
        # The scan itself proves the bytes are UTF-8 (pandas' decoding is not relied on).
        with monkeypatch.context() as patch:
            patch.setattr(columnar, "CHUNK_BYTES", chunk)
            assert columnar._scan(data, ord(delimiter), begin) is None
        return
    if fast is None:
        return
    expected = [tuple(r) for r in csv.reader(io.StringIO(text, newline=""),
                                             delimiter=delimiter)]
    assert list(fast) == expected
    assert fast.longest >= max((len(cell) for record in expected for cell in record),
                               default=0)


def late_bytes(tail: bytes) -> bytes:
    """A clean UTF-8 export whose bytes after the first 40 kB end with ``tail``."""
    rows = "".join(f'{n},"caf\u00e9 {n}",x\r\n' for n in range(2000))
    return ("id,name,other\r\n" + rows).encode("utf-8") + tail


@pytest.mark.parametrize("tail", [b'1,"caf\xe9",x\r\n', b'2,"\xed\xa0\x80",x\r\n',
                                  b'3,"\xe2\x82",x\r\n', b'4,"\x81",x', b'5,"\xe2\x82\xac",x\r\n'])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_read_paths__bytes_breaking_utf8_late__read_the_same_both_ways(tail, bom, tmp_path,
                                                                       monkeypatch):
    # Past the start that is decoded to find the delimiter: only the scan can see them.
    path = tmp_path / "export.csv"
    path.write_bytes(bom + late_bytes(tail))
    fast, slow = both_ways(monkeypatch, lambda: read_grid(path))
    assert_same_grid(fast, slow)
    if not isinstance(slow, str):
        assert isinstance(fast.records, ColumnRecords)


def test_read_paths__clean_utf8_export__is_read_without_decoding_it_whole(tmp_path,
                                                                          monkeypatch):
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + late_bytes(b""))
    expected = read_grid(path)

    def refuse(*args):
        raise AssertionError("the whole file was decoded")

    monkeypatch.setattr(text_module, "decode_text", refuse)
    grid = read_grid(path)
    assert isinstance(grid.records, ColumnRecords)
    assert_same_grid(grid, expected)
    assert (grid.encoding, grid.delimiter) == ("utf-8-sig", ",")


def test_read_paths__first_line_longer_than_the_decoded_start__same_both_ways(tmp_path,
                                                                            monkeypatch):
    # The line's first 16 kB have more commas than semicolons, the whole line fewer.
    header = "x," * 6000 + ";y" * 10000
    start = header[:text_module.HEAD_BYTES]
    assert start.count(",") > start.count(";") and header.count(",") < header.count(";")
    path = tmp_path / "export.csv"
    # Records alike under either delimiter: only the whole first line tells them apart.
    path.write_bytes((header + "\n" + header + "\n").encode("utf-8"))
    fast, slow = both_ways(monkeypatch, lambda: read_grid(path))
    assert_same_grid(fast, slow)
    assert fast.delimiter == ";"
    assert isinstance(fast.records, ColumnRecords)


@pytest.mark.parametrize("shift", range(4))
@pytest.mark.parametrize("begin", [0, 3])
def test_read_paths__decoded_start__is_a_prefix_of_whole_characters(shift, begin):
    text = "a" * shift + "\n" + "\u00e9\u20ac\U0001f600" * 3000
    head = text_module.utf8_head(b"\xef\xbb\xbf"[:begin] + text.encode("utf-8"), begin)
    assert head is not None and text.startswith(head) and len(head) >= 4096


@pytest.mark.parametrize("case", CASES, ids=[c.case_id for c in CASES])
def test_read_paths__every_bad_input__reads_the_same_both_ways(case, tmp_path, monkeypatch):
    case.builder(tmp_path)
    exports = [p for p in sorted(tmp_path.rglob("*")) if p.is_file() and
               p.suffix.lower() in (".csv", ".tsv", ".txt") and "instrument" not in p.parts
               and p.name not in ("survey.csv", "choices.csv")]
    for path in exports:
        assert_same_grid(*both_ways(monkeypatch, lambda path=path: read_grid(path)))


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_read_paths__every_platform_fixture__same_export_both_ways(fmt, mini, tmp_path,
                                                                  monkeypatch):
    path = WRITERS[fmt](tmp_path)
    assert_same_export(*both_ways(monkeypatch, lambda: read_export(path, mini)))


@pytest.mark.parametrize("year", ["2014", "2016", "2018", "2020"])
def test_read_paths__sample_waves__same_export_both_ways(year, monkeypatch):
    folder = ROOT / "raw" / "pulse_check" / year
    fast, slow = both_ways(monkeypatch, lambda: load_wave(folder).exports)
    assert len(fast) == len(slow) > 0
    for path, one, other in zip(load_wave(folder).wave.files, fast, slow, strict=True):
        assert isinstance(read_grid(path).records, ColumnRecords)
        assert_same_export(one, other)


@pytest.fixture(scope="module")
def sample_head():
    loaded = load_wave(SAMPLE_WAVE)
    lines = (SAMPLE_WAVE / "pulse_check_2016_qualtrics.csv").read_bytes().split(b"\n")
    return b"\n".join(lines[:33]) + b"\n", loaded.instrument, loaded.platform


@FUZZ
@given(damages=st.lists(damage, min_size=1, max_size=4))
def test_read_paths__damaged_sample_export__same_export_both_ways(damages, sample_head,
                                                                  tmp_path, monkeypatch):
    data, instrument, platform = sample_head
    path = tmp_path / "pulse_check_2016_qualtrics.csv"
    path.write_bytes(apply_damage(data, damages))
    assert_same_export(*both_ways(monkeypatch, lambda: read_export(path, instrument, platform)))


@pytest.fixture(scope="module")
def fixture_exports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exports")
    return {name: writer(folder) for name, writer in WRITERS.items()}


@FUZZ
@given(name=st.sampled_from(sorted(WRITERS)), damages=st.lists(damage, min_size=1, max_size=3))
def test_read_paths__damaged_platform_export__same_export_both_ways(name, damages, mini,
                                                                    fixture_exports, tmp_path,
                                                                    monkeypatch):
    source = fixture_exports[name]
    path = tmp_path / f"damaged{source.suffix}"
    path.write_bytes(apply_damage(source.read_bytes(), damages))
    assert_same_export(*both_ways(monkeypatch, lambda: read_export(path, mini)))
