"""Window arithmetic, checked against brute force over random event sequences.

Each property feeds a window the events of a random sequence in arrival order (out of order
within the allowed lateness), prunes its state after every observation the way the engine does
(horizon = watermark - allowed lateness), and compares every answer with a brute-force
computation over the full history of what was seen so far.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.engine.clock import DAY_MS, HOUR_MS, MINUTE_MS, Millis
from orchestrator.engine.windows import (
    DAY_SLACK,
    OPS,
    AggregateWindow,
    BaselineWindow,
    ConsecutiveWindow,
    CountWindow,
    SamplesWindow,
    Window,
    WindowState,
)

VALUE = ("data", "value")
PERIOD = ("data", "period")
START = 1_700_000_000_000
"""An arbitrary epoch-millisecond origin for generated event times."""
SETTINGS = settings(max_examples=200, deadline=None)


@dataclass(frozen=True)
class Seen:
    """One observation: its event time and its value."""

    at: Millis
    value: float


@st.composite
def arrivals(draw: st.DrawFn, max_events: int = 40) -> tuple[Millis, list[Seen]]:
    """(allowed lateness, events in arrival order), never later than the lateness allows.

    Arrival i happens at base_i (non-decreasing); its event time is base_i minus a delay of at
    most the lateness, so it is never older than the watermark minus the lateness. Times are
    whole minutes and delays are often exactly the lateness, so window edges and the pruning
    horizon are hit exactly.
    """
    late_minutes = draw(st.integers(0, 10))
    delays = st.one_of(st.sampled_from([0, late_minutes]), st.integers(0, late_minutes))
    base, seen = START, []
    for _ in range(draw(st.integers(1, max_events))):
        base += draw(st.sampled_from([0, 0, 1, 2, 5])) * MINUTE_MS
        at = base - draw(delays) * MINUTE_MS
        seen.append(Seen(at, float(draw(st.integers(-20, 20)))))
    lateness = late_minutes * MINUTE_MS
    return lateness, seen


spans = st.integers(1, 30).map(lambda m: m * MINUTE_MS)
ops = st.sampled_from(sorted(OPS))
thresholds = st.integers(-25, 25).map(float)


def ctx(value: float, period: str | None = None) -> dict[str, Any]:
    """An event context holding a value (and a day)."""
    data: dict[str, Any] = {"value": value}
    if period is not None:
        data["period"] = period
    return {"data": data}


def run(window: Window, lateness: Millis, events: list[Seen]) -> list[bool]:
    """Observe each event in arrival order, pruning to watermark - lateness after each."""
    state: WindowState = []
    watermark = 0
    answers = []
    for item in events:
        watermark = max(watermark, item.at)
        answers.append(window.observe(state, item.at, ctx(item.value)))
        window.prune(state, watermark - lateness)
    return answers


def in_window(history: list[Seen], at: Millis, span: Millis) -> list[float]:
    """Brute force: values of the history with at - span <= t <= at."""
    return [s.value for s in history if at - span <= s.at <= at]


@given(arrivals(), spans, st.integers(1, 6))
@SETTINGS
def test_count_window_matches_brute_force(
    case: tuple[Millis, list[Seen]], span: Millis, at_least: int
) -> None:
    """CountWindow holds iff at least N seen events lie in [t - within, t], with pruning."""
    lateness, events = case
    expected = [
        len(in_window(events[: i + 1], e.at, span)) >= at_least for i, e in enumerate(events)
    ]
    assert run(CountWindow(at_least, span), lateness, events) == expected


@given(arrivals(), spans, st.integers(1, 6), ops, thresholds)
@SETTINGS
def test_samples_window_matches_brute_force(
    case: tuple[Millis, list[Seen]], span: Millis, at_least: int, op: str, threshold: float
) -> None:
    """SamplesWindow counts only qualifying samples, and answers False for one that fails."""
    lateness, events = case
    passes = OPS[op]
    qualifying: list[Seen] = []
    expected = []
    for e in events:
        if not passes(e.value, threshold):
            expected.append(False)
            continue
        qualifying.append(e)
        expected.append(len(in_window(qualifying, e.at, span)) >= at_least)
    window = SamplesWindow(at_least, span, VALUE, op, threshold)
    assert run(window, lateness, events) == expected


def brute_aggregate(fn: str, values: list[float]) -> float:
    """sum, avg, min or max of a non-empty list, computed directly."""
    table = {
        "sum": sum(values),
        "avg": sum(values) / len(values),
        "min": min(values),
        "max": max(values),
    }
    return table[fn]


@given(
    arrivals(),
    spans,
    st.sampled_from(["sum", "avg", "min", "max"]),
    ops,
    thresholds,
    st.integers(1, 5),
)
@SETTINGS
def test_aggregate_window_matches_brute_force(
    case: tuple[Millis, list[Seen]],
    span: Millis,
    fn: str,
    op: str,
    threshold: float,
    min_samples: int,
) -> None:
    """AggregateWindow compares fn(values in [t - within, t]) once min_samples are there."""
    lateness, events = case
    expected = []
    for i, e in enumerate(events):
        values = in_window(events[: i + 1], e.at, span)
        enough = len(values) >= min_samples
        expected.append(enough and OPS[op](brute_aggregate(fn, values), threshold))
    window = AggregateWindow(fn, VALUE, span, op, threshold, min_samples)
    assert run(window, lateness, events) == expected


@given(arrivals(), spans, st.integers(1, 4), ops, st.sampled_from([0.5, 1.0, 1.5, 2.0, -1.0]))
@SETTINGS
def test_baseline_window_matches_brute_force(
    case: tuple[Millis, list[Seen]], span: Millis, min_samples: int, op: str, ratio: float
) -> None:
    """BaselineWindow: value / mean of earlier samples in [t - over, t), zero baseline false."""
    lateness, events = case
    expected = []
    for i, e in enumerate(events):
        earlier = [s.value for s in events[:i] if e.at - span <= s.at < e.at]
        if len(earlier) < min_samples or sum(earlier) == 0:
            expected.append(False)
            continue
        expected.append(OPS[op](e.value / (sum(earlier) / len(earlier)), ratio))
    window = BaselineWindow(VALUE, span, min_samples, op, ratio)
    assert run(window, lateness, events) == expected


@dataclass(frozen=True)
class DayValue:
    """One daily KPI report: the day (ordinal) and its value."""

    day: int
    value: float


@st.composite
def daily_reports(draw: st.DrawFn) -> list[DayValue]:
    """Reports mostly day after day, with gaps, repeats and corrections of recent days.

    A correction is never more than DAY_SLACK days older than the newest day reported, the
    day-level counterpart of the allowed lateness.
    """
    newest = date(2026, 11, 1).toordinal()
    reports = []
    for _ in range(draw(st.integers(1, 40))):
        step = draw(st.sampled_from(["next", "next", "next", "gap", "same", "correct"]))
        day = newest
        if step == "next":
            day = newest = newest + 1
        elif step == "gap":
            day = newest = newest + draw(st.integers(2, 3))
        elif step == "correct":
            day = newest - draw(st.integers(0, DAY_SLACK))
        reports.append(DayValue(day, float(draw(st.integers(0, 12)))))
    return reports


def brute_consecutive(
    values: dict[int, float], day: int, periods: int, op: str, threshold: float
) -> bool:
    """The `periods` days ending at `day` each changed from the day before by op threshold."""
    for d in range(day - periods + 1, day + 1):
        if d not in values or d - 1 not in values or values[d - 1] == 0:
            return False
        if not OPS[op]((values[d] - values[d - 1]) / values[d - 1], threshold):
            return False
    return True


@given(
    daily_reports(),
    st.integers(1, 4),
    ops,
    st.sampled_from([-0.5, -0.05, 0.0, 0.05, 0.5]),
)
@SETTINGS
def test_consecutive_window_matches_brute_force(
    reports: list[DayValue], periods: int, op: str, threshold: float
) -> None:
    """ConsecutiveWindow: N consecutive calendar days, corrections replace, gaps break runs."""
    window = ConsecutiveWindow(PERIOD, VALUE, periods, op, threshold)
    state: WindowState = []
    latest: dict[int, float] = {}
    for i, report in enumerate(reports):
        latest[report.day] = report.value
        at = START + i * HOUR_MS
        period = date.fromordinal(report.day).isoformat()
        got = window.observe(state, at, ctx(report.value, period))
        window.prune(state, at)
        assert got == brute_consecutive(latest, report.day, periods, op, threshold)


def test_count_window_counts_an_event_exactly_within_apart() -> None:
    """Two events exactly `within` apart are in one window (the start is inclusive)."""
    window, state = CountWindow(2, 5 * MINUTE_MS), []
    assert window.observe(state, START, {}) is False
    assert window.observe(state, START + 5 * MINUTE_MS, {}) is True


def test_count_window_excludes_an_event_one_millisecond_too_old() -> None:
    """An event within + 1 ms older than the newest is outside its window."""
    window, state = CountWindow(2, 5 * MINUTE_MS), []
    window.observe(state, START, {})
    assert window.observe(state, START + 5 * MINUTE_MS + 1, {}) is False


def test_count_window_evaluates_a_late_event_over_the_window_ending_at_its_time() -> None:
    """A late event looks back from its own time: a newer event already seen is not counted."""
    window, state = CountWindow(2, 5 * MINUTE_MS), []
    window.observe(state, START + MINUTE_MS, {})
    assert window.observe(state, START, {}) is False
    assert window.observe(state, START + 2 * MINUTE_MS, {}) is True


def test_aggregate_window_includes_sample_exactly_within_apart() -> None:
    """AggregateWindow's window start is inclusive: a sample exactly `within` old is summed."""
    window = AggregateWindow("sum", VALUE, HOUR_MS, ">=", 10.0, 1)
    state: WindowState = []
    assert window.observe(state, START, ctx(4.0)) is False
    assert window.observe(state, START + HOUR_MS, ctx(6.0)) is True
    assert window.observe(state, START + 2 * HOUR_MS + 1, ctx(6.0)) is False


def test_baseline_excludes_samples_at_the_same_instant_and_includes_over_apart() -> None:
    """The baseline takes samples with t - over <= ti < t: the start counts, t itself does not."""
    window = BaselineWindow(VALUE, HOUR_MS, 1, ">=", 2.0)
    state: WindowState = []
    window.observe(state, START, ctx(5.0))
    assert window.observe(state, START + HOUR_MS, ctx(10.0)) is True
    # 12 / 5 = 2.4 passes; were the sample of 10 at the same instant in the baseline: 12 / 7.5
    assert window.observe(state, START + HOUR_MS, ctx(12.0)) is True


def test_baseline_of_zero_is_false_not_an_error() -> None:
    """A zero baseline makes the ratio undefined: the condition is false."""
    window = BaselineWindow(VALUE, HOUR_MS, 1, ">=", 2.0)
    state: WindowState = []
    window.observe(state, START, ctx(0.0))
    assert window.observe(state, START + MINUTE_MS, ctx(100.0)) is False


def test_consecutive_window_ignores_reports_without_a_valid_day_or_value() -> None:
    """A report whose period is not YYYY-MM-DD, or whose value is not a number, is skipped."""
    window = ConsecutiveWindow(PERIOD, VALUE, 1, "<", -0.05)
    state: WindowState = []
    assert window.observe(state, START, {"data": {"period": "2026-13-01", "value": 1}}) is False
    assert window.observe(state, START, {"data": {"period": "2026-11-02", "value": "x"}}) is False
    assert window.observe(state, START, {"data": {"period": 20261102, "value": 1}}) is False
    assert state == []


def test_count_window_state_stays_bounded_over_ten_thousand_events() -> None:
    """With pruning, state never holds more than the events within window + lateness."""
    span, lateness = 5 * MINUTE_MS, 2 * MINUTE_MS
    window, state = CountWindow(3, span), []
    rng = random.Random(20261120)
    base, watermark, history, largest = START, 0, [], 0
    for _ in range(10_000):
        base += rng.randint(1, 120) * 1000
        at = base - rng.randint(0, lateness)
        history.append(at)
        watermark = max(watermark, at)
        window.observe(state, at, {})
        window.prune(state, watermark - lateness)
        # arrivals are >= 1 s apart, so the last 1000 reach back further than window + lateness
        live = sum(1 for t in history[-1000:] if watermark - lateness - span <= t <= watermark)
        assert len(state) <= live
        largest = max(largest, len(state))
    assert base - START > DAY_MS
    # event times of arrivals >= 1 s apart, each at most `lateness` early: this many fit
    assert largest <= (span + 2 * lateness) // 1000 + 1


@pytest.mark.parametrize(
    "window",
    [
        CountWindow(2, HOUR_MS),
        SamplesWindow(2, HOUR_MS, VALUE, ">", 0.0),
        AggregateWindow("sum", VALUE, HOUR_MS, ">=", 2.0, 2),
        BaselineWindow(VALUE, HOUR_MS, 1, ">=", 1.0),
    ],
    ids=["count", "samples", "aggregate", "baseline"],
)
def test_prune_keeps_what_an_evaluation_at_the_horizon_sees(window: Window) -> None:
    """prune(h) keeps an entry exactly `within` before h; an event at h still counts it."""
    state: WindowState = []
    horizon = START + HOUR_MS
    window.observe(state, START, ctx(1.0))
    window.prune(state, horizon)
    assert window.newest(state) == START
    assert window.observe(state, horizon, ctx(1.0)) is True


@pytest.mark.parametrize(
    "window",
    [
        CountWindow(1, HOUR_MS),
        AggregateWindow("sum", VALUE, HOUR_MS, ">=", 2.0, 2),
        BaselineWindow(VALUE, HOUR_MS, 1, ">=", 1.0),
    ],
    ids=["count", "aggregate", "baseline"],
)
def test_prune_forgets_entries_older_than_the_horizon_minus_within(window: Window) -> None:
    """prune(h) drops an entry 1 ms older than h - within: no evaluation at or after h sees it."""
    state: WindowState = []
    window.observe(state, START - 1, ctx(1.0))
    window.prune(state, START + HOUR_MS)
    assert state == []
    assert window.newest(state) is None
