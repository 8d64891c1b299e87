"""Durable local storage for the embedded runtime: SQLite in WAL mode.

Tables: `inputs` (append-only log of every record and command, with the `now` it was applied
at), `snapshots` (engine state every N inputs), `outbox` (task and incident events for the agent
layer), `dead_letters`, `command_results`, `idempotency_keys` (a client's retry key -> the
command it first sent). An input and everything it caused are written in one
transaction, so an input is durable before any output of it is visible.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from orchestrator.engine import Output
from orchestrator.runtime.base import IdempotencyKey
from orchestrator.runtime.base import OutboxRow as OutboxRow  # re-exported: it used to live here
from schemas import Command, CommandResult, DeadLetter, Incident, IncidentEvent, TaskEvent

InputKind = Literal["raw", "command", "tick"]
Synchronous = Literal["full", "normal"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inputs (
    seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, now INTEGER NOT NULL,
    origin TEXT, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (seq INTEGER PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, input_seq INTEGER NOT NULL,
    kind TEXT NOT NULL, role TEXT, incident_id TEXT, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_role ON outbox (role, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
    id TEXT PRIMARY KEY, input_seq INTEGER NOT NULL, reason TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS command_results (
    command_id TEXT PRIMARY KEY, input_seq INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS retired_incidents (
    id TEXT PRIMARY KEY, input_seq INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    command TEXT NOT NULL, at INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (scope, key));
"""
_APPEND = "INSERT INTO inputs (seq, kind, now, origin, body) VALUES (?, ?, ?, ?, ?)"
"""One row of the input log; a NULL `seq` lets SQLite number it."""
_KEY_TIMES = "ALTER TABLE idempotency_keys ADD COLUMN at INTEGER NOT NULL DEFAULT 0"
"""Databases made before keys expired: their keys count as taken at time 0 (expire first)."""


@dataclass(frozen=True, slots=True)
class StoredInput:
    """One row of the input log."""

    seq: int
    kind: InputKind
    now: int
    origin: str | None
    body: bytes


class Store:
    """The embedded runtime's SQLite database (one writer: the runtime, under its lock)."""

    def __init__(self, path: Path, synchronous: Synchronous = "full") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self.db.executescript(_SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(idempotency_keys)")}
        if "at" not in columns:
            self.db.execute(_KEY_TIMES)
        self.db.execute("CREATE INDEX IF NOT EXISTS idempotency_keys_at ON idempotency_keys (at)")

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def begin(self) -> None:
        """Start a write transaction."""
        self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Make everything since begin() durable."""
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        """Forget everything since begin() (nothing to do when SQLite already rolled back, as
        it does after some failed commits)."""
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def savepoint(self) -> None:
        """Mark a point inside the transaction that one write can be undone back to."""
        self.db.execute("SAVEPOINT write")

    def rollback_to_savepoint(self) -> None:
        """Forget everything since savepoint() (the transaction goes on)."""
        self.db.execute("ROLLBACK TO write")
        self.db.execute("RELEASE write")

    def release_savepoint(self) -> None:
        """Keep everything since savepoint() in the transaction."""
        self.db.execute("RELEASE write")

    def append_input(self, kind: InputKind, now: int, body: bytes, origin: str | None) -> int:
        """Append to the input log; returns its sequence number (the one SQLite gave it)."""
        cursor = self.db.execute(_APPEND, (None, kind, now, origin, body))
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def append_inputs(
        self, kind: InputKind, now: int, bodies: Sequence[bytes], origin: str | None
    ) -> int:
        """Append inputs that share a kind, a `now` and an origin, in order, in one statement;
        returns the first one's sequence number (the rest follow it, one apart). Numbered as
        SQLite would number them (the largest so far plus one: no row of the log is ever
        deleted), so that the engine can see a record's number before the statement runs."""
        first = self.last_input_seq() + 1
        rows = [(seq, kind, now, origin, body) for seq, body in enumerate(bodies, first)]
        self.db.executemany(_APPEND, rows)
        return first

    def write_outputs(self, input_seq: int, outputs: list[Output]) -> None:
        """Record what an input caused (idempotent: replays after a crash add nothing twice)."""
        self.write_outputs_of([(input_seq, outputs)])

    def write_outputs_of(self, caused: Iterable[tuple[int, list[Output]]]) -> None:
        """`write_outputs` for many inputs: one statement per table, rows in input order."""
        rows = _OutputRows()
        for input_seq, outputs in caused:
            for output in outputs:
                rows.add(input_seq, output)
        for sql, table in rows.statements():
            if table:
                self.db.executemany(sql, table)

    def retired_incident(self, incident_id: str) -> Incident | None:
        """An incident retention took out of the engine's memory, as it last was."""
        row = self.db.execute(
            "SELECT body FROM retired_incidents WHERE id = ?", (incident_id,)
        ).fetchone()
        return Incident.model_validate_json(row[0]) if row else None

    def retired_incidents(self) -> list[Incident]:
        """Every incident retention took out of the engine's memory, in the order retired."""
        rows = self.db.execute("SELECT body FROM retired_incidents ORDER BY input_seq, id")
        return [Incident.model_validate_json(r[0]) for r in rows.fetchall()]

    def latest_snapshot(self) -> tuple[int, dict[str, Any]] | None:
        """The newest snapshot kept in this file (before snapshots had a file of their own,
        snapshots.SnapshotWriter) and the input it covers, if any."""
        row = self.db.execute(
            "SELECT seq, state FROM snapshots ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return (int(row[0]), json.loads(row[1])) if row else None

    def inputs_after(self, seq: int) -> Iterator[StoredInput]:
        """The input log after `seq`, in order."""
        cursor = self.db.execute(
            "SELECT seq, kind, now, origin, body FROM inputs WHERE seq > ? ORDER BY seq", (seq,)
        )
        for row in cursor:
            yield StoredInput(int(row[0]), row[1], int(row[2]), row[3], bytes(row[4]))

    def last_input_seq(self) -> int:
        """The sequence number of the newest input (0 when empty)."""
        row = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM inputs").fetchone()
        return int(row[0])

    def outbox_after(self, seq: int, role: str | None = None, limit: int = 500) -> list[OutboxRow]:
        """Published outputs after `seq` (for one role's task events, if given)."""
        query = "SELECT seq, id, kind, role, incident_id, body FROM outbox WHERE seq > ?"
        params: tuple[Any, ...] = (seq,)
        if role is not None:
            query += " AND role = ?"
            params = (seq, role)
        query += " ORDER BY seq LIMIT ?"
        rows = self.db.execute(query, (*params, limit)).fetchall()
        return [OutboxRow(int(r[0]), r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    def dead_letters(self, limit: int = 1000) -> list[DeadLetter]:
        """Dead-letter records, oldest first."""
        rows = self.db.execute(
            "SELECT body FROM dead_letters ORDER BY input_seq LIMIT ?", (limit,)
        ).fetchall()
        return [DeadLetter.model_validate_json(r[0]) for r in rows]

    def command_result(self, command_id: str) -> CommandResult | None:
        """The stored verdict on a command, if it was applied."""
        row = self.db.execute(
            "SELECT body FROM command_results WHERE command_id = ?", (command_id,)
        ).fetchone()
        return CommandResult.model_validate_json(row[0]) if row else None

    def remember_key(self, key: IdempotencyKey, command: Command, at: int) -> None:
        """Record that `key` was answered by `command` at `at` (in the command's transaction)."""
        self.db.execute(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, command, at)"
            " VALUES (?, ?, ?, ?, ?)",
            (key.scope, key.key, key.fingerprint, command.model_dump_json(), at),
        )

    def forget_keys_before(self, cutoff: int) -> int:
        """Forget the idempotency keys taken before `cutoff`; how many there were."""
        return self.db.execute("DELETE FROM idempotency_keys WHERE at < ?", (cutoff,)).rowcount

    def expire_keys(self, now: int, retention: int) -> None:
        """Forget the idempotency keys taken `retention` or longer before `now` (0: keep)."""
        if retention:
            self.forget_keys_before(now - retention)

    def keyed_command(self, scope: str, key: str) -> tuple[str, Command] | None:
        """The fingerprint and command first sent with (`scope`, `key`), if any."""
        row = self.db.execute(
            "SELECT fingerprint, command FROM idempotency_keys WHERE scope = ? AND key = ?",
            (scope, key),
        ).fetchone()
        return (row[0], Command.model_validate_json(row[1])) if row else None


class _OutputRows:
    """The rows an input's outputs become, by table (see `Store.write_outputs`)."""

    def __init__(self) -> None:
        self.outbox: list[tuple[Any, ...]] = []
        self.dead_letters: list[tuple[Any, ...]] = []
        self.command_results: list[tuple[Any, ...]] = []
        self.retired: list[tuple[Any, ...]] = []

    def add(self, input_seq: int, output: Output) -> None:
        if isinstance(output, TaskEvent | IncidentEvent):
            role = output.role if isinstance(output, TaskEvent) else None
            self.outbox.append(
                (
                    output.id,
                    input_seq,
                    output.kind,
                    role,
                    output.incident_id,
                    output.model_dump_json(),
                )
            )
        elif isinstance(output, DeadLetter):
            self.dead_letters.append(
                (output.id, input_seq, output.reason, output.model_dump_json())
            )
        elif isinstance(output, CommandResult):
            self.command_results.append((output.command_id, input_seq, output.model_dump_json()))
        else:  # Retired: the incident's last state, kept here once it leaves memory
            self.retired.append((output.incident_id, input_seq, output.incident.model_dump_json()))

    def statements(self) -> list[tuple[str, list[tuple[Any, ...]]]]:
        return [
            (
                "INSERT OR IGNORE INTO outbox (id, input_seq, kind, role, incident_id, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                self.outbox,
            ),
            (
                "INSERT OR IGNORE INTO dead_letters (id, input_seq, reason, body)"
                " VALUES (?, ?, ?, ?)",
                self.dead_letters,
            ),
            (
                "INSERT OR IGNORE INTO command_results (command_id, input_seq, body)"
                " VALUES (?, ?, ?)",
                self.command_results,
            ),
            (
                "INSERT OR REPLACE INTO retired_incidents (id, input_seq, body) VALUES (?, ?, ?)",
                self.retired,
            ),
        ]
