"""Responder commands through the engine: task transitions and their events, conflicts,
idempotency, resolve and close, and the ways an incident resolves by itself.

Playbooks are compiled from YAML in the tests (the shipped tech_outage is used where the
contract names it).
"""

from __future__ import annotations

import json
import textwrap
from datetime import datetime
from pathlib import Path

import playbooks
from orchestrator.engine import CommandInput, Output, format_time, parse_time, snapshot
from orchestrator.engine.clock import MINUTE_MS
from orchestrator.engine.playbook import Playbook
from orchestrator.playbook import load_playbook, load_playbook_text
from orchestrator.testing import Drill, command, event
from schemas import Command, CommandResult, IncidentStatus, Task, TaskStatus

OPENED = "2026-11-20T10:00:00Z"
SERVICE = "checkout"
SHIPPED = Path(playbooks.__file__).parent


def at(minutes: float) -> str:
    """The time `minutes` after the incident opens."""
    return format_time(parse_time(OPENED) + round(minutes * MINUTE_MS))


def playbook(tasks: str, more: str = "") -> Playbook:
    """A playbook opened by any firing ops.alert and joined by every alert, keyed by service."""
    head = textwrap.dedent(
        """\
        id: drill
        version: 1
        title: Drill playbook
        key: [data.service]
        triggers:
          - id: firing
            on: ops.alert
            when: data.status == "firing"
        join:
          - on: ops.alert
        """
    )
    body = textwrap.dedent(more) + "tasks:\n" + textwrap.indent(textwrap.dedent(tasks), "  ")
    return load_playbook_text(head + body, "drill.yaml")


def alert(
    minutes: float = 0,
    status: str = "firing",
    name: str = "HighErrorRate",
    severity: str = "critical",
    service: str = SERVICE,
) -> dict[str, object]:
    """An ops.alert at `minutes`."""
    return event(
        "ops.alert", at(minutes), alertname=name, service=service, status=status, severity=severity
    )


TWO_TASKS = """\
- {name: triage, role: ops, title: Triage, ack_within: 5m}
- {name: fix, role: ops, title: Fix, depends_on: [triage]}
"""


def opened(pb: Playbook | None = None) -> Drill:
    """A drill whose incident opened at OPENED."""
    return Drill.of([pb or playbook(TWO_TASKS)]).feed(alert())


def task(drill: Drill, name: str) -> Task:
    """The drill incident's task `name`."""
    return drill.task("drill", SERVICE, name)


def act(
    drill: Drill, kind: str, name: str, minutes: float, actor: str = "alice", **more: object
) -> CommandResult:
    """Record a command on task `name` and return the engine's verdict on it."""
    record = command(kind, at(minutes), actor=actor, task_id=task(drill, name).id, **more)
    drill.feed(record)
    return verdict(drill, str(record["id"]))


def verdict(drill: Drill, command_id: str) -> CommandResult:
    """The CommandResult emitted last for `command_id`."""
    found = [o for o in drill.outputs if isinstance(o, CommandResult)]
    return [r for r in found if r.command_id == command_id][-1]


def submit(drill: Drill, cmd: Command) -> list[Output]:
    """Hand a Command straight to the engine (as the API does) and return that step's outputs."""
    drill.state, out = drill.engine.step(drill.state, CommandInput(cmd), drill.state.clock)
    drill.outputs.extend(out)
    return out


def timeline_kinds(drill: Drill) -> list[str]:
    """The drill incident's timeline entry kinds, in order."""
    return [entry.kind for entry in drill.incident("drill", SERVICE).timeline]


# -- task transitions -----------------------------------------------------------------------------


def test_ack_acknowledges_the_task_and_emits_task_acknowledged() -> None:
    """ack: assigned -> acknowledged, by whom and when, with a task.acknowledged event."""
    drill = opened()
    result = act(drill, "ack", "triage", 2, actor="bob")
    assert result.accepted
    triage = task(drill, "triage")
    assert (triage.status, triage.acknowledged_by, triage.acknowledged_at) == (
        TaskStatus.ACKNOWLEDGED,
        "bob",
        at(2),
    )
    [acked] = drill.task_events("task.acknowledged")
    assert (acked.time, acked.role, acked.task.status) == (at(2), "ops", TaskStatus.ACKNOWLEDGED)


def test_start_on_an_assigned_task_acknowledges_it_and_emits_task_started() -> None:
    """start: the starter holds the task (acknowledged by them) and task.started goes out."""
    drill = opened()
    assert act(drill, "start", "triage", 3, actor="carol").accepted
    triage = task(drill, "triage")
    assert (triage.status, triage.acknowledged_by, triage.started_at) == (
        TaskStatus.ACKNOWLEDGED,
        "carol",
        at(3),
    )
    assert [e.time for e in drill.task_events("task.started")] == [at(3)]


def test_start_by_someone_else_than_the_holder_is_rejected() -> None:
    """A task acknowledged by alice cannot be started by bob; the reason names alice."""
    drill = opened()
    act(drill, "ack", "triage", 1, actor="alice")
    result = act(drill, "start", "triage", 2, actor="bob")
    assert not result.accepted
    assert "alice" in (result.reason or "")
    assert drill.task_events("task.started") == []


def test_complete_finishes_the_task_with_its_note_and_emits_task_done() -> None:
    """complete: -> done with finished_by, finished_at and the outcome note."""
    drill = opened()
    assert act(drill, "complete", "triage", 6, actor="dave", note="rolled back").accepted
    triage = task(drill, "triage")
    assert (triage.status, triage.finished_by, triage.finished_at, triage.outcome) == (
        TaskStatus.DONE,
        "dave",
        at(6),
        "rolled back",
    )
    [done] = drill.task_events("task.done")
    assert (done.note, done.task.status) == ("rolled back", TaskStatus.DONE)


def test_fail_needs_a_reason_and_emits_task_failed() -> None:
    """fail without a note is rejected; with one the task fails and task.failed goes out."""
    drill = opened()
    refused = act(drill, "fail", "triage", 4)
    assert not refused.accepted
    assert "note" in (refused.reason or "")
    assert task(drill, "triage").status == TaskStatus.ASSIGNED

    assert act(drill, "fail", "triage", 5, note="no access to the cluster").accepted
    assert task(drill, "triage").status == TaskStatus.FAILED
    [failed] = drill.task_events("task.failed")
    assert failed.note == "no access to the cluster"


def test_cancel_cancels_the_task_and_emits_task_cancelled() -> None:
    """cancel: -> cancelled, with a task.cancelled event carrying the note."""
    drill = opened()
    assert act(drill, "cancel", "triage", 4, note="duplicate of INC-7").accepted
    assert task(drill, "triage").status == TaskStatus.CANCELLED
    [cancelled] = drill.task_events("task.cancelled")
    assert cancelled.note == "duplicate of INC-7"


def test_comment_leaves_the_status_alone_and_emits_task_commented() -> None:
    """comment: status unchanged, a task.commented event with the text; empty comments refused."""
    drill = opened()
    assert act(drill, "comment", "triage", 1, note="looking at the dashboards").accepted
    assert task(drill, "triage").status == TaskStatus.ASSIGNED
    [commented] = drill.task_events("task.commented")
    assert commented.note == "looking at the dashboards"
    assert not act(drill, "comment", "triage", 2).accepted


def test_commands_can_name_the_task_by_playbook_key_and_task_name() -> None:
    """A command may address a task by playbook, correlation key and task name."""
    drill = opened()
    record = command("ack", at(1), playbook="drill", key=SERVICE, task="triage")
    drill.feed(record)
    assert verdict(drill, str(record["id"])).accepted
    assert task(drill, "triage").status == TaskStatus.ACKNOWLEDGED


def test_a_command_on_an_unknown_task_is_rejected_with_the_reason() -> None:
    """An unknown task id is rejected, and the reason names it."""
    drill = opened()
    record = command("ack", at(1), task_id="inc-nope.triage")
    drill.feed(record)
    result = verdict(drill, str(record["id"]))
    assert not result.accepted
    assert "inc-nope.triage" in (result.reason or "")


# -- conflicts ------------------------------------------------------------------------------------


def test_two_responders_complete_the_same_task_exactly_one_wins() -> None:
    """The first complete wins; the second is rejected with a reason naming the winner, and the
    rejection is on the incident timeline as command.rejected."""
    drill = opened()
    first = act(drill, "complete", "triage", 5, actor="alice", note="fixed")
    second = act(drill, "complete", "triage", 5, actor="bob", note="fixed too")
    assert first.accepted
    assert not second.accepted
    assert "alice" in (second.reason or "")
    triage = task(drill, "triage")
    assert (triage.finished_by, triage.outcome) == ("alice", "fixed")
    assert len(drill.task_events("task.done")) == 1
    [rejected] = [
        e for e in drill.incident("drill", SERVICE).timeline if e.kind == "command.rejected"
    ]
    assert (rejected.actor, rejected.ref) == ("bob", second.command_id)
    assert rejected.detail["reason"] == second.reason
    assert drill.summary()["commands"] == {"applied": 1, "rejected": 1}


def test_second_ack_by_another_responder_is_rejected_naming_the_first() -> None:
    """Two acks: the second responder learns who already holds the task."""
    drill = opened()
    assert act(drill, "ack", "triage", 1, actor="alice").accepted
    late = act(drill, "ack", "triage", 1, actor="bob")
    assert not late.accepted
    assert "alice" in (late.reason or "")
    assert task(drill, "triage").acknowledged_by == "alice"


def test_ack_of_a_pending_task_is_rejected() -> None:
    """A task waiting on dependencies cannot be acknowledged; the reason says what it waits on."""
    drill = opened()
    result = act(drill, "ack", "fix", 1)
    assert not result.accepted
    assert "pending" in (result.reason or "")
    assert "triage" in (result.reason or "")
    assert task(drill, "fix").status == TaskStatus.PENDING
    assert "command.rejected" in timeline_kinds(drill)


# -- idempotency ----------------------------------------------------------------------------------


def state_json(drill: Drill) -> str:
    """The engine state as canonical JSON, to compare before and after."""
    return json.dumps(snapshot(drill.state), sort_keys=True)


def test_replaying_the_same_command_id_changes_nothing_and_returns_the_same_result() -> None:
    """A command id seen before gets its first verdict again and leaves the state as it was."""
    drill = opened()
    complete = Command(
        id="cmd-1",
        kind="complete",
        actor="alice",
        time=datetime.fromisoformat(at(4)),
        task_id=task(drill, "triage").id,
        note="done",
    )
    [*_, first] = submit(drill, complete)
    assert isinstance(first, CommandResult)
    assert first.accepted
    before = state_json(drill)

    again = submit(drill, complete)
    assert again == [first]
    assert state_json(drill) == before

    disguised = complete.model_copy(update={"kind": "fail", "actor": "mallory", "note": "x"})
    assert submit(drill, disguised) == [first]
    assert state_json(drill) == before
    assert len(drill.task_events("task.done")) == 1


def test_a_rejected_command_replayed_stays_rejected_with_the_same_reason() -> None:
    """Replaying a rejected command id returns the same rejection and adds no timeline entry."""
    drill = opened()
    ack_pending = Command(
        id="cmd-2",
        kind="ack",
        actor="bob",
        time=datetime.fromisoformat(at(1)),
        task_id=task(drill, "fix").id,
    )
    [first] = submit(drill, ack_pending)
    assert isinstance(first, CommandResult)
    assert not first.accepted
    before = state_json(drill)
    assert submit(drill, ack_pending) == [first]
    assert state_json(drill) == before


def test_the_same_command_id_from_the_log_and_the_api_is_applied_once() -> None:
    """A command recorded in the event log and re-sent with the same id is applied once."""
    drill = opened()
    record = command("complete", at(3), id="cmd-3", task_id=task(drill, "triage").id)
    drill.feed(record)
    first = verdict(drill, "cmd-3")
    resent = dict(record, source="api")
    drill.feed(resent)
    assert [r for r in drill.outputs if isinstance(r, CommandResult)] == [first, first]
    assert len(drill.task_events("task.done")) == 1
    assert drill.state.counters.commands == 1


# -- resolve and close ----------------------------------------------------------------------------

WORK = """\
- {name: triage, role: ops, title: Triage, phase: assess}
- {name: mitigate, role: ops, title: Mitigate}
- {name: verify, role: ops, title: Verify, phase: recover}
"""
REVIEW = """\
review:
  name: retro
  role: incident_commander
  phase: review
  title: Retrospective
"""


def test_resolve_command_resolves_the_incident_and_attaches_the_review() -> None:
    """resolve: open -> resolved; unacknowledged early work is cancelled, acknowledged work and
    recovery work stay, and the review task is assigned."""
    drill = opened(playbook(WORK, REVIEW))
    act(drill, "ack", "mitigate", 1)
    record = command("resolve", at(10), actor="ic", playbook="drill", key=SERVICE)
    drill.feed(record)
    assert verdict(drill, str(record["id"])).accepted
    incident = drill.incident("drill", SERVICE)
    assert (incident.status, incident.resolved_at) == (IncidentStatus.RESOLVED, at(10))
    statuses = {t.name: t.status for t in incident.tasks}
    assert statuses == {
        "triage": TaskStatus.CANCELLED,
        "mitigate": TaskStatus.ACKNOWLEDGED,
        "verify": TaskStatus.ASSIGNED,
        "retro": TaskStatus.ASSIGNED,
    }
    [resolved] = drill.incident_events("incident.resolved")
    assert (resolved.time, resolved.ref) == (at(10), record["id"])


def test_resolving_twice_is_rejected_and_frees_the_key_for_a_new_incident() -> None:
    """A second resolve is rejected; a new firing alert past the reopen window (15m by
    default) after resolution opens a new incident."""
    drill = opened(playbook(WORK, REVIEW))
    incident_id = drill.incident("drill", SERVICE).id
    first = command("resolve", at(5), incident_id=incident_id)
    second = command("resolve", at(6), incident_id=incident_id)
    drill.feed(first, second)
    assert verdict(drill, str(first["id"])).accepted
    again = verdict(drill, str(second["id"]))
    assert not again.accepted
    assert "resolved" in (again.reason or "")

    drill.feed(alert(21))
    assert [i.status for i in drill.incidents("drill")] == [
        IncidentStatus.RESOLVED,
        IncidentStatus.OPEN,
    ]


def test_close_command_closes_and_cancels_everything_left() -> None:
    """close: the incident is closed, every unfinished task is cancelled, later commands refused."""
    drill = opened(playbook(WORK, REVIEW))
    record = command("close", at(30), actor="ic", playbook="drill", key=SERVICE)
    drill.feed(record)
    assert verdict(drill, str(record["id"])).accepted
    incident = drill.incident("drill", SERVICE)
    assert (incident.status, incident.closed_at) == (IncidentStatus.CLOSED, at(30))
    assert {t.status for t in incident.tasks} == {TaskStatus.CANCELLED}
    assert [e.kind for e in drill.incident_events()][-2:] == [
        "incident.resolved",
        "incident.closed",
    ]
    assert not act(drill, "ack", "verify", 31).accepted


def test_completing_the_review_task_closes_the_incident() -> None:
    """When the review task is done, the incident is closed by the reviewer."""
    drill = opened(playbook(WORK, REVIEW))
    drill.feed(command("resolve", at(10), playbook="drill", key=SERVICE))
    assert act(drill, "complete", "retro", 90, actor="ic", note="lessons recorded").accepted
    incident = drill.incident("drill", SERVICE)
    assert (incident.status, incident.closed_at) == (IncidentStatus.CLOSED, at(90))
    [closed] = drill.incident_events("incident.closed")
    assert closed.detail["reason"] == "review done"


# -- resolution by itself -------------------------------------------------------------------------

TASKS_DONE = """\
resolution:
  tasks_done: true
"""


def test_tasks_done_resolves_when_every_task_has_finished() -> None:
    """With tasks_done, the incident resolves at the moment its last work task finishes."""
    drill = opened(playbook(WORK, TASKS_DONE))
    act(drill, "complete", "triage", 5)
    act(drill, "cancel", "mitigate", 6)
    assert drill.incident("drill", SERVICE).status == IncidentStatus.OPEN
    act(drill, "complete", "verify", 40)
    incident = drill.incident("drill", SERVICE)
    assert (incident.status, incident.resolved_at) == (IncidentStatus.RESOLVED, at(40))
    assert [t.name for t in incident.tasks][-1] == "post_incident_review"


def test_tasks_done_does_not_resolve_when_nothing_was_done() -> None:
    """Cancelling every task is not finishing the work: the incident stays open."""
    drill = opened(playbook(WORK, TASKS_DONE))
    for minute, name in enumerate(["triage", "mitigate", "verify"], start=1):
        act(drill, "cancel", name, minute)
    assert drill.incident("drill", SERVICE).status == IncidentStatus.OPEN


def test_tasks_done_waits_for_pending_tasks() -> None:
    """A task still waiting on a dependency keeps the incident open."""
    drill = opened(playbook(TWO_TASKS, TASKS_DONE))
    act(drill, "complete", "triage", 5)
    assert drill.incident("drill", SERVICE).status == IncidentStatus.OPEN
    act(drill, "complete", "fix", 9)
    assert drill.incident("drill", SERVICE).status == IncidentStatus.RESOLVED


def test_tech_outage_resolves_only_when_every_firing_alert_has_resolved() -> None:
    """Shipped tech_outage: with two alerts firing, it resolves only once both have resolved."""
    outage = load_playbook(SHIPPED / "tech_outage.yaml")
    drill = Drill.of([outage]).feed(
        alert(0, name="HighErrorRate"),
        alert(2, name="LatencyHigh", severity="warning"),
        alert(10, status="resolved", name="HighErrorRate"),
    )
    incident = drill.incident("tech_outage", SERVICE)
    assert incident.status == IncidentStatus.OPEN
    assert incident.open_signals == ["LatencyHigh"]

    drill.feed(alert(12, status="resolved", name="NeverFired", severity="warning"))
    assert drill.incident("tech_outage", SERVICE).status == IncidentStatus.OPEN

    drill.feed(alert(15, status="resolved", name="LatencyHigh", severity="warning"))
    incident = drill.incident("tech_outage", SERVICE)
    assert (incident.status, incident.resolved_at) == (IncidentStatus.RESOLVED, at(15))
    assert incident.open_signals == []


def test_tech_outage_alert_firing_again_reopens_its_signal() -> None:
    """An alert that resolves and fires again must resolve again before the incident resolves."""
    outage = load_playbook(SHIPPED / "tech_outage.yaml")
    drill = Drill.of([outage]).feed(
        alert(0, name="A"),
        alert(1, name="B", severity="warning"),
        alert(3, status="resolved", name="A"),
        alert(4, name="A"),
        alert(5, status="resolved", name="B", severity="warning"),
    )
    assert drill.incident("tech_outage", SERVICE).status == IncidentStatus.OPEN
    drill.feed(alert(8, status="resolved", name="A"))
    assert drill.incident("tech_outage", SERVICE).status == IncidentStatus.RESOLVED


QUIET = """\
resolution:
  quiet_for: 30m
"""


def test_quiet_for_resolves_after_the_quiet_period_on_the_event_time_clock() -> None:
    """quiet_for 30m: each joining event restarts the period; resolution comes at the last
    event + 30m on event time, not a moment earlier."""
    drill = opened(playbook(TWO_TASKS, QUIET)).feed(alert(20, severity="warning"))
    drill.until(format_time(parse_time(at(50)) - 1))
    assert drill.incident("drill", SERVICE).status == IncidentStatus.OPEN
    drill.until(at(50))
    incident = drill.incident("drill", SERVICE)
    assert (incident.status, incident.resolved_at) == (IncidentStatus.RESOLVED, at(50))
    [resolved] = drill.incident_events("incident.resolved")
    assert resolved.detail["reason"].startswith("quiet")


def test_quiet_for_fires_when_a_later_event_moves_event_time_past_it() -> None:
    """Without any tick, an unrelated event at 2h fires the quiet timer, dated at its due time."""
    drill = opened(playbook(TWO_TASKS, QUIET))
    drill.feed(alert(120, service="search"))
    incident = drill.incident("drill", SERVICE)
    assert (incident.status, incident.resolved_at) == (IncidentStatus.RESOLVED, at(30))
    assert drill.incident("drill", "search").status == IncidentStatus.OPEN
