"""Snapshots written off the request path: their own database file, their own thread.

A snapshot is only a shortcut for recovery (the input log is the truth), so it need not be
durable when a request is answered. The runtime encodes the state while it holds its lock
(the engine state is changed in place, so that is when it is consistent) and hands the bytes
over; a writer thread stores them in `snapshots.db`, a database of their own, so that writing
tens of megabytes and their fsync never holds the main database's write lock that intake and
commands need. While one snapshot is being written the next is not taken.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("orchestrator.runtime.embedded")
SNAPSHOT_FILE = "snapshots.db"
KEEP = 2
_SCHEMA = "CREATE TABLE IF NOT EXISTS snapshots (seq INTEGER PRIMARY KEY, state BLOB NOT NULL)"


class SnapshotWriter:
    """Stores encoded snapshots in their own SQLite file on a thread of its own."""

    def __init__(self, path: Path, synchronous: str = "full") -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self.db.execute(_SCHEMA)
        self._lock = threading.Lock()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="snapshot-writer")
        self._pending: Future[None] | None = None

    @property
    def busy(self) -> bool:
        """True while a snapshot is still being written."""
        return self._pending is not None and not self._pending.done()

    def offer(self, seq: int, state: bytes) -> None:
        """Write `state` (the engine state as of input `seq`) on the writer thread."""
        self._pending = self._thread.submit(self._write, seq, state)
        self._pending.add_done_callback(_log_failure)

    def _write(self, seq: int, state: bytes) -> None:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute(
                    "INSERT OR REPLACE INTO snapshots (seq, state) VALUES (?, ?)", (seq, state)
                )
                self.db.execute(
                    "DELETE FROM snapshots WHERE seq NOT IN "
                    "(SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ?)",
                    (KEEP,),
                )
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
        """The newest stored snapshot and the input it covers, if any."""
        with self._lock:
            row = self.db.execute(
                "SELECT seq, state FROM snapshots ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        return (int(row[0]), json.loads(row[1])) if row else None

    def close(self) -> None:
        """Finish the write under way, then close the file."""
        self._thread.shutdown(wait=True)
        self.db.close()


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
