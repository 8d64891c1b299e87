"""The incident state machine: open -> resolved -> closed, with severity that only rises."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orchestrator.engine.clock import Millis, format_time
from orchestrator.engine.construct import compact
from orchestrator.engine.ids import incident_id, shard_of
from orchestrator.engine.outputs import Outbox
from orchestrator.engine.playbook import Playbook, SeverityRule
from orchestrator.engine.severity import higher_level, max_severity
from orchestrator.engine.state import EngineState
from orchestrator.engine.tasks import assign, attach, cancel_open, find, reconcile
from orchestrator.engine.values import resolve_path
from schemas import TERMINAL_STATUSES, Event, Incident, IncidentStatus, Phase, TaskStatus

REVIEW_PHASE = Phase.REVIEW.value
CANCEL_ON_RESOLVE = frozenset({"assess", "respond"})
"""Phases whose unacknowledged tasks are cancelled when the incident resolves."""


def open_incident(
    state: EngineState, playbook: Playbook, key: str, trigger: str, event: Event, at: Millis
) -> Incident:
    """A new open incident for `key`, opened by `event` through `trigger` (nothing emitted yet)."""
    likelihood, impact = playbook.initial
    incident = compact(
        Incident(
            id=incident_id(playbook.id, key, event.source, event.id),
            playbook=playbook.id,
            playbook_version=playbook.version,
            key=key,
            mode=playbook.mode,
            status=IncidentStatus.OPEN,
            phase=Phase.ASSESS,
            severity=playbook.matrix.severity(likelihood, impact),
            likelihood=likelihood,
            impact=impact,
            trigger=trigger,
            opened_at=format_time(at),
            opened_by=f"{event.source}/{event.id}",
            last_event_at=format_time(at),
            open_signals=state.signals.pop(shard_of(playbook.id, key), []),
        )
    )
    state.incidents[incident.id] = incident
    state.open_index[shard_of(playbook.id, key)] = incident.id
    return incident


def note_event(out: Outbox, incident: Incident, at: Millis, ref: str, event_type: str) -> None:
    """Count an event that joins `incident`, and list it on the timeline up to the cap."""
    incident.events_total += 1
    incident.events_by_type[event_type] = incident.events_by_type.get(event_type, 0) + 1
    listed = incident.events_total - incident.timeline_events_dropped
    if listed <= out.timeline_event_cap:
        out.note(incident, at, "event", ref=ref, type=event_type)
    else:
        incident.timeline_events_dropped += 1


def raise_severity(playbook: Playbook, incident: Incident, hits: Iterable[SeverityRule]) -> bool:
    """Apply the rules that matched; True when the severity rose."""
    before = incident.severity
    floor = None
    for rule in hits:
        incident.likelihood = higher_level(
            playbook.matrix.likelihood, incident.likelihood, rule.likelihood
        )
        incident.impact = higher_level(playbook.matrix.impact, incident.impact, rule.impact)
        floor = max_severity(floor, rule.at_least) if rule.at_least else floor
    cell = playbook.matrix.severity(incident.likelihood, incident.impact)
    incident.severity = max_severity(before, cell, floor)
    return incident.severity != before


def apply_signals(
    playbook: Playbook, incident: Incident, event_type: str, ctx: dict[str, Any]
) -> bool:
    """Open or close tracked signals; True if this event touched one."""
    return toggle_signals(playbook, incident.open_signals, event_type, ctx)


def remember_signals(
    state: EngineState, playbook: Playbook, key: str, event_type: str, ctx: dict[str, Any]
) -> None:
    """Track signals of a key with no open incident; the next incident for it inherits them."""
    name = shard_of(playbook.id, key)
    labels = state.signals.get(name, [])
    toggle_signals(playbook, labels, event_type, ctx)
    if labels:
        state.signals[name] = labels
    else:
        state.signals.pop(name, None)


def toggle_signals(
    playbook: Playbook, open_signals: list[str], event_type: str, ctx: dict[str, Any]
) -> bool:
    """Add opened and remove closed signal labels in `open_signals`; True if one changed."""
    touched = False
    for signals in playbook.resolution.signals:
        if signals.on != event_type:
            continue
        label = signal_label(ctx, signals.id_paths)
        if label is None:
            continue
        if signals.open_when.test(ctx) and label not in open_signals:
            open_signals.append(label)
            touched = True
        elif signals.close_when.test(ctx) and label in open_signals:
            open_signals.remove(label)
            touched = True
    return touched


def signal_label(ctx: dict[str, Any], paths: tuple[tuple[str, ...], ...]) -> str | None:
    """The name of the signal an event opens or closes: the first of `paths` present; an
    object (a label set) as its sorted `key=value` pairs, so equal sets name one signal."""
    for path in paths:
        value = resolve_path(ctx, path)
        if isinstance(value, dict):
            return ",".join(f"{k}={v}" for k, v in sorted(value.items())) if value else None
        if value is not None:
            return str(value)
    return None


def check_resolution(
    state: EngineState,
    playbook: Playbook,
    incident: Incident,
    at: Millis,
    out: Outbox,
    signals_touched: bool = False,
) -> None:
    """Resolve the incident when one of its playbook's resolution conditions holds."""
    if incident.status != IncidentStatus.OPEN:
        return
    rules = playbook.resolution
    if rules.signals and signals_touched and not incident.open_signals:
        resolve(state, playbook, incident, at, out, reason="every signal resolved")
        return
    if rules.tasks_done:
        work = [t for t in incident.tasks if t.phase != REVIEW_PHASE]
        finished = all(t.status in TERMINAL_STATUSES for t in work)
        if work and finished and any(t.status == TaskStatus.DONE for t in work):
            resolve(state, playbook, incident, at, out, reason="every task finished")


def resolve(
    state: EngineState,
    playbook: Playbook,
    incident: Incident,
    at: Millis,
    out: Outbox,
    reason: str,
    actor: str | None = None,
    ref: str | None = None,
) -> None:
    """open -> resolved: stop early-phase work, attach the review task, free the key."""
    incident.status = IncidentStatus.RESOLVED
    incident.phase = Phase.REVIEW
    incident.resolved_at = format_time(at)
    state.open_index.pop(shard_of(playbook.id, incident.key), None)
    state.resolved_index[shard_of(playbook.id, incident.key)] = incident.id
    state.quiet_due.pop(incident.id, None)
    out.incident("incident.resolved", incident, at, ref=ref, actor=actor, reason=reason)
    cancel_open(incident, at, out, "incident resolved", CANCEL_ON_RESOLVE, keep_acknowledged=True)
    if playbook.review is not None and find(incident, playbook.review.name) is None:
        task = attach(state, incident, playbook.review, at, out)
        assign(state, incident, task, playbook.review, at, out)
    reconcile(state, playbook, incident, at, out)


def close(
    state: EngineState,
    playbook: Playbook,
    incident: Incident,
    at: Millis,
    out: Outbox,
    reason: str,
    actor: str | None = None,
    ref: str | None = None,
) -> None:
    """-> closed: the review is done (or the commander closed it); nothing stays open."""
    if incident.status == IncidentStatus.OPEN:
        resolve(state, playbook, incident, at, out, reason=reason, actor=actor, ref=ref)
    incident.status = IncidentStatus.CLOSED
    incident.closed_at = format_time(at)
    cancel_open(incident, at, out, "incident closed")
    out.incident("incident.closed", incident, at, ref=ref, actor=actor, reason=reason)
