"""What intake lets a sender send: records and bytes budgets per named sender (or per client
address when intake is open), refused with Retry-After before any record is processed; and
backpressure only while the durable queue is behind. On the Alertmanager webhook a refusal is
503, the status Alertmanager retries (it drops a notification answered 429)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.api.ratelimit import Budget, IntakeBudget
from orchestrator.auth import AuthConfig, Sender, hash_token, load_identities_file
from orchestrator.engine.step import Engine
from orchestrator.errors import AuthConfigError
from orchestrator.playbook import load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import ManualClock, event

START = "2026-11-20T10:00:00Z"
LIMIT = 3
QUEUED_WAIT_S = 30.0


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[EmbeddedRuntime]:
    opened = EmbeddedRuntime.open(
        Engine(load_directory("playbooks")), tmp_path, clock=ManualClock(START).now
    )
    yield opened
    opened.close()


def records(limit: str) -> IntakeBudget:
    return IntakeBudget(Budget.of(limit, "records"))


def metric(i: int) -> dict[str, object]:
    return event("ops.metric", START, id=f"r{i}", service="s", metric="latency_p99_ms", value=i)


def webhook(*names: str) -> dict[str, Any]:
    """An Alertmanager v4 notification with one firing alert per name."""
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": name, "service": "pay", "severity": "critical"},
            "startsAt": START,
            "fingerprint": f"fp-{name}",
        }
        for name in names
    ]
    return {"version": "4", "receiver": "orchestrator", "alerts": alerts}


def read(runtime: EmbeddedRuntime) -> int:
    return int(runtime.summary()["events"]["read"])


def test_intake_over_the_budget_is_429_with_retry_after(runtime: EmbeddedRuntime) -> None:
    """The fourth record in the window is refused with Retry-After; only taken ones count."""
    with TestClient(create_app(runtime, intake_budget=records(f"{LIMIT}/minute"))) as client:
        codes = [client.post("/events", json=metric(i)).status_code for i in range(LIMIT + 1)]
        assert codes == [202] * LIMIT + [429]
        refused = client.post("/events", json=metric(99))
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert int(refused.headers["Retry-After"]) >= 1
    assert "3 records per 1 minute per sender" in refused.json()["detail"]
    assert read(runtime) == LIMIT


def test_a_batch_spends_one_record_each_and_is_refused_whole(runtime: EmbeddedRuntime) -> None:
    """A batch of three spends three records; the next batch of three does not fit in a
    budget of five and is refused whole, before any of its records is processed."""
    with TestClient(create_app(runtime, intake_budget=records("5/minute"))) as client:
        first = client.post("/events", json=[metric(i) for i in range(3)])
        second = client.post("/events", json=[metric(i) for i in range(3, 6)])
    assert (first.status_code, first.json()["accepted"]) == (200, 3)
    assert second.status_code == 429
    assert read(runtime) == 3
    assert runtime.dead_letters() == []


def test_the_webhook_refusal_is_503_which_alertmanager_retries(runtime: EmbeddedRuntime) -> None:
    """Over budget, the Alertmanager webhook answers 503 with Retry-After (Alertmanager gives
    up on a 429); a notification larger than a whole window still gets through alone."""
    with TestClient(create_app(runtime, intake_budget=records("1/minute"))) as client:
        taken = client.post("/webhooks/alertmanager", json=webhook("A", "B"))
        refused = client.post("/webhooks/alertmanager", json=webhook("C"))
    assert (taken.status_code, taken.json()["accepted"]) == (200, 2)
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) >= 1
    assert read(runtime) == 2


def two_senders() -> AuthConfig:
    """Two named ingest senders, each with its own token."""
    senders = (
        Sender("monitoring", hash_token("sender-a-token-0123456")),
        Sender("erp", hash_token("sender-b-token-0123456")),
    )
    return AuthConfig(senders=senders)


def test_each_named_sender_has_its_own_budget(runtime: EmbeddedRuntime) -> None:
    """One sender using up its budget does not stop another sender's events."""
    app = create_app(runtime, two_senders(), intake_budget=records(f"{LIMIT}/minute"))
    noisy = {"Authorization": "Bearer sender-a-token-0123456"}
    quiet = {"Authorization": "Bearer sender-b-token-0123456"}
    with TestClient(app) as client:
        for i in range(LIMIT):
            assert client.post("/events", json=metric(i), headers=noisy).status_code == 202
        assert client.post("/events", json=metric(50), headers=noisy).status_code == 429
        assert client.post("/events", json=metric(51), headers=quiet).status_code == 202


def test_a_sender_may_have_a_budget_of_its_own(runtime: EmbeddedRuntime) -> None:
    """A sender's own records budget replaces the default for it alone: the busy monitoring
    sender gets 5 a second (0 would be unlimited), while the default of one record a minute
    still holds for the other sender."""
    senders = (
        Sender("monitoring", hash_token("sender-a-token-0123456"), records_per_second=5),
        Sender("erp", hash_token("sender-b-token-0123456")),
        Sender("import", hash_token("sender-c-token-0123456"), records_per_second=0),
    )
    app = create_app(runtime, AuthConfig(senders=senders), intake_budget=records("1/minute"))
    busy = {"Authorization": "Bearer sender-a-token-0123456"}
    other = {"Authorization": "Bearer sender-b-token-0123456"}
    free = {"Authorization": "Bearer sender-c-token-0123456"}
    with TestClient(app) as client:
        batch = client.post("/events", json=[metric(i) for i in range(5)], headers=busy)
        over = client.post("/events", json=metric(5), headers=busy)
        first = client.post("/events", json=metric(10), headers=other)
        second = client.post("/events", json=metric(11), headers=other)
        unlimited = [
            client.post("/events", json=metric(20 + i), headers=free).status_code for i in range(4)
        ]
    assert (batch.status_code, batch.json()["accepted"]) == (200, 5)
    assert over.status_code == 429
    assert "5 records per 1 second per sender" in over.json()["detail"]
    assert (first.status_code, second.status_code) == (202, 429)
    assert unlimited == [202] * 4


def test_own_budgets_alone_turn_budgets_on() -> None:
    """With no default budget, a sender's own budget still makes one (the others: none)."""
    own = Sender("monitoring", hash_token("sender-a-token-0123456"), bytes_per_second=1024)
    budget = IntakeBudget.per_second(0, 0, [own])
    assert budget is not None
    assert (budget.records, budget.bytes) == (None, None)
    assert IntakeBudget.per_second(0, 0, [Sender("erp", hash_token("x" * 24))]) is None


def test_own_budgets_come_from_the_responders_file(tmp_path: Path) -> None:
    """The file's sender entries take `records_per_second` and `bytes_per_second`; a negative
    one is refused at load, naming the field."""
    good = tmp_path / "good.yaml"
    good.write_text(
        "senders:\n"
        "  - {name: am, token: am-token-0123456789, records_per_second: 50000}\n"
        "  - {name: erp, token: erp-token-0123456789}\n"
    )
    (am, erp) = load_identities_file(good)[1]
    assert (am.records_per_second, am.bytes_per_second) == (50_000, None)
    assert (erp.records_per_second, erp.bytes_per_second) == (None, None)
    bad = tmp_path / "bad.yaml"
    bad.write_text("senders:\n  - {name: am, token: am-token-0123456789, bytes_per_second: -1}\n")
    with pytest.raises(AuthConfigError, match=r"senders\.0\.bytes_per_second"):
        load_identities_file(bad)


def test_made_up_tokens_buy_no_budget_when_intake_is_open(runtime: EmbeddedRuntime) -> None:
    """With open intake every request of one address spends that address's budget, whatever
    bearer token it shows (a random token per request would otherwise get a fresh budget)."""
    with TestClient(create_app(runtime, intake_budget=records(f"{LIMIT}/minute"))) as client:
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
    app = create_app(runtime, auth, intake_budget=records(f"{LIMIT}/minute"))
    ingest = {"Authorization": "Bearer ingest-token-0123456789"}
    with TestClient(app) as client:
        codes = [
            client.post("/events", json=metric(i), headers=ingest).status_code
            for i in range(LIMIT + 1)
        ]
    assert codes == [202] * LIMIT + [429]


def test_no_budget_when_not_configured(runtime: EmbeddedRuntime) -> None:
    """Without budgets every request is taken."""
    with TestClient(create_app(runtime)) as client:
        codes = {client.post("/events", json=metric(i)).status_code for i in range(20)}
    assert codes == {202}


def test_budgets_per_second_from_settings() -> None:
    """Settings give budgets a second; zero leaves that kind unlimited, both zero none."""
    both = IntakeBudget.per_second(20_000, 1024)
    assert both is not None
    assert both.records is not None
    assert both.records.describe() == "20000 records per 1 second"
    only_bytes = IntakeBudget.per_second(0, 1024)
    assert only_bytes is not None
    assert only_bytes.records is None
    assert IntakeBudget.per_second(0, 0) is None


def _held(runtime: EmbeddedRuntime, client: TestClient, body: Any) -> Iterator[int]:
    """POST `body` while the runtime's lock is held, so its write waits in the queue; yields
    once it is queued, then the request's status once the lock is released."""
    answer: list[int] = []
    thread = threading.Thread(
        target=lambda: answer.append(client.post("/events", json=body).status_code)
    )
    with runtime.lock:
        thread.start()
        deadline = threading.Event()
        while runtime.writes.pending == 0 and not deadline.wait(0.005):
            assert thread.is_alive(), "the request ended before its write was queued"
        yield runtime.writes.pending
    thread.join(QUEUED_WAIT_S)
    yield answer[0]


def test_intake_refuses_only_while_the_queue_is_behind(runtime: EmbeddedRuntime) -> None:
    """With two records waiting for their commit and room for two, one more is refused (429,
    Retry-After) and not processed; once the queue drained, the same record is taken."""
    app = create_app(runtime, intake_queue_records=2)
    with TestClient(app) as client:
        held = _held(runtime, client, [metric(0), metric(1)])
        assert next(held) == 2
        refused = client.post("/events", json=metric(2))
        assert next(held) == 200
        taken = client.post("/events", json=metric(2))
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "2 records wait for their commit" in refused.json()["detail"]
    assert taken.status_code == 202
    assert read(runtime) == 3
