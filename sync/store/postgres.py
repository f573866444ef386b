"""The PostgreSQL store: all of the engine's SQL for PostgreSQL, over one connection.

Changelog order — the one guarantee that needs care here (see changelog.py). A sequence
hands out numbers when a row is inserted, but transactions commit in their own order: a
pull reading seq 12 while 11 is in flight would advance past 11 and skip it for ever.
This store uses the serialising scheme: every write transaction takes
``pg_advisory_xact_lock(CHANGELOG_LOCK)`` before its first read or write of the engine's
tables and holds it until COMMIT or ROLLBACK. So:

- seqs are allocated, and their transactions commit, one writer after the other: when
  writer B gets the lock, writer A (lower seq) has already committed and is visible to
  every new snapshot (PostgreSQL releases locks after it marks the commit visible);
- a pull's snapshot (``REPEATABLE READ``) therefore holds every seq up to its max seq
  and none above: ``seq > cursor`` never skips a late commit;
- writes run ``READ COMMITTED``: statements after the lock see every earlier writer's
  commit, so a push reads the current version and ``last_mutation_id`` as SQLite's
  ``BEGIN IMMEDIATE`` would; ``last_mutation_id`` is also read ``FOR UPDATE``;
- a rolled-back savepoint releases a lock taken inside it, and the store notes that.

The engine's write transactions are short (one push), so one lock serialises thousands
of them per second — SQLite's writer lock already did the same. Reads never take it.

Tables are 0002_sync.sql of storage/postgres/migrations; record data is JSONB (read back
as text for ``ChangedRow.data``); id columns use the "C" collation, so ordering by id or
patient id is Python's string order (the sweep slices patient ids in Python).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from sync.store import (
    ChangedRow,
    HistoryEntry,
    NewVersion,
    RecordIndex,
    StoredRecord,
    Transactions,
)
from sync.store.postgres_bookkeeping import PostgresBookkeeping
from sync.store.postgres_devices import PostgresDevices
from sync.store.postgres_schema import ensure_indexes
from sync.store.postgres_transactions import CHANGELOG_LOCK, OwnTransaction, take_changelog_lock
from sync.store.postgres_views import ROW as _ROW
from sync.store.postgres_views import PostgresViews, row_columns, view_values, with_key

__all__ = ["CHANGELOG_LOCK", "PostgresStore", "take_changelog_lock"]

Connection = psycopg.Connection[tuple[Any, ...]]
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IN_TRANSACTION = (TransactionStatus.INTRANS, TransactionStatus.INERROR)


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PostgresStore(PostgresViews, PostgresDevices, PostgresBookkeeping):
    """The engine's storage over PostgreSQL.

    Over one autocommit connection whose transactions it runs itself (tests, benchmarks),
    or bound to a caller's ``transactions`` (``storage.postgres``): then each transaction
    is the caller's unit of work, with its connection, and ``unit`` is that unit.
    """

    def __init__(
        self,
        conn: Connection | None = None,
        clock: Callable[[], datetime] | None = None,
        *,
        transactions: Transactions | None = None,
    ) -> None:
        if (conn is None) == (transactions is None):
            raise TypeError("PostgresStore takes a connection or transactions, not both")
        self._own_conn = conn
        self._own: OwnTransaction | None = None
        self._transactions = transactions
        self.clock = clock or _utcnow

    @classmethod
    def open(cls, url: str, clock: Callable[[], datetime] | None = None) -> PostgresStore:
        """Over a new autocommit connection to a migrated database (tests, benchmarks)."""
        return cls(psycopg.connect(url, autocommit=True), clock)

    def close(self) -> None:
        """Close a bare store's own connection (a bound store has none)."""
        if self._own_conn is not None:
            self._own_conn.close()

    def _current(self) -> Any:
        """The open transaction (a unit of work or our own), or None."""
        if self._transactions is not None:
            return self._transactions.current()
        return self._own

    @property
    def conn(self) -> Connection:
        if self._own_conn is not None:
            return self._own_conn
        unit = self._current()
        if unit is None:
            raise RuntimeError("the engine's store was used outside a transaction")
        conn: Connection = unit.conn
        return conn

    @property
    def unit(self) -> Any:
        """The caller's unit of work this transaction belongs to (None for a bare store)."""
        return self._transactions.current() if self._transactions is not None else None

    def _serialise(self) -> bool:
        """In a write transaction, take the changelog lock once; True if writing."""
        return take_changelog_lock(self._current())

    def _rows(self, sql: str, params: Sequence[Any] = (), *, lock: bool = True) -> list[Any]:
        if lock:
            self._serialise()
        return self.conn.execute(sql, params).fetchall()

    def _exec(self, sql: str, params: Sequence[Any] = (), *, lock: bool = True) -> None:
        if lock:
            self._serialise()
        self.conn.execute(sql, params)

    def _row(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), *, lock: bool = True
    ) -> Any:
        if lock:
            self._serialise()
        return self.conn.execute(sql, params).fetchone()

    def ensure_indexes(self, indexes: Iterable[RecordIndex]) -> None:
        """Create the record-field indexes the registry declares, in one write transaction;
        idempotent (postgres_schema.py)."""
        with self.write_transaction():
            ensure_indexes(self.conn, indexes)

    # -- time and transactions ------------------------------------------------------

    def now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="microseconds")

    def in_transaction(self) -> bool:
        return self._current() is not None

    @contextmanager
    def _own_transaction(self, begin: str, *, read_only: bool) -> Iterator[None]:
        conn = self.conn
        conn.execute(begin)
        self._own = OwnTransaction(conn, read_only=read_only)
        try:
            yield
        except BaseException:
            if conn.info.transaction_status in _IN_TRANSACTION:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            self._own = None

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        if self._transactions is not None:
            with self._transactions.write():
                yield
            return
        if self._own is not None:
            raise RuntimeError("write_transaction() cannot nest in an open transaction")
        with self._own_transaction("BEGIN ISOLATION LEVEL READ COMMITTED", read_only=False):
            yield

    @contextmanager
    def read_transaction(self) -> Iterator[None]:
        """One snapshot for several reads; inside a caller's transaction, that one."""
        if self._transactions is not None:
            with self._transactions.read():
                yield
            return
        if self._own is not None:
            yield
            return
        with self._own_transaction(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", read_only=True
        ):
            yield

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        current = self._current()
        locked = bool(current is not None and current.changelog_locked)
        self.conn.execute("SAVEPOINT sync_mutation")
        try:
            yield
        except BaseException:
            if self.conn.info.transaction_status in _IN_TRANSACTION:
                self.conn.execute("ROLLBACK TO SAVEPOINT sync_mutation")
                self.conn.execute("RELEASE SAVEPOINT sync_mutation")
                if current is not None:
                    current.changelog_locked = locked  # a lock taken inside is released
            raise
        self.conn.execute("RELEASE SAVEPOINT sync_mutation")

    # -- records and changelog ------------------------------------------------------

    def get_record(self, entity: str, record_id: str) -> StoredRecord | None:
        row = self._row(
            "SELECT version, deleted, updated_at, patient_id, data, seq, meta FROM records"
            " WHERE entity = %s AND id = %s",
            (entity, record_id),
        )
        if row is None:
            return None
        meta = {name: (stamp[0], stamp[1]) for name, stamp in row[6].items()}
        return StoredRecord(
            entity, record_id, row[0], bool(row[1]), row[2], row[3], row[4], row[5], meta
        )

    def write_version(self, version: NewVersion) -> int:
        """The changelog row and the current row in one statement, under the lock."""
        if not self._serialise():
            raise RuntimeError("write_version() outside a write transaction")
        data = _dump(version.data)
        row = self._row(
            "WITH logged AS (INSERT INTO changelog (seq, entity, id, version, deleted,"
            " patient_id, data, client_id, author_id, mutation_id, changed, at)"
            " VALUES (nextval('changelog_seq'), %(entity)s, %(id)s, %(version)s,"
            " %(deleted)s, %(patient_id)s, %(data)s::jsonb, %(client_id)s, %(author_id)s,"
            " %(mutation_id)s, %(changed)s::jsonb, %(at)s) RETURNING seq)"
            " INSERT INTO records (entity, id, version, deleted, updated_at, patient_id, data,"
            " seq, meta, views_key, view_staff, view_patient, view_carer)"
            " SELECT %(entity)s, %(id)s, %(version)s, %(deleted)s, %(at)s,"
            " %(patient_id)s, %(data)s::jsonb, logged.seq, %(meta)s::jsonb, %(views_key)s,"
            " %(view_staff)s, %(view_patient)s, %(view_carer)s FROM logged"
            " ON CONFLICT (entity, id) DO UPDATE SET version = excluded.version,"
            " deleted = excluded.deleted, updated_at = excluded.updated_at,"
            " data = excluded.data, seq = excluded.seq, meta = excluded.meta,"
            " views_key = excluded.views_key, view_staff = excluded.view_staff,"
            " view_patient = excluded.view_patient, view_carer = excluded.view_carer"
            " RETURNING seq",
            {
                "entity": version.entity,
                "id": version.id,
                "version": version.version,
                "deleted": version.deleted,
                "patient_id": version.patient_id,
                "data": data,
                "client_id": version.client_id,
                "author_id": version.author_id,
                "mutation_id": version.mutation_id,
                "changed": _dump(list(version.changed)),
                "at": version.at,
                "meta": _dump({name: list(stamp) for name, stamp in version.meta.items()}),
                **view_values(version.views),
            },
            lock=False,
        )
        return int(row[0])

    def _history(self, where: str, params: Sequence[Any]) -> HistoryEntry | None:
        row = self._row(
            "SELECT seq, version, deleted, data, client_id, author_id, mutation_id"
            f" FROM changelog WHERE {where}",
            params,
        )
        if row is None:
            return None
        return HistoryEntry(row[0], row[1], bool(row[2]), row[3], row[4], row[5], row[6])

    def history_entry(self, entity: str, record_id: str, version: int) -> HistoryEntry | None:
        return self._history(
            "entity = %s AND id = %s AND version = %s", (entity, record_id, version)
        )

    def history_at_or_before(self, entity: str, record_id: str, seq: int) -> HistoryEntry | None:
        return self._history(
            "entity = %s AND id = %s AND seq <= %s ORDER BY version DESC LIMIT 1",
            (entity, record_id, seq),
        )

    def max_seq(self) -> int:
        row = self._row("SELECT max(seq) FROM records")
        return int(row[0]) if row and row[0] is not None else 0

    def changed_since(
        self,
        patient_ids: Collection[str],
        after: int,
        limit: int,
        *,
        skip_deleted_upto: int = 0,
        by_patient: bool = True,
        audience: str | None = None,
        views_key: str | None = None,
    ) -> list[ChangedRow]:
        """Records of these patients with seq > after, in seq order, at most ``limit``;
        tombstones with seq ≤ ``skip_deleted_upto`` left out. ``by_patient`` is SQLite's
        index hint; PostgreSQL's planner picks between the two indexes itself."""
        if not patient_ids:
            return []
        columns, key = row_columns(audience)
        rows = self._rows(
            f"SELECT {columns} FROM records WHERE patient_id = ANY(%s) AND seq > %s"
            " AND (NOT deleted OR seq > %s) ORDER BY seq LIMIT %s",
            (*with_key(key, views_key), sorted(patient_ids), after, skip_deleted_upto, limit),
        )
        return [ChangedRow(*row) for row in rows]

    def sweep_records(
        self,
        patient_ids: Sequence[str],
        after_patient: str,
        after_seq: int,
        upto: int,
        limit: int,
        *,
        audience: str | None = None,
        views_key: str | None = None,
    ) -> list[ChangedRow]:
        """Live records of these patients with seq ≤ ``upto``, in (patient_id, seq) order,
        after the key (after_patient, after_seq)."""
        if not patient_ids:
            return []
        columns, key = row_columns(audience)
        rows = self._rows(
            f"SELECT {columns} FROM records WHERE patient_id = ANY(%s) AND seq <= %s"
            " AND NOT deleted AND (patient_id, seq) > (%s, %s) ORDER BY patient_id, seq"
            " LIMIT %s",
            (*with_key(key, views_key), sorted(patient_ids), upto, after_patient, after_seq,
             limit),
        )
        return [ChangedRow(*row) for row in rows]

    def list_records(
        self,
        entity: str,
        patient_ids: Collection[str],
        *,
        where: Mapping[str, Any],
        after_id: str | None,
        limit: int,
        include_deleted: bool,
    ) -> list[ChangedRow]:
        if not patient_ids:
            return []
        clauses = ["entity = %s", "patient_id = ANY(%s)"]
        params: list[Any] = [entity, sorted(patient_ids)]
        if not include_deleted:
            clauses.append("NOT deleted")
        if after_id is not None:
            clauses.append("id > %s")
            params.append(after_id)
        for name, value in where.items():
            if not _FIELD_NAME.match(name):
                raise ValueError(f"not a field name: {name!r}")
            if value is None:
                clauses.append("coalesce(data -> %s, 'null') = 'null'")
                params.append(name)
            elif isinstance(value, bool):  # SQLite's json_extract gives 1/0 for true/false
                clauses.append("data -> %s IN (%s::jsonb, %s::jsonb)")
                params.extend([name, _dump(value), _dump(int(value))])
            else:
                clauses.append("data -> %s = %s::jsonb")
                params.extend([name, _dump(value)])
        params.append(limit)
        rows = self._rows(
            f"SELECT {_ROW} FROM records WHERE {' AND '.join(clauses)} ORDER BY id LIMIT %s",
            params,
        )
        return [ChangedRow(*row) for row in rows]
