"""The SQLite store: the engine's records and changelog, and its transactions.

Invariants:
- writes run inside ``write_transaction()`` = ``BEGIN IMMEDIATE``: one writer at a
  time, so changelog seqs (``INTEGER PRIMARY KEY``, max+1) are allocated in commit
  order — a reader's snapshot holds every seq up to its max and none above;
- ``records.seq`` is the seq of the record's latest changelog row, unique and indexed,
  so "records changed since S" is an index range, never a history scan.

The schema (and Doorstep's connection pragmas) is in sqlite_schema.py, devices' state
and the quarantine in sqlite_devices.py, the epoch and restore floors in
sqlite_restore.py.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from sync.store import (
    AUDIENCES,
    AudienceViews,
    ChangedRow,
    HistoryEntry,
    NewVersion,
    RecordIndex,
    StoredRecord,
)
from sync.store.sqlite_base import dump
from sync.store.sqlite_devices import DeviceState
from sync.store.sqlite_restore import RestoreMarks
from sync.store.sqlite_schema import add_views, connect, create_schema, ensure_indexes

__all__ = ["SqliteStore", "connect", "create_schema"]

_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ROW = "entity, id, version, deleted, updated_at, patient_id, data, seq"
_VIEW_COLUMNS = ("views_key", *(f"view_{audience}" for audience in AUDIENCES))


def _row_columns(audience: str | None) -> str:
    """The ChangedRow columns, with one audience's view (the first ``?`` is the key)."""
    if audience is None:
        return _ROW
    if audience not in AUDIENCES:
        raise ValueError(f"not an audience: {audience!r}")
    # A row whose current view is stored does not need its data (the pull splices).
    current = "views_key = ?1"
    return (
        f"entity, id, version, deleted, updated_at, patient_id, CASE WHEN {current}"
        f" AND view_{audience} IS NOT NULL THEN '' ELSE data END, seq,"
        f" coalesce({current}, 0), view_{audience}"
    )


def _view_values(views: AudienceViews | None) -> tuple[str | None, ...]:
    if views is None:
        return (None,) * len(_VIEW_COLUMNS)
    return (views.key, *(views.texts.get(audience) for audience in AUDIENCES))


class SqliteStore(DeviceState, RestoreMarks):
    """The engine's storage over SQLite.

    Either over one connection whose transactions it runs itself (tests, benchmarks), or
    bound to a caller's ``transactions`` (``storage/``): then each transaction is the
    caller's unit of work, its connection is that unit's, and ``unit`` is the unit.
    """

    @property
    def unit(self) -> Any:
        """The caller's unit of work this transaction belongs to (None for a bare store)."""
        return self._transactions.current() if self._transactions is not None else None

    @classmethod
    def open(cls, path: str | Path, clock: Callable[[], datetime] | None = None) -> Self:
        """Connect with Doorstep's pragmas; creates the schema on a fresh file (tests, bench)."""
        conn = connect(path)
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records'"
        ).fetchone()
        if not exists:
            conn.execute("BEGIN IMMEDIATE")
            create_schema(conn)
            add_views(conn)
            conn.execute("COMMIT")
        return cls(conn, clock)

    def close(self) -> None:
        """Close a bare store's own connection (a bound store has none)."""
        if self._own_conn is not None:
            self._own_conn.close()

    @property
    def conn(self) -> sqlite3.Connection:
        """Not part of the Store protocol (the engine and the server never use it): the
        connection under this store, for tests that look at rows and query plans."""
        return self._conn

    def ensure_indexes(self, indexes: Iterable[RecordIndex]) -> None:
        """Create the record-field indexes the registry declares, in one write transaction;
        idempotent (an index that exists is left as it is)."""
        with self.write_transaction():
            ensure_indexes(self._conn, indexes)

    # -- time and transactions ------------------------------------------------------

    def in_transaction(self) -> bool:
        if self._transactions is not None:
            return self._transactions.current() is not None
        return self._conn.in_transaction

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        if self._transactions is not None:
            with self._transactions.write():
                yield
            return
        if self._conn.in_transaction:
            raise RuntimeError("write_transaction() cannot nest in an open transaction")
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    @contextmanager
    def read_transaction(self) -> Iterator[None]:
        """One snapshot for several reads; inside a caller's transaction, that one."""
        if self._transactions is not None:
            with self._transactions.read():
                yield
            return
        if self._conn.in_transaction:
            yield
            return
        self._conn.execute("BEGIN")
        try:
            yield
        finally:
            self._conn.execute("COMMIT")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        self._conn.execute("SAVEPOINT sync_mutation")
        try:
            yield
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK TO sync_mutation")
                self._conn.execute("RELEASE sync_mutation")
            raise
        self._conn.execute("RELEASE sync_mutation")

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
        data = dump(version.data)
        cursor = self._conn.execute(
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
                dump(list(version.changed)),
                version.at,
            ),
        )
        seq = cursor.lastrowid
        assert seq is not None
        self._conn.execute(
            "INSERT INTO records (entity, id, version, deleted, updated_at, patient_id, data,"
            " seq, meta, views_key, view_staff, view_patient, view_carer)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (entity, id) DO UPDATE"
            " SET version = excluded.version, deleted = excluded.deleted,"
            " updated_at = excluded.updated_at, data = excluded.data, seq = excluded.seq,"
            " meta = excluded.meta, views_key = excluded.views_key,"
            " view_staff = excluded.view_staff, view_patient = excluded.view_patient,"
            " view_carer = excluded.view_carer",
            (
                version.entity,
                version.id,
                version.version,
                int(version.deleted),
                version.at,
                version.patient_id,
                data,
                seq,
                dump({name: list(stamp) for name, stamp in version.meta.items()}),
                *_view_values(version.views),
            ),
        )
        return seq

    def records_without_views(self, views_key: str, limit: int) -> list[StoredRecord]:
        rows = self._rows(
            "SELECT entity, id FROM records WHERE views_key IS NULL OR views_key != ?"
            " LIMIT ?",
            (views_key, limit),
        )
        found = [self.get_record(entity, record_id) for entity, record_id in rows]
        return [record for record in found if record is not None]

    def set_views(self, entity: str, record_id: str, views: AudienceViews | None) -> None:
        self._conn.execute(
            "UPDATE records SET views_key = ?, view_staff = ?, view_patient = ?,"
            " view_carer = ? WHERE entity = ? AND id = ?",
            (*_view_values(views), entity, record_id),
        )

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
        by_patient: bool = True,
        audience: str | None = None,
        views_key: str | None = None,
    ) -> list[ChangedRow]:
        """Records of these patients with seq > after, in seq order, at most ``limit``.

        ``by_patient`` seeks each patient in the covering index (cost ~ patients +
        matches); otherwise the seq index is walked from ``after`` (cost ~ records changed
        since, whoever's they are).
        """
        if not patient_ids:
            return []
        ids = dump(sorted(patient_ids))
        columns = _row_columns(audience)
        key: tuple[Any, ...] = () if audience is None else (views_key,)
        if by_patient:
            sql = (
                f"SELECT {columns} FROM records WHERE seq IN (SELECT seq FROM records"
                " INDEXED BY records_patient_seq WHERE patient_id IN"
                " (SELECT value FROM json_each(?)) AND seq > ? ORDER BY seq LIMIT ?)"
                " ORDER BY seq"
            )
        else:
            sql = (
                f"SELECT {columns} FROM records INDEXED BY records_seq WHERE patient_id IN"
                " (SELECT value FROM json_each(?)) AND seq > ? ORDER BY seq LIMIT ?"
            )
        rows = self._rows(sql, (*key, ids, after, limit))
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
        after the key (after_patient, after_seq); each index entry is read once.

        ``patient_ids`` should hold only ids ≥ after_patient (the caller slices).
        """
        if not patient_ids:
            return []
        rows = self._rows(
            f"SELECT {_row_columns(audience)} FROM records INDEXED BY records_patient_seq"
            " WHERE patient_id IN (SELECT value FROM json_each(?)) AND seq <= ? AND deleted = 0"
            " AND (patient_id > ? OR seq > ?) ORDER BY patient_id, seq LIMIT ?",
            (*(() if audience is None else (views_key,)), dump(sorted(patient_ids)), upto,
             after_patient, after_seq, limit),
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
        clauses = ["entity = ?", "patient_id IN (SELECT value FROM json_each(?))"]
        params: list[Any] = [entity, dump(sorted(patient_ids))]
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
        return [ChangedRow(*row) for row in rows]
