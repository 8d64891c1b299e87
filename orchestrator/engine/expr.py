"""The condition language: a small, safe expression language compiled to Python closures.

Grammar (no Python eval, no attribute access beyond field paths, no calls but a fixed list):

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | cmp
    cmp     := sum (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") sum)?
    sum     := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := number | string | true | false | null | path | list | "(" expr ")"
             | func "(" args ")"
    path    := name ("." name)*
    func    := len | lower | upper | abs | contains | startswith | endswith

A path that does not exist is `null`. Comparisons that make no sense (text < number, null > 1)
are false instead of errors, so one odd event never stops the stream.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput

from orchestrator.errors import ExpressionError

Context = Mapping[str, Any]
Evaluator = Callable[[Context], Any]

MAX_EXPRESSION_LENGTH = 2000
MAX_DEPTH = 64

_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr
        | and_expr ("or" and_expr)+          -> or_
?and_expr: not_expr
         | not_expr ("and" not_expr)+        -> and_
?not_expr: "not" not_expr                    -> not_
         | comparison
?comparison: sum
           | sum COMP_OP sum                 -> compare
           | sum "in" sum                    -> in_
           | sum "not" "in" sum              -> not_in
?sum: term
    | sum ADD_OP term                        -> arith
?term: unary
     | term MUL_OP unary                     -> arith
?unary: "-" unary                            -> neg
      | atom
?atom: NUMBER                                -> number
     | ESCAPED_STRING                        -> string
     | SINGLE_STRING                         -> string
     | "true"                                -> true
     | "false"                               -> false
     | "null"                                -> null
     | NAME "(" [or_expr ("," or_expr)*] ")" -> call
     | path
     | "[" [or_expr ("," or_expr)*] "]"      -> list_
     | "(" or_expr ")"
path: NAME ("." NAME)*
COMP_OP: "==" | "!=" | "<=" | ">=" | "<" | ">"
ADD_OP: "+" | "-"
MUL_OP: "*" | "/"
SINGLE_STRING: "'" /[^'\\\n]*/ "'"
NAME: /(?!(and|or|not|in|true|false|null)\b)[a-zA-Z_][a-zA-Z0-9_]*/
%import common.ESCAPED_STRING
%import common.NUMBER
%import common.WS
%ignore WS
"""

_parser = Lark(_GRAMMAR, parser="lalr", propagate_positions=True)


def _num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False  # true is not 1, false is not 0
    return bool(a == b)


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    if not ((_num(a) and _num(b)) or (isinstance(a, str) and isinstance(b, str))):
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


def _compare_with(op: str, left: Evaluator, constant: Any) -> Evaluator:
    """`left op constant`, decided as `_compare` decides it, with the constant's type known."""
    if op in ("==", "!="):
        equal = _equal_to(left, constant)
        return equal if op == "==" else lambda ctx: not equal(ctx)
    order = _ORDER[op]
    if _num(constant):

        def number(ctx: Context) -> bool:
            a = left(ctx)
            return (type(a) is int or type(a) is float or _num(a)) and bool(order(a, constant))

        return number
    if isinstance(constant, str):

        def text(ctx: Context) -> bool:
            a = left(ctx)
            return isinstance(a, str) and bool(order(a, constant))

        return text
    return lambda ctx: _compare(op, left(ctx), constant)


def _equal_to(left: Evaluator, constant: Any) -> Evaluator:
    """`left == constant` as `_equal` decides it: booleans equal only booleans."""
    if isinstance(constant, bool):
        return lambda ctx: _equal(left(ctx), constant)

    def equal(ctx: Context) -> bool:
        a = left(ctx)
        return not isinstance(a, bool) and bool(a == constant)

    return equal


def _arith(op: str, a: Any, b: Any) -> Any:
    if not (_num(a) and _num(b)):
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


def _contains(hay: Any, needle: Any) -> bool:
    if isinstance(hay, str) and isinstance(needle, str):
        return needle in hay
    if isinstance(hay, list | tuple | dict):
        return needle in hay
    return False


def _safe_str(fn: Callable[[str], Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        return fn(args[0]) if len(args) == 1 and isinstance(args[0], str) else None

    return call


def _len(*args: Any) -> Any:
    if len(args) == 1 and isinstance(args[0], str | list | dict):
        return len(args[0])
    return None


def _abs(*args: Any) -> Any:
    return abs(args[0]) if len(args) == 1 and _num(args[0]) else None


def _str2(fn: Callable[[str, str], bool]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        ok = len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], str)
        return fn(args[0], args[1]) if ok else False

    return call


FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "len": (1, _len),
    "lower": (1, _safe_str(str.lower)),
    "upper": (1, _safe_str(str.upper)),
    "abs": (1, _abs),
    "contains": (2, lambda a, b: _contains(a, b)),
    "startswith": (2, _str2(str.startswith)),
    "endswith": (2, _str2(str.endswith)),
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


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled condition: its source text, the root names it reads, and its evaluator."""

    source: str
    roots: frozenset[str]
    paths: frozenset[str]
    evaluate: Evaluator

    def test(self, ctx: Context) -> bool:
        """True when the condition holds for this context (never raises for odd data)."""
        try:
            return bool(self.evaluate(ctx))
        except (TypeError, ValueError, OverflowError, RecursionError):
            return False


def _unescape(body: str, column: int | None) -> str:
    """Decode the backslash escapes of a double-quoted string, keeping non-ASCII text intact."""
    try:
        return body.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError as err:
        raise ExpressionError(f"bad escape in string: {err.reason}", column) from None


class _Compiler(Transformer[Token, Evaluator]):
    def __init__(self) -> None:
        super().__init__()
        self.paths: set[str] = set()
        self.columns: dict[str, int | None] = {}
        self.constants: dict[Evaluator, Any] = {}
        """Evaluators of literals and their values (so comparisons with them can specialise)."""

    def _constant(self, value: Any) -> Evaluator:
        def literal(_ctx: Context) -> Any:
            return value

        self.constants[literal] = value
        return literal

    def number(self, items: list[Token]) -> Evaluator:
        text = str(items[0])
        value: float | int = float(text) if any(c in text for c in ".eE") else int(text)
        if isinstance(value, float) and not math.isfinite(value):
            raise ExpressionError(f"number {text} is too large", items[0].column)
        return self._constant(value)

    def string(self, items: list[Token]) -> Evaluator:
        raw = str(items[0])
        text = _unescape(raw[1:-1], items[0].column) if raw[0] == '"' else raw[1:-1]
        return self._constant(text)

    def true(self, _items: list[Any]) -> Evaluator:
        return self._constant(True)

    def false(self, _items: list[Any]) -> Evaluator:
        return self._constant(False)

    def null(self, _items: list[Any]) -> Evaluator:
        return self._constant(None)

    def path(self, items: list[Token]) -> Evaluator:
        parts = tuple(str(t) for t in items)
        for token in items:
            if str(token).startswith("__"):
                raise ExpressionError(f"field names may not start with '__': {token}", token.column)
        self.paths.add(".".join(parts))
        self.columns.setdefault(parts[0], items[0].column)
        if len(parts) == 2:
            first, second = parts

            def two(ctx: Context) -> Any:
                inner = ctx.get(first)
                if type(inner) is dict or isinstance(inner, Mapping):
                    return inner.get(second)
                return None

            return two
        return lambda ctx: resolve_path(ctx, parts)

    def list_(self, items: list[Evaluator | None]) -> Evaluator:
        parts = [i for i in items if i is not None]
        return lambda ctx: [p(ctx) for p in parts]

    def call(self, items: list[Any]) -> Evaluator:
        name_token: Token = items[0]
        args: list[Evaluator] = [a for a in items[1:] if a is not None]
        name = str(name_token)
        if name not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(
                f"unknown function {name!r}; the functions are {known}", name_token.column
            )
        arity, fn = FUNCTIONS[name]
        if len(args) != arity:
            raise ExpressionError(
                f"{name}() takes {arity} argument{'s' if arity > 1 else ''}, got {len(args)}",
                name_token.column,
            )
        return lambda ctx: fn(*(a(ctx) for a in args))

    def compare(self, items: list[Any]) -> Evaluator:
        left, op_token, right = items
        op = str(op_token)
        if right in self.constants:
            return _compare_with(op, left, self.constants[right])
        return lambda ctx: _compare(op, left(ctx), right(ctx))

    def in_(self, items: list[Evaluator]) -> Evaluator:
        left, right = items
        return lambda ctx: _contains(right(ctx), left(ctx))

    def not_in(self, items: list[Evaluator]) -> Evaluator:
        left, right = items
        return lambda ctx: not _contains(right(ctx), left(ctx))

    def arith(self, items: list[Any]) -> Evaluator:
        left, op_token, right = items
        op = str(op_token)
        return lambda ctx: _arith(op, left(ctx), right(ctx))

    def neg(self, items: list[Evaluator]) -> Evaluator:
        (inner,) = items
        return lambda ctx: _arith("-", 0, inner(ctx))

    def not_(self, items: list[Evaluator]) -> Evaluator:
        (inner,) = items
        return lambda ctx: not inner(ctx)

    def and_(self, items: list[Evaluator]) -> Evaluator:
        parts = tuple(items)
        if len(parts) == 2:
            first, second = parts
            return lambda ctx: bool(first(ctx)) and bool(second(ctx))
        return lambda ctx: all(p(ctx) for p in parts)

    def or_(self, items: list[Evaluator]) -> Evaluator:
        parts = tuple(items)
        if len(parts) == 2:
            first, second = parts
            return lambda ctx: bool(first(ctx)) or bool(second(ctx))
        return lambda ctx: any(p(ctx) for p in parts)


def _depth(tree: Tree[Token] | Token) -> int:
    stack: list[tuple[Tree[Token] | Token, int]] = [(tree, 1)]
    deepest = 0
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, Tree):
            stack.extend((child, depth + 1) for child in node.children)
    return deepest


def _syntax_message(err: UnexpectedInput, source: str) -> str:
    if isinstance(err, UnexpectedCharacters):
        pos = err.pos_in_stream or 0
        return f"unexpected character {source[pos : pos + 1]!r}"
    token = getattr(err, "token", None)
    if token is None or token.type == "$END":
        return "the expression ends too early"
    return f"unexpected {str(token)!r}"


@lru_cache(maxsize=4096)
def compile_expression(source: str, allowed_roots: frozenset[str] | None = None) -> Expression:
    """Parse and compile `source`; `allowed_roots` limits the first name of every field path."""
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        tree = _parser.parse(source)
    except UnexpectedInput as err:
        raise ExpressionError(_syntax_message(err, source), err.column) from None
    except LarkError as err:  # pragma: no cover - lark's other errors are grammar bugs
        raise ExpressionError(str(err)) from None
    if _depth(tree) > MAX_DEPTH:
        raise ExpressionError(f"expression nests deeper than {MAX_DEPTH} levels")
    compiler = _Compiler()
    try:
        evaluate = compiler.transform(tree)
    except Exception as err:  # lark wraps errors raised in callbacks
        inner = getattr(err, "orig_exc", err)
        if isinstance(inner, ExpressionError):
            raise inner from None
        raise ExpressionError(str(inner)) from None
    roots = frozenset(p.split(".", 1)[0] for p in compiler.paths)
    if allowed_roots is not None:
        unknown = sorted(roots - allowed_roots)
        if unknown:
            allowed = ", ".join(sorted(allowed_roots))
            raise ExpressionError(
                f"unknown name {unknown[0]!r}; fields start with one of: {allowed}",
                compiler.columns.get(unknown[0]),
            )
    return Expression(source, roots, frozenset(compiler.paths), evaluate)
