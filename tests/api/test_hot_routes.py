"""The hot routes (orchestrator.api.hot) answer exactly what FastAPI answers: the same
requests to an app with them and to one without, over runtimes in the same state, get the same
status, headers and body (the command id aside); and they are really taken when a request is
plain, and really left to FastAPI when it is not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apikit import INGEST_TOKEN, START, Api, auth_config, bearer, runtime_at
from fastapi import FastAPI
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.api.app import HOT_ROUTES
from orchestrator.api.hot import HotRoutes
from orchestrator.api.security import _actor
from orchestrator.auth import Responder
from orchestrator.testing import ManualClock, encode, event
from schemas.deadletter import Origin

COMPARED_HEADERS = (
    "content-type",
    "www-authenticate",
    "idempotent-replayed",
    "connection",
    "retry-after",
)
OUTAGE = {"alertname": "Down", "status": "firing", "severity": "critical"}
JSON = {"Content-Type": "application/json"}
INGEST = {"Authorization": f"Bearer {INGEST_TOKEN}"}


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Api, Api]]:
    """Two apps over two runtimes in the same state: hot routes on, and off."""
    apis = []
    with (
        TestClient(_app(tmp_path / "hot", True)) as hot,
        TestClient(_app(tmp_path / "cold", False)) as cold,
    ):
        for client in (hot, cold):
            app = client.app
            assert isinstance(app, FastAPI)
            apis.append(Api(client, app.state.runtime, app.state.clock))
        yield apis[0], apis[1]
        for api in apis:
            api.runtime.close()


def _app(path: Path, hot: bool) -> FastAPI:
    clock = ManualClock(START)
    runtime = runtime_at(path, clock)
    app = create_app(runtime, auth_config(), hot_routes=hot)
    app.state.runtime, app.state.clock = runtime, clock
    return app


def _seen(response: httpx.Response) -> tuple[int, dict[str, str], Any]:
    headers = {
        name: response.headers[name] for name in COMPARED_HEADERS if name in response.headers
    }
    try:
        body = response.json()
    except json.JSONDecodeError:
        return response.status_code, headers, response.text
    if isinstance(body, dict):
        body.pop("command_id", None)
    return response.status_code, headers, body


def _same(pair: tuple[Api, Api], method: str, path: str, **kwargs: Any) -> int:
    """Send the request to both apps; assert the same answer; its status."""
    hot, cold = (_seen(api.client.request(method, path, **kwargs)) for api in pair)
    assert hot == cold
    return hot[0]


def _ops_task(pair: tuple[Api, Api], service: str) -> str:
    """The triage task of a new outage of `service`, the same in both runtimes."""
    record = encode(event("ops.alert", START, service=service, **OUTAGE))
    ids = set()
    for api in pair:
        (result,) = api.runtime.submit([record], Origin(kind="file"))
        assert result.status == "accepted", result
        ids.add(api.task("tech_outage", service, "triage").id)
    assert len(ids) == 1
    return ids.pop()


def test_task_commands_answer_as_fastapi_does(pair: tuple[Api, Api]) -> None:
    """ack and start, plain and not: every status the routes can answer, the same both ways."""
    task = _ops_task(pair, "hot")
    ack = f"/tasks/{task}/ack"
    statuses = [
        _same(pair, "POST", ack),  # no credentials: refused before the body
        _same(pair, "POST", ack, headers={"Authorization": "Bearer nobody"}),
        _same(pair, "POST", ack, headers={"Authorization": "Basic abc"}),
        _same(pair, "POST", ack, headers=bearer("pr")),  # not their role
        _same(pair, "POST", "/tasks/no-such-task/ack", headers=bearer("ops")),
        _same(pair, "POST", f"/tasks/{'x' * 301}/ack", headers=bearer("ops")),  # id too long
        _same(pair, "POST", ack, headers={**bearer("ops"), "Idempotency-Key": "has space"}),
        _same(pair, "POST", ack, headers={**bearer("ops"), "Idempotency-Key": "k" * 201}),
        _same(pair, "POST", ack, headers=bearer("ops"), json={"note": "no notes on ack"}),
        _same(pair, "POST", ack, headers={**bearer("ops"), **JSON}, content=b"{not json"),
        _same(pair, "POST", ack, headers=bearer("ops")),
        _same(pair, "POST", ack, headers={**bearer("ops"), **JSON}),  # typed, but empty
        _same(pair, "POST", ack, headers=bearer("ops"), json={}),
        _same(pair, "POST", ack, headers={**bearer("ops"), "Idempotency-Key": "k-1"}),
        _same(pair, "POST", ack, headers={**bearer("ops"), "Idempotency-Key": "k-1"}),
        _same(pair, "POST", f"/tasks/{task}/start", headers=bearer("ops")),
        _same(pair, "POST", f"/tasks/{task}/complete", headers=bearer("ops")),
        _same(pair, "POST", ack, headers=bearer("ops")),  # done: the engine rejects it
        _same(pair, "POST", ack, headers={**bearer("ops"), "Idempotency-Key": "k-1"}),
    ]
    assert set(statuses) == {202, 401, 403, 404, 409, 422}


def test_intake_answers_as_fastapi_does(pair: tuple[Api, Api]) -> None:
    """/events and the Alertmanager webhook: accepted, duplicate, rejected, refused, too large."""
    alert = encode(
        event(
            "ops.alert", START, alertname="Down", service="db", status="firing", severity="critical"
        )
    )
    webhook = {
        "version": "4",
        "alerts": [{"status": "firing", "labels": {"alertname": "Down", "service": "db"}}],
    }
    statuses = [
        _same(pair, "POST", "/events", content=alert),  # no ingest token
        _same(pair, "POST", "/events", content=alert, headers=bearer("ops")),
        _same(pair, "POST", "/events", content=alert, headers=INGEST),
        _same(pair, "POST", "/events", content=alert, headers=INGEST),
        _same(pair, "POST", "/events", content=b'{"id": 1}', headers=INGEST),
        _same(pair, "POST", "/events", content=b"[" + alert + b"]", headers=INGEST),
        _same(pair, "POST", "/events", content=b" " * (11 << 20), headers=INGEST),
        _same(pair, "POST", "/webhooks/alertmanager", json=webhook, headers=INGEST),
        _same(pair, "POST", "/webhooks/alertmanager", json={"alerts": 1}, headers=INGEST),
        _same(pair, "POST", "/webhooks/alertmanager", content=b"[[[", headers=INGEST),
    ]
    assert set(statuses) == {200, 202, 401, 413, 422}


def test_a_plain_ack_skips_dependency_solving_and_others_do_not(api: Api) -> None:
    """The hot path is taken: an override of the actor dependency, which only FastAPI's
    dependency solving consults, is not seen by a plain ack, and is by one with a body."""
    app = api.client.app
    assert isinstance(app, FastAPI)
    app.dependency_overrides[_actor] = lambda: Responder("stranger", frozenset(), "")
    task = api.fresh_task("ops")
    plain = api.client.post(f"/tasks/{task.id}/ack", headers=bearer("ops"))
    assert plain.status_code == 202
    assert plain.json()["actor"] == "ops"
    solved = api.client.post(f"/tasks/{task.id}/ack", headers=bearer("ops"), json={})
    assert solved.status_code == 403
    assert "stranger" in solved.json()["detail"]


def test_hot_paths_match_the_routes_the_router_would_pick(api: Api) -> None:
    """Each hot template is matched for its own route; other POST routes are not hot."""
    app = api.client.app
    assert isinstance(app, FastAPI)
    hot = HotRoutes(app, app, HOT_ROUTES)
    for path, template in [
        ("/tasks/t-1/ack", "/tasks/{task_id}/ack"),
        ("/tasks/t-1/start", "/tasks/{task_id}/start"),
        ("/events", "/events"),
        ("/webhooks/alertmanager", "/webhooks/alertmanager"),
    ]:
        scope: dict[str, Any] = {"type": "http", "method": "POST", "path": path}
        found = hot._match(scope)
        assert found is not None
        assert found[1].path == template
    for path in (
        "/tasks/t-1/complete",
        "/incidents/i-1/resolve",
        "/tasks/t-1",
        "/console/static/x",
    ):
        assert hot._match({"type": "http", "method": "POST", "path": path}) is None
