"""A sweep's `keep` on every window kind is prune-then-newest-check, state changes included."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.core.windows import (
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


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(range(len(WINDOWS))).flatmap(
        lambda i: st.tuples(st.just(i), WINDOWS[i][1], times)
    )
)
def test_keep_is_prune_then_the_newest_check(case: tuple[int, list[Any], int]) -> None:
    """Same state afterwards, and the same verdict as the sweep used to reach."""
    index, state, horizon = case
    window = WINDOWS[index][0]
    expected_state = copy.deepcopy(state)
    window.prune(expected_state, horizon)
    newest = window.newest(expected_state)
    expected = newest is not None and newest >= horizon - window.span
    assert window.keep(state, horizon) == expected
    assert state == expected_state
