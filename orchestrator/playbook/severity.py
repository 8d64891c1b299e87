"""Compiling severity: the likelihood x impact matrix, its initial cell and the rules raising it."""

from __future__ import annotations

from orchestrator.engine import DEFAULT_INITIAL, Matrix, SeverityRule
from orchestrator.playbook.checker import Checker
from orchestrator.playbook.triggers import selector, window
from orchestrator.playbook.yamlsource import Path as DocPath
from schemas import Severity
from schemas import playbook as spec

Cell = tuple[str, str]
"""A cell of the matrix: (likelihood, impact)."""


def severity(
    checker: Checker, raw: spec.PlaybookSpec, known_types: set[str]
) -> tuple[Matrix, Cell, tuple[SeverityRule, ...]]:
    """The playbook's matrix, initial cell and rules, with a problem for each unknown level."""
    matrix, initial = _matrix(checker, raw.severity)
    rules = tuple(
        _rule(checker, rule, i, matrix, raw.key, known_types)
        for i, rule in enumerate(raw.severity.rules)
    )
    return matrix, initial, rules


def _rule(
    c: Checker,
    r: spec.SeverityRule,
    i: int,
    matrix: Matrix,
    fallback: spec.KeySpec | None,
    known_types: set[str],
) -> SeverityRule:
    path: DocPath = ("severity", "rules", i)
    _check_level(c, matrix.likelihood, r.likelihood, (*path, "likelihood"))
    _check_level(c, matrix.impact, r.impact, (*path, "impact"))
    if r.likelihood is None and r.impact is None and r.at_least is None:
        c.add(path, "a severity rule must set likelihood, impact or at_least")
    return SeverityRule(
        f"rule_{i}",
        selector(c, r, fallback, path, known_types),
        window(c, r.window, path),
        r.likelihood,
        r.impact,
        Severity(r.at_least) if r.at_least else None,
    )


def _matrix(checker: Checker, raw: spec.SeveritySpec) -> tuple[Matrix, Cell]:
    matrix = Matrix()
    if raw.matrix is not None:
        m = raw.matrix
        shape_ok = len(m.cells) == len(m.likelihood) and all(
            len(r) == len(m.impact) for r in m.cells
        )
        if not shape_ok:
            checker.add(
                ("severity", "matrix", "cells"),
                f"cells must be {len(m.likelihood)} rows "
                f"(likelihood) of {len(m.impact)} columns (impact)",
            )
        else:
            matrix = Matrix(tuple(m.likelihood), tuple(m.impact), tuple(tuple(r) for r in m.cells))
    initial = DEFAULT_INITIAL
    if raw.initial is not None:
        initial = (
            raw.initial.get("likelihood", matrix.likelihood[0]),
            raw.initial.get("impact", matrix.impact[0]),
        )
    elif raw.matrix is not None:
        initial = (matrix.likelihood[0], matrix.impact[0])
    _check_level(checker, matrix.likelihood, initial[0], ("severity", "initial", "likelihood"))
    _check_level(checker, matrix.impact, initial[1], ("severity", "initial", "impact"))
    return matrix, initial


def _check_level(
    checker: Checker, levels: tuple[str, ...], level: str | None, path: DocPath
) -> None:
    if level is not None and level not in levels:
        checker.add(path, f"unknown level {level!r}; the levels are {', '.join(levels)}")
