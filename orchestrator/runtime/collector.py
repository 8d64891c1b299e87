"""The cyclic garbage collector in a long-lived process (the API, a Kafka worker).

A full collection walks every tracked object alive; each one pauses whatever is in flight.
What is loaded at start-up (modules, pydantic models, playbooks, the app) is about 70 ms of
that walk on the bench machine, and never garbage. `freeze_loaded` moves what is alive into the
collector's permanent generation, which full collections skip. Frozen objects are still freed
by reference counting when dropped; only a reference cycle among them would stay (so it
collects first, and is called when start-up or a recovery is done, not per record). The
engine's state adds little to the walk: its records, windows, dedupe keys and most timers are
never tracked (orchestrator/engine/records.py, timerqueue.py).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

FULL_COLLECTION_EVERY = 100
"""Young collections between two full ones in a service (Python's default is 10)."""


def freeze_loaded() -> None:
    """Collect, then leave every object alive now out of later full collections, which also
    run a tenth as often (`FULL_COLLECTION_EVERY`)."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection inside (a recovery: every object it makes stays alive, so the
    full collections its allocations would set off walk a growing heap and free nothing);
    the collector is enabled again after it, if it was. Follow it with `freeze_loaded`."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
