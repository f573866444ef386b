"""The audit log's statements, the same on both backends (table ``audit_log``; runners:
storage/statements.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from storage.audit import COLUMNS, AuditEntry, entry_filters
from storage.statements import Statements


class AuditSql(Statements):
    """A backend's ``Audit`` (storage/audit.py), given its runner."""

    def append(self, entries: Iterable[AuditEntry]) -> None:
        self._execute_many(
            f"INSERT INTO audit_log ({', '.join(COLUMNS)})"
            f" VALUES ({', '.join('?' * (len(COLUMNS) - 1))}, {self.JSON_PARAM})",
            [entry.values() for entry in entries],
        )

    def append_each_patient(self, entry: AuditEntry, patient_ids: Sequence[str]) -> None:
        if not patient_ids:
            return
        values = list(entry.values())
        patient = COLUMNS.index("patient_id")
        del values[patient]  # each row's comes from the id list
        columns = [column for column in COLUMNS if column != "patient_id"]
        placeholders = ["?"] * (len(columns) - 1) + [self.JSON_PARAM]
        self._execute(
            f"INSERT INTO audit_log ({', '.join(columns)}, patient_id)"
            f" SELECT {', '.join(placeholders)}, ids.value FROM {self.ID_ROWS}"
            " ORDER BY ids.key",
            (*values, self._id_list(patient_ids)))

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
        rows = self._rows(
            f"SELECT id, {', '.join(COLUMNS)} FROM audit_log"
            f" {'WHERE ' + where if where else ''} ORDER BY id DESC LIMIT ?",
            (*(value for _, value in filters), limit))
        return self._decoded(rows)

    def _decoded(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for row in rows:
            row["detail"] = self._json_value(row["detail"]) if row["detail"] else None
        return rows
