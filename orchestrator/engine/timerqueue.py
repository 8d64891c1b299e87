"""The timers' queue: the heap of pending timers, kept mostly where the collector never looks.

A plain heap of N timer tuples is one list the cyclic garbage collector walks in every full
collection: N visits (about 4 ms per 100,000 on this project's machine). Here only the newest
timers (at most `RUN_SIZE`) are in a heap list; whenever it fills, it is sorted into a tuple
(a "run") that is never changed again, so the collector untracks it, and a small heap of the
runs' heads says which run holds the earliest timer. Timers come out in (due, sequence) order,
exactly as from one heap.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from itertools import chain

from orchestrator.engine.clock import Millis

TimerEntry = tuple[Millis, int, str, str, str, int]
"""(due, sequence, kind, incident id, task name or "", escalation level)."""
RUN_SIZE = 4096
"""Timers in the heap list before it is sorted into a run."""
COMPACT_FACTOR = 2
COMPACT_SLACK = 4
"""Rebuild the runs when they hold more than COMPACT_FACTOR times the pending timers plus this
many runs' worth (a run is kept whole until its last timer fires)."""
_Head = tuple[TimerEntry, int, int]
"""(the run's earliest pending timer, run number, its position in the run)."""


class TimerQueue:
    """Pending timers, earliest (due, sequence) first."""

    __slots__ = ("_fresh", "_heads", "_held", "_numbered", "_run_size", "_runs", "_size")

    def __init__(self, entries: Iterable[TimerEntry] = (), run_size: int = RUN_SIZE) -> None:
        self._run_size = run_size
        self._fresh: list[TimerEntry] = []
        self._heads: list[_Head] = []
        self._runs: dict[int, tuple[TimerEntry, ...]] = {}
        self._numbered = self._held = self._size = 0
        ordered = sorted(entries)
        self._size = len(ordered)
        for start in range(0, len(ordered), run_size):
            self._add_run(tuple(ordered[start : start + run_size]))

    def __len__(self) -> int:
        return self._size

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TimerQueue) and self.entries() == other.entries()

    def __repr__(self) -> str:
        return f"TimerQueue({self.entries()!r})"

    def next_due(self) -> Millis | None:
        """When the earliest pending timer is due (None when there is none)."""
        first = self._first()
        return first[0] if first is not None else None

    def due(self, at: Millis) -> bool:
        """Whether a pending timer is due at or before `at` (`next_due` compared, inline: the
        engine asks two or three times an input)."""
        fresh, heads = self._fresh, self._heads
        return bool((fresh and fresh[0][0] <= at) or (heads and heads[0][0][0] <= at))

    def push(self, entry: TimerEntry) -> None:
        """Add a pending timer."""
        heapq.heappush(self._fresh, entry)
        self._size += 1
        if len(self._fresh) >= self._run_size:  # _size stays: the same timers, moved
            self._add_run(tuple(sorted(self._fresh)))
            self._fresh.clear()

    def pop(self) -> TimerEntry:
        """Take the earliest pending timer (IndexError when there is none)."""
        heads, fresh = self._heads, self._fresh
        if not heads or (fresh and fresh[0] < heads[0][0]):
            entry = heapq.heappop(fresh)
            self._size -= 1
            return entry
        entry, number, position = heads[0]
        run = self._runs[number]
        if position + 1 < len(run):
            heapq.heapreplace(heads, (run[position + 1], number, position + 1))
        else:
            heapq.heappop(heads)
            self._held -= len(self._runs.pop(number))
        self._size -= 1
        if self._held > COMPACT_FACTOR * self._size + COMPACT_SLACK * self._run_size:
            self._rebuild(self.entries())
        return entry

    def entries(self) -> list[TimerEntry]:
        """Every pending timer, earliest first."""
        runs = self._runs
        pending = (runs[number][position:] for _entry, number, position in self._heads)
        return sorted(chain(self._fresh, *pending))

    def copy(self) -> TimerQueue:
        """The same pending timers, sharing the runs (never changed): costs the newest heap
        list and one entry per run, not one per timer."""
        twin = TimerQueue(run_size=self._run_size)
        twin._take(self)
        return twin

    def remove(self, unwanted: Callable[[TimerEntry], bool]) -> None:
        """Forget every pending timer for which `unwanted` is true."""
        self._rebuild([entry for entry in self.entries() if not unwanted(entry)])

    def _first(self) -> TimerEntry | None:
        heads, fresh = self._heads, self._fresh
        if heads:
            head = heads[0][0]
            return fresh[0] if fresh and fresh[0] < head else head
        return fresh[0] if fresh else None

    def _add_run(self, run: tuple[TimerEntry, ...]) -> None:
        number = self._numbered
        self._numbered += 1
        self._runs[number] = run
        self._held += len(run)
        heapq.heappush(self._heads, (run[0], number, 0))

    def _rebuild(self, entries: list[TimerEntry]) -> None:
        self._take(TimerQueue(entries, self._run_size))

    def _take(self, other: TimerQueue) -> None:
        """Hold `other`'s timers (its lists copied, its runs shared)."""
        self._fresh, self._heads, self._runs = list(other._fresh), list(other._heads), {}
        self._runs.update(other._runs)
        self._numbered, self._held, self._size = other._numbered, other._held, other._size
