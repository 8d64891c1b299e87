"""Group commit: concurrent writes applied in arrival order, in one transaction, one fsync.

Every caller queues its write and waits. The write at the front of the queue leads: it takes
every write queued so far (its own first), hands them to the runtime to apply and commit
together, then wakes every caller with its own result or exception. Writes that arrive while
a batch is being applied wait for the next batch, led by the first of them. A caller returns
only once its batch is committed, so an answer still means the write is durable.

Callers on an event loop (`run_async`) never block it: a thread of the loop's executor leads
their batches, one thread hop per batch instead of one per write, and each caller's future is
resolved once its batch is committed. A thread that finishes a batch leads on while the next
write in the queue belongs to an event loop (no thread of its own waits to lead it). Writes are
claimed when a batch takes them, so a thread the loop started for a write that a finishing
leader has already taken finds it claimed and leaves it alone: every batch is applied once.

A write keeps the context of the caller that queued it (`contextvars.copy_context`) and is applied
inside it, so what the leading thread logs for it carries that caller's bound log context (the
request's method and path, the incident or task being handled).

The queue knows how far behind it is: `pending` counts the records (each write's `weight`)
queued and not yet committed, and `drain_seconds` estimates how long committing them takes at
the rate recent batches were applied, for intake to refuse more work only when it would wait.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")
RATE_WEIGHT = 0.2
"""How much the newest batch moves the estimated commit rate (an exponential moving average)."""


@dataclass(slots=True)
class Write(Generic[T]):
    """One queued write: the work to run inside the batch's transaction, then its outcome."""

    work: Callable[[], T]
    weight: int = 1
    """Records this write holds (what `GroupCommit.pending` counts)."""
    value: T | None = None
    error: BaseException | None = None
    done: bool = False
    claimed: bool = False
    """Taken into a batch by its leader (no second leader may take it)."""
    wake: Callable[[], None] | None = None
    """For a write from an event loop: resolves its future (called by the leading thread)."""
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    """The queueing caller's context: the write is applied inside it, on whichever thread leads."""

    def outcome(self) -> T:
        """The work's value, or its exception raised again (in the caller's thread)."""
        if self.error is not None:
            raise self.error
        return cast(T, self.value)


Batch = list[Write[Any]]
ApplyBatch = Callable[[Batch], None]
"""Runs every write of a batch in order and commits; sets each write's value or error."""


class GroupCommit:
    """The queue of writes waiting for a transaction; thread-safe."""

    def __init__(self, apply: ApplyBatch) -> None:
        self.apply = apply
        self.queue: deque[Write[Any]] = deque()
        self.moved = threading.Condition(threading.Lock())
        self.batches = 0
        """Batches committed so far (for tests and metrics)."""
        self.pending = 0
        """Records queued and not yet committed."""
        self.rate = 0.0
        """Records committed per second of applying, recently (0 until a batch was applied)."""

    def drain_seconds(self) -> float:
        """How long committing what is queued now should take, at the recent rate."""
        return self.pending / self.rate if self.rate else 0.0

    def run(self, work: Callable[[], T], weight: int = 1) -> T:
        """Queue `work` (holding `weight` records), wait until its batch is committed, and
        return its value."""
        write = Write(work, weight)
        with self.moved:
            self.queue.append(write)
            self.pending += weight
            while not write.done and self.queue[0] is not write:
                self.moved.wait()
            batch = [] if write.done else _claim(self.queue)
        if batch:
            self._lead(batch)
            self._drain()
        return write.outcome()

    async def run_async(self, work: Callable[[], T], weight: int = 1) -> T:
        """Queue `work` (holding `weight` records) from an event loop and await its committed
        value, without blocking the loop. A cancelled caller's write is still applied (its
        answer is just not awaited)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        write = Write(work, weight, wake=lambda: _wake(loop, future))
        with self.moved:
            self.queue.append(write)
            self.pending += weight
            idle = len(self.queue) == 1
        if idle:  # nobody leads or waits to lead: a thread of the loop's executor will
            loop.run_in_executor(None, self._drain)
        await future
        return write.outcome()

    def _drain(self) -> None:
        """Lead batch after batch while the write at the front comes from an event loop."""
        while True:
            with self.moved:
                if not self.queue or self.queue[0].wake is None or self.queue[0].claimed:
                    return  # empty, a thread of its own leads the front, or a leader has it
                batch = _claim(self.queue)
            self._lead(batch)

    def _lead(self, batch: Batch) -> None:
        started = time.perf_counter()
        try:
            self.apply(batch)
        except BaseException as error:  # the batch as a whole failed: every write gets it
            for write in batch:
                write.error = write.error or error
        finally:
            with self.moved:
                for write in batch:
                    write.done = True
                    self.queue.popleft()
                self.batches += 1
                self._applied(sum(write.weight for write in batch), started)
                self.moved.notify_all()
            for write in batch:
                if write.wake is not None:
                    write.wake()

    def _applied(self, records: int, started: float) -> None:
        """Count a batch of `records` applied since `started` (called with the lock held)."""
        self.pending -= records
        elapsed = time.perf_counter() - started
        if elapsed > 0:
            rate = records / elapsed
            self.rate = rate if not self.rate else self.rate + RATE_WEIGHT * (rate - self.rate)


def _claim(queue: deque[Write[Any]]) -> Batch:
    """Every write queued so far, taken as one batch (called with the queue's lock held)."""
    batch = list(queue)
    for write in batch:
        write.claimed = True
    return batch


def _wake(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
    if not loop.is_closed():  # a closed loop has no caller left to answer
        loop.call_soon_threadsafe(_settle, future)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():  # the caller may have been cancelled meanwhile
        future.set_result(None)
