"""What the condition language's operators mean on event values (orchestrator.engine.expr
compiles to calls of these).

A path that does not exist is `null`. Comparisons that make no sense (text < number, null > 1)
are false instead of errors, and arithmetic on non-numbers is `null`, so one odd event never
stops the stream.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Context = Mapping[str, Any]
Evaluator = Callable[[Context], Any]


def is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False  # true is not 1, false is not 0
    return bool(a == b)


def compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return equal(a, b)
    if op == "!=":
        return not equal(a, b)
    if not ((is_number(a) and is_number(b)) or (isinstance(a, str) and isinstance(b, str))):
        return False
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def compare_with(op: str, left: Evaluator, constant: Any) -> Evaluator:
    """`left op constant`, decided as `compare` decides it, with the constant's type known."""
    if op in ("==", "!="):
        same = equal_to(left, constant)
        return same if op == "==" else lambda ctx: not same(ctx)
    order = _ORDER[op]
    if is_number(constant):

        def number(ctx: Context) -> bool:
            a = left(ctx)
            return (type(a) is int or type(a) is float or is_number(a)) and bool(order(a, constant))

        return number
    if isinstance(constant, str):

        def text(ctx: Context) -> bool:
            a = left(ctx)
            return isinstance(a, str) and bool(order(a, constant))

        return text
    return lambda ctx: compare(op, left(ctx), constant)


def equal_to(left: Evaluator, constant: Any) -> Evaluator:
    """`left == constant` as `equal` decides it: booleans equal only booleans."""
    if isinstance(constant, bool):
        return lambda ctx: equal(left(ctx), constant)

    def same(ctx: Context) -> bool:
        a = left(ctx)
        return not isinstance(a, bool) and bool(a == constant)

    return same


def arith(op: str, a: Any, b: Any) -> Any:
    if not (is_number(a) and is_number(b)):
        return None
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        return None
    result = a / b
    return result if math.isfinite(result) else None


def contains(hay: Any, needle: Any) -> bool:
    if isinstance(hay, str) and isinstance(needle, str):
        return needle in hay
    if isinstance(hay, list | tuple | dict):
        return needle in hay
    return False


def _on_text(fn: Callable[[str], Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        return fn(args[0]) if len(args) == 1 and isinstance(args[0], str) else None

    return call


def _len(*args: Any) -> Any:
    if len(args) == 1 and isinstance(args[0], str | list | dict):
        return len(args[0])
    return None


def _abs(*args: Any) -> Any:
    return abs(args[0]) if len(args) == 1 and is_number(args[0]) else None


def _on_two_texts(fn: Callable[[str, str], bool]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        ok = len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], str)
        return fn(args[0], args[1]) if ok else False

    return call


FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "len": (1, _len),
    "lower": (1, _on_text(str.lower)),
    "upper": (1, _on_text(str.upper)),
    "abs": (1, _abs),
    "contains": (2, lambda a, b: contains(a, b)),
    "startswith": (2, _on_two_texts(str.startswith)),
    "endswith": (2, _on_two_texts(str.endswith)),
}
"""The only functions an expression may call: name -> (arity, implementation)."""


def resolve_path(ctx: Context, parts: Sequence[str]) -> Any:
    """Follow a dotted field path through nested mappings; a missing step gives None."""
    value: Any = ctx
    for part in parts:
        if type(value) is not dict and not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value
