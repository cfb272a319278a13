"""Reading export files into rows of strings: encodings, delimiters, spreadsheets (the edge).

Every adapter starts from a :class:`Grid`: the file's cells as strings, exactly as a
spreadsheet shows them, with no type guessing (codes such as ``01`` and answers such as
``N/A`` or ``None`` stay text).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.errors import PulsecheckError

#: File name endings read as spreadsheets.
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
#: Delimiters tried when a profile does not fix one, in order of preference on ties.
DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class Grid:
    """The cells of an export as strings, and how the text was decoded.

    ``records`` holds every row of the file, header rows included; ``encoding`` and
    ``reason`` say how the bytes were decoded (empty for spreadsheets).
    """

    file_name: str
    records: tuple[tuple[str, ...], ...]
    encoding: str = ""
    reason: str = ""
    delimiter: str = ""


def decode_text(raw: bytes, forced: str | None = None) -> tuple[str, str, str]:
    """Decode an export's bytes: BOM, then strict UTF-8, then UTF-16, then cp1252.

    Returns
    -------
    tuple of str
        ``(text, encoding, reason)``; the reason is logged as an info issue.

    Notes
    -----
    Windows tools save CSV as cp1252 and Qualtrics saves TSV as UTF-16; a file that is valid
    UTF-8 is almost never cp1252 text by accident, so strict UTF-8 is tried first
    (assumption A-ADAPT-1).
    """
    if forced:
        try:
            return raw.decode(forced), forced, "given with --encoding"
        except (UnicodeDecodeError, LookupError) as error:
            raise PulsecheckError("READ_009", encoding=forced, reason=str(error))
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "utf-8-sig", \
            "UTF-8 byte-order mark"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "utf-16", "UTF-16 byte-order mark"
    sample = raw[:4096]
    if sample.count(b"\x00") > len(sample) // 4:
        # ASCII text in UTF-16 without a BOM: every other byte is NUL.
        little = sample[1::2].count(b"\x00") > sample[0::2].count(b"\x00")
        encoding = "utf-16-le" if little else "utf-16-be"
        return raw.decode(encoding), encoding, "no byte-order mark, NUL bytes every other byte"
    try:
        return raw.decode("utf-8"), "utf-8", "valid UTF-8 without a byte-order mark"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252", "not valid UTF-8; read as Windows-1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1", "neither UTF-8 nor Windows-1252; read as Latin-1"


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first line into the most fields (outside quotes)."""
    first = text.split("\n", 1)[0]
    counts = {}
    for delimiter in DELIMITERS:
        counts[delimiter] = len(next(csv.reader([first], delimiter=delimiter), []))
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 1 else ","


def parse_delimited(text: str, delimiter: str) -> list[list[str]]:
    """Split text into records; quoted fields may hold delimiters, quotes and newlines."""
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a user sees (whole numbers without ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def read_grid(path: Path, delimiter: str | None = None, encoding: str | None = None,
              sheet: str | int = 0) -> Grid:
    """Read a delimited text export or a spreadsheet's first sheet into a :class:`Grid`."""
    path = Path(path)
    if not path.exists():
        raise PulsecheckError("CLI_001", path=str(path))
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        try:
            frame = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object,
                                  engine="calamine", keep_default_na=False, na_filter=False)
        except Exception as error:  # calamine raises its own error types
            raise PulsecheckError("READ_002", file=path.name, expected="a spreadsheet",
                                  reason=str(error).splitlines()[0] if str(error) else "unreadable")
        records = tuple(tuple(cell_text(v) for v in row)
                        for row in frame.itertuples(index=False, name=None))
        if not records:
            raise PulsecheckError("READ_001", file=path.name)
        return Grid(file_name=path.name, records=records)
    raw = path.read_bytes()
    if not raw.strip():
        raise PulsecheckError("READ_001", file=path.name)
    try:
        text, used, reason = decode_text(raw, encoding)
    except PulsecheckError as error:
        raise PulsecheckError("READ_009", file=path.name, **error.params)
    chosen = delimiter or sniff_delimiter(text)
    try:
        records = parse_delimited(text, chosen)
    except csv.Error as error:
        raise PulsecheckError("READ_002", file=path.name, expected="a delimited text export",
                              reason=str(error))
    return Grid(file_name=path.name, records=tuple(tuple(r) for r in records), encoding=used,
                reason=reason, delimiter=chosen)
