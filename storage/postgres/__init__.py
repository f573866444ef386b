"""The PostgreSQL backend: one database shared by several app processes.

``PostgresStorage`` lends pooled connections (psycopg_pool) to one unit of work at a
time:

- ``write()`` is a short ``READ COMMITTED`` read-write transaction: each statement sees
  what committed before it started, so a write that first takes a lock (the engine's
  changelog lock, a ``FOR UPDATE`` row lock) then reads sees the latest state;
- ``read()`` is ``REPEATABLE READ READ ONLY``: one snapshot for every query of a pull
  or a REST read, never blocking writers;
- every connection has ``statement_timeout`` and ``idle_in_transaction_session_timeout``
  set, so one stuck request cannot hold locks or a snapshot for ever;
- a unit of work opened inside another gets a connection of its own;
- migrations (``migrations/``) run under an advisory lock, each exactly once.

The URL is a libpq URL; these query parameters are Doorstep's own and are removed before
connecting: ``pool_min_size`` (default 1), ``pool_max_size`` (10), ``statement_timeout``
(milliseconds, 30000), ``idle_in_transaction_session_timeout`` (milliseconds, 60000).
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from storage.base import EngineTransactions
from storage.postgres import migrations
from storage.postgres.unit_of_work import PostgresUnitOfWork
from sync.store.postgres import PostgresStore

__all__ = ["PostgresStorage"]

Connection = psycopg.Connection[tuple[Any, ...]]
BEGIN_WRITE = "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE"
BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
_OPTIONS = {
    "pool_min_size": 1,
    "pool_max_size": 10,
    "statement_timeout": 30_000,
    "idle_in_transaction_session_timeout": 60_000,
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def split_url(url: str) -> tuple[str, dict[str, int]]:
    """(libpq URL, Doorstep's options from its query string, defaults filled in)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = dict(_OPTIONS)
    kept = []
    for key, value in query:
        if key in options:
            options[key] = int(value)
        else:
            kept.append((key, value))
    scheme = "postgresql" if parts.scheme.startswith("postgres") else parts.scheme
    return urlunsplit(parts._replace(scheme=scheme, query=urlencode(kept))), options


class PostgresStorage:
    """A PostgreSQL database as Doorstep's storage."""

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], datetime] | None = None,
        pool_min_size: int | None = None,
        pool_max_size: int | None = None,
        statement_timeout_ms: int | None = None,
        idle_in_transaction_timeout_ms: int | None = None,
    ) -> None:
        self.url = url
        self.conninfo, options = split_url(url)
        self.clock = clock or _utcnow
        self.statement_timeout_ms = statement_timeout_ms or options["statement_timeout"]
        self.idle_timeout_ms = (
            idle_in_transaction_timeout_ms or options["idle_in_transaction_session_timeout"]
        )
        self.pool_min_size = (
            pool_min_size if pool_min_size is not None else options["pool_min_size"]
        )
        self.pool_max_size = max(
            pool_max_size if pool_max_size is not None else options["pool_max_size"],
            self.pool_min_size,
        )
        # One pool per process: a server may fork its workers from the process that built
        # the app, and a connection (or a pool's threads) must never cross a fork. A
        # child makes its own; the parent's inherited ones are left untouched.
        self._pools: dict[int, ConnectionPool[Connection]] = {}
        weakref.finalize(self, _close_pool, self._pools)

    @property
    def pool(self) -> ConnectionPool[Connection]:
        pool = self._pools.get(os.getpid())
        if pool is None:
            pool = self._pools[os.getpid()] = ConnectionPool(
                self.conninfo,
                min_size=self.pool_min_size,
                max_size=self.pool_max_size,
                kwargs={"autocommit": True},
                configure=self._configure,
                open=True,
                name="doorstep",
                num_workers=1,
            )
        return pool

    def _configure(self, conn: Connection) -> None:
        """Run once per new pooled connection (autocommit: the settings are the session's)."""
        conn.execute(f"SET statement_timeout = {int(self.statement_timeout_ms)}")
        conn.execute(
            f"SET idle_in_transaction_session_timeout = {int(self.idle_timeout_ms)}"
        )

    @contextmanager
    def _unit(self, begin: str, *, read_only: bool) -> Iterator[PostgresUnitOfWork]:
        conn = self.pool.getconn()
        try:
            conn.execute(begin)
            unit = PostgresUnitOfWork(conn, self.clock, read_only=read_only)
            try:
                yield unit
            except BaseException:
                unit.discard_after_commit()
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                unit.discard_after_commit()
                raise
        finally:
            _end_transaction(conn)
            self.pool.putconn(conn)
        unit.run_after_commit()

    def write(self) -> AbstractContextManager[PostgresUnitOfWork]:
        return self._unit(BEGIN_WRITE, read_only=False)

    def read(self) -> AbstractContextManager[PostgresUnitOfWork]:
        return self._unit(BEGIN_READ, read_only=True)

    def sync_store(self) -> PostgresStore:
        return PostgresStore(transactions=EngineTransactions(self), clock=self.clock)

    def _direct(self) -> Connection:
        return psycopg.connect(self.conninfo, autocommit=True)

    def migrate(self) -> list[int]:
        with self._direct() as conn:
            return migrations.migrate(conn)

    def pending_migrations(self) -> list[int]:
        with self._direct() as conn:
            return migrations.pending(conn)

    def backup(self, target: Path) -> int:
        """``pg_dump`` to ``target`` (storage/postgres/backup.py); returns its bytes."""
        from storage.postgres.backup import backup_database

        return backup_database(self.conninfo, target)

    def restore(self, backup_path: Path) -> None:
        """``pg_restore`` with SQLite's device guarantees (storage/postgres/backup.py)."""
        from storage.postgres.backup import restore_database

        self.close()  # no pooled connection may sit in the schema being replaced
        restore_database(backup_path, self.conninfo, self.clock)

    def close(self) -> None:
        """Close this process's pool (a later unit of work opens a new one)."""
        _close_pool(self._pools)


def _close_pool(pools: dict[int, ConnectionPool[Connection]]) -> None:
    pool = pools.pop(os.getpid(), None)
    if pool is not None:
        pool.close()


def _end_transaction(conn: Connection) -> None:
    """Roll back whatever is still open, so the pool gets an idle connection back."""
    if conn.closed:
        return
    if conn.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
        try:
            conn.execute("ROLLBACK")
        except psycopg.Error:
            conn.close()  # the pool replaces a closed connection
