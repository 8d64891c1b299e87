"""The Kafka runtime as the API sees it: records and commands go to the workers' topics, reads
come from a read model this process keeps of what the workers publish.

    POST /events    -> <prefix>events.raw (keyed by source + id), once the broker acked it
    task commands   -> <prefix>commands (keyed by the incident's shard); the verdict is the
                       CommandResult the owning worker publishes on <prefix>incidents
    reads           <- <prefix>incidents (newest snapshot per incident, command results),
                       <prefix>deadletter, <prefix>commands, <prefix>tasks.<role>

One background thread (orchestrator.runtime.kafka.view: the read model) follows those topics
from their beginning; `start` returns once it has caught up with what was there.

Differences from the embedded runtime, and limits:
- Intake answers as soon as the broker has the record: every record is "accepted" with the
  reason "queued" (HTTP 202). A worker validates and dedupes it afterwards; an invalid record
  ends on <prefix>deadletter (GET /dead-letters), a duplicate is dropped silently.
- Commands wait up to `command_timeout_s` for the engine's verdict; no worker answering in time
  raises CommandTimeout (the API answers 500; the command may still be applied later: retry it
  with the same Idempotency-Key). After the verdict, reads wait briefly for the incident's new
  snapshot, so that a responder reads their own write.
- An Idempotency-Key becomes the command id (a hash of responder and key): the engine answers a
  retried command with its first verdict. The request's fingerprint travels as a header on the
  commands topic, so a key reused for another request is refused even by another API process,
  unless both arrive before either is on the topic (then the engine's first verdict answers).
- Reads are eventually consistent with the workers (milliseconds behind when all is well).
- The feed's seq numbers count task events in the order this process read them: a client's
  Last-Event-ID resumes correctly only against the same API process.
- Everything read is held in memory: size the API's memory with the incidents topic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import structlog
from kafka import KafkaProducer

from orchestrator.engine import (
    EventValidator,
    Millis,
    Playbook,
    Role,
    claim_refusal,
    command_refusal,
    dead_letter,
    incident_summary,
    ordered,
    shard_of,
)
from orchestrator.errors import EventRejected, IdempotencyKeyReused, RuntimeUnavailable
from orchestrator.runtime.base import (
    CommandOutcome,
    IdempotencyKey,
    IntakeResult,
    OutboxRow,
    roles_of,
    wall_clock,
)
from orchestrator.runtime.kafka.codec import encode_command, output_record, partition_for
from orchestrator.runtime.kafka.drills import record_key
from orchestrator.runtime.kafka.follow import Where
from orchestrator.runtime.kafka.readmodel import intake_counters
from orchestrator.runtime.kafka.topics import TopicNames
from orchestrator.runtime.kafka.view import FINGERPRINT_HEADER, Reader, View
from orchestrator.runtime.kafka.worker import prepare_topics
from orchestrator.settings import Settings
from schemas import COMMAND_EVENT_TYPE, Command, CommandResult, DeadLetter, Incident, Origin, Task

log = structlog.get_logger("orchestrator.runtime.kafka")

COMMAND_TIMEOUT_S = 10.0
"""How long a command waits for the engine's verdict."""
SNAPSHOT_WAIT_S = 2.0
"""After a verdict, how long reads may lag before the answer goes out anyway."""
SEND_TIMEOUT_S = 30.0
QUEUED = "queued"
"""The reason an accepted record carries: on Kafka, accepted means queued for a worker."""


class _Peek(msgspec.Struct):
    """An event's type and source, read without validating the rest (the worker validates)."""

    type: str | None = None
    source: str | None = None


class CommandTimeout(RuntimeUnavailable):
    """No worker published a verdict in time; the command may still be applied later."""

    def __init__(self, command_id: str, topic: str, timeout_s: float) -> None:
        super().__init__(
            f"no verdict for command {command_id} within {timeout_s}s; is a worker running for "
            f"{topic}? Retry with the same Idempotency-Key to learn the verdict"
        )


def keyed_command_id(key: IdempotencyKey) -> str:
    """The command id of a keyed request: the same responder and key give the same id."""
    digest = hashlib.sha256(f"{key.scope}\x1f{key.key}".encode()).hexdigest()
    return f"cmd-k{digest[:32]}"


class KafkaRuntime:
    """The `Runtime` of the API over Kafka workers (see the module docstring for its limits)."""

    def __init__(
        self,
        settings: Settings,
        playbooks: list[Playbook],
        command_timeout_s: float = COMMAND_TIMEOUT_S,
        source_claims: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.settings = settings
        self.claims = dict(source_claims or {})
        """Named ingest senders and the event sources each may claim (checked at intake)."""
        declared = {k: v for pb in playbooks for k, v in pb.event_types.items()}
        self.validator = EventValidator(declared)
        self.bootstrap = settings.kafka_bootstrap_servers
        self.names = TopicNames.of(settings, playbooks)
        self.playbooks = playbooks
        self.command_timeout_s = command_timeout_s
        self.view = View()
        self.producer: Any = None
        self.reader: Reader | None = None

    def start(self) -> KafkaRuntime:
        """Create missing topics, connect, and catch up with the topics' current contents."""
        prepare_topics(self.settings, self.names)
        self.producer = KafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            linger_ms=2,
            max_in_flight_requests_per_connection=1,
        )
        self.reader = Reader(self.bootstrap, self.names, self.view)
        self.reader.start()
        log.info(
            "kafka_runtime.ready", prefix=self.names.prefix, incidents=len(self.view.incidents)
        )
        return self

    def close(self) -> None:
        """Stop reading and flush the producer."""
        if self.reader is not None:
            self.reader.stop()
        if self.producer is not None:
            self.producer.close(timeout=SEND_TIMEOUT_S)

    # -- writes --------------------------------------------------------------------------------

    def submit(self, records: list[bytes], origin: Origin) -> list[IntakeResult]:
        """Produce the records to events.raw; each is "accepted" (queued) once the broker has
        it (the worker records its topic, partition and offset as its origin). A command event
        is refused here by the admission rule (core/admission.py) with its dead letter, as the
        embedded runtime does: from the network, responders act through the agent API."""
        results: list[IntakeResult | None] = []
        futures = []
        for raw in records:
            letter = self._refused(raw, origin)
            if letter is None:
                topic, key, value = self.names.events_raw, record_key(raw), raw
                results.append(None)
            else:
                out = output_record(letter, self.names)
                topic, key, value = out.topic, out.key, out.value
                results.append(IntakeResult("rejected", letter.reason, letter.id))
            futures.append(self.producer.send(topic, key=key, value=value))
        for future in futures:
            future.get(timeout=SEND_TIMEOUT_S)
        return [result or IntakeResult("accepted", QUEUED) for result in results]

    def _refused(self, raw: bytes, origin: Origin) -> DeadLetter | None:
        """The dead letter of a valid event the admission rule refuses from this origin before
        a worker sees it (core/admission.py, as the embedded engine applies it): a command event
        (this API serves no drill namespace), or a source its sender may not claim. None: the
        worker judges the record (and names what is wrong with an invalid one)."""
        try:
            peeked = msgspec.json.decode(raw, type=_Peek)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        if peeked.type == COMMAND_EVENT_TYPE:
            refused = command_refusal(origin.kind, network_commands=False)
        else:
            refused = claim_refusal(origin.sender, peeked.source or "", self.claims)
        if refused is None:
            return None
        try:
            event = self.validator.parse(raw)
        except EventRejected:
            return None
        return dead_letter(raw, refused, origin, event)

    def command(self, command: Command) -> CommandResult:
        """Produce the command to its shard on the commands topic; the engine's verdict."""
        return self._send(command, None)

    def command_once(self, command: Command, key: IdempotencyKey) -> CommandOutcome:
        """`command` under the id the key derives; a retry gets the first verdict."""
        command_id = keyed_command_id(key)
        with self.view.changed:
            seen = self.view.commands.get(command_id)
        if seen is not None:
            first, fingerprint = seen
            if fingerprint is not None and fingerprint.decode() != key.fingerprint:
                raise IdempotencyKeyReused(key.scope, key.key)
            return CommandOutcome(first, self._verdict(command_id), replayed=True)
        keyed = command.model_copy(update={"id": command_id})
        return CommandOutcome(keyed, self._send(keyed, key.fingerprint))

    def _send(self, command: Command, fingerprint: str | None) -> CommandResult:
        with self.view.changed:
            incident = self._incident_of(command)
            before = self.view.incidents.snapshot_at(incident.id) if incident else None
        if command.playbook and command.key is not None:
            shard = shard_of(command.playbook, command.key)
        elif incident is not None:
            shard = shard_of(incident.playbook, incident.key)
        else:
            target = command.incident_id or command.task_id
            return CommandResult(
                command_id=command.id,
                accepted=False,
                reason=f"no incident or task {target!r} is known",
                task_id=command.task_id,
                incident_id=command.incident_id,
            )
        topic = self.names.commands
        partition = partition_for(shard.encode(), len(self.producer.partitions_for(topic)))
        headers = [(FINGERPRINT_HEADER, fingerprint.encode())] if fingerprint else None
        self.producer.send(
            topic,
            key=shard.encode(),
            value=encode_command(command),
            partition=partition,
            headers=headers,
        ).get(timeout=SEND_TIMEOUT_S)
        result = self._verdict(command.id)
        if incident is not None:
            self._await_snapshot(incident.id, before)
        return result

    def _incident_of(self, command: Command) -> Incident | None:
        task_incident = self.view.task_incident.get(command.task_id or "")
        return self.view.incidents.incident(command.incident_id or task_incident or "")

    def _verdict(self, command_id: str) -> CommandResult:
        """The command's result, once a worker has published it."""
        view = self.view
        with view.changed:
            if not view.changed.wait_for(
                lambda: command_id in view.incidents.results, self.command_timeout_s
            ):
                raise CommandTimeout(command_id, self.names.commands, self.command_timeout_s)
            return view.incidents.results[command_id][0]

    def _await_snapshot(self, incident_id: str, before: Where | None) -> None:
        """Wait briefly for a newer snapshot of the incident, so the responder reads their
        write (a command that changed nothing publishes none: then the wait runs out)."""
        view = self.view
        with view.changed:
            view.changed.wait_for(
                lambda: view.incidents.snapshot_at(incident_id) != before, SNAPSHOT_WAIT_S
            )

    # -- reads ---------------------------------------------------------------------------------

    def now(self) -> Millis:
        """The wall clock."""
        return wall_clock()

    def loaded_playbooks(self) -> Sequence[Playbook]:
        """The playbooks this runtime runs."""
        return list(self.playbooks)

    def roles(self) -> Mapping[str, Role]:
        """Every role the loaded playbooks know, by name."""
        return roles_of(self.playbooks)

    def incidents(self) -> list[Incident]:
        """Every incident's newest snapshot, in the order they opened."""
        with self.view.changed:
            return ordered(list(self.view.incidents.incidents().values()))

    def incident(self, incident_id: str) -> Incident | None:
        """One incident's newest snapshot, or None."""
        with self.view.changed:
            return self.view.incidents.incident(incident_id)

    def task(self, task_id: str) -> Task | None:
        """One task, from its incident's newest snapshot, or None."""
        with self.view.changed:
            incident = self.view.incidents.incident(self.view.task_incident.get(task_id, ""))
        return next((t for t in incident.tasks if t.id == task_id), None) if incident else None

    def tasks(self, role: str | None = None, status: str | None = None) -> list[Task]:
        """Tasks of every incident, filtered by role and status."""
        return [
            t
            for i in self.incidents()
            for t in i.tasks
            if role in (None, t.role) and status in (None, t.status.value)
        ]

    def summary(self) -> dict[str, Any]:
        """The contract summary: intake counters from the workers' changelog (read on each
        call), commands and incidents from the read model."""
        events = intake_counters(self.bootstrap, self.settings.app_id)
        with self.view.changed:
            verdicts = [r.accepted for r, _where in self.view.incidents.results.values()]
        return {
            "events": events,
            "commands": {"applied": verdicts.count(True), "rejected": verdicts.count(False)},
            "incidents": [incident_summary(i) for i in self.incidents()],
        }

    def dead_letters(self, limit: int = 1000) -> list[DeadLetter]:
        """Dead letters in the order this process read them (per partition: oldest first)."""
        with self.view.changed:
            return list(self.view.dead_letters.values())[:limit]

    def outbox_after(self, seq: int, role: str | None = None, wait: float = 0.0) -> list[OutboxRow]:
        """Task events read after `seq` (a role's, if given); waits up to `wait` s for one."""
        view = self.view

        def rows() -> list[OutboxRow]:
            return [r for r in view.outbox[seq:] if role in (None, r.role)]

        with view.changed:
            found = rows()
            if not found and wait > 0:
                view.changed.wait_for(lambda: bool(rows()), wait)
                found = rows()
            return found
