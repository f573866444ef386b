"""The audit log on SQLite: table ``audit_log`` (migration 0001, append-only triggers)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from storage.audit import COLUMNS, AuditEntry, entry_filters


class SqliteAudit:
    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def append(self, entries: Iterable[AuditEntry]) -> None:
        self.conn.executemany(
            f"INSERT INTO audit_log ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * 9)})",
            [entry.values() for entry in entries],
        )

    def entries(
        self,
        *,
        patient_id: str | None = None,
        user_id: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        filters = entry_filters(patient_id, user_id, before_id)
        where = " AND ".join(f"{condition} ?" for condition, _ in filters)
        cursor = self.conn.cursor()
        cursor.row_factory = sqlite3.Row
        rows = cursor.execute(
            f"SELECT id, {', '.join(COLUMNS)} FROM audit_log"
            f" {'WHERE ' + where if where else ''} ORDER BY id DESC LIMIT ?",
            (*(value for _, value in filters), limit)).fetchall()
        result = []
        for row in rows:
            item = dict(row)
            item["detail"] = json.loads(item["detail"]) if item["detail"] else None
            result.append(item)
        return result
