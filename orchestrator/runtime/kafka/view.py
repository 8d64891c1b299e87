"""The API's read model of the Kafka runtime: what the workers publish, followed in a thread.

    <prefix>incidents      each incident's newest snapshot, command verdicts (incidentlog)
    <prefix>deadletter     dead letters, by id
    <prefix>commands       the commands sent (with their request fingerprints)
    <prefix>tasks.<role>   task events, numbered in the order this process read them

One follower thread (orchestrator.runtime.kafka.follow, no consumer group) reads those topics
from their beginning into a `View`; `Reader.start` returns once it has caught up with what was
there. Everything read is held in memory.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import structlog

from orchestrator.errors import OrchestratorError
from orchestrator.runtime.base import OutboxRow
from orchestrator.runtime.kafka.codec import decode_task_event, header
from orchestrator.runtime.kafka.follow import CATCH_UP_TIMEOUT_S, Follower
from orchestrator.runtime.kafka.incidentlog import IncidentLog
from orchestrator.runtime.kafka.topics import TopicNames
from schemas import Command, DeadLetter

log = structlog.get_logger("orchestrator.runtime.kafka")

FINGERPRINT_HEADER = "orch-fingerprint"
"""Header of a keyed command on the commands topic: the fingerprint of the request."""


@dataclass
class View:
    """What the reader has seen so far; guarded by `changed`'s lock."""

    incidents: IncidentLog = field(default_factory=IncidentLog)
    task_incident: dict[str, str] = field(default_factory=dict)
    commands: dict[str, tuple[Command, bytes | None]] = field(default_factory=dict)
    dead_letters: dict[str, DeadLetter] = field(default_factory=dict)
    outbox: list[OutboxRow] = field(default_factory=list)
    task_event_ids: set[str] = field(default_factory=set)
    changed: threading.Condition = field(default_factory=threading.Condition)


class Reader:
    """Follows the read topics from their beginning in a daemon thread, into a View."""

    def __init__(self, bootstrap: str, names: TopicNames, view: View) -> None:
        self.names = names
        self.view = view
        self.roles = {names.tasks(role): role for role in names.roles}
        self.topics = [names.incidents, names.deadletter, names.commands, *self.roles]
        self.follower = Follower(
            bootstrap, self.topics, self._guarded, view.changed, name="kafka-read-model"
        )

    def start(self, timeout_s: float = CATCH_UP_TIMEOUT_S) -> None:
        """Assign every partition of the read topics and read until caught up."""
        try:
            self.follower.start(timeout_s)
        except TimeoutError:
            raise TimeoutError(
                f"the read model did not catch up with {self.topics} in {timeout_s}s"
            ) from None

    def stop(self) -> None:
        """End the thread and close the consumer."""
        self.follower.stop()

    def _guarded(self, topic: str, record: Any) -> None:
        """Take one record; one this process cannot read is logged and left out of the view."""
        try:
            self._take(topic, record)
        except (ValueError, KeyError, TypeError, OrchestratorError) as error:
            log.warning(
                "read_model.skipped",
                topic=topic,
                partition=record.partition,
                offset=record.offset,
                error=str(error)[:300],
            )

    def _take(self, topic: str, record: Any) -> None:
        if not record.value:
            return
        if topic == self.names.incidents:
            self._incident_record(record)
        elif topic == self.names.deadletter:
            letter = DeadLetter.model_validate_json(record.value)
            self.view.dead_letters.setdefault(letter.id, letter)
        elif topic == self.names.commands:
            self._command_record(record)
        elif topic in self.roles:
            self._task_event(self.roles[topic], record.value)

    def _incident_record(self, record: Any) -> None:
        incidents = self.view.incidents
        incident_id = incidents.take(record, decode=True)
        incident = incidents.incident(incident_id) if incident_id is not None else None
        if incident is not None:
            for task in incident.tasks:
                self.view.task_incident[task.id] = incident.id

    def _command_record(self, record: Any) -> None:
        body = json.loads(record.value)
        if body.get("kind") == "command":
            command = Command.model_validate(body["command"])
            fingerprint = header(record.headers, FINGERPRINT_HEADER)
            self.view.commands.setdefault(command.id, (command, fingerprint))

    def _task_event(self, role: str, value: bytes) -> None:
        event = decode_task_event(value)
        if event.id in self.view.task_event_ids:  # a worker's crash can repeat outputs
            return
        self.view.task_event_ids.add(event.id)
        row = OutboxRow(
            seq=len(self.view.outbox) + 1,
            id=event.id,
            kind=event.kind,
            role=role,
            incident_id=event.incident_id,
            body=event.model_dump(mode="json"),
        )
        self.view.outbox.append(row)
