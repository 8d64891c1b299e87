"""`orchestrator agent ROLE` against a real `orchestrator run` over a real socket."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from agentkit import agent_token

from orchestrator.testing import event
from orchestrator.testing.servers import Server, serve, stop

INGEST = "ingest-agent-test-9f1c"
WAIT_SECONDS = 30.0


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _agent(role: str, url: str, token: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ORCH_AGENT_TOKEN": token}
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "orchestrator", "agent", role, "--api", url],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("agents")
    responders = base / "responders.yaml"
    responders.write_text(
        "responders:\n"
        f"  - {{name: ops-agent, token: {agent_token('ops-agent')}, roles: [ops]}}\n"
        f"  - {{name: viewer, token: {agent_token('viewer')}}}\n"
    )
    env = {"ORCH_RESPONDERS_FILE": str(responders), "ORCH_INGEST_TOKEN": INGEST}
    with serve(base, env) as running:
        yield running


def _comments(server: Server, service: str) -> list[dict[str, object]]:
    headers = {"Authorization": f"Bearer {agent_token('viewer')}"}
    incidents = httpx.get(f"{server.url}/incidents", headers=headers, timeout=10).json()
    found = [i["id"] for i in incidents if i["key"] == service]
    if not found:
        return []
    incident = httpx.get(f"{server.url}/incidents/{found[0]}", headers=headers, timeout=10).json()
    return [e for e in incident["timeline"] if e["kind"] == "task.commented"]


def test_ops_agent_comments_on_a_new_task(server: Server, tmp_path: Path) -> None:
    """The agent follows the ops feed; the triage task's timeline gets its comment."""
    agent = _agent("ops", server.url, agent_token("ops-agent"), tmp_path / "agent.log")
    try:
        alert = event(
            "ops.alert",
            _now(),
            alertname="CheckoutDown",
            service="checkout",
            status="firing",
            severity="critical",
        )
        posted = httpx.post(
            f"{server.url}/events",
            json=alert,
            timeout=10,
            headers={"Authorization": f"Bearer {INGEST}"},
        )
        assert posted.status_code == 202
        deadline = time.monotonic() + WAIT_SECONDS
        while not (comments := _comments(server, "checkout")) and time.monotonic() < deadline:
            assert agent.poll() is None, (tmp_path / "agent.log").read_text()
            time.sleep(0.2)
    finally:
        stop(agent)
    assert comments, f"no comment within {WAIT_SECONDS}s:\n{(tmp_path / 'agent.log').read_text()}"
    (comment,) = comments
    assert comment["actor"] == "ops-agent"
    assert "still firing: CheckoutDown" in str(comment["detail"])
    assert "https://runbooks.example.com/services/checkout" in str(comment["detail"])
    assert agent_token("ops-agent") not in (tmp_path / "agent.log").read_text()


def test_agent_with_a_wrong_token_exits_with_usage_error(server: Server, tmp_path: Path) -> None:
    """A token the API does not know: the agent stops with exit code 2 and says why."""
    agent = _agent("ops", server.url, "not-a-known-token-1234", tmp_path / "agent.log")
    try:
        code = agent.wait(timeout=WAIT_SECONDS)
    finally:
        stop(agent)
    output = (tmp_path / "agent.log").read_text()
    assert code == 2, output
    assert "401" in output
    assert "not-a-known-token-1234" not in output
