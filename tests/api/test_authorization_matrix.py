"""Every role x every role's task x every action: forbidden calls 403, allowed calls 202."""

from __future__ import annotations

import pytest
from apikit import ROLES, Api, bearer

ACTIONS = {
    "ack": None,
    "start": None,
    "complete": {"note": "done"},
    "fail": {"note": "cannot"},
    "comment": {"note": "noted"},
}


def _allowed(actor_role: str, task_role: str) -> bool:
    return actor_role in (task_role, "incident_commander")


@pytest.mark.parametrize("task_role", ROLES)
@pytest.mark.parametrize("actor_role", ROLES)
def test_authorization_matrix(api: Api, actor_role: str, task_role: str) -> None:
    """A responder acts on tasks of their roles (the commander on all); the rest is 403."""
    shared = api.fresh_task(task_role)
    for action, body in ACTIONS.items():
        task = api.fresh_task(task_role) if _allowed(actor_role, task_role) else shared
        response = api.client.post(
            f"/tasks/{task.id}/{action}", headers=bearer(actor_role), json=body
        )
        if _allowed(actor_role, task_role):
            assert response.status_code == 202, (action, response.json())
            assert response.json()["actor"] == actor_role
        else:
            assert response.status_code == 403, (action, response.json())
    if not _allowed(actor_role, task_role):
        assert api.runtime.task(shared.id) == shared, "a refused call changed the task"
