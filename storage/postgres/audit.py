"""The audit log on PostgreSQL: table ``audit_log`` (migration 0001; a trigger refuses
UPDATE, DELETE and TRUNCATE). ``detail`` is JSONB; ids come from an identity column, so
they increase in append order within one unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from storage.audit import COLUMNS, AuditEntry, entry_filters

_INSERT = (f"INSERT INTO audit_log ({', '.join(COLUMNS)})"
           f" VALUES ({', '.join(['%s'] * 8)}, %s::jsonb)")


class PostgresAudit:
    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]],
                 clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def append(self, entries: Iterable[AuditEntry]) -> None:
        rows = [entry.values() for entry in entries]
        if rows:
            with self.conn.cursor() as cursor:
                cursor.executemany(_INSERT, rows)

    def entries(
        self,
        *,
        patient_id: str | None = None,
        user_id: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        filters = entry_filters(patient_id, user_id, before_id)
        where = " AND ".join(f"{condition} %s" for condition, _ in filters)
        with self.conn.cursor(row_factory=dict_row) as cursor:
            rows = cursor.execute(
                f"SELECT id, {', '.join(COLUMNS)} FROM audit_log"
                f" {'WHERE ' + where if where else ''} ORDER BY id DESC LIMIT %s",
                (*(value for _, value in filters), limit)).fetchall()
        for row in rows:
            row["detail"] = row["detail"] or None
        return rows
