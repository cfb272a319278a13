"""Safe text for outputs: inert spreadsheet cells and masked contact details (pure).

Two protections every writer of an output applies:

* :func:`inert_cell` / :func:`inert_frame` — respondent text that a spreadsheet would run as a
  formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written
  with a leading apostrophe, as the OWASP guidance on CSV injection recommends. Excel and
  LibreOffice show such a cell as the text typed; numbers are left alone.
* :func:`mask_contacts` / :func:`mask_frame` — e-mail addresses and phone numbers typed into
  open answers are replaced by a placeholder in any output that leaves the analyst (funder
  and partner reports). Questions marked ``personal`` in the instrument are dropped
  altogether (see :func:`pipeline.run.analyse.analyse_wave`); masking covers what respondents type
  where no personal data was asked for.

References
----------
OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import re
from typing import Iterable

import pandas as pd

#: Characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Written in place of a masked e-mail address or phone number.
EMAIL_MASK = "[email removed]"
PHONE_MASK = "[phone removed]"

_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Digit groups joined by spaces, dots or dashes, with an optional +country code and area code
# in brackets; which of these are phone numbers is decided by their digits (_is_phone).
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?"
                    r"\d{2,4}(?:[\s.-]\d{2,5}){1,4}(?![\w])")
_LOCAL_PHONE = re.compile(r"\d{3}[\s.-]\d{4}")


def inert_cell(value: object) -> object:
    """A cell made safe for spreadsheets: text starting with a formula trigger gets ``'``.

    Non-text values and text that is a plain number (``-3``, ``+1.5``) are returned as they
    are, so numeric columns keep their meaning.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_TRIGGERS):
        return value
    if _PLAIN_NUMBER.match(value):
        return value
    return "'" + value


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are all :func:`inert_cell` (the input is unchanged)."""
    columns = {}
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_string_dtype(series) or series.dtype == object:
            columns[name] = series.map(inert_cell, na_action="ignore")
        else:
            columns[name] = series
    out = pd.DataFrame(columns, index=frame.index)
    out.columns = frame.columns
    return out


def _is_phone(candidate: str) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    if 9 <= digits <= 15:
        return True
    # Seven- or eight-digit local numbers only in the usual 555-0123 shape, so that year
    # ranges such as 2010-2016 are not taken for phone numbers.
    return digits >= 7 and bool(_LOCAL_PHONE.fullmatch(candidate))


def mask_contacts(text: str) -> str:
    """``text`` with e-mail addresses and phone numbers replaced by placeholders."""
    if not isinstance(text, str) or not text:
        return text
    masked = _EMAIL.sub(EMAIL_MASK, text)
    return _PHONE.sub(lambda m: PHONE_MASK if _is_phone(m.group(0)) else m.group(0), masked)


def mask_frame(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`mask_contacts` applied to ``columns`` (default: text ones)."""
    names = list(columns) if columns is not None else [
        c for c in frame.columns
        if pd.api.types.is_string_dtype(frame[c]) or frame[c].dtype == object]
    return frame.assign(**{name: frame[name].map(mask_contacts, na_action="ignore")
                           for name in names if name in frame})
