"""Issue 16 point 8 / issue 21 point 8: one command body shape, `{"note": "..."}`.

Complete (the outcome), fail (the reason), comment (the text), resolve and close (why) all take
`note`; ack and start take no fields. A body with a field the command does not take is a 422
that names the field and the fields the body takes, never a note silently dropped.
"""

from __future__ import annotations

import pytest
from apikit import Api, bearer


@pytest.mark.parametrize("action", ["complete", "fail", "comment"])
def test_every_task_command_keeps_its_note_on_the_timeline(api: Api, action: str) -> None:
    """The note sent to complete, fail or comment is on the task's history afterwards."""
    task = api.fresh_task("ops")
    note = f"{action} note for {task.id}"
    response = api.client.post(
        f"/tasks/{task.id}/{action}", headers=bearer("ops"), json={"note": note}
    )
    assert response.status_code == 202, response.text
    history = api.client.get(f"/tasks/{task.id}", headers=bearer("ops")).json()["history"]
    assert note in [entry["detail"].get("note") for entry in history]


def test_resolve_keeps_its_note_on_the_incident_timeline(api: Api) -> None:
    """An incident command takes the same body: the note is the timeline's reason."""
    task = api.fresh_task("ops")
    response = api.client.post(
        f"/incidents/{task.incident_id}/resolve",
        headers=bearer("incident_commander"),
        json={"note": "rolled back"},
    )
    assert response.status_code == 202, response.text
    incident = api.client.get(f"/incidents/{task.incident_id}", headers=bearer("ops")).json()
    assert "rolled back" in str([entry["detail"] for entry in incident["timeline"]])


@pytest.mark.parametrize(
    ("action", "sent", "takes"),
    [
        ("complete", "outcome", "note"),
        ("fail", "reason", "note"),
        ("comment", "text", "note"),
        ("ack", "note", "no fields"),
        ("start", "note", "no fields"),
    ],
)
def test_a_field_a_command_does_not_take_is_a_422_naming_the_accepted_ones(
    api: Api, action: str, sent: str, takes: str
) -> None:
    """`{"outcome": ...}` to complete or `{"note": ...}` to ack: 422 saying what the body takes."""
    task = api.fresh_task("ops")
    response = api.client.post(
        f"/tasks/{task.id}/{action}", headers=bearer("ops"), json={sent: "words"}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert f"body.{sent}: Extra inputs are not permitted" in problem["detail"]
    assert f"this body takes: {takes}" in problem["detail"]
    assert problem["accepted"] == ([] if takes == "no fields" else ["note"])
    unchanged = api.client.get(f"/tasks/{task.id}", headers=bearer("ops")).json()
    assert unchanged["status"] == "assigned"


def test_ack_and_start_without_a_body_or_with_an_empty_one_still_work(api: Api) -> None:
    """Refusing a note on ack does not make a body necessary."""
    first, second = api.fresh_task("ops"), api.fresh_task("ops")
    assert api.client.post(f"/tasks/{first.id}/ack", headers=bearer("ops")).status_code == 202
    started = api.client.post(f"/tasks/{second.id}/start", headers=bearer("ops"), json={})
    assert started.status_code == 202, started.text


def test_a_422_outside_a_body_names_no_body_fields(api: Api) -> None:
    """A wrong query parameter is not about the body: no `accepted` member."""
    response = api.client.get("/roles/ops/tasks?status=sleeping", headers=bearer("ops"))
    assert response.status_code == 422
    assert "accepted" not in response.json()
