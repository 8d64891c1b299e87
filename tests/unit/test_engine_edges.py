"""Edge rules of intake and timers that protect responders from odd input."""

from __future__ import annotations

from orchestrator.core.clock import parse_time
from orchestrator.core.engine import EngineConfig
from orchestrator.playbook import load_directory, load_playbook_text
from orchestrator.testing import Drill, event

BREACH_LIKE = """
id: regulator
version: 1
title: Deadline since opening
key: [data.asset]
triggers:
  - id: any
    on: security.alert
tasks:
  - name: assess
    role: legal
    title: Assess
  - name: notify
    role: legal
    title: Notify
    depends_on: [assess]
    ack_within: {within: 1h, since: opened}
    escalation: [{after: 0m, to: incident_commander}]
"""


def alert(time: str, eid: str, service: str = "checkout") -> dict[str, object]:
    return event("ops.alert", time, id=eid, alertname="Down", service=service,
                 status="firing", severity="critical")


def test_event_older_than_the_dedupe_horizon_is_dead_lettered() -> None:
    """An event too old to be checked for duplicates is kept as a dead letter, not re-run."""
    drill = Drill.of(load_directory("playbooks"), EngineConfig(dedupe_horizon=3_600_000))
    drill.feed(alert("2026-11-20T12:00:00Z", "new"), alert("2026-11-20T10:30:00Z", "old", "x"))
    (letter,) = drill.dead_letters()
    assert "dedupe horizon" in letter.reason
    assert drill.state.counters.rejected == 1
    assert [i.key for i in drill.incidents()] == ["checkout"]


def test_numbers_too_large_for_a_float_are_rejected() -> None:
    """1e999 is not silently turned into infinity: the event is rejected with a reason."""
    raw = (b'{"id":"m1","source":"s","type":"ops.metric","time":"2026-11-20T10:00:00Z",'
           b'"data":{"service":"a","metric":"error_rate","value":1e999}}')
    drill = Drill.of(load_directory("playbooks")).feed(raw)
    (letter,) = drill.dead_letters()
    assert "too large" in letter.reason


def test_escalation_of_a_past_due_deadline_is_not_dated_before_the_assignment() -> None:
    """A since-opened ack deadline already past at assignment escalates at assignment time."""
    playbook = load_playbook_text(BREACH_LIKE, "regulator.yaml")
    drill = Drill.of([playbook])
    drill.feed(event("security.alert", "2026-11-20T10:00:00Z", kind="malware", asset="crm",
                     records_exposed=0, pii=False))
    drill.feed(event("orchestrator.command", "2026-11-20T12:00:00Z", source="r", kind="complete",
                     actor="sam", playbook="regulator", key="crm", task="assess"))
    (escalated,) = drill.task_events("task.escalated")
    (assigned,) = [e for e in drill.task_events("task.assigned") if e.task.name == "notify"]
    assert parse_time(escalated.time) >= parse_time(assigned.time)
    assert escalated.time == "2026-11-20T12:00:00Z"
