"""A request's records go to storage as one batch (runtime/embedded/intake.py): numbered as
SQLite numbers rows, their outputs tagged with the right input, applied at one `now`, and a
restart replays them to the same state."""

from __future__ import annotations

from pathlib import Path

from orchestrator.engine.clock import parse_time
from orchestrator.engine.step import Engine
from orchestrator.engine.summary import summary
from orchestrator.playbook import load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.runtime.embedded.store import Store
from orchestrator.testing import ManualClock, encode, event
from schemas.deadletter import Origin

HTTP = Origin(kind="http", name="/events", sender="prometheus")
START = "2026-11-20T10:00:00Z"


def alert(service: str, number: int) -> bytes:
    return encode(
        event(
            "ops.alert",
            START,
            id=f"a{number}",
            alertname="Down",
            service=service,
            status="firing",
            severity="critical",
        )
    )


def test_batched_inputs_are_numbered_as_sqlite_numbers_rows(tmp_path: Path) -> None:
    """One input, three in a batch, then one inserted without a number: 1..5, no gap."""
    store = Store(tmp_path / "db")
    store.begin()
    assert store.append_input("tick", 0, b"", None) == 1
    assert store.append_inputs("raw", 7, [b"a", b"b", b"c"], "{}") == 2
    store.db.execute("INSERT INTO inputs (kind, now, body) VALUES ('tick', 0, x'')")
    store.commit()
    rows = [(s.seq, s.kind, s.now, s.body) for s in store.inputs_after(0)]
    assert rows == [
        (1, "tick", 0, b""),
        (2, "raw", 7, b"a"),
        (3, "raw", 7, b"b"),
        (4, "raw", 7, b"c"),
        (5, "tick", 0, b""),
    ]
    store.close()


def test_a_request_is_stored_as_its_records_with_their_outputs(tmp_path: Path) -> None:
    """Accepted, duplicate and rejected records of one request: results in order, each
    output row tagged with its own record, every record at the request's `now`; a reopened
    runtime replays them to the same summary."""
    engine = Engine(load_directory("playbooks"))
    clock = ManualClock(START)
    runtime = EmbeddedRuntime.open(engine, tmp_path, clock=clock.now)
    runtime.submit([alert("api", 0)], HTTP)
    clock.value = parse_time("2026-11-20T10:00:05Z")
    records = [alert("db", 1), alert("api", 0), b"{not json", alert("api", 2)]
    results = runtime.submit(records, HTTP)
    assert [r.status for r in results] == ["accepted", "duplicate", "rejected", "accepted"]
    assert results[2].reason is not None
    assert results[2].reason.startswith("not valid JSON")
    stored = list(runtime.store.inputs_after(1))
    assert [s.body for s in stored] == records
    assert {s.now for s in stored} == {parse_time("2026-11-20T10:00:05Z")}
    assert {s.origin for s in stored} == {HTTP.model_dump_json()}
    letters = runtime.store.db.execute("SELECT input_seq, id FROM dead_letters").fetchall()
    assert letters == [(4, results[2].dead_letter_id)]
    (letter,) = runtime.dead_letters()
    assert letter.origin == HTTP.model_copy(update={"offset": 4})
    opened = runtime.store.db.execute(
        "SELECT input_seq FROM outbox WHERE kind = 'incident.opened' ORDER BY seq"
    ).fetchall()
    assert opened == [(1,), (2,)]
    before = summary(runtime.state)
    runtime.store.close()
    again = EmbeddedRuntime.open(engine, tmp_path, clock=clock.now)
    assert summary(again.state) == before
    again.close()
