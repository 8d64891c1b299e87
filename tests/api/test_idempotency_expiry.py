"""Idempotency keys expire: after `idempotency_retention` a retry is a new request; a database
from before keys had times opens with them (taken at time 0, so they expire first)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from apikit import START, Api, auth_config, bearer
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.engine import HOUR_MS, Engine, EngineConfig
from orchestrator.playbook import load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.runtime.embedded.store import Store
from orchestrator.testing import ManualClock

OLD_KEYS = """CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    command TEXT NOT NULL, PRIMARY KEY (scope, key))"""


def test_a_retry_after_the_retention_is_applied_as_a_new_request(tmp_path: Path) -> None:
    """Within the hour the key answers the first verdict (replayed); a snapshot after it
    forgets the key, so the same request again is applied again (a second command logged)."""
    clock = ManualClock(START)
    engine = Engine(load_directory("playbooks"), EngineConfig(command_retention=HOUR_MS))
    runtime = EmbeddedRuntime.open(engine, tmp_path, snapshot_every=1, clock=clock.now)
    with TestClient(create_app(runtime, auth_config())) as client:
        api = Api(client, runtime, clock)
        task = api.fresh_task("ops")
        headers = {**bearer("ops"), "Idempotency-Key": "ack-once"}
        first = client.post(f"/tasks/{task.id}/ack", headers=headers)
        clock.advance(HOUR_MS // 2)
        soon = client.post(f"/tasks/{task.id}/ack", headers=headers)
        clock.advance(HOUR_MS)
        api.fresh_task("ops")  # an input, so a snapshot (and the expiry) runs
        late = client.post(f"/tasks/{task.id}/ack", headers=headers)
    runtime.close()
    assert (first.status_code, soon.status_code, late.status_code) == (202, 202, 202)
    assert soon.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in late.headers
    assert late.json()["command_id"] != first.json()["command_id"]


def test_a_database_from_before_key_times_opens_and_its_keys_expire_first(tmp_path: Path) -> None:
    """The old table gains the time column; its keys count as taken at 0."""
    path = tmp_path / "orchestrator.db"
    with sqlite3.connect(path) as db:
        db.execute(OLD_KEYS)
        db.execute("INSERT INTO idempotency_keys VALUES ('ops', 'k', 'f', '{}')")
    store = Store(path)
    try:
        assert store.forget_keys_before(1) == 1
    finally:
        store.close()
