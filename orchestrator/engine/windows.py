"""Aggregate conditions over event-time windows, one state per (rule, correlation key).

Every window is evaluated when a qualifying event arrives, over the events already seen whose
event time t satisfies  event.time - within <= t <= event.time  (both ends inclusive). Events
arriving out of order are placed by event time. State is pruned to the window plus the allowed
lateness, so memory grows with live keys and window sizes, never with the number of events.
"""

from __future__ import annotations

import operator
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Protocol

import msgspec

from orchestrator.engine.clock import Millis
from orchestrator.engine.values import Context, resolve_path

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
WindowState = list[Any]
"""A window's working state while one call changes it: a list of numbers, or of tuples of
numbers (never lists, so a stored window holds only immutable atoms)."""


class WindowSlot(msgspec.Struct, frozen=True, gc=False):
    """A window's state as the engine keeps it: immutable and untracked by the cyclic
    collector (a tuple of numbers or of tuples of numbers), replaced on each change; a step
    works on `list(slot.entries)` and stores the result as a new slot."""

    entries: tuple[Any, ...] = ()


EMPTY_SLOT = WindowSlot()


def _number(ctx: Context, path: tuple[str, ...]) -> float | None:
    value = resolve_path(ctx, path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class Window(Protocol):
    """An aggregate condition: observe one event, say whether the condition now holds."""

    @property
    def span(self) -> Millis:
        """How far back in event time the condition looks."""
        ...

    def observe(self, state: WindowState, at: Millis, ctx: Context) -> bool:
        """Add the event at `at` (if it qualifies) and evaluate the condition at `at`."""
        ...

    def prune(self, state: WindowState, horizon: Millis) -> None:
        """Forget what no evaluation at or after `horizon` can see."""
        ...

    def newest(self, state: WindowState) -> Millis | None:
        """The event time of the newest entry, or None when empty."""
        ...

    def sweep(self, state: WindowState, horizon: Millis) -> Millis | None:
        """Prune to `horizon` (entries only go: an unchanged length is an unchanged state). None
        when no entry is left within the span before it (the window can go); otherwise a
        horizon up to which another sweep would change nothing and keep the window (an earlier
        one is allowed: it only means an extra look)."""
        ...


def _count_in(times: list[int], start: Millis, end: Millis) -> int:
    return bisect_right(times, end) - bisect_left(times, start)


@dataclass(frozen=True, slots=True)
class CountWindow:
    """At least `at_least` events within `span`. State: [sorted event times]."""

    at_least: int
    span: Millis

    def observe(self, state: WindowState, at: Millis, ctx: Context) -> bool:
        insort(state, at)
        return _count_in(state, at - self.span, at) >= self.at_least

    def prune(self, state: WindowState, horizon: Millis) -> None:
        del state[: bisect_left(state, horizon - self.span)]

    def newest(self, state: WindowState) -> Millis | None:
        return state[-1] if state else None

    def sweep(self, state: WindowState, horizon: Millis) -> Millis | None:
        start = horizon - self.span
        del state[: bisect_left(state, start)]
        if not state or state[-1] < start:
            return None
        return int(state[0]) + self.span


@dataclass(frozen=True, slots=True)
class SamplesWindow(CountWindow):
    """At least `at_least` samples whose value passes `op threshold` within `span`."""

    value: tuple[str, ...] = ()
    op: str = ">"
    threshold: float = 0.0

    def observe(self, state: WindowState, at: Millis, ctx: Context) -> bool:
        sample = _number(ctx, self.value)
        if sample is None or not OPS[self.op](sample, self.threshold):
            return False
        return CountWindow.observe(self, state, at, ctx)


def _pairs_sweep(state: WindowState, horizon: Millis, span: Millis) -> Millis | None:
    _pairs_prune(state, horizon - span)
    if not state or int(state[-1][0]) < horizon - span:
        return None
    return min(int(state[0][0]), int(state[-1][0])) + span


def _pairs_prune(state: WindowState, horizon: Millis) -> None:
    cut = 0
    while cut < len(state) and state[cut][0] < horizon:
        cut += 1
    del state[:cut]


@dataclass(frozen=True, slots=True)
class AggregateWindow:
    """fn(value) over `span` compared with a threshold. State: [(time, value), ...] sorted."""

    fn: str
    value: tuple[str, ...]
    span: Millis
    op: str
    threshold: float
    min_samples: int

    def observe(self, state: WindowState, at: Millis, ctx: Context) -> bool:
        sample = _number(ctx, self.value)
        if sample is None:
            return False
        insort(state, (at, sample))
        values = [v for t, v in state if at - self.span <= t <= at]
        if len(values) < self.min_samples:
            return False
        return OPS[self.op](_aggregate(self.fn, values), self.threshold)

    def prune(self, state: WindowState, horizon: Millis) -> None:
        _pairs_prune(state, horizon - self.span)

    def newest(self, state: WindowState) -> Millis | None:
        return int(state[-1][0]) if state else None

    def sweep(self, state: WindowState, horizon: Millis) -> Millis | None:
        return _pairs_sweep(state, horizon, self.span)


def _aggregate(fn: str, values: list[float]) -> float:
    if fn == "sum":
        return sum(values)
    if fn == "avg":
        return sum(values) / len(values)
    return min(values) if fn == "min" else max(values)


@dataclass(frozen=True, slots=True)
class BaselineWindow:
    """value / mean(earlier values within `span`) compared with a threshold."""

    value: tuple[str, ...]
    span: Millis
    min_samples: int
    op: str
    threshold: float

    def observe(self, state: WindowState, at: Millis, ctx: Context) -> bool:
        sample = _number(ctx, self.value)
        if sample is None:
            return False
        earlier = [v for t, v in state if at - self.span <= t < at]
        insort(state, (at, sample))
        if len(earlier) < self.min_samples:
            return False
        baseline = sum(earlier) / len(earlier)
        if baseline == 0:
            return False
        return OPS[self.op](sample / baseline, self.threshold)

    def prune(self, state: WindowState, horizon: Millis) -> None:
        _pairs_prune(state, horizon - self.span)

    def newest(self, state: WindowState) -> Millis | None:
        return int(state[-1][0]) if state else None

    def sweep(self, state: WindowState, horizon: Millis) -> Millis | None:
        return _pairs_sweep(state, horizon, self.span)


DAY_SLACK = 7
"""Extra days a consecutive-period window keeps, for late corrections."""
_DAY = operator.itemgetter(0)
_EVENT_TIME = operator.itemgetter(2)


@dataclass(frozen=True, slots=True)
class ConsecutiveWindow:
    """`periods` consecutive days, each changing from the day before by `op threshold`.

    State: [(day ordinal, value, event time), ...] sorted by day; a second value for a day
    replaces the first (a correction). The change of day d is (v[d] - v[d-1]) / v[d-1].
    """

    period: tuple[str, ...]
    value: tuple[str, ...]
    periods: int
    op: str
    threshold: float
    span: Millis = 0

    def observe(self, state: WindowState, at: Millis, ctx: Context) -> bool:
        day = _day(resolve_path(ctx, self.period))
        sample = _number(ctx, self.value)
        if day is None or sample is None:
            return False
        index = bisect_left(state, day, key=_DAY)
        if index < len(state) and state[index][0] == day:
            state[index] = (day, sample, at)
        else:
            state.insert(index, (day, sample, at))
        del state[: max(0, len(state) - (self.periods + 1 + DAY_SLACK))]
        return self._holds(state, day)

    def _holds(self, state: WindowState, day: int) -> bool:
        """The `periods` changes up to `day`: the rows (one a day, sorted) from `day - periods`
        to `day` are consecutive days when the first and last are those days."""
        end = bisect_left(state, day, key=_DAY)
        start = end - self.periods
        if start < 0 or end == len(state) or state[end][0] != day:
            return False
        if state[start][0] != day - self.periods:
            return False
        compare, threshold = OPS[self.op], self.threshold
        prev = state[start][1]
        for index in range(start + 1, end + 1):
            cur = state[index][1]
            if prev == 0 or not compare((cur - prev) / prev, threshold):
                return False
            prev = cur
        return True

    def prune(self, state: WindowState, horizon: Millis) -> None:
        """Day-keyed state is already bounded by count; time does not prune it."""

    def newest(self, state: WindowState) -> Millis | None:
        return int(max(state, key=_EVENT_TIME)[2]) if state else None

    def sweep(self, state: WindowState, horizon: Millis) -> Millis | None:
        newest = self.newest(state)
        if newest is None or newest < horizon - self.span:
            return None
        return newest + self.span


CACHED_DAY_CHARS = 32
"""Period texts up to this long have their day cached (the same few dates arrive all day)."""


def _day(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    if len(value) <= CACHED_DAY_CHARS:
        return _cached_ordinal(value)
    return _ordinal(value)


def _ordinal(text: str) -> int | None:
    try:
        return date.fromisoformat(text).toordinal()
    except ValueError:
        return None


_cached_ordinal = lru_cache(maxsize=4096)(_ordinal)
