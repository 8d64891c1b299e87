"""SECURITY.md's trust model on the embedded runtime: every identity x action cell of
trust_matrix.py gets its status, and an applied command is recorded as the caller."""

from __future__ import annotations

from typing import Any

import pytest
from apikit import INGEST_TOKEN, START, Api, bearer
from httpx import Response
from trust_matrix import CELLS, accepted_command, expected

from orchestrator.testing import event


def headers(identity: str) -> dict[str, str]:
    """The credential `identity` presents."""
    if identity == "sender":
        return {"Authorization": f"Bearer {INGEST_TOKEN}"}
    if identity == "nobody":
        return {}
    return bearer(identity)


def command_event(incident_id: str) -> dict[str, Any]:
    """A responder action dressed as an event: closing an incident 'as ceo'."""
    return event("orchestrator.command", START, kind="close", actor="ceo", incident_id=incident_id)


def act(api: Api, identity: str, action: str) -> Response:
    """Perform `action` as `identity` over HTTP against a fresh ops task."""
    task = api.fresh_task("ops")
    sent = headers(identity)
    if action == "submit_event":
        alert = event("ops.metric", START, service="s", metric="m", value=1.0)
        return api.client.post("/events", json=alert, headers=sent)
    if action == "submit_command_event":
        return api.client.post("/events", json=command_event(task.incident_id), headers=sent)
    if action == "read_incidents":
        return api.client.get("/incidents", headers=sent)
    if action == "ack_ops_task":
        return api.client.post(f"/tasks/{task.id}/ack", headers=sent)
    assert action == "resolve_incident", action
    return api.client.post(f"/incidents/{task.incident_id}/resolve", headers=sent)


@pytest.mark.parametrize(("identity", "action"), CELLS)
def test_every_cell_of_the_trust_matrix(api: Api, identity: str, action: str) -> None:
    """The status of each identity x action is SECURITY.md's; nothing else changes state."""
    response = act(api, identity, action)
    assert response.status_code == expected(identity, action), response.text
    timeline = [e for i in api.runtime.incidents() for e in i.timeline]
    actors = {e.actor for e in timeline if e.kind.startswith(("task.", "incident.resolved"))}
    actors.discard(None)
    if accepted_command(identity, action):
        assert actors == {identity}
    else:
        assert actors == set(), "no command was applied"
    assert "ceo" not in {e.actor for e in timeline}
