"""SQLite connections: Doorstep's pragmas, and a pool of persistent connections.

Opening a connection per request re-ran the pragmas (``journal_mode=WAL`` recreates the
-wal and -shm files and reloads the schema) and the last close checkpointed and unlinked
the WAL: about 1.5 ms of a 6 ms empty poll. So connections are kept (per storage,
process and database path) and lent to one unit of work at a time, the most recently
given back first:

- a connection's page cache and memory map stay valid only until another connection
  commits; then its next transaction starts by dropping both and reading the pages
  again. granian hands each request to whichever of a worker's threads is free, so a
  connection per thread was stale on most requests (the previous request's audit commit
  was on another thread's connection). The connection given back last has seen every
  commit of this process up to then: lent again, its cache holds (docs/benchmarks.md,
  "The connection given back last"). Connections only multiply while units of work
  overlap;
- a transaction never outlives its unit of work: giving the connection back rolls back
  whatever is still open;
- units of work open at once never share a connection (one inside another gets a
  second one);
- a database file replaced under the server (a restore onto a deleted database, an
  operator's copy) is noticed by its inode and the connection reopened; a restore through
  SQLite's backup API writes into the same file, which open connections see as any write;
- a connection never crosses a fork; the connections close when the storage is
  garbage-collected, and beyond ``MAX_IDLE`` waiting ones a returned one is closed.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from typing import NamedTuple

from sync.store.sqlite_schema import connect

__all__ = ["ConnectionPool", "Lent", "connect"]

# Idle connections kept per database and process: a worker's threads, with room for a
# nested unit of work each.
MAX_IDLE = 8

FileIdentity = tuple[int, int] | None  # (device, inode) of the database file


def _file_identity(path: str) -> FileIdentity:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


class _Slot:
    """One kept connection to one database file, and which file it opened."""

    __slots__ = ("conn", "file", "pid", "__weakref__")

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.conn: sqlite3.Connection | None = None
        self.file: FileIdentity = None


class Lent(NamedTuple):
    conn: sqlite3.Connection
    slot: _Slot


class ConnectionPool:
    """An app's persistent connections per process and database path, lent most
    recently returned first."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], list[_Slot]] = {}
        self._all: weakref.WeakSet[_Slot] = weakref.WeakSet()  # lent ones too, to close
        self._lock = threading.Lock()

    def lend(self, path: str) -> Lent:
        """The connection to ``path`` given back last, or a new one if all are lent."""
        # Per process too: a connection must never cross a fork (a server may fork workers
        # from the process that built the app); an inherited one is left untouched.
        key = (path, os.getpid())
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                slot = idle.pop()
            else:
                slot = _Slot()
                self._all.add(slot)
        if slot.conn is not None and slot.file != _file_identity(path):
            slot.conn.close()  # the file was replaced: this connection holds the old one
            slot.conn = None
        if slot.conn is None:
            slot.conn = connect(path)
            slot.file = _file_identity(path)
        return Lent(slot.conn, slot)

    def give_back(self, path: str, lent: Lent) -> None:
        """Roll back what the unit of work left open; keep the connection for the next."""
        slot = lent.slot
        try:
            if lent.conn.in_transaction:
                lent.conn.execute("ROLLBACK")
        except sqlite3.Error:
            slot.conn = None
            lent.conn.close()
            raise
        with self._lock:
            idle = self._idle.setdefault((path, slot.pid), [])
            if len(idle) < MAX_IDLE:
                idle.append(slot)
                return
        slot.conn = None
        lent.conn.close()

    def close_all(self) -> None:
        with self._lock:
            slots = [slot for slot in self._all if slot.pid == os.getpid()]
            for idle in self._idle.values():
                idle[:] = [slot for slot in idle if slot.pid != os.getpid()]
        for slot in slots:
            conn, slot.conn = slot.conn, None
            if conn is not None:
                conn.close()
