"""A join skips reconciling tasks only once every task of its playbook is attached: a task
whose condition a join makes true (here PR's status page once severity reaches high) is still
attached by that join, and a join to a fully attached incident changes only its counts, last
event time and timeline."""

from __future__ import annotations

from orchestrator.playbook import load_directory
from orchestrator.settings import shipped_playbooks
from orchestrator.testing import Drill, event


def metric(minute: int, value: float) -> dict[str, object]:
    """An error-rate sample of the checkout service."""
    return event(
        "ops.metric",
        f"2026-11-20T10:{minute:02d}:00Z",
        service="checkout",
        metric="error_rate",
        value=value,
    )


def alert(minute: int) -> dict[str, object]:
    """A critical firing alert of the checkout service."""
    data = {"alertname": "Down", "service": "checkout", "status": "firing", "severity": "critical"}
    return event("ops.alert", f"2026-11-20T10:{minute:02d}:00Z", **data)


def test_a_join_that_raises_severity_attaches_the_task_waiting_on_it() -> None:
    """Opened medium by the error rate (no status page), joined by a critical alert: high, and
    the status page task is attached by that join."""
    run = Drill.of(load_directory(shipped_playbooks()))
    run.feed(metric(0, 0.1), metric(1, 0.1), metric(2, 0.1))
    opened = run.incident("tech_outage", "checkout")
    assert opened.severity == "medium"
    assert "status_page" not in {t.name for t in opened.tasks}
    run.feed(alert(3))
    joined = run.incident("tech_outage", "checkout")
    assert joined.severity == "high"
    assert "status_page" in {t.name for t in joined.tasks}


def test_a_join_to_a_fully_attached_incident_changes_only_counts_time_and_timeline() -> None:
    """Every task attached, a further alert joins: tasks and phase as they were."""
    run = Drill.of(load_directory(shipped_playbooks()))
    run.feed(alert(0))
    before = run.incident("tech_outage", "checkout")
    run.feed(alert(2))  # before any deadline
    after = run.incident("tech_outage", "checkout")
    assert after.tasks == before.tasks
    assert after.phase == before.phase
    assert after.events_total == before.events_total + 1
    assert after.last_event_at == "2026-11-20T10:02:00Z"
    assert [e.kind for e in after.timeline[len(before.timeline) :]] == ["event"]
