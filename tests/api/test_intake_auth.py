"""Intake needs the ingest token when one is configured; CORS is off unless origins are given."""

from __future__ import annotations

from pathlib import Path

from apikit import INGEST_TOKEN, START, Api, bearer, runtime_at
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.testing import ManualClock, event

ALERT = {"alertname": "Down", "service": "checkout", "status": "firing", "severity": "critical"}


def test_intake_needs_the_ingest_token(api: Api) -> None:
    """No token or a responder's token: 401 and nothing taken in; the ingest token: 202."""
    body = event("ops.alert", START, **ALERT)
    assert api.client.post("/events", json=body).status_code == 401
    assert api.client.post("/events", json=body, headers=bearer("ops")).status_code == 401
    hook = api.client.post("/webhooks/alertmanager", json={"version": "4", "alerts": []})
    assert hook.status_code == 401
    assert api.runtime.summary()["events"]["read"] == 0
    accepted = api.client.post(
        "/events", json=body, headers={"Authorization": f"Bearer {INGEST_TOKEN}"}
    )
    assert accepted.status_code == 202


def test_intake_is_open_without_an_ingest_token(open_api: Api) -> None:
    """With no ingest token configured, intake takes events without credentials."""
    response = open_api.client.post("/events", json=event("ops.alert", START, **ALERT))
    assert response.status_code == 202


def test_cors_is_off_by_default(api: Api) -> None:
    """No CORS headers unless origins are configured: a preflight is not answered as allowed."""
    preflight = api.client.options(
        "/incidents",
        headers={"Origin": "https://console.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = api.client.get("/healthz", headers={"Origin": "https://console.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_cors_allows_configured_origins(tmp_path: Path) -> None:
    """With an origin configured, its preflight for a command is allowed; others are not."""
    runtime = runtime_at(tmp_path, ManualClock(START))
    app = create_app(runtime, cors_origins=["https://console.example"])
    with TestClient(app) as client:
        allowed = client.options(
            "/tasks/x/ack",
            headers={
                "Origin": "https://console.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,idempotency-key",
            },
        )
        other = client.options(
            "/tasks/x/ack",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
    runtime.close()
    assert allowed.headers["access-control-allow-origin"] == "https://console.example"
    assert "access-control-allow-origin" not in other.headers


def test_health_and_metrics_need_no_token(api: Api) -> None:
    """Liveness, readiness and metrics (counts only) answer without credentials."""
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/readyz").json()["status"] == "ready"
    assert api.client.get("/metrics").status_code == 200
