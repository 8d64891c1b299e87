"""Conditions as generated Python: one function per expression, compiled once.

`expr.compile_expression` builds closures (one Python call per node: a comparison of a field
with a literal inside `and` is 4-5 calls). This module walks the same parsed tree and writes
one function that decides the condition in a single call, node for node as the closures do:
the same evaluation order and short-circuits, the same specialised comparisons with literals
(`values.compare_with`, `values.equal_to`), the same helpers for everything else (`compare`,
`arith`, `contains`, the functions), and the same errors turned into False.

Nothing of the expression's text is pasted into the source but field names, which the
grammar limits to identifiers (and which are written with `repr`); literals are passed in as
bound names. Whatever this cannot write (a tree too deep for Python's parser) gives None, and
the caller keeps the closures. tests/unit/test_expr_generated.py holds it to them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lark import Token, Transformer, Tree
from lark.exceptions import VisitError

from orchestrator.engine.values import (
    FUNCTIONS,
    Context,
    arith,
    compare,
    contains,
    equal,
    is_number,
    resolve_path,
)

Holds = Callable[[Context], bool]
_ORDER = {"<", "<=", ">", ">="}
_HELPERS: dict[str, Any] = {
    "_Mapping": Mapping,
    "_compare": compare,
    "_equal": equal,
    "_is_number": is_number,
    "_arith": arith,
    "_contains": contains,
    "_resolve_path": resolve_path,
}
_ERRORS = "(TypeError, ValueError, OverflowError, RecursionError)"


@dataclass(frozen=True, slots=True)
class Literals:
    """How the closure compiler reads literal tokens (the generated code reads them alike)."""

    number: Callable[[Token], float | int]
    string: Callable[[Token], str]


@dataclass(frozen=True, slots=True)
class _Code:
    """Python source of one node; for a literal, its value too (comparisons specialise)."""

    source: str
    literal: bool = False
    value: Any = None


class _Writer(Transformer[Token, _Code]):
    def __init__(self, literals: Literals) -> None:
        super().__init__()
        self.names: dict[str, Any] = {}
        self.literals = literals
        self.locals = 0

    def _bind(self, value: Any) -> str:
        name = f"_k{len(self.names)}"
        self.names[name] = value
        return name

    def _fresh(self) -> str:
        self.locals += 1
        return f"_v{self.locals}"

    def _literal(self, value: Any) -> _Code:
        return _Code(self._bind(value), literal=True, value=value)

    # literals: values as the closure compiler reads them (expr._Compiler)
    def number(self, items: list[Token]) -> _Code:
        return self._literal(self.literals.number(items[0]))

    def string(self, items: list[Token]) -> _Code:
        return self._literal(self.literals.string(items[0]))

    def true(self, _items: list[Any]) -> _Code:
        return self._literal(True)

    def false(self, _items: list[Any]) -> _Code:
        return self._literal(False)

    def null(self, _items: list[Any]) -> _Code:
        return self._literal(None)

    def path(self, items: list[Token]) -> _Code:
        parts = tuple(str(t) for t in items)
        if len(parts) != 2:
            return _Code(f"_resolve_path(ctx, {self._bind(parts)})")
        first, second = parts
        v = self._fresh()
        return _Code(
            f"({v}.get({second!r}) if (type({v} := ctx.get({first!r})) is dict "
            f"or isinstance({v}, _Mapping)) else None)"
        )

    def list_(self, items: list[_Code | None]) -> _Code:
        return _Code("[" + ", ".join(i.source for i in items if i is not None) + "]")

    def call(self, items: list[Any]) -> _Code:
        fn = self._bind(FUNCTIONS[str(items[0])][1])
        args = ", ".join(a.source for a in items[1:] if a is not None)
        return _Code(f"{fn}({args})")

    def compare(self, items: list[Any]) -> _Code:
        left, op_token, right = items
        op = str(op_token)
        if not right.literal:
            return _Code(f"_compare({op!r}, {left.source}, {right.source})")
        return _Code(self._with_literal(op, left.source, right))

    def _with_literal(self, op: str, left: str, right: _Code) -> str:
        """`values.compare_with` written out."""
        constant, k, a = right.value, right.source, self._fresh()
        if op in ("==", "!="):
            if isinstance(constant, bool):
                same = f"_equal({left}, {k})"
            else:
                same = f"(not isinstance({a} := {left}, bool) and bool({a} == {k}))"
            return same if op == "==" else f"(not {same})"
        assert op in _ORDER
        if is_number(constant):
            kind = f"(type({a} := {left}) is int or type({a}) is float or _is_number({a}))"
            return f"({kind} and bool({a} {op} {k}))"
        if isinstance(constant, str):
            return f"(isinstance({a} := {left}, str) and bool({a} {op} {k}))"
        return f"_compare({op!r}, {left}, {k})"

    def in_(self, items: list[_Code]) -> _Code:
        left, right = items
        return _Code(f"_contains({right.source}, {left.source})")

    def not_in(self, items: list[_Code]) -> _Code:
        left, right = items
        return _Code(f"(not _contains({right.source}, {left.source}))")

    def arith(self, items: list[Any]) -> _Code:
        left, op_token, right = items
        return _Code(f"_arith({str(op_token)!r}, {left.source}, {right.source})")

    def neg(self, items: list[_Code]) -> _Code:
        (inner,) = items
        if inner.literal:  # `-0.5`: the value the closure computes, now a literal
            return self._literal(arith("-", 0, inner.value))
        return _Code(f"_arith('-', 0, {inner.source})")

    def not_(self, items: list[_Code]) -> _Code:
        return _Code(f"(not {items[0].source})")

    def and_(self, items: list[_Code]) -> _Code:
        return _Code("(" + " and ".join(f"bool({i.source})" for i in items) + ")")

    def or_(self, items: list[_Code]) -> _Code:
        return _Code("(" + " or ".join(f"bool({i.source})" for i in items) + ")")


def generate(tree: Tree[Token], literals: Literals) -> Holds | None:
    """One function deciding the parsed condition `tree` as `Expression.test` does, or None
    when Python cannot compile what this writes (the closures then decide). `literals` reads
    literal tokens as the closure compiler does."""
    writer = _Writer(literals)
    try:
        code = writer.transform(tree)
        source = (
            "def holds(ctx):\n"
            "    try:\n"
            f"        return bool({code.source})\n"
            f"    except {_ERRORS}:\n"
            "        return False\n"
        )
        namespace: dict[str, Any] = {**_HELPERS, **writer.names}
        exec(compile(source, "<condition>", "exec"), namespace)  # our own source (above)
    except (SyntaxError, RecursionError, MemoryError, VisitError):
        return None
    holds: Holds = namespace["holds"]
    return holds


KeyParts = tuple[tuple[tuple[str, ...], str | None], ...]


def generate_key(parts: KeyParts, separator: str) -> Callable[[Context], str | None]:
    """One function computing a correlation key as `playbook.KeyFn.general` does: each
    field path followed step by step (a missing step is None), text kept, None / an object /
    a list replaced by the part's default (no default: no key), anything else as `str`, the
    parts joined by `separator`."""
    names: dict[str, Any] = {"_Mapping": Mapping, "_sep": separator}
    lines = ["def key(ctx):"]
    for index, (path, default) in enumerate(parts):
        lines.append("    v = ctx")
        for step in path:
            lines.append(
                f"    v = v.get({step!r}) if type(v) is dict or isinstance(v, _Mapping) else None"
            )
        lines += [
            "    if type(v) is str:",
            f"        p{index} = v",
            "    elif v is None or isinstance(v, (_Mapping, list)):",
        ]
        if default is None:
            lines.append("        return None")
        else:
            names[f"_d{index}"] = default
            lines.append(f"        p{index} = str(_d{index})")
        lines += ["    else:", f"        p{index} = str(v)"]
    lines.append("    return " + (" + _sep + ".join(f"p{i}" for i in range(len(parts))) or "''"))
    exec(compile("\n".join(lines) + "\n", "<key>", "exec"), names)  # our own source (above)
    key: Callable[[Context], str | None] = names["key"]
    return key
