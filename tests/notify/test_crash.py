"""SIGKILL of `orchestrator run` between a task's assignment and its delivery: after the
restart the page is delivered exactly once (durable queue, idempotency key); killed while the
receiver has the page but has not answered: delivered again with the same key (at least once)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import httpx
from notifykit import post_alert, webhook_rosters
from receivers import http_receiver

from orchestrator.testing.servers import free_port, serve

INGEST = "ingest-token-for-crash-test"
WAIT_S = 60.0


def _until(check: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _tried(db: Path) -> bool:
    """A delivery is queued and its first try failed (nobody listens yet)."""
    if not db.exists():
        return False
    with sqlite3.connect(db) as connection:
        try:
            row = connection.execute("SELECT max(attempts) FROM deliveries").fetchone()
        except sqlite3.OperationalError:
            return False
    return bool(row and row[0])


def _env(tmp_path: Path, port: int) -> dict[str, str]:
    return {
        "ORCH_ROSTERS_FILE": str(webhook_rosters(tmp_path / "rosters.yaml", port)),
        "ORCH_WEBHOOK_SECRET": "crash-test-webhook-secret",
        "ORCH_LINK_SECRET": "crash-test-link-secret",
        "ORCH_INGEST_TOKEN": INGEST,
        "ORCH_NOTIFY_BACKOFF": "1s",
        "ORCH_NOTIFY_BACKOFF_MAX": "1s",
        "ORCH_NOTIFY_ATTEMPTS": "1000",
        "ORCH_NOTIFY_POLL_SECONDS": "0.2",
    }


def test_sigkill_while_the_receiver_answers_sends_again_with_the_same_key(
    tmp_path: Path,
) -> None:
    """The receiver has the page but the service dies before the answer: after the restart
    the page comes again with the same idempotency key (the receiver's to drop), then no more."""
    port = free_port()
    hold = threading.Event()
    with http_receiver(port) as receiver:
        receiver.hold = hold
        with serve(tmp_path, _env(tmp_path, port)) as server:
            post_alert(server.url, INGEST)
            _until(lambda: receiver.posted, "the first delivery to arrive")
            server.process.kill()
            server.process.wait()
        hold.set()
        with serve(tmp_path, _env(tmp_path, port)):
            _until(lambda: len(receiver.posted) == 2, "the delivery again after the restart")
            time.sleep(2.0)  # ten more dispatcher passes: it is marked sent now
    keys = [p.headers["Idempotency-Key"] for p in receiver.posted]
    assert len(keys) == 2
    assert keys[0] == keys[1]


def test_sigkill_between_assignment_and_delivery_gives_one_delivery(tmp_path: Path) -> None:
    """The alert is taken and triage assigned; the page cannot go out (the receiver is down);
    the service is SIGKILLed; the receiver comes up and the service restarts: one POST, with
    the key of that page, and no second one in the passes that follow."""
    port = free_port()
    env = _env(tmp_path, port)
    with serve(tmp_path, env) as server:
        post_alert(server.url, INGEST)
        _until(lambda: _tried(tmp_path / "db" / "notify.db"), "the first failed try")
        server.process.kill()
        server.process.wait()
    with http_receiver(port) as receiver, serve(tmp_path, env) as server:
        _until(lambda: receiver.posted, "the delivery after the restart")
        time.sleep(2.0)  # ten more dispatcher passes: none may send it again
        tasks = httpx.get(server.url + "/roles/ops/tasks").json()
    assert len(receiver.posted) == 1
    (task,) = [t for t in tasks if t["name"] == "triage"]
    assert receiver.posted[0].headers["Idempotency-Key"] == f"{task['id']}:assigned:dana:webhook"
