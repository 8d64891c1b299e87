"""A runtime that cannot give a verdict in time answers 503 with Retry-After, not a 500."""

from __future__ import annotations

from pathlib import Path

from apikit import START, auth_config, bearer, runtime_at
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.errors import RuntimeUnavailable
from orchestrator.runtime.base import CommandOutcome, IdempotencyKey
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import ManualClock, encode, event
from schemas.commands import Command, CommandResult
from schemas.deadletter import Origin


class SilentWorkers(EmbeddedRuntime):
    """An embedded runtime whose commands never get a verdict, as when no worker runs."""

    def command(self, command: Command) -> CommandResult:
        raise RuntimeUnavailable(f"no verdict for command {command.id} within 10s")

    def command_once(self, command: Command, key: IdempotencyKey) -> CommandOutcome:
        raise RuntimeUnavailable(f"no verdict for command {command.id} within 10s")

    async def command_async(self, command: Command) -> CommandResult:
        return self.command(command)

    async def command_once_async(self, command: Command, key: IdempotencyKey) -> CommandOutcome:
        return self.command_once(command, key)


def test_command_without_a_verdict_is_503_with_retry_after(tmp_path: Path) -> None:
    """The responder is told to retry with the same key; no internal error is claimed."""
    inner = runtime_at(tmp_path, ManualClock(START))
    runtime = SilentWorkers(inner.engine, inner.store, clock=inner.clock)
    runtime.submit(
        [
            encode(
                event(
                    "ops.alert",
                    START,
                    alertname="Down",
                    service="checkout",
                    status="firing",
                    severity="critical",
                )
            )
        ],
        Origin(kind="http"),
    )
    task = runtime.tasks(role="ops")[0]
    with TestClient(create_app(runtime, auth_config())) as client:
        response = client.post(f"/tasks/{task.id}/ack", headers=bearer("ops"))
        keyed = client.post(
            f"/tasks/{task.id}/ack", headers={**bearer("ops"), "Idempotency-Key": "k-1"}
        )
    assert keyed.status_code == 503
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "Idempotency-Key" in response.json()["detail"]
