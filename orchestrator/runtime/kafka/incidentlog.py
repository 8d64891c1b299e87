"""The incidents topic as read: the one reader of <prefix>incidents, whoever follows it.

The incident agent publishes there a full snapshot of every incident a batch changed (header
orch-kind: incident), the incident events and the verdicts of commands (command_result), all
keyed by the incident id. An `IncidentLog` takes those records in topic order, from a
`Follower` (the API's read model, a worker's incident index) or a one-off `read_topic` (the
CLI's summary), and answers what they tell: each incident's newest snapshot, the shard it lives
in, and each command's first verdict.

Snapshots are kept as the JSON they came in and decoded when first asked for (a worker's intake
asks for the shards of a few incidents only); `take(record, decode=True)` decodes at once, so a
snapshot this process cannot read is refused before it replaces the one before.
"""

from __future__ import annotations

from typing import Any

from orchestrator.engine import shard_of
from orchestrator.runtime.kafka.codec import (
    COMMAND_RESULT,
    INCIDENT,
    KIND_HEADER,
    SHARD_HEADER,
    decode_incident,
    header,
)
from orchestrator.runtime.kafka.follow import Where
from schemas import CommandResult, Incident

_INCIDENT, _COMMAND_RESULT = INCIDENT.encode(), COMMAND_RESULT.encode()


def snapshot_shard(record: Any) -> tuple[str, bytes] | None:
    """The incident id and shard of a snapshot record of the incidents topic (its header
    orch-shard; a snapshot written before that header is decoded for its playbook and key:
    WireError when it cannot be); None for any other record."""
    if not record.value or header(record.headers, KIND_HEADER) != _INCIDENT:
        return None
    named = header(record.headers, SHARD_HEADER)
    if named is None:
        incident = decode_incident(record.value)
        named = shard_of(incident.playbook, incident.key).encode()
    return str(record.key.decode()), named


class IncidentLog:
    """Each incident's newest snapshot and each command's first verdict, as read so far."""

    def __init__(self) -> None:
        self.snapshots: dict[str, tuple[bytes, Where]] = {}
        """Incident id -> its newest snapshot's JSON and where it was read."""
        self.results: dict[str, tuple[CommandResult, Where]] = {}
        """Command id -> the first verdict published for it and where it was read."""
        self._decoded: dict[str, tuple[Where, Incident]] = {}

    def __contains__(self, incident_id: object) -> bool:
        return incident_id in self.snapshots

    def __len__(self) -> int:
        return len(self.snapshots)

    def take(self, record: Any, decode: bool = False) -> str | None:
        """Take one record of the incidents topic; the id of the incident whose snapshot it
        was, else None (an incident event, a verdict, an empty record)."""
        if not record.value:
            return None
        kind = header(record.headers, KIND_HEADER)
        where = Where(record.partition, record.offset)
        if kind == _INCIDENT:
            incident_id = str(record.key.decode())
            if decode:
                self._decoded[incident_id] = (where, decode_incident(record.value))
            self.snapshots[incident_id] = (bytes(record.value), where)
            return incident_id
        if kind == _COMMAND_RESULT:
            result = CommandResult.model_validate_json(record.value)
            self.results.setdefault(result.command_id, (result, where))
        return None

    def incident(self, incident_id: str) -> Incident | None:
        """The incident's newest snapshot, or None when none was read (WireError when it
        cannot be decoded)."""
        found = self.snapshots.get(incident_id)
        if found is None:
            return None
        value, where = found
        cached = self._decoded.get(incident_id)
        if cached is not None and cached[0] == where:
            return cached[1]
        incident = decode_incident(value)
        self._decoded[incident_id] = (where, incident)
        return incident

    def incidents(self) -> dict[str, Incident]:
        """Every incident's newest snapshot, by id, in the order they were first read."""
        found = {i: self.incident(i) for i in list(self.snapshots)}
        return {i: incident for i, incident in found.items() if incident is not None}

    def snapshot_at(self, incident_id: str) -> Where | None:
        """Where the incident's newest snapshot was read, or None."""
        found = self.snapshots.get(incident_id)
        return found[1] if found is not None else None

    def shard(self, incident_id: str) -> str | None:
        """The shard (engine.ids.shard_of) the incident lives in, or None when unknown."""
        incident = self.incident(incident_id)
        return shard_of(incident.playbook, incident.key) if incident is not None else None
