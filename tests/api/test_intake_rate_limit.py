"""Per-sender rate limiting of intake: 429 with Retry-After past the limit, per token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.core.engine import Engine
from orchestrator.playbook import load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import ManualClock, event

LIMIT = 3


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[EmbeddedRuntime]:
    opened = EmbeddedRuntime.open(
        Engine(load_directory("playbooks")), tmp_path, clock=ManualClock("2026-11-20T10:00:00Z").now
    )
    yield opened
    opened.close()


def metric(i: int) -> dict[str, object]:
    return event(
        "ops.metric",
        "2026-11-20T10:00:00Z",
        id=f"r{i}",
        service="s",
        metric="latency_p99_ms",
        value=i,
    )


def test_intake_over_the_limit_is_429_with_retry_after(runtime: EmbeddedRuntime) -> None:
    """The fourth request in the window is refused with Retry-After; only accepted ones count."""
    app = create_app(runtime, intake_rate_limit=f"{LIMIT}/minute")
    with TestClient(app) as client:
        codes = [client.post("/events", json=metric(i)).status_code for i in range(LIMIT + 1)]
        assert codes == [202] * LIMIT + [429]
        refused = client.post("/events", json=metric(99))
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert int(refused.headers["Retry-After"]) >= 1
    assert "per sender" in refused.json()["detail"]
    assert runtime.summary()["events"]["read"] == LIMIT


def test_each_sender_token_has_its_own_budget(runtime: EmbeddedRuntime) -> None:
    """One sender using up its limit does not stop another sender's events."""
    app = create_app(runtime, intake_rate_limit=f"{LIMIT}/minute")
    noisy = {"Authorization": "Bearer sender-a-token"}
    quiet = {"Authorization": "Bearer sender-b-token"}
    with TestClient(app) as client:
        for i in range(LIMIT):
            assert client.post("/events", json=metric(i), headers=noisy).status_code == 202
        assert client.post("/events", json=metric(50), headers=noisy).status_code == 429
        assert client.post("/events", json=metric(51), headers=quiet).status_code == 202


def test_no_limit_when_not_configured(runtime: EmbeddedRuntime) -> None:
    """Without a limit every request is taken."""
    with TestClient(create_app(runtime)) as client:
        codes = {client.post("/events", json=metric(i)).status_code for i in range(20)}
    assert codes == {202}
