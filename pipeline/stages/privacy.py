"""Safe text for outputs: inert spreadsheet cells and masked contact details (pure).

Two protections every writer of an output applies:

* :func:`inert_cell` / :func:`inert_frame` — respondent text that a spreadsheet would run as a
  formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written
  with a leading apostrophe, as the OWASP guidance on CSV injection recommends. Excel and
  LibreOffice show such a cell as the text typed; numbers are left alone.
* :func:`mask_contacts` / :func:`mask_frame` — e-mail addresses (spelt-out ones such as
  ``jane at example dot org`` too), phone numbers (grouped or unbroken), IP addresses, web
  addresses that carry a user name or password, names after a title or office
  (``Dr. Maria Gonzalez``) and (given a list of them) the wave's known names typed into
  answers are replaced by a placeholder. A name typed without a title cannot be found by a
  pattern: free text therefore never leaves ``internal/`` (no published file, report or
  partner page carries an open answer) and no command prints one. Questions marked
  ``personal`` in the instrument are dropped altogether (see
  :func:`pipeline.run.analyse.analyse_wave`); masking covers what respondents type where no
  personal data was asked for.
* :func:`mask_personal` — the one masking step of a run: every open answer of the analysed
  set and every issue's value, rule, fix and message pass through it before anything is
  written, so no output (whatever folder it lands in) carries them unless the user asked
  for ``--keep-personal``. An answer hidden by skip logic is not copied into the issues at
  all: only its length is.

References
----------
OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.model.instrument import Instrument

#: Characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Written in place of a masked e-mail address or phone number.
EMAIL_MASK = "[email removed]"
PHONE_MASK = "[phone removed]"
IP_MASK = "[IP address removed]"
URL_MASK = "[web address with credentials removed]"
NAME_MASK = "[name removed]"
#: Issue columns that may carry what a respondent typed.
ISSUE_TEXT_COLUMNS = ("value", "rule", "fix", "message")
#: Issues about an answer that skip logic hides: the answer is summarised, never copied.
HIDDEN_ANSWER_CODES = ("VAL_006",)
#: Personal values shorter than this are not masked as names (they would hit ordinary words).
MIN_NAME_CHARS = 4

_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Digit groups joined by spaces, dots or dashes, with an optional +country code and area code
# in brackets; which of these are phone numbers is decided by their digits (_is_phone).
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?"
                    r"\d{2,5}(?:[\s.-]\d{2,6}){1,4}(?![\w])")
# A number typed without separators: + and 9 to 15 digits, or 10 to 15 digits (07700900123,
# 2025550147); shorter runs are left, so that counts, amounts and years stay readable.
_UNBROKEN_PHONE = re.compile(r"(?<![\w+.,])(?:\+\d{9,15}|\d{10,15})(?![\w.,]*\d)")
# An e-mail address spelt out so that it is not a link: "jane.doe at example dot org",
# "jdoe [at] example [dot] org", "j.doe{at}example.net". The host must end in a word of
# letters after a spelt or written dot, so "arrived at 5.30" is left.
_AT = r"(?:\s*[\[({]\s*at\s*[\])}]\s*|\s+at\s+)"
_DOT = r"(?:\s*[\[({]\s*dot\s*[\])}]\s*|\s+dot\s+|\.)"
_SPELT_EMAIL = re.compile(
    rf"(?<![\w.])[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[A-Za-z]{{2,24}}\b", re.IGNORECASE)
# A name after a title or office ("Dr. Maria Gonzalez", "Mayor Tom Bradshaw"): the title
# says the capitalised words that follow are a person's name. A name typed without a title
# cannot be told from other words by a pattern (see mask_contacts).
_TITLES = ("Dr", "Dra", "Mr", "Mrs", "Ms", "Mx", "Miss", "Prof", "Professor", "Rev", "Revd",
           "Reverend", "Fr", "Sr", "Sra", "Srta", "Sir", "Dame", "Mayor", "Senator", "Rep",
           "Representative", "Governor", "Councilman", "Councilwoman", "Councilmember",
           "Councillor", "Commissioner", "Judge", "Pastor", "Rabbi", "Imam")
_NAME_WORD = r"(?:[A-Z](?:[a-z\u00df-\u00ff]*['\u2019-][A-Z])?[\w\u00c0-\u00ff'\u2019-]*\.?)"
_TITLED_NAME = re.compile(rf"\b(?:{'|'.join(_TITLES)})\.?\s+{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}}"
                          rf"(?<![.'\u2019-])")
_LOCAL_PHONE = re.compile(r"\d{3}[\s.-]\d{4}")
# scheme://userinfo@host...: a web address that carries a user name (and maybe a password).
_URL_CREDENTIALS = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@]+@[^\s]*")
# Candidates only; ipaddress decides (so 1.2.3 or 999.1.1.1 or a time 12:30:45 are left).
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.]*\d)")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")


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


def _is_ip(candidate: str) -> bool:
    if sum(ch.isalnum() for ch in candidate) < 2:
        return False  # "::" alone is punctuation in prose
    if candidate.count(":") >= 2 and "::" not in candidate and candidate.count(":") < 7:
        return False  # a time such as 12:30:45, not a shortened IPv6 address
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def _mask_ip(match: re.Match) -> str:
    return IP_MASK if _is_ip(match.group(0)) else match.group(0)


def mask_contacts(text: str, names: re.Pattern[str] | None = None) -> str:
    """``text`` with contact details replaced by placeholders.

    Masks, in this order, web addresses with a user name or password (``https://u:p@host``),
    e-mail addresses (written, or spelt out: ``jane.doe at example dot org``,
    ``jdoe [at] example [dot] org``), IP addresses (v4 and v6, checked with :mod:`ipaddress`),
    phone numbers (digit groups, or an unbroken run of 10 to 15 digits, or ``+`` and 9 to 15),
    when ``names`` is given (see :func:`names_pattern`) those names, and capitalised words
    after a title or office (``Dr.``, ``Mrs``, ``Prof``, ``Mayor``, ...).

    Notes
    -----
    A name typed without a title ("ask Maria") is not masked unless it is one of ``names``:
    no pattern tells it from other capitalised words. Outputs keep free text inside
    ``internal/`` for that reason.
    """
    if not isinstance(text, str) or not text:
        return text
    masked = _URL_CREDENTIALS.sub(URL_MASK, text)
    masked = _EMAIL.sub(EMAIL_MASK, masked)
    masked = _IPV4.sub(_mask_ip, masked)
    masked = _IPV6.sub(_mask_ip, masked)
    masked = _SPELT_EMAIL.sub(EMAIL_MASK, masked)
    masked = _PHONE.sub(lambda m: PHONE_MASK if _is_phone(m.group(0)) else m.group(0), masked)
    masked = _UNBROKEN_PHONE.sub(PHONE_MASK, masked)
    if names is not None:
        masked = names.sub(NAME_MASK, masked)
    return _TITLED_NAME.sub(NAME_MASK, masked)


def names_pattern(names: Iterable[object]) -> re.Pattern[str] | None:
    """One pattern matching any of ``names`` as whole words, longest first, any case.

    Blank values and values shorter than :data:`MIN_NAME_CHARS` are left out; ``None`` when
    no name remains.
    """
    kept = sorted({" ".join(str(n).split()) for n in names
                   if isinstance(n, str) and len(n.strip()) >= MIN_NAME_CHARS},
                  key=lambda n: (-len(n), n))
    if not kept:
        return None
    # Spaces in a name match any run of white space, so a re-typed name is found too.
    alternatives = "|".join(r"\s+".join(map(re.escape, n.split())) for n in kept)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def mask_frame(frame: pd.DataFrame, columns: Iterable[str] | None = None,
               names: re.Pattern[str] | None = None) -> pd.DataFrame:
    """A copy of ``frame``, :func:`mask_contacts` applied to ``columns`` (default: text ones)."""
    chosen = list(columns) if columns is not None else [
        c for c in frame.columns
        if pd.api.types.is_string_dtype(frame[c]) or frame[c].dtype == object]

    def mask(value: object) -> object:
        return mask_contacts(value, names) if isinstance(value, str) else value

    return frame.assign(**{name: frame[name].map(mask, na_action="ignore")
                           for name in chosen if name in frame})


def hidden_answer_summary(value: object) -> object:
    """What the issues keep of an answer that skip logic hides: its length, not its text."""
    if not isinstance(value, str) or not value:
        return value
    return f"[hidden answer, {len(value)} character{'s' if len(value) != 1 else ''}]"


@dataclass(frozen=True)
class PersonalMask:
    """The masking step of a run (see :func:`mask_personal`).

    Attributes
    ----------
    text_columns : tuple of str
        Columns of free text (open answers, "other (specify)") to mask in the analysed set.
    names : re.Pattern or None
        The names known for the wave (the answers to its personal questions), or ``None``.
    """

    text_columns: tuple[str, ...]
    names: re.Pattern[str] | None = None

    def issues(self, issues: pd.DataFrame) -> pd.DataFrame:
        """A copy of an issues table with its text masked and hidden answers summarised."""
        out = issues
        if "value" in out and "code" in out and "column" in out:
            # Free text hidden by skip logic; a hidden choice code is kept (it is no text).
            hidden = out["code"].isin(HIDDEN_ANSWER_CODES) & out["column"].isin(
                self.text_columns)
            if hidden.any():
                value = out["value"].astype(object).copy()
                value[hidden] = value[hidden].map(hidden_answer_summary, na_action="ignore")
                out = out.assign(value=value)
        return mask_frame(out, [c for c in ISSUE_TEXT_COLUMNS if c in out], self.names)

    def answers(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``frame`` with its free-text columns masked."""
        return mask_frame(frame, [c for c in self.text_columns if c in frame], self.names)


def personal_mask(typed: pd.DataFrame, text_columns: Iterable[str],
                  personal_columns: Iterable[str]) -> PersonalMask:
    """The masking step for a wave: its free-text columns and the names it knows.

    Parameters
    ----------
    typed : DataFrame
        Every row of the wave as read (all rows, not only the analysed ones, so a name given
        by a row that was later excluded is still known).
    text_columns : iterable of str
        Free-text answer columns (open answers and "other (specify)").
    personal_columns : iterable of str
        Columns of the instrument's personal questions; their text values are the names.
    """
    values: list[object] = []
    for column in personal_columns:
        if column in typed:
            values.extend(typed[column].dropna().tolist())
    return PersonalMask(text_columns=tuple(text_columns), names=names_pattern(values))


def instrument_mask(typed: pd.DataFrame, instrument: Instrument) -> PersonalMask:
    """:func:`personal_mask` for an instrument: its ``text`` questions and personal questions."""
    return personal_mask(typed, [q.name for q in instrument.answerable if q.type == "text"],
                         instrument.personal_questions)


def mask_personal(mask: PersonalMask, issues: pd.DataFrame, answers: pd.DataFrame
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The one masking step: ``(issues, answers)`` with personal data masked (pure).

    Every issue value, rule, fix and message, and every free-text answer, has e-mail
    addresses, phone numbers, IP addresses, web addresses with credentials and the wave's
    known names replaced by placeholders; an answer that skip logic hides is reduced to its
    length. ``--keep-personal`` is the only way round it (the caller then skips this step).
    """
    return mask.issues(issues), mask.answers(answers)
