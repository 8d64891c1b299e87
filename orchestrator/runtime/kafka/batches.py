"""Batches: the agents take records a batch at a time and wait for the broker once per batch.

Within a batch every record is applied in order as before, but what it produces is sent without
waiting for each acknowledgement, and its table writes are held back (`Staged`): reads see
them at once, the table (and so its changelog) gets them only after the broker has acknowledged
every record the batch produced. State is therefore never stored ahead of the outputs it
produced, exactly as when each record waited for its own acknowledgements; a worker that dies
mid-batch stored none of the batch and applies all of it again (its outputs then appear twice
on their topics, with the same ids, as after any crash between publishing and storing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any

import faust

BATCH_MAX = 500
"""Records an agent takes at most in one batch."""
BATCH_WITHIN_S = 0.005
"""How long an agent waits for a batch to fill before it applies what it has."""


_WRITE_PARTITION: ContextVar[int | None] = ContextVar("write_partition", default=None)


class SourceTable(faust.Table[Any, Any]):
    """A faust table whose changelog partition can be given for a write made after the
    record's stream iteration (a batch's deferred writes): the partition of the record that
    made it, as faust itself would have chosen during the iteration."""

    def partition_for_key(self, key: Any) -> int | None:
        """The partition given for this write, else faust's (the current event's)."""
        given = _WRITE_PARTITION.get()
        if given is not None:
            return given
        found: int | None = super().partition_for_key(key)
        return found


class Staged:
    """A table's writes of the current batch, read through before the table, written by
    `flush` (a key written again moves to the end), each to the changelog partition of the
    record that made it (`partition`, set before each record)."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.partition = 0
        self._writes: dict[bytes, tuple[bytes | None, int]] = {}

    def get(self, key: bytes, default: bytes | None = None) -> bytes | None:
        """The value of `key` as the batch left it (None when deleted)."""
        if key in self._writes:
            return self._writes[key][0]
        found = self.table.get(key)
        return default if found is None else found

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._writes.pop(key, None)
        self._writes[key] = (value, self.partition)

    def __delitem__(self, key: bytes) -> None:
        self._writes.pop(key, None)
        self._writes[key] = (None, self.partition)

    def keys(self) -> Iterator[bytes]:
        """Every key, as the batch left them."""
        for key in list(self.table.keys()):
            if bytes(key) not in self._writes:
                yield bytes(key)
        yield from (k for k, (v, _p) in self._writes.items() if v is not None)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every entry, as the batch left them."""
        for key in self.keys():
            value = self.get(key)
            if value is not None:
                yield key, value

    def flush(self) -> None:
        """Write the batch's changes to the table: the values in the order they were last
        written, then the deletes. A worker that dies during the flush leaves a prefix of it
        in the changelog: a value written after the values it names (a shard after its
        incidents' versions) is still after them, and nothing is deleted before every value
        that replaces it is written (a superseded incident version outlives the shard entry
        that named it)."""
        writes, self._writes = self._writes, {}
        ordered = [w for w in writes.items() if w[1][0] is not None]
        ordered += [w for w in writes.items() if w[1][0] is None]
        for key, (value, partition) in ordered:
            token = _WRITE_PARTITION.set(partition)
            try:
                if value is not None:
                    self.table[key] = value
                elif key in self.table:
                    del self.table[key]
            finally:
                _WRITE_PARTITION.reset(token)

    def discard(self) -> None:
        """Forget the batch's changes (it failed: the records are applied again)."""
        self._writes.clear()


_PENDING: ContextVar[list[asyncio.Future[Any]] | None] = ContextVar("pending", default=None)
"""The acknowledgements the current agent's batch waits for (None outside a batch)."""


def pending() -> list[asyncio.Future[Any]] | None:
    """The current batch's acknowledgements to wait for, or None when not in a batch."""
    return _PENDING.get()


async def in_batch(work: Callable[[], Awaitable[None]], staged: list[Staged]) -> None:
    """Run `work()` as one batch: its sends are acknowledged, then its table writes stored."""
    waiting: list[asyncio.Future[Any]] = []
    token = _PENDING.set(waiting)
    try:
        await work()
        for future in waiting:
            await future
    except BaseException:
        for table in staged:
            table.discard()
        raise
    finally:
        _PENDING.reset(token)
    for table in staged:
        table.flush()
