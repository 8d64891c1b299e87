"""Work on a reopened incident (a flap, engine/flaps.py): the review in someone's hands does not
close the incident while it is open again, and a task assigned again keeps deadlines counted
from the reopening when its playbook counts them `since: opened`.
"""

from __future__ import annotations

import textwrap

from orchestrator.engine import format_time, parse_time
from orchestrator.engine.clock import MINUTE_MS
from orchestrator.playbook import load_playbook_text
from orchestrator.testing import Drill, command, event
from schemas import CommandResult, IncidentStatus, TaskStatus

OPENED = "2026-11-20T10:00:00Z"
REVIEW = "post_incident_review"
PLAYBOOK = load_playbook_text(
    textwrap.dedent(
        """\
        id: flappy
        version: 1
        title: Flappy
        key: [data.service]
        triggers: [{id: fire, on: ops.alert, when: data.status == "firing"}]
        join: [{on: ops.alert}]
        tasks:
          - name: report
            role: ops
            title: Report
            ack_within: {within: 10m, since: opened}
            complete_within: {within: 1h, since: opened}
          - name: look
            role: ops
            title: Look
            ack_within: 10m
        resolution:
          signals:
            - on: ops.alert
              id: data.alertname
              open_when: data.status == "firing"
              close_when: data.status == "resolved"
          reopen_within: 15m
        """
    ),
    "flappy.yaml",
)


def at(minutes: float) -> str:
    """The time `minutes` after OPENED."""
    return format_time(parse_time(OPENED) + round(minutes * MINUTE_MS))


def alert(minutes: float, status: str = "firing") -> dict[str, object]:
    """An ops.alert of the payments service."""
    return event(
        "ops.alert",
        at(minutes),
        alertname="Down",
        service="payments",
        severity="critical",
        status=status,
    )


def on_review(drill: Drill, kind: str, minutes: float) -> CommandResult:
    """The verdict on `kind` of the review task by the commander at `minutes`."""
    review = drill.task("flappy", "payments", REVIEW).id
    drill.feed(command(kind, at(minutes), actor="ic", task_id=review))
    verdict = drill.outputs[-1]
    assert isinstance(verdict, CommandResult)
    return verdict


def test_completing_the_review_of_a_reopened_incident_is_refused_until_it_resolves() -> None:
    """Resolved (review assigned, acknowledged), fired again (reopened): completing the review
    is refused, the incident stays open with the review still in the commander's hands; once
    it resolves again the review closes it."""
    drill = Drill.of([PLAYBOOK]).feed(alert(0), alert(5, "resolved"))
    assert on_review(drill, "ack", 6).accepted
    drill.feed(alert(8))
    refused = on_review(drill, "complete", 9)
    assert not refused.accepted
    assert "open again" in (refused.reason or "")
    incident = drill.incident("flappy", "payments")
    assert (incident.status, incident.flap_count) == (IncidentStatus.OPEN, 1)
    assert drill.task("flappy", "payments", REVIEW).status is TaskStatus.ACKNOWLEDGED
    drill.feed(alert(12, "resolved"))
    assert on_review(drill, "complete", 13).accepted
    assert drill.incident("flappy", "payments").status is IncidentStatus.CLOSED


def test_a_revived_task_counts_since_opened_deadlines_from_the_reopening() -> None:
    """`report` (ack 10m, complete 1h, both since opened) was cancelled unacknowledged by the
    resolution at 5m; reopened at 12m it is assigned again with deadlines 12m + 10m and
    12m + 1h: escalated at 22m (not at once), overdue at 72m."""
    drill = Drill.of([PLAYBOOK]).feed(alert(0), alert(5, "resolved"), alert(12))
    report = drill.task("flappy", "payments", "report")
    assert report.status is TaskStatus.ASSIGNED
    assert (report.ack_due_at, report.complete_due_at) == (at(22), at(72))
    drill.until(at(71))
    assert [e.time for e in drill.task_events("task.escalated") if e.task.name == "report"] == [
        at(22),
        at(32),
        at(42),
    ]
    assert not drill.task_events("task.overdue")
    drill.until(at(73))
    assert [(e.task.name, e.time) for e in drill.task_events("task.overdue")] == [
        ("report", at(72))
    ]
