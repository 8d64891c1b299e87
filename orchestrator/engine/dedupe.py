"""The dedupe keys' order and hour index: which key of `seen` is oldest, and which may have
expired, without scanning all of them.

`EngineState.seen` maps "source SEP id" to the event time, in insertion order. It is a plain
dict of strings and ints, which the cyclic garbage collector never tracks (an `OrderedDict` is
always tracked, and a full collection visits every key). The index gives each stored key a
sequence number: `order` maps the number to the key (oldest number first), so the oldest key is
found in O(1) amortized; `hours` lists the numbers under the hour of their event time, so a
sweep visits only the hours that may hold expired keys. Both hold only ints, strings and
arrays of int64 (not tracked either).
It is derived data: never snapshotted, rebuilt on restore, and rebuilt as well whenever it
numbers a different count of keys than `seen` holds (keys added or removed around it).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from orchestrator.engine.clock import HOUR_MS, Millis

BUCKET_MS = HOUR_MS
COMPACT_FACTOR = 2
"""Rebuild when the hours list more than this many times the live keys (evicted leftovers)."""
COMPACT_SLACK = 1024


@dataclass
class SeenIndex:
    """Each key of `seen` numbered in insertion order, and the numbers by the hour of their
    event time (the hours may also list numbers since forgotten: skipped)."""

    order: dict[int, str] = field(default_factory=dict)
    """Number -> key, exactly one number per key of `seen`; smaller numbers stored earlier."""
    hours: dict[int, array[int]] = field(default_factory=dict)
    head: int = 0
    """No key has a number below this one."""
    issued: int = 0
    listed: int = 0

    def add(self, key: str, at: Millis) -> None:
        """Number and list `key` (just stored in `seen` with time `at`)."""
        number = self.issued
        self.issued += 1
        self.order[number] = key
        hour = at // BUCKET_MS
        bucket = self.hours.get(hour)
        if bucket is None:
            self.hours[hour] = array("q", (number,))
        else:
            bucket.append(number)
        self.listed += 1

    def rebuild(self, seen: dict[str, Millis]) -> None:
        """Number and list exactly the keys of `seen`, in its order."""
        self.order, self.hours = {}, {}
        self.head = self.issued = self.listed = 0
        for key, at in seen.items():
            self.add(key, at)

    def check(self, seen: dict[str, Millis]) -> None:
        """Rebuild when keys were added or removed around the index, or when leftovers in the
        hours pile up."""
        live = len(seen)
        if len(self.order) != live or self.listed > COMPACT_FACTOR * live + COMPACT_SLACK:
            self.rebuild(seen)

    def forget_oldest(self, seen: dict[str, Millis]) -> None:
        """Delete from `seen` the key stored longest ago (if any)."""
        self.check(seen)
        order = self.order
        while self.head < self.issued:
            key = order.pop(self.head, None)
            self.head += 1
            if key is not None:
                del seen[key]
                return

    def expire(self, seen: dict[str, Millis], cutoff: Millis) -> None:
        """Delete from `seen` exactly the keys whose time is before `cutoff`."""
        self.check(seen)
        last = cutoff // BUCKET_MS
        for hour in [h for h in self.hours if h <= last]:
            numbers = self.hours.pop(hour)
            kept = array("q", [n for n in numbers if self._keeps(seen, n, cutoff)])
            if kept:
                self.hours[hour] = kept
            self.listed -= len(numbers) - len(kept)

    def _keeps(self, seen: dict[str, Millis], number: int, cutoff: Millis) -> bool:
        """Delete the key numbered `number` if older than `cutoff`; True if it stays."""
        key = self.order.get(number)
        if key is None:  # forgotten as the oldest already
            return False
        if seen[key] < cutoff:
            del seen[key]
            del self.order[number]
            return False
        return True
