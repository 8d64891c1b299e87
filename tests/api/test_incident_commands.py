"""Incident reads and the incident commander's resolve and close."""

from __future__ import annotations

import pytest
from apikit import ROLES, Api, bearer


@pytest.mark.parametrize("role", [r for r in ROLES if r != "incident_commander"])
def test_only_the_commander_may_resolve_or_close(api: Api, role: str) -> None:
    """resolve and close are refused (403) for every other role; the incident stays open."""
    task = api.fresh_task("ops")
    for action in ("resolve", "close"):
        response = api.client.post(f"/incidents/{task.incident_id}/{action}", headers=bearer(role))
        assert response.status_code == 403, action
        assert "incident_commander" in response.json()["detail"]
    assert api.runtime.incident(task.incident_id).status == "open"  # type: ignore[union-attr]


def test_commander_resolves_then_closes_with_reasons_on_the_timeline(api: Api) -> None:
    """resolve (202) attaches the review task; close (202) ends it; both carry the commander."""
    incident_id = api.fresh_task("ops").incident_id
    resolved = api.client.post(
        f"/incidents/{incident_id}/resolve",
        headers=bearer("incident_commander"),
        json={"note": "rolled back"},
    )
    assert resolved.status_code == 202
    assert resolved.json()["incident_id"] == incident_id
    body = api.client.get(f"/incidents/{incident_id}", headers=bearer("viewer")).json()
    assert body["status"] == "resolved"
    assert "post_incident_review" in [t["name"] for t in body["tasks"]]
    closed = api.client.post(
        f"/incidents/{incident_id}/close", headers=bearer("incident_commander")
    )
    assert closed.status_code == 202
    body = api.client.get(f"/incidents/{incident_id}", headers=bearer("viewer")).json()
    assert body["status"] == "closed"
    entries = [(e["kind"], e["actor"]) for e in body["timeline"] if e["kind"].startswith("inc")]
    assert ("incident.resolved", "incident_commander") in entries
    assert ("incident.closed", "incident_commander") in entries


def test_closing_twice_is_409(api: Api) -> None:
    """The engine refuses to close a closed incident; the API answers 409 with its reason."""
    incident_id = api.fresh_task("ops").incident_id
    first = api.client.post(f"/incidents/{incident_id}/close", headers=bearer("incident_commander"))
    assert first.status_code == 202
    again = api.client.post(f"/incidents/{incident_id}/close", headers=bearer("incident_commander"))
    assert again.status_code == 409
    assert again.json()["detail"] == f"incident {incident_id} is already closed"


def test_unknown_incident_is_404_for_reads_and_commands(api: Api) -> None:
    """An incident that does not exist: 404 for GET, resolve and close."""
    ic = bearer("incident_commander")
    assert api.client.get("/incidents/inc-nope", headers=ic).status_code == 404
    assert api.client.post("/incidents/inc-nope/resolve", headers=ic).status_code == 404
    assert api.client.post("/incidents/inc-nope/close", headers=ic).status_code == 404


def test_incident_command_without_token_is_401(api: Api) -> None:
    """resolve without a token is refused before anything else."""
    incident_id = api.fresh_task("ops").incident_id
    assert api.client.post(f"/incidents/{incident_id}/resolve").status_code == 401


def test_incident_list_and_detail(api: Api) -> None:
    """GET /incidents summarises every incident; GET /incidents/{id} has tasks and timeline."""
    task = api.fresh_task("legal")
    listed = api.client.get("/incidents", headers=bearer("viewer")).json()
    assert [(i["id"], i["playbook"]) for i in listed] == [(task.incident_id, "data_breach")]
    detail = api.client.get(f"/incidents/{task.incident_id}", headers=bearer("viewer")).json()
    assert detail["timeline"][0]["kind"] == "incident.opened"
    assert task.id in [t["id"] for t in detail["tasks"]]


def test_without_responders_reads_are_open_and_commands_refused(open_api: Api) -> None:
    """No responders configured: reads answer, every command is 401 and says how to configure."""
    task = open_api.fresh_task("ops")
    assert open_api.client.get(f"/tasks/{task.id}").status_code == 200
    assert open_api.client.get("/incidents").status_code == 200
    response = open_api.client.post(f"/tasks/{task.id}/ack")
    assert response.status_code == 401
    assert "ORCH_RESPONDERS_FILE" in response.json()["detail"]
    resolve = open_api.client.post(f"/incidents/{task.incident_id}/resolve")
    assert resolve.status_code == 401
