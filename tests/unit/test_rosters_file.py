"""A rosters file is read like a playbook: every mistake refused with file:line and field; the
shipped example loads, and its JSON Schema is exported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.engine import parse_time
from orchestrator.errors import RostersError
from orchestrator.playbook import load_rosters, load_rosters_text
from schemas.export import schema_documents

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "orchestrator" / "demo" / "rosters.yaml"

BROKEN = """\
roles:
  ops:
    layers:
      - name: weekly
        members: [dana]
        start: "2026-11-16T09:00"
        zone: Mars/Olympus
        shift: 7d
      - name: nights
        members: []
        start: "2026-11-16T09:00"
        zone: UTC
        shift: 1d
        restrict:
          - {days: [mon], from: "18:00", to: "08:00"}
    overrides:
      - {responder: sam, from: "2026-11-20T10:00:00Z", until: "2026-11-20T09:00:00Z"}
      - {responder: sam, from: "yesterday", until: "2026-11-20T09:00:00Z"}
    fallbak: [alex]
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(RostersError) as caught:
        load_rosters_text(text, "rosters.yaml")
    return [str(p) for p in caught.value.problems]


def test_schema_mistakes_are_refused_with_file_line_and_field() -> None:
    """Unknown fields, an empty member list and a malformed time each name their line."""
    problems = _problems(BROKEN)
    assert any(p.startswith("rosters.yaml:10: roles.ops.layers[1].members:") for p in problems)
    assert any(p.startswith("rosters.yaml:18: roles.ops.overrides[1].from:") for p in problems)
    assert any(p.startswith("rosters.yaml:19: roles.ops.fallbak: unknown field") for p in problems)


MEANINGLESS = """\
roles:
  ops:
    layers:
      - name: weekly
        members: [dana]
        start: "2026-11-16T09:00"
        zone: Mars/Olympus
        shift: 7d
      - name: nights
        members: [eli]
        start: "2026-11-16T09:00"
        zone: UTC
        shift: 1d
        restrict:
          - {days: [mon], from: "18:00", to: "08:00"}
    overrides:
      - {responder: sam, from: "2026-11-20T10:00:00Z", until: "2026-11-20T09:00:00Z"}
"""


def test_meaning_mistakes_are_refused_with_file_line_and_field() -> None:
    """A valid shape with an unknown zone, a window ending before it starts and an override
    ending before it begins: each one a problem at its line."""
    problems = _problems(MEANINGLESS)
    assert problems[0].startswith("rosters.yaml:7: roles.ops.layers[0].zone: unknown time zone")
    assert problems[1].startswith("rosters.yaml:15: roles.ops.layers[1].restrict[0]:")
    assert problems[2].startswith("rosters.yaml:17: roles.ops.overrides[0].until:")
    assert len(problems) == 3


def test_yaml_tricks_are_refused_as_in_playbooks() -> None:
    """Anchors, duplicate keys and custom tags are refused by the same reader as playbooks."""
    assert "anchors" in _problems("roles: &r {}\nfallback: *r\n")[0]
    assert "duplicate key" in _problems("roles: {}\nroles: {}\n")[0]
    assert "tag" in _problems("roles: !!python/object:os.system {}\n")[0]


def test_the_shipped_example_loads_and_answers() -> None:
    """The example beside the responders file loads; the ops override of an override holds."""
    loaded = load_rosters(EXAMPLE)
    on_call = loaded.rosters.on_call("ops", parse_time("2026-11-20T12:10:00Z"))
    assert (on_call.responders, on_call.via, on_call.source) == (
        ("dana.ops",),
        "override",
        "overrides[1]",
    )
    assert loaded.contacts["dana.ops"].email == "dana@example.com"


def test_rosters_schema_is_exported_and_committed() -> None:
    """schemas/json/rosters.schema.json is the format's schema, as `make schemas` writes it."""
    document = schema_documents()["rosters.schema.json"]
    committed = json.loads((ROOT / "schemas" / "json" / "rosters.schema.json").read_text())
    assert committed == document
    assert "from" in document["$defs"]["OverrideSpec"]["properties"]
