"""SIGKILL `orchestrator run` while 10,000 events are posted: nothing answered 2xx is lost."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from orchestrator.engine.step import Engine
from orchestrator.playbook import load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import event
from schemas.deadletter import Origin

EVENTS = 10_000
BATCH = 100
KILL_AFTER_BATCHES = 40
START_TIMEOUT = 60.0


def _events() -> list[dict[str, Any]]:
    made = []
    for i in range(EVENTS):
        minute, second = divmod(i, 60)
        hour, minute = divmod(minute, 60)
        t = f"2026-10-01T{hour:02d}:{minute:02d}:{second:02d}Z"
        kind = i % 4
        if kind == 0:
            made.append(
                event(
                    "ops.alert",
                    t,
                    source="prom",
                    id=f"a{i}",
                    alertname=f"A{i % 7}",
                    service=f"svc{i % 40}",
                    severity="critical",
                    status="firing" if i % 8 == 0 else "resolved",
                )
            )
        elif kind == 1:
            made.append(
                event(
                    "supply.shipment_delayed",
                    t,
                    source="tms",
                    id=f"d{i}",
                    supplier=f"sup{i % 30}",
                    shipment_id=f"S{i}",
                    delay_hours=i % 90,
                )
            )
        elif kind == 2:
            made.append(
                event(
                    "cs.complaint",
                    t,
                    source="cs",
                    id=f"c{i}",
                    channel="email",
                    topic=f"topic{i % 5}",
                    sentiment=-0.9,
                )
            )
        else:
            made.append(
                event(
                    "ops.metric",
                    t,
                    source="prom",
                    id=f"m{i}",
                    service=f"svc{i % 40}",
                    metric="error_rate",
                    value=(i % 10) / 50,
                )
            )
    return made


def _batches() -> list[list[dict[str, Any]]]:
    made = _events()
    return [made[i : i + BATCH] for i in range(0, EVENTS, BATCH)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ORCH_LOG_FORMAT": "json"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestrator",
            "run",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("orchestrator run did not answer /healthz within a minute")


def _post_all(url: str, batches: list[list[dict[str, Any]]], acked: list[int], first: int) -> None:
    with httpx.Client(timeout=30) as client:
        for index in range(first, len(batches)):
            try:
                response = client.post(url, json=batches[index])
            except httpx.TransportError:
                return
            if response.status_code != 200:
                return
            acked.append(index)


def _reference(batches: list[list[dict[str, Any]]], tmp: Path) -> dict[str, Any]:
    runtime = EmbeddedRuntime.open(Engine(load_directory("playbooks")), tmp)
    origin = Origin(kind="http", name="/events")
    for batch in batches:
        runtime.submit([json.dumps(e, separators=(",", ":")).encode() for e in batch], origin)
    runtime.tick()
    result = runtime.summary()
    runtime.close()
    return result


def test_sigkill_during_intake_loses_nothing_acknowledged(tmp_path: Path) -> None:
    """Every event answered 2xx survives a SIGKILL once; the end state matches a clean run."""
    batches = _batches()
    data_dir, port = tmp_path / "live", _free_port()
    url = f"http://127.0.0.1:{port}/events"
    server = _start(data_dir, port)
    acked: list[int] = []
    poster = threading.Thread(target=_post_all, args=(url, batches, acked, 0))
    poster.start()
    while len(acked) < KILL_AFTER_BATCHES and poster.is_alive():
        time.sleep(0.005)
    server.send_signal(signal.SIGKILL)
    server.wait()
    poster.join()
    assert KILL_AFTER_BATCHES <= len(acked) < len(batches), "the kill must land mid-stream"

    server = _start(data_dir, port)
    try:
        resent: list[int] = []
        _post_all(url, batches, resent, acked[-1] + 1)
        assert resent == list(range(acked[-1] + 1, len(batches)))
        live = httpx.get(f"http://127.0.0.1:{port}/summary", timeout=30).json()
    finally:
        server.send_signal(signal.SIGTERM)
        stopped = server.wait(timeout=30)
    assert stopped == 0, "SIGTERM must shut the service down cleanly"

    counts = live["events"]
    print(f"acked before kill: {len(acked)} batches; counts after restart: {counts}")
    assert counts["accepted"] == EVENTS
    assert counts["read"] == counts["accepted"] + counts["rejected"] + counts["duplicates"]
    with sqlite3.connect(data_dir / "orchestrator.db") as db:
        logged = db.execute("SELECT COUNT(*) FROM inputs WHERE kind = 'raw'").fetchone()[0]
    assert logged == counts["read"]
    reference = _reference(batches, tmp_path / "reference")
    assert live["incidents"] == reference["incidents"]
    assert reference["events"]["accepted"] == EVENTS
