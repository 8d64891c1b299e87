"""Mistakes a condition can hide, found at load with a "did you mean": a literal that its field
can never hold (`incident.severity >= "hihg"`, `data.status == "fireing"`), and a `data.` field
that the event type does not have (`data.amout` where the type declares `amount`).

A field missing from an event is `null` and a comparison that makes no sense is false, so the
engine would run such a condition quietly and it would never hold. The vocabulary: severities
and incident statuses (schemas), the catalogue's data models, and the playbook's `event_types`.

Which fields count as unknown: on a type the playbook declares, every field it does not declare
(the declaration is the author's own list); on a catalogue type, whose events may carry more
fields than the catalogue names, only a name close to a catalogue field (a likely misspelling).
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from schemas import CATALOGUE, IncidentStatus, Severity
from schemas import playbook as spec

INCIDENT_LITERALS: Mapping[str, tuple[str, ...]] = {
    "incident.severity": tuple(s.value for s in Severity),
    "incident.status": tuple(s.value for s in IncidentStatus),
}
"""The values a task's `when` may compare these incident fields with."""

_STRING = r"\"(?:[^\"\\]|\\.)*\"|'[^']*'"
_PATH = r"(?<![\w.])(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?![\w.(])"
_OP = r"\s*(?:==|!=|<=|>=|<|>|\bnot\s+in\b|\bin\b)\s*"
_FORWARD = re.compile(_PATH + _OP + rf"(?P<value>{_STRING}|\[[^\]]*\])")
_BACKWARD = re.compile(rf"(?P<value>{_STRING})\s*(?:==|!=|<=|>=|<|>)\s*" + _PATH)
_STRINGS = re.compile(_STRING)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What the conditions on one kind of input may name."""

    literals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Field path -> the only values it takes (enums, severities, statuses)."""
    fields: tuple[str, ...] | None = None
    """The `data` fields of the event type (None: not known, nothing is checked)."""
    declared: bool = False
    """True for a type the playbook declares: every other field is a mistake."""


INCIDENT = Vocabulary(INCIDENT_LITERALS)
"""The vocabulary of a task's `when` (conditions on the incident)."""


def event_vocabularies(declared: Mapping[str, spec.EventTypeSpec]) -> dict[str, Vocabulary]:
    """The vocabulary of each event type: the catalogue's and the playbook's own."""
    found = {name: _of_model(model) for name, model in CATALOGUE.items()}
    for name, declared_type in declared.items():
        if name not in CATALOGUE:
            found[name] = _of_declaration(declared_type)
    return found


def mistakes(source: str, paths: Iterable[str], words: Vocabulary) -> list[str]:
    """What is wrong with the condition `source` (reading `paths`) under `words`."""
    found = [_unknown_field(p, words) for p in sorted(paths)]
    found += [_impossible(path, value, words) for path, value in _comparisons(source)]
    return list(dict.fromkeys(m for m in found if m is not None))


def _comparisons(source: str) -> Iterable[tuple[str, str]]:
    """(field path, string literal) of every comparison of a path with text in `source`."""
    for match in _FORWARD.finditer(source):
        for literal in _STRINGS.findall(match["value"]):
            yield match["path"], literal[1:-1]
    for match in _BACKWARD.finditer(source):
        yield match["path"], match["value"][1:-1]


def _impossible(path: str, value: str, words: Vocabulary) -> str | None:
    allowed = words.literals.get(path)
    if allowed is None or value in allowed:
        return None
    return (
        f"{path} is never {value!r} (it is one of: {', '.join(allowed)}), so this condition "
        f"cannot hold{did_you_mean(value, allowed)}"
    )


def _unknown_field(path: str, words: Vocabulary) -> str | None:
    parts = path.split(".")
    if words.fields is None or len(parts) < 2 or parts[0] != "data" or parts[1] in words.fields:
        return None
    close = get_close_matches(parts[1], words.fields, n=1)
    if not words.declared and not close:
        return None
    listed = ", ".join(words.fields) or "none"
    return (
        f"data.{parts[1]} is not a field of this event type (its fields: {listed}); a missing "
        f"field is null{did_you_mean(parts[1], words.fields, 'data.', quote=False)}"
    )


def did_you_mean(word: str, choices: Iterable[str], prefix: str = "", quote: bool = True) -> str:
    """`; did you mean 'x'?` for the choice closest to `word`, or "" when none is close."""
    close = get_close_matches(word, list(choices), n=1)
    if not close:
        return ""
    shown = repr(close[0]) if quote else close[0]
    return f"; did you mean {prefix}{shown}?"


def _of_model(model: type[BaseModel]) -> Vocabulary:
    literals = {
        f"data.{name}": values
        for name, info in model.model_fields.items()
        if (values := _literal_values(info.annotation))
    }
    return Vocabulary(literals, tuple(model.model_fields), declared=False)


def _of_declaration(declared: spec.EventTypeSpec) -> Vocabulary:
    literals = {f"data.{n}": tuple(f.enum) for n, f in declared.fields.items() if f.enum}
    return Vocabulary(literals, tuple(declared.fields), declared=True)


def _literal_values(annotation: Any) -> tuple[str, ...]:
    """The string values of a Literal annotation (also inside `X | None`); () otherwise."""
    if get_origin(annotation) is Literal:
        return tuple(str(v) for v in get_args(annotation))
    if get_origin(annotation) in (Union, types.UnionType):
        return tuple(v for arg in get_args(annotation) for v in _literal_values(arg))
    return ()
