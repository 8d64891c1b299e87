"""A request's records applied as one: one append to the input log, the engine over each
record, one write of everything they caused.

Per record there is only the engine's step and the bookkeeping of its result; the origin is
encoded once, the input log and each output table take one statement for the whole request,
and every record of a request is applied at the same `now` (they arrived together).
"""

from __future__ import annotations

import structlog

from orchestrator.engine import Engine, EngineState, Millis, Output, RawRecord, build
from orchestrator.logs import log_intake, record_context
from orchestrator.runtime.base import IntakeResult
from orchestrator.runtime.embedded.store import Store
from schemas import DeadLetter, Origin

log = structlog.get_logger("orchestrator.runtime.embedded")


def apply_records(
    engine: Engine,
    state: EngineState,
    store: Store,
    records: list[bytes],
    origin: Origin,
    now: Millis,
) -> tuple[EngineState, list[IntakeResult]]:
    """Append `records` to the input log and apply them in order (inside the caller's
    transaction); the state after them and each record's result. A record not accepted is
    logged with its event id (orchestrator.logs.log_intake)."""
    first = store.append_inputs("raw", now, records, origin.model_dump_json())
    results: list[IntakeResult] = []
    caused: list[tuple[int, list[Output]]] = []
    values = {name: getattr(origin, name) for name in Origin.model_fields}
    fields = frozenset(origin.model_fields_set | {"offset"})
    for seq, raw in enumerate(records, first):
        counters = state.counters
        before = counters.accepted, counters.duplicates
        numbered = build(Origin, {**values, "offset": seq}, fields)  # model_copy, unvalidated
        item = RawRecord(raw, numbered)
        try:
            state, outputs = engine.step(state, item, now)
        except Exception:  # the write's own log context: `input.failed` names the record
            structlog.contextvars.bind_contextvars(**record_context(raw))
            raise
        caused.append((seq, outputs))
        result = result_of(before, state, outputs)
        if result.status != "accepted":
            log_intake(log, result.status, raw, result.reason, result.dead_letter_id)
        results.append(result)
    store.write_outputs_of(caused)
    return state, results


def result_of(before: tuple[int, int], state: EngineState, outputs: list[Output]) -> IntakeResult:
    """What became of one record: a duplicate or accepted (by the counters it moved, from
    `before`: accepted, duplicates), else rejected with its dead letter's reason and id."""
    if state.counters.duplicates > before[1]:
        return IntakeResult("duplicate")
    if state.counters.accepted > before[0]:
        return IntakeResult("accepted")
    letter = next((o for o in outputs if isinstance(o, DeadLetter)), None)
    return IntakeResult(
        "rejected", letter.reason if letter else None, letter.id if letter else None
    )
