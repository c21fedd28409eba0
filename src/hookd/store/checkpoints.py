"""WAL checkpoints of a SQLite database, run beside the writer instead of inside its commits.

By default SQLite checkpoints in the commit that makes the WAL pass 1,000 pages: that commit
copies the pages into the database file and syncs it, and every request waiting on that commit
(a group-committed ingest, a batch of message creates) waits with it, tens of milliseconds on
an ordinary disk. Here a thread of its own runs a ``PASSIVE`` checkpoint (never waits for
readers or writers) shortly after writes, on its own connection, with the GIL released while
SQLite works. The writers keep SQLite's automatic checkpoint only as a backstop, at a far larger
WAL (``BACKSTOP_PAGES``), for when this thread cannot keep up. Durability is unchanged: the
same WAL frames are written and synced by the same rules, only by another connection.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading

from hookd.store.sqlite.files import SYNCHRONOUS

# How long after a write the next checkpoint may start: long enough that each one copies the
# pages of many commits, short enough that the WAL stays small.
INTERVAL_SECONDS = 0.2
# The writers' own automatic checkpoint, kept as a backstop (pages of 4 KiB: about 40 MB).
BACKSTOP_PAGES = 10_000


class WalCheckpointer:
    """Checkpoints the SQLite file at ``path`` from a daemon thread while writes happen."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._writes = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.connection: sqlite3.Connection | None = None  # the thread's (for tests)

    def note_write(self) -> None:
        """A write transaction committed: checkpoint soon (starts the thread on first use)."""
        self._writes += 1
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stop.is_set():
                    self._thread = threading.Thread(
                        target=self._run, name="hookd-sqlite-checkpoint", daemon=True
                    )
                    self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        """Run a last checkpoint and end the thread (a later write starts a new one)."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None:
            self._wake.set()
            thread.join()
        self._stop.clear()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        try:
            conn.execute(f"PRAGMA synchronous={SYNCHRONOUS}")  # as every connection of hookd
            self.connection = conn
            done = 0
            while True:
                self._wake.wait()
                # Let a few more commits land, so one checkpoint copies them all.
                self._stop.wait(INTERVAL_SECONDS)
                self._wake.clear()
                if self._writes != done:
                    done = self._writes
                    # A failed checkpoint leaves the WAL as it was; the next one tries again.
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                if self._stop.is_set():
                    return
        finally:
            conn.close()
