"""Gathering: related events that arrive close together land on one incident, whatever their
order. An event that a join selector takes while no incident of its key is open is held for
the key; when an incident opens
there (or reopens, flaps.py), the held events whose times are at most the playbook's
`gather_within` from the opening event's join it, as if they had come after it: counted,
listed on the timeline, and raising severity by the rules they met.

So an Alertmanager notification that lists the warning before the critical alert, or an
`/events` batch whose opening event is not first, ends with every alert on the incident.
Held events older than the watermark less `gather_within` are dropped (no incident can gather
them any more); a key holds at most HELD_PER_KEY.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from orchestrator.engine.clock import Millis
from orchestrator.engine.ids import shard_of, split_shard
from orchestrator.engine.incidents import note_event, raise_severity
from orchestrator.engine.outputs import Outbox, incident_event
from orchestrator.engine.playbook import Playbook, SeverityRule
from orchestrator.engine.records import IncidentRecord
from orchestrator.engine.state import EngineState

HELD_PER_KEY = 100
"""The most events held for one key; the oldest go first."""


def hold(
    state: EngineState,
    playbook: Playbook,
    key: str,
    at: Millis,
    ref: str,
    event_type: str,
    hits: Sequence[SeverityRule],
) -> None:
    """Keep an event that found no open incident of its key, for an opening close to it."""
    window = playbook.gather_within
    if not window:
        return
    entries = state.held.setdefault(shard_of(playbook.id, key), [])
    horizon = state.watermark - window
    entries[:] = [e for e in entries if e[0] >= horizon][-(HELD_PER_KEY - 1) :]
    rules = [playbook.rules.index(rule) for rule in hits]
    entries.append([at, ref, event_type, rules])


def gather(
    state: EngineState, playbook: Playbook, incident: IncidentRecord, at: Millis, out: Outbox
) -> IncidentRecord:
    """Join the held events of the incident's key that are close enough to `at` to it."""
    entries = state.held.pop(shard_of(playbook.id, incident.key), None)
    if not entries:
        return incident
    hits: list[SeverityRule] = []
    for held_at, ref, event_type, rules in entries:
        if abs(held_at - at) > playbook.gather_within:
            continue
        incident = note_event(out, incident, at, ref, event_type)
        detail = {"type": event_type, "gathered": True}
        out.outputs.append(incident_event("incident.joined", incident, at, ref, f":{ref}", detail))
        hits += [playbook.rules[i] for i in rules]
    raised = raise_severity(playbook, incident, hits) if hits else incident
    if raised is incident:
        return incident
    before, incident = incident.severity, state.put(raised)
    return out.incident(
        "incident.severity_changed",
        incident,
        at,
        suffix=f":{incident.severity.value}",
        before=before.value,
        after=incident.severity.value,
    )


def forget_held(state: EngineState, horizon: Millis, playbooks: Mapping[str, Playbook]) -> None:
    """Drop held events no opening can gather any more (older than horizon - gather_within)."""
    for shard in list(state.held):
        playbook = playbooks.get(split_shard(shard)[0])
        window = playbook.gather_within if playbook is not None else 0
        kept = [e for e in state.held[shard] if e[0] >= horizon - window]
        if kept:
            state.held[shard] = kept
        else:
            del state.held[shard]
