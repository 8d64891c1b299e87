"""Acknowledge from the notification: `/links/tasks/{task_id}/ack?token=...`.

GET shows what the link would do and a button (a GET never acts: mail scanners open links);
POST acknowledges the task as the responder the link was made for, without a bearer token,
once. Refused: an expired link (410), a used one (410: recorded in this process's notify.db,
and the acknowledgement goes out under an idempotency key of the link, so a link used through
another API process is refused too once that one's command is on the commands topic), an
altered one or one for another task (403), a responder who may not act on the task (403).
Tokens never reach a log: the server logs no request paths, and nothing here logs the token.
"""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from orchestrator.api.commands import build, fingerprint, logged
from orchestrator.api.models import problem_responses
from orchestrator.api.problems import ProblemError
from orchestrator.api.tasks import existing_task
from orchestrator.auth import AuthConfig, Responder
from orchestrator.notify import AckLinks, LinkClaim, LinkRefused
from orchestrator.runtime import IdempotencyKey, Runtime
from schemas import Task

TaskId = Annotated[str, Path(min_length=1, max_length=300)]
Token = Annotated[str, Query(min_length=10, max_length=2000, description="The link's token.")]
PATH = "/links/tasks/{task_id}/ack"
_STATUS = {"expired": 410, "used": 410, "invalid": 403, "other task": 403}
_DETAIL = {
    "expired": "this acknowledgement link has expired; acknowledge in the console",
    "used": "this acknowledgement link was used already",
    "invalid": "this is not a valid acknowledgement link",
    "other task": "this acknowledgement link is for another task",
}


def _refused(why: str) -> ProblemError:
    return ProblemError(_STATUS[why], "Link refused", _DETAIL[why])


def links_router(runtime: Runtime, links: AckLinks) -> APIRouter:
    """The acknowledgement link's page and action."""
    router = APIRouter(tags=["tasks"])

    def claim(task_id: str, token: str) -> LinkClaim:
        try:
            return links.signer.check(token, task_id)
        except LinkRefused as refused:
            raise _refused(refused.why) from None

    def responder(request: Request, name: str, task: Task) -> Responder:
        auth: AuthConfig = request.app.state.guard.auth
        found = next((r for r in auth.responders if r.name == name), None)
        if found is None or not found.may_act_on(task.role):
            raise ProblemError(403, "Link refused", f"{name} may not act on this task")
        return found

    @router.get(
        PATH,
        response_class=HTMLResponse,
        summary="The acknowledgement link's page",
        responses=problem_responses(403, 404, 410, 422),
    )
    def page(task_id: TaskId, token: Token) -> HTMLResponse:
        found = claim(task_id, token)
        task = existing_task(runtime, task_id)
        return HTMLResponse(
            "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Acknowledge</title>"
            f"<h1>{escape(task.title)}</h1><p>Role {escape(task.role)}, status "
            f"{escape(task.status.value)}.</p><form method=post>"
            f"<button>Acknowledge as {escape(found.responder)}</button></form>",
            headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"},
        )

    @router.post(
        PATH,
        status_code=202,
        summary="Acknowledge a task through a signed link",
        responses=problem_responses(403, 404, 409, 410, 422),
    )
    def acknowledge(request: Request, task_id: TaskId, token: Token) -> JSONResponse:
        found = claim(task_id, token)
        task = existing_task(runtime, task_id)
        who = responder(request, found.responder, task)
        if not links.store.use_link(found.nonce, runtime.now()):
            raise _refused("used")
        command = build(runtime, who, "ack", task_id=task_id)
        key = IdempotencyKey(who.name, f"link:{found.nonce}", fingerprint(command))
        outcome = runtime.command_once(command, key)
        if outcome.replayed:  # used through another API process (replicas over Kafka)
            raise _refused("used")
        return logged(outcome, task.incident_id)

    return router
