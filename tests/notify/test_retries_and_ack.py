"""Delivery is retried with a doubling backoff and dead-lettered with the reason after the
last try; and the ack stops the noise: what was queued is dropped, and nothing due after the
acknowledgement (a retry, an escalation notice) is sent."""

from __future__ import annotations

from datetime import UTC, datetime

from notifykit import Build, page_ops, rosters_text
from receivers import http_receiver

from orchestrator.engine import parse_time
from orchestrator.testing import ManualClock
from schemas import Command


def _command(kind: str, clock: ManualClock, actor: str, **target: str) -> Command:
    when = datetime.fromtimestamp(clock.now() / 1000, UTC)
    return Command(id=f"c-{kind}-{clock.now()}", kind=kind, actor=actor, time=when, **target)


def test_retries_back_off_then_dead_letter_with_the_reason(
    build: Build, clock: ManualClock
) -> None:
    """A receiver answering 503: tries at 0 s, 1 s and 3 s (1 s, then 2 s apart), none early,
    then the delivery is dead with the last reason."""
    with http_receiver() as receiver:
        receiver.status = 503
        runtime, dispatcher = build(rosters_text(webhook=receiver.url))
        page_ops(runtime)
        dispatcher.step()
        for advance, tries in ((500, 1), (500, 2), (1500, 2), (500, 3), (60_000, 3)):
            clock.advance(advance)
            dispatcher.step()
            assert receiver.tries == tries
    (dead,) = dispatcher.store.all("dead")
    assert dead.reason == "gave up after 3 tries; last: HTTP 503 from the receiver"
    assert dispatcher.store.all("pending") == []


def test_ack_drops_what_was_queued(build: Build, clock: ManualClock) -> None:
    """The page could not go out (receiver down); the task is acknowledged meanwhile; when the
    receiver is back nothing arrives: the queued delivery is dropped as acknowledged."""
    with http_receiver() as receiver:
        receiver.status = 503
        runtime, dispatcher = build(rosters_text(webhook=receiver.url))
        task_id = page_ops(runtime)
        dispatcher.step()
        assert receiver.tries == 1
        assert runtime.command(_command("ack", clock, "dana", task_id=task_id)).accepted
        receiver.status = 200
        for _ in range(5):
            clock.advance(10_000)
            dispatcher.step()
    assert receiver.posted == []
    (dropped,) = dispatcher.store.all("dropped")
    assert dropped.reason == "acknowledged"


def test_ack_stops_an_escalation_notice_due_after_it(build: Build, clock: ManualClock) -> None:
    """triage is paged at 10:00 and would escalate to the incident commander at 10:05; it is
    acknowledged at 10:03: the assignment's page is the only one ever sent."""
    with http_receiver() as receiver:
        runtime, dispatcher = build(rosters_text(webhook=receiver.url))
        task_id = page_ops(runtime)
        dispatcher.step()
        clock.advance(3 * 60_000)
        assert runtime.command(_command("ack", clock, "dana", task_id=task_id)).accepted
        clock.value = parse_time("2026-11-20T11:00:00Z")
        runtime.tick()
        dispatcher.step()
    assert [p.headers["Idempotency-Key"] for p in receiver.posted] == [
        f"{task_id}:assigned:dana:webhook"
    ]
    task = runtime.task(task_id)
    assert task is not None
    assert task.escalations == 0


def test_an_unacknowledged_task_escalates_and_pages_the_commander(
    build: Build, clock: ManualClock
) -> None:
    """The same task not acknowledged: at 10:05 the incident commander's on-call (alex, the
    fallback) is paged too; the counter-case of the test above."""
    with http_receiver() as receiver:
        runtime, dispatcher = build(rosters_text(webhook=receiver.url))
        task_id = page_ops(runtime)
        clock.value = parse_time("2026-11-20T10:05:00Z")
        runtime.tick()
        dispatcher.step()
    keys = sorted(p.headers["Idempotency-Key"] for p in receiver.posted)
    assert keys == [f"{task_id}:assigned:dana:webhook", f"{task_id}:escalated:1:alex:webhook"]


def test_a_resolved_incident_drops_its_queued_pages(build: Build, clock: ManualClock) -> None:
    """The incident is resolved while the triage page waits for a retry: it is dropped."""
    with http_receiver() as receiver:
        receiver.status = 503
        runtime, dispatcher = build(rosters_text(webhook=receiver.url))
        task_id = page_ops(runtime)
        dispatcher.step()
        task = runtime.task(task_id)
        assert task is not None
        incident_id = task.incident_id
        assert runtime.command(_command("resolve", clock, "alex", incident_id=incident_id)).accepted
        receiver.status = 200
        clock.advance(60_000)
        dispatcher.step()
    triage = [d for d in dispatcher.store.all() if d.task_id == task_id]
    assert [d.status for d in triage] == ["dropped"]
    assert all(p.headers["Idempotency-Key"].split(":")[0] != task_id for p in receiver.posted)
