"""Alert instances, flaps and gathering on the shipped tech_outage playbook: an incident
resolves only when every firing instance has resolved; one that fires again within the reopen
window is reopened (flap count, timeline entry, triage assigned again), past it a new one
opens; alerts of one notification land on the incident whatever their order.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

import playbooks
from orchestrator.engine import format_time, parse_time, restore, snapshot
from orchestrator.engine.clock import MINUTE_MS
from orchestrator.errors import PlaybookError
from orchestrator.playbook import load_playbook, load_playbook_text
from orchestrator.testing import Drill, event
from schemas import IncidentStatus, TaskStatus

OPENED = "2026-11-20T10:00:00Z"
SHIPPED = load_playbook(Path(playbooks.__file__).parent / "tech_outage.yaml")


def at(minutes: float) -> str:
    """The time `minutes` after OPENED."""
    return format_time(parse_time(OPENED) + round(minutes * MINUTE_MS))


def alert(
    minutes: float,
    instance: str,
    status: str = "firing",
    name: str = "PaymentsDown",
    severity: str = "critical",
    fingerprint: bool = True,
) -> dict[str, object]:
    """An ops.alert of the payments service for one instance, as the adapter makes it."""
    labels = {"alertname": name, "instance": instance, "service": "payments"}
    data: dict[str, Any] = {
        "alertname": name,
        "service": "payments",
        "status": status,
        "severity": severity,
        "labels": labels,
    }
    if fingerprint:
        data["fingerprint"] = f"{name}-{instance}"
    return event("ops.alert", at(minutes), source="alertmanager/ops", **data)


def test_one_instance_resolving_leaves_the_incident_open_until_the_other_does() -> None:
    """Two instances fire; one resolves (in a notification where the other still fires, a
    resend the engine dedupes): still open; the other resolves: resolved."""
    drill = Drill.of([SHIPPED]).feed(alert(0, "a"), alert(0, "b"))
    still = alert(0, "b")
    drill.feed(alert(3, "a", "resolved"), {**still, "id": "resend"})
    incident = drill.incident("tech_outage", "payments")
    assert incident.status is IncidentStatus.OPEN
    assert incident.open_signals == ["PaymentsDown-b"]
    assert drill.task("tech_outage", "payments", "triage").status is TaskStatus.ASSIGNED
    drill.feed(alert(5, "b", "resolved"))
    assert drill.incident("tech_outage", "payments").status is IncidentStatus.RESOLVED


@pytest.mark.parametrize("fingerprint", [True, False])
def test_an_instance_is_its_fingerprint_or_else_its_label_set(fingerprint: bool) -> None:
    """Without a fingerprint the label set names the instance: two instances of one alert
    name are two signals."""
    drill = Drill.of([SHIPPED]).feed(
        alert(0, "a", fingerprint=fingerprint), alert(0, "b", fingerprint=fingerprint)
    )
    drill.feed(alert(1, "a", "resolved", fingerprint=fingerprint))
    assert drill.incident("tech_outage", "payments").status is IncidentStatus.OPEN
    assert len(drill.incident("tech_outage", "payments").open_signals) == 1


def test_a_flap_within_the_window_reopens_the_incident() -> None:
    """Fire, resolve, fire again 5 minutes later, twice: one incident, flap count 2, each flap
    on the timeline, the cancelled triage assigned again."""
    drill = Drill.of([SHIPPED])
    for flap in range(3):
        start = flap * 10
        drill.feed(alert(start, "a"), alert(start + 5, "a", "resolved"))
    [incident] = drill.incidents("tech_outage")
    assert incident.status is IncidentStatus.RESOLVED
    assert incident.flap_count == 2
    reopened = [e for e in incident.timeline if e.kind == "incident.reopened"]
    assert [e.at for e in reopened] == [at(10), at(20)]
    assert [e.detail["flap_count"] for e in reopened] == [1, 2]
    assigned = [e.id for e in drill.task_events("task.assigned") if e.task.name == "triage"]
    assert len(assigned) == len(set(assigned)) == 3
    resolved = drill.incident_events("incident.resolved")
    assert len({e.id for e in resolved}) == 3


def test_firing_past_the_window_opens_a_new_incident() -> None:
    """Resolved at 5m, firing again 16 minutes later (window 15m): a second incident."""
    drill = Drill.of([SHIPPED]).feed(alert(0, "a"), alert(5, "a", "resolved"), alert(21, "a"))
    statuses = [i.status for i in drill.incidents("tech_outage")]
    assert statuses == [IncidentStatus.RESOLVED, IncidentStatus.OPEN]
    assert all(i.flap_count == 0 for i in drill.incidents("tech_outage"))


def test_a_closed_incident_is_never_reopened() -> None:
    """Once its review is done (closed), a firing within the window opens a new incident."""
    drill = Drill.of([SHIPPED]).feed(alert(0, "a"), alert(1, "a", "resolved"))
    review = drill.task("tech_outage", "payments", "post_incident_review").id
    for kind in ("ack", "complete"):
        cmd = {"kind": kind, "actor": "ic", "task_id": review}
        drill.feed(event("orchestrator.command", at(2), source="responders", **cmd))
    drill.feed(alert(3, "a"))
    statuses = [i.status for i in drill.incidents("tech_outage")]
    assert statuses == [IncidentStatus.CLOSED, IncidentStatus.OPEN]


def test_a_reopened_incident_survives_a_snapshot_and_its_old_retire_timer() -> None:
    """The index of resolved incidents is in the snapshot; the retire timer armed at the
    first resolution finds the incident open again and leaves it."""
    drill = Drill.of([SHIPPED]).feed(alert(0, "a"), alert(5, "a", "resolved"))
    drill.state = restore(snapshot(drill.state))
    drill.feed(alert(10, "a")).until("2026-12-20T00:00:00Z")
    [incident] = drill.incidents("tech_outage")
    assert (incident.status, incident.flap_count) == (IncidentStatus.OPEN, 1)


def test_a_warning_listed_before_the_critical_alert_joins_the_incident() -> None:
    """Alertmanager's order [PaymentsDegraded, PaymentsDown]: both alerts on the incident."""
    warning = alert(0, "a", name="PaymentsDegraded", severity="warning")
    drill = Drill.of([SHIPPED]).feed(warning, alert(0, "a"))
    incident = drill.incident("tech_outage", "payments")
    assert incident.events_total == 2
    assert sorted(incident.open_signals) == ["PaymentsDegraded-a", "PaymentsDown-a"]
    joined = drill.incident_events("incident.joined")
    assert [(e.ref, e.detail.get("gathered")) for e in joined] == [
        (f"alertmanager/ops/{warning['id']}", True)
    ]


def test_only_events_close_to_the_opening_are_gathered() -> None:
    """A warning 2 minutes before the critical alert (gather_within 1m) stays off it."""
    early = alert(0, "a", name="PaymentsDegraded", severity="warning")
    close = alert(1.5, "b", name="PaymentsDegraded", severity="warning")
    drill = Drill.of([SHIPPED]).feed(early, close, alert(2, "a"))
    assert drill.incident("tech_outage", "payments").events_total == 2


def playbook_with(resolution: str) -> str:
    """A minimal playbook text with `resolution` lines."""
    return textwrap.dedent(
        """\
        id: flappy
        version: 1
        title: Flappy
        key: [data.service]
        triggers: [{id: fire, on: ops.alert}]
        tasks: [{name: look, role: ops, title: Look}]
        resolution:
        """
    ) + textwrap.indent(resolution, "  ")


def test_the_reopen_window_is_validated_like_other_durations() -> None:
    """A window longer than the longest deadline, or one without a unit, is refused with its
    place in the file."""
    with pytest.raises(PlaybookError, match=r"resolution\.reopen_within"):
        load_playbook_text(playbook_with("reopen_within: 400d\n"), "flappy.yaml")
    with pytest.raises(PlaybookError, match="reopen_within"):
        load_playbook_text(playbook_with("reopen_within: 15\n"), "flappy.yaml")
    off = load_playbook_text(playbook_with("reopen_within: 0m\ntasks_done: true\n"), "f.yaml")
    assert off.resolution.reopen_within == 0
    assert SHIPPED.resolution.reopen_within == 15 * MINUTE_MS
    assert SHIPPED.gather_within == MINUTE_MS
