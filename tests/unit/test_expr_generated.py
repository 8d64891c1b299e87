"""A condition compiled to one generated function (exprgen.py) decides exactly as its closures
do, for any expression of the language and any event data, and falls back to the closures
where Python cannot compile the generated source."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.engine.expr import (
    MAX_DEPTH,
    _parser,
    closure_test,
    compile_expression,
    number_value,
    string_text,
)
from orchestrator.engine.exprgen import Literals, generate
from orchestrator.engine.severity import Ranked
from orchestrator.errors import ExpressionError
from orchestrator.playbook import load_directory
from orchestrator.settings import shipped_playbooks

PATHS = ("data.x", "data.y", "data.a.b", "type", "data", "incident.severity")
COMPARE = ("==", "!=", "<", "<=", ">", ">=")
ARITH = ("+", "-", "*", "/")
FUNCTIONS = ("len", "lower", "upper", "abs", "contains", "startswith", "endswith")

scalars = st.one_of(
    st.integers(-3, 3),
    st.floats(-3, 3, allow_nan=False),
    st.sampled_from(["a", "b", "", "high", "x\\n", True, False, None]),
)
literal_texts = st.one_of(
    st.integers(-3, 3).map(str),
    st.floats(0, 3, allow_nan=False).map(repr),
    st.sampled_from(['"a"', '"b"', '""', '"high"', '"x\\n"', "true", "false", "null"]),
)


atoms = st.one_of(st.sampled_from(PATHS), literal_texts, st.just("'single'"))


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    two = st.tuples(inner, inner)
    return st.one_of(
        st.tuples(inner, st.sampled_from(COMPARE), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(inner, st.sampled_from(ARITH), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.lists(inner, min_size=2, max_size=4).map(lambda xs: "(" + " and ".join(xs) + ")"),
        st.lists(inner, min_size=2, max_size=4).map(lambda xs: "(" + " or ".join(xs) + ")"),
        inner.map(lambda x: f"not {x}"),
        inner.map(lambda x: f"-{x}"),
        inner.map(lambda x: f"({x})"),
        two.map(lambda t: f"{t[0]} in {t[1]}"),
        two.map(lambda t: f"{t[0]} not in {t[1]}"),
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.tuples(st.sampled_from(FUNCTIONS[:4]), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(FUNCTIONS[4:]), two).map(
            lambda t: f"{t[0]}({t[1][0]}, {t[1][1]})"
        ),
    )


expressions = st.recursive(atoms, _extend, max_leaves=12)
values = st.recursive(
    st.one_of(
        scalars,
        st.integers(),
        st.floats(),
        st.text(max_size=3),
        st.sampled_from([Ranked("high"), Ranked("low")]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abxy"), inner, max_size=3)
    ),
    max_leaves=6,
)
contexts = st.fixed_dictionaries(
    {},
    optional={
        "data": st.one_of(st.dictionaries(st.sampled_from(["x", "y", "a"]), values), values),
        "type": st.sampled_from(["alert", "kpi"]),
        "incident": st.fixed_dictionaries({"severity": st.sampled_from([Ranked("high"), 1])}),
    },
)


def _compiles(source: str) -> Any:
    try:
        return compile_expression(source)
    except ExpressionError:  # the language refuses some generated texts; skip those
        return None


@settings(max_examples=1500, deadline=None)
@given(expressions, st.lists(contexts, min_size=1, max_size=4))
def test_generated_function_decides_as_the_closures(source: str, ctxs: list[Any]) -> None:
    """For any expression and any context, `holds` (generated) == the closures' decision."""
    expression = _compiles(source)
    if expression is None:
        return
    reference = closure_test(expression.evaluate)
    for ctx in ctxs:
        assert expression.holds(ctx) is reference(ctx), (source, ctx)


def test_shipped_playbooks_conditions_are_generated() -> None:
    """Every condition of the shipped playbooks gets a generated function, not the fallback."""
    seen = 0
    for playbook in load_directory(shipped_playbooks()):
        for selector in (
            *(t.selector for t in playbook.triggers),
            *playbook.joins,
            *(r.selector for r in playbook.rules),
        ):
            if selector.when is not None:
                seen += 1
                assert selector.when.holds.__code__.co_filename == "<condition>"
    assert seen > 10


def test_too_deep_for_python_gives_no_function() -> None:
    """A tree nested past what Python's parser takes gives None (compile_expression then keeps
    the closures), not an error; the deepest tree the language allows still compiles."""
    too_deep = _parser.parse("not " * 300 + "data.x")
    assert generate(too_deep, Literals(number_value, string_text)) is None
    deepest = "not " * (MAX_DEPTH - 3) + "data.x == 1"
    expression = compile_expression(deepest)
    assert expression.holds.__code__.co_filename == "<condition>"
    reference = closure_test(expression.evaluate)
    for ctx in ({"data": {"x": 1}}, {"data": {"x": 2}}, {}):
        assert expression.holds(ctx) is reference(ctx)
