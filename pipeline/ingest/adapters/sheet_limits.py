"""Limits before memory: what a spreadsheet would cost once read, found before reading it.

An XLSX file is a zip archive of XML parts. A few kilobytes on disk can declare a cell at
``XFD1048576`` (a reader that fills the sheet's rectangle then needs 17 billion cells) or
inflate to gigabytes (a deflate bomb). :func:`check_spreadsheet` looks at the archive's
directory (the declared uncompressed sizes), then streams every part once through the
decompressor with a hard cap on the bytes it yields, and scans the sheet's XML for the
references of its cells (not its declared ``<dimension ref>``, which is often the whole grid),
all before any spreadsheet reader allocates the sheet. Nothing is held in memory but one block
of XML at a time.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING
from xml.etree import ElementTree

from pipeline.errors import PulsecheckError

if TYPE_CHECKING:
    from pipeline.ingest.adapters.text import Limits

#: Bytes decompressed at a time while streaming a part.
BLOCK = 1 << 20
#: Bytes of one block kept in front of the next, so a cell reference cut by a block boundary
#: is still seen whole.
OVERLAP = 4096
# A cell's reference, ``<c r="AB12" ...>`` (with or without a namespace prefix).
_CELL = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\b[^>]*?\br="\$?([A-Za-z]{1,3})\$?([0-9]{1,7})"')
_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
#: The few small parts read whole to find the first sheet (each checked against the cap first).
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"


def column_number(letters: str) -> int:
    """``A`` → 1, ``Z`` → 26, ``AA`` → 27, ``XFD`` → 16384."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def check_spreadsheet(path: Path, limits: Limits, sheet: str | int | None = 0) -> None:
    """Refuse a zip-based spreadsheet whose reading would exceed ``limits``, before reading it.

    Parameters
    ----------
    path : Path
        An ``.xlsx``/``.xlsm`` (or ``.ods``) file. Files that are not zip archives are left to
        the spreadsheet reader (which refuses them with its own message).
    limits : Limits
        ``max_unzipped_bytes`` caps the decompressed bytes of the whole archive;
        ``max_rows``, ``max_columns`` and ``max_cells`` cap the rectangle the sheet's cells span.
    sheet : str, int or None
        The sheet that will be read (name or position); ``None`` for every sheet.

    Raises
    ------
    PulsecheckError
        READ_028 when the archive inflates beyond ``max_unzipped_bytes`` (declared or
        actual), READ_025 / READ_022 / READ_027 when the sheet's declared dimension or its
        farthest cell goes beyond the row, column or cell limits, READ_002 when the archive is
        damaged (a part whose size or checksum disagrees with its directory entry).

    Notes
    -----
    The decompressed bytes are counted as they are produced, so the cap holds even for an
    archive whose directory understates its sizes (assumption A-LIMIT-1).
    """
    path = Path(path)
    name = path.name
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            declared = sum(member.file_size for member in members)
            if declared > limits.max_unzipped_bytes:
                raise PulsecheckError("READ_028", file=name, n=declared,
                                      limit=limits.max_unzipped_bytes)
            sheets = set(_sheet_parts(archive, sheet))
            total = 0
            for member in members:
                if member.is_dir():
                    continue
                with archive.open(member) as stream:
                    blocks = _Counted(stream, name, limits, total)
                    if member.filename in sheets:
                        total = _check_sheet(blocks, name, member.filename, limits)
                    else:
                        total = _drain(blocks)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError,
            ValueError, OSError) as error:
        # OSError: a damaged member header can make the archive seek or read out of range.
        raise PulsecheckError("READ_002", file=name, expected="a spreadsheet",
                              reason=f"the archive is damaged ({error})") from error


class _Counted:
    """Blocks of a part, each counted against the archive's decompression cap."""

    def __init__(self, stream: IO[bytes], file_name: str, limits: Limits, start: int) -> None:
        self.stream, self.file_name, self.limits, self.total = stream, file_name, limits, start

    def __iter__(self):
        while True:
            block = self.stream.read(BLOCK)
            if not block:
                return
            self.total += len(block)
            if self.total > self.limits.max_unzipped_bytes:
                raise PulsecheckError("READ_028", file=self.file_name, n=f"over {self.total}",
                                      limit=self.limits.max_unzipped_bytes)
            yield block


def _drain(blocks: _Counted) -> int:
    for _ in blocks:
        pass
    return blocks.total


def _check_sheet(blocks: _Counted, file_name: str, part: str, limits: Limits) -> int:
    """Stream one worksheet part; refuse it when its span breaks the limits."""
    # The span is that of the cells the sheet holds. Its declared ``<dimension>`` is not used:
    # spreadsheet programs often declare the whole grid (LibreOffice writes A1:AMJ1048576 for a
    # form of 91 rows), and the reader sizes the sheet by its cells, not by the declaration.
    last_row = last_column = 0
    tail = b""
    for block in blocks:
        text = tail + block
        for letters, digits in _CELL.findall(text):
            last_row = max(last_row, int(digits))
            last_column = max(last_column, column_number(letters.decode("ascii")))
        tail = text[-OVERLAP:]
    sheet = posixpath.splitext(posixpath.basename(part))[0]
    if last_column > limits.max_columns:
        raise PulsecheckError("READ_022", file=file_name, n=last_column,
                              limit=limits.max_columns)
    # The first row is the header at least: the rest are data rows at most.
    if last_row - 1 > limits.max_rows:
        raise PulsecheckError("READ_025", file=file_name, n=last_row - 1,
                              limit=limits.max_rows)
    if last_row * last_column > limits.max_cells:
        raise PulsecheckError("READ_027", file=file_name, sheet=sheet,
                              ref=f"A1:{_letters(last_column)}{last_row}",
                              n=last_row * last_column, limit=limits.max_cells)
    return blocks.total


def _letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _sheet_parts(archive: zipfile.ZipFile, sheet: str | int | None) -> Iterable[str]:
    """The archive part(s) of the sheet that will be read; every worksheet when unsure."""
    every = [m.filename for m in archive.infolist()
             if m.filename.startswith("xl/worksheets/") and m.filename.endswith(".xml")]
    if sheet is None:
        return every
    try:
        names = set(archive.namelist())
        small = [archive.getinfo(n) for n in (_WORKBOOK, _WORKBOOK_RELS) if n in names]
        if len(small) < 2 or any(info.file_size > BLOCK * 16 for info in small):
            return every
        workbook = ElementTree.fromstring(archive.read(_WORKBOOK))
        rels = ElementTree.fromstring(archive.read(_WORKBOOK_RELS))
    except ElementTree.ParseError:
        return every
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    entries = [(element.get("name"), element.get(_RELATIONSHIP))
               for element in workbook.iter() if element.tag.endswith("}sheet")]
    chosen = [rid for position, (title, rid) in enumerate(entries)
              if (isinstance(sheet, int) and position == sheet) or title == sheet]
    if not chosen or chosen[0] not in targets:
        return every
    target = targets[chosen[0]]
    part = target.lstrip("/") if target.startswith("/") else \
        posixpath.normpath(posixpath.join("xl", target))
    return [part] if part in names else every
