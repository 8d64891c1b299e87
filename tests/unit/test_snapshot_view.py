"""Snapshot views (engine/stateview.py): taken while nothing changes the state, encoded later in
bounded pieces; joined, the pieces are the bytes one encode of the whole state gave, whatever
the engine did to the state between the view and its encoding."""

from __future__ import annotations

import json

import msgspec

from orchestrator.engine import encode_chunks, encode_snapshot, snapshot, snapshot_view
from orchestrator.engine.state import snapshot_parts
from orchestrator.engine.stateview import FIRST_CHUNK_ITEMS
from orchestrator.playbook import load_directory
from orchestrator.settings import shipped_playbooks
from orchestrator.testing import Drill, command, event

SERVICES = FIRST_CHUNK_ITEMS + 16
"""Enough incidents, dedupe keys and timers that each of them is encoded in pieces."""


def at(minute: int) -> str:
    return f"2026-11-20T10:{minute:02d}:00Z"


def alert(n: int, minute: int, service: str, severity: str = "critical") -> dict[str, object]:
    return event(
        "ops.alert",
        at(minute),
        id=f"a{n}",
        alertname="Down",
        service=service,
        status="firing",
        severity=severity,
    )


def metric(n: int, minute: int) -> dict[str, object]:
    return event("ops.metric", at(minute), id=f"m{n}", service="db", metric="error_rate", value=0.2)


def busy() -> Drill:
    """Incidents over SERVICES services, a warning held for a key with no incident, a window."""
    drill = Drill.of(load_directory(shipped_playbooks()))
    drill.feed(*(alert(n, 0, f"svc{n}") for n in range(SERVICES)))
    drill.feed(alert(1000, 1, "quiet", severity="warning"), metric(1, 1))
    return drill


def test_the_pieces_join_to_the_one_piece_encoding() -> None:
    """Encoded in pieces of one entry (after the first few), the snapshot is byte for byte what
    one msgspec encode of the whole state gives, and restores to the same state."""
    state = busy().state
    pieces = list(encode_chunks(snapshot_view(state), chunk_bytes=1))
    whole = msgspec.json.encode(dict(snapshot_parts(state)))
    assert len(pieces) > 3 * (SERVICES - FIRST_CHUNK_ITEMS)
    assert b"".join(pieces) == whole == encode_snapshot(state)
    assert json.loads(whole)["held"]
    assert json.loads(whole)["windows"]


def test_a_view_is_the_state_when_it_was_taken() -> None:
    """What the engine changes after the view (windows and held events changed in place, new
    incidents, dedupe keys, timers fired, a command) is not in the view's encoding."""
    drill = busy()
    view, before = snapshot_view(drill.state), encode_snapshot(drill.state)
    task_id = drill.incident("tech_outage", "svc0").tasks[0].id
    drill.feed(metric(2, 2), alert(1001, 2, "quiet", severity="warning"), alert(1002, 2, "new"))
    drill.feed(command("ack", at(3), task_id=task_id))
    drill.until("2026-11-20T12:00:00Z")
    after, then = snapshot(drill.state), json.loads(before)
    for part in ("windows", "held", "seen", "incidents", "timers", "commands", "counters"):
        assert after[part] != then[part], part
    assert b"".join(encode_chunks(view, chunk_bytes=1)) == before
