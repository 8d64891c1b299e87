"""Per-sender rate limiting of intake: 429 with Retry-After past the limit, per named sender
(or per client address when intake is open)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.auth import AuthConfig, Sender, hash_token
from orchestrator.engine.step import Engine
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


def two_senders() -> AuthConfig:
    """Two named ingest senders, each with its own token."""
    senders = (
        Sender("monitoring", hash_token("sender-a-token-0123456")),
        Sender("erp", hash_token("sender-b-token-0123456")),
    )
    return AuthConfig(senders=senders)


def test_each_named_sender_has_its_own_budget(runtime: EmbeddedRuntime) -> None:
    """One sender using up its limit does not stop another sender's events."""
    app = create_app(runtime, two_senders(), intake_rate_limit=f"{LIMIT}/minute")
    noisy = {"Authorization": "Bearer sender-a-token-0123456"}
    quiet = {"Authorization": "Bearer sender-b-token-0123456"}
    with TestClient(app) as client:
        for i in range(LIMIT):
            assert client.post("/events", json=metric(i), headers=noisy).status_code == 202
        assert client.post("/events", json=metric(50), headers=noisy).status_code == 429
        assert client.post("/events", json=metric(51), headers=quiet).status_code == 202


def test_made_up_tokens_buy_no_budget_when_intake_is_open(runtime: EmbeddedRuntime) -> None:
    """With open intake every request of one address spends that address's budget, whatever
    bearer token it shows (a random token per request used to get a fresh bucket each)."""
    app = create_app(runtime, intake_rate_limit=f"{LIMIT}/minute")
    with TestClient(app) as client:
        codes = [
            client.post(
                "/events", json=metric(i), headers={"Authorization": f"Bearer random-{i}"}
            ).status_code
            for i in range(LIMIT + 2)
        ]
    assert codes == [202] * LIMIT + [429, 429]


def test_the_ingest_token_is_one_sender_with_one_budget(runtime: EmbeddedRuntime) -> None:
    """The budget follows the credential's name: the ingest token is the sender `ingest`."""
    auth = AuthConfig(ingest_sha256=hash_token("ingest-token-0123456789"))
    app = create_app(runtime, auth, intake_rate_limit=f"{LIMIT}/minute")
    ingest = {"Authorization": "Bearer ingest-token-0123456789"}
    with TestClient(app) as client:
        codes = [
            client.post("/events", json=metric(i), headers=ingest).status_code
            for i in range(LIMIT + 1)
        ]
    assert codes == [202] * LIMIT + [429]


def test_no_limit_when_not_configured(runtime: EmbeddedRuntime) -> None:
    """Without a limit every request is taken."""
    with TestClient(create_app(runtime)) as client:
        codes = {client.post("/events", json=metric(i)).status_code for i in range(20)}
    assert codes == {202}
