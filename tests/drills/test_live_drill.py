"""A live drill: the log plays on drill time while a responder acks through the real API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from orchestrator.testing import encode, event

TOKEN = "dana-drill-token-0123456789"
RESPONDERS = json.dumps({"responders": [{"name": "dana", "token": TOKEN, "roles": ["ops"]}]})
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_triage(base: str, deadline: float) -> dict[str, object]:
    while time.monotonic() < deadline:
        try:
            tasks = httpx.get(f"{base}/roles/ops/tasks", headers=HEADERS, timeout=2).json()
        except httpx.TransportError:
            tasks = []
        found = [t for t in tasks if t["name"] == "triage"]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError("the drill never assigned triage")


def test_live_drill_takes_acks_through_the_api_in_its_own_namespace(tmp_path: Path) -> None:
    """Drill incidents are flagged and kept apart; an ack lands in drill time; summary shows it."""
    log = tmp_path / "drill.jsonl"
    log.write_bytes(
        b"\n".join(
            [
                encode(
                    event(
                        "ops.alert",
                        "2026-11-20T10:00:00Z",
                        alertname="Down",
                        service="checkout",
                        status="firing",
                        severity="critical",
                    )
                ),
                encode(
                    event(
                        "cs.complaint",
                        "2026-11-20T10:20:00Z",
                        channel="chat",
                        topic="slow",
                        sentiment=-0.9,
                    )
                ),
            ]
        )
        + b"\n"
    )
    port = _free_port()
    env = {**os.environ, "ORCH_DATA_DIR": str(tmp_path / "var"), "ORCH_RESPONDERS": RESPONDERS}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestrator",
            "replay",
            str(log),
            "--serve",
            "--speed",
            "300",
            "--port",
            str(port),
            "--until",
            "2026-11-20T10:30:00Z",
            "--json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        triage = _wait_for_triage(base, time.monotonic() + 30)
        ack = httpx.post(f"{base}/tasks/{triage['id']}/ack", headers=HEADERS, timeout=5)
        assert ack.status_code == 202
        incident = httpx.get(
            f"{base}/incidents/{triage['incident_id']}", headers=HEADERS, timeout=5
        ).json()
        assert incident["drill"] is True
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    summary = json.loads(out)
    (outage,) = summary["incidents"]
    (task,) = [t for t in outage["tasks"] if t["name"] == "triage"]
    assert task["status"] == "acknowledged"
    assert task["acknowledged_by"] == "dana"
    assert "2026-11-20T10:00:00Z" <= task["acknowledged_at"] < "2026-11-20T10:30:00Z"
    assert (tmp_path / "var" / "drills" / "drill-drill" / "orchestrator.db").exists()
    assert not (tmp_path / "var" / "orchestrator.db").exists()
