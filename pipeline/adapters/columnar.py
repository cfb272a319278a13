"""A fast, column-wise reading of well-formed delimited text (same records as the csv module).

Python's csv module builds one list of strings per record, which for a large export costs
more time and memory than everything after it. pandas' C parser reads the same text a column
at a time, but it silently pads short records with blanks (which must be reported), so its
result is only used when a scan of the bytes proves the two parsers read the file alike:

* every quote opens a field or closes one (or is doubled inside a quoted field), so both
  parsers agree on where fields and records end;
* no lone carriage return, no byte-order mark left in the text;
* every non-empty record has exactly as many fields as the first one.

Anything else returns ``None`` and the file is read record by record as before, so damaged
files keep their exact messages.
"""

from __future__ import annotations

import io
from typing import Iterator, Sequence, overload

import numpy as np
import pandas as pd

#: Bytes scanned at a time: keeps the scan's working arrays small next to the parsed frame.
CHUNK_BYTES = 1 << 23
_QUOTE, _CR, _LF = 34, 13, 10


class ColumnRecords(Sequence[tuple[str, ...]]):
    """Records held column by column; reads like a tuple of tuples of strings.

    Parameters
    ----------
    columns : tuple of numpy.ndarray
        One object array of strings per field position, every record full width.
    empty : numpy.ndarray, optional
        Records that are empty lines: they read as ``()``, as the csv module gives them.
    longest : int, optional
        Length in bytes of the longest record (an upper bound on any cell's length).
    maybe_blank : numpy.ndarray, optional
        Non-empty records holding nothing but delimiters, quotes and blanks or non-ASCII
        characters: the only ones that can have every cell blank.
    """

    def __init__(self, columns: tuple[np.ndarray, ...], empty: np.ndarray | None = None,
                 longest: int | None = None, maybe_blank: np.ndarray | None = None) -> None:
        self.columns = columns
        self._n = len(columns[0]) if columns else 0
        self.empty = np.zeros(self._n, dtype=bool) if empty is None else empty
        self.longest = longest
        self.maybe_blank = np.zeros(0, dtype=np.int64) if maybe_blank is None else maybe_blank

    def __len__(self) -> int:
        return self._n

    def _row(self, index: int) -> tuple[str, ...]:
        if self.empty[index]:
            return ()
        return tuple(column[index] for column in self.columns)

    @overload
    def __getitem__(self, index: int) -> tuple[str, ...]: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[tuple[str, ...], ...]: ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self._row(i) for i in range(*index.indices(self._n)))
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError(index)
        return self._row(index)

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        if not self.empty.any():
            return iter(zip(*self.columns)) if self.columns else iter(())
        return (self._row(i) for i in range(self._n))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == tuple(b) for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, like a list

    def __repr__(self) -> str:
        return f"ColumnRecords({len(self)} records x {len(self.columns)} fields)"


def _scan(data: bytes, delimiter: int) -> dict | None:
    """Record shapes of UTF-8 ``data`` if its quoting is clean (else ``None``).

    Returns, per record, the number of field separators, whether it holds a visible
    character, its length in bytes and whether it is empty. A quote toggles "inside a quoted
    field"; in a cleanly quoted file that parity is exactly the csv module's state, so
    unquoted delimiters and line feeds are field and record ends. Works a chunk at a time
    with counts and positions only (no running sums over every byte, which are slow).
    """
    size = len(data)
    inside = 0               # quote parity carried across chunks
    previous_edge = True     # the file start acts as a line start
    carry_visible = False    # the record crossing a chunk boundary has a visible character
    ends: list[np.ndarray] = []
    delims: list[np.ndarray] = []
    visible: list[np.ndarray] = []
    delim_total = 0
    for start in range(0, size, CHUNK_BYTES):
        stop = min(start + CHUNK_BYTES, size)
        chunk = np.frombuffer(data, dtype=np.uint8, count=stop - start, offset=start)
        is_quote = chunk == _QUOTE
        parity = np.bitwise_xor.accumulate(is_quote.view(np.uint8)) ^ np.uint8(inside)
        is_lf = chunk == _LF
        is_delim = chunk == delimiter
        if is_quote.any():
            edge = is_quote | is_delim | is_lf | (chunk == _CR)
            opening = is_quote & (parity == 1)
            closing = is_quote & ~opening
            after_edge = stop == size or data[stop] in (delimiter, _CR, _LF, _QUOTE)
            # An opening quote starts a field (or doubles a quote), a closing one ends it.
            if (opening[0] and not previous_edge) or (opening[1:] & ~edge[:-1]).any() or \
                    (closing[-1] and not after_edge) or (closing[:-1] & ~edge[1:]).any():
                return None
        outside = parity == 0
        line_ends = np.flatnonzero(is_lf & outside)
        delim_at = np.flatnonzero(is_delim & outside)
        ends.append(line_ends + start)
        delims.append(np.searchsorted(delim_at, line_ends) + delim_total)
        delim_total += len(delim_at)
        # Anything but blanks, delimiters and quotes makes a cell non-blank; non-ASCII bytes
        # might be Unicode spaces, so they do not count.
        sig = (chunk > 32) & (chunk < 128) & ~is_delim & ~is_quote
        starts = np.concatenate(([0], line_ends + 1))
        starts = starts[starts < len(chunk)]
        segment = np.logical_or.reduceat(sig, starts)
        if len(line_ends):
            has = segment[:len(line_ends)].copy()
            has[0] |= carry_visible
            visible.append(has)
            carry_visible = bool(segment[len(line_ends)]) if len(segment) > len(line_ends) \
                else False
        else:
            carry_visible |= bool(segment[0])
        inside = int(parity[-1])
        previous_edge = int(chunk[-1]) in (delimiter, _CR, _LF, _QUOTE)
    if inside:
        return None  # a quote left open: the record reader reports it
    empty_int = np.zeros(0, dtype=np.int64)
    end = np.concatenate(ends) if ends else empty_int
    at_end_delims = np.concatenate(delims) if delims else empty_int
    has_visible = np.concatenate(visible) if visible else np.zeros(0, dtype=bool)
    if size and (not len(end) or end[-1] != size - 1):
        # The last record has no line end.
        end = np.append(end, size)
        at_end_delims = np.append(at_end_delims, delim_total)
        has_visible = np.append(has_visible, carry_visible)
    begin = np.concatenate(([0], end[:-1] + 1))
    raw = np.frombuffer(data, dtype=np.uint8)
    length = end - begin
    last = raw[np.clip(end - 1, 0, max(size - 1, 0))] if size else np.zeros(0, dtype=np.uint8)
    empty = (length == 0) | ((length == 1) & (last == _CR))
    return {"delims": np.diff(at_end_delims, prepend=0), "visible": has_visible,
            "length": length, "empty": empty}


def read_columns_fast(text: str, delimiter: str, data: bytes | None = None
                      ) -> ColumnRecords | None:
    """The records of ``text`` column by column, or ``None`` if it must be read record-wise.

    Gives exactly the records ``csv.reader(io.StringIO(text, newline=""), delimiter)``
    gives (see module docstring for when that is proven).

    Parameters
    ----------
    text : str
        The decoded export.
    delimiter : str
        The field delimiter.
    data : bytes, optional
        ``text`` encoded as UTF-8, when the caller already holds it (a UTF-8 file's own
        bytes): saves encoding the whole text again.
    """
    if len(delimiter) != 1 or delimiter in '"\r\n' or ord(delimiter) > 127 or \
            text.startswith("\ufeff"):
        return None
    if data is None:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            return None
    if data.count(b"\r") != data.count(b"\r\n"):
        return None  # a lone carriage return: the csv module's handling is kept
    shape = _scan(data, ord(delimiter))
    if shape is None or not len(shape["empty"]):
        return None
    try:
        # dtype=object keeps Python strings (pandas' "str" dtype would have to be converted
        # back); no NA handling, so "NA", "null" and blanks stay text.
        frame = pd.read_csv(io.BytesIO(data), encoding="utf-8", dtype=object, header=None,
                            keep_default_na=False, na_filter=False, sep=delimiter,
                            quotechar='"', doublequote=True, skip_blank_lines=False,
                            engine="c")
    except (pd.errors.ParserError, ValueError, MemoryError):
        return None
    del data
    width = frame.shape[1]
    empty = shape["empty"]
    if len(frame) != len(empty) or \
            (shape["delims"][~empty] != width - 1).any():
        return None  # short records, or a count the parsers disagree on
    columns = tuple(frame[column].to_numpy(dtype=object) for column in frame.columns)
    del frame
    maybe_blank = np.flatnonzero(~empty & ~shape["visible"])
    return ColumnRecords(columns, empty=empty, longest=int(shape["length"].max()),
                         maybe_blank=maybe_blank)
