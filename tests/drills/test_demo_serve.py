"""`orchestrator demo --serve`: the demo's outcome served to the console, the same as the demo
prints; and `demo` alone ends by saying how to open the console."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from orchestrator.demo import DEMO_LOG, DEMO_UNTIL
from orchestrator.drills import replay_file, settled
from orchestrator.engine import Engine, EngineConfig, parse_time, summary
from orchestrator.playbook import load_directory
from orchestrator.testing.servers import free_port, stop, wait_healthy

START_S = 60.0


def _outcome(data: dict[str, object]) -> list[tuple[object, ...]]:
    incidents = data["incidents"]
    assert isinstance(incidents, list)
    return [
        (
            i["playbook"],
            i["key"],
            i["severity"],
            i["status"],
            [(t["name"], t["status"], t["escalations"]) for t in i["tasks"]],
        )
        for i in incidents
    ]


def test_settled_namespace_holds_what_the_replay_ends_with(tmp_path: Path) -> None:
    """All of the demo log at once, the clock at its end: the same incidents, task statuses and
    escalations as the replay to that time, flagged as a drill."""
    until = parse_time(DEMO_UNTIL)
    playbooks = load_directory("playbooks")
    replayed = summary(replay_file(Engine(playbooks), DEMO_LOG, until).state)
    drill = settled(Engine(playbooks, EngineConfig(drill=True)), DEMO_LOG, tmp_path, "d", until)
    try:
        assert _outcome(drill.runtime.summary()) == _outcome(replayed)
        assert all(i.drill for i in drill.runtime.incidents())
    finally:
        drill.runtime.close()


def test_demo_serve_serves_the_console_to_the_demo_responders(tmp_path: Path) -> None:
    """With no responders configured, `demo --serve` lets the demo's own responders in (their
    public tokens from the example file) and serves /console on the demo's incidents."""
    port = free_port()
    env = {**os.environ, "ORCH_DATA_DIR": str(tmp_path / "data"), "ORCH_PORT": str(port)}
    env.pop("ORCH_RESPONDERS", None)
    env.pop("ORCH_RESPONDERS_FILE", None)
    output = tmp_path / "out.txt"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestrator", "demo", "--serve", "--report", "r.html"],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, START_S)
        text = output.read_text()
        assert "dana-ops-demo-token (ops)" in text
        assert f"{url}/console" in text
        ops = {"Authorization": "Bearer dana-ops-demo-token"}
        assert httpx.get(f"{url}/console", timeout=10).status_code == 200
        session = httpx.get(f"{url}/console/session", headers=ops, timeout=10).json()
        assert session["name"] == "dana.ops"
        incidents = httpx.get(f"{url}/incidents", headers=ops, timeout=10).json()
        assert {i["playbook"] for i in incidents} >= {"tech_outage", "data_breach"}
    finally:
        stop(process)


def test_demo_ends_by_saying_how_to_open_the_console(tmp_path: Path) -> None:
    """Plain `demo` (what `make demo` runs) ends with the command that opens the console."""
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    last = done.stdout.strip().splitlines()[-1]
    assert "orchestrator demo --serve" in last
    assert "/console" in last
