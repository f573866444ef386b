"""SQLite connections: Doorstep's pragmas, and one persistent connection per thread.

Opening a connection per request re-ran the pragmas (``journal_mode=WAL`` recreates the
-wal and -shm files and reloads the schema) and the last close checkpointed and unlinked
the WAL: about 1.5 ms of a 6 ms empty poll. So each thread keeps its connection (per
storage, process and database path), lent to one unit of work at a time:

- a transaction never outlives its unit of work: giving the connection back rolls back
  whatever is still open;
- a unit of work opened while this thread's connection is lent (one inside another)
  gets a connection of its own, closed when it ends;
- a database file replaced under the server (a restore onto a deleted database, an
  operator's copy) is noticed by its inode and the connection reopened; a restore through
  SQLite's backup API writes into the same file, which open connections see as any write;
- the connections close when their thread ends or the storage is garbage-collected.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from typing import NamedTuple

from sync.store.sqlite_schema import connect

__all__ = ["Lent", "ThreadConnections", "connect"]

FileIdentity = tuple[int, int] | None  # (device, inode) of the database file


def _file_identity(path: str) -> FileIdentity:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


class _Slot:
    """One thread's connection to one database file: which file it opened, whether lent."""

    __slots__ = ("conn", "file", "lent", "pid", "__weakref__")

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.conn: sqlite3.Connection | None = None
        self.file: FileIdentity = None
        self.lent = False


class Lent(NamedTuple):
    conn: sqlite3.Connection
    kept: bool  # the thread's persistent connection (else a nested context's own)


class ThreadConnections:
    """An app's persistent connections: one per thread, process and database path."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: weakref.WeakSet[_Slot] = weakref.WeakSet()  # a slot dies with its thread
        self._lock = threading.Lock()

    def _slot(self, path: str) -> _Slot:
        # Per process too: a connection must never cross a fork (a server may fork workers
        # from the process that built the app); an inherited one is left untouched.
        key = (path, os.getpid())
        slots: dict[tuple[str, int], _Slot] | None = getattr(self._local, "slots", None)
        if slots is None:
            slots = self._local.slots = {}
        if key not in slots:
            slots[key] = _Slot()
            with self._lock:
                self._all.add(slots[key])
        return slots[key]

    def lend(self, path: str) -> Lent:
        """This thread's connection to ``path``, or a new one while that one is lent."""
        slot = self._slot(path)
        if slot.lent:
            return Lent(connect(path), kept=False)
        slot.lent = True
        if slot.conn is not None and slot.file != _file_identity(path):
            slot.conn.close()  # the file was replaced: this connection holds the old one
            slot.conn = None
        if slot.conn is None:
            slot.conn = connect(path)
            slot.file = _file_identity(path)
        return Lent(slot.conn, kept=True)

    def give_back(self, path: str, lent: Lent) -> None:
        """Roll back what the context left open; close a nested context's connection."""
        slot = self._slot(path)
        if not lent.kept:
            lent.conn.close()
            return
        slot.lent = False
        try:
            if lent.conn.in_transaction:
                lent.conn.execute("ROLLBACK")
        except sqlite3.Error:
            slot.conn = None
            lent.conn.close()
            raise

    def close_all(self) -> None:
        with self._lock:
            slots = [slot for slot in self._all if slot.pid == os.getpid()]
        for slot in slots:
            conn, slot.conn = slot.conn, None
            if conn is not None:
                conn.close()
