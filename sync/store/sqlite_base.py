"""What every part of the SQLite store shares: whose connection a query runs on, and time.

A store runs its queries on one connection: its own (a bare store over a connection it
was given: tests, benchmarks) or that of the caller's unit of work the current
transaction belongs to (``storage/``). A bound store used outside a transaction raises:
the engine asks for a transaction before it reads or writes, except ``now()`` and
``in_transaction()``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sync.store import Transactions


def utcnow() -> datetime:
    return datetime.now(UTC)


def dump(value: Any) -> str:
    """Compact JSON, as the store keeps it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class SqliteRows:
    """The connection the current transaction runs on, and small query helpers."""

    def __init__(
        self,
        conn: sqlite3.Connection | None = None,
        clock: Callable[[], datetime] | None = None,
        *,
        transactions: Transactions | None = None,
    ) -> None:
        if (conn is None) == (transactions is None):
            raise TypeError("SqliteStore takes a connection or transactions, not both")
        self._own_conn = conn
        self._transactions = transactions
        self.clock = clock or utcnow

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._own_conn is not None:
            return self._own_conn
        assert self._transactions is not None
        unit = self._transactions.current()
        if unit is None:
            raise RuntimeError("the engine's store was used outside a transaction")
        conn: sqlite3.Connection = unit.conn
        return conn

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self._conn.cursor()
        cursor.row_factory = None
        return cursor.execute(sql, params).fetchall()

    def _row(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        cursor = self._conn.cursor()
        cursor.row_factory = None
        row: tuple[Any, ...] | None = cursor.execute(sql, params).fetchone()
        return row

    def now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="microseconds")
