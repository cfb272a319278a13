"""Column operations on arrays of export cells, shared by the assembly of responses.

Pure functions of numpy object arrays (cell texts): stripping, case-folded membership,
replacing, and coding values and their combinations so that each distinct value (or
combination) is worked out once.
"""

from __future__ import annotations

from typing import AbstractSet, Any, Sequence

import numpy as np
import pandas as pd


def as_objects(values: Sequence[Any]) -> np.ndarray:
    """A 1-d object array of ``values`` (tuples stay elements, not rows)."""
    array = np.empty(len(values), dtype=object)
    array[:] = list(values) if not isinstance(values, list) else values
    return array


STRIP = np.frompyfunc(str.strip, 1, 1)


def stripped(values: np.ndarray) -> np.ndarray:
    """Every value without its surrounding blanks (an object array)."""
    return as_objects([]) if not len(values) else STRIP(values)


def folded_in(values: np.ndarray, members: AbstractSet[str]) -> np.ndarray:
    """Whether each value, case-folded, is one of ``members`` (given case-folded)."""
    if not members or not len(values):
        return np.zeros(len(values), dtype=bool)
    # Case folding never shortens a string: only values as short as a member can match.
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    short = lengths <= max(map(len, members))
    everywhere = bool(short.all())
    codes, distinct = pd.factorize(values if everywhere else values[short])
    hit = np.fromiter((value.casefold() in members for value in distinct), dtype=bool,
                      count=len(distinct))
    if everywhere:
        return hit[codes]
    found = np.zeros(len(values), dtype=bool)
    found[short] = hit[codes]
    return found


def replaced(values: np.ndarray, where: np.ndarray, value: str) -> np.ndarray:
    """A copy of ``values`` holding ``value`` where ``where`` is true (``values`` if nowhere)."""
    if not where.any():
        return values
    result = values.copy()
    result[where] = value
    return result


def factorize(values: np.ndarray) -> tuple[np.ndarray, int]:
    """A code per row for each distinct value (numbered in order of appearance), and how
    many there are."""
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64, copy=False), len(uniques)


def first_rows(codes: np.ndarray) -> np.ndarray:
    """The row where each code first appears, for codes numbered in order of appearance."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    new = np.empty(len(codes), dtype=bool)
    new[0] = True
    # A code appears for the first time exactly where it exceeds every code before it.
    np.greater(codes[1:], np.maximum.accumulate(codes)[:-1], out=new[1:])
    return np.flatnonzero(new)


def combination_codes(coded: Sequence[tuple[np.ndarray, int]]
                       ) -> tuple[np.ndarray, np.ndarray]:
    """A code per row for each distinct combination of values, and one row holding each
    combination (so a combination is decided once, however many rows share it).

    ``coded`` holds each array's :func:`factorize`.
    """
    key = coded[0][0]
    for codes, count in coded[1:]:
        # Re-coding after each column keeps the mixed-radix key small.
        key, _ = pd.factorize(key * count + codes)
    return key, first_rows(key)
