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

from orchestrator.engine import (
    Engine,
    EngineConfig,
    EngineState,
    Millis,
    Output,
    Playbook,
    RawRecord,
    Tick,
    contract,
    parse_time,
    summary,
)
from schemas import COMMAND_EVENT_TYPE, DeadLetter, Incident, IncidentEvent, Origin, Task, TaskEvent

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
        """Incidents (of one playbook), in the order they opened, as contract models."""
        kept = self.state.incidents.values()
        return [contract(i) for i in kept if playbook in (None, i.playbook)]

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
