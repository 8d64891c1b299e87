"""Roles and their tasks: read them, and act on them (ack, start, complete, fail, comment)."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from orchestrator.api.commands import (
    IDEMPOTENCY_HEADER,
    VALID_KEY,
    IdempotencyKeyHeader,
    build,
    issue,
    issue_async,
)
from orchestrator.api.models import (
    CommandReceipt,
    EmptyBody,
    NoteBody,
    RequiredNoteBody,
    RoleView,
    TaskView,
    problem_responses,
)
from orchestrator.api.problems import ProblemError
from orchestrator.api.security import Actor, Reader, actor_of, forbidden
from orchestrator.auth import Responder
from orchestrator.engine import TaskRecord
from orchestrator.runtime import AsyncWrites, Runtime
from schemas import CommandKind, Incident, Task, TaskStatus, TimelineEntry

ROLE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
MAX_TASK_ID_CHARS = 300
RoleName = Annotated[str, Path(pattern=ROLE_PATTERN, description="A role, e.g. ops or pr.")]
TaskId = Annotated[str, Path(min_length=1, max_length=MAX_TASK_ID_CHARS, description="A task id.")]
_KEY_HEADER = IDEMPOTENCY_HEADER.lower().encode()
Route = Callable[..., Awaitable[JSONResponse]]
WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 422)
READ_ERRORS = problem_responses(401, 404, 422)


def known_role(runtime: Runtime, role: str) -> str:
    """`role` if the loaded playbooks know it; else a 404 that lists the roles."""
    if role not in runtime.roles():
        names = ", ".join(runtime.roles())
        raise ProblemError(404, "No such role", f"no role {role!r}; roles are: {names}")
    return role


def existing_task(runtime: Runtime, task_id: str) -> Task:
    """The task, or a 404 problem."""
    task = runtime.task(task_id)
    if task is None:
        raise ProblemError(404, "No such task", f"no task {task_id}")
    return task


def task_view(task: Task, incident: Incident) -> TaskView:
    """The task with its incident's context and the timeline entries about it."""
    history = [e for e in incident.timeline if _about(e, task.id)]
    return TaskView(
        **task.model_dump(),
        playbook=incident.playbook,
        incident_key=incident.key,
        severity=incident.severity,
        incident_status=incident.status,
        history=history,
    )


def allowed(who: Responder, kind: CommandKind, task: Task | TaskRecord) -> None:
    """A 403 problem unless `who` may act on `task`."""
    if not who.may_act_on(task.role):
        raise forbidden(who, f"{kind} task {task.id} of role {task.role}", task.role)


async def bodiless_command(request: Request) -> dict[str, Any] | None:
    """The arguments of ack and start (orchestrator.api.hot) for a request that sends no body
    and a task id and Idempotency-Key their declarations accept; None for any other request
    (FastAPI then reads and validates it, and answers 422 where it does)."""
    task_id: str = request.scope["path_params"]["task_id"]
    if len(task_id) > MAX_TASK_ID_CHARS:
        return None
    key: str | None = None
    for name, value in request.scope["headers"]:
        if (name == b"content-length" and value != b"0") or name == b"transfer-encoding":
            return None
        if name == _KEY_HEADER:
            if key is not None:
                return None
            key = value.decode("latin-1")
    if key is not None and VALID_KEY.fullmatch(key) is None:
        return None
    return {"task_id": task_id, "who": await actor_of(request), "key": key, "_body": None}


def _about(entry: TimelineEntry, task_id: str) -> bool:
    return entry.ref == task_id or entry.detail.get("task") == task_id


def tasks_router(runtime: Runtime) -> APIRouter:
    """Read routes for roles and tasks, and the task commands."""
    router = APIRouter(tags=["tasks"])

    @router.get("/roles", summary="Roles the loaded playbooks know", responses=READ_ERRORS)
    def list_roles(_who: Reader) -> list[RoleView]:
        return [
            RoleView(name=r.name, title=r.title, escalates_to=r.escalates_to)
            for r in runtime.roles().values()
        ]

    @router.get("/roles/{role}/tasks", summary="A role's tasks", responses=READ_ERRORS)
    def role_tasks(
        role: RoleName, _who: Reader, status: Annotated[TaskStatus | None, Query()] = None
    ) -> list[Task]:
        known_role(runtime, role)
        return runtime.tasks(role, status.value if status else None)

    @router.get(
        "/tasks/{task_id}",
        summary="A task, its incident's context and its history",
        responses=READ_ERRORS,
    )
    def get_task(task_id: TaskId, _who: Reader) -> TaskView:
        task = existing_task(runtime, task_id)
        incident = runtime.incident(task.incident_id)
        if incident is None:
            raise ProblemError(404, "No such task", f"no task {task_id}")
        return task_view(task, incident)

    _task_commands(router, runtime)
    return router


def _task_commands(router: APIRouter, runtime: Runtime) -> None:
    """The task commands, as `async def` routes: with a runtime that awaits its commands (the
    embedded one) a command costs no thread-pool hop; with another, `act` runs in the pool."""

    def act(
        kind: CommandKind, task_id: str, who: Responder, key: str | None, note: str | None = None
    ) -> JSONResponse:
        task = existing_task(runtime, task_id)
        allowed(who, kind, task)
        command = build(runtime, who, kind, task_id=task_id, note=note)
        return issue(runtime, command, key, task.incident_id)

    awaitable = runtime if isinstance(runtime, AsyncWrites) else None

    async def act_async(
        kind: CommandKind, task_id: str, who: Responder, key: str | None, note: str | None = None
    ) -> JSONResponse:
        if awaitable is None:
            return await run_in_threadpool(act, kind, task_id, who, key, note)
        task = awaitable.peek_task(task_id)
        if task is None:
            raise ProblemError(404, "No such task", f"no task {task_id}")
        allowed(who, kind, task)
        command = build(runtime, who, kind, task_id=task_id, note=note)
        return await issue_async(awaitable, command, key, task.incident_id)

    def write(path: str, summary: str) -> Callable[[Route], Route]:
        return router.post(
            path,
            status_code=202,
            response_model=CommandReceipt,
            summary=summary,
            responses=WRITE_ERRORS,
        )

    @write("/tasks/{task_id}/ack", "Acknowledge a task: you own it now")
    async def ack(
        task_id: TaskId,
        who: Actor,
        key: IdempotencyKeyHeader = None,
        _body: Annotated[EmptyBody | None, Body()] = None,
    ) -> JSONResponse:
        return await act_async("ack", task_id, who, key)

    @write("/tasks/{task_id}/start", "Start work on a task (acknowledges it if needed)")
    async def start(
        task_id: TaskId,
        who: Actor,
        key: IdempotencyKeyHeader = None,
        _body: Annotated[EmptyBody | None, Body()] = None,
    ) -> JSONResponse:
        return await act_async("start", task_id, who, key)

    @write("/tasks/{task_id}/complete", "Complete a task; `note` is the outcome")
    async def complete(
        task_id: TaskId,
        who: Actor,
        key: IdempotencyKeyHeader = None,
        body: Annotated[NoteBody | None, Body()] = None,
    ) -> JSONResponse:
        return await act_async("complete", task_id, who, key, body.note if body else None)

    @write("/tasks/{task_id}/fail", "Fail a task; `note` is the reason")
    async def fail(
        task_id: TaskId, body: RequiredNoteBody, who: Actor, key: IdempotencyKeyHeader = None
    ) -> JSONResponse:
        return await act_async("fail", task_id, who, key, body.note)

    @write("/tasks/{task_id}/comment", "Comment on a task (lands on the incident timeline)")
    async def comment(
        task_id: TaskId, body: RequiredNoteBody, who: Actor, key: IdempotencyKeyHeader = None
    ) -> JSONResponse:
        return await act_async("comment", task_id, who, key, body.note)
