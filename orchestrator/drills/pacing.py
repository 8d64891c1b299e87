"""Drill time against the wall clock: the one pacer of every drill (file replay, live drill,
a log produced into Kafka). Event time runs `speed` times faster than the wall clock."""

from __future__ import annotations

import threading
import time

from orchestrator.engine import Millis


class DrillClock:
    """Drill time: starts at `start` (event time) and runs `speed` times the wall clock."""

    def __init__(self, start: Millis, speed: float) -> None:
        self.start = start
        self.speed = speed
        self.wall_start = time.monotonic()

    def reset(self, moment: Millis, speed: float) -> None:
        """From now on, drill time is `moment` and runs `speed` times the wall clock (0: held)."""
        self.start, self.speed, self.wall_start = moment, speed, time.monotonic()

    def now(self) -> Millis:
        """The current drill time."""
        return self.start + round((time.monotonic() - self.wall_start) * 1000 * self.speed)

    def delay_until(self, moment: Millis) -> float:
        """Wall seconds until the drill clock reaches `moment` (0 or less when it has)."""
        return (moment - self.start) / 1000 / self.speed - (time.monotonic() - self.wall_start)

    def sleep_until(self, moment: Millis, stop: threading.Event) -> bool:
        """Wait (wall time) until the drill clock reaches `moment`; False if stopped first."""
        delay = self.delay_until(moment)
        return not stop.wait(delay) if delay > 0 else not stop.is_set()


class Pacer:
    """Holds each record back until its event time is due on a drill clock that starts at the
    first record's time (so the first goes at once)."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.clock: DrillClock | None = None

    def wait_for(self, at: Millis | None) -> None:
        """Return when the record of event time `at` is due (at once for an unknown time)."""
        if at is None:
            return
        if self.clock is None:
            self.clock = DrillClock(at, self.speed)
            return
        delay = self.clock.delay_until(at)
        if delay > 0:
            time.sleep(delay)
