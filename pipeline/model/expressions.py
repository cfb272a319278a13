"""XLSForm expressions: parse ``relevant`` and ``constraint`` and evaluate them on whole columns.

The supported subset is the one survey authors use for skip logic and answer checks::

    ${q}  .  'text'  "text"  12  1.5  ( ... )
    =  !=  <  <=  >  >=  +  -  *  div  mod  and  or
    not(x)  selected(${q}, 'choice')  count-selected(${q})  string-length(x)  regex(x, 'pattern')
    true()  false()

Evaluation follows ODK's conventions for blanks: an unanswered question compares as the empty
string in text comparisons (so ``${q} != 'none'`` is true when ``q`` is blank) and as NaN in
arithmetic and numeric comparisons (so ``. >= 0`` is false for a blank). Expressions are
evaluated for all rows at once; nothing here reads files.

References
----------
XLSForm specification, "Form logic" and "Constraints": https://xlsform.org/en/
ODK XForms specification, "XPath functions": https://getodk.github.io/xforms-spec/
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np
import pandas as pd

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<ref>\$\{\s*(?P<refname>[A-Za-z_][A-Za-z0-9_.\-]*)\s*\})
      | (?P<number>\d+(?:\.\d*)?|\.\d+)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<op><=|>=|!=|=|<|>|\+|-|\*|\(|\)|,)
      | (?P<dot>\.)
      | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*)
    )""",
    re.VERBOSE,
)

_FUNCTIONS = {
    "not": 1,
    "selected": 2,
    "count-selected": 1,
    "string-length": 1,
    "regex": 2,
    "true": 0,
    "false": 0,
}
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")


class ExpressionError(ValueError):
    """An expression that does not parse; the message says where and why."""


@dataclass(frozen=True)
class Node:
    """One node of a parsed expression: ``kind`` and its operands."""

    kind: str  # 'num', 'str', 'ref', 'dot', 'op', 'call'
    value: object = None
    args: tuple["Node", ...] = ()


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    stripped_end = len(text.rstrip())
    while position < stripped_end:
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ExpressionError(f"unexpected character {text[position:].strip()[:1]!r} "
                                  f"at position {position + 1}")
        position = match.end()
        kind = match.lastgroup if match.lastgroup != "refname" else "ref"
        if match.group("ref"):
            tokens.append(("ref", match.group("refname")))
        elif kind == "number":
            tokens.append(("num", match.group("number")))
        elif kind == "string":
            tokens.append(("str", match.group("string")[1:-1]))
        elif kind == "op":
            tokens.append(("op", match.group("op")))
        elif kind == "dot":
            tokens.append(("dot", "."))
        else:
            tokens.append(("word", match.group("word")))
    return tokens


class _Parser:
    """Recursive-descent parser over the token list (precedence: or < and < compare < + < *)."""

    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ExpressionError("the expression ends too early")
        self.index += 1
        return token

    def expect(self, value: str) -> None:
        token = self.take()
        if token[1] != value:
            raise ExpressionError(f"expected {value!r} but found {token[1]!r}")

    def parse(self) -> Node:
        if not self.tokens:
            raise ExpressionError("the expression is empty")
        node = self.or_expr()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()[1]!r} after a complete expression")
        return node

    def _binary(self, operand: Callable[[], Node], operators: tuple[str, ...]) -> Node:
        node = operand()
        while (token := self.peek()) is not None and token[0] in ("op", "word") \
                and token[1] in operators:
            self.take()
            node = Node("op", token[1], (node, operand()))
        return node

    def or_expr(self) -> Node:
        return self._binary(self.and_expr, ("or",))

    def and_expr(self) -> Node:
        return self._binary(self.comparison, ("and",))

    def comparison(self) -> Node:
        node = self.additive()
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] in _COMPARISONS:
            self.take()
            node = Node("op", token[1], (node, self.additive()))
        return node

    def additive(self) -> Node:
        return self._binary(self.multiplicative, ("+", "-"))

    def multiplicative(self) -> Node:
        return self._binary(self.unary, ("*", "div", "mod"))

    def unary(self) -> Node:
        token = self.peek()
        if token == ("op", "-"):
            self.take()
            return Node("op", "neg", (self.unary(),))
        return self.primary()

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "num":
            return Node("num", float(value))
        if kind == "str":
            return Node("str", value)
        if kind == "ref":
            return Node("ref", value)
        if kind == "dot":
            return Node("dot")
        if (kind, value) == ("op", "("):
            node = self.or_expr()
            self.expect(")")
            return node
        if kind == "word":
            if value not in _FUNCTIONS:
                raise ExpressionError(f"unknown function or word {value!r}")
            self.expect("(")
            args: list[Node] = []
            if self.peek() != ("op", ")"):
                args.append(self.or_expr())
                while self.peek() == ("op", ","):
                    self.take()
                    args.append(self.or_expr())
            self.expect(")")
            if len(args) != _FUNCTIONS[value]:
                raise ExpressionError(f"{value}() takes {_FUNCTIONS[value]} argument(s), "
                                      f"got {len(args)}")
            if value in ("selected", "count-selected") and args[0].kind not in ("ref", "dot"):
                raise ExpressionError(f"the first argument of {value}() must be a question")
            return Node("call", value, tuple(args))
        raise ExpressionError(f"unexpected {value!r}")


def parse(text: str) -> Node:
    """Parse an XLSForm expression.

    Raises
    ------
    ExpressionError
        With a message saying what is wrong and where.
    """
    return _Parser(_tokenize(str(text))).parse()


def references(node: Node) -> frozenset[str]:
    """Names of the questions an expression refers to with ``${name}``."""
    if node.kind == "ref":
        return frozenset({str(node.value)})
    found: frozenset[str] = frozenset()
    for arg in node.args:
        found |= references(arg)
    return found


def refers_to_current(node: Node) -> bool:
    """Whether an expression uses ``.``, the question being checked."""
    return node.kind == "dot" or any(refers_to_current(arg) for arg in node.args)


class Context(Protocol):
    """What an expression needs from the data it is evaluated on."""

    def value(self, name: str | None) -> pd.Series:
        """Answers to a question (``None`` for ``.``, the question being checked)."""

    def selected(self, name: str | None, choice: str) -> pd.Series:
        """Boolean: the choice is among the answers."""

    def count_selected(self, name: str | None) -> pd.Series:
        """Number of choices among the answers."""


class RowsContext(Context, Protocol):
    """A :class:`Context` that can also give the same answers for a subset of its rows."""

    def take(self, positions: np.ndarray) -> "Context":
        """The context of the rows at ``positions`` (in that order, on a fresh range index)."""


def evaluate(node: Node, context: Context, index: pd.Index) -> pd.Series:
    """Evaluate a parsed expression on every row of ``index``; returns a Series.

    Comparisons and logical operators return booleans with no missing values; arithmetic
    returns floats with NaN for blanks.
    """
    result = _eval(node, context, index)
    if np.isscalar(result):
        return pd.Series(result, index=index)
    return result


def evaluate_bool(node: Node, context: Context, index: pd.Index) -> pd.Series:
    """Evaluate and coerce to a plain boolean Series (blank → False)."""
    return _truthy(evaluate(node, context, index), index)


def evaluate_bool_distinct(node: Node, context: RowsContext, index: pd.Index,
                           keys: list[tuple[np.ndarray, int]]) -> pd.Series:
    """:func:`evaluate_bool`, computed once per distinct combination of ``keys``.

    Every operation of an expression is a function of one row's answers, so rows whose
    referenced answers are equal get equal results: the expression is evaluated on one row per
    distinct combination and the results are spread back over all rows. When the keys are
    (nearly) unique the expression is evaluated on all rows directly.

    Parameters
    ----------
    node : Node
        The parsed expression.
    context : RowsContext
        The answers of every row of ``index``.
    index : pandas.Index
        The rows.
    keys : list of (ndarray, int)
        For each question the expression refers to (``.`` included), each row's code in
        ``range(count)`` and ``count``; rows with the same code have the same answers.

    Returns
    -------
    pandas.Series
        Exactly what :func:`evaluate_bool` returns.
    """
    size = len(index)
    if size == 0 or any(2 * count > size for _, count in keys):
        return evaluate_bool(node, context, index)
    representatives, inverse = distinct_rows(keys, size)
    if 2 * len(representatives) > size:
        return evaluate_bool(node, context, index)
    few = evaluate_bool(node, context.take(representatives),
                        pd.RangeIndex(len(representatives)))
    return pd.Series(few.to_numpy()[inverse], index=index, name=few.name)


def distinct_rows(keys: list[tuple[np.ndarray, int]], size: int) -> tuple[np.ndarray, np.ndarray]:
    """One row per distinct combination of codes, and each row's combination.

    Parameters
    ----------
    keys : list of (ndarray, int)
        Per key, each row's code in ``range(count)`` and ``count``.
    size : int
        Number of rows (the length of every code array).

    Returns
    -------
    representatives : numpy.ndarray
        A row position for each distinct combination.
    inverse : numpy.ndarray
        For each row, the position of its combination in ``representatives``.
    """
    dense_limit = 2 * size + 1024
    combined = np.zeros(size, dtype=np.int64)
    span = 1
    for codes, count in keys:
        if span * count > dense_limit:
            combined, span = _compact(combined)
        combined = combined * count + codes.astype(np.int64, copy=False)
        span *= count
    if span > dense_limit:
        inverse, span = _compact(combined)
    else:
        seen = np.zeros(span, dtype=bool)
        seen[combined] = True
        inverse = (np.cumsum(seen) - 1)[combined]
        span = int(seen.sum())
    representatives = np.empty(span, dtype=np.intp)
    representatives[inverse] = np.arange(size)
    return representatives, inverse


def _compact(combined: np.ndarray) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(combined)
    return codes.astype(np.int64, copy=False), len(uniques)


def _name(node: Node) -> str | None:
    return None if node.kind == "dot" else str(node.value)


def _eval(node: Node, context: Context, index: pd.Index):
    if node.kind in ("num", "str"):
        return node.value
    if node.kind in ("ref", "dot"):
        return context.value(_name(node))
    if node.kind == "call":
        return _call(node, context, index)
    operator = node.value
    if operator == "neg":
        return -_numeric(_eval(node.args[0], context, index), index)
    if operator in ("and", "or"):
        left = _truthy(_eval(node.args[0], context, index), index)
        right = _truthy(_eval(node.args[1], context, index), index)
        return (left & right) if operator == "and" else (left | right)
    left = _eval(node.args[0], context, index)
    right = _eval(node.args[1], context, index)
    if operator in _COMPARISONS:
        return _compare(operator, left, right, index)
    a, b = _numeric(left, index), _numeric(right, index)
    if operator == "+":
        return a + b
    if operator == "-":
        return a - b
    if operator == "*":
        return a * b
    with np.errstate(divide="ignore", invalid="ignore"):
        if operator == "div":
            return a / b
        return np.fmod(a, b)


def _call(node: Node, context: Context, index: pd.Index):
    name, args = node.value, node.args
    if name == "true":
        return pd.Series(True, index=index)
    if name == "false":
        return pd.Series(False, index=index)
    if name == "not":
        return ~_truthy(_eval(args[0], context, index), index)
    if name == "selected":
        choice = _eval(args[1], context, index)
        if not isinstance(choice, str):
            raise ExpressionError("the second argument of selected() must be a quoted choice")
        return context.selected(_name(args[0]), choice).fillna(False).astype(bool)
    if name == "count-selected":
        return context.count_selected(_name(args[0])).astype(float)
    text = _text(_eval(args[0], context, index), index)
    if name == "string-length":
        return text.str.len().astype(float)
    pattern = _eval(args[1], context, index)
    if not isinstance(pattern, str):
        raise ExpressionError("the second argument of regex() must be a quoted pattern")
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ExpressionError(f"regex pattern {pattern!r} is invalid: {error}") from error
    found = [compiled.search(value) is not None for value in text.to_numpy()]
    return pd.Series(np.array(found, dtype=bool), index=text.index, name=text.name)


def _is_numeric(value) -> bool:
    if isinstance(value, pd.Series):
        return pd.api.types.is_numeric_dtype(value) and not pd.api.types.is_bool_dtype(value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numeric(value, index: pd.Index) -> pd.Series:
    if isinstance(value, pd.Series):
        if pd.api.types.is_bool_dtype(value):
            return value.astype(float)
        return pd.to_numeric(value, errors="coerce").astype(float)
    if isinstance(value, str):
        try:
            return pd.Series(float(value), index=index)
        except ValueError:
            return pd.Series(np.nan, index=index)
    return pd.Series(float(value), index=index)


def _text(value, index: pd.Index) -> pd.Series:
    if isinstance(value, pd.Series):
        if _is_numeric(value):
            formatted = value.map(lambda v: "" if pd.isna(v) else
                                  (str(int(v)) if float(v).is_integer() else str(v)))
            return formatted.astype(object)
        if isinstance(value.dtype, pd.StringDtype):
            # Already text: only the blanks need replacing.
            return pd.Series(value.to_numpy(dtype=object, na_value=""), index=value.index,
                             name=value.name, dtype=object)
        return value.astype(object).where(value.notna(), "").map(str)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return pd.Series(str(value), index=index, dtype=object)


def _truthy(value, index: pd.Index) -> pd.Series:
    if isinstance(value, pd.Series):
        if pd.api.types.is_bool_dtype(value):
            return value.fillna(False).astype(bool)
        if _is_numeric(value):
            numbers = value.astype(float)
            return (numbers.notna() & (numbers != 0)).astype(bool)
        return _text(value, index).str.len().gt(0).astype(bool)
    if isinstance(value, str):
        return pd.Series(bool(value), index=index)
    return pd.Series(bool(value) and not pd.isna(value), index=index)


def _compare(operator: str, left, right, index: pd.Index) -> pd.Series:
    numeric = (_is_numeric(left) or _is_numeric(right)) and not (
        isinstance(left, str) or isinstance(right, str))
    if numeric:
        a, b = _numeric(left, index), _numeric(right, index)
        with np.errstate(invalid="ignore"):
            result = {
                "=": a == b, "!=": a != b, "<": a < b,
                "<=": a <= b, ">": a > b, ">=": a >= b,
            }[operator]
        return result.fillna(False).astype(bool)
    a, b = _text(left, index), _text(right, index)
    if operator == "=":
        return (a == b).astype(bool)
    if operator == "!=":
        return (a != b).astype(bool)
    # Ordering text against text: compare as numbers (XPath converts both sides to numbers).
    return _compare(operator, _numeric(a.replace("", np.nan), index),
                    _numeric(b.replace("", np.nan), index), index)
