"""Bulk export jobs on SQLite: tables ``fhir_exports`` and ``fhir_export_outputs``
(migration 0008). Each claim or ownership check is one conditional UPDATE."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime

from storage.fhir_exports import FhirExport, NewExport


class SqliteFhirExports:
    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def _changed(self, sql: str, params: tuple[object, ...]) -> int:
        return self.conn.execute(sql, params).rowcount

    def create_export(self, export: NewExport) -> None:
        self.conn.execute(
            "INSERT INTO fhir_exports (id, user_id, client_id, team_id, types, since,"
            " request_url, base_url, canonical_base, status, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
            (export.id, export.user_id, export.client_id, export.team_id,
             json.dumps(list(export.types)), export.since, export.request_url,
             export.base_url, export.canonical_base, export.created_at),
        )

    def active_export_of(self, user_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT id FROM fhir_exports WHERE user_id = ? AND status IN ('queued','running')",
            (user_id,)).fetchone()
        return str(row[0]) if row else None

    def _export(self, where: str, params: tuple[object, ...]) -> FhirExport | None:
        cursor = self.conn.cursor()
        cursor.row_factory = sqlite3.Row
        row = cursor.execute(f"SELECT * FROM fhir_exports WHERE {where}", params).fetchone()
        if row is None:
            return None
        fields = dict(row)
        fields["types"] = tuple(json.loads(fields["types"]))
        return FhirExport(**fields)

    def export_of(self, export_id: str, user_id: str) -> FhirExport | None:
        return self._export("id = ? AND user_id = ? AND status NOT IN ('cancelled','expired')",
                            (export_id, user_id))

    def export_by_id(self, export_id: str) -> FhirExport | None:
        return self._export("id = ?", (export_id,))

    def outputs(self, export_id: str) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT resource_type, count FROM fhir_export_outputs WHERE export_id = ?"
            " ORDER BY rowid", (export_id,))
        return {row[0]: row[1] for row in rows}

    def claim(self, export_id: str, worker: str, now: str, stale_before: str) -> bool:
        return self._changed(
            "UPDATE fhir_exports SET status = 'running', claimed_by = ?, heartbeat_at = ?"
            " WHERE id = ? AND (status = 'queued' OR (status = 'running' AND heartbeat_at < ?))",
            (worker, now, export_id, stale_before)) == 1

    def heartbeat(self, export_id: str, worker: str, progress: str, now: str) -> bool:
        return self._changed(
            "UPDATE fhir_exports SET heartbeat_at = ?, progress = ?"
            " WHERE id = ? AND status = 'running' AND claimed_by = ?",
            (now, progress, export_id, worker)) == 1

    def finish(self, export_id: str, worker: str, transaction_time: str, now: str,
               counts: Mapping[str, int]) -> bool:
        mine = self._changed(
            "UPDATE fhir_exports SET status = 'done', transaction_time = ?, progress = NULL,"
            " finished_at = ? WHERE id = ? AND status = 'running' AND claimed_by = ?",
            (transaction_time, now, export_id, worker))
        if not mine:
            return False
        self.conn.executemany(
            "INSERT INTO fhir_export_outputs (export_id, resource_type, count)"
            " VALUES (?, ?, ?)", [(export_id, t, n) for t, n in counts.items() if n])
        return True

    def fail(self, export_id: str, worker: str, now: str) -> None:
        self.conn.execute(
            "UPDATE fhir_exports SET status = 'failed', finished_at = ?"
            " WHERE id = ? AND claimed_by = ?", (now, export_id, worker))

    def cancel(self, export_id: str, user_id: str, now: str) -> bool:
        return self._changed(
            "UPDATE fhir_exports SET status = 'cancelled', finished_at = ?"
            " WHERE id = ? AND user_id = ? AND status NOT IN ('cancelled','expired')",
            (now, export_id, user_id)) == 1

    def expire_finished_before(self, cutoff: str) -> list[str]:
        ids = [row[0] for row in self.conn.execute(
            "SELECT id FROM fhir_exports WHERE status IN ('done','failed')"
            " AND finished_at < ?", (cutoff,))]
        self.conn.executemany("UPDATE fhir_exports SET status = 'expired' WHERE id = ?",
                              [(i,) for i in ids])
        return ids
