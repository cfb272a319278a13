"""Validation's fast paths give exactly what the straightforward paths give.

Expressions are evaluated once per distinct combination of the answers they refer to and
spread back over the rows; validation remembers a result while the answers it depends on are
unchanged. Both are checked against evaluating every row directly, on random expressions and
random answers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import canonical, row, tiny_instrument
from pipeline.model import expressions
from pipeline.stages import validate
from pipeline.stages.validate import ValidationConfig, validate_responses

# ---------------------------------------------------------------------------------------------
# Expressions on a plain frame.


class RowsFrameContext:
    """Questions as plain columns; ``m`` holds select-multiple answers as space-separated names."""

    def __init__(self, frame: pd.DataFrame, current: str):
        self.frame, self.current = frame, current

    def value(self, name):
        return self.frame[name or self.current]

    def selected(self, name, choice):
        column = self.frame[name or self.current]
        return column.fillna("").map(lambda v: choice in v.split()).astype(bool)

    def count_selected(self, name):
        return self.frame[name or self.current].fillna("").map(lambda v: len(v.split()))

    def take(self, positions):
        return RowsFrameContext(self.frame.iloc[positions].reset_index(drop=True), self.current)


# Text that looks like numbers, blanks, padding and large or odd numbers: the cases where text
# and numeric comparison part ways.
TEXTS = [None, "", " ", "yes", "no", "2", "2.0", " 3 ", "-1", "1e3", "nan", "inf",
         "12345678901234567891", "99999999999999999999999", "a b", "P0012"]
FLOATS = [None, 0.0, -0.0, 1.0, 2.5, -3.0, 1e20, 100.0, 0.1]
INTS = [None, 0, 1, 2, -7, 100, 2016]
MULTIS = [None, "", "x", "y", "x y", "none", "none x"]
COLUMNS = {"t": ("str", TEXTS), "f": ("Float64", FLOATS), "i": ("Int64", INTS),
           "m": ("str", MULTIS)}

LEAVES = st.sampled_from(["${t}", "${f}", "${i}", "${m}", ".", "3", "1.5", "0", "'yes'", "''",
                          "'2'", "true()", "false()"])


def _compose(inner):
    binary = st.tuples(inner, st.sampled_from(
        ["=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod", "and", "or"]), inner)
    return st.one_of(
        binary.map(lambda parts: f"({parts[0]}) {parts[1]} ({parts[2]})"),
        inner.map(lambda a: f"not({a})"),
        inner.map(lambda a: f"-({a})"),
        inner.map(lambda a: f"string-length({a})"),
        inner.map(lambda a: f"regex({a}, '^[0-9]')"),
        st.sampled_from(["selected(${m}, 'x')", "count-selected(${m})", "selected(., 'none')"]),
    )


EXPRESSIONS = st.recursive(LEAVES, _compose, max_leaves=6)


@st.composite
def frames(draw):
    """A few distinct rows, each repeated, in random order."""
    distinct = draw(st.integers(1, 5))
    templates = [{name: draw(st.sampled_from(values)) for name, (_, values) in COLUMNS.items()}
                 for _ in range(distinct)]
    order = draw(st.lists(st.integers(0, distinct - 1), min_size=6 * distinct + 6,
                          max_size=6 * distinct + 12))
    return pd.DataFrame({name: pd.Series([templates[i][name] for i in order], dtype=dtype)
                         for name, (dtype, _) in COLUMNS.items()})


def _keys(frame: pd.DataFrame, names: list[str], split: bool) -> list[tuple[np.ndarray, int]]:
    """Each column's codes; ``split`` gives equal values several codes (still a valid key)."""
    keys = []
    for name in names:
        codes, uniques = pd.factorize(frame[name])
        codes = np.where(codes < 0, len(uniques), codes)
        count = len(uniques) + 1
        if split:
            codes, count = codes * 2 + (np.arange(len(codes)) % 2), count * 2
        keys.append((codes, count))
    return keys


def _outcome(function):
    try:
        return function().tolist()
    except Exception as error:  # both paths must fail alike
        return type(error).__name__


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=EXPRESSIONS, frame=frames(), split=st.booleans())
def test_evaluate_bool_distinct__equals_evaluating_every_row(text, frame, split):
    node = expressions.parse(text)
    context = RowsFrameContext(frame, "m")
    names = sorted(expressions.references(node)) + (
        ["m"] if expressions.refers_to_current(node) else [])
    direct = _outcome(lambda: expressions.evaluate_bool(node, context, frame.index))
    grouped = _outcome(lambda: expressions.evaluate_bool_distinct(
        node, context, frame.index, _keys(frame, names, split)))
    assert grouped == direct


def test_evaluate_bool_distinct__evaluates_only_one_row_per_distinct_answer():
    frame = pd.DataFrame({"t": pd.Series(["yes", "no"] * 50, dtype="str"),
                          "f": pd.Series([1.0] * 100, dtype="Float64")})
    seen: list[int] = []

    class Counting(RowsFrameContext):
        def value(self, name):
            seen.append(len(self.frame))
            return super().value(name)

        def take(self, positions):
            return Counting(self.frame.iloc[positions].reset_index(drop=True), self.current)

    result = expressions.evaluate_bool_distinct(
        expressions.parse("${t} = 'yes'"), Counting(frame, "t"), frame.index,
        _keys(frame, ["t"], split=False))
    assert seen == [2]
    assert result.tolist() == [True, False] * 50


@given(columns=st.lists(st.lists(st.integers(0, 3), min_size=12, max_size=12), max_size=4),
       wide=st.booleans())
def test_distinct_rows__groups_exactly_the_rows_with_equal_codes(columns, wide):
    # ``wide`` declares far more codes than rows, which takes the hashing path.
    keys = [(np.array(codes), 10**6 if wide else 4) for codes in columns]
    representatives, inverse = expressions.distinct_rows(keys, 12)
    combos = [tuple(codes[i] for codes in columns) for i in range(12)]
    assert len(representatives) == len(set(combos))
    for position in range(12):
        assert combos[representatives[inverse[position]]] == combos[position]
    for a in range(12):
        for b in range(12):
            assert (inverse[a] == inverse[b]) == (combos[a] == combos[b])


# ---------------------------------------------------------------------------------------------
# Whole validation, against validation that evaluates every expression on every row.

SURVEY = """\
type,name,label,required,relevant,constraint,constraint_message,personal
text,pid,Partnership id,yes,,"regex(., '^P[0-9]+$')",An id,no
text,email,Email,no,${screen} != 'no',"regex(., '^[^@ ]+@[^@ ]+$')",Enter an email.,yes
select_one yn,screen,Multi-sector?,yes,,. = 'yes' or ${pid} = 'P1',,no
begin_group,core,Core,,${screen} != 'no',,,
integer,year,Year formed,yes,,. >= 1950 and . <= 2016,Year between 1950 and 2016,no
decimal,staff,Staff FTE,no,${year} > 2000 or ${pid} = 'P2',. > 0 and . < ${year} div 10,Fewer,no
select_multiple bar,barriers,Barriers,yes,${staff} != 1 and ${year} != 2005,count-selected(.) < 3,,no
text,barriers_other,Other barrier,no,"selected(${barriers}, 'other')",string-length(.) > 2,,no
select_one stage,stage,Stage,yes,"${staff} + ${year} > 2010 or not(selected(${barriers}, 'none'))",,,no
end_group,,,,,,,
"""  # noqa: E501 -- a survey table's rows, each on one line as in the file
POOLS = {
    "submitted_at": ["2016-06-01 10:00:00", "01/06/2016 10:00", ""],
    "finished": ["1", "0", " 1", ""],
    "progress": ["100", "50", "", "x"],
    "pid": ["P1", "P2", "", "X9", " P3 "],
    "email": ["a@b.org", "bad", "", "c@d.e"],
    "screen": ["1", "2", "yes", "no", "", "7", "1.0"],
    "year": ["2012", "1999", "1800", "", "x", "2,016", "2010.5", "2005"],
    "staff": ["2.5", "0", "", "-1", "150", "1", "1,200.5", "abc"],
    "barriers": ["1 2", "4", "4 1", "3", "", "9", "1 3", "1 2 3"],
    "barriers_other": ["", "text", "9", "ab"],
    "stage": ["1", "2", "3", "4", "", "5"],
}
CONFIG = ValidationConfig(multiple_separator=" ", finished_true=("1",), max_invalid=2,
                          submitted_at_format="%Y-%m-%d %H:%M:%S")


@pytest.fixture(scope="module")
def instrument():
    return tiny_instrument(survey=SURVEY)


@st.composite
def exports(draw):
    distinct = draw(st.integers(1, 6))
    templates = [{name: draw(st.sampled_from(values)) for name, values in POOLS.items()}
                 for _ in range(distinct)]
    order = draw(st.lists(st.integers(0, distinct - 1), min_size=4 * distinct + 4,
                          max_size=4 * distinct + 10))
    return [row(response_id=f"R{n}", **templates[i]) for n, i in enumerate(order)]


def _every_row(text, context, keys, index, evaluated):
    return expressions.evaluate_bool(expressions.parse(text), context, index)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=exports())
def test_validate__distinct_evaluation__equals_evaluating_every_row(rows, instrument,
                                                                     monkeypatch):
    frame = canonical(rows, instrument).frame
    fast = validate_responses(frame, instrument, CONFIG)
    with monkeypatch.context() as patch:
        patch.setattr(validate, "_holds", _every_row)
        slow = validate_responses(frame, instrument, CONFIG)
    pd.testing.assert_frame_equal(fast.frame, slow.frame, check_exact=True)
    pd.testing.assert_frame_equal(fast.issues, slow.issues, check_exact=True)


def _codes(result, code: str) -> list[tuple[int, str]]:
    found = result.issues[result.issues["code"].eq(code)]
    return sorted(zip(found["row"].astype(int), found["column"], strict=True))


def test_validate__answer_blanked_by_its_constraint__is_seen_blank_by_a_repeated_condition(
        instrument):
    # The condition on screen is evaluated for email, then screen is blanked where it breaks
    # its constraint (pid P2), and the same condition is evaluated again for the group.
    rows = [row(response_id=f"R{n}", pid="P2" if n % 2 else "P1", screen="2", email="")
            for n in range(10)]
    result = validate_responses(canonical(rows, instrument).frame, instrument, CONFIG)
    assert _codes(result, "VAL_004") == [(n + 2, "screen") for n in range(10) if n % 2]
    hidden = {position for position, _ in _codes(result, "VAL_006")}
    assert hidden == {n + 2 for n in range(10) if not n % 2}


def test_validate__answer_blanked_on_some_rows_of_one_value__is_blank_on_those_rows_only(
        instrument):
    # Every row answers staff 15 and year 1999; staff is hidden (and blanked) where pid is P1,
    # so the stage condition (staff + year > 2010, or no 'none' barrier) fails on those rows
    # only, although nothing the condition refers to told the rows apart before.
    rows = [row(response_id=f"R{n}", pid="P2" if n % 2 else "P1", year="1999", staff="15",
                barriers="4") for n in range(10)]
    result = validate_responses(canonical(rows, instrument).frame, instrument, CONFIG)
    assert _codes(result, "VAL_006") == sorted(
        [(n + 2, "staff") for n in range(10) if not n % 2]
        + [(n + 2, "stage") for n in range(10) if not n % 2])


# ---------------------------------------------------------------------------------------------
# Decoding shortcuts.

TEXT = st.text(alphabet=st.sampled_from(["a", "1", " ", "\t", "\u00a0", "\u2003", "\n", "é"]),
               max_size=4)


@given(values=st.lists(TEXT, min_size=1, max_size=30))
def test_blank__text_only_column__equals_the_general_rule(values):
    series = pd.Series(values, dtype=object, name="q")
    general = series.isna() | series.astype(str).str.strip().eq("")
    pd.testing.assert_series_equal(validate._blank(series), general)


@given(values=st.lists(TEXT, min_size=1, max_size=30))
def test_stripped__text_only_column__has_the_values_of_astype_str_strip(values):
    series = pd.Series(values, dtype=object, name="response_id")
    general = series.astype(str).str.strip()
    assert validate._stripped(series).tolist() == general.tolist()
    assert validate._stripped(series).duplicated(keep=False).tolist() == \
        general.duplicated(keep=False).tolist()


def test_distinct__cells_that_are_not_all_text__are_decoded_one_by_one():
    # 1, 1.0 and True hash alike but read differently.
    codes, values = validate._distinct(pd.Series([1, 1.0, True, "1", 1], dtype=object))
    assert codes.tolist() == [0, 1, 2, 3, 4]
    assert values.tolist() == [1, 1.0, True, "1", 1]


def test_masked_key__blanked_rows__get_a_code_no_other_row_has():
    key = validate._key(np.arange(256) % 128, 128)  # the largest count of the smallest type
    mask = np.arange(256) % 3 == 0
    codes, count = validate._masked_key(key, mask)
    assert count == 129
    assert codes[mask].tolist() == [128] * int(mask.sum())
    assert codes[~mask].tolist() == (np.arange(256) % 128)[~mask].tolist()


def test_validate__identifier_columns_decoded_row_by_row__equals_hashing_them(
        instrument, monkeypatch):
    # More than twice the probe's rows, with pid distinct in the probe but repeated later,
    # and answers that break pid's constraint.
    size = 2 * validate._PROBE_ROWS + 50
    rows = [row(response_id=f"R{n}", pid=f"P{n % (size - 40)}" if n % 7 else f" X{n} ",
                year=str(1990 + n % 30)) for n in range(size)]
    frame = canonical(rows, instrument).frame
    assert len(validate._distinct(frame["pid"])[1]) == size
    fast = validate_responses(frame, instrument, CONFIG)
    monkeypatch.setattr(validate, "_PROBE_ROWS", size)
    assert len(validate._distinct(frame["pid"])[1]) < size
    slow = validate_responses(frame, instrument, CONFIG)
    pd.testing.assert_frame_equal(fast.frame, slow.frame, check_exact=True)
    pd.testing.assert_frame_equal(fast.issues, slow.issues, check_exact=True)
    assert "VAL_004" in set(fast.issues["code"])
