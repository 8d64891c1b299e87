"""Export JSON Schema files so editors and consumers can validate events, commands, playbook
YAML and the records of every Kafka topic (the contracts' models and schemas.records)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from schemas.cloudevents import IncidentCloudEvent, NotificationCloudEvent, TaskCloudEvent
from schemas.commands import Command, CommandResult
from schemas.deadletter import DeadLetter
from schemas.events import CATALOGUE, Event
from schemas.incidents import Incident, IncidentEvent
from schemas.playbook import PlaybookSpec
from schemas.records import ControlTick, ShardRecord
from schemas.rosters import RostersSpec
from schemas.tasks import TaskEvent

SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _document(model: type[BaseModel] | TypeAdapter[Any], schema_id: str) -> dict[str, Any]:
    is_adapter = isinstance(model, TypeAdapter)
    schema = model.json_schema() if is_adapter else model.model_json_schema()  # type: ignore[union-attr]
    return {"$schema": SCHEMA_DRAFT, "$id": schema_id, **schema}


WIRE_MODELS: dict[str, type[BaseModel] | TypeAdapter[Any]] = {
    "task_event": TaskEvent,
    "task_cloudevent": TaskCloudEvent,
    "incident": Incident,
    "incident_event": IncidentEvent,
    "incident_cloudevent": IncidentCloudEvent,
    "command_result": CommandResult,
    "dead_letter": DeadLetter,
    "shard_record": TypeAdapter(ShardRecord),
    "control_tick": ControlTick,
}
"""The record values of the Kafka topics (deploy/README.md, "Topics"), by schema name: a role
topic's records are task_cloudevents (data: a task_event), the incidents topic's incident events
incident_cloudevents (data: an incident_event)."""


def schema_documents() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema document, for every exported contract."""
    documents = {
        "event.schema.json": _document(Event, "event.schema.json"),
        "command.schema.json": _document(Command, "command.schema.json"),
        "playbook.schema.json": _document(PlaybookSpec, "playbook.schema.json"),
        "rosters.schema.json": _document(RostersSpec, "rosters.schema.json"),
        "notification_cloudevent.schema.json": _document(
            NotificationCloudEvent, "notification_cloudevent.schema.json"
        ),
    }
    for name, wire in WIRE_MODELS.items():
        documents[f"{name}.schema.json"] = _document(wire, f"{name}.schema.json")
    for event_type, model in CATALOGUE.items():
        name = f"data.{event_type}.schema.json"
        documents[name] = _document(model, name)
    return documents


def render(document: dict[str, Any]) -> str:
    """A schema as the committed file holds it: sorted keys, two-space indent, final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export_schemas(directory: Path) -> list[Path]:
    """Write every schema into `directory`; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in schema_documents().items():
        path = directory / name
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    return written
