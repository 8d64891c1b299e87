"""Snapshot views: the state as of one moment, cheap to take, encoded later in bounded chunks.

A snapshot must be consistent (the state between two inputs) but its encoding must not stop
the inputs that follow: one `msgspec.json.encode` of a state of hundreds of megabytes is one C
call that holds the GIL for its whole duration, so every request waits it out, whichever thread
does it. So a snapshot is taken in two halves:

- `snapshot_view(state)`, while nothing changes the state (the runtime's lock): copies of its
  containers, shallow where their values are immutable (incidents and verdicts are frozen
  records, signals and timers tuples, the rest numbers and strings), deep only for what the
  engine still changes in place (windows, held events). No record is copied or encoded; the
  cost is a few pointer copies per entry.
- `encode_chunks(view)`, anywhere and later: the same bytes `encode_snapshot` gives, as a
  sequence of pieces of about CHUNK_BYTES each, so a thread encoding them lets others run
  between pieces.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import msgspec

from orchestrator.engine.state import EngineState, snapshot_parts

CHUNK_BYTES = 256 * 1024
"""About how much JSON one encode call makes: a fraction of a millisecond of work."""
FIRST_CHUNK_ITEMS = 64
"""Entries in the first piece of a container; later pieces are sized from the bytes of the
one before, so a piece stays near CHUNK_BYTES whatever the entries weigh."""
DEEP = frozenset({"windows", "held"})
"""Parts whose values the engine still changes in place: copied all the way down."""
_encode = msgspec.json.encode


@dataclass(frozen=True, slots=True)
class SnapshotView:
    """The parts of a snapshot (in its order), sharing nothing the engine changes later."""

    parts: dict[str, Any]


def snapshot_view(state: EngineState) -> SnapshotView:
    """The state as of now, for `encode_chunks` later: take it while no input changes it."""
    return SnapshotView(
        {name: _deep(v) if name in DEEP else _shallow(v) for name, v in snapshot_parts(state)}
    )


def _shallow(value: Any) -> Any:
    if isinstance(value, dict):
        return dict.copy(value)  # an OrderedDict's order too (never reordered): 30x faster
    if isinstance(value, list):
        return value.copy()
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
        if isinstance(value, dict | list) and len(value) > FIRST_CHUNK_ITEMS:
            yield from _pieces(value, chunk_bytes)
        else:
            yield _encode(value)
    yield b"}"


def _pieces(container: dict[str, Any] | list[Any], chunk_bytes: int) -> Iterator[bytes]:
    """A dict or list as JSON in pieces of about `chunk_bytes` (each encoded on its own)."""
    is_dict = isinstance(container, dict)
    items = iter(container.items()) if isinstance(container, dict) else iter(container)
    yield b"{" if is_dict else b"["
    size, first = FIRST_CHUNK_ITEMS, True
    while taken := list(islice(items, size)):
        body = _encode(dict(taken) if is_dict else taken)[1:-1]
        yield body if first else b"," + body
        first = False
        size = max(1, size * chunk_bytes // max(len(body), 1))
    yield b"}" if is_dict else b"]"


def encode_snapshot(state: EngineState) -> bytes:
    """The state as snapshot JSON in one piece (a state nothing changes meanwhile: a drill, a
    test); `restore(json.loads(...))` takes it back."""
    return b"".join(encode_chunks(SnapshotView(dict(snapshot_parts(state)))))
