"""Fakes and builders for tests and playbook fixtures: no mocks, the real engine underneath.

events = [event("ops.alert", "2026-11-20T10:00:00Z", service="checkout", ...)]
run = Drill.of(load_directory("playbooks")).feed(*events).until("2026-11-20T11:00:00Z")
run.incident("tech_outage", "checkout").severity
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from orchestrator.core.clock import Millis, parse_time
from orchestrator.core.engine import Engine, EngineConfig, RawRecord, Tick
from orchestrator.core.outbox import Output
from orchestrator.core.playbook import Playbook
from orchestrator.core.state import EngineState
from orchestrator.core.summary import summary
from schemas.commands import COMMAND_EVENT_TYPE
from schemas.deadletter import DeadLetter, Origin
from schemas.incidents import Incident, IncidentEvent
from schemas.tasks import Task, TaskEvent

_ids = itertools.count(1)


def event(
    type_: str, time: str, source: str = "test", id: str | None = None, **data: Any
) -> dict[str, Any]:
    """A CloudEvents envelope as a dict (ids count up unless given)."""
    return {
        "specversion": "1.0",
        "id": id or f"e{next(_ids)}",
        "source": source,
        "type": type_,
        "time": time,
        "data": data,
    }


def command(
    kind: str, time: str, actor: str = "alice", id: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A responder command recorded as an `orchestrator.command` event."""
    return event(
        COMMAND_EVENT_TYPE,
        time,
        source="responders",
        id=id or f"c{next(_ids)}",
        kind=kind,
        actor=actor,
        **fields,
    )


def encode(record: dict[str, Any] | bytes | str) -> bytes:
    """One log line: dicts as compact JSON, text as UTF-8, bytes as they are."""
    if isinstance(record, bytes):
        return record
    if isinstance(record, str):
        return record.encode("utf-8")
    return json.dumps(record, separators=(",", ":"), sort_keys=True).encode("utf-8")


class ManualClock:
    """A clock tests move by hand."""

    def __init__(self, start: str | Millis = 0) -> None:
        self.value: Millis = parse_time(start) if isinstance(start, str) else start

    def now(self) -> Millis:
        """The current time."""
        return self.value

    def advance(self, millis: Millis) -> None:
        """Move forward."""
        self.value += millis


@dataclass
class Drill:
    """The real engine driven like a replay, keeping every output for assertions."""

    engine: Engine
    state: EngineState = field(default_factory=EngineState)
    outputs: list[Output] = field(default_factory=list)
    line: int = 0

    @classmethod
    def of(cls, playbooks: Iterable[Playbook], config: EngineConfig | None = None) -> Drill:
        """A drill over these playbooks."""
        return cls(Engine(list(playbooks), config))

    def feed(self, *records: dict[str, Any] | bytes | str) -> Drill:
        """Feed records in order, like lines of a log."""
        for record in records:
            self.line += 1
            item = RawRecord(encode(record), Origin(kind="file", name="drill", offset=self.line))
            self.state, out = self.engine.step(self.state, item, self.state.clock)
            self.outputs.extend(out)
        return self

    def until(self, time: str) -> Drill:
        """Advance the clock to `time`, firing timers."""
        self.state, out = self.engine.step(self.state, Tick(), parse_time(time))
        self.outputs.extend(out)
        return self

    def summary(self) -> dict[str, Any]:
        """The contract summary."""
        return summary(self.state)

    def incidents(self, playbook: str | None = None) -> list[Incident]:
        """Incidents (of one playbook), in the order they opened."""
        return [i for i in self.state.incidents.values() if playbook in (None, i.playbook)]

    def incident(self, playbook: str, key: str) -> Incident:
        """The newest incident of `playbook` for `key`."""
        found = [i for i in self.incidents(playbook) if i.key == key]
        if not found:
            raise AssertionError(
                f"no {playbook} incident for {key!r}; have "
                f"{[(i.playbook, i.key) for i in self.incidents()]}"
            )
        return found[-1]

    def task(self, playbook: str, key: str, name: str) -> Task:
        """A task of the newest incident of `playbook` for `key`."""
        for task in self.incident(playbook, key).tasks:
            if task.name == name:
                return task
        raise AssertionError(f"no task {name!r} in {playbook}/{key}")

    def task_events(self, kind: str | None = None) -> list[TaskEvent]:
        """Task events emitted so far (of one kind)."""
        return [o for o in self.outputs if isinstance(o, TaskEvent) and kind in (None, o.kind)]

    def incident_events(self, kind: str | None = None) -> list[IncidentEvent]:
        """Incident events emitted so far (of one kind)."""
        return [o for o in self.outputs if isinstance(o, IncidentEvent) and kind in (None, o.kind)]

    def dead_letters(self) -> list[DeadLetter]:
        """Dead-letter records emitted so far."""
        return [o for o in self.outputs if isinstance(o, DeadLetter)]


def complete_at_once(
    url: str, task_id: str, tokens: dict[str, str], timeout: float = 10.0
) -> dict[str, Any]:
    """Each responder (name -> bearer token) POSTs /tasks/{task_id}/complete over its own
    connection at the same moment (threads released by one barrier): the answers by name."""
    import threading

    import httpx

    barrier, answers = threading.Barrier(len(tokens)), {}

    def complete(name: str) -> None:
        with httpx.Client(timeout=timeout) as client:
            barrier.wait()
            answers[name] = client.post(
                f"{url}/tasks/{task_id}/complete",
                headers={"Authorization": f"Bearer {tokens[name]}"},
                json={"outcome": f"by {name}"},
            )

    threads = [threading.Thread(target=complete, args=(name,)) for name in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


class FeedFollower:
    """Follows a role's SSE feed in a thread until `done` says a received task event is the one
    awaited: `connected` is set once the feed is open, `arrived` once `done` held."""

    def __init__(self, url: str, role: str, token: str, done: Any, wait_s: float) -> None:
        import threading

        self.received: list[Any] = []
        self.connected, self.arrived = threading.Event(), threading.Event()
        self.wait_s = wait_s
        self.thread = threading.Thread(
            target=self._follow, args=(f"{url}/roles/{role}/feed", token, done), daemon=True
        )
        self.thread.start()

    def _follow(self, feed: str, token: str, done: Any) -> None:
        import httpx
        from httpx_sse import connect_sse

        from schemas.tasks import TaskEvent

        headers = {"Authorization": f"Bearer {token}"}
        with (
            httpx.Client(timeout=httpx.Timeout(10, read=self.wait_s)) as client,
            connect_sse(client, "GET", feed, headers=headers) as source,
        ):
            self.connected.set()
            for message in source.iter_sse():
                if message.data:
                    self.received.append(TaskEvent.model_validate_json(message.data))
                    if done(self.received[-1]):
                        self.arrived.set()
                        return
