"""Wire formats of the Kafka runtime: what the records of each topic hold, as bytes.

    <prefix>events.raw        CloudEvents JSON, as senders wrote it (key: source + id)
                              or a control record (header orch-control: tick; drills' --until)
    <prefix>incidents.keyed   a ShardMessage (event, command or tick), key: the shard
    <prefix>commands          a ShardMessage (command or tick), key: the shard
    <prefix>incidents         Incident snapshots (key: the incident id), IncidentEvents as the
                              data of structured CloudEvents (key: incident id + event id,
                              content-type header) and CommandResults (key: incident id +
                              command id), all on the incident id's partition; the header
                              orch-kind says which. Compacted: the newest snapshot of each
                              incident and every event and verdict stay
    <prefix>tasks.<role>      TaskEvents as the data of structured CloudEvents (header
                              content-type: application/cloudevents+json), key: the incident id
    <prefix>deadletter        DeadLetters, key: the dead letter's id

Every value is UTF-8 JSON; decoding a value this module did not write raises WireError, which
the agents turn into a dead letter.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from kafka.partitioner.default import murmur2
from pydantic import ValidationError

from orchestrator.adapters import (
    STRUCTURED_MEDIA_TYPE,
    cloudevent_data,
    incident_cloudevent,
    task_cloudevent,
)
from orchestrator.engine import (
    SEP,
    CommandInput,
    EventInput,
    Input,
    Millis,
    Tick,
    format_time,
    parse_time,
)
from orchestrator.errors import OrchestratorError
from orchestrator.runtime.kafka.topics import TopicNames
from schemas import Command, CommandResult, DeadLetter, Event, Incident, IncidentEvent, TaskEvent

CONTENT_TYPE_HEADER = "content-type"
KIND_HEADER = "orch-kind"
SHARD_HEADER = "orch-shard"
"""The header of an incident snapshot naming its shard ("playbook\x1fkey", engine.ids.shard_of)."""
"""Header of records on the incidents topic: incident, incident_event or command_result."""
CONTROL_HEADER = "orch-control"
"""Header of a control record on events.raw (value {"now": time}): tick every shard."""
CONTROL_TICK = b"tick"
INCIDENT, INCIDENT_EVENT, COMMAND_RESULT = "incident", "incident_event", "command_result"
BROADCAST_KEY = b"*"
"""Key of a tick meant for every shard of one partition of incidents.keyed."""

Headers = tuple[tuple[str, bytes], ...]


class WireError(OrchestratorError):
    """A record's bytes are not what its topic carries; `reason` goes to the dead letter."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class Record:
    """One record to produce."""

    topic: str
    key: bytes
    value: bytes
    headers: Headers = ()
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class ShardMessage:
    """An input for a shard; `now` is the tick's time (None: the shard's own event clock)."""

    item: Input
    now: Millis | None = None
    broadcast: bool = False


_POSITIVE = 0x7FFFFFFF
PARTITION_CACHE = 65_536
"""Keys whose partition is remembered (shards and incidents repeat; event keys do not)."""


@functools.lru_cache(maxsize=PARTITION_CACHE)
def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as the Java client) gives `key`:
    the runtime's one partitioning rule, which workers check every input against (cached:
    kafka-python's murmur2 is pure Python, and shard keys repeat)."""
    return int(murmur2(key) & _POSITIVE) % partitions


def event_key(source: str, event_id: str) -> bytes:
    """An event's key on events.raw: source + id (intake dedupes and places it by this key)."""
    return f"{source}{SEP}{event_id}".encode()


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def encode_event(event: Event) -> bytes:
    """An accepted event, re-keyed to its shard."""
    return _dumps({"kind": "event", "event": event.model_dump(mode="json")})


def encode_command(command: Command) -> bytes:
    """A responder command for the shard of its incident."""
    return _dumps({"kind": "command", "command": command.model_dump(mode="json")})


def encode_tick(now: Millis, broadcast: bool = False) -> bytes:
    """A tick at `now` for one shard, or (broadcast) for every shard of a partition."""
    return _dumps({"kind": "tick", "now": format_time(now), "all": broadcast})


def encode_control_tick(now: Millis) -> bytes:
    """The value of a control record asking intake to tick every shard at `now`."""
    return _dumps({"now": format_time(now)})


def decode_control_tick(value: bytes) -> Millis:
    """The time of a control tick record."""
    body = _loads(value)
    if not isinstance(body.get("now"), str):
        raise WireError('a control tick is {"now": "<RFC 3339 time>"}')
    return _time(body["now"])


def _loads(value: bytes | None) -> dict[str, Any]:
    if value is None:
        raise WireError("the record has no value")
    try:
        body = json.loads(value)
    except (UnicodeDecodeError, ValueError) as err:
        raise WireError(f"not valid JSON: {err}") from None
    if not isinstance(body, dict):
        raise WireError(f"expected a JSON object, not {type(body).__name__}")
    return body


def _time(text: str) -> Millis:
    try:
        return parse_time(text)
    except ValueError as err:
        raise WireError(f"bad time {text!r}: {err}") from None


def decode_shard_message(value: bytes | None, shard: str) -> ShardMessage:
    """The input a record of incidents.keyed or commands holds for `shard`."""
    body = _loads(value)
    kind = body.get("kind")
    try:
        if kind == "event":
            return ShardMessage(EventInput(Event.model_validate(body["event"]), shard=shard))
        if kind == "command":
            return ShardMessage(CommandInput(Command.model_validate(body["command"])))
    except (KeyError, ValidationError) as err:
        raise WireError(f"bad {kind} record: {str(err)[:300]}") from None
    if kind == "tick" and isinstance(body.get("now"), str):
        return ShardMessage(Tick(), _time(body["now"]), broadcast=bool(body.get("all")))
    raise WireError(f"unknown record kind {kind!r}; expected event, command or tick")


Published = TaskEvent | IncidentEvent | DeadLetter | CommandResult
"""The engine outputs that go to topics (a `Retired` incident's last snapshot is there already)."""


def output_record(output: Published, names: TopicNames, partitions: int = 1) -> Record:
    """Where an engine output goes, placed so that one incident's records stay in order: the
    incidents topic's records on their incident's partition (of `partitions`), under keys that
    compaction keeps apart (only snapshots share a key: the incident id)."""
    if isinstance(output, TaskEvent):
        value = task_cloudevent(output, names.source)
        return Record(names.tasks(output.role), output.incident_id.encode(), value, STRUCTURED)
    if isinstance(output, DeadLetter):
        return Record(names.deadletter, output.id.encode(), _json(output))
    if isinstance(output, IncidentEvent):
        incident, own = output.incident_id, output.id
        value, headers = incident_cloudevent(output, names.source), _INCIDENT_EVENT_HEADERS
    else:
        incident, own = output.incident_id or output.command_id, output.command_id
        value, headers = _json(output), _kind(COMMAND_RESULT)
    key = f"{incident}{SEP}{own}".encode()
    home = partition_for(incident.encode(), partitions)
    return Record(names.incidents, key, value, headers, home)


def incident_record(
    incident_id: str,
    incident: bytes,
    names: TopicNames,
    partitions: int = 1,
    shard: bytes | None = None,
) -> Record:
    """A full incident snapshot (the Incident model's JSON) for read models and summaries;
    with `shard`, header orch-shard names the shard it lives in, so that a worker's incident
    index learns it without decoding the snapshot."""
    key = incident_id.encode()
    home = partition_for(key, partitions)
    headers = _INCIDENT_HEADERS if shard is None else (*_INCIDENT_HEADERS, (SHARD_HEADER, shard))
    return Record(names.incidents, key, incident, headers, home)


def _json(model: TaskEvent | IncidentEvent | DeadLetter | CommandResult) -> bytes:
    return model.model_dump_json().encode("utf-8")


def _kind(kind: str) -> Headers:
    return ((KIND_HEADER, kind.encode()),)


STRUCTURED: Headers = ((CONTENT_TYPE_HEADER, STRUCTURED_MEDIA_TYPE.encode()),)
"""Headers of a structured-mode CloudEvent (the Kafka binding's content-type)."""
_INCIDENT_EVENT_HEADERS = _kind(INCIDENT_EVENT) + STRUCTURED
_INCIDENT_HEADERS = _kind(INCIDENT)


def decode_task_event(value: bytes) -> TaskEvent:
    """A task event from a role topic: the `data` of its CloudEvent (or a bare TaskEvent, as
    records were written before the envelope)."""
    try:
        return TaskEvent.model_validate_json(cloudevent_data(value))
    except (ValueError, ValidationError) as err:
        raise WireError(f"bad task event: {str(err)[:300]}") from None


def header(headers: Any, name: str) -> bytes | None:
    """The value of header `name` in a record's headers (a list of pairs, or a mapping)."""
    pairs = headers.items() if hasattr(headers, "items") else (headers or ())
    for key, value in pairs:
        if key == name:
            return bytes(value) if value is not None else None
    return None


def decode_incident(value: bytes) -> Incident:
    """An incident snapshot from the incidents topic."""
    try:
        return Incident.model_validate_json(value)
    except ValidationError as err:
        raise WireError(f"bad incident snapshot: {str(err)[:300]}") from None
