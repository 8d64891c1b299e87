"""Which windows a sweep must look at: the ones that changed, and the ones whose time is up.

A sweep prunes every window to the horizon and drops the empty or stale ones. Looking at all
of them every hour costs O(windows) per sweep. A window left alone since the last look cannot
change before the horizon its last sweep returned, so the schedule holds, per window, that
horizon, and the set of windows observed since the last sweep. It is derived data: never
snapshotted; a fresh or restored state starts with every window to look at.
Looking at a window more often than needed changes nothing (the old sweep looked at all).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from orchestrator.engine.clock import Millis

COMPACT_FACTOR = 4
COMPACT_SLACK = 1024


@dataclass
class WindowSchedule:
    """Windows observed since the last sweep, and when each other window needs a look."""

    touched: dict[str, None] = field(default_factory=dict)
    """The names observed since the last sweep (a dict of strings and None: never tracked by
    the cyclic collector, where a set always is)."""
    due: dict[str, Millis] = field(default_factory=dict)
    queue: list[tuple[Millis, str]] = field(default_factory=list)

    def touch(self, name: str) -> None:
        """The window changed (observed, or unknown): look at it at the next sweep."""
        self.touched[name] = None

    def reset(self, names: Iterable[str]) -> None:
        """Forget the schedule: look at every one of `names` at the next sweep."""
        self.touched = dict.fromkeys(names)
        self.due = {}
        self.queue = []

    def to_visit(self, horizon: Millis) -> set[str]:
        """The windows a sweep at `horizon` must look at (taken off the schedule)."""
        names, self.touched = set(self.touched), {}
        queue = self.queue
        while queue and queue[0][0] < horizon:
            quiet, name = heapq.heappop(queue)
            if self.due.get(name) == quiet:
                del self.due[name]
                names.add(name)
        return names

    def dropped(self, name: str) -> None:
        """The sweep dropped the window."""
        self.due.pop(name, None)

    def kept(self, name: str, quiet_until: Millis) -> None:
        """The sweep kept the window; it needs no look before `quiet_until` unless touched."""
        self.due[name] = quiet_until
        heapq.heappush(self.queue, (quiet_until, name))
        if len(self.queue) > COMPACT_FACTOR * len(self.due) + COMPACT_SLACK:
            self.queue = [(quiet, n) for n, quiet in self.due.items()]
            heapq.heapify(self.queue)
