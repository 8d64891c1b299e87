"""Writes are commands: stamped with who and when, handed to the runtime, answered with its verdict.

202 with a receipt when the engine accepted the command, 409 problem+json with the engine's
reason when it rejected it. With an `Idempotency-Key` header, a retried request (same key, same
responder) gets the first answer again and no second command is recorded.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic_core import to_json

from orchestrator.api.models import CommandReceipt
from orchestrator.api.problems import problem
from orchestrator.auth import Responder
from orchestrator.engine import format_time, to_millis
from orchestrator.runtime import AsyncWrites, CommandOutcome, IdempotencyKey, Runtime
from schemas import Command, CommandKind

log = structlog.get_logger("orchestrator.api")
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_CHARS = 200
VALID_KEY = re.compile(f"[!-~]{{1,{MAX_KEY_CHARS}}}")
"""An Idempotency-Key the header's declaration accepts (printable ASCII, 1-200 characters)."""

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_HEADER,
        min_length=1,
        max_length=MAX_KEY_CHARS,
        pattern=r"^[!-~]+$",
        description="Retry key (printable ASCII, per responder): a retried request with the same "
        "key gets the first answer and records no second command.",
    ),
]


def new_command_id() -> str:
    """A fresh command id (recorded in the input log, so replays stay deterministic)."""
    return f"cmd-{uuid.uuid4().hex}"


def fingerprint(command: Command) -> str:
    """What a request asked for, independent of when it was sent and of the command id."""
    parts = (command.kind, command.task_id or "", command.incident_id or "", command.note or "")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def build(
    runtime: Runtime,
    responder: Responder,
    kind: CommandKind,
    task_id: str | None = None,
    incident_id: str | None = None,
    note: str | None = None,
) -> Command:
    """A command from `responder`, stamped with the runtime's clock and a fresh id."""
    now = datetime.fromtimestamp(runtime.now() / 1000, tz=UTC)
    return Command(
        id=new_command_id(),
        kind=kind,
        actor=responder.name,
        time=now,
        task_id=task_id,
        incident_id=incident_id,
        note=note,
    )


def issue(
    runtime: Runtime, command: Command, key: str | None, incident_id: str | None = None
) -> JSONResponse:
    """Hand `command` to the runtime (once per idempotency key) and answer its verdict.

    `incident_id` (the task's incident) fills in the answer when the verdict has none.
    """
    if key is None:
        outcome = CommandOutcome(command, runtime.command(command))
    else:
        scoped = IdempotencyKey(command.actor, key, fingerprint(command))
        outcome = runtime.command_once(command, scoped)
    return logged(outcome, incident_id)


async def issue_async(
    runtime: AsyncWrites, command: Command, key: str | None, incident_id: str | None = None
) -> JSONResponse:
    """`issue` from the event loop, for a runtime that awaits its commands without a thread."""
    if key is None:
        outcome = CommandOutcome(command, await runtime.command_async(command))
    else:
        scoped = IdempotencyKey(command.actor, key, fingerprint(command))
        outcome = await runtime.command_once_async(command, scoped)
    return logged(outcome, incident_id)


def logged(outcome: CommandOutcome, incident_id: str | None = None) -> JSONResponse:
    """Log the command's verdict, then `answer` it."""
    command, result = outcome.command, outcome.result
    log.info(
        "command.answered",
        command_id=command.id,
        kind=command.kind,
        actor=command.actor,
        task_id=command.task_id,
        incident_id=result.incident_id or incident_id,
        accepted=result.accepted,
        reason=result.reason,
        replayed=outcome.replayed,
    )
    return answer(outcome, incident_id)


def answer(outcome: CommandOutcome, incident_id: str | None = None) -> JSONResponse:
    """202 with a receipt, or 409 with the engine's reason; the same for a replayed key."""
    command, result = outcome.command, outcome.result
    incident_id = result.incident_id or incident_id
    headers = {REPLAYED_HEADER: "true"} if outcome.replayed else {}
    if not result.accepted:
        rejected = problem(
            409,
            "Command rejected",
            result.reason or "rejected by the engine",
            command_id=command.id,
            kind=command.kind,
            actor=command.actor,
            task_id=command.task_id,
            incident_id=incident_id,
        )
        rejected.headers.update(headers)
        return rejected
    receipt = CommandReceipt(
        command_id=command.id,
        kind=command.kind,
        actor=command.actor,
        time=format_time(to_millis(command.time)),
        accepted=True,
        task_id=command.task_id,
        incident_id=incident_id,
    )
    return ModelResponse(receipt, status_code=202, headers=headers)


class ModelResponse(JSONResponse):
    """A JSON response whose content is a pydantic model, encoded by pydantic-core in one step
    (no dict in between, no second encoder): Starlette's documented way to swap the encoder."""

    def render(self, content: BaseModel) -> bytes:
        return to_json(content)
