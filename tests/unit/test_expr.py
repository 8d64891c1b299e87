"""The condition language: what it computes, what it refuses, and that odd data never breaks it."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.engine.expr import (
    MAX_DEPTH,
    MAX_EXPRESSION_LENGTH,
    Expression,
    compile_expression,
)
from orchestrator.engine.values import FUNCTIONS
from orchestrator.errors import ExpressionError

EVENT = {
    "type": "ops.alert",
    "data": {
        "service": "Checkout",
        "status": "firing",
        "value": 0.25,
        "count": 3,
        "tags": ["eu", "web"],
        "labels": {"team": "payments"},
        "summary": "Disk almost full",
        "pii": True,
        "zero": 0,
    },
}
EVENT_ROOTS = frozenset({"data", "type"})


def value(source: str, ctx: dict[str, Any] | None = None) -> Any:
    """Compile `source` and evaluate it against `ctx` (the sample event by default)."""
    return compile_expression(source).evaluate(EVENT if ctx is None else ctx)


def refusal(source: str, roots: frozenset[str] | None = None) -> ExpressionError:
    """The ExpressionError raised when compiling `source`."""
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source, roots)
    return caught.value


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("data.count == 3", True),
        ("data.count != 3", False),
        ("data.count < 4", True),
        ("data.count <= 3", True),
        ("data.count > 3", False),
        ("data.count >= 3.0", True),
        ("data.value > 0.05", True),
        ('data.status == "firing"', True),
        ("data.status == 'resolved'", False),
        ("'abc' < 'abd'", True),
        ("data.pii == true", True),
        ("data.tags == ['eu', 'web']", True),
        ("data.missing == null", True),
    ],
)
def test_comparisons(source: str, expected: bool) -> None:
    """==, !=, <, <=, >, >= on numbers, text, booleans, lists and null."""
    assert value(source) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("true or false and false", True),  # and binds tighter than or
        ("(true or false) and false", False),
        ("not true or true", True),  # not binds tighter than or
        ("not (true or true)", False),
        ("not false and false", False),  # not binds tighter than and
        ("not data.count == 4", True),  # comparison binds tighter than not
        ("not not true", True),
        ("data.count > 1 and data.count < 5 or data.missing", True),
    ],
)
def test_boolean_precedence(source: str, expected: bool) -> None:
    """or < and < not < comparison, and parentheses override them."""
    assert compile_expression(source).test(EVENT) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("'eu' in data.tags", True),
        ("'us' in data.tags", False),
        ("'us' not in data.tags", True),
        ("data.count in [1, 2, 3]", True),
        ("data.count not in [1, 2, 3]", False),
        ("'out' in data.checkout_missing", False),
        ("'heck' in lower(data.service)", True),
        ("'Heck' in data.service", False),
        ("'full' not in data.summary", False),
        ("'team' in data.labels", True),
        ("3 in 'a3'", False),  # a number is never inside text
        ("data.status in ['firing', 'pending']", True),
    ],
)
def test_membership(source: str, expected: bool) -> None:
    """`in` and `not in` look inside lists, text (substring) and mappings (keys)."""
    assert value(source) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 - 2 - 1", 4),  # left-associative
        ("8 / 2 / 2", 2.0),
        ("10 / 4", 2.5),
        ("data.count * 2 + 1", 7),
        ("-data.count", -3),
        ("- -2", 2),
        ("-2 * 3", -6),
        ("-(1 + 2)", -3),
        ("1.5e2 + 0", 150.0),
    ],
)
def test_arithmetic_and_unary_minus(source: str, expected: float) -> None:
    """+ - * / with the usual precedence and left associativity; unary minus binds tightest."""
    assert value(source) == expected


@pytest.mark.parametrize(
    "source",
    ["1 / 0", "data.count / data.zero", "1 / 0.0", "'a' + 1", "-'a'", "data.missing * 2"],
)
def test_undefined_arithmetic_is_null(source: str) -> None:
    """Division by zero and arithmetic on non-numbers give null, not an error."""
    assert value(source) is None


def test_null_arithmetic_makes_comparisons_false() -> None:
    """A null from division by zero compares false with numbers and equal to null."""
    assert compile_expression("1 / 0 > 0").test(EVENT) is False
    assert compile_expression("1 / 0 < 0").test(EVENT) is False
    assert compile_expression("1 / 0 == null").test(EVENT) is True


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("len(data.tags)", 2),
        ("len(data.service)", 8),
        ("len(data.labels)", 1),
        ("len(data.count)", None),
        ("lower(data.service)", "checkout"),
        ("upper(data.status)", "FIRING"),
        ("upper(data.count)", None),
        ("abs(-4)", 4),
        ("abs(data.value - 1)", 0.75),
        ("abs('x')", None),
        ("contains(data.summary, 'full')", True),
        ("contains(data.tags, 'web')", True),
        ("contains(data.count, 3)", False),
        ("startswith(data.service, 'Check')", True),
        ("startswith(data.service, 'check')", False),
        ("endswith(data.summary, 'full')", True),
        ("endswith(data.count, 'x')", False),
    ],
)
def test_functions(source: str, expected: Any) -> None:
    """The fixed functions compute on the right types and give null/false on the wrong ones."""
    assert value(source) == expected


@pytest.mark.parametrize(
    ("source", "column", "fragment"),
    [
        ("len()", 1, "len() takes 1 argument, got 0"),
        ("len(data.tags, 1)", 1, "len() takes 1 argument, got 2"),
        ("data.count > 1 and lower()", 20, "lower() takes 1 argument"),
        ("upper('a', 'b')", 1, "upper() takes 1 argument"),
        ("abs(1, 2)", 1, "abs() takes 1 argument"),
        ("contains('abc')", 1, "contains() takes 2 arguments, got 1"),
        ("startswith('a', 'b', 'c')", 1, "startswith() takes 2 arguments, got 3"),
        ("x or endswith('a')", 6, "endswith() takes 2 arguments"),
    ],
)
def test_wrong_arity_is_refused_at_compile_time(source: str, column: int, fragment: str) -> None:
    """Calling a function with the wrong number of arguments fails to compile, at its column."""
    err = refusal(source)
    assert fragment in err.message
    assert err.column == column


def test_the_functions_are_exactly_the_documented_ones() -> None:
    """The function list is exactly the documented one."""
    expected = {"len", "lower", "upper", "abs", "contains", "startswith", "endswith"}
    assert set(FUNCTIONS) == expected


@pytest.mark.parametrize(
    ("source", "ctx"),
    [
        ("data.missing", EVENT),
        ("data.service.name", EVENT),  # walking into text
        ("data.tags.first", EVENT),  # walking into a list
        ("nothing.at.all", EVENT),
        ("data.a", {"data": None}),
        ("data.a", {}),
    ],
)
def test_missing_paths_are_null(source: str, ctx: dict[str, Any]) -> None:
    """A field path that does not lead to a value evaluates to null."""
    assert value(source, ctx) is None


@pytest.mark.parametrize(
    "source",
    [
        "data.service > 1",
        "data.service < 1",
        "'10' >= 9",
        "data.missing > 1",
        "data.missing <= 1",
        "data.tags < 3",
        "data.pii > 0",  # booleans are not numbers
        "data.labels >= 'a'",
    ],
)
def test_ordering_mismatched_types_is_false_not_an_error(source: str) -> None:
    """Ordering text against numbers (or null, lists, booleans) is simply false."""
    assert value(source) is False


def test_equality_across_types_is_just_unequal() -> None:
    """'1' is not 1: equality across types is false and inequality true."""
    assert value("'1' == 1") is False
    assert value("'1' != 1") is True


@pytest.mark.parametrize(
    ("source", "column", "fragment"),
    [
        ("__import__('os')", 1, "unknown function '__import__'"),
        ("exec('print(1)')", 1, "unknown function 'exec'"),
        ("getattr(data, 'x')", 1, "unknown function 'getattr'"),
        ("data.__class__", 6, "may not start with '__'"),
        ("data.x.__dict__ == 1", 8, "may not start with '__'"),
        ("__builtins__.open", 1, "may not start with '__'"),
        ("().__class__", 2, "unexpected ')'"),
        ("lambda: 1", 7, "unexpected character ':'"),
        ("lambda x: x", 8, "unexpected 'x'"),
        ("data.service.lower()", 19, "unexpected '('"),
        ("os.system('ls')", 10, "unexpected '('"),
        ("data.tags[0]", 10, "unexpected '['"),
        ("data['service']", 5, "unexpected '['"),
        ("x if y else z", 3, "unexpected 'if'"),
        ("2 ** 3", 4, "unexpected '*'"),
        ("{'a': 1}", 1, "unexpected character '{'"),
        ("import os", 8, "unexpected 'os'"),
        ("data.x; 1", 7, "unexpected character ';'"),
        ("1 < 2 < 3", 7, "unexpected '<'"),
        ("data.count >", 12, "ends too early"),
        ("", 1, "ends too early"),
    ],
)
def test_python_is_not_reachable(source: str, column: int, fragment: str) -> None:
    """Dunders, unknown calls, lambdas, methods and subscripts fail to compile, with a column."""
    err = refusal(source)
    assert fragment in err.message
    assert err.column == column
    assert f"(column {column})" in str(err)


def test_unknown_root_name_is_refused_with_the_allowed_roots() -> None:
    """A field path must start with an allowed root; the error lists them and points at it."""
    err = refusal("data.count > 1 and payload.size > 2", EVENT_ROOTS)
    assert "unknown name 'payload'" in err.message
    assert "data, type" in err.message
    assert err.column == 20


def test_compiled_expression_lists_its_roots_and_paths() -> None:
    """roots and paths name every field the expression reads (the loader checks them)."""
    expr = compile_expression("data.a.b > 1 or len(type) == 3 or 'x' in data.c", EVENT_ROOTS)
    assert expr.roots == {"data", "type"}
    assert expr.paths == {"data.a.b", "type", "data.c"}
    assert expr.source == "data.a.b > 1 or len(type) == 3 or 'x' in data.c"


def test_too_long_and_too_deep_expressions_are_refused() -> None:
    """Length and nesting are bounded, so hostile input cannot exhaust the compiler."""
    assert "longer than" in refusal("1" * (MAX_EXPRESSION_LENGTH + 1)).message
    assert "deeper than" in refusal("not " * (MAX_DEPTH + 1) + "true").message
    assert "deeper than" in refusal("-" * 1000 + "1").message


def test_huge_number_literal_is_refused() -> None:
    """A float literal that overflows to infinity is a compile error at its column."""
    err = refusal("data.value > 1e999")
    assert "too large" in err.message
    assert err.column == 14


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (r'"a\"b"', 'a"b'),
        (r'"tab\there"', "tab\there"),
        (r'"caf\u00e9"', "café"),
        ('"café"', "café"),
        ('"東京"', "東京"),
        ("'café'", "café"),
        ("'say \"hi\"'", 'say "hi"'),
    ],
)
def test_string_literals(source: str, expected: str) -> None:
    """Double-quoted strings take escapes and any Unicode text; single-quoted ones none."""
    assert value(source) == expected


def test_bad_string_escape_is_a_compile_error_with_a_column() -> None:
    r"""An escape that cannot be decoded (\x without hex digits) is refused where it is."""
    err = refusal(r'data.service == "\x"')
    assert err.column == 17


# ---- properties ---------------------------------------------------------------------------


def compile_or_error(text: str, roots: frozenset[str] | None) -> Expression | ExpressionError:
    """The compiled expression, or the ExpressionError (any other exception propagates)."""
    try:
        return compile_expression(text, roots)
    except ExpressionError as err:
        return err


TOKENS = [
    *string.ascii_letters[:6],
    *"0123456789 .,()[]'\"+-*/<>=!_\\",
    " and ",
    " or ",
    "not ",
    " in ",
    "len(",
    "contains(",
    "data.",
    "__",
    "==",
    "<=",
    "true",
    "null",
    "1e999",
]


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=60))
@settings(max_examples=500, deadline=None)
def test_compiling_any_ascii_text_gives_an_expression_or_an_expression_error(text: str) -> None:
    """Arbitrary text never makes the compiler raise anything but ExpressionError."""
    outcome = compile_or_error(text, EVENT_ROOTS)
    if isinstance(outcome, ExpressionError):
        assert outcome.message
    else:
        assert outcome.source == text


@given(st.lists(st.sampled_from(TOKENS), max_size=25).map("".join))
@settings(max_examples=500, deadline=None)
def test_compiling_token_soup_gives_an_expression_or_an_expression_error(text: str) -> None:
    """Near-valid input (real tokens in random order) also fails only with ExpressionError."""
    outcome = compile_or_error(text, None)
    if isinstance(outcome, ExpressionError):
        assert outcome.message
    else:
        assert outcome.source == text


FIELDS = st.sampled_from(["a", "b", "c"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # includes nan and infinities
    st.text(max_size=6),
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(FIELDS, inner, max_size=4)
    ),
    max_leaves=15,
)
LITERALS = st.sampled_from(
    ["0", "1", "-2", "0.5", "1e300", "'a'", '"b"', "true", "false", "null", "[]", "[1, 'a']"]
)
PATHS = st.lists(FIELDS, min_size=1, max_size=3).map(lambda p: "data." + ".".join(p))
BINARY = ["==", "!=", "<", "<=", ">", ">=", "in", "not in", "+", "-", "*", "/", "and", "or"]


def _grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """One more level of expression around smaller ones."""
    prefix = st.sampled_from(["not ", "-", "len", "lower", "upper", "abs"])
    binary_fn = st.sampled_from(["contains", "startswith", "endswith"])
    return st.one_of(
        st.builds(lambda a, op, b: f"({a} {op} {b})", inner, st.sampled_from(BINARY), inner),
        st.builds(lambda op, a: f"({op}({a}))", prefix, inner),
        st.builds(lambda f, a, b: f"{f}({a}, {b})", binary_fn, inner, inner),
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
    )


EXPRESSIONS = st.recursive(st.one_of(PATHS, LITERALS), _grow, max_leaves=10)


@given(EXPRESSIONS, st.dictionaries(st.sampled_from(["data", "type"]), JSONISH))
@settings(max_examples=500, deadline=None)
def test_test_never_raises_on_any_jsonish_context(source: str, ctx: dict[str, Any]) -> None:
    """Whatever the event holds (nulls, nan, nesting, wrong types), .test answers a bool."""
    compiled = compile_expression(source, EVENT_ROOTS)
    assert compiled.test(ctx) in {True, False}


INTS = st.integers(min_value=-(10**12), max_value=10**12)


@given(INTS, INTS)
def test_integer_comparisons_agree_with_python(a: int, b: int) -> None:
    """Comparisons and boolean operators on integers give Python's answers."""
    ctx = {"data": {"a": a, "b": b}}
    cases = {
        "data.a < data.b": a < b,
        "data.a <= data.b": a <= b,
        "data.a > data.b": a > b,
        "data.a >= data.b": a >= b,
        "data.a == data.b": a == b,
        "data.a != data.b": a != b,
        "not (data.a == data.b)": a != b,
        "data.a < data.b and data.b < data.a": False,
        "data.a <= data.b or data.a > data.b": True,
        f"{a} < {b}": a < b,
        f"{a} == {b}": a == b,
    }
    for source, expected in cases.items():
        assert compile_expression(source).test(ctx) is expected, source


@given(INTS, INTS)
def test_integer_arithmetic_agrees_with_python(a: int, b: int) -> None:
    """+, -, *, / and unary minus on integers give Python's values (x / 0 gives null)."""
    ctx = {"data": {"a": a, "b": b}}
    assert value("data.a + data.b", ctx) == a + b
    assert value("data.a - data.b", ctx) == a - b
    assert value("data.a * data.b", ctx) == a * b
    assert value("-data.a", ctx) == -a
    assert value(f"{a} - {b}", ctx) == a - b
    assert value("data.a / data.b", ctx) == (a / b if b else None)


@given(st.text(max_size=30))
def test_double_quoted_literal_round_trips_any_text(text: str) -> None:
    """A JSON-style double-quoted literal of any Unicode text equals that text."""
    literal = json.dumps(text, ensure_ascii=False)
    assert compile_expression(f"data.s == {literal}").test({"data": {"s": text}}) is True


@given(st.text(max_size=30), st.text(max_size=5))
def test_text_functions_agree_with_python(text: str, part: str) -> None:
    """lower, upper, len, contains, startswith and endswith match Python's str methods."""
    ctx = {"data": {"t": text, "p": part}}
    assert value("lower(data.t)", ctx) == text.lower()
    assert value("upper(data.t)", ctx) == text.upper()
    assert value("len(data.t)", ctx) == len(text)
    assert value("contains(data.t, data.p)", ctx) is (part in text)
    assert value("data.p in data.t", ctx) is (part in text)
    assert value("startswith(data.t, data.p)", ctx) is text.startswith(part)
    assert value("endswith(data.t, data.p)", ctx) is text.endswith(part)
