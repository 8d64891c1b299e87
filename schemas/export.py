"""Export JSON Schema files so editors can validate events, commands and playbook YAML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.commands import Command
from schemas.events import CATALOGUE, Event
from schemas.playbook import PlaybookSpec

SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _document(model: type[BaseModel], schema_id: str) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"$schema": SCHEMA_DRAFT, "$id": schema_id, **schema}


def schema_documents() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema document, for every exported contract."""
    documents = {
        "event.schema.json": _document(Event, "event.schema.json"),
        "command.schema.json": _document(Command, "command.schema.json"),
        "playbook.schema.json": _document(PlaybookSpec, "playbook.schema.json"),
    }
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
