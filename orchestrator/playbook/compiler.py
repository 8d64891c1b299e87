"""Compiling one validated playbook document into a Playbook, checking what its format cannot:
known roles, event types and levels, unique ids, deadlines within their limits, no cycles."""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.engine import EVENT_ROOTS, Playbook, Resolution, Role, Signals, Trigger
from orchestrator.errors import PlaybookError
from orchestrator.playbook.checker import Checker, LoadOptions
from orchestrator.playbook.severity import severity
from orchestrator.playbook.tasks import DEFAULT_REVIEW, check_graph, compile_task
from orchestrator.playbook.triggers import selector, window
from orchestrator.playbook.typos import event_vocabularies
from orchestrator.playbook.yamlsource import Document
from orchestrator.playbook.yamlsource import Path as DocPath
from schemas import CATALOGUE
from schemas import playbook as spec

DEFAULT_ROLES: Mapping[str, Role] = {
    "ops": Role("ops", "Operations: cause, trend, keeping systems running", "incident_commander"),
    "pr": Role("pr", "Marketing / PR: statements, media, brand", "incident_commander"),
    "legal": Role(
        "legal", "Legal counsel: legal advice, regulatory exposure", "incident_commander"
    ),
    "logistics": Role("logistics", "Logistics and suppliers", "incident_commander"),
    "customer_service": Role(
        "customer_service", "Talks to and reassures customers", "incident_commander"
    ),
    "incident_commander": Role("incident_commander", "Decision maker who leads the response", None),
}
"""Roles every playbook may use without declaring them."""


def compile_playbook(doc: Document, raw: spec.PlaybookSpec, options: LoadOptions) -> Playbook:
    """The Playbook `raw` (validated from `doc`) describes; PlaybookError listing every problem."""
    c = Checker(doc, options)
    c.vocabularies = event_vocabularies(raw.event_types)
    known_types = set(CATALOGUE) | set(raw.event_types)
    roles = _roles(c, raw)
    triggers = _triggers(c, raw, known_types)
    joins = tuple(selector(c, j, raw.key, ("join", i), known_types) for i, j in enumerate(raw.join))
    matrix, initial, rules = severity(c, raw, known_types)
    tasks = [compile_task(c, t, roles, ("tasks", i)) for i, t in enumerate(raw.tasks)]
    review = compile_task(c, raw.review or DEFAULT_REVIEW, roles, ("review",))
    check_graph(c, tasks, review)
    if review is not None and review.depends_on:
        c.add(
            ("review", "depends_on"),
            "the review task is attached at resolution; it has no dependencies",
        )
    resolution = _resolution(c, raw.resolution, known_types)
    if c.problems:
        raise PlaybookError(c.problems)
    return Playbook(
        id=raw.id,
        version=str(raw.version),
        title=raw.title,
        description=raw.description,
        mode=raw.mode,
        source=doc.file,
        triggers=triggers,
        joins=joins,
        matrix=matrix,
        initial=initial,
        rules=rules,
        tasks=tuple(tasks),
        review=review,
        resolution=resolution,
        roles=roles,
        event_types=dict(raw.event_types),
        gather_within=c.window_span(raw.gather_within, ("gather_within",)),
        details=tuple((name, tuple(path.split("."))) for name, path in raw.details.items()),
    )


def _roles(c: Checker, raw: spec.PlaybookSpec) -> dict[str, Role]:
    """The default roles with the playbook's own; each escalates to a known role."""
    roles = dict(DEFAULT_ROLES)
    for name, declared in raw.roles.items():
        roles[name] = Role(name, declared.title, declared.escalates_to)
    for name, role in roles.items():
        if role.escalates_to is not None and role.escalates_to not in roles:
            c.add(("roles", name, "escalates_to"), f"unknown role {role.escalates_to!r}")
    return roles


def _triggers(c: Checker, raw: spec.PlaybookSpec, known_types: set[str]) -> tuple[Trigger, ...]:
    triggers = []
    for i, t in enumerate(raw.triggers):
        path: DocPath = ("triggers", i)
        triggers.append(
            Trigger(t.id, selector(c, t, raw.key, path, known_types), window(c, t.window, path))
        )
    ids = [t.id for t in raw.triggers]
    for i, tid in enumerate(ids):
        if tid in ids[:i]:
            c.add(("triggers", i, "id"), f"duplicate trigger id {tid!r}")
    return tuple(triggers)


def _resolution(c: Checker, raw: spec.ResolutionSpec, known_types: set[str]) -> Resolution:
    signals = []
    for i, s in enumerate(raw.signals):
        path: DocPath = ("resolution", "signals", i)
        if s.on not in known_types:
            c.add((*path, "on"), f"unknown event type {s.on!r}")
        words = c.vocabularies.get(s.on)
        open_when = c.expression(s.open_when, (*path, "open_when"), EVENT_ROOTS, words)
        close_when = c.expression(s.close_when, (*path, "close_when"), EVENT_ROOTS, words)
        if open_when and close_when:
            ids = s.id if isinstance(s.id, list) else [s.id]
            paths = tuple(tuple(i.split(".")) for i in ids)
            signals.append(Signals(s.on, paths, open_when, close_when))
    quiet = c.duration(raw.quiet_for, ("resolution", "quiet_for")) if raw.quiet_for else None
    reopen = c.duration(raw.reopen_within, ("resolution", "reopen_within"))
    return Resolution(tuple(signals), quiet, raw.tasks_done, reopen)
