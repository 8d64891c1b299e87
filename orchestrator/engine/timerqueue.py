"""The timers' queue: the heap of pending timers, kept mostly where the collector never looks.

A plain heap of N timer tuples is one list the cyclic garbage collector walks in every full
collection: N visits (about 4 ms per 100,000 on this project's machine). Here only the newest
timers (at most `RUN_SIZE`) are in a heap list; whenever it fills, it is sorted into a tuple
(a "run") that is never changed again, and a small heap of the runs' heads says which run
holds the earliest timer. Timers come out in (due, sequence) order, exactly as from one heap.

A run keeps its timers by column (`Run`): due times, sequence numbers and levels in arrays
of machine integers; kinds, incidents and task names as a tuple of the distinct (shared)
strings and an array of one- or two-byte numbers into it (`Names`). A timer in a run costs
about 31 bytes (48 with a reference per string) and no object of its own (a tuple of six and
its two integers cost about 160); the collector never tracks arrays, and untracks tuples of
strings.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Names:
    """A column of strings as the distinct strings and, per timer, the number of its own:
    one or two bytes a timer instead of an eight-byte reference."""

    names: tuple[str, ...]
    codes: array[int]

    @classmethod
    def of(cls, values: Iterable[str]) -> Names:
        """The column of `values`, in their order."""
        numbers: dict[str, int] = {}
        codes = [numbers.setdefault(value, len(numbers)) for value in values]
        return cls(tuple(numbers), array(_typecode(len(numbers)), codes))

    def __getitem__(self, position: int) -> str:
        return self.names[self.codes[position]]

    def since(self, position: int) -> Iterator[str]:
        """The strings from `position` on."""
        return map(self.names.__getitem__, self.codes[position:])

    def holds_since(self, value: str, position: int) -> bool:
        """Whether `value` is in the column at or after `position`."""
        try:
            code = self.names.index(value)
        except ValueError:
            return False
        return code in self.codes[position:]


def _typecode(distinct: int) -> str:
    """The smallest array type that numbers `distinct` strings."""
    return "B" if distinct <= 1 << 8 else "H" if distinct <= 1 << 16 else "I"


@dataclass(frozen=True, slots=True)
class Run:
    """Sorted timers by column (never changed once made)."""

    dues: array[int]
    sequences: array[int]
    kinds: Names
    incidents: Names
    tasks: Names
    levels: array[int]

    @classmethod
    def of(cls, entries: list[TimerEntry]) -> Run:
        """The run of `entries` (sorted)."""
        dues, sequences, kinds, incidents, tasks, levels = zip(*entries, strict=True)
        return cls(
            array("q", dues),
            array("q", sequences),
            Names.of(kinds),
            Names.of(incidents),
            Names.of(tasks),
            array("q", levels),
        )

    def __len__(self) -> int:
        return len(self.dues)

    def __getitem__(self, position: int) -> TimerEntry:
        return (
            self.dues[position],
            self.sequences[position],
            self.kinds[position],
            self.incidents[position],
            self.tasks[position],
            self.levels[position],
        )

    def since(self, position: int) -> Iterator[TimerEntry]:
        """The timers from `position` on."""
        return zip(
            self.dues[position:],
            self.sequences[position:],
            self.kinds.since(position),
            self.incidents.since(position),
            self.tasks.since(position),
            self.levels[position:],
            strict=True,
        )


class TimerQueue:
    """Pending timers, earliest (due, sequence) first."""

    __slots__ = ("_fresh", "_heads", "_held", "_numbered", "_run_size", "_runs", "_size")

    def __init__(self, entries: Iterable[TimerEntry] = (), run_size: int = RUN_SIZE) -> None:
        self._run_size = run_size
        self._fresh: list[TimerEntry] = []
        self._heads: list[_Head] = []
        self._runs: dict[int, Run] = {}
        self._numbered = self._held = self._size = 0
        ordered = sorted(entries)
        self._size = len(ordered)
        for start in range(0, len(ordered), run_size):
            self._add_run(Run.of(ordered[start : start + run_size]))

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
            self._add_run(Run.of(sorted(self._fresh)))
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
        return sorted(chain(self._fresh, *self._pending_runs()))

    def ordered(self) -> Iterator[TimerEntry]:
        """Every pending timer, earliest first, made as it is taken: the runs merged, never
        one list of them all (a snapshot's writer holds no container as long as the timers,
        which every full collection would walk while it encodes)."""
        return heapq.merge(sorted(self._fresh), *self._pending_runs())

    def _pending_runs(self) -> list[Iterator[TimerEntry]]:
        runs = self._runs
        return [runs[number].since(position) for _entry, number, position in self._heads]

    def copy(self) -> TimerQueue:
        """The same pending timers, sharing the runs (never changed): costs the newest heap
        list and one entry per run, not one per timer."""
        twin = TimerQueue(run_size=self._run_size)
        twin._take(self)
        return twin

    def remove(self, unwanted: Callable[[TimerEntry], bool]) -> None:
        """Forget every pending timer for which `unwanted` is true."""
        self._rebuild([entry for entry in self.entries() if not unwanted(entry)])

    def remove_tasks(self, incident_id: str, names: Collection[str]) -> None:
        """Forget the pending timers of the tasks `names` of `incident_id` (as `remove` would),
        rebuilding only the runs that hold one of the incident's timers."""

        def unwanted(entry: TimerEntry) -> bool:
            return entry[3] == incident_id and entry[4] in names

        fresh = [entry for entry in self._fresh if not unwanted(entry)]
        if len(fresh) != len(self._fresh):
            self._size -= len(self._fresh) - len(fresh)
            heapq.heapify(fresh)
            self._fresh = fresh
        heads: list[_Head] = []
        for head in self._heads:
            _entry, number, position = head
            run = self._runs[number]
            if not run.incidents.holds_since(incident_id, position):
                heads.append(head)
                continue
            kept = [entry for entry in run.since(position) if not unwanted(entry)]
            del self._runs[number]
            self._held -= len(run)
            self._size -= len(run) - position - len(kept)
            if kept:
                self._runs[self._numbered] = Run.of(kept)
                self._held += len(kept)
                heads.append((kept[0], self._numbered, 0))
                self._numbered += 1
        heapq.heapify(heads)
        self._heads = heads

    def _first(self) -> TimerEntry | None:
        heads, fresh = self._heads, self._fresh
        if heads:
            head = heads[0][0]
            return fresh[0] if fresh and fresh[0] < head else head
        return fresh[0] if fresh else None

    def _add_run(self, run: Run) -> None:
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
