"""Group commit: concurrent writes share a transaction, yet behave as if applied one by one."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs
from test_embedded_runtime import alert

from orchestrator.engine import contract
from orchestrator.engine.step import Engine
from orchestrator.engine.summary import summary
from orchestrator.playbook import load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.runtime.embedded.groupcommit import Batch, GroupCommit, Write
from orchestrator.testing import ManualClock
from schemas.commands import Command
from schemas.deadletter import Origin

HTTP = Origin(kind="http", name="/events")
START = "2026-11-20T10:00:00Z"
SERVICES = 4
QUEUE_WAIT_S = 30.0


class Broken(Exception):
    """A write that fails after it has applied an input."""


@pytest.fixture
def engine() -> Engine:
    return Engine(load_directory("playbooks"))


def _open(engine: Engine, path: Path) -> EmbeddedRuntime:
    runtime = EmbeddedRuntime.open(engine, path, clock=ManualClock(START).now)
    runtime.submit([alert(f"svc{i}", START, id=f"a{i}") for i in range(SERVICES)], HTTP)
    return runtime


def _open_again(engine: Engine, path: Path) -> EmbeddedRuntime:
    return EmbeddedRuntime.open(engine, path, clock=ManualClock(START).now)


def _commands(runtime: EmbeddedRuntime) -> list[Command]:
    """Acks of every ops task, a conflicting second ack, and an ack of a task nobody has."""
    tasks = [t.id for t in runtime.tasks(role="ops", status="assigned")]
    made = [
        Command(id=f"c{n}", kind="ack", actor="dana", time=START, task_id=task_id)
        for n, task_id in enumerate(tasks)
    ]
    made.append(Command(id="late", kind="ack", actor="lee", time=START, task_id=tasks[0]))
    made.append(Command(id="ghost", kind="ack", actor="lee", time=START, task_id="no-such-task"))
    return made


def _wait_queued(writes: GroupCommit, count: int) -> None:
    deadline = time.monotonic() + QUEUE_WAIT_S
    while len(writes.queue) < count:
        assert time.monotonic() < deadline, f"{count} writes never queued"
        time.sleep(0.001)


def _batched(runtime: EmbeddedRuntime, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run `calls` in threads, queued in list order while the runtime's lock is held, so at
    most two batches apply them (the first caller's, then everyone queued behind it).
    Returns each call's value or exception."""
    found: list[Any] = [None] * len(calls)

    def call(index: int) -> None:
        try:
            found[index] = calls[index]()
        except Exception as error:
            found[index] = error

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(calls))]
    with runtime.lock:
        for number, thread in enumerate(threads, start=1):
            thread.start()
            _wait_queued(runtime.writes, number)
    for thread in threads:
        thread.join()
    return found


def _log(runtime: EmbeddedRuntime) -> list[tuple[Any, ...]]:
    with sqlite3.connect(runtime.store.path) as db:
        return db.execute("SELECT seq, kind, now, origin, body FROM inputs ORDER BY seq").fetchall()


def _outputs(runtime: EmbeddedRuntime) -> list[tuple[Any, ...]]:
    with sqlite3.connect(runtime.store.path) as db:
        outbox = db.execute("SELECT id, input_seq, kind, body FROM outbox ORDER BY seq").fetchall()
        results = db.execute("SELECT * FROM command_results ORDER BY input_seq").fetchall()
    return outbox + results


def test_a_batch_leaves_the_log_and_state_of_one_by_one(engine: Engine, tmp_path: Path) -> None:
    """Concurrent commands applied in one batch give the same input log, outputs, verdicts and
    state as the same commands sent one at a time in log order, and recovery replays it."""
    batched = _open(engine, tmp_path / "batched")
    commands = _commands(batched)
    batches = batched.writes.batches
    verdicts = _batched(batched, [lambda c=c: batched.command(c) for c in commands])
    assert batched.writes.batches - batches <= 2
    serial = _open(engine, tmp_path / "serial")
    by_id = {c.id: c for c in commands}
    order = [Command.model_validate_json(row[4]).id for row in _log(batched) if row[1] == "command"]
    serial_verdicts = {cid: serial.command(by_id[cid]) for cid in order}

    assert {v.command_id: v for v in verdicts} == serial_verdicts
    assert _log(batched) == _log(serial)
    assert _outputs(batched) == _outputs(serial)
    assert summary(batched.state) == summary(serial.state)
    assert [v.accepted for v in verdicts] == [True] * SERVICES + [False, False]
    batched.store.close()  # no snapshot: recovery replays the whole log
    assert summary(_open_again(engine, tmp_path / "batched").state) == summary(serial.state)


def test_a_failing_write_does_not_poison_its_batch(engine: Engine, tmp_path: Path) -> None:
    """A write that raises after applying its input is undone alone: the writes before and
    after it in the same batch are applied and durable, and its caller gets the error."""
    runtime = _open(engine, tmp_path)
    first, doomed, last = _commands(runtime)[:3]

    def fails_after_applying() -> None:
        runtime._command(doomed)
        raise Broken("after the input was applied")

    calls = [
        lambda: runtime.command(first),
        lambda: runtime.writes.run(fails_after_applying),
        lambda: runtime.command(last),
    ]
    found = _batched(runtime, calls)
    assert found[0].accepted
    assert found[2].accepted
    assert isinstance(found[1], Broken)
    logged = [Command.model_validate_json(r[4]).id for r in _log(runtime) if r[1] == "command"]
    assert logged == [first.id, last.id]
    acked = {t.id: t.acknowledged_by for t in runtime.tasks(role="ops")}
    assert acked[first.task_id] == acked[last.task_id] == "dana"
    assert acked[doomed.task_id] is None
    runtime.store.close()
    again = _open_again(engine, tmp_path)
    assert {t.id: t.acknowledged_by for t in again.tasks(role="ops")} == acked


def test_a_write_is_applied_in_its_callers_log_context(engine: Engine, tmp_path: Path) -> None:
    """A write queued from an event loop is applied on a thread of the loop's executor; what is
    logged for it there (here: the failure of its input) carries the caller's bound context."""
    runtime = _open(engine, tmp_path)

    def fails() -> None:
        raise Broken("after the input was applied")

    async def request(path: str) -> None:
        bound = structlog.contextvars.bound_contextvars(method="POST", path=path)
        with bound, pytest.raises(Broken):
            await runtime.writes.run_async(fails)

    merge = structlog.contextvars.merge_contextvars
    with capture_logs(processors=[merge]) as logs:
        asyncio.run(request("/tasks/t1/ack"))
    failed = [entry for entry in logs if entry["event"] == "input.failed"]
    assert [(e["method"], e["path"]) for e in failed] == [("POST", "/tasks/t1/ack")]
    runtime.store.close()


def _recording(applied: list[list[int]], release: threading.Event) -> Callable[[Batch], None]:
    """A batch applier that holds its first batch until `release`, records each batch's values
    in `applied` and gives each write its value or its ValueError."""

    def apply(batch: Batch) -> None:
        if not applied:
            release.wait()
        applied.append([])
        for write in batch:
            try:
                write.value = write.work()
                applied[-1].append(write.value)
            except ValueError as error:
                write.error = error

    return apply


def test_writes_queued_during_a_batch_form_the_next_one_in_order() -> None:
    """Writes that arrive while a batch is applied wait, then run together, in arrival order,
    each caller getting its own value or exception."""
    applied: list[list[int]] = []
    release = threading.Event()
    writes = GroupCommit(_recording(applied, release))
    results: dict[int, Any] = {}

    def send(n: int) -> None:
        def work() -> int:
            if n == 3:
                raise ValueError("three")
            return n

        try:
            results[n] = writes.run(work)
        except ValueError as error:
            results[n] = str(error)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(5)]
    for count, thread in enumerate(threads, start=1):
        thread.start()
        _wait_queued(writes, count)
    release.set()
    for thread in threads:
        thread.join()
    assert applied == [[0], [1, 2, 4]]
    assert results == {0: 0, 1: 1, 2: 2, 3: "three", 4: 4}
    assert writes.batches == 2
    assert not writes.queue


def test_a_failed_commit_fails_the_whole_batch_and_keeps_the_state(
    engine: Engine, tmp_path: Path
) -> None:
    """When the commit itself fails (SQLite has rolled back), every caller of the batch gets
    the error, nothing of it is in the log, and the state is the state before the batch."""
    runtime = _open(engine, tmp_path)
    before = summary(runtime.state)

    def failing_commit() -> None:
        runtime.store.db.execute("ROLLBACK")
        raise sqlite3.OperationalError("disk I/O error")

    runtime.store.commit = failing_commit  # type: ignore[method-assign]
    found = _batched(runtime, [lambda c=c: runtime.command(c) for c in _commands(runtime)])
    assert all(isinstance(f, sqlite3.OperationalError) for f in found)
    assert [r[1] for r in _log(runtime)] == ["raw"] * SERVICES
    assert summary(runtime.state) == before


def test_writes_from_an_event_loop_batch_without_blocking_it() -> None:
    """Writes queued from an event loop while a batch is applied form the next batch, in
    arrival order, each awaiting its own value or exception; the loop runs meanwhile."""
    applied: list[list[int]] = []
    release = threading.Event()
    writes = GroupCommit(_recording(applied, release))

    def work(n: int) -> Callable[[], int]:
        def run() -> int:
            if n == 3:
                raise ValueError("three")
            return n

        return run

    async def send(n: int) -> Any:
        try:
            return await writes.run_async(work(n))
        except ValueError as error:
            return str(error)

    async def main() -> list[Any]:
        sent = [asyncio.ensure_future(send(n)) for n in range(5)]
        while len(writes.queue) < len(sent):
            await asyncio.sleep(0.001)  # the loop is free while the first batch is held
        release.set()
        return await asyncio.gather(*sent)

    assert asyncio.run(main()) == [0, 1, 2, "three", 4]
    assert applied == [[0], [1, 2, 4]]
    assert writes.batches == 2
    assert not writes.queue


def test_threads_and_an_event_loop_share_batches(engine: Engine, tmp_path: Path) -> None:
    """Commands awaited on an event loop and sent from threads at once are all applied once,
    durably, with the same verdicts a runtime gives them one by one."""
    runtime = _open(engine, tmp_path)
    commands = _commands(runtime)
    threaded, awaited = commands[::2], commands[1::2]
    found: dict[str, Any] = {}

    def call(command: Command) -> None:
        found[command.id] = runtime.command(command)

    async def main() -> None:
        verdicts = await asyncio.gather(*(runtime.command_async(c) for c in awaited))
        found.update({c.id: v for c, v in zip(awaited, verdicts, strict=True)})

    threads = [threading.Thread(target=call, args=(c,)) for c in threaded]
    for thread in threads:
        thread.start()
    asyncio.run(main())
    for thread in threads:
        thread.join()
    assert not runtime.writes.queue
    order = [Command.model_validate_json(r[4]).id for r in _log(runtime) if r[1] == "command"]
    assert sorted(order) == sorted(c.id for c in commands)
    serial = _open(engine, tmp_path / "serial")
    by_id = {c.id: c for c in commands}
    assert {cid: serial.command(by_id[cid]) for cid in order} == found
    runtime.store.close()
    assert summary(_open_again(engine, tmp_path).state) == summary(serial.state)


def test_peek_task_reads_while_a_batch_holds_the_lock(engine: Engine, tmp_path: Path) -> None:
    """The event loop's task lookup does not wait for a batch in progress."""
    runtime = _open(engine, tmp_path)
    task = runtime.tasks(role="ops")[0]
    peeked: list[Any] = []
    with runtime.lock:
        found = threading.Thread(target=lambda: peeked.append(runtime.peek_task(task.id)))
        found.start()
        found.join(QUEUE_WAIT_S)
    assert [contract(found) for found in peeked if found is not None] == [task]
    assert runtime.peek_task("no-such-task") is None


def test_submit_async_leaves_the_loop_free_until_its_batch_commits(
    engine: Engine, tmp_path: Path
) -> None:
    """Intake from an event loop waits for the runtime's lock in a thread, not in the loop:
    the loop keeps running, and the results come once the batch has committed."""
    runtime = _open(engine, tmp_path)

    async def main() -> list[Any]:
        with runtime.lock:  # as if a batch were being applied
            sent = asyncio.ensure_future(runtime.submit_async([alert("new", START, id="n1")], HTTP))
            while not runtime.writes.queue:
                await asyncio.sleep(0.001)
            await asyncio.sleep(0.01)
            assert not sent.done()
        return await sent

    assert [r.status for r in asyncio.run(main())] == ["accepted"]
    assert [r[1] for r in _log(runtime)] == ["raw"] * (SERVICES + 1)


def test_a_batch_taken_by_one_leader_is_not_led_again_by_another_thread() -> None:
    """A write from an event loop starts an executor thread when it finds the queue empty; if a
    finishing leader takes that write first, the started thread must leave it alone: the batch
    is applied once and the queue stays consistent."""
    applied: list[list[int]] = []
    release = threading.Event()
    writes = GroupCommit(_recording(applied, release))
    writes.queue.append(Write(lambda: 1, wake=lambda: None))
    leader = threading.Thread(target=writes._drain)
    leader.start()  # takes [1] and waits in apply for `release`
    wait_until = time.monotonic() + 5
    while not writes.queue[0].claimed and time.monotonic() < wait_until:
        time.sleep(0.001)

    second = threading.Thread(target=writes._drain)  # the loop may have started it too
    second.start()
    second.join(1)
    release.set()
    for thread in (leader, second):
        thread.join(5)

    assert applied == [[1]]
    assert not writes.queue
    assert writes.batches == 1
