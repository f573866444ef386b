"""The audit log on SQLite: table ``audit_log`` (migration 0001, append-only triggers)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from storage.audit import AuditEntry

_COLUMNS = ("at", "user_id", "role", "client_id", "action", "entity", "record_id",
            "patient_id", "detail")


class SqliteAudit:
    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def append(self, entries: Iterable[AuditEntry]) -> None:
        self.conn.executemany(
            f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * 9)})",
            [(e.at, e.user_id, e.role, e.client_id, e.action, e.entity, e.record_id,
              e.patient_id, json.dumps(dict(e.detail), sort_keys=True) if e.detail else None)
             for e in entries],
        )

    def entries(
        self,
        *,
        patient_id: str | None = None,
        user_id: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("patient_id", patient_id), ("user_id", user_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if before_id is not None:
            clauses.append("id < ?")
            params.append(before_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        cursor = self.conn.cursor()
        cursor.row_factory = sqlite3.Row
        rows = cursor.execute(
            f"SELECT id, {', '.join(_COLUMNS)} FROM audit_log {where}"
            " ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
        result = []
        for row in rows:
            item = dict(row)
            item["detail"] = json.loads(item["detail"]) if item["detail"] else None
            result.append(item)
        return result
