"""The agent API over the Kafka runtime: a worker process and `orchestrator run --kafka` on a real
socket, responders from ORCH_RESPONDERS, everything through a real broker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from kafka_harness import Api, Workers, delete_topics, kafka_api, wait_for

from orchestrator.testing import event
from orchestrator.testing.servers import FeedFollower, complete_at_once

INGEST = "ingest-kafka-token-5e1f"
TOKENS = {
    "alice": "alice-kafka-token-aa11",
    "bob": "bob-kafka-token-bb22",
    "pat": "pat-kafka-token-cc33",
    "ivy": "ivy-kafka-token-dd44",
}
ROLES = {"alice": ["ops"], "bob": ["ops"], "pat": ["pr"], "ivy": ["incident_commander"]}
WAIT_S = 30.0


def _responders() -> list[dict[str, Any]]:
    return [{"name": n, "token": TOKENS[n], "roles": roles} for n, roles in ROLES.items()]


@pytest.fixture(scope="module")
def api(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One worker and one `run --kafka` API process on a fresh prefix, for the whole module."""
    base = tmp_path_factory.mktemp("api-over-kafka")
    prefix = f"test-api-over-kafka-{uuid.uuid4().hex[:8]}."
    workers = Workers(kafka_bootstrap, prefix, base)
    try:
        workers.start("w1").wait_rebalanced()
        with kafka_api(workers, _responders(), INGEST) as api:
            yield api
    finally:
        workers.stop_all()
        delete_topics(kafka_bootstrap, prefix)


def _as(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name]}"}


def _post_alert(api: Api, service: str) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = event(
        "ops.alert",
        now,
        source="prom",
        id=f"{service}-{uuid.uuid4().hex[:6]}",
        alertname="Down",
        service=service,
        status="firing",
        severity="critical",
    )
    response = httpx.post(
        f"{api.url}/events", json=body, headers={"Authorization": f"Bearer {INGEST}"}, timeout=10
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "accepted", "reason": "queued"}


def _triage_of(api: Api, service: str) -> str:
    """The triage task of the incident opened for `service`, once the read model has it."""

    def found() -> str | None:
        incidents = httpx.get(f"{api.url}/incidents", headers=_as("ivy"), timeout=10).json()
        ids = [i["id"] for i in incidents if i["key"] == service]
        return f"{ids[0]}.triage" if ids else None

    task_id: str = wait_for(found, WAIT_S, f"an incident for {service}")
    return task_id


def test_ack_over_http_shows_in_incident_state_and_timeline(api: Api) -> None:
    """An event posted over HTTP opens an incident; an HTTP ack shows in its state and timeline."""
    _post_alert(api, "kafka-a")
    task_id = _triage_of(api, "kafka-a")
    incident_id = task_id.rsplit(".", 1)[0]

    ack = httpx.post(f"{api.url}/tasks/{task_id}/ack", headers=_as("alice"), timeout=30)

    assert ack.status_code == 202, ack.text
    assert ack.json()["incident_id"] == incident_id
    incident = httpx.get(f"{api.url}/incidents/{incident_id}", headers=_as("pat"), timeout=10)
    state: dict[str, Any] = incident.json()
    triage = next(t for t in state["tasks"] if t["id"] == task_id)
    assert (triage["status"], triage["acknowledged_by"]) == ("acknowledged", "alice")
    entry = next(e for e in state["timeline"] if e["kind"] == "task.acknowledged")
    assert (entry["actor"], entry["ref"], entry["at"]) == ("alice", task_id, ack.json()["time"])


def test_feed_delivers_a_newly_assigned_task(api: Api) -> None:
    """A client following the ops feed receives the triage task assigned after it connected."""
    tasks = httpx.get(f"{api.url}/roles/ops/tasks", headers=_as("bob"), timeout=10).json()
    known = {t["id"] for t in tasks}
    feed = FeedFollower(api.url, "ops", TOKENS["bob"], lambda e: e.task.id not in known, WAIT_S)
    assert feed.connected.wait(WAIT_S), "the feed did not open"
    _post_alert(api, "kafka-feed")
    assert feed.arrived.wait(WAIT_S), f"no new task on the ops feed; got {feed.received}"
    feed.thread.join(WAIT_S)
    newest = feed.received[-1]
    assert (newest.kind, newest.role, newest.task.status) == ("task.assigned", "ops", "assigned")
    assert newest.task.name == "triage"
    incident = httpx.get(
        f"{api.url}/incidents/{newest.incident_id}", headers=_as("bob"), timeout=10
    ).json()
    assert incident["key"] == "kafka-feed"


def test_two_concurrent_completions_exactly_one_wins(api: Api) -> None:
    """Two responders complete one task at once over HTTP: one 202, one 409 with the engine's
    reason, and the task shows the winner."""
    _post_alert(api, "kafka-b")
    task_id = _triage_of(api, "kafka-b")
    answers = complete_at_once(api.url, task_id, {n: TOKENS[n] for n in ("alice", "bob")}, 30)

    assert sorted(a.status_code for a in answers.values()) == [202, 409]
    winner = next(n for n, a in answers.items() if a.status_code == 202)
    loser = next(a for a in answers.values() if a.status_code == 409)
    assert loser.headers["content-type"].startswith("application/problem+json")
    assert loser.json()["detail"], loser.text
    task = httpx.get(f"{api.url}/tasks/{task_id}", headers=_as("ivy"), timeout=10).json()
    assert task["finished_by"] == winner
    assert [e["kind"] for e in task["history"]].count("command.rejected") == 1


def test_retried_keyed_ack_gets_the_first_verdict_and_a_reused_key_is_refused(api: Api) -> None:
    """An ack retried with its Idempotency-Key answers the same command; the key on another
    request is refused (422) and records nothing."""
    _post_alert(api, "kafka-c")
    task_id = _triage_of(api, "kafka-c")
    keyed = {**_as("alice"), "Idempotency-Key": f"ack-{task_id}"}

    first = httpx.post(f"{api.url}/tasks/{task_id}/ack", headers=keyed, timeout=30)
    retry = httpx.post(f"{api.url}/tasks/{task_id}/ack", headers=keyed, timeout=30)
    reused = httpx.post(f"{api.url}/tasks/{task_id}/complete", headers=keyed, timeout=30)

    assert (first.status_code, retry.status_code, reused.status_code) == (202, 202, 422)
    assert retry.json()["command_id"] == first.json()["command_id"]
    task = httpx.get(f"{api.url}/tasks/{task_id}", headers=_as("ivy"), timeout=10).json()
    assert task["status"] == "acknowledged"
    assert [e["kind"] for e in task["history"]].count("task.acknowledged") == 1
