"""Snapshots written off the request path: their own database file, their own thread.

A snapshot is only a shortcut for recovery (the input log is the truth), so it need not be
durable when a request is answered. The runtime takes a view of the state while it holds its
lock (engine/stateview.py: copies of containers, no encoding) and hands over its encoding as
pieces still to be made; the writer thread makes them one at a time, letting other threads run
between two (one encode of the whole state would hold the GIL, so every request, for its whole
duration), and stores them in `snapshots.db`, a database of their own, so that writing hundreds
of megabytes and their fsync never holds the main database's write lock that intake and
commands need. The pieces are stored in parts of about PART_BYTES, each committed on its own:
a commit's fsync (and any other file's on the same filesystem: one journal) then waits for
at most one part to reach the disk, not the whole snapshot, and the writer holds at most one
part in memory. While one snapshot is being written the next is not taken.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("orchestrator.runtime.embedded")
SNAPSHOT_FILE = "snapshots.db"
KEEP = 2
PART_BYTES = 4 * 1024 * 1024
"""The most bytes of a snapshot committed (and fsynced) at once: a request's own commit waits
for at most that much of a snapshot to reach the disk (one filesystem journal), not all of it."""
_SCHEMA = (
    # one snapshot per row, as written before parts (still read)
    "CREATE TABLE IF NOT EXISTS snapshots (seq INTEGER PRIMARY KEY, state BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS snapshot_parts"
    " (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, bytes BLOB NOT NULL)",
    # a snapshot is there once its row is: its parts in id order, joined, are its JSON
    "CREATE TABLE IF NOT EXISTS snapshot_done (seq INTEGER PRIMARY KEY, parts INTEGER NOT NULL)",
)


class SnapshotWriter:
    """Stores encoded snapshots in their own SQLite file on a thread of its own."""

    def __init__(self, path: Path, synchronous: str = "full", part_bytes: int = PART_BYTES) -> None:
        self.path = path
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        for statement in _SCHEMA:
            self.db.execute(statement)
        self.part_bytes = part_bytes
        self._lock = threading.Lock()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="snapshot-writer")
        self._pending: Future[None] | None = None

    @property
    def busy(self) -> bool:
        """True while a snapshot is still being written."""
        return self._pending is not None and not self._pending.done()

    def offer(self, seq: int, pieces: Iterable[bytes]) -> None:
        """Store the engine state as of input `seq`, encoded by iterating `pieces` (JSON whose
        concatenation is the snapshot), on the writer thread."""
        self._pending = self._thread.submit(self._write, seq, pieces)
        self._pending.add_done_callback(_log_failure)

    def _write(self, seq: int, pieces: Iterable[bytes]) -> None:
        """Encode and store in parts of about `part_bytes`, each its own transaction; the
        snapshot counts once `snapshot_done` has its row (a crash before leaves parts that
        the next write deletes)."""
        with self._lock:
            if self.db.execute("SELECT 1 FROM snapshot_done WHERE seq = ?", (seq,)).fetchone():
                return  # stored already (a restart with no input since): the same state
            self._transaction(_unfinished)
            part: list[bytes] = []
            size = parts = 0
            for piece in pieces:
                part.append(piece)
                size += len(piece)
                if size >= self.part_bytes:
                    self._transaction(_store_part, seq, part)
                    part, size, parts = [], 0, parts + 1
                time.sleep(0)  # let a request thread waiting for the GIL have it now
            if part:
                self._transaction(_store_part, seq, part)
                parts += 1
            self._transaction(_finish, seq, parts)

    def _transaction(self, work: Callable[..., None], *args: Any) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            work(self.db, *args)
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def flush(self) -> None:
        """Wait until the snapshot being written (if any) is stored."""
        pending = self._pending
        if pending is not None:
            pending.result()

    def latest(self) -> Found | None:
        """The newest stored snapshot and the input it covers, if any. Read on a connection of
        its own (WAL: readers see the last commit), so recovery after a failed write never
        waits for a snapshot being encoded or written."""
        reader = sqlite3.connect(self.path, isolation_level=None)
        try:
            reader.execute("BEGIN")  # one read transaction: the parts of what it sees as done
            return _newest_stored(reader)
        finally:
            reader.close()

    def close(self) -> None:
        """Finish the write under way, then close the file."""
        self._thread.shutdown(wait=True)
        self.db.close()


def _newest_stored(db: sqlite3.Connection) -> Found | None:
    done = db.execute("SELECT max(seq) FROM snapshot_done").fetchone()[0]
    whole = db.execute("SELECT seq, state FROM snapshots ORDER BY seq DESC LIMIT 1").fetchone()
    if done is not None and (whole is None or done > whole[0]):
        (parts,) = db.execute("SELECT parts FROM snapshot_done WHERE seq = ?", (done,)).fetchone()
        rows = db.execute(  # the first write's parts, should a second have added its own
            "SELECT bytes FROM snapshot_parts WHERE seq = ? ORDER BY id LIMIT ?", (done, parts)
        )
        return int(done), json.loads(b"".join(row[0] for row in rows))
    return (int(whole[0]), json.loads(whole[1])) if whole else None


def _unfinished(db: sqlite3.Connection) -> None:
    """Delete the parts of a write that never finished."""
    db.execute("DELETE FROM snapshot_parts WHERE seq NOT IN (SELECT seq FROM snapshot_done)")


def _store_part(db: sqlite3.Connection, seq: int, pieces: list[bytes]) -> None:
    """One part of snapshot `seq`: `pieces` written one after another into its blob."""
    size = sum(map(len, pieces))
    cursor = db.execute(
        "INSERT INTO snapshot_parts (seq, bytes) VALUES (?, zeroblob(?))", (seq, size)
    )
    assert cursor.lastrowid is not None
    with db.blobopen("snapshot_parts", "bytes", cursor.lastrowid) as blob:
        for piece in pieces:
            blob.write(piece)


def _finish(db: sqlite3.Connection, seq: int, parts: int) -> None:
    """Mark snapshot `seq` done; forget all but the newest KEEP (and any single-row ones)."""
    db.execute("INSERT OR REPLACE INTO snapshot_done (seq, parts) VALUES (?, ?)", (seq, parts))
    db.execute(
        "DELETE FROM snapshot_done WHERE seq NOT IN "
        "(SELECT seq FROM snapshot_done ORDER BY seq DESC LIMIT ?)",
        (KEEP,),
    )
    _unfinished(db)
    db.execute("DELETE FROM snapshots")


Found = tuple[int, dict[str, Any]]
"""A stored snapshot: the input it covers and the state."""


def newest(*found: Found | None) -> Found | None:
    """The snapshot covering the most inputs of those found (a database from before snapshots
    had a file of their own may hold a newer one in its own table)."""
    return max((f for f in found if f is not None), key=lambda f: f[0], default=None)


def _log_failure(done: Future[None]) -> None:
    error = done.exception()
    if error is not None:  # the input log still holds everything: the next snapshot retries
        log.error("snapshot.failed", error=repr(error))
