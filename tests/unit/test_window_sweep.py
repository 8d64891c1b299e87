"""A window's `sweep` is the sweep that used to be written out in the engine (prune, then
check the newest entry), and the horizon it returns is honest: up to it, another sweep changes
nothing and keeps the window."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.engine.windows import (
    AggregateWindow,
    BaselineWindow,
    ConsecutiveWindow,
    CountWindow,
    SamplesWindow,
    Window,
)

times = st.integers(-10_000, 10_000)
WINDOWS: list[tuple[Window, Any]] = [
    (CountWindow(3, 1000), st.lists(times).map(sorted)),
    (SamplesWindow(3, 1000, ("data", "v")), st.lists(times).map(sorted)),
    (
        AggregateWindow("sum", ("data", "v"), 1000, ">", 1.0, 1),
        st.lists(st.tuples(times, st.floats(-5, 5)).map(list)).map(sorted),
    ),
    (
        BaselineWindow(("data", "v"), 1000, 2, ">", 1.5),
        st.lists(st.tuples(times, st.floats(-5, 5)).map(list)).map(sorted),
    ),
    (
        ConsecutiveWindow(("data", "d"), ("data", "v"), 3, "<", -0.05, 5000),
        st.lists(st.tuples(st.integers(0, 20), st.floats(0, 9), times).map(list)),
    ),
]


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(range(len(WINDOWS))).flatmap(
        lambda i: st.tuples(st.just(i), WINDOWS[i][1], times, st.integers(0, 20_000))
    )
)
def test_sweep_is_prune_then_the_newest_check(case: tuple[int, list[Any], int, int]) -> None:
    """Same state afterwards and the same verdict as before; and a later sweep at any horizon
    up to the one returned leaves the state as it is and keeps it."""
    index, state, horizon, later = case
    window = WINDOWS[index][0]
    expected_state = copy.deepcopy(state)
    window.prune(expected_state, horizon)
    newest = window.newest(expected_state)
    kept = newest is not None and newest >= horizon - window.span
    quiet = window.sweep(state, horizon)
    assert (quiet is not None) == kept
    assert state == expected_state
    if quiet is not None:
        assert quiet >= horizon
        again = min(quiet, horizon + later)
        before = copy.deepcopy(state)
        assert window.sweep(state, again) is not None
        assert state == before
