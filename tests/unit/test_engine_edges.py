"""Edge rules of intake and timers that protect responders from odd input."""

from __future__ import annotations

from orchestrator.engine.clock import parse_time
from orchestrator.engine.step import EngineConfig
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
    return event(
        "ops.alert",
        time,
        id=eid,
        alertname="Down",
        service=service,
        status="firing",
        severity="critical",
    )


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
    raw = (
        b'{"id":"m1","source":"s","type":"ops.metric","time":"2026-11-20T10:00:00Z",'
        b'"data":{"service":"a","metric":"error_rate","value":1e999}}'
    )
    drill = Drill.of(load_directory("playbooks")).feed(raw)
    (letter,) = drill.dead_letters()
    assert "too large" in letter.reason


def test_escalation_of_a_past_due_deadline_is_not_dated_before_the_assignment() -> None:
    """A since-opened ack deadline already past at assignment escalates at assignment time."""
    playbook = load_playbook_text(BREACH_LIKE, "regulator.yaml")
    drill = Drill.of([playbook])
    drill.feed(
        event(
            "security.alert",
            "2026-11-20T10:00:00Z",
            kind="malware",
            asset="crm",
            records_exposed=0,
            pii=False,
        )
    )
    drill.feed(
        event(
            "orchestrator.command",
            "2026-11-20T12:00:00Z",
            source="r",
            kind="complete",
            actor="sam",
            playbook="regulator",
            key="crm",
            task="assess",
        )
    )
    (escalated,) = drill.task_events("task.escalated")
    (assigned,) = [e for e in drill.task_events("task.assigned") if e.task.name == "notify"]
    assert parse_time(escalated.time) >= parse_time(assigned.time)
    assert escalated.time == "2026-11-20T12:00:00Z"


def test_booleans_are_not_numbers_in_conditions() -> None:
    """`true == 1` is false, as `true < 2` and `true + 1` already are: no bool/number mixing."""
    from orchestrator.engine.expr import compile_expression

    ctx = {"data": {"pii": True, "count": 1}}
    assert not compile_expression("data.pii == 1").test(ctx)
    assert compile_expression("data.pii != 1").test(ctx)
    assert compile_expression("data.pii == true and data.count == 1").test(ctx)


def test_a_since_opened_deadline_runs_while_the_task_waits_on_dependencies() -> None:
    """notify_regulator is overdue 72 h after opening even if legal never finished assessing."""
    drill = Drill.of(load_directory("playbooks"))
    drill.feed(
        event(
            "security.alert",
            "2026-11-20T10:00:00Z",
            kind="exfiltration",
            asset="crm",
            records_exposed=10,
            pii=True,
        )
    )
    drill.until("2026-11-23T09:59:59Z")
    assert not drill.task("data_breach", "crm", "notify_regulator").overdue
    drill.until("2026-11-23T10:00:00Z")
    task = drill.task("data_breach", "crm", "notify_regulator")
    assert task.status.value == "pending"
    assert task.overdue
    (overdue,) = [e for e in drill.task_events("task.overdue") if e.task.name == "notify_regulator"]
    assert overdue.time == "2026-11-23T10:00:00Z"
