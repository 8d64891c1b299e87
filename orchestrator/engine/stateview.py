"""Snapshot views: the state as of one moment, cheap to take, encoded later in bounded chunks.

A snapshot must be consistent (the state between two inputs) but its encoding must not stop
the inputs that follow: one `msgspec.json.encode` of a state of hundreds of megabytes is one C
call that holds the GIL for its whole duration, so every request waits it out, whichever thread
does it. So a snapshot is taken in two halves:

- `snapshot_view(state)`, while nothing changes the state (the runtime's lock): copies of its
  containers, shallow where their values are immutable (incidents and verdicts are frozen
  records, windows and signals tuples, the rest numbers and strings), deep only for what the
  engine still changes in place (held events); the timers' queue shares its runs (tuples) and
  copies only its newest heap list (its timers are merged from the runs as they are encoded).
  No record is copied or encoded; a dict costs a copy of its table (`dict.copy`: no hashing;
  1.9 ms for 100,000 incidents here, against 8 ms for the two lists a view once made of it).
  The copies are plain dicts of records, strings and numbers, which the cyclic garbage
  collector does not track, as the state's own are not: a full collection while a snapshot is
  written walks none of their entries (the lists did: about 25 ms a full collection with
  100,000 incidents). Once the engine keeps a container as an immutable value, its copy here
  can become a reference.
- `encode_chunks(view)`, anywhere and later: the same bytes `encode_snapshot` gives, as a
  sequence of pieces of about CHUNK_BYTES each, so a thread encoding them lets others run
  between pieces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import msgspec

from orchestrator.engine.state import EngineState, snapshot_hook, snapshot_parts
from orchestrator.engine.timerqueue import TimerQueue

CHUNK_BYTES = 64 * 1024
"""About how much JSON one encode call makes: a fraction of a millisecond of work."""
FIRST_CHUNK_ITEMS = 4
"""Entries in the first piece of a container; later pieces are sized from the bytes of the
one before, so a piece stays near CHUNK_BYTES whatever the entries weigh."""
DEEP = frozenset({"held", "open_index"})
"""Parts whose values the engine still changes in place: copied all the way down."""
_encode = msgspec.json.Encoder(enc_hook=snapshot_hook).encode


@dataclass(frozen=True, slots=True)
class SnapshotView:
    """The parts of a snapshot (in its order), sharing nothing the engine changes later."""

    parts: dict[str, Any]


def snapshot_view(state: EngineState) -> SnapshotView:
    """The state as of now, for `encode_chunks` later: take it while no input changes it."""
    return SnapshotView(
        {name: _copy(value, deep=name in DEEP) for name, value in snapshot_parts(state)}
    )


def _copy(value: Any, *, deep: bool) -> Any:
    if isinstance(value, TimerQueue):
        return value.copy()
    if isinstance(value, dict | list):
        return _deep(value) if deep else value.copy()
    return value


def _deep(value: Any) -> Any:
    if isinstance(value, list):
        return [_deep(item) for item in value]
    if isinstance(value, dict):
        return {key: _deep(item) for key, item in value.items()}
    return value


def encode_chunks(view: SnapshotView, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The snapshot's JSON in pieces; joined, they are `encode_snapshot`'s bytes."""
    yield b"{"
    for index, (name, value) in enumerate(view.parts.items()):
        yield (b',"' if index else b'"') + name.encode() + b'":'
        if isinstance(value, TimerQueue):
            yield from _pieces(value.ordered(), chunk_bytes, b"[", b"]", list)
        elif isinstance(value, dict):
            yield from _pieces(iter(value.items()), chunk_bytes, b"{", b"}", dict)
        elif isinstance(value, list):
            yield from _pieces(iter(value), chunk_bytes, b"[", b"]", list)
        else:
            yield _encode(value)
    yield b"}"


def _pieces(
    entries: Iterator[Any],
    chunk_bytes: int,
    opening: bytes,
    closing: bytes,
    container: Callable[[list[Any]], Any],
) -> Iterator[bytes]:
    """A JSON object (`container` dict, entries its items) or array (`container` list) in
    pieces of about `chunk_bytes`, taking the entries as it goes."""
    yield opening
    size, first = FIRST_CHUNK_ITEMS, True
    while batch := list(islice(entries, size)):
        body = _encode(container(batch))
        yield body[1:-1] if first else b"," + body[1:-1]
        first, size = False, max(1, size * chunk_bytes // max(len(body), 1))
    yield closing


def encode_snapshot(state: EngineState) -> bytes:
    """The state as snapshot JSON in one piece (a state nothing changes meanwhile: a drill, a
    test); `restore(json.loads(...))` takes it back."""
    return b"".join(encode_chunks(SnapshotView(dict(snapshot_parts(state)))))
