"""Snapshot views: the state as of one moment, cheap to take, encoded later in bounded chunks.

A snapshot must be consistent (the state between two inputs) but its encoding must not stop
the inputs that follow: one `msgspec.json.encode` of a state of hundreds of megabytes is one C
call that holds the GIL for its whole duration, so every request waits it out, whichever thread
does it. So a snapshot is taken in two halves:

- `snapshot_view(state)`, while nothing changes the state (the runtime's lock): copies of its
  containers, shallow where their values are immutable (incidents and verdicts are frozen
  records, windows and signals tuples, the rest numbers and strings), deep only for what the
  engine still changes in place (held events); the timers' queue shares its runs (tuples) and
  copies only its newest heap list, to be sorted when encoded. A dict is copied as its lists of keys
  and values (`Items`: no hashing, no tuple per entry; `dict.copy` of an OrderedDict of
  150,000 dedupe keys took 230 ms here, its two lists a few ms). No record is copied or
  encoded; the cost is two pointer copies per entry. Once the engine keeps a container as an
  immutable value, its copy here can become a reference.
- `encode_chunks(view)`, anywhere and later: the same bytes `encode_snapshot` gives, as a
  sequence of pieces of about CHUNK_BYTES each, so a thread encoding them lets others run
  between pieces.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
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
class Items:
    """A dict's entries as two lists: copied without hashing, the cheapest copy of a dict."""

    keys: list[Any]
    values: list[Any]

    @classmethod
    def of(cls, mapping: dict[Any, Any]) -> Items:
        """The entries of `mapping` in its order (an OrderedDict's too: never reordered)."""
        return cls(list(dict.keys(mapping)), list(dict.values(mapping)))


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
    if isinstance(value, dict):
        return Items.of({k: _deep(v) for k, v in value.items()} if deep else value)
    if isinstance(value, list):
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
            value = value.entries()
        if isinstance(value, Items | list):
            yield from _pieces(value, chunk_bytes)
        else:
            yield _encode(value)
    yield b"}"


def _pieces(container: Items | list[Any], chunk_bytes: int) -> Iterator[bytes]:
    """Entries as a JSON object (Items) or array (list) in pieces of about `chunk_bytes`."""
    is_dict = isinstance(container, Items)
    total = len(container.keys) if isinstance(container, Items) else len(container)
    yield b"{" if is_dict else b"["
    start, size = 0, FIRST_CHUNK_ITEMS
    while start < total:
        end = start + size
        if isinstance(container, Items):
            keys, values = container.keys[start:end], container.values[start:end]
            body = _encode(dict(zip(keys, values, strict=True)))
        else:
            body = _encode(container[start:end])
        yield body[1:-1] if start == 0 else b"," + body[1:-1]
        start, size = end, max(1, size * chunk_bytes // max(len(body), 1))
    yield b"}" if is_dict else b"]"


def encode_snapshot(state: EngineState) -> bytes:
    """The state as snapshot JSON in one piece (a state nothing changes meanwhile: a drill, a
    test); `restore(json.loads(...))` takes it back."""
    return b"".join(encode_chunks(SnapshotView(dict(snapshot_parts(state)))))
