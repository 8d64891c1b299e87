"""The dedupe keys' order and hour index: which key of `seen` is oldest, and which may have
expired, without scanning all of them.

`EngineState.seen` maps "source SEP id" to the event time, in insertion order. It is a plain
dict of strings and ints, which the cyclic garbage collector never tracks (an `OrderedDict` is
always tracked, and a full collection visits every key). The index gives each stored key a
sequence number and keeps the keys by number in chunks of CHUNK: the newest in a short list,
the others in tuples (a chunk whole, None where its key was forgotten), so the oldest key is
found in O(1) amortized at a pointer a key (a dict of number -> key cost about 70 bytes a key);
`hours` lists the numbers under the hour of their event time, so a sweep visits only the hours
that may hold expired keys. Both hold only ints, strings, tuples of them and arrays of int64:
nothing the collector walks in a full collection (it untracks tuples of strings when it first
sees them; the short list is at most CHUNK long).
It is derived data: never snapshotted, rebuilt on restore, and rebuilt as well whenever it
numbers a different count of keys than `seen` holds (keys added or removed around it).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from orchestrator.engine.clock import HOUR_MS, Millis

BUCKET_MS = HOUR_MS
CHUNK = 1024
"""Keys a chunk of the order holds."""
COMPACT_FACTOR = 2
"""Rebuild when the hours list more than this many times the live keys (evicted leftovers)."""
COMPACT_SLACK = 1024


@dataclass
class SeenIndex:
    """Each key of `seen` numbered in insertion order, and the numbers by the hour of their
    event time (the hours may also list numbers since forgotten: skipped)."""

    chunks: dict[int, tuple[str | None, ...]] = field(default_factory=dict)
    """Chunk number -> the keys numbered CHUNK * it onwards, None where forgotten; every chunk
    before the newest, from the one holding `head` on."""
    newest: list[str | None] = field(default_factory=list)
    """The keys of the chunk being filled (numbers from CHUNK * (issued // CHUNK))."""
    hours: dict[int, array[int]] = field(default_factory=dict)
    head: int = 0
    """No key has a number below this one."""
    issued: int = 0
    listed: int = 0
    live: int = 0
    """Keys numbered and not forgotten: exactly one number per key of `seen`."""

    def add(self, key: str, at: Millis) -> None:
        """Number and list `key` (just stored in `seen` with time `at`)."""
        number = self.issued
        self.issued += 1
        self.newest.append(key)
        if len(self.newest) == CHUNK:
            self.chunks[number // CHUNK] = tuple(self.newest)
            self.newest = []
        hour = at // BUCKET_MS
        bucket = self.hours.get(hour)
        if bucket is None:
            self.hours[hour] = array("q", (number,))
        else:
            bucket.append(number)
        self.listed += 1
        self.live += 1

    def rebuild(self, seen: dict[str, Millis]) -> None:
        """Number and list exactly the keys of `seen`, in its order."""
        self.chunks, self.newest, self.hours = {}, [], {}
        self.head = self.issued = self.listed = self.live = 0
        for key, at in seen.items():
            self.add(key, at)

    def check(self, seen: dict[str, Millis]) -> None:
        """Rebuild when keys were added or removed around the index, or when leftovers in the
        hours pile up."""
        live = len(seen)
        if self.live != live or self.listed > COMPACT_FACTOR * live + COMPACT_SLACK:
            self.rebuild(seen)

    def forget_oldest(self, seen: dict[str, Millis]) -> None:
        """Delete from `seen` the key stored longest ago (if any)."""
        self.check(seen)
        while self.head < self.issued:
            key = self._pass_head()
            if key is not None:  # below `head` now: forgotten without changing its chunk
                del seen[key]
                self.live -= 1
                return

    def expire(self, seen: dict[str, Millis], cutoff: Millis) -> None:
        """Delete from `seen` exactly the keys whose time is before `cutoff`."""
        self.check(seen)
        last = cutoff // BUCKET_MS
        gone: set[int] = set()
        for hour in [h for h in self.hours if h <= last]:
            numbers = self.hours.pop(hour)
            kept = array("q", [n for n in numbers if self._keeps(seen, n, cutoff, gone)])
            if kept:
                self.hours[hour] = kept
            self.listed -= len(numbers) - len(kept)
        self._forget(gone)
        while self.head < self.issued and self._key(self.head) is None:
            self._pass_head()  # past the oldest keys forgotten

    def _pass_head(self) -> str | None:
        """Move `head` past its number and return the key it numbered (None if forgotten); a
        chunk `head` leaves behind goes."""
        key = self._key(self.head)
        self.head += 1
        if self.head % CHUNK == 0:
            self.chunks.pop(self.head // CHUNK - 1, None)
        return key

    def _key(self, number: int) -> str | None:
        """The key numbered `number`, None if forgotten."""
        if number < self.head:
            return None
        chunk = number // CHUNK
        if chunk == self.issued // CHUNK:
            return self.newest[number % CHUNK]
        keys = self.chunks.get(chunk)
        return keys[number % CHUNK] if keys is not None else None

    def _keeps(self, seen: dict[str, Millis], number: int, cutoff: Millis, gone: set[int]) -> bool:
        """Delete the key numbered `number` if older than `cutoff` (noting its number in
        `gone`); True if it stays. Each number is in one hour, so one call per number."""
        key = self._key(number)
        if key is None:  # forgotten as the oldest already
            return False
        if seen[key] < cutoff:
            del seen[key]
            self.live -= 1
            gone.add(number)
            return False
        return True

    def _forget(self, numbers: set[int]) -> None:
        """Put None where the keys numbered `numbers` were (one new tuple per chunk)."""
        newest = self.issued // CHUNK
        by_chunk: dict[int, list[int]] = {}
        for number in numbers:
            by_chunk.setdefault(number // CHUNK, []).append(number % CHUNK)
        for chunk, offsets in by_chunk.items():
            if chunk == newest:
                for offset in offsets:
                    self.newest[offset] = None
                continue
            keys = self.chunks.get(chunk)
            if keys is None:
                continue
            changed = list(keys)
            for offset in offsets:
                changed[offset] = None
            if any(key is not None for key in changed):
                self.chunks[chunk] = tuple(changed)
            else:
                del self.chunks[chunk]
