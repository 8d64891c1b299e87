"""HTTP intake in-process through the ASGI app: CloudEvents, batches, Alertmanager, limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.api.intake import MAX_BATCH_BYTES
from orchestrator.engine.clock import MINUTE_MS
from orchestrator.engine.step import Engine
from orchestrator.playbook import load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import ManualClock, event

START = "2026-11-20T10:00:00Z"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def client(tmp_path: Path, clock: ManualClock) -> Iterator[TestClient]:
    runtime = EmbeddedRuntime.open(Engine(load_directory("playbooks")), tmp_path, clock=clock.now)
    with TestClient(create_app(runtime)) as test_client:
        yield test_client
    runtime.close()


def critical(service: str = "checkout", **over: Any) -> dict[str, Any]:
    return event(
        "ops.alert",
        START,
        alertname="Down",
        service=service,
        status="firing",
        severity="critical",
        **over,
    )


def alertmanager_payload(status: str) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": "{}:{}",
        "status": status,
        "receiver": "orchestrator",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "",
        "alerts": [
            {
                "status": status,
                "fingerprint": "f00d",
                "labels": {
                    "alertname": "CheckoutDown",
                    "service": "checkout",
                    "severity": "critical",
                },
                "annotations": {"summary": "checkout is down"},
                "startsAt": "2026-11-20T10:00:00Z",
                "endsAt": "2026-11-20T10:30:00Z"
                if status == "resolved"
                else "0001-01-01T00:00:00Z",
            }
        ],
    }


def test_single_event_is_accepted_then_duplicate(client: TestClient) -> None:
    """One event: 202 accepted; the same again: 200 duplicate; the incident is visible."""
    body = critical()
    assert client.post("/events", json=body).status_code == 202
    again = client.post("/events", json=body)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    incidents = client.get("/incidents").json()
    assert [(i["playbook"], i["key"]) for i in incidents] == [("tech_outage", "checkout")]


def test_invalid_event_is_422_problem_and_dead_lettered(client: TestClient) -> None:
    """A bad event answers problem+json with the reason and the dead-letter id, and is kept."""
    response = client.post("/events", json={"id": "x", "type": "ops.alert"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert "source" in problem["detail"]
    letters = client.get("/dead-letters").json()
    assert [d["id"] for d in letters] == [problem["dead_letter_id"]]


def test_batch_reports_each_record(client: TestClient) -> None:
    """A JSON array is a batch: counts and per-record results, in order."""
    good = critical()
    response = client.post("/events", json=[good, good, {"nope": 1}, 7])
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (1, 1, 2)
    assert [r["status"] for r in body["results"]] == [
        "accepted",
        "duplicate",
        "rejected",
        "rejected",
    ]


def test_alertmanager_firing_then_resolved_resolves_the_outage(
    client: TestClient, clock: ManualClock
) -> None:
    """Alertmanager v4 firing opens tech_outage; the resolved notification resolves it."""
    assert (
        client.post("/webhooks/alertmanager", json=alertmanager_payload("firing")).json()[
            "accepted"
        ]
        == 1
    )
    retried = client.post("/webhooks/alertmanager", json=alertmanager_payload("firing")).json()
    assert retried["duplicate"] == 1
    clock.advance(30 * MINUTE_MS)  # Alertmanager sends the resolve once it has happened
    client.post("/webhooks/alertmanager", json=alertmanager_payload("resolved"))
    (incident,) = client.get("/incidents").json()
    assert incident["status"] == "resolved"


def test_alertmanager_rejects_other_payloads(client: TestClient) -> None:
    """Something that is not an Alertmanager v4 body is a 422 problem."""
    response = client.post("/webhooks/alertmanager", json={"version": "3", "alerts": []})
    assert response.status_code == 422


def test_oversized_body_is_413(client: TestClient) -> None:
    """A body over the limit is refused before it is read whole."""
    response = client.post(
        "/events",
        content=b"[" + b" " * MAX_BATCH_BYTES + b"]",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


def test_unknown_incident_is_404_problem(client: TestClient) -> None:
    """Asking for an incident that does not exist answers 404 problem+json."""
    response = client.get("/incidents/inc-nope")
    assert response.status_code == 404
    assert response.json()["title"] == "No such incident"
