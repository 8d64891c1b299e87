"""The incident state machine: open -> resolved -> closed, with severity that only rises.

Incidents are immutable records: every function that changes one puts the new record in the
state and returns it, and the caller goes on with the returned one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from orchestrator.engine import signalsets
from orchestrator.engine.clock import Millis
from orchestrator.engine.ids import incident_id, shard_of
from orchestrator.engine.outputs import Outbox, timeline_entry
from orchestrator.engine.playbook import Playbook, SeverityRule
from orchestrator.engine.records import IncidentRecord, counted, replace
from orchestrator.engine.severity import higher_level, max_severity
from orchestrator.engine.state import EngineState
from orchestrator.engine.tasks import assign, attach, cancel_open, find, reconcile
from orchestrator.engine.values import resolve_path
from schemas import TERMINAL_STATUSES, Event, IncidentStatus, Phase, TaskStatus

REVIEW_PHASE = Phase.REVIEW.value
CANCEL_ON_RESOLVE = frozenset({"assess", "respond"})
"""Phases whose unacknowledged tasks are cancelled when the incident resolves."""
SIGNALS_CAPPED = "signals.capped"
"""The timeline entry of an incident whose open signals outgrew the cap on those listed."""


def open_incident(
    state: EngineState,
    playbook: Playbook,
    key: str,
    trigger: str,
    event: Event,
    at: Millis,
    drill: bool = False,
    ref: str | None = None,
) -> IncidentRecord:
    """A new open incident for `key`, opened by `event` through `trigger` (nothing emitted yet);
    `ref`, the event's "source/id" if the caller has it (then one string for both)."""
    likelihood, impact = playbook.initial
    shard = shard_of(playbook.id, key)
    incident = IncidentRecord(
        id=incident_id(playbook.id, key, event.source, event.id),
        playbook=playbook.id,
        playbook_version=playbook.version,
        key=key,
        mode=playbook.mode,
        drill=drill,
        status=IncidentStatus.OPEN,
        phase=Phase.ASSESS,
        severity=playbook.matrix.severity(likelihood, impact),
        likelihood=likelihood,
        impact=impact,
        trigger=trigger,
        opened_at=at,
        opened_by=ref if ref is not None else f"{event.source}/{event.id}",
        last_event_at=at,
        **state.take_signals(shard),
    )
    state.mark_open(incident)
    return state.put(incident)


def note_event(
    out: Outbox, incident: IncidentRecord, at: Millis, ref: str, event_type: str
) -> IncidentRecord:
    """Count an event that joins `incident`, list it on the timeline up to the cap, and move
    its last event time up to `at`: one new record."""
    total = incident.events_total + 1
    by_type = counted(incident.events_by_type, event_type)
    last = max(at, incident.last_event_at)
    dropped = incident.timeline_events_dropped
    if total - dropped <= out.timeline_event_cap:
        entry = timeline_entry(at, "event", None, ref, {"type": event_type})
        changed = replace(
            incident,
            last_event_at=last,
            events_total=total,
            events_by_type=by_type,
            timeline=(*incident.timeline, entry),
        )
    else:
        changed = replace(
            incident,
            last_event_at=last,
            events_total=total,
            events_by_type=by_type,
            timeline_events_dropped=dropped + 1,
        )
    return out.state.put(changed)


def raise_severity(
    playbook: Playbook, incident: IncidentRecord, hits: Iterable[SeverityRule]
) -> IncidentRecord:
    """The incident with the rules that matched applied (not put in the state: the caller
    does, when it differs)."""
    floor = None
    likelihood, impact = incident.likelihood, incident.impact
    matrix = playbook.matrix
    for rule in hits:
        likelihood = higher_level(matrix.likelihood, likelihood, rule.likelihood)
        impact = higher_level(matrix.impact, impact, rule.impact)
        floor = max_severity(floor, rule.at_least) if rule.at_least else floor
    severity = max_severity(incident.severity, matrix.severity(likelihood, impact), floor)
    if (likelihood, impact, severity) == (incident.likelihood, incident.impact, incident.severity):
        return incident
    return replace(incident, likelihood=likelihood, impact=impact, severity=severity)


class OpenSignals(NamedTuple):
    """The signals of an incident (or of a key without one) that are open: those listed, in
    the order they opened, and how many more beyond the cap on the list."""

    listed: tuple[str, ...]
    untracked: int


def apply_signals(
    playbook: Playbook,
    incident: IncidentRecord,
    event_type: str,
    ctx: dict[str, Any],
    cap: int,
) -> tuple[IncidentRecord, bool]:
    """Open or close tracked signals; the incident after it, and True if this event touched
    one (the incident is not put in the state: the caller does)."""
    before = OpenSignals(incident.open_signals, incident.open_signals_untracked)
    after, touched = toggle_signals(playbook, before, cap, event_type, ctx)
    if not touched:
        return incident, False
    return replace(
        incident, open_signals=after.listed, open_signals_untracked=after.untracked
    ), True


def note_signal_cap(out: Outbox, incident: IncidentRecord, at: Millis, cap: int) -> IncidentRecord:
    """Say on the timeline, once per incident, that its open signals outgrew the cap: from
    then on those beyond it are counted, and any closing event for a signal not listed takes
    one off the count (exact while each signal opens once and closes once)."""
    if any(entry.kind == SIGNALS_CAPPED for entry in incident.timeline):
        return incident
    return out.note(incident, at, SIGNALS_CAPPED, listed=cap)


def remember_signals(
    state: EngineState,
    playbook: Playbook,
    key: str,
    event_type: str,
    ctx: dict[str, Any],
    cap: int,
) -> None:
    """Track signals of a key with no open incident; the next incident for it inherits them."""
    name = shard_of(playbook.id, key)
    before = OpenSignals(state.signals.get(name, ()), state.signals_untracked.get(name, 0))
    after, _touched = toggle_signals(playbook, before, cap, event_type, ctx)
    if after.listed:
        state.signals[name] = after.listed
    else:
        state.signals.pop(name, None)
    if after.untracked:
        state.signals_untracked[name] = after.untracked
    else:
        state.signals_untracked.pop(name, None)


def toggle_signals(
    playbook: Playbook, open_now: OpenSignals, cap: int, event_type: str, ctx: dict[str, Any]
) -> tuple[OpenSignals, bool]:
    """The open signals with opened ones added (listed up to `cap`, counted beyond it) and
    closed ones removed (a closing one not listed takes one off the count); True if one
    changed."""
    listed, untracked = open_now
    touched = False
    for signals in playbook.resolution.signals:
        if signals.on != event_type:
            continue
        label = signal_label(ctx, signals.id_paths)
        if label is None:
            continue
        if signals.open_when.holds(ctx) and not signalsets.holds(listed, label):
            if len(listed) < cap:
                listed = signalsets.added(listed, label)
            else:
                untracked += 1
            touched = True
        elif signals.close_when.holds(ctx):
            if signalsets.holds(listed, label):
                listed = signalsets.removed(listed, label)
                touched = True
            elif untracked:
                untracked -= 1
                touched = True
    return (OpenSignals(listed, untracked) if touched else open_now), touched


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
    incident: IncidentRecord,
    at: Millis,
    out: Outbox,
    signals_touched: bool = False,
) -> IncidentRecord:
    """Resolve the incident when one of its playbook's resolution conditions holds."""
    if incident.status != IncidentStatus.OPEN:
        return incident
    rules = playbook.resolution
    if (
        rules.signals
        and signals_touched
        and not incident.open_signals
        and not incident.open_signals_untracked
    ):
        return resolve(state, playbook, incident, at, out, reason="every signal resolved")
    if rules.tasks_done:
        work = [t for t in incident.tasks if t.phase != REVIEW_PHASE]
        finished = all(t.status in TERMINAL_STATUSES for t in work)
        if work and finished and any(t.status == TaskStatus.DONE for t in work):
            return resolve(state, playbook, incident, at, out, reason="every task finished")
    return incident


def resolve(
    state: EngineState,
    playbook: Playbook,
    incident: IncidentRecord,
    at: Millis,
    out: Outbox,
    reason: str,
    actor: str | None = None,
    ref: str | None = None,
) -> IncidentRecord:
    """open -> resolved: stop early-phase work, attach the review task, free the key."""
    incident = state.put(
        replace(incident, status=IncidentStatus.RESOLVED, phase=Phase.REVIEW, resolved_at=at)
    )
    state.mark_not_open(incident)
    state.resolved_index[shard_of(playbook.id, incident.key)] = incident.id
    state.quiet_due.pop(incident.id, None)
    incident = out.incident("incident.resolved", incident, at, ref=ref, actor=actor, reason=reason)
    incident = cancel_open(
        incident, at, out, "incident resolved", CANCEL_ON_RESOLVE, keep_acknowledged=True
    )
    if playbook.review is not None and find(incident, playbook.review.name) is None:
        incident, task = attach(state, incident, playbook.review, at, out)
        incident = assign(state, incident, task, playbook.review, at, out)
    return reconcile(state, playbook, incident, at, out)


def close(
    state: EngineState,
    playbook: Playbook,
    incident: IncidentRecord,
    at: Millis,
    out: Outbox,
    reason: str,
    actor: str | None = None,
    ref: str | None = None,
) -> IncidentRecord:
    """-> closed: the review is done (or the commander closed it); nothing stays open."""
    if incident.status == IncidentStatus.OPEN:
        incident = resolve(state, playbook, incident, at, out, reason=reason, actor=actor, ref=ref)
    incident = state.put(replace(incident, status=IncidentStatus.CLOSED, closed_at=at))
    incident = cancel_open(incident, at, out, "incident closed")
    return out.incident("incident.closed", incident, at, ref=ref, actor=actor, reason=reason)
