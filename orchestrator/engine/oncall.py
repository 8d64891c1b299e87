"""Who is on call: a role's roster evaluated as a pure function of event time.

Precedence at an instant: the last override covering it (an override may override an
override), else the last layer that has someone then (a later layer wins where it covers), else
the role's fallback, else the file's fallback, else nobody. Local times are read with zoneinfo,
so handoffs and working hours follow each zone's DST changes.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from heapq import heappop, heappush
from typing import Literal
from zoneinfo import ZoneInfo

from orchestrator.engine.clock import DAY_MS, Millis
from schemas import Notified

MINUTES_A_DAY = 1440


@dataclass(frozen=True, slots=True)
class Hours:
    """On call on these weekdays (0 = Monday) from `start` to `end`, minutes of the local day."""

    days: frozenset[int]
    start: int
    end: int

    def holds(self, weekday: int, minute: int) -> bool:
        """True when a local weekday and minute of day fall inside the window."""
        return weekday in self.days and self.start <= minute < self.end


@dataclass(frozen=True, slots=True)
class Layer:
    """A rotation: `members` take turns of `shift` from the local `start` in `zone`."""

    name: str
    members: tuple[str, ...]
    start: datetime
    """Naive local date and time of the first handoff."""
    zone: str
    shift: Millis
    hours: tuple[Hours, ...] = ()

    @property
    def calendar_days(self) -> int:
        """The shift in local days when it is whole days (handoffs at a local time), else 0."""
        return self.shift // DAY_MS if self.shift % DAY_MS == 0 else 0

    def handoff(self, turn: int) -> Millis:
        """The instant turn number `turn` starts (turn 0 is the start)."""
        days = self.calendar_days
        if days:
            return local_instant(self.start + timedelta(days=turn * days), self.zone)
        return local_instant(self.start, self.zone) + turn * self.shift

    def turn(self, at: Millis) -> int | None:
        """The turn in progress at `at`, or None before the start."""
        first = self.handoff(0)
        if at < first:
            return None
        days = self.calendar_days
        if not days:
            return (at - first) // self.shift
        local_day = local_time(at, self.zone).date()
        turn = (local_day - self.start.date()).days // days
        return turn if at >= self.handoff(turn) else turn - 1

    def who(self, at: Millis) -> str | None:
        """The member on call at `at`, or None (before the start, or outside its windows)."""
        turn = self.turn(at)
        if turn is None or not self.allows(at):
            return None
        return self.members[turn % len(self.members)]

    def allows(self, at: Millis) -> bool:
        """True when no restriction applies or `at` falls in one of the windows."""
        if not self.hours:
            return True
        local = local_time(at, self.zone)
        minute = local.hour * 60 + local.minute
        return any(w.holds(local.weekday(), minute) for w in self.hours)


@dataclass(frozen=True, slots=True)
class Override:
    """`responder` on call instead from `start` (inclusive) until `end` (exclusive)."""

    responder: str
    start: Millis
    end: Millis


@dataclass(frozen=True, slots=True)
class OnCall:
    """Who is on call for a role at an instant, and why: `via` override, layer, fallback or
    nobody; `source` names the layer, the override (`overrides[i]`) or the fallback."""

    responders: tuple[str, ...]
    via: Literal["override", "layer", "fallback", "nobody"]
    source: str


class Roster:
    """One role's roster; overrides are flattened once into disjoint spans for a bisect."""

    def __init__(
        self,
        layers: tuple[Layer, ...] = (),
        overrides: tuple[Override, ...] = (),
        fallback: tuple[str, ...] = (),
    ) -> None:
        self.layers = layers
        self.overrides = overrides
        self.fallback = fallback
        self._bounds, self._winners = _flatten(overrides)

    def override_at(self, at: Millis) -> int | None:
        """The index of the override in force at `at` (the last one covering it), or None."""
        place = bisect_right(self._bounds, at) - 1
        return None if place < 0 else self._winners[place]

    def on_call(self, at: Millis, default: tuple[str, ...] = ()) -> OnCall:
        """Who is on call at `at` and why; `default` is the file's fallback."""
        index = self.override_at(at)
        if index is not None:
            return OnCall((self.overrides[index].responder,), "override", f"overrides[{index}]")
        for layer in reversed(self.layers):
            member = layer.who(at)
            if member is not None:
                return OnCall((member,), "layer", layer.name)
        if self.fallback:
            return OnCall(self.fallback, "fallback", "role")
        if default:
            return OnCall(default, "fallback", "rosters")
        return OnCall((), "nobody", "")


def _flatten(overrides: tuple[Override, ...]) -> tuple[list[Millis], list[int | None]]:
    """Span starts (sorted) and the override winning each span (None: no override), so that
    the span of an instant is one bisect away: a sweep keeping the covering overrides in a heap
    by place, the last one on top."""
    edges = sorted({o.start for o in overrides} | {o.end for o in overrides})
    starting = sorted(range(len(overrides)), key=lambda i: overrides[i].start)
    covering: list[tuple[int, Millis]] = []
    winners: list[int | None] = []
    next_start = 0
    for edge in edges:
        while next_start < len(starting) and overrides[starting[next_start]].start <= edge:
            index = starting[next_start]
            heappush(covering, (-index, overrides[index].end))
            next_start += 1
        while covering and covering[0][1] <= edge:
            heappop(covering)
        winners.append(-covering[0][0] if covering else None)
    return edges, winners


@dataclass(frozen=True, slots=True)
class Rosters:
    """Every role's roster, and the fallback for a role with nobody on call."""

    roles: dict[str, Roster]
    fallback: tuple[str, ...] = ()

    def on_call(self, role: str, at: Millis) -> OnCall:
        """Who is on call for `role` at `at` (a role without a roster: the fallback)."""
        return self.roles.get(role, EMPTY).on_call(at, self.fallback)

    def spans(self, role: str, start: Millis, end: Millis) -> list[tuple[Millis, Millis, OnCall]]:
        """Who is on call for `role` from `start` to `end`, as consecutive spans (start, end,
        who): the answer is evaluated at every instant it may change (a handoff, an override's
        edge, a working-hours edge) and equal neighbours are merged."""
        roster = self.roles.get(role, EMPTY)
        edges = sorted({start, *(t for t in _changes(roster, start, end) if start < t < end)})
        found: list[tuple[Millis, Millis, OnCall]] = []
        for begin, finish in zip(edges, [*edges[1:], end], strict=True):
            who = roster.on_call(begin, self.fallback)
            if found and found[-1][2] == who:
                found[-1] = (found[-1][0], finish, who)
            else:
                found.append((begin, finish, who))
        return found


def _changes(roster: Roster, start: Millis, end: Millis) -> list[Millis]:
    """Every instant in [start, end] where who is on call may change."""
    points = [t for o in roster.overrides for t in (o.start, o.end)]
    for layer in roster.layers:
        first = layer.turn(start)
        last = layer.turn(end)
        if last is not None:
            points += [layer.handoff(n) for n in range(first or 0, last + 2)]
        if not layer.hours:
            continue
        zone = zone_of(layer.zone)
        day = local_time(start, layer.zone).date() - timedelta(days=1)
        while day <= local_time(end, layer.zone).date():
            midnight = datetime(day.year, day.month, day.day)
            for hours in layer.hours:
                for minute in (hours.start, hours.end):
                    local = midnight + timedelta(minutes=minute)
                    points += (_instant(local, zone, 0), _instant(local, zone, 1))
            day += timedelta(days=1)
        points += _offset_changes(zone, start, end)
    return points


def _instant(local: datetime, zone: ZoneInfo, fold: int) -> Millis:
    return int(local.replace(tzinfo=zone, fold=fold).timestamp() * 1000)


def _offset_changes(zone: ZoneInfo, start: Millis, end: Millis) -> list[Millis]:
    """The instants in [start, end] where `zone`'s UTC offset changes (to the millisecond): a
    working-hours edge inside a DST gap or an ambiguous hour takes effect at one of them, and
    both readings of an ambiguous edge are in the list already."""
    found: list[Millis] = []
    step = 3_600_000
    at = start
    while at < end:
        later = min(at + step, end)
        if _offset(zone, at) != _offset(zone, later):
            low, high = at, later  # the offset is _offset(at) at low and differs at high
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (
                    (middle, high) if _offset(zone, middle) == _offset(zone, at) else (low, middle)
                )
            found.append(high)
        at = later
    return found


def _offset(zone: ZoneInfo, at: Millis) -> timedelta | None:
    return datetime.fromtimestamp(at / 1000, UTC).astimezone(zone).utcoffset()


EMPTY = Roster()
PAGED_KINDS = frozenset({"task.assigned", "task.escalated"})
"""The task events that are addressed to people: an assignment and each escalation step."""


def addressed(rosters: Rosters | None, kind: str, role: str, at: Millis) -> Notified | None:
    """Who a task event of `kind` for `role` at `at` is addressed to, and why; None without
    rosters or for a kind nobody is paged for."""
    if rosters is None or kind not in PAGED_KINDS:
        return None
    on_call = rosters.on_call(role, at)
    return Notified(responders=list(on_call.responders), via=on_call.via, source=on_call.source)


def timeline_detail(notified: Notified) -> dict[str, str]:
    """How the timeline records who was notified and why, in plain words."""
    why = f"{notified.via} {notified.source}".strip()
    return {"notified": ", ".join(notified.responders) or "nobody", "notified_via": why}


@lru_cache(maxsize=64)
def zone_of(name: str) -> ZoneInfo:
    """The IANA zone `name` (ZoneInfoNotFoundError or ValueError for an unknown one)."""
    return ZoneInfo(name)


def local_time(at: Millis, zone: str) -> datetime:
    """The local date and time (aware) of the instant `at` in `zone`."""
    seconds, millis = divmod(at, 1000)
    moment = datetime.fromtimestamp(seconds, UTC) + timedelta(milliseconds=millis)
    return moment.astimezone(zone_of(zone))


@lru_cache(maxsize=4096)
def local_instant(local: datetime, zone: str) -> Millis:
    """The instant of a naive local time in `zone`: a skipped time (a DST gap) counts with the
    offset before the change, an ambiguous one is its first occurrence (RFC 5545, 3.3.5)."""
    aware = local.replace(tzinfo=zone_of(zone), fold=0)
    return int(aware.timestamp()) * 1000
