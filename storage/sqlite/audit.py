"""The audit log on SQLite: table ``audit_log`` (migration 0001, append-only triggers).
The statements are storage/audit_sql.py's, the same on both backends, except for the
patient index.

Lookups by patient use ``audit_patient_index`` (migration 0020), filled in batches of
about INDEX_BATCH rows, in (patient, id) order, by the write that brings the unindexed
rows to that many: a row-by-row index wrote one page per patient per pull (half an
incremental pull's CPU). Rows are written to ``audit_log`` at once, durably, as before;
only their index entries wait. A lookup reads the unindexed rows too (the newest, found
by id), so it sees every row committed. SQLite runs one writer at a time, so ids are
committed in order and ``upto`` never passes a row still to commit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from storage.audit import COLUMNS, AuditEntry
from storage.audit_sql import AuditSql
from storage.sqlite.statements import SqliteStatements

INDEX_BATCH = 10_000


def index_audit_rows(conn: sqlite3.Connection, *, batch: int = 0) -> None:
    """Index the rows after the mark, if there are at least ``batch`` of them (0: any)."""
    upto, last = conn.execute(
        "SELECT upto, (SELECT coalesce(max(id), 0) FROM audit_log) FROM audit_index_mark"
    ).fetchone()
    if last - upto < max(batch, 1):
        return
    conn.execute(
        "INSERT INTO audit_patient_index (patient_id, audit_id)"
        " SELECT patient_id, id FROM audit_log"
        " WHERE id > ? AND id <= ? AND patient_id IS NOT NULL ORDER BY patient_id, id",
        (upto, last))
    conn.execute("UPDATE audit_index_mark SET upto = ?", (last,))


class SqliteAudit(AuditSql, SqliteStatements):
    index_batch = INDEX_BATCH  # tests make it small

    def append(self, entries: Iterable[AuditEntry]) -> None:
        super().append(entries)
        index_audit_rows(self.conn, batch=self.index_batch)

    def append_each_patient(self, entry: AuditEntry, patient_ids: Sequence[str]) -> None:
        super().append_each_patient(entry, patient_ids)
        index_audit_rows(self.conn, batch=self.index_batch)

    def entries(
        self,
        *,
        patient_id: str | None = None,
        user_id: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        if patient_id is None:
            return super().entries(user_id=user_id, before_id=before_id, limit=limit)
        (upto,) = self.conn.execute("SELECT upto FROM audit_index_mark").fetchone()
        by_user = " AND a.user_id = ?" if user_id is not None else ""
        users = (user_id,) if user_id is not None else ()
        columns = ", ".join(f"a.{column}" for column in ("id", *COLUMNS))
        # The newest first: every row after the mark is newer than every indexed one.
        top = upto if before_id is None else min(upto, before_id - 1)
        rows = []
        if before_id is None or before_id > upto + 1:
            rows = self._rows(
                f"SELECT {columns} FROM audit_log a WHERE a.id > ? AND a.id < ?"
                f" AND a.patient_id = ?{by_user} ORDER BY a.id DESC LIMIT ?",
                (upto, before_id or 2**63 - 1, patient_id, *users, limit))
        if len(rows) < limit:
            rows += self._rows(
                f"SELECT {columns} FROM audit_patient_index p"
                " JOIN audit_log a ON a.id = p.audit_id"
                f" WHERE p.patient_id = ? AND p.audit_id <= ?{by_user}"
                " ORDER BY p.audit_id DESC LIMIT ?",
                (patient_id, top, *users, limit - len(rows)))
        return self._decoded(rows)
