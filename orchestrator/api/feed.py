"""A live feed per role: the role's task events from the runtime's outbox, as server-sent events.

Each event's `id` is its outbox sequence number; a client that reconnects with `Last-Event-ID`
(or `?after=`) resumes right after it. `?follow=false` sends what is there and ends.
"""

import json
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from orchestrator.api.models import problem_responses
from orchestrator.api.security import Reader
from orchestrator.api.tasks import RoleName, known_role
from orchestrator.runtime.base import Runtime

WAIT_SECONDS = 1.0
"""How long one outbox read waits for new events (bounds how late a disconnect is noticed)."""
PING_SECONDS = 15
"""Keep-alive comments for proxies, when nothing else is sent."""
FEED_THREADS = 64
"""Feeds wait in their own threads, so they never starve the request thread pool."""
RETRY_MS = 2000
MAX_SEQ = 2**63 - 1
"""The largest outbox sequence number (SQLite INTEGER)."""
SHUTDOWN_GRACE_SECONDS = WAIT_SECONDS + 1
"""On server shutdown a feed finishes its current read and ends the stream cleanly."""


def _start(after: int | None, last_event_id: str | None) -> int:
    if after is not None:
        return after
    if last_event_id is not None and last_event_id.strip().isdigit():
        return min(int(last_event_id.strip()), MAX_SEQ)
    return 0


async def role_events(
    runtime: Runtime,
    role: str,
    after: int,
    follow: bool,
    limiter: anyio.CapacityLimiter,
    shutdown: anyio.Event | None = None,
) -> AsyncIterator[ServerSentEvent]:
    """The role's task events after outbox seq `after`; when `follow`, until `shutdown`."""
    seq, wait = after, WAIT_SECONDS if follow else 0.0
    while shutdown is None or not shutdown.is_set():
        rows = await anyio.to_thread.run_sync(
            runtime.outbox_after, seq, role, wait, limiter=limiter
        )
        for row in rows:
            seq = row.seq
            yield ServerSentEvent(
                json.dumps(row.body, separators=(",", ":")),
                event=row.kind,
                id=str(row.seq),
                retry=RETRY_MS,
            )
        if not rows and not follow:
            return


def feed_router(runtime: Runtime) -> APIRouter:
    """GET /roles/{role}/feed."""
    router = APIRouter(tags=["tasks"])
    limiter = anyio.CapacityLimiter(FEED_THREADS)

    @router.get(
        "/roles/{role}/feed",
        summary="Live feed of a role's task events (server-sent events)",
        response_class=EventSourceResponse,
        responses={
            200: {
                "description": "text/event-stream; `data` is a TaskEvent, `id` its outbox seq",
                "content": {"text/event-stream": {}},
            },
            **problem_responses(401, 404, 422),
        },
    )
    def feed(
        role: RoleName,
        _who: Reader,
        last_event_id: Annotated[str | None, Header(max_length=20)] = None,
        after: Annotated[
            int | None, Query(ge=0, le=MAX_SEQ, description="Resume after this seq.")
        ] = None,
        follow: Annotated[bool, Query(description="false: send the backlog, then end.")] = True,
    ) -> EventSourceResponse:
        known_role(runtime, role)
        shutdown = anyio.Event()
        events = role_events(runtime, role, _start(after, last_event_id), follow, limiter, shutdown)
        return EventSourceResponse(
            events,
            ping=PING_SECONDS,
            shutdown_event=shutdown,
            shutdown_grace_period=SHUTDOWN_GRACE_SECONDS,
        )

    return router
