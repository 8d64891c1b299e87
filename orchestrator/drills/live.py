"""Live drills: replay a log paced on a simulated clock while responders act through the API.

The drill runs in its own namespace (its own database under `<data dir>/drills/<name>`, its
incidents and task events flagged `drill`), so it never mixes with live incidents. Time inside
the drill is event time: it starts at the log's first event and runs `speed` times faster than
the wall clock, so acknowledgements and escalations are measured in drill time.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import structlog

from orchestrator.drills.pacing import DrillClock
from orchestrator.engine import Engine, Millis, to_millis
from orchestrator.errors import EventRejected
from orchestrator.runtime.embedded import EmbeddedRuntime
from schemas import Origin

log = structlog.get_logger("orchestrator.drills.live")
HELD = 0.0
"""A drill clock's speed while it stands still."""
TICK_SECONDS = 0.2
"""How often (wall time) the drill fires due timers."""


@dataclass(frozen=True, slots=True)
class LiveDrill:
    """A drill namespace with its runtime, fed from a log on a simulated clock."""

    name: str
    runtime: EmbeddedRuntime
    clock: DrillClock
    lines: list[tuple[int, bytes, Millis | None]]
    log_name: str

    def feed(self, stop: threading.Event, until: Millis | None) -> None:
        """Submit each line when drill time reaches it, then run the clock to `until`."""
        for number, raw, at in self.lines:
            if at is not None and not self.clock.sleep_until(at, stop):
                return
            self.runtime.submit([raw], Origin(kind="file", name=self.log_name, offset=number))
        log.info("drill.replayed", drill=self.name, lines=len(self.lines))
        if until is not None and self.clock.sleep_until(until, stop):
            self.runtime.tick()
            stop.set()

    def tick(self, stop: threading.Event) -> None:
        """Fire due timers on drill time until stopped."""
        while not stop.wait(TICK_SECONDS):
            self.runtime.tick()


def _event_times(engine: Engine, path: Path) -> list[tuple[int, bytes, Millis | None]]:
    lines = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            raw = line.rstrip(b"\r\n")
            if not raw.strip():
                continue
            try:
                at: Millis | None = to_millis(engine.validator.parse(raw).time)
            except EventRejected:
                at = None
            lines.append((number, raw, at))
    return lines


def prepare(
    engine: Engine,
    log_path: Path,
    data_dir: Path,
    name: str,
    speed: float,
) -> LiveDrill:
    """A fresh drill namespace for `log_path` (an earlier drill of the same name is replaced)."""
    lines = _event_times(engine, log_path)
    times = [at for _n, _raw, at in lines if at is not None]
    if not times:
        raise ValueError(f"{log_path} has no valid event to start the drill clock from")
    return _namespace(engine, data_dir, name, DrillClock(min(times), speed), lines, log_path)


def settled(engine: Engine, log_path: Path, data_dir: Path, name: str, until: Millis) -> LiveDrill:
    """A drill namespace holding all of `log_path` at once, its clock run to `until` and going
    on at the wall clock's pace from there: a recorded drill's outcome to open in the console
    and act on (`orchestrator demo --serve`)."""
    lines = _event_times(engine, log_path)
    times = [at for _n, _raw, at in lines if at is not None]
    clock = DrillClock(min(times, default=until), HELD)
    drill = _namespace(engine, data_dir, name, clock, lines, log_path)
    for number, raw, at in lines:
        if at is not None:
            clock.reset(max(at, clock.now()), HELD)  # each line arrives at its own time
        drill.runtime.submit([raw], Origin(kind="file", name=drill.log_name, offset=number))
    clock.reset(until, HELD)
    drill.runtime.tick()
    clock.reset(until, 1.0)
    return drill


def _namespace(
    engine: Engine,
    data_dir: Path,
    name: str,
    clock: DrillClock,
    lines: list[tuple[int, bytes, Millis | None]],
    log_path: Path,
) -> LiveDrill:
    folder = data_dir / "drills" / name
    shutil.rmtree(folder, ignore_errors=True)
    runtime = EmbeddedRuntime.open(engine, folder, clock=clock.now)
    return LiveDrill(name, runtime, clock, lines, str(log_path))
