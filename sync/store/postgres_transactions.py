"""The PostgreSQL store's changelog lock and the transactions a bare store runs itself.

Why every write transaction serialises on ``CHANGELOG_LOCK`` is in postgres.py's
docstring (a changelog seq must never become visible after a higher one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg

Connection = psycopg.Connection[tuple[Any, ...]]
CHANGELOG_LOCK = 0x446F_6F72_0002  # "Door" 2: see storage/postgres/migrations for 1


def take_changelog_lock(transaction: Any) -> bool:
    """Serialise ``transaction`` (a unit of work, or a store's own) with every other
    write that reads or writes synced records: take the changelog lock once, hold it to
    COMMIT. True if it is a write transaction; read-only ones never take it.

    The store calls this before its first query in a write transaction. Repositories
    that read records and then write them through the engine in one unit of work (an
    escalation rule finding no open escalation, then raising one) call it before that
    first read, so their check and their write are as serial as on SQLite.
    """
    if transaction is None or transaction.read_only:
        return False
    if not transaction.changelog_locked:
        transaction.conn.execute("SELECT pg_advisory_xact_lock(%s)", (CHANGELOG_LOCK,))
        transaction.changelog_locked = True
    return True


class OwnTransaction:
    """What a store over its own connection knows of its open transaction."""

    def __init__(self, conn: Connection, *, read_only: bool) -> None:
        self.conn = conn
        self.read_only = read_only
        self.changelog_locked = False


class StoreParts:
    """What the store's mixins (bookkeeping, devices) use of :class:`PostgresStore`,
    which defines each of these: its connection, clock and query helpers."""

    clock: Callable[[], datetime]

    @property
    def conn(self) -> Connection:
        raise NotImplementedError

    def now(self) -> str:
        raise NotImplementedError

    def _current(self) -> Any:
        raise NotImplementedError

    def _serialise(self) -> bool:
        raise NotImplementedError

    def _rows(self, sql: str, params: Sequence[Any] = (), *, lock: bool = True) -> list[Any]:
        raise NotImplementedError

    def _exec(self, sql: str, params: Sequence[Any] = (), *, lock: bool = True) -> None:
        raise NotImplementedError

    def _row(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), *, lock: bool = True
    ) -> Any:
        raise NotImplementedError
