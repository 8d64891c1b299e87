"""Snapshots written off the request path: their own database file, their own thread.

A snapshot is only a shortcut for recovery (the input log is the truth), so it need not be
durable when a request is answered. The runtime takes a view of the state while it holds its
lock (engine/stateview.py: copies of containers, no encoding) and hands over its encoding as
pieces still to be made; the writer thread makes them one at a time, letting other threads run
between two (one encode of the whole state would hold the GIL, so every request, for its whole
duration), and stores them in `snapshots.db`, a database of their own, so that writing hundreds
of megabytes and their fsync never holds the main database's write lock that intake and
commands need. The pieces go into the row's blob one by one, never joined in memory. While one
snapshot is being written the next is not taken.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
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

    def offer(self, seq: int, pieces: Iterable[bytes]) -> None:
        """Store the engine state as of input `seq`, encoded by iterating `pieces` (JSON whose
        concatenation is the snapshot), on the writer thread."""
        self._pending = self._thread.submit(self._write, seq, pieces)
        self._pending.add_done_callback(_log_failure)

    def _write(self, seq: int, pieces: Iterable[bytes]) -> None:
        with self._lock:
            made = []
            for piece in pieces:
                made.append(piece)
                time.sleep(0)  # let a request thread waiting for the GIL have it now
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute(
                    "INSERT OR REPLACE INTO snapshots (seq, state) VALUES (?, zeroblob(?))",
                    (seq, sum(map(len, made))),
                )
                _fill(self.db, seq, made)
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


def _fill(db: sqlite3.Connection, seq: int, pieces: list[bytes]) -> None:
    """Write `pieces` one after another into the blob of snapshot `seq` (its rowid)."""
    with db.blobopen("snapshots", "state", seq) as blob:
        for piece in pieces:
            blob.write(piece)


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
