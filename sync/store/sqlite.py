"""The SQLite store: all of the engine's SQL, over one connection.

Invariants:
- writes run inside ``write_transaction()`` = ``BEGIN IMMEDIATE``: one writer at a
  time, so changelog seqs (``INTEGER PRIMARY KEY``, max+1) are allocated in commit
  order — a reader's snapshot holds every seq up to its max and none above;
- ``changelog`` is append-only (triggers refuse UPDATE and DELETE);
- ``records.seq`` is the seq of the record's latest changelog row, unique and indexed,
  so "records changed since S" is an index range, never a history scan;
- the connection uses Doorstep's pragmas (WAL, ``synchronous=FULL``, foreign keys,
  busy timeout): ``connect()`` is their one definition, used by ``server/db.py`` too.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from sync.store import (
    ChangedRow,
    HistoryEntry,
    NewVersion,
    QuarantineEntry,
    StoredRecord,
    Transactions,
)
from sync.store.sqlite_restore import RestoreMarks

_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ROW = "entity, id, version, deleted, updated_at, patient_id, data, seq"


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection with Doorstep's pragmas; transactions are managed explicitly."""
    path = str(path)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the engine's tables; called by migration 0002 inside its transaction."""
    db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
    db.table("records").create(
        {
            "entity": str,
            "id": str,
            "version": int,
            "deleted": int,
            "updated_at": str,
            "patient_id": str,
            "data": str,
            "seq": int,
            "meta": str,
        },
        pk=("entity", "id"),
        not_null={"entity", "id", "version", "deleted", "updated_at", "patient_id", "data"}
        | {"seq", "meta"},
        defaults={"deleted": 0, "meta": "{}"},
    )
    db.table("records").create_index(["seq"], index_name="records_seq", unique=True)
    # Covering index for "changes of these patients since S": seeks per patient, then
    # a top-N sort on seq without touching the table rows.
    db.table("records").create_index(
        ["patient_id", "seq", "deleted"], index_name="records_patient_seq"
    )
    db.table("changelog").create(
        {
            "seq": int,
            "entity": str,
            "id": str,
            "version": int,
            "deleted": int,
            "patient_id": str,
            "data": str,
            "client_id": str,
            "author_id": str,
            "mutation_id": int,
            "changed": str,
            "at": str,
        },
        pk="seq",
        not_null={"entity", "id", "version", "deleted", "patient_id", "data"}
        | {"client_id", "author_id", "changed", "at"},
    )
    db.table("changelog").create_index(
        ["entity", "id", "version"], index_name="changelog_record", unique=True
    )
    for action in ("UPDATE", "DELETE"):
        conn.execute(
            f"CREATE TRIGGER changelog_no_{action.lower()} BEFORE {action} ON changelog"
            " BEGIN SELECT RAISE(ABORT, 'changelog is append-only'); END"
        )
    db.table("sync_clients").create(
        {"client_id": str, "user_id": str, "last_mutation_id": int, "updated_at": str},
        pk="client_id",
        not_null={"user_id", "last_mutation_id", "updated_at"},
    )
    conn.execute(
        "CREATE TABLE sync_results (client_id TEXT NOT NULL, mutation_id INTEGER NOT NULL,"
        " result TEXT NOT NULL, PRIMARY KEY (client_id, mutation_id)) WITHOUT ROWID"
    )
    db.table("sync_quarantine").create(
        {
            "id": int,
            "at": str,
            "reason": str,
            "client_id": str,
            "user_id": str,
            "mutation_id": int,
            "entity": str,
            "record_id": str,
            "errors": str,
            "raw": str,
        },
        pk="id",
        not_null={"at", "reason", "errors", "raw"},
    )
    db.table("sync_quarantine").create_index(
        ["client_id", "id"], index_name="sync_quarantine_client"
    )
    db.table("sync_scope_sets").create(
        {"ref": str, "user_id": str, "patient_ids": str, "created_at": str},
        pk="ref",
        not_null={"user_id", "patient_ids", "created_at"},
    )
    db.table("sync_meta").create({"key": str, "value": str}, pk="key", not_null={"value"})
    conn.execute("INSERT INTO sync_meta (key, value) VALUES ('epoch', ?)", (secrets.token_hex(8),))


def _iso_now() -> datetime:
    return datetime.now(UTC)


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class SqliteStore(RestoreMarks):
    """The engine's storage over SQLite.

    Either over one connection whose transactions it runs itself (tests, benchmarks), or
    bound to a caller's ``transactions`` (``storage/``): then each transaction is the
    caller's unit of work, its connection is that unit's, and ``unit`` is the unit.
    """

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
        self.clock = clock or _iso_now

    @property
    def conn(self) -> sqlite3.Connection:
        if self._own_conn is not None:
            return self._own_conn
        assert self._transactions is not None
        unit = self._transactions.current()
        if unit is None:
            raise RuntimeError("the engine's store was used outside a transaction")
        conn: sqlite3.Connection = unit.conn
        return conn

    @property
    def unit(self) -> Any:
        """The caller's unit of work this transaction belongs to (None for a bare store)."""
        return self._transactions.current() if self._transactions is not None else None

    @classmethod
    def open(cls, path: str | Path, clock: Callable[[], datetime] | None = None) -> SqliteStore:
        """Connect with Doorstep's pragmas; creates the schema on a fresh file (tests, bench)."""
        conn = connect(path)
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records'"
        ).fetchone()
        if not exists:
            conn.execute("BEGIN IMMEDIATE")
            create_schema(conn)
            conn.execute("COMMIT")
        return cls(conn, clock)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        cursor.row_factory = None
        return cursor.execute(sql, params).fetchall()

    def _row(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        cursor = self.conn.cursor()
        cursor.row_factory = None
        row: tuple[Any, ...] | None = cursor.execute(sql, params).fetchone()
        return row

    # -- time and transactions ------------------------------------------------------

    def now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="microseconds")

    def in_transaction(self) -> bool:
        if self._transactions is not None:
            return self._transactions.current() is not None
        return self.conn.in_transaction

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        if self._transactions is not None:
            with self._transactions.write():
                yield
            return
        if self.conn.in_transaction:
            raise RuntimeError("write_transaction() cannot nest in an open transaction")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def read_transaction(self) -> Iterator[None]:
        """One snapshot for several reads; inside a caller's transaction, that one."""
        if self._transactions is not None:
            with self._transactions.read():
                yield
            return
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        self.conn.execute("SAVEPOINT sync_mutation")
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK TO sync_mutation")
                self.conn.execute("RELEASE sync_mutation")
            raise
        self.conn.execute("RELEASE sync_mutation")

    # -- records and changelog ------------------------------------------------------

    def get_record(self, entity: str, record_id: str) -> StoredRecord | None:
        row = self._row(
            "SELECT version, deleted, updated_at, patient_id, data, seq, meta FROM records"
            " WHERE entity = ? AND id = ?",
            (entity, record_id),
        )
        if row is None:
            return None
        meta = {name: (stamp[0], stamp[1]) for name, stamp in json.loads(row[6]).items()}
        return StoredRecord(
            entity,
            record_id,
            row[0],
            bool(row[1]),
            row[2],
            row[3],
            json.loads(row[4]),
            row[5],
            meta,
        )

    def write_version(self, version: NewVersion) -> int:
        data = _dump(version.data)
        cursor = self.conn.execute(
            "INSERT INTO changelog (seq, entity, id, version, deleted, patient_id, data,"
            " client_id, author_id, mutation_id, changed, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self._next_seq(),
                version.entity,
                version.id,
                version.version,
                int(version.deleted),
                version.patient_id,
                data,
                version.client_id,
                version.author_id,
                version.mutation_id,
                _dump(list(version.changed)),
                version.at,
            ),
        )
        seq = cursor.lastrowid
        assert seq is not None
        self.conn.execute(
            "INSERT INTO records (entity, id, version, deleted, updated_at, patient_id, data,"
            " seq, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (entity, id) DO UPDATE"
            " SET version = excluded.version, deleted = excluded.deleted,"
            " updated_at = excluded.updated_at, data = excluded.data, seq = excluded.seq,"
            " meta = excluded.meta",
            (
                version.entity,
                version.id,
                version.version,
                int(version.deleted),
                version.at,
                version.patient_id,
                data,
                seq,
                _dump({name: list(stamp) for name, stamp in version.meta.items()}),
            ),
        )
        return seq

    def _next_seq(self) -> int | None:
        """None (SQLite's max + 1) unless a restore set a floor the seqs must stay above."""
        floor = self.floors()[1]
        if not floor:
            return None
        row = self._row("SELECT max(seq) FROM changelog")
        return max(int(row[0]) if row and row[0] is not None else 0, floor) + 1

    def _history(self, where: str, params: Sequence[Any]) -> HistoryEntry | None:
        row = self._row(
            "SELECT seq, version, deleted, data, client_id, author_id, mutation_id"
            f" FROM changelog WHERE {where}",
            params,
        )
        if row is None:
            return None
        return HistoryEntry(
            row[0], row[1], bool(row[2]), json.loads(row[3]), row[4], row[5], row[6]
        )

    def history_entry(self, entity: str, record_id: str, version: int) -> HistoryEntry | None:
        return self._history("entity = ? AND id = ? AND version = ?", (entity, record_id, version))

    def history_at_or_before(self, entity: str, record_id: str, seq: int) -> HistoryEntry | None:
        return self._history(
            "entity = ? AND id = ? AND seq <= ? ORDER BY version DESC LIMIT 1",
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
    ) -> list[ChangedRow]:
        """Records of these patients with seq > after, in seq order, at most ``limit``.

        Tombstones with seq ≤ ``skip_deleted_upto`` are left out (a device receiving a
        patient whole never held them). ``by_patient`` seeks each patient in the
        covering index (cost ~ patients + matches); otherwise the seq index is walked
        from ``after`` (cost ~ records changed since, whoever's they are).
        """
        if not patient_ids:
            return []
        ids = _dump(sorted(patient_ids))
        if by_patient:
            sql = (
                f"SELECT {_ROW} FROM records WHERE seq IN (SELECT seq FROM records"
                " INDEXED BY records_patient_seq WHERE patient_id IN"
                " (SELECT value FROM json_each(?)) AND seq > ? AND (deleted = 0 OR seq > ?)"
                " ORDER BY seq LIMIT ?) ORDER BY seq"
            )
        else:
            sql = (
                f"SELECT {_ROW} FROM records INDEXED BY records_seq WHERE patient_id IN"
                " (SELECT value FROM json_each(?)) AND seq > ? AND (deleted = 0 OR seq > ?)"
                " ORDER BY seq LIMIT ?"
            )
        rows = self._rows(sql, (ids, after, skip_deleted_upto, limit))
        return [ChangedRow._make(row) for row in rows]

    def sweep_records(
        self,
        patient_ids: Sequence[str],
        after_patient: str,
        after_seq: int,
        upto: int,
        limit: int,
    ) -> list[ChangedRow]:
        """Live records of these patients with seq ≤ ``upto``, in (patient_id, seq) order,
        after the key (after_patient, after_seq); each index entry is read once.

        ``patient_ids`` should hold only ids ≥ after_patient (the caller slices).
        """
        if not patient_ids:
            return []
        rows = self._rows(
            f"SELECT {_ROW} FROM records INDEXED BY records_patient_seq WHERE patient_id IN"
            " (SELECT value FROM json_each(?)) AND seq <= ? AND deleted = 0"
            " AND (patient_id > ? OR seq > ?) ORDER BY patient_id, seq LIMIT ?",
            (_dump(sorted(patient_ids)), upto, after_patient, after_seq, limit),
        )
        return [ChangedRow._make(row) for row in rows]

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
        clauses = ["entity = ?", "patient_id IN (SELECT value FROM json_each(?))"]
        params: list[Any] = [entity, _dump(sorted(patient_ids))]
        if not include_deleted:
            clauses.append("deleted = 0")
        if after_id is not None:
            clauses.append("id > ?")
            params.append(after_id)
        for name, value in where.items():
            if not _FIELD_NAME.match(name):
                raise ValueError(f"not a field name: {name!r}")
            if value is None:
                clauses.append("json_extract(data, ?) IS NULL")
                params.append(f"$.{name}")
            else:
                clauses.append("json_extract(data, ?) = ?")
                params.extend([f"$.{name}", int(value) if isinstance(value, bool) else value])
        params.append(limit)
        rows = self._rows(
            f"SELECT {_ROW} FROM records WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
            params,
        )
        return [ChangedRow._make(row) for row in rows]

    # -- devices --------------------------------------------------------------------

    def last_mutation_id(self, client_id: str) -> int:
        row = self._row(
            "SELECT last_mutation_id FROM sync_clients WHERE client_id = ?", (client_id,)
        )
        return int(row[0]) if row else 0

    def set_last_mutation_id(self, client_id: str, user_id: str, last: int) -> None:
        self.conn.execute(
            "INSERT INTO sync_clients (client_id, user_id, last_mutation_id, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET"
            " last_mutation_id = excluded.last_mutation_id, updated_at = excluded.updated_at",
            (client_id, user_id, last, self.now()),
        )

    def stored_results(self, client_id: str, mutation_ids: Collection[int]) -> dict[int, str]:
        if not mutation_ids:
            return {}
        rows = self._rows(
            "SELECT mutation_id, result FROM sync_results WHERE client_id = ?"
            " AND mutation_id IN (SELECT value FROM json_each(?))",
            (client_id, _dump(sorted(mutation_ids))),
        )
        return {row[0]: row[1] for row in rows}

    def store_results(self, client_id: str, results: Sequence[tuple[int, str]]) -> None:
        self.conn.executemany(
            "INSERT INTO sync_results (client_id, mutation_id, result) VALUES (?, ?, ?)",
            [(client_id, mutation_id, result) for mutation_id, result in results],
        )

    def quarantine(self, entries: Sequence[QuarantineEntry]) -> None:
        now = self.now()
        self.conn.executemany(
            "INSERT INTO sync_quarantine (at, reason, client_id, user_id, mutation_id, entity,"
            " record_id, errors, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    now,
                    e.reason,
                    e.client_id,
                    e.user_id,
                    e.mutation_id,
                    e.entity,
                    e.record_id,
                    _dump(dict(e.errors)),
                    e.raw,
                )
                for e in entries
            ],
        )

    def quarantined(self, client_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Quarantined mutations and batches, oldest first (for operators and tests)."""
        db = sqlite_utils.Database(self.conn, recursive_triggers=False, execute_plugins=False)
        where, params = ("client_id = ?", [client_id]) if client_id is not None else (None, None)
        for row in db.table("sync_quarantine").rows_where(where, params, order_by="id"):
            row["errors"] = json.loads(row["errors"])
            yield row

    def quarantine_usage(self, user_id: str, within: timedelta) -> tuple[int, int]:
        """Entries and bytes of raw text ``user_id`` had quarantined within ``within``."""
        since = (self.clock() - within).astimezone(UTC).isoformat(timespec="microseconds")
        row = self._row(
            "SELECT count(*), coalesce(sum(length(CAST(raw AS BLOB))), 0) FROM sync_quarantine"
            " WHERE user_id = ? AND at > ?",
            (user_id, since),
        )
        assert row is not None
        return int(row[0]), int(row[1])

    # -- pull cursors ---------------------------------------------------------------

    def load_scope_set(self, ref: str) -> tuple[str, list[str]] | None:
        row = self._row("SELECT user_id, patient_ids FROM sync_scope_sets WHERE ref = ?", (ref,))
        return (row[0], json.loads(row[1])) if row else None

    def has_scope_set(self, ref: str) -> bool:
        return self._row("SELECT 1 FROM sync_scope_sets WHERE ref = ?", (ref,)) is not None

    def save_scope_set(self, ref: str, user_id: str, patient_ids: Sequence[str]) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO sync_scope_sets (ref, user_id, patient_ids, created_at)"
            " VALUES (?, ?, ?, ?)",
            (ref, user_id, _dump(list(patient_ids)), self.now()),
        )
