"""Over a real socket: `orchestrator run` with responders from a file and an ingest token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cloudevents.core.bindings.http import to_binary
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from orchestrator.auth import hash_token
from orchestrator.testing import event
from orchestrator.testing.servers import FeedFollower, Server, complete_at_once, serve

INGEST = "ingest-socket-token-7d3a91"
TOKENS = {
    "alice": "alice-socket-token-11aa",
    "bob": "bob-socket-token-22bb",
    "pat": "pat-socket-token-33cc",
    "ivy": "ivy-socket-token-44dd",
}
FEED_WAIT = 30.0


def _responders_file(path: Path) -> Path:
    path.write_text(
        "responders:\n"
        f"  - {{name: alice, token_sha256: {hash_token(TOKENS['alice'])}, roles: [ops]}}\n"
        f"  - {{name: bob, token: {TOKENS['bob']}, roles: [ops]}}\n"
        f"  - {{name: pat, token: {TOKENS['pat']}, roles: [pr]}}\n"
        f"  - {{name: ivy, token: {TOKENS['ivy']}, roles: [incident_commander]}}\n"
    )
    return path


def _as(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name]}"}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("socket")
    env = {
        "ORCH_RESPONDERS_FILE": str(_responders_file(base / "responders.yaml")),
        "ORCH_INGEST_TOKEN": INGEST,
        "ORCH_LOG_FORMAT": "json",
        "ORCH_LOG_LEVEL": "debug",
    }
    with serve(base, env) as running:
        yield running


def _post_event(server: Server, type_: str, **data: object) -> None:
    response = httpx.post(
        f"{server.url}/events",
        json=event(type_, _now(), **data),
        headers={"Authorization": f"Bearer {INGEST}"},
        timeout=10,
    )
    assert response.status_code == 202, response.text


def test_ack_over_http_shows_in_state_and_timeline(server: Server) -> None:
    """A responder acks through HTTP; the incident's task and timeline show who and when."""
    _post_event(
        server,
        "ops.alert",
        alertname="Down",
        service="socket-a",
        status="firing",
        severity="critical",
    )
    incidents = httpx.get(f"{server.url}/incidents", headers=_as("alice"), timeout=10).json()
    incident_id = next(i["id"] for i in incidents if i["key"] == "socket-a")
    task_id = f"{incident_id}.triage"
    ack = httpx.post(f"{server.url}/tasks/{task_id}/ack", headers=_as("alice"), timeout=10)
    assert ack.status_code == 202, ack.text
    incident = httpx.get(
        f"{server.url}/incidents/{incident_id}", headers=_as("pat"), timeout=10
    ).json()
    triage = next(t for t in incident["tasks"] if t["id"] == task_id)
    assert (triage["status"], triage["acknowledged_by"]) == ("acknowledged", "alice")
    entry = next(e for e in incident["timeline"] if e["kind"] == "task.acknowledged")
    assert (entry["actor"], entry["ref"], entry["at"]) == ("alice", task_id, ack.json()["time"])


def test_two_http_clients_complete_one_task_exactly_one_wins(server: Server) -> None:
    """Two responders complete the same task at once over two connections: one 202, one 409."""
    _post_event(
        server,
        "ops.alert",
        alertname="Down",
        service="socket-b",
        status="firing",
        severity="critical",
    )
    incidents = httpx.get(f"{server.url}/incidents", headers=_as("bob"), timeout=10).json()
    task_id = next(i["id"] for i in incidents if i["key"] == "socket-b") + ".triage"
    answers = complete_at_once(server.url, task_id, {n: TOKENS[n] for n in ("alice", "bob")}, 10)
    assert sorted(a.status_code for a in answers.values()) == [202, 409]
    winner = next(n for n, a in answers.items() if a.status_code == 202)
    task = httpx.get(f"{server.url}/tasks/{task_id}", headers=_as("ivy"), timeout=10).json()
    assert task["finished_by"] == winner
    assert [e["kind"] for e in task["history"]].count("command.rejected") == 1


def test_feed_delivers_a_newly_assigned_task(server: Server) -> None:
    """A client following the pr feed receives the pr task assigned after it connected."""
    feed = FeedFollower(
        server.url, "pr", TOKENS["pat"], lambda e: e.task.name == "public_response", FEED_WAIT
    )
    assert feed.connected.wait(FEED_WAIT), "the feed did not open"
    _post_event(
        server, "social.mention", platform="x", reach=500_000, sentiment=-0.9, topic="socket-feed"
    )
    assert feed.arrived.wait(FEED_WAIT), f"no public_response on the pr feed; got {feed.received}"
    feed.thread.join(FEED_WAIT)
    newest = feed.received[-1]
    assert (newest.kind, newest.role, newest.task.status) == ("task.assigned", "pr", "assigned")
    assert newest.task.incident_id.startswith("inc-")


def test_server_logs_never_contain_tokens(server: Server) -> None:
    """After authenticated traffic (and a refused token), no token is in the server's log."""
    httpx.get(
        f"{server.url}/incidents", headers={"Authorization": "Bearer wrong-token-99"}, timeout=10
    )
    log = server.log_text()
    assert '"event": "command.answered"' in log, "the server's structured log was not captured"
    for secret in (*TOKENS.values(), INGEST, "wrong-token-99"):
        assert secret not in log


def test_lines_logged_during_a_request_name_that_request(server: Server) -> None:
    """The server binds method and path per request: a command's log line carries both."""
    alert = {"alertname": "Down", "status": "firing", "severity": "critical"}
    _post_event(server, "ops.alert", service="socket-log", **alert)
    incidents = httpx.get(f"{server.url}/incidents", headers=_as("alice"), timeout=10).json()
    incident_id = next(i["id"] for i in incidents if i["key"] == "socket-log")
    path = f"/tasks/{incident_id}.triage/ack"
    assert httpx.post(f"{server.url}{path}", headers=_as("bob"), timeout=10).status_code == 202
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    answered = [line for line in lines if line.get("event") == "command.answered"]
    mine = [line for line in answered if line.get("task_id") == f"{incident_id}.triage"]
    assert [(line["method"], line["path"]) for line in mine] == [("POST", path)]


def test_binary_cloudevent_from_the_sdk_over_a_socket(server: Server) -> None:
    """The SDK's binary mode over a real connection: accepted, the incident opens; the same
    event with its body cut short is 422 with a dead letter."""
    data = {"alertname": "Down", "service": "socket-ce", "status": "firing", "severity": "critical"}
    attributes = {"source": "monitoring/sdk", "type": "ops.alert", "time": datetime.now(UTC)}
    message = to_binary(CloudEvent(attributes=attributes, data=data), JSONFormat())
    auth = {"Authorization": f"Bearer {INGEST}"}
    url = f"{server.url}/events"
    response = httpx.post(url, content=message.body, headers={**message.headers, **auth})
    assert response.status_code == 202, response.text
    incidents = httpx.get(f"{server.url}/incidents", headers=_as("alice"), timeout=10).json()
    assert [i["status"] for i in incidents if i["key"] == "socket-ce"] == ["open"]
    cut = httpx.post(url, content=message.body[:-1], headers={**message.headers, **auth})
    assert cut.status_code == 422, cut.text
    assert cut.json()["detail"].startswith("not valid JSON")
    assert cut.json()["dead_letter_id"].startswith("dl-")
