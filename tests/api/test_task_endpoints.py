"""Every task endpoint in-process: reads, the five commands, and every error status."""

from __future__ import annotations

import pytest
from apikit import Api, bearer

from orchestrator.api.models import MAX_NOTE_CHARS


def test_roles_lists_every_role_with_its_escalation(api: Api) -> None:
    """GET /roles names the roles the playbooks know and where each escalates."""
    roles = {
        r["name"]: r["escalates_to"] for r in api.client.get("/roles", headers=bearer("ops")).json()
    }
    assert roles["ops"] == "incident_commander"
    assert roles["incident_commander"] is None
    assert {"pr", "legal", "logistics", "customer_service"} <= set(roles)


def test_role_tasks_filter_by_status(api: Api) -> None:
    """GET /roles/{role}/tasks lists only that role's tasks, and ?status narrows them."""
    triage = api.fresh_task("ops")
    api.fresh_task("legal")
    listed = api.client.get("/roles/ops/tasks", headers=bearer("pr")).json()
    assert {t["role"] for t in listed} == {"ops"}
    assigned = api.client.get("/roles/ops/tasks?status=assigned", headers=bearer("pr")).json()
    assert triage.id in [t["id"] for t in assigned]
    assert {t["status"] for t in assigned} == {"assigned"}
    assert api.client.get("/roles/ops/tasks?status=done", headers=bearer("pr")).json() == []


def test_role_tasks_unknown_role_is_404_and_bad_status_422(api: Api) -> None:
    """An unknown role is a 404 problem naming the roles; an unknown status a 422 problem."""
    missing = api.client.get("/roles/astronaut/tasks", headers=bearer("ops"))
    assert missing.status_code == 404
    assert "ops" in missing.json()["detail"]
    invalid = api.client.get("/roles/ops/tasks?status=sleeping", headers=bearer("ops"))
    assert invalid.status_code == 422
    assert invalid.headers["content-type"].startswith("application/problem+json")
    assert invalid.json()["errors"][0]["loc"] == ["query", "status"]


def test_get_task_has_incident_context_and_history(api: Api) -> None:
    """GET /tasks/{id} shows the task, its incident's playbook/severity and the task's history."""
    task = api.fresh_task("ops")
    body = api.client.get(f"/tasks/{task.id}", headers=bearer("viewer")).json()
    assert (body["id"], body["playbook"], body["severity"]) == (task.id, "tech_outage", "high")
    assert body["incident_status"] == "open"
    assert [e["kind"] for e in body["history"]] == ["task.attached", "task.assigned"]


def test_get_unknown_task_is_404(api: Api) -> None:
    """Asking for a task that does not exist answers a 404 problem."""
    response = api.client.get("/tasks/inc-nope.triage", headers=bearer("ops"))
    assert response.status_code == 404
    assert response.json()["title"] == "No such task"


def test_ack_start_complete_record_who_and_when(api: Api) -> None:
    """ack, start and complete answer 202 with a receipt; the task and timeline show the actor."""
    task = api.fresh_task("ops")
    api.clock.advance(60_000)
    ack = api.client.post(f"/tasks/{task.id}/ack", headers=bearer("ops"))
    assert ack.status_code == 202
    receipt = ack.json()
    assert receipt["command_id"].startswith("cmd-")
    assert (receipt["kind"], receipt["actor"], receipt["accepted"]) == ("ack", "ops", True)
    assert receipt["time"] == "2026-11-20T10:01:00Z"
    assert receipt["incident_id"] == task.incident_id
    assert api.client.post(f"/tasks/{task.id}/start", headers=bearer("ops")).status_code == 202
    done = api.client.post(
        f"/tasks/{task.id}/complete",
        headers=bearer("ops"),
        json={"note": "rolled back release 42"},
    )
    assert done.status_code == 202
    view = api.client.get(f"/tasks/{task.id}", headers=bearer("ops")).json()
    assert (view["status"], view["acknowledged_by"], view["finished_by"]) == ("done", "ops", "ops")
    assert view["outcome"] == "rolled back release 42"
    kinds = [(e["kind"], e["actor"]) for e in view["history"][2:]]
    assert kinds == [("task.acknowledged", "ops"), ("task.started", "ops"), ("task.done", "ops")]


def test_complete_without_body_is_accepted(api: Api) -> None:
    """Outcome notes are optional: complete with no body answers 202."""
    task = api.fresh_task("logistics")
    response = api.client.post(f"/tasks/{task.id}/complete", headers=bearer("logistics"))
    assert response.status_code == 202
    assert api.runtime.task(task.id).status == "done"  # type: ignore[union-attr]


def test_fail_records_the_reason(api: Api) -> None:
    """fail answers 202 and keeps the reason as the task's outcome."""
    task = api.fresh_task("legal")
    response = api.client.post(
        f"/tasks/{task.id}/fail", headers=bearer("legal"), json={"note": "counsel unreachable"}
    )
    assert response.status_code == 202
    failed = api.runtime.task(task.id)
    assert failed is not None
    assert (failed.status, failed.outcome, failed.finished_by) == (
        "failed",
        "counsel unreachable",
        "legal",
    )


def test_comment_lands_on_the_incident_timeline(api: Api) -> None:
    """comment answers 202 and the incident timeline carries the text and the author."""
    task = api.fresh_task("pr")
    response = api.client.post(
        f"/tasks/{task.id}/comment", headers=bearer("pr"), json={"note": "statement drafted"}
    )
    assert response.status_code == 202
    incident = api.client.get(f"/incidents/{task.incident_id}", headers=bearer("pr")).json()
    comments = [e for e in incident["timeline"] if e["kind"] == "task.commented"]
    assert [(c["actor"], c["detail"]["note"]) for c in comments] == [("pr", "statement drafted")]


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("fail", {}),
        ("fail", {"note": "   "}),
        ("comment", {"note": ""}),
        ("comment", {"note": "x" * (MAX_NOTE_CHARS + 1)}),
        ("comment", {"note": "ok", "extra": 1}),
        ("complete", {"note": 7}),
    ],
)
def test_invalid_bodies_are_422_problems(api: Api, action: str, body: dict[str, object]) -> None:
    """Missing, blank, too long, unknown or mistyped fields answer 422 problem+json."""
    task = api.fresh_task("ops")
    response = api.client.post(f"/tasks/{task.id}/{action}", headers=bearer("ops"), json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"]
    assert api.runtime.task(task.id) == task


def test_write_without_or_with_a_bad_token_is_401(api: Api) -> None:
    """No token, an unknown token or a non-bearer scheme: 401 with WWW-Authenticate."""
    task = api.fresh_task("ops")
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic b3BzOnRva2Vu"},
    ):
        response = api.client.post(f"/tasks/{task.id}/ack", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["title"] == "Unauthorized"
    assert api.runtime.task(task.id) == task


def test_reads_need_a_token_when_responders_exist(api: Api) -> None:
    """Every read refuses a request without a valid responder token (401)."""
    task = api.fresh_task("ops")
    for path in (
        "/roles",
        "/roles/ops/tasks",
        f"/tasks/{task.id}",
        "/incidents",
        f"/incidents/{task.incident_id}",
        "/summary",
        "/dead-letters",
        "/roles/ops/feed?follow=false",
    ):
        assert api.client.get(path).status_code == 401, path
        assert api.client.get(path, headers=bearer("viewer")).status_code == 200, path


def test_the_ingest_token_is_not_a_responder_token(api: Api) -> None:
    """The intake token opens intake only; it cannot read or act."""
    task = api.fresh_task("ops")
    ingest = {"Authorization": "Bearer ingest-token-0f27e8a7c3d1"}
    assert api.client.get("/incidents", headers=ingest).status_code == 401
    assert api.client.post(f"/tasks/{task.id}/ack", headers=ingest).status_code == 401


def test_act_on_another_roles_task_is_403(api: Api) -> None:
    """A responder without the task's role gets 403 naming their roles; nothing changes."""
    task = api.fresh_task("legal")
    response = api.client.post(f"/tasks/{task.id}/ack", headers=bearer("pr"))
    assert response.status_code == 403
    assert "roles: pr" in response.json()["detail"]
    assert api.runtime.task(task.id) == task
    read_only = api.client.post(f"/tasks/{task.id}/ack", headers=bearer("viewer"))
    assert read_only.status_code == 403


def test_act_on_unknown_task_is_404(api: Api) -> None:
    """A command for a task that does not exist answers 404 and records no command."""
    before = api.runtime.summary()["commands"]
    response = api.client.post("/tasks/inc-nope.triage/ack", headers=bearer("ops"))
    assert response.status_code == 404
    assert api.runtime.summary()["commands"] == before


def test_engine_rejection_is_409_with_reason_on_the_timeline(api: Api) -> None:
    """A command the engine refuses answers 409 with its reason, visible in the task history."""
    task = api.fresh_task("ops")
    assert api.client.post(f"/tasks/{task.id}/ack", headers=bearer("ops")).status_code == 202
    response = api.client.post(f"/tasks/{task.id}/ack", headers=bearer("ops2"))
    assert response.status_code == 409
    problem = response.json()
    assert problem["detail"] == f"task {task.id} was already acknowledged by ops"
    assert (problem["kind"], problem["actor"], problem["task_id"]) == ("ack", "ops2", task.id)
    assert problem["incident_id"] == task.incident_id
    history = api.client.get(f"/tasks/{task.id}", headers=bearer("ops")).json()["history"]
    rejected = [e for e in history if e["kind"] == "command.rejected"]
    assert [(e["actor"], e["ref"]) for e in rejected] == [("ops2", problem["command_id"])]


def test_ack_of_a_pending_task_is_409(api: Api) -> None:
    """A task still waiting on its dependencies cannot be acknowledged (engine says why)."""
    api.fresh_task("ops")
    pending = next(t for t in api.runtime.tasks("ops", "pending"))
    response = api.client.post(f"/tasks/{pending.id}/ack", headers=bearer("ops"))
    assert response.status_code == 409
    assert "pending" in response.json()["detail"]


def test_oversized_write_is_413(api: Api) -> None:
    """A write body over the limit is refused before it reaches the handler."""
    task = api.fresh_task("ops")
    response = api.client.post(
        f"/tasks/{task.id}/comment",
        headers=bearer("ops"),
        content=b'{"note": "' + b"x" * 70_000 + b'"}',
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


def test_unknown_path_and_method_are_problems(api: Api) -> None:
    """Routing errors are problem+json too (404 unknown path, 405 wrong method)."""
    missing = api.client.get("/nowhere", headers=bearer("ops"))
    assert (missing.status_code, missing.json()["title"]) == (404, "Not found")
    wrong = api.client.get("/tasks/x/ack", headers=bearer("ops"))
    assert (wrong.status_code, wrong.json()["title"]) == (405, "Method not allowed")
