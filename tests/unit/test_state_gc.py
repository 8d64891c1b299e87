"""The engine's state stays out of the cyclic garbage collector's work: after opening N
incidents, the objects the collector tracks for the state do not grow with N (the incidents,
dedupe keys, windows and most timers are immutable records or plain dicts of atoms, which it
never tracks), nor do those of a snapshot being taken of it. Counted with gc.is_tracked, never
timed."""

from __future__ import annotations

import gc
import types
from dataclasses import fields
from typing import Any

from benchmarks.data import opening_lines
from orchestrator.engine import EngineState, RawRecord, encode_chunks, snapshot_view
from orchestrator.engine.dedupe import CHUNK
from orchestrator.engine.timerqueue import RUN_SIZE
from orchestrator.playbook import load_directory
from orchestrator.settings import shipped_playbooks
from orchestrator.testing import Drill
from schemas.deadletter import Origin

FEW, MANY = 1_000, 8_000
TRACKED_SLACK = 64
"""Tracked objects of the state, and references they hold, that do not depend on N (its
dataclasses and their small containers)."""


BOUNDED_LISTS = {"timers": RUN_SIZE, "seen_index": CHUNK}
"""Fields whose newest entries wait in one list of at most this many before they are sealed
into tuples (which the collector untracks)."""


def opened(incidents: int) -> EngineState:
    """The state after `incidents` opening events (the bench's memory-case log)."""
    drill = Drill.of(load_directory(shipped_playbooks()))
    state = drill.state
    for number, line in enumerate(opening_lines(incidents), start=1):
        record = RawRecord(line, Origin(kind="file", name="opening", offset=number))
        state, _ = drill.engine.step(state, record, state.clock)
    assert len(state.incidents) == incidents
    return state


PROGRAM = (type, types.ModuleType, types.FunctionType, types.CodeType)
"""What belongs to the program, not to a state: never walked (a generator's frame leads to its
function, and so to every module)."""


def tracked(root: Any) -> tuple[int, int]:
    """(objects the collector tracks among those reachable from `root`, the references they
    hold: what a full collection visits for them)."""
    seen: set[int] = set()
    stack, count, visits = [root], 0, 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, PROGRAM):
            continue
        seen.add(id(obj))
        referents = gc.get_referents(obj)
        if gc.is_tracked(obj):
            count += 1
            visits += len(referents)
        stack.extend(referents)
    return count, visits


def tracked_by_field(state: EngineState) -> dict[str, tuple[int, int]]:
    gc.collect()  # the collector untracks tuples and dicts of atoms when it first sees them
    return {f.name: tracked(getattr(state, f.name)) for f in fields(state)}


def test_tracked_objects_of_the_state_do_not_grow_with_open_incidents() -> None:
    """8x the incidents (with their dedupe keys, windows and timers): about the same number of
    tracked objects; what a full collection visits for them is bounded by a constant (for the
    timers, the queue's one heap list of at most a run; for the dedupe index, its newest chunk)."""
    few, many = tracked_by_field(opened(FEW)), tracked_by_field(opened(MANY))
    few_count = sum(count for count, _visits in few.values())
    many_count = sum(count for count, _visits in many.values())
    assert many_count <= few_count + TRACKED_SLACK, many
    for name, (count, visits) in many.items():
        limit = TRACKED_SLACK + BOUNDED_LISTS.get(name, 0)
        assert visits <= limit, (name, count, visits)


def in_progress(state: EngineState, part: bytes) -> Any:
    """A snapshot's encoding of `state`, stopped a few pieces into `part` (its view and where
    the encoding stands are reachable from it)."""
    pieces = encode_chunks(snapshot_view(state), chunk_bytes=64)
    while part not in next(pieces):
        pass
    for _ in range(3):
        next(pieces)
    return pieces


def test_a_snapshot_being_written_gives_the_collector_nothing_that_grows_with_the_state() -> None:
    """A snapshot's view copies the state's dicts as dicts of records, strings and numbers (not
    tracked, with nothing to untrack first) and merges the timers' runs as it encodes them (never
    one list of them all): with 8x the incidents, what a full collection would visit for a view,
    or for an encoding halfway through its incidents or its timers, stays within a constant."""
    for incidents in (FEW, MANY):
        state = opened(incidents)
        gc.collect()  # as a running process has collected its state's tuples by now
        for root in (
            snapshot_view(state),
            in_progress(state, b'"incidents":'),
            in_progress(state, b'"timers":'),
        ):
            _count, visits = tracked(root)  # the timers: the newest heap list and its sorted copy
            assert visits <= 2 * RUN_SIZE + TRACKED_SLACK, (incidents, root, visits)
