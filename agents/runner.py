"""The agent loop: follow the role's feed, ask the agent, post its help through the API."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import structlog

from agents.base import Agent, Help, decide
from agents.client import ApiClient, ApiError
from schemas import TaskEvent

log = structlog.get_logger("agents")
RECONNECT_SECONDS = 2.0
FATAL_STATUSES = frozenset({401})
"""A wrong token will not fix itself: stop instead of retrying."""

OnError = Callable[[TaskEvent, ApiError], None]


def log_and_continue(event: TaskEvent, error: ApiError) -> None:
    """The default error policy: a refused request is logged, and the loop goes on."""
    log.warning("help.refused", task_id=event.task.id, status=error.status, detail=error.detail)


@dataclass
class AgentLoop:
    """One agent following one role's feed through one API client."""

    agent: Agent
    client: ApiClient
    on_error: OnError = log_and_continue
    after: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def handle(self, event: TaskEvent) -> Help | None:
        """Help with one task event (comment; complete if automatic); None if nothing to do."""
        if event.kind != "task.assigned" or event.task.role != self.agent.role:
            return None
        with structlog.contextvars.bound_contextvars(
            role=self.agent.role,
            event_id=event.id,
            incident_id=event.incident_id,
            task_id=event.task.id,
        ):
            try:
                found = decide(self.agent, event, self.client.incident(event.incident_id))
                if found is not None:
                    self._post(event, found)
            except ApiError as error:
                if error.status in FATAL_STATUSES:
                    raise
                self.on_error(event, error)
                return None
        return found

    def _post(self, event: TaskEvent, found: Help) -> None:
        self.client.comment(found.task_id, found.comment, key=f"{event.id}:help")
        log.info("help.posted", task_id=found.task_id)
        if found.complete:
            outcome = f"completed automatically by the {self.agent.role} agent"
            self.client.complete(found.task_id, outcome, key=f"{event.id}:complete")
            log.info("task.completed_automatically", task_id=found.task_id)

    def run(self) -> None:
        """Follow the feed until `stop` is set, resuming after the last event on reconnect."""
        while not self.stop.is_set():
            try:
                self._follow()
            except (httpx.TransportError, httpx.StreamError) as error:
                log.warning(
                    "feed.disconnected",
                    error=type(error).__name__,
                    after=self.after,
                    then="reconnecting",
                )
            except ApiError as error:
                if error.status in FATAL_STATUSES:
                    raise
                log.warning(
                    "feed.refused", status=error.status, detail=error.detail, then="retrying"
                )
            self.stop.wait(RECONNECT_SECONDS)

    def _follow(self) -> None:
        for seq, event in self.client.feed(self.agent.role, self.after):
            self.handle(event)
            self.after = seq
            if self.stop.is_set():
                return
