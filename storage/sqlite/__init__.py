"""The SQLite backend: one database file, WAL, one writer at a time (``BEGIN IMMEDIATE``).

``SqliteStorage`` lends its kept connections (connection.py) to one unit of work at a
time; migrations live in ``migrations/``; each repository is one module;
``doorstep backup`` / ``restore`` are backup.py and restore.py.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from storage.sqlite import migrations
from storage.sqlite.connection import ConnectionPool, connect
from storage.sqlite.unit_of_work import SqliteUnitOfWork
from sync.store.sqlite import SqliteStore

__all__ = ["SqliteStorage", "connect"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SqliteStorage:
    """A SQLite database file as Doorstep's storage."""

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.path = str(Path(path).resolve()) if str(path) != ":memory:" else ":memory:"
        self.url = f"sqlite:///{self.path}"
        self.clock = clock or _utcnow
        self._connections = ConnectionPool()
        weakref.finalize(self, self._connections.close_all)

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A kept connection, lent for the block (the one given back last, or a new one
        while all are lent); whatever the block leaves open is rolled back at its end.
        For units of work, migrations and tools under the boundary; no repository's
        caller needs it."""
        lent = self._connections.lend(self.path)
        try:
            yield lent.conn
        finally:
            self._connections.give_back(self.path, lent)

    @contextmanager
    def _unit(self, begin: str, *, read_only: bool) -> Iterator[SqliteUnitOfWork]:
        with self.connection() as conn:
            conn.execute(begin)
            unit = SqliteUnitOfWork(conn, self.clock, read_only=read_only)
            try:
                yield unit
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                unit.discard_after_commit()
                raise
            conn.execute("COMMIT")
        unit.run_after_commit()

    def write(self) -> AbstractContextManager[SqliteUnitOfWork]:
        return self._unit("BEGIN IMMEDIATE", read_only=False)

    def read(self) -> AbstractContextManager[SqliteUnitOfWork]:
        # A deferred BEGIN: WAL readers see one snapshot and never block the writer.
        return self._unit("BEGIN", read_only=True)

    def sync_store(self) -> SqliteStore:
        return SqliteStore(transactions=_EngineTransactions(self), clock=self.clock)

    def migrate(self) -> list[int]:
        conn = connect(self.path)
        try:
            return migrations.migrate(conn)
        finally:
            conn.close()

    def pending_migrations(self) -> list[int]:
        conn = connect(self.path)
        try:
            return migrations.pending(conn)
        finally:
            conn.close()

    def backup(self, target: Path) -> int:
        from storage.sqlite.backup import backup_database

        return backup_database(self.path, target)

    def restore(self, backup_path: Path) -> None:
        from storage.sqlite.restore import restore_database

        restore_database(backup_path, self.path, self.clock)

    def close(self) -> None:
        self._connections.close_all()


class _EngineTransactions:
    """The engine's transactions on a storage: each one a unit of work of its own, so
    rules the engine runs (hooks) reach it as ``store.unit``."""

    def __init__(self, storage: SqliteStorage) -> None:
        self.storage = storage
        self.unit: SqliteUnitOfWork | None = None

    def current(self) -> SqliteUnitOfWork | None:
        return self.unit

    @contextmanager
    def write(self) -> Iterator[SqliteUnitOfWork]:
        if self.unit is not None:
            raise RuntimeError("write_transaction() cannot nest in an open transaction")
        with self.storage.write() as unit:
            self.unit = unit
            try:
                yield unit
            finally:
                self.unit = None

    @contextmanager
    def read(self) -> Iterator[SqliteUnitOfWork]:
        if self.unit is not None:
            yield self.unit
            return
        with self.storage.read() as unit:
            self.unit = unit
            try:
                yield unit
            finally:
                self.unit = None
