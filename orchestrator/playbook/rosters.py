"""Reading a rosters file: YAML in, the engine's Rosters out, or a RostersError listing every
mistake with file:line and field (the playbooks' reader and translator, reused)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from orchestrator.engine import Hours, Layer, Override, Roster, Rosters, parse_duration, parse_time
from orchestrator.errors import Problem, RostersError
from orchestrator.playbook.problems import Wording, plain_message, validation_problems
from orchestrator.playbook.yamlsource import Document, read_source, read_yaml
from schemas import rosters as spec


@dataclass(frozen=True, slots=True)
class RostersFile:
    """A loaded rosters file: the engine's Rosters and the contacts of the responders."""

    path: str
    rosters: Rosters
    contacts: dict[str, spec.Contact]


def _no_tags(node: Any) -> Collection[object]:
    return ()


ROSTERS = Wording(
    plain_message(
        "unknown field; the format is in docs/oncall.md (schemas/json/rosters.schema.json)"
    ),
    _no_tags,
    field_in_path=True,
    per_message=True,
)
"""Rosters files: one problem a distinct message; a missing field is named in the path."""


def load_rosters(path: str | Path) -> RostersFile:
    """Read, validate and compile one rosters file; RostersError lists every problem."""
    file = Path(path)
    try:
        text = read_source(file)
    except OSError as err:
        raise RostersError([Problem(str(file), None, "", f"cannot read: {err.strerror}")]) from None
    return load_rosters_text(text, str(file))


def load_rosters_text(text: str | bytes, file: str) -> RostersFile:
    """load_rosters for a text already read; `file` names it in problems."""
    doc, problems = read_yaml(text, file)
    if doc is None or problems:
        raise RostersError(problems)
    if not isinstance(doc.data, dict):
        raise RostersError([Problem(file, 1, "", "a rosters file is a mapping with `roles`")])
    try:
        parsed = spec.RostersSpec.model_validate(doc.data)
    except ValidationError as err:
        raise RostersError(validation_problems(doc, err, ROSTERS)) from None
    problems = []
    roles: dict[str, Roster] = {}
    for role, roster in parsed.roles.items():
        layers = [
            _layer(doc, ("roles", role, "layers", i), s, problems)
            for i, s in enumerate(roster.layers)
        ]
        overrides = [
            _override(doc, ("roles", role, "overrides", i), o.responder, o.from_, o.until, problems)
            for i, o in enumerate(roster.overrides)
        ]
        roles[role] = Roster(
            tuple(x for x in layers if x is not None),
            tuple(x for x in overrides if x is not None),
            tuple(roster.fallback),
        )
    if problems:
        raise RostersError(problems)
    return RostersFile(file, Rosters(roles, tuple(parsed.fallback)), dict(parsed.contacts))


def _layer(
    doc: Document, at: tuple[str | int, ...], layer: spec.LayerSpec, problems: list[Problem]
) -> Layer | None:
    try:
        ZoneInfo(layer.zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            doc.problem(
                (*at, "zone"),
                f"unknown time zone {layer.zone!r}; use an IANA name such as Europe/Berlin",
            )
        )
        return None
    shift = parse_duration(layer.shift)
    if shift < 60_000:
        problems.append(doc.problem((*at, "shift"), "a shift is at least one minute"))
        return None
    windows = []
    for i, rule in enumerate(layer.restrict):
        start, end = _minute(rule.from_), _minute(rule.to)
        if start >= end:
            problems.append(
                doc.problem(
                    (*at, "restrict", i),
                    "`from` must be before `to` (split a window over midnight in two)",
                )
            )
        days = frozenset(spec.WEEKDAYS.index(d) for d in rule.days)
        windows.append(Hours(days, start, end))
    start_at = datetime.fromisoformat(layer.start)
    return Layer(layer.name, tuple(layer.members), start_at, layer.zone, shift, tuple(windows))


def _override(
    doc: Document,
    at: tuple[str | int, ...],
    responder: str,
    start: str,
    end: str,
    problems: list[Problem],
) -> Override | None:
    try:
        start_ms, end_ms = parse_time(start), parse_time(end)
    except ValueError as err:
        problems.append(doc.problem(at, str(err)))
        return None
    if start_ms >= end_ms:
        problems.append(doc.problem((*at, "until"), "`until` must be after `from`"))
        return None
    return Override(responder, start_ms, end_ms)


def _minute(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)
