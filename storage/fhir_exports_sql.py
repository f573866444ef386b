"""Bulk export jobs' statements, the same on both backends (tables ``fhir_exports`` and
``fhir_export_outputs``; runners: storage/statements.py). What differs by dialect: the
order outputs are listed in and how expiry reports its ids.

Each claim or ownership check is one conditional UPDATE. On PostgreSQL (READ COMMITTED),
two workers claiming one job at once queue on its row lock; the second re-checks the
condition against the first's committed row (now running, fresh heartbeat) and changes
nothing — so exactly one of them owns the job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields

from storage.fhir_exports import FhirExport, NewExport
from storage.statements import Statements

_COLUMNS = ", ".join(field.name for field in fields(FhirExport))
_LIVE = "status NOT IN ('cancelled', 'expired')"


class FhirExportsSql(Statements):
    """A backend's ``FhirExports`` (storage/fhir_exports.py) but for ``outputs`` and
    ``expire_finished_before``."""

    def create_export(self, export: NewExport) -> None:
        self._execute(
            "INSERT INTO fhir_exports (id, user_id, client_id, team_id, types, since,"
            " request_url, base_url, canonical_base, status, created_at)"
            f" VALUES (?, ?, ?, ?, {self.JSON_PARAM}, ?, ?, ?, ?, 'queued', ?)",
            (export.id, export.user_id, export.client_id, export.team_id,
             json.dumps(list(export.types)), export.since, export.request_url,
             export.base_url, export.canonical_base, export.created_at),
        )

    def active_export_of(self, user_id: str) -> str | None:
        found = self._value(
            "SELECT id FROM fhir_exports WHERE user_id = ?"
            " AND status IN ('queued', 'running') LIMIT 1", (user_id,))
        return None if found is None else str(found)

    def _export(self, where: str, params: tuple[object, ...]) -> FhirExport | None:
        row = self._row(f"SELECT {_COLUMNS} FROM fhir_exports WHERE {where}", params)
        if row is None:
            return None
        row["types"] = tuple(self._json_value(row["types"]))
        return FhirExport(**row)

    def export_of(self, export_id: str, user_id: str) -> FhirExport | None:
        return self._export(f"id = ? AND user_id = ? AND {_LIVE}", (export_id, user_id))

    def export_by_id(self, export_id: str) -> FhirExport | None:
        return self._export("id = ?", (export_id,))

    def claim(self, export_id: str, worker: str, now: str, stale_before: str) -> bool:
        return self._execute(
            "UPDATE fhir_exports SET status = 'running', claimed_by = ?, heartbeat_at = ?"
            " WHERE id = ? AND (status = 'queued' OR (status = 'running' AND heartbeat_at < ?))",
            (worker, now, export_id, stale_before)) == 1

    def heartbeat(self, export_id: str, worker: str, progress: str, now: str) -> bool:
        return self._execute(
            "UPDATE fhir_exports SET heartbeat_at = ?, progress = ?"
            " WHERE id = ? AND status = 'running' AND claimed_by = ?",
            (now, progress, export_id, worker)) == 1

    def finish(self, export_id: str, worker: str, transaction_time: str, now: str,
               counts: Mapping[str, int]) -> bool:
        mine = self._execute(
            "UPDATE fhir_exports SET status = 'done', transaction_time = ?, progress = NULL,"
            " finished_at = ? WHERE id = ? AND status = 'running' AND claimed_by = ?",
            (transaction_time, now, export_id, worker))
        if not mine:
            return False
        self._execute_many(
            "INSERT INTO fhir_export_outputs (export_id, resource_type, count)"
            " VALUES (?, ?, ?)", [(export_id, t, n) for t, n in counts.items() if n])
        return True

    def fail(self, export_id: str, worker: str, now: str) -> None:
        self._execute(
            "UPDATE fhir_exports SET status = 'failed', finished_at = ?"
            " WHERE id = ? AND claimed_by = ?", (now, export_id, worker))

    def cancel(self, export_id: str, user_id: str, now: str) -> bool:
        return self._execute(
            f"UPDATE fhir_exports SET status = 'cancelled', finished_at = ?"
            f" WHERE id = ? AND user_id = ? AND {_LIVE}",
            (now, export_id, user_id)) == 1

