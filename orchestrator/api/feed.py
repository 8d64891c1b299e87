"""A live feed per role: the role's task events from the runtime's outbox, as server-sent events.

Each event's `id` is its outbox sequence number; a client that reconnects with `Last-Event-ID`
(or `?after=`) resumes right after it. `?follow=false` sends what is there and ends.

A feed holds at most `max_behind` events at a time (the backlog is read page by page, at the
reader's pace). A following reader that was caught up and then falls more than `max_behind`
events behind is sent a final `event: resync` and the stream ends: it reconnects with its
Last-Event-ID and catches up page by page. Each responder has at most `per_responder` feeds
open; one more is refused 429.
"""

import json
import threading
from collections import Counter
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import structlog
from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import Receive, Scope, Send

from orchestrator.adapters import SOURCE_ROOT, task_body_cloudevent
from orchestrator.api.models import problem_responses
from orchestrator.api.problems import ProblemError
from orchestrator.api.security import Reader
from orchestrator.api.tasks import RoleName, known_role
from orchestrator.auth import Responder
from orchestrator.runtime import OutboxRow, Runtime
from orchestrator.settings import DEFAULT_FEED_MAX_BEHIND, DEFAULT_FEEDS_PER_RESPONDER

log = structlog.get_logger("orchestrator.api")

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


def resync(seq: int, max_behind: int) -> ServerSentEvent:
    """The last event of a feed whose reader fell too far behind: reconnect and catch up."""
    detail = (
        f"this feed fell more than {max_behind} events behind; reconnect with "
        f"Last-Event-ID: {seq} to catch up"
    )
    body = {"last_event_id": seq, "detail": detail}
    return ServerSentEvent(
        json.dumps(body, separators=(",", ":")), event="resync", id=str(seq), retry=RETRY_MS
    )


async def _page(
    runtime: Runtime, seq: int, role: str, wait: float, limiter: anyio.CapacityLimiter, size: int
) -> list[OutboxRow]:
    rows = await anyio.to_thread.run_sync(runtime.outbox_after, seq, role, wait, limiter=limiter)
    return rows[:size]


async def role_events(
    runtime: Runtime,
    role: str,
    after: int,
    follow: bool,
    limiter: anyio.CapacityLimiter,
    shutdown: anyio.Event | None = None,
    max_behind: int = DEFAULT_FEED_MAX_BEHIND,
    source: str = SOURCE_ROOT,
) -> AsyncIterator[ServerSentEvent]:
    """The role's task events after outbox seq `after`, at most `max_behind` held at a time,
    each as a structured CloudEvent from `source` whose data is the task event; when `follow`,
    until `shutdown`, or `resync` once a caught-up reader falls behind."""
    seq, wait, caught_up = after, WAIT_SECONDS if follow else 0.0, False
    while shutdown is None or not shutdown.is_set():
        rows = await _page(runtime, seq, role, wait, limiter, max_behind + 1)
        if follow and caught_up and len(rows) > max_behind:
            log.info("feed.resync", role=role, seq=seq, reason="the reader fell behind")
            yield resync(seq, max_behind)
            return
        caught_up = len(rows) <= max_behind
        for row in rows[:max_behind]:
            seq = row.seq
            yield ServerSentEvent(
                task_body_cloudevent(row.body, source).decode("utf-8"),
                event=row.kind,
                id=str(row.seq),
                retry=RETRY_MS,
            )
        if not rows and not follow:
            return


class FeedSlots:
    """How many feeds each responder has open; more than `per_responder` are refused 429."""

    def __init__(self, per_responder: int) -> None:
        self.per_responder = per_responder
        self.open: Counter[str] = Counter()
        self.lock = threading.Lock()

    def take(self, who: Responder) -> None:
        """One more feed for `who`, or ProblemError 429."""
        with self.lock:
            if self.open[who.name] >= self.per_responder:
                raise ProblemError(
                    429,
                    "Too many feeds",
                    f"{who.name} has {self.per_responder} feeds open, the most allowed "
                    "(ORCH_FEEDS_PER_RESPONDER); close one first",
                )
            self.open[who.name] += 1

    def give_back(self, who: Responder) -> None:
        """A feed of `who` ended."""
        with self.lock:
            self.open[who.name] -= 1
            if self.open[who.name] <= 0:
                del self.open[who.name]


class SlotFeed(EventSourceResponse):
    """An event stream that gives its slot back however it ends (done, gone, HEAD, error)."""

    def __init__(self, events: AsyncIterator[ServerSentEvent], release: "_Release") -> None:
        super().__init__(
            events,
            ping=PING_SECONDS,
            shutdown_event=release.shutdown,
            shutdown_grace_period=SHUTDOWN_GRACE_SECONDS,
        )
        self.release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.release()


class _Release:
    def __init__(self, slots: FeedSlots, who: Responder) -> None:
        self.slots, self.who, self.done = slots, who, False
        self.shutdown = anyio.Event()

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            self.slots.give_back(self.who)


def feed_router(
    runtime: Runtime,
    max_behind: int = DEFAULT_FEED_MAX_BEHIND,
    per_responder: int = DEFAULT_FEEDS_PER_RESPONDER,
    source: str = SOURCE_ROOT,
) -> APIRouter:
    """GET /roles/{role}/feed: task events as CloudEvents from `source`."""
    router = APIRouter(tags=["tasks"])
    limiter = anyio.CapacityLimiter(FEED_THREADS)
    slots = FeedSlots(per_responder)

    @router.get(
        "/roles/{role}/feed",
        summary="Live feed of a role's task events (server-sent events)",
        response_class=EventSourceResponse,
        responses={
            200: {
                "description": "text/event-stream; `data` is a structured CloudEvent "
                "(schemas/json/task_cloudevent.schema.json) whose `data` is the TaskEvent, "
                "`event` its kind, `id` its outbox seq",
                "content": {"text/event-stream": {}},
            },
            **problem_responses(401, 404, 422, 429),
        },
    )
    def feed(
        role: RoleName,
        who: Reader,
        last_event_id: Annotated[str | None, Header(max_length=20)] = None,
        after: Annotated[
            int | None, Query(ge=0, le=MAX_SEQ, description="Resume after this seq.")
        ] = None,
        follow: Annotated[bool, Query(description="false: send the backlog, then end.")] = True,
    ) -> EventSourceResponse:
        known_role(runtime, role)
        slots.take(who)
        release = _Release(slots, who)
        start = _start(after, last_event_id)
        events = role_events(
            runtime, role, start, follow, limiter, release.shutdown, max_behind, source
        )
        return SlotFeed(events, release)

    return router
