"""Task graph behaviour of the engine: dependencies, joins, attach conditions, deadlines,
escalation ladders, overdue marks, and the monitor / inactive playbook modes.

Each test compiles a small purpose-written playbook from YAML, so the rule it exercises is in
front of the reader.
"""

from __future__ import annotations

import textwrap

from orchestrator.engine import format_time, parse_time
from orchestrator.engine.clock import MINUTE_MS
from orchestrator.engine.playbook import Playbook
from orchestrator.playbook import load_playbook_text
from orchestrator.testing import Drill, command, event
from schemas import IncidentStatus, Task, TaskStatus

OPENED = "2026-11-20T10:00:00Z"
SERVICE = "checkout"


def at(minutes: float) -> str:
    """The time `minutes` after the incident opens (fractions give milliseconds)."""
    return format_time(parse_time(OPENED) + round(minutes * MINUTE_MS))


def just_before(minutes: float) -> str:
    """One millisecond before `minutes` after the opening."""
    return format_time(parse_time(at(minutes)) - 1)


def playbook(tasks: str, more: str = "", mode: str = "active") -> Playbook:
    """A playbook opened by any firing ops.alert, keyed by service, with the given tasks."""
    head = textwrap.dedent(
        f"""\
        id: drill
        version: 1
        title: Drill playbook
        mode: {mode}
        key: [data.service]
        triggers:
          - id: firing
            on: ops.alert
            when: data.status == "firing"
        """
    )
    body = textwrap.dedent(more) + "tasks:\n" + textwrap.indent(textwrap.dedent(tasks), "  ")
    return load_playbook_text(head + body, "drill.yaml")


def alert(
    minutes: float = 0, severity: str = "warning", status: str = "firing"
) -> dict[str, object]:
    """An ops.alert for the drill's service."""
    return event(
        "ops.alert",
        at(minutes),
        alertname="HighErrorRate",
        service=SERVICE,
        status=status,
        severity=severity,
    )


def opened(pb: Playbook) -> Drill:
    """A drill whose incident was opened at OPENED."""
    return Drill.of([pb]).feed(alert())


def task(drill: Drill, name: str) -> Task:
    """The drill incident's task `name`."""
    return drill.task("drill", SERVICE, name)


def task_id(drill: Drill, name: str) -> str:
    """The id of the drill incident's task `name`."""
    return task(drill, name).id


def act(drill: Drill, kind: str, name: str, minutes: float, actor: str = "alice") -> Drill:
    """A responder command on task `name` at `minutes`."""
    note = "done" if kind in {"complete", "fail", "cancel"} else None
    return drill.feed(
        command(kind, at(minutes), actor=actor, task_id=task_id(drill, name), note=note)
    )


def assigned_names(drill: Drill) -> list[str]:
    """Names of tasks in task.assigned events, in emission order."""
    return [e.task.name for e in drill.task_events("task.assigned")]


CHAIN = """\
- {name: first, role: ops, title: First}
- {name: second, role: ops, title: Second, depends_on: [first]}
"""


# -- dependencies and joins ---------------------------------------------------------------------


def test_dependent_task_stays_pending_until_its_dependency_is_done() -> None:
    """A task with depends_on is pending (and not emitted) until its dependency is done."""
    drill = opened(playbook(CHAIN))
    assert task(drill, "first").status == TaskStatus.ASSIGNED
    assert task(drill, "second").status == TaskStatus.PENDING
    assert assigned_names(drill) == ["first"]

    act(drill, "ack", "first", 2)
    assert task(drill, "second").status == TaskStatus.PENDING

    act(drill, "complete", "first", 7)
    second = task(drill, "second")
    assert second.status == TaskStatus.ASSIGNED
    assert second.assigned_at == at(7)
    assert assigned_names(drill) == ["first", "second"]


def test_dependent_is_assigned_after_the_done_event_of_its_dependency() -> None:
    """The dependent's task.assigned is emitted after the dependency's task.done, same step."""
    drill = opened(playbook(CHAIN))
    before = len(drill.outputs)
    act(drill, "complete", "first", 3)
    kinds = [getattr(o, "kind", None) for o in drill.outputs[before:]]
    assert kinds.index("task.done") < kinds.index("task.assigned")


JOINS = """\
- {name: left, role: ops, title: Left}
- {name: right, role: pr, title: Right}
- {name: both, role: ops, title: Both, depends_on: {all: [left, right]}}
- {name: either, role: ops, title: Either, depends_on: {any: [left, right]}}
"""


def test_any_join_goes_ahead_on_the_first_dependency_all_join_waits() -> None:
    """After one of two dependencies is done, the `any` task is assigned and the `all` one waits."""
    drill = opened(playbook(JOINS))
    act(drill, "complete", "right", 4)
    assert task(drill, "either").status == TaskStatus.ASSIGNED
    assert task(drill, "both").status == TaskStatus.PENDING


def test_all_join_is_assigned_once_every_dependency_is_done() -> None:
    """The `all` task is assigned at the moment the last of its dependencies is done."""
    drill = opened(playbook(JOINS))
    act(drill, "complete", "left", 4)
    act(drill, "complete", "right", 9)
    both = task(drill, "both")
    assert both.status == TaskStatus.ASSIGNED
    assert both.assigned_at == at(9)
    assert task(drill, "either").assigned_at == at(4)


def test_a_cancelled_dependency_counts_as_satisfied() -> None:
    """Cancelling a dependency (skipped on purpose) lets its dependent be assigned."""
    drill = opened(playbook(CHAIN))
    act(drill, "cancel", "first", 5)
    assert task(drill, "first").status == TaskStatus.CANCELLED
    assert task(drill, "second").status == TaskStatus.ASSIGNED


def test_a_failed_dependency_does_not_satisfy_its_dependent() -> None:
    """A failed dependency leaves its dependent pending; the dependent cannot be acknowledged."""
    drill = opened(playbook(CHAIN))
    act(drill, "fail", "first", 5)
    assert task(drill, "first").status == TaskStatus.FAILED
    assert task(drill, "second").status == TaskStatus.PENDING
    assert assigned_names(drill) == ["first"]
    drill.until(at(600))
    assert task(drill, "second").status == TaskStatus.PENDING


def test_a_failed_dependency_of_an_any_join_is_not_enough_but_the_other_one_is() -> None:
    """`any` ignores a failed dependency and goes ahead when the other one is done."""
    drill = opened(playbook(JOINS))
    act(drill, "fail", "left", 2)
    assert task(drill, "either").status == TaskStatus.PENDING
    act(drill, "complete", "right", 6)
    assert task(drill, "either").status == TaskStatus.ASSIGNED
    assert task(drill, "both").status == TaskStatus.PENDING


# -- attach conditions (layering) -----------------------------------------------------------------

LAYERED_RULES = """\
join:
  - on: ops.alert
severity:
  initial: {likelihood: possible, impact: moderate}
  rules:
    - on: ops.alert
      when: data.severity == "critical"
      at_least: high
"""
LAYERED_TASKS = """\
- {name: triage, role: ops, title: Triage}
- {name: statement, role: pr, title: Public statement, when: 'incident.severity >= "high"'}
"""


def test_conditional_task_is_absent_while_its_condition_is_false() -> None:
    """A task with `when: incident.severity >= "high"` is not attached to a medium incident."""
    drill = opened(playbook(LAYERED_TASKS, LAYERED_RULES))
    incident = drill.incident("drill", SERVICE)
    assert incident.severity == "medium"
    assert [t.name for t in incident.tasks] == ["triage"]
    drill.feed(alert(3, severity="warning"))
    assert [t.name for t in drill.incident("drill", SERVICE).tasks] == ["triage"]


def test_conditional_task_attaches_when_severity_rises_and_earlier_tasks_stay() -> None:
    """Severity rising to high attaches the conditional task once; earlier tasks are untouched."""
    drill = opened(playbook(LAYERED_TASKS, LAYERED_RULES))
    act(drill, "ack", "triage", 1)
    drill.feed(alert(4, severity="critical"))
    incident = drill.incident("drill", SERVICE)
    assert incident.severity == "high"
    statement = task(drill, "statement")
    assert statement.status == TaskStatus.ASSIGNED
    assert statement.attached_at == at(4)
    assert statement.assigned_at == at(4)
    triage = task(drill, "triage")
    assert (triage.status, triage.assigned_at) == (TaskStatus.ACKNOWLEDGED, at(0))

    drill.feed(alert(6, severity="critical"))
    names = [t.name for t in drill.incident("drill", SERVICE).tasks]
    assert names == ["triage", "statement"]
    assert assigned_names(drill) == ["triage", "statement"]


def test_conditional_task_attached_at_opening_when_the_opening_event_raises_severity() -> None:
    """Opened by a critical alert, the incident starts high, with the conditional task at once."""
    drill = Drill.of([playbook(LAYERED_TASKS, LAYERED_RULES)]).feed(alert(0, severity="critical"))
    assert drill.incident("drill", SERVICE).severity == "high"
    assert assigned_names(drill) == ["triage", "statement"]


# -- deadlines ------------------------------------------------------------------------------------

DEADLINES = """\
- {name: first, role: ops, title: First, ack_within: 5m, complete_within: 30m}
- name: second
  role: ops
  title: Second
  depends_on: [first]
  ack_within: 10m
  complete_within: 1h
- name: regulator
  role: legal
  title: Notify the regulator
  depends_on: [first]
  ack_within: {within: 30m, since: opened}
  complete_within: {within: 72h, since: opened}
"""


def test_deadlines_of_a_task_assigned_at_opening_run_from_the_opening() -> None:
    """A task assigned when the incident opens is due ack_within / complete_within after it."""
    drill = opened(playbook(DEADLINES))
    first = task(drill, "first")
    assert (first.ack_due_at, first.complete_due_at) == (at(5), at(30))
    assert first.due_at == at(5)


def test_deadlines_since_assignment_start_when_the_dependent_is_assigned() -> None:
    """A dependent assigned at 20m is due to ack at 30m and to complete at 1h20m."""
    drill = opened(playbook(DEADLINES))
    act(drill, "complete", "first", 20)
    second = task(drill, "second")
    assert second.assigned_at == at(20)
    assert (second.ack_due_at, second.complete_due_at) == (at(30), at(80))


def test_deadlines_since_opened_ignore_when_the_task_was_assigned() -> None:
    """`since: opened` deadlines count from the incident's opening, even for a late dependent."""
    drill = opened(playbook(DEADLINES))
    assert task(drill, "regulator").complete_due_at == at(72 * 60)
    act(drill, "complete", "first", 20)
    regulator = task(drill, "regulator")
    assert regulator.assigned_at == at(20)
    assert (regulator.ack_due_at, regulator.complete_due_at) == (at(30), at(72 * 60))


def test_a_since_opened_deadline_already_past_at_assignment_is_overdue_at_once() -> None:
    """A dependent whose since-opened completion deadline passed before it was assigned is
    marked overdue in the same step that assigns it."""
    pb = playbook(
        """\
        - {name: first, role: ops, title: First}
        - name: late
          role: ops
          title: Late
          depends_on: [first]
          complete_within: {within: 15m, since: opened}
        """
    )
    drill = opened(pb)
    assert drill.task_events("task.overdue") == []
    before = len(drill.outputs)
    act(drill, "complete", "first", 20)
    kinds = [getattr(o, "kind", None) for o in drill.outputs[before:]]
    assert "task.assigned" in kinds
    assert kinds.count("task.overdue") == 1
    assert task(drill, "late").overdue


# -- escalation ladders ---------------------------------------------------------------------------


def escalations(drill: Drill) -> list[tuple[str, str, int]]:
    """(time, target role, escalation number) of every task.escalated event so far."""
    return [(e.time, e.role, e.escalation) for e in drill.task_events("task.escalated")]


def test_first_escalation_fires_exactly_at_ack_deadline_plus_the_first_steps_after() -> None:
    """With ack_within 5m and a first step after 2m, nothing escalates before 7m; at 7m it goes
    to the step's role."""
    pb = playbook(
        """\
        - name: triage
          role: ops
          title: Triage
          ack_within: 5m
          escalation:
            - {after: 2m, to: incident_commander}
        """
    )
    drill = opened(pb)
    drill.until(just_before(7))
    assert escalations(drill) == []
    drill.until(at(7))
    assert escalations(drill) == [(at(7), "incident_commander", 1)]
    assert task(drill, "triage").escalations == 1


LADDER = """\
- name: triage
  role: ops
  title: Triage
  ack_within: 5m
  escalation:
    - {after: 0m, to: ops}
    - {after: 5m, to: incident_commander, repeat: 2}
"""


def test_escalation_ladder_runs_each_step_repeat_times_then_stops() -> None:
    """A 0m step to ops then a 5m step repeated twice gives exactly three escalations."""
    drill = opened(playbook(LADDER)).until(at(600))
    assert escalations(drill) == [
        (at(5), "ops", 1),
        (at(10), "incident_commander", 2),
        (at(15), "incident_commander", 3),
    ]
    assert task(drill, "triage").escalations == 3


def test_escalation_stops_as_soon_as_the_task_is_acknowledged() -> None:
    """An ack at 12m, between the second and third escalation, stops the ladder."""
    drill = opened(playbook(LADDER)).until(at(11))
    assert len(escalations(drill)) == 2
    act(drill, "ack", "triage", 12, actor="bob")
    drill.until(at(600))
    assert [n for _, _, n in escalations(drill)] == [1, 2]
    assert task(drill, "triage").escalations == 2


def test_a_task_acknowledged_in_time_never_escalates() -> None:
    """An ack before the ack deadline means no escalation at all."""
    drill = opened(playbook(LADDER))
    act(drill, "ack", "triage", 4)
    drill.until(at(600))
    assert escalations(drill) == []


def test_default_ladder_escalates_to_the_roles_target_every_ack_period() -> None:
    """ack_within without a ladder escalates to the role's escalates_to at the deadline and twice
    more, one ack period apart."""
    pb = playbook(
        """\
        - {name: triage, role: analyst, title: Triage, ack_within: 5m}
        """,
        """\
        roles:
          analyst: {title: Analyst, escalates_to: pr}
        """,
    )
    drill = opened(pb).until(at(600))
    assert escalations(drill) == [(at(5), "pr", 1), (at(10), "pr", 2), (at(15), "pr", 3)]


def test_default_ladder_of_a_built_in_role_goes_to_the_incident_commander() -> None:
    """The built-in ops role escalates to the incident commander by default."""
    pb = playbook("- {name: triage, role: ops, title: Triage, ack_within: 10m}\n")
    drill = opened(pb).until(at(600))
    assert {role for _, role, _ in escalations(drill)} == {"incident_commander"}
    assert [t for t, _, _ in escalations(drill)] == [at(10), at(20), at(30)]


def test_a_task_without_ack_deadline_never_escalates() -> None:
    """No ack_within means no ladder, however long the task waits."""
    drill = opened(playbook("- {name: triage, role: ops, title: Triage}\n")).until(at(6000))
    assert escalations(drill) == []


def test_escalation_count_appears_in_the_summary() -> None:
    """The summary's task entry carries the escalation count."""
    drill = opened(playbook(LADDER)).until(at(11))
    [incident] = drill.summary()["incidents"]
    [triage] = incident["tasks"]
    assert triage["name"] == "triage"
    assert triage["escalations"] == 2


def test_a_dependents_ladder_starts_from_its_own_assignment() -> None:
    """A dependent's ack deadline (and so its first escalation) runs from when it was assigned."""
    pb = playbook(
        """\
        - {name: first, role: ops, title: First}
        - {name: second, role: ops, title: Second, depends_on: [first], ack_within: 5m}
        """
    )
    drill = opened(pb).until(at(30))
    assert escalations(drill) == []
    act(drill, "complete", "first", 30)
    drill.until(at(35))
    assert escalations(drill) == [(at(35), "incident_commander", 1)]


# -- overdue --------------------------------------------------------------------------------------


def test_overdue_is_emitted_once_when_the_completion_deadline_passes() -> None:
    """task.overdue fires at complete_within and never again, however much time passes."""
    pb = playbook("- {name: fix, role: ops, title: Fix, complete_within: 30m}\n")
    drill = opened(pb)
    drill.until(just_before(30))
    assert drill.task_events("task.overdue") == []
    drill.until(at(30))
    [overdue] = drill.task_events("task.overdue")
    assert (overdue.time, overdue.task.name, overdue.role) == (at(30), "fix", "ops")
    drill.feed(alert(45)).until(at(6000))
    assert len(drill.task_events("task.overdue")) == 1
    assert task(drill, "fix").overdue
    assert drill.summary()["incidents"][0]["tasks"][0]["overdue"] is True


def test_a_task_finished_in_time_is_never_overdue() -> None:
    """Completing before the deadline means no task.overdue later."""
    pb = playbook("- {name: fix, role: ops, title: Fix, complete_within: 30m}\n")
    drill = opened(pb)
    act(drill, "complete", "fix", 29)
    drill.until(at(600))
    assert drill.task_events("task.overdue") == []
    assert not task(drill, "fix").overdue


# -- modes ----------------------------------------------------------------------------------------


def test_monitor_mode_records_incident_and_tasks_but_emits_no_task_events() -> None:
    """A monitor playbook opens and tracks incidents and tasks, escalations included, yet no
    task event leaves the engine."""
    pb = playbook(LADDER, mode="monitor")
    drill = opened(pb).until(at(600))
    incident = drill.incident("drill", SERVICE)
    assert incident.mode == "monitor"
    assert incident.status == IncidentStatus.OPEN
    assert task(drill, "triage").status == TaskStatus.ASSIGNED
    assert task(drill, "triage").escalations == 3
    noted = [entry.kind for entry in incident.timeline]
    assert "task.assigned" in noted
    assert noted.count("task.escalated") == 3
    assert drill.task_events() == []
    [opening] = drill.incident_events("incident.opened")
    assert opening.mode == "monitor"
    assert drill.summary()["incidents"][0]["mode"] == "monitor"


def test_monitor_mode_commands_still_apply_without_emitting() -> None:
    """Commands on a monitor incident change its tasks but emit no task events."""
    drill = opened(playbook(CHAIN, mode="monitor"))
    act(drill, "complete", "first", 3)
    assert task(drill, "second").status == TaskStatus.ASSIGNED
    assert drill.task_events() == []


def test_inactive_playbook_matches_nothing() -> None:
    """An inactive playbook never opens an incident; an active twin with the same trigger does."""
    inactive = playbook(CHAIN, mode="inactive")
    drill = Drill.of([inactive]).feed(alert(0), alert(1, severity="critical"))
    assert drill.incidents() == []
    assert drill.outputs == []
    assert drill.state.counters.accepted == 2

    twin = load_playbook_text(
        textwrap.dedent(
            """\
            id: twin
            version: 1
            title: Active twin
            key: [data.service]
            triggers:
              - {id: firing, on: ops.alert, when: data.status == "firing"}
            tasks:
              - {name: first, role: ops, title: First}
            """
        )
    )
    both = Drill.of([inactive, twin]).feed(alert(0))
    assert [i.playbook for i in both.incidents()] == ["twin"]
