"""XLSForm expressions: parsing, references, and ODK's treatment of blanks."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.model.expressions import ExpressionError, evaluate, evaluate_bool, parse, references


class FrameContext:
    """Questions as plain columns; select-multiple answers as space-separated names."""

    def __init__(self, frame: pd.DataFrame, current: str, multiple: tuple[str, ...] = ()):
        self.frame, self.current, self.multiple = frame, current, multiple

    def value(self, name):
        return self.frame[name or self.current]

    def selected(self, name, choice):
        column = self.frame[name or self.current]
        return column.fillna("").map(lambda v: choice in v.split())

    def count_selected(self, name):
        return self.frame[name or self.current].fillna("").map(lambda v: len(v.split()))


FRAME = pd.DataFrame({
    "q": pd.Series(["yes", None, "no"], dtype="str"),
    "n": pd.Series([50, None, 101], dtype="Float64"),
    "m": pd.Series(["none other", "a", None], dtype="str"),
})


def run(expression: str, current: str = "q") -> list[bool]:
    return evaluate_bool(parse(expression), FrameContext(FRAME, current), FRAME.index).tolist()


@pytest.mark.parametrize("text, message", [
    ("${a} = ", "ends too early"),
    ("frobnicate(1)", "unknown function"),
    ("selected('a', 'b')", "must be a question"),
    ("1 +* 2", "unexpected '*'"),
    ("${a} = (1", "ends too early"),
    ("not(1, 2)", "takes 1 argument"),
    ("${a} # 2", "unexpected character"),
])
def test_parse__malformed_expression__raises_with_reason(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse(text)


def test_references__names_every_question_referred_to():
    node = parse("${a} = 'x' and not(selected(${b}, 'none')) or count-selected(${c}) > 1")
    assert references(node) == {"a", "b", "c"}


def test_not_equal__blank_answer__is_true_as_in_odk():
    assert run("${q} != 'yes'") == [False, True, True]


def test_numeric_comparison__blank_answer__is_false():
    assert run(". >= 0 and . <= 100", current="n") == [True, False, False]


def test_selected_and_count_selected__on_space_separated_answers():
    assert run("not(selected(., 'none') and count-selected(.) > 1)", current="m") == [
        False, True, True]


def test_arithmetic__sum_with_a_blank__is_missing_so_equality_fails():
    values = evaluate(parse("${n} + 0"), FrameContext(FRAME, "n"), FRAME.index)
    assert values.isna().tolist() == [False, True, False]
    assert run("${n} + ${n} = 100") == [True, False, False]


def test_regex__matches_a_pattern_and_blank_is_false():
    assert run("regex(${q}, '^y')") == [True, False, False]


def test_operator_precedence__and_binds_tighter_than_or():
    assert run("${q} = 'no' or ${q} = 'yes' and ${n} > 60") == [False, False, True]
