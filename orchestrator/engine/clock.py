"""Event time: durations, timestamps as integer milliseconds, and their RFC 3339 form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

Millis = int
"""A point in event time: milliseconds since the Unix epoch, UTC."""

_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
MINUTE_MS = _UNIT_MS["m"]
HOUR_MS = _UNIT_MS["h"]
DAY_MS = _UNIT_MS["d"]


Clock = Callable[[], Millis]
"""What says what time it is now, in event-time milliseconds (a runtime's wall clock, a
test's ManualClock, a drill clock); the engine itself is only ever given `now`."""


def _duration_ms(text: str) -> float:
    unit = text[-1:]
    if unit not in _UNIT_MS:
        raise ValueError(f"duration {text!r} needs a unit: s, m, h, d or w (e.g. 15m)")
    return float(text[:-1]) * _UNIT_MS[unit]


def parse_duration(text: str) -> Millis:
    """'15m' -> 900000. The unit is required: s, m, h, d or w."""
    return round(_duration_ms(text))


def parse_duration_at_most(text: str, maximum: Millis) -> Millis:
    """parse_duration for a duration from 0 up to `maximum`; ValueError for any other, even
    one too long for a float (a 400-digit number of days), which is refused before rounding."""
    millis = _duration_ms(text)
    if not 0 <= millis <= maximum:  # also False for inf and nan
        raise ValueError(f"duration {text!r} is not between 0s and {format_duration(maximum)}")
    return round(millis)


def to_millis(moment: datetime) -> Millis:
    """An aware datetime as epoch milliseconds."""
    return round(moment.timestamp() * 1000)


@lru_cache(maxsize=65536)
def parse_time(text: str) -> Millis:
    """An RFC 3339 timestamp with offset as epoch milliseconds."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return to_millis(moment)


_DAY_S = 86_400


@lru_cache(maxsize=4096)
def _day_text(days: int) -> str:
    """The date of a day since the epoch as RFC 3339 text up to the time: 2026-11-20T."""
    return datetime.fromtimestamp(days * _DAY_S, tz=UTC).strftime("%Y-%m-%dT")


FORMATTED_TIMES = 4096
"""Texts `format_time` keeps: a task's deadlines are written into every event about the task
(three in four calls on the mixed log repeat one of the last 4096)."""


@lru_cache(maxsize=FORMATTED_TIMES)
def format_time(ms: Millis) -> str:
    """Epoch milliseconds as RFC 3339 UTC: 2026-11-20T10:00:00Z (milliseconds only if any).
    The date's text is cached (event times rarely repeat, their days do), the time of day
    is arithmetic; the whole text of the recent ones is cached too."""
    seconds, milli = divmod(ms, 1000)
    days, second = divmod(seconds, _DAY_S)
    hour, second = divmod(second, 3600)
    minute, second = divmod(second, 60)
    text = f"{_day_text(days)}{hour:02d}:{minute:02d}:{second:02d}"
    return f"{text}.{milli:03d}Z" if milli else text + "Z"


def format_duration(ms: Millis) -> str:
    """Milliseconds as a short human duration: 90000 -> '1m30s'."""
    seconds, rest = divmod(abs(ms), 1000)
    minutes, sec = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hour, "h"), (minute, "m"), (sec, "s")) if v]
    text = "".join(parts) or ("0s" if not rest else f"{rest}ms")
    return ("-" if ms < 0 else "") + text
