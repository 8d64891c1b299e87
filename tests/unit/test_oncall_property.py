"""Roster evaluation agrees, minute by minute, with a brute-force reference: rotations handing
off across DST changes in two hemispheres' zones, working-hours restrictions, overrides of
overrides, and fallbacks when nobody is on call."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.engine import DAY_MS, MINUTE_MS, Hours, Layer, Override, Roster, Rosters

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC")
DST_DAYS = (  # local dates of DST changes in 2026: EU spring/autumn, US spring/autumn, Sydney
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2026, 3, 8),
    date(2026, 11, 1),
    date(2026, 4, 5),
    date(2026, 10, 4),
)
SHIFTS = (DAY_MS, 2 * DAY_MS, 7 * DAY_MS, 8 * 3_600_000, 12 * 3_600_000, 90 * MINUTE_MS)
HANDOFFS = ((2, 30), (1, 30), (9, 0), (0, 0), (23, 45), (3, 0))
"""Local handoff times: 02:30 is skipped in spring, 01:30 happens twice in the US autumn."""
SPAN_MINUTES = 3 * 1440


def _instant(local: datetime, zone: str) -> int:
    """The reference rule: a skipped local time with the offset before the change, an
    ambiguous one at its first occurrence."""
    return round(local.replace(tzinfo=ZoneInfo(zone), fold=0).timestamp() * 1000)


def _handoffs(layer: Layer, until: int) -> list[int]:
    """Every handoff instant of the layer up to `until`, enumerated one turn after another."""
    found: list[int] = []
    turn = 0
    while True:
        if layer.shift % DAY_MS == 0:
            local = layer.start + timedelta(days=turn * layer.shift // DAY_MS)
            at = _instant(local, layer.zone)
        else:
            at = _instant(layer.start, layer.zone) + turn * layer.shift
        if at > until:
            return found
        found.append(at)
        turn += 1


def _allowed(layer: Layer, at: int) -> bool:
    if not layer.hours:
        return True
    local = datetime.fromtimestamp(at / 1000, UTC).astimezone(ZoneInfo(layer.zone))
    minute = local.hour * 60 + local.minute
    return any(local.weekday() in h.days and h.start <= minute < h.end for h in layer.hours)


def _reference(roster: Roster, default: tuple[str, ...], begin: int) -> list[tuple[str, ...]]:
    """Who is on call each minute from `begin`, by walking the minutes: a layer's turn counter
    moves at each handoff passed; overrides are looked up one by one, the last covering wins."""
    end = begin + SPAN_MINUTES * MINUTE_MS
    handoffs = [_handoffs(layer, end) for layer in roster.layers]
    passed = [0] * len(roster.layers)
    result = []
    for minute in range(SPAN_MINUTES):
        at = begin + minute * MINUTE_MS
        for i, times in enumerate(handoffs):
            while passed[i] < len(times) and times[passed[i]] <= at:
                passed[i] += 1
        covering = [o for o in roster.overrides if o.start <= at < o.end]
        on_call: tuple[str, ...] = ()
        if covering:
            on_call = (covering[-1].responder,)
        else:
            for i in reversed(range(len(roster.layers))):
                layer = roster.layers[i]
                if passed[i] and _allowed(layer, at):
                    on_call = (layer.members[(passed[i] - 1) % len(layer.members)],)
                    break
        result.append(on_call or roster.fallback or default)
    return result


@st.composite
def hours(draw: st.DrawFn) -> Hours:
    start = draw(st.integers(0, 1380))
    end = draw(st.integers(start + 1, 1440))
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    return Hours(days, start, end)


@st.composite
def layers(draw: st.DrawFn, around: date, name: str) -> Layer:
    zone = draw(st.sampled_from(ZONES))
    hour, minute = draw(st.sampled_from(HANDOFFS))
    first = around - timedelta(days=draw(st.integers(0, 9)))
    start = datetime(first.year, first.month, first.day, hour, minute)
    members = tuple(f"{name}-{i}" for i in range(draw(st.integers(1, 3))))
    restrict = tuple(draw(st.lists(hours(), max_size=2)))
    return Layer(name, members, start, zone, draw(st.sampled_from(SHIFTS)), restrict)


@st.composite
def overrides(draw: st.DrawFn, begin: int) -> Override:
    start = begin + draw(st.integers(-600, SPAN_MINUTES)) * MINUTE_MS
    length = draw(st.integers(1, 1440)) * MINUTE_MS
    return Override(draw(st.sampled_from(("over-a", "over-b", "over-c"))), start, start + length)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Roster, tuple[str, ...], int]:
    around = draw(st.sampled_from(DST_DAYS))
    begin = _instant(datetime(around.year, around.month, around.day) - timedelta(days=1), "UTC")
    count = draw(st.integers(0, 3))
    roster = Roster(
        tuple(draw(layers(around, f"layer{i}")) for i in range(count)),
        tuple(draw(st.lists(overrides(begin), max_size=5))),
        tuple(draw(st.lists(st.sampled_from(("fb-1", "fb-2")), max_size=2, unique=True))),
    )
    return roster, tuple(draw(st.lists(st.just("file-fb"), max_size=1))), begin


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_on_call_matches_minute_by_minute_reference(
    scenario: tuple[Roster, tuple[str, ...], int],
) -> None:
    """Across DST changes, restrictions and stacked overrides, every minute of three days has
    the responders the brute-force walk finds."""
    roster, default, begin = scenario
    expected = _reference(roster, default, begin)
    got = [roster.on_call(begin + m * MINUTE_MS, default).responders for m in range(SPAN_MINUTES)]
    assert got == expected


@settings(max_examples=40, deadline=None)
@given(scenarios())
def test_why_names_the_source_that_decided(scenario: tuple[Roster, tuple[str, ...], int]) -> None:
    """The reason given agrees with the responders: an override's responder, a layer's member,
    the fallback, or nobody when there is nothing to fall back on."""
    roster, default, begin = scenario
    for minute in range(0, SPAN_MINUTES, 7):
        answer = roster.on_call(begin + minute * MINUTE_MS, default)
        if answer.via == "override":
            index = int(answer.source.removeprefix("overrides[").removesuffix("]"))
            assert answer.responders == (roster.overrides[index].responder,)
        elif answer.via == "layer":
            layer = next(layer for layer in roster.layers if layer.name == answer.source)
            assert answer.responders[0] in layer.members
        elif answer.via == "fallback":
            assert answer.responders in (roster.fallback, default)
        else:
            assert answer.responders == ()
            assert not roster.fallback
            assert not default


def test_daily_handoff_keeps_local_time_across_dst() -> None:
    """A daily 09:00 Berlin handoff is 08:00Z before the spring change and 07:00Z after; a
    handoff at 02:30 on the day the clocks skip it counts with the offset before (01:30Z); one
    at 01:30 on New York's autumn change day is its first occurrence (05:30Z, EDT)."""
    berlin = Layer("d", ("a", "b"), datetime(2026, 3, 27, 9, 0), "Europe/Berlin", DAY_MS)
    assert [berlin.handoff(n) for n in range(3)] == [
        _instant(datetime(2026, 3, 27, 8, 0), "UTC"),
        _instant(datetime(2026, 3, 28, 8, 0), "UTC"),
        _instant(datetime(2026, 3, 29, 7, 0), "UTC"),
    ]
    skipped = Layer("s", ("a",), datetime(2026, 3, 29, 2, 30), "Europe/Berlin", DAY_MS)
    assert skipped.handoff(0) == _instant(datetime(2026, 3, 29, 1, 30), "UTC")
    twice = Layer("t", ("a",), datetime(2026, 11, 1, 1, 30), "America/New_York", DAY_MS)
    assert twice.handoff(0) == _instant(datetime(2026, 11, 1, 5, 30), "UTC")


def test_empty_roster_falls_back_to_role_then_file_then_nobody() -> None:
    """A role with no layers and no overrides: its own fallback, else the file's, else nobody."""
    at = _instant(datetime(2026, 11, 20, 10, 0), "UTC")
    rosters = Rosters({"pr": Roster(fallback=("pr-lead",)), "ops": Roster()}, ("ic",))
    assert rosters.on_call("pr", at).responders == ("pr-lead",)
    assert (rosters.on_call("ops", at).via, rosters.on_call("ops", at).source) == (
        "fallback",
        "rosters",
    )
    assert rosters.on_call("legal", at).responders == ("ic",)
    nobody = Rosters({}).on_call("ops", at)
    assert (nobody.responders, nobody.via) == ((), "nobody")


@settings(max_examples=40, deadline=None)
@given(scenarios())
def test_spans_agree_with_the_minute_by_minute_answer(
    scenario: tuple[Roster, tuple[str, ...], int],
) -> None:
    """The calendar spans (what `oncall export` writes) cover the range without gaps, and each
    minute inside a span has that span's responders."""
    roster, default, begin = scenario
    end = begin + SPAN_MINUTES * MINUTE_MS
    spans = Rosters({"r": roster}, default).spans("r", begin, end)
    assert spans[0][0] == begin
    assert spans[-1][1] == end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    expected = _reference(roster, default, begin)
    for start, finish, who in spans:
        first, last = (start - begin) // MINUTE_MS, -(-(finish - begin) // MINUTE_MS)
        assert {expected[m] for m in range(first, last)} == {who.responders}


def test_spans_change_where_working_hours_begin_inside_a_dst_gap_or_an_ambiguous_hour() -> None:
    """Hours from 02:30: on the spring change (02:00-03:00 skipped) they begin at the change
    itself; on the autumn change 02:30 happens twice, with the hour between outside them."""
    for around in (date(2026, 3, 29), date(2026, 10, 25)):
        layer = Layer(
            "nights",
            ("ana",),
            datetime(around.year, around.month, around.day) - timedelta(days=5),
            "Europe/Berlin",
            DAY_MS,
            (Hours(frozenset(range(7)), 150, 240),),
        )
        roster = Roster((layer,))
        begin = _instant(datetime(around.year, around.month, around.day) - timedelta(days=1), "UTC")
        expected = _reference(roster, (), begin)
        spans = Rosters({"r": roster}).spans("r", begin, begin + SPAN_MINUTES * MINUTE_MS)
        for start, finish, who in spans:
            first, last = (start - begin) // MINUTE_MS, -(-(finish - begin) // MINUTE_MS)
            assert {expected[m] for m in range(first, last)} == {who.responders}, (around, start)
