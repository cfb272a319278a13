"""A fast, column-wise reading of well-formed delimited text (same records as the csv module).

Python's csv module builds one list of strings per record, which for a large export costs
more time and memory than everything after it. pandas' C parser reads the same text a column
at a time, but it silently pads short records with blanks (which must be reported), so its
result is only used when a scan of the bytes proves the two parsers read the file alike:

* the bytes are UTF-8 (so they are the text the record reading decodes);
* every quote opens a field or closes one (or is doubled inside a quoted field), so both
  parsers agree on where fields and records end;
* no lone carriage return, no byte-order mark left in the text;
* every non-empty record has exactly as many fields as the first one.

Anything else returns ``None`` and the file is read record by record as before, so damaged
files keep their exact messages.

The scan works on bit masks, 64 bytes to a machine word: which bytes are quotes, line feeds,
delimiters, carriage returns and visible characters. "Inside a quoted field" is the running
parity of the quotes before a byte, computed a word at a time with shifts (no byte-by-byte
running sum, which is slow), and per-record counts are differences of running bit counts at
the record ends.
"""

from __future__ import annotations

import codecs
import io
from typing import Iterator, Sequence, overload

import numpy as np
import pandas as pd

#: Bytes scanned at a time: keeps the scan's working arrays small next to the parsed frame.
CHUNK_BYTES = 1 << 23
_QUOTE, _CR, _LF, _ASCII_END = 34, 13, 10, 128
#: Bit masks are little-endian 64-bit words: byte ``i`` of a chunk is bit ``i % 64`` of
#: word ``i // 64``.
_WORD = np.dtype("<u8")
_ONE, _ZERO = np.uint64(1), np.uint64(0)
_SHIFTS = tuple(np.uint64(s) for s in (1, 2, 4, 8, 16, 32))
_LAST_BIT = np.uint64(63)


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
            return iter(zip(*self.columns, strict=True)) if self.columns else iter(())
        return (self._row(i) for i in range(self._n))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == tuple(b)
                                               for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, like a list

    def __repr__(self) -> str:
        return f"ColumnRecords({len(self)} records x {len(self.columns)} fields)"


def _bits(mask: np.ndarray) -> np.ndarray:
    """A boolean mask packed into words (see ``_WORD``), zero beyond its end."""
    packed = np.packbits(mask, bitorder="little")
    return np.pad(packed, (0, -len(packed) % 8)).view(_WORD)


def _bit(words: np.ndarray, position: int) -> bool:
    """Whether bit ``position`` of packed ``words`` is set."""
    return bool((words[position >> 6] >> np.uint64(position & 63)) & _ONE)


def _from_before(words: np.ndarray, first: bool) -> np.ndarray:
    """Bit ``i`` says what bit ``i - 1`` of ``words`` said (bit 0: ``first``)."""
    moved = words << _ONE
    moved[1:] |= words[:-1] >> _LAST_BIT
    moved[0] |= np.uint64(first)
    return moved


def _from_after(words: np.ndarray, size: int, last: bool) -> np.ndarray:
    """Bit ``i`` says what bit ``i + 1`` of ``words`` said (bit ``size - 1``: ``last``)."""
    moved = words >> _ONE
    moved[:-1] |= words[1:] << _LAST_BIT
    if last:
        moved[(size - 1) >> 6] |= _ONE << np.uint64((size - 1) & 63)
    return moved


def _parity(quotes: np.ndarray, inside: int) -> np.ndarray:
    """Bit ``i`` set when an odd number of quotes (plus ``inside``) is at or before ``i``."""
    parity = quotes.copy()
    for shift in _SHIFTS:
        parity ^= parity << shift  # the running xor within each word
    # Each word starts from the parity of everything before it.
    carried = np.empty_like(parity)
    carried[0] = inside
    carried[1:] = np.bitwise_xor.accumulate(parity[:-1] >> _LAST_BIT) ^ np.uint64(inside)
    parity ^= _ZERO - carried  # all ones where an odd number of quotes came before
    return parity


def _positions(words: np.ndarray) -> np.ndarray:
    """Positions of the set bits of packed ``words``, ascending."""
    nonzero = np.flatnonzero(words)
    found = np.flatnonzero(np.unpackbits(words[nonzero].view(np.uint8), bitorder="little"))
    return nonzero[found >> 6] * 64 + (found & 63)


def _counts_before(words: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """How many bits of packed ``words`` are set before each of ``positions``."""
    per_word = np.bitwise_count(words).astype(np.int64)
    before_word = np.cumsum(per_word) - per_word
    at = positions >> 6
    below = (_ONE << (positions & 63).astype(np.uint64)) - _ONE
    return before_word[at] + np.bitwise_count(words[at] & below)


def _is_utf8(chunk: np.ndarray) -> bool:
    """Whether a chunk that starts and ends at whole characters is valid UTF-8.

    ASCII bytes are characters of their own and never part of another, so the bytes are UTF-8
    exactly when every run of non-ASCII bytes is: only those runs are decoded.
    """
    high = chunk >= _ASCII_END
    if not high.any():
        return True
    at = np.flatnonzero(high)
    runs = np.insert(chunk[at], np.flatnonzero(np.diff(at) != 1) + 1, _LF)
    try:
        runs.tobytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _chunk_stop(data: bytes, stop: int) -> int:
    """``stop`` moved past any non-ASCII bytes, so no character is split between chunks."""
    size = len(data)
    while stop < size and data[stop] >= _ASCII_END:
        ahead = np.frombuffer(data, dtype=np.uint8, count=min(256, size - stop), offset=stop)
        ascii_at = np.flatnonzero(ahead < _ASCII_END)
        stop += int(ascii_at[0]) if len(ascii_at) else len(ahead)
    return stop


def _scan(data: bytes, delimiter: int, begin: int = 0) -> dict | None:
    """Record shapes of ``data[begin:]`` if it is UTF-8 and its quoting is clean (else ``None``).

    Returns, per record, the number of field separators, whether it holds a visible
    character, its length in bytes and whether it is empty. A quote toggles "inside a quoted
    field"; in a cleanly quoted file that parity is exactly the csv module's state, so
    unquoted delimiters and line feeds are field and record ends. A carriage return must be
    followed by a line feed. Works a chunk at a time, on bit masks (see module docstring).
    """
    size = len(data)
    inside = 0               # quote parity carried across chunks
    previous_edge = True     # the text's start acts as a line start
    ends: list[np.ndarray] = []
    delims_before: list[np.ndarray] = []
    visible_before: list[np.ndarray] = []
    delim_total = visible_total = 0
    start = begin
    while start < size:
        stop = _chunk_stop(data, min(start + CHUNK_BYTES, size))
        n = stop - start
        chunk = np.frombuffer(data, dtype=np.uint8, count=n, offset=start)
        if not _is_utf8(chunk):
            return None
        quotes, line_feeds = _bits(chunk == _QUOTE), _bits(chunk == _LF)
        delims, returns = _bits(chunk == delimiter), _bits(chunk == _CR)
        following = data[stop] if stop < size else None
        if returns.any() and (returns & ~_from_after(line_feeds, n, following == _LF)).any():
            return None  # a lone carriage return: the csv module's handling is kept
        parity = _parity(quotes, inside)
        if quotes.any():
            edge = quotes | delims | line_feeds | returns
            opening = quotes & parity
            closing = quotes & ~parity
            after_edge = following is None or following in (delimiter, _CR, _LF, _QUOTE)
            # An opening quote starts a field (or doubles a quote), a closing one ends it.
            if (opening & ~_from_before(edge, previous_edge)).any() or \
                    (closing & ~_from_after(edge, n, after_edge)).any():
                return None
        outside = ~parity
        line_ends = _positions(line_feeds & outside)
        outside_delims = delims & outside
        # Anything but blanks, delimiters and quotes makes a cell non-blank; non-ASCII bytes
        # might be Unicode spaces, so they do not count.
        visible = _bits((chunk > 32) & (chunk < _ASCII_END)) & ~delims & ~quotes
        ends.append(line_ends + start)
        delims_before.append(_counts_before(outside_delims, line_ends) + delim_total)
        visible_before.append(_counts_before(visible, line_ends) + visible_total)
        delim_total += int(np.bitwise_count(outside_delims).sum())
        visible_total += int(np.bitwise_count(visible).sum())
        inside = int(_bit(parity, n - 1))
        previous_edge = int(chunk[-1]) in (delimiter, _CR, _LF, _QUOTE)
        start = stop
    if inside:
        return None  # a quote left open: the record reader reports it
    empty_int = np.zeros(0, dtype=np.int64)
    end = np.concatenate(ends) if ends else empty_int
    at_end_delims = np.concatenate(delims_before) if ends else empty_int
    at_end_visible = np.concatenate(visible_before) if ends else empty_int
    if size > begin and (not len(end) or end[-1] != size - 1):
        # The last record has no line end.
        end = np.append(end, size)
        at_end_delims = np.append(at_end_delims, delim_total)
        at_end_visible = np.append(at_end_visible, visible_total)
    record_begin = np.concatenate(([begin], end[:-1] + 1))
    raw = np.frombuffer(data, dtype=np.uint8)
    length = end - record_begin
    last = raw[np.clip(end - 1, 0, max(size - 1, 0))] if size else np.zeros(0, dtype=np.uint8)
    empty = (length == 0) | ((length == 1) & (last == _CR))
    return {"delims": np.diff(at_end_delims, prepend=0),
            "visible": np.diff(at_end_visible, prepend=0) > 0,
            "length": length, "empty": empty}


def read_columns_fast(data: bytes, delimiter: str, begin: int = 0) -> ColumnRecords | None:
    """The records of UTF-8 text, column by column, or ``None`` if it must be read record-wise.

    Gives exactly the records ``csv.reader(io.StringIO(text, newline=""), delimiter)``
    gives for ``text = data[begin:].decode("utf-8")`` (see module docstring for when that is
    proven); ``None`` as well when ``data[begin:]`` is not UTF-8.

    Parameters
    ----------
    data : bytes
        The export's bytes, or a text encoded as UTF-8.
    delimiter : str
        The field delimiter.
    begin : int, optional
        Where the text starts in ``data`` (after a byte-order mark): saves copying the rest.
    """
    if len(delimiter) != 1 or delimiter in '"\r\n' or ord(delimiter) >= _ASCII_END or \
            data.startswith(codecs.BOM_UTF8, begin):
        return None
    shape = _scan(data, ord(delimiter), begin)
    if shape is None or not len(shape["empty"]):
        return None
    empty = shape["empty"]
    separators = shape["delims"][~empty]
    if len(separators) and (separators != separators[0]).any():
        return None  # short or long records: the record reading reports them
    source = io.BytesIO(data)
    source.seek(begin)
    try:
        # dtype=object keeps Python strings (pandas' "str" dtype would have to be converted
        # back); no NA handling, so "NA", "null" and blanks stay text.
        frame = pd.read_csv(source, encoding="utf-8", dtype=object, header=None,
                            keep_default_na=False, na_filter=False, sep=delimiter,
                            quotechar='"', doublequote=True, skip_blank_lines=False,
                            engine="c")
    except (pd.errors.ParserError, ValueError, MemoryError):
        return None
    width = frame.shape[1]
    if len(frame) != len(empty) or (separators != width - 1).any():
        return None  # a count the parsers disagree on
    columns = tuple(frame[column].to_numpy(dtype=object) for column in frame.columns)
    del frame
    maybe_blank = np.flatnonzero(~empty & ~shape["visible"])
    return ColumnRecords(columns, empty=empty, longest=int(shape["length"].max()),
                         maybe_blank=maybe_blank)
