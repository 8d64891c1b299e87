"""The agent loop in-process: help lands on the timeline once; automatic tasks get completed."""

from __future__ import annotations

import pytest
from agentkit import agent_token, breach, outage
from fastapi.testclient import TestClient

from agents import AgentLoop, ApiClient, ApiError, LegalAgent, agent_for
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import encode
from schemas.deadletter import Origin
from schemas.incidents import Incident
from schemas.tasks import TaskEvent


def _loop(
    client: TestClient, name: str, role: str, errors: list[ApiError] | None = None
) -> AgentLoop:
    client.headers["Authorization"] = f"Bearer {agent_token(name)}"
    if errors is None:
        return AgentLoop(agent_for(role), ApiClient(client))
    return AgentLoop(
        agent_for(role), ApiClient(client), on_error=lambda _event, error: errors.append(error)
    )


def _assigned(runtime: EmbeddedRuntime, role: str) -> list[TaskEvent]:
    rows = runtime.outbox_after(0, role)
    return [TaskEvent.model_validate(r.body) for r in rows if r.kind == "task.assigned"]


def _comments(incident: Incident) -> list[tuple[str | None, str]]:
    return [
        (e.actor, str(e.detail["note"])) for e in incident.timeline if e.kind == "task.commented"
    ]


def test_help_is_commented_once_and_the_task_left_to_people(
    runtime: EmbeddedRuntime, app_client: TestClient
) -> None:
    """The ops agent comments on triage (as itself), never acks it, and a replay adds nothing."""
    runtime.submit([encode(outage())], Origin(kind="file"))
    loop = _loop(app_client, "ops-agent", "ops")
    (event,) = _assigned(runtime, "ops")
    assert loop.handle(event) is not None
    assert loop.handle(event) is not None  # a reconnect replays the event: same key, no repeat
    incident = runtime.incident(event.incident_id)
    assert incident is not None
    (comment,) = _comments(incident)
    assert comment[0] == "ops-agent"
    assert comment[1].startswith("Alert context for 'Triage the outage'")
    assert runtime.task(event.task.id).status == "assigned"  # type: ignore[union-attr]


def test_other_roles_events_are_ignored_without_calls(
    runtime: EmbeddedRuntime, app_client: TestClient
) -> None:
    """A legal agent handed an ops event does nothing (no HTTP call, no comment)."""
    runtime.submit([encode(breach())], Origin(kind="file"))
    (event,) = _assigned(runtime, "ops")
    loop = AgentLoop(LegalAgent(), ApiClient(app_client))
    assert loop.handle(event) is None
    assert _comments(runtime.incident(event.incident_id)) == []  # type: ignore[arg-type]


def test_refused_help_goes_to_the_error_policy(
    runtime: EmbeddedRuntime, app_client: TestClient
) -> None:
    """An agent whose responder lacks the role gets 403: reported to on_error, loop goes on."""
    runtime.submit([encode(outage())], Origin(kind="file"))
    errors: list[ApiError] = []
    loop = _loop(app_client, "pr-agent", "ops", errors)
    (event,) = _assigned(runtime, "ops")
    assert loop.handle(event) is None
    assert [e.status for e in errors] == [403]


def test_a_bad_token_stops_the_agent(runtime: EmbeddedRuntime, app_client: TestClient) -> None:
    """401 is not retried: the loop raises so the process can exit and say why."""
    runtime.submit([encode(outage())], Origin(kind="file"))
    app_client.headers["Authorization"] = "Bearer not-a-token"
    loop = AgentLoop(agent_for("ops"), ApiClient(app_client))
    (event,) = _assigned(runtime, "ops")
    with pytest.raises(ApiError) as caught:
        loop.handle(event)
    assert caught.value.status == 401
