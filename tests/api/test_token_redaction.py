"""Tokens never reach the logs: the redaction processor, and the real configuration end to end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog
from apikit import INGEST_TOKEN, START, Api, bearer, token_of

from orchestrator.auth import REDACTED, redact_secrets
from orchestrator.logs import configure_logging
from orchestrator.testing import event


@pytest.fixture
def reset_logging() -> Iterator[None]:
    """Put structlog back to its defaults after a test configures it."""
    yield
    structlog.reset_defaults()


def test_redaction_blanks_secret_fields_and_bearer_strings() -> None:
    """Secret-named fields are blanked; bearer tokens and token= pairs in text are cut out."""
    cleaned = redact_secrets(
        None,
        "info",
        {
            "event": "got Authorization: Bearer abc.DEF-123",
            "authorization": "Bearer xyz",
            "headers": {"Authorization": "Bearer qqq", "accept": "text/plain"},
            "url": "http://h/feed?token=s3cr3tvalue&x=1",
            "reasons": ["bearer zzzz1234", "token expired"],
            "count": 3,
        },
    )
    assert cleaned == {
        "event": f"got Authorization: Bearer {REDACTED}",
        "authorization": REDACTED,
        "headers": {"Authorization": REDACTED, "accept": "text/plain"},
        "url": f"http://h/feed?token={REDACTED}&x=1",
        "reasons": [f"bearer {REDACTED}", "token expired"],
        "count": 3,
    }


@pytest.mark.usefixtures("reset_logging")
def test_tokens_never_appear_in_logs(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    """Authenticated intake, reads, commands and refusals with the real logging: no token leaks."""
    configure_logging("json", "debug")  # here, so it writes to the stream capsys captures
    task = api.fresh_task("ops")
    api.client.post(
        "/events",
        json=event(
            "ops.alert", START, alertname="A", service="s", status="firing", severity="critical"
        ),
        headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
    )
    api.client.get(f"/tasks/{task.id}", headers=bearer("ops"))
    api.client.post(f"/tasks/{task.id}/ack", headers=bearer("ops"))
    api.client.post(f"/tasks/{task.id}/ack", headers=bearer("ops2"))
    api.client.post(f"/tasks/{task.id}/ack", headers={"Authorization": "Bearer wrong-token-1"})
    careless = structlog.get_logger("test")
    careless.info(
        "a careless line",
        authorization=bearer("pr")["Authorization"],
        note=f"Bearer {token_of('legal')}",
    )
    logged = capsys.readouterr()
    text = logged.out + logged.err
    assert '"command.answered"' in text, "the logs were not captured"
    assert "a careless line" in text
    for secret in (
        *(token_of(n) for n in ("ops", "ops2", "pr", "legal")),
        INGEST_TOKEN,
        "wrong-token-1",
    ):
        assert secret not in text
