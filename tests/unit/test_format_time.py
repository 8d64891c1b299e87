"""format_time builds the text from a cached date and the time of day (issue 18): the same
text as formatting the whole timestamp, for every millisecond value."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.engine.clock import format_time, parse_time

EARLIEST = parse_time("0001-01-02T00:00:00Z")
LATEST = parse_time("9999-12-30T23:59:59.999Z")


def whole(ms: int) -> str:
    """The timestamp formatted in one go, as format_time did before its seconds were cached."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    if ms % 1000:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@given(st.integers(min_value=EARLIEST, max_value=LATEST))
def test_format_time_is_the_whole_timestamp_formatted(ms: int) -> None:
    """Any millisecond from year 1 to 9999 (before the epoch too) formats as before."""
    assert format_time(ms) == whole(ms)


@given(st.integers(min_value=-(10**6), max_value=10**6) | st.sampled_from([0, -1, 999, 1000]))
def test_format_time_near_the_epoch_and_at_second_edges(ms: int) -> None:
    """Around the epoch, where the floor of negative times matters, and on whole seconds."""
    assert format_time(ms) == whole(ms)
    assert parse_time(format_time(ms)) == ms
