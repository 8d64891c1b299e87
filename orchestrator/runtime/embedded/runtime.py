"""The embedded runtime: one process, the core engine, durable SQLite storage, no Kafka.

Every input (raw record, command, timer tick) is appended to the input log and applied in the
same transaction as its outputs. Restart = newest snapshot + the log after it, replayed through
the same deterministic engine, so the state after a crash equals the state before it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog

from orchestrator.engine import (
    Clock,
    CommandInput,
    Engine,
    EngineState,
    Input,
    Millis,
    Output,
    Playbook,
    RawRecord,
    Role,
    TaskRecord,
    Tick,
    contract,
    encode_chunks,
    ordered,
    restore,
    snapshot_view,
    split_task_id,
    summary,
)
from orchestrator.errors import IdempotencyKeyReused
from orchestrator.runtime.base import (
    Backlog,
    CommandOutcome,
    IdempotencyKey,
    IntakeResult,
    OutboxRow,
    roles_of,
    wall_clock,
)
from orchestrator.runtime.embedded.groupcommit import Batch, GroupCommit, Write
from orchestrator.runtime.embedded.intake import apply_records
from orchestrator.runtime.embedded.snapshots import SNAPSHOT_FILE, SnapshotWriter, newest
from orchestrator.runtime.embedded.store import InputKind, Store, StoredInput, Synchronous
from schemas import Command, CommandResult, DeadLetter, Incident, Origin, Task

log = structlog.get_logger("orchestrator.runtime.embedded")
DB_FILE = "orchestrator.db"


class EmbeddedRuntime:
    """The engine plus durable storage; thread-safe. Writes are group-committed: concurrent
    ones are applied one after another (the input log's order) in one transaction, and each
    caller is answered once that transaction is durable. One lock guards state and storage."""

    def __init__(
        self,
        engine: Engine,
        store: Store,
        snapshot_every: int = 1000,
        clock: Clock = wall_clock,
        snapshot_seconds: float = 0.0,
    ) -> None:
        self.engine = engine
        self.store = store
        self.snapshots = SnapshotWriter(store.path.with_name(SNAPSHOT_FILE))
        self.snapshot_every = snapshot_every
        self.snapshot_seconds = snapshot_seconds
        self.clock = clock
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.writes = GroupCommit(self._apply_batch)
        self.state = self._recover()
        self._since_snapshot = 0
        self._snapshot_at = time.monotonic()

    @classmethod
    def open(
        cls,
        engine: Engine,
        data_dir: Path,
        snapshot_every: int = 1000,
        synchronous: Synchronous = "full",
        clock: Clock = wall_clock,
        snapshot_seconds: float = 0.0,
    ) -> EmbeddedRuntime:
        """Open (or create) the runtime's database in `data_dir` and recover its state.

        A snapshot is taken once `snapshot_every` inputs and `snapshot_seconds` have passed
        since the last one (taking its view holds the lock for a copy of the state's
        containers; encoding and writing it happen on a thread of their own). The state's
        incidents and verdicts are records the cyclic garbage collector never scans
        (engine/records.py), so full collections do not grow with them."""
        store = Store(data_dir / DB_FILE, synchronous)
        return cls(engine, store, snapshot_every, clock, snapshot_seconds)

    def close(self) -> None:
        """Snapshot and close the database."""
        with self.lock:
            self.snapshots.flush()
            self._snapshot()
            self.snapshots.close()
            self.store.close()

    # -- recovery ------------------------------------------------------------------------------

    def _recover(self) -> EngineState:
        found = newest(self.snapshots.latest(), self.store.latest_snapshot())
        state = restore(found[1]) if found else self.engine.initial_state()
        replayed = 0
        for stored in self.store.inputs_after(found[0] if found else 0):
            state, _ = self.engine.step(state, _item(stored), stored.now)
            replayed += 1
        at = found[0] if found else None
        log.info("state.recovered", snapshot=at, replayed=replayed, incidents=len(state.incidents))
        return state

    def _snapshot(self) -> bool:
        """Take a view of the state now (under the lock: copies, no encoding); the writer
        thread encodes and stores it. False when the one before is still being written."""
        if self.snapshots.busy:
            return False  # the one before is still being written: the next batch tries again
        view = snapshot_view(self.state)
        self.snapshots.offer(self.store.last_input_seq(), encode_chunks(view))
        self._since_snapshot = 0
        self._snapshot_at = time.monotonic()
        return True

    def _snapshot_due(self) -> bool:
        return (
            self._since_snapshot >= self.snapshot_every
            and time.monotonic() - self._snapshot_at >= self.snapshot_seconds
        )

    # -- writes --------------------------------------------------------------------------------

    def _apply(
        self,
        kind: InputKind,
        body: bytes,
        origin: Origin | None,
        item: Callable[[int], Input],
        now: Millis,
    ) -> list[Output]:
        seq = self.store.append_input(kind, now, body, origin.model_dump_json() if origin else None)
        self.state, outputs = self.engine.step(self.state, item(seq), now)
        self.store.write_outputs(seq, outputs)
        self._since_snapshot += 1
        return outputs

    def _apply_batch(self, batch: Batch) -> None:
        """Run a batch of writes in input-log order in one transaction; each in a savepoint, so
        a failing write is undone (state reloaded from storage) without undoing the others."""
        with self.lock:
            self.store.begin()
            try:
                for write in batch:
                    write.context.run(self._apply_write, write)
                self.store.commit()
            except BaseException:
                self.store.rollback()
                self.state = self._recover()
                raise
            if self._snapshot_due():  # keys expire as the engine forgets their verdicts
                self.store.expire_keys(self.clock(), self.engine.config.command_retention)
                self._snapshot()
            self.changed.notify_all()

    def _apply_write(self, write: Write[Any]) -> None:
        counted = self._since_snapshot
        self.store.savepoint()
        try:
            write.value = write.work()
        except Exception as error:
            self.store.rollback_to_savepoint()
            log.exception("input.failed", then="state reloaded from storage")
            self.state = self._recover()
            self._since_snapshot = counted
            write.error = error
        else:
            self.store.release_savepoint()

    def submit(self, records: list[bytes], origin: Origin) -> list[IntakeResult]:
        """Persist and process raw records in one transaction; results once they are durable."""
        return self.writes.run(self._submitted(records, origin), len(records))

    async def submit_async(self, records: list[bytes], origin: Origin) -> list[IntakeResult]:
        """`submit` from an event loop: awaits the results without blocking the loop."""
        return await self.writes.run_async(self._submitted(records, origin), len(records))

    def backlog(self) -> Backlog:
        """Records waiting for their commit, and how long committing them should take."""
        writes = self.writes
        return Backlog(writes.pending, writes.drain_seconds())

    def _submitted(self, records: list[bytes], origin: Origin) -> Callable[[], list[IntakeResult]]:
        def work() -> list[IntakeResult]:
            self.state, results = apply_records(
                self.engine, self.state, self.store, records, origin, self.clock()
            )
            self._since_snapshot += len(records)
            return results

        return work

    def command(self, command: Command) -> CommandResult:
        """Persist and apply a responder command; returns the engine's verdict."""
        return self.writes.run(lambda: self._command(command))

    def _command(self, command: Command) -> CommandResult:
        body = command.model_dump_json().encode()
        outputs = self._apply("command", body, None, lambda _s: CommandInput(command), self.clock())
        return next(o for o in outputs if isinstance(o, CommandResult))

    async def command_async(self, command: Command) -> CommandResult:
        """`command` from an event loop: awaits the verdict without blocking the loop."""
        return await self.writes.run_async(lambda: self._command(command))

    def command_once(self, command: Command, key: IdempotencyKey) -> CommandOutcome:
        """Apply `command` and remember `key` with it, in one transaction; or answer as before."""
        return _raise_reused(self.writes.run(self._keyed(command, key)))

    async def command_once_async(self, command: Command, key: IdempotencyKey) -> CommandOutcome:
        """`command_once` from an event loop: awaits the outcome without blocking the loop."""
        return _raise_reused(await self.writes.run_async(self._keyed(command, key)))

    def _keyed(
        self, command: Command, key: IdempotencyKey
    ) -> Callable[[], CommandOutcome | IdempotencyKeyReused]:
        def work() -> CommandOutcome | IdempotencyKeyReused:
            first = self.store.keyed_command(key.scope, key.key)
            if first is not None:
                return self._replayed(key, *first)
            verdict = self._command(command)
            self.store.remember_key(key, command, self.clock())
            return CommandOutcome(command, verdict)

        return work

    def _replayed(
        self, key: IdempotencyKey, fingerprint: str, first: Command
    ) -> CommandOutcome | IdempotencyKeyReused:
        if fingerprint != key.fingerprint:
            return IdempotencyKeyReused(key.scope, key.key)
        kept = self.state.commands.get(first.id)
        verdict = contract(kept) if kept is not None else self.store.command_result(first.id)
        assert verdict is not None, f"command {first.id} has a key but no verdict"
        return CommandOutcome(first, verdict, replayed=True)

    def tick(self) -> int:
        """Fire due timers at the wall clock's time; returns how many outputs that produced."""
        now = self.clock()

        def work() -> int:
            if not self._timers_due(now):
                return 0
            return len(self._apply("tick", b"", None, lambda _s: Tick(), now))

        with self.lock:
            if not self._timers_due(now):
                return 0
        return self.writes.run(work)

    def _timers_due(self, now: Millis) -> bool:
        return self.state.timers_due(max(now, self.state.clock))

    # -- reads ---------------------------------------------------------------------------------

    def now(self) -> Millis:
        """The runtime's clock (the wall clock unless a test gave another)."""
        return self.clock()

    def loaded_playbooks(self) -> Sequence[Playbook]:
        """The playbooks this runtime runs."""
        return list(self.engine.playbooks.values())

    def roles(self) -> Mapping[str, Role]:
        """Every role the loaded playbooks know, by name."""
        return roles_of(self.loaded_playbooks())

    def summary(self) -> dict[str, Any]:
        """The contract summary of everything so far."""
        with self.lock:
            return summary(self.state, self.store.retired_incidents())

    def incidents(self) -> list[Incident]:
        """Every incident, in the order they opened; those that retention took out of memory
        come from the store. The engine's records are immutable: each contract model is made
        from one whole record, never from one being changed."""
        with self.lock:
            kept = list(self.state.incidents.values())
            retired = self.store.retired_incidents()
        live = [contract(i) for i in kept]
        return ordered(retired + live) if retired else live

    def incident(self, incident_id: str) -> Incident | None:
        """One incident, or None; a retired one from the store. Under the lock, so never
        what a batch not yet committed made of it."""
        with self.lock:
            found = self.state.incidents.get(incident_id)
            if found is None:
                return self.store.retired_incident(incident_id)
        return contract(found)

    def task(self, task_id: str) -> Task | None:
        """One task, or None (under the lock, as `incident`)."""
        with self.lock:
            found = self.peek_task(task_id)
        return contract(found) if found is not None else None

    def peek_task(self, task_id: str) -> TaskRecord | None:
        """One task as the engine keeps it, or None, read without waiting for the lock, so an
        event loop may call it while a batch commits: the record is immutable, so the task is
        as a step left it, never half-updated (but maybe by a batch not committed yet: good
        for its id, role and incident, which never change)."""
        incident_id, name = split_task_id(task_id)
        incident = self.state.incidents.get(incident_id)
        if incident is None:
            return None
        return next((t for t in incident.tasks if t.name == name), None)

    def tasks(self, role: str | None = None, status: str | None = None) -> list[Task]:
        """Tasks of every incident, filtered by role and status."""
        with self.lock:
            kept = list(self.state.incidents.values())
        return [
            contract(t)
            for i in kept
            for t in i.tasks
            if role in (None, t.role) and status in (None, t.status.value)
        ]

    def dead_letters(self, limit: int = 1000) -> list[DeadLetter]:
        """Dead-letter records, oldest first."""
        with self.lock:
            return self.store.dead_letters(limit)

    def outbox_after(self, seq: int, role: str | None = None, wait: float = 0.0) -> list[OutboxRow]:
        """Published outputs after `seq`; waits up to `wait` seconds for new ones."""
        with self.lock:
            rows = self.store.outbox_after(seq, role)
            if not rows and wait > 0:
                self.changed.wait(wait)
                rows = self.store.outbox_after(seq, role)
            return rows


def _item(stored: StoredInput) -> Input:
    if stored.kind == "raw":
        origin = Origin.model_validate_json(stored.origin or '{"kind": "unknown"}')
        return RawRecord(stored.body, origin.model_copy(update={"offset": stored.seq}))
    if stored.kind == "command":
        return CommandInput(Command.model_validate_json(stored.body))
    return Tick()


def _raise_reused(outcome: CommandOutcome | IdempotencyKeyReused) -> CommandOutcome:
    if isinstance(outcome, IdempotencyKeyReused):
        raise outcome
    return outcome
