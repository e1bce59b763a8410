"""The safe XLSForm expression evaluator."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyadlab.platform._expressions import (
    ExpressionError,
    is_true,
    parse_expression,
    unparse,
)


@pytest.mark.parametrize(
    ("text", "values", "current", "expected"),
    [
        ("${a} = 'yes'", {"a": "yes"}, None, True),
        ("${a} = 'yes'", {}, None, False),
        ("${a} != 'yes'", {}, None, True),
        ("${a} = ''", {}, None, True),
        ("${a} = 3", {"a": "3"}, None, True),
        ("${a} = '3'", {"a": 3}, None, True),
        ("${a} = 3.0", {"a": 3}, None, True),
        ("${a} > 2", {"a": 3}, None, True),
        ("${a} > 2", {}, None, False),
        ("${a} <= 2", {}, None, False),
        ("${a} < 'x'", {"a": 1}, None, False),
        ("${d} >= '2026-03-01'", {"d": "2026-03-29"}, None, True),
        (". >= 0 and . <= 100", {}, 50, True),
        (". >= 0 and . <= 100", {}, 150, False),
        ("not(${a} = 'yes')", {"a": "no"}, None, True),
        ("${a} = 'x' or ${b} = 'y'", {"b": "y"}, None, True),
        ("selected(${m}, 'b')", {"m": ["a", "b"]}, None, True),
        ("selected(${m}, 'c')", {"m": ["a", "b"]}, None, False),
        ("selected(${m}, 'b')", {"m": "a b"}, None, True),
        ("selected(${m}, 2)", {"m": [1, 2]}, None, True),
        ("selected(${m}, 'a')", {}, None, False),
        ("count-selected(${m}) = 2", {"m": ["a", "b"]}, None, True),
        ("count-selected(${m}) = 0", {}, None, True),
        ("1 + 2 * 3 = 7", {}, None, True),
        ("(1 + 2) * 3 = 9", {}, None, True),
        ("7 div 2 = 3.5", {}, None, True),
        ("7 mod 3 = 1", {}, None, True),
        ("1 div 0 = 1", {}, None, False),
        ("1 div 0 != 1", {}, None, True),
        ("-${a} = -4", {"a": 4}, None, True),
        ("${a} + 1 > 0", {}, None, False),
        ("string-length(${t}) <= 3", {"t": "abc"}, None, True),
        ("true() and not(false())", {}, None, True),
        ("${a}", {"a": ""}, None, False),
        ("${a}", {"a": "no"}, None, True),
        ("${a} = true()", {"a": "x"}, None, True),
        ("10 - 2 - 3 = 5", {}, None, True),
        ("${x.y} = 1", {"x.y": 1}, None, True),
    ],
)
def test_evaluate(text: str, values: dict[str, Any], current: Any, expected: bool) -> None:
    assert parse_expression(text).is_true(values, current=current) is expected


def test_references_and_current() -> None:
    expr = parse_expression("selected(${m}, 'a') and ${n} > . + ${k}")
    assert expr.references == frozenset({"m", "n", "k"})
    assert expr.uses_current
    assert not parse_expression("${a} = 1").uses_current


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ("${a} >", "stops too early"),
        ("${a} = = 1", "position 8: unexpected '='"),
        ("foo(1)", "unknown function foo()"),
        ("count_selected(${m})", "did you mean count-selected()"),
        ("abc = 1", "unknown name 'abc'"),
        ("and", "needs a value on both sides"),
        ("(1 + 2", "expected ')'"),
        ("selected(${m})", "takes 2 argument(s), got 1"),
        ("${a} @ 1", "position 6: unexpected character '@'"),
        ("__import__('os')", "unknown function __import__()"),
        ("${a} = 1 2", "unexpected '2'"),
        ("(" * 41 + "1" + ")" * 41, "nested more than 40 levels deep"),
        ("-" * 60 + "1", "nested more than 40 levels deep"),
        ("not(" * 45 + "1" + ")" * 45, "nested more than 40 levels deep"),
        ("1 + " * 600 + "1", "too long"),
        ("1+" * 201 + "1", "more than 200 operators"),
    ],
)
def test_parse_errors(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert fragment in str(info.value)


def test_deep_but_allowed_nesting() -> None:
    assert parse_expression("(" * 40 + "1" + ")" * 40).evaluate({}) == 1
    assert parse_expression("1 + " * 200 + "1").evaluate({}) == 201


def test_is_true() -> None:
    assert not is_true(math.nan)
    assert is_true(-1)
    assert not is_true([])
    assert not is_true(None)


def test_unparse_redcap_style() -> None:
    expr = parse_expression("${a} = 'x' and (${b} > 1 or not(${c}))")
    assert unparse(expr) == "${a} = 'x' and (${b} > 1 or not(${c}))"
    assert unparse(expr, ref="[{name}]") == "[a] = 'x' and ([b] > 1 or not([c]))"


# --------------------------------------------------------------------------- properties
_numbers = st.integers(min_value=-1000, max_value=1000)
_small = st.integers(min_value=-30, max_value=30)  # products stay exact in doubles


@st.composite
def _arith(draw: st.DrawFn, depth: int = 0) -> tuple[str, int]:
    """An integer arithmetic expression and its value (XPath numbers are doubles)."""
    if depth > 3 or draw(st.booleans()):
        n = draw(_small)
        return (str(n) if n >= 0 else f"-{-n}", n)
    op = draw(st.sampled_from(["+", "-", "*"]))
    (lt, lv), (rt, rv) = draw(_arith(depth + 1)), draw(_arith(depth + 1))
    value = {"+": lv + rv, "-": lv - rv, "*": lv * rv}[op]
    return (f"({lt} {op} {rt})", value)


@settings(max_examples=150, deadline=None)
@given(_arith())
def test_arithmetic_matches_python(case: tuple[str, int]) -> None:
    text, value = case
    expr = parse_expression(text)
    assert expr.evaluate({}) == value
    assert parse_expression(f"{text} = {value}").is_true({})
    # printing and parsing again gives the same value
    assert parse_expression(unparse(expr)).evaluate({}) == value


@settings(max_examples=150, deadline=None)
@given(a=_numbers, b=_numbers)
def test_comparisons_match_python(a: int, b: int) -> None:
    values = {"a": a, "b": str(b)}  # text that looks like a number compares numerically
    for op, expected in [
        ("=", a == b),
        ("!=", a != b),
        ("<", a < b),
        ("<=", a <= b),
        (">", a > b),
        (">=", a >= b),
    ]:
        assert parse_expression(f"${{a}} {op} ${{b}}").is_true(values) is expected
    both = parse_expression("${a} < ${b} and not(${a} >= ${b})").is_true(values)
    assert both is (a < b)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_raises_expression_error(text: str) -> None:
    try:
        expr = parse_expression(text)
    except ExpressionError:
        return
    expr.evaluate({name: "1" for name in expr.references}, current=1)
