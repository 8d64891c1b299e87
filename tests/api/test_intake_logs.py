"""What intake logs of a record it did not accept: one line naming the event (its id and
source, bound in the log context) with the request's method, path and sender, and for a
rejected record the reason and its dead letter's id; a command's line names its incident."""

from __future__ import annotations

from typing import Any

import structlog
from apikit import INGEST_TOKEN, START, Api
from structlog.testing import capture_logs

from orchestrator.testing import command, event

INGEST = {"Authorization": f"Bearer {INGEST_TOKEN}"}
BOUND = ("event_id", "source", "method", "path", "sender")


def _posted(api: Api, *bodies: dict[str, Any]) -> list[dict[str, Any]]:
    """What is logged while each body is posted to /events, with the bound context merged."""
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        for body in bodies:
            api.client.post("/events", json=body, headers=INGEST)
    return logs


def test_a_rejected_event_is_logged_with_its_event_id_and_dead_letter(api: Api) -> None:
    """An event of no declared type: 422, and an `event.rejected` line with its event id,
    source, the request and sender, the reason and the dead letter's id as answered."""
    bad = event("no.such_type", START, source="monitor/eu", id="evt-bad-1", service="x")
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        answer = api.client.post("/events", json=bad, headers=INGEST)
    assert answer.status_code == 422
    [line] = [e for e in logs if e["event"] == "event.rejected"]
    assert {k: line[k] for k in BOUND[:4]} == {
        "event_id": "evt-bad-1",
        "source": "monitor/eu",
        "method": "POST",
        "path": "/events",
    }
    assert line["sender"]
    assert line["reason"] == answer.json()["detail"]
    assert line["dead_letter_id"] == answer.json()["dead_letter_id"]


def test_a_duplicate_is_logged_with_its_event_id(api: Api) -> None:
    """The same event twice: the second is a duplicate, logged (debug) with its event id."""
    alert = event(
        "ops.alert",
        START,
        source="am",
        id="evt-dup-1",
        alertname="PaymentsDown",
        service="payments",
        severity="critical",
        status="firing",
    )
    logs = _posted(api, alert, alert)
    [line] = [e for e in logs if e["event"] == "event.duplicate"]
    assert (line["event_id"], line["source"], line["log_level"]) == ("evt-dup-1", "am", "debug")
    assert not [e for e in logs if e["event"] == "event.rejected"]


def test_a_refused_command_names_the_incident_it_addressed(api: Api) -> None:
    """A command sent as an event over HTTP is refused (commands go through the task
    endpoints); its line names the incident its task id belongs to."""
    sent = command("ack", START, task_id="inc-0123456789abcdef.triage", id="cmd-net-1")
    [line] = [e for e in _posted(api, sent) if e["event"] == "event.rejected"]
    assert (line["event_id"], line["incident_id"]) == ("cmd-net-1", "inc-0123456789abcdef")


def test_bytes_that_are_no_event_are_logged_without_an_event_id(api: Api) -> None:
    """Not JSON: rejected and logged, with no event id to name."""
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        api.client.post("/events", content=b"{not json", headers=INGEST)
    [line] = [e for e in logs if e["event"] == "event.rejected"]
    assert "event_id" not in line
    assert line["path"] == "/events"
