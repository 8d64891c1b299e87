"""Comparisons with a literal and two-way and/or compile to specialised closures; whatever the
value, they decide exactly as the general rules (`compare`, all, any) do."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.engine.expr import compile_expression
from orchestrator.engine.severity import Ranked
from orchestrator.engine.values import compare

OPS = ("==", "!=", "<", "<=", ">", ">=")
literals = st.one_of(
    st.integers(-5, 5),
    st.floats(-5, 5, allow_nan=False),
    st.sampled_from(["a", "b", "", "high", True, False, None]),
)
values = st.one_of(
    literals,
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=3),
    st.sampled_from([Ranked("high"), Ranked("low"), [], {}, [1], {"a": 1}]),
)


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, str) else repr(value)


@settings(max_examples=800, deadline=None)
@given(st.sampled_from(OPS), literals, values)
def test_comparison_with_a_literal_decides_likecompare(op: str, constant: Any, value: Any) -> None:
    """`data.x OP literal` is `compare(OP, x, literal)` for every value of x."""
    expression = compile_expression(f"data.x {op} {_literal(constant)}")
    literal_value = compile_expression(_literal(constant)).evaluate({})
    assert expression.test({"data": {"x": value}}) == compare(op, value, literal_value)


@settings(max_examples=300, deadline=None)
@given(values, values)
def test_two_way_and_or_decide_like_all_and_any(a: Any, b: Any) -> None:
    """`x and y` / `x or y` give all() / any() of the two values, as booleans."""
    ctx = {"data": {"x": a, "y": b}}
    assert compile_expression("data.x and data.y").evaluate(ctx) is all((a, b))
    assert compile_expression("data.x or data.y").evaluate(ctx) is any((a, b))
