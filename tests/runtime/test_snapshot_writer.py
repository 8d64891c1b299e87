"""Snapshots off the request path: encoded from the models, written on a thread of their own to
a file of their own; recovery takes the newest snapshot there or in an older database's table."""

from __future__ import annotations

import json
import sqlite3
import threading
import tracemalloc
from pathlib import Path

import pytest
from pydantic_core import to_json

from orchestrator.engine import (
    Engine,
    encode_chunks,
    encode_snapshot,
    format_time,
    parse_time,
    restore,
    snapshot,
    snapshot_view,
    summary,
)
from orchestrator.playbook import load_directory
from orchestrator.runtime.base import wall_clock
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.runtime.embedded.snapshots import SNAPSHOT_FILE, SnapshotWriter
from orchestrator.testing import ManualClock, encode, event
from schemas import Command, Origin

HTTP = Origin(kind="http", name="/events")
START = "2026-11-20T10:00:00Z"


def alert(n: int) -> bytes:
    """A firing alert for service n % 3, n minutes after START (opens or joins an incident)."""
    at = f"2026-11-20T10:{n:02d}:00Z"
    return encode(
        event(
            "ops.alert",
            at,
            id=f"a{n}",
            alertname="Down",
            service=f"svc{n % 3}",
            status="firing",
            severity="critical",
        )
    )


@pytest.fixture
def engine() -> Engine:
    return Engine(load_directory("playbooks"))


def fed(engine: Engine, path: Path, inputs: int, every: int) -> EmbeddedRuntime:
    """A runtime given `inputs` alerts one by one, each snapshot written before the next input
    (a snapshot due while the one before is still being written is taken a batch later)."""
    clock = ManualClock(START)
    runtime = EmbeddedRuntime.open(engine, path, snapshot_every=every, clock=clock.now)
    for n in range(inputs):
        clock.value = parse_time(f"2026-11-20T10:{n:02d}:00Z")
        runtime.submit([alert(n)], HTTP)
        runtime.snapshots.flush()
    return runtime


def test_the_encoded_snapshot_restores_the_same_state(engine: Engine, tmp_path: Path) -> None:
    """encode_snapshot (models encoded directly, no task index) restores to the state whose
    snapshot is that of the dict path."""
    runtime = fed(engine, tmp_path, 9, every=1000)
    state = runtime.state
    assert snapshot(restore(json.loads(encode_snapshot(state)))) == snapshot(state)
    assert (
        json.loads(encode_snapshot(state))["incidents"]
        == json.loads(to_json(snapshot(state)))["incidents"]
    )
    runtime.close()


def test_restart_recovers_from_the_snapshot_file(engine: Engine, tmp_path: Path) -> None:
    """Snapshots every 4 inputs land in snapshots.db; a restart without a final snapshot starts
    from the newest there (input 8) and replays the one input after it."""
    runtime = fed(engine, tmp_path, 9, every=4)
    before = summary(runtime.state)
    runtime.snapshots.close()
    runtime.store.close()
    with sqlite3.connect(tmp_path / "snapshots.db") as db:
        assert [r[0] for r in db.execute("SELECT seq FROM snapshot_done ORDER BY seq")] == [4, 8]
    again = EmbeddedRuntime.open(engine, tmp_path)
    assert summary(again.state) == before
    again.close()


def test_a_database_with_its_snapshot_in_the_old_table_recovers(
    engine: Engine, tmp_path: Path
) -> None:
    """A snapshot kept in orchestrator.db's own table (before snapshots.db) is still used."""
    runtime = fed(engine, tmp_path, 6, every=1000)
    before, data = summary(runtime.state), to_json(snapshot(runtime.state))
    runtime.snapshots.close()
    runtime.store.close()
    (tmp_path / "snapshots.db").unlink()
    with sqlite3.connect(tmp_path / "orchestrator.db") as db:
        db.execute("INSERT INTO snapshots (seq, state) VALUES (6, ?)", (data.decode(),))
        db.execute("DELETE FROM inputs")  # only the snapshot can give the state back
    again = EmbeddedRuntime.open(engine, tmp_path)
    assert summary(again.state) == before
    again.close()


def test_a_snapshot_in_parts_and_one_from_before_parts_are_both_read(
    engine: Engine, tmp_path: Path
) -> None:
    """A snapshot larger than a part is stored in several, each committed on its own, and read
    back whole; a snapshots.db row written before parts (one blob) is still read, and the
    next snapshot in parts replaces it; parts of a write that never finished are ignored."""
    state = fed(engine, tmp_path / "feed", 9, every=1000).state
    writer = SnapshotWriter(tmp_path / SNAPSHOT_FILE, part_bytes=1000)
    whole = encode_snapshot(state)
    writer.db.execute("INSERT INTO snapshots (seq, state) VALUES (5, ?)", (whole,))
    writer.db.execute("INSERT INTO snapshot_parts (seq, bytes) VALUES (7, x'7b')")  # unfinished
    assert writer.latest() == (5, json.loads(whole))
    writer.offer(6, encode_chunks(snapshot_view(state)))
    writer.flush()
    assert writer.latest() == (6, json.loads(whole))
    parts = writer.db.execute("SELECT count(*) FROM snapshot_parts WHERE seq = 6").fetchone()[0]
    assert 1 < parts <= -(-len(whole) // 1000)
    assert writer.db.execute("SELECT seq FROM snapshot_parts WHERE seq <> 6").fetchall() == []
    assert writer.db.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 0
    writer.close()


def test_restarts_with_no_input_between_recover_every_time(engine: Engine, tmp_path: Path) -> None:
    """Opening and closing the same database again and again with no input between (each close
    offers a snapshot of the input already snapshotted) leaves one set of parts per snapshot,
    and every reopening recovers the same state (a second set of parts under the same input
    once made recovery fail: the joined parts were two snapshots)."""
    runtime = fed(engine, tmp_path, 9, every=1000)
    before = summary(runtime.state)
    runtime.close()
    for _ in range(3):
        again = EmbeddedRuntime.open(engine, tmp_path)
        assert summary(again.state) == before
        again.close()
    with sqlite3.connect(tmp_path / SNAPSHOT_FILE) as db:
        rows = db.execute("SELECT seq, parts FROM snapshot_done").fetchall()
        stored = dict(db.execute("SELECT seq, count(*) FROM snapshot_parts GROUP BY seq"))
    assert rows
    assert all(stored[seq] == parts for seq, parts in rows)


def test_a_second_set_of_parts_under_one_input_is_not_joined(tmp_path: Path) -> None:
    """A database already holding two writes' parts under one input (written before the fix)
    reads as the first write's parts alone."""
    writer = SnapshotWriter(tmp_path / SNAPSHOT_FILE, part_bytes=4)
    pieces = [b'{"format":2,', b'"clock":1}']
    data = b"".join(pieces)
    writer.offer(3, pieces)
    writer.flush()
    (parts,) = writer.db.execute("SELECT parts FROM snapshot_done WHERE seq = 3").fetchone()
    first = writer.db.execute("SELECT bytes FROM snapshot_parts ORDER BY id").fetchall()
    for (part,) in first:
        writer.db.execute("INSERT INTO snapshot_parts (seq, bytes) VALUES (3, ?)", (part,))
    assert writer.latest() == (3, json.loads(data))
    assert parts == len(first) > 1
    writer.close()


def test_intake_does_not_wait_for_a_snapshot_being_written(engine: Engine, tmp_path: Path) -> None:
    """While the writer is held mid-write, inputs are still accepted, durable, and answered;
    the snapshot is stored once the writer goes on."""
    runtime = fed(engine, tmp_path, 1, every=1)
    held = runtime.snapshots._lock  # what a long write holds
    done = threading.Event()

    def submit_three() -> None:
        for n in range(1, 4):
            assert runtime.submit([alert(n)], HTTP)[0].status == "accepted"
        done.set()

    with held:
        threading.Thread(target=submit_three, daemon=True).start()
        assert done.wait(30), "intake waited for the snapshot writer"
        assert runtime.store.last_input_seq() == 4
    runtime.snapshots.flush()
    runtime.close()


def test_requests_go_on_while_a_snapshot_waits_to_be_encoded(
    engine: Engine, tmp_path: Path
) -> None:
    """The runtime hands the writer a view of the state, encoded on the writer's thread: while
    the writer is held before it encodes, inputs and a command are applied and answered, the
    snapshot stored before is readable (recovery), and the snapshot then stored is the state
    as of its own input, none of what came after."""
    runtime = fed(engine, tmp_path, 1, every=1)
    task_id = runtime.tasks()[0].id
    ack = Command(id="c1", kind="ack", actor="dana", time=START, task_id=task_id)
    answers: list[object] = []
    done = threading.Event()

    def requests() -> None:
        answers.append(runtime.submit([alert(2)], HTTP)[0].status)
        answers.append(runtime.command(ack).accepted)
        answers.append(runtime.incident(runtime.tasks()[0].incident_id) is not None)
        answers.append(runtime.snapshots.latest() is not None)  # what recovery reads
        done.set()

    with runtime.snapshots._lock:  # the writer thread waits here before it encodes
        runtime.submit([alert(1)], HTTP)  # its batch takes the view as of input 2
        assert runtime.snapshots.busy
        expected = json.loads(encode_snapshot(runtime.state))
        threading.Thread(target=requests, daemon=True).start()
        assert done.wait(30), "a request waited for the snapshot being encoded"
        assert answers == ["accepted", True, True, True]
    runtime.snapshots.flush()
    assert runtime.snapshots.latest() == (2, expected)
    assert json.loads(encode_snapshot(runtime.state)) != expected
    runtime.close()


def test_the_input_that_takes_a_snapshot_does_not_encode_it(engine: Engine, tmp_path: Path) -> None:
    """Taking a snapshot leaves the request a copy of the state's containers to make, not the
    encoding: with the writer held, the memory the triggering input leaves allocated (the
    view, the input's own change) is a small fraction of the snapshot's bytes."""
    runtime = EmbeddedRuntime.open(engine, tmp_path, snapshot_every=10**6)
    for n in range(0, 600, 100):
        runtime.submit([spread(k, services=300) for k in range(n, n + 100)], HTTP)
    runtime.snapshot_every = 1
    size = len(encode_snapshot(runtime.state))
    with runtime.snapshots._lock:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            runtime.submit([spread(600, services=300)], HTTP)
            kept = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert runtime.snapshots.busy
    assert kept < size / 10, (kept, size)
    runtime.close()


def spread(n: int, services: int) -> bytes:
    """A firing alert instance of its own on service n % `services`, at the wall clock."""
    return encode(
        event(
            "ops.alert",
            format_time(wall_clock()),
            id=f"s{n}",
            alertname="Down",
            service=f"svc{n % services}",
            status="firing",
            severity="critical",
            labels={"instance": f"i{n}"},
        )
    )
