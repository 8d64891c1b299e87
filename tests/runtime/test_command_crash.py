"""SIGKILL `orchestrator run` while concurrent clients acknowledge tasks: every 202 survives."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import httpx
from test_embedded_runtime import alert

from orchestrator.engine.step import Engine
from orchestrator.playbook import load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing.servers import serve
from schemas.commands import Command
from schemas.deadletter import Origin

SERVICES = 400
CLIENTS = 8
KILL_AFTER_ACKS = 100
TOKEN = "group-commit-crash-test-token"
WAIT_S = 120.0


def _seed(data_dir: Path) -> list[str]:
    runtime = EmbeddedRuntime.open(Engine(load_directory("playbooks")), data_dir)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    alerts = [alert(f"svc{i}", now, id=f"a{i}") for i in range(SERVICES)]
    runtime.submit(alerts, Origin(kind="file", name="seed"))
    found = [t.id for t in runtime.tasks(status="assigned")]
    runtime.close()
    return found


def _ack_all(url: str, task_ids: list[str], receipts: list[tuple[str, str]]) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for task_id in task_ids:
            try:
                response = client.post(f"/tasks/{task_id}/ack")
            except httpx.TransportError:
                return
            assert response.status_code == httpx.codes.ACCEPTED, response.text
            receipts.append((task_id, response.json()["command_id"]))


def test_sigkill_during_concurrent_acks_loses_no_answered_command(tmp_path: Path) -> None:
    """Acks from concurrent clients share transactions; after a SIGKILL mid-stream, every ack
    answered 202 is in the input log and its task is acknowledged after recovery."""
    task_ids = _seed(tmp_path / "db")
    responders = [{"name": "ic", "token": TOKEN, "roles": ["incident_commander"]}]
    receipts: list[tuple[str, str]] = []
    with serve(tmp_path, env={"ORCH_RESPONDERS": json.dumps(responders)}) as server:
        clients = [
            threading.Thread(target=_ack_all, args=(server.url, task_ids[i::CLIENTS], receipts))
            for i in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        deadline = time.monotonic() + WAIT_S
        while len(receipts) < KILL_AFTER_ACKS and time.monotonic() < deadline:
            time.sleep(0.005)
        server.process.kill()
        server.process.wait()
        for client in clients:
            client.join()
    answered = dict(receipts)
    assert KILL_AFTER_ACKS <= len(answered) < len(task_ids), "the kill must land mid-stream"

    with sqlite3.connect(tmp_path / "db" / "orchestrator.db") as db:
        bodies = db.execute("SELECT body FROM inputs WHERE kind = 'command'").fetchall()
    logged = {Command.model_validate_json(b[0]).id for b in bodies}
    assert set(answered.values()) <= logged
    runtime = EmbeddedRuntime.open(Engine(load_directory("playbooks")), tmp_path / "db")
    acked = {t.id for t in runtime.tasks() if t.acknowledged_by == "ic"}
    runtime.close()
    assert set(answered) <= acked
