"""Drills: replay a recorded event log through the engine, deterministically, on event time."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.drills.pacing import Pacer
from orchestrator.engine import (
    Engine,
    EngineState,
    Millis,
    Output,
    RawRecord,
    Retired,
    Tick,
    build,
    record_of,
    to_millis,
)
from orchestrator.errors import EventRejected
from schemas import DeadLetter, Incident, Origin

Progress = Callable[[int], None]
"""Told how many bytes of the log have been read so far."""


SHOWN_DEAD_LETTERS = 100
"""Dead letters a result keeps in memory to show; all of them go to the sink."""
_FILE_LINE_FIELDS = frozenset({"kind", "name", "offset"})


def file_line(name: str, number: int) -> Origin:
    """Origin(kind="file", name=name, offset=number), built without validating trusted values."""
    values = {
        "kind": "file",
        "name": name,
        "partition": None,
        "offset": number,
        "sender": None,
        "headers": None,
    }
    return build(Origin, values, _FILE_LINE_FIELDS)


@dataclass
class DrillResult:
    """What a replay produced: the final state, output counts, and the first dead letters.

    A drill reports every incident of its run: once the replay ends, the incidents retention
    retired on the way (`Retired` outputs, counted in no output figure) are back in `state`.
    """

    state: EngineState
    dead_letters: list[DeadLetter] = field(default_factory=list)
    dead_letter_count: int = 0
    outputs: int = 0
    retired: dict[str, Incident] = field(default_factory=dict)

    def with_retired(self) -> None:
        """Put the retired incidents back into the final state (kept in `retired` too)."""
        if self.retired:
            back = {i: record_of(incident) for i, incident in self.retired.items()}
            incidents = {**back, **self.state.incidents}
            self.state = dataclasses.replace(self.state, incidents=incidents)


def _lines(path: Path, progress: Progress | None) -> Iterator[tuple[int, bytes]]:
    done = 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            done += len(line)
            if progress is not None and number % 1000 == 0:
                progress(done)
            yield number, line.rstrip(b"\r\n")
    if progress is not None:
        progress(done)


def replay_file(
    engine: Engine,
    path: Path,
    until: Millis | None = None,
    speed: float | None = None,
    progress: Progress | None = None,
    sink: Callable[[Output], None] | None = None,
) -> DrillResult:
    """Replay the JSON Lines log at `path`; `speed` paces it at that many times event time."""
    return replay_lines(engine, _lines(path, progress), str(path), until, speed, sink)


def replay_lines(
    engine: Engine,
    lines: Iterable[tuple[int, bytes]],
    name: str = "<log>",
    until: Millis | None = None,
    speed: float | None = None,
    sink: Callable[[Output], None] | None = None,
) -> DrillResult:
    """The one replay loop: every non-blank (line number, record) through the engine on event
    time (timers due at or before a record fire before it); `until` advances the clock further
    at the end. Dead-letter origins name `name` and the line number."""
    result = DrillResult(engine.initial_state())
    pacer = Pacer(speed) if speed else None
    origin = file_line(name, 0)  # each record's is this one at its line (built when needed)
    for number, raw in lines:
        if not raw.strip():
            continue
        item = RawRecord(raw, origin, number)
        if pacer is not None:
            pacer.wait_for(_event_time(engine, raw))
        result.state, outputs = engine.step(result.state, item, result.state.clock)
        _collect(result, outputs, sink)
    if until is not None:
        result.state, outputs = engine.step(result.state, Tick(), until)
        _collect(result, outputs, sink)
    result.with_retired()
    return result


def numbered(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """Records with their 1-based line numbers, line endings stripped."""
    for number, line in enumerate(lines, start=1):
        yield number, line.rstrip(b"\r\n")


def _event_time(engine: Engine, raw: bytes) -> Millis | None:
    try:
        return to_millis(engine.validator.parse(raw).time)
    except EventRejected:
        return None


def _collect(
    result: DrillResult, outputs: list[Output], sink: Callable[[Output], None] | None
) -> None:
    for output in outputs:
        if isinstance(output, Retired):
            result.retired[output.incident_id] = output.incident
            continue
        result.outputs += 1
        if isinstance(output, DeadLetter):
            result.dead_letter_count += 1
            if len(result.dead_letters) < SHOWN_DEAD_LETTERS:
                result.dead_letters.append(output)
        if sink is not None:
            sink(output)
