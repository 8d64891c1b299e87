"""Issue 21 points 12 and 13, on a real `orchestrator run`: start-up checks all configuration
(responders, the port) before it touches storage; the service logs the address it listens on;
an incident's timeline has its own endpoint."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from apikit import Api, bearer

from orchestrator.testing.servers import stop, wait_healthy

START_SECONDS = 60.0


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "run", "--data-dir", str(tmp_path / "var"), *args],
        env={**os.environ, "ORCH_LOG_FORMAT": "json", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_an_unreadable_responders_file_fails_before_storage_is_created(tmp_path: Path) -> None:
    """Point 12: exit 2 naming the file; no database created, no `state.recovered` logged."""
    with _run(tmp_path, "--port", "0", ORCH_RESPONDERS_FILE=str(tmp_path)) as process:
        output, _ = process.communicate(timeout=START_SECONDS)
    assert process.returncode == 2, output
    assert "cannot read the responders file" in output
    assert "state.recovered" not in output
    assert not (tmp_path / "var").exists()


def test_a_port_in_use_fails_before_storage_is_created(tmp_path: Path) -> None:
    """Point 12: the port is configuration too: exit 2 saying what to do, nothing created."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with _run(tmp_path, "--port", str(port)) as process:
            output, _ = process.communicate(timeout=START_SECONDS)
    assert process.returncode == 2, output
    assert f"cannot listen on 127.0.0.1:{port}" in output
    assert "--port" in output
    assert not (tmp_path / "var").exists()


def test_the_service_logs_the_address_it_listens_on(tmp_path: Path) -> None:
    """Point 13: one `api.listening` line with the URL, which answers (port 0: the real port)."""
    with _run(tmp_path, "--port", "0") as process:
        _check_listening(process)


def _check_listening(process: subprocess.Popen[str]) -> None:
    try:
        assert process.stdout is not None
        listening = None
        for line in process.stdout:
            if '"api.listening"' in line:
                listening = json.loads(line)
                break
        assert listening is not None, "no api.listening line"
        url = listening["url"]
        assert url.startswith("http://127.0.0.1:")
        assert not url.endswith(":0")
        wait_healthy(url, process, START_SECONDS)
        assert httpx.get(f"{url}/healthz").status_code == httpx.codes.OK
    finally:
        stop(process)


def test_an_incidents_timeline_has_its_own_endpoint(api: Api) -> None:
    """Point 13: GET /incidents/{id}/timeline is the incident's timeline, oldest first."""
    task = api.fresh_task("ops")
    whole = api.client.get(f"/incidents/{task.incident_id}", headers=bearer("viewer")).json()
    timeline = api.client.get(f"/incidents/{task.incident_id}/timeline", headers=bearer("viewer"))
    assert timeline.status_code == 200, timeline.text
    assert timeline.json() == whole["timeline"]
    assert [e["at"] for e in timeline.json()] == sorted(e["at"] for e in timeline.json())
    missing = api.client.get("/incidents/inc-nope/timeline", headers=bearer("viewer"))
    assert missing.status_code == 404
