"""The deliveries' own SQLite file (notify.db beside the runtime's log): how far the outbox was
read, every delivery with its state, and the acknowledgement links already used.

A delivery is written together with the cursor that passed its task event, in one
transaction, so a crash either leaves both or neither: after a restart the outbox is read again
from the cursor and nothing is lost or queued twice. A delivery is marked sent only after its
channel took it; a crash between the two sends it again with the same idempotency key (at
least once; receivers drop the repeat by that key).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Status = Literal["pending", "sent", "dead", "dropped", "recorded"]
"""pending: to send (maybe after a failed try); sent; dead: the last retry failed (reason);
dropped: the task was acknowledged (or finished, or its incident resolved) first; recorded: a
drill's page, kept and never sent."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cursor (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    key TEXT PRIMARY KEY, task_id TEXT NOT NULL, incident_id TEXT NOT NULL,
    responder TEXT NOT NULL, channel TEXT NOT NULL, address TEXT NOT NULL,
    event TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    due_at INTEGER NOT NULL, reason TEXT, created_at INTEGER NOT NULL, done_at INTEGER
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, due_at);
CREATE INDEX IF NOT EXISTS deliveries_task ON deliveries (task_id, status);
CREATE TABLE IF NOT EXISTS used_links (nonce TEXT PRIMARY KEY, used_at INTEGER NOT NULL);
"""
OUTBOX_CURSOR = "outbox"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notification to one responder on one channel; `key` is its idempotency key."""

    key: str
    task_id: str
    incident_id: str
    responder: str
    channel: str
    address: str
    event: dict[str, Any]
    """The task event (JSON) it tells about."""
    status: Status = "pending"
    attempts: int = 0
    due_at: int = 0
    reason: str | None = None


class DeliveryStore:
    """notify.db: the cursor, the deliveries and the used links (one writer: the dispatcher;
    the API's link check also writes used links, so every write is its own transaction)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        """One connection shared by the dispatcher's thread and the API's: one user at a time."""

    def close(self) -> None:
        """Close the file."""
        self.db.close()

    def cursor(self) -> int:
        """The last outbox sequence number whose deliveries are queued."""
        with self._lock:
            row = self.db.execute(
                "SELECT seq FROM cursor WHERE name = ?", (OUTBOX_CURSOR,)
            ).fetchone()
            return int(row[0]) if row else 0

    def queue(self, deliveries: Iterable[Delivery], seq: int | None, now: int) -> None:
        """Queue the deliveries of the outbox up to `seq` and move the cursor, atomically (no
        `seq`: the events came from a feed that keeps its own position)."""
        with self._transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO deliveries (key, task_id, incident_id, responder, channel,"
                " address, event, status, due_at, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        d.key,
                        d.task_id,
                        d.incident_id,
                        d.responder,
                        d.channel,
                        d.address,
                        json.dumps(d.event),
                        d.status,
                        d.due_at,
                        now,
                    )
                    for d in deliveries
                ],
            )
            if seq is None:
                return
            self.db.execute(
                "INSERT INTO cursor (name, seq) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
                (OUTBOX_CURSOR, seq),
            )

    def due(self, now: int, limit: int = 100) -> list[Delivery]:
        """Pending deliveries due at or before `now`, oldest first."""
        with self._lock:
            rows = self.db.execute(
                "SELECT key, task_id, incident_id, responder, channel, address, event, status,"
                " attempts, due_at, reason FROM deliveries WHERE status = 'pending' AND due_at <= ?"
                " ORDER BY due_at, key LIMIT ?",
                (now, limit),
            ).fetchall()
            return [_delivery(row) for row in rows]

    def all(self, status: Status | None = None) -> list[Delivery]:
        """Every delivery (of one status), in the order they were queued."""
        with self._lock:
            query = (
                "SELECT key, task_id, incident_id, responder, channel, address, event, status,"
                " attempts, due_at, reason FROM deliveries"
            )
            args: tuple[Any, ...] = ()
            if status is not None:
                query, args = query + " WHERE status = ?", (status,)
            return [_delivery(row) for row in self.db.execute(query + " ORDER BY rowid", args)]

    def finish(self, key: str, status: Status, now: int, reason: str | None = None) -> None:
        """Mark a delivery sent, dead (with the reason) or dropped (with the reason)."""
        with self._lock:
            self.db.execute(
                "UPDATE deliveries SET status = ?, reason = ?, done_at = ? WHERE key = ?",
                (status, reason, now, key),
            )

    def retry(self, key: str, attempts: int, due_at: int, reason: str) -> None:
        """Count a failed try and set the next one."""
        with self._lock:
            self.db.execute(
                "UPDATE deliveries SET attempts = ?, due_at = ?, reason = ? WHERE key = ?",
                (attempts, due_at, reason, key),
            )

    def drop_pending(self, task_id: str, now: int, reason: str) -> int:
        """Drop every pending delivery of a task (the ack stops the noise); how many."""
        with self._lock:
            done = self.db.execute(
                "UPDATE deliveries SET status = 'dropped', reason = ?, done_at = ?"
                " WHERE task_id = ? AND status = 'pending'",
                (reason, now, task_id),
            )
            return done.rowcount

    def use_link(self, nonce: str, now: int) -> bool:
        """Spend a link: True the first time, False ever after."""
        with self._lock:
            done = self.db.execute(
                "INSERT OR IGNORE INTO used_links (nonce, used_at) VALUES (?, ?)", (nonce, now)
            )
            return done.rowcount == 1

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")


def _delivery(row: tuple[Any, ...]) -> Delivery:
    return Delivery(
        key=row[0],
        task_id=row[1],
        incident_id=row[2],
        responder=row[3],
        channel=row[4],
        address=row[5],
        event=json.loads(row[6]),
        status=row[7],
        attempts=row[8],
        due_at=row[9],
        reason=row[10],
    )
