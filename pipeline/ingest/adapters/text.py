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
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.errors import PulsecheckError
from pipeline.ingest.adapters.columnar import ColumnRecords, read_columns_fast
from pipeline.ingest.adapters.sheet_limits import check_spreadsheet

#: File name endings read as spreadsheets.
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
#: Delimiters tried when a profile does not fix one, in order of preference on ties.
DELIMITERS = (",", ";", "\t")


#: Magic numbers of binary formats that are sometimes saved under a text export's name.
BINARY_SIGNATURES = (
    (b"PK\x03\x04", "a zip archive, probably an XLSX spreadsheet"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or other Office file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"$FL2", "an SPSS .sav file"),
)
#: How a UTF-8 file with and without a byte-order mark is described (encoding, reason).
UTF8_WITH_BOM = ("utf-8-sig", "UTF-8 byte-order mark")
UTF8_WITHOUT_BOM = ("utf-8", "valid UTF-8 without a byte-order mark")
#: Bytes decoded to look at the start of a text (at least 4096 characters).
HEAD_BYTES = 4 * 4096 + 4
#: Share of control characters above which decoded "text" is taken to be binary data.
BINARY_CONTROL_SHARE = 0.05
# Python's csv module refuses fields over 128 KiB with an unhelpful message; cell lengths are
# checked against the configured limit instead (Limits.max_cell_chars).
csv.field_size_limit(1 << 30)
_LINE_END = re.compile(rb"[\r\n]")


@dataclass(frozen=True)
class Limits:
    """Sizes beyond which an input is refused with a clear message rather than read.

    Defaults are in ``survey_instrument/limits.toml``; a wave may override them in a
    ``[limits]`` table of its ``wave.toml``. They guard against reading the wrong file (a
    database dump, a binary) and against one lost quote turning a file into one giant cell.
    """

    max_file_bytes: int = 256 * 1024 * 1024
    max_rows: int = 1_000_000
    max_columns: int = 2_000
    max_cell_chars: int = 100_000
    #: Cells of the rectangle a spreadsheet's sheet spans (a reader allocates all of them).
    max_cells: int = 25_000_000
    #: Bytes a spreadsheet (a zip archive) may inflate to, all parts together.
    max_unzipped_bytes: int = 1024 * 1024 * 1024


@dataclass(frozen=True)
class Grid:
    """The cells of an export as strings, and how the text was decoded.

    ``records`` holds every row of the file, header rows included; ``encoding`` and
    ``reason`` say how the bytes were decoded (empty for spreadsheets).
    """

    file_name: str
    #: A tuple of tuples, or the same records held column-wise (:class:`ColumnRecords`).
    records: tuple[tuple[str, ...], ...] | ColumnRecords
    encoding: str = ""
    reason: str = ""
    delimiter: str = ""
    #: Physical lines decoded as Windows-1252 in an otherwise UTF-8 file.
    mixed_lines: tuple[int, ...] = ()


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
            raise PulsecheckError("READ_009", encoding=forced, reason=str(error)) from error
    try:
        if raw.startswith(codecs.BOM_UTF8):
            return (raw[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"),
                    *UTF8_WITH_BOM)
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return raw.decode("utf-16"), "utf-16", "UTF-16 byte-order mark"
        sample = raw[:4096]
        if sample.count(b"\x00") > len(sample) // 4:
            # ASCII text in UTF-16 without a BOM: every other byte is NUL.
            little = sample[1::2].count(b"\x00") > sample[0::2].count(b"\x00")
            encoding = "utf-16-le" if little else "utf-16-be"
            return raw.decode(encoding), encoding, \
                "no byte-order mark, NUL bytes every other byte"
    except UnicodeDecodeError as error:
        # The byte-order mark (or the NUL pattern) promised an encoding the bytes break.
        raise PulsecheckError("READ_009", encoding=error.encoding.upper(),
                              reason=f"byte {error.start + 1} breaks it, although the file "
                                     f"starts as {error.encoding.upper()}") from error
    try:
        return (raw.decode("utf-8"), *UTF8_WITHOUT_BOM)
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252", "not valid UTF-8; read as Windows-1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1", "neither UTF-8 nor Windows-1252; read as Latin-1"


def decode_mixed(raw: bytes) -> tuple[str, tuple[int, ...]] | None:
    """Decode a file whose lines are partly UTF-8 and partly Windows-1252, line by line.

    Returns ``None`` unless some lines hold UTF-8 multi-byte characters and others are not
    valid UTF-8 — the mark of rows typed or pasted on different machines. Newlines are the
    same byte in both encodings, so lines can be decoded separately.
    """
    lines = raw.split(b"\n")
    utf8_lines, other_lines, decoded = 0, [], []
    for number, line in enumerate(lines, start=1):
        try:
            text = line.decode("utf-8")
            utf8_lines += any(byte >= 0x80 for byte in line)
        except UnicodeDecodeError:
            try:
                text = line.decode("cp1252")
            except UnicodeDecodeError:
                text = line.decode("latin-1")
            other_lines.append(number)
        decoded.append(text)
    if not utf8_lines or not other_lines:
        return None
    return "\n".join(decoded), tuple(other_lines)


def binary_kind(raw: bytes) -> str | None:
    """What a file is, when its bytes show it is not a text export (else ``None``)."""
    for signature, kind in BINARY_SIGNATURES:
        if raw.startswith(signature):
            return kind
    return None


def utf8_head(raw: bytes, begin: int = 0) -> str | None:
    """The start of ``raw[begin:]`` decoded as UTF-8: its first line and at least 4096
    characters (all of it when shorter). ``None`` if those bytes are not UTF-8."""
    line_end = _LINE_END.search(raw, begin)
    stop = min(len(raw), max(begin + HEAD_BYTES, line_end.start() if line_end else len(raw)))
    while stop < len(raw) and 0x80 <= raw[stop] < 0xC0:
        stop -= 1  # back to the start of a character (a continuation byte cannot start one)
    try:
        return raw[begin:stop].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\r\n")
                   or 0x7f <= ord(ch) <= 0x9f)
    return bool(sample) and controls / len(sample) > BINARY_CONTROL_SHARE


def _check_quotes(text: str, delimiter: str) -> int | None:
    """The line where a quote opens that is never closed (``None`` when all are closed).

    Python's lenient reader would silently read the rest of the file into that one field;
    the strict reader stops at the end of the data, and the record's first line is reported.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    while True:
        start = reader.line_num + 1
        try:
            next(reader)
        except StopIteration:
            return None
        except csv.Error as error:
            if "unexpected end of data" in str(error):
                return start
            # Other strictness complaints (a stray quote inside a field) are read leniently.
            return None


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first line into the most fields (outside quotes)."""
    # A lone carriage return also ends a line (old Mac files, damaged copies).
    end = re.search(r"[\r\n]", text)
    first = text if end is None else text[:end.start()]
    counts = {}
    for delimiter in DELIMITERS:
        try:
            counts[delimiter] = len(next(csv.reader([first], delimiter=delimiter), []))
        except csv.Error:
            counts[delimiter] = 0
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 1 else ","


def parse_delimited(text: str, delimiter: str) -> list[list[str]]:
    """Split text into records; quoted fields may hold delimiters, quotes and newlines."""
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a user sees (whole numbers without ``.0``)."""
    if value is None or value is pd.NaT:
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


def check_size(path: Path, limits: Limits) -> None:
    """Refuse a file larger than ``limits.max_file_bytes`` before reading it."""
    size = Path(path).stat().st_size
    if size > limits.max_file_bytes:
        raise PulsecheckError("READ_024", file=Path(path).name, n=size,
                              limit=limits.max_file_bytes)


def check_grid(grid: Grid, limits: Limits, header_rows: int = 1) -> None:
    """Refuse a grid with more rows, columns or longer cells than ``limits`` allow."""
    n_rows = max(len(grid.records) - header_rows, 0)
    if n_rows > limits.max_rows:
        raise PulsecheckError("READ_025", file=grid.file_name, n=n_rows, limit=limits.max_rows)
    records = grid.records
    if isinstance(records, ColumnRecords):
        # Every non-empty record is full width; empty lines have no field.
        width = len(records.columns) if not records.empty.all() else 0
    else:
        width = max((len(record) for record in records), default=0)
    if width > limits.max_columns:
        raise PulsecheckError("READ_022", file=grid.file_name, n=width,
                              limit=limits.max_columns)
    if isinstance(records, ColumnRecords) and records.longest is not None and \
            records.longest <= limits.max_cell_chars:
        return  # no cell is longer than the longest record
    header = grid.records[0] if grid.records else ()
    for number, record in enumerate(grid.records, start=1):
        # Most records have no long cell: one length pass per record, detail only if needed.
        if max(map(len, record), default=0) <= limits.max_cell_chars:
            continue
        for position, cell in enumerate(record):
            if len(cell) > limits.max_cell_chars:
                column = header[position] if position < len(header) else f"#{position + 1}"
                raise PulsecheckError("READ_023", file=grid.file_name, row=number,
                                      column=column, n=len(cell),
                                      limit=limits.max_cell_chars)


def read_grid(path: Path, delimiter: str | None = None, encoding: str | None = None,
              sheet: str | int = 0, limits: Limits = Limits()) -> Grid:
    """Read a delimited text export or a spreadsheet's first sheet into a :class:`Grid`.

    The file is only read (never opened for writing). Files that are binary, hold NUL bytes,
    leave a quote open or break ``limits`` are refused with a catalogue error. A cleanly
    quoted delimited file is parsed column-wise (:mod:`pipeline.ingest.adapters.columnar`), giving
    the records the record-by-record reading gives.
    """
    path = Path(path)
    if not path.exists():
        raise PulsecheckError("CLI_001", path=str(path))
    check_size(path, limits)
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        # Limits before memory: the sheet's span and the archive's inflated size are checked
        # before the reader allocates the sheet.
        check_spreadsheet(path, limits, sheet)
        try:
            frame = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object,
                                  engine="calamine", keep_default_na=False, na_filter=False)
        except Exception as error:  # calamine raises its own error types
            reason = str(error).splitlines()[0] if str(error) else "unreadable"
            raise PulsecheckError("READ_002", file=path.name, expected="a spreadsheet",
                                  reason=reason) from error
        records = tuple(tuple(cell_text(v) for v in row)
                        for row in frame.itertuples(index=False, name=None))
        if not records:
            raise PulsecheckError("READ_001", file=path.name)
        return Grid(file_name=path.name, records=records)
    raw = path.read_bytes()
    # isspace stops at the first visible byte; strip would copy the whole file.
    if not raw or raw.isspace():
        raise PulsecheckError("READ_001", file=path.name)
    kind = binary_kind(raw)
    if kind:
        raise PulsecheckError("READ_002", file=path.name, expected="a delimited text export",
                              reason=f"it is {kind}, not text (if it is a spreadsheet, give "
                                     f"it its own ending such as .xlsx)")
    if encoding is None:
        grid = _read_utf8_columns(path.name, raw, delimiter)
        if grid is not None:
            return grid
    try:
        text, used, reason = decode_text(raw, encoding)
    except PulsecheckError as error:
        raise PulsecheckError("READ_009", file=path.name, **error.params) from None
    mixed: tuple[int, ...] = ()
    if used == "cp1252" and not encoding:
        found = decode_mixed(raw)
        if found is not None:
            text, mixed = found
            used, reason = "utf-8", "valid UTF-8 except some lines (see READ_021)"
    if "\x00" in text:
        # UTF-16 without NULs left over, or a damaged file: never valid in a text export.
        first = text.index("\x00")
        raise PulsecheckError("READ_020", file=path.name, row=text.count("\n", 0, first) + 1,
                              n=text.count("\x00"))
    if _looks_binary(text):
        raise PulsecheckError("READ_002", file=path.name, expected="a delimited text export",
                              reason="it is binary data, not text")
    chosen = delimiter or sniff_delimiter(text)
    # A UTF-8 file's bytes (after any byte-order mark) are already the text's UTF-8 form.
    own = not mixed and used in ("utf-8", "utf-8-sig")
    begin = len(codecs.BOM_UTF8) if own and used == "utf-8-sig" and \
        raw.startswith(codecs.BOM_UTF8) else 0
    try:
        data = raw if own else text.encode("utf-8")
    except UnicodeEncodeError:
        data = None  # lone surrogates from a UTF-16 file: read record by record
    fast = None if data is None else read_columns_fast(data, chosen, begin)
    if fast is not None:
        # Cleanly quoted (proven by the scan), so no quote is left open.
        return Grid(file_name=path.name, records=fast, encoding=used, reason=reason,
                    delimiter=chosen, mixed_lines=mixed)
    open_quote = _check_quotes(text, chosen)
    if open_quote is not None:
        raise PulsecheckError("READ_019", file=path.name, row=open_quote)
    try:
        records = parse_delimited(text, chosen)
    except csv.Error as error:
        raise PulsecheckError("READ_002", file=path.name, expected="a delimited text export",
                              reason=str(error)) from error
    return Grid(file_name=path.name, records=tuple(tuple(r) for r in records), encoding=used,
                reason=reason, delimiter=chosen, mixed_lines=mixed)


def _read_utf8_columns(file_name: str, raw: bytes, delimiter: str | None) -> Grid | None:
    """A UTF-8 export read column-wise straight from its bytes, never decoded as a whole.

    Gives the :class:`Grid` :func:`read_grid` gives when it decodes the file as UTF-8 and
    reads it column-wise: the scan of :func:`~pipeline.ingest.adapters.columnar.read_columns_fast`
    proves the bytes are UTF-8, and only the first line and the first characters (which the
    delimiter and the binary check look at) are decoded here. ``None`` for anything else
    (NUL bytes, another encoding, binary data, text that must be read record by record).
    """
    if b"\x00" in raw:
        return None
    begin = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    head = utf8_head(raw, begin)
    if head is None or _looks_binary(head):
        return None
    chosen = delimiter or sniff_delimiter(head)
    records = read_columns_fast(raw, chosen, begin)
    if records is None:
        return None
    used, reason = UTF8_WITH_BOM if begin else UTF8_WITHOUT_BOM
    return Grid(file_name=file_name, records=records, encoding=used, reason=reason,
                delimiter=chosen)
