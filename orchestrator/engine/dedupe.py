"""The dedupe keys' hour index: which keys of `seen` may have expired, without scanning all.

`EngineState.seen` maps "source SEP id" to the event time, in insertion order. A sweep forgets
every key older than the dedupe horizon; scanning all of `seen` each time costs O(len(seen)) per
sweep. The index lists each key under the hour of its event time, so a sweep visits only the
hours that may hold expired keys. It is derived data: never snapshotted, rebuilt on restore, and
rebuilt as well whenever it lists fewer keys than `seen` holds (keys added around it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.engine.clock import HOUR_MS, Millis

BUCKET_MS = HOUR_MS
COMPACT_FACTOR = 2
"""Rebuild when the index lists more than this many times the live keys (evicted leftovers)."""
COMPACT_SLACK = 1024


@dataclass
class SeenIndex:
    """Keys by the hour of their event time; may also list keys since forgotten (skipped)."""

    hours: dict[int, list[str]] = field(default_factory=dict)
    listed: int = 0

    def add(self, key: str, at: Millis) -> None:
        """List `key` (just stored in `seen` with time `at`)."""
        hour = at // BUCKET_MS
        bucket = self.hours.get(hour)
        if bucket is None:
            self.hours[hour] = [key]
        else:
            bucket.append(key)
        self.listed += 1

    def rebuild(self, seen: dict[str, Millis]) -> None:
        """List exactly the keys of `seen`."""
        self.hours = {}
        self.listed = 0
        for key, at in seen.items():
            self.add(key, at)

    def check(self, seen: dict[str, Millis]) -> None:
        """Rebuild when keys were added around the index, or when leftovers pile up."""
        live = len(seen)
        if self.listed < live or self.listed > COMPACT_FACTOR * live + COMPACT_SLACK:
            self.rebuild(seen)

    def expire(self, seen: dict[str, Millis], cutoff: Millis) -> None:
        """Delete from `seen` exactly the keys whose time is before `cutoff`."""
        self.check(seen)
        last = cutoff // BUCKET_MS
        for hour in [h for h in self.hours if h <= last]:
            keys = self.hours.pop(hour)
            kept = [key for key in keys if _expire(seen, key, cutoff, hour)]
            if kept:
                self.hours[hour] = kept
            self.listed -= len(keys) - len(kept)


def _expire(seen: dict[str, Millis], key: str, cutoff: Millis, hour: int) -> bool:
    """Delete `key` from `seen` if it is older than `cutoff`; True if it stays listed here."""
    at = seen.get(key)
    if at is None:
        return False
    if at < cutoff:
        del seen[key]
        return False
    return at // BUCKET_MS == hour
