"""Idempotency-Key: a retried request gets the first answer and records no second command."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from apikit import Api, auth_config, bearer, runtime_at
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.testing import ManualClock


def _commands_logged(path: Path) -> int:
    with sqlite3.connect(path / "orchestrator.db") as db:
        return int(db.execute("SELECT COUNT(*) FROM inputs WHERE kind = 'command'").fetchone()[0])


def test_retry_with_the_same_key_returns_the_first_answer(api: Api, tmp_path: Path) -> None:
    """Same key twice: identical 202 body, a replay header, one command in the input log."""
    task = api.fresh_task("ops")
    headers = {**bearer("ops"), "Idempotency-Key": "retry-1"}
    before = _commands_logged(tmp_path)
    first = api.client.post(f"/tasks/{task.id}/complete", headers=headers, json={"note": "ok"})
    api.clock.advance(5_000)
    again = api.client.post(f"/tasks/{task.id}/complete", headers=headers, json={"note": "ok"})
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _commands_logged(tmp_path) == before + 1


def test_a_retried_rejection_is_replayed_too(api: Api) -> None:
    """A key whose first request was rejected (409) answers the same 409 again."""
    task = api.fresh_task("ops")
    api.client.post(f"/tasks/{task.id}/ack", headers=bearer("ops"))
    headers = {**bearer("ops2"), "Idempotency-Key": "late-ack"}
    first = api.client.post(f"/tasks/{task.id}/ack", headers=headers)
    again = api.client.post(f"/tasks/{task.id}/ack", headers=headers)
    assert (first.status_code, again.status_code) == (409, 409)
    assert again.json() == first.json()


def test_same_key_for_a_different_request_is_422(api: Api) -> None:
    """Reusing a key for another request is refused, and the other request is not applied."""
    task = api.fresh_task("ops")
    headers = {**bearer("ops"), "Idempotency-Key": "k"}
    assert api.client.post(f"/tasks/{task.id}/ack", headers=headers).status_code == 202
    reused = api.client.post(f"/tasks/{task.id}/fail", headers=headers, json={"note": "x"})
    assert reused.status_code == 422
    assert reused.json()["title"] == "Idempotency-Key reused"
    assert api.runtime.task(task.id).status == "acknowledged"  # type: ignore[union-attr]


def test_keys_are_scoped_per_responder(api: Api) -> None:
    """Two responders using the same key string send two different commands."""
    task = api.fresh_task("pr")
    for name in ("pr", "incident_commander"):
        response = api.client.post(
            f"/tasks/{task.id}/comment",
            json={"note": f"from {name}"},
            headers={**bearer(name), "Idempotency-Key": "note-1"},
        )
        assert response.status_code == 202
        assert "idempotent-replayed" not in response.headers
    incident = api.runtime.incident(task.incident_id)
    assert incident is not None
    notes = [e.detail["note"] for e in incident.timeline if e.kind == "task.commented"]
    assert notes == ["from pr", "from incident_commander"]


def test_keys_survive_a_restart(tmp_path: Path) -> None:
    """After the runtime is closed and reopened, a retried key still gets the first answer."""
    clock = ManualClock("2026-11-20T10:00:00Z")
    runtime = runtime_at(tmp_path, clock)
    with TestClient(create_app(runtime, auth_config())) as client:
        task = Api(client, runtime, clock).fresh_task("ops")
        headers = {**bearer("ops"), "Idempotency-Key": "durable"}
        first = client.post(f"/tasks/{task.id}/ack", headers=headers)
    runtime.close()
    reopened = runtime_at(tmp_path, clock)
    with TestClient(create_app(reopened, auth_config())) as client:
        again = client.post(f"/tasks/{task.id}/ack", headers=headers)
    reopened.close()
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"


def test_malformed_key_is_422(api: Api) -> None:
    """A key with spaces or control characters, or over 200 characters, is refused."""
    task = api.fresh_task("ops")
    for key in ("has space", "x" * 201):
        response = api.client.post(
            f"/tasks/{task.id}/ack", headers={**bearer("ops"), "Idempotency-Key": key}
        )
        assert response.status_code == 422, key


def test_concurrent_retries_with_one_key_record_one_command(api: Api, tmp_path: Path) -> None:
    """Two copies of one request racing with the same key: one command, the same answer twice."""
    task = api.fresh_task("ops")
    headers = {**bearer("ops"), "Idempotency-Key": "double-click"}
    before = _commands_logged(tmp_path)
    barrier, answers = threading.Barrier(2), []

    def send() -> None:
        barrier.wait()
        answers.append(api.client.post(f"/tasks/{task.id}/ack", headers=headers))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    assert _commands_logged(tmp_path) == before + 1
