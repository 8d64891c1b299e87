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
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput

from orchestrator.engine.exprgen import Holds, Literals, generate
from orchestrator.engine.values import (
    FUNCTIONS,
    Context,
    Evaluator,
    arith,
    compare,
    compare_with,
    contains,
    resolve_path,
)
from orchestrator.errors import ExpressionError

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


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled condition: its source text, the root names it reads, its evaluator (closures)
    and `holds`, the same decision as one generated function (exprgen.py)."""

    source: str
    roots: frozenset[str]
    paths: frozenset[str]
    evaluate: Evaluator
    holds: Holds

    def test(self, ctx: Context) -> bool:
        """True when the condition holds for this context (never raises for odd data)."""
        return self.holds(ctx)


def closure_test(evaluate: Evaluator) -> Holds:
    """The condition decided by its closures: their value as a boolean, False on odd data."""

    def holds(ctx: Context) -> bool:
        try:
            return bool(evaluate(ctx))
        except (TypeError, ValueError, OverflowError, RecursionError):
            return False

    return holds


def _unescape(body: str, column: int | None) -> str:
    """Decode the backslash escapes of a double-quoted string, keeping non-ASCII text intact."""
    try:
        return body.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError as err:
        raise ExpressionError(f"bad escape in string: {err.reason}", column) from None


def number_value(token: Token) -> float | int:
    """The value of a number literal: a float with a point or exponent, else an int."""
    text = str(token)
    value: float | int = float(text) if any(c in text for c in ".eE") else int(text)
    if isinstance(value, float) and not math.isfinite(value):
        raise ExpressionError(f"number {text} is too large", token.column)
    return value


def string_text(token: Token) -> str:
    """The text of a string literal (either quote; escapes only in double quotes)."""
    raw = str(token)
    return _unescape(raw[1:-1], token.column) if raw[0] == '"' else raw[1:-1]


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
        return self._constant(number_value(items[0]))

    def string(self, items: list[Token]) -> Evaluator:
        return self._constant(string_text(items[0]))

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
            return compare_with(op, left, self.constants[right])
        return lambda ctx: compare(op, left(ctx), right(ctx))

    def in_(self, items: list[Evaluator]) -> Evaluator:
        left, right = items
        return lambda ctx: contains(right(ctx), left(ctx))

    def not_in(self, items: list[Evaluator]) -> Evaluator:
        left, right = items
        return lambda ctx: not contains(right(ctx), left(ctx))

    def arith(self, items: list[Any]) -> Evaluator:
        left, op_token, right = items
        op = str(op_token)
        return lambda ctx: arith(op, left(ctx), right(ctx))

    def neg(self, items: list[Evaluator]) -> Evaluator:
        (inner,) = items
        return lambda ctx: arith("-", 0, inner(ctx))

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
    holds = generate(tree, Literals(number_value, string_text)) or closure_test(evaluate)
    return Expression(source, roots, frozenset(compiler.paths), evaluate, holds)
