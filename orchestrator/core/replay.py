"""Replay: feed recorded lines through the engine on an event-time clock.

Timers due at or before a record's time fire before that record is handled; `until` advances
the clock further at the end. The caller reads the lines (I/O stays outside the core).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from orchestrator.core.clock import Millis
from orchestrator.core.engine import Engine, RawRecord, Tick
from orchestrator.core.outbox import Output
from orchestrator.core.state import EngineState
from schemas.deadletter import Origin

OutputSink = Callable[[Output], None]


def replay_lines(
    engine: Engine,
    lines: Iterable[bytes],
    name: str = "<log>",
    until: Millis | None = None,
    state: EngineState | None = None,
    sink: OutputSink | None = None,
) -> EngineState:
    """Run every non-blank line (1-based line numbers in dead-letter origins); return the state."""
    current = state or engine.initial_state()
    for number, line in enumerate(lines, start=1):
        raw = line.rstrip(b"\r\n")
        if not raw.strip():
            continue
        item = RawRecord(raw, Origin(kind="file", name=name, offset=number))
        current, outputs = engine.step(current, item, current.clock)
        if sink is not None:
            for output in outputs:
                sink(output)
    if until is not None:
        current, outputs = engine.step(current, Tick(), until)
        if sink is not None:
            for output in outputs:
                sink(output)
    return current
