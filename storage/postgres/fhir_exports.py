"""Bulk export jobs on PostgreSQL: tables ``fhir_exports`` and ``fhir_export_outputs``
(migration 0008).

Each claim or ownership check is one conditional UPDATE. Under READ COMMITTED, two
workers claiming one job at once queue on its row lock; the second re-checks the
condition against the first's committed row (now running, fresh heartbeat) and changes
nothing — so exactly one of them owns the job.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from storage.fhir_exports import FhirExport, NewExport

_COLUMNS = ", ".join(field.name for field in fields(FhirExport))


class PostgresFhirExports:
    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]],
                 clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def _changed(self, sql: str, params: tuple[object, ...]) -> int:
        return self.conn.execute(sql, params).rowcount

    def create_export(self, export: NewExport) -> None:
        self.conn.execute(
            "INSERT INTO fhir_exports (id, user_id, client_id, team_id, types, since,"
            " request_url, base_url, canonical_base, status, created_at)"
            " VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, 'queued', %s)",
            (export.id, export.user_id, export.client_id, export.team_id,
             json.dumps(list(export.types)), export.since, export.request_url,
             export.base_url, export.canonical_base, export.created_at),
        )

    def active_export_of(self, user_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT id FROM fhir_exports WHERE user_id = %s"
            " AND status IN ('queued', 'running') LIMIT 1", (user_id,)).fetchone()
        return str(row[0]) if row else None

    def _export(self, where: str, params: tuple[object, ...]) -> FhirExport | None:
        with self.conn.cursor(row_factory=dict_row) as cursor:
            row = cursor.execute(f"SELECT {_COLUMNS} FROM fhir_exports WHERE {where}",
                                 params).fetchone()
        if row is None:
            return None
        row["types"] = tuple(row["types"])
        return FhirExport(**row)

    def export_of(self, export_id: str, user_id: str) -> FhirExport | None:
        return self._export(
            "id = %s AND user_id = %s AND status NOT IN ('cancelled', 'expired')",
            (export_id, user_id))

    def export_by_id(self, export_id: str) -> FhirExport | None:
        return self._export("id = %s", (export_id,))

    def outputs(self, export_id: str) -> dict[str, int]:
        """In the order of the job's types — the order its worker writes the files (the
        table keeps no insertion order); a type the job did not list comes last."""
        rows = self.conn.execute(
            "SELECT o.resource_type, o.count FROM fhir_export_outputs o"
            " JOIN fhir_exports e ON e.id = o.export_id WHERE o.export_id = %s"
            " ORDER BY array_position(ARRAY(SELECT jsonb_array_elements_text(e.types)),"
            " o.resource_type) NULLS LAST, o.resource_type COLLATE \"C\"", (export_id,))
        return {row[0]: row[1] for row in rows}

    def claim(self, export_id: str, worker: str, now: str, stale_before: str) -> bool:
        return self._changed(
            "UPDATE fhir_exports SET status = 'running', claimed_by = %s, heartbeat_at = %s"
            " WHERE id = %s"
            " AND (status = 'queued' OR (status = 'running' AND heartbeat_at < %s))",
            (worker, now, export_id, stale_before)) == 1

    def heartbeat(self, export_id: str, worker: str, progress: str, now: str) -> bool:
        return self._changed(
            "UPDATE fhir_exports SET heartbeat_at = %s, progress = %s"
            " WHERE id = %s AND status = 'running' AND claimed_by = %s",
            (now, progress, export_id, worker)) == 1

    def finish(self, export_id: str, worker: str, transaction_time: str, now: str,
               counts: Mapping[str, int]) -> bool:
        mine = self._changed(
            "UPDATE fhir_exports SET status = 'done', transaction_time = %s, progress = NULL,"
            " finished_at = %s WHERE id = %s AND status = 'running' AND claimed_by = %s",
            (transaction_time, now, export_id, worker))
        if not mine:
            return False
        written = [(export_id, t, n) for t, n in counts.items() if n]
        if written:
            with self.conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO fhir_export_outputs (export_id, resource_type, count)"
                    " VALUES (%s, %s, %s)", written)
        return True

    def fail(self, export_id: str, worker: str, now: str) -> None:
        self.conn.execute(
            "UPDATE fhir_exports SET status = 'failed', finished_at = %s"
            " WHERE id = %s AND claimed_by = %s", (now, export_id, worker))

    def cancel(self, export_id: str, user_id: str, now: str) -> bool:
        return self._changed(
            "UPDATE fhir_exports SET status = 'cancelled', finished_at = %s"
            " WHERE id = %s AND user_id = %s AND status NOT IN ('cancelled', 'expired')",
            (now, export_id, user_id)) == 1

    def expire_finished_before(self, cutoff: str) -> list[str]:
        rows = self.conn.execute(
            "UPDATE fhir_exports SET status = 'expired'"
            " WHERE status IN ('done', 'failed') AND finished_at < %s RETURNING id",
            (cutoff,)).fetchall()
        return [str(row[0]) for row in rows]
